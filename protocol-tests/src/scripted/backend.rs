//! The server task: its state (prepared statements, portals, transaction status, skipping to
//! Sync after an error, the COPY in progress), the main loop that reads frontend messages and
//! applies [`Fault`]s, the startup exchange, and the reply writer: output buffered until
//! ReadyForQuery, Flush, an ErrorResponse or a NoticeResponse, then written as the
//! [`WriteMode`] says and cut at `close_after`.
//!
//! What the client sends is framed and decoded by the server side of tusk's codec
//! (`tusk::proto::server`); replies are written by its backend encoders.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tusk::proto::backend::TransactionStatus;
use tusk::proto::framing::{split_frontend_frame, Frame};
use tusk::proto::server::{
    backend, split_startup_packet, FrontendMessage, StartupPacket, MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::ProtoError;

use super::copy::CopyIn;
use super::extended::{Portal, Prepared};
use super::replies::put_error_or_notice;
use super::script::{Failure, Fault, Phase, WriteMode};
use super::sql::{normalise, SqlError};
use super::{Shared, BACKEND_PID};

/// The longest frontend message the server reads.
const MAX_MESSAGE_LEN: usize = 1 << 24;

/// The server task's state.
pub(super) struct Backend {
    stream: DuplexStream,
    shared: Arc<Mutex<Shared>>,
    /// Bytes read from the client and not yet framed.
    read: BytesMut,
    pub(super) out: BytesMut,
    /// An error or notice is in `out`: send it now.
    pub(super) flush_now: bool,
    pub(super) statements: HashMap<String, Prepared>,
    pub(super) portals: HashMap<String, Portal>,
    /// Discarding messages up to the next Sync after an error.
    pub(super) skipping: bool,
    /// `I`, `T` or `E`.
    pub(super) status: u8,
    /// The COPY FROM STDIN in progress.
    pub(super) copy_in: Option<CopyIn>,
    /// The savepoints of the open transaction block, oldest first.
    pub(super) savepoints: Vec<String>,
}

/// Whether the server goes on after a write.
enum Flow {
    Open,
    /// `close_after` was reached: the stream is shut down.
    Closed,
}

impl Backend {
    pub(super) fn new(stream: DuplexStream, shared: Arc<Mutex<Shared>>) -> Backend {
        Backend {
            stream,
            shared,
            read: BytesMut::new(),
            out: BytesMut::new(),
            flush_now: false,
            statements: HashMap::new(),
            portals: HashMap::new(),
            skipping: false,
            status: b'I',
            copy_in: None,
            savepoints: Vec::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) async fn run(mut self) -> io::Result<()> {
        match self.serve().await {
            Ok(()) => Ok(()),
            // The client dropped its end mid-message.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reads more from the client; `false` when it has closed its end.
    async fn fill(&mut self) -> io::Result<bool> {
        Ok(self.stream.read_buf(&mut self.read).await? > 0)
    }

    /// The next tagged frame; `None` when the client closed between messages. A frame the
    /// codec cannot split (an unknown tag, an impossible length) is answered as PostgreSQL
    /// answers it, with a FATAL 08P01, and ends the session.
    async fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            match split_frontend_frame(&mut self.read, MAX_MESSAGE_LEN) {
                Ok(Some(frame)) => return Ok(Some(frame)),
                Ok(None) if self.fill().await? => {}
                Ok(None) if self.read.is_empty() => return Ok(None),
                Ok(None) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) => return Err(self.fatal(e).await),
            }
        }
    }

    /// Sends a FATAL 08P01 naming `e` and returns the error that ends the session.
    async fn fatal(&mut self, e: ProtoError) -> io::Error {
        put_error_or_notice(&mut self.out, "FATAL", "08P01", &e.to_string());
        self.lock().stats.errors_sent.push("08P01".to_owned());
        if let Err(write) = self.send().await {
            return write;
        }
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    /// Serves until the client sends Terminate or closes, or `close_after` is reached.
    async fn serve(&mut self) -> io::Result<()> {
        if let Flow::Closed = self.startup().await? {
            return Ok(());
        }
        while let Some(frame) = self.next_frame().await? {
            let tag = frame.tag;
            self.lock().stats.received.push(tag);
            let message = FrontendMessage::parse(frame);
            if self.copy_in.is_some() && tag != b'X' {
                if self.copy_message(message) || std::mem::take(&mut self.flush_now) {
                    if let Flow::Closed = self.send().await? {
                        return Ok(());
                    }
                }
                continue;
            }
            match tag {
                b'X' => return Ok(()),
                b'S' => self.skipping = false,
                _ if self.skipping => continue,
                _ => {}
            }
            let fault = {
                let mut shared = self.lock();
                let faults = &mut shared.script.faults;
                let at = faults.iter().position(|f| match f {
                    Fault::ReplyInstead { tag: t, .. } | Fault::ReplyBefore { tag: t, .. } => {
                        *t == tag
                    }
                });
                at.map(|i| faults.remove(i))
            };
            let start = self.out.len();
            if let Some(Fault::ReplyBefore { bytes, .. }) = &fault {
                self.out.extend_from_slice(bytes);
            }
            let flush = self.message(message);
            if let Some(Fault::ReplyInstead { bytes, .. }) = &fault {
                self.out.truncate(start);
                self.out.extend_from_slice(bytes);
            }
            if flush || std::mem::take(&mut self.flush_now) {
                if let Flow::Closed = self.send().await? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Reads the startup packet and answers it.
    async fn startup(&mut self) -> io::Result<Flow> {
        let parameters = loop {
            let body = match split_startup_packet(&mut self.read, MAX_STARTUP_PACKET_LEN) {
                Ok(Some(body)) => body,
                Ok(None) if self.fill().await? => continue,
                Ok(None) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) => return Err(self.fatal(e).await),
            };
            self.lock().stats.received.push(0);
            match StartupPacket::parse(body) {
                // SSLRequest, GSSENCRequest: not supported here.
                Ok(StartupPacket::SslRequest | StartupPacket::GssEncRequest) => {
                    self.stream.write_all(b"N").await?;
                    self.lock().stats.bytes_written += 1;
                }
                Ok(StartupPacket::Startup {
                    version,
                    parameters,
                }) if version.minor == 0 => break parameters,
                Ok(other) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unsupported startup packet {other:?}"),
                    ))
                }
                Err(e) => return Err(self.fatal(e).await),
            }
        };
        self.lock().stats.startup_params = parameters
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        backend::authentication_ok(&mut self.out);
        for (name, value) in [
            ("server_version", "15.0"),
            ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO"),
            ("integer_datetimes", "on"),
            ("TimeZone", "UTC"),
        ] {
            backend::parameter_status(name, value, &mut self.out).expect("NUL-free parameters");
        }
        backend::backend_key_data(BACKEND_PID, &777i32.to_be_bytes(), &mut self.out)
            .expect("a 4-byte key");
        self.ready();
        self.send().await
    }

    pub(super) fn record_statements(&self) {
        let mut named: Vec<(String, String)> = self
            .statements
            .iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, stmt)| (name.clone(), stmt.sql.clone()))
            .collect();
        named.sort();
        self.lock().stats.statements = named;
    }

    pub(super) fn failure(&self, sql: &str, phase: Phase) -> Option<Failure> {
        let sql = normalise(sql);
        self.lock()
            .script
            .failures
            .iter()
            .find(|f| normalise(&f.sql) == sql && f.phase == phase)
            .cloned()
    }

    /// Sends an ErrorResponse (ERROR): the transaction block fails; in the extended protocol
    /// the messages up to Sync are discarded.
    pub(super) fn error(&mut self, e: SqlError) {
        put_error_or_notice(&mut self.out, "ERROR", &e.code, &e.message);
        self.lock().stats.errors_sent.push(e.code);
        if self.status == b'T' {
            self.status = b'E';
        }
        // A simple Query's ReadyForQuery follows at once and ends the skipping again.
        self.skipping = true;
        self.flush_now = true;
    }

    pub(super) fn notice(&mut self, code: &str, message: &str) {
        put_error_or_notice(&mut self.out, "WARNING", code, message);
        self.flush_now = true;
    }

    /// Appends ReadyForQuery with the current status.
    pub(super) fn ready(&mut self) {
        // A simple Query's error does not start skipping; a Sync ends it.
        self.skipping = false;
        let status = match self.status {
            b'T' => TransactionStatus::InTransaction,
            b'E' => TransactionStatus::Failed,
            _ => TransactionStatus::Idle,
        };
        backend::ready_for_query(status, &mut self.out);
        self.lock().stats.transaction_status = self.status;
    }

    /// Writes `out` as the write mode says; cuts the stream at `close_after`.
    async fn send(&mut self) -> io::Result<Flow> {
        let data = std::mem::take(&mut self.out);
        let (mode, close_after, written) = {
            let shared = self.lock();
            (
                shared.script.write_mode,
                shared.script.close_after,
                shared.stats.bytes_written,
            )
        };
        let (data, closing) = match close_after {
            Some(limit) if written + data.len() >= limit => {
                (&data[..limit.saturating_sub(written).min(data.len())], true)
            }
            _ => (&data[..], false),
        };
        let mut pieces: Vec<&[u8]> = match mode {
            WriteMode::Whole => vec![data],
            WriteMode::ByteByByte => data.chunks(1).collect(),
            WriteMode::SplitAt(k) if k > written && k < written + data.len() => {
                let (a, b) = data.split_at(k - written);
                vec![a, b]
            }
            WriteMode::SplitAt(_) => vec![data],
        };
        pieces.retain(|p| !p.is_empty());
        for piece in pieces {
            self.stream.write_all(piece).await?;
            self.stream.flush().await?;
            self.lock().stats.bytes_written += piece.len();
            if mode != WriteMode::Whole {
                // Let the client read this piece alone, before the next one (of this reply or,
                // for a message already waiting, of the next) is written.
                tokio::task::yield_now().await;
            }
        }
        if closing {
            self.lock().stats.closed_by_server = true;
            self.stream.shutdown().await?;
            return Ok(Flow::Closed);
        }
        Ok(Flow::Open)
    }
}
