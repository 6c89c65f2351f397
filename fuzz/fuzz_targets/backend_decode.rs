//! Feeds arbitrary bytes to the backend decoder and walks everything it decodes; the checks
//! are in `../checks/backend_decode.rs`, shared with the ordinary test that replays the seeds
//! (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/backend_decode.rs"]
mod backend_decode;

fuzz_target!(|data: &[u8]| backend_decode::check(data));
