//! Logical replication against the real servers: at-least-once delivery across a broken
//! connection (a ledger of rows: every row arrives at least once, nothing before the confirmed
//! point comes again after a restart), a clean stop and restart from the confirmed position,
//! and a stream dropped mid-way leaving the connection usable.

#[path = "live_replication/common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{servers, unique, Server, SlotGuard};
use tusk::replication::{
    LogicalOptions, Lsn, ReplicationClient, ReplicationStream, SlotOptions, SnapshotAction,
};
use tusk::Connection;

/// What a test_decoding stream said about one table: per id, the LSN (the XLogData start of
/// the COMMIT message, i.e. the end of the commit record) of the transaction that inserted it.
#[derive(Default, Debug)]
struct Ledger {
    pending: Vec<i32>,
    committed: Vec<(i32, Lsn)>,
}

fn test_decoding_options() -> LogicalOptions {
    LogicalOptions::new()
        .option("include-xids", "0")
        .option("skip-empty-xacts", "1")
}

/// Reads test_decoding output until `transactions` transactions touching `table` have
/// committed (or 30 s pass), noting each inserted id with its commit's end.
async fn read_transactions(
    stream: &mut ReplicationStream<'_>,
    table: &str,
    transactions: usize,
    ledger: &mut Ledger,
) -> Vec<Lsn> {
    let needle = format!("table public.{table}: INSERT: id[integer]:");
    let mut commits = Vec::new();
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    while commits.len() < transactions {
        let data = tokio::time::timeout_at(limit, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {transactions} transactions came", commits.len()))
            .unwrap()
            .expect("the stream goes on");
        let text = std::str::from_utf8(&data.data).unwrap();
        if let Some(rest) = text.strip_prefix(&needle) {
            ledger.pending.push(rest.trim().parse().unwrap());
        } else if text.starts_with("COMMIT") && !ledger.pending.is_empty() {
            for id in ledger.pending.drain(..) {
                ledger.committed.push((id, data.wal_start));
            }
            commits.push(data.wal_start);
        }
    }
    commits
}

async fn confirmed_flush(admin: &mut Connection, slot: &str) -> Lsn {
    let row = admin
        .query_one(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap();
    row.get::<_, String>(0).parse().unwrap()
}

async fn wait_inactive(admin: &mut Connection, slot: &str) {
    for _ in 0..200 {
        let active: bool = admin
            .query_one(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                &[&slot],
            )
            .await
            .unwrap()
            .get(0);
        if !active {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the slot {slot} stayed active");
}

struct Setup {
    admin: Connection,
    table: String,
    slot: String,
    _guard: SlotGuard,
}

async fn setup(server: &Server, rows: i32) -> Setup {
    let mut admin = server.admin().await;
    let table = unique("ledger");
    let slot = unique("ledger_slot");
    let guard = SlotGuard {
        port: server.port,
        names: vec![slot.clone()],
        prepared: Vec::new(),
    };
    admin
        .batch_execute(&format!("CREATE TABLE {table} (id int4 PRIMARY KEY)"))
        .await
        .unwrap();
    let mut client = server.logical().await;
    client
        .create_replication_slot(
            &slot,
            &SlotOptions::logical()
                .plugin("test_decoding")
                .snapshot(SnapshotAction::Nothing),
        )
        .await
        .unwrap();
    client.close().await.unwrap();
    // One transaction per row.
    for id in 1..=rows {
        admin
            .execute(&format!("INSERT INTO {table} VALUES ($1)"), &[&id])
            .await
            .unwrap();
    }
    Setup {
        admin,
        table,
        slot,
        _guard: guard,
    }
}

#[tokio::test]
async fn at_least_once_across_a_broken_connection() {
    const ROWS: i32 = 60;
    for server in servers() {
        let Setup {
            mut admin,
            table,
            slot,
            _guard,
        } = setup(&server, ROWS).await;
        let mut first = Ledger::default();
        // Session 1: consume 30 transactions, confirm the first 12, then the connection is
        // dropped mid-stream (no CopyDone, no Terminate through the stream).
        let confirmed = {
            let mut client = server.logical().await;
            let mut stream = client
                .start_logical(&slot, Lsn::INVALID, &test_decoding_options())
                .await
                .unwrap();
            let commits = read_transactions(&mut stream, &table, 30, &mut first).await;
            stream.confirm(commits[11]);
            stream.send_status().await.unwrap();
            // Received but not confirmed: reported as written only.
            assert!(stream.written() >= commits[29]);
            let confirmed = stream.confirmed();
            drop(stream);
            drop(client);
            confirmed
        };
        wait_inactive(&mut admin, &slot).await;
        assert_eq!(confirmed_flush(&mut admin, &slot).await, confirmed);
        let acknowledged: BTreeSet<i32> = first
            .committed
            .iter()
            .filter(|(_, lsn)| *lsn <= confirmed)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(acknowledged, (1..=12).collect());

        // Session 2 from the slot's confirmed position: everything else arrives, nothing
        // confirmed comes again.
        let mut second = Ledger::default();
        let mut client = server.logical().await;
        let mut stream = client
            .start_logical(&slot, Lsn::INVALID, &test_decoding_options())
            .await
            .unwrap();
        read_transactions(&mut stream, &table, (ROWS - 12) as usize, &mut second).await;
        let again: BTreeMap<i32, Lsn> = second.committed.iter().copied().collect();
        for id in &acknowledged {
            assert!(
                !again.contains_key(id),
                "{}: confirmed row {id} came again",
                server.label
            );
        }
        let all: BTreeSet<i32> = first
            .committed
            .iter()
            .chain(&second.committed)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            all,
            (1..=ROWS).collect(),
            "{}: every row at least once",
            server.label
        );
        // The unconfirmed part of session 1 came again (at-least-once, not at-most-once).
        assert!(again.contains_key(&13) && again.contains_key(&30));
        assert!(second.committed.iter().all(|(_, lsn)| *lsn > confirmed));
        stream.stop().await.unwrap();
        client.drop_replication_slot(&slot, true).await.unwrap();
        admin
            .batch_execute(&format!("DROP TABLE {table}"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_clean_stop_and_restart_resumes_after_the_confirmed_position() {
    for server in servers() {
        let Setup {
            mut admin,
            table,
            slot,
            _guard,
        } = setup(&server, 20).await;
        let mut client = server.logical().await;
        let mut ledger = Ledger::default();
        let mut stream = client
            .start_logical(&slot, Lsn::INVALID, &test_decoding_options())
            .await
            .unwrap();
        let commits = read_transactions(&mut stream, &table, 5, &mut ledger).await;
        stream.confirm(commits[4]);
        // stop() sends the confirmed position before CopyDone.
        stream.stop().await.unwrap();
        assert_eq!(confirmed_flush(&mut admin, &slot).await, commits[4]);
        // PostgreSQL cannot run a second logical stream on the connection: refused locally.
        let e = client
            .start_logical(&slot, commits[4], &test_decoding_options())
            .await
            .unwrap_err();
        protocol_tests::errors::expect_message(&e, tusk::Kind::Usage, "new ReplicationClient");
        client.identify_system().await.unwrap();
        // A new connection starts again, from the position confirmed.
        let mut client = server.logical().await;
        let mut again = Ledger::default();
        let mut stream = client
            .start_logical(&slot, commits[4], &test_decoding_options())
            .await
            .unwrap();
        read_transactions(&mut stream, &table, 15, &mut again).await;
        let ids: Vec<i32> = again.committed.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (6..=20).collect::<Vec<_>>(), "{}", server.label);
        // Dropped mid-stream: the connection's next command ends the COPY first.
        drop(stream);
        let rows = client.simple_query("SELECT 1").await.unwrap();
        assert_eq!(rows.len(), 2);
        client.drop_replication_slot(&slot, true).await.unwrap();
        admin
            .batch_execute(&format!("DROP TABLE {table}"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn start_logical_needs_a_logical_connection() {
    let server = servers()[0];
    let mut client: ReplicationClient = server.physical().await;
    let e = client
        .start_logical("tusk_none", Lsn::INVALID, &LogicalOptions::new())
        .await
        .unwrap_err();
    protocol_tests::errors::expect_message(&e, tusk::Kind::Usage, "connect_logical");
}

#[tokio::test]
async fn a_refused_start_leaves_the_connection_able_to_start() {
    for server in servers() {
        let mut client = server.logical().await;
        let slot = unique("refused_start");
        let _guard = SlotGuard {
            port: server.port,
            names: vec![slot.clone()],
            prepared: Vec::new(),
        };
        let e = client
            .start_logical(&slot, Lsn::INVALID, &test_decoding_options())
            .await
            .unwrap_err();
        protocol_tests::errors::expect_db(&e, &tusk::SqlState::UNDEFINED_OBJECT);
        client
            .create_replication_slot(
                &slot,
                &SlotOptions::logical()
                    .temporary(true)
                    .plugin("test_decoding")
                    .snapshot(SnapshotAction::Nothing),
            )
            .await
            .unwrap();
        let stream = client
            .start_logical(&slot, Lsn::INVALID, &test_decoding_options())
            .await
            .unwrap();
        stream.stop().await.unwrap();
        // The temporary slot goes with the connection.
        client.close().await.unwrap();
    }
}
