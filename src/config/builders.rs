//! The by-value builder methods of [`Config`], one per setting.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{
    Config, CustomTlsConfig, GssEncMode, Host, LoadBalanceHosts, NoticeHandler, Replication,
    RootCert, SslCertMode, SslMode, SslNegotiation, SslProtocolVersion, TargetSessionAttrs,
};
use crate::proto::auth::{ChannelBinding, RequireAuth};
use crate::proto::ProtocolVersion;
use crate::DbError;

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

    /// Adds a numeric address to the `hostaddr` list (libpq's `hostaddr`): the address the
    /// socket connects to, with no name lookup, while the host at the same position stays the
    /// name used for TLS verification, SNI and the password file. With hosts given, give as
    /// many addresses as hosts; with no host, each address is also the host.
    pub fn hostaddr(mut self, addr: IpAddr) -> Config {
        self.hostaddrs.get_or_insert_with(Vec::new).push(Some(addr));
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

    /// Sets `fallback_application_name`: the application name used when `application_name`
    /// (or `PGAPPNAME`) is not set.
    pub fn fallback_application_name(mut self, name: &str) -> Config {
        self.fallback_application_name = Some(name.to_owned());
        self
    }

    /// Sets the command-line options sent to the server, e.g. `-c search_path=app`.
    pub fn options(mut self, options: &str) -> Config {
        self.options = Some(options.to_owned());
        self
    }

    /// Sets how long to wait for each address to connect (the socket, TLS, authentication and
    /// the `target_session_attrs` check), and for each host name to resolve: as in libpq, the
    /// limit applies to every host name and IP address separately. `Duration::ZERO` means
    /// wait indefinitely.
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets the TLS mode (default [`SslMode::Prefer`], or [`SslMode::VerifyFull`] with
    /// `sslrootcert=system`, as in libpq).
    pub fn ssl_mode(mut self, mode: SslMode) -> Config {
        self.ssl_mode = Some(mode);
        self
    }

    /// Sets the password file, used instead of `~/.pgpass`.
    pub fn passfile(mut self, path: impl AsRef<Path>) -> Config {
        self.passfile = Some(path.as_ref().to_path_buf());
        self
    }

    /// Sets `require_auth`: which authentication methods the server may ask for (default:
    /// any).
    pub fn require_auth(mut self, policy: RequireAuth) -> Config {
        self.require_auth = Some(policy);
        self
    }

    /// Sets `channel_binding` (default [`ChannelBinding::Prefer`]).
    pub fn channel_binding(mut self, mode: ChannelBinding) -> Config {
        self.channel_binding = Some(mode);
        self
    }

    /// Sets `client_encoding`. tusk always exchanges text as UTF8, so only `UTF8`, `UTF-8`,
    /// `UNICODE` (in any case) and `auto` are accepted; anything else makes connecting fail
    /// with a configuration error.
    pub fn client_encoding(mut self, encoding: &str) -> Config {
        self.client_encoding = Some(encoding.to_owned());
        self
    }

    /// Sets whether TCP keepalives are used (default on).
    pub fn keepalives(mut self, enabled: bool) -> Config {
        self.keepalives = Some(enabled);
        self
    }

    /// Sets how long a connection may be idle before the first keepalive probe (whole
    /// seconds; `Duration::ZERO` means the system default).
    pub fn keepalives_idle(mut self, idle: Duration) -> Config {
        self.keepalives_idle = Some(idle);
        self
    }

    /// Sets the time between unanswered keepalive probes (whole seconds; `Duration::ZERO`
    /// means the system default).
    pub fn keepalives_interval(mut self, interval: Duration) -> Config {
        self.keepalives_interval = Some(interval);
        self
    }

    /// Sets how many unanswered keepalive probes end the connection (0 means the system
    /// default).
    pub fn keepalives_count(mut self, count: u32) -> Config {
        self.keepalives_count = Some(count);
        self
    }

    /// Sets `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged before the
    /// connection is closed (`Duration::ZERO` means the system default; Linux only).
    pub fn tcp_user_timeout(mut self, timeout: Duration) -> Config {
        self.tcp_user_timeout = Some(timeout);
        self
    }

    /// Sets `replication`: anything but [`Replication::Off`] opens a replication connection
    /// (the `replication` startup parameter), which
    /// [`ReplicationClient`](crate::replication::ReplicationClient) drives.
    pub fn replication(mut self, mode: Replication) -> Config {
        self.replication = Some(mode);
        self
    }

    /// Sets `gssencmode`. tusk has no GSSAPI support: [`GssEncMode::Require`] makes connecting
    /// fail with a configuration error; the other two connect without GSSAPI encryption.
    pub fn gss_enc_mode(mut self, mode: GssEncMode) -> Config {
        self.gss_enc_mode = Some(mode);
        self
    }

    /// Sets `sslnegotiation` (default [`SslNegotiation::Postgres`]).
    pub fn ssl_negotiation(mut self, negotiation: SslNegotiation) -> Config {
        self.ssl_negotiation = Some(negotiation);
        self
    }

    /// Sets `sslcompression`. Accepted and ignored, as libpq 17 does: TLS compression is
    /// never used.
    pub fn ssl_compression(mut self, enabled: bool) -> Config {
        self.ssl_compression = Some(enabled);
        self
    }

    /// Sets the client certificate file (`sslcert`; default `~/.postgresql/postgresql.crt`
    /// when that file exists).
    pub fn ssl_cert(mut self, path: impl AsRef<Path>) -> Config {
        self.ssl_cert = Some(path.as_ref().to_path_buf());
        self
    }

    /// Sets the client certificate's private key file (`sslkey`; default
    /// `~/.postgresql/postgresql.key` when that file exists).
    pub fn ssl_key(mut self, path: impl AsRef<Path>) -> Config {
        self.ssl_key = Some(path.as_ref().to_path_buf());
        self
    }

    /// Sets `sslpassword`, the passphrase of an encrypted private key. Like the password, it
    /// is never shown by `Debug` or in errors.
    pub fn ssl_password(mut self, password: impl AsRef<[u8]>) -> Config {
        self.ssl_password = Some(password.as_ref().to_vec());
        self
    }

    /// Sets `sslcertmode` (default [`SslCertMode::Allow`]).
    pub fn ssl_cert_mode(mut self, mode: SslCertMode) -> Config {
        self.ssl_cert_mode = Some(mode);
        self
    }

    /// Sets `sslrootcert`: a file of trusted CA certificates, or the platform's trust store
    /// ([`RootCert::System`], which makes `verify-full` the default sslmode).
    pub fn ssl_root_cert(mut self, root: RootCert) -> Config {
        self.ssl_root_cert = Some(match root {
            RootCert::File(path) => path,
            RootCert::System => "system".into(),
        });
        self
    }

    /// Sets `sslcrl`, a file of certificate revocation lists.
    pub fn ssl_crl(mut self, path: impl AsRef<Path>) -> Config {
        self.ssl_crl = Some(path.as_ref().to_path_buf());
        self
    }

    /// Sets `sslcrldir`, a directory of certificate revocation list files.
    pub fn ssl_crl_dir(mut self, path: impl AsRef<Path>) -> Config {
        self.ssl_crl_dir = Some(path.as_ref().to_path_buf());
        self
    }

    /// Sets `sslsni`: whether the host name is sent in the TLS handshake (default on; never
    /// sent for an IP address).
    pub fn ssl_sni(mut self, enabled: bool) -> Config {
        self.ssl_sni = Some(enabled);
        self
    }

    /// Sets `requirepeer`: the operating-system user the server process must run as, checked
    /// on Unix-domain socket connections.
    pub fn require_peer(mut self, user: &str) -> Config {
        self.require_peer = Some(user.to_owned());
        self
    }

    /// Sets the lowest TLS version accepted (default TLSv1.2).
    pub fn ssl_min_protocol_version(mut self, version: SslProtocolVersion) -> Config {
        self.ssl_min_protocol_version = Some(Some(version));
        self
    }

    /// Sets the highest TLS version accepted (default: no limit).
    pub fn ssl_max_protocol_version(mut self, version: SslProtocolVersion) -> Config {
        self.ssl_max_protocol_version = Some(Some(version));
        self
    }

    /// Sets the oldest protocol version accepted (libpq 18's `min_protocol_version`; default
    /// 3.0): a server that can only offer an older one fails the connection with "server only
    /// supports protocol version 3.0, but "min_protocol_version" was set to 3.2". Setting it
    /// above 3.0 makes `max_protocol_version` default to the newest.
    pub fn min_protocol_version(mut self, version: ProtocolVersion) -> Config {
        self.min_protocol_version = Some(Some(version));
        self
    }

    /// Sets the protocol version asked for in the StartupMessage (libpq 18's
    /// `max_protocol_version`; default 3.0). [`ProtocolVersion::LATEST`] (the string form
    /// `latest`) is 3.2, PostgreSQL 18's protocol, whose cancel keys are 32 bytes instead of
    /// 4; an older server answers with NegotiateProtocolVersion and the session runs at 3.0
    /// ([`Connection::protocol_version`](crate::Connection::protocol_version) tells which).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("TUSK_PG_URL");
    /// use tusk::ProtocolVersion;
    /// let config: tusk::Config = url.parse()?;
    /// let conn = config.max_protocol_version(ProtocolVersion::LATEST).connect().await?;
    /// // 3.2 on PostgreSQL 18, 3.0 on older servers.
    /// assert!(conn.protocol_version() <= ProtocolVersion::V3_2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_protocol_version(mut self, version: ProtocolVersion) -> Config {
        self.max_protocol_version = Some(Some(version));
        self
    }

    /// Sets `krbsrvname`. Stored only: tusk has no GSSAPI/Kerberos support.
    pub fn krb_srv_name(mut self, name: &str) -> Config {
        self.krb_srv_name = Some(name.to_owned());
        self
    }

    /// Sets `gsslib`. Stored only: tusk has no GSSAPI support.
    pub fn gss_lib(mut self, lib: &str) -> Config {
        self.gss_lib = Some(lib.to_owned());
        self
    }

    /// Sets `gssdelegation`. Stored only: tusk has no GSSAPI support.
    pub fn gss_delegation(mut self, enabled: bool) -> Config {
        self.gss_delegation = Some(enabled);
        self
    }

    /// Sets `service`: the section of the connection service file whose settings fill
    /// whatever this configuration does not set (see [`Config::with_env_fallbacks`]).
    pub fn service(mut self, name: &str) -> Config {
        self.service = Some(name.to_owned());
        self.service_expanded = false;
        self
    }

    /// Sets `target_session_attrs` (default [`TargetSessionAttrs::Any`]): which kind of
    /// server session to accept among the hosts, e.g. the primary of a replicated cluster.
    ///
    /// ```
    /// use tusk::{Config, TargetSessionAttrs};
    /// // Whichever of the two is the primary now, also after a failover.
    /// let config = Config::new()
    ///     .host("db1.internal").host("db2.internal")
    ///     .target_session_attrs(TargetSessionAttrs::ReadWrite);
    /// # let _ = config;
    /// ```
    pub fn target_session_attrs(mut self, attrs: TargetSessionAttrs) -> Config {
        self.target_session_attrs = Some(attrs);
        self
    }

    /// Sets `load_balance_hosts`: with [`LoadBalanceHosts::Random`] the hosts, and the
    /// addresses of each host name, are tried in a random order drawn afresh for each
    /// connection, so many clients spread over the servers.
    pub fn load_balance_hosts(mut self, mode: LoadBalanceHosts) -> Config {
        self.load_balance_hosts = Some(mode);
        self
    }

    /// Uses the caller's own rustls client configuration for TLS instead of one built from the
    /// `ssl*` settings. The sslmode still decides whether TLS is tried and required, and the
    /// checks for a root certificate file are skipped.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Config {
        self.tls_config = Some(CustomTlsConfig(config));
        self
    }

    /// Sets how many prepared statements a connection keeps (default 256). With 0 nothing is
    /// cached and every statement is sent unnamed, which suits pgbouncer in transaction mode.
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Config {
        self.statement_cache_capacity = capacity;
        self
    }

    /// Sets a client-side time limit for every call that waits on the server: statements
    /// (`execute`, `query`, `query_one`, `query_opt`, their `_named` forms, `prepare`,
    /// `simple_query`, `batch_execute`, `Cursor::execute`, server cursors, pipelines, the
    /// pool's shared queries), transactions' `BEGIN` / `COMMIT` / `ROLLBACK`, and the start of
    /// a stream or a COPY. The clock runs on the client from the start of the call and covers
    /// all of it, network included. Once a stream or a COPY has started, each of its waits for
    /// the server (the next rows, room to send more COPY data, the end) gets the same limit,
    /// counted from when that wait began, so a consumer that takes its time is not cut off.
    /// `Duration::ZERO` means no limit, the default.
    ///
    /// When the limit passes, tusk sends the server a CancelRequest and returns an error of
    /// kind [`Kind::Timeout`](crate::Kind) with SQLSTATE `57014`. The answers still owed
    /// for the cancelled statement are read within [`Config::cancel_timeout`] (at once for a
    /// call that returns a result, at the connection's next use after a stream or COPY): if
    /// the server answers, the connection stays usable; if it does not (the network stalled,
    /// the server hangs), the connection is closed, and a pool replaces it. So a stalled
    /// network costs at most `statement_timeout + cancel_timeout` per call. This is not the
    /// server's `statement_timeout` setting (set that with `options=-c statement_timeout=5s`
    /// or `SET`). For one call, see
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

    /// Sets how long a call whose [`statement_timeout`](Config::statement_timeout) passed
    /// waits for the server to answer its CancelRequest (the cancelled statement's error and
    /// ReadyForQuery) before giving the connection up: 5 seconds by default, like Npgsql's
    /// cancellation timeout. Past it, the connection is closed and the call's error says so.
    ///
    /// In a string, the key `cancel_timeout` takes milliseconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = tusk::Config::new().cancel_timeout(Duration::from_secs(2));
    /// assert_eq!(config.get_cancel_timeout(), Duration::from_secs(2));
    /// let parsed: tusk::Config = "host=db statement_timeout=1500 cancel_timeout=500".parse()?;
    /// assert_eq!(parsed.get_cancel_timeout(), Duration::from_millis(500));
    /// assert_eq!(tusk::Config::new().get_cancel_timeout(), Duration::from_secs(5));
    /// # Ok::<(), tusk::Error>(())
    /// ```
    pub fn cancel_timeout(mut self, timeout: Duration) -> Config {
        self.cancel_timeout = Some(timeout);
        self
    }

    /// Whether the spans of statements carry the SQL text as `db.query.text` (default
    /// `false`). Only with the feature `tracing`, which has the spans; without it this setting
    /// has no effect.
    ///
    /// Off by default because the text can hold data: values written into the SQL rather than
    /// passed as parameters (`WHERE email = 'alice@example.com'`) would reach whatever the
    /// spans are exported to. Parameters are never recorded. Set it in code: it has no key in
    /// the connection string, so that whoever controls a URL cannot turn it on.
    ///
    /// ```
    /// let config = tusk::Config::new().trace_query_text(true);
    /// assert!(config.get_trace_query_text());
    /// ```
    pub fn trace_query_text(mut self, enabled: bool) -> Config {
        self.trace_query_text = enabled;
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
}
