//! The byte stream under a connection. A [`Connection`](crate::Connection) runs over any
//! [`Transport`]: TCP and Unix-domain sockets opened from a [`Config`](crate::Config), TLS
//! next, and anything else a caller hands to [`Config::connect_raw`](crate::Config::connect_raw)
//! (an in-memory `tokio::io::duplex` pair in tests, a tunnel, a proxy's stream).
//!
//! The stream is chosen at run time (`sslmode=prefer` decides per connection whether TLS is
//! used), so a connection holds it as a `Box<dyn Transport>`: one indirect call per system call,
//! nothing per message.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::Error;

/// A byte stream a connection can run over: anything readable and writable asynchronously
/// that can move between tasks and threads (a [`Connection`](crate::Connection) is `Send` and
/// `Sync`).
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static> Transport for T {}

/// How much the read buffer grows by when it runs out of room: large reads keep the number of
/// system calls low when results stream in.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// A stream with its read and write buffers: the only code that touches the stream. It moves
/// bytes and nothing else; every read and write is poll-based, so the async wrappers and the
/// COPY `Stream`/`Sink` impls share it without building a future per poll, and an interrupted
/// call loses nothing (what was read stays in `read_buf`, what was not written in `write_buf`).
pub(crate) struct Wire {
    stream: Box<dyn Transport>,
    /// Bytes received and not yet taken off as messages.
    pub(crate) read_buf: BytesMut,
    /// Requests encoded and not yet written.
    pub(crate) write_buf: BytesMut,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire")
            .field("read_buffered", &self.read_buf.len())
            .field("write_buffered", &self.write_buf.len())
            .finish_non_exhaustive()
    }
}

impl Wire {
    pub(crate) fn new(stream: Box<dyn Transport>) -> Wire {
        Wire {
            stream,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: BytesMut::with_capacity(8 * 1024),
        }
    }

    /// Reads whatever the stream has into the read buffer, growing it by a whole chunk when it
    /// runs low. EOF is an error: the server never ends a stream we still read from.
    #[inline]
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        make_read_room(&mut self.read_buf);
        let n = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut self.stream),
            cx,
            &mut self.read_buf
        ))
        .map_err(Error::io)?;
        if n == 0 {
            return Poll::Ready(Err(
                Error::closed().with_message("the server closed the connection")
            ));
        }
        Poll::Ready(Ok(()))
    }

    /// Writes the whole write buffer, advancing it as bytes go out, then flushes the stream
    /// (a TLS stream holds written bytes until then).
    #[inline]
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while !self.write_buf.is_empty() {
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &self.write_buf))
                .map_err(Error::io)?;
            if n == 0 {
                return Poll::Ready(Err(Error::io(io::ErrorKind::WriteZero.into())));
            }
            if n == self.write_buf.len() {
                // All of it (the usual case): cheaper than advancing, and the next request
                // is written from the start of the buffer again.
                self.write_buf.clear();
            } else {
                self.write_buf.advance(n);
            }
        }
        Pin::new(&mut self.stream).poll_flush(cx).map_err(Error::io)
    }

    /// [`Wire::poll_fill`] as a future. Cancel-safe.
    pub(crate) async fn fill(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }

    /// [`Wire::poll_write_out`] as a future. Cancel-safe.
    pub(crate) async fn write_out(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// Reads what has already arrived, without waiting: `Ok(false)` when nothing has. Used to
    /// notice, before reuse, that an idle connection was closed by the server.
    pub(crate) fn try_fill(&mut self) -> Result<bool, Error> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_fill(&mut cx) {
            Poll::Ready(result) => result.map(|()| true),
            Poll::Pending => Ok(false),
        }
    }

    /// Writes as much of the write buffer as the stream takes without waiting (from `Drop`,
    /// where nothing can be awaited).
    pub(crate) fn try_write_out(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        let _ = self.poll_write_out(&mut cx);
    }

    /// Shuts the write side down (after Terminate).
    pub(crate) async fn shutdown(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| Pin::new(&mut self.stream).poll_shutdown(cx))
            .await
            .map_err(Error::io)
    }
}

/// Grows the read buffer by a whole chunk when little room is left, so each read can take
/// up to a chunk in one system call.
#[inline]
pub(crate) fn make_read_room(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < READ_CHUNK / 4 {
        buf.reserve(READ_CHUNK);
    }
}
