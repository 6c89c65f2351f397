//! Cancelling a running statement: the [`CancelToken`] that sends a CancelRequest on a
//! connection of its own, and the client-side statement timeout built on it (the expiry
//! handling behind `Config::statement_timeout` and [`Connection::with_statement_timeout`]).
//!
//! PostgreSQL cannot be interrupted over the session's own socket: the client opens a second
//! connection and sends the backend's process ID and secret key (both from BackendKeyData at
//! startup). The server closes that connection without a reply, so whether the cancel hit
//! anything is only seen on the session itself, as SQLSTATE 57014 from the interrupted
//! statement.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::connection::negotiate::{self, describe_target};
use crate::client::connection::{CancelTarget, Connection};
use crate::error::Error;
use crate::proto::frontend;

/// How long delivering a CancelRequest may take when the configuration sets no
/// `connect_timeout`.
const DEFAULT_CANCEL_WAIT: Duration = Duration::from_secs(5);

/// A handle that cancels whatever statement its connection is running, from any task.
///
/// It is `Send + Sync + Clone` and independent of the connection's borrow, so it can be moved
/// into another task or a timer while the connection is busy. A statement it interrupts fails
/// with SQLSTATE `57014` (`query_canceled`); the connection stays usable.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// let token = conn.cancel_token();
/// tokio::spawn(async move {
///     tokio::time::sleep(std::time::Duration::from_millis(100)).await;
///     let _ = token.cancel().await;
/// });
/// let err = conn.execute("SELECT pg_sleep(10)", &[]).await.unwrap_err();
/// assert_eq!(err.code(), Some(&tusk::SqlState::QUERY_CANCELED));
/// conn.execute("SELECT 1", &[]).await?; // still usable
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CancelToken {
    target: CancelTarget,
    /// `None` when the server sent no BackendKeyData (some proxies do not).
    key: Option<(i32, Bytes)>,
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret key is a credential: never print it.
        f.debug_struct("CancelToken")
            .field("host", &self.target.target.host)
            .field("port", &self.target.target.port)
            .field("encryption", &self.target.encryption)
            .field("process_id", &self.key.as_ref().map(|(pid, _)| *pid))
            .finish_non_exhaustive()
    }
}

impl CancelToken {
    /// Asks the server to cancel the statement the connection is running now.
    ///
    /// Opens a new connection to the host the session is on, sends CancelRequest, and waits
    /// until the server closes that connection (by then the server has signalled the
    /// backend), all within the configured `connect_timeout` or 5 seconds. Success means the
    /// request was delivered, not that a statement was interrupted: when nothing runs, the
    /// server ignores it. A statement that was interrupted fails with SQLSTATE `57014` on its
    /// own connection.
    ///
    /// # Errors
    ///
    /// The server sent no cancel key at startup ([`Kind::Usage`](crate::Kind::Usage)); the
    /// connection could not be opened or written ([`Kind::Io`](crate::Kind::Io)); or that
    /// took too long ([`Kind::Timeout`](crate::Kind::Timeout)).
    pub async fn cancel(&self) -> Result<(), Error> {
        let Some((process_id, secret_key)) = &self.key else {
            return Err(Error::usage(
                "the server sent no cancel key (BackendKeyData) for this connection, so its \
                 statements cannot be cancelled",
            ));
        };
        let mut request = BytesMut::with_capacity(16 + secret_key.len());
        frontend::cancel_request(*process_id, secret_key, &mut request)?;

        let limit = self
            .target
            .resolved
            .connect_timeout
            .unwrap_or(DEFAULT_CANCEL_WAIT);
        let started = Instant::now();
        let target = describe_target(&self.target.target);
        let send = async {
            // The same socket options and the same encryption as the session: a cancel key
            // is a credential, and it must not travel in plaintext when the session does not.
            let mut socket = negotiate::open(
                &self.target.resolved,
                &self.target.target,
                self.target.connector.as_ref(),
                self.target.encryption,
            )
            .await
            .map_err(|e| {
                let message = format!("could not connect to {target} to send a cancel request");
                match e.kind() {
                    crate::Kind::Io => e.with_message(message),
                    _ => e,
                }
            })?
            .stream;
            socket.write_all(&request).await.map_err(|e| {
                Error::io(e).with_message(format!("could not send a cancel request to {target}"))
            })?;
            Ok::<_, Error>(socket)
        };
        let mut socket = match tokio::time::timeout(limit, send).await {
            Ok(socket) => socket?,
            Err(_) => {
                return Err(Error::timeout(format!(
                    "could not deliver a cancel request to {target} within {limit:?}"
                )))
            }
        };
        // The request is out. The server answers by closing the connection once it has
        // signalled the backend (libpq waits for that too), so a caller that goes on to read
        // the session knows the cancel is not still travelling. A slow close or a reset is
        // not a failure: the request was delivered either way.
        let remaining = limit.saturating_sub(started.elapsed());
        let _ = tokio::time::timeout(remaining, async {
            let mut scratch = [0u8; 64];
            while let Ok(n) = socket.read(&mut scratch).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        Ok(())
    }
}

/// A connection whose statements get their own time limit until this guard is dropped; made
/// by [`Connection::with_statement_timeout`]. It dereferences to the [`Connection`].
#[derive(Debug)]
pub struct StatementTimeoutGuard<'a> {
    conn: &'a mut Connection,
    previous: Option<Duration>,
}

impl Deref for StatementTimeoutGuard<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl DerefMut for StatementTimeoutGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl Drop for StatementTimeoutGuard<'_> {
    fn drop(&mut self) {
        self.conn.set_statement_timeout(self.previous);
    }
}

