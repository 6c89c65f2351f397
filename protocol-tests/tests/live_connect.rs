//! Connection, authentication and the simple query protocol against the real throwaway
//! PostgreSQL started by `scripts/test-server`.

use protocol_tests::errors::{expect_code, expect_db, expect_message};
use protocol_tests::live;
use tusk::{Config, Connection, Kind, SimpleQueryMessage, SqlState, TransactionStatus};

const ROLES: [(&str, &str); 4] = [
    ("tusk_trust", "unused"),
    ("tusk_password", "pw_password"),
    ("tusk_md5", "pw_md5"),
    ("tusk_scram", "pw_scram"),
];

#[tokio::test]
async fn login_with_each_auth_method() {
    for (user, password) in ROLES {
        let mut conn = Connection::connect(&live::tcp(user, password))
            .await
            .unwrap_or_else(|e| panic!("{user}: {e}"));
        let rows = conn.simple_query("SELECT current_user").await.unwrap();
        match &rows[0] {
            SimpleQueryMessage::Row(row) => assert_eq!(row.get(0), Some(user)),
            other => panic!("{other:?}"),
        }
        assert!(conn.parameter("server_version").unwrap().starts_with("15"));
        assert!(conn.backend_pid().unwrap() > 0);
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn wrong_password_for_each_method_is_28p01() {
    for (user, _) in &ROLES[1..] {
        let err = Connection::connect(&live::tcp(user, "wrong"))
            .await
            .expect_err(user);
        expect_db(&err, &SqlState::INVALID_PASSWORD);
        assert_eq!(
            err.as_db_error().unwrap().message,
            format!("password authentication failed for user \"{user}\"")
        );
        assert_eq!(err.as_db_error().unwrap().severity, "FATAL");
        // The password never leaks into the error.
        assert!(!err.to_string().contains("wrong"), "{err}");
    }
}

#[tokio::test]
async fn rejected_role_is_28000() {
    let err = Connection::connect(&live::tcp("tusk_reject", "x"))
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
}

#[tokio::test]
async fn missing_database_is_3d000() {
    let conn_str = format!(
        "host=127.0.0.1 port={} user=tusk password=tusk dbname=no_such_db",
        live::port()
    );
    let err = Connection::connect(&conn_str).await.unwrap_err();
    expect_db(&err, &SqlState::INVALID_CATALOG_NAME);
    assert!(err.to_string().contains("no_such_db"), "{err}");
}

#[tokio::test]
async fn unix_socket_login() {
    let conn_str = format!(
        "host={} port={} user=tusk_scram password=pw_scram dbname=tusk",
        live::socket_dir(),
        live::port()
    );
    let mut conn = Connection::connect(&conn_str).await.unwrap();
    let rows = conn
        .simple_query("SELECT inet_server_addr() IS NULL")
        .await
        .unwrap();
    // Over a Unix socket the server has no inet address.
    match &rows[0] {
        SimpleQueryMessage::Row(row) => assert_eq!(row.get(0), Some("t")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn url_and_builder_connect() {
    let url = format!("postgres://tusk:tusk@127.0.0.1:{}/tusk", live::port());
    let conn = Connection::connect(&url).await.unwrap();
    conn.close().await.unwrap();
    let conn = Config::new()
        .host("127.0.0.1")
        .port(live::port())
        .user("tusk_md5")
        .password("pw_md5")
        .dbname("tusk")
        .application_name("tusk-tests")
        .connect()
        .await
        .unwrap();
    assert_eq!(conn.parameter("application_name"), Some("tusk-tests"));
}

#[tokio::test]
async fn batch_execute_runs_several_statements_and_stops_at_the_first_error() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute(
        "CREATE TEMP TABLE batch_t (a int); INSERT INTO batch_t VALUES (1), (2); \
         INSERT INTO batch_t SELECT a + 10 FROM batch_t",
    )
    .await
    .unwrap();
    let rows = conn
        .simple_query("SELECT count(*) FROM batch_t")
        .await
        .unwrap();
    assert!(matches!(&rows[0], SimpleQueryMessage::Row(r) if r.get(0) == Some("4")));

    let err = conn
        .batch_execute(
            "INSERT INTO batch_t VALUES (100); SELECT 1/0; INSERT INTO batch_t VALUES (200)",
        )
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    // A multi-statement simple query is one implicit transaction: nothing of it stays.
    let rows = conn
        .simple_query("SELECT count(*) FROM batch_t")
        .await
        .unwrap();
    assert!(matches!(&rows[0], SimpleQueryMessage::Row(r) if r.get(0) == Some("4")));
    // And the connection is usable.
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn simple_query_returns_text_rows_nulls_and_command_tags() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let msgs = conn
        .simple_query("SELECT 1 AS a, NULL::text AS b, 'é' AS c; CREATE TEMP TABLE s (x int); ")
        .await
        .unwrap();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    let SimpleQueryMessage::Row(row) = &msgs[0] else {
        panic!("{msgs:?}")
    };
    assert_eq!(row.columns(), &["a", "b", "c"]);
    assert_eq!(row.get("a"), Some("1"));
    assert_eq!(row.get(1), None);
    assert_eq!(row.get("c"), Some("é"));
    let err = row.try_get("nope").unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "no column nope in a row with columns [\"a\", \"b\", \"c\"]",
    );
    assert!(matches!(
        &msgs[1],
        SimpleQueryMessage::CommandComplete { rows: Some(1), .. }
    ));
    assert!(
        matches!(&msgs[2], SimpleQueryMessage::CommandComplete { tag, rows: None } if tag == "CREATE TABLE")
    );
    // An empty query is fine.
    assert!(conn.simple_query("").await.unwrap().is_empty());
}

#[tokio::test]
async fn transaction_status_follows_raw_sql_and_aborted_transactions_are_refused_locally() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    conn.batch_execute("BEGIN").await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::InTransaction);
    let err = conn.batch_execute("SELECT 1/0").await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    assert_eq!(conn.transaction_status(), TransactionStatus::Failed);
    let err = conn.batch_execute("SELECT 1").await.unwrap_err();
    expect_message(
        &err,
        Kind::AbortedTransaction,
        "current transaction is aborted, commands ignored until end of transaction block: roll \
         back (or roll back to a savepoint) first; nothing was sent to the server",
    );
    expect_code(&err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    conn.batch_execute("/* comment */ rollback").await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    conn.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn parameter_status_updates_are_visible() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute("SET TIME ZONE 'Europe/Rome'")
        .await
        .unwrap();
    assert_eq!(conn.parameter("TimeZone"), Some("Europe/Rome"));
    conn.batch_execute("SET application_name = 'renamed'")
        .await
        .unwrap();
    assert_eq!(conn.parameter("application_name"), Some("renamed"));
}

#[tokio::test]
async fn copy_from_stdin_through_simple_query_fails_cleanly() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute("CREATE TEMP TABLE c (a int)")
        .await
        .unwrap();
    let err = conn.batch_execute("COPY c FROM STDIN").await.unwrap_err();
    // Refused the same way as through execute/query/streams, with the server's answer to
    // tusk's CopyFail (57014, quoting the reason) as the source.
    expect_message(
        &err,
        Kind::Usage,
        "COPY cannot run through simple_query or batch_execute: use copy_in / copy_out",
    );
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<tusk::Error>())
        .expect("the server's error is the source");
    expect_db(source, &SqlState::QUERY_CANCELED);
    assert!(
        source
            .as_db_error()
            .unwrap()
            .message
            .starts_with("COPY from stdin failed: COPY FROM STDIN cannot run here"),
        "{source}"
    );
    // COPY TO STDOUT is refused too (its data is drained), rather than silently dropped.
    let err = conn
        .simple_query("COPY (SELECT 1) TO STDOUT")
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "COPY cannot run through simple_query or batch_execute: use copy_in / copy_out",
    );
    conn.batch_execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn connect_timeout_to_an_unresponsive_host() {
    // A listener that accepts but never answers: the startup must time out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _keep = tokio::spawn(async move {
        let _sock = listener.accept().await;
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    });
    let started = std::time::Instant::now();
    let err = Connection::connect(&format!(
        "host=127.0.0.1 port={port} user=x dbname=x connect_timeout=2"
    ))
    .await
    .unwrap_err();
    expect_message(
        &err,
        Kind::Timeout,
        &format!("could not connect to 127.0.0.1:{port} within 2s"),
    );
    // Its own kind and no SQLSTATE: not 57014, which means a statement the server cancelled.
    assert_eq!(err.code(), None);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn multiple_hosts_fall_through_to_the_one_that_answers() {
    // Port 1 on loopback refuses; the second host is the real server.
    let conn_str = format!(
        "postgres://tusk:tusk@127.0.0.1:1,127.0.0.1:{}/tusk",
        live::port()
    );
    let conn = Connection::connect(&conn_str).await.unwrap();
    assert!(conn.backend_pid().is_some());
}
