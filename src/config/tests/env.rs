use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::{parse, tcp, unix};
use crate::config::{Config, SslMode};
use crate::Kind;

/// A stand-in environment.
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

const FULL: [(&str, &str); 10] = [
    ("PGHOST", "envhost"),
    ("PGPORT", "6000"),
    ("PGUSER", "envuser"),
    ("PGPASSWORD", "envpass"),
    ("PGDATABASE", "envdb"),
    ("PGAPPNAME", "envapp"),
    ("PGOPTIONS", "-c x=1"),
    ("PGCONNECT_TIMEOUT", "9"),
    ("PGSSLMODE", "disable"),
    ("PGPASSFILE", "/env/pgpass"),
];

#[test]
fn every_variable_fills_an_empty_config() {
    let c = Config::new().fill_from(env(&FULL)).unwrap();
    assert_eq!(c.get_hosts(), [tcp("envhost")]);
    assert_eq!(c.get_ports(), [6000]);
    assert_eq!(c.get_user(), Some("envuser"));
    assert_eq!(c.get_password(), Some(&b"envpass"[..]));
    assert_eq!(c.get_dbname(), Some("envdb"));
    assert_eq!(c.get_application_name(), Some("envapp"));
    assert_eq!(c.get_options(), Some("-c x=1"));
    assert_eq!(c.get_connect_timeout(), Some(Duration::from_secs(9)));
    assert_eq!(c.get_ssl_mode(), SslMode::Disable);
    assert_eq!(c.get_passfile(), Some(Path::new("/env/pgpass")));
}

#[test]
fn explicit_settings_win() {
    let given = parse(
        "host=h port=1 user=u password=p dbname=d application_name=a options=o \
         connect_timeout=3 sslmode=require passfile=/f",
    );
    let filled = given.clone().fill_from(env(&FULL)).unwrap();
    assert_eq!(filled, given);
    // The builder's settings win the same way.
    let built = Config::new().host("h").port(1).user("u");
    let filled = built.fill_from(env(&FULL)).unwrap();
    assert_eq!(filled.get_hosts(), [tcp("h")]);
    assert_eq!(filled.get_ports(), [1]);
    assert_eq!(filled.get_user(), Some("u"));
    assert_eq!(filled.get_dbname(), Some("envdb"));
}

#[test]
fn settings_given_empty_keep_the_environment_out() {
    let c = parse("host='' user='' connect_timeout=0")
        .fill_from(env(&FULL))
        .unwrap();
    assert!(c.get_hosts().is_empty());
    assert_eq!(c.get_user(), None);
    assert_eq!(c.get_connect_timeout(), None);
    assert_eq!(c.get_dbname(), Some("envdb"));
}

#[test]
fn empty_variables_count_as_unset() {
    let c = Config::new()
        .fill_from(env(&[("PGHOST", ""), ("PGUSER", "")]))
        .unwrap();
    assert_eq!(c, Config::new());
}

#[test]
fn host_variables() {
    let c = Config::new()
        .fill_from(env(&[("PGHOST", "/tmp,remote"), ("PGPORT", "1,2")]))
        .unwrap();
    assert_eq!(c.get_hosts(), [unix("/tmp"), tcp("remote")]);
    assert_eq!(c.get_ports(), [1, 2]);
    // PGHOSTADDR is its own setting: the address dialled, while the host stays the name.
    let c = Config::new()
        .fill_from(env(&[("PGHOST", "name"), ("PGHOSTADDR", "10.0.0.1")]))
        .unwrap();
    assert_eq!(c.get_hosts(), [tcp("name")]);
    assert_eq!(c.get_hostaddrs(), [Some("10.0.0.1".parse().unwrap())]);
}

#[test]
fn invalid_variables_are_named() {
    for (var, value, needle) in [
        ("PGPORT", "abc", "invalid port number \"abc\""),
        ("PGCONNECT_TIMEOUT", "x", "connect_timeout"),
        ("PGSSLMODE", "maybe", "invalid sslmode value \"maybe\""),
    ] {
        let err = Config::new().fill_from(env(&[(var, value)])).unwrap_err();
        assert_eq!(err.kind(), Kind::Config);
        let text = err.to_string();
        assert!(text.contains(needle) && text.contains(var), "{text}");
    }
}

#[test]
fn parsing_does_not_read_the_environment() {
    // `from_str` must be pure: the same string gives the same config whatever the process
    // environment holds. (Checked by construction; this pins the contract.)
    assert_eq!(parse("dbname=x"), Config::new().dbname("x"));
}
