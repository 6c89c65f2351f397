//! tusk against tokio-postgres and sqlx on one live server, in the same process.
//!
//! Each workload opens its connections for all three drivers, warms them up, then runs rounds:
//! in every round each driver works alone for a fixed time (TUSK_BENCH_SECONDS), and the
//! driver going first changes from round to round. It prints one line per workload: the median
//! rate of each driver, tusk's rate divided by the better of the other two, and the median
//! client CPU time (user + system, getrusage of the whole process) per unit of work; then a
//! second table with that CPU time split into user and system time.
//!
//! Workloads (README's performance table):
//! - W1 point select by primary key on a prepared statement, one connection;
//! - W2 the same with the SQL text passed each time (statement caches; tokio-postgres prepares
//!   every time);
//! - W3 batches of point selects pipelined on one connection (sqlx cannot);
//! - W4 fetch 1,000,000 rows of (int8, text, float8, timestamptz), reading every column;
//! - W5 binary COPY in of 1,000,000 such rows (tusk's BinaryCopyIn against tokio-postgres's
//!   BinaryCopyInWriter; sqlx has no typed binary writer);
//! - W6 connect, authenticate with SCRAM-SHA-256 (role tusk_scram), close;
//! - W7 64 tasks doing point selects over a pool of 8 connections (tusk: `Pool::query_one`,
//!   which batches concurrent queries per connection);
//! - W7x the same with exclusive checkouts (tusk: `Pool::get` then `query_one`);
//! - W1s and W4s: W1 and W4 with every driver over TLS to scripts/test-server's TLS server
//!   (TUSK_PG_TLS_PORT), `sslmode=verify-full` against host `localhost` with the test CA
//!   (TUSK_PG_TLS_DIR/ca.crt) as the root, rustls with ring for all three (see
//!   versus/drivers.rs); skipped, with a message, when TUSK_PG_TLS_PORT or TUSK_PG_TLS_DIR is
//!   not set. They run only when named in TUSK_BENCH_ONLY or when it is unset.
//!
//! W1-W4, W1s, W4s and W6 run on a current-thread runtime (the CPU time is then that of one client
//! thread); W7 and W7x on a multi-thread runtime with 2 workers.
//!
//! Run it with `scripts/bench`, which starts the test server, creates the tables
//! (`pgbench_accounts` from `pgbench -i -s 1`, `tusk_bench_rows`), runs this and then pgbench
//! as the reference for what the server allows. By hand:
//! `scripts/with-test-server cargo bench --bench versus` once the tables exist (for W1s and W4s
//! on the TLS server too).
//!
//! Environment: the TUSK_PG_* settings of scripts/test-server (host, port, dbname, user,
//! password; TUSK_PG_TLS_PORT and TUSK_PG_TLS_DIR for W1s and W4s), and
//! - TUSK_BENCH_SECONDS  length of one driver's round, in seconds (default 1)
//! - TUSK_BENCH_ROUNDS   rounds per workload (default 5)
//! - TUSK_BENCH_ONLY     workloads to run, e.g. `W1,W4` (default all)
//! - TUSK_BENCH_ROWS     rows fetched by W4 and W4s (default 1000000)
//! - TUSK_BENCH_PIPELINE selects per pipeline in W3 (default 10000)
//! - TUSK_BENCH_TASKS, TUSK_BENCH_POOL  tasks and pool size of W7 (default 64 and 8)
//! - TUSK_BENCH_DRIVERS  drivers to measure, e.g. `tusk` (default all three; the others still
//!   connect, they are only not measured)
//! - TUSK_BENCH_TRACING  `none` (default) or `noop`: the `tracing` subscriber to run under, for
//!   the cost of tusk's spans (`noop` needs `--features tracing`; see versus/tracing_mode.rs)
//! - TUSK_BENCH_RESULTS  a file to write the results to as tab-separated lines (scripts/bench
//!   reads W4's SQL and rate from it)

