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
use std::io;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use std::sync::atomic::AtomicU64;

use crate::client::query::StatementCache;
use crate::client::simple::{SimpleColumns, SimpleQueryMessage, SimpleRow};
use crate::client::socket::Socket;
use crate::client::statement::CloseQueue;
use crate::config::{Host, NoticeHandler};
use crate::error::{DbError, Error, Kind};
use crate::proto::backend::{self, ErrorFields, Message, Notification, TransactionStatus};
use crate::proto::session::{Incoming, Session};
use crate::proto::{framing, frontend};

mod connect;
pub(crate) use connect::open_socket;

/// How much the read buffer grows by when it runs out of room: large reads keep the number of
/// system calls low when results stream in.
const READ_CHUNK: usize = 64 * 1024;

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
    socket: Socket,
    read_buf: BytesMut,
    write_buf: BytesMut,
    session: Session,
    max_message_len: usize,
    notifications: VecDeque<Notification>,
    /// Set once the stream can no longer be trusted (IO error, protocol violation, EOF).
    broken: bool,
    /// A Parse/Describe was sent ending in Flush, not Sync: the group still needs its Sync
    /// (its ReadyForQuery is already counted as owed).
    group_open: bool,
    /// Identifies this connection, so a statement prepared elsewhere is refused.
    pub(crate) id: u64,
    pub(crate) cache: StatementCache,
    pub(crate) close_queue: CloseQueue,
    pub(crate) statement_counter: u64,
    pub(crate) savepoint_counter: u64,
    notice_handler: Option<NoticeHandler>,
    cancel_target: CancelTarget,
    /// The client-side limit per statement (see `Config::statement_timeout`).
    pub(crate) statement_timeout: Option<std::time::Duration>,
}

