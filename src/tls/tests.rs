//! The connector against an in-process rustls server over `tokio::io::duplex`, with the
//! fixtures in `testdata/` (see its README).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use sha2::{Digest, Sha256, Sha384};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{TlsConnector, TlsInfo};
use crate::config::{RootCert, SslCertMode, SslMode, SslProtocolVersion, TlsSettings};
use crate::error::{Error, Kind};

/// A fixture's path.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/tls/testdata")
        .join(name)
}

/// A fixture certificate's DER.
fn cert_der(name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(fixture(name)).expect("fixture certificate")
}

/// The test server's setup.
struct Server {
    /// Certificate and key fixture names.
    cert: &'static str,
    key: &'static str,
    /// `None`: no CertificateRequest; `Some(false)`: asks, accepts none; `Some(true)`: requires.
    client_auth: Option<bool>,
    versions: &'static [&'static SupportedProtocolVersion],
}

impl Server {
    /// A server showing `cert` (with the key of the same name), TLS 1.2 and 1.3, no client auth.
    fn new(cert: &'static str, key: &'static str) -> Server {
        Server {
            cert,
            key,
            client_auth: None,
            versions: rustls::ALL_VERSIONS,
        }
    }

    fn config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(self.versions)
            .expect("versions");
        let builder = match self.client_auth {
            None => builder.with_no_client_auth(),
            Some(required) => {
                let mut roots = RootCertStore::empty();
                roots.add(cert_der("ca.crt")).expect("ca");
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if required {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                builder.with_client_cert_verifier(verifier.build().expect("client verifier"))
            }
        };
        let chain = vec![cert_der(self.cert)];
        let key = PrivateKeyDer::from_pem_file(fixture(self.key)).expect("fixture key");
        let mut config = builder.with_single_cert(chain, key).expect("server cert");
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Arc::new(config)
    }
}

/// What the server saw of a successful handshake.
#[derive(Debug)]
struct Seen {
    sni: Option<String>,
    client_certs: usize,
    alpn: Option<Vec<u8>>,
}

/// Runs one handshake of `settings` against `server`, with `host` as the name to check. On
/// success, a byte goes each way over the encrypted stream.
async fn handshake(
    settings: &TlsSettings,
    host: &str,
    server: Server,
) -> (Result<TlsInfo, Error>, Option<Seen>) {
    let connector = match TlsConnector::new(settings) {
        Ok(c) => c,
        Err(e) => return (Err(e), None),
    };
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let acceptor = tokio_rustls::TlsAcceptor::from(server.config());
    let serve = async move {
        let mut tls = acceptor.accept(server_io).await.ok()?;
        let (_, conn) = tls.get_ref();
        let seen = Seen {
            sni: conn.server_name().map(str::to_string),
            client_certs: conn.peer_certificates().map_or(0, <[_]>::len),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        };
        tls.write_all(b"S").await.ok()?;
        tls.flush().await.ok()?;
        let mut byte = [0];
        tls.read_exact(&mut byte).await.ok()?;
        Some(seen)
    };
    let client = async {
        let (mut stream, info) = connector.handshake(Box::new(client_io), host).await?;
        let mut byte = [0];
        stream.read_exact(&mut byte).await.map_err(Error::io)?;
        assert_eq!(&byte, b"S");
        stream.write_all(b"C").await.map_err(Error::io)?;
        stream.flush().await.map_err(Error::io)?;
        Ok(info)
    };
    tokio::join!(client, serve)
}

/// Settings with `mode` and the test CA as the trusted root.
fn settings(mode: SslMode) -> TlsSettings {
    TlsSettings {
        mode,
        root_cert: Some(RootCert::File(fixture("ca.crt"))),
        ..TlsSettings::default()
    }
}

/// The error of a handshake that must fail, checked to be a TLS error containing `text`.
async fn refused(settings: &TlsSettings, host: &str, server: Server, text: &str) -> Error {
    let (result, _) = handshake(settings, host, server).await;
    let err = result.expect_err("the handshake must fail");
    assert_eq!(err.kind(), Kind::Tls, "{err}");
    assert!(
        err.to_string().contains(text),
        "{err}\nmust contain: {text}"
    );
    err
}

