//! A pool of connections shared by many tasks: exclusive checkouts for work that needs one
//! session (transactions, cursors, COPY), and shared one-statement queries that the pool
//! batches onto its connections.
//!
//! The shared path is what makes the pool more than a box of connections. A query passed to
//! [`Pool::query`] is checked and its parameters encoded in the caller's task, then queued;
//! a runner task that holds a connection takes every queued query (up to
//! [`PoolBuilder::max_batch`]) and sends them with one write, each in its own Sync group, so
//! one failing statement affects no other. Under load, many tasks' queries share one round
//! trip and one system call each way, which is where a pool of N connections otherwise spends
//! most of its time. With one caller at a time it behaves like a plain pool.
//!
//! Each shared query is its own implicit transaction on some connection of the pool: session
//! state set through it (`SET`, temporary tables, advisory locks) lands on a connection the
//! next query may not use. Take a connection with [`Pool::get`] for anything that spans
//! statements.
//!
//! [`Config::statement_timeout`] (a client-side limit that cancels the statement) applies to
//! checked-out connections only: a shared query runs in a batch with other tasks' queries, so
//! a cancel could hit one of theirs. For a limit on shared queries, set the server's own
//! `statement_timeout` for the pool's sessions (`options=-c statement_timeout=5s`).
//!
//! With the statement cache on (the default), shared queries use named prepared statements,
//! cached per connection: each is described once and then bound by name in later Sync groups,
//! which must therefore reach the same server session. With
//! [`Config::statement_cache_capacity`] 0 they use the unnamed statement: each query is one
//! self-contained Sync group (Parse, Bind, Describe, Execute, Sync; still many to a write),
//! which any server session can run, and the pool describes new SQL the same way. Behind
//! pgbouncer:
//!
//! - session pooling: either works; keep the cache (it spares the server a parse per query);
//! - transaction pooling: set the capacity to 0. Shared queries and checkouts then work
//!   (each query, and each transaction, runs on one server session). A statement from
//!   [`Connection::prepare`] is still named: use it only inside the transaction that
//!   prepared it;
//! - statement pooling: capacity 0 as well, and no multi-statement transactions on checkouts
//!   (pgbouncer refuses them).

mod described;
mod runner;
mod unnamed;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::client::connection::Connection;
use crate::client::query::{at_most_one, check_param_limit, exactly_one, Outcome, Params};
use crate::client::row::Row;
use crate::config::Config;
use crate::error::Error;
use crate::TransactionStatus;
use described::Described;

/// Connections a pool opens at most unless [`PoolBuilder::max_size`] says otherwise.
pub const DEFAULT_POOL_SIZE: usize = 10;

/// Shared queries one connection sends together at most, unless [`PoolBuilder::max_batch`]
/// says otherwise.
pub const DEFAULT_MAX_BATCH: usize = 64;

/// SQL texts whose descriptions the pool remembers; beyond that the memory is cleared and
/// rebuilt (each miss costs one Parse/Describe round trip on a checked-out connection).
const DESCRIPTION_CAPACITY: usize = 1024;

/// A pool of connections to one server, cheap to clone (clones share the pool).
///
/// Connections are opened on demand up to the maximum size and kept open when returned.
/// Before a connection is reused it is checked without a round trip (a server that ended the
/// session has said so on the socket), resynchronised if a dropped future left a request
/// unfinished, and rolled back if a transaction was left open.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// let config: tusk::Config = "postgres://tusk:tusk@127.0.0.1:54329/tusk".parse()?;
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let config: tusk::Config = url.parse()?;
/// let pool = tusk::Pool::builder(config).max_size(8).build();
///
/// // Shared: from any number of tasks; concurrent queries are batched per connection.
/// let row = pool.query_one("SELECT $1::int4 + 1", &[&41i32]).await?;
/// assert_eq!(row.get::<_, i32>(0), 42);
///
/// // Exclusive: one connection for a transaction.
/// let mut conn = pool.get().await?;
/// # conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
/// let mut tx = conn.transaction().await?;
/// tx.execute("UPDATE t SET b = 'x' WHERE a = $1", &[&1i32]).await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

/// Settings of a [`Pool`]; start with [`Pool::builder`].
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    config: Config,
    max_size: usize,
    max_batch: usize,
}

/// A snapshot of a pool's state, from [`Pool::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open and waiting for work.
    pub idle: usize,
    /// Connections checked out with [`Pool::get`] or running shared queries.
    pub in_use: usize,
    /// Shared queries waiting for a connection.
    pub queued: usize,
}

/// A connection checked out of a [`Pool`]; dereferences to [`Connection`] and implements
/// [`GenericClient`](crate::GenericClient). Dropping it gives the connection back (a closed
/// one is discarded).
pub struct PooledConnection {
    conn: Option<Connection>,
    permit: Option<OwnedSemaphorePermit>,
    shared: Arc<Shared>,
}

