//! psycopg's named (server-side) cursor: `DECLARE name CURSOR FOR query`, then rows fetched
//! from the server `itersize` at a time with `FETCH FORWARD`, and `CLOSE` at the end.
//!
//! The query runs once, on the server; the client holds at most one batch. The fetch methods
//! and `rownumber` behave like the buffered [`Cursor`](crate::Cursor)'s.
//!
//! A cursor without `WITH HOLD` exists only inside a transaction. When the connection is idle,
//! [`ServerCursor::execute`] therefore starts one (`BEGIN`) and the cursor ends it (`COMMIT`)
//! when it is closed or dropped, the way psycopg runs a named cursor in a transaction of its
//! own. A `WITH HOLD` cursor needs no transaction: it survives the commit of the one it was
//! declared in (or runs in autocommit) and lives until it is closed.
//!
//! How each part travels:
//! - DECLARE goes through the extended protocol (so the query takes `$n` parameters), followed
//!   in the same round trip by a Describe of the new cursor, which gives the result columns.
//! - Each FETCH is sent as an unnamed statement with the result formats chosen from those
//!   columns (binary where tusk has a codec), in one round trip. It is deliberately not cached:
//!   a cached `FETCH ... FROM name` would keep the columns of whatever query the name was
//!   first declared for.
//! - CLOSE (and the COMMIT of a transaction the cursor started) are simple queries; from
//!   `Drop` they are queued to run before the connection's next request.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::client::connection::{db_error, Connection};
use crate::client::query::{Params, QueryRef};
use crate::client::row::Row;
use crate::client::statement::{columns_from, retype, Column, SharedColumns};
use crate::error::Error;
use crate::proto::backend::Message;
use crate::proto::frontend::BindError;
use crate::proto::ProtoError;
use crate::trace;
use crate::TransactionStatus;

/// The default number of rows per FETCH, as in psycopg.
pub const DEFAULT_ITERSIZE: u32 = 100;

/// A named server-side cursor. Created by [`Connection::server_cursor`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// # conn.batch_execute("CREATE TEMP TABLE events (id int8, payload text, kind text); \
/// #     INSERT INTO events SELECT i, 'p', 'click' FROM generate_series(1, 1200) i").await?;
/// let mut cur = conn.server_cursor("big").itersize(500);
/// cur.execute("SELECT id, payload FROM events WHERE kind = $1", &[&"click"]).await?;
/// while let Some(row) = cur.fetch_one().await? {   // one FETCH per 500 rows
///     let id: i64 = row.get("id");
///     # let _ = id;
/// }
/// cur.close().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ServerCursor<'c> {
    conn: &'c mut Connection,
    name: String,
    quoted_name: String,
    itersize: u32,
    with_hold: bool,
    /// DECLARE has been written (and not yet followed by CLOSE): the cursor may exist on the
    /// server, so closing or dropping must CLOSE it.
    declared: bool,
    /// This cursor sent BEGIN and must end the transaction.
    owns_transaction: bool,
    result: Option<Fetched>,
}

#[derive(Debug)]
struct Fetched {
    columns: SharedColumns,
    rows: VecDeque<Row>,
    position: usize,
    /// A FETCH returned fewer rows than asked: the cursor is at its end.
    exhausted: bool,
}

impl Connection {
    /// A named server-side cursor; set it up with [`itersize`](ServerCursor::itersize) and
    /// [`with_hold`](ServerCursor::with_hold), then [`execute`](ServerCursor::execute) a query.
    ///
    /// The name is quoted as an identifier (so it is case-sensitive and may hold any
    /// character but NUL), and may be at most 63 bytes long, PostgreSQL's identifier limit;
    /// a longer one is refused when the cursor is executed, before anything is sent.
    pub fn server_cursor(&mut self, name: &str) -> ServerCursor<'_> {
        ServerCursor {
            conn: self,
            name: name.to_owned(),
            quoted_name: quote_identifier(name),
            itersize: DEFAULT_ITERSIZE,
            with_hold: false,
            declared: false,
            owns_transaction: false,
            result: None,
        }
    }
}

