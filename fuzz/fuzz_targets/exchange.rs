//! Drives whole query-phase exchanges of a live session with a script of requests and arbitrary
//! server bytes; the checks are in `../checks/exchange.rs`, shared with the ordinary test that
//! replays the seeds (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/exchange.rs"]
mod exchange;

fuzz_target!(|data: &[u8]| exchange::check(data));
