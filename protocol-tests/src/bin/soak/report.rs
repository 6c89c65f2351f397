//! The soak's summary: what ran, what the chaos did, what went wrong, and the verdict of each
//! check (the ledger table, notifications, RSS, the pool's counters, leftover sessions).

use std::collections::BTreeMap;
use std::time::Duration;

use tusk::PoolStatus;

use crate::chaos::ChaosReport;
use crate::ledger::{LedgerCheck, Outcome};
use crate::monitor::Sample;
use crate::notes::{NoteCheck, Received};
use crate::workload::{ErrorTally, Op, OpStats, WorkerReport};
use crate::{Settings, POOL_SIZE, WORKERS};

/// The RSS allowed above the warm-up sample at the end: at least this much.
const RSS_SLACK_KIB: u64 = 16 * 1024;

/// The pool's status when everything was quiet, and after `close()`.
#[derive(Debug)]
pub struct PoolCheck {
    /// With all work done, before `close()`.
    pub quiet: PoolStatus,
    /// How long after the last query it took to be quiet (every connection idle).
    pub settled: Duration,
    /// After `close()`.
    pub closed: PoolStatus,
}

/// Everything the summary reports.
pub struct Summary<'a> {
    /// What was asked for.
    pub settings: &'a Settings,
    /// How long the workload ran.
    pub elapsed: Duration,
    /// The workers' reports, by index.
    pub reports: &'a [WorkerReport],
    /// What the chaos did.
    pub chaos: &'a ChaosReport,
    /// What the listener received.
    pub received: &'a Received,
    /// Notifications sent vs received.
    pub notes: &'a NoteCheck,
    /// The ledger table against the workers' records.
    pub ledger: &'a LedgerCheck,
    /// How long reading the table took.
    pub check_took: Duration,
    /// `count(*)` of the table, a second count to hold the paged check to.
    pub table_rows: i64,
    /// RSS once a second.
    pub samples: &'a [Sample],
    /// RSS when the workload had stopped.
    pub final_rss_kib: u64,
    /// Memory the soak's own records hold by design (ledgers, received payloads).
    pub bookkeeping_bytes: usize,
    /// How long the pool took to serve again after the chaos.
    pub recovery: Option<Duration>,
    /// The pool's counters.
    pub pool: &'a PoolCheck,
    /// Sessions of the soak the server still listed after everything was closed.
    pub leftover_sessions: i64,
    /// Failures found during the run.
    pub failures: Vec<String>,
}

/// Prints the summary on stdout; returns whether every check passed.
pub fn print(s: &Summary<'_>) -> bool {
    let mut failed = s.failures.clone();
    let secs = s.elapsed.as_secs_f64().max(0.001);
    println!(
        "== tusk soak: {:.1} s, {WORKERS} workers on a pool of {POOL_SIZE}",
        secs
    );

    workload(s, secs);
    ledger(s, &mut failed);
    notifications(s, &mut failed);
    chaos(s);
    errors(s);
    rss(s, &mut failed);
    pool(s, &mut failed);

    if failed.is_empty() {
        println!("== PASS: every check held");
        true
    } else {
        println!("== FAIL: {} check(s) failed:", failed.len());
        for failure in &failed {
            println!("  - {failure}");
        }
        false
    }
}

