//! The spans themselves (feature `tracing`): what each kind carries and how outcomes are
//! recorded on it.
//!
//! Every span is at level INFO with target `tusk`. Statement spans (`tusk.query`,
//! `tusk.pipeline`) and connects (`tusk.connect`, `tusk.connect.attempt`) are OpenTelemetry
//! CLIENT spans (`otel.kind`). Attributes follow the stable database conventions:
//! `db.system.name`, `db.namespace`, `db.operation.name`, `db.query.text` (only with
//! [`Config::trace_query_text`]), `server.address`, `server.port`, `db.response.returned_rows`,
//! and on failure `db.response.status_code`, `error.type` and `otel.status_code = "ERROR"`.
//!
//! Nothing is computed (no operation name parsed, no string built) unless a subscriber takes
//! INFO spans; a span a subscriber turned down costs one callsite check. The fields recorded
//! after a span starts (rows, errors) are declared first: `Span::record` looks a field up by
//! name in declaration order.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::field::Empty;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::Level;

use super::operation::Operation;
use crate::client::connection::negotiate::Encryption;
use crate::client::query::{Outcome, QueryRef};
use crate::config::{Config, Host, Resolved, Target};
use crate::error::{Error, Kind};
use crate::{
    Connection, CopyIn, CopyOut, PooledConnection, Portal, QueryResult, Row, RowStream,
    SimpleQueryMessage, Statement, Transaction,
};

/// The value of `db.system.name` for PostgreSQL.
const SYSTEM: &str = "postgresql";

/// One of tusk's spans, `None` when no subscriber takes it: then nothing is entered, recorded
/// or dropped for it, which keeps the feature nearly free while no subscriber listens.
#[derive(Debug, Clone)]
pub(crate) struct Span(Option<tracing::Span>);

impl Span {
    #[inline(always)]
    fn none() -> Span {
        Span(None)
    }

    /// Whether no subscriber took this span: [`traced!`](super::traced) then runs its body as
    /// if there were no feature.
    #[inline(always)]
    pub(crate) fn is_off(&self) -> bool {
        self.0.is_none()
    }

    /// Records `result` (the [`Traced`] attributes of a value, or the error).
    pub(crate) fn record_result<T: Traced, E: TracedError>(&self, result: &Result<T, E>) {
        if let Some(span) = &self.0 {
            match result {
                Ok(value) => value.record_on(span),
                Err(e) => record_error(span, e.error()),
            }
        }
    }

    /// `span`, unless the subscribers turned it down.
    fn from(span: tracing::Span) -> Span {
        Span((!span.is_disabled()).then_some(span))
    }

    /// Records how a long-lived operation (a row stream, a COPY) ended: the rows it returned,
    /// or its error.
    pub(crate) fn record_end(&self, rows: Option<u64>, error: Option<&Error>) {
        let Some(span) = &self.0 else { return };
        match (error, rows) {
            (Some(e), _) => record_error(span, e),
            (None, Some(rows)) => {
                span.record("db.response.returned_rows", rows);
            }
            (None, None) => {}
        }
    }
}

/// A future polled inside a span: the span is entered around every poll, so that spans started
/// inside are its children. It borrows the future, pinned where [`traced!`](super::traced)
/// made it, so nothing is moved.
pub(crate) struct InSpan<'a, F> {
    span: &'a Span,
    future: Pin<&'a mut F>,
}

impl<'a, F: Future> InSpan<'a, F> {
    pub(crate) fn new(span: &'a Span, future: Pin<&'a mut F>) -> InSpan<'a, F> {
        InSpan { span, future }
    }
}

impl<F: Future> Future for InSpan<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _entered = this.span.0.as_ref().map(tracing::Span::enter);
        this.future.as_mut().poll(cx)
    }
}

/// What a successful result records on its span; nothing unless said otherwise.
pub(crate) trait Traced {
    /// Records this result's attributes (the rows returned) on `span`.
    fn record_on(&self, _span: &tracing::Span) {}
}

/// An error as the span sees it.
pub(crate) trait TracedError {
    /// The [`Error`] inside.
    fn error(&self) -> &Error;
}

impl TracedError for Error {
    fn error(&self) -> &Error {
        self
    }
}

