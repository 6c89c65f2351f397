use std::path::Path;
use std::time::Duration;

use super::{parse, tcp, unix};
use crate::config::{Config, Host, Resolved};
use crate::Kind;

fn users(name: &str) -> Option<String> {
    match name {
        "USER" => Some("osuser".to_owned()),
        "LOGNAME" => Some("logname".to_owned()),
        _ => None,
    }
}

fn no_sockets(_: &Path) -> bool {
    false
}

/// The targets as (host, port), for targets without a hostaddr.
fn pairs(r: &Resolved) -> Vec<(Host, u16)> {
    r.targets
        .iter()
        .map(|t| {
            assert_eq!(t.hostaddr, None);
            (t.host.clone(), t.port)
        })
        .collect()
}

fn resolve(config: &Config) -> Resolved {
    config.resolve_with(&users, &no_sockets).unwrap()
}

fn resolve_err(config: &Config) -> String {
    let err = config.resolve_with(&users, &no_sockets).unwrap_err();
    assert_eq!(err.kind(), Kind::Config);
    err.to_string()
}

#[test]
fn defaults() {
    let r = resolve(&Config::new());
    assert_eq!(pairs(&r), [(tcp("localhost"), 5432)]);
    assert_eq!(r.user, "osuser");
    assert_eq!(r.dbname, "osuser");
    assert_eq!(r.password, None);
    assert_eq!(r.connect_timeout, None);
    assert_eq!(r.statement_cache_capacity, 256);
    assert_eq!(r.max_message_len, crate::proto::DEFAULT_MAX_MESSAGE_LEN);
    let params: Vec<(&str, &str)> = r
        .startup_params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        params,
        [
            ("user", "osuser"),
            ("database", "osuser"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO"),
            ("extra_float_digits", "3"),
        ]
    );
}

#[test]
fn user_falls_back_to_logname_then_fails() {
    let only_logname = |name: &str| (name == "LOGNAME").then(|| "ln".to_owned());
    let r = Config::new()
        .resolve_with(&only_logname, &no_sockets)
        .unwrap();
    assert_eq!(r.user, "ln");
    let err = Config::new()
        .resolve_with(&|_| None, &no_sockets)
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Config, "{err}");
    assert!(err.to_string().contains("no user name"), "{err}");
    // An explicit user needs neither.
    let r = Config::new()
        .user("u")
        .resolve_with(&|_| None, &no_sockets)
        .unwrap();
    assert_eq!((r.user.as_str(), r.dbname.as_str()), ("u", "u"));
}

#[test]
fn default_host_is_the_local_socket_directory() {
    let debian = |p: &Path| p == Path::new("/var/run/postgresql/.s.PGSQL.5432");
    let r = Config::new().resolve_with(&users, &debian).unwrap();
    assert_eq!(pairs(&r), [(unix("/var/run/postgresql"), 5432)]);
    // The socket file's name follows the port.
    let upstream = |p: &Path| p == Path::new("/tmp/.s.PGSQL.5433");
    let r = Config::new()
        .port(5433)
        .resolve_with(&users, &upstream)
        .unwrap();
    assert_eq!(pairs(&r), [(unix("/tmp"), 5433)]);
    let r = Config::new().resolve_with(&users, &upstream).unwrap();
    assert_eq!(pairs(&r), [(tcp("localhost"), 5432)]);
    // host='' means the default too.
    let r = parse("host=''").resolve_with(&users, &debian).unwrap();
    assert_eq!(pairs(&r), [(unix("/var/run/postgresql"), 5432)]);
}

#[test]
fn ports_are_matched_to_hosts() {
    let r = resolve(&parse("host=a,b,c port=7"));
    assert_eq!(pairs(&r), [(tcp("a"), 7), (tcp("b"), 7), (tcp("c"), 7)]);
    let r = resolve(&parse("host=a,/tmp port=1,2"));
    assert_eq!(pairs(&r), [(tcp("a"), 1), (unix("/tmp"), 2)]);
    let r = resolve(&parse("host=a,b"));
    assert_eq!(pairs(&r), [(tcp("a"), 5432), (tcp("b"), 5432)]);
    let e = resolve_err(&parse("host=a,b,c port=1,2"));
    assert!(
        e.contains("could not match 2 port numbers to 3 hosts"),
        "{e}"
    );
    let e = resolve_err(&parse("port=1,2"));
    assert!(
        e.contains("could not match 2 port numbers to 1 hosts"),
        "{e}"
    );
    let e = resolve_err(&Config::new().port(0));
    assert!(e.contains("port 0"), "{e}");
}

#[test]
fn explicit_settings_reach_the_startup_message() {
    let c = Config::new()
        .user("u")
        .dbname("d")
        .password("pw")
        .application_name("app")
        .options("-c geqo=off")
        .connect_timeout(Duration::from_secs(5))
        .statement_cache_capacity(0)
        .max_message_len(4096)
        .param("TimeZone", "UTC")
        .param("DateStyle", "ISO, YMD")
        .param("timezone", "Europe/Paris");
    let r = resolve(&c);
    assert_eq!(r.password.as_deref(), Some(&b"pw"[..]));
    assert_eq!(r.connect_timeout, Some(Duration::from_secs(5)));
    assert_eq!(r.statement_cache_capacity, 0);
    assert_eq!(r.max_message_len, 4096);
    let params: Vec<(&str, &str)> = r
        .startup_params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        params,
        [
            ("user", "u"),
            ("database", "d"),
            ("application_name", "app"),
            ("options", "-c geqo=off"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, YMD"),
            ("extra_float_digits", "3"),
            ("TimeZone", "Europe/Paris"),
        ]
    );
    assert!(!format!("{r:?}").contains("pw\""), "{r:?}");
}

#[test]
fn params_that_would_break_the_connection_are_refused() {
    let e = resolve_err(&Config::new().param("client_encoding", "LATIN1"));
    assert!(e.contains("client_encoding") && e.contains("LATIN1"), "{e}");
    resolve(&Config::new().param("client_encoding", "utf8"));
    let e = resolve_err(&Config::new().param("user", "x"));
    assert!(e.contains("user()"), "{e}");
    let e = resolve_err(&Config::new().param("", "x"));
    assert!(e.contains("empty name"), "{e}");
    let e = resolve_err(&Config::new().param("a", "x\0y"));
    assert!(e.contains("NUL") && e.contains("\"a\""), "{e}");
    let e = resolve_err(&Config::new().user("a\0b"));
    assert!(e.contains("user name contains a NUL"), "{e}");
}

#[test]
fn builder_hosts() {
    let c = Config::new()
        .host("db")
        .host("/var/run/postgresql")
        .host_path("/tmp")
        .port(1)
        .port(2)
        .port(3);
    assert_eq!(
        c.get_hosts(),
        [tcp("db"), unix("/var/run/postgresql"), unix("/tmp")]
    );
    assert_eq!(c.get_ports(), [1, 2, 3]);
    assert_eq!(Config::default(), Config::new());
    // A zero timeout means wait indefinitely.
    assert_eq!(
        Config::new()
            .connect_timeout(Duration::ZERO)
            .get_connect_timeout(),
        None
    );
}
