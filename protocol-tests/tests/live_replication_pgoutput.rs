//! `pgoutput` streams decoded into `Change`s against the real servers: a ledger of rows
//! proving at-least-once delivery across a connection dropped mid-stream (every row at least
//! once, nothing before the confirmed point again), the change sequence of one transaction
//! (Begin, Relation, Insert, Update, Delete, Message, Commit) with typed values, and a large
//! transaction streamed before its commit (`streaming`, a small `logical_decoding_work_mem`).

#[path = "live_replication/common.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{servers, unique, Server, SlotGuard};
use tusk::replication::{
    Change, LogicalStream, Lsn, PgOutputOptions, ReplicationClient, SlotOptions, SnapshotAction,
    Streaming,
};
use tusk::Connection;

struct Setup {
    admin: Connection,
    table: String,
    publication: String,
    slot: String,
    _guard: SlotGuard,
}

async fn setup(server: &Server) -> Setup {
    let mut admin = server.admin().await;
    let table = unique("pgo_table");
    let publication = unique("pgo_pub");
    let slot = unique("pgo_slot");
    let guard = SlotGuard {
        port: server.port,
        names: vec![slot.clone()],
        prepared: Vec::new(),
    };
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int4 PRIMARY KEY, v text); \
             CREATE PUBLICATION {publication} FOR TABLE {table}"
        ))
        .await
        .unwrap();
    let mut client = server.logical().await;
    client
        .create_replication_slot(
            &slot,
            &SlotOptions::logical().snapshot(SnapshotAction::Nothing),
        )
        .await
        .unwrap();
    client.close().await.unwrap();
    Setup {
        admin,
        table,
        publication,
        slot,
        _guard: guard,
    }
}

async fn teardown(s: &mut Setup, server: &Server) {
    common::drop_slot(&mut s.admin, &s.slot).await;
    let _ = server;
    s.admin
        .batch_execute(&format!(
            "DROP PUBLICATION {}; DROP TABLE {}",
            s.publication, s.table
        ))
        .await
        .unwrap();
}

