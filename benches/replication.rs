//! W8: logical replication throughput. One transaction inserts `TUSK_BENCH_W8_ROWS` rows
//! (default 1,000,000) of (int8, text, float8, timestamptz) into a published table; two logical
//! slots created before it see the same changes. tusk streams one slot through pgoutput and
//! decodes every tuple into typed values (`i64`, `&str`, `f64`, `DateTime<Utc>`), confirming as
//! it goes; `pg_recvlogical` (libpq's client, same pgoutput options) streams the other into
//! `/dev/null`. The two run one after the other, alternating which goes first, for
//! `TUSK_BENCH_ROUNDS` rounds (default 3); printed: the medians of rows per second and of the
//! client's CPU time per row (tusk: this process's getrusage; pg_recvlogical: its own, as a
//! waited-for child), and tusk's rate divided by pg_recvlogical's (the issue asks for at least
//! 0.9).
//!
//! Both clients are timed from their start to the transaction's last change: pg_recvlogical
//! with `--endpos` at the WAL position after the insert; tusk until the Commit of that
//! transaction, after checking it saw every row. Both ask for the same options:
//! `proto_version '1', publication_names 'tusk_w8', binary 'true'`.
//!
//! Run with the test server up: `scripts/with-test-server cargo bench --bench replication`
//! (the main server runs with wal_level = logical). `PG_RECVLOGICAL` names the binary; by
//! default the one of the server's major version in /usr/lib/postgresql/<major>/bin.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tusk::proto::replication::Lsn;
use tusk::replication::{Change, PgOutputOptions, ReplicationClient};
use tusk::{Config, Connection};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const TABLE: &str = "tusk_w8";

/// CPU time (user + sys) of `who` (RUSAGE_SELF or RUSAGE_CHILDREN).
fn cpu(who: libc::c_int) -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is given and returns 0
    // on success; the value is only read after that success is checked.
    let usage = unsafe {
        if libc::getrusage(who, usage.as_mut_ptr()) != 0 {
            panic!("getrusage failed: {}", std::io::Error::last_os_error());
        }
        usage.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, BoxError> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a valid value").into()),
        Err(_) => Ok(default),
    }
}

struct Target {
    host: String,
    port: u16,
    user: String,
    password: String,
    dbname: String,
}

impl Target {
    fn config(&self) -> Config {
        Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname)
    }
}

/// One client's run: wall time and CPU time.
#[derive(Clone, Copy)]
struct Run {
    wall: Duration,
    cpu: Duration,
}

/// Sets up the table and publication (once).
async fn prepare(admin: &mut Connection) -> Result<(), BoxError> {
    admin
        .batch_execute(&format!(
            "SET client_min_messages = warning;
             CREATE TABLE IF NOT EXISTS {TABLE} (id int8 PRIMARY KEY, name text, score float8, \
             at timestamptz);
             DROP PUBLICATION IF EXISTS {TABLE};
             CREATE PUBLICATION {TABLE} FOR TABLE {TABLE};
             TRUNCATE {TABLE};"
        ))
        .await?;
    // Slots a crashed earlier run left behind pin WAL: drop them.
    admin
        .batch_execute(&format!(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
             WHERE slot_name LIKE '{TABLE}_%' AND NOT active"
        ))
        .await?;
    Ok(())
}

/// Creates the two slots, inserts the rows in one transaction, returns the WAL end after it.
async fn load_round(admin: &mut Connection, rows: u64, round: usize) -> Result<Lsn, BoxError> {
    for who in ["tusk", "recv"] {
        admin
            .execute(
                "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                &[&format!("{TABLE}_{who}_{round}")],
            )
            .await?;
    }
    admin
        .execute(
            &format!(
                "INSERT INTO {TABLE} SELECT g, 'name ' || g, g * 0.5, \
                 '2026-01-01'::timestamptz + g * interval '1 second' \
                 FROM generate_series(1, $1::int8) g"
            ),
            &[&(rows as i64)],
        )
        .await?;
    let end: String = admin
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await?
        .get(0);
    Ok(end.parse()?)
}

async fn end_round(admin: &mut Connection, round: usize) -> Result<(), BoxError> {
    for who in ["tusk", "recv"] {
        admin
            .execute(
                "SELECT pg_drop_replication_slot($1)",
                &[&format!("{TABLE}_{who}_{round}")],
            )
            .await?;
    }
    admin.batch_execute(&format!("TRUNCATE {TABLE}")).await?;
    Ok(())
}

fn options() -> PgOutputOptions {
    PgOutputOptions::new([TABLE]).proto_version(1).binary(true)
}

/// tusk: stream the slot, decode every Insert into typed values, confirm each commit.
async fn run_tusk(target: &Target, slot: &str, rows: u64) -> Result<Run, BoxError> {
    let cpu_before = cpu(libc::RUSAGE_SELF);
    let started = Instant::now();
    let mut client = ReplicationClient::connect_logical(&target.config()).await?;
    let mut stream = client
        .start_pgoutput(slot, Lsn::INVALID, &options())
        .await?;
    let mut seen = 0u64;
    // A checksum over every decoded value, so the decoding cannot be optimised away.
    let mut sum = 0f64;
    loop {
        let Some(change) = stream.next().await? else {
            return Err(format!("the stream ended after {seen} of {rows} rows").into());
        };
        match change {
            Change::Insert { new, .. } => {
                let id: i64 = new.try_get(0)?;
                let name: &str = new.try_get(1)?;
                let score: f64 = new.try_get(2)?;
                let at: DateTime<Utc> = new.try_get(3)?;
                sum += id as f64 + name.len() as f64 + score + at.timestamp() as f64;
                seen += 1;
            }
            Change::Commit { end_lsn, .. } => {
                stream.confirm(end_lsn);
                if seen == rows {
                    break;
                }
            }
            _ => {}
        }
    }
    let wall = started.elapsed();
    stream.stop().await?;
    client.close().await?;
    std::hint::black_box(sum);
    Ok(Run {
        wall,
        cpu: cpu(libc::RUSAGE_SELF) - cpu_before,
    })
}

