//! A pool of standby sessions (`target_session_attrs=standby`) through a real promotion of
//! that standby. PostgreSQL reports the change (`in_hot_standby` becoming `off`) with the
//! session's next answer, not while it sits idle: so a pool with a health check sees it before
//! handing the connection out, and one without hands it out once and drops it when it comes
//! back. Either way the promoted server's sessions leave the pool, counted as `role_changed`.

use std::time::Duration;

use protocol_tests::live;
use tusk::{Config, Pool, TargetSessionAttrs};

#[tokio::test]
async fn a_promoted_standby_leaves_a_standby_pool() {
    // Holds the process-wide lock on the pair until the end of the test.
    let Some(mut failover) = live::failover() else {
        return;
    };
    let (_primary, standby) = failover.reset();
    let config: Config = format!(
        "{} sslmode=disable application_name=lifecycle_promoted",
        live::tcp_at(standby, "tusk", "tusk")
    )
    .parse()
    .unwrap();
    let config = config.target_session_attrs(TargetSessionAttrs::Standby);
    let checked = Pool::builder(config.clone())
        .max_size(1)
        .health_check_after(Duration::ZERO)
        .acquire_timeout(Duration::from_secs(5))
        .build();
    let unchecked = Pool::builder(config)
        .max_size(1)
        .acquire_timeout(Duration::from_secs(5))
        .build();
    for pool in [&checked, &unchecked] {
        let conn = pool.get().await.unwrap();
        assert_eq!(conn.in_hot_standby(), Some(true));
    }
    let unchecked_pid = unchecked.get().await.unwrap().backend_pid();

    assert_eq!(failover.promote(), standby);

    // The health check's round trip brings the change: the connection is dropped before use,
    // and no standby is left to open another.
    let err = checked.get().await.unwrap_err();
    let status = checked.status();
    assert_eq!(status.closed.role_changed, 1, "{status:?} ({err})");
    assert_eq!((status.opened, status.size), (1, 0));

    // Without a check the idle connection looks as it did; its first answer tells.
    let mut conn = unchecked.get().await.unwrap();
    assert_eq!(conn.backend_pid(), unchecked_pid);
    assert_eq!(conn.in_hot_standby(), Some(true));
    conn.batch_execute("").await.unwrap();
    assert_eq!(conn.in_hot_standby(), Some(false));
    drop(conn);
    let status = unchecked.status();
    assert_eq!(status.closed.role_changed, 1, "{status:?}");
    assert_eq!((status.idle, status.size), (0, 0));

    checked.close().await;
    unchecked.close().await;
    // Leave a healthy pair behind for the next run.
    failover.reset();
}
