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
//!
//! # Lifecycle
//!
//! Each connection is opened on demand (or in the background, see `min_idle`), checked before
//! every reuse, and closed for a reason the pool counts ([`PoolStatus::closed`]):
//!
//! | knob | default | what it does |
//! |---|---|---|
//! | [`PoolBuilder::max_size`] | 10 | the most connections open |
//! | [`PoolBuilder::acquire_timeout`] | 30 s | how long `get()` (and a shared query in the queue) waits; then [`Kind::Timeout`](crate::Kind::Timeout) |
//! | [`PoolBuilder::max_lifetime`] | 30 min, less 0–5 % at random per connection | older connections are closed instead of reused |
//! | [`PoolBuilder::idle_timeout`] | 10 min | connections idle that long are closed, down to `min_idle` |
//! | [`PoolBuilder::min_idle`] | 0 | idle connections kept open by a background task |
//! | [`PoolBuilder::health_check_after`] | off | a connection idle that long answers one empty round trip before reuse |
//! | [`PoolBuilder::health_check_timeout`] | 5 s | how long that round trip, or a checkout's reset, may take |
//! | [`PoolBuilder::before_connect`] / [`PoolBuilder::after_connect`] | none | choose the configuration of, and set up, each new connection |
//!
//! Before reuse a connection is also dropped when the server ended the session, or no longer
//! satisfies the configuration's `target_session_attrs` (a promoted standby, a primary made
//! read-only, as the server reported: PostgreSQL reports such a change with a session's next
//! answer, so an idle connection shows it at its health check, else when given back). [`Pool::close`] is graceful: new work is refused, queued
//! and running work finishes, checked-out connections are waited for, then every connection is
//! closed. The timers need tokio's time driver (on with `#[tokio::main]`).

mod builder;
mod described;
mod hooks;
mod lifecycle;
mod maintenance;
mod runner;
mod status;
mod unnamed;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};

use crate::client::connection::Connection;
use crate::client::query::{at_most_one, check_param_limit, exactly_one, Outcome, Params};
use crate::client::row::Row;
use crate::config::{Config, TargetSessionAttrs};
use crate::error::Error;
use crate::sqlstate::SqlState;
use crate::trace;
use crate::TransactionStatus;
use described::Described;
use hooks::Hooks;
use lifecycle::{close_quietly, Lifecycle, Live};
use status::{CloseReason, Counters};

pub use builder::{
    PoolBuilder, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_HEALTH_CHECK_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_BATCH, DEFAULT_MAX_LIFETIME, DEFAULT_POOL_SIZE,
};
pub use hooks::BoxFuture;
pub use status::{PoolClosedCounts, PoolStatus};

/// SQL texts whose descriptions the pool remembers; beyond that the memory is cleared and
/// rebuilt (each miss costs one Parse/Describe round trip on a checked-out connection).
const DESCRIPTION_CAPACITY: usize = 1024;

/// How often [`Pool::close`] looks again while it waits, in case a slot came back without a
/// wake-up (one given back on a runtime that was shutting down).
const CLOSE_RECHECK: Duration = Duration::from_millis(100);

/// A pool of connections to one server, cheap to clone (clones share the pool).
///
/// Connections are opened on demand up to the maximum size and kept open when returned.
/// Before a connection is reused it is checked without a round trip (a server that ended the
/// session has said so on the socket), resynchronised if a dropped future left a request
/// unfinished, and rolled back if a transaction was left open. See [`PoolBuilder`] for the
/// lifecycle settings (timeouts, lifetimes, health checks, hooks) and their defaults.
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
/// drop(conn);
///
/// pool.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

/// A connection checked out of a [`Pool`]; dereferences to [`Connection`] and implements
/// [`GenericClient`](crate::GenericClient). Dropping it gives the connection back (one that is
/// closed, expired or no longer of the wanted server role is closed instead).
pub struct PooledConnection {
    /// Present until dropped.
    live: Option<Live>,
    slot: Slot,
}

/// What the pool shares between its handles, checkouts, runners and maintenance task.
struct Shared {
    config: Config,
    /// The configuration's `target_session_attrs`, which connections must keep satisfying.
    attrs: TargetSessionAttrs,
    max_size: usize,
    max_batch: usize,
    lifecycle: Lifecycle,
    hooks: Hooks,
    /// One permit per connection slot in use: held by a checkout, a runner, or the
    /// maintenance task while it opens a connection. Closed by [`Pool::close`].
    permits: Arc<Semaphore>,
    /// Calls of [`Pool::get`] waiting for a permit.
    checkouts_waiting: AtomicUsize,
    state: Mutex<State>,
    /// SQL text -> its description (its parameter types), detached from any connection: what
    /// callers encode their parameters against before a connection is chosen.
    descriptions: Mutex<HashMap<Box<str>, Arc<Described>>>,
    counters: Arc<Counters>,
    /// Identifies each shared query, so one that timed out can be taken off the queue.
    next_job_id: AtomicU64,
    /// Wakes [`Pool::close`] when a permit comes back after the pool was closed.
    slot_returned: Notify,
    /// Whether the maintenance task runs (see `maintenance.rs`).
    maintenance_running: Arc<AtomicBool>,
    /// The user-defined types read from the catalog, shared by the connections to each
    /// server (see `client/type_cache.rs`).
    types: crate::client::type_cache::SharedTypeCaches,
}

