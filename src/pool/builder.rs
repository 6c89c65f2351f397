//! [`PoolBuilder`]: a pool's size, batching, lifecycle limits and connection hooks.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use super::hooks::{BoxFuture, Hooks};
use super::lifecycle::Lifecycle;
use super::status::Counters;
use super::{Pool, Shared, State};
use crate::client::connection::Connection;
use crate::config::Config;
use crate::error::Error;

/// Connections a pool opens at most unless [`PoolBuilder::max_size`] says otherwise.
pub const DEFAULT_POOL_SIZE: usize = 10;

/// Shared queries one connection sends together at most, unless [`PoolBuilder::max_batch`]
/// says otherwise.
pub const DEFAULT_MAX_BATCH: usize = 64;

/// How long [`Pool::get`] (and a shared query in the queue) waits at most, unless
/// [`PoolBuilder::acquire_timeout`] says otherwise: 30 s.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection is reused at most (less up to 5 % at random), unless
/// [`PoolBuilder::max_lifetime`] says otherwise: 30 min.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// How long a connection may sit idle before it is closed (above `min_idle`), unless
/// [`PoolBuilder::idle_timeout`] says otherwise: 10 min.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long a health check may take, unless [`PoolBuilder::health_check_timeout`] says
/// otherwise: 5 s.
pub const DEFAULT_HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of a [`Pool`]; start with [`Pool::builder`].
///
/// # Lifecycle
///
/// | setting | default |
/// |---|---|
/// | [`max_size`](PoolBuilder::max_size) | [`DEFAULT_POOL_SIZE`] (10) |
/// | [`acquire_timeout`](PoolBuilder::acquire_timeout): how long `get()`, and a shared query in the queue, may wait | 30 s |
/// | [`max_lifetime`](PoolBuilder::max_lifetime): connections older than this (less 0–5 % drawn per connection) are not reused | 30 min |
/// | [`idle_timeout`](PoolBuilder::idle_timeout): connections idle this long are closed, down to `min_idle` | 10 min |
/// | [`min_idle`](PoolBuilder::min_idle): idle connections kept open in the background | 0 |
/// | [`health_check_after`](PoolBuilder::health_check_after): connections idle this long answer one empty round trip before reuse | off |
/// | [`health_check_timeout`](PoolBuilder::health_check_timeout) | 5 s |
/// | [`before_connect`](PoolBuilder::before_connect) / [`after_connect`](PoolBuilder::after_connect): choose each new connection's configuration / set its session up | none |
///
/// Connections are also closed, instead of reused, when the server ended the session or no
/// longer satisfies the configuration's `target_session_attrs`; [`Pool::status`] counts each
/// reason. The timers need tokio's time driver (enabled by `#[tokio::main]`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// use std::time::Duration;
///
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// let config: tusk::Config = url.parse()?;
/// let pool = tusk::Pool::builder(config)
///     .max_size(8)
///     .acquire_timeout(Duration::from_secs(5))
///     .max_lifetime(Duration::from_secs(15 * 60))
///     .idle_timeout(Duration::from_secs(60))
///     .min_idle(2)
///     .health_check_after(Duration::from_secs(30))
///     .build();
/// pool.query_one("SELECT 1", &[]).await?;
/// pool.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    config: Config,
    max_size: usize,
    max_batch: usize,
    lifecycle: Lifecycle,
    hooks: Hooks,
}

impl PoolBuilder {
    /// Settings for a pool connecting with `config`, all at their defaults.
    pub(super) fn new(config: Config) -> PoolBuilder {
        PoolBuilder {
            config,
            max_size: DEFAULT_POOL_SIZE,
            max_batch: DEFAULT_MAX_BATCH,
            lifecycle: Lifecycle {
                acquire_timeout: Some(DEFAULT_ACQUIRE_TIMEOUT),
                max_lifetime: Some(DEFAULT_MAX_LIFETIME),
                idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
                min_idle: 0,
                health_check_after: None,
                health_check_timeout: DEFAULT_HEALTH_CHECK_TIMEOUT,
            },
            hooks: Hooks::default(),
        }
    }

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

