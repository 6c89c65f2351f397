//! Transactions and savepoints as guards: commit or roll back explicitly; a guard dropped
//! without either is rolled back before the connection's next use.

use std::ops::{Deref, DerefMut};

use crate::client::connection::Connection;
use crate::error::Error;
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

/// An open transaction (or, nested, a savepoint). It dereferences to the [`Connection`], so
/// every query method works on it.
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
        // transaction is left open.
        let mut tx = Transaction {
            conn,
            savepoint,
            finished: false,
        };
        if let Err(e) = tx.conn.read_simple(false).await {
            // The server answered: BEGIN/SAVEPOINT did not take effect, nothing to undo.
            tx.finished = true;
            return Err(e);
        }
        Ok(tx)
    }

    /// Sends `sql` to end the transaction: written before anything is awaited past `ready`,
    /// so once it is in the buffer a dropped future still has it sent.
    async fn finish(&mut self, sql: &str) -> Result<(), Error> {
        self.conn.ready().await?;
        self.conn.write_simple(sql)?;
        self.finished = true;
        self.conn.read_simple(false).await.map(drop)
    }

    /// Commits (`COMMIT`, or `RELEASE SAVEPOINT`). If the transaction was aborted by an
    /// earlier error it is rolled back instead and the 25P02 error is returned.
    pub async fn commit(mut self) -> Result<(), Error> {
        if self.conn.transaction_status() == TransactionStatus::Failed {
            self.finish_with_rollback().await?;
            return Err(Error::aborted_transaction().with_message(
                "the transaction was aborted by an earlier error and has been rolled back \
                 instead of committed",
            ));
        }
        let sql = match &self.savepoint {
            None => "COMMIT".to_owned(),
            Some(name) => format!("RELEASE SAVEPOINT {name}"),
        };
        self.finish(&sql).await
    }

    /// Rolls back (`ROLLBACK`, or `ROLLBACK TO SAVEPOINT` and `RELEASE SAVEPOINT`).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.finish_with_rollback().await
    }

    async fn finish_with_rollback(&mut self) -> Result<(), Error> {
        let sql = self.rollback_sql();
        self.finish(&sql).await
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
}

impl Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let sql = self.rollback_sql();
            self.conn.queue_simple(&sql);
        }
    }
}
