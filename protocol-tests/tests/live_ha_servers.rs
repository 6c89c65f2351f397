//! The HA and failover pairs `scripts/test-server` runs, checked as servers (what later tests of
//! tusk's routing and failover rely on), through tusk itself:
//!
//! - the HA pair: the primary is writable, the standby in recovery and read-only (SQLSTATE
//!   25006), has the primary's roles, and shows a row written on the primary within seconds;
//! - the failover pair: `failover-reset`, `failover-promote`, `failover-reset` leaves a healthy
//!   pair with the roles swapped, and nothing acknowledged before the failover is lost.
//!
//! Only this test binary may use the failover pair, and only while holding
//! `live::failover()`'s lock: the failover subcommands must never run for two tests at once
//! (one test's failover would break the other's pair).
//!
//! Every test fails when its pair is not running here, unless `TUSK_ALLOW_SKIP` names `ha`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use protocol_tests::errors::expect_db;
use protocol_tests::live;
use tusk::{Connection, SqlState};

/// How long a row written on the HA primary may take to show on its (asynchronous) standby.
const REPLICATION_LIMIT: Duration = Duration::from_secs(10);

async fn connect_as(port: u16, user: &str, password: &str) -> Connection {
    Connection::connect(&live::tcp_at(port, user, password))
        .await
        .unwrap_or_else(|e| panic!("connecting to port {port} as {user}: {e}"))
}

async fn admin_at(port: u16) -> Connection {
    connect_as(port, "tusk", "tusk").await
}

async fn in_recovery(conn: &mut Connection) -> bool {
    conn.query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .expect("pg_is_in_recovery()")
        .get(0)
}

async fn setting(conn: &mut Connection, name: &str) -> String {
    conn.query_one("SELECT current_setting($1)", &[&name])
        .await
        .expect("current_setting")
        .get(0)
}

/// A table name no other run uses (the tables outlive a failed run, and move with failovers).
fn unique_table(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("ha_{what}_{}_{nanos}", std::process::id())
}

