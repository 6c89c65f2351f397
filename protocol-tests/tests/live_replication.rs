//! Replication connections and commands against the real servers (the main PostgreSQL 15 and
//! PostgreSQL 18 when `TUSK_PG18_PORT` is set): IDENTIFY_SYSTEM checked against SQL, slots
//! created and seen in `pg_replication_slots`, READ_REPLICATION_SLOT, TIMELINE_HISTORY, the
//! refusal of anything that could inject into a command, SQL on a logical connection.

#[path = "live_replication/common.rs"]
mod common;

use common::{servers, slot_exists, unique, SlotGuard};
use protocol_tests::errors::{expect_db, expect_message};
use tusk::replication::{Lsn, ReplicationClient, SlotOptions, SnapshotAction};
use tusk::{Kind, Replication, SimpleQueryMessage, SqlState};

#[tokio::test]
async fn identify_system_agrees_with_sql() {
    for server in servers() {
        let mut admin = server.admin().await;
        let row = admin
            .query_one(
                "SELECT system_identifier::text, timeline_id FROM pg_control_system(), \
                 pg_control_checkpoint()",
                &[],
            )
            .await
            .unwrap();
        let (systemid, timeline): (String, i32) = (row.get(0), row.get(1));
        for (mut client, dbname) in [
            (server.logical().await, Some("tusk")),
            (server.physical().await, None),
        ] {
            let before: Lsn = lsn_now(&mut admin).await;
            let info = client.identify_system().await.unwrap();
            let after: Lsn = lsn_now(&mut admin).await;
            assert_eq!(info.systemid, systemid, "{}", server.label);
            assert_eq!(info.timeline, timeline as u32, "{}", server.label);
            assert_eq!(info.dbname.as_deref(), dbname, "{}", server.label);
            assert!(
                before <= info.xlogpos && info.xlogpos <= after,
                "{}: {before} <= {} <= {after}",
                server.label,
                info.xlogpos
            );
            client.close().await.unwrap();
        }
    }
}

pub async fn lsn_now(admin: &mut tusk::Connection) -> Lsn {
    let row = admin
        .query_one("SELECT pg_current_wal_flush_lsn()::text", &[])
        .await
        .unwrap();
    row.get::<_, String>(0).parse().unwrap()
}