impl Connection {
    /// A token that cancels this connection's running statement from elsewhere (another
    /// task, a timer, a signal handler). See [`CancelToken`].
    pub fn cancel_token(&self) -> CancelToken {
        CancelToken {
            target: self.cancel_target().clone(),
            key: self
                .session()
                .backend_key()
                .map(|k| (k.process_id, k.secret_key.clone())),
        }
    }

    /// Runs what follows with a client-side time limit of `limit` per statement, then puts
    /// the previous limit back (when the returned guard is dropped, i.e. at the end of the
    /// statement it is used in). It covers every call made through the guard (see
    /// `Config::statement_timeout` for the list); to keep a limit, use
    /// [`Connection::set_statement_timeout`] or `Config::statement_timeout`.
    ///
    /// When the limit passes, the statement is cancelled on the server (as with a
    /// [`CancelToken`]), its answer is drained, and the call returns an error of kind
    /// [`Kind::Timeout`](crate::Kind::Timeout) with SQLSTATE `57014`. The connection stays
    /// usable (unless the server does not answer the cancel within
    /// [`Config::cancel_timeout`](crate::Config::cancel_timeout): then it is closed). Inside a transaction the server aborts the transaction as for any failed
    /// statement, so [`Connection::transaction_status`] then reports
    /// [`Failed`](crate::TransactionStatus::Failed) and only a rollback is accepted. A
    /// timeout does not prove the statement had no effect: it may have finished just before
    /// the cancel arrived.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// use std::time::Duration;
    /// let result = conn
    ///     .with_statement_timeout(Duration::from_millis(200))
    ///     .query("SELECT pg_sleep(5)", &[])
    ///     .await;
    /// assert_eq!(result.unwrap_err().kind(), tusk::Kind::Timeout);
    /// conn.query("SELECT 1", &[]).await?; // no limit again, and usable
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_statement_timeout(&mut self, limit: Duration) -> StatementTimeoutGuard<'_> {
        let previous = self.statement_timeout();
        self.set_statement_timeout(Some(limit));
        StatementTimeoutGuard {
            conn: self,
            previous,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    /// A plaintext cancel target for `host:port`.
    fn target(host: &str, port: u16, connect_timeout: Option<Duration>) -> CancelTarget {
        let mut config = crate::Config::new()
            .host(host)
            .port(port)
            .user("u")
            .ssl_mode(crate::SslMode::Disable);
        if let Some(limit) = connect_timeout {
            config = config.connect_timeout(limit);
        }
        // A valid TCP host, port and user: resolving cannot fail.
        let resolved = config.resolve().unwrap();
        CancelTarget {
            target: resolved.targets[0].clone(),
            resolved: std::sync::Arc::new(resolved),
            connector: None,
            encryption: negotiate::Encryption::Plain,
        }
    }

    #[test]
    fn token_is_send_sync_clone() {
        assert_send_sync_clone::<CancelToken>();
    }

    #[test]
    fn debug_hides_the_secret_key() {
        let token = CancelToken {
            target: target("db", 5432, None),
            key: Some((42, Bytes::from_static(b"\xde\xad\xbe\xef"))),
        };
        let shown = format!("{token:?}");
        assert!(shown.contains("42") && shown.contains("db"), "{shown}");
        assert!(
            !shown.contains("xde") && !shown.contains("secret"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn cancel_sends_the_request_and_waits_for_the_close() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = [0u8; 16];
            sock.read_exact(&mut got).await.unwrap();
            // Hold the connection open a little: cancel() must wait for the close.
            tokio::time::sleep(Duration::from_millis(100)).await;
            got
        });
        let token = CancelToken {
            target: target("127.0.0.1", port, None),
            key: Some((0x0102_0304, Bytes::from_static(b"\xde\xad\xbe\xef"))),
        };
        let started = Instant::now();
        token.cancel().await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(90));
        let got = server.await.unwrap();
        let mut want = vec![0, 0, 0, 16];
        want.extend_from_slice(&80877102i32.to_be_bytes());
        want.extend_from_slice(&[1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(got[..], want[..]);
    }

    #[tokio::test]
    async fn cancel_without_a_key_is_a_usage_error() {
        let token = CancelToken {
            target: target("127.0.0.1", 1, None),
            key: None,
        };
        let err = token.cancel().await.unwrap_err();
        assert_eq!(err.kind(), crate::Kind::Usage, "{err}");
        assert!(
            err.to_string()
                .contains("the server sent no cancel key (BackendKeyData) for this connection"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn cancel_to_a_closed_port_is_an_io_error() {
        let token = CancelToken {
            target: target("127.0.0.1", 1, Some(Duration::from_secs(2))),
            key: Some((1, Bytes::from_static(&[0; 4]))),
        };
        let err = token.cancel().await.unwrap_err();
        assert_eq!(err.kind(), crate::Kind::Io, "{err}");
        assert!(
            err.to_string()
                .contains("could not connect to 127.0.0.1:1 to send a cancel request"),
            "{err}"
        );
    }
}