    /// How long acquiring may take (default [`DEFAULT_ACQUIRE_TIMEOUT`], 30 s; `None`: no
    /// limit): a [`Pool::get`] waiting for a free slot and then taking, checking or opening a
    /// connection, and a shared query ([`Pool::query`] and friends) waiting in the queue until
    /// a connection takes it (one that timed out is taken off the queue and never runs; once
    /// taken, a query runs to its end, see `statement_timeout`).
    ///
    /// Past the limit the call fails with [`Kind::Timeout`](crate::Kind::Timeout), saying how
    /// busy the pool was, and [`PoolStatus::timeouts`](super::PoolStatus::timeouts) counts it.
    pub fn acquire_timeout(mut self, timeout: impl Into<Option<Duration>>) -> PoolBuilder {
        self.lifecycle.acquire_timeout = timeout.into();
        self
    }

    /// How long a connection is reused at most (default [`DEFAULT_MAX_LIFETIME`], 30 min;
    /// `None`: for ever), so that server-side memory growth, a moved DNS name or a rotated
    /// password catch up with long-lived pools.
    ///
    /// Each connection draws its own deadline when it opens: the lifetime less up to 5 % at
    /// random, so that connections opened together do not all reconnect at the same moment.
    /// An expired connection is closed instead of being handed out or taken back; one checked
    /// out is never interrupted.
    pub fn max_lifetime(mut self, lifetime: impl Into<Option<Duration>>) -> PoolBuilder {
        self.lifecycle.max_lifetime = lifetime.into();
        self
    }