#[path = "versus/copy_load.rs"]
mod copy_load;
#[path = "versus/drivers.rs"]
mod drivers;
#[path = "versus/measure.rs"]
mod measure;
#[path = "versus/pooled.rs"]
mod pooled;
#[path = "versus/single.rs"]
mod single;
#[path = "versus/tracing_mode.rs"]
mod tracing_mode;

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use drivers::Target;
use measure::Outcome;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The point select of pgbench's select-only script.
pub const POINT_SELECT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
/// W4's query: the whole table, which scripts/bench fills with exactly TUSK_BENCH_ROWS rows
/// (no LIMIT: with synchronised sequential scans a LIMIT would not return the same rows each
/// time, and no ORDER BY: the server's work should be a plain scan).
pub const ROWS_SELECT: &str = "SELECT id, name, score, at FROM tusk_bench_rows";
/// The SCRAM role of scripts/test-server, for W6.
pub const SCRAM_USER: &str = "tusk_scram";
pub const SCRAM_PASSWORD: &str = "pw_scram";

/// The knobs, from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// One driver's share of a round.
    pub round: Duration,
    pub rounds: usize,
    pub only: Option<Vec<String>>,
    /// The drivers measured (lower case); `None` for all.
    pub drivers: Option<Vec<String>>,
    pub rows: i64,
    pub pipeline: usize,
    pub tasks: usize,
    pub pool: usize,
}

fn env_or<T: FromStr>(name: &str, default: T) -> Result<T, BoxError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid value").into()),
        _ => Ok(default),
    }
}

impl Settings {
    fn from_env() -> Result<Settings, BoxError> {
        let seconds: f64 = env_or("TUSK_BENCH_SECONDS", 1.0)?;
        if !(seconds > 0.0 && seconds < 3600.0) {
            return Err("TUSK_BENCH_SECONDS must be between 0 and 3600".into());
        }
        let only = std::env::var("TUSK_BENCH_ONLY")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.split(',').map(|w| w.trim().to_uppercase()).collect());
        let drivers: Option<Vec<String>> = std::env::var("TUSK_BENCH_DRIVERS")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.split(',').map(|d| d.trim().to_lowercase()).collect());
        if let Some(unknown) = drivers.iter().flatten().find(|d| {
            !measure::Driver::ALL
                .iter()
                .any(|known| known.name() == d.as_str())
        }) {
            return Err(format!(
                "TUSK_BENCH_DRIVERS names {unknown:?}; the drivers are tusk, tokio-postgres, sqlx"
            )
            .into());
        }
        let settings = Settings {
            round: Duration::from_secs_f64(seconds),
            rounds: env_or("TUSK_BENCH_ROUNDS", 5)?,
            only,
            drivers,
            rows: env_or("TUSK_BENCH_ROWS", 1_000_000)?,
            pipeline: env_or("TUSK_BENCH_PIPELINE", 10_000)?,
            tasks: env_or("TUSK_BENCH_TASKS", 64)?,
            pool: env_or("TUSK_BENCH_POOL", 8)?,
        };
        if settings.rounds == 0 || settings.rows <= 0 || settings.pipeline == 0 {
            return Err(
                "TUSK_BENCH_ROUNDS, TUSK_BENCH_ROWS and TUSK_BENCH_PIPELINE must be > 0".into(),
            );
        }
        if settings.tasks == 0 || settings.pool == 0 {
            return Err("TUSK_BENCH_TASKS and TUSK_BENCH_POOL must be > 0".into());
        }
        Ok(settings)
    }

    /// Whether `driver` is measured (TUSK_BENCH_DRIVERS).
    pub fn measures(&self, driver: measure::Driver) -> bool {
        self.drivers
            .as_ref()
            .is_none_or(|drivers| drivers.iter().any(|d| d == driver.name()))
    }

    fn wants(&self, id: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|w| w.eq_ignore_ascii_case(id)))
    }
}