/// A connect attempt's error, with whether the session was encrypted by then.
impl TracedError for (Error, bool) {
    fn error(&self) -> &Error {
        &self.0
    }
}

/// `db.response.status_code` (the SQLSTATE, for errors that have one), `error.type` (the
/// SQLSTATE, else the kind of error in snake case) and the OpenTelemetry error status.
fn record_error(span: &tracing::Span, err: &Error) {
    let code = err.code().map(|state| state.code());
    span.record("db.response.status_code", code);
    span.record("error.type", code.unwrap_or(kind_name(err.kind())));
    span.record("otel.status_code", "ERROR");
}

/// `error.type` for an error without SQLSTATE.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Io => "io",
        Kind::Protocol => "protocol",
        Kind::Auth => "auth",
        Kind::Config => "config",
        Kind::Conversion => "conversion",
        Kind::Db => "db",
        Kind::AbortedTransaction => "aborted_transaction",
        Kind::Timeout => "timeout",
        Kind::Closed => "closed",
        Kind::RowCount => "row_count",
        Kind::Usage => "usage",
        Kind::Tls => "tls",
        Kind::ServerRole => "server_role",
    }
}

/// Whether some subscriber takes INFO spans at all: the same first check `tracing`'s macros
/// make, done before anything is computed for a span's fields.
#[inline(always)]
fn enabled() -> bool {
    STATIC_MAX_LEVEL >= Level::INFO && LevelFilter::current() >= Level::INFO
}

/// `otel.name`: `{operation} {namespace}`, or whichever of the two is known, or the system.
struct SpanName<'a> {
    operation: Option<&'a str>,
    namespace: Option<&'a str>,
}

impl fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.operation, self.namespace) {
            (Some(op), Some(ns)) => write!(f, "{op} {ns}"),
            (Some(one), None) | (None, Some(one)) => f.write_str(one),
            (None, None) => f.write_str(SYSTEM),
        }
    }
}

/// `server.address` and `server.port` of a target: the host name (or address) and port over
/// TCP; the socket file and no port for a Unix-domain socket, as the conventions ask.
fn peer(target: &Target) -> (Cow<'_, str>, Option<u16>) {
    match &target.host {
        Host::Tcp(name) => (Cow::Borrowed(name.as_str()), Some(target.port)),
        Host::Unix(dir) => (
            Cow::Owned(format!("{}/.s.PGSQL.{}", dir.display(), target.port)),
            None,
        ),
    }
}

/// The database name a [`Config`] asks for: its `dbname`, else the user name (PostgreSQL's
/// default).
fn config_namespace(config: &Config) -> Option<&str> {
    config.get_dbname().or(config.get_user())
}

/// What a connection's spans say about it, fixed when it is opened.
#[derive(Debug)]
pub(crate) struct ConnTrace {
    namespace: Box<str>,
    address: Box<str>,
    port: Option<u16>,
    query_text: bool,
    /// The span of the innermost transaction open on the connection: the explicit parent of
    /// every span started on it meanwhile (see [`TxTrace`]).
    parent: Option<tracing::Span>,
}

impl ConnTrace {
    pub(crate) fn new(config: &Config, resolved: &Resolved, target: &Target) -> ConnTrace {
        let (address, port) = peer(target);
        ConnTrace {
            namespace: resolved.dbname.as_str().into(),
            address: address.into(),
            port,
            query_text: config.get_trace_query_text(),
            parent: None,
        }
    }
}

/// Builds a span under the connection's open transaction if there is one, else under the
/// current span (`tracing`'s contextual parent). An explicit `parent: None` would make a
/// root span, hence the two invocations.
macro_rules! under_transaction {
    ($conn:expr, $name:literal, $($fields:tt)*) => {
        match &$conn.parent {
            Some(parent) => tracing::info_span!(target: "tusk", parent: parent, $name, $($fields)*),
            None => tracing::info_span!(target: "tusk", $name, $($fields)*),
        }
    };
}

