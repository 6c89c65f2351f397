//! Connection settings: [`Config`], its two string forms (a `postgres://` URL and libpq's
//! `key=value` list), the `PG*` environment variables and the password file (`~/.pgpass`), all
//! following libpq's rules so that a string or an environment that works with `psql` works here.
//!
//! This module owns parsing and defaulting only; opening sockets is the connection layer's job.
//! It hands that layer a `Resolved` value (every default applied, one `(host, port)` per
//! target) and answers `Config::password_for` per target.
//!
//! Where tusk differs from libpq, on purpose:
//! - `hostaddr` is accepted as another spelling of `host` (the last of the two given wins), so
//!   the password file is matched against the address.
//! - An empty element inside a host list (`host=a,,b`) is an error rather than "the default
//!   socket directory", because which directory that is depends on how libpq was built.
//! - With no host at all, tusk looks for the server's socket file in `/var/run/postgresql`, then
//!   in `/tmp`, and otherwise connects to `localhost` over TCP.
//! - In a URL, the credentials end at the *last* `@` before the host, so a password holding an
//!   unencoded `@` still parses.
//! - Errors never quote text that follows a password in a string, since a mis-quoted password
//!   would otherwise leak into logs through the error message.

mod env;
mod keyvalue;
mod options;
mod pgpass;
mod resolve;
mod tls_modes;
mod tls_settings;
mod url;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use crate::{DbError, Error};

pub(crate) use resolve::Resolved;
pub use tls_modes::{SslCertMode, SslNegotiation, SslProtocolVersion};
pub(crate) use tls_settings::TlsSettings;
pub use tls_settings::{CustomTlsConfig, RootCert};

/// The statement cache size used unless [`Config::statement_cache_capacity`] says otherwise.
pub const DEFAULT_STATEMENT_CACHE_CAPACITY: usize = 256;

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
/// Recognized keys (in both string forms): `host`, `hostaddr`, `port`, `user`, `password`,
/// `dbname`, `application_name`, `fallback_application_name`, `options`, `connect_timeout`,
/// `sslmode`, `passfile`, and tusk's own `statement_cache_capacity` and `statement_timeout`
/// (milliseconds; see [`Config::statement_timeout`]). A URL also accepts libpq's
/// `ssl=true` (meaning `sslmode=require`). Any other key is an error.
///
/// `Debug` shows the password as `***`; no error message ever contains it.
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
    // `None` = not given (the environment may fill it); `Some(empty)` = given as empty, which
    // means "the default" and keeps the environment out.
    hosts: Option<Vec<Host>>,
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
    statement_cache_capacity: usize,
    // `Some(Duration::ZERO)` = explicitly "no limit".
    statement_timeout: Option<Duration>,
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
            statement_cache_capacity: DEFAULT_STATEMENT_CACHE_CAPACITY,
            statement_timeout: None,
            params: Vec::new(),
            max_message_len: crate::proto::DEFAULT_MAX_MESSAGE_LEN,
            notice_handler: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written by hand so the password can never be printed.
        f.debug_struct("Config")
            .field("hosts", &self.get_hosts())
            .field("ports", &self.get_ports())
            .field("user", &self.get_user())
            .field("password", &self.get_password().map(|_| "***"))
            .field("dbname", &self.get_dbname())
            .field("application_name", &self.get_application_name())
            .field("options", &self.get_options())
            .field("connect_timeout", &self.get_connect_timeout())
            .field("ssl_mode", &self.get_ssl_mode())
            .field("passfile", &self.get_passfile())
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("statement_timeout", &self.get_statement_timeout())
            .field("params", &self.params)
            .field("max_message_len", &self.max_message_len)
            .finish()
    }
}

