//! The checks of the `config_parse` fuzz target, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] feeds the connection-settings parsers: `Config` from a string (`str::parse`, URL
//! or key=value), the password file matcher and the service file reader (the last two through
//! `tusk::fuzzing`). The first byte (`% 5`) chooses the parser; the rest is read as:
//!
//! - 0, string: the rest, as lossy UTF-8, parsed as a `Config`. An error is a `Kind::Config`
//!   error. A config that parses is printed back here, from its getters, as a URL (every
//!   value percent-encoded in the query) and, when its passwords are UTF-8, as a key=value
//!   string (every value quoted); each parses again to the same settings (the `Debug` view,
//!   which shows every getter, and both passwords). A URL whose settings hold U+FFFD must have
//!   had it in its text (literally or percent-encoded): decoding never replaces invalid UTF-8
//!   silently.
//! - 1, URL from parts: chunks (a length byte and that many bytes) for the user, the password,
//!   the host and the database name, two bytes of port, a key (a byte indexing the known keys)
//!   and a chunk for its value; every part percent-encoded into a URL. The parse fails (a
//!   `Kind::Config` error) exactly when a part that must be text is not UTF-8, a part holds
//!   NUL, the host holds `,`, the port is 0 or the value is one its key refuses; otherwise
//!   every part comes back byte for byte, and the key=value setting of the same key and value
//!   gives the same result.
//! - 2, password file: a 16-bit chunk of file contents, then chunks for the host, database
//!   and user matched and two bytes of port. The password found (or none) equals what an
//!   independent reading of libpq's rules here finds; and a line written here for those four
//!   fields and a password (escaped), put first, gives that password back.
//! - 3, service file: a 16-bit chunk of file text and a chunk naming the section (both lossy
//!   UTF-8). An error is a `Kind::Config` error. Every `(key, value)` the reader returns is a
//!   `key=value` line of the text (both trimmed), and the settings it applies are those of a
//!   key=value string giving each key's first value.
//! - 4, service file from parts: a section name chunk and up to 8 entries (a key byte and a
//!   value chunk, made a one-line value without surrounding whitespace), written as a file with
//!   other sections and comments around; the reader returns exactly those entries, and applies
//!   each key's first value.
//!
//! Only `tusk` is used here (with its `fuzzing` feature).

// Each fuzz target includes one check, so each check includes the reader itself; the test that
// replays every target's seeds then holds one copy per check.
#[allow(clippy::duplicate_mod)]
#[path = "input.rs"]
mod input;

use std::fmt::Write as _;
use std::net::IpAddr;

use input::Input;
use tusk::config::{Config, Host, RootCert};
use tusk::fuzzing::{apply_service_file, pgpass_password};
use tusk::proto::auth::RequireAuth;
use tusk::Kind;

/// Every key a connection string accepts (the `Config` documentation's list), written out here
/// rather than taken from tusk, so that a key tusk drops or adds by mistake shows.
const KEYS: [&str; 46] = [
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "min_protocol_version",
    "max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
    "statement_cache_capacity",
    "statement_timeout",
    "cancel_timeout",
];

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    match input.byte() % 5 {
        0 => check_string(&String::from_utf8_lossy(input.rest())),
        1 => check_url_parts(&mut input),
        2 => check_pgpass(&mut input),
        3 => check_service_text(&mut input),
        _ => check_service_parts(&mut input),
    }
}

/// Everything a `Config` says through its getters: `Debug` shows every setting (the two
/// passwords as `***`), so they are added as bytes.
fn settings(config: &Config) -> String {
    format!(
        "{config:?} password={:?} sslpassword={:?}",
        config.get_password(),
        config.get_ssl_password()
    )
}