/// `name` as a double-quoted SQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl<'c> ServerCursor<'c> {
    /// Rows per FETCH (at least 1; default [`DEFAULT_ITERSIZE`]).
    pub fn itersize(mut self, rows: u32) -> Self {
        self.itersize = rows.max(1);
        self
    }

    /// Declares the cursor `WITH HOLD`: it outlives the transaction it was declared in.
    pub fn with_hold(mut self, hold: bool) -> Self {
        self.with_hold = hold;
        self
    }

    /// The cursor's name, unquoted.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Rows per FETCH.
    pub fn get_itersize(&self) -> u32 {
        self.itersize
    }

    /// Whether the cursor is declared `WITH HOLD`.
    pub fn is_with_hold(&self) -> bool {
        self.with_hold
    }

    /// Declares the cursor for `sql` (a SELECT or VALUES query, with `$n` parameters),
    /// closing the one an earlier `execute` declared. No row is fetched yet.
    pub async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<(), Error> {
        // An `async` block of its own, so that its `?`s end it and the settling below sees
        // every error.
        let result = trace::traced!(
            trace::command(&self.conn.trace, "DECLARE", Some(sql)),
            async {
                crate::client::check_identifier("a server cursor's name", &self.name)?;
                self.conn.ready().await?;
                self.result = None;
                // Clear what an earlier execute left: its cursor, and a transaction of this cursor's
                // that has failed (or that was ended through `connection()`).
                let status = self.conn.transaction_status();
                let mut cleanup = Vec::new();
                if self.declared && self.cursor_may_exist(status) {
                    cleanup.push(format!("CLOSE {}", self.quoted_name));
                }
                if self.owns_transaction && status != TransactionStatus::InTransaction {
                    if status == TransactionStatus::Failed {
                        cleanup.push("ROLLBACK".to_owned());
                    }
                    self.owns_transaction = false;
                }
                self.declared = false;
                if !cleanup.is_empty() {
                    self.conn.write_simple(&cleanup.join("; "))?;
                    self.conn.read_simple(false).await?;
                }
                if !self.with_hold && self.conn.transaction_status() == TransactionStatus::Idle {
                    self.conn.write_simple("BEGIN")?;
                    // Set before awaiting: if this future is dropped, the cursor's Drop ends the
                    // transaction.
                    self.owns_transaction = true;
                    self.conn.read_simple(false).await?;
                }
                match self.declare(sql, params).await {
                    Ok(columns) => {
                        self.result = Some(Fetched {
                            columns,
                            rows: VecDeque::new(),
                            position: 0,
                            exhausted: false,
                        });
                        Ok(())
                    }
                    Err(e) => {
                        self.declared = false;
                        if self.owns_transaction && !self.conn.is_closed() {
                            // The failed DECLARE aborted the transaction this cursor started: end it,
                            // leaving the connection idle as it was.
                            self.owns_transaction = false;
                            self.conn.write_simple("ROLLBACK")?;
                            self.conn.read_simple(false).await?;
                        }
                        Err(e)
                    }
                }
            }
            .await
        );
        self.conn.settle_if_timed_out(result).await
    }

    /// DECLARE, then Describe of the cursor (a portal of the same name), in one Sync group.
    async fn declare(&mut self, sql: &str, params: Params<'_>) -> Result<SharedColumns, Error> {
        let hold = if self.with_hold { "WITH" } else { "WITHOUT" };
        let declare = format!(
            "DECLARE {} NO SCROLL CURSOR {hold} HOLD FOR {sql}",
            self.quoted_name
        );
        let conn = &mut *self.conn;
        let stmt = conn.statement_for(QueryRef::Sql(&declare), params).await?;
        conn.write_bind("", &stmt, params)?;
        let mut requests = conn.requests();
        requests.execute("", 0)?;
        requests.describe_portal(&self.name)?;
        requests.sync();
        self.declared = true;
        conn.flush().await?;

        let mut columns = None;
        let mut first_error = None;
        loop {
            let msg = match conn.next_response().await {
                Ok(msg) => msg,
                Err(e) => return Err(first_error.unwrap_or(e)),
            };
            match msg {
                Message::ReadyForQuery(_) => break,
                Message::RowDescription(desc) => {
                    let described =
                        columns_from(&desc, &conn.types).map_err(|e| conn.fail(e.into()))?;
                    columns = Some(described);
                }
                Message::ErrorResponse(fields) => {
                    let err = db_error(&fields);
                    first_error.get_or_insert(conn.fail(err));
                }
                // BindComplete, CloseComplete, CommandComplete, NoData: checked by the
                // exchange. (A cursor always has columns: NoData leaves `columns` empty.)
                _ => {}
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        if let Some(described) = &mut columns {
            // The FETCH statements read these columns with the types their own description
            // resolves from the catalog; the cursor's columns must agree (same types, same
            // formats), so they are resolved here first (the group has ended).
            let missing = conn.types_to_look_up(&[], described);
            if !missing.is_empty() {
                conn.look_up_types(missing).await?;
                retype(&mut [], described, &conn.types);
            }
        }
        columns.map(Arc::from).ok_or_else(|| {
            conn.fail(
                ProtoError::Unexpected {
                    expected: "the row description of the declared cursor",
                    got: "NoData",
                }
                .into(),
            )
        })
    }

    /// Fetches up to `count` rows (all the rest for `None`) into `into`; marks the result
    /// exhausted when fewer come back.
    async fn fetch(&mut self, count: Option<usize>, into: FetchInto) -> Result<Vec<Row>, Error> {
        let result = self.result.as_ref().ok_or_else(no_result)?;
        let columns = result.columns.clone();
        let conn = &mut *self.conn;
        // FETCH takes a 32-bit count; larger requests are fetched in parts by the caller.
        let count = count.map(|n| n.min(i32::MAX as usize));
        let rows = trace::traced!(
            trace::command(&conn.trace, "FETCH", None),
            async {
                conn.ready().await?;
                conn.check_allowed("FETCH")?;
                let sql = match count {
                    Some(n) => format!("FETCH FORWARD {n} FROM {}", self.quoted_name),
                    None => format!("FETCH FORWARD ALL FROM {}", self.quoted_name),
                };
                write_fetch(conn, &sql, &columns)?;
                let mut requests = conn.requests();
                requests.execute("", 0)?;
                requests.sync();
                conn.flush().await?;

                let mut rows = Vec::new();
                conn.read_rows_to_ready(&columns, "a server cursor", &mut rows)
                    .await?;
                Ok::<_, Error>(rows)
            }
            .await
        );
        let rows = conn.settle_if_timed_out(rows).await?;
        let result = self.result.as_mut().ok_or_else(no_result)?;
        if count.is_none_or(|n| rows.len() < n) {
            result.exhausted = true;
        }
        match into {
            FetchInto::Buffer => {
                result.rows.extend(rows);
                Ok(Vec::new())
            }
            FetchInto::Caller => {
                result.position += rows.len();
                Ok(rows)
            }
        }
    }

    fn result_mut(&mut self) -> Result<&mut Fetched, Error> {
        self.result.as_mut().ok_or_else(no_result)
    }

    /// The next row, or `None` at the end; fetches `itersize` rows when the buffer is empty.
    pub async fn fetch_one(&mut self) -> Result<Option<Row>, Error> {
        let result = self.result_mut()?;
        if result.rows.is_empty() && !result.exhausted {
            let itersize = self.itersize as usize;
            self.fetch(Some(itersize), FetchInto::Buffer).await?;
        }
        Ok(self.take_buffered())
    }

    /// Up to `n` next rows (fewer at the end): buffered rows first, the rest with one
    /// `FETCH FORWARD` of exactly what is missing.
    pub async fn fetch_many(&mut self, n: usize) -> Result<Vec<Row>, Error> {
        let result = self.result_mut()?;
        let take = n.min(result.rows.len());
        result.position += take;
        let mut out: Vec<Row> = result.rows.drain(..take).collect();
        while out.len() < n && !self.result_mut()?.exhausted {
            let more = self.fetch(Some(n - out.len()), FetchInto::Caller).await?;
            out.extend(more);
        }
        Ok(out)
    }

    /// Every remaining row (`FETCH FORWARD ALL`).
    pub async fn fetch_all(&mut self) -> Result<Vec<Row>, Error> {
        let result = self.result_mut()?;
        result.position += result.rows.len();
        let mut out: Vec<Row> = result.rows.drain(..).collect();
        if !result.exhausted {
            out.extend(self.fetch(None, FetchInto::Caller).await?);
        }
        Ok(out)
    }

    /// Takes a buffered row, counting it.
    fn take_buffered(&mut self) -> Option<Row> {
        let result = self.result.as_mut()?;
        let row = result.rows.pop_front()?;
        result.position += 1;
        Some(row)
    }

    /// The index of the next row to fetch (rows handed out so far); `None` before
    /// [`execute`](ServerCursor::execute).
    pub fn rownumber(&self) -> Option<usize> {
        self.result.as_ref().map(|r| r.position)
    }

    /// The result columns (empty before [`execute`](ServerCursor::execute)).
    pub fn columns(&self) -> &[Column] {
        self.result.as_ref().map_or(&[], |r| &r.columns[..])
    }

    /// The connection under this cursor, e.g. to `COMMIT` the transaction a `WITH HOLD`
    /// cursor was declared in and go on fetching.
    ///
    /// Ending a transaction the cursor started itself (see the module notes) destroys a
    /// cursor declared without hold; its next fetch fails.
    pub fn connection(&mut self) -> &mut Connection {
        self.conn
    }

    /// Closes the cursor (`CLOSE`) and ends the transaction it started, if it started one.
    ///
    /// In a transaction aborted by an error the cursor is not closed explicitly: rolling back
    /// destroys it (unless it is a `WITH HOLD` cursor from an earlier, committed transaction,
    /// which then stays open until the session ends).
    pub async fn close(mut self) -> Result<(), Error> {
        self.conn.ready().await?;
        let sql = self.closing_sql(true).join("; ");
        self.declared = false;
        self.owns_transaction = false;
        self.result = None;
        if sql.is_empty() {
            return Ok(());
        }
        self.conn.write_simple(&sql)?;
        let closed = self.conn.read_simple(false).await.map(drop);
        self.conn.settle_if_timed_out(closed).await
    }

    /// Whether a declared cursor can still exist and be closed in `status`: in an aborted
    /// transaction it cannot be closed (the rollback destroys it), and outside a transaction
    /// only a held cursor is left.
    fn cursor_may_exist(&self, status: TransactionStatus) -> bool {
        match status {
            TransactionStatus::InTransaction => true,
            TransactionStatus::Idle => self.with_hold,
            TransactionStatus::Failed => false,
        }
    }

    /// The statements that end this cursor in the current transaction state. The status is
    /// `current` after `ready`; from `Drop` it may lag behind requests still unanswered (a
    /// BEGIN or DECLARE whose reply was never read), so a transaction the cursor started is
    /// then ended whatever the status says.
    fn closing_sql(&self, current: bool) -> Vec<String> {
        let status = self.conn.transaction_status();
        let mut sql = Vec::new();
        if self.declared && self.cursor_may_exist(status) {
            sql.push(format!("CLOSE {}", self.quoted_name));
        }
        if self.owns_transaction && (!current || status != TransactionStatus::Idle) {
            // An aborted transaction can only be rolled back (the server would take a COMMIT
            // as a rollback too, but tusk refuses it locally).
            let end = if status == TransactionStatus::Failed {
                "ROLLBACK"
            } else {
                "COMMIT"
            };
            sql.push(end.to_owned());
        }
        sql
    }

    /// The rows as a [`Stream`], fetched `itersize` at a time; the cursor is closed (as by
    /// drop) when the stream ends or is dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// let mut cur = conn.server_cursor("c").itersize(1000);
    /// cur.execute("SELECT i FROM generate_series(1, 100000) i", &[]).await?;
    /// let mut rows = cur.into_stream();
    /// while let Some(row) = rows.try_next().await? {
    ///     let _i: i32 = row.get(0);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_stream(self) -> ServerCursorStream<'c> {
        ServerCursorStream {
            state: StreamState::Idle(self),
        }
    }
}

