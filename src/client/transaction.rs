//! Transactions and savepoints as guards: commit or roll back explicitly; a guard dropped
//! without either is rolled back before the connection's next use.

use std::time::Duration;

use crate::client::cancel::{CancelToken, StatementTimeoutGuard};
use crate::client::connection::Connection;
use crate::client::copy::{CopyIn, CopyOut};
use crate::client::cursor::Cursor;
use crate::client::notify::Notifications;
use crate::client::pipeline::Pipeline;
use crate::client::query::{Params, ToStatement};
use crate::client::row::Row;
use crate::client::server_cursor::ServerCursor;
use crate::client::simple::SimpleQueryMessage;
use crate::client::statement::Statement;
use crate::client::stream::RowStream;
use crate::error::Error;
use crate::proto::backend::Notification;
use crate::trace::{self, TxTrace};
use crate::types::ToSql;
use crate::TransactionStatus;

/// Transaction isolation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IsolationLevel {
    /// READ UNCOMMITTED (PostgreSQL runs it as READ COMMITTED).
    ReadUncommitted,
    /// READ COMMITTED, PostgreSQL's default.
    ReadCommitted,
    /// REPEATABLE READ.
    RepeatableRead,
    /// SERIALIZABLE.
    Serializable,
}

impl IsolationLevel {
    fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// An open transaction (or, nested, a savepoint). It has the [`Connection`]'s query methods
/// (they run inside the transaction), and implements [`GenericClient`](crate::GenericClient)
/// for code that takes a connection or a transaction alike.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// # conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
/// let mut tx = conn.transaction().await?;
/// tx.execute("UPDATE t SET b = $1", &[&"z"]).await?;
/// {
///     let mut sp = tx.transaction().await?;       // SAVEPOINT
///     sp.execute("DELETE FROM t", &[]).await?;
///     sp.rollback().await?;                       // ROLLBACK TO SAVEPOINT
/// }
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Transaction<'c> {
    conn: &'c mut Connection,
    /// `None` for a top-level transaction, the savepoint's name otherwise.
    savepoint: Option<String>,
    /// Whether commit/rollback has been sent (or the guard is still being set up and a
    /// drop must undo what was queued).
    finished: bool,
    /// The transaction's span, parent of the spans of what runs in it (feature `tracing`;
    /// zero-sized without).
    trace: TxTrace,
}

/// Settings for a new transaction: `conn.build_transaction().isolation_level(..).start()`.
#[derive(Debug)]
pub struct TransactionBuilder<'c> {
    conn: &'c mut Connection,
    isolation_level: Option<IsolationLevel>,
    read_only: Option<bool>,
    deferrable: Option<bool>,
}

impl Connection {
    /// Starts a transaction (`BEGIN`), or a savepoint when one is already open (whether it
    /// was opened by a guard or by plain SQL).
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        // Settle queued work first (a dropped guard's ROLLBACK), so the status is current.
        self.ready().await?;
        let (begin, savepoint) = match self.transaction_status() {
            TransactionStatus::Idle => ("BEGIN".to_owned(), None),
            _ => {
                self.savepoint_counter += 1;
                let name = format!("tusk_sp_{}", self.savepoint_counter);
                (format!("SAVEPOINT {name}"), Some(name))
            }
        };
        Transaction::start(self, &begin, savepoint).await
    }

    /// A builder for a transaction with an isolation level, read-only or deferrable mode.
    pub fn build_transaction(&mut self) -> TransactionBuilder<'_> {
        TransactionBuilder {
            conn: self,
            isolation_level: None,
            read_only: None,
            deferrable: None,
        }
    }
}

impl<'c> TransactionBuilder<'c> {
    /// Sets the isolation level.
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation_level = Some(level);
        self
    }

    /// READ ONLY (`true`) or READ WRITE (`false`).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = Some(read_only);
        self
    }

    /// DEFERRABLE (`true`) or NOT DEFERRABLE (`false`); only meaningful for serializable
    /// read-only transactions.
    pub fn deferrable(mut self, deferrable: bool) -> Self {
        self.deferrable = Some(deferrable);
        self
    }

    /// Sends `BEGIN` with the chosen modes. Fails if a transaction is already open (modes
    /// cannot be set on a savepoint).
    pub async fn start(self) -> Result<Transaction<'c>, Error> {
        self.conn.ready().await?;
        if self.conn.transaction_status() != TransactionStatus::Idle {
            return Err(Error::usage(
                "a transaction is already open: isolation level and access mode can only be \
                 set on a new top-level transaction",
            ));
        }
        let mut sql = String::from("BEGIN");
        let mut modes = Vec::new();
        if let Some(level) = self.isolation_level {
            modes.push(format!("ISOLATION LEVEL {}", level.sql()));
        }
        if let Some(ro) = self.read_only {
            modes.push(if ro { "READ ONLY" } else { "READ WRITE" }.to_owned());
        }
        if let Some(d) = self.deferrable {
            modes.push(if d { "DEFERRABLE" } else { "NOT DEFERRABLE" }.to_owned());
        }
        if !modes.is_empty() {
            sql.push(' ');
            sql.push_str(&modes.join(", "));
        }
        Transaction::start(self.conn, &sql, None).await
    }
}

