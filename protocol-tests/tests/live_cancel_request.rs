//! Cancelling running statements (CancelRequest through a `CancelToken`) and the client-side
//! statement timeout, against the real throwaway PostgreSQL.

use std::time::{Duration, Instant};

use protocol_tests::errors::{expect_code, expect_db, expect_message};
use protocol_tests::live;
use tusk::{CancelToken, Config, Connection, Kind, SqlState, TransactionStatus};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// Asserts that `err` is the statement timeout of `limit` (57014), raised by tusk after it
/// cancelled the statement on the server.
#[track_caller]
fn expect_timeout(err: &tusk::Error, limit: Duration) {
    expect_message(
        err,
        Kind::Timeout,
        &format!(
            "the statement did not finish within its statement timeout of {limit:?}; it was \
             cancelled on the server"
        ),
    );
    expect_code(err, &SqlState::QUERY_CANCELED);
}

/// Checks the connection answers correctly and sits outside any transaction.
async fn check_usable(conn: &mut Connection, tag: i32) {
    let row = conn.query_one("SELECT $1::int4", &[&tag]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), tag);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

#[test]
fn the_token_is_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<CancelToken>();
}

#[tokio::test]
async fn a_token_cancels_a_running_statement_from_another_task() {
    let mut conn = admin().await;
    let token = conn.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        token.cancel().await
    });
    let started = Instant::now();
    let err = conn.execute("SELECT pg_sleep(10)", &[]).await.unwrap_err();
    let elapsed = started.elapsed();
    canceller.await.unwrap().unwrap();
    expect_db(&err, &SqlState::QUERY_CANCELED);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    check_usable(&mut conn, 1).await;
}

#[tokio::test]
async fn a_token_cancels_a_simple_query_too() {
    let mut conn = admin().await;
    let token = conn.cancel_token();
    let clone = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        clone.cancel().await.unwrap();
    });
    let err = conn
        .batch_execute("SELECT pg_sleep(10); SELECT 1")
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::QUERY_CANCELED);
    check_usable(&mut conn, 2).await;
    // The original token still works after its clone was used.
    token.cancel().await.unwrap();
}

#[tokio::test]
async fn cancelling_an_idle_connection_is_harmless() {
    let mut conn = admin().await;
    let token = conn.cancel_token();
    token.cancel().await.unwrap();
    token.cancel().await.unwrap();
    // Nothing was running: no later statement is hit by it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.execute("SELECT pg_sleep(0.2)", &[]).await.unwrap();
    check_usable(&mut conn, 3).await;
    // A token outliving its connection is harmless as well.
    conn.close().await.unwrap();
    token.cancel().await.unwrap();
}

#[tokio::test]
async fn a_statement_timeout_cancels_on_the_server_and_keeps_the_connection() {
    let mut conn = admin().await;
    let started = Instant::now();
    let err = conn
        .with_statement_timeout(Duration::from_millis(200))
        .query("SELECT pg_sleep(5)", &[])
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    expect_timeout(&err, Duration::from_millis(200));
    assert!(elapsed >= Duration::from_millis(200), "took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    // The limit was for that call only.
    assert_eq!(conn.statement_timeout(), None);
    check_usable(&mut conn, 4).await;
    // The server really stopped: the backend is idle, not still sleeping.
    let pid = conn.backend_pid().unwrap();
    let mut other = admin().await;
    let state: String = other
        .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "idle");
}

#[tokio::test]
async fn a_statement_that_finishes_in_time_is_untouched() {
    let mut conn = admin().await;
    conn.set_statement_timeout(Some(Duration::from_secs(5)));
    let rows = conn
        .query("SELECT generate_series(1, 100)", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 100);
    conn.execute("SELECT pg_sleep(0.1)", &[]).await.unwrap();
    // Zero means no limit.
    conn.set_statement_timeout(Some(Duration::ZERO));
    assert_eq!(conn.statement_timeout(), None);
}

#[tokio::test]
async fn the_config_sets_the_statement_timeout() {
    let config: Config = format!("{} statement_timeout=200", live::admin())
        .parse()
        .unwrap();
    assert_eq!(
        config.get_statement_timeout(),
        Some(Duration::from_millis(200))
    );
    let mut conn = config.connect().await.unwrap();
    assert_eq!(conn.statement_timeout(), Some(Duration::from_millis(200)));
    let started = Instant::now();
    let err = conn.execute("SELECT pg_sleep(5)", &[]).await.unwrap_err();
    expect_timeout(&err, Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(2));
    // A longer statement runs once the limit is lifted for it, and the limit comes back.
    conn.with_statement_timeout(Duration::from_secs(10))
        .execute("SELECT pg_sleep(0.4)", &[])
        .await
        .unwrap();
    assert_eq!(conn.statement_timeout(), Some(Duration::from_millis(200)));
    conn.set_statement_timeout(None);
    conn.execute("SELECT pg_sleep(0.3)", &[]).await.unwrap();
    check_usable(&mut conn, 5).await;
}

#[tokio::test]
async fn a_timeout_inside_a_transaction_leaves_it_failed() {
    let mut conn = admin().await;
    let mut tx = conn.transaction().await.unwrap();
    tx.execute("CREATE TEMP TABLE tusk_timeout_tx (a int)", &[])
        .await
        .unwrap();
    let err = tx
        .with_statement_timeout(Duration::from_millis(200))
        .execute("SELECT pg_sleep(5)", &[])
        .await
        .unwrap_err();
    expect_timeout(&err, Duration::from_millis(200));
    // As the server reports it: the transaction is aborted and must be rolled back.
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    let refused = tx.execute("SELECT 1", &[]).await.unwrap_err();
    expect_message(
        &refused,
        Kind::AbortedTransaction,
        "current transaction is aborted",
    );
    expect_code(&refused, &SqlState::IN_FAILED_SQL_TRANSACTION);
    tx.rollback().await.unwrap();
    check_usable(&mut conn, 6).await;
    // The rolled-back table is gone.
    let err = conn
        .execute("SELECT * FROM tusk_timeout_tx", &[])
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::UNDEFINED_TABLE);
}

#[tokio::test]
async fn timeouts_in_a_row_keep_the_connection_in_step() {
    let mut conn = admin().await;
    for i in 0..5 {
        let err = conn
            .with_statement_timeout(Duration::from_millis(50 + 20 * i))
            .query("SELECT pg_sleep(2)", &[])
            .await
            .unwrap_err();
        expect_timeout(&err, Duration::from_millis(50 + 20 * i));
        let row = conn
            .query_one("SELECT $1::int8", &[&(i as i64)])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), i as i64);
    }
    // A fresh statement (Parse/Describe round trip) under a limit, and a cursor.
    conn.set_statement_timeout(Some(Duration::from_millis(100)));
    let err = conn
        .query("SELECT pg_sleep(3), 'fresh sql'", &[])
        .await
        .unwrap_err();
    expect_timeout(&err, Duration::from_millis(100));
    let mut cursor = conn.cursor();
    let err = cursor.execute("SELECT pg_sleep(3)", &[]).await.unwrap_err();
    expect_timeout(&err, Duration::from_millis(100));
    conn.set_statement_timeout(None);
    check_usable(&mut conn, 7).await;
}