/// The address a session was reached at, for opening the separate connection a
/// CancelRequest travels on.
#[derive(Debug, Clone)]
pub(crate) struct CancelTarget {
    pub(crate) host: Host,
    pub(crate) port: u16,
    pub(crate) connect_timeout: Option<std::time::Duration>,
}

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("socket", &self.socket)
            .field("transaction_status", &self.session.transaction_status())
            .field("owed", &self.session.owed())
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

    /// Sets (or with `None` removes) the client-side time limit for each following statement
    /// run with `execute`, `query`, `query_one`, `query_opt` (and their `_named` forms and
    /// `Cursor::execute`); it starts as [`Config::statement_timeout`]. For a single call,
    /// [`Connection::with_statement_timeout`] sets it and puts the old value back afterwards.
    ///
    /// When the limit passes, the statement is cancelled on the server and the call returns
    /// an error of kind [`Kind::Timeout`] (SQLSTATE `57014`); the connection stays usable.
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
        self.simple_query_inner(sql, false).await.map(drop)
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
        self.simple_query_inner(sql, true).await
    }

    async fn simple_query_inner(
        &mut self,
        sql: &str,
        keep_rows: bool,
    ) -> Result<Vec<SimpleQueryMessage>, Error> {
        self.ready().await?;
        self.write_simple(sql)?;
        self.read_simple(keep_rows).await
    }

    /// Writes a simple Query into the write buffer (refusing it in an aborted transaction)
    /// and counts its ReadyForQuery as owed. Nothing is awaited, so a caller can set up a
    /// guard between writing and reading.
    pub(crate) fn write_simple(&mut self, sql: &str) -> Result<(), Error> {
        self.check_allowed(sql)?;
        frontend::query(sql, &mut self.write_buf)?;
        self.session.expect_ready(1);
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
        let mut columns: Option<SimpleColumns> = None;
        loop {
            let msg = match self.next_response().await {
                Ok(msg) => msg,
                // A FATAL error is followed by the server closing the socket: report the
                // server's reason, not the EOF.
                Err(e) => return Err(first_error.unwrap_or(e)),
            };
            match msg {
                Message::ReadyForQuery(_) => break,
                Message::RowDescription(desc) => {
                    if keep_rows {
                        columns = Some(SimpleColumns::from_description(&desc)?);
                    }
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
                    let err = self.fail(err);
                    first_error.get_or_insert(err);
                }
                Message::CopyInResponse(_) => {
                    // The server now waits for data this call cannot provide: refuse cleanly so
                    // the statement fails and the session carries on.
                    frontend::copy_fail(
                        "COPY FROM STDIN is not supported through simple_query/batch_execute",
                        &mut self.write_buf,
                    )?;
                    self.flush().await?;
                }
                Message::EmptyQueryResponse
                | Message::CopyOutResponse(_)
                | Message::CopyData(_)
                | Message::CopyDone => {}
                other => return Err(self.unexpected(other.name(), "a simple query response")),
            }
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
        frontend::terminate(&mut self.write_buf);
        self.broken = true;
        flush(&mut self.socket, &mut self.write_buf).await?;
        self.socket.shutdown().await?;
        Ok(())
    }

    /// Checks, without waiting, that an idle connection is still open: anything the server
    /// sent while nothing was asked (a FATAL from `pg_terminate_backend`, an idle-session
    /// timeout, EOF) is read now, asynchronous messages are absorbed, and anything else marks
    /// the connection broken. Returns whether it can still be used. A pool calls this before
    /// handing a connection out, so a dead one is replaced instead of failing a query.
    pub(crate) fn probe_idle(&mut self) -> bool {
        if self.broken || !self.write_buf.is_empty() || self.session.owed() > 0 {
            return !self.broken;
        }
        loop {
            make_read_room(&mut self.read_buf);
            match self.socket.try_read_buf(&mut self.read_buf) {
                Ok(0) => {
                    self.broken = true;
                    return false;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
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
                    Ok(Some(other)) => {
                        let _ = self.unexpected(other.name(), "nothing (the connection is idle)");
                        return false;
                    }
                    Err(_) => return false,
                },
                Err(_) => return false,
            }
        }
    }

    /// Flushes what an interrupted call left unwritten and drains every response still owed,
    /// so the next request starts on a clean stream.
    pub(crate) async fn ready(&mut self) -> Result<(), Error> {
        if self.broken {
            return Err(Error::closed());
        }
        if self.write_buf.is_empty() && self.session.owed() == 0 {
            return Ok(());
        }
        if self.group_open {
            frontend::sync(&mut self.write_buf);
            self.group_open = false;
        }
        self.flush().await?;
        while self.session.owed() > 0 {
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
        let result = flush(&mut self.socket, &mut self.write_buf).await;
        result.map_err(|e| self.fail(e))
    }

    /// The next response to a request, with asynchronous messages (notices, notifications,
    /// parameter changes) absorbed on the way. A ReadyForQuery is returned as such after the
    /// session has recorded it.
    pub(crate) async fn next_response(&mut self) -> Result<Message, Error> {
        loop {
            // Messages already buffered are handled without touching the socket or an await:
            // while a large result streams in, most calls end here.
            while let Some(msg) = self.decode_buffered()? {
                if let Some(msg) = self.absorb(msg)? {
                    return Ok(msg);
                }
            }
            self.fill_read_buf().await?;
        }
    }

    /// Reads one message. Asynchronous ones (notices, notifications, parameter changes) are
    /// absorbed and give `None`; responses and ReadyForQuery are returned. Cancel-safe.
    pub(crate) async fn read_one(&mut self) -> Result<Option<Message>, Error> {
        loop {
            if let Some(msg) = self.decode_buffered()? {
                return self.absorb(msg);
            }
            self.fill_read_buf().await?;
        }
    }

    /// Takes one complete message off the read buffer, if there is one.
    fn decode_buffered(&mut self) -> Result<Option<Message>, Error> {
        backend::decode(&mut self.read_buf, self.max_message_len).map_err(|e| self.fail(e.into()))
    }

    /// Splits every complete DataRow at the front of the read buffer off in one run (see
    /// [`framing::split_data_rows`]), for the row readers' fast path; `None` when the buffer
    /// does not start with one. A DataRow needs nothing from the session, so skipping
    /// [`Connection::next_response`] for it loses nothing.
    pub(crate) fn buffered_data_rows(&mut self) -> Option<bytes::Bytes> {
        framing::split_data_rows(&mut self.read_buf, self.max_message_len)
    }

    /// Reads more bytes into the read buffer. Cancel-safe: bytes read stay in the buffer.
    async fn fill_read_buf(&mut self) -> Result<(), Error> {
        let result = fill(&mut self.socket, &mut self.read_buf).await;
        result.map_err(|e| self.fail(e))
    }

    /// Lets the session record what it tracks; `None` for an absorbed asynchronous message.
    fn absorb(&mut self, msg: Message) -> Result<Option<Message>, Error> {
        match self.session.handle(msg) {
            Ok(Incoming::Response(msg)) => Ok(Some(msg)),
            Ok(Incoming::Ready(status)) => Ok(Some(Message::ReadyForQuery(status))),
            Ok(Incoming::Notice(fields)) => {
                deliver_notice(self.notice_handler.as_ref(), &fields);
                Ok(None)
            }
            Ok(Incoming::Notification(n)) => {
                self.notifications.push_back(n);
                Ok(None)
            }
            Ok(Incoming::ParameterChanged) => Ok(None),
            Err(e) => Err(self.fail(e.into())),
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
            // Nothing is owed, so only asynchronous messages may arrive, or the FATAL error a
            // server sends before it ends the session (e.g. pg_terminate_backend).
            match self.read_one().await? {
                None => {}
                Some(Message::ErrorResponse(fields)) => {
                    let err = db_error(&fields);
                    return Err(self.fail(err));
                }
                Some(msg) => {
                    return Err(self.unexpected(msg.name(), "an asynchronous message while idle"))
                }
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
        }
        err
    }

    /// A protocol error for a message that has no place in the current exchange; the stream is
    /// out of step, so the connection is marked broken.
    pub(crate) fn unexpected(&mut self, message: &'static str, expected: &'static str) -> Error {
        self.fail(crate::proto::ProtoError::Unexpected { message, expected }.into())
    }

    /// Records that a Sync group was opened (Parse/Describe ending in Flush): its
    /// ReadyForQuery is owed from now on, so an interruption is resolved by `ready`.
    pub(crate) fn open_group(&mut self) {
        if !self.group_open {
            self.session.expect_ready(1);
            self.group_open = true;
        }
    }

    /// Records that a Sync was just written: it closes the open group, or is a group of its
    /// own.
    pub(crate) fn commit_group(&mut self) {
        if self.group_open {
            self.group_open = false;
        } else {
            self.session.expect_ready(1);
        }
    }

    /// Closes the open group with Sync and reads up to its ReadyForQuery, returning the first
    /// error the server reported in it.
    pub(crate) async fn finish_group(&mut self) -> Result<(), Error> {
        frontend::sync(&mut self.write_buf);
        self.commit_group();
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
        match frontend::query(sql, &mut self.write_buf) {
            Ok(()) => self.session.expect_ready(1),
            Err(e) => log::warn!("could not queue {sql:?}: {e}"),
        }
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    pub(crate) fn write_buf(&mut self) -> &mut BytesMut {
        &mut self.write_buf
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Say goodbye so the server does not log an unexpected EOF, when that can be done
        // without waiting and without splitting a half-written message.
        if !self.broken && self.write_buf.is_empty() {
            let mut bye = BytesMut::with_capacity(5);
            frontend::terminate(&mut bye);
            let _ = self.socket.try_write(&bye);
        }
    }
}

/// Writes all of `buf`, advancing it as bytes go out so an interrupted flush resumes where it
/// stopped.
async fn flush(socket: &mut Socket, buf: &mut BytesMut) -> Result<(), Error> {
    while !buf.is_empty() {
        let n = socket.write(buf).await?;
        if n == 0 {
            return Err(Error::io(io::ErrorKind::WriteZero.into()));
        }
        buf.advance(n);
    }
    Ok(())
}

/// Reads until one whole message is buffered and decodes it. Cancel-safe: bytes read stay in
/// `buf`, and a message is only taken off once it is complete.
async fn read_message(
    socket: &mut Socket,
    buf: &mut BytesMut,
    max_message_len: usize,
) -> Result<Message, Error> {
    loop {
        if let Some(msg) = backend::decode(buf, max_message_len)? {
            return Ok(msg);
        }
        fill(socket, buf).await?;
    }
}

/// Reads whatever the socket has into `buf`, growing it by a large chunk when it runs low.
/// Cancel-safe.
async fn fill(socket: &mut Socket, buf: &mut BytesMut) -> Result<(), Error> {
    make_read_room(buf);
    if socket.read_buf(buf).await? == 0 {
        return Err(Error::closed().with_message("the server closed the connection"));
    }
    Ok(())
}

/// Grows the read buffer by a whole chunk when little room is left, so each read can take
/// up to a chunk in one system call.
pub(crate) fn make_read_room(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < READ_CHUNK / 4 {
        buf.reserve(READ_CHUNK);
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
fn deliver_notice(handler: Option<&NoticeHandler>, fields: &ErrorFields) {
    match DbError::from_fields(fields) {
        Ok(notice) => match handler {
            Some(handler) => handler.call(&notice),
            None => log::info!("server notice: {notice}"),
        },
        Err(e) => log::warn!("unreadable server notice: {e}"),
    }
}
