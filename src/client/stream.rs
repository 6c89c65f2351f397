//! Row streaming: [`Connection::query_stream`] returns a [`RowStream`], a
//! [`Stream`](futures_core::Stream) of rows read from the socket only as the consumer polls
//! for them, so a result of any size is processed in bounded memory.
//!
//! # How rows are requested
//!
//! The statement is bound to the unnamed portal and executed in batches:
//! `Bind, Execute(n), Flush`, and after each PortalSuspended another `Execute(n), Flush`. Once
//! the first PortalSuspended has shown that the portal can be resumed, the stream keeps two
//! Executes in flight, so the server starts the next batch while the consumer works through the
//! current one and no round trip is lost between batches. (Not before: a portal that never
//! suspends, such as a plain INSERT, cannot be executed a second time, and that error would
//! roll back the statement's implicit transaction.) Backpressure is TCP's: nothing is read
//! while the consumer does not poll, the socket buffers fill, and the server blocks.
//!
//! The other design, one `Execute(0), Sync` with the server pushing every row, is available as
//! `query_stream_batched(.., 0)`. From about a thousand rows per batch up both stream at the
//! same speed: `examples/streaming.rs compare` on a million-row (int8, text, float8,
//! timestamptz) table, release build, best of five, gave 4.4 M rows/s for `Execute(0)` and
//! 3.6, 4.3, 4.6, 4.6 and 4.4 M rows/s for batches of 256, 1,024, 4,096, 16,384 and 65,536
//! rows, with the same 3.6 MiB peak RSS in every case. They differ when a stream is dropped
//! half-way: the connection's next call then has to read what the server still sends. With
//! batches that is at most the two batches in flight ([`DEFAULT_BATCH_ROWS`] rows each); with
//! `Execute(0)` it is the whole rest of the result. So the batched form is the default.
//!
//! # Memory
//!
//! Each [`Row`] keeps a reference to the chunk of the connection's read buffer it was read
//! into, so rows the consumer still holds keep their chunks alive; the read buffer itself does
//! not grow (a chunk still shared with rows is left to them and a fresh one allocated, of the
//! same 64 KiB, so memory stays proportional to the rows held, plus one chunk).
//!
//! # Cancellation
//!
//! Every Execute is written into the connection's write buffer whole, inside a Sync group
//! whose ReadyForQuery is counted as owed from the start. Dropping the stream (or the
//! `query_stream` future) at any point leaves the group to `Connection::ready`, which closes
//! it with Sync and reads the remaining responses before the next request.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::client::connection::{copy_refused_error, db_error, Connection};
use crate::client::query::{Params, ToStatement};
use crate::client::row::Row;
use crate::client::statement::{Column, SharedColumns};
use crate::error::Error;
use crate::proto::backend::Message;
use crate::trace;

/// Rows per Execute of [`Connection::query_stream`].
///
/// Large enough that the per-batch messages cost nothing measurable, small enough that
/// dropping a stream early discards little: at most two batches are in flight.
pub const DEFAULT_BATCH_ROWS: u32 = 4096;

/// How many Executes a batched stream keeps in flight once the portal has been suspended
/// once: the batch being read and the next one.
const EXECUTES_AHEAD: u32 = 2;

/// A stream of result rows, read from the connection as it is polled.
///
/// Created by [`Connection::query_stream`]. It borrows the connection; dropping it before the
/// end is fine (the connection's next call discards the rest). Errors the server raises
/// mid-way (a division by zero at row 500, a failed commit) arrive as an `Err` item, after
/// which the stream ends; the connection stays usable.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// let mut rows = conn
///     .query_stream("SELECT i FROM generate_series(1, $1) i", &[&1_000_000i32])
///     .await?;
/// let mut sum = 0i64;
/// while let Some(row) = rows.try_next().await? {
///     sum += i64::from(row.get::<_, i32>(0));
/// }
/// assert_eq!(rows.rows_affected(), Some(1_000_000));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RowStream<'c> {
    conn: &'c mut Connection,
    columns: SharedColumns,
    /// Rows per Execute; 0 for the single `Execute(0), Sync`.
    batch_rows: i32,
    /// Executes sent whose PortalSuspended or CommandComplete has not arrived yet.
    in_flight: u32,
    /// A PortalSuspended has arrived, so the portal can be resumed (and executing it again
    /// once it has finished returns no rows rather than an error).
    resumable: bool,
    /// Rows taken off the read buffer in one go (see [`Connection::buffered_data_rows`]) and
    /// not yielded yet: at most one socket read's worth.
    buffered: VecDeque<Row>,
    /// The error of a malformed row met while filling `buffered`, for after its rows.
    malformed: Option<Error>,
    /// Rows yielded so far.
    rows_seen: u64,
    rows_affected: Option<u64>,
    phase: Phase,
    /// The query's span, open until the stream is dropped (feature `tracing`; zero-sized
    /// without): the rows are recorded on it when the result ends.
    span: trace::Span,
}

