//! Opening a [`Connection`]: each configured host in turn, under the connect timeout; per host
//! the attempts its sslmode allows (the socket and TLS are [`negotiate`]'s), then the startup
//! and authentication exchange driven by the sans-IO [`Startup`].

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::negotiate::{self, describe_target, Encryption, Secured};
use super::{db_error, deliver_notice, CancelTarget, Connection, TlsSummary, NEXT_CONNECTION_ID};
use crate::client::statement::CloseQueue;
use crate::client::statement_cache::StatementCache;
use crate::client::transport::{Transport, Wire};
use crate::config::{Config, Host, Resolved, Target};
use crate::error::{Error, Kind};
use crate::proto::auth::scram;
use crate::proto::auth::ChannelBinding;
use crate::proto::backend;
use crate::proto::session::AuthOptions;
use crate::proto::session::{Startup, StartupEvent};
use crate::proto::ProtocolVersion;
use crate::tls::TlsConnector;
use crate::trace::{self, ConnTrace};

impl Connection {
    /// Connects with a `postgres://` URL or a libpq `key=value` string.
    ///
    /// Like libpq, settings missing from the string are taken from the `PG*` environment
    /// variables, then from the defaults (see [`Config`]).
    pub async fn connect(params: &str) -> Result<Connection, Error> {
        let config: Config = params.parse()?;
        config.with_env_fallbacks()?.connect().await
    }

    /// One target, with the attempts its sslmode allows (see [`negotiate::attempts`]).
    pub(super) async fn connect_target(
        config: &Config,
        resolved: &Arc<Resolved>,
        target: &Target,
        connector: Option<&TlsConnector>,
    ) -> Result<Connection, Error> {
        let plan = negotiate::attempts(resolved, &target.host);
        let (first, encrypted) =
            match Self::connect_attempt(config, resolved, target, connector, plan[0]).await {
                Ok(conn) => return Ok(conn),
                Err(failed) => failed,
            };
        let Some(&second) = plan.get(1) else {
            return Err(first);
        };
        if !negotiate::fallback_allowed(plan[0], &first, encrypted) {
            return Err(first);
        }
        log::debug!(
            "{}: retrying with {second:?} after: {first}",
            describe_target(target)
        );
        match Self::connect_attempt(config, resolved, target, connector, second).await {
            Ok(conn) => Ok(conn),
            // sslmode=allow retried with TLS after the server refused the plaintext session,
            // and the server has no TLS either: its refusal is the answer.
            Err((e, _)) if second == Encryption::Requested && e.kind() == Kind::Tls => Err(first),
            Err((e, _)) => Err(e),
        }
    }

    /// One attempt. On failure, also says whether the session was encrypted by then, which
    /// decides whether `prefer` may try again in plaintext.
    async fn connect_attempt(
        config: &Config,
        resolved: &Arc<Resolved>,
        target: &Target,
        connector: Option<&TlsConnector>,
        encryption: Encryption,
    ) -> Result<Connection, (Error, bool)> {
        trace::traced!(trace::connect_attempt(target, encryption), {
            let secured = negotiate::open(resolved, target, connector, encryption)
                .await
                .map_err(|e| (e, false))?;
            let encryption = match &secured.tls {
                Some(_) => encryption,
                None => Encryption::Plain,
            };
            let encrypted = secured.tls.is_some();
            let cancel_target = CancelTarget {
                target: target.clone(),
                resolved: resolved.clone(),
                connector: connector.cloned(),
                encryption,
            };
            Self::start(config, resolved, cancel_target, secured)
                .await
                .map_err(|e| (e, encrypted))
        })
    }

