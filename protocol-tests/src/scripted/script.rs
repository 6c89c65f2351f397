//! The scripted server's knobs and report: how it writes ([`WriteMode`]), which statements
//! fail and where ([`Failure`], [`Phase`]), one-shot wrong replies ([`Fault`]), all of them
//! gathered in a [`Script`]; and what it saw and did ([`Stats`]).

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
