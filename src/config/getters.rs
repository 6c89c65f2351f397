//! The getters of [`Config`], one per setting. A setting given as an empty string reads as
//! unset (its default).

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::{
    non_empty, Config, CustomTlsConfig, GssEncMode, Host, LoadBalanceHosts, NoticeHandler,
    Replication, RootCert, SslCertMode, SslMode, SslNegotiation, SslProtocolVersion,
    TargetSessionAttrs,
};
use crate::proto::auth::{ChannelBinding, RequireAuth};
use crate::proto::ProtocolVersion;

/// `Some(path)` unless it is empty (given as empty: the default).
fn non_empty_path(path: &Option<std::path::PathBuf>) -> Option<&Path> {
    path.as_deref().filter(|p| !p.as_os_str().is_empty())
}

/// `Some(d)` unless it is zero (the system default).
fn non_zero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

impl Config {
    /// The notice handler, if one was set.
    pub fn get_notice_handler(&self) -> Option<&NoticeHandler> {
        self.notice_handler.as_ref()
    }

    /// The hosts, in the order they are tried; empty when none was given.
    pub fn get_hosts(&self) -> &[Host] {
        self.hosts.as_deref().unwrap_or(&[])
    }

    /// The ports; empty when none was given.
    pub fn get_ports(&self) -> &[u16] {
        self.ports.as_deref().unwrap_or(&[])
    }

    /// The user name, if set.
    pub fn get_user(&self) -> Option<&str> {
        non_empty(&self.user)
    }

    /// The password, if set.
    pub fn get_password(&self) -> Option<&[u8]> {
        self.password.as_deref().filter(|p| !p.is_empty())
    }

    /// The database name, if set.
    pub fn get_dbname(&self) -> Option<&str> {
        non_empty(&self.dbname)
    }

    /// The application name, if set (`fallback_application_name` when only that was given).
    pub fn get_application_name(&self) -> Option<&str> {
        non_empty(&self.application_name).or(non_empty(&self.fallback_application_name))
    }

    /// The server command-line options, if set.
    pub fn get_options(&self) -> Option<&str> {
        non_empty(&self.options)
    }

