//! A TLS-terminating proxy on loopback — a **test helper**, never for production use.
//!
//! It stands in front of a real PostgreSQL reached over plain TCP and plays the server's part
//! of TLS negotiation, so tests can exercise what the local server cannot: `sslnegotiation=
//! direct` (PostgreSQL 17's direct TLS, absent from the PostgreSQL 15 the tests run), a server
//! that refuses TLS, or a chosen certificate. Per connection it either
//!
//! - reads an SSLRequest and answers `S` (then does a rustls server handshake) or `N` (then
//!   forwards the rest in the clear), or
//! - sees a TLS ClientHello at once (first byte 0x16, direct negotiation) and accepts it only
//!   with the ALPN protocol `postgresql`, answering a ClientHello without it with a fatal
//!   `no_application_protocol` alert as PostgreSQL 17 does,
//!
//! and then forwards the decrypted bytes both ways to the upstream address (no SSLRequest is
//! sent upstream). What each connection did is recorded for the test to check.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The SSLRequest code (1234 << 16 | 5679).
const SSL_REQUEST: u32 = 80_877_103;
/// The GSSENCRequest code (1234 << 16 | 5680): refused with `N`, as a server without GSSAPI.
const GSSENC_REQUEST: u32 = 80_877_104;
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;
/// The ALPN protocol direct negotiation requires.
const ALPN: &[u8] = b"postgresql";
/// A TLS 1.2-framed fatal `no_application_protocol` (120) alert record.
const NO_APPLICATION_PROTOCOL_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 120];

/// How the proxy behaves.
#[derive(Debug, Clone)]
pub struct TlsProxyOptions {
    /// The real server, reached over plain TCP.
    pub upstream: (String, u16),
    /// The certificate chain the proxy serves (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// Answer an SSLRequest with `S` and TLS (`true`) or with `N` and no TLS (`false`).
    pub accept_ssl_request: bool,
    /// Accept direct TLS (`true`), or close a connection that starts with a ClientHello, as a
    /// server before PostgreSQL 17 would fail it (`false`).
    pub accept_direct: bool,
}

impl TlsProxyOptions {
    /// Both negotiations accepted, serving `cert` / `key`, forwarding to `upstream`.
    pub fn new(upstream: (String, u16), cert: PathBuf, key: PathBuf) -> TlsProxyOptions {
        TlsProxyOptions {
            upstream,
            cert,
            key,
            accept_ssl_request: true,
            accept_direct: true,
        }
    }
}

/// What one client connection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenConnection {
    /// It started with a ClientHello (direct negotiation) rather than an SSLRequest.
    pub direct: bool,
    /// It sent an SSLRequest.
    pub ssl_request: bool,
    /// The ALPN protocols the ClientHello offered (empty when none, or no TLS).
    pub alpn_offered: Vec<Vec<u8>>,
    /// The ALPN protocol agreed, if any.
    pub alpn: Option<Vec<u8>>,
    /// The SNI the client sent.
    pub sni: Option<String>,
    /// The TLS handshake completed.
    pub tls: bool,
    /// Why the connection was refused or failed, if it was.
    pub error: Option<String>,
}

/// A running proxy; it stops when the test's runtime ends.
#[derive(Debug)]
pub struct TlsProxy {
    /// The port clients connect to on 127.0.0.1.
    pub port: u16,
    seen: Arc<Mutex<Vec<SeenConnection>>>,
}

