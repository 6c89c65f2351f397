//! Feeds arbitrary bytes to the server side's decoders (the startup packet and every frontend
//! message) and walks and re-encodes everything they decode; the checks are in
//! `../checks/frontend_decode.rs`, shared with the ordinary test that replays the seeds
//! (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/frontend_decode.rs"]
mod frontend_decode;

fuzz_target!(|data: &[u8]| frontend_decode::check(data));
