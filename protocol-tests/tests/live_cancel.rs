//! Cancellation safety against the real server: a future dropped at any await point leaves
//! the connection usable and its next result correct.
//!
//! The sweep polls an operation's future 0, 1, 2, ... times (letting IO progress between
//! polls), drops it, then checks the connection with a query whose answer is known. The
//! random test drops thousands of futures after random short delays.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use protocol_tests::live;
use protocol_tests::poll::poll_n_times;
use tusk::{Connection, TransactionStatus};

/// Checks that the connection answers correctly and is not left in a transaction.
async fn check(conn: &mut Connection, tag: i64) {
    let row = conn
        .query_one("SELECT $1::int8 AS tag", &[&tag])
        .await
        .unwrap_or_else(|e| panic!("check {tag}: {e}"));
    assert_eq!(row.get::<_, i64>(0), tag);
    assert_eq!(
        conn.transaction_status(),
        TransactionStatus::Idle,
        "check {tag}: a dropped future left a transaction open"
    );
}

/// Enough polls for any operation here to finish on loopback.
const MAX_POLLS: usize = 5000;

type Op = for<'a> fn(&'a mut Connection, i64) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

fn ops() -> Vec<(&'static str, Op)> {
    vec![
        ("query cached", |c, i| {
            Box::pin(async move {
                let _ = c
                    .query("SELECT generate_series(1, 50) + $1::int8", &[&i])
                    .await;
            })
        }),
        ("query fresh sql", |c, i| {
            Box::pin(async move {
                let sql = format!("SELECT {i}::int8 + $1::int8");
                let _ = c.query(sql.as_str(), &[&i]).await;
            })
        }),
        ("prepare", |c, i| {
            Box::pin(async move {
                let _ = c.prepare(&format!("SELECT {i}::int8 AS p")).await;
            })
        }),
        ("execute error", |c, _| {
            Box::pin(async move {
                let _ = c.execute("SELECT 1/0", &[]).await;
            })
        }),
        ("batch", |c, _| {
            Box::pin(async move {
                let _ = c
                    .batch_execute("SELECT 1; SELECT pg_sleep(0.001); SELECT 2")
                    .await;
            })
        }),
        ("transaction begin", |c, _| {
            Box::pin(async move {
                let _tx = c.transaction().await;
            })
        }),
        ("transaction body and commit", |c, i| {
            Box::pin(async move {
                if let Ok(mut tx) = c.transaction().await {
                    let _ = tx.execute("SELECT $1::int8", &[&i]).await;
                    let _ = tx.commit().await;
                }
            })
        }),
        ("savepoint", |c, _| {
            Box::pin(async move {
                if let Ok(mut tx) = c.transaction().await {
                    if let Ok(sp) = tx.transaction().await {
                        let _ = sp.rollback().await;
                    }
                    let _ = tx.commit().await;
                }
            })
        }),
        ("cursor", |c, i| {
            Box::pin(async move {
                let mut cur = c.cursor();
                let _ = cur
                    .execute("SELECT generate_series(1, 20) * $1::int8", &[&i])
                    .await;
                let _ = cur.fetch_many(3).await;
            })
        }),
        ("pipeline", |c, i| {
            Box::pin(async move {
                let fresh = format!("SELECT {i}::int8 * $1::int8");
                let mut p = c.pipeline();
                p.query("SELECT $1::int8", &[&i]);
                p.query(fresh.as_str(), &[&2i64]);
                p.query("SELECT 1/0", &[]);
                let _ = p.run().await;
            })
        }),
        ("named", |c, i| {
            Box::pin(async move {
                let _ = c.execute_named("SELECT :v::int8", &[("v", &i)]).await;
            })
        }),
    ]
}

#[tokio::test]
async fn drop_sweep_over_every_poll_count() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let mut tag = 0i64;
    for (name, op) in ops() {
        let mut finished_at = None;
        for polls in 0..MAX_POLLS {
            tag += 1;
            let done = {
                let mut fut = op(&mut conn, tag);
                poll_n_times(fut.as_mut(), polls).await
            };
            check(&mut conn, tag).await;
            if done {
                finished_at = Some(polls);
                break;
            }
        }
        let finished_at =
            finished_at.unwrap_or_else(|| panic!("{name} never finished within {MAX_POLLS} polls"));
        // Every poll count below `finished_at` dropped the future part-way: a sweep that
        // finished on the first poll would prove nothing.
        assert!(
            finished_at >= 2,
            "{name} finished after {finished_at} polls: nothing was swept"
        );
        println!("{name}: dropped after 0..{finished_at} polls, then finished");
    }
}

#[tokio::test]
async fn thousands_of_random_drops() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let ops = ops();
    // A small deterministic generator: the failing seed is printed and reproducible.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let started = std::time::Instant::now();
    let mut checked = 0;
    let mut dropped = 0;
    for round in 0..2000i64 {
        let (name, op) = &ops[(next() % ops.len() as u64) as usize];
        // Half the drops after a random number of polls, half after a random short time.
        let unfinished = if next() % 2 == 0 {
            let mut fut = op(&mut conn, round);
            !poll_n_times(fut.as_mut(), (next() % 60) as usize).await
        } else {
            let delay = Duration::from_micros(next() % 1500);
            tokio::time::timeout(delay, op(&mut conn, round))
                .await
                .is_err()
        };
        if unfinished {
            dropped += 1;
        }
        if round % 4 == 0 {
            tokio::time::timeout(Duration::from_secs(10), check(&mut conn, round))
                .await
                .unwrap_or_else(|_| panic!("round {round} ({name}): check hung"));
            checked += 1;
        }
        if started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    check(&mut conn, -1).await;
    assert!(checked > 100, "only {checked} checks ran");
    println!("{dropped} futures dropped part-way, {checked} checks");
    assert!(
        dropped > 200,
        "only {dropped} futures were dropped part-way"
    );
}