    /// How long a connection may sit unused in the pool before it is closed (default
    /// [`DEFAULT_IDLE_TIMEOUT`], 10 min; `None`: kept for ever), never going below
    /// [`PoolBuilder::min_idle`]. Checked by the maintenance task, a few times per timeout.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> PoolBuilder {
        self.lifecycle.idle_timeout = timeout.into();
        self
    }

    /// How many idle connections the pool keeps open (default 0; at most `max_size`): a
    /// background task opens them when the pool is built and replaces those closed or
    /// checked out, so a burst of work finds connections ready.
    ///
    /// The task holds a connection slot only while opening, does not keep the pool alive
    /// (dropping every handle ends it), and runs every quarter of the shortest of
    /// `idle_timeout` and `max_lifetime`, between 1 s and 30 s. It starts in
    /// [`PoolBuilder::build`] when called inside a tokio runtime, else with the first acquire.
    pub fn min_idle(mut self, min_idle: usize) -> PoolBuilder {
        self.lifecycle.min_idle = min_idle;
        self
    }

    /// Checks a connection that sat idle longer than this with one empty round trip before
    /// handing it out (default `None`: never). A connection that fails the check or does not
    /// answer within [`PoolBuilder::health_check_timeout`] is closed (counted in
    /// [`PoolClosedCounts::health_check`](super::PoolClosedCounts::health_check)) and the
    /// acquire goes on with another one, or a new one.
    ///
    /// Without it, a connection whose server ended the session is still noticed without a
    /// round trip (the server said so on the socket); one behind a network that went silent
    /// (a dropped NAT entry, a failed-over address) is only noticed by a check like this. So
    /// is a change of the server's role while the connection sat idle (a promoted standby, a
    /// reload making it read-only): PostgreSQL reports it with the session's next answer, so
    /// without the check such a connection is handed out once and dropped when given back.
    pub fn health_check_after(mut self, idle: impl Into<Option<Duration>>) -> PoolBuilder {
        self.lifecycle.health_check_after = idle.into();
        self
    }

    /// How long a health check may take (default [`DEFAULT_HEALTH_CHECK_TIMEOUT`], 5 s); see
    /// [`PoolBuilder::health_check_after`]. It also bounds the reset every checkout of an idle
    /// connection gets (finishing what a dropped future left, rolling back a transaction left
    /// open): a connection whose reset takes longer, as on a network gone silent, is closed
    /// and another one is handed out.
    pub fn health_check_timeout(mut self, timeout: Duration) -> PoolBuilder {
        self.lifecycle.health_check_timeout = timeout;
        self
    }

    /// Runs `hook` before each new connection is opened: it receives a clone of the pool's
    /// configuration and returns the one to connect with (default: none, the pool's
    /// configuration as is). For credentials that expire (a cloud IAM token as the password)
    /// or a host chosen at connect time.
    ///
    /// An error fails the acquire that needed the connection with that error; an error of
    /// your own can be passed as `tusk::Error::from(std::io::Error::other(e))`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # async fn fetch_token() -> Result<String, std::io::Error> { Ok("tusk".into()) }
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// let config: tusk::Config = url.parse()?;
    /// let pool = tusk::Pool::builder(config)
    ///     .before_connect(|config: tusk::Config| async move {
    ///         // e.g. a short-lived IAM token from the cloud provider's SDK
    ///         let token = fetch_token().await.map_err(tusk::Error::from)?;
    ///         Ok(config.password(&token))
    ///     })
    ///     .build();
    /// pool.query_one("SELECT 1", &[]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn before_connect<F, Fut>(mut self, hook: F) -> PoolBuilder
    where
        F: Fn(Config) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Config, Error>> + Send + 'static,
    {
        self.hooks.before_connect = Some(Hooks::boxed_before_connect(hook));
        self
    }

    /// Runs `hook` once on each new connection, before its first use (default: none): session
    /// setup such as `SET` or preparing statements. Whatever it sets holds for checkouts and
    /// shared queries alike, for the life of the connection.
    ///
    /// An error fails the acquire that needed the connection with that error; the connection
    /// is closed (counted in [`PoolClosedCounts::hook_failed`](super::PoolClosedCounts::hook_failed)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// let config: tusk::Config = url.parse()?;
    /// let pool = tusk::Pool::builder(config)
    ///     .after_connect(|conn: &mut tusk::Connection| {
    ///         Box::pin(async move {
    ///             conn.batch_execute("SET search_path = pg_catalog, public").await
    ///         })
    ///     })
    ///     .build();
    /// let row = pool.query_one("SHOW search_path", &[]).await?;
    /// assert_eq!(row.get::<_, &str>(0), "pg_catalog, public");
    /// # Ok(())
    /// # }
    /// ```
    pub fn after_connect<F>(mut self, hook: F) -> PoolBuilder
    where
        F: for<'c> Fn(&'c mut Connection) -> BoxFuture<'c, Result<(), Error>>
            + Send
            + Sync
            + 'static,
    {
        self.hooks.after_connect = Some(Arc::new(hook));
        self
    }

    /// Builds the pool. No connection is opened here; with [`PoolBuilder::min_idle`] above 0
    /// the maintenance task opens them in the background.
    pub fn build(self) -> Pool {
        let mut lifecycle = self.lifecycle;
        lifecycle.min_idle = lifecycle.min_idle.min(self.max_size);
        let shared = Arc::new(Shared {
            permits: Arc::new(Semaphore::new(self.max_size)),
            checkouts_waiting: AtomicUsize::new(0),
            max_size: self.max_size,
            max_batch: self.max_batch,
            attrs: self.config.get_target_session_attrs(),
            config: self.config,
            lifecycle,
            hooks: self.hooks,
            state: Mutex::new(State::default()),
            descriptions: Mutex::new(HashMap::new()),
            counters: Arc::new(Counters::default()),
            next_job_id: AtomicU64::new(0),
            slot_returned: Notify::new(),
            maintenance_running: Arc::new(AtomicBool::new(false)),
            types: Default::default(),
        });
        shared.ensure_maintenance();
        Pool { shared }
    }
}
