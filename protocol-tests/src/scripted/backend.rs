//! The server task: its state (prepared statements, portals, transaction status, skipping to
//! Sync after an error, the COPY in progress), the main loop that reads frontend messages and
//! applies [`Fault`]s, the startup exchange, and the reply writer: output buffered until
//! ReadyForQuery, Flush, an ErrorResponse or a NoticeResponse, then written as the
//! [`WriteMode`] says and cut at `close_after`.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::copy::CopyIn;
use super::extended::{Portal, Prepared};
use super::frontend::lossy;
use super::script::{Failure, Fault, Phase, WriteMode};
use super::sql::{normalise, SqlError};
use super::{Shared, BACKEND_PID};
use crate::wire;

/// The server task's state.
pub(super) struct Backend {
    stream: DuplexStream,
    shared: Arc<Mutex<Shared>>,
    pub(super) out: Vec<u8>,
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
            out: Vec::new(),
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

    /// Serves until the client sends Terminate or closes, or `close_after` is reached.
    async fn serve(&mut self) -> io::Result<()> {
        if let Flow::Closed = self.startup().await? {
            return Ok(());
        }
        loop {
            let tag = match self.stream.read_u8().await {
                Ok(tag) => tag,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            };
            let len = self.stream.read_i32().await?;
            if !(4..=1 << 24).contains(&len) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("frontend message {:?} with length {len}", tag as char),
                ));
            }
            let mut body = vec![0; len as usize - 4];
            self.stream.read_exact(&mut body).await?;
            self.lock().stats.received.push(tag);
            if self.copy_in.is_some() && tag != b'X' {
                if self.copy_message(tag, &body)? || std::mem::take(&mut self.flush_now) {
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
            let flush = self.message(tag, &body)?;
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
    }

    /// Reads the startup packet and answers it.
    async fn startup(&mut self) -> io::Result<Flow> {
        let body = loop {
            let len = self.stream.read_i32().await?;
            if !(8..=10_000).contains(&len) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("startup packet length {len}"),
                ));
            }
            let mut body = vec![0; len as usize - 4];
            self.stream.read_exact(&mut body).await?;
            self.lock().stats.received.push(0);
            match i32::from_be_bytes(body[..4].try_into().unwrap()) {
                // SSLRequest, GSSENCRequest: not supported here.
                80877103 | 80877104 => {
                    self.stream.write_all(b"N").await?;
                    self.lock().stats.bytes_written += 1;
                }
                196608 => break body,
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unsupported protocol version {other}"),
                    ))
                }
            }
        };
        let mut params = Vec::new();
        let mut fields = body[4..].split(|&b| b == 0).map(lossy);
        while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
            if name.is_empty() {
                break;
            }
            params.push((name, value));
        }
        self.lock().stats.startup_params = params;
        self.out.extend(wire::auth_ok());
        for (name, value) in [
            ("server_version", "15.0"),
            ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO"),
            ("integer_datetimes", "on"),
            ("TimeZone", "UTC"),
        ] {
            self.out.extend(wire::parameter_status(name, value));
        }
        self.out.extend(wire::backend_key(BACKEND_PID, 777));
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
        self.out.extend(wire::fields(
            b'E',
            &[
                (b'S', "ERROR"),
                (b'V', "ERROR"),
                (b'C', &e.code),
                (b'M', &e.message),
            ],
        ));
        self.lock().stats.errors_sent.push(e.code);
        if self.status == b'T' {
            self.status = b'E';
        }
        // A simple Query's ReadyForQuery follows at once and ends the skipping again.
        self.skipping = true;
        self.flush_now = true;
    }

    pub(super) fn notice(&mut self, code: &str, message: &str) {
        self.out.extend(wire::fields(
            b'N',
            &[
                (b'S', "WARNING"),
                (b'V', "WARNING"),
                (b'C', code),
                (b'M', message),
            ],
        ));
        self.flush_now = true;
    }

    /// Appends ReadyForQuery with the current status.
    pub(super) fn ready(&mut self) {
        // A simple Query's error does not start skipping; a Sync ends it.
        self.skipping = false;
        self.out.extend(wire::ready(self.status));
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
