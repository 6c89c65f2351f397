use std::path::Path;
use std::time::Duration;

use super::{parse, parse_err, tcp, unix};
use crate::config::{Config, SslMode, DEFAULT_STATEMENT_CACHE_CAPACITY};

#[test]
fn every_key() {
    let c = parse(
        "host=db port=5433 user=alice password=secret dbname=shop application_name=web \
         options='-c geqo=off' connect_timeout=7 sslmode=verify-full passfile=/p \
         statement_cache_capacity=16",
    );
    assert_eq!(c.get_hosts(), [tcp("db")]);
    assert_eq!(c.get_ports(), [5433]);
    assert_eq!(c.get_user(), Some("alice"));
    assert_eq!(c.get_password(), Some(&b"secret"[..]));
    assert_eq!(c.get_dbname(), Some("shop"));
    assert_eq!(c.get_application_name(), Some("web"));
    assert_eq!(c.get_options(), Some("-c geqo=off"));
    assert_eq!(c.get_connect_timeout(), Some(Duration::from_secs(7)));
    assert_eq!(c.get_ssl_mode(), SslMode::VerifyFull);
    assert_eq!(c.get_passfile(), Some(Path::new("/p")));
    assert_eq!(c.get_statement_cache_capacity(), 16);
}

#[test]
fn empty_string_is_empty_config() {
    assert_eq!(parse(""), Config::new());
    assert_eq!(parse(" \t\n "), Config::new());
    let c = Config::new();
    assert_eq!(
        c.get_statement_cache_capacity(),
        DEFAULT_STATEMENT_CACHE_CAPACITY
    );
    assert_eq!(
        c.get_max_message_len(),
        crate::proto::DEFAULT_MAX_MESSAGE_LEN
    );
    assert_eq!(c.get_ssl_mode(), SslMode::Prefer);
}

#[test]
fn whitespace_around_equals_and_between_settings() {
    let c = parse("  host = db\tport\n=\n5433   user=  alice ");
    assert_eq!(c.get_hosts(), [tcp("db")]);
    assert_eq!(c.get_ports(), [5433]);
    assert_eq!(c.get_user(), Some("alice"));
}