/// The server from scripts/test-server's variables; `None` when they are not set.
fn target_from_env() -> Result<Option<Target>, BoxError> {
    let Ok(port) = std::env::var("TUSK_PG_PORT") else {
        return Ok(None);
    };
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    Ok(Some(Target {
        host: var("TUSK_PG_HOST", "127.0.0.1"),
        port: port
            .parse()
            .map_err(|_| format!("TUSK_PG_PORT={port:?} is not a port"))?,
        dbname: var("TUSK_PG_DBNAME", "tusk"),
        user: var("TUSK_PG_USER", "tusk"),
        password: var("TUSK_PG_PASSWORD", "tusk"),
        tls: None,
    }))
}

/// The TLS server of scripts/test-server for W1s and W4s, as `main` with its port, host
/// `localhost` (the name its certificate is for) and the test CA; `None` when
/// TUSK_PG_TLS_PORT or TUSK_PG_TLS_DIR is not set.
fn tls_target_from_env(main: &Target) -> Result<Option<Target>, BoxError> {
    let (Ok(port), Ok(dir)) = (
        std::env::var("TUSK_PG_TLS_PORT"),
        std::env::var("TUSK_PG_TLS_DIR"),
    ) else {
        return Ok(None);
    };
    if port.trim().is_empty() || dir.trim().is_empty() {
        return Ok(None);
    }
    let ca = std::path::Path::new(&dir).join("ca.crt");
    Ok(Some(Target {
        host: "localhost".into(),
        port: port
            .parse()
            .map_err(|_| format!("TUSK_PG_TLS_PORT={port:?} is not a port"))?,
        tls: Some(drivers::Tls::new(ca)?),
        ..main.clone()
    }))
}

/// Ids of pgbench_accounts rows, pseudo-random (xorshift) and the same sequence for every
/// driver with the same seed.
pub struct Ids {
    state: u64,
    accounts: u64,
}