fn check_string(text: &str) {
    let config = match text.parse::<Config>() {
        Ok(config) => config,
        Err(e) => {
            assert_eq!(e.kind(), Kind::Config, "{e}");
            return;
        }
    };
    let before = settings(&config);
    let pairs = printed(&config);

    let url = to_url(&pairs);
    let again = url
        .parse::<Config>()
        .unwrap_or_else(|e| panic!("{text:?} printed as {url:?} does not parse: {e}"));
    assert_eq!(settings(&again), before, "{text:?} printed as {url:?}");

    if let Some(kv) = to_key_value(&pairs) {
        let again = kv
            .parse::<Config>()
            .unwrap_or_else(|e| panic!("{text:?} printed as {kv:?} does not parse: {e}"));
        assert_eq!(settings(&again), before, "{text:?} printed as {kv:?}");
    }

    if text.trim_start().starts_with("postgres") && before.contains('\u{FFFD}') {
        let upper = text.to_ascii_uppercase();
        assert!(
            text.contains('\u{FFFD}') || upper.contains("%EF%BF%BD"),
            "U+FFFD appeared in the settings of {text:?}: {before}"
        );
    }
}

/// The settings of `config` as `(key, value)` pairs that a connection string would give,
/// read from its getters (so defaults are printed too, which must not change anything).
fn printed(config: &Config) -> Vec<(&'static str, Vec<u8>)> {
    let mut pairs: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut put = |key: &'static str, value: String| pairs.push((key, value.into_bytes()));
    let join = |items: Vec<String>| items.join(",");
    if !config.get_hosts().is_empty() {
        put(
            "host",
            join(config.get_hosts().iter().map(host_text).collect()),
        );
    }
    if !config.get_hostaddrs().is_empty() {
        let addrs = config.get_hostaddrs().iter();
        put(
            "hostaddr",
            join(
                addrs
                    .map(|a| a.map(|a: IpAddr| a.to_string()).unwrap_or_default())
                    .collect(),
            ),
        );
    }
    if !config.get_ports().is_empty() {
        put(
            "port",
            join(config.get_ports().iter().map(u16::to_string).collect()),
        );
    }
    let texts = [
        ("user", config.get_user()),
        ("dbname", config.get_dbname()),
        ("options", config.get_options()),
        ("application_name", config.get_application_name()),
        (
            "fallback_application_name",
            config.get_fallback_application_name(),
        ),
        ("client_encoding", config.get_client_encoding()),
        ("requirepeer", config.get_require_peer()),
        ("krbsrvname", config.get_krb_srv_name()),
        ("gsslib", config.get_gss_lib()),
        ("service", config.get_service()),
    ];
    for (key, value) in texts {
        if let Some(value) = value {
            put(key, value.to_owned());
        }
    }
    let paths = [
        ("passfile", config.get_passfile()),
        ("sslcert", config.get_ssl_cert()),
        ("sslkey", config.get_ssl_key()),
        ("sslcrl", config.get_ssl_crl()),
        ("sslcrldir", config.get_ssl_crl_dir()),
    ];
    for (key, value) in paths {
        if let Some(path) = value {
            put(
                key,
                path.to_str().expect("a path parsed from text").to_owned(),
            );
        }
    }
    match config.get_ssl_root_cert() {
        Some(RootCert::System) => put("sslrootcert", "system".into()),
        Some(RootCert::File(path)) => put(
            "sslrootcert",
            path.to_str().expect("a path parsed from text").to_owned(),
        ),
        None => {}
    }
    if let Some(t) = config.get_connect_timeout() {
        put("connect_timeout", t.as_secs().to_string());
    }
    put("sslmode", config.get_ssl_mode().as_str().into());
    if config.get_require_auth() != RequireAuth::ANY {
        put("require_auth", config.get_require_auth().to_string());
    }
    put(
        "channel_binding",
        config.get_channel_binding().as_str().into(),
    );
    let switch = |on: bool| if on { "1" } else { "0" }.to_owned();
    put("keepalives", switch(config.get_keepalives()));
    if let Some(t) = config.get_keepalives_idle() {
        put("keepalives_idle", t.as_secs().to_string());
    }
    if let Some(t) = config.get_keepalives_interval() {
        put("keepalives_interval", t.as_secs().to_string());
    }
    if let Some(n) = config.get_keepalives_count() {
        put("keepalives_count", n.to_string());
    }
    if let Some(t) = config.get_tcp_user_timeout() {
        put("tcp_user_timeout", t.as_millis().to_string());
    }
    put("replication", config.get_replication().as_str().into());
    put("gssencmode", config.get_gss_enc_mode().as_str().into());
    put(
        "sslnegotiation",
        config.get_ssl_negotiation().as_str().into(),
    );
    put("sslcompression", switch(config.get_ssl_compression()));
    put("sslcertmode", config.get_ssl_cert_mode().as_str().into());
    put("sslsni", switch(config.get_ssl_sni()));
    put(
        "ssl_min_protocol_version",
        config.get_ssl_min_protocol_version().to_string(),
    );
    if let Some(v) = config.get_ssl_max_protocol_version() {
        put("ssl_max_protocol_version", v.to_string());
    }
    put(
        "min_protocol_version",
        config.get_min_protocol_version().to_string(),
    );
    put(
        "max_protocol_version",
        config.get_max_protocol_version().to_string(),
    );
    put("gssdelegation", switch(config.get_gss_delegation()));
    put(
        "target_session_attrs",
        config.get_target_session_attrs().as_str().into(),
    );
    put(
        "load_balance_hosts",
        config.get_load_balance_hosts().as_str().into(),
    );
    put(
        "statement_cache_capacity",
        config.get_statement_cache_capacity().to_string(),
    );
    if let Some(t) = config.get_statement_timeout() {
        put("statement_timeout", t.as_millis().to_string());
    }
    // Always printed: the setting has a default but no "unset" state to compare against.
    put(
        "cancel_timeout",
        config.get_cancel_timeout().as_millis().to_string(),
    );
    if let Some(p) = config.get_password() {
        pairs.push(("password", p.to_vec()));
    }
    if let Some(p) = config.get_ssl_password() {
        pairs.push(("sslpassword", p.to_vec()));
    }
    pairs
}