    /// The startup and authentication exchange over an open stream, driven by the sans-IO
    /// [`Startup`].
    async fn start(
        config: &Config,
        resolved: &Resolved,
        cancel_target: CancelTarget,
        secured: Secured,
    ) -> Result<Connection, Error> {
        let target = describe_target(&cancel_target.target);
        let (host, port) = (&cancel_target.target.host, cancel_target.target.port);
        let password = resolved.password_for(host, port);
        let mut random = [0u8; 18];
        getrandom::fill(&mut random)
            .map_err(|e| Error::auth(format!("could not draw a random SCRAM nonce: {e}")))?;
        let nonce = scram::client_nonce_from_bytes(&random);
        let params: Vec<(&str, &str)> = resolved
            .startup_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();

        // The channel binding data: libpq fails a connection whose certificate has none
        // (RSASSA-PSS, Ed25519) only when binding is required; with `prefer` SCRAM then runs
        // unbound, as the server (which cannot compute it either) expects.
        let tls_server_end_point = match (&secured.tls, resolved.channel_binding) {
            (None, _) | (Some(_), ChannelBinding::Disable) => None,
            (Some(tls), ChannelBinding::Require) => Some(tls.channel_binding_data()?.to_vec()),
            (Some(tls), ChannelBinding::Prefer) => tls.server_end_point.clone(),
        };
        let options = AuthOptions {
            require_auth: resolved.require_auth,
            channel_binding: resolved.channel_binding,
            tls_server_end_point,
        };
        let tls_summary = secured.tls.as_ref().map(|tls| TlsSummary {
            version: tls.protocol,
            cipher: tls.cipher.clone(),
        });
        let mut wire = Wire::new(secured.stream);
        let max_message_len = resolved.max_message_len;
        let mut startup = Startup::with_versions(
            &params,
            &resolved.user,
            password.as_deref(),
            nonce,
            options,
            resolved.protocol,
            &mut wire.write_buf,
        )?;
        loop {
            wire.write_out().await?;
            let msg = loop {
                if let Some(msg) = backend::decode(&mut wire.read_buf, max_message_len)? {
                    break msg;
                }
                wire.fill().await.map_err(|e| {
                    if e.kind() == Kind::Closed {
                        Error::closed()
                            .with_message(format!("{target} closed the connection during startup"))
                    } else {
                        e
                    }
                })?;
            };
            match startup.handle(msg, &mut wire.write_buf)? {
                StartupEvent::Continue => {}
                StartupEvent::Ready => break,
                StartupEvent::ServerError(fields) => return Err(db_error(&fields)),
                StartupEvent::Notice(fields) => {
                    deliver_notice(config.get_notice_handler(), &fields)
                }
            }
        }
        Ok(Connection {
            wire,
            session: startup.into_session(),
            max_message_len,
            notifications: VecDeque::new(),
            broken: false,
            fatal: None,
            id: NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed),
            cache: StatementCache::new(resolved.statement_cache_capacity),
            close_queue: CloseQueue::default(),
            statement_counter: 0,
            savepoint_counter: 0,
            notice_handler: config.get_notice_handler().cloned(),
            trace: ConnTrace::new(config, resolved, &cancel_target.target),
            cancel_target,
            tls: tls_summary,
            statement_timeout: config.get_statement_timeout(),
            cancel_timeout: config.get_cancel_timeout(),
            deadline: Default::default(),
            types: Default::default(),
        })
    }
}

impl Connection {
    /// The protocol version the session runs at (libpq's `PQfullProtocolVersion`): 3.0, or 3.2
    /// when `max_protocol_version` asked for it and the server (PostgreSQL 18 or later) agreed.
    /// A server that speaks only 3.0 answers a 3.2 request with NegotiateProtocolVersion, and
    /// the session is then 3.0.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("TUSK_PG_URL");
    /// let conn = tusk::Connection::connect(&url).await?;
    /// assert_eq!(conn.protocol_version(), tusk::ProtocolVersion::V3_0); // libpq 18's default
    /// # Ok(())
    /// # }
    /// ```
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.session.protocol_version()
    }
}

impl Config {
    /// Connects with these settings (no environment variables are read: see
    /// [`Config::with_env_fallbacks`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// let port = 54329;
    /// # let port: u16 = std::env::var("TUSK_PG_PORT").expect("TUSK_PG_PORT").parse().unwrap();
    /// let conn = tusk::Config::new()
    ///     .host("127.0.0.1").port(port).user("tusk").password("tusk").dbname("tusk")
    ///     .connect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(&self) -> Result<Connection, Error> {
        Connection::connect_with(self).await
    }

    /// Runs the startup and authentication exchange over a stream the caller opened (a
    /// tunnel, a proxy's stream, or `tokio::io::duplex` in tests) instead of a socket to the
    /// configured host. The first configured host and port are still where a
    /// [`CancelToken`](crate::CancelToken) sends its request; `connect_timeout` bounds the
    /// startup as it does for [`Config::connect`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let port: u16 = std::env::var("TUSK_PG_PORT").expect("TUSK_PG_PORT").parse().unwrap();
    /// let config: tusk::Config = "user=tusk password=tusk dbname=tusk".parse()?;
    /// let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    /// let mut conn = config.connect_raw(stream).await?;
    /// let row = conn.query_one("SELECT 1 + 1", &[]).await?;
    /// assert_eq!(row.get::<_, i32>(0), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_raw<S: Transport>(&self, stream: S) -> Result<Connection, Error> {
        trace::traced!(trace::connect(self), {
            let resolved = Arc::new(self.resolve()?);
            let target = resolved.targets.first().cloned().ok_or_else(|| {
                Error::config("no host to connect to (needed for cancel requests)")
            })?;
            let cancel_target = CancelTarget {
                target,
                resolved: resolved.clone(),
                connector: None,
                encryption: Encryption::Plain,
            };
            let secured = Secured {
                stream: Box::new(stream),
                tls: None,
            };
            let start = Connection::start(self, &resolved, cancel_target, secured);
            match resolved.connect_timeout {
                Some(limit) => tokio::time::timeout(limit, start).await.map_err(|_| {
                    Error::timeout(format!("the startup did not finish within {limit:?}"))
                })?,
                None => start.await,
            }
        })
    }
}

/// `host:port` for messages: IPv6 in brackets, the socket file for a directory.
pub(crate) fn describe_host(host: &Host, port: u16) -> String {
    match host {
        Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
        Host::Tcp(name) => format!("{name}:{port}"),
        Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
    }
}
