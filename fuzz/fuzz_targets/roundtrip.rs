//! Reads the input as a script of messages with their fields and checks encode → decode is the
//! identity on both sides of the codec (client frontend encoder → server decoder, server
//! backend encoder → client decoder); the checks are in `../checks/roundtrip.rs`, shared with
//! the ordinary test that replays the seeds (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/roundtrip.rs"]
mod roundtrip;

fuzz_target!(|data: &[u8]| roundtrip::check(data));