    /// The connect timeout per host; `None` means wait indefinitely.
    pub fn get_connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout.filter(|t| !t.is_zero())
    }

    /// The TLS mode as given, else libpq's default: [`SslMode::VerifyFull`] with
    /// `sslrootcert=system`, otherwise [`SslMode::Prefer`]. (When connecting, `require` is
    /// further raised to `verify-ca` if a root certificate file is present, as in libpq.)
    pub fn get_ssl_mode(&self) -> SslMode {
        match (self.ssl_mode, self.get_ssl_root_cert()) {
            (Some(mode), _) => mode,
            (None, Some(RootCert::System)) => SslMode::VerifyFull,
            (None, _) => SslMode::Prefer,
        }
    }

    /// How many prepared statements a connection caches.
    pub fn get_statement_cache_capacity(&self) -> usize {
        self.statement_cache_capacity
    }

    /// The client-side time limit per statement; `None` means no limit.
    pub fn get_statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout.filter(|t| !t.is_zero())
    }

    /// How long a call whose statement timeout passed waits for the server to answer its
    /// cancel before the connection is closed (see [`Config::cancel_timeout`]): 5 seconds
    /// unless set.
    pub fn get_cancel_timeout(&self) -> Duration {
        self.cancel_timeout.unwrap_or(super::DEFAULT_CANCEL_TIMEOUT)
    }

    /// Whether statement spans carry the SQL text (see [`Config::trace_query_text`]).
    pub fn get_trace_query_text(&self) -> bool {
        self.trace_query_text
    }

    /// The extra server settings added with [`Config::param`].
    pub fn get_params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The largest backend message accepted, in bytes.
    pub fn get_max_message_len(&self) -> usize {
        self.max_message_len
    }

    /// The password file, if one was set (otherwise `~/.pgpass` is used).
    pub fn get_passfile(&self) -> Option<&Path> {
        self.passfile
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The `hostaddr` list: one element per host, `None` where that host has no address.
    /// Empty when none was given.
    pub fn get_hostaddrs(&self) -> &[Option<IpAddr>] {
        self.hostaddrs.as_deref().unwrap_or(&[])
    }

    /// The fallback application name, if set.
    pub fn get_fallback_application_name(&self) -> Option<&str> {
        non_empty(&self.fallback_application_name)
    }

    /// The `require_auth` policy; everything allowed unless set.
    pub fn get_require_auth(&self) -> RequireAuth {
        self.require_auth.unwrap_or_default()
    }

    /// The `channel_binding` mode; [`ChannelBinding::Prefer`] unless set.
    pub fn get_channel_binding(&self) -> ChannelBinding {
        self.channel_binding.unwrap_or_default()
    }

    /// The `client_encoding` as given, if set (it always means UTF8).
    pub fn get_client_encoding(&self) -> Option<&str> {
        non_empty(&self.client_encoding)
    }

    /// Whether TCP keepalives are used (default true).
    pub fn get_keepalives(&self) -> bool {
        self.keepalives.unwrap_or(true)
    }

    /// The keepalive idle time; `None` means the system default.
    pub fn get_keepalives_idle(&self) -> Option<Duration> {
        non_zero(self.keepalives_idle)
    }

    /// The time between keepalive probes; `None` means the system default.
    pub fn get_keepalives_interval(&self) -> Option<Duration> {
        non_zero(self.keepalives_interval)
    }

    /// How many unanswered keepalive probes end the connection; `None` means the system
    /// default.
    pub fn get_keepalives_count(&self) -> Option<u32> {
        self.keepalives_count.filter(|&n| n != 0)
    }

    /// The `TCP_USER_TIMEOUT`; `None` means the system default.
    pub fn get_tcp_user_timeout(&self) -> Option<Duration> {
        non_zero(self.tcp_user_timeout)
    }

    /// The `replication` setting; [`Replication::Off`] unless set.
    pub fn get_replication(&self) -> Replication {
        self.replication.unwrap_or_default()
    }

    /// The `gssencmode`; [`GssEncMode::Prefer`] unless set (tusk never uses GSSAPI).
    pub fn get_gss_enc_mode(&self) -> GssEncMode {
        self.gss_enc_mode.unwrap_or_default()
    }

    /// The `sslnegotiation`; [`SslNegotiation::Postgres`] unless set.
    pub fn get_ssl_negotiation(&self) -> SslNegotiation {
        self.ssl_negotiation.unwrap_or_default()
    }

    /// The `sslcompression` setting as given (default false). It has no effect.
    pub fn get_ssl_compression(&self) -> bool {
        self.ssl_compression.unwrap_or(false)
    }

    /// The client certificate file, if given (the default file is looked for when
    /// connecting).
    pub fn get_ssl_cert(&self) -> Option<&Path> {
        non_empty_path(&self.ssl_cert)
    }

    /// The private key file, if given (the default file is looked for when connecting).
    pub fn get_ssl_key(&self) -> Option<&Path> {
        non_empty_path(&self.ssl_key)
    }

    /// The `sslpassword`, if set.
    pub fn get_ssl_password(&self) -> Option<&[u8]> {
        self.ssl_password.as_deref().filter(|p| !p.is_empty())
    }

    /// The `sslcertmode`; [`SslCertMode::Allow`] unless set.
    pub fn get_ssl_cert_mode(&self) -> SslCertMode {
        self.ssl_cert_mode.unwrap_or_default()
    }

    /// The `sslrootcert`, if given (the default file is looked for when connecting).
    pub fn get_ssl_root_cert(&self) -> Option<RootCert> {
        let path = non_empty_path(&self.ssl_root_cert)?;
        Some(if path == Path::new("system") {
            RootCert::System
        } else {
            RootCert::File(path.to_path_buf())
        })
    }

    /// The certificate revocation list file, if given.
    pub fn get_ssl_crl(&self) -> Option<&Path> {
        non_empty_path(&self.ssl_crl)
    }

    /// The certificate revocation list directory, if given.
    pub fn get_ssl_crl_dir(&self) -> Option<&Path> {
        non_empty_path(&self.ssl_crl_dir)
    }

    /// Whether SNI is sent (default true).
    pub fn get_ssl_sni(&self) -> bool {
        self.ssl_sni.unwrap_or(true)
    }

    /// The `requirepeer` user name, if set.
    pub fn get_require_peer(&self) -> Option<&str> {
        non_empty(&self.require_peer)
    }

    /// The lowest TLS version accepted (default TLSv1.2).
    pub fn get_ssl_min_protocol_version(&self) -> SslProtocolVersion {
        self.ssl_min_protocol_version
            .flatten()
            .unwrap_or(SslProtocolVersion::Tls1_2)
    }

    /// The highest TLS version accepted; `None` means no limit.
    pub fn get_ssl_max_protocol_version(&self) -> Option<SslProtocolVersion> {
        self.ssl_max_protocol_version.flatten()
    }

    /// The oldest protocol version accepted (`min_protocol_version`; default 3.0, as libpq
    /// 18).
    pub fn get_min_protocol_version(&self) -> ProtocolVersion {
        self.min_protocol_version
            .flatten()
            .unwrap_or(ProtocolVersion::EARLIEST)
    }

    /// The protocol version asked for (`max_protocol_version`). libpq 18's default: 3.0, so
    /// that servers and proxies that do not answer a newer version with
    /// NegotiateProtocolVersion still work, except that with `min_protocol_version` above 3.0
    /// it is `latest` (3.2).
    pub fn get_max_protocol_version(&self) -> ProtocolVersion {
        match self.max_protocol_version.flatten() {
            Some(version) => version,
            None if self.get_min_protocol_version() > ProtocolVersion::V3_0 => {
                ProtocolVersion::LATEST
            }
            None => ProtocolVersion::V3_0,
        }
    }

    /// The `krbsrvname`, if set (no effect).
    pub fn get_krb_srv_name(&self) -> Option<&str> {
        non_empty(&self.krb_srv_name)
    }

    /// The `gsslib`, if set (no effect).
    pub fn get_gss_lib(&self) -> Option<&str> {
        non_empty(&self.gss_lib)
    }

    /// The `gssdelegation` setting (default false; no effect).
    pub fn get_gss_delegation(&self) -> bool {
        self.gss_delegation.unwrap_or(false)
    }

    /// The service name, if set.
    pub fn get_service(&self) -> Option<&str> {
        non_empty(&self.service)
    }

    /// The `target_session_attrs`; [`TargetSessionAttrs::Any`] unless set.
    pub fn get_target_session_attrs(&self) -> TargetSessionAttrs {
        self.target_session_attrs.unwrap_or_default()
    }

    /// The `load_balance_hosts` mode; [`LoadBalanceHosts::Disable`] unless set.
    pub fn get_load_balance_hosts(&self) -> LoadBalanceHosts {
        self.load_balance_hosts.unwrap_or_default()
    }

    /// The caller's own rustls configuration, if one was given with [`Config::tls_config`].
    pub fn get_tls_config(&self) -> Option<&CustomTlsConfig> {
        self.tls_config.as_ref()
    }
}