#[tokio::test]
async fn require_accepts_a_self_signed_certificate() {
    let s = TlsSettings {
        mode: SslMode::Require,
        ..TlsSettings::default()
    };
    let (info, seen) = handshake(
        &s,
        "localhost",
        Server::new("selfsigned.crt", "selfsigned.key"),
    )
    .await;
    let info = info.expect("handshake");
    let seen = seen.expect("server side");
    assert_eq!(info.protocol, "TLSv1.3");
    assert!(info.alpn_is_postgresql());
    assert_eq!(seen.alpn.as_deref(), Some(&b"postgresql"[..]));
    assert_eq!(seen.sni.as_deref(), Some("localhost"));
    assert!(info.cipher.starts_with("TLS13_"), "{}", info.cipher);
    assert!(!info.client_cert_requested && !info.client_cert_sent);
}

#[tokio::test]
async fn verify_ca_accepts_a_certificate_for_another_name() {
    let (info, _) = handshake(
        &settings(SslMode::VerifyCa),
        "db.example.com",
        Server::new("server.crt", "server.key"),
    )
    .await;
    info.expect("verify-ca does not check the name");
}

/// `ChainOnly` relies on rustls checking the chain before the name: an untrusted or expired
/// certificate that also names another host must be refused for its chain, not let through
/// as a mere name mismatch.
#[tokio::test]
async fn verify_ca_ignores_only_the_name() {
    let s = settings(SslMode::VerifyCa);
    refused(
        &s,
        "db.example.com",
        Server::new("selfsigned.crt", "selfsigned.key"),
        "not signed by a trusted CA",
    )
    .await;
    refused(
        &s,
        "db.example.com",
        Server::new("expired.crt", "expired.key"),
        "expired on 2021-01-01 00:00:00 UTC",
    )
    .await;
}

#[tokio::test]
async fn verify_ca_refuses_an_unknown_ca() {
    let path = fixture("ca.crt");
    let err = refused(
        &settings(SslMode::VerifyCa),
        "localhost",
        Server::new("selfsigned.crt", "selfsigned.key"),
        &format!(
            "the server's certificate is not signed by a trusted CA (sslrootcert \"{}\")",
            path.display()
        ),
    )
    .await;
    let source = std::error::Error::source(&err).expect("source");
    assert!(
        source.downcast_ref::<rustls::Error>().is_some(),
        "{source:?}"
    );
}

#[tokio::test]
async fn verify_ca_refuses_an_expired_certificate() {
    refused(
        &settings(SslMode::VerifyCa),
        "localhost",
        Server::new("expired.crt", "expired.key"),
        "the server's certificate expired on 2021-01-01 00:00:00 UTC",
    )
    .await;
}

#[tokio::test]
async fn verify_full_refuses_a_name_mismatch_naming_both() {
    refused(
        &settings(SslMode::VerifyFull),
        "127.0.0.1",
        Server::new("server.crt", "server.key"),
        "the server's certificate is not valid for \"127.0.0.1\"; it names localhost",
    )
    .await;
}

#[tokio::test]
async fn verify_full_checks_dns_names_and_sends_sni() {
    let (info, seen) = handshake(
        &settings(SslMode::VerifyFull),
        "localhost",
        Server::new("server.crt", "server.key"),
    )
    .await;
    info.expect("handshake");
    assert_eq!(seen.expect("server side").sni.as_deref(), Some("localhost"));
    let no_sni = TlsSettings {
        sni: false,
        ..settings(SslMode::VerifyFull)
    };
    let (info, seen) = handshake(
        &no_sni,
        "localhost",
        Server::new("server.crt", "server.key"),
    )
    .await;
    info.expect("handshake");
    assert_eq!(seen.expect("server side").sni, None);
}

#[tokio::test]
async fn verify_full_checks_ip_addresses_without_sni() {
    let s = settings(SslMode::VerifyFull);
    let (info, seen) = handshake(
        &s,
        "127.0.0.1",
        Server::new("server-ip.crt", "server-ip.key"),
    )
    .await;
    info.expect("the certificate names 127.0.0.1");
    assert_eq!(seen.expect("server side").sni, None);
    refused(
        &s,
        "localhost",
        Server::new("server-ip.crt", "server-ip.key"),
        "is not valid for \"localhost\"; it names 127.0.0.1",
    )
    .await;
    refused(
        &s,
        "127.0.0.2",
        Server::new("server-ip.crt", "server-ip.key"),
        "is not valid for \"127.0.0.2\"",
    )
    .await;
}

#[tokio::test]
async fn crls_refuse_a_revoked_certificate() {
    for (crl, crl_dir) in [
        (Some(fixture("ca.crl")), None),
        (None, Some(fixture("crls"))),
    ] {
        let s = TlsSettings {
            crl,
            crl_dir,
            ..settings(SslMode::VerifyFull)
        };
        refused(
            &s,
            "localhost",
            Server::new("revoked.crt", "revoked.key"),
            "the server's certificate has been revoked",
        )
        .await;
        let (info, _) = handshake(&s, "localhost", Server::new("server.crt", "server.key")).await;
        info.expect("not revoked");
    }
}