#[derive(Default)]
struct State {
    /// Idle connections in the order they were given back: checkouts take the last (the
    /// warmest), the idle timeout closes from the front (the longest idle).
    idle: Vec<Live>,
    queue: VecDeque<Job>,
    closed: bool,
}

/// One shared query waiting for a runner.
struct Job {
    /// Identifies it in the queue.
    id: u64,
    /// The pool's description of the SQL: its text and the parameter types `section` was
    /// encoded for.
    described: Arc<Described>,
    /// The Bind parameter section (formats, count, values), see
    /// [`crate::proto::frontend::bind_parameter_section`].
    section: Bytes,
    /// Whether it already ran once into "cached plan must not change result type".
    retried: bool,
    reply: Reply,
}

/// Where a shared query's outcome goes; also notes a read-only refusal (SQLSTATE 25006) for the
/// runner that sent it, when the pool needs read-write sessions.
struct Reply {
    sender: oneshot::Sender<Result<Outcome, Error>>,
    /// Set on a 25006 error, when the runner watches for them.
    read_only_seen: Option<Arc<AtomicBool>>,
}

impl Reply {
    /// Sends the outcome (as `oneshot::Sender::send`: the caller may have gone).
    fn send(self, outcome: Result<Outcome, Error>) -> Result<(), Result<Outcome, Error>> {
        if let (Some(seen), Err(e)) = (&self.read_only_seen, &outcome) {
            if e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) {
                seen.store(true, Ordering::Relaxed);
            }
        }
        self.sender.send(outcome)
    }
}

/// A held permit with the duty to give it back through [`Shared::give_back`] (which hands it
/// to a runner when shared queries wait), also when the future holding it is dropped.
struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    shared: Arc<Shared>,
}

impl Slot {
    fn new(shared: Arc<Shared>, permit: OwnedSemaphorePermit) -> Slot {
        Slot {
            permit: Some(permit),
            shared,
        }
    }

    /// Gives the permit back, with `live` when there is a connection to keep.
    fn give_back(&mut self, live: Option<Live>) {
        if let Some(permit) = self.permit.take() {
            self.shared.give_back(live, permit);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.give_back(None);
    }
}

/// Locks a pool mutex. Nothing panics while holding one, and each critical section leaves the
/// data consistent at every step, so a poisoned lock's data is still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    /// A pool with the default settings ([`DEFAULT_POOL_SIZE`] connections, and the lifecycle
    /// defaults listed at [`PoolBuilder`]). No connection is opened until one is needed.
    pub fn new(config: Config) -> Pool {
        Pool::builder(config).build()
    }

    /// Starts a pool's settings.
    pub fn builder(config: Config) -> PoolBuilder {
        PoolBuilder::new(config)
    }

    /// Checks out a connection for exclusive use, waiting while all are in use. Connections
    /// are handed out in the order callers asked.
    ///
    /// Fails with [`Kind::Timeout`](crate::Kind::Timeout) when no connection could be had
    /// within [`PoolBuilder::acquire_timeout`], and with [`Kind::Closed`](crate::Kind::Closed)
    /// once [`Pool::close`] was called. Dropping the future gives back whatever it held.
    pub async fn get(&self) -> Result<PooledConnection, Error> {
        self.shared.ensure_maintenance();
        let shared = &self.shared;
        let attempt = async {
            let permit = {
                // Counted while waiting, so busy runners hand their connection over.
                let _waiting = WaitingCheckout::new(&shared.checkouts_waiting);
                shared.permits.clone().acquire_owned().await
            }
            .map_err(|_| pool_closed())?;
            // From here the permit goes back (waking a runner if shared queries wait) however
            // this future ends.
            let slot = Slot::new(shared.clone(), permit);
            let live = shared.take_or_open().await?;
            Ok(PooledConnection {
                live: Some(live),
                slot,
            })
        };
        trace::traced!(
            trace::pool_get(&shared.config),
            match shared.lifecycle.acquire_timeout {
                None => attempt.await,
                Some(limit) => match tokio::time::timeout(limit, attempt).await {
                    Ok(result) => result,
                    Err(_) => Err(shared.timed_out(format!(
                        "no pool connection within the acquire_timeout of {limit:?}"
                    ))),
                },
            }
        )
    }