/// Where fetched rows go: the cursor's buffer, or straight back to the caller.
#[derive(Clone, Copy)]
enum FetchInto {
    Buffer,
    Caller,
}

fn no_result() -> Error {
    Error::usage("the server cursor has not executed a query to fetch from")
}

/// Writes Parse and Bind of `sql` as the unnamed statement, asking for each result column in
/// the format its [`Column`] names.
fn write_fetch(conn: &mut Connection, sql: &str, columns: &[Column]) -> Result<(), Error> {
    conn.write_pending_closes()?;
    let mut requests = conn.requests();
    requests.parse("", sql, &[])?;
    let formats: Vec<i16> = columns.iter().map(|c| c.format() as i16).collect();
    let no_params: [(); 0] = [];
    let bound = requests.bind(
        "",
        "",
        &[],
        no_params,
        |(), _| Ok::<_, std::convert::Infallible>(crate::proto::IsNull::Yes),
        &formats,
    );
    if bound.is_err() {
        // The Parse is written: end its group.
        requests.sync();
    }
    bound.map_err(|e| match e {
        BindError::Proto(e) => Error::from(e),
        BindError::Param { error, .. } => match error {},
    })
}

impl Drop for ServerCursor<'_> {
    fn drop(&mut self) {
        if self.conn.is_closed() {
            return;
        }
        // Each statement queued on its own, so a CLOSE that fails cannot keep the COMMIT
        // behind it from running.
        for sql in self.closing_sql(false) {
            self.conn.queue_simple(&sql);
        }
    }
}

