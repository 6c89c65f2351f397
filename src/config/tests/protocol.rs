//! `min_protocol_version` / `max_protocol_version` (libpq 18): spellings, defaults, the
//! environment, and the range check at resolve time.

use std::path::Path;

use super::{parse, parse_err};
use crate::config::Config;
use crate::proto::{ProtocolVersion, VersionBounds};
use crate::Kind;

const V3_0: ProtocolVersion = ProtocolVersion::V3_0;
const V3_2: ProtocolVersion = ProtocolVersion::V3_2;

fn bounds(config: &Config) -> Result<VersionBounds, String> {
    let users = |name: &str| (name == "USER").then(|| "osuser".to_owned());
    let nothing = |_: &Path| false;
    config
        .resolve_with(&users, &nothing)
        .map(|r| r.protocol)
        .map_err(|e| {
            assert_eq!(e.kind(), Kind::Config, "{e}");
            e.to_string()
        })
}

fn range(min: ProtocolVersion, max: ProtocolVersion) -> VersionBounds {
    VersionBounds { min, max }
}

#[test]
fn the_values_libpq_18_accepts() {
    for (value, version) in [
        ("3.0", V3_0),
        ("3.2", V3_2),
        ("latest", V3_2),
        // Read as numbers, as libpq's strtol does.
        ("3.00", V3_0),
        ("03.2", V3_2),
    ] {
        let c = parse(&format!("max_protocol_version={value}"));
        assert_eq!(c.get_max_protocol_version(), version, "{value}");
        let c = parse(&format!(
            "min_protocol_version={value} max_protocol_version=latest"
        ));
        assert_eq!(c.get_min_protocol_version(), version, "{value}");
    }
    // The URL form and the builders.
    let c: Config = "postgres://u@h/db?min_protocol_version=3.2&max_protocol_version=latest"
        .parse()
        .unwrap();
    assert_eq!(bounds(&c), Ok(range(V3_2, V3_2)));
    let c = Config::new()
        .user("u")
        .min_protocol_version(V3_0)
        .max_protocol_version(ProtocolVersion::LATEST);
    assert_eq!(bounds(&c), Ok(range(V3_0, V3_2)));
}

#[test]
fn invalid_values_are_named() {
    for value in [
        "3.1", "3.3", "2.0", "4.0", "3", "3.", ".2", "3.2.0", "Latest", " 3.2", "3.-2", "x",
    ] {
        for key in ["min_protocol_version", "max_protocol_version"] {
            let err = parse_err(&format!("{key}='{value}'"));
            assert!(
                err.starts_with(&format!(
                    "invalid configuration: invalid {key} value \"{value}\"; expected 3.0, 3.2 \
                     or latest"
                )),
                "{err}"
            );
        }
    }
}

#[test]
fn defaults_are_libpq_18s() {
    // 3.0 to 3.0: a server or proxy that cannot negotiate still works.
    let c = Config::new().user("u");
    assert_eq!(c.get_min_protocol_version(), V3_0);
    assert_eq!(c.get_max_protocol_version(), V3_0);
    assert_eq!(bounds(&c), Ok(range(V3_0, V3_0)));
    // An empty value is the default.
    let c = parse("user=u min_protocol_version='' max_protocol_version=''");
    assert_eq!(bounds(&c), Ok(range(V3_0, V3_0)));
    // A minimum above 3.0 makes the maximum default to the latest.
    let c = parse("user=u min_protocol_version=3.2");
    assert_eq!(bounds(&c), Ok(range(V3_2, V3_2)));
    let c = parse("user=u min_protocol_version=3.0");
    assert_eq!(bounds(&c), Ok(range(V3_0, V3_0)));
    let c = parse("user=u max_protocol_version=latest");
    assert_eq!(bounds(&c), Ok(range(V3_0, V3_2)));
}

#[test]
fn min_above_max_fails_as_in_libpq() {
    let c = parse("user=u min_protocol_version=3.2 max_protocol_version=3.0");
    assert_eq!(
        bounds(&c).unwrap_err(),
        "invalid configuration: \"min_protocol_version\" is greater than \
         \"max_protocol_version\" (3.2 > 3.0)"
    );
    // A version tusk cannot speak, set through the builder.
    let c = Config::new()
        .user("u")
        .max_protocol_version(ProtocolVersion { major: 3, minor: 1 });
    assert_eq!(
        bounds(&c).unwrap_err(),
        "invalid configuration: invalid max_protocol_version value \"3.1\": tusk speaks \
         protocol 3.0 and 3.2"
    );
}

#[test]
fn the_environment_fills_them() {
    let vars = |name: &str| match name {
        "PGMINPROTOCOLVERSION" => Some("3.2".to_owned()),
        "PGMAXPROTOCOLVERSION" => Some("latest".to_owned()),
        _ => None,
    };
    let c = Config::new().fill_from(vars).unwrap();
    assert_eq!(c.get_min_protocol_version(), V3_2);
    assert_eq!(c.get_max_protocol_version(), V3_2);
    // An explicit setting wins over the variable.
    let c = parse("max_protocol_version=3.0").fill_from(vars).unwrap();
    assert_eq!(c.get_max_protocol_version(), V3_0);
    let bad = |name: &str| (name == "PGMAXPROTOCOLVERSION").then(|| "3.1".to_owned());
    let err = Config::new().fill_from(bad).unwrap_err();
    assert!(err.to_string().contains("max_protocol_version"), "{err}");
}

#[test]
fn debug_shows_them() {
    let c = parse("max_protocol_version=latest");
    let debug = format!("{c:?}");
    assert!(debug.contains("min_protocol_version: \"3.0\""), "{debug}");
    assert!(debug.contains("max_protocol_version: \"3.2\""), "{debug}");
}
