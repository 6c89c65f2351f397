//! [`CopyOut`]: the stream of data chunks a `COPY ... TO STDOUT` sends, driven by `poll_*`
//! functions that the async method and the `Stream` impl share.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;

use super::copy_format;
use crate::client::connection::{db_error, Connection};
use crate::error::Error;
use crate::proto::backend::Message;
use crate::trace;
use crate::types::Format;

/// The data of a `COPY ... TO STDOUT`, from [`Connection::copy_out`].
///
/// A [`Stream`](futures_core::Stream) of byte chunks (each the payload of one CopyData
/// message, shared with the read buffer rather than copied), also readable with
/// [`next_chunk`](CopyOut::next_chunk). An error the server raises while producing the data is
/// the stream's last item. Dropped before the end, the rest of the data is read and discarded
/// by the connection's next request.
pub struct CopyOut<'a> {
    conn: &'a mut Connection,
    state: OutState,
    format: Format,
    rows: Option<u64>,
    /// The server's error, held until its ReadyForQuery has been read.
    error: Option<Error>,
    /// The COPY's span, open until this is dropped (feature `tracing`; zero-sized without):
    /// the rows are recorded on it at the end of the data.
    span: trace::Span,
}

enum OutState {
    /// The Query is written; waiting for CopyOutResponse.
    Starting {
        /// The statement was a COPY FROM STDIN, answered with CopyFail.
        copy_in_refused: bool,
    },
    Streaming,
    Done,
}

impl std::fmt::Debug for CopyOut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            OutState::Starting { .. } => "starting",
            OutState::Streaming => "streaming",
            OutState::Done => "done",
        };
        f.debug_struct("CopyOut")
            .field("state", &state)
            .field("format", &self.format)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<'a> CopyOut<'a> {
    /// Waits for the server's answer to the COPY Query just written on `conn`.
    pub(super) async fn start(
        conn: &'a mut Connection,
        span: trace::Span,
    ) -> Result<CopyOut<'a>, Error> {
        let mut copy = CopyOut {
            conn,
            state: OutState::Starting {
                copy_in_refused: false,
            },
            format: Format::Text,
            rows: None,
            error: None,
            span,
        };
        poll_fn(|cx| copy.poll_start(cx)).await?;
        // Started: from now on each wait for the server's data gets the statement timeout
        // of its own (see `deadline.rs`).
        copy.conn.deadline.each_wait();
        Ok(copy)
    }
}

impl CopyOut<'_> {
    /// The next chunk of data, or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_next_chunk(cx)).await
    }

    /// The number of rows the server reports having copied, once the stream has ended.
    pub fn rows(&self) -> Option<u64> {
        self.rows
    }

    /// The data's format: [`Format::Binary`] for `FORMAT binary`, [`Format::Text`] for text
    /// and CSV.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next response (asynchronous messages are absorbed on the way); a failed read ends
    /// the copy.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        self.conn.poll_response(cx).map_err(|e| {
            self.state = OutState::Done;
            e
        })
    }

    /// Reads the answer to the Query up to CopyOutResponse; anything else means the statement
    /// was not a COPY TO STDOUT, read to the end and reported as an error.
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if !matches!(self.state, OutState::Starting { .. }) {
                return Poll::Ready(Err(Error::usage("this COPY has already started")));
            }
            let msg = ready!(self.poll_message(cx))?;
            let OutState::Starting { copy_in_refused } = &mut self.state else {
                continue; // checked at the top of the loop
            };
            match msg {
                Message::CopyOutResponse(response) => {
                    self.format = copy_format(&response);
                    self.state = OutState::Streaming;
                    return Poll::Ready(Ok(()));
                }
                // The exchange has refused it on the wire (CopyFail), so the statement fails.
                Message::CopyInResponse(_) => *copy_in_refused = true,
                Message::ErrorResponse(fields) if !*copy_in_refused => {
                    self.error.get_or_insert_with(|| db_error(&fields));
                }
                Message::ReadyForQuery(_) => {
                    let refused = *copy_in_refused;
                    self.state = OutState::Done;
                    return Poll::Ready(Err(match self.error.take() {
                        Some(e) => e,
                        None if refused => Error::usage(
                            "copy_out needs a COPY ... TO STDOUT statement; this one is a COPY \
                             ... FROM STDIN (use copy_in)",
                        ),
                        None => Error::usage(
                            "copy_out needs a COPY ... TO STDOUT statement; the server ran this \
                             one without starting a copy",
                        ),
                    }));
                }
                // The results of other statements: checked by the exchange, not wanted here.
                _ => {}
            }
        }
    }

    pub(crate) fn poll_next_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, Error>> {
        loop {
            if !matches!(self.state, OutState::Streaming) {
                return Poll::Ready(Ok(None));
            }
            let msg = ready!(self.poll_message(cx))?;
            match msg {
                Message::CopyData(data) if self.error.is_none() => {
                    return Poll::Ready(Ok(Some(data)));
                }
                // With more statements in the Query string, the COPY's count is the first.
                Message::CommandComplete(done) if self.rows.is_none() => {
                    self.rows = done.rows();
                }
                Message::ErrorResponse(fields) => {
                    self.error.get_or_insert_with(|| db_error(&fields));
                }
                Message::ReadyForQuery(_) => {
                    self.state = OutState::Done;
                    self.span.record_end(self.rows, self.error.as_ref());
                    return Poll::Ready(match self.error.take() {
                        Some(e) => Err(e),
                        None => Ok(None),
                    });
                }
                // CopyDone, later statements of the Query string (a COPY FROM STDIN among them
                // is refused by the exchange): nothing to hand out.
                _ => {}
            }
        }
    }
}

impl futures_core::Stream for CopyOut<'_> {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_chunk(cx).map(Result::transpose)
    }
}
