//! Drives the client side of SCRAM-SHA-256 authentication through the startup state machine
//! with arbitrary mechanism lists and server messages, judging signatures with its own
//! computation; the checks are in `../checks/scram_client.rs`, shared with the ordinary test
//! that replays the seeds (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/scram_client.rs"]
mod scram_client;

fuzz_target!(|data: &[u8]| scram_client::check(data));
