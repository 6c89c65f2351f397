//! A pooled connection's life: opened (through the hooks) with its own jittered deadline, checked
//! before each reuse (expired, dead, wrong server role, failing a health check), and closed for
//! a counted reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::status::{CloseReason, Counters, OpenToken};
use super::{reset, Shared};
use crate::client::connection::routing::ServerRole;
use crate::client::connection::Connection;
use crate::config::TargetSessionAttrs;
use crate::error::Error;

/// How long closing a connection (Terminate, then shutting the socket) may take before the
/// socket is simply dropped: a stalled peer must not hold up the pool.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest part of `max_lifetime` taken off at random for each connection: 5 %, i.e.
/// `max_lifetime / JITTER_DIVISOR`.
const JITTER_DIVISOR: u32 = 20;

/// The maintenance period's bounds: often enough to honour short timeouts, rarely enough to
/// cost nothing.
const MIN_PERIOD: Duration = Duration::from_secs(1);
const MAX_PERIOD: Duration = Duration::from_secs(30);

/// The pool's lifecycle settings, as the builder set them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lifecycle {
    pub(super) acquire_timeout: Option<Duration>,
    pub(super) max_lifetime: Option<Duration>,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) min_idle: usize,
    pub(super) health_check_after: Option<Duration>,
    pub(super) health_check_timeout: Duration,
}

impl Lifecycle {
    /// How often the maintenance task runs: a quarter of the shortest of `idle_timeout` and
    /// `max_lifetime`, between 1 s and 30 s; `None` when there is nothing to maintain.
    pub(super) fn maintenance_period(&self) -> Option<Duration> {
        let shortest = match (self.idle_timeout, self.max_lifetime) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match shortest {
            Some(shortest) => Some((shortest / 4).clamp(MIN_PERIOD, MAX_PERIOD)),
            None if self.min_idle > 0 => Some(MAX_PERIOD),
            None => None,
        }
    }
}

/// `lifetime` shortened by `draw / u32::MAX` of its 5 % jitter range: what a connection with
/// that random draw lives. Integer arithmetic, so it is exact and cannot overflow: the cut is
/// at most `lifetime / 20`.
pub(super) fn jittered(lifetime: Duration, draw: u32) -> Duration {
    let range = (lifetime / JITTER_DIVISOR).as_nanos();
    let cut = range * u128::from(draw) / u128::from(u32::MAX);
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    // `cut` is at most `range`, whose seconds fit in a u64 because they came from a Duration.
    let secs = u64::try_from(cut / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // Below 10^9, so it fits.
    let nanos = (cut % NANOS_PER_SEC) as u32;
    lifetime.saturating_sub(Duration::new(secs, nanos))
}

/// A uniform random draw for [`jittered`], from the operating system; 0 (no jitter) if it has
/// none to give.
fn random_draw() -> u32 {
    getrandom::u32().unwrap_or_else(|e| {
        log::debug!("no randomness for the pool's lifetime jitter: {e}");
        0
    })
}

/// An open connection of the pool with what the pool tracks about it.
pub(super) struct Live {
    pub(super) conn: Connection,
    /// When it stops being reused: opened plus its own jittered `max_lifetime`; `None`:
    /// never (no limit, or beyond what the clock can represent).
    expires_at: Option<Instant>,
    /// When it was last given back (or opened): what the idle timeout and the health check
    /// measure from.
    pub(super) idle_since: Instant,
    token: OpenToken,
}

impl Live {
    /// A connection just opened, counted as such; its deadline is drawn now.
    pub(super) fn new(
        conn: Connection,
        max_lifetime: Option<Duration>,
        counters: &Arc<Counters>,
    ) -> Live {
        let now = Instant::now();
        Live {
            conn,
            expires_at: max_lifetime
                .and_then(|lifetime| now.checked_add(jittered(lifetime, random_draw()))),
            idle_since: now,
            token: OpenToken::opened(counters),
        }
    }

    pub(super) fn is_expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Counts the connection closed for `reason` and hands it over for closing.
    pub(super) fn retire(self, reason: CloseReason) -> Connection {
        self.token.retire(reason);
        self.conn
    }
}

/// Sends Terminate and shuts the socket, within [`CLOSE_TIMEOUT`].
pub(super) async fn close_quietly(conn: Connection) {
    match tokio::time::timeout(CLOSE_TIMEOUT, conn.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::debug!("closing a pooled connection: {e}"),
        Err(_) => log::debug!("closing a pooled connection timed out; dropped"),
    }
}

/// Closes `conn` without waiting for it: in a task when a runtime is at hand, else by dropping
/// it (which still writes Terminate when that needs no waiting).
pub(super) fn close_in_background(conn: Connection) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(close_quietly(conn));
        }
        Err(_) => drop(conn),
    }
}