/// A statement span on a connection (`tusk.query`, `tusk.pipeline`) with the database
/// conventions' fields, under the connection's transaction if one is open; `$batch` is
/// `db.operation.batch.size` (`None`, and so not recorded, for one statement).
macro_rules! statement_like_span {
    ($conn:expr, $name:literal, $span_name:expr, $operation:expr, $text:expr, $batch:expr) => {
        Span::from(under_transaction!(
            $conn,
            $name,
            "db.response.returned_rows" = Empty,
            "error.type" = Empty,
            "db.response.status_code" = Empty,
            "otel.status_code" = Empty,
            "otel.name" = %$span_name,
            "otel.kind" = "client",
            "db.system.name" = SYSTEM,
            "db.namespace" = &*$conn.namespace,
            "db.operation.name" = $operation,
            "db.operation.batch.size" = $batch,
            "db.query.text" = $text,
            "server.address" = &*$conn.address,
            "server.port" = $conn.port,
        ))
    };
}

/// A span for one statement (or one simple-query string) on a connection, `tusk.query`; its
/// operation is `sql`'s first keyword.
#[inline]
pub(crate) fn statement(conn: &ConnTrace, sql: &str) -> Span {
    if !enabled() {
        return Span::none();
    }
    statement_span(conn, sql)
}

/// [`statement`] for SQL text or a prepared statement.
#[inline]
pub(crate) fn statement_ref(conn: &ConnTrace, query: QueryRef<'_>) -> Span {
    if !enabled() {
        return Span::none();
    }
    statement_span(conn, sql_of(query))
}

fn statement_span(conn: &ConnTrace, sql: &str) -> Span {
    let operation = Operation::of_sql(sql);
    command_span(conn, operation.as_ref().map(Operation::as_str), Some(sql))
}

/// A `tusk.query` span for a command tusk words itself (`FETCH` from a server cursor,
/// `EXECUTE` of a portal, `DECLARE` of a cursor over `text`).
pub(crate) fn command(conn: &ConnTrace, operation: &'static str, text: Option<&str>) -> Span {
    if !enabled() {
        return Span::none();
    }
    command_span(conn, Some(operation), text)
}

fn command_span(conn: &ConnTrace, operation: Option<&str>, text: Option<&str>) -> Span {
    let name = SpanName {
        operation,
        namespace: Some(&conn.namespace),
    };
    let text = text.filter(|_| conn.query_text);
    statement_like_span!(conn, "tusk.query", name, operation, text, None::<u64>)
}

/// A `tusk.pipeline` span: `BATCH SELECT` when every statement has one operation, else
/// `BATCH` (a single statement is named as itself), with `db.operation.batch.size`.
pub(crate) fn pipeline<'q>(
    conn: &ConnTrace,
    queries: impl Iterator<Item = QueryRef<'q>> + Clone,
) -> Span {
    if !enabled() {
        return Span::none();
    }
    let mut size = 0u64;
    let mut same: Option<Option<Operation>> = None;
    for query in queries.clone() {
        size += 1;
        let op = Operation::of_sql(sql_of(query));
        same = match same {
            None => Some(op),
            Some(seen) if seen == op => Some(seen),
            Some(_) => Some(None),
        };
    }
    let operation = match (size, same.flatten()) {
        (1, Some(op)) => Some(op),
        (0 | 1, _) => None,
        (_, op) => Some(Operation::batch(op)),
    };
    let operation = operation.as_ref().map(Operation::as_str);
    // The conventions join a batch's texts with "; ".
    let text = conn
        .query_text
        .then(|| queries.map(sql_of).collect::<Vec<_>>().join("; "));
    let name = SpanName {
        operation,
        namespace: Some(&conn.namespace),
    };
    let batch_size = (size >= 2).then_some(size);
    statement_like_span!(
        conn,
        "tusk.pipeline",
        name,
        operation,
        text.as_deref(),
        batch_size
    )
}

/// The span of an open transaction (or savepoint) and the parent it replaced on the
/// connection.
///
/// The statements of a transaction are its span's children through an explicit parent kept on
/// the connection, not through `tracing`'s current span: a transaction borrows its connection,
/// so whatever runs on the connection meanwhile runs in the transaction, whichever task or
/// span awaits it. (Entering the span for the guard's lifetime is not an option: an entered
/// span held across an `.await` leaks into whatever else the thread runs meanwhile.) The
/// transaction's own parent is the current span where it began, or the outer transaction for
/// a savepoint.
#[derive(Debug)]
pub(crate) struct TxTrace(Option<OpenTransaction>);