/// Reads changes until `transactions` commits: the inserted ids with their commit's end LSN.
async fn read_commits(
    stream: &mut LogicalStream<'_>,
    transactions: usize,
) -> (Vec<(i32, Lsn)>, Vec<Lsn>) {
    let mut pending = Vec::new();
    let mut rows = Vec::new();
    let mut commits = Vec::new();
    let limit = tokio::time::Instant::now() + Duration::from_secs(30);
    while commits.len() < transactions {
        let change = tokio::time::timeout_at(limit, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {transactions} commits came", commits.len()))
            .unwrap()
            .expect("the stream goes on");
        match change {
            Change::Insert { new, .. } => pending.push(new.get::<_, i32>("id")),
            Change::Commit { end_lsn, .. } => {
                rows.extend(pending.drain(..).map(|id| (id, end_lsn)));
                commits.push(end_lsn);
            }
            _ => {}
        }
    }
    (rows, commits)
}

#[tokio::test]
async fn at_least_once_ledger_over_pgoutput() {
    const ROWS: i32 = 50;
    for server in servers() {
        let mut s = setup(&server).await;
        for id in 1..=ROWS {
            s.admin
                .execute(
                    &format!("INSERT INTO {} VALUES ($1, 'row')", s.table),
                    &[&id],
                )
                .await
                .unwrap();
        }
        let options = PgOutputOptions::new([s.publication.as_str()]).binary(true);
        // Session 1: 25 transactions read, the first 10 confirmed, then the connection is
        // dropped mid-stream.
        let (first, confirmed) = {
            let mut client = server.logical().await;
            let mut stream = client
                .start_pgoutput(&s.slot, Lsn::INVALID, &options)
                .await
                .unwrap();
            let (rows, commits) = read_commits(&mut stream, 25).await;
            stream.confirm(commits[9]);
            stream.send_status().await.unwrap();
            (rows, commits[9])
        };
        // The slot remembers the confirmed point once the walsender is gone.
        let mut flushed = Lsn::INVALID;
        for _ in 0..200 {
            let row = s
                .admin
                .query_one(
                    "SELECT active, confirmed_flush_lsn::text FROM pg_replication_slots \
                     WHERE slot_name = $1",
                    &[&s.slot],
                )
                .await
                .unwrap();
            flushed = row.get::<_, String>(1).parse().unwrap();
            if !row.get::<_, bool>(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(flushed, confirmed, "{}", server.label);
        let acknowledged: BTreeSet<i32> = first
            .iter()
            .filter(|(_, lsn)| *lsn <= confirmed)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(acknowledged, (1..=10).collect());

        // Session 2, on a new connection, from the slot's position.
        let mut client = server.logical().await;
        let mut stream = client
            .start_pgoutput(&s.slot, Lsn::INVALID, &options)
            .await
            .unwrap();
        let (second, _) = read_commits(&mut stream, (ROWS - 10) as usize).await;
        let again: BTreeSet<i32> = second.iter().map(|(id, _)| *id).collect();
        assert!(
            again.is_disjoint(&acknowledged),
            "{}: confirmed rows came again: {:?}",
            server.label,
            again.intersection(&acknowledged).collect::<Vec<_>>()
        );
        let all: BTreeSet<i32> = first
            .iter()
            .map(|(id, _)| *id)
            .chain(again.clone())
            .collect();
        assert_eq!(
            all,
            (1..=ROWS).collect(),
            "{}: every row at least once",
            server.label
        );
        // Read but unconfirmed in session 1: delivered again.
        assert!(again.contains(&11) && again.contains(&25));
        stream.stop().await.unwrap();
        drop(client);
        teardown(&mut s, &server).await;
    }
}

#[tokio::test]
async fn one_transaction_decodes_change_by_change() {
    for server in servers() {
        let mut s = setup(&server).await;
        let mut client = server.logical().await;
        let options = PgOutputOptions::new([s.publication.as_str()])
            .binary(true)
            .messages(true);
        let mut stream = client
            .start_pgoutput(&s.slot, Lsn::INVALID, &options)
            .await
            .unwrap();
        let table = s.table.clone();
        s.admin
            .batch_execute(&format!(
                "BEGIN; INSERT INTO {table} VALUES (1, 'one'), (2, 'two'); \
                 UPDATE {table} SET v = 'uno' WHERE id = 1; DELETE FROM {table} WHERE id = 2; \
                 SELECT pg_logical_emit_message(true, 'tusk', 'hello'); COMMIT"
            ))
            .await
            .unwrap();
        let mut seen = Vec::new();
        loop {
            let change = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .expect("changes arrive")
                .unwrap()
                .unwrap();
            let done = matches!(change, Change::Commit { .. });
            seen.push(match change {
                Change::Begin { .. } => "begin".to_owned(),
                Change::Relation(r) => format!("relation {}", r.name()),
                Change::Insert { new, .. } => {
                    format!(
                        "insert {} {}",
                        new.get::<_, i32>("id"),
                        new.get::<_, &str>("v")
                    )
                }
                Change::Update { new, .. } => {
                    format!("update {} {}", new.get::<_, i32>(0), new.get::<_, &str>(1))
                }
                Change::Delete { old, key_only, .. } => {
                    format!("delete {} {key_only}", old.get::<_, i32>("id"))
                }
                Change::Message {
                    prefix, content, ..
                } => format!("message {prefix} {}", String::from_utf8_lossy(&content)),
                Change::Commit { end_lsn, .. } => {
                    stream.confirm(end_lsn);
                    "commit".to_owned()
                }
                other => format!("{other:?}"),
            });
            if done {
                break;
            }
        }
        assert_eq!(
            seen,
            [
                "begin".to_owned(),
                format!("relation {table}"),
                "insert 1 one".to_owned(),
                "insert 2 two".to_owned(),
                "update 1 uno".to_owned(),
                "delete 2 true".to_owned(),
                "message tusk hello".to_owned(),
                "commit".to_owned(),
            ],
            "{}",
            server.label
        );
        stream.stop().await.unwrap();
        drop(client);
        teardown(&mut s, &server).await;
    }
}

#[tokio::test]
async fn a_large_transaction_is_streamed_before_its_commit() {
    const ROWS: i32 = 5000;
    for server in servers() {
        let mut s = setup(&server).await;
        // The walsender decodes with this connection's settings: spill to the client early.
        let config = server.config("options='-c logical_decoding_work_mem=64kB'");
        let mut client = ReplicationClient::connect_logical(&config).await.unwrap();
        let options = PgOutputOptions::new([s.publication.as_str()])
            .proto_version(2)
            .streaming(Streaming::On)
            .binary(true);
        let mut stream = client
            .start_pgoutput(&s.slot, Lsn::INVALID, &options)
            .await
            .unwrap();
        s.admin
            .batch_execute(&format!(
                "INSERT INTO {} SELECT g, repeat('x', 200) FROM generate_series(1, {ROWS}) g",
                s.table
            ))
            .await
            .unwrap();
        let (mut starts, mut stops, mut ids) = (0, 0, Vec::new());
        let limit = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let change = tokio::time::timeout_at(limit, stream.next())
                .await
                .expect("the transaction arrives")
                .unwrap()
                .unwrap();
            match change {
                Change::StreamStart { .. } => starts += 1,
                Change::StreamStop => stops += 1,
                Change::Insert { new, xid, .. } => {
                    assert!(xid.is_some(), "an Insert outside a streamed block");
                    ids.push(new.get::<_, i32>("id"));
                }
                Change::StreamCommit { end_lsn, .. } => {
                    stream.confirm(end_lsn);
                    break;
                }
                Change::Begin { .. } | Change::Commit { .. } => {
                    panic!("{}: the transaction was not streamed", server.label)
                }
                _ => {}
            }
        }
        assert!(starts > 1, "{}: {starts} streamed blocks", server.label);
        assert_eq!(starts, stops);
        assert_eq!(ids, (1..=ROWS).collect::<Vec<_>>(), "{}", server.label);
        stream.stop().await.unwrap();
        client.close().await.unwrap();
        teardown(&mut s, &server).await;
    }
}
