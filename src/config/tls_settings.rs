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

/// The TLS settings with every default applied (libpq's rules, applied by `Config::resolve`):
///
/// - `mode` is the effective sslmode: `require` becomes `verify-ca` when a root certificate
///   file is present (given, or the default `~/.postgresql/root.crt`) and no custom rustls
///   configuration is set; `sslrootcert=system` makes the default `verify-full` (a weaker
///   explicit mode is an error at resolve time).
/// - `root_cert` is `system`, or the given file (else `~/.postgresql/root.crt`) when it exists;
///   `None` otherwise. `verify-ca`/`verify-full` with no root certificate (and no custom
///   configuration) is an error at resolve time, as in libpq.
/// - `cert` is the given file (else `~/.postgresql/postgresql.crt`) when it exists, and `key`
///   the given key file (else `~/.postgresql/postgresql.key`); with a certificate but no key
///   file, resolving fails. Both are `None` with `sslcertmode=disable`.
/// - With `sslmode=disable` no file is looked at: `root_cert`, `cert` and `key` are `None`.
#[derive(Clone, PartialEq, Eq)]
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

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Written by hand so `sslpassword` is never printed.
        f.debug_struct("TlsSettings")
            .field("mode", &self.mode)
            .field("root_cert", &self.root_cert)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("key_password", &self.key_password.as_ref().map(|_| "***"))
            .field("crl", &self.crl)
            .field("crl_dir", &self.crl_dir)
            .field("sni", &self.sni)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("negotiation", &self.negotiation)
            .field("cert_mode", &self.cert_mode)
            .field("custom", &self.custom)
            .finish()
    }
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
