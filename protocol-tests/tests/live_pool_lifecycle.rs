//! The pool's lifecycle against the real server: acquire timeouts (checkouts and queued shared
//! queries), max_lifetime, idle_timeout with min_idle, health checks over a silenced network,
//! and the graceful close. Hooks and server-role changes are in live_pool_lifecycle_hooks.rs.
//!
//! Every pool here names its sessions `lifecycle_*` (application_name), so what a test counts in
//! pg_stat_activity is its own pool's, with other tests sharing the server.

use std::time::{Duration, Instant};

use protocol_tests::errors::expect_message;
use protocol_tests::live;
use protocol_tests::stall_proxy::StallingProxy;
use tusk::{Config, Connection, Kind, Pool};

fn config(app: &str) -> Config {
    let config: Config = live::admin().parse().unwrap();
    config.application_name(app)
}

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// The backend pids of the sessions named `app`.
async fn sessions(admin: &mut Connection, app: &str) -> Vec<i32> {
    admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
            &[&app],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Waits (up to `limit`) until the sessions named `app` satisfy `done`; returns them, or panics
/// saying what was seen.
async fn wait_for_sessions(
    admin: &mut Connection,
    app: &str,
    limit: Duration,
    what: &str,
    done: impl Fn(&[i32]) -> bool,
) -> Vec<i32> {
    let start = Instant::now();
    loop {
        let pids = sessions(admin, app).await;
        if done(&pids) {
            return pids;
        }
        assert!(
            start.elapsed() < limit,
            "waited {limit:?} for {what}; sessions of {app}: {pids:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_checkout_times_out_when_every_connection_is_held() {
    let limit = Duration::from_millis(300);
    let pool = Pool::builder(config("lifecycle_acquire"))
        .max_size(1)
        .acquire_timeout(limit)
        .build();
    let held = pool.get().await.unwrap();
    let start = Instant::now();
    let err = tokio::time::timeout(limit * 10, pool.get())
        .await
        .expect("the get() timed out")
        .unwrap_err();
    let waited = start.elapsed();
    expect_message(
        &err,
        Kind::Timeout,
        "no pool connection within the acquire_timeout of 300ms",
    );
    expect_message(&err, Kind::Timeout, "1 of max_size 1 in use");
    assert!(
        waited >= limit && waited < limit + Duration::from_secs(2),
        "waited {waited:?}"
    );
    let status = pool.status();
    assert_eq!(status.timeouts, 1, "{status:?}");
    assert_eq!(
        status.waiting, 0,
        "the timed-out get() is no longer waiting"
    );
    assert_eq!(status.in_use, 1);
    // Once the connection comes back, the next get() has it at once.
    let pid = held.backend_pid();
    drop(held);
    assert_eq!(pool.get().await.unwrap().backend_pid(), pid);
    assert_eq!(pool.status().timeouts, 1);
}

#[tokio::test]
async fn a_shared_query_times_out_in_the_queue_and_never_runs() {
    let table = "lifecycle_queue_timeout";
    let mut admin = admin().await;
    admin
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (n int4)"
        ))
        .await
        .unwrap();
    let insert = format!("INSERT INTO {table} VALUES ($1)");
    let limit = Duration::from_millis(300);
    let pool = Pool::builder(config("lifecycle_queue"))
        .max_size(1)
        .acquire_timeout(limit)
        .build();
    // Described (and run) once, so the next call goes straight to the queue.
    pool.execute(&insert, &[&0i32]).await.unwrap();

    let held = pool.get().await.unwrap();
    let start = Instant::now();
    let err = tokio::time::timeout(limit * 10, pool.execute(&insert, &[&1i32]))
        .await
        .expect("the queued query timed out")
        .unwrap_err();
    let waited = start.elapsed();
    expect_message(
        &err,
        Kind::Timeout,
        "a shared query waited in the pool's queue for the acquire_timeout of 300ms and was not run",
    );
    expect_message(&err, Kind::Timeout, "1 of max_size 1 in use");
    assert!(
        waited >= limit && waited < limit + Duration::from_secs(2),
        "waited {waited:?}"
    );
    let status = pool.status();
    assert_eq!(
        status.queued, 0,
        "the job was taken off the queue: {status:?}"
    );
    assert_eq!(status.timeouts, 1);

    // The connection comes back and the pool runs shared queries again; the timed-out one is
    // not among them.
    drop(held);
    pool.execute(&insert, &[&2i32]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rows: Vec<i32> = admin
        .query(&format!("SELECT n FROM {table} ORDER BY n"), &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(rows, [0, 2]);
    admin
        .batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_connection_is_replaced_but_never_taken_from_its_user() {
    let app = "lifecycle_lifetime";
    let lifetime = Duration::from_millis(500);
    let pool = Pool::builder(config(app))
        .max_size(1)
        .max_lifetime(lifetime)
        .idle_timeout(None)
        .build();
    let first = pool.get().await.unwrap().backend_pid().unwrap();
    // Jitter only shortens a lifetime.
    tokio::time::sleep(lifetime + Duration::from_millis(100)).await;
    let mut conn = pool.get().await.unwrap();
    let second = conn.backend_pid().unwrap();
    assert_ne!(second, first, "the expired connection was reused");
    let status = pool.status();
    assert_eq!(status.closed.max_lifetime, 1, "{status:?}");
    assert_eq!((status.opened, status.size), (2, 1));

    // Checked out past its lifetime, it is still the user's.
    tokio::time::sleep(lifetime + Duration::from_millis(100)).await;
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pid, second);
    // Given back expired, it is closed rather than kept.
    drop(conn);
    let status = pool.status();
    assert_eq!(status.closed.max_lifetime, 2, "{status:?}");
    assert_eq!((status.idle, status.size), (0, 0));
    // ... with Terminate: the server ends both sessions.
    let mut admin = admin().await;
    wait_for_sessions(
        &mut admin,
        app,
        Duration::from_secs(5),
        "the expired sessions to end",
        |pids| pids.is_empty(),
    )
    .await;
}

#[tokio::test]
async fn idle_connections_time_out_down_to_min_idle_which_is_refilled() {
    let app = "lifecycle_idle";
    let mut admin = admin().await;
    let pool = Pool::builder(config(app))
        .max_size(4)
        .min_idle(2)
        // Maintenance every second (a quarter of this, at least 1 s).
        .idle_timeout(Duration::from_secs(1))
        .build();
    // Built inside a runtime: the maintenance task opens min_idle connections at once.
    let opened = wait_for_sessions(
        &mut admin,
        app,
        Duration::from_secs(5),
        "min_idle connections to open",
        |pids| pids.len() == 2,
    )
    .await;
    assert_eq!(pool.status().idle, 2);

    // Four in use, then all four idle: two of them time out.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(pool.get().await.unwrap());
    }
    assert_eq!(sessions(&mut admin, app).await.len(), 4);
    drop(held);
    assert_eq!(pool.status().idle, 4);
    wait_for_sessions(
        &mut admin,
        app,
        Duration::from_secs(6),
        "idle connections to time out down to min_idle",
        |pids| pids.len() == 2,
    )
    .await;
    let status = pool.status();
    assert_eq!(status.closed.idle_timeout, 2, "{status:?}");
    assert_eq!((status.idle, status.size), (2, 2));

    // The server ends the idle sessions: the pool notices and opens two others.
    let before = sessions(&mut admin, app).await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap();
    let after = wait_for_sessions(
        &mut admin,
        app,
        Duration::from_secs(6),
        "min_idle to be restored with new sessions",
        |pids| pids.len() == 2 && pids.iter().all(|pid| !before.contains(pid)),
    )
    .await;
    assert!(after.iter().all(|pid| !opened.contains(pid)));
    let status = pool.status();
    assert_eq!(status.closed.broken, 2, "{status:?}");
    assert_eq!(status.idle, 2);
    assert_eq!(
        status.opened,
        status.size as u64 + status.closed.total(),
        "{status:?}"
    );

    // Dropping the pool ends the maintenance task and closes the connections; none reopen.
    drop(pool);
    wait_for_sessions(
        &mut admin,
        app,
        Duration::from_secs(5),
        "the dropped pool's sessions to end",
        |pids| pids.is_empty(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sessions(&mut admin, app).await, Vec::<i32>::new());
}

/// A pool through a proxy whose connections the test silences, with `health_check_after`
/// when `check` is given.
fn pool_through(proxy: &StallingProxy, app: &str, check: Option<Duration>) -> Pool {
    let config: Config = format!(
        "host=127.0.0.1 port={} user=tusk password=tusk dbname=tusk connect_timeout=10 \
         application_name={app}",
        proxy.port
    )
    .parse()
    .unwrap();
    let builder = Pool::builder(config).max_size(2);
    match check {
        Some(timeout) => builder
            .health_check_after(Duration::ZERO)
            .health_check_timeout(timeout),
        None => builder,
    }
    .build()
}

#[tokio::test]
async fn a_health_check_replaces_a_connection_whose_network_went_silent() {
    let proxy = StallingProxy::start(live::port()).await;
    let check_timeout = Duration::from_millis(500);
    let pool = pool_through(&proxy, "lifecycle_health", Some(check_timeout));
    let first = pool.get().await.unwrap().backend_pid();
    // Given back idle; now its network stops carrying anything (no error, no close).
    proxy.stall_existing();
    let start = Instant::now();
    let mut conn = pool.get().await.unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= check_timeout && waited < check_timeout + Duration::from_secs(3),
        "waited {waited:?}"
    );
    assert_ne!(
        conn.backend_pid(),
        first,
        "the silent connection was handed out"
    );
    conn.query_one("SELECT 1", &[]).await.unwrap();
    let status = pool.status();
    assert_eq!(status.closed.health_check, 1, "{status:?}");
    assert_eq!(status.opened, 2);
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test]
async fn without_a_health_check_the_silent_connection_is_handed_out() {
    // The same as above without `health_check_after`: what the check protects from.
    let proxy = StallingProxy::start(live::port()).await;
    let pool = pool_through(&proxy, "lifecycle_nohealth", None);
    let first = pool.get().await.unwrap().backend_pid();
    proxy.stall_existing();
    let mut conn = tokio::time::timeout(Duration::from_secs(2), pool.get())
        .await
        .expect("a get() without a health check does not wait")
        .unwrap();
    assert_eq!(conn.backend_pid(), first);
    let stuck =
        tokio::time::timeout(Duration::from_millis(500), conn.query_one("SELECT 1", &[])).await;
    assert!(stuck.is_err(), "the query got through a stalled network");
    assert_eq!(pool.status().closed.health_check, 0);
}

#[tokio::test]
async fn close_waits_for_checkouts_and_queued_queries_then_ends_every_session() {
    let app = "lifecycle_close";
    let mut admin = admin().await;
    let pool = Pool::builder(config(app)).max_size(2).build();
    let sql = "SELECT $1::int4 * 3";
    // Described, so a later call goes straight to the queue.
    pool.query_one(sql, &[&1i32]).await.unwrap();
    let first = pool.get().await.unwrap();
    let mut second = pool.get().await.unwrap();

    // A shared query queued behind the two checkouts.
    let queued = tokio::spawn({
        let pool = pool.clone();
        async move { pool.query_one(sql, &[&14i32]).await }
    });
    let start = Instant::now();
    while pool.status().queued == 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "never queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let closer = tokio::spawn({
        let pool = pool.clone();
        async move { pool.close().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(pool.is_closed());
    let err = pool.get().await.unwrap_err();
    expect_message(&err, Kind::Closed, "the pool is closed");
    let err = pool.query_one(sql, &[&2i32]).await.unwrap_err();
    expect_message(&err, Kind::Closed, "the pool is closed");

    // One checkout back: the queued query runs on its connection.
    drop(first);
    let row = tokio::time::timeout(Duration::from_secs(5), queued)
        .await
        .expect("the queued query ran after close")
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !closer.is_finished(),
        "close() returned with a checkout out"
    );

    // The checkout still works until it is given back.
    second.query_one("SELECT 1", &[]).await.unwrap();
    drop(second);
    tokio::time::timeout(Duration::from_secs(5), closer)
        .await
        .expect("close() finished once everything was given back")
        .unwrap();
    let status = pool.status();
    assert_eq!(
        (status.size, status.idle, status.in_use),
        (0, 0, 0),
        "{status:?}"
    );
    assert_eq!(status.closed.pool_closed, 2, "{status:?}");
    assert_eq!(status.opened, status.closed.total());
    wait_for_sessions(
        &mut admin,
        app,
        Duration::from_secs(5),
        "the closed pool's sessions to end",
        |pids| pids.is_empty(),
    )
    .await;
    // Closing again returns at once.
    tokio::time::timeout(Duration::from_secs(1), pool.close())
        .await
        .unwrap();
}

#[tokio::test]
async fn cancelled_acquires_leave_the_pool_consistent() {
    let pool = Pool::builder(config("lifecycle_cancel"))
        .max_size(1)
        .build();
    let held = pool.get().await.unwrap();
    // A get() dropped while waiting, and one dropped while opening (no idle connection).
    let waiting = tokio::time::timeout(Duration::from_millis(50), pool.get()).await;
    assert!(waiting.is_err());
    drop(held);
    for polls in 1..6 {
        let mut get = Box::pin(pool.get());
        protocol_tests::poll::poll_n_times(get.as_mut(), polls).await;
        drop(get);
        let status = pool.status();
        assert_eq!((status.in_use, status.waiting), (0, 0), "{status:?}");
        assert_eq!(
            status.opened,
            status.size as u64 + status.closed.total(),
            "{status:?}"
        );
    }
    assert_eq!(
        pool.query_one("SELECT 7", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        7
    );
    assert_eq!(pool.status().timeouts, 0);
}