impl Shared {
    /// Whether `conn`'s server still satisfies the configuration's `target_session_attrs`, as
    /// far as its reports (ParameterStatus) tell.
    pub(super) fn role_ok(&self, conn: &Connection) -> bool {
        let ok = self.attrs == TargetSessionAttrs::Any || conn.still_satisfies(self.attrs);
        if !ok {
            log::info!(
                "discarding a pooled connection: {} (target_session_attrs={})",
                ServerRole::reported(conn).mismatch(self.attrs),
                self.attrs
            );
        }
        ok
    }

    /// Why a connection given back (or between shared batches) must not be kept, if it must
    /// not: these checks cost no round trip.
    pub(super) fn unfit(&self, live: &Live, now: Instant) -> Option<CloseReason> {
        if live.conn.is_closed() {
            Some(CloseReason::Broken)
        } else if live.is_expired(now) {
            Some(CloseReason::MaxLifetime)
        } else if !self.role_ok(&live.conn) {
            Some(CloseReason::RoleChanged)
        } else {
            None
        }
    }

    /// An idle connection that is still good, or a new one. Idle connections that are not are
    /// closed (counted by reason) on the way.
    ///
    /// Cancel-safe: a connection being checked or opened when the future is dropped is closed
    /// and counted as broken.
    pub(super) async fn take_or_open(&self) -> Result<Live, Error> {
        loop {
            let Some(mut live) = super::lock(&self.state).idle.pop() else {
                break;
            };
            let now = Instant::now();
            if live.is_expired(now) {
                close_in_background(live.retire(CloseReason::MaxLifetime));
                continue;
            }
            // Reads what the server sent while the connection sat idle: a FATAL, EOF, and the
            // ParameterStatus of a role change, absorbed before the role is checked.
            if !live.conn.probe_idle() {
                close_in_background(live.retire(CloseReason::Broken));
                continue;
            }
            if !self.role_ok(&live.conn) {
                close_in_background(live.retire(CloseReason::RoleChanged));
                continue;
            }
            let check_due = self
                .lifecycle
                .health_check_after
                .is_some_and(|after| now.saturating_duration_since(live.idle_since) >= after);
            if check_due {
                if let Err(reason) = self.health_check(&mut live.conn).await {
                    log::debug!(
                        "discarding a pooled connection that failed its health check: {reason}"
                    );
                    close_in_background(live.retire(CloseReason::HealthCheck));
                    continue;
                }
            } else {
                // Bounded like a health check: a connection whose reset does not finish in
                // time (a stalled network) is not worth waiting for.
                let limit = self.lifecycle.health_check_timeout;
                let reset = match tokio::time::timeout(limit, reset(&mut live.conn)).await {
                    Ok(reset) => reset,
                    Err(_) => Err(Error::timeout(format!(
                        "the reset did not finish within the health_check_timeout of {limit:?}"
                    ))),
                };
                if let Err(e) = reset {
                    log::debug!("discarding a pooled connection that could not be reset: {e}");
                    close_in_background(live.retire(CloseReason::Broken));
                    continue;
                }
            }
            // The reset may have drained responses carrying a ParameterStatus.
            if !self.role_ok(&live.conn) {
                close_in_background(live.retire(CloseReason::RoleChanged));
                continue;
            }
            return Ok(live);
        }
        self.connect_new().await
    }

