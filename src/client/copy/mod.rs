//! COPY: bulk data into and out of the server.
//!
//! [`Connection::copy_in`] starts a `COPY ... FROM STDIN` and returns a [`CopyIn`], which takes
//! the data as bytes in whatever format the statement names (text, CSV or binary);
//! [`Connection::copy_out`] starts a `COPY ... TO STDOUT` and returns a [`CopyOut`], a stream of
//! the server's data chunks. [`BinaryCopyIn`] and [`BinaryCopyOut`] (in `binary.rs`) put the
//! binary format on top: rows of [`ToSql`](crate::types::ToSql) values in, rows read with
//! [`FromSql`](crate::types::FromSql) out.
//!
//! Both run on the simple query protocol. Cancel safety follows the connection's model: the
//! Query is counted as owing its ReadyForQuery the moment it is written, and every message
//! that must follow (CopyDone, CopyFail) is encoded whole into the write buffer before anything
//! is awaited. A [`CopyIn`] dropped before `finish` or `abort` writes a CopyFail from `Drop`;
//! the connection's next request flushes it and drains the server's answer. A [`CopyOut`]
//! dropped half-way leaves the rest of the data to be drained the same way.
//!
//! The core of each type is a set of `poll_*` functions over the connection's own poll
//! functions (`poll_flush`, `poll_read_one`); the async methods and the
//! [`Sink`](futures_sink::Sink) / [`Stream`](futures_core::Stream) impls are thin wrappers
//! over them, so both ways of driving a copy share one code path. Which message may come when
//! is the exchange's business (`crate::proto::exchange`); these types only act on it.

mod binary;
mod out;

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;

use crate::client::connection::{db_error, Connection};
use crate::error::{DbError, Error};
use crate::proto::backend::{CopyResponse, Message};
use crate::sqlstate::SqlState;
use crate::trace;
use crate::types::Format;

pub use binary::{BinaryCopyIn, BinaryCopyOut, BinaryRow};
pub use out::CopyOut;

/// Queued COPY data is written to the socket once the write buffer holds this much: large
/// enough that a system call moves a lot of rows, small enough that memory stays flat.
const FLUSH_THRESHOLD: usize = 64 * 1024;

/// The largest CopyData payload built from one `send`: bigger inputs are split, so no single
/// message comes near the server's limits.
const MAX_COPY_DATA: usize = 64 * 1024;

/// The error for a COPY started through a call that cannot run one (the exchange already
/// refused it on the wire); the server's own error, if it sent one, is the source.
pub(crate) fn copy_refused_error(call: &str, server: Option<Error>) -> Error {
    let err = Error::usage(format!(
        "COPY cannot run through {call}: use copy_in / copy_out"
    ));
    match server {
        Some(server) => err.with_source(server),
        None => err,
    }
}

impl Connection {
    /// Starts a `COPY ... FROM STDIN` and returns the sink its data goes into.
    ///
    /// The data is sent as is: in the text or CSV format, or the binary format (see
    /// [`BinaryCopyIn`] for a typed writer of it), as the statement says. End it with
    /// [`CopyIn::finish`], which returns the number of rows copied, or [`CopyIn::abort`].
    /// A statement that is not a `COPY ... FROM STDIN` is an error, and the connection stays
    /// usable.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
    /// let mut copy = conn.copy_in("COPY t (a, b) FROM STDIN").await?;
    /// copy.send("1\tone\n2\t\\N\n").await?;
    /// copy.send(b"3\tthree\n").await?;
    /// assert_eq!(copy.finish().await?, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>, Error> {
        let span = trace::span!(trace::statement(&self.trace, sql));
        trace::traced!(span.clone(), {
            self.ready().await?;
            self.write_copy_query(sql)?;
            // The guard exists from the moment the Query is in the write buffer: dropped before
            // the server's answer, its Drop queues a CopyFail, so a COPY that did start is ended
            // instead of waiting forever for data.
            let mut copy = CopyIn {
                conn: self,
                state: InState::Starting {
                    copy_out_refused: false,
                    error: None,
                },
                format: Format::Text,
                rows: None,
                span,
            };
            poll_fn(|cx| copy.poll_start(cx)).await?;
            // Started: from now on each wait for the server (room to send, the end) gets the
            // statement timeout of its own (see `deadline.rs`).
            copy.conn.deadline.each_wait();
            Ok(copy)
        })
    }

    /// Starts a `COPY ... TO STDOUT` and returns the stream of its data.
    ///
    /// Each item is the payload of one CopyData message, without copying (the server sends
    /// one per row). [`CopyOut::rows`] tells the row count once the stream has ended; see
    /// [`BinaryCopyOut`] to decode the binary format. A statement that is not a
    /// `COPY ... TO STDOUT` is an error, and the connection stays usable.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// let mut copy = conn.copy_out("COPY (SELECT 1, 'x') TO STDOUT (FORMAT csv)").await?;
    /// let mut data = Vec::new();
    /// while let Some(chunk) = copy.next_chunk().await? {
    ///     data.extend_from_slice(&chunk);
    /// }
    /// assert_eq!(data, b"1,x\n");
    /// assert_eq!(copy.rows(), Some(1));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>, Error> {
        let span = trace::span!(trace::statement(&self.trace, sql));
        trace::traced!(span.clone(), {
            self.ready().await?;
            // A COPY FROM STDIN in its place is refused by the exchange (CopyFail), so the
            // statement fails even if this future is dropped before the answer.
            self.write_simple(sql)?;
            CopyOut::start(self, span).await
        })
    }
}