/// What the pool shares between its handles, checkouts and runners.
struct Shared {
    config: Config,
    max_size: usize,
    max_batch: usize,
    /// One permit per connection the pool may have in use: held by a checkout or a runner.
    permits: Arc<Semaphore>,
    /// Calls of [`Pool::get`] waiting for a permit.
    checkouts_waiting: AtomicUsize,
    state: Mutex<State>,
    /// SQL text -> its description (its parameter types), detached from any connection: what
    /// callers encode their parameters against before a connection is chosen.
    descriptions: Mutex<HashMap<Box<str>, Arc<Described>>>,
}

#[derive(Default)]
struct State {
    idle: Vec<Connection>,
    queue: VecDeque<Job>,
    closed: bool,
}

/// One shared query waiting for a runner.
struct Job {
    /// The pool's description of the SQL: its text and the parameter types `section` was
    /// encoded for.
    described: Arc<Described>,
    /// The Bind parameter section (formats, count, values), see
    /// [`crate::proto::frontend::bind_parameter_section`].
    section: Bytes,
    /// Whether it already ran once into "cached plan must not change result type".
    retried: bool,
    reply: oneshot::Sender<Result<Outcome, Error>>,
}

/// Locks a pool mutex. Nothing panics while holding one, and each critical section leaves the
/// data consistent at every step, so a poisoned lock's data is still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    /// A pool with the default settings ([`DEFAULT_POOL_SIZE`] connections). No connection is
    /// opened until one is needed.
    pub fn new(config: Config) -> Pool {
        Pool::builder(config).build()
    }

    /// Starts a pool's settings.
    pub fn builder(config: Config) -> PoolBuilder {
        PoolBuilder {
            config,
            max_size: DEFAULT_POOL_SIZE,
            max_batch: DEFAULT_MAX_BATCH,
        }
    }

    /// Checks out a connection for exclusive use, waiting while all are in use. Connections
    /// are handed out in the order callers asked.
    pub async fn get(&self) -> Result<PooledConnection, Error> {
        let permit = {
            // Counted while waiting, so busy runners hand their connection over.
            let _waiting = WaitingCheckout::new(&self.shared.checkouts_waiting);
            self.shared.permits.clone().acquire_owned().await
        }
        .map_err(|_| pool_closed())?;
        // If this future is dropped while opening, the permit goes back with it.
        let conn = self.shared.open().await?;
        Ok(PooledConnection {
            conn: Some(conn),
            permit: Some(permit),
            shared: self.shared.clone(),
        })
    }

    /// Runs a statement on some connection of the pool and returns the rows it affected (or
    /// returned). See [`Pool::query`] for how it runs.
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let outcome = self.run(sql, params).await?;
        Ok(outcome.rows_affected.unwrap_or(outcome.rows.len() as u64))
    }

    /// Runs a query on some connection of the pool and returns its rows.
    ///
    /// The parameter count and every value's encoding are checked here, before anything is
    /// queued; the statement then runs in its own Sync group (its own implicit transaction),
    /// batched with whatever other shared queries are waiting. Dropping the future does not
    /// stop a query already queued; its result is discarded.
    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        Ok(self.run(sql, params).await?.rows)
    }

    /// [`Pool::query`] for a query that must return exactly one row.
    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        exactly_one(self.query(sql, params).await?)
    }

    /// [`Pool::query`] for a query that must return at most one row.
    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        at_most_one(self.query(sql, params).await?)
    }

    /// What the pool holds right now.
    pub fn status(&self) -> PoolStatus {
        let state = lock(&self.shared.state);
        PoolStatus {
            max_size: self.shared.max_size,
            idle: state.idle.len(),
            in_use: self.shared.max_size - self.shared.permits.available_permits(),
            queued: state.queue.len(),
        }
    }

    /// Closes the pool: idle connections are closed, queued shared queries fail, and every
    /// later call fails. Connections checked out are closed when they are given back.
    pub fn close(&self) {
        let (idle, queue) = {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            self.shared.permits.close();
            (
                std::mem::take(&mut state.idle),
                std::mem::take(&mut state.queue),
            )
        };
        drop(idle);
        for job in queue {
            let _ = job.reply.send(Err(pool_closed()));
        }
    }

    /// Whether [`Pool::close`] was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    /// Describes `sql`, encodes `params` for it, queues it and waits for its outcome.
    async fn run(&self, sql: &str, params: Params<'_>) -> Result<Outcome, Error> {
        check_param_limit(params)?;
        let described = self.describe(sql).await?;
        let section = described.encode(params)?;
        let (reply, outcome) = oneshot::channel();
        self.shared.enqueue(Job {
            described,
            section,
            retried: false,
            reply,
        })?;
        match outcome.await {
            Ok(result) => result,
            // The runner was dropped with the job: the runtime is shutting down.
            Err(_) => Err(pool_closed()),
        }
    }

    /// The pool's description of `sql`; the first time, a connection is checked out to
    /// prepare it (which also leaves it in that connection's statement cache), or with the
    /// cache off, to describe it with the unnamed statement (one Sync group, nothing left on
    /// the server session: a transaction-pooling proxy may give the next group another one).
    async fn describe(&self, sql: &str) -> Result<Arc<Described>, Error> {
        if let Some(described) = lock(&self.shared.descriptions).get(sql) {
            return Ok(described.clone());
        }
        let described = if self.shared.config.get_statement_cache_capacity() == 0 {
            unnamed::describe(&mut *self.get().await?, sql).await?
        } else {
            let prepared = self.get().await?.prepare(sql).await?;
            Described::new(sql, prepared.params(), prepared.columns())
        };
        let described = Arc::new(described);
        let mut descriptions = lock(&self.shared.descriptions);
        if descriptions.len() >= DESCRIPTION_CAPACITY {
            descriptions.clear();
        }
        descriptions.insert(sql.into(), described.clone());
        Ok(described)
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("status", &self.status())
            .field("max_batch", &self.shared.max_batch)
            .finish_non_exhaustive()
    }
}