/// A [`ServerCursor`] as a [`Stream`] of rows; see [`ServerCursor::into_stream`].
pub struct ServerCursorStream<'c> {
    state: StreamState<'c>,
}

type FetchFuture<'c> =
    Pin<Box<dyn Future<Output = (ServerCursor<'c>, Result<(), Error>)> + Send + 'c>>;

enum StreamState<'c> {
    /// Between fetches, with rows possibly buffered.
    Idle(ServerCursor<'c>),
    /// A FETCH under way; the future gives the cursor back.
    Fetching(FetchFuture<'c>),
    /// Ended (the cursor dropped, queuing its CLOSE).
    Done,
}

impl std::fmt::Debug for ServerCursorStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            StreamState::Idle(_) => "idle",
            StreamState::Fetching(_) => "fetching",
            StreamState::Done => "done",
        };
        f.debug_struct("ServerCursorStream")
            .field("state", &state)
            .finish()
    }
}

impl ServerCursorStream<'_> {
    /// The next row, `None` at the end: the same as `futures_util::TryStreamExt::try_next`,
    /// without needing that trait.
    pub async fn try_next(&mut self) -> Result<Option<Row>, Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }
}

impl Stream for ServerCursorStream<'_> {
    type Item = Result<Row, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, StreamState::Done) {
                StreamState::Done => return Poll::Ready(None),
                StreamState::Idle(mut cur) => {
                    if let Some(row) = cur.take_buffered() {
                        this.state = StreamState::Idle(cur);
                        return Poll::Ready(Some(Ok(row)));
                    }
                    match &cur.result {
                        None => return Poll::Ready(Some(Err(no_result()))),
                        // The end: dropping the cursor queues its CLOSE.
                        Some(result) if result.exhausted => return Poll::Ready(None),
                        Some(_) => {}
                    }
                    let itersize = cur.itersize as usize;
                    this.state = StreamState::Fetching(Box::pin(async move {
                        let fetched = cur.fetch(Some(itersize), FetchInto::Buffer).await;
                        (cur, fetched.map(drop))
                    }));
                }
                StreamState::Fetching(mut fut) => match fut.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = StreamState::Fetching(fut);
                        return Poll::Pending;
                    }
                    Poll::Ready((cur, Ok(()))) => this.state = StreamState::Idle(cur),
                    Poll::Ready((_cur, Err(e))) => return Poll::Ready(Some(Err(e))),
                },
            }
        }
    }
}

impl FusedStream for ServerCursorStream<'_> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, StreamState::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_as_identifiers() {
        assert_eq!(quote_identifier("c"), "\"c\"");
        assert_eq!(quote_identifier("Mixed Case"), "\"Mixed Case\"");
        assert_eq!(quote_identifier("a\"b\"\""), "\"a\"\"b\"\"\"\"\"");
        assert_eq!(
            quote_identifier("x\"; DROP TABLE t; --"),
            "\"x\"\"; DROP TABLE t; --\""
        );
    }

    #[test]
    fn cursors_and_their_streams_can_move_between_tasks() {
        fn send_unpin<T: Send + Unpin>() {}
        send_unpin::<ServerCursor<'static>>();
        send_unpin::<ServerCursorStream<'static>>();
        send_unpin::<crate::RowStream<'static>>();
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::Portal>();
    }
}