fn copy_format(response: &CopyResponse) -> Format {
    if response.format == 1 {
        Format::Binary
    } else {
        Format::Text
    }
}

/// The sink of a `COPY ... FROM STDIN`, from [`Connection::copy_in`].
///
/// [`send`](CopyIn::send) queues data and writes it out in large batches; an error the server
/// raises mid-copy (a constraint violation, a malformed row) surfaces on the `send` or
/// [`flush`](CopyIn::flush) after it arrives, or at [`finish`](CopyIn::finish) at the latest.
/// [`abort`](CopyIn::abort) cancels the copy; dropping the `CopyIn` does the same.
///
/// It is also a [`Sink`](futures_sink::Sink) of [`Bytes`]; closing the sink finishes the copy,
/// and [`CopyIn::rows`] then tells the row count.
pub struct CopyIn<'a> {
    conn: &'a mut Connection,
    state: InState,
    format: Format,
    rows: Option<u64>,
    /// The COPY's span, open until this is dropped (feature `tracing`; zero-sized without).
    span: trace::Span,
}

enum InState {
    /// The Query is written; waiting for CopyInResponse.
    Starting {
        /// The statement was a COPY TO STDOUT: its data is being drained.
        copy_out_refused: bool,
        /// The server's error, held until its ReadyForQuery has been read.
        error: Option<Error>,
    },
    /// Accepting data.
    Open,
    /// The server reported this error mid-copy (its ReadyForQuery is still owed).
    Failed(Box<DbError>),
    /// CopyDone or CopyFail is written; reading up to ReadyForQuery.
    Closing {
        aborted: bool,
        rows: Option<u64>,
        error: Option<Error>,
    },
    /// Every response has been read, or the connection broke.
    Closed,
}

