//! The IO layer: [`Connection`] owns the socket, a read buffer and a write buffer, and drives
//! the sans-IO [`Session`] with them. Opening one (hosts, socket, startup, authentication) is in
//! `connection/connect.rs`.
//!
//! Every request is encoded completely into the write buffer and counted as owed in the
//! session before anything awaits. Each public operation starts with [`Connection::ready`],
//! which flushes whatever an interrupted call left unwritten and drains the responses still
//! owed. So a future dropped at any await point leaves nothing half-done that the next call
//! would trip over.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;

use crate::client::simple::{SimpleColumns, SimpleQueryMessage, SimpleRow};
use crate::client::statement::CloseQueue;
use crate::client::statement_cache::StatementCache;
use crate::client::transport::Wire;
use crate::config::NoticeHandler;
use crate::error::{DbError, Error, Kind};
use crate::proto::backend::{self, ErrorFields, Message, Notification, TransactionStatus};
use crate::proto::exchange::{CopyPolicy, Requests};
use crate::proto::framing;
use crate::proto::session::Session;
use crate::trace;

mod connect;
mod hosts;
pub(crate) mod negotiate;
pub(crate) mod routing;
pub(crate) use crate::client::copy::copy_refused_error;

/// A connection to a PostgreSQL server.
///
/// A `Connection` is used by one task at a time (its methods take `&mut self`); there is no
/// background task and no channel hop per query. Any future it returns may be dropped at any
/// await point: the next call resynchronises first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// let url = "postgres://tusk:tusk@127.0.0.1:54329/tusk";
/// # let url = &std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// let mut conn = tusk::Connection::connect(url).await?;
/// println!("server version {}", conn.parameter("server_version").unwrap_or("?"));
/// conn.batch_execute("CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1)").await?;
/// conn.close().await?;
/// # Ok(())
/// # }
/// ```
pub struct Connection {
    wire: Wire,
    session: Session,
    max_message_len: usize,
    notifications: VecDeque<Notification>,
    /// Set once the stream can no longer be trusted (IO error, protocol violation, EOF).
    broken: bool,
    /// The FATAL (or PANIC) the server sent before ending the session, if it did: the error a
    /// caller sees for the IO failure that follows it (the first error wins).
    fatal: Option<Error>,
    /// Identifies this connection, so a statement prepared elsewhere is refused.
    pub(in crate::client) id: u64,
    pub(in crate::client) cache: StatementCache,
    pub(in crate::client) close_queue: CloseQueue,
    pub(in crate::client) statement_counter: u64,
    pub(in crate::client) savepoint_counter: u64,
    notice_handler: Option<NoticeHandler>,
    cancel_target: CancelTarget,
    /// What TLS the session runs over, if any.
    tls: Option<TlsSummary>,
    /// The client-side limit per statement (see `Config::statement_timeout`).
    pub(in crate::client) statement_timeout: Option<std::time::Duration>,
    /// How long settling after a passed deadline may take (see `Config::cancel_timeout`).
    pub(in crate::client) cancel_timeout: std::time::Duration,
    /// The current call's deadline and what a passed one left to do (see `deadline.rs`).
    pub(in crate::client) deadline: crate::client::deadline::Deadline,
    /// What this connection's spans say about it (feature `tracing`; zero-sized without).
    pub(crate) trace: crate::trace::ConnTrace,
    /// The user-defined types read from the catalog (shared by a pool's connections to the
    /// same database; see `type_cache.rs`).
    pub(crate) types: std::sync::Arc<crate::client::type_cache::TypeCache>,
}

/// The TLS facts of a session, for [`Connection::ssl_in_use`] and friends.
#[derive(Debug, Clone)]
pub(crate) struct TlsSummary {
    pub(crate) version: &'static str,
    pub(crate) cipher: String,
}