#[derive(Debug)]
enum Phase {
    /// Reading rows.
    Rows,
    /// The result ended or failed: reading up to ReadyForQuery, then yielding `error`.
    Closing { error: Option<Error> },
    /// Every later poll yields `None`.
    Done,
}

impl Connection {
    /// Runs a query and returns its rows as a [`Stream`](futures_core::Stream), read from
    /// the socket only as the stream is polled ([`DEFAULT_BATCH_ROWS`] rows per Execute).
    ///
    /// The statement is parsed and bound before this returns, so a bad query or parameter is
    /// reported here; errors raised while the rows are produced come as an `Err` item.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// # conn.batch_execute("CREATE TEMP TABLE big_table AS SELECT generate_series(1, 1000) n")
    /// #     .await?;
    /// use futures_util::StreamExt;
    ///
    /// let stream = conn.query_stream("SELECT n FROM big_table", &[]).await?;
    /// let count = stream.fold(0u64, |n, row| async move { n + u64::from(row.is_ok()) }).await;
    /// println!("{count} rows");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn query_stream<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> Result<RowStream<'_>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.query_stream_batched(query, params, DEFAULT_BATCH_ROWS)
            .await
    }

    /// [`query_stream`](Connection::query_stream) with `batch_rows` rows per Execute.
    ///
    /// `0` sends a single `Execute(0), Sync`: the server pushes the whole result (still read
    /// only as fast as the stream is polled), and a stream dropped early makes the
    /// connection's next call read the whole rest. `batch_rows` must fit an `i32`.
    pub async fn query_stream_batched<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
        batch_rows: u32,
    ) -> Result<RowStream<'_>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        let span = trace::span!(trace::statement_ref(&self.trace, query.query_ref()));
        trace::traced!(span.clone(), {
            let batch_rows = i32::try_from(batch_rows).map_err(|_| {
                Error::usage(format!(
                    "a stream batch of {batch_rows} rows does not fit the protocol's row limit \
                     ({})",
                    i32::MAX
                ))
            })?;
            let stmt = self.statement_for(query.query_ref(), params).await?;
            self.write_bind("", &stmt, params)?;
            let mut requests = self.requests();
            requests.execute("", batch_rows)?;
            if batch_rows == 0 {
                requests.sync();
            } else {
                // The group stays open; `ready` closes it with Sync if this stream goes away
                // early.
                requests.flush();
            }
            self.flush().await?;
            loop {
                match self.next_response().await? {
                    Message::BindComplete => break,
                    Message::ErrorResponse(fields) => {
                        let err = db_error(&fields);
                        let err = self.fail(err);
                        self.cache.forget_if_stale(&stmt, &err);
                        // Close the group and read up to its ReadyForQuery, so the transaction
                        // status is current when the error is returned.
                        if let Err(resync) = self.ready().await {
                            log::debug!("could not resynchronise after a failed Bind: {resync}");
                        }
                        return Err(err);
                    }
                    // CloseComplete of queued closes.
                    _ => {}
                }
            }
            // Started: from now on each wait for rows gets the statement timeout of its own
            // (see `deadline.rs`), so a consumer that takes its time is not cut off.
            self.deadline.each_wait();
            Ok(RowStream {
                conn: self,
                columns: stmt.shared_columns().clone(),
                batch_rows,
                in_flight: 1,
                resumable: false,
                buffered: VecDeque::new(),
                malformed: None,
                rows_seen: 0,
                rows_affected: None,
                phase: Phase::Rows,
                span,
            })
        })
    }
}

