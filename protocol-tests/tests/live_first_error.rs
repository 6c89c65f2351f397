//! The first error wins: when the server ends a session in the middle of a call
//! (`pg_terminate_backend`, SQLSTATE 57P01), the caller sees the server's FATAL, not the reset
//! or broken pipe of a write that followed it. Each API that keeps writing while it reads
//! (a stream fetching batch after batch, a pipeline, COPY in both directions) is run against
//! the real server and terminated from a second session.

use std::time::Duration;

use protocol_tests::live;
use tusk::{Connection, Error, SqlState};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// Ends the session of `pid` from another connection, as an operator would.
async fn terminate(pid: i32) {
    let mut killer = admin().await;
    let done: bool = killer
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(done, "backend {pid} was not terminated");
}

fn expect_terminated(err: &Error, what: &str) {
    assert_eq!(
        err.code(),
        Some(&SqlState::ADMIN_SHUTDOWN),
        "{what}: the server's 57P01 must be what the caller sees, got: {err}"
    );
}

#[tokio::test]
async fn a_stream_reports_the_servers_fatal() {
    let mut conn = admin().await;
    let pid = conn.backend_pid().unwrap();
    // Small batches: the stream keeps sending Execute while it reads.
    let mut stream = conn
        .query_stream_batched(
            "SELECT i, pg_sleep(0.002) FROM generate_series(1, 100000) i",
            &[],
            5,
        )
        .await
        .unwrap();
    for _ in 0..20 {
        stream.try_next().await.unwrap().unwrap();
    }
    terminate(pid).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => continue,
            Err(e) => break e,
            Ok(None) => panic!("the stream ended without an error"),
        }
    };
    expect_terminated(&err, "query_stream");
    drop(stream);
    assert!(conn.is_closed());
}

#[tokio::test]
async fn a_pipeline_reports_the_servers_fatal() {
    let mut conn = admin().await;
    let pid = conn.backend_pid().unwrap();
    let kill = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        terminate(pid).await;
    });
    let sleep = "SELECT pg_sleep(0.02)";
    let mut pipeline = conn.pipeline();
    for _ in 0..200 {
        pipeline.query(sleep, &[]);
    }
    let outcome = pipeline.run().await;
    kill.await.unwrap();
    let err = match outcome {
        Err(e) => e,
        Ok(results) => results
            .into_iter()
            .find_map(Result::err)
            .expect("a statement of the pipeline must have failed"),
    };
    expect_terminated(&err, "pipeline");
}

#[tokio::test]
async fn copy_out_reports_the_servers_fatal() {
    let mut conn = admin().await;
    let pid = conn.backend_pid().unwrap();
    let mut out = conn
        .copy_out("COPY (SELECT i, pg_sleep(0.002) FROM generate_series(1, 100000) i) TO STDOUT")
        .await
        .unwrap();
    out.next_chunk().await.unwrap().unwrap();
    terminate(pid).await;
    let err = loop {
        match out.next_chunk().await {
            Ok(Some(_)) => continue,
            Err(e) => break e,
            Ok(None) => panic!("the copy ended without an error"),
        }
    };
    expect_terminated(&err, "copy_out");
}

#[tokio::test]
async fn copy_in_reports_the_servers_fatal() {
    let mut conn = admin().await;
    let pid = conn.backend_pid().unwrap();
    conn.batch_execute("CREATE TEMP TABLE first_error_copy (line text)")
        .await
        .unwrap();
    let mut sink = conn
        .copy_in("COPY first_error_copy FROM STDIN")
        .await
        .unwrap();
    sink.send(b"before\n").await.unwrap();
    terminate(pid).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Keep writing until the dead session shows: every write after the FATAL fails with it.
    let mut line = vec![b'x'; 64 * 1024];
    *line.last_mut().unwrap() = b'\n';
    let mut err = None;
    for _ in 0..1000 {
        if let Err(e) = sink.send(&line).await {
            err = Some(e);
            break;
        }
    }
    let err = match err {
        Some(e) => e,
        None => sink.finish().await.unwrap_err(),
    };
    expect_terminated(&err, "copy_in");
}

#[tokio::test]
async fn a_server_cursor_reports_the_servers_fatal() {
    let mut conn = admin().await;
    let pid = conn.backend_pid().unwrap();
    let mut cursor = conn.server_cursor("first_error_cursor").itersize(10);
    cursor
        .execute("SELECT generate_series(1, 1000)", &[])
        .await
        .unwrap();
    cursor.fetch_many(10).await.unwrap();
    terminate(pid).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = cursor.fetch_many(10).await.unwrap_err();
    expect_terminated(&err, "server cursor");
}

#[tokio::test]
async fn a_notification_wait_reports_the_servers_fatal() {
    let mut conn = admin().await;
    let pid = conn.backend_pid().unwrap();
    conn.batch_execute("LISTEN first_error_channel")
        .await
        .unwrap();
    let kill = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        terminate(pid).await;
    });
    let err = tokio::time::timeout(Duration::from_secs(10), conn.next_notification())
        .await
        .expect("the wait must end when the session does")
        .unwrap_err();
    kill.await.unwrap();
    expect_terminated(&err, "next_notification");
    assert!(conn.is_closed());
}
