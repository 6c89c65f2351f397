//! The TLS settings of a [`Config`](super::Config) once libpq's defaults and rules are applied:
//! what the connection layer hands to the TLS code.

use std::path::PathBuf;
use std::sync::Arc;

use super::{SslCertMode, SslMode, SslNegotiation, SslProtocolVersion};

/// Where the trusted root certificates come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of one or more CA certificates.
    File(PathBuf),
    /// `sslrootcert=system`: the platform's trust store. As in libpq 16, this makes
    /// `verify-full` the default sslmode and refuses a weaker one.
    System,
}

/// A caller's own rustls client configuration, given with
/// [`Config::tls_config`](super::Config::tls_config). Two compare equal only if they are the
/// same `Arc`.
#[derive(Clone)]
pub struct CustomTlsConfig(pub(crate) Arc<rustls::ClientConfig>);

impl PartialEq for CustomTlsConfig {
    fn eq(&self, other: &CustomTlsConfig) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CustomTlsConfig {}

impl std::fmt::Debug for CustomTlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomTlsConfig(..)")
    }
}

/// The TLS settings with every default applied (libpq's rules):
///
/// - `mode` is the effective sslmode: `require` becomes `verify-ca` when a root certificate
///   file is given or the default `~/.postgresql/root.crt` exists; `sslrootcert=system` makes
///   the default `verify-full` (a weaker explicit mode is an error at resolve time).
/// - `root_cert`, `cert` and `key` are the given paths, or libpq's defaults under
///   `~/.postgresql/` (`root.crt`, `postgresql.crt`, `postgresql.key`) when those files exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    /// The effective sslmode.
    pub mode: SslMode,
    /// Trusted roots; `None` when none was given and the default file does not exist.
    pub root_cert: Option<RootCert>,
    /// The client certificate chain (PEM), if any.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1), if any.
    pub key: Option<PathBuf>,
    /// `sslpassword`: the passphrase of an encrypted key.
    pub key_password: Option<Vec<u8>>,
    /// `sslcrl`: a PEM file of certificate revocation lists.
    pub crl: Option<PathBuf>,
    /// `sslcrldir`: a directory of PEM CRL files.
    pub crl_dir: Option<PathBuf>,
    /// `sslsni`: send the host name in the TLS handshake (never for an IP address).
    pub sni: bool,
    /// `ssl_min_protocol_version` (default TLSv1.2, as libpq).
    pub min_version: SslProtocolVersion,
    /// `ssl_max_protocol_version` (default: no limit).
    pub max_version: Option<SslProtocolVersion>,
    /// `sslnegotiation`.
    pub negotiation: SslNegotiation,
    /// `sslcertmode`.
    pub cert_mode: SslCertMode,
    /// A caller's own rustls configuration, used instead of building one from the settings
    /// above (the sslmode still decides whether TLS is tried and required).
    pub custom: Option<CustomTlsConfig>,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            mode: SslMode::Prefer,
            root_cert: None,
            cert: None,
            key: None,
            key_password: None,
            crl: None,
            crl_dir: None,
            sni: true,
            min_version: SslProtocolVersion::Tls1_2,
            max_version: None,
            negotiation: SslNegotiation::Postgres,
            cert_mode: SslCertMode::Allow,
            custom: None,
        }
    }
}