    /// Runs a statement on some connection of the pool and returns the rows it affected (or
    /// returned). See [`Pool::query`] for how it runs.
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let outcome = trace::traced!(
            trace::pool_statement(&self.shared.config, sql),
            self.run(sql, params).await
        )?;
        Ok(outcome.rows_affected.unwrap_or(outcome.rows.len() as u64))
    }

    /// Runs a query on some connection of the pool and returns its rows.
    ///
    /// The parameter count and every value's encoding are checked here, before anything is
    /// queued; the statement then runs in its own Sync group (its own implicit transaction),
    /// batched with whatever other shared queries are waiting. Dropping the future does not
    /// stop a query already queued; its result is discarded.
    ///
    /// A query still queued after [`PoolBuilder::acquire_timeout`] is taken off the queue (it
    /// never runs) and fails with [`Kind::Timeout`](crate::Kind::Timeout).
    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        Ok(trace::traced!(
            trace::pool_statement(&self.shared.config, sql),
            self.run(sql, params).await
        )?
        .rows)
    }

    /// [`Pool::query`] for a query that must return exactly one row.
    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        exactly_one(self.query(sql, params).await?)
    }

    /// [`Pool::query`] for a query that must return at most one row.
    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        at_most_one(self.query(sql, params).await?)
    }

    /// Forgets the user-defined types the pool's connections read from the catalog, and the
    /// statement descriptions made with them, so both are read again: after DDL that changed
    /// an enum's labels or a composite's fields. See [`Connection::reload_types`].
    pub fn reload_types(&self) {
        self.shared.types.clear();
        lock(&self.shared.descriptions).clear();
    }

    /// What the pool holds right now, and what it did since it was built.
    pub fn status(&self) -> PoolStatus {
        self.shared.status()
    }

    /// Closes the pool gracefully. From the call on, [`Pool::get`] and shared queries fail
    /// with "the pool is closed" (so do `get()` calls still waiting for a connection). Shared
    /// queries already queued or running finish; the call then waits until every checked-out
    /// connection is given back, and closes every connection (Terminate, then the socket).
    ///
    /// Calling it again waits the same way. Dropping the future stops the waiting only:
    /// the pool stays closed, and connections given back later are closed then.
    pub async fn close(&self) {
        let shared = &self.shared;
        {
            let mut state = lock(&shared.state);
            state.closed = true;
            shared.permits.close();
        }
        loop {
            let returned = shared.slot_returned.notified();
            tokio::pin!(returned);
            // Registered before looking, so a permit given back in between still wakes us.
            returned.as_mut().enable();
            let drained = {
                let mut state = lock(&shared.state);
                // Permits are no longer handed out, so once all are back they stay back.
                (shared.permits.available_permits() == shared.max_size).then(|| {
                    // No slot is in use, so no runner will come for jobs still queued (a
                    // connection given back outside a runtime could not start one).
                    let stranded: Vec<Job> = state.queue.drain(..).collect();
                    (std::mem::take(&mut state.idle), stranded)
                })
            };
            if let Some((idle, stranded)) = drained {
                for job in stranded {
                    let _ = job.reply.send(Err(pool_closed()));
                }
                let closing = idle
                    .into_iter()
                    .map(|live| close_quietly(live.retire(CloseReason::PoolClosed)));
                futures_util::future::join_all(closing).await;
                return;
            }
            let _ = tokio::time::timeout(CLOSE_RECHECK, returned).await;
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
        let id = self.shared.enqueue(described, section, reply)?;
        self.shared.outcome(id, outcome).await
    }

    /// The pool's description of `sql`; the first time, a connection is checked out to
    /// prepare it (which also leaves it in that connection's statement cache), or with the
    /// cache off, to describe it with the unnamed statement (one Sync group, nothing left on
    /// the server session: a transaction-pooling proxy may give the next group another one).
    async fn describe(&self, sql: &str) -> Result<Arc<Described>, Error> {
        if let Some(described) = lock(&self.shared.descriptions).get(sql) {
            // A description with a catalog type that changed since is made again.
            if !described.has_stale_types() {
                return Ok(described.clone());
            }
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
            .field("lifecycle", &self.shared.lifecycle)
            .field("hooks", &self.shared.hooks)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Queues a shared query, and starts a runner for it when a connection slot is free.
    /// Returns the job's id.
    fn enqueue(
        self: &Arc<Self>,
        described: Arc<Described>,
        section: Bytes,
        sender: oneshot::Sender<Result<Outcome, Error>>,
    ) -> Result<u64, Error> {
        self.ensure_maintenance();
        let id = self.next_job_id.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            id,
            described,
            section,
            retried: false,
            reply: Reply {
                sender,
                read_only_seen: None,
            },
        };
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
        Ok(id)
    }

    /// Waits for shared query `id`'s outcome. Past the acquire timeout, a job still queued is
    /// taken off the queue and fails; one a runner has taken is waited for to its end.
    async fn outcome(
        &self,
        id: u64,
        mut outcome: oneshot::Receiver<Result<Outcome, Error>>,
    ) -> Result<Outcome, Error> {
        let received = match self.lifecycle.acquire_timeout {
            None => outcome.await,
            Some(limit) => match tokio::time::timeout(limit, &mut outcome).await {
                Ok(received) => received,
                Err(_) => {
                    let unqueued = {
                        let mut state = lock(&self.state);
                        let position = state.queue.iter().position(|job| job.id == id);
                        position.and_then(|i| state.queue.remove(i)).is_some()
                    };
                    if unqueued {
                        return Err(self.timed_out(format!(
                            "a shared query waited in the pool's queue for the acquire_timeout \
                             of {limit:?} and was not run"
                        )));
                    }
                    outcome.await
                }
            },
        };
        match received {
            Ok(result) => result,
            // The runner was dropped with the job: the runtime is shutting down.
            Err(_) => Err(pool_closed()),
        }
    }

    /// Counts an acquire timeout and describes it with the pool's state.
    fn timed_out(&self, what: String) -> Error {
        self.counters.timed_out();
        let status = self.status();
        Error::timeout(format!(
            "{what} (pool: {} of max_size {} in use, {} idle, {} get() waiting, {} shared \
             queries queued)",
            status.in_use, status.max_size, status.idle, status.waiting, status.queued
        ))
    }

    fn status(&self) -> PoolStatus {
        let (idle, queued) = {
            let state = lock(&self.state);
            (state.idle.len(), state.queue.len())
        };
        // A connection given back while shared queries wait goes to the idle list, and its
        // slot's permit to a runner that is about to take a connection from that list: for
        // that moment the slot would count twice (idle and in use). It counts as idle, so
        // that `idle + in_use <= max_size` always holds (live_tls_pool saw 8 + 1 of 8).
        let in_use = self
            .max_size
            .saturating_sub(self.permits.available_permits())
            .min(self.max_size.saturating_sub(idle));
        PoolStatus {
            max_size: self.max_size,
            idle,
            in_use,
            queued,
            size: self.counters.open(),
            waiting: self.checkouts_waiting.load(Ordering::Acquire),
            timeouts: self.counters.timeouts(),
            opened: self.counters.opened(),
            closed: self.counters.closed(),
        }
    }

    /// Takes back a permit, and the connection that came with it (kept if still fit): the
    /// permit starts a runner when shared queries are waiting, else it is released.
    fn give_back(self: &Arc<Self>, live: Option<Live>, permit: OwnedSemaphorePermit) {
        let mut state = lock(&self.state);
        if let Some(live) = live {
            self.put_idle(&mut state, live);
        }
        // Queued jobs run even after `close`: it waits for them.
        if !state.queue.is_empty() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                drop(state);
                runtime.spawn(runner::run(self.clone(), permit));
                return;
            }
        }
        self.release(state, permit);
    }

    /// Releases a permit under the state lock (see `enqueue`), then wakes a waiting
    /// [`Pool::close`].
    fn release(&self, state: MutexGuard<'_, State>, permit: OwnedSemaphorePermit) {
        drop(permit);
        let closed = state.closed;
        drop(state);
        if closed {
            self.slot_returned.notify_waiters();
        }
    }

    /// Puts a connection back on the idle list, or closes it (counted) when it is broken,
    /// expired, no longer of the wanted role, or the pool is closed.
    fn put_idle(&self, state: &mut State, mut live: Live) {
        let now = Instant::now();
        if state.closed && state.queue.is_empty() {
            // Dropped at once: its `Drop` writes Terminate without waiting, before the permit
            // goes back and `close` can return. (While shared queries queued before `close`
            // still wait, it stays for the runner that will run them.)
            drop(live.retire(CloseReason::PoolClosed));
        } else if let Some(reason) = self.unfit(&live, now) {
            lifecycle::close_in_background(live.retire(reason));
        } else {
            live.idle_since = now;
            state.idle.push(live);
        }
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
        // `live` is only taken in `drop`.
        &self
            .live
            .as_ref()
            .expect("a pooled connection is present until dropped")
            .conn
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        // `live` is only taken in `drop`.
        &mut self
            .live
            .as_mut()
            .expect("a pooled connection is present until dropped")
            .conn
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let mut live = self.live.take();
        if let Some(live) = &mut live {
            // A statement a dropped future left running is cancelled now; the connection is
            // settled (within the cancel timeout) before anyone gets it again.
            live.conn.abandon_unfinished();
        }
        self.slot.give_back(live);
    }
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledConnection")
            .field(&self.live.as_ref().map(|live| &live.conn))
            .finish()
    }
}
