//! Connection settings: [`Config`], its two string forms (a `postgres://` URL and libpq's
//! `key=value` list), the `PG*` environment variables, the connection service file
//! (`~/.pg_service.conf`) and the password file (`~/.pgpass`), all following libpq's rules so
//! that a string or an environment that works with `psql` works here.
//!
//! This module owns parsing and defaulting only; opening sockets is the connection layer's job.
//! It hands that layer a `Resolved` value (every default applied, one `Target` per host: the
//! host name, the numeric address to dial if `hostaddr` gave one, and the port, plus the TLS,
//! authentication-policy and TCP settings), which answers `Resolved::password_for` per target.
//!
//! Settings are taken, as in libpq, from the connection string (or the builder) first, then
//! from the service file's section named by `service` (or `PGSERVICE`), then from the `PG*`
//! environment variables, then from the built-in defaults.
//!
//! Where tusk differs from libpq, on purpose:
//! - An empty element inside a host list (`host=a,,b`) is an error rather than "the default
//!   socket directory", because which directory that is depends on how libpq was built.
//! - With no host at all, tusk looks for the server's socket file in `/var/run/postgresql`, then
//!   in `/tmp`, and otherwise connects to `localhost` over TCP.
//! - In a URL, the credentials end at the *last* `@` before the host, so a password holding an
//!   unencoded `@` still parses.
//! - Errors never quote text that follows a password in a string, since a mis-quoted password
//!   would otherwise leak into logs through the error message.
//! - `hostaddr` takes IP addresses only (IPv6 zone suffixes such as `%eth0` are refused).
//! - A percent-encoded `,` (`%2C`) in a URL's host is an error; libpq takes it as a host
//!   separator, like a plain `,`.
//! - `client_encoding` must name UTF-8 (or be `auto`): tusk always exchanges text as UTF8.
//! - `PGDATESTYLE` is ignored: tusk's decoders need `DateStyle=ISO`.
//! - Not supported yet, and refused when connecting rather than ignored: `replication` other
//!   than false, `gssencmode=require` (tusk has no GSSAPI), `target_session_attrs` other than
//!   `any`. `krbsrvname`, `gsslib`, `gssdelegation` and `sslcompression` are accepted and have
//!   no effect (libpq 17 ignores `sslcompression` too).
//! - The system service file is `$PGSYSCONFDIR/pg_service.conf`, with `PGSYSCONFDIR`
//!   defaulting to `/etc/postgresql-common` (Debian's libpq build). LDAP lookups in a service
//!   file are not supported.

mod builders;
pub(super) mod env;
mod getters;
mod keyvalue;
pub(super) mod options;
pub(crate) mod pgpass;
pub(super) mod resolve;
pub(crate) mod service;
mod session_modes;
mod tls_modes;
mod tls_settings;
mod url;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::proto::auth::{ChannelBinding, RequireAuth};
use crate::proto::ProtocolVersion;
use crate::{DbError, Error};

#[allow(unused_imports)] // `Keepalives` is for the connection layer's socket options.
pub(crate) use resolve::{random_below, shuffle, Keepalives, Resolved, Target};
pub use session_modes::{GssEncMode, LoadBalanceHosts, Replication, TargetSessionAttrs};
pub use tls_modes::{SslCertMode, SslNegotiation, SslProtocolVersion};
pub(crate) use tls_settings::TlsSettings;
pub use tls_settings::{CustomTlsConfig, RootCert};

/// The statement cache size used unless [`Config::statement_cache_capacity`] says otherwise.
pub const DEFAULT_STATEMENT_CACHE_CAPACITY: usize = 256;

/// How long a timed-out call waits for the server to answer its cancel unless
/// [`Config::cancel_timeout`] says otherwise.
pub(crate) const DEFAULT_CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// The port PostgreSQL listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 5432;

/// Where a server is reached: a TCP host, or the directory holding a Unix-domain socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or an IP address (IPv6 without brackets).
    Tcp(String),
    /// The directory that holds the server's socket file `.s.PGSQL.<port>`, not the socket
    /// file itself.
    Unix(PathBuf),
}

