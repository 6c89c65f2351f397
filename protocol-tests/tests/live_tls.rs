//! TLS against real PostgreSQL servers started by `scripts/test-server`: every sslmode against a
//! plaintext-only server, a TLS-only role and a role that accepts both; certificate
//! verification failures (wrong CA, name mismatch, expired); client certificates in each key
//! format; `hostaddr`; the URL form. The oracle for "is this session encrypted" is the server's
//! own `pg_stat_ssl`.

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::live;
use tusk::{Config, Connection, Kind, SqlState};

/// What a connection attempt must end in.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Connected, and the server reports the session encrypted.
    Tls,
    /// Connected, and the server reports it in plaintext.
    Plain,
    /// Refused by the server's pg_hba.conf (SQLSTATE 28000).
    HbaRefused,
    /// Refused by the client: the server offers no TLS.
    NoTlsOnServer,
}

async fn check(conn_str: &str, expected: Outcome) {
    let result = Connection::connect(conn_str).await;
    match (expected, result) {
        (Outcome::Tls | Outcome::Plain, Ok(mut conn)) => {
            let tls = live::server_sees_tls(&mut conn).await;
            assert_eq!(
                tls,
                matches!(expected, Outcome::Tls),
                "{conn_str}: expected {expected:?}"
            );
        }
        (Outcome::HbaRefused, Err(e)) => {
            expect_db(&e, &SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
        }
        (Outcome::NoTlsOnServer, Err(e)) => {
            expect_message(&e, Kind::Tls, "does not support SSL");
        }
        (expected, Ok(_)) => panic!("{conn_str}: connected, expected {expected:?}"),
        (expected, Err(e)) => panic!("{conn_str}: expected {expected:?}, got {e:?}"),
    }
}

const MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Every sslmode against three servers: libpq's table, with the server as the oracle.
#[tokio::test]
async fn every_sslmode_against_plaintext_only_tls_only_and_mixed_servers() {
    use Outcome::*;
    let Some(tls) = live::tls() else { return };
    let ca = tls.file("ca.crt");
    let plaintext_server = format!(
        "host=localhost port={} user=tusk_scram password=pw_scram dbname=tusk",
        live::port()
    );
    let cases: [(&str, String, [Outcome; 6]); 4] = [
        // The main server runs without ssl: it answers N to SSLRequest.
        (
            "plaintext-only server",
            plaintext_server,
            [
                Plain,
                Plain,
                Plain,
                NoTlsOnServer,
                NoTlsOnServer,
                NoTlsOnServer,
            ],
        ),
        // hostssl only: allow retries with TLS after the refusal.
        (
            "TLS-only role",
            tls.conn("localhost", "tusk_tlsonly", "pw_tlsonly"),
            [HbaRefused, Tls, Tls, Tls, Tls, Tls],
        ),
        // hostnossl only on a TLS server: prefer retries in plaintext after the refusal.
        (
            "plaintext-only role on a TLS server",
            tls.conn("localhost", "tusk_plainonly", "pw_plainonly"),
            [Plain, Plain, Plain, HbaRefused, HbaRefused, HbaRefused],
        ),
        (
            "mixed",
            tls.conn("localhost", "tusk_scram", "pw_scram"),
            [Plain, Plain, Tls, Tls, Tls, Tls],
        ),
    ];
    for (name, base, outcomes) in cases {
        for (mode, expected) in MODES.iter().zip(outcomes) {
            let root = if mode.starts_with("verify") {
                format!(" sslrootcert={ca}")
            } else {
                String::new()
            };
            println!("{name}: sslmode={mode}");
            check(&format!("{base} sslmode={mode}{root}"), expected).await;
        }
    }
}

#[tokio::test]
async fn the_default_sslmode_is_prefer() {
    let Some(tls) = live::tls() else { return };
    check(
        &tls.conn("localhost", "tusk_scram", "pw_scram"),
        Outcome::Tls,
    )
    .await;
    assert_eq!(Config::new().get_ssl_mode(), tusk::SslMode::Prefer);
}

#[tokio::test]
async fn verify_full_refuses_a_name_the_certificate_does_not_list() {
    let Some(tls) = live::tls() else { return };
    let ca = tls.file("ca.crt");
    // The certificate names localhost only: 127.0.0.1 is not in it.
    let base = tls.conn("127.0.0.1", "tusk_scram", "pw_scram");
    let err = Connection::connect(&format!("{base} sslmode=verify-full sslrootcert={ca}"))
        .await
        .unwrap_err();
    expect_message(&err, Kind::Tls, "127.0.0.1");
    assert!(err.to_string().contains("localhost"), "{err}");
    // verify-ca checks the chain only.
    check(
        &format!("{base} sslmode=verify-ca sslrootcert={ca}"),
        Outcome::Tls,
    )
    .await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_even_by_require_with_a_root_file() {
    let Some(tls) = live::tls() else { return };
    let other = tls.file("other-ca.crt");
    let base = tls.conn("localhost", "tusk_scram", "pw_scram");
    for mode in ["verify-ca", "verify-full", "require"] {
        // libpq's rule: require with a root certificate file verifies like verify-ca.
        let err = Connection::connect(&format!("{base} sslmode={mode} sslrootcert={other}"))
            .await
            .expect_err(mode);
        expect_message(&err, Kind::Tls, "not signed by a trusted CA");
    }
    // Without a root file, require does not verify.
    check(&format!("{base} sslmode=require"), Outcome::Tls).await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused_when_verifying() {
    let Some(tls) = live::tls() else { return };
    let ca = tls.file("ca.crt");
    let base = format!(
        "host=localhost port={} user=tusk password=tusk dbname=tusk connect_timeout=10",
        tls.expired_port
    );
    for mode in ["verify-ca", "verify-full"] {
        let err = Connection::connect(&format!("{base} sslmode={mode} sslrootcert={ca}"))
            .await
            .expect_err(mode);
        expect_message(&err, Kind::Tls, "expired");
    }
    // require does not look at the certificate at all (libpq's meaning).
    check(&format!("{base} sslmode=require"), Outcome::Tls).await;
    // prefer must not fall back to plaintext silently either: it does not verify, so it
    // connects over TLS.
    check(&format!("{base} sslmode=prefer"), Outcome::Tls).await;
}

/// `tusk_cert` over verify-full, without a certificate yet: the role logs in by client
/// certificate only (pg_hba.conf `cert`).
fn cert_login(tls: &live::TlsServers) -> String {
    format!(
        "host=localhost port={} user=tusk_cert dbname=tusk sslmode=verify-full sslrootcert={} \
         connect_timeout=10",
        tls.port,
        tls.file("ca.crt")
    )
}

#[tokio::test]
async fn client_certificate_login_with_each_key_format() {
    let Some(tls) = live::tls() else { return };
    let base = cert_login(&tls);
    for (cert, key) in [
        ("client.crt", "client.key"),       // PKCS#8
        ("client.crt", "client-rsa.key"),   // PKCS#1
        ("client-ec.crt", "client-ec.key"), // SEC1
    ] {
        let conn_str = format!("{base} sslcert={} sslkey={}", tls.file(cert), tls.file(key));
        let mut conn = Connection::connect(&conn_str)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let row = conn
            .query_one(
                "SELECT current_user::text, client_dn FROM pg_stat_ssl \
                 WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "tusk_cert");
        assert_eq!(row.get::<_, String>(1), "/CN=tusk_cert", "{key}");
    }
}

#[tokio::test]
async fn client_certificate_login_fails_without_a_certificate_or_with_a_foreign_one() {
    let Some(tls) = live::tls() else { return };
    let base = cert_login(&tls);
    // No certificate: the server's cert rule refuses the session.
    let err = Connection::connect(&base).await.unwrap_err();
    expect_db(&err, &SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
    // A certificate signed by another CA: the server aborts the handshake.
    let err = Connection::connect(&format!(
        "{base} sslcert={} sslkey={}",
        tls.file("client-other.crt"),
        tls.file("client-other.key")
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(err.kind(), Kind::Tls | Kind::Io | Kind::Closed),
        "{err:?}"
    );
    // sslcertmode=disable keeps a configured certificate back.
    let err = Connection::connect(&format!(
        "{base} sslcertmode=disable sslcert={} sslkey={}",
        tls.file("client.crt"),
        tls.file("client.key")
    ))
    .await
    .unwrap_err();
    expect_db(&err, &SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
}

#[tokio::test]
async fn an_encrypted_key_gets_a_clear_error() {
    let Some(tls) = live::tls() else { return };
    let conn_str = format!(
        "{} sslcert={} sslkey={}",
        cert_login(&tls),
        tls.file("client.crt"),
        tls.file("client-encrypted.key")
    );
    let err = Connection::connect(&conn_str).await.unwrap_err();
    assert!(err.to_string().contains("client-encrypted.key"), "{err}");
    assert!(err.to_string().contains("encrypted"), "{err}");
}

#[tokio::test]
async fn hostaddr_dials_the_address_and_verifies_the_host_name() {
    let Some(tls) = live::tls() else { return };
    let ca = tls.file("ca.crt");
    let conn_str = format!(
        "host=localhost hostaddr=127.0.0.1 port={} user=tusk_scram password=pw_scram \
         dbname=tusk sslmode=verify-full sslrootcert={ca}",
        tls.port
    );
    check(&conn_str, Outcome::Tls).await;
    // hostaddr alone: the certificate is checked against the address, which it does not list.
    let conn_str = format!(
        "hostaddr=127.0.0.1 port={} user=tusk_scram password=pw_scram dbname=tusk \
         sslmode=verify-full sslrootcert={ca}",
        tls.port
    );
    let err = Connection::connect(&conn_str).await.unwrap_err();
    expect_message(&err, Kind::Tls, "127.0.0.1");
}

#[tokio::test]
async fn the_url_form_carries_the_tls_settings() {
    let Some(tls) = live::tls() else { return };
    let url = format!(
        "postgresql://tusk_scram:pw_scram@localhost:{}/tusk?sslmode=verify-full&sslrootcert={}",
        tls.port,
        tls.file("ca.crt").replace('/', "%2F")
    );
    check(&url, Outcome::Tls).await;
    let wrong_host = url.replace("@localhost:", "@127.0.0.1:");
    let err = Connection::connect(&wrong_host).await.unwrap_err();
    expect_message(&err, Kind::Tls, "127.0.0.1");
    let wrong_ca = url.replace("ca.crt", "other-ca.crt");
    let err = Connection::connect(&wrong_ca).await.unwrap_err();
    expect_message(&err, Kind::Tls, "not signed by a trusted CA");
}

#[tokio::test]
async fn tls_protocol_versions_are_enforced() {
    let Some(tls) = live::tls() else { return };
    let base = tls.conn("localhost", "tusk_scram", "pw_scram");
    for (setting, expected) in [
        ("ssl_min_protocol_version=TLSv1.3", "TLSv1.3"),
        ("ssl_max_protocol_version=TLSv1.2", "TLSv1.2"),
    ] {
        let mut conn = Connection::connect(&format!("{base} sslmode=require {setting}"))
            .await
            .unwrap();
        let version: String = conn
            .query_one(
                "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(version, expected, "{setting}");
        assert_eq!(conn.ssl_protocol_version(), Some(expected));
        assert!(conn.ssl_cipher().is_some_and(|c| !c.is_empty()));
    }
    let err = Connection::connect(&format!(
        "{base} sslmode=require ssl_max_protocol_version=TLSv1.1"
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("TLSv1.1"), "{err}");
}

/// A rustls configuration of the caller's own, trusting exactly `roots` (PEM files).
fn own_rustls_config(roots: &[String]) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut store = rustls::RootCertStore::empty();
    for path in roots {
        for cert in CertificateDer::pem_file_iter(path).expect("a PEM file") {
            store
                .add(cert.expect("a certificate"))
                .expect("a CA certificate");
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    std::sync::Arc::new(config)
}

/// `Config::tls_config`: the caller's rustls configuration decides what is trusted; the
/// sslmode still decides that TLS is required.
#[tokio::test]
async fn a_callers_own_rustls_config_is_used() {
    let Some(tls) = live::tls() else { return };
    let base: Config = tls
        .conn("localhost", "tusk_tlsonly", "pw_tlsonly")
        .parse()
        .unwrap();
    let trusting = base
        .clone()
        .ssl_mode(tusk::SslMode::VerifyFull)
        .tls_config(own_rustls_config(&[tls.file("ca.crt")]));
    let mut conn = trusting.connect().await.unwrap();
    assert!(live::server_sees_tls(&mut conn).await);
    let distrusting = base
        .ssl_mode(tusk::SslMode::VerifyFull)
        .tls_config(own_rustls_config(&[tls.file("other-ca.crt")]));
    let err = distrusting.connect().await.unwrap_err();
    expect_message(&err, Kind::Tls, "not signed by a trusted CA");
}
