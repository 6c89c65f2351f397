//! TLS for connections: the rustls client configuration built from libpq-style settings, the
//! handshake over a connection's stream, certificate verification per sslmode, the
//! `tls-server-end-point` channel binding data, and error messages that name the cause.
//!
//! The connection layer decides whether and how TLS starts (SSLRequest or direct negotiation,
//! sslmode's fallbacks); this module takes a stream and returns an encrypted one.
//!
//! - [`build`]: `ClientConfig` from [`TlsSettings`], cached per process.
//! - [`load`]: reading the PEM files and the system trust store.
//! - [`verify`]: the certificate verifiers and the client certificate resolver.
//! - [`errors`]: rustls errors as messages.
//! - [`end_point`]: the channel binding hash.

mod build;
pub(crate) mod end_point;
mod errors;
mod load;
mod verify;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rustls::pki_types::{DnsName, ServerName};
use rustls::ClientConfig;

use self::build::{Verification, ALPN_POSTGRESQL};
use self::end_point::EndPointError;
use self::errors::ErrorContext;
use self::verify::{ClientCertUse, RecordingResolver};
use crate::client::transport::Transport;
use crate::config::{RootCert, TlsSettings};
use crate::config::{SslCertMode, SslProtocolVersion};
use crate::error::Error;

/// Starts TLS on connections with one set of settings. Built once per connect attempt; cheap
/// to clone (the configuration is shared, and cached across connectors with equal settings).
#[derive(Debug, Clone)]
pub(crate) struct TlsConnector {
    /// The rustls configuration: tusk's own, or the caller's custom one.
    config: Arc<ClientConfig>,
    /// How the server's certificate is checked (for the host name handling).
    verification: Verification,
    /// `sslcertmode`, checked after the handshake.
    cert_mode: SslCertMode,
    /// What error messages may mention.
    context: ErrorContext,
}

impl TlsConnector {
    /// Builds the connector for `settings`: the caller's custom configuration if there is one,
    /// otherwise one built from the settings (files read only when they changed since the last
    /// build).
    pub(crate) fn new(settings: &TlsSettings) -> Result<TlsConnector, Error> {
        let (_, versions) = build::versions(settings.min_version, settings.max_version)?;
        let verification = Verification::of(settings.mode);
        let config = match &settings.custom {
            Some(custom) => custom.0.clone(),
            None => build::client_config(settings)?,
        };
        let roots = match (&settings.custom, verification, &settings.root_cert) {
            (Some(_), _, _) | (None, Verification::None, _) | (None, _, None) => None,
            (None, _, Some(RootCert::File(path))) => {
                Some(format!("sslrootcert \"{}\"", path.display()))
            }
            (None, _, Some(RootCert::System)) => Some("sslrootcert=system".into()),
        };
        Ok(TlsConnector {
            config,
            verification,
            cert_mode: settings.cert_mode,
            context: ErrorContext { roots, versions },
        })
    }

    /// Runs the TLS handshake over `stream`. `host` is the name the certificate must be valid
    /// for and the SNI sent (an IP address is checked against the certificate's IP addresses
    /// and sends no SNI). Fails after the handshake when `sslcertmode=require` and the server
    /// did not ask for a client certificate, or got none.
    pub(crate) async fn handshake(
        &self,
        stream: Box<dyn Transport>,
        host: &str,
    ) -> Result<(Box<dyn Transport>, TlsInfo), Error> {
        let server_name = self.server_name(host)?;
        // Each handshake gets its own resolver to learn whether the server asked for a client
        // certificate; the copy shares everything else (verifier, keys) through `Arc`s.
        let usage = Arc::new(ClientCertUse::default());
        let mut config = ClientConfig::clone(&self.config);
        config.client_auth_cert_resolver = Arc::new(RecordingResolver {
            inner: config.client_auth_cert_resolver.clone(),
            usage: usage.clone(),
        });
        if config.alpn_protocols.is_empty() {
            // A custom configuration without ALPN still gets PostgreSQL's, which direct
            // negotiation needs.
            config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
        }
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tls = connector
            .connect(server_name, stream)
            .await
            .map_err(|e| errors::handshake_error(e, host, &self.context))?;
        let info = TlsInfo::of(tls.get_ref().1, &usage);
        if self.cert_mode == SslCertMode::Require {
            if !info.client_cert_requested {
                return Err(Error::tls(
                    "server did not request an SSL certificate (sslcertmode=require)",
                ));
            }
            if !info.client_cert_sent {
                return Err(Error::tls(
                    "server accepted connection without a valid SSL certificate \
                     (sslcertmode=require; set sslcert and sslkey)",
                ));
            }
        }
        Ok((Box::new(tls), info))
    }