/// pg_recvlogical with the same options into /dev/null, up to `end`.
fn run_recvlogical(binary: &str, target: &Target, slot: &str, end: Lsn) -> Result<Run, BoxError> {
    let cpu_before = cpu(libc::RUSAGE_CHILDREN);
    let started = Instant::now();
    let status = Command::new(binary)
        .args(["-h", &target.host, "-p", &target.port.to_string()])
        .args([
            "-U",
            &target.user,
            "-d",
            &target.dbname,
            "-S",
            slot,
            "--start",
        ])
        .args(["-o", "proto_version=1", "-o"])
        .arg(format!("publication_names={TABLE}"))
        .args([
            "-o",
            "binary=true",
            "-E",
            &end.to_string(),
            "-f",
            "/dev/null",
        ])
        .env("PGPASSWORD", &target.password)
        .status()?;
    let wall = started.elapsed();
    if !status.success() {
        return Err(format!("{binary} failed: {status}").into());
    }
    Ok(Run {
        wall,
        cpu: cpu(libc::RUSAGE_CHILDREN) - cpu_before,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn bench() -> Result<(), BoxError> {
    let Ok(port) = std::env::var("TUSK_PG_PORT") else {
        eprintln!(
            "replication: skipped: TUSK_PG_PORT is not set; run scripts/with-test-server cargo \
             bench --bench replication"
        );
        return Ok(());
    };
    let target = Target {
        host: std::env::var("TUSK_PG_HOST").unwrap_or_else(|_| "127.0.0.1".into()),
        port: port.parse()?,
        user: std::env::var("TUSK_PG_USER").unwrap_or_else(|_| "tusk".into()),
        password: std::env::var("TUSK_PG_PASSWORD").unwrap_or_else(|_| "tusk".into()),
        dbname: std::env::var("TUSK_PG_DBNAME").unwrap_or_else(|_| "tusk".into()),
    };
    let rows: u64 = env_or("TUSK_BENCH_W8_ROWS", 1_000_000)?;
    let rounds: usize = env_or("TUSK_BENCH_ROUNDS", 3)?;
    let mut admin = target.config().connect().await?;
    let version: String = admin
        .query_one("SELECT current_setting('server_version_num')", &[])
        .await?
        .get(0);
    let major = version.parse::<u32>()? / 10_000;
    let recvlogical = std::env::var("PG_RECVLOGICAL")
        .unwrap_or_else(|_| format!("/usr/lib/postgresql/{major}/bin/pg_recvlogical"));
    prepare(&mut admin).await?;
    eprintln!(
        "replication: W8, {rounds} rounds of {rows} rows, PostgreSQL {version}, {recvlogical}"
    );

    let (mut tusk_rates, mut tusk_cpu, mut recv_rates, mut recv_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let end = load_round(&mut admin, rows, round).await?;
        let tusk_slot = format!("{TABLE}_tusk_{round}");
        let recv_slot = format!("{TABLE}_recv_{round}");
        let (tusk, recv) = if round % 2 == 0 {
            let t = run_tusk(&target, &tusk_slot, rows).await?;
            (t, run_recvlogical(&recvlogical, &target, &recv_slot, end)?)
        } else {
            let r = run_recvlogical(&recvlogical, &target, &recv_slot, end)?;
            (run_tusk(&target, &tusk_slot, rows).await?, r)
        };
        end_round(&mut admin, round).await?;
        let per_row = |run: Run| run.cpu.as_secs_f64() * 1e6 / rows as f64;
        let rate = |run: Run| rows as f64 / run.wall.as_secs_f64();
        eprintln!(
            "round {round}: tusk {:.0} rows/s, {:.2} µs CPU/row; pg_recvlogical {:.0} rows/s, \
             {:.2} µs CPU/row",
            rate(tusk),
            per_row(tusk),
            rate(recv),
            per_row(recv)
        );
        tusk_rates.push(rate(tusk));
        tusk_cpu.push(per_row(tusk));
        recv_rates.push(rate(recv));
        recv_cpu.push(per_row(recv));
    }
    let (tr, rr) = (median(tusk_rates), median(recv_rates));
    println!(
        "| W8 logical replication, {rows} inserted rows, pgoutput binary | row | tusk {tr:.0}/s \
         | pg_recvlogical {rr:.0}/s | tusk ÷ pg_recvlogical {:.2} | CPU µs/row tusk {:.2} | \
         pg_recvlogical {:.2} |",
        tr / rr,
        median(tusk_cpu),
        median(recv_cpu)
    );
    Ok(())
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    match runtime.block_on(bench()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replication: {e}");
            ExitCode::FAILURE
        }
    }
}
