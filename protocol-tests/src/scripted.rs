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

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

use crate::wire;

/// The OID of `int4`, the only type of this database.
pub const INT4_OID: u32 = 23;

/// The process ID the server reports in BackendKeyData.
pub const BACKEND_PID: i32 = 4242;

/// How the server writes its replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Each flush in one write.
    #[default]
    Whole,
    /// One byte per write, with a yield to the runtime after each.
    ByteByByte,
    /// The connection's whole output stream in two writes, split before byte `k` (counted
    /// from the first byte the server sends), with a yield between them.
    SplitAt(usize),
}

/// Where a statement fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// At Parse (in a simple Query: before anything of the statement is sent).
    Parse,
    /// At Bind (in a simple Query: as at Parse).
    Bind,
    /// At Execute, after `after_rows` rows (in a simple Query: after the RowDescription and
    /// those rows).
    Execute,
}

/// A statement the server fails with an ErrorResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The SQL text, compared after trimming white space and a trailing `;`.
    pub sql: String,
    /// When it fails.
    pub phase: Phase,
    /// For [`Phase::Execute`]: how many rows are sent before the error, which comes when row
    /// `after_rows + 1` would be computed (so not at all when there is no such row, nor for an
    /// Execute whose row limit stops it before).
    pub after_rows: usize,
    /// The SQLSTATE.
    pub code: String,
    /// The message.
    pub message: String,
}

impl Failure {
    /// `sql` fails at Parse with 42P01 `relation "<table>" does not exist`.
    pub fn undefined_table(sql: &str, table: &str) -> Failure {
        Failure {
            sql: sql.to_owned(),
            phase: Phase::Parse,
            after_rows: 0,
            code: "42P01".to_owned(),
            message: format!("relation \"{table}\" does not exist"),
        }
    }

    /// `sql` fails at Execute with 22012 `division by zero` after `after_rows` rows.
    pub fn division_by_zero(sql: &str, after_rows: usize) -> Failure {
        Failure {
            sql: sql.to_owned(),
            phase: Phase::Execute,
            after_rows,
            code: "22012".to_owned(),
            message: "division by zero".to_owned(),
        }
    }

    /// The same failure in another phase.
    pub fn in_phase(mut self, phase: Phase) -> Failure {
        self.phase = phase;
        self
    }
}

/// Server behaviour no real server shows on demand. A fault applies to the next frontend
/// message with its tag that the server processes (not one it discards while skipping to
/// Sync, nor COPY data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next frontend message with this tag is processed as usual, but its replies are
    /// replaced by `bytes`.
    ReplyInstead {
        /// The frontend message tag (`b'P'` for Parse, `b'Q'` for Query, ...).
        tag: u8,
        /// What is sent in place of the replies.
        bytes: Vec<u8>,
    },
    /// `bytes` are sent before the replies to the next frontend message with this tag.
    ReplyBefore {
        /// The frontend message tag.
        tag: u8,
        /// What is sent first.
        bytes: Vec<u8>,
    },
}

/// The server's settings.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// How replies are written.
    pub write_mode: WriteMode,
    /// Statements that fail.
    pub failures: Vec<Failure>,
    /// One-shot faults, applied in order.
    pub faults: Vec<Fault>,
    /// Drop the stream once this many bytes have been written in all (the write that crosses
    /// the limit is cut there).
    pub close_after: Option<usize>,
}

/// What the server saw and did, for assertions.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Bytes written so far.
    pub bytes_written: usize,
    /// The tags of the frontend messages received (0 for the startup packet), including the
    /// ones discarded while skipping to Sync.
    pub received: Vec<u8>,
    /// The SQLSTATE of every ErrorResponse sent.
    pub errors_sent: Vec<String>,
    /// The startup packet's parameters.
    pub startup_params: Vec<(String, String)>,
    /// The transaction status of the last ReadyForQuery (`I`, `T` or `E`).
    pub transaction_status: u8,
    /// Whether the server closed the stream itself (`close_after`).
    pub closed_by_server: bool,
    /// The rows of table `t`, as COPY sends them (without the newline): `1`, `2`, `3` at
    /// first, then whatever COPY FROM STDIN stored.
    pub table: Vec<String>,
    /// The named prepared statements the server holds: (name, SQL), sorted by name.
    pub statements: Vec<(String, String)>,
}

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

