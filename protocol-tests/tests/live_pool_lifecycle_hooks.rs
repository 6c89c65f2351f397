//! The pool's connection hooks (before_connect, after_connect) and its reaction to a server
//! whose role no longer matches `target_session_attrs`, against the real server (and, for a
//! ParameterStatus arriving on an idle socket, which the real server sends only on a
//! configuration reload, against the scripted fake backend).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::fake::{FakeClient, FakeServer};
use protocol_tests::live;
use protocol_tests::poll::poll_n_times;
use protocol_tests::wire;
use tusk::{Config, Connection, Kind, Pool, PoolBuilder, SqlState, TargetSessionAttrs};

fn config(app: &str) -> Config {
    let config: Config = live::admin().parse().unwrap();
    config.application_name(app)
}

async fn sessions_named(app: &str) -> i64 {
    let mut admin = Connection::connect(&live::admin()).await.unwrap();
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap()
        .get(0)
}

/// A pool whose configuration wants read-write sessions.
fn read_write_pool(config: Config) -> PoolBuilder {
    Pool::builder(config.target_session_attrs(TargetSessionAttrs::ReadWrite))
}

#[tokio::test]
async fn before_connect_supplies_the_password() {
    let app = "lifecycle_before_connect";
    let wrong = config(app).password("not the password");
    // Without the hook the configuration cannot log in.
    let err = wrong.connect().await.unwrap_err();
    expect_db(&err, &SqlState::INVALID_PASSWORD);

    let calls = Arc::new(AtomicUsize::new(0));
    let pool = Pool::builder(wrong)
        .max_size(2)
        .before_connect({
            let calls = calls.clone();
            move |config: Config| {
                calls.fetch_add(1, Ordering::SeqCst);
                // A fresh credential, fetched asynchronously in real use.
                async move { Ok(config.password("tusk")) }
            }
        })
        .build();
    let mut first = pool.get().await.unwrap();
    let second = pool.get().await.unwrap();
    assert_ne!(first.backend_pid(), second.backend_pid());
    let user: String = first
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(user, "tusk");
    drop((first, second));
    assert_eq!(
        pool.query_one("SELECT 5", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        5
    );
    // Once per new connection, never on reuse.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(pool.status().opened, 2);
}

#[tokio::test]
async fn a_failing_before_connect_fails_the_acquire_with_its_error() {
    let pool = Pool::builder(config("lifecycle_before_fail"))
        .before_connect(|_config: Config| async move {
            Err(std::io::Error::other("lifecycle: the token service is down").into())
        })
        .build();
    let err = pool.get().await.unwrap_err();
    expect_message(&err, Kind::Io, "lifecycle: the token service is down");
    let err = pool.query("SELECT 1", &[]).await.unwrap_err();
    expect_message(&err, Kind::Io, "lifecycle: the token service is down");
    let status = pool.status();
    assert_eq!(
        (status.opened, status.size, status.in_use),
        (0, 0, 0),
        "{status:?}"
    );
}

#[tokio::test]
async fn after_connect_sets_up_every_session_for_checkouts_and_shared_queries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = Pool::builder(config("lifecycle_after_connect"))
        .max_size(2)
        .after_connect({
            let calls = calls.clone();
            move |conn: &mut Connection| {
                calls.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    conn.batch_execute("SET search_path = lifecycle_after_connect, public")
                        .await
                })
            }
        })
        .build();
    // A checkout held, so the shared query below needs (and opens) the second connection.
    let mut held = pool.get().await.unwrap();
    let path: String = held
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(path, "lifecycle_after_connect, public");
    let row = pool
        .query_one(
            "SELECT current_setting('search_path'), pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "lifecycle_after_connect, public");
    assert_ne!(Some(row.get::<_, i32>(1)), held.backend_pid());
    drop(held);
    for _ in 0..3 {
        pool.get().await.unwrap();
    }
    // Once per new connection, never on reuse.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(pool.status().opened, 2);
}

