//! W4 of benches/versus.rs alone, for one driver at a time, so that `perf` sees only it: fetch
//! every row of `tusk_bench_rows` (made by scripts/bench) and read every column, N times, then
//! print the user and system CPU time per row (getrusage).
//!
//! `cargo run --release --example fetch_profile -- tusk|tokio-postgres|tusk-stream [N]`, with
//! the TUSK_PG_* settings of scripts/test-server in the environment.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SQL: &str = "SELECT id, name, score, at FROM tusk_bench_rows";

fn row_sum(id: i64, name: &str, score: f64, at: DateTime<Utc>) -> i64 {
    id + name.len() as i64 + score as i64 + at.timestamp()
}

/// User and system CPU time of the process so far.
fn cpu() -> (Duration, Duration) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct when it returns 0, which is checked before reading.
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let driver = args.next().unwrap_or_else(|| "tusk".into());
    let n: usize = args.next().map_or(Ok(5), |s| s.parse())?;
    let host = env("TUSK_PG_HOST", "127.0.0.1");
    let port: u16 = env("TUSK_PG_PORT", "54329").parse()?;
    let user = env("TUSK_PG_USER", "tusk");
    let password = env("TUSK_PG_PASSWORD", "tusk");
    let dbname = env("TUSK_PG_DBNAME", "tusk");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut rows_total = 0u64;
        let mut sum = 0i64;
        let (u0, s0, t0);
        match driver.as_str() {
            "tusk" | "tusk-stream" => {
                let mut conn = tusk::Config::new()
                    .host(&host)
                    .port(port)
                    .user(&user)
                    .password(&password)
                    .dbname(&dbname)
                    .ssl_mode(tusk::SslMode::Disable)
                    .connect()
                    .await?;
                let stmt = conn.prepare(SQL).await?;
                conn.query(&stmt, &[]).await?; // warm-up
                (u0, s0) = cpu();
                t0 = Instant::now();
                for _ in 0..n {
                    if driver == "tusk" {
                        let rows = conn.query(&stmt, &[]).await?;
                        for row in &rows {
                            sum += row_sum(row.get(0), row.get(1), row.get(2), row.get(3));
                        }
                        rows_total += rows.len() as u64;
                    } else {
                        let mut stream = conn.query_stream(&stmt, &[]).await?;
                        while let Some(row) = stream.try_next().await? {
                            sum += row_sum(row.get(0), row.get(1), row.get(2), row.get(3));
                            rows_total += 1;
                        }
                    }
                }
            }
            "tokio-postgres" => {
                let mut config = tokio_postgres::Config::new();
                config
                    .host(&host)
                    .port(port)
                    .user(&user)
                    .password(&password)
                    .dbname(&dbname);
                let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                let stmt = client.prepare(SQL).await?;
                client.query(&stmt, &[]).await?;
                (u0, s0) = cpu();
                t0 = Instant::now();
                for _ in 0..n {
                    let rows = client.query(&stmt, &[]).await?;
                    for row in &rows {
                        sum += row_sum(row.get(0), row.get(1), row.get(2), row.get(3));
                    }
                    rows_total += rows.len() as u64;
                }
            }
            other => return Err(format!("unknown driver {other}").into()),
        }
        let wall = t0.elapsed();
        let (u1, s1) = cpu();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / rows_total as f64;
        println!(
            "{driver}: {rows_total} rows, {:.0} rows/s, CPU µs/row user {:.3} sys {:.3} total {:.3} (sum {sum})",
            rows_total as f64 / wall.as_secs_f64(),
            per(u1 - u0),
            per(s1 - s0),
            per(u1 - u0 + s1 - s0),
        );
        Ok(())
    })
}