#[test]
fn quoting_and_escapes() {
    let c = parse(r"dbname='my db' user='it\'s' password='back\\slash' application_name=a\ b");
    assert_eq!(c.get_dbname(), Some("my db"));
    assert_eq!(c.get_user(), Some("it's"));
    assert_eq!(c.get_password(), Some(&br"back\slash"[..]));
    assert_eq!(c.get_application_name(), Some("a b"));
    // Unquoted backslash escapes, a quote inside an unquoted value, '=' inside a value.
    let c = parse(r"options=-c\ x=y user=o'neil dbname=a\'b");
    assert_eq!(c.get_options(), Some("-c x=y"));
    assert_eq!(c.get_user(), Some("o'neil"));
    assert_eq!(c.get_dbname(), Some("a'b"));
    // Non-ASCII text survives the escapes.
    let c = parse(r"dbname='é\é' user=\ü");
    assert_eq!(c.get_dbname(), Some("éé"));
    assert_eq!(c.get_user(), Some("ü"));
    // A trailing backslash is dropped, as libpq does.
    assert_eq!(parse(r"user=a\").get_user(), Some("a"));
}

#[test]
fn empty_values() {
    let c = parse("host='' dbname='' password='' user=");
    assert!(c.get_hosts().is_empty());
    assert_eq!(c.get_user(), None);
    assert_eq!(c.get_dbname(), None);
    assert_eq!(c.get_password(), None);
    // ...but they were given, unlike a new Config (they keep the environment out).
    assert_ne!(c, Config::new());
    // libpq skips whitespace after '=', so "host= port=1" makes the host "port=1".
    assert_eq!(parse("host= port=1").get_hosts(), [tcp("port=1")]);
}

#[test]
fn last_setting_wins() {
    let c = parse("host=a host=b,c user=x user=y");
    assert_eq!(c.get_hosts(), [tcp("b"), tcp("c")]);
    assert_eq!(c.get_user(), Some("y"));
    // hostaddr is its own setting, not another spelling of host.
    let c = parse("host=a hostaddr=10.1.1.1");
    assert_eq!(c.get_hosts(), [tcp("a")]);
    assert_eq!(c.get_hostaddrs(), [Some("10.1.1.1".parse().unwrap())]);
}

#[test]
fn host_and_port_lists() {
    let c = parse("host=/tmp,db1,::1 port=1,,3");
    assert_eq!(c.get_hosts(), [unix("/tmp"), tcp("db1"), tcp("::1")]);
    assert_eq!(c.get_ports(), [1, 5432, 3]);
    assert_eq!(parse("port=' 5433 '").get_ports(), [5433]);
}

#[test]
fn connect_timeout_follows_libpq() {
    let timeout = |v: &str| parse(&format!("connect_timeout={v}")).get_connect_timeout();
    assert_eq!(timeout("0"), None);
    assert_eq!(timeout("-5"), None);
    assert_eq!(timeout("1"), Some(Duration::from_secs(2)));
    assert_eq!(timeout("2"), Some(Duration::from_secs(2)));
    assert_eq!(timeout("' 30 '"), Some(Duration::from_secs(30)));
}

#[test]
fn fallback_application_name() {
    let c = parse("fallback_application_name=fb");
    assert_eq!(c.get_application_name(), Some("fb"));
    let c = parse("fallback_application_name=fb application_name=app");
    assert_eq!(c.get_application_name(), Some("app"));
}

#[test]
fn every_ssl_mode() {
    for mode in [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ] {
        let c = parse(&format!("sslmode={}", mode.as_str()));
        assert_eq!(c.get_ssl_mode(), mode);
    }
}

#[test]
fn errors_name_the_key_or_position() {
    let e = parse_err("host=h bogus=1");
    assert!(
        e.contains("invalid connection option \"bogus\"") && e.contains("position 8"),
        "{e}"
    );
    let e = parse_err("port=abc");
    assert!(e.contains("invalid port number \"abc\""), "{e}");
    let e = parse_err("port=70000");
    assert!(e.contains("invalid port number \"70000\""), "{e}");
    let e = parse_err("port=1,x");
    assert!(e.contains("invalid port number \"x\""), "{e}");
    let e = parse_err("connect_timeout=10s");
    assert!(
        e.contains("\"connect_timeout\"") && e.contains("\"10s\""),
        "{e}"
    );
    let e = parse_err("sslmode=on");
    assert!(e.contains("invalid sslmode value \"on\""), "{e}");
    let e = parse_err("statement_cache_capacity=-1");
    assert!(e.contains("statement_cache_capacity"), "{e}");
    let e = parse_err("host=h dbname");
    assert!(
        e.contains("missing \"=\" after \"dbname\" at position 8"),
        "{e}"
    );
    let e = parse_err("host=h dbname x=y");
    assert!(e.contains("missing \"=\" after \"dbname\""), "{e}");
    let e = parse_err("host=h =x");
    assert!(e.contains("missing key") && e.contains("position 8"), "{e}");
    let e = parse_err("host=h dbname='abc");
    assert!(
        e.contains("unterminated quoted string") && e.contains("\"dbname\""),
        "{e}"
    );
    assert!(e.contains("position 15"), "{e}");
    let e = parse_err("host=a,,b");
    assert!(e.contains("empty host name at element 2"), "{e}");
}

#[test]
fn errors_never_show_the_password() {
    // A password with a space that should have been quoted: the rest looks like a key.
    let e = parse_err("user=u password=hunter 2tail");
    assert!(e.contains("missing \"=\"") && !e.contains("2tail"), "{e}");
    let e = parse_err("password=hunter 2x=y");
    assert!(
        e.contains("invalid connection option") && !e.contains("2x"),
        "{e}"
    );
    let e = parse_err("password=hunter port=2x");
    assert!(
        e.contains("invalid port number") && !e.contains("2x"),
        "{e}"
    );
    let e = parse_err("password='hunter2");
    assert!(e.contains("unterminated") && !e.contains("hunter"), "{e}");
    let e = parse_err("password=a b='hunter2");
    assert!(
        e.contains("unterminated") && !e.contains("hunter") && !e.contains("\"b\""),
        "{e}"
    );
    // Debug of a config holding a password.
    let c = parse("password=hunter2 user=u");
    let debug = format!("{c:?}");
    assert!(
        debug.contains("\"***\"") && !debug.contains("hunter2"),
        "{debug}"
    );
    assert!(format!("{:?}", Config::new()).contains("password: None"));
}

/// A NUL byte in a value is refused in the key=value form as the URL form refuses `%00`: a
/// setting is a C string to libpq and to the server. The `config_parse` fuzz target found the
/// two forms disagreeing (`passfile=/p<NUL>` parsed here, its URL did not).
#[test]
fn nul_in_a_value_is_refused() {
    for s in [
        "passfile=/p\0x",
        "password='a\0b'",
        "user=\0",
        "options='-c a=\0'",
    ] {
        let err = parse_err(s);
        assert!(err.contains("contains a NUL byte"), "{s:?}: {err}");
        assert!(
            !err.contains('\0'),
            "{s:?}: the error quotes the NUL: {err}"
        );
    }
    // The password itself is never shown.
    let err = parse_err("password='se\0cret'");
    assert!(!err.contains("cret"), "{err}");
    assert!(parse_err("postgres://u@h/d?passfile=%2Fp%00x").contains("%00"));
}
