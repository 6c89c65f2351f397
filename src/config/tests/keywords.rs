//! Every keyword: a valid value in the key=value form, in a URL query and in its environment
//! variable; invalid values named in the error.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::{parse, parse_err, tcp};
use crate::config::env::VARIABLES;
use crate::config::options::KEYS;
use crate::config::{
    Config, GssEncMode, LoadBalanceHosts, Replication, RootCert, SslCertMode, SslMode,
    SslNegotiation, SslProtocolVersion, TargetSessionAttrs,
};
use crate::proto::auth::{AuthMethod, ChannelBinding};
use crate::Kind;

type Check = fn(&Config) -> bool;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// One valid value per keyword and what the getters must then say.
const VALID: &[(&str, &str, Check)] = &[
    ("host", "db1,/tmp", |c| {
        c.get_hosts() == [tcp("db1"), super::unix("/tmp")]
    }),
    ("hostaddr", "10.0.0.1,,::1", |c| {
        c.get_hostaddrs() == [Some(ip("10.0.0.1")), None, Some(ip("::1"))]
    }),
    ("port", "5433", |c| c.get_ports() == [5433]),
    ("dbname", "shop", |c| c.get_dbname() == Some("shop")),
    ("user", "alice", |c| c.get_user() == Some("alice")),
    ("password", "s3cret", |c| {
        c.get_password() == Some(b"s3cret")
    }),
    ("passfile", "/p/pass", |c| {
        c.get_passfile() == Some(Path::new("/p/pass"))
    }),
    ("require_auth", "!password,!md5", |c| {
        let r = c.get_require_auth();
        !r.allows(AuthMethod::Password) && r.allows(AuthMethod::ScramSha256)
    }),
    ("channel_binding", "require", |c| {
        c.get_channel_binding() == ChannelBinding::Require
    }),
    ("connect_timeout", "10", |c| {
        c.get_connect_timeout() == Some(Duration::from_secs(10))
    }),
    ("client_encoding", "utf-8", |c| {
        c.get_client_encoding() == Some("utf-8")
    }),
    ("options", "-c geqo=off", |c| {
        c.get_options() == Some("-c geqo=off")
    }),
    ("application_name", "web", |c| {
        c.get_application_name() == Some("web")
    }),
    ("fallback_application_name", "fb", |c| {
        c.get_fallback_application_name() == Some("fb") && c.get_application_name() == Some("fb")
    }),
    ("keepalives", "0", |c| !c.get_keepalives()),
    ("keepalives_idle", "30", |c| {
        c.get_keepalives_idle() == Some(Duration::from_secs(30))
    }),
    ("keepalives_interval", "5", |c| {
        c.get_keepalives_interval() == Some(Duration::from_secs(5))
    }),
    ("keepalives_count", "4", |c| {
        c.get_keepalives_count() == Some(4)
    }),
    ("tcp_user_timeout", "1500", |c| {
        c.get_tcp_user_timeout() == Some(Duration::from_millis(1500))
    }),
    ("replication", "database", |c| {
        c.get_replication() == Replication::Database
    }),
    ("gssencmode", "disable", |c| {
        c.get_gss_enc_mode() == GssEncMode::Disable
    }),
    ("sslmode", "verify-ca", |c| {
        c.get_ssl_mode() == SslMode::VerifyCa
    }),
    ("sslnegotiation", "direct", |c| {
        c.get_ssl_negotiation() == SslNegotiation::Direct
    }),
    ("sslcompression", "1", |c| c.get_ssl_compression()),
    ("sslcert", "/c/client.crt", |c| {
        c.get_ssl_cert() == Some(Path::new("/c/client.crt"))
    }),
    ("sslkey", "/c/client.key", |c| {
        c.get_ssl_key() == Some(Path::new("/c/client.key"))
    }),
    ("sslpassword", "keypass", |c| {
        c.get_ssl_password() == Some(b"keypass")
    }),
    ("sslcertmode", "require", |c| {
        c.get_ssl_cert_mode() == SslCertMode::Require
    }),
    ("sslrootcert", "/c/root.crt", |c| {
        c.get_ssl_root_cert() == Some(RootCert::File("/c/root.crt".into()))
    }),
    ("sslcrl", "/c/crl.pem", |c| {
        c.get_ssl_crl() == Some(Path::new("/c/crl.pem"))
    }),
    ("sslcrldir", "/c/crls", |c| {
        c.get_ssl_crl_dir() == Some(Path::new("/c/crls"))
    }),
    ("sslsni", "0", |c| !c.get_ssl_sni()),
    ("requirepeer", "postgres", |c| {
        c.get_require_peer() == Some("postgres")
    }),
    ("ssl_min_protocol_version", "TLSv1.3", |c| {
        c.get_ssl_min_protocol_version() == SslProtocolVersion::Tls1_3
    }),
    ("ssl_max_protocol_version", "tlsv1.2", |c| {
        c.get_ssl_max_protocol_version() == Some(SslProtocolVersion::Tls1_2)
    }),
    ("min_protocol_version", "3.2", |c| {
        c.get_min_protocol_version() == crate::ProtocolVersion::V3_2
    }),
    ("max_protocol_version", "latest", |c| {
        c.get_max_protocol_version() == crate::ProtocolVersion::LATEST
    }),
    ("krbsrvname", "postgres", |c| {
        c.get_krb_srv_name() == Some("postgres")
    }),
    ("gsslib", "gssapi", |c| c.get_gss_lib() == Some("gssapi")),
    ("gssdelegation", "1", |c| c.get_gss_delegation()),
    ("service", "mysvc", |c| c.get_service() == Some("mysvc")),
    ("target_session_attrs", "prefer-standby", |c| {
        c.get_target_session_attrs() == TargetSessionAttrs::PreferStandby
    }),
    ("load_balance_hosts", "random", |c| {
        c.get_load_balance_hosts() == LoadBalanceHosts::Random
    }),
    ("statement_cache_capacity", "7", |c| {
        c.get_statement_cache_capacity() == 7
    }),
    ("statement_timeout", "250", |c| {
        c.get_statement_timeout() == Some(Duration::from_millis(250))
    }),
    ("cancel_timeout", "750", |c| {
        c.get_cancel_timeout() == Duration::from_millis(750)
    }),
];

