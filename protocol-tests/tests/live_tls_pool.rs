//! The pool, the listener and cancel requests over TLS against the real TLS server: they use
//! the connection's TLS settings, never a plaintext side channel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol_tests::errors::expect_db;
use protocol_tests::live;
use tusk::{Config, Connection, Listener, ListenerEvent, Pool, SqlState};

/// verify-full settings for `tusk_tlsonly`, the role the server refuses without TLS: whatever
/// works with them worked over verified TLS.
fn verified_tls_only() -> Option<Config> {
    let tls = live::tls()?;
    let conn_str = format!(
        "{} sslmode=verify-full sslrootcert={}",
        tls.conn("localhost", "tusk_tlsonly", "pw_tlsonly"),
        tls.file("ca.crt")
    );
    Some(conn_str.parse().expect("a valid connection string"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_pool_queries_over_verify_full() {
    let Some(config) = verified_tls_only() else {
        return;
    };
    let pool = Arc::new(Pool::builder(config).max_size(8).build());
    let started = Instant::now();
    let tasks: Vec<_> = (0..200i64)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let row = pool
                    .query_one(
                        "SELECT $1::int8 * 2, (SELECT ssl FROM pg_stat_ssl \
                         WHERE pid = pg_backend_pid())",
                        &[&i],
                    )
                    .await?;
                Ok::<_, tusk::Error>((i, row.get::<_, i64>(0), row.get::<_, bool>(1)))
            })
        })
        .collect();
    for task in tasks {
        let (i, doubled, tls) = task.await.unwrap().unwrap();
        assert_eq!(doubled, 2 * i);
        assert!(
            tls,
            "query {i} ran on a connection the server sees as plaintext"
        );
    }
    let status = pool.status();
    assert!(status.idle + status.in_use <= 8, "{status:?}");
    println!(
        "200 pooled queries over verify-full in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_checked_out_connection_and_a_listener_use_tls() {
    let Some(config) = verified_tls_only() else {
        return;
    };
    let pool = Pool::new(config.clone());
    let mut conn = pool.get().await.unwrap();
    assert!(live::server_sees_tls(&mut conn).await);
    drop(conn);

    let mut listener = Listener::connect(config.clone()).await.unwrap();
    listener.listen("tls_channel").await.unwrap();
    let mut sender = config.connect().await.unwrap();
    sender
        .execute("SELECT pg_notify('tls_channel', 'over tls')", &[])
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("the notification within 10 s")
        .unwrap();
    match event {
        ListenerEvent::Notification(n) => assert_eq!(n.payload, "over tls"),
        other => panic!("{other:?}"),
    }
}

/// A cancel request from a TLS session reaches the server (the statement fails with 57014),
/// sent over TLS with the session's settings.
#[tokio::test]
async fn cancel_over_tls() {
    let Some(config) = verified_tls_only() else {
        return;
    };
    let mut conn: Connection = config.connect().await.unwrap();
    let token = conn.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel().await
    });
    let started = Instant::now();
    let err = conn.execute("SELECT pg_sleep(30)", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::QUERY_CANCELED);
    assert!(started.elapsed() < Duration::from_secs(20));
    canceller.await.unwrap().unwrap();
    // Still usable.
    conn.simple_query("SELECT 1").await.unwrap();
}
