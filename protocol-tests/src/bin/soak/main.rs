//! The soak: tusk under load and chaos for a while, then checked against the server's tables.
//!
//! Run by `scripts/soak [SECONDS]`, which starts the soak server (`scripts/test-server
//! soak-start`, a cluster of its own: this program terminates its backends and restarts it)
//! and passes its URL in `TUSK_PG_SOAK_URL` and the path of `scripts/test-server` in
//! `TUSK_SOAK_SERVER_SCRIPT` (for the restarts). For SECONDS (default 1800):
//!
//! - 64 workers on a `tusk::Pool` of 16 run transactions, COPYs, autocommit inserts,
//!   read-backs and notifications, retrying after errors, each recording what it was told
//!   about every id's commit ([`workload`], [`ledger`]);
//! - a `tusk::Listener` collects the notifications ([`notes`]);
//! - the chaos terminates random backends every 1-3 s and restarts the server every 20 s,
//!   alternating fast and immediate shutdowns ([`chaos`]);
//! - the RSS is sampled every second and progress is watched ([`monitor`]).
//!
//! Then it checks the ledger table against the workers' records, the notifications, the RSS,
//! the pool's counters and the server's list of sessions, prints a summary ([`report`]) and
//! exits 1 when a check failed (2 when it could not run, 3 when the runtime hung).
//! `TUSK_SOAK_SABOTAGE=1` damages the table before the check (a committed row doubled, one
//! deleted, a row no worker generated, a failed unit's row), to show that the check fails.
//!
//! It is a binary of the conformance suite rather than an example: it tests tusk against a
//! server it breaks on purpose, needs the scripts' soak server, and teaches nothing a user
//! would copy.

#![warn(missing_docs)]

mod chaos;
mod ledger;
mod monitor;
mod notes;
mod report;
mod workload;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tusk::{Config, Connection, Pool};

use crate::ledger::{Ledger, Outcome, Verifier};
use crate::report::{PoolCheck, Summary};
use crate::workload::{WorkerReport, OP_LIMIT};

/// Workers running at once.
const WORKERS: u32 = 64;
/// The pool's size.
const POOL_SIZE: usize = 16;
/// Rows per page of the final check's query.
const CHECK_PAGE: i64 = 50_000;

/// What the environment and the command line ask for.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long the workload runs.
    pub seconds: u64,
    /// The soak server's URL.
    pub url: String,
    /// `scripts/test-server`, run as `soak-restart fast|immediate`.
    pub server_script: String,
    /// Damage the table before the check, to show that the check fails.
    pub sabotage: bool,
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        let mut args = std::env::args().skip(1);
        let seconds = match args.next() {
            None => 1800,
            Some(s) => s
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("SECONDS must be a positive number, got {s:?}"))?,
        };
        if let Some(extra) = args.next() {
            return Err(format!(
                "unexpected argument {extra:?} (usage: soak [SECONDS])"
            ));
        }
        let var = |name: &str| {
            std::env::var(name).map_err(|_| format!("{name} is not set: run scripts/soak"))
        };
        Ok(Settings {
            seconds,
            url: var("TUSK_PG_SOAK_URL")?,
            server_script: var("TUSK_SOAK_SERVER_SCRIPT")?,
            sabotage: std::env::var("TUSK_SOAK_SABOTAGE").is_ok_and(|v| v == "1"),
        })
    }
}

/// A small xorshift64* generator: the soak needs variety, not statistics.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the clock and `salt`.
    pub fn new(salt: u64) -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng((nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        if n == 0 {
            0
        } else {
            x % n
        }
    }
}

/// What the soak's tasks share.
pub struct Ctx {
    /// What was asked for.
    pub settings: Settings,
    /// The connection settings every connection starts from.
    pub config: Config,
    /// The workers' pool.
    pub pool: Pool,
    /// When the workload started.
    pub started: Instant,
    stop: watch::Sender<bool>,
    listener_stop: watch::Sender<bool>,
    /// Milliseconds since `started` of the last acknowledged commit.
    pub last_commit_ms: AtomicU64,
    /// Units acknowledged as committed.
    pub committed_units: AtomicU64,
    /// Rows in them.
    pub committed_rows: AtomicU64,
    /// Notifications in committed units (for the listener's watchdog; the check counts from
    /// the ledgers).
    pub notes_sent_hint: AtomicU64,
    /// Notifications the listener received.
    pub notes_received: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Ctx {
    /// Whether the workload should stop.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleeps for `pause`; false when the soak stopped meanwhile (it returns at once then).
    pub async fn sleep(&self, pause: Duration) -> bool {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            () = tokio::time::sleep(pause) => !self.stopping(),
            _ = stop.wait_for(|s| *s) => false,
        }
    }