impl RowStream<'_> {
    /// The result columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Rows returned or affected, from the command tag, once the stream has ended without an
    /// error (`None` before, and for commands that report no count).
    pub fn rows_affected(&self) -> Option<u64> {
        self.rows_affected
    }

    /// The next row, `None` at the end: the same as `futures_util::TryStreamExt::try_next`,
    /// without needing that trait. Cancel-safe: a dropped call loses no row.
    pub async fn try_next(&mut self) -> Result<Option<Row>, Error> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// Writes Executes until the target number is in flight: one before the portal has been
    /// suspended once, two after.
    fn request_batches(&mut self) -> Result<(), Error> {
        let target = if self.resumable { EXECUTES_AHEAD } else { 1 };
        if self.in_flight >= target {
            return Ok(());
        }
        let mut requests = self.conn.requests();
        while self.in_flight < target {
            requests.execute("", self.batch_rows)?;
            self.in_flight += 1;
        }
        requests.flush();
        Ok(())
    }

    /// Ends the result: closes the open group with Sync (in batched mode) and reads on to
    /// ReadyForQuery, which yields `error` if there is one.
    fn close(&mut self, error: Option<Error>) {
        if self.batch_rows != 0 {
            // The group is open unless a refused COPY already ended it.
            self.conn.requests().sync_if_open();
        }
        self.phase = Phase::Closing { error };
    }

    /// Handles one message while rows are expected; returns an item to yield, if any.
    fn on_row_message(&mut self, msg: Message) -> Option<Result<Row, Error>> {
        match msg {
            Message::DataRow(data) => match Row::new(self.columns.clone(), data) {
                Ok(row) => {
                    self.rows_seen += 1;
                    return Some(Ok(row));
                }
                Err(e) => {
                    let err = self.conn.fail(e.into());
                    self.phase = Phase::Done;
                    self.span.record_end(None, Some(&err));
                    return Some(Err(err));
                }
            },
            Message::PortalSuspended if self.batch_rows != 0 => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.resumable = true;
                if let Err(e) = self.request_batches() {
                    // Cannot happen for a row limit checked at creation; end cleanly anyway.
                    self.close(Some(e));
                }
            }
            Message::CommandComplete(done) => {
                // The tag of a resumed portal counts only the rows of its last Execute (for
                // an INSERT ... RETURNING too, though it ran whole at the first); every row
                // of such a portal came here, so the rows seen are the total.
                self.rows_affected = if self.resumable {
                    done.rows().map(|_| self.rows_seen)
                } else {
                    done.rows()
                };
                self.close(None);
            }
            Message::EmptyQueryResponse => self.close(None),
            Message::ErrorResponse(fields) => {
                let err = db_error(&fields);
                let err = self.conn.fail(err);
                self.close(Some(err));
            }
            // The exchange already failed a COPY FROM STDIN on the wire; COPY TO STDOUT data
            // is discarded on the way to ReadyForQuery.
            Message::CopyInResponse(_) | Message::CopyOutResponse(_) => {
                self.close(Some(copy_refused_error("query_stream", None)))
            }
            // CloseComplete, PortalSuspended of a whole-result stream, COPY data: checked by
            // the exchange, nothing to do.
            _ => {}
        }
        None
    }
}

impl Stream for RowStream<'_> {
    type Item = Result<Row, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if matches!(this.phase, Phase::Done) {
                return Poll::Ready(None);
            }
            if let Phase::Rows = this.phase {
                if let Some(row) = this.buffered.pop_front() {
                    this.rows_seen += 1;
                    return Poll::Ready(Some(Ok(row)));
                }
                if let Some(err) = this.malformed.take() {
                    this.phase = Phase::Done;
                    this.span.record_end(None, Some(&err));
                    return Poll::Ready(Some(Err(err)));
                }
                // The rows already buffered, taken in one go rather than a message at a time.
                if let Some(run) = this.conn.buffered_data_rows() {
                    let buffered = &mut this.buffered;
                    if let Err(e) = Row::push_run(&this.columns, run, |row| buffered.push_back(row))
                    {
                        // Yielded once the rows before the malformed one have been.
                        this.malformed = Some(this.conn.fail(e.into()));
                    }
                    continue;
                }
            }
            // Executes for the next batches go out on the way, without blocking the read.
            let msg = match this.conn.poll_response(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(msg)) => msg,
                Poll::Ready(Err(e)) => {
                    // The stream itself failed (IO, protocol): the connection is marked
                    // broken by the read.
                    this.phase = Phase::Done;
                    this.span.record_end(None, Some(&e));
                    return Poll::Ready(Some(Err(e)));
                }
            };
            match &mut this.phase {
                Phase::Rows => {
                    if let Some(item) = this.on_row_message(msg) {
                        return Poll::Ready(Some(item));
                    }
                }
                Phase::Closing { error } => match msg {
                    Message::ReadyForQuery(_) => {
                        let error = error.take();
                        this.phase = Phase::Done;
                        this.span.record_end(Some(this.rows_seen), error.as_ref());
                        if let Some(e) = error {
                            return Poll::Ready(Some(Err(e)));
                        }
                        return Poll::Ready(None);
                    }
                    // An error after the last row (a failed commit of the implicit
                    // transaction, a deferred constraint) still has to reach the consumer.
                    Message::ErrorResponse(fields) if error.is_none() => {
                        let err = db_error(&fields);
                        *error = Some(this.conn.fail(err));
                        this.rows_affected = None;
                    }
                    // The answers to Executes still in flight when the result ended, and the
                    // data of a refused COPY.
                    _ => {}
                },
                Phase::Done => return Poll::Ready(None),
            }
        }
    }
}

impl FusedStream for RowStream<'_> {
    fn is_terminated(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