impl TlsProxy {
    /// Starts a proxy on `127.0.0.1:0`. Fails if the certificate or key cannot be read.
    pub async fn start(options: TlsProxyOptions) -> io::Result<TlsProxy> {
        let config = server_config(&options)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let options = Arc::new(options);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (config, options, record) = (config.clone(), options.clone(), record.clone());
                tokio::spawn(async move {
                    let mut seen = SeenConnection::default();
                    if let Err(e) = serve(client, &config, &options, &mut seen).await {
                        seen.error.get_or_insert_with(|| e.to_string());
                    }
                    record.lock().unwrap_or_else(|p| p.into_inner()).push(seen);
                });
            }
        });
        Ok(TlsProxy { port, seen })
    }

    /// The connections that have ended so far, in the order they ended.
    pub fn connections(&self) -> Vec<SeenConnection> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The connections that have ended, once there are at least `count` of them. The proxy
    /// records a connection after both sides closed, a moment after the client's call
    /// returned, so a test waits here rather than reading [`TlsProxy::connections`] at once.
    ///
    /// # Panics
    /// When fewer than `count` have ended after 10 seconds.
    pub async fn ended(&self, count: usize) -> Vec<SeenConnection> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let seen = self.connections();
            if seen.len() >= count {
                return seen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the proxy recorded {} of {count} connections: {seen:?}",
                seen.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// The rustls server configuration: ring, TLS 1.2 and 1.3, ALPN `postgresql`.
fn server_config(options: &TlsProxyOptions) -> io::Result<Arc<ServerConfig>> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
    };
    let chain = CertificateDer::pem_file_iter(&options.cert)
        .map_err(|e| invalid("cert", &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("cert", &e))?;
    let key = PrivateKeyDer::from_pem_file(&options.key).map_err(|e| invalid("key", &e))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("versions", &e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| invalid("cert/key", &e))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// Serves one client connection.
async fn serve(
    mut client: TcpStream,
    config: &Arc<ServerConfig>,
    options: &TlsProxyOptions,
    seen: &mut SeenConnection,
) -> io::Result<()> {
    let mut first = [0u8; 1];
    if client.peek(&mut first).await? == 0 {
        return Ok(());
    }
    if first[0] == TLS_HANDSHAKE {
        seen.direct = true;
        if !options.accept_direct {
            seen.error = Some("direct TLS refused (accept_direct = false)".into());
            return Ok(());
        }
        return tls_then_forward(client, config, options, seen, true).await;
    }
    // SSLRequest, GSSENCRequest or a startup packet: all start with an 8-byte header.
    loop {
        let mut header = [0u8; 8];
        client.read_exact(&mut header).await?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let code = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        match (len, code) {
            (8, GSSENC_REQUEST) => client.write_all(b"N").await?,
            (8, SSL_REQUEST) => {
                seen.ssl_request = true;
                if options.accept_ssl_request {
                    client.write_all(b"S").await?;
                    return tls_then_forward(client, config, options, seen, false).await;
                }
                client.write_all(b"N").await?;
            }
            _ => {
                // A startup packet in the clear: hand it on with everything after it.
                let mut upstream = connect(options).await?;
                upstream.write_all(&header).await?;
                tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
                return Ok(());
            }
        }
    }
}

/// The server handshake, then forwarding. `direct`: the ClientHello must offer ALPN
/// `postgresql`.
async fn tls_then_forward(
    mut client: TcpStream,
    config: &Arc<ServerConfig>,
    options: &TlsProxyOptions,
    seen: &mut SeenConnection,
    direct: bool,
) -> io::Result<()> {
    // Over a borrow, so the socket is still ours for the alert when the hello is refused.
    let start =
        tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), &mut client)
            .await?;
    let hello = start.client_hello();
    seen.alpn_offered = hello
        .alpn()
        .map(|list| list.map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    seen.sni = hello.server_name().map(str::to_string);
    if direct && !seen.alpn_offered.iter().any(|p| p == ALPN) {
        seen.error = Some("direct TLS without ALPN postgresql refused".into());
        drop(start);
        client.write_all(&NO_APPLICATION_PROTOCOL_ALERT).await?;
        return client.shutdown().await;
    }
    let mut tls = start.into_stream(config.clone()).await?;
    seen.tls = true;
    seen.alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let mut upstream = connect(options).await?;
    tokio::io::copy_bidirectional(&mut tls, &mut upstream).await?;
    Ok(())
}