/// `sslcert` = `client.crt` or `client-ec.crt` with the key in `key`.
fn with_client_cert(cert: &str, key: &str, mode: SslCertMode) -> TlsSettings {
    TlsSettings {
        cert: Some(fixture(cert)),
        key: Some(fixture(key)),
        cert_mode: mode,
        ..settings(SslMode::VerifyFull)
    }
}

#[tokio::test]
async fn client_certificates_are_sent_in_each_key_format() {
    for (cert, key) in [
        ("client.crt", "client.key"),            // PKCS#8
        ("client.crt", "client-pkcs1.key"),      // PKCS#1
        ("client-ec.crt", "client-ec-sec1.key"), // SEC1
    ] {
        let mut server = Server::new("server.crt", "server.key");
        server.client_auth = Some(true);
        let s = with_client_cert(cert, key, SslCertMode::Require);
        let (info, seen) = handshake(&s, "localhost", server).await;
        let info = info.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(info.client_cert_requested && info.client_cert_sent, "{key}");
        assert_eq!(seen.expect("server side").client_certs, 1, "{key}");
    }
}

#[tokio::test]
async fn sslcertmode_disable_sends_no_certificate() {
    let mut server = Server::new("server.crt", "server.key");
    server.client_auth = Some(false);
    let s = with_client_cert("client.crt", "client.key", SslCertMode::Disable);
    let (info, seen) = handshake(&s, "localhost", server).await;
    let info = info.expect("handshake");
    assert!(info.client_cert_requested && !info.client_cert_sent);
    assert_eq!(seen.expect("server side").client_certs, 0);
}

#[tokio::test]
async fn sslcertmode_require_fails_when_the_server_does_not_ask() {
    let s = with_client_cert("client.crt", "client.key", SslCertMode::Require);
    refused(
        &s,
        "localhost",
        Server::new("server.crt", "server.key"),
        "server did not request an SSL certificate",
    )
    .await;
    // Asked, but nothing configured to send.
    let mut server = Server::new("server.crt", "server.key");
    server.client_auth = Some(false);
    let s = TlsSettings {
        cert_mode: SslCertMode::Require,
        ..settings(SslMode::VerifyFull)
    };
    refused(&s, "localhost", server, "without a valid SSL certificate").await;
}

