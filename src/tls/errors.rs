//! Turning rustls failures into [`Kind::Tls`](crate::Kind::Tls) errors whose message names the
//! cause in the user's terms (the CA, the host name, the date, the setting to look at), with the
//! rustls error kept as the source.

use std::io;

use rustls::{AlertDescription, CertificateError, PeerIncompatible};

use crate::config::SslProtocolVersion;
use crate::error::Error;

/// What a handshake error message may mention besides the rustls error.
#[derive(Debug, Clone)]
pub(crate) struct ErrorContext {
    /// Where the trusted roots came from, as the setting reads: `sslrootcert "path"` or
    /// `sslrootcert=system`; `None` when the mode verifies nothing.
    pub(crate) roots: Option<String>,
    /// The protocol versions offered, for a version mismatch.
    pub(crate) versions: (SslProtocolVersion, SslProtocolVersion),
}

/// The error for a failed handshake: `err` is what tokio-rustls returned, which wraps a
/// `rustls::Error` for TLS failures and is a plain I/O error when the connection broke.
pub(crate) fn handshake_error(err: io::Error, host: &str, ctx: &ErrorContext) -> Error {
    let is_rustls = err
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>());
    if !is_rustls {
        return Error::io(err).with_message(format!("TLS handshake with \"{host}\" failed"));
    }
    let Some(inner) = err.into_inner() else {
        // Unreachable: `get_ref` returned the inner error above.
        return Error::tls(format!("TLS handshake with \"{host}\" failed"));
    };
    match inner.downcast::<rustls::Error>() {
        Ok(tls) => {
            let message = describe(&tls, host, ctx);
            Error::tls_caused(message, *tls)
        }
        Err(other) => Error::tls_caused(format!("TLS handshake with \"{host}\" failed"), other),
    }
}

/// The message for a rustls error during the handshake with `host`.
pub(crate) fn describe(err: &rustls::Error, host: &str, ctx: &ErrorContext) -> String {
    let crl_settings = "sslcrl/sslcrldir";
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not signed by a trusted CA ({})",
                ctx.roots.as_deref().unwrap_or("no sslrootcert")
            ),
            CertificateError::NotValidForNameContext { presented, .. } => {
                let names: Vec<String> = presented.iter().map(|p| presented_name(p)).collect();
                if names.is_empty() {
                    format!(
                        "the server's certificate is not valid for \"{host}\"; it has no \
                         subjectAltName (the Common Name is not used)"
                    )
                } else {
                    format!(
                        "the server's certificate is not valid for \"{host}\"; it names {}",
                        names.join(", ")
                    )
                }
            }
            CertificateError::NotValidForName => {
                format!("the server's certificate is not valid for \"{host}\"")
            }
            CertificateError::ExpiredContext { not_after, .. } => format!(
                "the server's certificate expired on {}",
                date(not_after.as_secs())
            ),
            CertificateError::Expired => "the server's certificate has expired".into(),
            CertificateError::NotValidYetContext { not_before, .. } => format!(
                "the server's certificate is not valid before {}",
                date(not_before.as_secs())
            ),
            CertificateError::NotValidYet => "the server's certificate is not valid yet".into(),
            CertificateError::Revoked => {
                format!("the server's certificate has been revoked ({crl_settings})")
            }
            CertificateError::UnknownRevocationStatus => format!(
                "the revocation status of the server's certificate is unknown: no CRL of its \
                 issuer in {crl_settings}"
            ),
            CertificateError::ExpiredRevocationList
            | CertificateError::ExpiredRevocationListContext { .. } => {
                format!("a CRL in {crl_settings} has expired")
            }
            CertificateError::BadSignature => "the server's certificate has a bad signature".into(),
            CertificateError::BadEncoding => "the server's certificate is not valid DER".into(),
            other => format!("the server's certificate was refused: {other:?}"),
        },
        rustls::Error::InvalidCertRevocationList(e) => {
            format!("a CRL in {crl_settings} cannot be used: {e:?}")
        }
        rustls::Error::AlertReceived(alert) => match alert {
            AlertDescription::ProtocolVersion => version_mismatch(ctx),
            AlertDescription::NoApplicationProtocol => {
                "the server refused the ALPN protocol \"postgresql\"".into()
            }
            AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::AccessDenied => format!(
                "the server refused the client certificate (sslcert/sslkey; TLS alert {alert:?})"
            ),
            other => format!("the server ended the TLS handshake (TLS alert {other:?})"),
        },
        rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::Tls13RequiredForQuic,
        ) => version_mismatch(ctx),
        rustls::Error::PeerIncompatible(other) => {
            format!("the server's TLS is incompatible: {other:?}")
        }
        rustls::Error::PeerMisbehaved(other) => {
            format!("the server broke the TLS protocol: {other:?}")
        }
        _ => format!("TLS handshake with \"{host}\" failed"),
    }
}

/// The message for servers and clients with no protocol version in common.
fn version_mismatch(ctx: &ErrorContext) -> String {
    let (min, max) = ctx.versions;
    let allowed = if min == max {
        format!("only {min}")
    } else {
        format!("{min} to {max}")
    };
    format!(
        "the server does not speak a TLS version tusk allows ({allowed}: \
         ssl_min_protocol_version / ssl_max_protocol_version)"
    )
}

/// A name from webpki's `presented` list (`DnsName("localhost")`, `IpAddress(127.0.0.1)`) as
/// plain text.
fn presented_name(p: &str) -> String {
    if let Some(dns) = p
        .strip_prefix("DnsName(\"")
        .and_then(|s| s.strip_suffix("\")"))
    {
        return dns.to_string();
    }
    if let Some(ip) = p
        .strip_prefix("IpAddress(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return ip.to_string();
    }
    p.to_string()
}

/// A certificate time as `2021-01-01 00:00:00 UTC`.
fn date(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{secs} seconds after 1970"),
            |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}