/// `Some(s)` unless `s` is empty: an empty setting means "the default".
fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl Config {
    /// A configuration with nothing set; the same as `Config::default()`.
    pub fn new() -> Config {
        Config::default()
    }

    /// Adds a host to the list tried in order. A value starting with `/` is the directory of a
    /// Unix-domain socket; anything else is a host name or IP address. An empty string adds
    /// nothing but marks the host as given (so `PGHOST` is not consulted).
    pub fn host(mut self, host: &str) -> Config {
        let hosts = self.hosts.get_or_insert_with(Vec::new);
        if !host.is_empty() {
            hosts.push(Host::from_setting(host));
        }
        self
    }

    /// Adds a Unix-domain socket directory to the host list.
    pub fn host_path(mut self, dir: impl AsRef<Path>) -> Config {
        self.hosts
            .get_or_insert_with(Vec::new)
            .push(Host::Unix(dir.as_ref().to_path_buf()));
        self
    }

    /// Adds a port. Give either one port for every host, or exactly one per host, in the same
    /// order (libpq's rule).
    pub fn port(mut self, port: u16) -> Config {
        self.ports.get_or_insert_with(Vec::new).push(port);
        self
    }

    /// Sets the user name to log in as.
    pub fn user(mut self, user: &str) -> Config {
        self.user = Some(user.to_owned());
        self
    }

    /// Sets the password. It need not be UTF-8.
    pub fn password(mut self, password: impl AsRef<[u8]>) -> Config {
        self.password = Some(password.as_ref().to_vec());
        self
    }

    /// Sets the database name.
    pub fn dbname(mut self, dbname: &str) -> Config {
        self.dbname = Some(dbname.to_owned());
        self
    }

    /// Sets `application_name`, which the server shows in `pg_stat_activity` and its logs.
    pub fn application_name(mut self, name: &str) -> Config {
        self.application_name = Some(name.to_owned());
        self
    }

    /// Sets the command-line options sent to the server, e.g. `-c search_path=app`.
    pub fn options(mut self, options: &str) -> Config {
        self.options = Some(options.to_owned());
        self
    }

    /// Sets how long to wait for each host to connect. `Duration::ZERO` means wait
    /// indefinitely.
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets the TLS mode (default [`SslMode::Prefer`], as in libpq).
    pub fn ssl_mode(mut self, mode: SslMode) -> Config {
        self.ssl_mode = Some(mode);
        self
    }

    /// Sets how many prepared statements a connection keeps (default 256). With 0 nothing is
    /// cached and every statement is sent unnamed, which suits pgbouncer in transaction mode.
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Config {
        self.statement_cache_capacity = capacity;
        self
    }

    /// Sets a client-side time limit for each statement run with `execute`, `query`,
    /// `query_one`, `query_opt` (and their `_named` forms and `Cursor::execute`).
    /// `Duration::ZERO` means no limit, the default.
    ///
    /// When the limit passes, tusk sends the server a CancelRequest, waits for the server to
    /// finish the statement, and returns an error of kind [`Kind::Timeout`](crate::Kind)
    /// with SQLSTATE `57014`; the connection stays usable. The clock runs on the client and
    /// covers the whole call, network included. This is not the server's `statement_timeout`
    /// setting (set that with `options=-c statement_timeout=5s` or `SET`). For one call, see
    /// [`Connection::with_statement_timeout`](crate::Connection::with_statement_timeout).
    ///
    /// In a string, the key `statement_timeout` takes milliseconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = tusk::Config::new().statement_timeout(Duration::from_secs(30));
    /// assert_eq!(config.get_statement_timeout(), Some(Duration::from_secs(30)));
    /// let parsed: tusk::Config = "host=db statement_timeout=1500".parse()?;
    /// assert_eq!(parsed.get_statement_timeout(), Some(Duration::from_millis(1500)));
    /// let url: tusk::Config = "postgres://db/app?statement_timeout=0".parse()?;
    /// assert_eq!(url.get_statement_timeout(), None);
    /// # Ok::<(), tusk::Error>(())
    /// ```
    pub fn statement_timeout(mut self, timeout: Duration) -> Config {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Adds a server setting sent in the StartupMessage, e.g. `("TimeZone", "UTC")`. Setting
    /// the same name again (compared case-insensitively, as the server does) replaces it.
    pub fn param(mut self, name: &str, value: &str) -> Config {
        match self
            .params
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(entry) => entry.1 = value.to_owned(),
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Sets the largest backend message accepted, in bytes (default
    /// [`crate::proto::DEFAULT_MAX_MESSAGE_LEN`]). A longer message ends the connection with a
    /// protocol error instead of allocating its length.
    pub fn max_message_len(mut self, len: usize) -> Config {
        self.max_message_len = len;
        self
    }

    /// Sends server notices (`RAISE NOTICE`, warnings) to `handler` instead of the `log`
    /// facade (where they go at `info` level by default). Notices never appear in query
    /// results.
    ///
    /// ```
    /// let config = tusk::Config::new()
    ///     .notice_handler(|notice: &tusk::DbError| eprintln!("server says: {}", notice.message));
    /// ```
    pub fn notice_handler(mut self, handler: impl Fn(&DbError) + Send + Sync + 'static) -> Config {
        self.notice_handler = Some(NoticeHandler(Arc::new(handler)));
        self
    }

    /// The notice handler, if one was set.
    pub fn get_notice_handler(&self) -> Option<&NoticeHandler> {
        self.notice_handler.as_ref()
    }

    /// Sets the password file, used instead of `~/.pgpass`.
    pub fn passfile(mut self, path: impl AsRef<Path>) -> Config {
        self.passfile = Some(path.as_ref().to_path_buf());
        self
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

    /// The TLS mode; [`SslMode::Prefer`] unless set.
    pub fn get_ssl_mode(&self) -> SslMode {
        self.ssl_mode.unwrap_or(SslMode::Prefer)
    }

    /// How many prepared statements a connection caches.
    pub fn get_statement_cache_capacity(&self) -> usize {
        self.statement_cache_capacity
    }

    /// The client-side time limit per statement; `None` means no limit.
    pub fn get_statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout.filter(|t| !t.is_zero())
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
