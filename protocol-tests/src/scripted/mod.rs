//! A SCRIPTED server over an in-memory duplex: a fake, NOT PostgreSQL. It answers the way
//! PostgreSQL does for a fixed tiny "database" (one `int4` column called `x`), and can be told
//! to do what a real server will not do on demand: write its replies one byte at a time or
//! split at an exact offset, fail a given statement in a given phase, send a wrong message in
//! place of the right one, or drop the stream after an exact number of bytes. The live suite
//! (`live_*.rs`) covers real behaviour.
//!
//! Start one with [`ScriptedServer::start`], hand the returned [`DuplexStream`] to
//! `tusk::Config::connect_raw`, and steer the server through the [`ScriptedServer`] handle
//! (its settings are shared with the server task and read at each message).
//!
//! What it understands, like PostgreSQL:
//!
//! - the startup packet (an SSLRequest or GSSENCRequest is answered `N`), then
//!   AuthenticationOk, ParameterStatus (server_version 15.0, server_encoding UTF8,
//!   client_encoding UTF8, DateStyle ISO, integer_datetimes on, TimeZone UTC), BackendKeyData
//!   and ReadyForQuery;
//! - Parse (statement name → SQL; an existing named statement is an error), Describe of a
//!   statement (ParameterDescription with one `int4` per `$n`, then RowDescription with format
//!   code 0 or NoData) or of a portal, Bind (parameters and result formats remembered), Execute
//!   with a row limit (PortalSuspended once the limit is reached, `SELECT 0` for a portal run to
//!   its end), Close (never an error), Flush, Sync, Query (several statements separated by `;`),
//!   Terminate; CopyData, CopyDone and CopyFail outside COPY are ignored;
//! - SQL: `SELECT <e>` (with an optional `::int4` cast and `AS <name>`), where `<e>` is an
//!   integer literal, `$n` (echoed) or `generate_series(1, <e>)`; `INSERT ...`; `BEGIN`,
//!   `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`, `ROLLBACK TO` (with a stack of savepoints
//!   and PostgreSQL's warnings and errors outside a transaction block), `SET`;
//!   `COPY t FROM STDIN` and
//!   `COPY t TO STDOUT` on one text table (rows `1`, `2`, `3`, see [`Stats::table`]), in
//!   either protocol, with PostgreSQL's copy-in rules (Flush and Sync ignored, CopyFail or any
//!   other message ends the COPY with an error); anything else is a syntax error;
//! - after an ErrorResponse in the extended protocol every message up to the next Sync is
//!   discarded; an error inside a transaction block makes it failed (`E`) until it is ended;
//! - output is buffered until ReadyForQuery or Flush, and an ErrorResponse or NoticeResponse
//!   is sent at once (with whatever precedes it).
//!
//! The code is split by what it owns:
//!
//! - this module: the [`ScriptedServer`] handle and the state it shares with the server task;
//! - `script`: the knobs ([`Script`], [`WriteMode`], [`Failure`], [`Fault`])
//!   and what the server reports back ([`Stats`]);
//! - `backend`: the server task's state machine, the startup exchange, and the reply writer
//!   (buffering, write modes, `close_after`);
//! - `frontend`: dispatching a frontend message (decoded by `tusk::proto::server`);
//! - `extended`: Parse, Describe, Bind and Execute;
//! - `simple`: the simple Query protocol and the commands both protocols run;
//! - `copy`: COPY FROM STDIN and COPY TO STDOUT;
//! - `sql`: the tiny SQL dialect (planning and evaluating a statement);
//! - `replies`: the backend messages of this database's one `int4` column (written by
//!   `tusk::proto::server::backend`), public so tests can build wrong replies with them.
//!
//! The server reads what the client sends with the server side of tusk's codec
//! (`tusk::proto::server`: startup packets, frames, every message decoded) and writes every
//! reply with its backend encoders; a message the codec refuses gets PostgreSQL's answer,
//! ErrorResponse 08P01 (FATAL, ending the session, when the stream cannot be framed).

mod backend;
mod copy;
mod extended;
mod frontend;
mod replies;
mod script;
mod simple;
mod sql;

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::DuplexStream;
use tokio::task::JoinHandle;

use self::backend::Backend;
pub use self::replies::{command_complete, data_row, error_response, row_description};
pub use self::script::{Failure, Fault, Phase, Script, Stats, WriteMode};

/// The OID of `int4`, the only type of this database.
pub const INT4_OID: u32 = 23;

/// The process ID the server reports in BackendKeyData.
pub const BACKEND_PID: i32 = 4242;

#[derive(Debug, Default)]
struct Shared {
    script: Script,
    stats: Stats,
}

/// The handle to a running scripted server.
#[derive(Debug)]
pub struct ScriptedServer {
    shared: Arc<Mutex<Shared>>,
    task: JoinHandle<io::Result<()>>,
}

impl ScriptedServer {
    /// Spawns the server on its end of a fresh duplex and returns the handle and the client's
    /// end.
    pub fn start(script: Script) -> (ScriptedServer, DuplexStream) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let shared = Arc::new(Mutex::new(Shared {
            script,
            stats: Stats {
                table: vec!["1".to_owned(), "2".to_owned(), "3".to_owned()],
                ..Stats::default()
            },
        }));
        let backend = Backend::new(server, shared.clone());
        let task = tokio::spawn(backend.run());
        (ScriptedServer { shared, task }, client)
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes how the following replies are written.
    pub fn set_write_mode(&self, mode: WriteMode) {
        self.lock().script.write_mode = mode;
    }

    /// Makes a statement fail from now on.
    pub fn fail(&self, failure: Failure) {
        self.lock().script.failures.push(failure);
    }

    /// Stops failing statements.
    pub fn clear_failures(&self) {
        self.lock().script.failures.clear();
    }

    /// Queues a one-shot fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().script.faults.push(fault);
    }

    /// Drops the stream once `total` bytes have been written since the connection started.
    pub fn close_after(&self, total: usize) {
        self.lock().script.close_after = Some(total);
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> usize {
        self.lock().stats.bytes_written
    }

    /// What the server saw and did so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Waits for the server task to end (the client sent Terminate or closed its end) and
    /// returns its result.
    pub async fn finish(self) -> io::Result<()> {
        self.task.await.expect("the scripted server panicked")
    }
}
