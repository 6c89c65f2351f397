//! The single-connection workloads (W1-W4) and connection setup (W6), run on a current-thread
//! runtime so that the process's CPU time is the client's work for one connection.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use sqlx::{
    Connection as _, Executor as _, PgConnection, Row as _, SqlSafeStr as _, Statement as _,
};
use tusk::types::ToSql as TuskToSql;

use crate::drivers::Target;
use crate::measure::{measure, repeat_for, Driver, Outcome};
use crate::{BoxError, Ids, Settings, POINT_SELECT, ROWS_SELECT};

/// W1: point select by primary key on a statement prepared once; W1s when `target` is the TLS
/// server.
pub async fn point_select_prepared(
    target: &Target,
    settings: &Settings,
    accounts: i32,
) -> Result<Outcome, BoxError> {
    let mut c = target.connect_all().await?;
    let tusk_stmt = c.tusk.prepare(POINT_SELECT).await?;
    let tp_stmt = c.tp.client.prepare(POINT_SELECT).await?;
    let sqlx_stmt = c.sqlx.prepare(POINT_SELECT.into_sql_str()).await?;
    let mut sink = 0i64;
    let results = measure(&Driver::ALL, settings, async |driver, budget| {
        let mut ids = Ids::new(accounts, 1);
        match driver {
            Driver::Tusk => {
                repeat_for(budget, async || {
                    let row = c.tusk.query_one(&tusk_stmt, &[&ids.next()]).await?;
                    sink += i64::from(row.get::<_, i32>(0));
                    Ok(1)
                })
                .await
            }
            Driver::TokioPostgres => {
                repeat_for(budget, async || {
                    let row = c.tp.client.query_one(&tp_stmt, &[&ids.next()]).await?;
                    sink += i64::from(row.get::<_, i32>(0));
                    Ok(1)
                })
                .await
            }
            Driver::Sqlx => {
                repeat_for(budget, async || {
                    let row = sqlx_stmt
                        .query()
                        .bind(ids.next())
                        .fetch_one(&mut c.sqlx)
                        .await?;
                    sink += i64::from(row.try_get::<i32, _>(0)?);
                    Ok(1)
                })
                .await
            }
        }
    })
    .await?;
    black_box(sink);
    drop((tusk_stmt, tp_stmt, sqlx_stmt));
    c.close().await?;
    Ok(match target.tls {
        None => Outcome::new("W1", "point select, prepared", "q", results),
        Some(_) => Outcome::new("W1s", "point select, prepared, TLS", "q", results),
    })
}

/// W2: the same query given as SQL text every time: tusk's statement cache, tokio-postgres's
/// `query` (which prepares every time), sqlx's statement cache.
pub async fn point_select_text(
    target: &Target,
    settings: &Settings,
    accounts: i32,
) -> Result<Outcome, BoxError> {
    let mut c = target.connect_all().await?;
    let mut sink = 0i64;
    let results = measure(&Driver::ALL, settings, async |driver, budget| {
        let mut ids = Ids::new(accounts, 2);
        match driver {
            Driver::Tusk => {
                repeat_for(budget, async || {
                    let row = c.tusk.query_one(POINT_SELECT, &[&ids.next()]).await?;
                    sink += i64::from(row.get::<_, i32>(0));
                    Ok(1)
                })
                .await
            }
            Driver::TokioPostgres => {
                repeat_for(budget, async || {
                    let row = c.tp.client.query_one(POINT_SELECT, &[&ids.next()]).await?;
                    sink += i64::from(row.get::<_, i32>(0));
                    Ok(1)
                })
                .await
            }
            Driver::Sqlx => {
                repeat_for(budget, async || {
                    let row = sqlx::query(POINT_SELECT)
                        .bind(ids.next())
                        .fetch_one(&mut c.sqlx)
                        .await?;
                    sink += i64::from(row.try_get::<i32, _>(0)?);
                    Ok(1)
                })
                .await
            }
        }
    })
    .await?;
    black_box(sink);
    c.close().await?;
    Ok(Outcome::new("W2", "point select, SQL text", "q", results))
}

/// W3: batches of point selects pipelined on one connection: tusk's pipeline against
/// tokio-postgres's concurrent futures on one client. sqlx has no pipelining.
pub async fn point_select_pipelined(
    target: &Target,
    settings: &Settings,
    accounts: i32,
) -> Result<Outcome, BoxError> {
    let mut c = target.connect_all().await?;
    let tusk_stmt = c.tusk.prepare(POINT_SELECT).await?;
    let tp_stmt = c.tp.client.prepare(POINT_SELECT).await?;
    let batch = settings.pipeline;
    let mut sink = 0i64;
    let drivers = [Driver::Tusk, Driver::TokioPostgres];
    let results = measure(&drivers, settings, async |driver, budget| {
        let mut ids = Ids::new(accounts, 3);
        match driver {
            Driver::Tusk => {
                repeat_for(budget, async || {
                    let batch_ids: Vec<i32> = (0..batch).map(|_| ids.next()).collect();
                    let mut pipeline = c.tusk.pipeline();
                    for id in &batch_ids {
                        pipeline.query(&tusk_stmt, &[id as &(dyn TuskToSql + Sync)]);
                    }
                    for result in pipeline.run().await? {
                        let result = result?;
                        let row = result
                            .rows()
                            .first()
                            .ok_or("a pipelined select found no row")?;
                        sink += i64::from(row.get::<_, i32>(0));
                    }
                    Ok(batch as u64)
                })
                .await
            }
            Driver::TokioPostgres => {
                repeat_for(budget, async || {
                    let batch_ids: Vec<i32> = (0..batch).map(|_| ids.next()).collect();
                    let params: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 1]> =
                        batch_ids.iter().map(|id| [id as _]).collect();
                    let client = &c.tp.client;
                    let rows = join_all(params.iter().map(|p| client.query_one(&tp_stmt, p))).await;
                    for row in rows {
                        sink += i64::from(row?.get::<_, i32>(0));
                    }
                    Ok(batch as u64)
                })
                .await
            }
            Driver::Sqlx => Err("sqlx has no pipelining".into()),
        }
    })
    .await?;
    black_box(sink);
    drop((tusk_stmt, tp_stmt));
    c.close().await?;
    let mut outcome = Outcome::new(
        "W3",
        &format!("{} point selects pipelined", crate::thousands(batch as i64)),
        "q",
        results,
    );
    outcome.missing[2] = Some("no pipelining");
    Ok(outcome)
}

