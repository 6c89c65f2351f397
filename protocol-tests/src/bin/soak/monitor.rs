//! Watching the soak from beside it: the process's RSS once a second (VmRSS from
//! /proc/self/status), the progress watchdogs (no acknowledged commit, or no notification
//! received while they are being sent, for [`STALL_LIMIT`]), a progress line now and then, and
//! a plain thread outside the runtime that ends the process if the runtime itself stops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Ctx;

/// No progress for this long is a failure.
pub const STALL_LIMIT: Duration = Duration::from_secs(30);

/// One RSS sample.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds into the soak.
    pub at: f64,
    /// VmRSS in KiB.
    pub rss_kib: u64,
}

/// The process's resident set size in KiB, from /proc/self/status.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples and watches once a second until the soak stops; returns the samples.
pub async fn monitor(ctx: Arc<Ctx>) -> Vec<Sample> {
    let mut samples = Vec::new();
    let every = Duration::from_secs((ctx.settings.seconds / 30).clamp(10, 60));
    let mut next_line = Instant::now() + every;
    let mut stalled_commits = false;
    let mut notes_seen = (0, 0, Instant::now());
    let mut stalled_notes = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(rss_kib) = rss_kib() {
            samples.push(Sample {
                at: ctx.started.elapsed().as_secs_f64(),
                rss_kib,
            });
        }
        if ctx.stopping() {
            break;
        }
        let since_commit = Duration::from_millis(
            ctx.elapsed_ms()
                .saturating_sub(ctx.last_commit_ms.load(Ordering::Relaxed)),
        );
        if since_commit > STALL_LIMIT && !stalled_commits {
            stalled_commits = true;
            ctx.fail(format!(
                "no commit acknowledged for {STALL_LIMIT:?} (at {:.0} s); pool: {:?}",
                ctx.started.elapsed().as_secs_f64(),
                ctx.pool.status()
            ));
        } else if since_commit <= STALL_LIMIT {
            stalled_commits = false;
        }
        // The listener: stalled when notifications were sent during the last STALL_LIMIT and
        // none arrived.
        let sent = ctx.notes_sent_hint.load(Ordering::Relaxed);
        let received = ctx.notes_received.load(Ordering::Relaxed);
        if received != notes_seen.1 {
            notes_seen = (sent, received, Instant::now());
            stalled_notes = false;
        } else if notes_seen.2.elapsed() > STALL_LIMIT && sent > notes_seen.0 + 10 && !stalled_notes
        {
            stalled_notes = true;
            ctx.fail(format!(
                "the listener received nothing for {STALL_LIMIT:?} while {} notifications \
                 were sent (at {:.0} s)",
                sent - notes_seen.0,
                ctx.started.elapsed().as_secs_f64()
            ));
        }
        if Instant::now() >= next_line {
            next_line += every;
            let status = ctx.pool.status();
            eprintln!(
                "soak: {:>5.0} s  committed {} units, {} rows  notifications: {} sent \
                 (acknowledged), {} received  rss {} MiB  pool: size {} idle {} waiting {}",
                ctx.started.elapsed().as_secs_f64(),
                ctx.committed_units.load(Ordering::Relaxed),
                ctx.committed_rows.load(Ordering::Relaxed),
                sent,
                received,
                samples.last().map_or(0, |s| s.rss_kib / 1024),
                status.size,
                status.idle,
                status.waiting,
            );
        }
    }
    samples
}

/// Starts a thread that ends the process with status 3 when `heartbeat` (milliseconds since
/// `started`, kept fresh by a task on the runtime) is older than `limit`: the runtime itself
/// has stopped, and no timer inside it would fire.
pub fn spawn_dead_man(started: Instant, heartbeat: Arc<AtomicU64>, limit: Duration) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = started.elapsed().as_millis() as u64;
        let beat = heartbeat.load(Ordering::Relaxed);
        if now.saturating_sub(beat) > limit.as_millis() as u64 {
            eprintln!(
                "soak: FAIL: the runtime made no progress for {limit:?} (last heartbeat at {:.1} s): a hang",
                beat as f64 / 1000.0
            );
            std::process::exit(3);
        }
    });
}
