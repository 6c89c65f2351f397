//! The deadline model against the real server: with `statement_timeout` set, every call that
//! waits on the server ends in bounded time when the network goes silent (the stalling proxy
//! holds every byte of the connections open at that moment, while new connections, such as
//! the CancelRequest's, get through), and the connection is then closed, never handed out
//! again by a pool. On a live link, a started stream or COPY gets the limit per wait.
//!
//! Each call on a stalled link must fail with `Kind::Timeout` within
//! `statement_timeout + cancel_timeout` (plus slack for this busy machine), where before the
//! deadline model `simple_query`, `prepare`, `transaction()` and the pool hung for ever.

use std::time::{Duration, Instant};

use protocol_tests::live;
use protocol_tests::stall_proxy::StallingProxy;
use tusk::{Config, Connection, Kind, Pool, TransactionStatus};

const LIMIT: Duration = Duration::from_millis(300);
const CANCEL: Duration = Duration::from_millis(700);
/// What a stalled call may take at most: its limit, the cancel's wait, and slack.
const BOUND: Duration = Duration::from_secs(4);

fn config_through(proxy: &StallingProxy, app: &str) -> Config {
    format!(
        "host=127.0.0.1 port={} user=tusk password=tusk dbname=tusk sslmode=disable \
         application_name={app} statement_timeout={} cancel_timeout={}",
        proxy.port,
        LIMIT.as_millis(),
        CANCEL.as_millis()
    )
    .parse()
    .unwrap()
}

async fn connect_through(proxy: &StallingProxy, app: &str) -> Connection {
    config_through(proxy, app).connect().await.unwrap()
}

/// Runs `call` with a hard outer bound (a hang fails the test rather than stalling it) and
/// checks it failed with a timeout within [`BOUND`].
async fn expect_bounded_timeout<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, tusk::Error>>,
) -> tusk::Error {
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after 20 s on a stalled network"));
    let took = started.elapsed();
    let err = match outcome {
        Ok(value) => panic!("{what}: Ok({value:?}) through a stalled network"),
        Err(err) => err,
    };
    assert_eq!(err.kind(), Kind::Timeout, "{what}: {err}");
    assert!(
        took >= LIMIT,
        "{what}: failed after {took:?}, before the limit"
    );
    assert!(took < BOUND, "{what}: took {took:?}");
    err
}

/// After a stream or COPY timed out (whose start or wait returns no result to settle in),
/// the connection's next call settles it: on a silent network, it is closed within the
/// cancel timeout, and that call fails in bounded time.
async fn expect_closed_at_next_use(conn: &mut Connection) {
    let started = Instant::now();
    let next = tokio::time::timeout(BOUND, conn.simple_query("SELECT 1"))
        .await
        .expect("the next call settles within the cancel timeout");
    assert_eq!(next.unwrap_err().kind(), Kind::Timeout);
    assert!(started.elapsed() < BOUND);
    assert!(conn.is_closed());
}

/// A connection through a fresh proxy, whose network then goes silent.
async fn stalled(app: &str) -> (StallingProxy, Connection) {
    let proxy = StallingProxy::start(live::port()).await;
    let conn = connect_through(&proxy, app).await;
    proxy.stall_existing();
    (proxy, conn)
}

#[tokio::test]
async fn simple_query_and_batch_execute_end_and_close_the_connection() {
    let (_proxy, mut conn) = stalled("deadline_simple").await;
    let err = expect_bounded_timeout("simple_query", conn.simple_query("SELECT 1")).await;
    assert!(err.to_string().contains("cancel_timeout"), "{err}");
    assert!(conn.is_closed(), "a stalled connection stays open");
    // Closed: the next call fails at once instead of waiting again.
    let next = tokio::time::timeout(Duration::from_secs(1), conn.batch_execute("SELECT 1"))
        .await
        .expect("a closed connection answers at once");
    assert!(next.is_err());

    let (_proxy, mut conn) = stalled("deadline_batch").await;
    expect_bounded_timeout("batch_execute", conn.batch_execute("SELECT 1; SELECT 2")).await;
    assert!(conn.is_closed());
}