impl PoolBuilder {
    /// The most connections the pool opens (at least 1; default [`DEFAULT_POOL_SIZE`]).
    pub fn max_size(mut self, max_size: usize) -> PoolBuilder {
        self.max_size = max_size.max(1);
        self
    }

    /// The most shared queries one connection sends in one batch (at least 1; default
    /// [`DEFAULT_MAX_BATCH`]). 1 turns batching off.
    pub fn max_batch(mut self, max_batch: usize) -> PoolBuilder {
        self.max_batch = max_batch.max(1);
        self
    }

    /// Builds the pool; no connection is opened yet.
    pub fn build(self) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                permits: Arc::new(Semaphore::new(self.max_size)),
                checkouts_waiting: AtomicUsize::new(0),
                max_size: self.max_size,
                max_batch: self.max_batch,
                config: self.config,
                state: Mutex::new(State::default()),
                descriptions: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl Shared {
    /// Queues a shared query, and starts a runner for it when a connection slot is free.
    fn enqueue(self: &Arc<Self>, job: Job) -> Result<(), Error> {
        let permit = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(pool_closed());
            }
            state.queue.push_back(job);
            // Under the state lock, so a runner that finds the queue empty and gives its
            // permit back cannot leave this job without a runner.
            self.permits.clone().try_acquire_owned().ok()
        };
        if let Some(permit) = permit {
            tokio::spawn(runner::run(self.clone(), permit));
        }
        Ok(())
    }

    /// An idle connection that is still good, or a new one.
    async fn open(&self) -> Result<Connection, Error> {
        loop {
            let Some(mut conn) = lock(&self.state).idle.pop() else {
                break;
            };
            if !conn.probe_idle() {
                continue;
            }
            match reset(&mut conn).await {
                Ok(()) => return Ok(conn),
                Err(e) if conn.is_closed() => log::debug!("discarding a pooled connection: {e}"),
                Err(e) => return Err(e),
            }
        }
        self.config.connect().await
    }

    /// Takes back a connection (unless it is closed, or the pool is) and its permit: the
    /// permit starts a runner when shared queries are waiting, else it is released.
    fn give_back(self: &Arc<Self>, conn: Option<Connection>, permit: OwnedSemaphorePermit) {
        let mut state = lock(&self.state);
        if let Some(conn) = conn {
            if !state.closed && !conn.is_closed() {
                state.idle.push(conn);
            }
        }
        if !state.closed && !state.queue.is_empty() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                drop(state);
                runtime.spawn(runner::run(self.clone(), permit));
                return;
            }
        }
        // Released under the lock: see `enqueue`.
        drop(permit);
        drop(state);
    }
}

/// Counts one waiting [`Pool::get`] for as long as it lives (also when the future is dropped).
struct WaitingCheckout<'a>(&'a AtomicUsize);

impl<'a> WaitingCheckout<'a> {
    fn new(counter: &'a AtomicUsize) -> WaitingCheckout<'a> {
        counter.fetch_add(1, Ordering::AcqRel);
        WaitingCheckout(counter)
    }
}

impl Drop for WaitingCheckout<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Makes a connection fit for the next user: what a dropped future left unfinished is settled,
/// and a transaction left open (a `BEGIN` sent as SQL, say) is rolled back.
async fn reset(conn: &mut Connection) -> Result<(), Error> {
    conn.ready().await?;
    if conn.transaction_status() != TransactionStatus::Idle {
        conn.batch_execute("ROLLBACK").await?;
    }
    Ok(())
}

fn pool_closed() -> Error {
    Error::closed().with_message("the pool is closed")
}

// A `PooledConnection` is a smart pointer to the `Connection` it holds on loan (like deadpool's
// `Object`), not another kind of client: every method of the connection applies unchanged, and
// all the wrapper adds is giving the connection back when dropped. So it derefs to it (and also
// implements `GenericClient`, for code generic over clients). A `Transaction` is different: a
// scope over a borrowed connection whose methods run inside it, so it forwards them one by one
// rather than handing out the `&mut Connection` under its guard.
impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // `conn` is only taken in `drop`.
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        // `conn` is only taken in `drop`.
        self.conn
            .as_mut()
            .expect("a pooled connection is present until dropped")
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.shared.give_back(self.conn.take(), permit);
        }
    }
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledConnection").field(&self.conn).finish()
    }
}