/// A transaction's span that a subscriber took.
#[derive(Debug)]
struct OpenTransaction {
    span: tracing::Span,
    /// The connection's parent before this transaction, to put back when it ends.
    outer: Option<tracing::Span>,
}

impl TxTrace {
    /// Starts the span of a transaction (a savepoint when `savepoint` names one) on `conn`,
    /// and makes it the parent of the connection's spans until [`TxTrace::close`].
    pub(crate) fn start(conn: &mut ConnTrace, savepoint: Option<&str>) -> TxTrace {
        if !enabled() {
            return TxTrace(None);
        }
        let name = SpanName {
            operation: Some(if savepoint.is_some() {
                "savepoint"
            } else {
                "transaction"
            }),
            namespace: Some(&conn.namespace),
        };
        let span = under_transaction!(
            conn,
            "tusk.transaction",
            "error.type" = Empty,
            "db.response.status_code" = Empty,
            "otel.status_code" = Empty,
            "tusk.transaction.end" = Empty,
            "otel.name" = %name,
            "db.system.name" = SYSTEM,
            "db.namespace" = &*conn.namespace,
            "server.address" = &*conn.address,
            "server.port" = conn.port,
            "tusk.savepoint" = savepoint,
        );
        if span.is_disabled() {
            return TxTrace(None);
        }
        let outer = conn.parent.replace(span.clone());
        TxTrace(Some(OpenTransaction { span, outer }))
    }

    /// Records how the transaction ends: `commit` or `rollback`.
    pub(crate) fn ended(&self, how: &'static str) {
        if let Some(open) = &self.0 {
            open.span.record("tusk.transaction.end", how);
        }
    }

    /// Records the error that failed the transaction's start or end.
    pub(crate) fn failed(&self, error: &Error) {
        if let Some(open) = &self.0 {
            record_error(&open.span, error);
        }
    }

    /// The guard is going away: puts the outer parent back on the connection and lets the
    /// span close. `dropped`: the guard was dropped without commit or rollback (a rollback is
    /// queued).
    pub(crate) fn close(&mut self, conn: &mut ConnTrace, dropped: bool) {
        if let Some(open) = self.0.take() {
            if dropped {
                open.span.record("tusk.transaction.end", "dropped");
            }
            conn.parent = open.outer;
        }
    }
}

/// The span of [`Connection::connect`] and friends (`tusk.connect`): every host and attempt
/// tried, the address of the one that accepted recorded at the end.
pub(crate) fn connect(config: &Config) -> Span {
    if !enabled() {
        return Span::none();
    }
    let namespace = config_namespace(config);
    let name = SpanName {
        operation: Some("connect"),
        namespace,
    };
    Span::from(tracing::info_span!(
        target: "tusk",
        "tusk.connect",
        "error.type" = Empty,
        "db.response.status_code" = Empty,
        "otel.status_code" = Empty,
        "server.address" = Empty,
        "server.port" = Empty,
        "otel.name" = %name,
        "otel.kind" = "client",
        "db.system.name" = SYSTEM,
        "db.namespace" = namespace,
        "db.operation.name" = "connect",
    ))
}

/// One attempt at one host (`tusk.connect.attempt`): the socket, TLS as `encryption` says,
/// startup and authentication.
pub(crate) fn connect_attempt(target: &Target, encryption: Encryption) -> Span {
    if !enabled() {
        return Span::none();
    }
    let (address, port) = peer(target);
    let peer_address = target.hostaddr.map(|ip| ip.to_string());
    let transport = match target.host {
        Host::Tcp(_) => "tcp",
        Host::Unix(_) => "unix",
    };
    let encryption = match encryption {
        Encryption::Plain => "plain",
        Encryption::Requested => "tls",
        Encryption::Direct => "direct tls",
    };
    Span::from(tracing::info_span!(
        target: "tusk",
        "tusk.connect.attempt",
        "error.type" = Empty,
        "db.response.status_code" = Empty,
        "otel.status_code" = Empty,
        "db.system.name" = SYSTEM,
        "server.address" = &*address,
        "server.port" = port,
        "network.peer.address" = peer_address.as_deref(),
        "network.transport" = transport,
        "tusk.encryption" = encryption,
    ))
}