#[tokio::test]
async fn prepare_query_and_execute_end() {
    let (_proxy, mut conn) = stalled("deadline_prepare").await;
    expect_bounded_timeout("prepare", conn.prepare("SELECT $1::int4")).await;
    assert!(conn.is_closed());

    let (_proxy, mut conn) = stalled("deadline_query").await;
    expect_bounded_timeout("query", conn.query("SELECT $1::int4", &[&1i32])).await;
    assert!(conn.is_closed());
}

#[tokio::test]
async fn transactions_end_at_begin_and_at_commit() {
    let (_proxy, mut conn) = stalled("deadline_begin").await;
    expect_bounded_timeout("transaction()", async {
        conn.transaction().await.map(drop)
    })
    .await;
    assert!(conn.is_closed());

    let proxy = StallingProxy::start(live::port()).await;
    let mut conn = connect_through(&proxy, "deadline_commit").await;
    let mut tx = conn.transaction().await.unwrap();
    tx.execute("SELECT 1", &[]).await.unwrap();
    proxy.stall_existing();
    expect_bounded_timeout("commit", tx.commit()).await;
    assert!(conn.is_closed());
}

#[tokio::test]
async fn copy_in_and_copy_out_end_at_start_and_midway() {
    let (_proxy, mut conn) = stalled("deadline_copy_in_start").await;
    expect_bounded_timeout("copy_in", async {
        conn.copy_in("COPY sink FROM STDIN").await.map(drop)
    })
    .await;
    expect_closed_at_next_use(&mut conn).await;

    // Midway: the COPY started, then the network went silent while data was being sent.
    let proxy = StallingProxy::start(live::port()).await;
    let mut conn = connect_through(&proxy, "deadline_copy_in_mid").await;
    conn.batch_execute("CREATE TEMP TABLE sink (t text)")
        .await
        .unwrap();
    let mut copy = conn.copy_in("COPY sink FROM STDIN").await.unwrap();
    copy.send("a\n").await.unwrap();
    proxy.stall_existing();
    let sent = async {
        // Enough to fill the socket buffers both ways, so the send itself has to wait.
        let chunk = "x".repeat(64 * 1024) + "\n";
        for _ in 0..512 {
            copy.send(&chunk).await?;
        }
        copy.finish().await
    };
    expect_bounded_timeout("copy_in send/finish", sent).await;
    expect_closed_at_next_use(&mut conn).await;

    let (_proxy, mut conn) = stalled("deadline_copy_out_start").await;
    expect_bounded_timeout("copy_out", async {
        conn.copy_out("COPY (SELECT 1) TO STDOUT").await.map(drop)
    })
    .await;
    expect_closed_at_next_use(&mut conn).await;
}

#[tokio::test]
async fn streams_pipelines_and_server_cursors_end() {
    let (_proxy, mut conn) = stalled("deadline_stream").await;
    expect_bounded_timeout("query_stream", async {
        conn.query_stream("SELECT 1", &[]).await.map(drop)
    })
    .await;
    expect_closed_at_next_use(&mut conn).await;

    let (_proxy, mut conn) = stalled("deadline_pipeline").await;
    let mut pipeline = conn.pipeline();
    pipeline.query("SELECT 1", &[]);
    pipeline.query("SELECT 2", &[]);
    expect_bounded_timeout("pipeline().run()", pipeline.run()).await;
    assert!(conn.is_closed());

    let (_proxy, mut conn) = stalled("deadline_cursor").await;
    let mut cursor = conn.server_cursor("deadline_cur");
    expect_bounded_timeout(
        "server_cursor execute",
        cursor.execute("SELECT generate_series(1, 10)", &[]),
    )
    .await;
    drop(cursor);
    assert!(conn.is_closed());

    // A stream that started, then the network went silent before its next rows.
    let proxy = StallingProxy::start(live::port()).await;
    let mut conn = connect_through(&proxy, "deadline_stream_mid").await;
    {
        let mut stream = conn
            .query_stream_batched("SELECT generate_series(1, 100000)", &[], 10)
            .await
            .unwrap();
        stream.try_next().await.unwrap().expect("a first row");
        proxy.stall_existing();
        let rest = async {
            while stream.try_next().await?.is_some() {}
            Ok::<_, tusk::Error>(())
        };
        expect_bounded_timeout("RowStream::try_next", rest).await;
    }
    expect_closed_at_next_use(&mut conn).await;
}

