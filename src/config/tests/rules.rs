//! The rules applied by `resolve`: hostaddr pairing, TLS defaults and checks, the settings
//! tusk refuses, load balancing, and the environment-only server settings.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::{parse, tcp, unix};
use crate::config::resolve::shuffle;
use crate::config::{Config, Host, Keepalives, Resolved, RootCert, SslMode, Target};
use crate::proto::auth::{AuthMethod, ChannelBinding};
use crate::Kind;

fn users(name: &str) -> Option<String> {
    match name {
        "USER" => Some("osuser".to_owned()),
        "HOME" => Some("/home/u".to_owned()),
        _ => None,
    }
}

fn nothing_exists(_: &Path) -> bool {
    false
}

fn resolve(config: &Config) -> Resolved {
    resolve_files(config, &[])
}

/// Resolves with only `files` existing.
fn resolve_files(config: &Config, files: &[&str]) -> Resolved {
    let exists = |p: &Path| files.iter().any(|f| p == Path::new(f));
    config
        .resolve_with(&users, &exists)
        .unwrap_or_else(|e| panic!("{config:?}: {e}"))
}

fn resolve_err(config: &Config) -> String {
    resolve_err_files(config, &[])
}

fn resolve_err_files(config: &Config, files: &[&str]) -> String {
    let exists = |p: &Path| files.iter().any(|f| p == Path::new(f));
    let err = config.resolve_with(&users, &exists).unwrap_err();
    assert_eq!(err.kind(), Kind::Config, "{err}");
    err.to_string()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn target(host: Host, hostaddr: Option<&str>, port: u16) -> Target {
    Target {
        host,
        hostaddr: hostaddr.map(ip),
        port,
    }
}

#[test]
fn hostaddr_pairs_with_host() {
    let r = resolve(&parse(
        "host=db.example.com,db2 hostaddr=10.0.0.1, port=1,2",
    ));
    assert_eq!(
        r.targets,
        [
            target(tcp("db.example.com"), Some("10.0.0.1"), 1),
            target(tcp("db2"), None, 2)
        ]
    );
    // hostaddr alone: the address is the host too.
    let r = resolve(&parse("hostaddr=10.0.0.1,::1"));
    assert_eq!(
        r.targets,
        [
            target(tcp("10.0.0.1"), Some("10.0.0.1"), 5432),
            target(tcp("::1"), Some("::1"), 5432)
        ]
    );
    // An empty element with no host: the default host.
    let r = resolve(&parse("hostaddr=10.0.0.1, port=5,6"));
    assert_eq!(r.targets[1], target(tcp("localhost"), None, 6));
    // A socket directory with an address: the address is dialled (libpq's rule).
    let r = resolve(&parse("host=/tmp hostaddr=127.0.0.1"));
    assert_eq!(r.targets, [target(unix("/tmp"), Some("127.0.0.1"), 5432)]);
    // The builder.
    let r = resolve(&Config::new().host("name").hostaddr(ip("192.0.2.1")));
    assert_eq!(r.targets, [target(tcp("name"), Some("192.0.2.1"), 5432)]);
}

#[test]
fn hostaddr_errors() {
    let e = resolve_err(&parse("host=a,b,c hostaddr=10.0.0.1,10.0.0.2"));
    assert!(
        e.contains("could not match 3 host names to 2 hostaddr values"),
        "{e}"
    );
    let e = resolve_err(&parse("hostaddr=10.0.0.1,10.0.0.2 port=1,2,3"));
    assert!(
        e.contains("could not match 3 port numbers to 2 hosts"),
        "{e}"
    );
    let err = "hostaddr=localhost".parse::<Config>().unwrap_err();
    assert!(err.to_string().contains("\"localhost\""), "{err}");
    let err = "hostaddr=fe80::1%eth0".parse::<Config>().unwrap_err();
    assert!(err.to_string().contains("fe80::1%eth0"), "{err}");
}

#[test]
fn tls_defaults() {
    let r = resolve(&Config::new());
    assert_eq!(r.tls.mode, SslMode::Prefer);
    assert_eq!(r.tls.root_cert, None);
    assert_eq!((r.tls.cert.clone(), r.tls.key.clone()), (None, None));
    assert!(r.tls.sni);
    assert_eq!(r.tls.min_version, crate::SslProtocolVersion::Tls1_2);
    assert_eq!(r.tls.max_version, None);
    assert_eq!(r.channel_binding, ChannelBinding::Prefer);
    assert!(r.require_auth.is_any());
    assert_eq!(
        r.keepalives,
        Keepalives {
            enabled: true,
            idle: None,
            interval: None,
            count: None
        }
    );
    assert_eq!(r.tcp_user_timeout, None);
    assert_eq!(r.requirepeer, None);
}

#[test]
fn every_setting_reaches_resolved() {
    let r = resolve_files(
        &parse(
            "sslmode=verify-full sslrootcert=/ca.pem sslcert=/c.crt sslkey=/c.key \
             sslpassword=kp sslcrl=/crl.pem sslcrldir=/crls sslsni=0 \
             ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.3 \
             sslnegotiation=direct sslcertmode=require channel_binding=require \
             require_auth=scram-sha-256 keepalives=0 keepalives_idle=1 keepalives_interval=2 \
             keepalives_count=3 tcp_user_timeout=4 requirepeer=postgres",
        ),
        &["/ca.pem", "/c.crt", "/c.key"],
    );
    let tls = &r.tls;
    assert_eq!(tls.mode, SslMode::VerifyFull);
    assert_eq!(tls.root_cert, Some(RootCert::File("/ca.pem".into())));
    assert_eq!(tls.cert.as_deref(), Some(Path::new("/c.crt")));
    assert_eq!(tls.key.as_deref(), Some(Path::new("/c.key")));
    assert_eq!(tls.key_password.as_deref(), Some(&b"kp"[..]));
    assert_eq!(tls.crl.as_deref(), Some(Path::new("/crl.pem")));
    assert_eq!(tls.crl_dir.as_deref(), Some(Path::new("/crls")));
    assert!(!tls.sni);
    assert_eq!(tls.min_version, crate::SslProtocolVersion::Tls1_3);
    assert_eq!(tls.max_version, Some(crate::SslProtocolVersion::Tls1_3));
    assert_eq!(tls.negotiation, crate::SslNegotiation::Direct);
    assert_eq!(tls.cert_mode, crate::SslCertMode::Require);
    assert_eq!(r.channel_binding, ChannelBinding::Require);
    assert!(r.require_auth.allows(AuthMethod::ScramSha256));
    assert!(!r.require_auth.allows(AuthMethod::Md5));
    assert_eq!(
        r.keepalives,
        Keepalives {
            enabled: false,
            idle: Some(Duration::from_secs(1)),
            interval: Some(Duration::from_secs(2)),
            count: Some(3)
        }
    );
    assert_eq!(r.tcp_user_timeout, Some(Duration::from_millis(4)));
    assert_eq!(r.requirepeer.as_deref(), Some("postgres"));
    // Neither password shows in Debug.
    let r = resolve(&parse("password=hunter2 sslpassword=swordfish"));
    let shown = format!("{r:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("swordfish"),
        "{shown}"
    );
}

#[test]
fn default_files_under_home() {
    const ROOT: &str = "/home/u/.postgresql/root.crt";
    const CERT: &str = "/home/u/.postgresql/postgresql.crt";
    const KEY: &str = "/home/u/.postgresql/postgresql.key";
    let r = resolve_files(&Config::new(), &[ROOT, CERT, KEY]);
    assert_eq!(r.tls.root_cert, Some(RootCert::File(ROOT.into())));
    assert_eq!(r.tls.cert.as_deref(), Some(Path::new(CERT)));
    assert_eq!(r.tls.key.as_deref(), Some(Path::new(KEY)));
    // sslcertmode=disable: no client certificate.
    let r = resolve_files(&parse("sslcertmode=disable"), &[ROOT, CERT, KEY]);
    assert_eq!((r.tls.cert, r.tls.key), (None, None));
    // A certificate without its key is refused, naming both.
    let e = resolve_err_files(&Config::new(), &[CERT]);
    assert!(e.contains(CERT) && e.contains(KEY), "{e}");
    // A certificate file that does not exist is skipped, as in libpq.
    let r = resolve(&parse("sslcert=/nope.crt"));
    assert_eq!(r.tls.cert, None);
    // sslmode=disable looks at no file.
    let r = resolve_files(&parse("sslmode=disable"), &[ROOT, CERT]);
    assert_eq!((r.tls.root_cert, r.tls.cert), (None, None));
}

#[test]
fn require_becomes_verify_ca_with_a_root_file() {
    const ROOT: &str = "/home/u/.postgresql/root.crt";
    let r = resolve_files(&parse("sslmode=require"), &[ROOT]);
    assert_eq!(r.tls.mode, SslMode::VerifyCa);
    let r = resolve_files(&parse("sslmode=require sslrootcert=/ca.pem"), &["/ca.pem"]);
    assert_eq!(r.tls.mode, SslMode::VerifyCa);
    let r = resolve(&parse("sslmode=require"));
    assert_eq!(r.tls.mode, SslMode::Require);
    // A given root file that does not exist: not verified, as in libpq.
    let r = resolve(&parse("sslmode=require sslrootcert=/missing.pem"));
    assert_eq!((r.tls.mode, r.tls.root_cert), (SslMode::Require, None));
    // prefer stays prefer.
    let r = resolve_files(&Config::new(), &[ROOT]);
    assert_eq!(r.tls.mode, SslMode::Prefer);
}

#[test]
fn verification_needs_root_certificates() {
    for mode in ["verify-ca", "verify-full"] {
        let e = resolve_err(&parse(&format!("sslmode={mode}")));
        assert!(
            e.contains("root certificate file \"/home/u/.postgresql/root.crt\" does not exist")
                && e.contains("sslrootcert=system")
                && e.contains(mode),
            "{e}"
        );
        let e = resolve_err(&parse(&format!("sslmode={mode} sslrootcert=/ca.pem")));
        assert!(e.contains("\"/ca.pem\" does not exist"), "{e}");
    }
    // No HOME: the message says so.
    let err = parse("sslmode=verify-full")
        .resolve_with(&|n| (n == "USER").then(|| "u".to_owned()), &nothing_exists)
        .unwrap_err();
    assert!(err.to_string().contains("HOME is not set"), "{err}");
    // A caller's rustls configuration skips the check.
    let roots = rustls::RootCertStore::empty();
    let custom = std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let config = parse("sslmode=verify-full").tls_config(custom.clone());
    let r = resolve(&config);
    assert_eq!(r.tls.mode, SslMode::VerifyFull);
    assert!(r.tls.custom.is_some());
    assert!(config.get_tls_config().is_some());
    assert!(!format!("{config:?}").is_empty());
}

#[test]
fn sslrootcert_system() {
    let r = resolve(&parse("sslrootcert=system"));
    assert_eq!(r.tls.mode, SslMode::VerifyFull);
    assert_eq!(r.tls.root_cert, Some(RootCert::System));
    let r = resolve(&parse("sslrootcert=system sslmode=verify-full"));
    assert_eq!(r.tls.mode, SslMode::VerifyFull);
    for weak in ["disable", "allow", "prefer", "require", "verify-ca"] {
        let e = resolve_err(&parse(&format!("sslrootcert=system sslmode={weak}")));
        assert!(
            e.contains(&format!(
                "weak sslmode \"{weak}\" may not be used with sslrootcert=system (use \
                 \"verify-full\")"
            )),
            "{e}"
        );
    }
}

#[test]
fn direct_negotiation_needs_a_strong_sslmode() {
    for weak in ["disable", "allow", "prefer"] {
        let e = resolve_err(&parse(&format!("sslnegotiation=direct sslmode={weak}")));
        assert!(
            e.contains(&format!(
                "weak sslmode \"{weak}\" may not be used with sslnegotiation=direct (use \
                 \"require\", \"verify-ca\", or \"verify-full\")"
            )),
            "{e}"
        );
    }
    // The default sslmode (prefer) is weak too.
    resolve_err(&parse("sslnegotiation=direct"));
    resolve(&parse("sslnegotiation=direct sslmode=require"));
    resolve(&parse("sslnegotiation=direct sslrootcert=system"));
}

#[test]
fn protocol_version_range() {
    let e = resolve_err(&parse(
        "ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2",
    ));
    assert!(
        e.contains("\"TLSv1.3\"") && e.contains("\"TLSv1.2\""),
        "{e}"
    );
    // The default minimum (1.2) above an explicit maximum.
    resolve_err(&parse("ssl_max_protocol_version=TLSv1.1"));
    resolve(&parse(
        "ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=TLSv1.1",
    ));
}

#[test]
fn channel_binding_require_needs_tls() {
    let e = resolve_err(&parse("channel_binding=require sslmode=disable"));
    assert!(
        e.contains("channel_binding=require") && e.contains("sslmode=disable"),
        "{e}"
    );
    resolve(&parse("channel_binding=require"));
    resolve(&parse("channel_binding=disable sslmode=disable"));
}

#[test]
fn unsupported_settings_are_refused_clearly() {
    let e = resolve_err(&parse("gssencmode=require"));
    assert!(e.contains("no GSSAPI support"), "{e}");
    for fine in [
        "replication=false",
        "replication=off",
        "gssencmode=prefer",
        "gssencmode=disable",
        "target_session_attrs=any",
        "target_session_attrs=read-write",
        "target_session_attrs=prefer-standby",
        "krbsrvname=x gsslib=gssapi gssdelegation=1 sslcompression=1",
    ] {
        resolve(&parse(fine));
    }
    // client_encoding from the builder is checked when resolving.
    let e = resolve_err(&Config::new().client_encoding("LATIN1"));
    assert!(e.contains("\"LATIN1\"") && e.contains("UTF8"), "{e}");
    let r = resolve(&parse("client_encoding=auto"));
    assert!(r
        .startup_params
        .contains(&("client_encoding".to_owned(), "UTF8".to_owned())));
}

#[test]
fn replication_is_sent_at_startup_only_when_asked_for() {
    for (setting, value) in [
        ("replication=true", Some("true")),
        ("replication=on", Some("true")),
        ("replication=database", Some("database")),
        ("replication=false", None),
        ("", None),
    ] {
        let r = resolve(&parse(setting));
        let sent = r
            .startup_params
            .iter()
            .find(|(name, _)| name == "replication")
            .map(|(_, v)| v.as_str());
        assert_eq!(sent, value, "{setting}");
    }
}

#[test]
fn shuffle_is_fisher_yates() {
    // Always drawing 0 moves each last element to the front in turn.
    let mut items = [1, 2, 3, 4];
    shuffle(&mut items, &mut |_| Ok(0)).unwrap();
    assert_eq!(items, [2, 3, 4, 1]);
    // Always drawing the top index leaves the order alone.
    let mut items = [1, 2, 3, 4];
    shuffle(&mut items, &mut |n| Ok(n - 1)).unwrap();
    assert_eq!(items, [1, 2, 3, 4]);
    // Out-of-range draws are clamped, never a panic.
    let mut items = [1, 2, 3];
    shuffle(&mut items, &mut |n| Ok(n + 10)).unwrap();
    let mut empty: [u8; 0] = [];
    shuffle(&mut empty, &mut |_| unreachable!()).unwrap();
}

#[test]
fn load_balance_hosts_random_permutes_the_targets() {
    let config = parse("host=a,b,c port=1,2,3 load_balance_hosts=random");
    // Through resolve, with an injected source.
    let r = config
        .resolve_with_random(&users, &nothing_exists, &mut |_| Ok(0))
        .unwrap();
    let order: Vec<u16> = r.targets.iter().map(|t| t.port).collect();
    assert_eq!(order, [2, 3, 1], "ports stay with their hosts");
    assert_eq!(r.targets[0].host, tcp("b"));
    // With the real source, every order of three hosts shows up over many draws.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..600 {
        let r = resolve(&config);
        seen.insert(r.targets.iter().map(|t| t.port).collect::<Vec<_>>());
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    // disable keeps the order.
    let r = resolve(&parse("host=a,b,c"));
    let order: Vec<u16> = r.targets.iter().map(|t| t.port).collect();
    assert_eq!(order, [5432; 3]);
    assert_eq!(r.targets[0].host, tcp("a"));
}

#[test]
fn environment_only_server_settings() {
    let vars: HashMap<&str, &str> = [
        ("PGTZ", "Europe/Paris"),
        ("PGGEQO", "off"),
        ("PGDATESTYLE", "SQL"),
    ]
    .into_iter()
    .collect();
    let lookup = |name: &str| vars.get(name).map(|v| (*v).to_owned());
    let c = Config::new().fill_from(lookup).unwrap();
    assert_eq!(
        c.get_params(),
        [
            ("timezone".to_owned(), "Europe/Paris".to_owned()),
            ("geqo".to_owned(), "off".to_owned())
        ]
    );
    let r = resolve(&c);
    assert!(r
        .startup_params
        .contains(&("DateStyle".to_owned(), "ISO".to_owned())));
    // param() and options win; "default" means not sent.
    let c = Config::new()
        .param("TimeZone", "UTC")
        .options("-c geqo=on")
        .fill_from(lookup)
        .unwrap();
    assert_eq!(c.get_params(), [("TimeZone".to_owned(), "UTC".to_owned())]);
    let c = Config::new()
        .fill_from(|n: &str| (n == "PGTZ").then(|| "DEFAULT".to_owned()))
        .unwrap();
    assert!(c.get_params().is_empty());
}
