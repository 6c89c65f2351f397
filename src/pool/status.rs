//! What a pool reports about itself: the [`PoolStatus`] snapshot, and the atomic counters
//! behind it, including the token each open connection carries so that the count of open
//! connections stays right however a connection goes away (closed on purpose, found dead, or
//! dropped with a cancelled future).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// A snapshot of a pool's state, from [`Pool::status`](super::Pool::status).
///
/// The counters (`timeouts`, `opened`, `closed`) count since the pool was built.
/// `opened` equals `size` plus the sum of `closed` whenever no connection is changing hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open and waiting for work.
    pub idle: usize,
    /// Connection slots in use: checked out with [`Pool::get`](super::Pool::get), running
    /// shared queries, or opening a connection (for a caller or to keep `min_idle`).
    pub in_use: usize,
    /// Shared queries waiting for a connection.
    pub queued: usize,
    /// Connections open: idle, checked out or running shared queries.
    pub size: usize,
    /// Calls of [`Pool::get`](super::Pool::get) waiting for a connection slot.
    pub waiting: usize,
    /// Acquisitions that ran out of time ([`PoolBuilder::acquire_timeout`](super::PoolBuilder::acquire_timeout)):
    /// `get()` calls and shared queries that waited in the queue too long.
    pub timeouts: u64,
    /// Connections opened (successfully connected to the server).
    pub opened: u64,
    /// Connections closed, by reason.
    pub closed: PoolClosedCounts,
}

/// How many of a pool's connections were closed for each reason, in [`PoolStatus::closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolClosedCounts {
    /// Reached their [`max_lifetime`](super::PoolBuilder::max_lifetime).
    pub max_lifetime: u64,
    /// Idle longer than [`idle_timeout`](super::PoolBuilder::idle_timeout).
    pub idle_timeout: u64,
    /// Failed the health check ([`health_check_after`](super::PoolBuilder::health_check_after)).
    pub health_check: u64,
    /// Found dead or failed: the server ended the session, an I/O or protocol error, a reset
    /// that failed, or a future dropped half-way through preparing the connection.
    pub broken: u64,
    /// The server no longer satisfies the configuration's `target_session_attrs` (a promoted
    /// standby, a primary made read-only).
    pub role_changed: u64,
    /// The [`after_connect`](super::PoolBuilder::after_connect) hook failed on them.
    pub hook_failed: u64,
    /// Closed by [`Pool::close`](super::Pool::close), or given back after it.
    pub pool_closed: u64,
}

impl PoolClosedCounts {
    /// Connections closed for any reason.
    pub fn total(&self) -> u64 {
        self.max_lifetime
            + self.idle_timeout
            + self.health_check
            + self.broken
            + self.role_changed
            + self.hook_failed
            + self.pool_closed
    }
}

/// Why the pool closed a connection; indexes [`Counters::closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CloseReason {
    MaxLifetime,
    IdleTimeout,
    HealthCheck,
    Broken,
    RoleChanged,
    HookFailed,
    PoolClosed,
}

impl CloseReason {
    const COUNT: usize = 7;

    fn index(self) -> usize {
        self as usize
    }
}

/// The pool's counters, shared by the pool and every open connection's [`OpenToken`] (apart
/// from the pool's own state, so that a connection sitting in the pool does not keep the pool
/// alive through its token).
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// Connections open now.
    open: AtomicUsize,
    opened: AtomicU64,
    timeouts: AtomicU64,
    closed: [AtomicU64; CloseReason::COUNT],
}

impl Counters {
    pub(super) fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub(super) fn timeouts(&self) -> u64 {
        self.timeouts.load(Ordering::Relaxed)
    }

    pub(super) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    pub(super) fn closed(&self) -> PoolClosedCounts {
        let count = |reason: CloseReason| self.closed[reason.index()].load(Ordering::Relaxed);
        PoolClosedCounts {
            max_lifetime: count(CloseReason::MaxLifetime),
            idle_timeout: count(CloseReason::IdleTimeout),
            health_check: count(CloseReason::HealthCheck),
            broken: count(CloseReason::Broken),
            role_changed: count(CloseReason::RoleChanged),
            hook_failed: count(CloseReason::HookFailed),
            pool_closed: count(CloseReason::PoolClosed),
        }
    }
}

/// Carried by each open connection of the pool: counts it as opened when made and as closed
/// (for the reason given to [`OpenToken::retire`], or as broken when simply dropped) when it
/// goes, so the open count cannot drift whichever way a connection is lost.
#[derive(Debug)]
pub(super) struct OpenToken {
    counters: Arc<Counters>,
    retired: bool,
}

impl OpenToken {
    /// Counts a connection just opened.
    pub(super) fn opened(counters: &Arc<Counters>) -> OpenToken {
        counters.opened.fetch_add(1, Ordering::Relaxed);
        counters.open.fetch_add(1, Ordering::AcqRel);
        OpenToken {
            counters: counters.clone(),
            retired: false,
        }
    }

    /// Counts the connection closed for `reason`.
    pub(super) fn retire(mut self, reason: CloseReason) {
        self.count_closed(reason);
    }

    fn count_closed(&mut self, reason: CloseReason) {
        if !self.retired {
            self.retired = true;
            self.counters.closed[reason.index()].fetch_add(1, Ordering::Relaxed);
            self.counters.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for OpenToken {
    fn drop(&mut self) {
        // Not retired on purpose: lost with a dropped future or a failure on the way.
        self.count_closed(CloseReason::Broken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_count_every_way_out() {
        let counters = Arc::new(Counters::default());
        let a = OpenToken::opened(&counters);
        let b = OpenToken::opened(&counters);
        let c = OpenToken::opened(&counters);
        assert_eq!(counters.open(), 3);
        assert_eq!(counters.opened(), 3);
        a.retire(CloseReason::MaxLifetime);
        drop(b);
        c.retire(CloseReason::RoleChanged);
        assert_eq!(counters.timeouts(), 0);
        counters.timed_out();
        let closed = counters.closed();
        assert_eq!(counters.open(), 0);
        assert_eq!(counters.opened(), 3);
        assert_eq!(counters.timeouts(), 1);
        assert_eq!(closed.max_lifetime, 1);
        assert_eq!(closed.broken, 1);
        assert_eq!(closed.role_changed, 1);
        assert_eq!(closed.total(), 3);
        counters.timed_out();
        assert_eq!(counters.timeouts(), 2);
    }

    #[test]
    fn every_reason_has_its_own_counter() {
        let counters = Arc::new(Counters::default());
        let reasons = [
            CloseReason::MaxLifetime,
            CloseReason::IdleTimeout,
            CloseReason::HealthCheck,
            CloseReason::Broken,
            CloseReason::RoleChanged,
            CloseReason::HookFailed,
            CloseReason::PoolClosed,
        ];
        assert_eq!(reasons.len(), CloseReason::COUNT);
        for (i, reason) in reasons.into_iter().enumerate() {
            for _ in 0..=i {
                OpenToken::opened(&counters).retire(reason);
            }
        }
        let closed = counters.closed();
        assert_eq!(
            [
                closed.max_lifetime,
                closed.idle_timeout,
                closed.health_check,
                closed.broken,
                closed.role_changed,
                closed.hook_failed,
                closed.pool_closed,
            ],
            [1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(closed.total(), 28);
    }
}
