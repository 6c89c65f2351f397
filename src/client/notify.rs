//! LISTEN/NOTIFY: [`Connection::notifications`], a [`Stream`] of the notifications a
//! connection receives, and [`Listener`], a dedicated connection that keeps its `LISTEN`s
//! across reconnections.
//!
//! The connection layer queues every NotificationResponse it reads, whatever call is running,
//! so notifications are never lost and never mixed into query results; this module only
//! waits for and hands out what that queue receives.
//!
//! [`Listener`] owns its connection in a shared slot rather than a field: its [`Stream`]
//! implementation must keep the future that waits for the next event between polls, and that
//! future must be `'static`. The slot is taken by whichever operation runs (the in-flight
//! wait, or `listen`/`unlisten`), and a guard puts it back when the operation ends or its
//! future is dropped, so dropping any future at any await point loses nothing.

use std::collections::VecDeque;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::future::BoxFuture;
use futures_core::Stream;

use crate::client::connection::Connection;
use crate::config::Config;
use crate::error::Error;
use crate::proto::backend::Notification;

/// The notifications a connection receives, as a [`Stream`]; made by
/// [`Connection::notifications`].
///
/// Each item is the next notification, oldest first: first those that arrived during earlier
/// calls, then new ones, waited for while the connection is idle. The stream ends after an
/// error that closed the connection. Dropping it (or a pending `next()`) loses nothing.
#[must_use = "streams do nothing unless polled"]
pub struct Notifications<'a> {
    state: NotificationsState<'a>,
}

enum NotificationsState<'a> {
    Idle(&'a mut Connection),
    /// Waiting for the next notification; the future hands the connection back.
    Waiting(BoxFuture<'a, (&'a mut Connection, Result<Notification, Error>)>),
    /// The connection closed: the stream has ended.
    Done,
}

impl fmt::Debug for Notifications<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            NotificationsState::Idle(_) => "idle",
            NotificationsState::Waiting(_) => "waiting",
            NotificationsState::Done => "done",
        };
        f.debug_struct("Notifications")
            .field("state", &state)
            .finish()
    }
}

impl Stream for Notifications<'_> {
    type Item = Result<Notification, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, NotificationsState::Done) {
                NotificationsState::Idle(conn) => {
                    this.state = NotificationsState::Waiting(Box::pin(async move {
                        let result = conn.next_notification().await;
                        (conn, result)
                    }));
                }
                NotificationsState::Waiting(mut wait) => match wait.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = NotificationsState::Waiting(wait);
                        return Poll::Pending;
                    }
                    Poll::Ready((conn, result)) => {
                        if result.is_ok() || !conn.is_closed() {
                            this.state = NotificationsState::Idle(conn);
                        }
                        return Poll::Ready(Some(result));
                    }
                },
                NotificationsState::Done => return Poll::Ready(None),
            }
        }
    }
}

impl Connection {
    /// The notifications this connection receives (after `LISTEN channel`), as a [`Stream`]
    /// of [`Notification`]s (channel, payload, the sender's process ID).
    ///
    /// Notifications that arrived during earlier calls come first; then the stream waits for
    /// new ones while the connection is idle. To keep LISTENs across a lost connection, use a
    /// [`Listener`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// use futures_util::StreamExt;
    /// conn.batch_execute("LISTEN jobs").await?;
    /// # conn.batch_execute("NOTIFY jobs, 'hello'").await?; // to itself
    /// let mut notifications = conn.notifications();
    /// while let Some(n) = notifications.next().await {
    ///     let n = n?;
    ///     println!("{} on {} from backend {}", n.payload, n.channel, n.process_id);
    /// #     break;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn notifications(&mut self) -> Notifications<'_> {
        Notifications {
            state: NotificationsState::Idle(self),
        }
    }
}

/// What a [`Listener`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListenerEvent {
    /// A notification on one of the channels listened to.
    Notification(Notification),
    /// The connection was lost; the listener connected again and issued every `LISTEN` again.
    /// Notifications sent while it was disconnected are gone, so state kept in sync by
    /// notifications should be reloaded.
    Reconnected {
        /// Whether notifications may have been missed: true when at least one channel was
        /// listened to.
        missed_possible: bool,
    },
}

/// How a [`Listener`] reconnects after losing its connection: the first attempt at once, then
/// with delays doubling from `initial_delay` up to `max_delay`, at most `max_attempts`
/// attempts in a row.
///
/// ```
/// use std::time::Duration;
/// let policy = tusk::ReconnectPolicy::default()
///     .max_attempts(20)
///     .initial_delay(Duration::from_millis(50))
///     .max_delay(Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
}