/// The span of [`Pool::get`](crate::Pool::get) (`tusk.pool.get`): the wait for a free slot,
/// and the connect when a new connection is opened.
pub(crate) fn pool_get(config: &Config) -> Span {
    if !enabled() {
        return Span::none();
    }
    Span::from(tracing::info_span!(
        target: "tusk",
        "tusk.pool.get",
        "error.type" = Empty,
        "db.response.status_code" = Empty,
        "otel.status_code" = Empty,
        "db.system.name" = SYSTEM,
        "db.namespace" = config_namespace(config),
    ))
}

/// The span of a pool's shared query (`tusk.query`): describing, the wait in the queue and
/// the run, on a connection not known when it starts (so no `server.*`).
pub(crate) fn pool_statement(config: &Config, sql: &str) -> Span {
    if !enabled() {
        return Span::none();
    }
    let operation = Operation::of_sql(sql);
    let operation = operation.as_ref().map(Operation::as_str);
    let namespace = config_namespace(config);
    let name = SpanName {
        operation,
        namespace,
    };
    let text = config.get_trace_query_text().then_some(sql);
    Span::from(tracing::info_span!(
        target: "tusk",
        "tusk.query",
        "db.response.returned_rows" = Empty,
        "error.type" = Empty,
        "db.response.status_code" = Empty,
        "otel.status_code" = Empty,
        "otel.name" = %name,
        "otel.kind" = "client",
        "db.system.name" = SYSTEM,
        "db.namespace" = namespace,
        "db.operation.name" = operation,
        "db.query.text" = text,
        "tusk.pool.shared" = true,
    ))
}

fn sql_of(query: QueryRef<'_>) -> &str {
    match query {
        QueryRef::Sql(sql) => sql,
        QueryRef::Prepared(stmt) => stmt.sql(),
    }
}

fn record_rows(span: &tracing::Span, rows: usize) {
    span.record("db.response.returned_rows", rows as u64);
}

impl Traced for Vec<Row> {
    fn record_on(&self, span: &tracing::Span) {
        record_rows(span, self.len());
    }
}

impl Traced for Row {
    fn record_on(&self, span: &tracing::Span) {
        record_rows(span, 1);
    }
}

impl Traced for Option<Row> {
    fn record_on(&self, span: &tracing::Span) {
        record_rows(span, usize::from(self.is_some()));
    }
}

/// The rows, for a statement that returns rows (an INSERT without RETURNING returns none, and
/// says nothing).
impl Traced for Outcome {
    fn record_on(&self, span: &tracing::Span) {
        if self.columns.is_some() {
            record_rows(span, self.rows.len());
        }
    }
}

/// The rows of every statement of a simple-query string; nothing when none returned rows.
impl Traced for Vec<SimpleQueryMessage> {
    fn record_on(&self, span: &tracing::Span) {
        let rows = self
            .iter()
            .filter(|m| matches!(m, SimpleQueryMessage::Row(_)))
            .count();
        let selected = self.iter().any(|m| match m {
            SimpleQueryMessage::CommandComplete { tag, .. } => tag.starts_with("SELECT"),
            _ => false,
        });
        if rows > 0 || selected {
            record_rows(span, rows);
        }
    }
}

/// The rows of the pipeline's statements that succeeded.
impl Traced for Vec<Result<QueryResult, Error>> {
    fn record_on(&self, span: &tracing::Span) {
        let rows = self.iter().flatten().map(|r| r.rows().len()).sum();
        record_rows(span, rows);
    }
}

/// The server that accepted, on the connect span.
impl Traced for Connection {
    fn record_on(&self, span: &tracing::Span) {
        span.record("server.address", &*self.trace.address);
        span.record("server.port", self.trace.port);
    }
}

impl Traced for u64 {}
impl Traced for () {}
impl Traced for Statement {}
impl Traced for Portal {}
impl Traced for PooledConnection {}
impl Traced for Transaction<'_> {}
/// Their rows are recorded when they end (see [`Span::record_end`]).
impl Traced for RowStream<'_> {}
impl Traced for CopyIn<'_> {}
impl Traced for CopyOut<'_> {}