fn workload(s: &Summary<'_>, secs: f64) {
    let mut by_op: BTreeMap<Op, OpStats> = BTreeMap::new();
    let (mut reads, mut ids_read) = (0, 0);
    for report in s.reports {
        reads += report.reads_checked;
        ids_read += report.ids_read;
        for (op, stats) in &report.stats {
            let sum = by_op.entry(*op).or_default();
            sum.runs += stats.runs;
            for (total, n) in sum.outcomes.iter_mut().zip(stats.outcomes) {
                *total += n;
            }
            sum.rows_committed += stats.rows_committed;
            sum.slowest = sum.slowest.max(stats.slowest);
        }
    }
    println!(
        "{:<14} {:>8} {:>9} {:>8} {:>9} {:>10} {:>9}",
        "operation", "runs", "ok", "failed", "ambiguous", "rows ok", "slowest"
    );
    let (mut units, mut rows) = (0, 0);
    for (op, stats) in &by_op {
        let ok = stats.outcomes[Outcome::Committed.index()];
        if !matches!(op, Op::Read | Op::SharedRead) {
            units += ok;
        }
        rows += stats.rows_committed;
        println!(
            "{:<14} {:>8} {:>9} {:>8} {:>9} {:>10} {:>8.2}s",
            op.name(),
            stats.runs,
            ok,
            stats.outcomes[Outcome::NotCommitted.index()],
            stats.outcomes[Outcome::Ambiguous.index()],
            stats.rows_committed,
            stats.slowest.as_secs_f64()
        );
    }
    println!(
        "throughput: {:.1} transactions/s, {:.1} rows/s (acknowledged commits: {units} \
         transactions, {rows} rows); read-backs: {reads} ({ids_read} ids compared)",
        units as f64 / secs,
        rows as f64 / secs
    );
}

fn ledger(s: &Summary<'_>, failed: &mut Vec<String>) {
    let l = s.ledger;
    let tally = |o: Outcome| l.tallies[o.index()];
    let (ok, not, amb) = (
        tally(Outcome::Committed),
        tally(Outcome::NotCommitted),
        tally(Outcome::Ambiguous),
    );
    println!(
        "ledger (read in {:.1} s): {} rows, {} distinct ids; committed ids {} (present {}, missing {}); \
         duplicated {}; not-committed ids {} (present {}); ambiguous ids {} (present {}, absent {}); \
         unknown {}",
        s.check_took.as_secs_f64(),
        l.rows,
        l.distinct,
        ok.ids,
        ok.present,
        l.missing(),
        l.duplicated,
        not.ids,
        not.present,
        amb.ids,
        amb.present,
        amb.ids - amb.present,
        l.unknown
    );
    for example in &l.examples {
        println!("  ledger: {example}");
    }
    if !l.passed() {
        failed.push(format!(
            "ledger: {} committed ids missing, {} duplicated, {} not-committed present, {} unknown, {} out of order",
            l.missing(),
            l.duplicated,
            l.resurrected(),
            l.unknown,
            l.out_of_order
        ));
    }
    if u64::try_from(s.table_rows).ok() != Some(l.rows) {
        failed.push(format!(
            "ledger: count(*) says {} rows, the paged check read {}",
            s.table_rows, l.rows
        ));
    }
}

fn notifications(s: &Summary<'_>, failed: &mut Vec<String>) {
    let n = s.notes;
    let [sent_ok, sent_not, sent_amb] = n.sent;
    let received: u64 = n.received.iter().sum();
    let lost = n.lost();
    println!(
        "notifications: sent {sent_ok} committed (+{sent_amb} ambiguous, {sent_not} not committed); \
         received {received} ({} of committed, {} of ambiguous); lost {lost} ({:.2}% of committed); \
         duplicates {}; phantoms {}; listener reconnects {}; end marker {}",
        n.received[Outcome::Committed.index()],
        n.received[Outcome::Ambiguous.index()],
        if sent_ok == 0 { 0.0 } else { lost as f64 * 100.0 / sent_ok as f64 },
        n.duplicates,
        n.phantoms,
        s.received.reconnects,
        if s.received.end_seen { "received" } else { "MISSING" },
    );
    for example in &n.examples {
        println!("  notifications: {example}");
    }
    if !n.passed() {
        failed.push(format!(
            "notifications: {} phantom(s), {} duplicate(s)",
            n.phantoms, n.duplicates
        ));
    }
    // Losses happen only while the listener reconnects; most notifications lost means it is
    // not working at all.
    if sent_ok >= 100 && lost * 2 > sent_ok {
        failed.push(format!(
            "notifications: {lost} of {sent_ok} lost, more than half"
        ));
    }
}