fn host_text(host: &Host) -> String {
    match host {
        Host::Tcp(name) => name.clone(),
        Host::Unix(dir) => dir
            .to_str()
            .expect("a directory parsed from text")
            .to_owned(),
    }
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A URL with no authority and every setting in the query.
fn to_url(pairs: &[(&str, Vec<u8>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value)))
        .collect();
    format!("postgresql://?{}", query.join("&"))
}

/// A key=value string with every value quoted; `None` when a value is not UTF-8 (the
/// key=value form is text).
fn to_key_value(pairs: &[(&str, Vec<u8>)]) -> Option<String> {
    let mut out = String::new();
    for (key, value) in pairs {
        let value = std::str::from_utf8(value).ok()?;
        let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
        let _ = write!(out, "{key}='{quoted}' ");
    }
    Some(out)
}

fn check_url_parts(input: &mut Input<'_>) {
    let user = input.chunk();
    let password = input.chunk();
    let host = input.chunk();
    let dbname = input.chunk();
    let port = input.u16();
    let key = KEYS[usize::from(input.byte()) % KEYS.len()];
    let value = input.chunk();

    let mut url = String::from("postgres://");
    if !user.is_empty() || !password.is_empty() {
        url += &percent_encode(user);
        if !password.is_empty() {
            url += ":";
            url += &percent_encode(password);
        }
        url += "@";
    }
    url += &percent_encode(host);
    if port != 0xFFFF {
        let _ = write!(url, ":{port}");
    }
    let _ = write!(
        url,
        "/{}?{key}={}",
        percent_encode(dbname),
        percent_encode(value)
    );

    // What must be text: everything but the passwords. A NUL (%00) is refused anywhere.
    let not_text = |b: &[u8]| std::str::from_utf8(b).is_err();
    let has_nul = |b: &[u8]| b.contains(&0);
    // A host may not hold ',' (a URL cannot name such a host: `%2C` is refused).
    let text_parts_bad =
        not_text(user) || not_text(host) || not_text(dbname) || host.contains(&b',');
    let value_bad = !matches!(key, "password" | "sslpassword") && not_text(value);
    let nul = [user, password, host, dbname, value]
        .iter()
        .any(|p| has_nul(p));
    let config = match url.parse::<Config>() {
        Ok(config) => config,
        Err(e) => {
            assert_eq!(e.kind(), Kind::Config, "{e}");
            assert!(
                text_parts_bad || value_bad || nul || port == 0 || key_value_refused(key, value),
                "{url:?} was refused: {e}"
            );
            return;
        }
    };
    assert!(
        !(text_parts_bad || value_bad || nul || port == 0),
        "{url:?} was accepted"
    );
    // The query setting may override a part; check the parts its key leaves alone.
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).expect("checked above");
    if key != "user" {
        assert_eq!(
            config.get_user().map(str::to_owned),
            Some(text(user)).filter(|u| !u.is_empty()),
            "{url:?}"
        );
    }
    if key != "password" {
        assert_eq!(
            config.get_password(),
            Some(password).filter(|p| !p.is_empty()),
            "{url:?}"
        );
    }
    if key != "dbname" {
        assert_eq!(
            config.get_dbname().map(str::to_owned),
            Some(text(dbname)).filter(|d| !d.is_empty()),
            "{url:?}"
        );
    }
    if key != "host" {
        let host = text(host);
        let expected: Vec<Host> = if host.is_empty() {
            Vec::new()
        } else if host.starts_with('/') {
            vec![Host::Unix(host.into())]
        } else {
            vec![Host::Tcp(host)]
        };
        assert_eq!(config.get_hosts(), expected, "{url:?}");
    }
    if key != "port" && port != 0xFFFF {
        assert_eq!(config.get_ports(), [port], "{url:?}");
    }
    // The query setting as a key=value string gives the same value (percent-decoding is the
    // only difference between the two forms).
    if let Ok(value_text) = std::str::from_utf8(value) {
        let quoted = value_text.replace('\\', "\\\\").replace('\'', "\\'");
        let alone: Config = format!("{key}='{quoted}'")
            .parse()
            .unwrap_or_else(|e| panic!("{key}={value_text:?} in a URL but not as key=value: {e}"));
        let from_url: Config = format!("postgres://?{key}={}", percent_encode(value))
            .parse()
            .unwrap_or_else(|e| {
                panic!("{key}={value_text:?} with the other parts but not alone: {e}")
            });
        assert_eq!(
            settings(&alone),
            settings(&from_url),
            "{key}={value_text:?}"
        );
    }
}