/// How a session was reached, for opening the separate connection a CancelRequest travels
/// on the same way: the same address, socket options and, when the session uses TLS, TLS with
/// the same settings and negotiation.
#[derive(Debug, Clone)]
pub(crate) struct CancelTarget {
    pub(crate) target: crate::config::Target,
    /// The settings the session was opened with (socket options, connect timeout).
    pub(crate) resolved: std::sync::Arc<crate::config::Resolved>,
    /// The TLS settings, when the session's sslmode could use TLS.
    pub(crate) connector: Option<crate::tls::TlsConnector>,
    /// How the session itself was encrypted: the cancel connection does the same.
    pub(crate) encryption: negotiate::Encryption,
}

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("wire", &self.wire)
            .field("transaction_status", &self.session.transaction_status())
            .field("owed", &self.session.exchange())
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A server parameter as last reported (at startup or by a later `SET`), e.g.
    /// `server_version`, `TimeZone`, `server_encoding`, `integer_datetimes`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.session.parameters().get(name)
    }

    /// Whether the session runs over TLS (libpq's `PQsslInUse`). With `sslmode=prefer` (the
    /// default) or `allow`, this tells which way the negotiation went.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = &std::env::var("TUSK_PG_URL").expect("TUSK_PG_URL");
    /// let conn = tusk::Connection::connect(url).await?;
    /// if !conn.ssl_in_use() {
    ///     eprintln!("warning: the database connection is not encrypted");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn ssl_in_use(&self) -> bool {
        self.tls.is_some()
    }

    /// The TLS protocol version of the session (`TLSv1.2` or `TLSv1.3`), or `None` without TLS.
    pub fn ssl_protocol_version(&self) -> Option<&str> {
        self.tls.as_ref().map(|tls| tls.version)
    }

    /// The TLS cipher suite of the session as rustls names it (e.g.
    /// `TLS13_AES_256_GCM_SHA384`), or `None` without TLS.
    pub fn ssl_cipher(&self) -> Option<&str> {
        self.tls.as_ref().map(|tls| tls.cipher.as_str())
    }

    /// The process ID of the server backend serving this connection, as sent in
    /// BackendKeyData (some proxies do not send one).
    pub fn backend_pid(&self) -> Option<i32> {
        self.session.backend_key().map(|k| k.process_id)
    }

    /// The transaction status from the server's most recent ReadyForQuery: a `BEGIN` sent as
    /// plain SQL counts too.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.session.transaction_status()
    }

    /// Whether the connection can no longer be used (it failed or was closed by the server).
    pub fn is_closed(&self) -> bool {
        self.broken
    }

    /// Sets (or with `None` removes) the client-side time limit for each following call that
    /// waits on the server (every statement, `prepare`, transactions, COPY, streams, pipelines,
    /// server cursors); it starts as
    /// [`Config::statement_timeout`](crate::Config::statement_timeout), which says exactly what
    /// it covers. For a single call, [`Connection::with_statement_timeout`] sets it and puts the
    /// old value back afterwards.
    ///
    /// When the limit passes, the statement is cancelled on the server and the call returns
    /// an error of kind [`Kind::Timeout`] (SQLSTATE `57014`); the connection stays usable if
    /// the server answers the cancel within [`Config::cancel_timeout`](crate::Config::cancel_timeout),
    /// and is closed otherwise.
    pub fn set_statement_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.statement_timeout = timeout.filter(|t| !t.is_zero());
    }

    /// The client-side time limit per statement, if any.
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        self.statement_timeout
    }

    /// Notifications (LISTEN/NOTIFY) received so far and not yet taken, oldest first.
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.notifications.drain(..).collect()
    }

    /// Runs one or more SQL statements separated by semicolons with the simple query protocol,
    /// discarding any rows. Stops at the first error, which it returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// conn.batch_execute("CREATE TEMP TABLE x (a int); INSERT INTO x VALUES (1), (2)").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        trace::traced!(
            trace::statement(&self.trace, sql),
            self.simple_query_inner(sql, false).await.map(drop)
        )
    }

    /// Runs one or more SQL statements with the simple query protocol and returns every row
    /// (values in text format) and command completion, in order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// use tusk::SimpleQueryMessage;
    /// for msg in conn.simple_query("SELECT 1 AS one, NULL AS nothing").await? {
    ///     if let SimpleQueryMessage::Row(row) = msg {
    ///         assert_eq!(row.get(0), Some("1"));
    ///         assert_eq!(row.get("nothing"), None);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, Error> {
        trace::traced!(
            trace::statement(&self.trace, sql),
            self.simple_query_inner(sql, true).await
        )
    }

    async fn simple_query_inner(
        &mut self,
        sql: &str,
        keep_rows: bool,
    ) -> Result<Vec<SimpleQueryMessage>, Error> {
        let result = async {
            self.ready().await?;
            self.write_simple(sql)?;
            self.read_simple(keep_rows).await
        }
        .await;
        self.settle_if_timed_out(result).await
    }

    /// Writes a simple Query into the write buffer (refusing it in an aborted transaction);
    /// its replies are owed from now on. Nothing is awaited, so a caller can set up a guard
    /// between writing and reading.
    pub(crate) fn write_simple(&mut self, sql: &str) -> Result<(), Error> {
        self.check_allowed(sql)?;
        self.requests().query(sql, CopyPolicy::Refuse)?;
        Ok(())
    }

    /// Writes a simple Query that is to run a COPY (for `copy_in` / `copy_out`).
    pub(crate) fn write_copy_query(&mut self, sql: &str) -> Result<(), Error> {
        self.check_allowed(sql)?;
        self.requests().query(sql, CopyPolicy::Allow)?;
        Ok(())
    }

    /// Flushes and reads the responses of the simple Query written last.
    pub(crate) async fn read_simple(
        &mut self,
        keep_rows: bool,
    ) -> Result<Vec<SimpleQueryMessage>, Error> {
        self.flush().await?;
        let mut out = Vec::new();
        let mut first_error = None;
        let mut copy_refused = false;
        let mut columns: Option<SimpleColumns> = None;
        loop {
            let msg = match self.next_response().await {
                Ok(msg) => msg,
                // A FATAL error is followed by the server closing the socket: report the
                // server's reason, not the EOF.
                Err(e) => return Err(first_error.unwrap_or(e)),
            };
            // The exchange let through only what may follow here; the rest is ignored.
            match msg {
                Message::ReadyForQuery(_) => break,
                Message::RowDescription(desc) if keep_rows => {
                    columns = Some(SimpleColumns::from_description(&desc)?);
                }
                Message::DataRow(row) => {
                    if let (true, Some(cols)) = (keep_rows, &columns) {
                        out.push(SimpleQueryMessage::Row(SimpleRow::new(cols.clone(), row)?));
                    }
                }
                Message::CommandComplete(done) => {
                    columns = None;
                    if keep_rows {
                        out.push(SimpleQueryMessage::CommandComplete {
                            tag: done.tag().to_owned(),
                            rows: done.rows(),
                        });
                    }
                }
                Message::ErrorResponse(fields) => {
                    let err = db_error(&fields);
                    first_error.get_or_insert(self.fail(err));
                }
                Message::CopyInResponse(_)
                | Message::CopyOutResponse(_)
                | Message::CopyBothResponse(_) => copy_refused = true,
                _ => {}
            }
        }
        if copy_refused {
            return Err(copy_refused_error(
                "simple_query or batch_execute",
                first_error,
            ));
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Sends Terminate and closes the socket.
    pub async fn close(mut self) -> Result<(), Error> {
        if self.broken {
            return Ok(());
        }
        // Whatever an interrupted call left in the buffer is flushed first so that Terminate
        // arrives as a whole message; queued work is abandoned (the server rolls back an open
        // transaction when the session ends).
        crate::proto::frontend::terminate(&mut self.wire.write_buf);
        self.broken = true;
        // Bounded: a peer that stopped reading must not keep `close` waiting for room in the
        // socket's buffer. Dropping the socket closes it either way.
        let limit = self.cancel_timeout;
        let goodbye = async {
            self.wire.write_out().await?;
            self.wire.shutdown().await
        };
        match tokio::time::timeout(limit, goodbye).await {
            Ok(result) => result,
            Err(_) => Err(Error::timeout(format!(
                "the server did not take the Terminate message within {limit:?}; the socket \
                 was closed without it"
            ))),
        }
    }

    /// Checks, without waiting, that an idle connection is still open: anything the server
    /// sent while nothing was asked (a FATAL from `pg_terminate_backend`, an idle-session
    /// timeout, EOF) is read now, asynchronous messages are absorbed, and anything else marks
    /// the connection broken. Returns whether it can still be used. A pool calls this before
    /// handing a connection out, so a dead one is replaced instead of failing a query.
    pub(crate) fn probe_idle(&mut self) -> bool {
        if self.broken || !self.wire.write_buf.is_empty() || !self.session.exchange().is_idle() {
            return !self.broken;
        }
        loop {
            match self.wire.try_fill() {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => {
                    self.broken = true;
                    return false;
                }
            }
        }
        loop {
            match self.decode_buffered() {
                Ok(None) => return !self.broken,
                Ok(Some(msg)) => match self.absorb(msg) {
                    Ok(None) => {}
                    Ok(Some(Message::ErrorResponse(fields))) => {
                        log::debug!("an idle connection was ended: {}", db_error(&fields));
                        self.broken = true;
                        return false;
                    }
                    // The exchange refuses every other message while nothing is owed.
                    Ok(Some(_)) | Err(_) => {
                        self.broken = true;
                        return false;
                    }
                },
                Err(_) => return false,
            }
        }
    }

    /// Flushes what an interrupted call left unwritten and drains every response still owed,
    /// so the next request starts on a clean stream.
    /// The call that starts gets its deadline here (see `deadline.rs`); the draining counts
    /// against it.
    #[inline]
    pub(crate) async fn ready(&mut self) -> Result<(), Error> {
        self.deadline.start_call(self.statement_timeout);
        if !self.broken
            && self.wire.write_buf.is_empty()
            && self.session.exchange().is_idle()
            && !self.deadline.is_unsettled()
        {
            return Ok(());
        }
        self.resynchronise().await
    }

    /// The slow path of [`Connection::ready`]: something is left to flush or drain.
    async fn resynchronise(&mut self) -> Result<(), Error> {
        if self.broken {
            return Err(Error::closed());
        }
        if self.deadline.is_unsettled() {
            // An earlier call (a stream, a COPY) passed its deadline: cancel and drain first,
            // within the cancel timeout, then this call's own deadline starts.
            self.settle_after_timeout().await?;
            self.deadline.start_call(self.statement_timeout);
            return Ok(());
        }
        self.drain().await
    }

    /// Flushes what is left unwritten (ending an abandoned COPY FROM STDIN, closing an open
    /// group with Sync) and reads every response still owed.
    pub(crate) async fn drain(&mut self) -> Result<(), Error> {
        let mut requests = self.requests();
        if requests.in_copy_in() {
            // A COPY FROM STDIN whose caller went away: abandon it.
            requests.copy_fail("the COPY was abandoned by the client")?;
        }
        requests.sync_if_open();
        self.flush().await?;
        while self.session.owed() > 0 {
            if self.session.exchange().in_copy_both() {
                // A replication stream (or its start) whose caller went away: the server
                // streams until told to stop; what it still sends is discarded below.
                self.requests().copy_both_done()?;
                self.flush().await?;
            }
            if let Message::ErrorResponse(fields) = self.next_response().await? {
                // The call that wanted this answer is gone; note it for whoever debugs.
                log::debug!(
                    "discarding the error of an abandoned request: {}",
                    db_error(&fields)
                );
            }
        }
        Ok(())
    }

    /// The writer for the next requests: each one is encoded into the write buffer and its
    /// replies are owed from then on (see [`crate::proto::exchange`]).
    pub(crate) fn requests(&mut self) -> Requests<'_> {
        self.session.requests(&mut self.wire.write_buf)
    }

    /// Refuses `sql` locally when the transaction is aborted and `sql` would not end it.
    pub(crate) fn check_allowed(&self, sql: &str) -> Result<(), Error> {
        if self.session.allows(sql) {
            Ok(())
        } else {
            Err(Error::aborted_transaction())
        }
    }

    /// Writes the whole write buffer to the socket.
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// [`Connection::flush`] as a poll function, for the COPY `Sink`/`Stream` impls. A
    /// socket that takes nothing for longer than the deadline allows fails it.
    pub(crate) fn poll_flush(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        use std::task::Poll;
        if self.deadline.is_poisoned() {
            return Poll::Ready(Err(self.deadline.error()));
        }
        match self.wire.poll_write_out(cx) {
            Poll::Ready(result) => Poll::Ready(result.map_err(|e| self.write_failed(e))),
            Poll::Pending => self.poll_deadline(cx).map(Err),
        }
    }

    /// The next response to a request, with asynchronous messages (notices, notifications,
    /// parameter changes) absorbed on the way. A ReadyForQuery is returned as such after the
    /// session has recorded it.
    pub(crate) async fn next_response(&mut self) -> Result<Message, Error> {
        std::future::poll_fn(|cx| self.poll_response(cx)).await
    }

    /// [`Connection::next_response`] as a poll function. Anything in the write buffer (an
    /// Execute for the next batch, a COPY refusal the exchange wrote) is written on the way.
    #[inline]
    pub(crate) fn poll_response(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Message, Error>> {
        use std::task::Poll;
        loop {
            // Messages already buffered are handled without touching the socket: while a
            // large result streams in, most calls end here.
            while let Some(msg) = self.decode_buffered()? {
                if let Some(msg) = self.absorb(msg)? {
                    return Poll::Ready(Ok(msg));
                }
            }
            std::task::ready!(self.poll_more(cx))?;
        }
    }

    /// Reads one message. Asynchronous ones (notices, notifications, parameter changes) are
    /// absorbed and give `None`; responses and ReadyForQuery are returned. Cancel-safe.
    pub(crate) async fn read_one(&mut self) -> Result<Option<Message>, Error> {
        std::future::poll_fn(|cx| self.poll_read_one(cx)).await
    }

    /// [`Connection::read_one`] as a poll function (unwritten requests go out on the way, as
    /// in [`Connection::poll_response`]).
    pub(crate) fn poll_read_one(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Option<Message>, Error>> {
        use std::task::Poll;
        loop {
            if let Some(msg) = self.decode_buffered()? {
                return Poll::Ready(self.absorb(msg));
            }
            std::task::ready!(self.poll_more(cx))?;
        }
    }

    /// [`Connection::next_response`] without waiting: `Ok(None)` when no whole response has
    /// arrived (asynchronous messages are absorbed on the way).
    pub(crate) fn try_response(&mut self) -> Result<Option<Message>, Error> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match self.poll_response(&mut cx) {
            std::task::Poll::Pending => Ok(None),
            std::task::Poll::Ready(result) => result.map(Some),
        }
    }

    /// Reads more bytes into the read buffer. Whatever is still unwritten goes out first, but
    /// a full socket does not stop the reading (the server may be waiting for us to read
    /// before it reads more).
    /// The wait is bounded by the deadline (see `deadline.rs`).
    #[inline]
    fn poll_more(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Error>> {
        use std::task::Poll;
        if self.deadline.is_poisoned() {
            return Poll::Ready(Err(self.deadline.error()));
        }
        if !self.wire.write_buf.is_empty() {
            if let Poll::Ready(Err(e)) = self.poll_flush(cx) {
                return Poll::Ready(Err(e));
            }
        }
        match self.wire.poll_fill(cx) {
            Poll::Ready(Ok(())) => {
                self.deadline.progress();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.fail(e))),
            Poll::Pending => self.poll_deadline(cx).map(Err),
        }
    }

    /// Takes one complete message off the read buffer, if there is one.
    #[inline]
    fn decode_buffered(&mut self) -> Result<Option<Message>, Error> {
        backend::decode(&mut self.wire.read_buf, self.max_message_len)
            .map_err(|e| self.fail(e.into()))
    }

    /// Splits every complete DataRow at the front of the read buffer off in one run (see
    /// [`framing::split_data_rows`]), for the row readers' fast path; `None` when the buffer
    /// does not start with one or the exchange does not expect rows now. A DataRow changes
    /// nothing in the session, so skipping [`Connection::next_response`] for it loses nothing.
    #[inline]
    pub(crate) fn buffered_data_rows(&mut self) -> Option<bytes::Bytes> {
        // The tag first: most calls find no DataRow at the front (an acknowledgement, or
        // nothing yet), and that is one comparison.
        if self.wire.read_buf.first() != Some(&b'D') || !self.session.exchange().accepts_rows() {
            return None;
        }
        framing::split_data_rows(&mut self.wire.read_buf, self.max_message_len)
    }

    /// Lets the session check and record the message; `None` for an absorbed asynchronous
    /// message (a notice goes to the handler, a notification to the queue).
    #[inline]
    fn absorb(&mut self, msg: Message) -> Result<Option<Message>, Error> {
        match msg {
            Message::NoticeResponse(fields) => {
                // An immediate shutdown or a crash of another backend is announced with a
                // WARNING (57P01, 57P02) just before the socket closes: the reason to report.
                if self.fatal.is_none() && announces_shutdown(&fields) {
                    self.fatal = Some(db_error(&fields));
                }
                deliver_notice(self.notice_handler.as_ref(), &fields);
                Ok(None)
            }
            Message::NotificationResponse(n) => {
                self.notifications.push_back(n);
                Ok(None)
            }
            Message::ParameterStatus(p) => {
                self.session.set_parameter(p);
                Ok(None)
            }
            msg => {
                if let Message::ErrorResponse(fields) = &msg {
                    if self.fatal.is_none() && is_fatal(fields) {
                        self.fatal = Some(db_error(fields));
                    }
                }
                match self.session.accept(&msg, &mut self.wire.write_buf) {
                    Ok(()) => Ok(Some(msg)),
                    Err(e) => Err(self.fail(e.into())),
                }
            }
        }
    }

    /// The oldest notification (LISTEN/NOTIFY) not yet taken, waiting for one while the
    /// connection is idle. Notifications that arrived during earlier calls come first.
    /// Cancel-safe: a notification is only taken off the queue when it is returned. See also
    /// [`Connection::notifications`] (a `Stream`) and [`crate::Listener`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// conn.batch_execute("LISTEN jobs").await?;
    /// # conn.batch_execute("NOTIFY jobs, 'hello'").await?; // to itself
    /// let n = conn.next_notification().await?;
    /// println!("{} on {}", n.payload, n.channel);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next_notification(&mut self) -> Result<Notification, Error> {
        loop {
            if let Some(n) = self.notifications.pop_front() {
                return Ok(n);
            }
            self.ready().await?;
            // Waiting for a notification is not waiting for an answer: no deadline (wrap the
            // call in `tokio::time::timeout` for one; it is cancel-safe).
            self.deadline.off();
            // Nothing is owed, so only asynchronous messages may arrive, or the FATAL error a
            // server sends before it ends the session (e.g. pg_terminate_backend); the
            // exchange refuses anything else.
            if let Some(Message::ErrorResponse(fields)) = self.read_one().await? {
                let err = db_error(&fields);
                return Err(self.fail(err));
            }
        }
    }

    /// Where and how to send a CancelRequest for this session.
    pub(crate) fn cancel_target(&self) -> &CancelTarget {
        &self.cancel_target
    }

    /// Marks the connection broken when `err` means the stream can no longer be trusted.
    pub(crate) fn fail(&mut self, err: Error) -> Error {
        if matches!(err.kind(), Kind::Io | Kind::Protocol | Kind::Closed) || err.is_closed() {
            self.broken = true;
            // The server said why it ended the session before the socket failed: that is
            // the error to report, not the reset or EOF that followed it.
            if matches!(err.kind(), Kind::Io | Kind::Closed) {
                if let Some(fatal) = &self.fatal {
                    return fatal.duplicate();
                }
            }
        }
        err
    }

    /// A failed write. A server that ends a session (`pg_terminate_backend`, a shutdown, an
    /// idle timeout) sends its FATAL and closes; a write after that fails with a broken pipe
    /// or a reset, often before the FATAL was read. So what has arrived is read now, without
    /// waiting, and a FATAL found in it is what the caller sees (see [`Connection::fail`]).
    fn write_failed(&mut self, err: Error) -> Error {
        if self.fatal.is_none() {
            // Everything that arrived, up to the end of the stream or a read error.
            while let Ok(true) = self.wire.try_fill() {}
            // The session is over whatever these messages are: only a FATAL is looked for.
            while let Ok(Some(msg)) = backend::decode(&mut self.wire.read_buf, self.max_message_len)
            {
                if let Message::ErrorResponse(fields) = msg {
                    if is_fatal(&fields) {
                        self.fatal = Some(db_error(&fields));
                        break;
                    }
                }
            }
        }
        self.fail(err)
    }

    /// Closes the open group with Sync and reads up to its ReadyForQuery, returning the first
    /// error the server reported in it.
    pub(crate) async fn finish_group(&mut self) -> Result<(), Error> {
        self.requests().sync();
        self.flush().await?;
        let mut first_error = None;
        loop {
            match self.next_response().await? {
                Message::ReadyForQuery(_) => break,
                Message::ErrorResponse(fields) => {
                    first_error.get_or_insert_with(|| db_error(&fields));
                }
                _ => {}
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Queues a simple-protocol statement to run before the connection's next request, with
    /// its result discarded (used from `Drop`, which cannot wait).
    pub(crate) fn queue_simple(&mut self, sql: &str) {
        if self.broken {
            return;
        }
        if let Err(e) = self.requests().query(sql, CopyPolicy::Refuse) {
            log::warn!("could not queue {sql:?}: {e}");
        }
    }

    /// How many bytes of requests are encoded and not yet written.
    pub(crate) fn unwritten(&self) -> usize {
        self.wire.write_buf.len()
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// Gives the connection up after the server failed to answer within the cancel timeout:
    /// its stream is at an unknown position and may never move again.
    pub(crate) fn close_stalled(&mut self) {
        self.broken = true;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Say goodbye so the server does not log an unexpected EOF, when that can be done
        // without waiting and without splitting a half-written message.
        if !self.broken && self.wire.write_buf.is_empty() {
            crate::proto::frontend::terminate(&mut self.wire.write_buf);
            self.wire.try_write_out();
        }
    }
}

/// The public error for an ErrorResponse; a malformed one is a protocol error.
pub(crate) fn db_error(fields: &ErrorFields) -> Error {
    match DbError::from_fields(fields) {
        Ok(db) => Error::db(db),
        Err(e) => e.into(),
    }
}

/// Passes a notice to the configured handler, or to the `log` facade without one.
pub(crate) fn deliver_notice(handler: Option<&NoticeHandler>, fields: &ErrorFields) {
    match DbError::from_fields(fields) {
        Ok(notice) => match handler {
            Some(handler) => handler.call(&notice),
            None => log::info!("server notice: {notice}"),
        },
        Err(e) => log::warn!("unreadable server notice: {e}"),
    }
}

/// Whether an ErrorResponse ends the session (severity FATAL or PANIC).
fn is_fatal(fields: &ErrorFields) -> bool {
    // `V` (never localized, 9.6+) first, else the possibly localized `S`.
    let severity = fields.get(b'V').or_else(|| fields.get(b'S'));
    matches!(severity, Some(b"FATAL") | Some(b"PANIC"))
}

/// Whether a notice announces that the server is ending the session at once: what an immediate
/// shutdown (57P01) or the crash of another backend (57P02) sends, as a WARNING, before closing.
fn announces_shutdown(fields: &ErrorFields) -> bool {
    matches!(fields.get(b'C'), Some(b"57P01") | Some(b"57P02"))
}
