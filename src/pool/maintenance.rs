//! The pool's maintenance task: every period it closes idle connections that expired, died,
//! changed role or sat idle past `idle_timeout` (keeping `min_idle`), then opens connections
//! until `min_idle` are idle.
//!
//! It holds only a `Weak` to the pool, so dropping the pool ends it. It is spawned when the
//! pool is built inside a tokio runtime, else by the first acquire (and again by a later one if
//! the runtime it ran on has shut down).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

use super::lifecycle::close_quietly;
use super::status::CloseReason;
use super::{lock, Shared, Slot};
use crate::client::connection::Connection;
use crate::error::Error;

/// Clears the pool's "maintenance running" flag when the task ends, however it ends (the pool
/// dropped, or the task dropped with its runtime), so that a later acquire starts it again.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Shared {
    /// Starts the maintenance task unless it runs already, there is nothing to maintain, or no
    /// tokio runtime is current (then a later acquire tries again). One atomic load when it
    /// runs.
    pub(super) fn ensure_maintenance(self: &Arc<Self>) {
        let Some(period) = self.lifecycle.maintenance_period() else {
            return;
        };
        if self.maintenance_running.load(Ordering::Acquire)
            || self.maintenance_running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let running = Running(self.maintenance_running.clone());
                runtime.spawn(maintain(Arc::downgrade(self), period, running));
            }
            Err(_) => self.maintenance_running.store(false, Ordering::Release),
        }
    }

    /// One maintenance pass: idle connections that must go are closed, then `min_idle` is
    /// restored.
    async fn maintain_once(self: &Arc<Self>) {
        let retired = self.reap_idle(Instant::now());
        futures_util::future::join_all(retired.into_iter().map(close_quietly)).await;
        self.fill_min_idle().await;
    }

    /// Takes the idle connections that must be closed out of the idle list: expired, found
    /// dead (without waiting), no longer of the wanted role, or idle past `idle_timeout`
    /// beyond `min_idle`. Returns them, counted, for closing.
    fn reap_idle(&self, now: Instant) -> Vec<Connection> {
        let mut retired = Vec::new();
        let mut state = lock(&self.state);
        if state.closed {
            return retired;
        }
        let idle = std::mem::take(&mut state.idle);
        let mut kept = Vec::with_capacity(idle.len());
        for mut live in idle {
            let reason = if live.is_expired(now) {
                Some(CloseReason::MaxLifetime)
            } else if !live.conn.probe_idle() {
                Some(CloseReason::Broken)
            } else if !self.role_ok(&live.conn) {
                Some(CloseReason::RoleChanged)
            } else {
                None
            };
            match reason {
                Some(reason) => retired.push(live.retire(reason)),
                None => kept.push(live),
            }
        }
        if let Some(limit) = self.lifecycle.idle_timeout {
            // The idle list is in the order connections were given back (checkouts take from
            // the end), so the longest idle come first.
            let removable = kept.len().saturating_sub(self.lifecycle.min_idle);
            let timed_out = kept
                .iter()
                .take(removable)
                .take_while(|live| now.saturating_duration_since(live.idle_since) >= limit)
                .count();
            for live in kept.drain(..timed_out) {
                retired.push(live.retire(CloseReason::IdleTimeout));
            }
        }
        state.idle = kept;
        retired
    }

    /// Opens connections until `min_idle` are idle, each holding a connection slot only while
    /// it opens, and never more than `max_size` in all. Stops at the first failure (the next
    /// pass tries again) and when no slot is free (the pool is busy, so not idle anyway).
    async fn fill_min_idle(self: &Arc<Self>) {
        loop {
            let permit = {
                let state = lock(&self.state);
                if state.closed
                    || state.idle.len() >= self.lifecycle.min_idle
                    || self.counters.open() >= self.max_size
                {
                    return;
                }
                match self.permits.clone().try_acquire_owned() {
                    Ok(permit) => permit,
                    Err(_) => return,
                }
            };
            // Given back (with the new connection, or without one) when this scope ends, also
            // when the task is dropped half-way.
            let mut slot = Slot::new(self.clone(), permit);
            let opened = match self.lifecycle.acquire_timeout {
                Some(limit) => tokio::time::timeout(limit, self.connect_new())
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::timeout(format!(
                            "opening took longer than the pool's acquire_timeout ({limit:?})"
                        )))
                    }),
                None => self.connect_new().await,
            };
            match opened {
                Ok(live) => slot.give_back(Some(live)),
                Err(e) => {
                    log::warn!("could not open a connection to keep the pool's min_idle: {e}");
                    return;
                }
            }
        }
    }
}

/// The task: a pass every `period` until the pool is dropped or closed. The first pass runs at
/// once, so `min_idle` connections open as soon as the pool is built.
async fn maintain(pool: Weak<Shared>, period: Duration, running: Running) {
    let _running = running;
    let mut ticks = tokio::time::interval(period);
    // A pass that took long (opening connections) is followed by a full period, not a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(shared) = pool.upgrade() else {
            return;
        };
        if shared.permits.is_closed() {
            return;
        }
        shared.maintain_once().await;
    }
}
