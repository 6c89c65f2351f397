//! A pool doing writes through a real failover: the primary of the failover pair is stopped
//! (immediate mode, as a crash), the synchronous standby promoted, and the pool, configured
//! with both hosts and `target_session_attrs=read-write`, must carry on by itself. A ledger
//! table proves that every write acknowledged before, during and after the failover is there
//! once, and that no write appears twice. Replication is synchronous on this pair, so an
//! acknowledged commit has reached the standby before the answer: none may be lost.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol_tests::live;
use tusk::{Config, Pool, TargetSessionAttrs};

use super::{admin_at, unique_table};

/// How long the pool may take to write on the new primary after the promotion.
const RECOVERY_LIMIT: Duration = Duration::from_secs(10);

/// What the writers saw.
#[derive(Default)]
struct Ledger {
    /// Acknowledged writes: id -> (the port that committed it, when the answer came).
    acked: HashMap<i64, (u16, Instant)>,
    /// Writes that returned an error: they may or may not have committed.
    failed: HashSet<i64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_recovers_after_a_failover_and_loses_no_acknowledged_write() {
    // Holds the process-wide lock on the pair until the end of the test.
    let Some(mut failover) = live::failover() else {
        return;
    };
    let (primary, standby) = failover.reset();
    let table = unique_table("ledger");
    // No unique constraint on purpose: a write applied twice must show as two rows.
    admin_at(primary)
        .await
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int8 NOT NULL, port int4 NOT NULL)"
        ))
        .await
        .unwrap();

    let config: Config = format!(
        "host=127.0.0.1,127.0.0.1 port={},{} user=tusk password=tusk dbname=tusk \
         sslmode=disable connect_timeout=2",
        failover.port_a, failover.port_b
    )
    .parse()
    .unwrap();
    let pool = Pool::builder(config.target_session_attrs(TargetSessionAttrs::ReadWrite))
        .max_size(4)
        .build();
    let insert = format!("INSERT INTO {table} VALUES ($1, inet_server_port()) RETURNING port");

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let next_id = Arc::new(AtomicI64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4 {
        let (pool, ledger, next_id, stop, insert) = (
            pool.clone(),
            ledger.clone(),
            next_id.clone(),
            stop.clone(),
            insert.clone(),
        );
        writers.spawn(async move {
            while !stop.load(Ordering::Acquire) {
                let id = next_id.fetch_add(1, Ordering::AcqRel);
                // Half the writers use the shared path, half a checked-out connection in a
                // transaction.
                let written: Result<i32, tusk::Error> = if writer % 2 == 0 {
                    pool.query_one(&insert, &[&id]).await.map(|row| row.get(0))
                } else {
                    async {
                        let mut conn = pool.get().await?;
                        let mut tx = conn.transaction().await?;
                        let port: i32 = tx.query_one(&insert, &[&id]).await?.get(0);
                        tx.commit().await?;
                        Ok(port)
                    }
                    .await
                };
                {
                    let mut ledger = ledger.lock().unwrap();
                    match written {
                        Ok(port) => {
                            ledger.acked.insert(id, (port as u16, Instant::now()));
                        }
                        Err(_) => {
                            ledger.failed.insert(id);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = ledger.lock().unwrap().acked.len();
    assert!(before > 0, "no write was acknowledged before the failover");

    // The blocking script call runs on the test's own thread; the writers go on meanwhile on
    // the runtime's workers.
    let stopped_at = Instant::now();
    let promoted = failover.promote();
    let promoted_at = Instant::now();
    assert_eq!(promoted, standby);

    // Wait for the first write answered by the new primary after the promotion.
    let recovered_at = loop {
        let first = ledger
            .lock()
            .unwrap()
            .acked
            .values()
            .filter(|(port, at)| *port == promoted && *at > promoted_at)
            .map(|(_, at)| *at)
            .min();
        if let Some(at) = first {
            break at;
        }
        assert!(
            promoted_at.elapsed() < RECOVERY_LIMIT,
            "the pool wrote nothing on the new primary within {RECOVERY_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Keep writing a while on the new primary, with every writer.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Release);
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }

    // The ledger against the new primary's table.
    let mut conn = admin_at(promoted).await;
    let rows = conn
        .query(&format!("SELECT id, port FROM {table}"), &[])
        .await
        .unwrap();
    let mut present: HashMap<i64, usize> = HashMap::new();
    for row in &rows {
        *present.entry(row.get::<_, i64>(0)).or_default() += 1;
    }
    // Taken out of the mutex (the writers are done), so no guard is held across the awaits
    // below (clippy's await_holding_lock).
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let duplicated: Vec<_> = present.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "writes applied twice: {duplicated:?}"
    );
    let lost: Vec<_> = ledger
        .acked
        .keys()
        .filter(|id| !present.contains_key(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes are missing after the failover: {lost:?}",
        lost.len()
    );
    let unknown: Vec<_> = present
        .keys()
        .filter(|id| !ledger.acked.contains_key(id) && !ledger.failed.contains(id))
        .collect();
    assert!(unknown.is_empty(), "rows no writer wrote: {unknown:?}");
    let on_old = ledger.acked.values().filter(|(p, _)| *p == primary).count();
    let on_new = ledger
        .acked
        .values()
        .filter(|(p, _)| *p == promoted)
        .count();
    assert!(on_old > 0 && on_new > 0, "old {on_old}, new {on_new}");
    let failed_but_committed = ledger
        .failed
        .iter()
        .filter(|id| present.contains_key(id))
        .count();

    // Printed past the test harness's capture, so every run shows it.
    let _ = writeln!(
        std::io::stderr(),
        "failover: the pool wrote on the new primary {:?} after the promotion ({:?} after the \
         primary was stopped); {} writes acknowledged ({on_old} on the old primary, {on_new} \
         on the new), {} failed during the failover ({failed_but_committed} of them committed \
         anyway), none lost, none duplicated",
        recovered_at - promoted_at,
        recovered_at - stopped_at,
        ledger.acked.len(),
        ledger.failed.len(),
    );

    conn.batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
    pool.close().await;
    // Leave a healthy pair behind for the next run.
    failover.reset();
}

/// A server shut down in immediate mode mid-result (the failover's first step) announces it
/// with a WARNING carrying 57P01 before the socket closes: that, not "connection closed", is
/// what a stream reading from it reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_by_an_immediate_shutdown_reports_it() {
    let Some(mut failover) = live::failover() else {
        return;
    };
    let (primary, _) = failover.reset();
    let mut conn = admin_at(primary).await;
    let mut stream = conn
        .query_stream_batched(
            "SELECT i, pg_sleep(0.002) FROM generate_series(1, 100000) i",
            &[],
            5,
        )
        .await
        .unwrap();
    for _ in 0..10 {
        stream.try_next().await.unwrap().unwrap();
    }
    failover.promote();
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => continue,
            Err(e) => break e,
            Ok(None) => panic!("the stream ended without an error"),
        }
    };
    assert_eq!(
        err.code(),
        Some(&tusk::SqlState::ADMIN_SHUTDOWN),
        "the shutdown's 57P01 must be what the caller sees, got: {err}"
    );
    drop(stream);
    assert!(conn.is_closed());
    failover.reset();
}
