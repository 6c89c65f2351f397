//! Feeds arbitrary and token-built SQL to the named-parameter rewriter (`:name` → `$n`); the
//! checks are in `../checks/named_params.rs`, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/named_params.rs"]
mod named_params;

fuzz_target!(|data: &[u8]| named_params::check(data));