/// Percent-encodes everything but letters and digits.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn every_keyword_is_in_the_table() {
    let tested: Vec<&str> = VALID.iter().map(|(k, _, _)| *k).collect();
    assert_eq!(tested, KEYS, "keep VALID in the order of KEYS");
}

#[test]
fn every_keyword_parses_in_both_forms() {
    for (key, value, check) in VALID {
        let kv = parse(&format!("{key}='{value}'"));
        assert!(check(&kv), "{key}={value}: {kv:?}");
        let url = parse(&format!("postgres://h/?{key}={}", encode(value)));
        assert!(check(&url), "URL {key}={value}: {url:?}");
    }
}

#[test]
fn every_keyword_with_a_variable_reads_it() {
    // libpq has no variable for these.
    let without = [
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "replication",
        "sslpassword",
        "statement_cache_capacity",
        "statement_timeout",
        "cancel_timeout",
    ];
    for (key, value, check) in VALID {
        let Some((variable, _)) = VARIABLES.iter().find(|(_, k)| k == key) else {
            assert!(without.contains(key), "no variable for {key}");
            continue;
        };
        assert!(!without.contains(key), "{key}");
        // A service named by PGSERVICE must exist: give it an empty section.
        let dir = std::env::temp_dir().join(format!("tusk-keywords-{}-{key}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pg_service.conf");
        std::fs::write(&file, "[mysvc]\n").unwrap();
        let file_text = file.to_string_lossy().into_owned();
        let c = Config::new()
            .fill_from(env(&[(variable, value), ("PGSERVICEFILE", &file_text)]))
            .unwrap_or_else(|e| panic!("{variable}={value}: {e}"));
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_dir(&dir);
        assert!(check(&c), "{variable}={value}: {c:?}");
    }
}

#[test]
fn invalid_values_name_the_key_and_value() {
    for (key, value, needle) in [
        ("hostaddr", "db.example.com", "invalid IP address"),
        ("hostaddr", "300.1.1.1", "element 1"),
        ("require_auth", "md5,!password", "require_auth"),
        ("require_auth", "kerberos", "require_auth"),
        ("channel_binding", "on", "channel_binding"),
        ("client_encoding", "LATIN1", "UTF8"),
        ("client_encoding", "SQL_ASCII", "client_encoding"),
        ("keepalives", "yes", "keepalives"),
        ("keepalives_idle", "-1", "non-negative"),
        ("keepalives_interval", "1s", "keepalives_interval"),
        ("keepalives_count", "lots", "keepalives_count"),
        ("tcp_user_timeout", "-5", "milliseconds"),
        ("replication", "logical", "replication"),
        ("gssencmode", "allow", "gssencmode"),
        ("sslmode", "maybe", "sslmode"),
        ("sslnegotiation", "tls", "sslnegotiation"),
        ("sslcompression", "yes", "sslcompression"),
        ("sslcertmode", "verify", "sslcertmode"),
        ("sslsni", "2", "sslsni"),
        (
            "ssl_min_protocol_version",
            "TLSv1.4",
            "ssl_min_protocol_version",
        ),
        (
            "ssl_max_protocol_version",
            "SSLv3",
            "ssl_max_protocol_version",
        ),
        ("min_protocol_version", "3.1", "min_protocol_version"),
        ("max_protocol_version", "4", "max_protocol_version"),
        ("gssdelegation", "true", "gssdelegation"),
        ("target_session_attrs", "master", "target_session_attrs"),
        ("load_balance_hosts", "round-robin", "load_balance_hosts"),
        ("connect_timeout", "soon", "connect_timeout"),
    ] {
        let err = parse_err(&format!("{key}='{value}'"));
        assert!(err.contains(needle), "{key}={value}: {err}");
        assert!(
            err.contains(&format!("\"{value}\"")),
            "{key}={value}: {err}"
        );
        assert!(err.contains(key), "{key}={value}: {err}");
        let err = parse_err(&format!("postgres://h?{key}={}", encode(value)));
        assert!(err.contains(&format!("\"{value}\"")), "URL {key}: {err}");
    }
    let err = parse_err("hostaddr=10.0.0.1,300.1.1.1");
    assert!(err.contains("\"300.1.1.1\" at element 2"), "{err}");
    // After a password, values are withheld.
    let err = parse_err("password=x sslmode=xyzzy");
    assert!(!err.contains("xyzzy") && err.contains("withheld"), "{err}");
    let err = parse_err("sslpassword=x require_auth=xyzzy");
    assert!(!err.contains("xyzzy"), "{err}");
    let err = parse_err("nosuchkey=1");
    assert!(
        err.contains("invalid connection option \"nosuchkey\""),
        "{err}"
    );
}

#[test]
fn invalid_variables_are_named() {
    for (variable, value) in [
        ("PGHOSTADDR", "not-an-ip"),
        ("PGSSLNEGOTIATION", "tls"),
        ("PGCLIENTENCODING", "LATIN1"),
        ("PGLOADBALANCEHOSTS", "yes"),
        ("PGREQUIREAUTH", "nope"),
    ] {
        let err = Config::new()
            .fill_from(env(&[(variable, value)]))
            .unwrap_err();
        assert_eq!(err.kind(), Kind::Config);
        let text = err.to_string();
        assert!(text.contains(variable) && text.contains(value), "{text}");
    }
}

#[test]
fn special_spellings() {
    // client_encoding: UTF-8's names in any case, and auto.
    for ok in ["UTF8", "utf8", "UTF-8", "unicode", "auto", "AUTO", ""] {
        parse(&format!("client_encoding='{ok}'"));
    }
    // replication's boolean words.
    for (word, mode) in [
        ("on", Replication::Physical),
        ("yes", Replication::Physical),
        ("1", Replication::Physical),
        ("true", Replication::Physical),
        ("off", Replication::Off),
        ("no", Replication::Off),
        ("0", Replication::Off),
        ("false", Replication::Off),
        ("", Replication::Off),
    ] {
        assert_eq!(
            parse(&format!("replication='{word}'")).get_replication(),
            mode
        );
    }
    // keepalives: any integer, non-zero meaning on (libpq).
    assert!(parse("keepalives=1").get_keepalives());
    assert!(parse("keepalives=2").get_keepalives());
    assert!(Config::new().get_keepalives());
    // Zero means the system default.
    let c = parse("keepalives_idle=0 keepalives_interval=0 keepalives_count=0 tcp_user_timeout=0");
    assert_eq!(c.get_keepalives_idle(), None);
    assert_eq!(c.get_keepalives_interval(), None);
    assert_eq!(c.get_keepalives_count(), None);
    assert_eq!(c.get_tcp_user_timeout(), None);
    // sslrootcert=system.
    assert_eq!(
        parse("sslrootcert=system").get_ssl_root_cert(),
        Some(RootCert::System)
    );
    // An empty require_auth or protocol version is the default.
    assert!(parse("require_auth=''").get_require_auth().is_any());
    assert_eq!(
        parse("ssl_min_protocol_version='' ssl_max_protocol_version=''")
            .get_ssl_min_protocol_version(),
        SslProtocolVersion::Tls1_2
    );
    // Defaults.
    let c = Config::new();
    assert!(c.get_ssl_sni());
    assert!(!c.get_ssl_compression());
    assert!(!c.get_gss_delegation());
    assert_eq!(c.get_ssl_max_protocol_version(), None);
    assert_eq!(c.get_gss_enc_mode(), GssEncMode::Prefer);
    assert_eq!(c.get_channel_binding(), ChannelBinding::Prefer);
    assert_eq!(c.get_ssl_cert_mode(), SslCertMode::Allow);
    assert_eq!(c.get_target_session_attrs(), TargetSessionAttrs::Any);
    assert_eq!(c.get_load_balance_hosts(), LoadBalanceHosts::Disable);
    assert!(c.get_tls_config().is_none());
}

#[test]
fn builders_match_the_keywords() {
    let built = Config::new()
        .hostaddr(ip("10.0.0.1"))
        .fallback_application_name("fb")
        .require_auth("scram-sha-256".parse().unwrap())
        .channel_binding(ChannelBinding::Disable)
        .client_encoding("UTF8")
        .keepalives(false)
        .keepalives_idle(Duration::from_secs(1))
        .keepalives_interval(Duration::from_secs(2))
        .keepalives_count(3)
        .tcp_user_timeout(Duration::from_millis(4))
        .replication(Replication::Off)
        .gss_enc_mode(GssEncMode::Disable)
        .ssl_negotiation(SslNegotiation::Postgres)
        .ssl_compression(false)
        .ssl_cert("/c")
        .ssl_key("/k")
        .ssl_password("kp")
        .ssl_cert_mode(SslCertMode::Disable)
        .ssl_root_cert(RootCert::System)
        .ssl_crl("/crl")
        .ssl_crl_dir("/crls")
        .ssl_sni(false)
        .require_peer("postgres")
        .ssl_min_protocol_version(SslProtocolVersion::Tls1_2)
        .ssl_max_protocol_version(SslProtocolVersion::Tls1_3)
        .krb_srv_name("k")
        .gss_lib("gssapi")
        .gss_delegation(false)
        .service("svc")
        .target_session_attrs(TargetSessionAttrs::Any)
        .load_balance_hosts(LoadBalanceHosts::Random);
    let parsed = parse(
        "hostaddr=10.0.0.1 fallback_application_name=fb require_auth=scram-sha-256 \
         channel_binding=disable client_encoding=UTF8 keepalives=0 keepalives_idle=1 \
         keepalives_interval=2 keepalives_count=3 tcp_user_timeout=4 replication=false \
         gssencmode=disable sslnegotiation=postgres sslcompression=0 sslcert=/c sslkey=/k \
         sslpassword=kp sslcertmode=disable sslrootcert=system sslcrl=/crl sslcrldir=/crls \
         sslsni=0 requirepeer=postgres ssl_min_protocol_version=TLSv1.2 \
         ssl_max_protocol_version=TLSv1.3 krbsrvname=k gsslib=gssapi gssdelegation=0 \
         service=svc target_session_attrs=any load_balance_hosts=random",
    );
    assert_eq!(built, parsed);
    // sslrootcert=system makes verify-full the default sslmode.
    assert_eq!(built.get_ssl_mode(), SslMode::VerifyFull);
}

#[test]
fn debug_never_shows_either_password() {
    let c = parse("password=hunter2 sslpassword=swordfish sslkey=/k");
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("swordfish"),
        "{shown}"
    );
    assert!(shown.contains("ssl_password: Some(\"***\")"), "{shown}");
    let url = parse("postgres://u:hunter2@h/d?sslpassword=swordfish");
    let shown = format!("{url:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("swordfish"),
        "{shown}"
    );
}