/// A checksum of one row of the wide table, the same whichever driver read it.
fn row_sum(id: i64, name: &str, score: f64, at: DateTime<Utc>) -> i64 {
    id + name.len() as i64 + score as i64 + at.timestamp()
}

/// One fetch's row count, checked to be the whole table.
fn all_rows(fetched: usize, expected: i64) -> Result<u64, BoxError> {
    if i64::try_from(fetched) == Ok(expected) {
        Ok(fetched as u64)
    } else {
        Err(format!("fetched {fetched} rows, expected {expected}").into())
    }
}

/// W4: fetch many rows of (int8, text, float8, timestamptz) and read every column; W4s when
/// `target` is the TLS server.
pub async fn fetch_rows(target: &Target, settings: &Settings) -> Result<Outcome, BoxError> {
    let mut c = target.connect_all().await?;
    let tusk_stmt = c.tusk.prepare(ROWS_SELECT).await?;
    let tp_stmt = c.tp.client.prepare(ROWS_SELECT).await?;
    let sqlx_stmt = c.sqlx.prepare(ROWS_SELECT.into_sql_str()).await?;
    let n = settings.rows;
    // Each driver's checksum of one fetch: all must agree.
    let mut sums = [None::<i64>; 3];
    let results = measure(&Driver::ALL, settings, async |driver, budget| {
        let (sum, count) = match driver {
            Driver::Tusk => {
                let mut sum = 0;
                let count = repeat_for(budget, async || {
                    let rows = c.tusk.query(&tusk_stmt, &[]).await?;
                    sum = 0;
                    for row in &rows {
                        sum += row_sum(row.get(0), row.get(1), row.get(2), row.get(3));
                    }
                    all_rows(rows.len(), n)
                })
                .await?;
                (sum, count)
            }
            Driver::TokioPostgres => {
                let mut sum = 0;
                let count = repeat_for(budget, async || {
                    let rows = c.tp.client.query(&tp_stmt, &[]).await?;
                    sum = 0;
                    for row in &rows {
                        sum += row_sum(row.get(0), row.get(1), row.get(2), row.get(3));
                    }
                    all_rows(rows.len(), n)
                })
                .await?;
                (sum, count)
            }
            Driver::Sqlx => {
                let mut sum = 0;
                let count = repeat_for(budget, async || {
                    let rows = sqlx_stmt.query().fetch_all(&mut c.sqlx).await?;
                    sum = 0;
                    for row in &rows {
                        sum += row_sum(
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                        );
                    }
                    all_rows(rows.len(), n)
                })
                .await?;
                (sum, count)
            }
        };
        sums[driver.index()] = Some(sum);
        Ok(count)
    })
    .await?;
    let seen: Vec<i64> = sums.iter().flatten().copied().collect();
    if seen.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!("the drivers read different rows: checksums {sums:?}").into());
    }
    drop((tusk_stmt, tp_stmt, sqlx_stmt));
    c.close().await?;
    let title = format!("fetch {} rows, read 4 columns", crate::thousands(n));
    Ok(match target.tls {
        None => Outcome::new("W4", &title, "row", results),
        Some(_) => Outcome::new("W4s", &format!("{title}, TLS"), "row", results),
    })
}

/// W6: connect, authenticate with SCRAM-SHA-256, close.
pub async fn connect_scram(target: &Target, settings: &Settings) -> Result<Outcome, BoxError> {
    let target = target.as_role(crate::SCRAM_USER, crate::SCRAM_PASSWORD);
    let tusk_config = target.tusk();
    let tp_config = target.tokio_postgres();
    let sqlx_options = target.sqlx();
    let results = measure(
        &Driver::ALL,
        settings,
        async |driver, budget| match driver {
            Driver::Tusk => {
                repeat_for(budget, async || {
                    tusk_config.connect().await?.close().await?;
                    Ok(1)
                })
                .await
            }
            Driver::TokioPostgres => {
                repeat_for(budget, async || {
                    target
                        .tokio_postgres_connect(&tp_config)
                        .await?
                        .close()
                        .await?;
                    Ok(1)
                })
                .await
            }
            Driver::Sqlx => {
                repeat_for(budget, async || {
                    PgConnection::connect_with(&sqlx_options)
                        .await?
                        .close()
                        .await?;
                    Ok(1)
                })
                .await
            }
        },
    )
    .await?;
    Ok(Outcome::new(
        "W6",
        "connect + SCRAM + close",
        "conn",
        results,
    ))
}
