//! The TLS settings that are a choice among a few words (`sslnegotiation`, `sslcertmode`,
//! `ssl_min_protocol_version` / `ssl_max_protocol_version`), with libpq's spellings.

use std::fmt;

/// libpq's `sslnegotiation` (version 17): how TLS is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslNegotiation {
    /// Send an SSLRequest first and start TLS only if the server agrees (every server version).
    #[default]
    Postgres,
    /// Start TLS at once, with the ALPN protocol `postgresql` (PostgreSQL 17 and later). Needs
    /// `sslmode=require` or stronger, as in libpq.
    Direct,
}

impl SslNegotiation {
    /// The setting's spelling: `postgres` or `direct`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslNegotiation::Postgres => "postgres",
            SslNegotiation::Direct => "direct",
        }
    }

    pub(crate) fn from_setting(value: &str) -> Option<SslNegotiation> {
        Some(match value {
            "postgres" => SslNegotiation::Postgres,
            "direct" => SslNegotiation::Direct,
            _ => return None,
        })
    }
}

/// libpq's `sslcertmode` (version 16): whether a client certificate is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslCertMode {
    /// Never send a client certificate, even when one is configured.
    Disable,
    /// Send the configured certificate if the server asks for one (the default).
    #[default]
    Allow,
    /// Fail unless the server asked for a certificate and one was sent.
    Require,
}

impl SslCertMode {
    /// The setting's spelling: `disable`, `allow` or `require`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslCertMode::Disable => "disable",
            SslCertMode::Allow => "allow",
            SslCertMode::Require => "require",
        }
    }

    pub(crate) fn from_setting(value: &str) -> Option<SslCertMode> {
        Some(match value {
            "disable" => SslCertMode::Disable,
            "allow" => SslCertMode::Allow,
            "require" => SslCertMode::Require,
            _ => return None,
        })
    }
}

/// A TLS protocol version as `ssl_min_protocol_version` / `ssl_max_protocol_version` spell it.
///
/// libpq accepts all four; rustls speaks only TLS 1.2 and 1.3, so a minimum below 1.2 means
/// 1.2, and a maximum below 1.2 is refused when connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SslProtocolVersion {
    /// `TLSv1` (1.0).
    Tls1_0,
    /// `TLSv1.1`.
    Tls1_1,
    /// `TLSv1.2`: libpq's default minimum.
    Tls1_2,
    /// `TLSv1.3`.
    Tls1_3,
}

impl SslProtocolVersion {
    /// The setting's spelling: `TLSv1`, `TLSv1.1`, `TLSv1.2` or `TLSv1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslProtocolVersion::Tls1_0 => "TLSv1",
            SslProtocolVersion::Tls1_1 => "TLSv1.1",
            SslProtocolVersion::Tls1_2 => "TLSv1.2",
            SslProtocolVersion::Tls1_3 => "TLSv1.3",
        }
    }

    /// Parses libpq's spelling, which is case-insensitive.
    pub(crate) fn from_setting(value: &str) -> Option<SslProtocolVersion> {
        [
            SslProtocolVersion::Tls1_0,
            SslProtocolVersion::Tls1_1,
            SslProtocolVersion::Tls1_2,
            SslProtocolVersion::Tls1_3,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(value))
    }
}

impl fmt::Display for SslProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for v in [SslNegotiation::Postgres, SslNegotiation::Direct] {
            assert_eq!(SslNegotiation::from_setting(v.as_str()), Some(v));
        }
        for v in [
            SslCertMode::Disable,
            SslCertMode::Allow,
            SslCertMode::Require,
        ] {
            assert_eq!(SslCertMode::from_setting(v.as_str()), Some(v));
        }
        for v in [
            SslProtocolVersion::Tls1_0,
            SslProtocolVersion::Tls1_1,
            SslProtocolVersion::Tls1_2,
            SslProtocolVersion::Tls1_3,
        ] {
            assert_eq!(SslProtocolVersion::from_setting(v.as_str()), Some(v));
        }
        assert_eq!(
            SslProtocolVersion::from_setting("tlsv1.3"),
            Some(SslProtocolVersion::Tls1_3)
        );
        assert_eq!(SslProtocolVersion::from_setting("TLSv1.4"), None);
        assert_eq!(SslNegotiation::from_setting("Direct"), None);
        assert!(SslProtocolVersion::Tls1_1 < SslProtocolVersion::Tls1_2);
    }
}