fn chaos(s: &Summary<'_>) {
    let c = s.chaos;
    let count = |mode: &str| c.restarts.iter().filter(|r| r.mode == mode).count();
    let slowest = c.restarts.iter().map(|r| r.took).max().unwrap_or_default();
    println!(
        "chaos: {} backends terminated ({} rounds found none); {} restarts ({} fast, {} immediate, \
         {} failed), slowest {:.2} s; pool served again {} after the chaos",
        c.terminated,
        c.empty_rounds,
        c.restarts.len(),
        count("fast"),
        count("immediate"),
        c.restarts.iter().filter(|r| r.error.is_some()).count(),
        slowest.as_secs_f64(),
        match s.recovery {
            Some(d) => format!("{:.2} s", d.as_secs_f64()),
            None => "NEVER".to_owned(),
        }
    );
    // Every restart for short runs; a 30-minute run has about 90.
    if c.restarts.len() <= 12 {
        for r in &c.restarts {
            println!(
                "  restart at {:.0} s: {} in {:.2} s{}",
                r.at,
                r.mode,
                r.took.as_secs_f64(),
                r.error
                    .as_deref()
                    .map(|e| format!(", FAILED: {e}"))
                    .unwrap_or_default()
            );
        }
    }
}

fn errors(s: &Summary<'_>) {
    let mut all = ErrorTally::default();
    for report in s.reports {
        all.merge(report.errors.clone());
    }
    all.merge(s.chaos.errors.clone());
    all.merge(s.received.errors.clone());
    let total: u64 = all.counts.values().map(|(n, _)| n).sum();
    println!("errors: {total} (by operation, kind, SQLSTATE; first message)");
    let mut sorted: Vec<_> = all.counts.iter().collect();
    sorted.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    for (key, (count, message)) in sorted {
        println!("  {count:>7}  {key}: {message}");
    }
}

fn rss(s: &Summary<'_>, failed: &mut Vec<String>) {
    let warm_at = s.settings.seconds as f64 * 0.1;
    let Some(warm) = s
        .samples
        .iter()
        .find(|sample| sample.at >= warm_at)
        .or(s.samples.last())
    else {
        failed.push("rss: no samples (no /proc/self/status?)".to_owned());
        return;
    };
    let mut sorted: Vec<u64> = s.samples.iter().map(|sample| sample.rss_kib).collect();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let bookkeeping_kib = (s.bookkeeping_bytes as u64).div_ceil(1024);
    let limit = warm.rss_kib + RSS_SLACK_KIB.max(warm.rss_kib / 2) + 2 * bookkeeping_kib;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "rss (MiB): warm-up {:.1} (at {:.0} s), median {:.1}, max {:.1}, final {:.1}; \
         limit {:.1} (warm-up + max(16 MiB, half of it) + twice the {:.2} MiB of bookkeeping)",
        mib(warm.rss_kib),
        warm.at,
        mib(median),
        mib(max),
        mib(s.final_rss_kib),
        mib(limit),
        mib(bookkeeping_kib)
    );
    if s.final_rss_kib > limit {
        failed.push(format!(
            "rss: final {:.1} MiB exceeds the limit of {:.1} MiB",
            mib(s.final_rss_kib),
            mib(limit)
        ));
    }
}

fn pool(s: &Summary<'_>, failed: &mut Vec<String>) {
    let status = |p: &PoolStatus| {
        format!(
            "size {} idle {} in use {} waiting {} queued {} timeouts {} opened {} closed {} \
             (broken {}, pool closed {}, max lifetime {}, idle timeout {}, health check {})",
            p.size,
            p.idle,
            p.in_use,
            p.waiting,
            p.queued,
            p.timeouts,
            p.opened,
            p.closed.total(),
            p.closed.broken,
            p.closed.pool_closed,
            p.closed.max_lifetime,
            p.closed.idle_timeout,
            p.closed.health_check
        )
    };
    println!(
        "pool at the end (quiet after {:.3} s): {}",
        s.pool.settled.as_secs_f64(),
        status(&s.pool.quiet)
    );
    println!("pool after close: {}", status(&s.pool.closed));
    println!(
        "server sessions of the soak left after closing: {}",
        s.leftover_sessions
    );
    if s.leftover_sessions != 0 {
        failed.push(format!(
            "{} session(s) still open on the server after the pool, listener and chaos closed",
            s.leftover_sessions
        ));
    }
}
