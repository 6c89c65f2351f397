//! W7: many tasks sharing a small pool, on a multi-thread runtime.
//!
//! tusk runs under its own `tusk::Pool`: in W7 through the shared path (`pool.query_one`,
//! which batches concurrent tasks' queries on each connection), in W7x through exclusive
//! checkouts (`pool.get()` then `query_one`, what a generic pool offers). tokio-postgres runs
//! under deadpool-postgres, sqlx under its `PgPool`, the same way in both rows. All pools have
//! a fixed size and no round trip to check a connection on checkout (deadpool-postgres's
//! `RecyclingMethod::Fast`; sqlx's `test_before_acquire(false)`, whose default would add a ping
//! to every checkout; tusk checks a pooled connection without a round trip).

use std::hint::black_box;
use std::time::Instant;

use deadpool_postgres::{ManagerConfig, RecyclingMethod};
use sqlx::postgres::PgPoolOptions;
use sqlx::Row as _;
use tokio::task::JoinSet;
use tokio_postgres::NoTls;

use crate::drivers::Target;
use crate::measure::{measure, Driver, Outcome};
use crate::{BoxError, Ids, Settings, POINT_SELECT};

/// How tusk's tasks use its pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolUse {
    /// `pool.query_one`: the pool batches concurrent queries per connection (W7).
    Shared,
    /// `pool.get()` then `conn.query_one`: one task per connection at a time (W7x).
    Exclusive,
}

/// W7: `settings.tasks` tasks doing point selects (SQL text through each driver's statement
/// cache) over `settings.pool` connections.
pub async fn pooled_point_selects(
    target: &Target,
    settings: &Settings,
    accounts: i32,
    pool_use: PoolUse,
) -> Result<Outcome, BoxError> {
    let size = settings.pool;
    let tusk_pool = tusk::Pool::builder(target.tusk()).max_size(size).build();
    let tp_manager = deadpool_postgres::Manager::from_config(
        target.tokio_postgres(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let tp_pool = deadpool_postgres::Pool::builder(tp_manager)
        .max_size(size)
        .build()?;
    let sqlx_pool = PgPoolOptions::new()
        .max_connections(size as u32)
        .min_connections(size as u32)
        .test_before_acquire(false)
        .connect_with(target.sqlx())
        .await?;

    let tasks = settings.tasks;
    let results = measure(&Driver::ALL, settings, async |driver, budget| {
        let deadline = Instant::now() + budget;
        let mut set = JoinSet::new();
        for task in 0..tasks {
            let mut ids = Ids::new(accounts, 100 + task as u64);
            match driver {
                Driver::Tusk => {
                    let pool = tusk_pool.clone();
                    set.spawn(until(deadline, async move || {
                        let row = match pool_use {
                            PoolUse::Shared => pool.query_one(POINT_SELECT, &[&ids.next()]).await?,
                            PoolUse::Exclusive => {
                                let mut conn = pool.get().await?;
                                conn.query_one(POINT_SELECT, &[&ids.next()]).await?
                            }
                        };
                        Ok(i64::from(row.get::<_, i32>(0)))
                    }));
                }
                Driver::TokioPostgres => {
                    let pool = tp_pool.clone();
                    set.spawn(until(deadline, async move || {
                        let client = pool.get().await?;
                        let stmt = client.prepare_cached(POINT_SELECT).await?;
                        let row = client.query_one(&stmt, &[&ids.next()]).await?;
                        Ok(i64::from(row.get::<_, i32>(0)))
                    }));
                }
                Driver::Sqlx => {
                    let pool = sqlx_pool.clone();
                    set.spawn(until(deadline, async move || {
                        let row = sqlx::query(POINT_SELECT)
                            .bind(ids.next())
                            .fetch_one(&pool)
                            .await?;
                        Ok(i64::from(row.try_get::<i32, _>(0)?))
                    }));
                }
            }
        }
        let mut ops = 0;
        while let Some(done) = set.join_next().await {
            ops += done??;
        }
        Ok(ops)
    })
    .await?;
    tusk_pool.close().await;
    tp_pool.close();
    sqlx_pool.close().await;
    let (id, how) = match pool_use {
        PoolUse::Shared => ("W7", "shared queries"),
        PoolUse::Exclusive => ("W7x", "exclusive checkouts"),
    };
    Ok(Outcome::new(
        id,
        &format!("{tasks} tasks, pool of {size}, point select, {how}"),
        "q",
        results,
    ))
}

/// Runs `op` until `deadline`; returns how many times it ran.
async fn until(
    deadline: Instant,
    mut op: impl AsyncFnMut() -> Result<i64, BoxError>,
) -> Result<u64, BoxError> {
    let mut ops = 0;
    let mut sink = 0;
    while Instant::now() < deadline {
        sink += op().await?;
        ops += 1;
    }
    black_box(sink);
    Ok(ops)
}
