//! One driver running one workload for exactly n queries, for counting instructions.
//!
//! Usage: `instructions <driver> <workload> <n>`, with driver one of tusk, tokio-postgres,
//! sqlx and workload one of
//! - W1 point select by primary key on a prepared statement (versus.rs's W1);
//! - W2 the same with the SQL text passed each time (tusk's and sqlx's statement caches;
//!   tokio-postgres prepares every time, as in versus.rs's W2).
//!
//! It connects to TUSK_PG_URL (scripts/test-server prints it) with the settings versus.rs uses
//! (benches/versus/drivers.rs: TCP, no TLS, sqlx's statement logging off), warms up (prepare,
//! WARMUP queries), runs exactly n queries on a current-thread tokio runtime, closes the
//! connection and exits. Everything but the n queries is the same for every n, so the
//! difference between two run lengths' instruction counts, divided by the difference in n, is
//! the steady cost of one query: scripts/instructions runs this under valgrind to get it.
//! Needs pgbench_accounts with 100,000 rows (`pgbench -i -s 1`; scripts/instructions creates
//! it when missing). TUSK_BENCH_TRACING (`none` or `noop`, see versus/tracing_mode.rs) picks
//! the `tracing` subscriber, for counting what tusk's spans cost (build with
//! `--features tracing`).

#[allow(dead_code)]
#[path = "versus/drivers.rs"]
mod drivers;
#[path = "versus/tracing_mode.rs"]
mod tracing_mode;

use std::hint::black_box;
use std::process::ExitCode;

use sqlx::{Connection as _, Executor as _, Row as _, SqlSafeStr as _, Statement as _};

use drivers::Target;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The point select of pgbench's select-only script, as in versus.rs.
const POINT_SELECT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
/// Rows of pgbench_accounts at scale 1.
const ACCOUNTS: u64 = 100_000;
/// Queries run before the counted ones (after preparing, for W1).
const WARMUP: u64 = 200;

/// Ids of pgbench_accounts rows, pseudo-random (xorshift, as versus.rs's `Ids`), the same
/// sequence for every driver.
struct Ids(u64);

impl Ids {
    fn new(seed: u64) -> Ids {
        Ids(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_id(&mut self) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % ACCOUNTS + 1) as i32
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    /// Prepared once.
    W1,
    /// SQL text each time.
    W2,
}

/// TUSK_PG_URL as versus.rs's [`Target`] (parsed by tokio-postgres's URL parser).
fn target_from_url(url: &str) -> Result<Target, BoxError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| format!("TUSK_PG_URL={url:?}: {e}"))?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => return Err(format!("TUSK_PG_URL={url:?} names no TCP host").into()),
    };
    Ok(Target {
        host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        dbname: config.get_dbname().unwrap_or("tusk").into(),
        user: config.get_user().unwrap_or("tusk").into(),
        password: String::from_utf8_lossy(config.get_password().unwrap_or(b"")).into_owned(),
        tls: None,
    })
}

// Each driver: connect, prepare (W1 only), WARMUP + n queries, close; returns the sum of the
// balances read.

async fn tusk(target: &Target, workload: Workload, n: u64) -> Result<i64, BoxError> {
    let mut conn = target.tusk().connect().await?;
    let stmt = match workload {
        Workload::W1 => Some(conn.prepare(POINT_SELECT).await?),
        Workload::W2 => None,
    };
    let mut ids = Ids::new(1);
    let mut sum = 0i64;
    for _ in 0..WARMUP + n {
        let row = match &stmt {
            Some(stmt) => conn.query_one(stmt, &[&ids.next_id()]).await?,
            None => conn.query_one(POINT_SELECT, &[&ids.next_id()]).await?,
        };
        sum += i64::from(row.get::<_, i32>(0));
    }
    drop(stmt);
    conn.close().await?;
    Ok(sum)
}

async fn tokio_postgres(target: &Target, workload: Workload, n: u64) -> Result<i64, BoxError> {
    let conn = target
        .tokio_postgres_connect(&target.tokio_postgres())
        .await?;
    let stmt = match workload {
        Workload::W1 => Some(conn.client.prepare(POINT_SELECT).await?),
        Workload::W2 => None,
    };
    let mut ids = Ids::new(1);
    let mut sum = 0i64;
    for _ in 0..WARMUP + n {
        let row = match &stmt {
            Some(stmt) => conn.client.query_one(stmt, &[&ids.next_id()]).await?,
            None => {
                conn.client
                    .query_one(POINT_SELECT, &[&ids.next_id()])
                    .await?
            }
        };
        sum += i64::from(row.get::<_, i32>(0));
    }
    drop(stmt);
    conn.close().await?;
    Ok(sum)
}

async fn sqlx(target: &Target, workload: Workload, n: u64) -> Result<i64, BoxError> {
    let mut conn = sqlx::PgConnection::connect_with(&target.sqlx()).await?;
    let stmt = match workload {
        Workload::W1 => Some(conn.prepare(POINT_SELECT.into_sql_str()).await?),
        Workload::W2 => None,
    };
    let mut ids = Ids::new(1);
    let mut sum = 0i64;
    for _ in 0..WARMUP + n {
        let row = match &stmt {
            Some(stmt) => {
                stmt.query()
                    .bind(ids.next_id())
                    .fetch_one(&mut conn)
                    .await?
            }
            None => {
                sqlx::query(POINT_SELECT)
                    .bind(ids.next_id())
                    .fetch_one(&mut conn)
                    .await?
            }
        };
        sum += i64::from(row.try_get::<i32, _>(0)?);
    }
    drop(stmt);
    conn.close().await?;
    Ok(sum)
}

fn run(args: &[String]) -> Result<(), BoxError> {
    let [driver, workload, n] = args else {
        return Err("usage: instructions <tusk|tokio-postgres|sqlx> <W1|W2> <n>".into());
    };
    let workload = match workload.to_uppercase().as_str() {
        "W1" => Workload::W1,
        "W2" => Workload::W2,
        _ => return Err(format!("unknown workload {workload:?} (W1 or W2)").into()),
    };
    let n: u64 = n
        .parse()
        .map_err(|_| format!("n must be a whole number, got {n:?}"))?;
    let url = std::env::var("TUSK_PG_URL")
        .map_err(|_| "TUSK_PG_URL is not set (eval \"$(scripts/test-server)\")")?;
    let target = target_from_url(&url)?;
    tracing_mode::install_from_env()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sum = rt.block_on(async {
        match driver.as_str() {
            "tusk" => tusk(&target, workload, n).await,
            "tokio-postgres" => tokio_postgres(&target, workload, n).await,
            "sqlx" => sqlx(&target, workload, n).await,
            _ => Err(format!("unknown driver {driver:?} (tusk, tokio-postgres or sqlx)").into()),
        }
    })?;
    black_box(sum);
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; only the three positional arguments count.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.is_empty() {
        eprintln!("instructions: nothing to do (run scripts/instructions)");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("instructions: error: {e}");
            ExitCode::FAILURE
        }
    }
}
