//! `target_session_attrs` and multi-host routing where a real server will not oblige on demand
//! (scripted fake backends, NOT a real PostgreSQL): a server older than 14 that does not report
//! `in_hot_standby`, a server answering "starting up" (57P03), and a refusal that must stop the
//! search. The live cases against a real primary and standby are in `live_routing.rs`.

use std::time::Duration;

use protocol_tests::fake::{FakeClient, FakeServer};
use protocol_tests::wire;
use tusk::proto::server::FrontendMessage;
use tusk::{Config, Connection, Kind, SqlState};

/// Connects within a deadline, so a hang fails the test instead of stalling it.
async fn connect(conn_str: &str) -> Result<Connection, tusk::Error> {
    let config: Config = conn_str.parse().expect("valid connection string");
    tokio::time::timeout(Duration::from_secs(10), config.connect())
        .await
        .expect("connect must not hang")
}

/// Startup as a PostgreSQL 13 server would answer it: no `in_hot_standby`, no
/// `default_transaction_read_only`.
async fn old_server_startup(c: &mut FakeClient) -> std::io::Result<()> {
    c.read_startup().await?;
    c.send(&[wire::auth_ok(), wire::startup_tail()].concat())
        .await
}

/// A server that asks `expected_sql` after startup and answers `value`, then expects either
/// Terminate (when passed over) or nothing more.
async fn asked(
    mut c: FakeClient,
    expected_sql: &'static str,
    value: &'static str,
) -> std::io::Result<(FakeClient, Vec<u8>)> {
    old_server_startup(&mut c).await?;
    let query = c.read_frontend().await?;
    assert_eq!(query, FrontendMessage::Query(expected_sql.into()));
    c.send(&wire::one_value_reply("x", value)).await?;
    Ok((c, Vec::new()))
}

#[tokio::test]
async fn an_old_server_is_asked_whether_it_is_read_only() {
    let server = FakeServer::start(|c: FakeClient| async move {
        let (mut c, _) = asked(c, "SHOW transaction_read_only", "on").await?;
        // Passed over politely: Terminate, then the client closes.
        let (tag, _) = c.read_message().await?;
        assert_eq!(tag, b'X', "a passed-over session is ended with Terminate");
        Ok(())
    })
    .await;
    let e = connect(&format!(
        "{} target_session_attrs=read-write",
        server.conn_str("alice", None)
    ))
    .await
    .unwrap_err();
    assert_eq!(e.kind(), Kind::ServerRole, "{e}");
    assert!(e.to_string().contains("session is read-only"), "{e}");
    server.finish().await.unwrap();
}

#[tokio::test]
async fn an_old_server_is_asked_whether_it_is_in_recovery() {
    let server = FakeServer::start(|c: FakeClient| async move {
        let (mut c, _) = asked(c, "SELECT pg_catalog.pg_is_in_recovery()", "t").await?;
        // Accepted: the session is used for a query next.
        let (tag, _) = c.read_message().await?;
        assert_eq!(tag, b'Q');
        c.send(&wire::one_value_reply("?column?", "1")).await?;
        Ok(())
    })
    .await;
    let mut conn = connect(&format!(
        "{} target_session_attrs=standby",
        server.conn_str("alice", None)
    ))
    .await
    .expect("a server in recovery is a standby");
    let rows = conn.simple_query("SELECT 1").await.unwrap();
    assert!(!rows.is_empty());
    server.finish().await.unwrap();
}

#[tokio::test]
async fn a_server_that_reports_its_role_is_not_asked() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(
            &[
                wire::auth_ok(),
                wire::parameter_status("in_hot_standby", "off"),
                wire::parameter_status("default_transaction_read_only", "off"),
                wire::startup_tail(),
            ]
            .concat(),
        )
        .await?;
        // The first thing the client sends is the test's own query, not a role query.
        let query = c.read_frontend().await?;
        assert_eq!(query, FrontendMessage::Query("SELECT 2".into()));
        c.send(&wire::one_value_reply("?column?", "2")).await
    })
    .await;
    let mut conn = connect(&format!(
        "{} target_session_attrs=primary",
        server.conn_str("alice", None)
    ))
    .await
    .unwrap();
    conn.simple_query("SELECT 2").await.unwrap();
    server.finish().await.unwrap();
}

#[tokio::test]
async fn starting_up_moves_to_the_next_host_and_every_failure_is_listed() {
    let starting = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::fatal("57P03", "the database system is starting up"))
            .await
    })
    .await;
    // A port nobody listens on: bind one and drop it.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let standby = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(
            &[
                wire::auth_ok(),
                wire::parameter_status("in_hot_standby", "on"),
                wire::parameter_status("default_transaction_read_only", "off"),
                wire::startup_tail(),
            ]
            .concat(),
        )
        .await?;
        let (tag, _) = c.read_message().await?;
        assert_eq!(tag, b'X');
        Ok(())
    })
    .await;
    let conn_str = format!(
        "host=127.0.0.1,127.0.0.1,127.0.0.1 port={},{closed_port},{} user=alice dbname=fake \
         sslmode=disable connect_timeout=5 target_session_attrs=read-write",
        starting.addr.port(),
        standby.addr.port()
    );
    let e = connect(&conn_str).await.unwrap_err();
    let text = e.to_string();
    // The last failure decides the kind; every server is named, in order, with its reason.
    assert_eq!(e.kind(), Kind::ServerRole, "{text}");
    assert!(
        text.contains("could not connect to any of 3 servers tried"),
        "{text}"
    );
    let first = text.find(&format!("(1) 127.0.0.1:{}", starting.addr.port()));
    let second = text.find(&format!("(2) 127.0.0.1:{closed_port}"));
    let third = text.find(&format!("(3) 127.0.0.1:{}", standby.addr.port()));
    assert!(
        first < second && second < third && first.is_some(),
        "{text}"
    );
    assert!(text.contains("starting up"), "{text}");
    assert!(text.contains("refused"), "{text}");
    assert!(text.contains("session is read-only"), "{text}");
    starting.finish().await.unwrap();
    standby.finish().await.unwrap();
}

#[tokio::test]
async fn an_authentication_failure_stops_the_search() {
    let refusing = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::fatal("28P01", "password authentication failed"))
            .await
    })
    .await;
    // A second server that must never be contacted: its script would fail the accept wait.
    let second = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second_port = second.local_addr().unwrap().port();
    let conn_str = format!(
        "host=127.0.0.1,127.0.0.1 port={},{second_port} user=alice dbname=fake \
         sslmode=disable connect_timeout=5",
        refusing.addr.port()
    );
    let e = connect(&conn_str).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD), "{e}");
    let contacted = tokio::time::timeout(Duration::from_millis(300), second.accept()).await;
    assert!(contacted.is_err(), "the second host must not be tried");
    refusing.finish().await.unwrap();
}