    /// The reset plus one empty round trip, within `health_check_timeout`: proof that the
    /// server still answers on this connection.
    async fn health_check(&self, conn: &mut Connection) -> Result<(), String> {
        let limit = self.lifecycle.health_check_timeout;
        let check = async {
            reset(conn).await?;
            // An empty query: EmptyQueryResponse and ReadyForQuery, no parsing or planning.
            conn.batch_execute("").await
        };
        match tokio::time::timeout(limit, check).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {limit:?}")),
        }
    }

    /// Opens a new connection: the `before_connect` hook chooses its configuration, the
    /// `after_connect` hook sets its session up. A failing hook fails the call with its own
    /// error (a connection it was run on is closed, counted as `hook_failed`).
    pub(super) async fn connect_new(&self) -> Result<Live, Error> {
        let conn = match &self.hooks.before_connect {
            Some(hook) => hook(self.config.clone()).await?.connect().await?,
            None => self.config.connect().await?,
        };
        let mut conn = conn;
        self.types.attach(&mut conn);
        let mut live = Live::new(conn, self.lifecycle.max_lifetime, &self.counters);
        if let Some(hook) = &self.hooks.after_connect {
            let set_up = match hook(&mut live.conn).await {
                // Whatever the hook left unfinished (or a transaction it left open) is settled
                // now, so the first user gets a clean session.
                Ok(()) => reset(&mut live.conn).await,
                Err(e) => Err(e),
            };
            if let Err(e) = set_up {
                close_in_background(live.retire(CloseReason::HookFailed));
                return Err(e);
            }
        }
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifecycle() -> Lifecycle {
        Lifecycle {
            acquire_timeout: None,
            max_lifetime: None,
            idle_timeout: None,
            min_idle: 0,
            health_check_after: None,
            health_check_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn jitter_stays_within_five_percent() {
        let lifetime = Duration::from_secs(30 * 60);
        assert_eq!(jittered(lifetime, 0), lifetime);
        assert_eq!(
            jittered(lifetime, u32::MAX),
            Duration::from_secs(30 * 60 * 95 / 100)
        );
        assert_eq!(
            jittered(lifetime, u32::MAX / 2),
            // Half the range, less the rounding of u32::MAX / 2.
            Duration::from_secs(30 * 60) - Duration::from_nanos(44_999_999_989)
        );
        // The extremes of Duration: exact, no overflow.
        assert_eq!(jittered(Duration::ZERO, u32::MAX), Duration::ZERO);
        assert_eq!(
            jittered(Duration::from_nanos(19), u32::MAX),
            Duration::from_nanos(19)
        );
        assert_eq!(
            jittered(Duration::MAX, u32::MAX),
            Duration::MAX - Duration::MAX / 20
        );
        for _ in 0..1000 {
            let d = jittered(lifetime, random_draw());
            assert!(d <= lifetime && d >= lifetime - lifetime / 20, "{d:?}");
        }
    }

    #[test]
    fn random_draws_differ() {
        let draws: std::collections::HashSet<u32> = (0..16).map(|_| random_draw()).collect();
        assert!(draws.len() > 1, "16 equal draws: {draws:?}");
    }

    #[test]
    fn the_maintenance_period_follows_the_shortest_timeout() {
        let mut l = lifecycle();
        assert_eq!(l.maintenance_period(), None);
        l.min_idle = 1;
        assert_eq!(l.maintenance_period(), Some(MAX_PERIOD));
        l.max_lifetime = Some(Duration::from_secs(60));
        assert_eq!(l.maintenance_period(), Some(Duration::from_secs(15)));
        l.idle_timeout = Some(Duration::from_secs(20));
        assert_eq!(l.maintenance_period(), Some(Duration::from_secs(5)));
        l.idle_timeout = Some(Duration::from_millis(100));
        assert_eq!(l.maintenance_period(), Some(MIN_PERIOD));
        l.idle_timeout = Some(Duration::ZERO);
        assert_eq!(l.maintenance_period(), Some(MIN_PERIOD));
        l.idle_timeout = Some(Duration::from_secs(3600));
        l.max_lifetime = None;
        assert_eq!(l.maintenance_period(), Some(MAX_PERIOD));
        // The defaults: a quarter of 10 min, clamped to 30 s.
        let defaults = Lifecycle {
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            ..lifecycle()
        };
        assert_eq!(defaults.maintenance_period(), Some(MAX_PERIOD));
    }

    #[test]
    fn a_lifetime_beyond_the_clock_means_no_deadline() {
        // What `Live::new` relies on: `checked_add` gives `None` instead of panicking.
        let now = Instant::now();
        assert!(now.checked_add(jittered(Duration::MAX, 0)).is_none());
        let deadline = now.checked_add(jittered(Duration::from_secs(100), u32::MAX));
        assert_eq!(deadline, Some(now + Duration::from_secs(95)));
    }
}