#[tokio::test]
async fn a_notification_wait_ends_when_the_caller_asks() {
    // Waiting for a notification is not bounded by the statement timeout (nothing is owed);
    // the caller's own timeout ends it, and the connection stays usable.
    let proxy = StallingProxy::start(live::port()).await;
    let mut conn = connect_through(&proxy, "deadline_notify").await;
    conn.batch_execute("LISTEN deadline_chan").await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(2 * LIMIT.as_millis() as u64), async {
        conn.next_notification().await
    })
    .await;
    assert!(waited.is_err(), "no notification was sent: {waited:?}");
    // Past the statement timeout, and still usable: the wait had no deadline of its own.
    conn.batch_execute("NOTIFY deadline_chan, 'hi'")
        .await
        .unwrap();
    let n = conn.next_notification().await.unwrap();
    assert_eq!(n.payload, "hi");
    // On a silent network, the caller's timeout still ends the wait.
    proxy.stall_existing();
    let started = Instant::now();
    let waited = tokio::time::timeout(LIMIT, conn.next_notification()).await;
    assert!(waited.is_err());
    assert!(started.elapsed() < BOUND);
}

#[tokio::test]
async fn a_pooled_connection_that_timed_out_on_a_dead_link_is_not_handed_out_again() {
    let proxy = StallingProxy::start(live::port()).await;
    let pool = Pool::builder(config_through(&proxy, "deadline_pool"))
        .max_size(1)
        .build();
    let first_pid = {
        let mut conn = pool.get().await.unwrap();
        let pid = conn.backend_pid();
        proxy.stall_existing();
        expect_bounded_timeout("a checkout's query", conn.query_one("SELECT 1", &[])).await;
        pid
    };
    // The next checkout gets a new connection at once (the proxy forwards new ones): it does
    // not hang in the reset of the one that timed out.
    let started = Instant::now();
    let mut conn = tokio::time::timeout(BOUND, pool.get())
        .await
        .expect("pool.get() after a timeout on a dead link")
        .unwrap();
    assert!(started.elapsed() < BOUND);
    assert_ne!(conn.backend_pid(), first_pid);
    let row = conn.query_one("SELECT 7::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    drop(conn);
    assert_eq!(pool.status().closed.broken, 1, "{:?}", pool.status());

    // The shared path: its connection goes silent mid-batch; the query fails in bounded
    // time and the next one runs on a new connection.
    proxy.stall_existing();
    expect_bounded_timeout("Pool::query_one", pool.query_one("SELECT 1", &[])).await;
    let row = tokio::time::timeout(BOUND, pool.query_one("SELECT 8::int4", &[]))
        .await
        .expect("the shared path recovers")
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 8);
}