impl Host {
    /// Classifies a host the way libpq does: a value starting with `/` is a socket directory.
    fn from_setting(host: &str) -> Host {
        if host.starts_with('/') {
            Host::Unix(PathBuf::from(host))
        } else {
            Host::Tcp(host.to_owned())
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Tcp(name) => f.write_str(name),
            Host::Unix(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// Whether and how TLS is used, with libpq's `sslmode` meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Try without TLS first; use TLS if the server insists.
    Allow,
    /// Try TLS first; go on without it if the server does not offer it (libpq's default).
    Prefer,
    /// Use TLS; do not verify the server's certificate.
    Require,
    /// Use TLS and verify that the server's certificate is signed by a trusted authority.
    VerifyCa,
    /// Like [`SslMode::VerifyCa`], and check that the certificate names the host.
    VerifyFull,
}

impl SslMode {
    /// The `sslmode` spelling: `disable`, `allow`, `prefer`, `require`, `verify-ca`,
    /// `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn from_setting(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// Connection settings, with libpq's semantics.
///
/// Build one from a URL or a `key=value` string (`str::parse`, which never reads the
/// environment), from the `PG*` environment variables ([`Config::from_env`]), or with the
/// by-value builder methods. [`Config::with_env_fallbacks`] fills whatever is still unset from
/// the environment, as libpq does for every connection string.
///
/// A setting given as an empty string (`host=''`, `user=`) counts as unset for the getters and
/// gets the built-in default, but it still blocks the environment fallback, as in libpq.
///
/// Recognized keys (in both string forms), libpq 17's: `host`, `hostaddr`, `port`, `dbname`,
/// `user`, `password`, `passfile`, `require_auth`, `channel_binding`, `connect_timeout`,
/// `client_encoding`, `options`, `application_name`, `fallback_application_name`,
/// `keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_count`,
/// `tcp_user_timeout`, `replication`, `gssencmode`, `sslmode`, `sslnegotiation`,
/// `sslcompression`, `sslcert`, `sslkey`, `sslpassword`, `sslcertmode`, `sslrootcert`, `sslcrl`,
/// `sslcrldir`, `sslsni`, `requirepeer`, `ssl_min_protocol_version`,
/// `ssl_max_protocol_version`, `krbsrvname`, `gsslib`, `gssdelegation`, `service`,
/// `target_session_attrs`, `load_balance_hosts`; libpq 18's `min_protocol_version` and
/// `max_protocol_version` (see [`Config::max_protocol_version`]); and tusk's own `statement_cache_capacity` and
/// `statement_timeout` and `cancel_timeout` (milliseconds; see [`Config::statement_timeout`] and
/// [`Config::cancel_timeout`]). A URL also accepts
/// libpq's `ssl=true` (meaning `sslmode=require`). Any other key is an error naming it. The
/// [module documentation](self) lists where tusk's handling differs from libpq's.
///
/// `Debug` shows the password and `sslpassword` as `***`; no error message ever contains them.
///
/// ```
/// use tusk::config::{Config, Host};
///
/// // A URL: percent-encoding in every part, several hosts, settings in the query.
/// let url: Config = "postgres://alice:s%40cret@db1:5433,db2:5434/shop?application_name=web"
///     .parse()?;
/// assert_eq!(url.get_hosts(), [Host::Tcp("db1".into()), Host::Tcp("db2".into())]);
/// assert_eq!(url.get_ports(), [5433, 5434]);
/// assert_eq!(url.get_password(), Some(&b"s@cret"[..]));
///
/// // libpq's key=value form: a host starting with '/' is a socket directory.
/// let kv: Config = "host=/run/postgresql user=alice dbname='my shop'".parse()?;
/// assert_eq!(kv.get_hosts(), [Host::Unix("/run/postgresql".into())]);
/// assert_eq!(kv.get_dbname(), Some("my shop"));
///
/// // The builder.
/// let built = Config::new()
///     .host("db1")
///     .port(5433)
///     .user("alice")
///     .password("s@cret")
///     .dbname("shop");
/// assert_eq!(built.get_user(), Some("alice"));
/// assert!(!format!("{built:?}").contains("s@cret"));
/// # Ok::<(), tusk::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    // `None` = not given (the service file or the environment may fill it); `Some(empty)` =
    // given as empty, which means "the default" and keeps the service file and the environment
    // out.
    hosts: Option<Vec<Host>>,
    // One element per host; `None` = no address for that host.
    hostaddrs: Option<Vec<Option<IpAddr>>>,
    ports: Option<Vec<u16>>,
    user: Option<String>,
    password: Option<Vec<u8>>,
    dbname: Option<String>,
    application_name: Option<String>,
    fallback_application_name: Option<String>,
    options: Option<String>,
    // `Some(Duration::ZERO)` = explicitly "wait indefinitely".
    connect_timeout: Option<Duration>,
    ssl_mode: Option<SslMode>,
    passfile: Option<PathBuf>,
    require_auth: Option<RequireAuth>,
    channel_binding: Option<ChannelBinding>,
    client_encoding: Option<String>,
    keepalives: Option<bool>,
    // For the three keepalive settings and `tcp_user_timeout`, zero = the system default.
    keepalives_idle: Option<Duration>,
    keepalives_interval: Option<Duration>,
    keepalives_count: Option<u32>,
    tcp_user_timeout: Option<Duration>,
    replication: Option<Replication>,
    gss_enc_mode: Option<GssEncMode>,
    ssl_negotiation: Option<SslNegotiation>,
    ssl_compression: Option<bool>,
    ssl_cert: Option<PathBuf>,
    ssl_key: Option<PathBuf>,
    ssl_password: Option<Vec<u8>>,
    ssl_cert_mode: Option<SslCertMode>,
    // The text as given: the word `system` or a path.
    ssl_root_cert: Option<PathBuf>,
    ssl_crl: Option<PathBuf>,
    ssl_crl_dir: Option<PathBuf>,
    ssl_sni: Option<bool>,
    require_peer: Option<String>,
    // `Some(None)` = given as empty: the default.
    ssl_min_protocol_version: Option<Option<SslProtocolVersion>>,
    ssl_max_protocol_version: Option<Option<SslProtocolVersion>>,
    // `Some(None)` = given as empty: the default.
    min_protocol_version: Option<Option<ProtocolVersion>>,
    max_protocol_version: Option<Option<ProtocolVersion>>,
    krb_srv_name: Option<String>,
    gss_lib: Option<String>,
    gss_delegation: Option<bool>,
    service: Option<String>,
    // Whether the `service` section has been applied already (expansion is idempotent).
    service_expanded: bool,
    target_session_attrs: Option<TargetSessionAttrs>,
    load_balance_hosts: Option<LoadBalanceHosts>,
    tls_config: Option<CustomTlsConfig>,
    statement_cache_capacity: usize,
    // `Some(Duration::ZERO)` = explicitly "no limit".
    statement_timeout: Option<Duration>,
    cancel_timeout: Option<Duration>,
    trace_query_text: bool,
    params: Vec<(String, String)>,
    max_message_len: usize,
    notice_handler: Option<NoticeHandler>,
}

/// A callback for server notices (NoticeResponse: `RAISE NOTICE`, warnings), set with
/// [`Config::notice_handler`]. Two handlers compare equal only if they are the same callback.
#[derive(Clone)]
pub struct NoticeHandler(Arc<dyn Fn(&DbError) + Send + Sync>);

impl NoticeHandler {
    /// Passes a notice to the callback.
    pub fn call(&self, notice: &DbError) {
        (self.0)(notice)
    }
}

impl PartialEq for NoticeHandler {
    fn eq(&self, other: &NoticeHandler) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for NoticeHandler {}

impl fmt::Debug for NoticeHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoticeHandler(..)")
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hosts: None,
            hostaddrs: None,
            ports: None,
            user: None,
            password: None,
            dbname: None,
            application_name: None,
            fallback_application_name: None,
            options: None,
            connect_timeout: None,
            ssl_mode: None,
            passfile: None,
            require_auth: None,
            channel_binding: None,
            client_encoding: None,
            keepalives: None,
            keepalives_idle: None,
            keepalives_interval: None,
            keepalives_count: None,
            tcp_user_timeout: None,
            replication: None,
            gss_enc_mode: None,
            ssl_negotiation: None,
            ssl_compression: None,
            ssl_cert: None,
            ssl_key: None,
            ssl_password: None,
            ssl_cert_mode: None,
            ssl_root_cert: None,
            ssl_crl: None,
            ssl_crl_dir: None,
            ssl_sni: None,
            require_peer: None,
            ssl_min_protocol_version: None,
            ssl_max_protocol_version: None,
            min_protocol_version: None,
            max_protocol_version: None,
            krb_srv_name: None,
            gss_lib: None,
            gss_delegation: None,
            service: None,
            service_expanded: false,
            target_session_attrs: None,
            load_balance_hosts: None,
            tls_config: None,
            statement_cache_capacity: DEFAULT_STATEMENT_CACHE_CAPACITY,
            statement_timeout: None,
            cancel_timeout: None,
            trace_query_text: false,
            params: Vec::new(),
            max_message_len: crate::proto::DEFAULT_MAX_MESSAGE_LEN,
            notice_handler: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written by hand so neither password can ever be printed.
        f.debug_struct("Config")
            .field("hosts", &self.get_hosts())
            .field("hostaddrs", &self.get_hostaddrs())
            .field("ports", &self.get_ports())
            .field("user", &self.get_user())
            .field("password", &self.get_password().map(|_| "***"))
            .field("dbname", &self.get_dbname())
            .field("application_name", &self.get_application_name())
            .field("options", &self.get_options())
            .field("connect_timeout", &self.get_connect_timeout())
            .field("ssl_mode", &self.get_ssl_mode())
            .field("passfile", &self.get_passfile())
            .field("require_auth", &self.get_require_auth())
            .field("channel_binding", &self.get_channel_binding())
            .field("client_encoding", &self.get_client_encoding())
            .field("keepalives", &self.get_keepalives())
            .field("keepalives_idle", &self.get_keepalives_idle())
            .field("keepalives_interval", &self.get_keepalives_interval())
            .field("keepalives_count", &self.get_keepalives_count())
            .field("tcp_user_timeout", &self.get_tcp_user_timeout())
            .field("replication", &self.get_replication())
            .field("gss_enc_mode", &self.get_gss_enc_mode())
            .field("ssl_negotiation", &self.get_ssl_negotiation())
            .field("ssl_compression", &self.get_ssl_compression())
            .field("ssl_cert", &self.get_ssl_cert())
            .field("ssl_key", &self.get_ssl_key())
            .field("ssl_password", &self.get_ssl_password().map(|_| "***"))
            .field("ssl_cert_mode", &self.get_ssl_cert_mode())
            .field("ssl_root_cert", &self.get_ssl_root_cert())
            .field("ssl_crl", &self.get_ssl_crl())
            .field("ssl_crl_dir", &self.get_ssl_crl_dir())
            .field("ssl_sni", &self.get_ssl_sni())
            .field("require_peer", &self.get_require_peer())
            .field(
                "ssl_min_protocol_version",
                &self.get_ssl_min_protocol_version(),
            )
            .field(
                "ssl_max_protocol_version",
                &self.get_ssl_max_protocol_version(),
            )
            .field(
                "min_protocol_version",
                &self.get_min_protocol_version().to_string(),
            )
            .field(
                "max_protocol_version",
                &self.get_max_protocol_version().to_string(),
            )
            .field("krb_srv_name", &self.get_krb_srv_name())
            .field("gss_lib", &self.get_gss_lib())
            .field("gss_delegation", &self.get_gss_delegation())
            .field("service", &self.get_service())
            .field("target_session_attrs", &self.get_target_session_attrs())
            .field("load_balance_hosts", &self.get_load_balance_hosts())
            .field("tls_config", &self.tls_config)
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("statement_timeout", &self.get_statement_timeout())
            .field("cancel_timeout", &self.get_cancel_timeout())
            .field("trace_query_text", &self.trace_query_text)
            .field("params", &self.params)
            .field("max_message_len", &self.max_message_len)
            .finish()
    }
}

/// `Some(s)` unless `s` is empty: an empty setting means "the default".
fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl FromStr for Config {
    type Err = Error;

    /// Parses a `postgres://` / `postgresql://` URL or a libpq `key=value` string. The
    /// environment is not read; see [`Config::with_env_fallbacks`].
    fn from_str(s: &str) -> Result<Config, Error> {
        if url::is_url(s) {
            url::parse(s)
        } else {
            keyvalue::parse(s)
        }
    }
}