/// A plain TCP connection to the real server.
async fn connect(options: &TlsProxyOptions) -> io::Result<TcpStream> {
    TcpStream::connect((options.upstream.0.as_str(), options.upstream.1)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use rustls::RootCertStore;

    /// A fixture under `testdata/tls/`.
    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/tls")
            .join(name)
    }

    /// An upstream that echoes what it receives, standing in for PostgreSQL.
    async fn echo_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        port
    }

    async fn proxy(configure: impl FnOnce(&mut TlsProxyOptions)) -> TlsProxy {
        let mut options = TlsProxyOptions::new(
            ("127.0.0.1".into(), echo_server().await),
            fixture("server.crt"),
            fixture("server.key"),
        );
        configure(&mut options);
        TlsProxy::start(options).await.expect("start")
    }

    /// A client trusting the test CA, offering `alpn`.
    fn connector(alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(fixture("ca.crt")).expect("ca") {
            roots.add(cert.expect("ca")).expect("ca");
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    fn ssl_request() -> [u8; 8] {
        let mut m = [0u8; 8];
        m[..4].copy_from_slice(&8u32.to_be_bytes());
        m[4..].copy_from_slice(&SSL_REQUEST.to_be_bytes());
        m
    }

    /// Sends `ping` over `stream` and expects it back from the echo upstream.
    async fn round_trip<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: &mut S) {
        stream.write_all(b"ping").await.expect("write");
        stream.flush().await.expect("flush");
        let mut back = [0u8; 4];
        stream.read_exact(&mut back).await.expect("read");
        assert_eq!(&back, b"ping");
    }

    #[tokio::test]
    async fn ssl_request_then_tls_is_forwarded() {
        let proxy = proxy(|_| {}).await;
        let mut tcp = TcpStream::connect(("127.0.0.1", proxy.port))
            .await
            .expect("connect");
        tcp.write_all(&ssl_request()).await.expect("write");
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer).await.expect("answer");
        assert_eq!(&answer, b"S");
        let name = ServerName::try_from("localhost").expect("name");
        let mut tls = connector(&[]).connect(name, tcp).await.expect("handshake");
        round_trip(&mut tls).await;
        drop(tls);
        let seen = &proxy.ended(1).await[0];
        assert!(seen.ssl_request && seen.tls && !seen.direct, "{seen:?}");
        assert_eq!(seen.alpn, None);
        assert_eq!(seen.sni.as_deref(), Some("localhost"));
    }

    #[tokio::test]
    async fn direct_tls_with_alpn_is_forwarded() {
        let proxy = proxy(|_| {}).await;
        let tcp = TcpStream::connect(("127.0.0.1", proxy.port))
            .await
            .expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        let mut tls = connector(&[ALPN])
            .connect(name, tcp)
            .await
            .expect("handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(ALPN));
        round_trip(&mut tls).await;
        drop(tls);
        let seen = &proxy.ended(1).await[0];
        assert!(seen.direct && seen.tls && !seen.ssl_request, "{seen:?}");
        assert_eq!(seen.alpn.as_deref(), Some(ALPN));
        assert_eq!(seen.alpn_offered, vec![ALPN.to_vec()]);
    }

    #[tokio::test]
    async fn direct_tls_without_alpn_is_refused() {
        let proxy = proxy(|_| {}).await;
        let tcp = TcpStream::connect(("127.0.0.1", proxy.port))
            .await
            .expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        let err = connector(&[])
            .connect(name, tcp)
            .await
            .expect_err("refused");
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        assert_eq!(
            inner,
            Some(&rustls::Error::AlertReceived(
                rustls::AlertDescription::NoApplicationProtocol
            )),
            "{err}"
        );
        let seen = &proxy.ended(1).await[0];
        assert!(seen.direct && !seen.tls && seen.error.is_some(), "{seen:?}");
    }

    #[tokio::test]
    async fn refusals_answer_n_or_close() {
        let proxy = proxy(|o| {
            o.accept_ssl_request = false;
            o.accept_direct = false;
        })
        .await;
        // SSLRequest → N, then the startup traffic goes through in the clear.
        let mut tcp = TcpStream::connect(("127.0.0.1", proxy.port))
            .await
            .expect("connect");
        tcp.write_all(&ssl_request()).await.expect("write");
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer).await.expect("answer");
        assert_eq!(&answer, b"N");
        let startup = [0, 0, 0, 8, 0, 3, 0, 0];
        tcp.write_all(&startup).await.expect("write");
        let mut back = [0u8; 8];
        tcp.read_exact(&mut back).await.expect("read");
        assert_eq!(back, startup);
        round_trip(&mut tcp).await;
        drop(tcp);
        // Direct TLS → closed.
        let tcp = TcpStream::connect(("127.0.0.1", proxy.port))
            .await
            .expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        connector(&[ALPN])
            .connect(name, tcp)
            .await
            .expect_err("closed");
        let seen = proxy.ended(2).await;
        assert!(
            seen.iter()
                .any(|s| s.ssl_request && !s.tls && s.error.is_none()),
            "{seen:?}"
        );
        assert!(
            seen.iter().any(|s| s.direct && !s.tls && s.error.is_some()),
            "{seen:?}"
        );
    }
}
