//! `sslrootcert=system` against the real TLS server. The platform's trust store is read from
//! `SSL_CERT_FILE` when it is set (as OpenSSL and rustls-native-certs do), so this test binary
//! points it at the test CA before anything loads the store: its own process, one test.

use protocol_tests::errors::expect_message;
use protocol_tests::live;
use tusk::{Config, Connection, Kind, SslMode};

#[tokio::test]
async fn sslrootcert_system_verifies_the_full_name_against_the_platform_store() {
    let Some(tls) = live::tls() else { return };
    // Set before the first TLS connection of this process, which loads the store once.
    std::env::set_var("SSL_CERT_FILE", tls.file("ca.crt"));
    std::env::remove_var("SSL_CERT_DIR");

    let base = tls.conn("localhost", "tusk_scram", "pw_scram");
    let config: Config = format!("{base} sslrootcert=system").parse().unwrap();
    // libpq 16's rule: system roots make verify-full the default.
    assert_eq!(config.get_ssl_mode(), SslMode::VerifyFull);
    let mut conn = config.connect().await.unwrap();
    assert!(live::server_sees_tls(&mut conn).await);

    // The name is checked: 127.0.0.1 is not in the certificate.
    let err = Connection::connect(&format!(
        "{} sslrootcert=system",
        tls.conn("127.0.0.1", "tusk_scram", "pw_scram")
    ))
    .await
    .unwrap_err();
    expect_message(&err, Kind::Tls, "127.0.0.1");

    // And anything weaker than verify-full is refused before connecting.
    for mode in ["require", "verify-ca", "prefer"] {
        let err = Connection::connect(&format!("{base} sslrootcert=system sslmode={mode}"))
            .await
            .expect_err(mode);
        assert_eq!(err.kind(), Kind::Config, "{mode}: {err:?}");
    }
}