impl<'c> Transaction<'c> {
    async fn start(
        conn: &'c mut Connection,
        begin: &str,
        savepoint: Option<String>,
    ) -> Result<Transaction<'c>, Error> {
        conn.ready().await?;
        conn.write_simple(begin)?;
        // The guard exists from the moment BEGIN is in the write buffer: if this future is
        // dropped at any await below, the guard's Drop queues the rollback behind it, so no
        // transaction is left open. Its span starts first, so that BEGIN's is its child.
        let mut tx = Transaction {
            trace: TxTrace::start(&mut conn.trace, savepoint.as_deref()),
            conn,
            savepoint,
            finished: false,
        };
        let begun = trace::traced!(
            trace::statement(&tx.conn.trace, begin),
            tx.conn.read_simple(false).await
        );
        let begun = tx.conn.settle_if_timed_out(begun).await;
        if let Err(e) = begun {
            // The server answered: BEGIN/SAVEPOINT did not take effect, nothing to undo.
            // Unless it timed out and a transaction is open now: BEGIN ran before the cancel
            // came, so the guard's rollback stays due (a timed-out SAVEPOINT cannot be told
            // apart, and rolling back to it is the safe side).
            let may_have_begun = e.kind() == crate::Kind::Timeout
                && (tx.savepoint.is_some()
                    || tx.conn.transaction_status() != TransactionStatus::Idle);
            if may_have_begun && !tx.conn.is_closed() {
                return Err(e);
            }
            tx.finished = true;
            tx.trace.failed(&e);
            return Err(e);
        }
        Ok(tx)
    }

    /// Sends `sql` to end the transaction (`how`: commit or rollback): written before
    /// anything is awaited past `ready`, so once it is in the buffer a dropped future still has
    /// it sent.
    async fn finish(&mut self, sql: &str, how: &'static str) -> Result<(), Error> {
        self.conn.ready().await?;
        self.conn.write_simple(sql)?;
        self.finished = true;
        self.trace.ended(how);
        let ended = trace::traced!(
            trace::statement(&self.conn.trace, sql),
            self.conn.read_simple(false).await.map(drop)
        );
        let ended = self.conn.settle_if_timed_out(ended).await;
        if let Err(e) = &ended {
            self.trace.failed(e);
        }
        ended
    }

    /// Commits (`COMMIT`, or `RELEASE SAVEPOINT`). If the transaction was aborted by an
    /// earlier error it is rolled back instead and the 25P02 error is returned.
    pub async fn commit(mut self) -> Result<(), Error> {
        if self.conn.transaction_status() == TransactionStatus::Failed {
            self.finish_with_rollback().await?;
            let err = Error::aborted_transaction().with_message(
                "the transaction was aborted by an earlier error and has been rolled back \
                 instead of committed",
            );
            self.trace.failed(&err);
            return Err(err);
        }
        let sql = match &self.savepoint {
            None => "COMMIT".to_owned(),
            Some(name) => format!("RELEASE SAVEPOINT {name}"),
        };
        self.finish(&sql, "commit").await
    }

    /// Rolls back (`ROLLBACK`, or `ROLLBACK TO SAVEPOINT` and `RELEASE SAVEPOINT`).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.finish_with_rollback().await
    }

    async fn finish_with_rollback(&mut self) -> Result<(), Error> {
        let sql = self.rollback_sql();
        self.finish(&sql, "rollback").await
    }

    fn rollback_sql(&self) -> String {
        match &self.savepoint {
            None => "ROLLBACK".to_owned(),
            Some(name) => format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
        }
    }

    /// The savepoint's name, for a nested transaction.
    pub fn savepoint_name(&self) -> Option<&str> {
        self.savepoint.as_deref()
    }

    /// The connection the transaction runs on, for the crate's own operations on a transaction
    /// (portals). Not public: a user reaches the connection's methods through the
    /// transaction's own, so a guard cannot be side-stepped by accident.
    pub(crate) fn connection(&mut self) -> &mut Connection {
        self.conn
    }
}

