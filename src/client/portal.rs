//! Named portals: a statement bound once inside a transaction, then executed a few rows at a
//! time with [`Transaction::query_portal`], each call resuming where the last one stopped.
//!
//! A portal lives until the transaction ends, so [`Transaction::bind`] refuses to run outside
//! one. Dropping a [`Portal`] closes it on the server with the connection's next request (its
//! name waits in the same queue as dropped statements; portal names carry their own prefix,
//! `tusk_p`, so the two are told apart).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::client::connection::db_error;
use crate::client::query::{Params, ToStatement};
use crate::client::row::Row;
use crate::client::statement::{CloseQueue, Column, ServerObject, SharedColumns};
use crate::client::transaction::Transaction;
use crate::error::Error;
use crate::proto::backend::Message;
use crate::trace;
use crate::TransactionStatus;

/// The prefix of every portal name; statement names use `tusk_s`.
pub(crate) const PORTAL_PREFIX: &str = "tusk_p";

/// Portal names are unique in the process, so a close queued for a dropped portal can never
/// hit a newer one on the same connection.
static NEXT_PORTAL: AtomicU64 = AtomicU64::new(1);

/// A statement bound to its parameters inside a transaction, whose rows are fetched in parts
/// with [`Transaction::query_portal`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// let mut tx = conn.transaction().await?;
/// let portal = tx.bind("SELECT i FROM generate_series(1, $1) i", &[&10i32]).await?;
/// loop {
///     let rows = tx.query_portal(&portal, 4).await?;   // 4, 4, then 2 rows
///     println!("{} rows", rows.len());
///     if portal.is_exhausted() {
///         break;
///     }
/// }
/// drop(portal);
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Portal {
    name: String,
    connection_id: u64,
    columns: SharedColumns,
    exhausted: AtomicBool,
    close_queue: CloseQueue,
}

impl Portal {
    /// The server-side portal name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The result columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Whether the portal has returned its last row (an Execute ended in CommandComplete
    /// rather than PortalSuspended). Later calls of `query_portal` return no rows.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        // A poisoned lock only means another thread panicked while pushing a name; the list
        // itself is still a valid Vec.
        let mut names = self.close_queue.lock().unwrap_or_else(|e| e.into_inner());
        names.push(ServerObject::Portal(std::mem::take(&mut self.name)));
    }
}

impl Transaction<'_> {
    /// Binds `query` and `params` to a new named portal, to be executed in parts with
    /// [`query_portal`](Transaction::query_portal).
    ///
    /// Fails with a [`Kind::Usage`](crate::Kind::Usage) error if the transaction was ended
    /// behind the guard's back (a plain-SQL `COMMIT`): a portal outside a transaction would
    /// be gone at once.
    pub async fn bind<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Portal, Error>
    where
        Q: ToStatement + ?Sized,
    {
        let conn = self.connection();
        conn.ready().await?;
        if conn.transaction_status() == TransactionStatus::Idle {
            return Err(Error::usage(
                "a portal lives only until the end of its transaction, and no transaction is \
                 open: bind inside a transaction",
            ));
        }
        let stmt = conn.statement_for(query.query_ref(), params).await?;
        let name = format!(
            "{PORTAL_PREFIX}{}",
            NEXT_PORTAL.fetch_add(1, Ordering::Relaxed)
        );
        conn.write_bind(&name, &stmt, params)?;
        conn.requests().sync();
        // The handle exists from the moment Bind is in the buffer: if this future is dropped,
        // dropping the handle queues the portal's close.
        let portal = Portal {
            name,
            connection_id: conn.id,
            columns: stmt.shared_columns().clone(),
            exhausted: AtomicBool::new(false),
            close_queue: conn.close_queue.clone(),
        };
        conn.flush().await?;
        let mut first_error = None;
        loop {
            match conn.next_response().await {
                Ok(Message::ReadyForQuery(_)) => break,
                Ok(Message::ErrorResponse(fields)) => {
                    let err = conn.fail(db_error(&fields));
                    conn.cache.forget_if_stale(&stmt, &err);
                    first_error.get_or_insert(err);
                }
                // BindComplete, CloseComplete: checked by the exchange.
                Ok(_) => {}
                Err(e) => return Err(first_error.unwrap_or(e)),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(portal),
        }
    }

    /// Executes `portal` for at most `max_rows` more rows (0: all the rest) and returns them.
    ///
    /// Once the portal is exhausted (see [`Portal::is_exhausted`]) this returns an empty vector
    /// without contacting the server.
    pub async fn query_portal(
        &mut self,
        portal: &Portal,
        max_rows: i32,
    ) -> Result<Vec<Row>, Error> {
        let conn = self.connection();
        trace::traced!(trace::command(&conn.trace, "EXECUTE", None), {
            conn.ready().await?;
            if portal.connection_id != conn.id {
                return Err(Error::usage("this portal was bound on another connection"));
            }
            if max_rows < 0 {
                return Err(Error::usage(format!(
                    "max_rows is {max_rows}; it must be 0 (all rows) or positive"
                )));
            }
            if portal.is_exhausted() {
                return Ok(Vec::new());
            }
            // In an aborted transaction the server would refuse the Execute: refuse it locally.
            conn.check_allowed("EXECUTE")?;
            conn.write_pending_closes()?;
            let mut requests = conn.requests();
            requests.execute(&portal.name, max_rows)?;
            requests.sync();
            conn.flush().await?;

            let mut rows = Vec::new();
            let done = conn
                .read_rows_to_ready(&portal.columns, "execute or query", &mut rows)
                .await?;
            if done.completed {
                portal.exhausted.store(true, Ordering::Relaxed);
            }
            Ok(rows)
        })
    }
}