impl Ids {
    pub fn new(accounts: i32, seed: u64) -> Ids {
        Ids {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            accounts: accounts.max(1) as u64,
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> i32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        // `accounts` fits an i32, so the remainder plus one does too.
        (self.state % self.accounts + 1) as i32
    }
}

/// `1000000` as `1,000,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Checks that the tables exist (tusk_bench_rows only when `rows_workload`, W4 or W4s, is to
/// run) and returns the number of accounts.
async fn check_data(
    target: &Target,
    settings: &Settings,
    rows_workload: &str,
) -> Result<i32, BoxError> {
    let mut conn = target.tusk().connect().await?;
    let missing = |table: &str| {
        format!("table {table} is missing: run scripts/bench, which creates the benchmark data")
    };
    let accounts: Option<i32> = conn
        .query_one(
            "SELECT max(aid) FROM pgbench_accounts WHERE to_regclass('pgbench_accounts') IS NOT NULL",
            &[],
        )
        .await
        .map_err(|_| missing("pgbench_accounts"))?
        .get(0);
    let accounts = accounts.ok_or_else(|| missing("pgbench_accounts"))?;
    if settings.wants(rows_workload) {
        let rows: i64 = conn
            .query_one("SELECT count(*) FROM tusk_bench_rows", &[])
            .await
            .map_err(|_| missing("tusk_bench_rows"))?
            .get(0);
        if rows != settings.rows {
            return Err(format!(
                "tusk_bench_rows has {rows} rows, not TUSK_BENCH_ROWS={}: run scripts/bench, \
                 which recreates it",
                settings.rows
            )
            .into());
        }
    }
    conn.close().await?;
    Ok(accounts)
}

fn run(
    target: &Target,
    tls_target: Option<&Target>,
    settings: &Settings,
) -> Result<Vec<Outcome>, BoxError> {
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let accounts = single.block_on(check_data(target, settings, "W4"))?;
    let mut outcomes = Vec::new();
    let mut record = |outcome: Outcome| {
        eprintln!(
            "{}",
            measure::table(std::slice::from_ref(&outcome))
                .lines()
                .nth(2)
                .unwrap_or("")
        );
        outcomes.push(outcome);
    };
    if settings.wants("W1") {
        record(measure::on_fresh_threads(
            &single,
            single::point_select_prepared(target, settings, accounts),
        )?);
    }
    if settings.wants("W2") {
        record(measure::on_fresh_threads(
            &single,
            single::point_select_text(target, settings, accounts),
        )?);
    }
    if settings.wants("W3") {
        record(measure::on_fresh_threads(
            &single,
            single::point_select_pipelined(target, settings, accounts),
        )?);
    }
    if settings.wants("W4") {
        record(measure::on_fresh_threads(
            &single,
            single::fetch_rows(target, settings),
        )?);
    }
    if settings.wants("W5") {
        record(measure::on_fresh_threads(
            &single,
            copy_load::copy_load(target, settings),
        )?);
    }
    let wants_tls = settings.wants("W1s") || settings.wants("W4s");
    match tls_target {
        Some(tls_target) if wants_tls => {
            let accounts = single.block_on(check_data(tls_target, settings, "W4s"))?;
            if settings.wants("W1s") {
                record(measure::on_fresh_threads(
                    &single,
                    single::point_select_prepared(tls_target, settings, accounts),
                )?);
            }
            if settings.wants("W4s") {
                record(measure::on_fresh_threads(
                    &single,
                    single::fetch_rows(tls_target, settings),
                )?);
            }
        }
        None if wants_tls => eprintln!(
            "versus: W1s and W4s skipped: TUSK_PG_TLS_PORT and TUSK_PG_TLS_DIR are not both \
             set (scripts/test-server prints them when its TLS server runs)"
        ),
        _ => {}
    }
    if settings.wants("W6") {
        record(measure::on_fresh_threads(
            &single,
            single::connect_scram(target, settings),
        )?);
    }
    drop(single);
    for (id, pool_use) in [
        ("W7", pooled::PoolUse::Shared),
        ("W7x", pooled::PoolUse::Exclusive),
    ] {
        if settings.wants(id) {
            let multi = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            record(multi.block_on(pooled::pooled_point_selects(
                target, settings, accounts, pool_use,
            ))?);
        }
    }
    Ok(outcomes)
}

/// Writes the results for scripts/bench to the file named by TUSK_BENCH_RESULTS, if set: W4's
/// SQL (`sql W4 <text>`, so that the script's COPY reference runs exactly the same query) and
/// the lines of [`measure::tsv`].
fn write_results(outcomes: &[Outcome]) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("TUSK_BENCH_RESULTS").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let text = format!("sql\tW4\t{ROWS_SELECT}\n{}", measure::tsv(outcomes));
    std::fs::write(path, text)
}

fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("versus: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = match target_from_env() {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!(
                "versus: skipped: TUSK_PG_PORT is not set. Run scripts/bench (or \
                 scripts/with-test-server cargo bench --bench versus once the data exists)."
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("versus: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tracing = match tracing_mode::install_from_env() {
        Ok(description) => description,
        Err(e) => {
            eprintln!("versus: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tls_target = match tls_target_from_env(&target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("versus: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "versus: {}:{} db {}, {} rounds of {:?} per driver and workload; tusk {tracing}",
        target.host, target.port, target.dbname, settings.rounds, settings.round
    );
    if let Some(t) = &tls_target {
        eprintln!("versus: W1s, W4s over TLS to {}:{}", t.host, t.port);
    }
    match run(&target, tls_target.as_ref(), &settings) {
        Ok(outcomes) => {
            println!();
            print!("{}", measure::table(&outcomes));
            println!();
            print!("{}", measure::cpu_split_table(&outcomes));
            match write_results(&outcomes) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("versus: error writing TUSK_BENCH_RESULTS: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("versus: error: {e}");
            ExitCode::FAILURE
        }
    }
}