    /// The rustls server name for `host`. A name that is neither an IP address nor a valid
    /// DNS name can only be used when it is not checked: then it is replaced by an address,
    /// which also means no SNI.
    fn server_name(&self, host: &str) -> Result<ServerName<'static>, Error> {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Ok(ServerName::IpAddress(ip.into()));
        }
        match DnsName::try_from(host) {
            Ok(name) => Ok(ServerName::DnsName(name.to_owned())),
            Err(_) if self.verification != Verification::Full => Ok(ServerName::IpAddress(
                std::net::IpAddr::from([0, 0, 0, 0]).into(),
            )),
            Err(_) => Err(Error::tls(format!(
                "sslmode=verify-full: the host name \"{host}\" is not a valid DNS name or IP \
                 address, so the server's certificate cannot be checked against it"
            ))),
        }
    }
}

/// What the handshake settled, for the connection layer and SCRAM channel binding.
#[derive(Debug, Clone)]
pub(crate) struct TlsInfo {
    /// The `tls-server-end-point` channel binding data: a hash of the server's certificate;
    /// `None` when it is undefined for the certificate (see `end_point_error`).
    pub(crate) server_end_point: Option<Vec<u8>>,
    /// Why `server_end_point` is `None`.
    pub(crate) end_point_error: Option<EndPointError>,
    /// The ALPN protocol the server chose, if any.
    pub(crate) alpn: Option<Vec<u8>>,
    /// `TLSv1.2` or `TLSv1.3`.
    pub(crate) protocol: &'static str,
    /// The cipher suite, as rustls names it (`TLS13_AES_256_GCM_SHA384`).
    pub(crate) cipher: String,
    /// The server sent a CertificateRequest.
    pub(crate) client_cert_requested: bool,
    /// A client certificate was sent.
    pub(crate) client_cert_sent: bool,
}

impl TlsInfo {
    /// Collects the facts from a finished handshake.
    fn of(conn: &rustls::ClientConnection, usage: &ClientCertUse) -> TlsInfo {
        let (server_end_point, end_point_error) = match conn.peer_certificates() {
            Some([leaf, ..]) => match end_point::server_end_point(leaf) {
                Ok(hash) => (Some(hash), None),
                Err(e) => (None, Some(e)),
            },
            _ => (
                None,
                Some(EndPointError::Malformed("the server sent no certificate")),
            ),
        };
        let protocol = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => SslProtocolVersion::Tls1_3.as_str(),
            Some(rustls::ProtocolVersion::TLSv1_2) => SslProtocolVersion::Tls1_2.as_str(),
            _ => "unknown",
        };
        TlsInfo {
            server_end_point,
            end_point_error,
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            protocol,
            cipher: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            client_cert_requested: usage.requested.load(Ordering::Relaxed),
            client_cert_sent: usage.sent.load(Ordering::Relaxed),
        }
    }

    /// Whether the server chose the ALPN protocol `postgresql`. With `sslnegotiation=direct`
    /// the caller must refuse a server that did not (libpq 17 does), since a non-PostgreSQL
    /// TLS server could otherwise be talked to.
    pub(crate) fn alpn_is_postgresql(&self) -> bool {
        self.alpn.as_deref() == Some(ALPN_POSTGRESQL)
    }

    /// The `tls-server-end-point` data for SCRAM-SHA-256-PLUS, or why there is none.
    pub(crate) fn channel_binding_data(&self) -> Result<&[u8], Error> {
        match (&self.server_end_point, &self.end_point_error) {
            (Some(hash), _) => Ok(hash),
            (None, Some(e)) => Err(Error::tls_caused(
                "channel binding is not possible with this server certificate",
                e.clone(),
            )),
            (None, None) => Err(Error::tls("channel binding data is missing")),
        }
    }
}
