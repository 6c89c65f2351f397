//! The protocol's limits, refused locally with a clear error before anything is sent, against
//! the real server (which would otherwise see a wrapped 16-bit count).

use protocol_tests::errors::expect_message;
use protocol_tests::live;
use tusk::{Connection, Kind};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// More parameters than the protocol's 16-bit count can carry are refused before anything is
/// sent (the server's ParameterDescription count would wrap), and the connection stays usable.
#[tokio::test]
async fn more_than_65535_parameters_are_refused_before_sending() {
    let mut conn = admin().await;
    let n = 70_000;
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}::int4")).collect();
    let sql = format!("SELECT ARRAY[{}]", placeholders.join(","));
    let values: Vec<i32> = (0..n).collect();
    let params: Vec<&(dyn tusk::types::ToSql + Sync)> = values
        .iter()
        .map(|v| v as &(dyn tusk::types::ToSql + Sync))
        .collect();
    let err = conn.query(sql.as_str(), &params).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "70000 parameters were given; the protocol allows at most 65535 per statement",
    );
    assert!(!conn.is_closed());
    // A pipeline refuses that statement alone; the pool before describing it.
    let mut pipeline = conn.pipeline();
    pipeline.query(sql.as_str(), &params);
    pipeline.query("SELECT 2", &[]);
    let results = pipeline.run().await.unwrap();
    expect_message(
        results[0].as_ref().unwrap_err(),
        Kind::Usage,
        "70000 parameters were given; the protocol allows at most 65535 per statement",
    );
    let second = results[1].as_ref().unwrap();
    assert_eq!(second.rows()[0].get::<_, i32>(0), 2);
    let pool = tusk::Pool::builder(live::admin().parse().unwrap())
        .max_size(1)
        .build();
    let err = pool.query(sql.as_str(), &params).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "70000 parameters were given; the protocol allows at most 65535 per statement",
    );
    let row = pool.query_one("SELECT 3", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 3);
    let row = conn.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
}

/// A message longer than the server accepts from a client (1 GiB less 2 bytes, its
/// `PQ_LARGE_MESSAGE_LIMIT`) is refused before anything is sent: sent, it would make the server
/// end the session ("invalid message length"). The connection stays usable.
#[tokio::test]
async fn a_message_over_the_servers_1_gib_limit_is_refused_before_sending() {
    let mut conn = admin().await;
    // The Bind carries this value plus its own header and lengths: just over the limit.
    let big = "a".repeat(tusk::proto::MAX_FRONTEND_MESSAGE_LEN);
    let err = conn
        .query_one("SELECT length($1::text)", &[&big.as_str()])
        .await
        .unwrap_err();
    drop(big);
    expect_message(
        &err,
        Kind::Protocol,
        "more than the server accepts from a client",
    );
    assert!(!conn.is_closed(), "{err}");
    let row = conn.query_one("SELECT 41 + 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
}