#[tokio::test]
async fn a_failing_after_connect_fails_the_acquire_and_closes_the_connection() {
    let app = "lifecycle_after_fail";
    let pool = Pool::builder(config(app))
        .after_connect(|conn: &mut Connection| {
            Box::pin(async move { conn.batch_execute("SELECT 1 / 0").await })
        })
        .build();
    let err = pool.get().await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    let err = pool.query("SELECT 1", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    let status = pool.status();
    assert_eq!(status.closed.hook_failed, 2, "{status:?}");
    assert_eq!((status.opened, status.size, status.idle), (2, 0, 0));
    let start = Instant::now();
    while sessions_named(app).await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "sessions left open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_session_made_read_only_is_not_taken_back_by_a_read_write_pool() {
    let pool = read_write_pool(config("lifecycle_role_given_back"))
        .max_size(1)
        .build();
    let first = {
        let mut conn = pool.get().await.unwrap();
        // PostgreSQL 14 and later report the change with ParameterStatus.
        conn.batch_execute("SET default_transaction_read_only = on")
            .await
            .unwrap();
        assert_eq!(conn.parameter("default_transaction_read_only"), Some("on"));
        conn.backend_pid()
    };
    let status = pool.status();
    assert_eq!(status.closed.role_changed, 1, "{status:?}");
    assert_eq!((status.idle, status.size), (0, 0));
    let mut conn = pool.get().await.unwrap();
    assert_ne!(conn.backend_pid(), first);
    conn.batch_execute("CREATE TEMP TABLE lifecycle_role_write (a int4)")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_role_change_still_in_flight_when_given_back_is_caught_at_checkout() {
    let pool = read_write_pool(config("lifecycle_role_in_flight"))
        .max_size(1)
        .build();
    let first = {
        let mut conn = pool.get().await.unwrap();
        // Sent, and dropped before the answer (with its ParameterStatus) was read.
        let mut set = Box::pin(conn.batch_execute("SET default_transaction_read_only = on"));
        assert!(!poll_n_times(set.as_mut(), 1).await);
        drop(set);
        assert_eq!(conn.parameter("default_transaction_read_only"), Some("off"));
        conn.backend_pid()
    };
    // Nothing told the pool yet: it kept the connection.
    assert_eq!(pool.status().idle, 1);
    // Checkout settles the unfinished request, reads the change, and opens another.
    let conn = pool.get().await.unwrap();
    assert_ne!(conn.backend_pid(), first);
    assert_eq!(conn.parameter("default_transaction_read_only"), Some("off"));
    assert_eq!(pool.status().closed.role_changed, 1);
}

#[tokio::test]
async fn a_parameter_status_waiting_on_an_idle_socket_is_read_before_reuse() {
    let (change, changed) = tokio::sync::oneshot::channel::<()>();
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        let hello = [
            wire::auth_ok(),
            wire::parameter_status("in_hot_standby", "off"),
            wire::parameter_status("default_transaction_read_only", "off"),
            wire::startup_tail(),
        ]
        .concat();
        c.send(&hello).await?;
        // While the connection sits idle in the pool, the server becomes read-only (as after
        // `ALTER SYSTEM ... ; SELECT pg_reload_conf()`), and says so unasked.
        let _ = changed.await;
        c.send(&wire::parameter_status(
            "default_transaction_read_only",
            "on",
        ))
        .await?;
        // The pool closes the connection with Terminate.
        let rest = c.read_to_end().await?;
        assert_eq!(rest, b"X\0\0\0\x04", "expected only Terminate");
        Ok(())
    })
    .await;
    let config: Config = server.conn_str("tusk", None).parse().unwrap();
    let pool = read_write_pool(config)
        .max_size(1)
        .acquire_timeout(Duration::from_millis(500))
        .build();
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.backend_pid(), Some(4242));
    drop(conn);
    assert_eq!(pool.status().idle, 1);
    change.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The pool reads the change before handing the connection out and discards it; the fake
    // server serves no second connection, so this acquire then fails (refused or timed out).
    let err = pool.get().await.unwrap_err();
    assert!(
        matches!(err.kind(), Kind::Io | Kind::Timeout),
        "expected the second connection to fail: {err}"
    );
    let status = pool.status();
    assert_eq!(status.closed.role_changed, 1, "{status:?}");
    assert_eq!(status.opened, 1);
    tokio::time::timeout(Duration::from_secs(5), server.finish())
        .await
        .expect("the pool closed the connection")
        .unwrap();
}

/// A statement that fails as a write on a read-only server would (SQLSTATE 25006), while the
/// session still reports itself read-write: what a client sees from a server demoted under it
/// when no ParameterStatus came (before PostgreSQL 14).
const REFUSED_AS_READ_ONLY: &str = "DO $$BEGIN RAISE EXCEPTION 'lifecycle: pretend read-only' \
                                    USING ERRCODE = 'read_only_sql_transaction'; END$$";

async fn shared_pid(pool: &Pool) -> i32 {
    pool.query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_shared_query_refused_as_read_only_retires_its_connection_in_a_read_write_pool() {
    let pool = read_write_pool(config("lifecycle_role_25006"))
        .max_size(1)
        .build();
    let first = shared_pid(&pool).await;
    let err = pool.execute(REFUSED_AS_READ_ONLY, &[]).await.unwrap_err();
    expect_db(&err, &SqlState::READ_ONLY_SQL_TRANSACTION);
    assert_eq!(pool.status().closed.role_changed, 1);
    assert_ne!(shared_pid(&pool).await, first);
}

#[tokio::test]
async fn without_a_read_write_target_a_read_only_refusal_keeps_the_connection() {
    let pool = Pool::builder(config("lifecycle_role_any"))
        .max_size(1)
        .build();
    let first = shared_pid(&pool).await;
    let err = pool.execute(REFUSED_AS_READ_ONLY, &[]).await.unwrap_err();
    expect_db(&err, &SqlState::READ_ONLY_SQL_TRANSACTION);
    assert_eq!(shared_pid(&pool).await, first);
    assert_eq!(pool.status().closed.total(), 0);
}