impl std::fmt::Debug for CopyIn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            InState::Starting { .. } => "starting",
            InState::Open => "open",
            InState::Failed(_) => "failed",
            InState::Closing { .. } => "closing",
            InState::Closed => "closed",
        };
        f.debug_struct("CopyIn")
            .field("state", &state)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl CopyIn<'_> {
    /// Queues `data` to be sent, writing to the socket once enough is queued.
    ///
    /// `data` need not end on a row boundary: the server joins the chunks. Returns the
    /// server's error if it already reported one (the rest of the copy is then discarded).
    ///
    /// Dropping the returned future never loses or splits data: `data` is queued whole
    /// before anything is awaited.
    pub async fn send(&mut self, data: impl AsRef<[u8]>) -> Result<(), Error> {
        self.queue(data.as_ref())?;
        self.flush_if_full().await
    }

    /// Writes everything queued to the socket, then returns the server's error if one has
    /// arrived in the meantime.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.check_open()?;
        poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// Ends the copy (CopyDone) and returns the number of rows copied, or the server's error
    /// for the data (with its SQLSTATE, e.g. `23505` for a duplicate key, `22P04` for a
    /// malformed row).
    pub async fn finish(mut self) -> Result<u64, Error> {
        self.begin_close(None)?;
        let rows = poll_fn(|cx| self.poll_finish(cx)).await?;
        Ok(rows.unwrap_or(0))
    }

    /// Cancels the copy (CopyFail with `reason`, which the server puts in its error message):
    /// nothing of it is stored. The server's answering error (SQLSTATE `57014`) is expected
    /// and consumed; the connection stays usable.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// # conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
    /// let mut copy = conn.copy_in("COPY t FROM STDIN (FORMAT csv)").await?;
    /// copy.send("1,one\n").await?;
    /// copy.abort("changed my mind").await?; // no row of it is stored
    /// # Ok(())
    /// # }
    /// ```
    pub async fn abort(mut self, reason: &str) -> Result<(), Error> {
        self.begin_close(Some(reason))?;
        poll_fn(|cx| self.poll_finish(cx)).await.map(drop)
    }

    /// The format the server expects: [`Format::Binary`] for `FORMAT binary`,
    /// [`Format::Text`] for text and CSV.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The number of rows copied, once the copy was finished through
    /// [`Sink::poll_close`](futures_sink::Sink::poll_close).
    pub fn rows(&self) -> Option<u64> {
        self.rows
    }

    /// Appends `data` as CopyData messages to the write buffer; nothing is awaited.
    pub(crate) fn queue(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        let mut requests = self.conn.requests();
        for chunk in data.chunks(MAX_COPY_DATA) {
            requests.copy_data(chunk)?;
        }
        Ok(())
    }

    /// Writes the queue out when it has grown past the threshold.
    pub(crate) async fn flush_if_full(&mut self) -> Result<(), Error> {
        if self.conn.unwritten() >= FLUSH_THRESHOLD {
            poll_fn(|cx| self.poll_write_out(cx)).await
        } else {
            Ok(())
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        match &self.state {
            InState::Open => Ok(()),
            InState::Failed(db) => Err(Error::db((**db).clone())),
            InState::Starting { .. } | InState::Closing { .. } | InState::Closed => {
                Err(Error::usage("this COPY has already ended"))
            }
        }
    }

    /// The next response (asynchronous messages are absorbed on the way); a failed read ends
    /// the copy.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        self.conn.poll_response(cx).map_err(|e| {
            self.state = InState::Closed;
            e
        })
    }

    /// Reads the answer to the Query up to CopyInResponse. Anything else means the statement
    /// was not a COPY FROM STDIN: its responses are read to the end and reported as an error.
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if !matches!(self.state, InState::Starting { .. }) {
                return Poll::Ready(Err(Error::usage("this COPY has already started")));
            }
            let msg = ready!(self.poll_message(cx))?;
            let InState::Starting {
                copy_out_refused,
                error,
            } = &mut self.state
            else {
                continue; // checked at the top of the loop
            };
            match msg {
                Message::CopyInResponse(response) => {
                    self.format = copy_format(&response);
                    self.state = InState::Open;
                    return Poll::Ready(Ok(()));
                }
                Message::CopyOutResponse(_) => *copy_out_refused = true,
                Message::ErrorResponse(fields) => {
                    error.get_or_insert_with(|| db_error(&fields));
                }
                Message::ReadyForQuery(_) => {
                    let (refused, error) = (*copy_out_refused, error.take());
                    self.state = InState::Closed;
                    let not_copy_in = || {
                        if refused {
                            "copy_in needs a COPY ... FROM STDIN statement; this one is a COPY \
                             ... TO STDOUT (use copy_out)"
                        } else {
                            "copy_in needs a COPY ... FROM STDIN statement; the server ran \
                             this one without starting a copy"
                        }
                    };
                    return Poll::Ready(Err(error.unwrap_or_else(|| Error::usage(not_copy_in()))));
                }
                // The results of other statements, COPY TO STDOUT data: checked by the
                // exchange, not wanted here.
                _ => {}
            }
        }
    }

    /// Writes the queue out, then looks (without waiting) for an error the server sent
    /// mid-copy.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if let Err(e) = ready!(self.conn.poll_flush(cx)) {
            self.state = InState::Closed;
            return Poll::Ready(Err(e));
        }
        Poll::Ready(self.check_server_error())
    }

    /// Reads whatever complete messages have already arrived, without waiting. During
    /// copy-in the server only speaks to report an error (then ReadyForQuery follows, which
    /// is left for `finish`, `abort` or the connection's next request to read).
    fn check_server_error(&mut self) -> Result<(), Error> {
        while let InState::Open = self.state {
            let msg = match self.conn.try_response() {
                Ok(None) => return Ok(()),
                Ok(Some(msg)) => msg,
                Err(e) => {
                    self.state = InState::Closed;
                    return Err(e);
                }
            };
            // The exchange lets nothing but an error through while the server waits for data.
            if let Message::ErrorResponse(fields) = msg {
                match DbError::from_fields(&fields) {
                    Ok(db) => {
                        self.state = InState::Failed(Box::new(db.clone()));
                        return Err(Error::db(db));
                    }
                    Err(e) => {
                        self.state = InState::Closed;
                        return Err(self.conn.fail(e.into()));
                    }
                }
            }
        }
        self.check_open()
    }

    /// Writes CopyDone (`abort` = `None`) or CopyFail, so that from here on the copy ends even
    /// if the caller's future is dropped.
    fn begin_close(&mut self, abort: Option<&str>) -> Result<(), Error> {
        match std::mem::replace(&mut self.state, InState::Closed) {
            InState::Open => {
                let mut requests = self.conn.requests();
                let written = match abort {
                    None => requests.copy_done(),
                    Some(reason) => requests.copy_fail(reason),
                };
                if let Err(e) = written {
                    // Nothing was written; Drop sends its own CopyFail.
                    self.state = InState::Open;
                    return Err(e.into());
                }
                self.state = InState::Closing {
                    aborted: abort.is_some(),
                    rows: None,
                    error: None,
                };
            }
            // The server has ended the copy already and ignores CopyDone/CopyFail now; only
            // its ReadyForQuery is left to read.
            InState::Failed(db) => {
                self.state = InState::Closing {
                    aborted: abort.is_some(),
                    rows: None,
                    error: Some(Error::db(*db)),
                };
            }
            state @ (InState::Closing { .. } | InState::Closed) => self.state = state,
            state @ InState::Starting { .. } => {
                self.state = state;
                return Err(Error::usage("this COPY has not started"));
            }
        }
        Ok(())
    }

    /// Reads the copy's outcome up to ReadyForQuery. The row count is `None` after an abort
    /// or when the server did not report one.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<u64>, Error>> {
        loop {
            if !matches!(self.state, InState::Closing { .. }) {
                return Poll::Ready(Ok(self.rows));
            }
            let msg = ready!(self.poll_message(cx))?;
            let InState::Closing {
                aborted,
                rows,
                error,
            } = &mut self.state
            else {
                continue;
            };
            match msg {
                // With more statements in the Query string, the COPY's count is the first.
                Message::CommandComplete(done) if rows.is_none() => {
                    *rows = done.rows();
                }
                Message::ErrorResponse(fields) => {
                    error.get_or_insert_with(|| db_error(&fields));
                }
                Message::ReadyForQuery(_) => {
                    let (aborted, rows, error) = (*aborted, *rows, error.take());
                    self.state = InState::Closed;
                    if aborted {
                        if let Some(e) =
                            error.filter(|e| e.code() != Some(&SqlState::QUERY_CANCELED))
                        {
                            // The copy had failed before the CopyFail arrived: aborted either way.
                            log::debug!("an aborted COPY had already failed: {e}");
                        }
                        return Poll::Ready(Ok(None));
                    }
                    self.rows = rows;
                    self.span.record_end(None, error.as_ref());
                    return Poll::Ready(match error {
                        Some(e) => Err(e),
                        None => Ok(rows),
                    });
                }
                Message::CopyInResponse(_) => {
                    // A second COPY FROM STDIN in the same Query string: it has no data.
                    if let Err(e) = self
                        .conn
                        .requests()
                        .copy_fail("copy_in feeds only the first COPY FROM STDIN of a query string")
                    {
                        self.state = InState::Closed;
                        return Poll::Ready(Err(self.conn.fail(e.into())));
                    }
                }
                // Later statements of the Query string: checked by the exchange, not wanted.
                _ => {}
            }
        }
    }
}

impl Drop for CopyIn<'_> {
    fn drop(&mut self) {
        if let InState::Starting { .. } | InState::Open = self.state {
            if self.conn.is_closed() {
                return;
            }
            // The Query's ReadyForQuery is already owed, so the connection's next request
            // flushes this and drains the server's answer. If the COPY never started (the
            // statement failed first), the server ignores a CopyFail outside a copy.
            if let Err(e) = self
                .conn
                .requests()
                .copy_fail("COPY dropped without finish")
            {
                log::warn!("could not queue CopyFail for a dropped COPY: {e}");
            }
        }
    }
}

impl futures_sink::Sink<Bytes> for CopyIn<'_> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.check_open()?;
        if this.conn.unwritten() >= FLUSH_THRESHOLD {
            this.poll_write_out(cx)
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Bytes) -> Result<(), Error> {
        self.get_mut().queue(&item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.check_open()?;
        this.poll_write_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.begin_close(None)?;
        this.poll_finish(cx).map_ok(drop)
    }
}