#[tokio::test]
async fn a_stream_gets_the_limit_per_wait_not_for_its_whole_life() {
    let mut conn = Connection::connect(&format!(
        "{} statement_timeout={}",
        live::admin(),
        LIMIT.as_millis()
    ))
    .await
    .unwrap();
    // A consumer slower than the limit is not cut off: only the server's silence counts.
    let mut stream = conn
        .query_stream_batched("SELECT generate_series(1, 4)", &[], 1)
        .await
        .unwrap();
    let mut seen = 0;
    while let Some(row) = stream.try_next().await.unwrap() {
        seen += 1;
        assert_eq!(row.get::<_, i32>(0), seen);
        tokio::time::sleep(LIMIT + Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 4);
    drop(stream);

    // A server that goes quiet mid-stream for longer than the limit is cut off there, the
    // statement is cancelled, and the connection is usable again at its next call.
    let sql = "SELECT n, CASE WHEN n = 3 THEN pg_sleep(5) END::text FROM generate_series(1, 5) n";
    let started = Instant::now();
    {
        let mut stream = conn.query_stream_batched(sql, &[], 1).await.unwrap();
        let mut rows = 0;
        let err = loop {
            match stream.try_next().await {
                Ok(Some(_)) => rows += 1,
                Ok(None) => panic!("the slow stream ended without a timeout"),
                Err(e) => break e,
            }
        };
        // Rows 1 and 2 come before the sleep, but the server may hold row 2 in its output
        // buffer while it already works on the next Execute.
        assert!((1..=2).contains(&rows), "{rows} rows");
        assert_eq!(err.kind(), Kind::Timeout, "{err}");
    }
    let row = conn.query_one("SELECT 11::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 11);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the cancel did not stop pg_sleep(5): {:?}",
        started.elapsed()
    );
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    // The same for COPY TO STDOUT: the rows come after the sleep, so the start or the first
    // wait for data passes the limit (the server answers CopyOutResponse when the query's
    // first row is ready).
    let copied = async {
        let mut copy = conn.copy_out("COPY (SELECT pg_sleep(5)) TO STDOUT").await?;
        copy.next_chunk().await
    };
    let err = copied.await.unwrap_err();
    assert_eq!(err.kind(), Kind::Timeout, "{err}");
    let row = conn.query_one("SELECT 12::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 12);
}

#[tokio::test]
async fn a_timed_out_commit_is_settled_before_it_returns() {
    // A COMMIT made slow by a deferred constraint trigger: it passes the limit, is cancelled,
    // and nothing of the transaction is stored; the connection is idle when the call returns.
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute(
        "CREATE TEMP TABLE slow_commit (a int);
         CREATE FUNCTION pg_temp.sleep_trigger() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
         CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON slow_commit
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.sleep_trigger();",
    )
    .await
    .unwrap();
    conn.set_statement_timeout(Some(LIMIT));
    let mut tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO slow_commit VALUES (1)", &[])
        .await
        .unwrap();
    let started = Instant::now();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.kind(), Kind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    conn.set_statement_timeout(None);
    let row = conn
        .query_one("SELECT count(*) FROM slow_commit", &[])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        0,
        "the cancelled COMMIT stored the row"
    );
}

#[tokio::test]
async fn a_statement_left_running_by_a_dropped_future_is_cancelled_when_given_back() {
    // No statement timeout: the caller's own timeout drops the query's future; giving the
    // connection back cancels the statement, so the next checkout settles it at once and
    // reuses the connection instead of waiting out pg_sleep(30).
    let pool = Pool::builder(
        format!("{} application_name=deadline_abandon", live::admin())
            .parse::<Config>()
            .unwrap(),
    )
    .max_size(1)
    .build();
    let pid = {
        let mut conn = pool.get().await.unwrap();
        let dropped = tokio::time::timeout(LIMIT, conn.query_one("SELECT pg_sleep(30)", &[])).await;
        assert!(dropped.is_err(), "pg_sleep(30) finished?");
        conn.backend_pid()
    };
    let started = Instant::now();
    let mut conn = tokio::time::timeout(BOUND, pool.get())
        .await
        .expect("the checkout settles within the cancel timeout")
        .unwrap();
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    assert_eq!(
        conn.backend_pid(),
        pid,
        "the settled connection was not reused"
    );
    let row = conn.query_one("SELECT 13::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 13);
    assert_eq!(pool.status().closed.broken, 0, "{:?}", pool.status());
}

#[tokio::test]
async fn the_reset_of_a_checkout_is_bounded_on_a_silent_network() {
    // No statement timeout either: a connection given back inside a transaction needs a
    // ROLLBACK at its next checkout; on a silent network that reset ends after
    // health_check_timeout and a new connection is handed out.
    let proxy = StallingProxy::start(live::port()).await;
    let config: Config = format!(
        "host=127.0.0.1 port={} user=tusk password=tusk dbname=tusk sslmode=disable \
         application_name=deadline_reset",
        proxy.port
    )
    .parse()
    .unwrap();
    let check = Duration::from_millis(500);
    let pool = Pool::builder(config)
        .max_size(1)
        .health_check_timeout(check)
        .build();
    let pid = {
        let mut conn = pool.get().await.unwrap();
        conn.batch_execute("BEGIN").await.unwrap();
        conn.backend_pid()
    };
    proxy.stall_existing();
    let started = Instant::now();
    let mut conn = tokio::time::timeout(BOUND, pool.get())
        .await
        .expect("the reset is bounded")
        .unwrap();
    let took = started.elapsed();
    assert!(took >= check && took < BOUND, "{took:?}");
    assert_ne!(conn.backend_pid(), pid);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    conn.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(pool.status().closed.broken, 1, "{:?}", pool.status());
}
