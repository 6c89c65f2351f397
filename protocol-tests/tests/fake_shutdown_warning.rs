//! The WARNING an immediate shutdown (57P01) or another backend's crash (57P02) sends just
//! before the server closes the socket, from the scripted fake backend: tusk reports it as the
//! reason the call failed (first error wins), and that error must say the connection is
//! closed, as the connection does. Found by the soak (scripts/soak): a COMMIT cut by an
//! immediate shutdown failed with this error while `Error::is_closed` said the connection was
//! still usable, which reads as "the server answered, the commit was rolled back".

use std::time::Duration;

use protocol_tests::fake::{FakeClient, FakeServer};
use protocol_tests::wire;
use tusk::{Connection, Kind, SqlState};

/// A server that answers the first query with the shutdown WARNING `code`, then closes.
async fn announcing_server(code: &'static str, message: &'static str) -> FakeServer {
    FakeServer::start(move |mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&[wire::auth_ok(), wire::startup_tail()].concat())
            .await?;
        let (tag, _) = c.read_message().await?;
        assert_eq!(tag, b'Q');
        let warning = wire::fields(
            b'N',
            &[
                (b'S', "WARNING"),
                (b'V', "WARNING"),
                (b'C', code),
                (b'M', message),
            ],
        );
        c.send(&warning).await?;
        c.close().await
    })
    .await
}

async fn check_reported_as_closed(code: &'static str, state: &SqlState, message: &'static str) {
    let server = announcing_server(code, message).await;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(&server.conn_str("alice", None)),
    )
    .await
    .expect("connect must not hang")
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), conn.batch_execute("COMMIT"))
        .await
        .expect("the call must not hang")
        .unwrap_err();
    assert_eq!(err.code(), Some(state), "the server's reason first: {err}");
    assert!(conn.is_closed());
    assert!(
        err.is_closed(),
        "the session ended with this error, so it must say so: {err}"
    );
    let again = conn.batch_execute("SELECT 1").await.unwrap_err();
    assert_eq!(again.kind(), Kind::Closed, "{again}");
    server.finish().await.unwrap();
}

#[tokio::test]
async fn an_immediate_shutdown_warning_is_a_closed_error() {
    check_reported_as_closed(
        "57P01",
        &SqlState::ADMIN_SHUTDOWN,
        "terminating connection due to immediate shutdown command",
    )
    .await;
}

#[tokio::test]
async fn a_crash_shutdown_warning_is_a_closed_error() {
    check_reported_as_closed(
        "57P02",
        &SqlState::CRASH_SHUTDOWN,
        "terminating connection because of crash of another server process",
    )
    .await;
}