#[tokio::test]
async fn encrypted_keys_are_refused_with_advice() {
    for key in ["client-encrypted.key", "client-encrypted-pkcs1.key"] {
        let s = with_client_cert("client.crt", key, SslCertMode::Allow);
        let err = TlsConnector::new(&s).expect_err("encrypted");
        let text = err.to_string();
        assert_eq!(err.kind(), Kind::Tls);
        assert!(text.contains(&fixture(key).display().to_string()), "{text}");
        assert!(
            text.contains("encrypted") && text.contains("openssl pkey -in"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_certificate_without_a_key_is_refused() {
    let mut s = with_client_cert("client.crt", "client.key", SslCertMode::Allow);
    s.key = None;
    let err = TlsConnector::new(&s).expect_err("no key");
    assert!(err.to_string().contains("there is no private key"), "{err}");
    let mut s = with_client_cert("client.crt", "client.key", SslCertMode::Allow);
    s.cert = None;
    let err = TlsConnector::new(&s).expect_err("no cert");
    assert!(err.to_string().contains("there is no certificate"), "{err}");
    // A key that belongs to another certificate.
    let s = with_client_cert("client.crt", "server.key", SslCertMode::Allow);
    let err = TlsConnector::new(&s).expect_err("mismatch");
    assert!(
        err.to_string().contains("cannot be used with sslcert"),
        "{err}"
    );
}

#[tokio::test]
async fn protocol_versions_are_enforced() {
    let mut server = Server::new("server.crt", "server.key");
    static ONLY_12: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    server.versions = &ONLY_12;
    let s = TlsSettings {
        min_version: SslProtocolVersion::Tls1_3,
        ..settings(SslMode::VerifyFull)
    };
    refused(
        &s,
        "localhost",
        server,
        "the server does not speak a TLS version tusk allows (only TLSv1.3",
    )
    .await;

    let s = TlsSettings {
        min_version: SslProtocolVersion::Tls1_0,
        max_version: Some(SslProtocolVersion::Tls1_2),
        ..settings(SslMode::VerifyFull)
    };
    let (info, _) = handshake(&s, "localhost", Server::new("server.crt", "server.key")).await;
    assert_eq!(info.expect("handshake").protocol, "TLSv1.2");

    for (min, max, text) in [
        (
            SslProtocolVersion::Tls1_0,
            SslProtocolVersion::Tls1_1,
            "speaks only TLSv1.2 and TLSv1.3",
        ),
        (
            SslProtocolVersion::Tls1_3,
            SslProtocolVersion::Tls1_2,
            "is above ssl_max_protocol_version",
        ),
    ] {
        let s = TlsSettings {
            min_version: min,
            max_version: Some(max),
            ..settings(SslMode::Require)
        };
        let err = TlsConnector::new(&s).expect_err("bad range");
        assert_eq!(err.kind(), Kind::Config);
        assert!(err.to_string().contains(text), "{err}");
    }
}

#[tokio::test]
async fn the_end_point_hash_is_of_the_served_certificate() {
    let (info, _) = handshake(
        &settings(SslMode::VerifyFull),
        "localhost",
        Server::new("server.crt", "server.key"),
    )
    .await;
    let info = info.expect("handshake");
    let expected = Sha256::digest(cert_der("server.crt")).to_vec();
    assert_eq!(info.channel_binding_data().expect("binding"), expected);

    let require = TlsSettings {
        mode: SslMode::Require,
        ..TlsSettings::default()
    };
    let (info, _) = handshake(
        &require,
        "localhost",
        Server::new("ec-p384-sha384.crt", "ec-p384-sha384.key"),
    )
    .await;
    let expected = Sha384::digest(cert_der("ec-p384-sha384.crt")).to_vec();
    assert_eq!(info.expect("handshake").server_end_point, Some(expected));
}

#[tokio::test]
async fn file_errors_name_the_setting_and_path() {
    let s = TlsSettings {
        root_cert: Some(RootCert::File("/nonexistent/root.crt".into())),
        ..settings(SslMode::VerifyCa)
    };
    let err = TlsConnector::new(&s).expect_err("missing");
    assert!(
        err.to_string()
            .contains("sslrootcert \"/nonexistent/root.crt\": No such file"),
        "{err}"
    );
    let s = TlsSettings {
        root_cert: Some(RootCert::File(fixture("client.key"))),
        ..settings(SslMode::VerifyCa)
    };
    let err = TlsConnector::new(&s).expect_err("no certificates");
    assert!(
        err.to_string().contains("no certificates in the file"),
        "{err}"
    );
    let s = TlsSettings {
        root_cert: None,
        ..settings(SslMode::VerifyFull)
    };
    let err = TlsConnector::new(&s).expect_err("no roots");
    assert!(
        err.to_string().contains("needs trusted root certificates"),
        "{err}"
    );
}

#[tokio::test]
async fn built_configurations_are_cached_until_a_file_changes() {
    let dir = std::env::temp_dir().join(format!("tusk-tls-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let root = dir.join("root.crt");
    std::fs::copy(fixture("ca.crt"), &root).expect("copy");
    let s = TlsSettings {
        root_cert: Some(RootCert::File(root.clone())),
        ..settings(SslMode::VerifyFull)
    };
    let a = TlsConnector::new(&s).expect("first");
    let b = TlsConnector::new(&s).expect("second");
    assert!(Arc::ptr_eq(&a.config, &b.config), "same files: one build");
    // Rotation: another CA in the same file (a different length, so the stamp changes even
    // within the file system's time resolution).
    let mut both = std::fs::read(fixture("ca.crt")).expect("read");
    both.extend(std::fs::read(fixture("other-ca.crt")).expect("read"));
    std::fs::write(&root, both).expect("write");
    let c = TlsConnector::new(&s).expect("third");
    assert!(
        !Arc::ptr_eq(&a.config, &c.config),
        "a changed file is read again"
    );
    std::fs::remove_file(&root).expect("remove");
    let err = TlsConnector::new(&s).expect_err("gone");
    assert!(err.to_string().contains("No such file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_custom_config_gets_the_postgresql_alpn() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(cert_der("ca.crt")).expect("ca");
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let s = TlsSettings {
        mode: SslMode::VerifyFull,
        custom: Some(crate::config::CustomTlsConfig(Arc::new(config))),
        ..TlsSettings::default()
    };
    let (info, _) = handshake(&s, "localhost", Server::new("server.crt", "server.key")).await;
    assert!(info.expect("handshake").alpn_is_postgresql());
}
