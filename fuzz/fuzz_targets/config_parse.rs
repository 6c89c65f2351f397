//! Feeds connection strings (URL and key=value), URLs built from arbitrary parts, password
//! files and service files to tusk's settings parsers, and prints parsed settings back to parse
//! them again; the checks are in `../checks/config_parse.rs`, shared with the ordinary test that
//! replays the seeds (`protocol-tests/tests/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/config_parse.rs"]
mod config_parse;

fuzz_target!(|data: &[u8]| config_parse::check(data));