/// Whether `key=value` on its own is refused (a value its key does not take).
fn key_value_refused(key: &str, value: &[u8]) -> bool {
    let url = format!("postgres://?{key}={}", percent_encode(value));
    url.parse::<Config>().is_err()
}

fn check_pgpass(input: &mut Input<'_>) {
    let contents = input.chunk16();
    let one_line = |b: &[u8]| String::from_utf8_lossy(b).replace(['\n', '\r'], " ");
    let host = one_line(input.chunk());
    let dbname = one_line(input.chunk());
    let user = one_line(input.chunk());
    let port = input.u16();
    let password = input.chunk().to_vec();

    let found = pgpass_password(contents, &host, port, &dbname, &user);
    let port_text = port.to_string();
    let wanted = [
        host.as_bytes(),
        port_text.as_bytes(),
        dbname.as_bytes(),
        user.as_bytes(),
    ];
    assert_eq!(
        found,
        libpq_lookup(contents, &wanted),
        "password file {contents:?}, {wanted:?}"
    );

    // A line written for these fields, put first, wins.
    let password: Vec<u8> = password
        .into_iter()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect();
    let mut file = Vec::new();
    for field in wanted {
        file.extend_from_slice(&escape_field(field));
        file.push(b':');
    }
    file.extend_from_slice(&escape_field(&password));
    file.push(b'\n');
    file.extend_from_slice(contents);
    let expected = (!password.is_empty()).then_some(password);
    assert_eq!(
        pgpass_password(&file, &host, port, &dbname, &user),
        expected,
        "{file:?}"
    );
}