/// The [`Connection`]'s methods, run inside the transaction. Each forwards to the method of
/// the same name on [`Connection`], whose documentation says more.
impl Transaction<'_> {
    /// Starts a savepoint inside this transaction (`SAVEPOINT`); see
    /// [`Connection::transaction`].
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        self.conn.transaction().await
    }

    /// Runs a statement and returns the rows it affected (or returned); see
    /// [`Connection::execute`].
    pub async fn execute<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<u64, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.conn.execute(query, params).await
    }

    /// Runs a query and returns all its rows; see [`Connection::query`].
    pub async fn query<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Vec<Row>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.conn.query(query, params).await
    }

    /// Runs a query that must return exactly one row; see [`Connection::query_one`].
    pub async fn query_one<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Row, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.conn.query_one(query, params).await
    }

    /// Runs a query that must return at most one row; see [`Connection::query_opt`].
    pub async fn query_opt<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> Result<Option<Row>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.conn.query_opt(query, params).await
    }

    /// [`execute`](Transaction::execute) with `:name` placeholders; see
    /// [`Connection::execute_named`].
    pub async fn execute_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> Result<u64, Error> {
        self.conn.execute_named(sql, params).await
    }

    /// [`query`](Transaction::query) with `:name` placeholders; see
    /// [`Connection::query_named`].
    pub async fn query_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> Result<Vec<Row>, Error> {
        self.conn.query_named(sql, params).await
    }

    /// Prepares a statement; see [`Connection::prepare`].
    pub async fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        self.conn.prepare(sql).await
    }

    /// Runs SQL statements with the simple query protocol, discarding rows; see
    /// [`Connection::batch_execute`].
    pub async fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        self.conn.batch_execute(sql).await
    }

    /// Runs SQL statements with the simple query protocol and returns rows and command
    /// completions; see [`Connection::simple_query`].
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, Error> {
        self.conn.simple_query(sql).await
    }

    /// Streams a query's rows in batches; see [`Connection::query_stream`].
    pub async fn query_stream<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> Result<RowStream<'_>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.conn.query_stream(query, params).await
    }

    /// [`query_stream`](Transaction::query_stream) with `batch_rows` rows per Execute; see
    /// [`Connection::query_stream_batched`].
    pub async fn query_stream_batched<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
        batch_rows: u32,
    ) -> Result<RowStream<'_>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.conn
            .query_stream_batched(query, params, batch_rows)
            .await
    }

    /// A buffered cursor; see [`Connection::cursor`].
    pub fn cursor(&mut self) -> Cursor<'_> {
        self.conn.cursor()
    }

    /// A named server-side cursor; see [`Connection::server_cursor`].
    pub fn server_cursor(&mut self, name: &str) -> ServerCursor<'_> {
        self.conn.server_cursor(name)
    }

    /// Starts a pipeline; see [`Connection::pipeline`].
    pub fn pipeline(&mut self) -> Pipeline<'_, '_> {
        self.conn.pipeline()
    }

    /// Starts a `COPY ... FROM STDIN`; see [`Connection::copy_in`].
    pub async fn copy_in(&mut self, sql: &str) -> Result<CopyIn<'_>, Error> {
        self.conn.copy_in(sql).await
    }

    /// Starts a `COPY ... TO STDOUT`; see [`Connection::copy_out`].
    pub async fn copy_out(&mut self, sql: &str) -> Result<CopyOut<'_>, Error> {
        self.conn.copy_out(sql).await
    }

    /// The transaction status from the server's most recent ReadyForQuery; see
    /// [`Connection::transaction_status`].
    pub fn transaction_status(&self) -> TransactionStatus {
        self.conn.transaction_status()
    }

    /// A server parameter as last reported; see [`Connection::parameter`].
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.conn.parameter(name)
    }

    /// The protocol version of the session; see [`Connection::protocol_version`].
    pub fn protocol_version(&self) -> crate::ProtocolVersion {
        self.conn.protocol_version()
    }

    /// The server backend's process ID; see [`Connection::backend_pid`].
    pub fn backend_pid(&self) -> Option<i32> {
        self.conn.backend_pid()
    }

    /// Whether the connection can no longer be used; see [`Connection::is_closed`].
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// A token that cancels the running statement from elsewhere; see
    /// [`Connection::cancel_token`].
    pub fn cancel_token(&self) -> CancelToken {
        self.conn.cancel_token()
    }

    /// Sets the connection's client-side limit per statement; see
    /// [`Connection::set_statement_timeout`].
    pub fn set_statement_timeout(&mut self, timeout: Option<Duration>) {
        self.conn.set_statement_timeout(timeout)
    }

    /// The connection's client-side limit per statement; see
    /// [`Connection::statement_timeout`].
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.conn.statement_timeout()
    }

    /// Runs what follows with a time limit per statement; see
    /// [`Connection::with_statement_timeout`].
    pub fn with_statement_timeout(&mut self, limit: Duration) -> StatementTimeoutGuard<'_> {
        self.conn.with_statement_timeout(limit)
    }

    /// Notifications received so far and not yet taken; see
    /// [`Connection::take_notifications`].
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.conn.take_notifications()
    }

    /// Waits for the next notification; see [`Connection::next_notification`].
    pub async fn next_notification(&mut self) -> Result<Notification, Error> {
        self.conn.next_notification().await
    }

    /// The notifications as a stream; see [`Connection::notifications`].
    pub fn notifications(&mut self) -> Notifications<'_> {
        self.conn.notifications()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let sql = self.rollback_sql();
            self.conn.queue_simple(&sql);
        }
        self.trace.close(&mut self.conn.trace, !self.finished);
    }
}