#[tokio::test]
async fn slots_are_created_read_and_dropped() {
    for server in servers() {
        let mut admin = server.admin().await;
        let logical = unique("cmd_logical");
        let physical = unique("cmd_physical");
        let _guard = SlotGuard {
            port: server.port,
            names: vec![logical.clone(), physical.clone()],
            prepared: Vec::new(),
        };
        let mut client = server.logical().await;
        assert_eq!(client.mode(), Replication::Database);

        let created = client
            .create_replication_slot(
                &logical,
                &SlotOptions::logical()
                    .snapshot(SnapshotAction::Export)
                    .two_phase(true),
            )
            .await
            .unwrap();
        assert_eq!(created.slot_name, logical);
        assert_eq!(created.output_plugin.as_deref(), Some("pgoutput"));
        assert!(created.snapshot_name.is_some(), "{created:?}");
        assert!(!created.consistent_point.is_invalid());
        let row = admin
            .query_one(
                "SELECT plugin::text, slot_type, temporary, two_phase, \
                 confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                &[&logical],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "pgoutput");
        assert_eq!(row.get::<_, String>(1), "logical");
        assert!(!row.get::<_, bool>(2));
        assert!(row.get::<_, bool>(3), "TWO_PHASE was sent");
        assert_eq!(
            row.get::<_, String>(4).parse::<Lsn>().unwrap(),
            created.consistent_point
        );

        // PostgreSQL reads only physical slots this way.
        match client.read_replication_slot(&logical).await {
            Err(e) => expect_db(&e, &SqlState::FEATURE_NOT_SUPPORTED),
            Ok(info) => assert_eq!(info.unwrap().slot_type, "logical"),
        }

        // A physical slot reserving WAL, from a physical connection.
        let mut phys = server.physical().await;
        let created = phys
            .create_replication_slot(&physical, &SlotOptions::physical().reserve_wal(true))
            .await
            .unwrap();
        assert_eq!(created.output_plugin, None);
        let info = phys
            .read_replication_slot(&physical)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(info.slot_type, "physical");
        assert!(info.restart_lsn.is_some(), "RESERVE_WAL reserved WAL");
        assert_eq!(info.restart_tli, Some(1));

        for (c, name) in [(&mut client, &logical), (&mut phys, &physical)] {
            c.drop_replication_slot(name, false).await.unwrap();
            assert_eq!(c.read_replication_slot(name).await.unwrap(), None);
            assert!(!slot_exists(&mut admin, name).await);
        }
        // Dropping a slot that is gone is the server's error.
        let e = client
            .drop_replication_slot(&logical, true)
            .await
            .unwrap_err();
        expect_db(&e, &SqlState::UNDEFINED_OBJECT);
    }
}

#[tokio::test]
async fn a_temporary_slot_goes_with_its_connection() {
    for server in servers() {
        let mut admin = server.admin().await;
        let name = unique("cmd_temp");
        let _guard = SlotGuard {
            port: server.port,
            names: vec![name.clone()],
            prepared: Vec::new(),
        };
        let mut client = server.logical().await;
        let created = client
            .create_replication_slot(
                &name,
                &SlotOptions::logical()
                    .temporary(true)
                    .plugin("test_decoding")
                    .snapshot(SnapshotAction::Nothing),
            )
            .await
            .unwrap();
        assert_eq!(created.snapshot_name, None);
        assert_eq!(created.output_plugin.as_deref(), Some("test_decoding"));
        let temporary: bool = admin
            .query_one(
                "SELECT temporary FROM pg_replication_slots WHERE slot_name = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        assert!(temporary);
        client.close().await.unwrap();
        for _ in 0..100 {
            if !slot_exists(&mut admin, &name).await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(!slot_exists(&mut admin, &name).await, "{}", server.label);
    }
}

#[tokio::test]
async fn timeline_history_of_timeline_one_is_the_servers_error() {
    for server in servers() {
        let mut client = server.physical().await;
        let e = client.timeline_history(1).await.unwrap_err();
        assert_eq!(e.kind(), Kind::Db, "{e}");
        assert!(e.to_string().contains("00000001.history"), "{e}");
        // The connection goes on.
        client.identify_system().await.unwrap();
    }
}

#[tokio::test]
async fn nothing_can_be_injected_into_a_command() {
    for server in servers() {
        let mut admin = server.admin().await;
        let mut client = server.logical().await;
        for bad in ["x\"; DROP", "Upper", "a b", ""] {
            let e = client
                .create_replication_slot(bad, &SlotOptions::logical().temporary(true))
                .await
                .unwrap_err();
            expect_message(&e, Kind::Usage, "slot name");
            let e = client.drop_replication_slot(bad, false).await.unwrap_err();
            expect_message(&e, Kind::Usage, "slot name");
            let e = client.read_replication_slot(bad).await.unwrap_err();
            expect_message(&e, Kind::Usage, "slot name");
        }
        // A plugin name is one quoted identifier: the server looks for that plugin.
        let name = unique("cmd_inject");
        let _guard = SlotGuard {
            port: server.port,
            names: vec![name.clone()],
            prepared: Vec::new(),
        };
        let e = client
            .create_replication_slot(
                &name,
                &SlotOptions::logical()
                    .temporary(true)
                    .plugin("pgoutput\" PHYSICAL (RESERVE_WAL"),
            )
            .await
            .unwrap_err();
        expect_message(&e, Kind::Usage, "double quote");
        let e = client
            .create_replication_slot(
                &name,
                &SlotOptions::logical()
                    .temporary(true)
                    .plugin("pgoutput PHYSICAL (RESERVE_WAL"),
            )
            .await
            .unwrap_err();
        // The server looked for (or refused) that one library: the name stayed one identifier.
        assert_eq!(e.kind(), Kind::Db, "{e}");
        assert!(
            e.to_string().contains("\"pgoutput PHYSICAL (RESERVE_WAL\""),
            "{e}"
        );
        assert!(!slot_exists(&mut admin, &name).await);
        client.identify_system().await.unwrap();
    }
}

#[tokio::test]
async fn a_logical_connection_runs_sql_and_a_physical_one_refuses_it() {
    for server in servers() {
        let mut client = server.logical().await;
        let rows = client.simple_query("SELECT 40 + 2 AS x").await.unwrap();
        let SimpleQueryMessage::Row(row) = &rows[0] else {
            panic!("{rows:?}")
        };
        assert_eq!(row.get("x"), Some("42"));
        let mut phys = server.physical().await;
        let e = phys.simple_query("SELECT 1").await.unwrap_err();
        assert_eq!(e.kind(), Kind::Db, "{e}");
        phys.identify_system().await.unwrap();
    }
}

#[tokio::test]
async fn start_replication_as_plain_sql_is_refused_and_the_connection_goes_on() {
    for server in servers() {
        let mut client = server.physical().await;
        let at = client.identify_system().await.unwrap().xlogpos;
        let e = client
            .simple_query(&format!("START_REPLICATION PHYSICAL {at}"))
            .await
            .unwrap_err();
        expect_message(&e, Kind::Usage, "COPY cannot run through");
        client.identify_system().await.unwrap();
    }
}

#[tokio::test]
async fn the_mode_is_explicit() {
    let server = servers()[0];
    let e = ReplicationClient::connect(&server.config(""))
        .await
        .unwrap_err();
    expect_message(&e, Kind::Config, "replication=true");
    let client = ReplicationClient::connect(&server.config("replication=true"))
        .await
        .unwrap();
    assert_eq!(client.mode(), Replication::Physical);
    // An ordinary connection opened from a replication config's clone stays ordinary.
    let mut plain = server.config("").connect().await.unwrap();
    plain.simple_query("SELECT 1").await.unwrap();
}
