//! A web-service-shaped workload on `tusk::Pool`: many tasks doing short queries through the
//! shared path (batched per connection), plus a transfer between two accounts on an exclusive
//! checkout. Prints the pool's state and the query rate.
//!
//! ```text
//! scripts/with-test-server cargo run --release --example pool
//! ```
//!
//! It connects with `TUSK_PG_URL` (set by `scripts/with-test-server`), else `DATABASE_URL`,
//! else the test server's default address.

use std::time::{Duration, Instant};

use tusk::{Config, Pool};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn url() -> String {
    std::env::var("TUSK_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://tusk:tusk@127.0.0.1:54329/tusk".to_owned())
}

#[tokio::main]
async fn main() -> Result<()> {
    let config: Config = url().parse()?;
    // The lifecycle limits (the values here are examples; see `tusk::PoolBuilder` for the defaults):
    // how long to wait for a connection, how long one lives, how many stay open when idle.
    let pool = Pool::builder(config)
        .max_size(4)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .max_lifetime(std::time::Duration::from_secs(15 * 60))
        .min_idle(1)
        .build();

    pool.execute(
        "CREATE TABLE IF NOT EXISTS pool_demo_accounts (id int4 PRIMARY KEY, balance int8 NOT NULL)",
        &[],
    )
    .await?;
    pool.execute(
        "INSERT INTO pool_demo_accounts SELECT i, 1000 FROM generate_series(1, 100) i \
         ON CONFLICT (id) DO UPDATE SET balance = 1000",
        &[],
    )
    .await?;

    // 32 tasks, each reading balances as fast as it can for one second.
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..32i32 {
        let pool = pool.clone();
        tasks.spawn(async move {
            let mut queries = 0u64;
            while Instant::now() < deadline {
                let id = 1 + (task * 7 + queries as i32) % 100;
                let balance: i64 = pool
                    .query_one(
                        "SELECT balance FROM pool_demo_accounts WHERE id = $1",
                        &[&id],
                    )
                    .await?
                    .get(0);
                assert!(balance >= 0);
                queries += 1;
            }
            Ok::<_, tusk::Error>(queries)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done??;
    }
    println!("{total} point selects in one second from 32 tasks over 4 connections");
    println!("{:?}", pool.status());

    // A transfer needs one session for both statements: check a connection out.
    let mut conn = pool.get().await?;
    let mut tx = conn.transaction().await?;
    tx.execute(
        "UPDATE pool_demo_accounts SET balance = balance - $2 WHERE id = $1",
        &[&1i32, &100i64],
    )
    .await?;
    tx.execute(
        "UPDATE pool_demo_accounts SET balance = balance + $2 WHERE id = $1",
        &[&2i32, &100i64],
    )
    .await?;
    tx.commit().await?;
    drop(conn);

    let rows = pool
        .query(
            "SELECT id, balance FROM pool_demo_accounts WHERE id <= 2 ORDER BY id",
            &[],
        )
        .await?;
    for row in rows {
        println!(
            "account {}: {}",
            row.get::<_, i32>("id"),
            row.get::<_, i64>("balance")
        );
    }
    pool.execute("DROP TABLE pool_demo_accounts", &[]).await?;
    println!("{:?}", pool.status());
    pool.close().await;
    Ok(())
}