/// `:` and `\` escaped with a backslash, as a password file field is written, and `#` too, so
/// that a line whose host starts with `#` is not a comment.
fn escape_field(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in field {
        if b == b':' || b == b'\\' || b == b'#' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// libpq's `passwordFromFile`, read here as: each line (one trailing `\r` dropped) that is not
/// empty and does not start with `#` is split at its unescaped colons into fields (a backslash
/// makes the next byte literal); a line with at least five fields matches when each of its
/// first four is exactly `*` as written or equals the wanted value once unescaped; the first
/// matching line gives its fifth field (empty: no password). A backslash ending the line is
/// itself, in the password.
fn libpq_lookup(contents: &[u8], wanted: &[&[u8]; 4]) -> Option<Vec<u8>> {
    for line in contents.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        // (as written, unescaped) per field.
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = vec![(Vec::new(), Vec::new())];
        let mut bytes = line.iter();
        while let Some(&b) = bytes.next() {
            let field = fields.last_mut().expect("never empty");
            match b {
                b':' => fields.push((Vec::new(), Vec::new())),
                b'\\' => {
                    field.0.push(b);
                    match bytes.next() {
                        Some(&next) => {
                            field.0.push(next);
                            field.1.push(next);
                        }
                        None => field.1.push(b'\\'),
                    }
                }
                _ => {
                    field.0.push(b);
                    field.1.push(b);
                }
            }
        }
        if fields.len() < 5 {
            continue;
        }
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|((raw, value), want)| raw == b"*" || value == want);
        if matches {
            let password = fields.swap_remove(4).1;
            return (!password.is_empty()).then_some(password);
        }
    }
    None
}

fn check_service_text(input: &mut Input<'_>) {
    let text = String::from_utf8_lossy(input.chunk16()).into_owned();
    let name = String::from_utf8_lossy(input.chunk()).into_owned();
    let (lines, config) = match apply_service_file(Config::new(), &text, &name) {
        Ok(Some(found)) => found,
        Ok(None) => return,
        Err(e) => {
            assert_eq!(e.kind(), Kind::Config, "{e}");
            return;
        }
    };
    for (key, value) in &lines {
        assert!(KEYS.contains(&key.as_str()), "unknown key {key:?} returned");
        let present = text.lines().any(|line| {
            line.split_once('=')
                .is_some_and(|(k, v)| k.trim() == key && v.trim() == value)
        });
        assert!(present, "{key}={value:?} is no line of {text:?}");
    }
    assert_same_as_key_value(&lines, &config);
}

/// The settings a service section applies are those of a key=value string giving each
/// key's first value.
fn assert_same_as_key_value(lines: &[(String, String)], config: &Config) {
    let mut kv = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in lines {
        if seen.contains(&key.as_str()) {
            continue;
        }
        seen.push(key);
        let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
        let _ = write!(kv, "{key}='{quoted}' ");
    }
    let expected: Config = kv
        .parse()
        .unwrap_or_else(|e| panic!("service entries applied but {kv:?} does not parse: {e}"));
    assert_eq!(
        settings(config),
        settings(&expected),
        "service entries {lines:?}"
    );
}

fn check_service_parts(input: &mut Input<'_>) {
    let one_line = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(['\n', '\r', '\0'], " ")
            .trim()
            .to_owned()
    };
    let mut name = one_line(input.chunk()).replace([']', '['], "_");
    if name == "other" || name == "after" {
        // The decoy sections around it: with a duplicate name the first section wins (as in
        // libpq), which is not the section this check wrote.
        name.push_str("_own");
    }
    let mut entries = Vec::new();
    for _ in 0..input.byte() % 9 {
        let key = KEYS[usize::from(input.byte()) % KEYS.len()];
        if key == "service" {
            continue; // Refused inside a service file.
        }
        entries.push((key.to_owned(), one_line(input.chunk())));
    }
    let mut text = String::from("# made by the config_parse check\n[other]\nhost=elsewhere\n\n");
    let _ = writeln!(text, "[{name}]");
    for (key, value) in &entries {
        let _ = writeln!(text, "  {key} = {value}  ");
        text.push_str("# a comment between entries\n");
    }
    text.push_str("[after]\nnonsense line\n");
    match apply_service_file(Config::new(), &text, &name) {
        Ok(Some((lines, config))) => {
            assert_eq!(lines, entries, "{text:?}");
            assert_same_as_key_value(&lines, &config);
        }
        Ok(None) => panic!("section [{name}] not found in {text:?}"),
        Err(e) => {
            assert_eq!(e.kind(), Kind::Config, "{e}");
            // Refused only for a value its key does not take: then key=value refuses it too.
            let refused = entries.iter().any(|(key, value)| {
                let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
                format!("{key}='{quoted}'").parse::<Config>().is_err()
            });
            assert!(refused, "{text:?} was refused: {e}");
        }
    }
}
