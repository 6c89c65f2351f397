//! `TIMELINE_HISTORY` on a server that has a history: the failover pair's standby, promoted,
//! runs on a new timeline whose history file names where it left its parent. The main test
//! servers never leave timeline 1 (which has no history file), so this is the only place the
//! command's answer can be checked against a real one. Oracles: the server's own WAL file
//! name for the timeline, and the history file read from `pg_wal` through SQL.

use protocol_tests::live;
use tusk::replication::{Lsn, ReplicationClient};
use tusk::Config;

use super::admin_at;

#[tokio::test]
async fn timeline_history_of_a_promoted_server_is_its_history_file() {
    // Holds the process-wide lock on the pair until the end of the test.
    let Some(mut failover) = live::failover() else {
        return;
    };
    failover.reset();
    let promoted = failover.promote();
    let config: Config = live::tcp_at(promoted, "tusk", "tusk").parse().unwrap();
    let mut client = ReplicationClient::connect_physical(&config).await.unwrap();
    let system = client.identify_system().await.unwrap();
    let mut admin = admin_at(promoted).await;
    let wal_timeline: String = admin
        .query_one(
            "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(format!("{:08X}", system.timeline), wal_timeline);
    assert!(
        system.timeline >= 2,
        "promoted, yet on timeline {}",
        system.timeline
    );

    let history = client.timeline_history(system.timeline).await.unwrap();
    assert_eq!(history.filename, format!("{:08X}.history", system.timeline));
    let on_disk: String = admin
        .query_one("SELECT pg_read_file('pg_wal/' || $1)", &[&history.filename])
        .await
        .unwrap()
        .get(0);
    assert_eq!(history.content, on_disk);
    // Its last line is the switch just made: the parent timeline and the position it left at,
    // which is at or before where the new timeline's WAL now is.
    let last = history.content.lines().last().expect("a history line");
    let mut fields = last.split('\t');
    let parent: u32 = fields.next().unwrap().parse().unwrap();
    let switch: Lsn = fields.next().unwrap().parse().unwrap();
    assert_eq!(parent, system.timeline - 1, "{last}");
    assert!(switch <= system.xlogpos, "{last} vs {}", system.xlogpos);

    // The connection goes on: the parent's history, or the server's error for timeline 1.
    match client.timeline_history(parent).await {
        Ok(h) => assert_eq!(h.filename, format!("{parent:08X}.history")),
        Err(e) => assert!(
            parent == 1 && e.to_string().contains("00000001.history"),
            "{e}"
        ),
    }
    client.close().await.unwrap();
    failover.reset();
}
