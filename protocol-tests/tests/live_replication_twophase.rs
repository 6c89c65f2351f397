//! pgoutput streams over START_REPLICATION against PostgreSQL 15 and 18 for what the other
//! replication tests leave out: two-phase commit (a slot created with TWO_PHASE, pgoutput
//! protocol version 3 with `two_phase`: the transaction arrives at PREPARE TRANSACTION, then
//! COMMIT PREPARED / ROLLBACK PREPARED), an Update and a Delete under REPLICA IDENTITY FULL
//! (the whole old row), and TRUNCATE ... CASCADE (RESTART IDENTITY left off, so that the two
//! flags are told apart). The server's own SQL is the oracle for what each change must hold.

#[path = "live_replication/common.rs"]
mod common;

use std::time::Duration;

use common::{servers, unique, Server, SlotGuard};
use tusk::replication::{Change, LogicalStream, Lsn, PgOutputOptions, SlotOptions};

/// Reads changes until `until` matches one (inclusive), as one line each.
async fn read_until(
    stream: &mut LogicalStream<'_>,
    until: impl Fn(&Change) -> bool,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let change = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .unwrap_or_else(|_| panic!("no change within 30 s after {seen:?}"))
            .unwrap()
            .expect("the stream goes on");
        let done = until(&change);
        seen.push(match change {
            Change::Begin { .. } => "begin".to_owned(),
            Change::Commit { end_lsn, .. } => {
                stream.confirm(end_lsn);
                "commit".to_owned()
            }
            Change::BeginPrepare(p) => format!("begin prepare {}", p.gid),
            Change::Prepare(p) => format!("prepare {}", p.gid),
            Change::CommitPrepared { gid, end_lsn, .. } => {
                stream.confirm(end_lsn);
                format!("commit prepared {gid}")
            }
            Change::RollbackPrepared { gid, .. } => format!("rollback prepared {gid}"),
            Change::Relation(r) => format!("relation {}", r.name()),
            Change::Insert { new, .. } => format!(
                "insert {} {}",
                new.get::<_, i32>("id"),
                new.get::<_, &str>("v")
            ),
            Change::Update {
                old,
                old_is_key_only,
                new,
                ..
            } => format!(
                "update {:?} {old_is_key_only} -> {} {}",
                old.map(|o| (o.get::<_, i32>("id"), o.get::<_, String>("v"))),
                new.get::<_, i32>("id"),
                new.get::<_, &str>("v")
            ),
            Change::Delete { old, key_only, .. } => format!(
                "delete {} {:?} {key_only}",
                old.get::<_, i32>("id"),
                old.get::<_, Option<String>>("v")
            ),
            Change::Truncate {
                relations,
                cascade,
                restart_identity,
                ..
            } => format!(
                "truncate {} {cascade} {restart_identity}",
                relations
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => format!("{other:?}"),
        });
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn two_phase_replica_identity_full_and_truncate() {
    for server in servers() {
        run(&server).await;
    }
}

async fn run(server: &Server) {
    let mut admin = server.admin().await;
    let table = unique("twophase");
    let publication = unique("twophase_pub");
    let slot = unique("twophase_slot");
    let gid = unique("gid");
    let gid2 = format!("{gid}_b");
    let _guard = SlotGuard {
        port: server.port,
        names: vec![slot.clone()],
        prepared: vec![gid.clone(), gid2.clone()],
    };
    admin
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int4 PRIMARY KEY, v text); \
             ALTER TABLE {table} REPLICA IDENTITY FULL; \
             CREATE PUBLICATION {publication} FOR TABLE {table}"
        ))
        .await
        .unwrap();
    let mut client = server.logical().await;
    client
        .create_replication_slot(&slot, &SlotOptions::logical().two_phase(true))
        .await
        .unwrap();
    let options = PgOutputOptions::new([publication.as_str()])
        .proto_version(3)
        .two_phase(true)
        .binary(true);
    let mut stream = client
        .start_pgoutput(&slot, Lsn::INVALID, &options)
        .await
        .unwrap();

    // A prepared transaction arrives at PREPARE, before it is committed.
    admin
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {table} VALUES (1, 'one'), (2, 'two'); \
             PREPARE TRANSACTION '{gid}'"
        ))
        .await
        .unwrap();
    let prepared = read_until(&mut stream, |c| matches!(c, Change::Prepare(_))).await;
    assert_eq!(
        prepared,
        [
            format!("begin prepare {gid}"),
            format!("relation {table}"),
            "insert 1 one".to_owned(),
            "insert 2 two".to_owned(),
            format!("prepare {gid}"),
        ],
        "{}",
        server.label
    );
    // The server still holds it as prepared: the oracle that PREPARE, not COMMIT, was sent.
    let pending: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_prepared_xacts WHERE gid = $1",
            &[&gid],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 1, "{}", server.label);
    admin
        .batch_execute(&format!("COMMIT PREPARED '{gid}'"))
        .await
        .unwrap();
    let committed = read_until(&mut stream, |c| matches!(c, Change::CommitPrepared { .. })).await;
    assert_eq!(
        committed,
        [format!("commit prepared {gid}")],
        "{}",
        server.label
    );

    // A second prepared transaction rolled back: the rows it inserted never count.
    // Two round trips: in one multi-statement query ROLLBACK PREPARED would run inside the
    // query's implicit transaction block, which the server refuses.
    admin
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {table} VALUES (3, 'three'); PREPARE TRANSACTION '{gid2}'"
        ))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("ROLLBACK PREPARED '{gid2}'"))
        .await
        .unwrap();
    let rolled_back = read_until(&mut stream, |c| {
        matches!(c, Change::RollbackPrepared { .. })
    })
    .await;
    assert_eq!(
        rolled_back,
        [
            format!("begin prepare {gid2}"),
            "insert 3 three".to_owned(),
            format!("prepare {gid2}"),
            format!("rollback prepared {gid2}"),
        ],
        "{}",
        server.label
    );

    // REPLICA IDENTITY FULL: the whole old row comes with an Update and a Delete. One
    // multi-statement query is one (implicit) transaction. When the server sends the Relation
    // again is its own choice (15 resends it before the Update, 18 does not; both resend it
    // after TRUNCATE invalidated it), so Relation lines are left out of the comparison: the
    // decoder needing them to type each tuple is what checks they came.
    admin
        .batch_execute(&format!(
            "UPDATE {table} SET v = 'uno' WHERE id = 1; DELETE FROM {table} WHERE id = 2; \
             TRUNCATE {table} CASCADE"
        ))
        .await
        .unwrap();
    let rest: Vec<String> = read_until(&mut stream, |c| matches!(c, Change::Commit { .. }))
        .await
        .into_iter()
        .filter(|line| !line.starts_with("relation "))
        .collect();
    assert_eq!(
        rest,
        [
            "begin".to_owned(),
            "update Some((1, \"one\")) false -> 1 uno".to_owned(),
            "delete 2 Some(\"two\") false".to_owned(),
            format!("truncate {table} true false"),
            "commit".to_owned(),
        ],
        "{}",
        server.label
    );
    stream.stop().await.unwrap();
    client.close().await.unwrap();
    common::drop_slot(&mut admin, &slot).await;
    admin
        .batch_execute(&format!(
            "DROP PUBLICATION {publication}; DROP TABLE {table}"
        ))
        .await
        .unwrap();
}