    /// Resolves when the listener should stop waiting for the end marker.
    pub async fn listener_deadline(&self) {
        let mut stop = self.listener_stop.subscribe();
        let _ = stop.wait_for(|s| *s).await;
    }

    /// Milliseconds since the workload started.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Counts a unit acknowledged as committed.
    pub fn committed(&self, rows: usize, notify: bool) {
        if rows == 0 && !notify {
            return;
        }
        self.last_commit_ms
            .fetch_max(self.elapsed_ms(), Ordering::Relaxed);
        self.committed_units.fetch_add(1, Ordering::Relaxed);
        self.committed_rows
            .fetch_add(rows as u64, Ordering::Relaxed);
        if notify {
            self.notes_sent_hint.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a failed check; the soak goes on and reports it at the end.
    pub fn fail(&self, what: String) {
        eprintln!("soak: FAILURE: {what}");
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.push(what);
    }

    fn failures(&self) -> Vec<String> {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(settings)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("soak: could not run: {e}");
            ExitCode::from(2)
        }
    }
}

/// Connects, retrying for up to 30 s (the server may be restarting).
async fn connect_retrying(config: &Config) -> Result<Connection, String> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match config.connect().await {
            Ok(conn) => return Ok(conn),
            Err(e) if Instant::now() >= until => return Err(format!("cannot connect: {e}")),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn run(settings: Settings) -> Result<bool, String> {
    let url: Config = settings
        .url
        .parse()
        .map_err(|e| format!("TUSK_PG_SOAK_URL: {e}"))?;
    // The workload's limits: nothing it does takes seconds unless something is wrong.
    let config = url
        .clone()
        .connect_timeout(Duration::from_secs(5))
        .statement_timeout(Duration::from_secs(15))
        .options("-c statement_timeout=10s");
    // The check reads the whole table (millions of rows after a long run) on a machine that
    // may be busy: generous limits, still bounded.
    let check_config = url
        .connect_timeout(Duration::from_secs(5))
        .statement_timeout(Duration::from_secs(330))
        .options("-c statement_timeout=300s")
        .application_name("tusk-soak-check");
    let mut setup = connect_retrying(&check_config).await?;
    setup
        .batch_execute(
            "DROP TABLE IF EXISTS soak_ledger; \
             CREATE TABLE soak_ledger (id int8 NOT NULL, worker int4 NOT NULL, op text NOT NULL); \
             CREATE INDEX soak_ledger_id ON soak_ledger (id)",
        )
        .await
        .map_err(|e| format!("creating the ledger table: {e}"))?;
    let _ = setup.close().await;

    let pool = Pool::builder(config.clone().application_name("tusk-soak-pool"))
        .max_size(POOL_SIZE)
        .acquire_timeout(Duration::from_secs(10))
        .build();
    let ctx = Arc::new(Ctx {
        settings: settings.clone(),
        config,
        pool,
        started: Instant::now(),
        stop: watch::Sender::new(false),
        listener_stop: watch::Sender::new(false),
        last_commit_ms: AtomicU64::new(0),
        committed_units: AtomicU64::new(0),
        committed_rows: AtomicU64::new(0),
        notes_sent_hint: AtomicU64::new(0),
        notes_received: AtomicU64::new(0),
        failures: Mutex::new(Vec::new()),
    });
    let heartbeat = Arc::new(AtomicU64::new(0));
    monitor::spawn_dead_man(ctx.started, heartbeat.clone(), Duration::from_secs(90));
    let beat = {
        let (ctx, heartbeat) = (ctx.clone(), heartbeat.clone());
        tokio::spawn(async move {
            loop {
                heartbeat.store(ctx.elapsed_ms(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    let listener = notes::connect(&ctx)
        .await
        .map_err(|e| format!("starting the listener: {e}"))?;
    let mut listening = tokio::spawn(notes::listen(ctx.clone(), listener));
    let monitoring = tokio::spawn(monitor::monitor(ctx.clone()));
    let chaos = tokio::spawn(chaos::chaos(ctx.clone()));
    let workers: Vec<JoinHandle<WorkerReport>> = (0..WORKERS)
        .map(|i| tokio::spawn(workload::worker(ctx.clone(), i)))
        .collect();

    tokio::time::sleep(Duration::from_secs(settings.seconds)).await;
    ctx.stop.send_replace(true);
    let elapsed = ctx.started.elapsed();
    eprintln!("soak: stopping after {:.1} s", elapsed.as_secs_f64());

    let reports = join_workers(&ctx, workers).await;
    let chaos = match tokio::time::timeout(Duration::from_secs(150), chaos).await {
        Ok(Ok(report)) => report,
        _ => {
            ctx.fail("the chaos task did not end".to_owned());
            chaos::ChaosReport::default()
        }
    };
    let final_rss = monitor::rss_kib().unwrap_or(0);
    let samples = monitoring.await.unwrap_or_default();

    let recovery = recover(&ctx).await;
    if let Err(e) = send_end_marker(&ctx).await {
        ctx.fail(format!("sending the end marker: {e}"));
    }
    let mut received = match tokio::time::timeout(Duration::from_secs(15), &mut listening).await {
        Ok(received) => received,
        Err(_) => {
            ctx.listener_stop.send_replace(true);
            listening.await
        }
    }
    .map_err(|e| format!("the listener task failed: {e}"))?;
    if !received.end_seen {
        ctx.fail(
            "the listener did not receive the end marker within 15 s of the chaos' end".into(),
        );
    }

    let pool = pool_check(&ctx).await;
    let mut check = connect_retrying(&check_config).await?;
    let leftover = leftover_sessions(&mut check).await?;
    let rows: Vec<Ledger> = reports.iter().map(|r| r.rows.clone()).collect();
    let notes: Vec<Ledger> = reports.iter().map(|r| r.notes.clone()).collect();
    if settings.sabotage {
        sabotage(&mut check, &rows).await?;
    }
    let checking = Instant::now();
    let ledger = verify(&mut check, &rows).await?;
    let check_took = checking.elapsed();
    let table_rows: i64 = check
        .query_one("SELECT count(*) FROM soak_ledger", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| format!("counting the table: {e}"))?;
    let _ = check.close().await;
    let tx_sent = reports.iter().fold([0; 3], |mut sum, r| {
        for (s, n) in sum.iter_mut().zip(r.tx_notes) {
            *s += n;
        }
        sum
    });
    let note_check = notes::check(&mut received, &rows, &notes, tx_sent);
    beat.abort();

    let summary = Summary {
        settings: &settings,
        elapsed,
        reports: &reports,
        chaos: &chaos,
        received: &received,
        notes: &note_check,
        ledger: &ledger,
        check_took,
        table_rows,
        samples: &samples,
        final_rss_kib: final_rss,
        bookkeeping_bytes: rows
            .iter()
            .chain(&notes)
            .map(Ledger::heap_bytes)
            .sum::<usize>()
            + received.keys.capacity() * std::mem::size_of::<i64>(),
        recovery,
        pool: &pool,
        leftover_sessions: leftover,
        failures: ctx.failures(),
    };
    let passed = report::print(&summary);
    if passed {
        // Its disk space back (a 30-minute run writes millions of rows); a failed run keeps
        // the table to look into.
        if let Ok(mut conn) = connect_retrying(&check_config).await {
            let _ = conn.batch_execute("DROP TABLE soak_ledger").await;
            let _ = conn.close().await;
        }
    }
    Ok(passed)
}

/// Waits for every worker (each finishes its operation, bounded by [`OP_LIMIT`]); one that
/// does not come back is a failure, and its ledger is lost (the check then reports its rows
/// as unknown).
async fn join_workers(ctx: &Ctx, workers: Vec<JoinHandle<WorkerReport>>) -> Vec<WorkerReport> {
    let limit = tokio::time::Instant::now() + OP_LIMIT + Duration::from_secs(10);
    let mut reports = Vec::new();
    for (i, mut worker) in workers.into_iter().enumerate() {
        let index = i as u32;
        match tokio::time::timeout_at(limit, &mut worker).await {
            Ok(Ok(report)) => {
                reports.push(report);
                continue;
            }
            Ok(Err(e)) => ctx.fail(format!("worker {index} ended abnormally: {e}")),
            Err(_) => {
                worker.abort();
                ctx.fail(format!(
                    "worker {index} did not stop within {OP_LIMIT:?} + 10 s"
                ));
            }
        }
        reports.push(WorkerReport {
            rows: Ledger::new(index),
            notes: Ledger::new(index),
            tx_notes: [0; 3],
            stats: Default::default(),
            errors: Default::default(),
            reads_checked: 0,
            ids_read: 0,
        });
    }
    reports
}

/// How long the pool took to serve a query again once the chaos stopped (a restart may have
/// just ended); a failure after 30 s.
async fn recover(ctx: &Ctx) -> Option<Duration> {
    let started = Instant::now();
    loop {
        match ctx.pool.query_one("SELECT 1", &[]).await {
            Ok(_) => return Some(started.elapsed()),
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                ctx.fail(format!("the pool does not serve 30 s after the chaos: {e}"));
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn send_end_marker(ctx: &Ctx) -> Result<(), tusk::Error> {
    let mut tries = 0;
    loop {
        match ctx
            .pool
            .execute("SELECT pg_notify('soak', $1)", &[&notes::END_MARKER])
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if tries >= 20 => return Err(e),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The pool's counters once everything is quiet, checked for consistency, and after
/// `close()`.
async fn pool_check(ctx: &Ctx) -> PoolCheck {
    // A runner of the shared path replies before it gives its connection back: give the last
    // ones a moment.
    let settling = Instant::now();
    let is_quiet =
        |s: &tusk::PoolStatus| s.in_use == 0 && s.waiting == 0 && s.queued == 0 && s.idle == s.size;
    let mut quiet = ctx.pool.status();
    while !is_quiet(&quiet) && settling.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        quiet = ctx.pool.status();
    }
    let settled = settling.elapsed();
    let mut problems = Vec::new();
    if !is_quiet(&quiet) {
        problems.push(format!("not idle 5 s after all work was done: {quiet:?}"));
    }
    if quiet.opened != quiet.size as u64 + quiet.closed.total() {
        problems.push(format!(
            "opened ({}) is not size ({}) + closed ({})",
            quiet.opened,
            quiet.size,
            quiet.closed.total()
        ));
    }
    let closed_in_time = tokio::time::timeout(Duration::from_secs(10), ctx.pool.close())
        .await
        .is_ok();
    if !closed_in_time {
        problems.push("Pool::close did not finish within 10 s".to_owned());
    }
    let closed = ctx.pool.status();
    if closed.size != 0 || closed.opened != closed.closed.total() {
        problems.push(format!("connections left after close: {closed:?}"));
    }
    for problem in &problems {
        ctx.fail(format!("pool: {problem}"));
    }
    PoolCheck {
        quiet,
        settled,
        closed,
    }
}

/// The soak's sessions the server still lists (the check connection's own aside), waiting up
/// to 5 s for closed ones to go.
async fn leftover_sessions(check: &mut Connection) -> Result<i64, String> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let n: i64 = check
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name LIKE 'tusk-soak-%' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| format!("reading pg_stat_activity: {e}"))?;
        if n == 0 || Instant::now() >= until {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Damages the table the way the check must notice: a committed row twice, a committed row
/// deleted, a row no worker generated and one whose unit failed.
async fn sabotage(check: &mut Connection, rows: &[Ledger]) -> Result<(), String> {
    let committed: Vec<i64> = rows
        .iter()
        .flat_map(Ledger::runs)
        .filter(|(_, outcome)| *outcome == Outcome::Committed)
        .flat_map(|(ids, _)| ids)
        .take(2)
        .collect();
    let [doubled, deleted] = committed[..] else {
        return Err("sabotage: fewer than two committed ids".to_owned());
    };
    let stray = i64::from(WORKERS + 1) << ledger::OWNER_SHIFT;
    // A failed unit's id when there is one (else a second stray id).
    let failed = rows
        .iter()
        .flat_map(Ledger::runs)
        .find(|(_, outcome)| *outcome == Outcome::NotCommitted)
        .map_or(stray + 1, |(ids, _)| ids.start);
    let insert = "INSERT INTO soak_ledger (id, worker, op) VALUES ($1, -1, 'sabotage')";
    let damage: [(&str, i64); 4] = [
        (
            "INSERT INTO soak_ledger (id, worker, op) \
             SELECT id, worker, op FROM soak_ledger WHERE id = $1",
            doubled,
        ),
        ("DELETE FROM soak_ledger WHERE id = $1", deleted),
        (insert, stray),
        (insert, failed),
    ];
    for (sql, id) in damage {
        check
            .execute(sql, &[&id])
            .await
            .map_err(|e| format!("sabotage: {e}"))?;
    }
    eprintln!(
        "soak: sabotage: id {doubled} doubled, id {deleted} deleted, ids {stray} and {failed} added"
    );
    Ok(())
}

/// Reads the table's ids in order, a page at a time, through a [`Verifier`].
async fn verify(check: &mut Connection, rows: &[Ledger]) -> Result<ledger::LedgerCheck, String> {
    // The statistics do not survive an immediate shutdown: without fresh ones the planner may
    // hash and sort the whole table for each page instead of walking the index.
    check
        .batch_execute("ANALYZE soak_ledger")
        .await
        .map_err(|e| format!("analyzing the ledger table: {e}"))?;
    let mut verifier = Verifier::new(rows);
    let mut after = i64::MIN;
    loop {
        let page = check
            .query(
                "SELECT id, count(*) FROM soak_ledger WHERE id > $1 \
                 GROUP BY id ORDER BY id LIMIT $2",
                &[&after, &CHECK_PAGE],
            )
            .await
            .map_err(|e| format!("reading the ledger table: {e}"))?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            let id: i64 = row.try_get(0).map_err(|e| e.to_string())?;
            let copies: i64 = row.try_get(1).map_err(|e| e.to_string())?;
            verifier.push(id, copies);
            after = id;
        }
    }
    Ok(verifier.finish())
}