/// The notes of `table`, in id order.
async fn notes(conn: &mut Connection, table: &str) -> Vec<String> {
    conn.query(&format!("SELECT note FROM {table} ORDER BY id"), &[])
        .await
        .unwrap_or_else(|e| panic!("reading {table}: {e}"))
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The primary's view of its synchronous standby: `state/sync_state` of every walsender.
async fn replication(conn: &mut Connection) -> Vec<String> {
    conn.query(
        "SELECT state || '/' || sync_state FROM pg_stat_replication ORDER BY 1",
        &[],
    )
    .await
    .expect("pg_stat_replication")
    .iter()
    .map(|row| row.get(0))
    .collect()
}

#[tokio::test]
async fn ha_standby_is_a_read_only_streaming_copy_of_the_primary() {
    let Some(ha) = live::ha_pair() else { return };
    let mut primary = admin_at(ha.primary).await;
    let mut standby = admin_at(ha.standby).await;

    assert!(
        !in_recovery(&mut primary).await,
        "the HA primary is in recovery"
    );
    assert_eq!(setting(&mut primary, "transaction_read_only").await, "off");
    assert!(
        in_recovery(&mut standby).await,
        "the HA standby is not in recovery"
    );
    assert_eq!(setting(&mut standby, "transaction_read_only").await, "on");
    let states = replication(&mut primary).await;
    assert!(
        states.iter().any(|s| s.starts_with("streaming/")),
        "the HA primary has no streaming standby: {states:?}"
    );

    // The standby refuses writes.
    let table = unique_table("replica");
    let err = standby
        .batch_execute(&format!("CREATE TABLE {table} (id int4)"))
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::READ_ONLY_SQL_TRANSACTION);

    // The roles came from the primary by replication, passwords and methods with them.
    let mut md5 = connect_as(ha.standby, "tusk_md5", "pw_md5").await;
    let user: String = md5
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(user, "tusk_md5");

    // A row written on the primary shows on the standby.
    primary
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int4 PRIMARY KEY, note text);
             INSERT INTO {table} VALUES (1, 'written on the primary')"
        ))
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let seen = standby
            .query_opt(&format!("SELECT note FROM {table} WHERE id = 1"), &[])
            .await;
        match seen {
            Ok(Some(row)) => {
                assert_eq!(row.get::<_, &str>(0), "written on the primary");
                break;
            }
            // Not replayed yet: no table (42P01), or no row.
            Ok(None) => {}
            Err(e) => expect_db(&e, &SqlState::UNDEFINED_TABLE),
        }
        assert!(
            started.elapsed() < REPLICATION_LIMIT,
            "the row written on the primary did not show on the standby within \
             {REPLICATION_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    primary
        .batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

/// Checks that `primary` and `standby` form a healthy failover pair: the primary writable with
/// the standby listed as synchronous, the standby in recovery.
async fn assert_healthy(primary: u16, standby: u16) {
    let mut conn = admin_at(primary).await;
    assert!(
        !in_recovery(&mut conn).await,
        "port {primary} is not a primary"
    );
    assert_eq!(setting(&mut conn, "synchronous_standby_names").await, "*");
    assert_eq!(setting(&mut conn, "synchronous_commit").await, "on");
    assert_eq!(replication(&mut conn).await, ["streaming/sync"]);
    let mut conn = admin_at(standby).await;
    assert!(
        in_recovery(&mut conn).await,
        "port {standby} is not a standby"
    );
}

#[tokio::test]
async fn failover_reset_promote_reset_swaps_the_roles_and_keeps_the_data() {
    // Holds the process-wide lock on the pair until the end of the test.
    let Some(mut failover) = live::failover() else {
        return;
    };
    let (primary, standby) = failover.reset();
    assert_healthy(primary, standby).await;

    // Acknowledged with synchronous_commit = on: on the standby's disk before the answer.
    let table = unique_table("failover");
    let mut conn = admin_at(primary).await;
    conn.batch_execute(&format!(
        "CREATE TABLE {table} (id int4 PRIMARY KEY, note text);
         INSERT INTO {table} VALUES (1, 'before the failover')"
    ))
    .await
    .unwrap();

    let promoted = failover.promote();
    assert_eq!(
        promoted, standby,
        "failover-promote promoted the wrong server"
    );
    // The old primary is down: its sessions are cut and it accepts none.
    assert!(
        conn.query_one("SELECT 1", &[]).await.is_err(),
        "a session to the stopped primary still answers"
    );
    assert!(
        Connection::connect(&live::tcp_at(primary, "tusk", "tusk"))
            .await
            .is_err(),
        "the stopped primary on port {primary} accepts connections"
    );
    let mut conn = admin_at(promoted).await;
    assert!(
        !in_recovery(&mut conn).await,
        "the promoted server is in recovery"
    );
    // With no standby left, commits must not wait for one.
    assert_eq!(setting(&mut conn, "synchronous_standby_names").await, "");
    assert_eq!(notes(&mut conn, &table).await, ["before the failover"]);
    conn.execute(
        &format!("INSERT INTO {table} VALUES (2, 'after the failover')"),
        &[],
    )
    .await
    .unwrap();
    drop(conn);

    let (new_primary, new_standby) = failover.reset();
    assert_eq!(
        (new_primary, new_standby),
        (standby, primary),
        "failover-reset did not keep the promoted server as the primary"
    );
    assert_healthy(new_primary, new_standby).await;
    // The new standby is a copy made after both commits.
    let expected = ["before the failover", "after the failover"];
    assert_eq!(
        notes(&mut admin_at(new_standby).await, &table).await,
        expected
    );
    let mut conn = admin_at(new_primary).await;
    assert_eq!(notes(&mut conn, &table).await, expected);
    conn.batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

// The pool through a failover: in this binary because it needs the failover pair's lock.
#[path = "live_ha_servers/failover_pool.rs"]
mod failover_pool;

// The pool's role checks through a real promotion: also here for the failover pair's lock.
#[path = "live_ha_servers/pool_role_change.rs"]
mod pool_role_change;

// TIMELINE_HISTORY with a real history file, which only a promoted server has: here for the
// failover pair's lock.
#[path = "live_ha_servers/timeline_history.rs"]
mod timeline_history;
