//! Opening a [`Connection`]: each configured host in turn, under the connect timeout, the
//! socket, then the startup and authentication exchange driven by the sans-IO [`Startup`].

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use super::{db_error, deliver_notice, CancelTarget, Connection, NEXT_CONNECTION_ID};
use crate::client::statement::CloseQueue;
use crate::client::statement_cache::StatementCache;
use crate::client::transport::{open_socket, Transport, Wire};
use crate::config::{Config, Host, SslMode, Target};
use crate::error::{Error, Kind};
use crate::proto::auth::scram;
use crate::proto::backend;
use crate::proto::session::{Startup, StartupEvent};

impl Connection {
    /// Connects with a `postgres://` URL or a libpq `key=value` string.
    ///
    /// Like libpq, settings missing from the string are taken from the `PG*` environment
    /// variables, then from the defaults (see [`Config`]).
    pub async fn connect(params: &str) -> Result<Connection, Error> {
        let config: Config = params.parse()?;
        config.with_env_fallbacks()?.connect().await
    }

    /// Connects with `config`, trying each of its hosts in order until one accepts.
    pub(crate) async fn connect_with(config: &Config) -> Result<Connection, Error> {
        let resolved = config.resolve()?;
        if matches!(
            config.get_ssl_mode(),
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        ) {
            return Err(Error::config(format!(
                "sslmode={} needs TLS, which tusk does not support yet; use sslmode=disable, \
                 allow or prefer (which connect without TLS)",
                config.get_ssl_mode().as_str()
            )));
        }
        let mut last_error = None;
        for target in &resolved.targets {
            let attempt = Self::connect_one(config, &resolved, target);
            let result = match resolved.connect_timeout {
                Some(limit) => match tokio::time::timeout(limit, attempt).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::timeout(format!(
                        "could not connect to {} within {limit:?}",
                        describe_target(target)
                    ))),
                },
                None => attempt.await,
            };
            match result {
                Ok(conn) => return Ok(conn),
                // The server itself refused us (bad password, missing database): trying the
                // next host would not change the answer, and libpq stops here too.
                Err(e) if e.kind() == Kind::Db => return Err(e),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::config("no host to connect to")))
    }

    async fn connect_one(
        config: &Config,
        resolved: &crate::config::Resolved,
        target: &Target,
    ) -> Result<Connection, Error> {
        let stream = open_socket(&target.host, target.hostaddr, target.port)
            .await
            .map_err(|e| {
                Error::io(e)
                    .with_message(format!("could not connect to {}", describe_target(target)))
            })?;
        Self::start(config, resolved, target, stream).await
    }

    /// The startup and authentication exchange over an open stream, driven by the sans-IO
    /// [`Startup`].
    async fn start(
        config: &Config,
        resolved: &crate::config::Resolved,
        target: &Target,
        stream: Box<dyn Transport>,
    ) -> Result<Connection, Error> {
        let (host, port) = (&target.host, target.port);
        let password = resolved.password_for(host, port);
        let target_text = describe_target(target);
        let mut random = [0u8; 18];
        getrandom::fill(&mut random)
            .map_err(|e| Error::auth(format!("could not draw a random SCRAM nonce: {e}")))?;
        let nonce = scram::client_nonce_from_bytes(&random);
        let params: Vec<(&str, &str)> = resolved
            .startup_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();

        let mut wire = Wire::new(stream);
        let max_message_len = resolved.max_message_len;
        let mut startup = Startup::new(
            &params,
            &resolved.user,
            password.as_deref(),
            nonce,
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
                        Error::closed().with_message(format!(
                            "{target_text} closed the connection during startup"
                        ))
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
            id: NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed),
            cache: StatementCache::new(resolved.statement_cache_capacity),
            close_queue: CloseQueue::default(),
            statement_counter: 0,
            savepoint_counter: 0,
            notice_handler: config.get_notice_handler().cloned(),
            cancel_target: CancelTarget {
                host: host.clone(),
                hostaddr: target.hostaddr,
                port,
                connect_timeout: resolved.connect_timeout,
            },
            statement_timeout: config.get_statement_timeout(),
        })
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
        let resolved = self.resolve()?;
        let target =
            resolved.targets.first().cloned().ok_or_else(|| {
                Error::config("no host to connect to (needed for cancel requests)")
            })?;
        let start = Connection::start(self, &resolved, &target, Box::new(stream));
        match resolved.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, start).await.map_err(|_| {
                Error::timeout(format!("the startup did not finish within {limit:?}"))
            })?,
            None => start.await,
        }
    }
}

fn describe_target(target: &Target) -> String {
    let port = target.port;
    let place = match &target.host {
        Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
        Host::Tcp(name) => format!("{name}:{port}"),
        Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
    };
    match target.hostaddr {
        Some(addr) if addr.to_string() != target.host.to_string() => format!("{place} ({addr})"),
        _ => place,
    }
}