/// A prepared statement: its SQL and the number of parameters.
#[derive(Debug, Clone)]
struct Prepared {
    sql: String,
    params: usize,
}

/// A bound portal.
#[derive(Debug)]
struct Portal {
    sql: String,
    /// `Some` for a SELECT: the rows it returns.
    rows: Option<Vec<Option<i32>>>,
    /// How many rows earlier Executes returned.
    pos: usize,
    /// The result format of the one column (0 text, 1 binary).
    format: i16,
    /// A non-SELECT that ran already.
    done: bool,
}

/// An error being raised: SQLSTATE and message.
#[derive(Debug)]
struct SqlError {
    code: String,
    message: String,
}

fn sql_error(code: &str, message: impl Into<String>) -> SqlError {
    SqlError {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// What a statement does.
#[derive(Debug, Clone)]
enum Plan {
    Select(Expr),
    /// Not a SELECT: its command tag and its effect on the transaction.
    Command(Command),
}

#[derive(Debug, Clone)]
enum Expr {
    Literal(i32),
    Param(usize),
    Series(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Insert,
    Begin,
    Commit,
    Rollback,
    /// `SAVEPOINT <name>`.
    Savepoint(String),
    /// `RELEASE [SAVEPOINT] <name>`.
    Release(String),
    /// `ROLLBACK TO [SAVEPOINT] <name>`.
    RollbackTo(String),
    Set,
    CopyIn,
    CopyOut,
}

/// The server task's state.
struct Backend {
    stream: DuplexStream,
    shared: Arc<Mutex<Shared>>,
    out: Vec<u8>,
    /// An error or notice is in `out`: send it now.
    flush_now: bool,
    statements: HashMap<String, Prepared>,
    portals: HashMap<String, Portal>,
    /// Discarding messages up to the next Sync after an error.
    skipping: bool,
    /// `I`, `T` or `E`.
    status: u8,
    /// The COPY FROM STDIN in progress.
    copy_in: Option<CopyIn>,
    /// The savepoints of the open transaction block, oldest first.
    savepoints: Vec<String>,
}

/// A COPY FROM STDIN in progress.
#[derive(Debug, Default)]
struct CopyIn {
    /// The data received so far (stored at CopyDone).
    data: Vec<u8>,
    /// For a COPY run by a simple Query: the statements after it.
    simple_rest: Option<VecDeque<String>>,
}

/// Whether the server goes on after a write.
enum Flow {
    Open,
    /// `close_after` was reached: the stream is shut down.
    Closed,
}

impl Backend {
    fn new(stream: DuplexStream, shared: Arc<Mutex<Shared>>) -> Backend {
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

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn run(mut self) -> io::Result<()> {
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

    /// Handles one frontend message; returns whether its replies are sent now.
    fn message(&mut self, tag: u8, body: &[u8]) -> io::Result<bool> {
        let mut r = Reader(body);
        match tag {
            b'P' => {
                let name = r.cstr()?;
                let sql = r.cstr()?;
                self.parse(name, sql);
            }
            b'B' => {
                let portal = r.cstr()?;
                let statement = r.cstr()?;
                let formats = (0..r.i16()?)
                    .map(|_| r.i16())
                    .collect::<io::Result<Vec<_>>>()?;
                let mut values = Vec::new();
                for _ in 0..r.i16()? {
                    let len = r.i32()?;
                    values.push(if len < 0 {
                        None
                    } else {
                        Some(r.bytes(len as usize)?.to_vec())
                    });
                }
                let results = (0..r.i16()?)
                    .map(|_| r.i16())
                    .collect::<io::Result<Vec<_>>>()?;
                self.bind(portal, statement, &formats, &values, &results);
            }
            b'D' => {
                let kind = r.u8()?;
                let name = r.cstr()?;
                self.describe(kind, name);
            }
            b'E' => {
                let portal = r.cstr()?;
                let max_rows = r.i32()?;
                self.execute(portal, max_rows);
            }
            b'C' => {
                let kind = r.u8()?;
                let name = r.cstr()?;
                // Closing what does not exist is not an error.
                if kind == b'S' {
                    self.statements.remove(&name);
                    self.record_statements();
                } else {
                    self.portals.remove(&name);
                }
                self.out.extend(wire::msg(b'3', &[]));
            }
            b'H' => return Ok(true),
            b'S' => {
                // The unnamed portal and any other portal end with the implicit transaction.
                if self.status == b'I' {
                    self.portals.clear();
                }
                self.ready();
                return Ok(true);
            }
            b'Q' => {
                let sql = r.cstr()?;
                self.simple_query(&sql);
                return Ok(true);
            }
            // Outside COPY these are ignored, as PostgreSQL does.
            b'd' | b'c' | b'f' => {}
            other => {
                self.error(sql_error(
                    "08P01",
                    format!("invalid frontend message type {}", other),
                ));
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn record_statements(&self) {
        let mut named: Vec<(String, String)> = self
            .statements
            .iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, stmt)| (name.clone(), stmt.sql.clone()))
            .collect();
        named.sort();
        self.lock().stats.statements = named;
    }

    fn failure(&self, sql: &str, phase: Phase) -> Option<Failure> {
        let sql = normalise(sql);
        self.lock()
            .script
            .failures
            .iter()
            .find(|f| normalise(&f.sql) == sql && f.phase == phase)
            .cloned()
    }

    fn parse(&mut self, name: String, sql: String) {
        if !name.is_empty() && self.statements.contains_key(&name) {
            return self.error(sql_error(
                "42P05",
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        if let Some(f) = self.failure(&sql, Phase::Parse) {
            return self.error(sql_error(&f.code, f.message));
        }
        if self.status == b'E' && !ends_transaction(&sql) {
            return self.error(aborted());
        }
        if split_statements(&sql).len() > 1 {
            return self.error(sql_error(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        if let Err(e) = plan(&sql) {
            return self.error(e);
        }
        let params = count_params(&sql);
        self.statements.insert(name, Prepared { sql, params });
        self.record_statements();
        self.out.extend(wire::msg(b'1', &[]));
    }

    fn describe(&mut self, kind: u8, name: String) {
        match kind {
            b'S' => {
                let Some(stmt) = self.statements.get(&name).cloned() else {
                    return self.error(sql_error(
                        "26000",
                        format!("prepared statement \"{name}\" does not exist"),
                    ));
                };
                let mut body = (stmt.params as i16).to_be_bytes().to_vec();
                for _ in 0..stmt.params {
                    body.extend_from_slice(&INT4_OID.to_be_bytes());
                }
                self.out.extend(wire::msg(b't', &body));
                self.describe_rows(&stmt.sql, 0);
            }
            b'P' => {
                let Some(portal) = self.portals.get(&name) else {
                    return self.error(sql_error(
                        "34000",
                        format!("portal \"{name}\" does not exist"),
                    ));
                };
                let (sql, format) = (portal.sql.clone(), portal.format);
                self.describe_rows(&sql, format);
            }
            other => self.error(sql_error(
                "08P01",
                format!("invalid DESCRIBE message subtype {other}"),
            )),
        }
    }

    fn describe_rows(&mut self, sql: &str, format: i16) {
        match plan(sql) {
            Ok(Plan::Select(_)) => self.out.extend(row_description("x", format)),
            _ => self.out.extend(wire::msg(b'n', &[])),
        }
    }

    fn bind(
        &mut self,
        portal: String,
        statement: String,
        formats: &[i16],
        values: &[Option<Vec<u8>>],
        results: &[i16],
    ) {
        let Some(stmt) = self.statements.get(&statement).cloned() else {
            return self.error(sql_error(
                "26000",
                format!("prepared statement \"{statement}\" does not exist"),
            ));
        };
        if !portal.is_empty() && self.portals.contains_key(&portal) {
            return self.error(sql_error(
                "42P03",
                format!("cursor \"{portal}\" already exists"),
            ));
        }
        if values.len() != stmt.params {
            return self.error(sql_error(
                "08P01",
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{statement}\" \
                     requires {}",
                    values.len(),
                    stmt.params
                ),
            ));
        }
        if self.status == b'E' && !ends_transaction(&stmt.sql) {
            return self.error(aborted());
        }
        let mut params = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let format = match formats.len() {
                0 => 0,
                1 => formats[0],
                _ => formats[i],
            };
            match decode_int4(value.as_deref(), format) {
                Ok(v) => params.push(v),
                Err(()) => {
                    return self.error(sql_error(
                        "22P03",
                        format!("incorrect binary data format in bind parameter {}", i + 1),
                    ))
                }
            }
        }
        if let Some(f) = self.failure(&stmt.sql, Phase::Bind) {
            return self.error(sql_error(&f.code, f.message));
        }
        let rows = match plan(&stmt.sql) {
            Ok(Plan::Select(expr)) => match eval(&expr, &params) {
                Ok(rows) => Some(rows),
                Err(e) => return self.error(e),
            },
            Ok(Plan::Command(_)) => None,
            Err(e) => return self.error(e),
        };
        let format = results.first().copied().unwrap_or(0);
        self.portals.insert(
            portal,
            Portal {
                sql: stmt.sql,
                rows,
                pos: 0,
                format,
                done: false,
            },
        );
        self.out.extend(wire::msg(b'2', &[]));
    }

    fn execute(&mut self, name: String, max_rows: i32) {
        let Some(portal) = self.portals.get(&name) else {
            return self.error(sql_error(
                "34000",
                format!("portal \"{name}\" does not exist"),
            ));
        };
        let sql = portal.sql.clone();
        let failure = self.failure(&sql, Phase::Execute);
        let portal = self.portals.get_mut(&name).expect("looked up above");
        match &portal.rows {
            Some(rows) => {
                let rest = &rows[portal.pos..];
                let limit = if max_rows > 0 {
                    rest.len().min(max_rows as usize)
                } else {
                    rest.len()
                };
                // A failing statement errs when it comes to compute row `after_rows + 1`;
                // an Execute whose row limit stops it before that does not get there.
                let failure = failure.filter(|f| f.after_rows < portal.pos + limit);
                let sent = match &failure {
                    Some(f) => f.after_rows.saturating_sub(portal.pos),
                    None => limit,
                };
                for value in &rest[..sent] {
                    self.out.extend(data_row(*value, portal.format));
                }
                portal.pos += sent;
                if let Some(f) = failure {
                    return self.error(sql_error(&f.code, f.message));
                }
                // Like PostgreSQL: a portal that returned as many rows as asked is suspended,
                // even when none are left (it does not look ahead).
                if max_rows > 0 && sent == max_rows as usize {
                    self.out.extend(wire::msg(b's', &[]));
                } else {
                    self.out.extend(command_complete(&format!("SELECT {sent}")));
                }
            }
            None => {
                if let Some(f) = failure {
                    return self.error(sql_error(&f.code, f.message));
                }
                if portal.done {
                    return self.error(sql_error(
                        "55000",
                        format!("portal \"{name}\" cannot be run"),
                    ));
                }
                portal.done = true;
                let Ok(Plan::Command(command)) = plan(&sql) else {
                    unreachable!("a portal without rows is a command")
                };
                if let Err(e) = self.command(command) {
                    self.error(e);
                }
            }
        }
    }

    /// Runs a command: its notice, transaction effect and CommandComplete.
    fn command(&mut self, command: Command) -> Result<(), SqlError> {
        let tag = match command {
            Command::CopyIn => {
                // One text column; sent at once, as PostgreSQL does.
                self.out.extend(wire::msg(b'G', &[0, 0, 1, 0, 0]));
                self.copy_in = Some(CopyIn::default());
                self.flush_now = true;
                return Ok(());
            }
            Command::CopyOut => {
                let table = self.lock().stats.table.clone();
                self.out.extend(wire::msg(b'H', &[0, 0, 1, 0, 0]));
                for row in &table {
                    self.out
                        .extend(wire::msg(b'd', format!("{row}\n").as_bytes()));
                }
                self.out.extend(wire::msg(b'c', &[]));
                self.out
                    .extend(command_complete(&format!("COPY {}", table.len())));
                return Ok(());
            }
            Command::Insert => "INSERT 0 1",
            Command::Set => "SET",
            Command::Begin => {
                if self.status == b'I' {
                    self.status = b'T';
                } else {
                    self.notice("25001", "there is already a transaction in progress");
                }
                "BEGIN"
            }
            Command::Commit | Command::Rollback => {
                let was = std::mem::replace(&mut self.status, b'I');
                self.savepoints.clear();
                if was == b'I' {
                    self.notice("25P01", "there is no transaction in progress");
                }
                if command == Command::Commit && was != b'E' {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                }
            }
            Command::Savepoint(name) => {
                if self.status == b'I' {
                    return Err(outside_block("SAVEPOINT"));
                }
                self.savepoints.push(name);
                "SAVEPOINT"
            }
            Command::Release(name) => {
                if self.status == b'I' {
                    return Err(outside_block("RELEASE SAVEPOINT"));
                }
                let at = self.savepoint(&name)?;
                self.savepoints.truncate(at);
                "RELEASE"
            }
            Command::RollbackTo(name) => {
                if self.status == b'I' {
                    return Err(outside_block("ROLLBACK TO SAVEPOINT"));
                }
                let at = self.savepoint(&name)?;
                // The savepoint itself stays; the transaction is usable again.
                self.savepoints.truncate(at + 1);
                self.status = b'T';
                "ROLLBACK"
            }
        };
        self.out.extend(command_complete(tag));
        Ok(())
    }

    /// Where savepoint `name` is in the stack (the latest of that name).
    fn savepoint(&self, name: &str) -> Result<usize, SqlError> {
        self.savepoints
            .iter()
            .rposition(|s| s == name)
            .ok_or_else(|| sql_error("3B001", format!("savepoint \"{name}\" does not exist")))
    }

    /// A simple Query: its statements in turn, then ReadyForQuery (after the COPY, when one of
    /// them starts a COPY FROM STDIN).
    fn simple_query(&mut self, sql: &str) {
        let statements = split_statements(sql);
        if statements.is_empty() {
            self.out.extend(wire::msg(b'I', &[]));
            return self.ready();
        }
        self.run_simple(statements.into_iter().map(str::to_owned).collect());
    }

    /// Runs the rest of a simple Query's statements; ends with ReadyForQuery unless one of
    /// them starts a COPY FROM STDIN, which keeps the rest for when the COPY ends.
    fn run_simple(&mut self, mut rest: VecDeque<String>) {
        while let Some(statement) = rest.pop_front() {
            if let Err(e) = self.simple_statement(&statement) {
                self.error(e);
                break;
            }
            if let Some(copy) = &mut self.copy_in {
                copy.simple_rest = Some(rest);
                return;
            }
        }
        self.ready();
    }

    fn simple_statement(&mut self, statement: &str) -> Result<(), SqlError> {
        if self.status == b'E' && !ends_transaction(statement) {
            return Err(aborted());
        }
        let failure = [Phase::Parse, Phase::Bind, Phase::Execute]
            .into_iter()
            .find_map(|phase| self.failure(statement, phase));
        if let Some(f) = &failure {
            if f.phase != Phase::Execute {
                return Err(sql_error(&f.code, f.message.clone()));
            }
        }
        match plan(statement)? {
            Plan::Select(expr) => {
                let rows = eval(&expr, &[])?;
                self.out.extend(row_description("x", 0));
                // As at Execute: the error comes with row `after_rows + 1`, if there is one.
                let failure = failure.filter(|f| f.after_rows < rows.len());
                let sent = failure.as_ref().map_or(rows.len(), |f| f.after_rows);
                for value in rows.iter().take(sent) {
                    self.out.extend(data_row(*value, 0));
                }
                if let Some(f) = failure {
                    return Err(sql_error(&f.code, f.message));
                }
                self.out
                    .extend(command_complete(&format!("SELECT {}", rows.len())));
                Ok(())
            }
            Plan::Command(command) => {
                if let Some(f) = failure {
                    return Err(sql_error(&f.code, f.message));
                }
                self.command(command)
            }
        }
    }

    /// A message while a COPY FROM STDIN runs; returns whether the replies are sent now.
    fn copy_message(&mut self, tag: u8, body: &[u8]) -> io::Result<bool> {
        let copy = self.copy_in.as_mut().expect("in COPY FROM STDIN");
        let result = match tag {
            b'd' => {
                copy.data.extend_from_slice(body);
                return Ok(false);
            }
            // Ignored during COPY FROM STDIN, as PostgreSQL does "for the convenience of
            // client libraries that may send those without noticing that the command they
            // just sent was COPY".
            b'H' | b'S' => return Ok(false),
            b'c' => {
                let data = std::mem::take(&mut copy.data);
                let rows: Vec<String> = String::from_utf8_lossy(&data)
                    .lines()
                    .map(str::to_owned)
                    .collect();
                let n = rows.len();
                self.lock().stats.table.extend(rows);
                self.out.extend(command_complete(&format!("COPY {n}")));
                Ok(())
            }
            b'f' => {
                let reason = Reader(body).cstr()?;
                Err(sql_error(
                    "57014",
                    format!("COPY from stdin failed: {reason}"),
                ))
            }
            other => Err(sql_error(
                "08P01",
                format!("unexpected message type 0x{other:02X} during COPY from stdin"),
            )),
        };
        let copy = self.copy_in.take().expect("in COPY FROM STDIN");
        match (result, copy.simple_rest) {
            (Ok(()), Some(rest)) => self.run_simple(rest),
            (Ok(()), None) => return Ok(false),
            (Err(e), Some(_)) => {
                self.error(e);
                self.ready();
            }
            (Err(e), None) => self.error(e),
        }
        Ok(true)
    }

    /// Sends an ErrorResponse (ERROR): the transaction block fails; in the extended protocol
    /// the messages up to Sync are discarded.
    fn error(&mut self, e: SqlError) {
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

    fn notice(&mut self, code: &str, message: &str) {
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
    fn ready(&mut self) {
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

fn aborted() -> SqlError {
    sql_error(
        "25P02",
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads the fields of a frontend message body.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "frontend message too short",
            ));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.bytes(2)?.try_into().unwrap()))
    }

    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.bytes(4)?.try_into().unwrap()))
    }

    fn cstr(&mut self) -> io::Result<String> {
        let nul = self
            .0
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unterminated string"))?;
        let s = lossy(&self.0[..nul]);
        self.0 = &self.0[nul + 1..];
        Ok(s)
    }
}

/// RowDescription of one `int4` column.
pub fn row_description(name: &str, format: i16) -> Vec<u8> {
    let mut body = 1i16.to_be_bytes().to_vec();
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.extend_from_slice(&0i32.to_be_bytes()); // table OID
    body.extend_from_slice(&0i16.to_be_bytes()); // column number
    body.extend_from_slice(&INT4_OID.to_be_bytes());
    body.extend_from_slice(&4i16.to_be_bytes()); // type size
    body.extend_from_slice(&(-1i32).to_be_bytes()); // type modifier
    body.extend_from_slice(&format.to_be_bytes());
    wire::msg(b'T', &body)
}

/// DataRow of one `int4` value in text (0) or binary (1) format.
pub fn data_row(value: Option<i32>, format: i16) -> Vec<u8> {
    let mut body = 1i16.to_be_bytes().to_vec();
    match value {
        None => body.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(v) => {
            let bytes = if format == 1 {
                v.to_be_bytes().to_vec()
            } else {
                v.to_string().into_bytes()
            };
            body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            body.extend_from_slice(&bytes);
        }
    }
    wire::msg(b'D', &body)
}

/// CommandComplete with a tag.
pub fn command_complete(tag: &str) -> Vec<u8> {
    let mut body = tag.as_bytes().to_vec();
    body.push(0);
    wire::msg(b'C', &body)
}

/// An ErrorResponse (ERROR) with a SQLSTATE and message.
pub fn error_response(code: &str, message: &str) -> Vec<u8> {
    wire::fields(
        b'E',
        &[
            (b'S', "ERROR"),
            (b'V', "ERROR"),
            (b'C', code),
            (b'M', message),
        ],
    )
}

fn decode_int4(value: Option<&[u8]>, format: i16) -> Result<Option<i32>, ()> {
    let Some(bytes) = value else { return Ok(None) };
    if format == 1 {
        let bytes: [u8; 4] = bytes.try_into().map_err(|_| ())?;
        Ok(Some(i32::from_be_bytes(bytes)))
    } else {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Some)
            .ok_or(())
    }
}

/// The SQL text without surrounding white space and trailing semicolons.
fn normalise(sql: &str) -> &str {
    sql.trim().trim_end_matches(';').trim_end()
}

/// The statements of a simple Query (no quoting: this database has no strings).
fn split_statements(sql: &str) -> Vec<&str> {
    sql.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The highest `$n` in `sql`.
fn count_params(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let digits: String = sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                max = max.max(n);
            }
            i += 1 + digits.len();
        } else {
            i += 1;
        }
    }
    max
}

fn first_word(sql: &str) -> String {
    normalise(sql)
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

fn ends_transaction(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "ROLLBACK" | "ABORT" | "COMMIT" | "END"
    )
}

/// The name a savepoint command ends with.
fn last_word(sql: &str) -> Result<String, SqlError> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    match words.as_slice() {
        [_, .., name] if !name.eq_ignore_ascii_case("savepoint") => Ok((*name).to_owned()),
        _ => Err(syntax_error("")),
    }
}

fn outside_block(what: &str) -> SqlError {
    sql_error(
        "25P01",
        format!("{what} can only be used in transaction blocks"),
    )
}

fn syntax_error(near: &str) -> SqlError {
    sql_error("42601", format!("syntax error at or near \"{near}\""))
}

fn plan(sql: &str) -> Result<Plan, SqlError> {
    let sql = normalise(sql);
    let word = first_word(sql);
    let command = match word.as_str() {
        "SELECT" => {
            let mut expr = sql[word.len()..].trim();
            // An alias is allowed; the column is always called "x".
            if let Some(at) = expr.to_ascii_uppercase().rfind(" AS ") {
                expr = expr[..at].trim();
            }
            return parse_expr(expr).map(Plan::Select);
        }
        "INSERT" => Command::Insert,
        "BEGIN" | "START" => Command::Begin,
        "COMMIT" | "END" => Command::Commit,
        "ROLLBACK" | "ABORT" => {
            let words: Vec<String> = sql
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
            match words.get(1).map(String::as_str) {
                None | Some("WORK" | "TRANSACTION") => Command::Rollback,
                Some("TO") => Command::RollbackTo(last_word(sql)?),
                Some(other) => return Err(syntax_error(other)),
            }
        }
        "SAVEPOINT" => Command::Savepoint(last_word(sql)?),
        "RELEASE" => Command::Release(last_word(sql)?),
        "SET" => Command::Set,
        "COPY" => {
            let upper = sql.to_ascii_uppercase();
            if upper.ends_with(" FROM STDIN") {
                Command::CopyIn
            } else if upper.ends_with(" TO STDOUT") {
                Command::CopyOut
            } else {
                return Err(syntax_error(sql.rsplit(' ').next().unwrap_or_default()));
            }
        }
        "" => return Err(syntax_error("")),
        _ => {
            return Err(syntax_error(
                sql.split_whitespace().next().unwrap_or_default(),
            ))
        }
    };
    Ok(Plan::Command(command))
}

fn parse_expr(expr: &str) -> Result<Expr, SqlError> {
    let expr = expr.trim();
    let expr = expr
        .strip_suffix("::int4")
        .or_else(|| expr.strip_suffix("::integer"))
        .unwrap_or(expr)
        .trim();
    if let Some(inner) = expr
        .strip_prefix("generate_series(")
        .and_then(|e| e.strip_suffix(')'))
    {
        return match inner.split_once(',') {
            Some((start, end)) if start.trim() == "1" => {
                Ok(Expr::Series(Box::new(parse_expr(end)?)))
            }
            _ => Err(syntax_error(expr)),
        };
    }
    if let Some(n) = expr.strip_prefix('$') {
        return match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Expr::Param(n)),
            _ => Err(syntax_error(expr)),
        };
    }
    expr.parse()
        .map(Expr::Literal)
        .map_err(|_| syntax_error(expr.split_whitespace().next().unwrap_or(expr)))
}

fn eval(expr: &Expr, params: &[Option<i32>]) -> Result<Vec<Option<i32>>, SqlError> {
    let scalar = |e: &Expr| -> Result<Option<i32>, SqlError> {
        match e {
            Expr::Literal(v) => Ok(Some(*v)),
            Expr::Param(n) => params
                .get(n - 1)
                .copied()
                .ok_or_else(|| sql_error("42P02", format!("there is no parameter ${n}"))),
            Expr::Series(_) => Err(sql_error(
                "0A000",
                "set-returning functions are not allowed here",
            )),
        }
    };
    match expr {
        Expr::Series(end) => Ok(match scalar(end)? {
            Some(end) => (1..=end).map(Some).collect(),
            None => Vec::new(),
        }),
        e => Ok(vec![scalar(e)?]),
    }
}
