//! Tests of the config module, one file per concern.

mod env;
mod keyvalue;
mod keywords;
mod pgpass;
mod protocol;
mod resolve;
mod rules;
mod service;
mod url;

use super::{Config, Host};
use crate::Kind;

/// Parses `s`, panicking with the error if it fails.
fn parse(s: &str) -> Config {
    match s.parse::<Config>() {
        Ok(config) => config,
        Err(err) => panic!("{s:?} should parse, got {err}"),
    }
}

/// Parses `s`, which must fail with a configuration error; returns the error's full text
/// (Display and Debug, so tests can check neither leaks anything).
fn parse_err(s: &str) -> String {
    match s.parse::<Config>() {
        Ok(config) => panic!("{s:?} should fail, got {config:?}"),
        Err(err) => {
            assert_eq!(err.kind(), Kind::Config, "{err}");
            format!("{err} {err:?}")
        }
    }
}

fn tcp(name: &str) -> Host {
    Host::Tcp(name.to_owned())
}

fn unix(dir: &str) -> Host {
    Host::Unix(dir.into())
}

/// Every short string over the characters the parsers treat specially parses or fails with a
/// configuration error, never a panic.
#[test]
fn no_input_panics() {
    const ALPHABET: [&str; 18] = [
        "a", "%", "2", "F", "[", "]", ":", ",", "/", "?", "&", "=", "@", "'", "\\", " ", "é", "0",
    ];
    fn visit(prefix: &str, depth: usize) {
        for scheme in ["", "postgres://", "host="] {
            let input = format!("{scheme}{prefix}");
            if let Err(err) = input.parse::<Config>() {
                assert_eq!(err.kind(), Kind::Config, "{input:?}");
            }
        }
        if depth > 0 {
            for c in ALPHABET {
                visit(&format!("{prefix}{c}"), depth - 1);
            }
        }
    }
    visit("", 4);
}