impl Default for ReconnectPolicy {
    /// 10 attempts, delays from 100 ms doubling up to 5 s (about 20 s in all).
    fn default() -> ReconnectPolicy {
        ReconnectPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl ReconnectPolicy {
    /// How many connection attempts in a row before giving up (the error of the last one is
    /// returned; the next `recv` starts over). 0 turns reconnection off.
    pub fn max_attempts(mut self, attempts: u32) -> ReconnectPolicy {
        self.max_attempts = attempts;
        self
    }

    /// The delay before the second attempt (the first is immediate).
    pub fn initial_delay(mut self, delay: Duration) -> ReconnectPolicy {
        self.initial_delay = delay;
        self
    }

    /// The longest delay between two attempts.
    pub fn max_delay(mut self, delay: Duration) -> ReconnectPolicy {
        self.max_delay = delay;
        self
    }

    /// The delay before attempt `attempt` (1-based).
    fn delay_before(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        let doublings = (attempt - 2).min(31);
        self.initial_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// A connection dedicated to LISTEN/NOTIFY that reconnects by itself.
///
/// [`recv`](Listener::recv) (or the [`Stream`] implementation) waits for the next
/// [`ListenerEvent`]. When the connection is lost (server restart, `pg_terminate_backend`,
/// network failure), the listener connects again following its [`ReconnectPolicy`], issues
/// every `LISTEN` again, and reports [`ListenerEvent::Reconnected`] before any newer
/// notification, since notifications sent in between are lost.
///
/// Every method is cancel-safe: a `recv` dropped while waiting resumes where it stopped on
/// the next call, and nothing is lost when `listen` or `unlisten` is called in between.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// use tusk::{Listener, ListenerEvent};
/// let config: tusk::Config = "postgres://tusk:tusk@127.0.0.1:54329/tusk".parse()?;
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let config: tusk::Config = url.parse()?;
/// let mut listener = Listener::connect(config).await?;
/// listener.listen("jobs").await?;
/// # let mut other = tusk::Connection::connect(&url).await?;
/// # other.batch_execute("NOTIFY jobs, 'hello'").await?;
/// loop {
///     match listener.recv().await? {
///         ListenerEvent::Notification(n) => println!("{}: {}", n.channel, n.payload),
///         ListenerEvent::Reconnected { .. } => println!("reconnected; reloading state"),
///         _ => {}
///     }
/// #     break;
/// }
/// # Ok(())
/// # }
/// ```
pub struct Listener {
    slot: Arc<Mutex<Option<Box<Core>>>>,
    /// The wait for the next event, kept between polls of the stream.
    in_flight: Option<BoxFuture<'static, Result<ListenerEvent, Error>>>,
    /// The current backend's process ID (0 = not connected), readable without the slot.
    pid: Arc<AtomicI32>,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("backend_pid", &self.backend_pid())
            .field("waiting", &self.in_flight.is_some())
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Connects with `config` (which is kept for reconnecting), with the default
    /// [`ReconnectPolicy`].
    ///
    /// # Errors
    ///
    /// The first connection failed (it is not retried).
    pub async fn connect(config: Config) -> Result<Listener, Error> {
        let conn = config.connect().await?;
        let pid = Arc::new(AtomicI32::new(conn.backend_pid().unwrap_or(0)));
        let core = Core {
            config,
            conn: Some(conn),
            channels: Vec::new(),
            policy: ReconnectPolicy::default(),
            lost: false,
            salvaged: VecDeque::new(),
            pid: pid.clone(),
        };
        Ok(Listener {
            slot: Arc::new(Mutex::new(Some(Box::new(core)))),
            in_flight: None,
            pid,
        })
    }

    /// Replaces the reconnection policy (the default is [`ReconnectPolicy::default`]).
    pub fn set_reconnect_policy(&mut self, policy: ReconnectPolicy) {
        // `core` only fails if the state were held elsewhere, which `&mut self` rules out.
        if let Ok(mut core) = self.core() {
            core.policy = policy;
        }
    }

    /// Starts listening on `channel` (`LISTEN`). The name is sent quoted, so it is taken
    /// exactly as given: `"Jobs"` and `"jobs"` are different channels, and a `NOTIFY Jobs`
    /// typed without quotes goes to `jobs` (`pg_notify('Jobs', ...)` matches exactly).
    /// Listening twice on a channel is harmless.
    ///
    /// # Errors
    ///
    /// An empty name or one containing a NUL byte ([`Kind::Usage`](crate::Kind::Usage)); the
    /// server's error; a
    /// lost connection, in which case the channel stays on the list and is listened to again
    /// once the listener reconnects (on the next call).
    pub async fn listen(&mut self, channel: &str) -> Result<(), Error> {
        check_channel(channel)?;
        let mut core = self.core()?;
        core.listen(channel).await
    }

    /// Stops listening on `channel` (`UNLISTEN`). Notifications on it that already arrived
    /// are still delivered.
    ///
    /// # Errors
    ///
    /// An invalid name ([`Kind::Usage`](crate::Kind::Usage)) or the server's error. A lost connection is not an
    /// error here: the channel is off the list, so the new connection will not listen to it.
    pub async fn unlisten(&mut self, channel: &str) -> Result<(), Error> {
        check_channel(channel)?;
        let mut core = self.core()?;
        core.channels.retain(|c| c != channel);
        core.run_if_connected(&format!("UNLISTEN {}", quote_ident(channel)))
            .await
    }

    /// Stops listening on every channel (`UNLISTEN *`).
    pub async fn unlisten_all(&mut self) -> Result<(), Error> {
        let mut core = self.core()?;
        core.channels.clear();
        core.run_if_connected("UNLISTEN *").await
    }

    /// Sends a notification on `channel` from this listener's own connection
    /// (`SELECT pg_notify(channel, payload)`); this listener receives it too if it listens on
    /// `channel`.
    pub async fn notify(&mut self, channel: &str, payload: &str) -> Result<(), Error> {
        let mut core = self.core()?;
        let conn = core.connection().await?;
        let result = conn
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .await;
        core.check_lost(result).map(drop)
    }

    /// Waits for the next event: a notification, or the news that the connection was lost
    /// and re-established. Cancel-safe.
    ///
    /// # Errors
    ///
    /// Reconnecting failed as many times in a row as the policy allows (the next call tries
    /// again), or the server reported an error.
    pub async fn recv(&mut self) -> Result<ListenerEvent, Error> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The process ID of the server backend the listener is connected to now; `None` while
    /// disconnected. Notifications this listener sent itself carry it.
    pub fn backend_pid(&self) -> Option<i32> {
        Some(self.pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
    }

    /// Closes the connection (sending Terminate).
    pub async fn close(mut self) -> Result<(), Error> {
        let mut core = self.core()?;
        match core.conn.take() {
            Some(conn) => conn.close().await,
            None => Ok(()),
        }
    }

    /// Stops any wait in flight and takes the state for a call of its own. The wait is
    /// cancel-safe, and its guard has put the state back by the time it is dropped.
    fn core(&mut self) -> Result<CoreGuard, Error> {
        self.in_flight = None;
        CoreGuard::take(&self.slot)
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<ListenerEvent, Error>> {
        let slot = &self.slot;
        let wait = self.in_flight.get_or_insert_with(|| {
            let slot = slot.clone();
            Box::pin(async move { CoreGuard::take(&slot)?.next_event().await })
        });
        let event = std::task::ready!(wait.as_mut().poll(cx));
        self.in_flight = None;
        Poll::Ready(event)
    }
}

/// The listener's events; it never ends (after an error, polling again tries again).
impl Stream for Listener {
    type Item = Result<ListenerEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx).map(Some)
    }
}

/// The listener's state: the connection and what is needed to rebuild it.
struct Core {
    config: Config,
    /// `None` after the connection was lost and before a reconnection succeeded.
    conn: Option<Connection>,
    /// The channels listened to, in the order they were added, without duplicates.
    channels: Vec<String>,
    policy: ReconnectPolicy,
    /// The connection was lost and `Reconnected` not yet reported.
    lost: bool,
    /// Notifications a lost connection had queued, delivered before anything newer.
    salvaged: VecDeque<Notification>,
    pid: Arc<AtomicI32>,
}

impl Core {
    async fn next_event(&mut self) -> Result<ListenerEvent, Error> {
        loop {
            if let Some(n) = self.salvaged.pop_front() {
                return Ok(ListenerEvent::Notification(n));
            }
            self.connection().await?;
            if self.lost {
                self.lost = false;
                return Ok(ListenerEvent::Reconnected {
                    missed_possible: !self.channels.is_empty(),
                });
            }
            let result = self.connection().await?.next_notification().await;
            match self.check_lost(result) {
                Ok(n) => return Ok(ListenerEvent::Notification(n)),
                // Lost: the loop reconnects.
                Err(_) if self.conn.is_none() => {}
                Err(e) => return Err(e),
            }
        }
    }

    async fn listen(&mut self, channel: &str) -> Result<(), Error> {
        // On the list before anything is sent: if this call is dropped after LISTEN went out,
        // a reconnection still restores it.
        let added = !self.channels.iter().any(|c| c == channel);
        if added {
            self.channels.push(channel.to_owned());
        }
        let conn = self.connection().await?;
        let result = conn
            .batch_execute(&format!("LISTEN {}", quote_ident(channel)))
            .await;
        let result = self.check_lost(result);
        if result.is_err() && added && self.conn.is_some() {
            // The server refused it on a live connection: not listening.
            self.channels.retain(|c| c != channel);
        }
        result
    }

    /// Runs `sql` when connected; a lost connection is not an error (nothing to undo there).
    async fn run_if_connected(&mut self, sql: &str) -> Result<(), Error> {
        let Some(conn) = self.conn.as_mut().filter(|c| !c.is_closed()) else {
            return Ok(());
        };
        let result = conn.batch_execute(sql).await;
        match self.check_lost(result) {
            Err(_) if self.conn.is_none() => Ok(()),
            other => other,
        }
    }

    /// Passes `result` through; when it failed because the connection is gone, the
    /// connection is dropped (keeping its queued notifications) so the next call reconnects.
    fn check_lost<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &result {
            if self.conn.as_ref().is_some_and(|c| c.is_closed()) {
                log::warn!("the listener's connection was lost: {e}");
                self.drop_connection();
            }
        }
        result
    }

    fn drop_connection(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            self.salvaged.extend(conn.take_notifications());
        }
        self.lost = true;
        self.pid.store(0, Ordering::Relaxed);
    }

    /// The live connection, reconnecting (and listening again) first when it was lost.
    async fn connection(&mut self) -> Result<&mut Connection, Error> {
        if self.conn.as_ref().is_some_and(|c| c.is_closed()) {
            self.drop_connection();
        }
        if self.conn.is_none() {
            let conn = self.reconnect().await?;
            self.pid
                .store(conn.backend_pid().unwrap_or(0), Ordering::Relaxed);
            self.conn = Some(conn);
        }
        // Just set above when it was `None`.
        self.conn
            .as_mut()
            .ok_or_else(|| Error::closed().with_message("the listener has no connection"))
    }

    /// Connects again following the policy and issues every LISTEN on the new connection.
    async fn reconnect(&self) -> Result<Connection, Error> {
        let mut last_error = None;
        for attempt in 1..=self.policy.max_attempts {
            tokio::time::sleep(self.policy.delay_before(attempt)).await;
            match self.connect_and_listen().await {
                Ok(conn) => {
                    log::info!("the listener reconnected (attempt {attempt})");
                    return Ok(conn);
                }
                Err(e) => {
                    log::warn!("listener reconnection attempt {attempt} failed: {e}");
                    last_error = Some(e);
                }
            }
        }
        let attempts = self.policy.max_attempts;
        Err(match last_error {
            Some(e) => Error::closed()
                .with_message(format!(
                    "the listener's connection was lost and {attempts} attempt(s) to reconnect \
                     failed; the next call tries again"
                ))
                .with_source(e),
            None => Error::closed().with_message(
                "the listener's connection was lost and reconnection is turned off \
                 (ReconnectPolicy::max_attempts is 0)",
            ),
        })
    }

    async fn connect_and_listen(&self) -> Result<Connection, Error> {
        let mut conn = self.config.connect().await?;
        if !self.channels.is_empty() {
            let sql = self
                .channels
                .iter()
                .map(|c| format!("LISTEN {}", quote_ident(c)))
                .collect::<Vec<_>>()
                .join("; ");
            conn.batch_execute(&sql).await?;
        }
        Ok(conn)
    }
}

/// Exclusive use of the listener's [`Core`], given back to the slot when dropped (also when
/// the future holding it is dropped, or on a panic).
struct CoreGuard {
    slot: Arc<Mutex<Option<Box<Core>>>>,
    core: Option<Box<Core>>,
}

impl CoreGuard {
    fn take(slot: &Arc<Mutex<Option<Box<Core>>>>) -> Result<CoreGuard, Error> {
        let core = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        match core {
            Some(core) => Ok(CoreGuard {
                slot: slot.clone(),
                core: Some(core),
            }),
            // Every taker is a future owned by the listener and dropped before the next one
            // starts, so this is a bug in this module rather than something a user can cause.
            None => Err(Error::usage(
                "the listener's state is in use by another operation",
            )),
        }
    }
}

impl Deref for CoreGuard {
    type Target = Core;

    fn deref(&self) -> &Core {
        // Only `Drop` takes it out.
        self.core
            .as_deref()
            .expect("the core is present until drop")
    }
}

impl DerefMut for CoreGuard {
    fn deref_mut(&mut self) -> &mut Core {
        // Only `Drop` takes it out.
        self.core
            .as_deref_mut()
            .expect("the core is present until drop")
    }
}

impl Drop for CoreGuard {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(core);
        }
    }
}

/// Refuses channel names the server cannot take as a quoted identifier.
fn check_channel(channel: &str) -> Result<(), Error> {
    crate::client::check_identifier("a channel name", channel)
}

/// Quotes `name` as an SQL identifier: wrapped in double quotes, with each `"` doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
