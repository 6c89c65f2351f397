//! The statement cache against the real server: which statement an eviction closes (seen in
//! the server's `pg_prepared_statements`), and stale plans inside transactions.

use protocol_tests::live;
use tusk::{Connection, SimpleQueryMessage, TransactionStatus};

/// The SQL of tusk's named statements still prepared on the server, sorted. Read with the
/// simple protocol so the statement cache is neither used nor changed.
async fn prepared_sql(conn: &mut Connection) -> Vec<String> {
    conn.simple_query(
        "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'tusk_s%' ORDER BY 1",
    )
    .await
    .unwrap()
    .iter()
    .filter_map(|msg| match msg {
        SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap().to_owned()),
        _ => None,
    })
    .collect()
}

#[tokio::test]
async fn the_cache_evicts_the_least_recently_used_statement() {
    let config: tusk::Config = live::admin().parse().unwrap();
    let mut conn = config.statement_cache_capacity(2).connect().await.unwrap();
    conn.query("SELECT 'a'::text", &[]).await.unwrap();
    conn.query("SELECT 'b'::text", &[]).await.unwrap();
    conn.query("SELECT 'a'::text", &[]).await.unwrap(); // 'a' is now the most recently used
    assert_eq!(
        prepared_sql(&mut conn).await,
        ["SELECT 'a'::text", "SELECT 'b'::text"]
    );
    conn.query("SELECT 'c'::text", &[]).await.unwrap(); // full: evicts 'b'
    conn.query("SELECT 'c'::text", &[]).await.unwrap(); // a cache hit; sends the Close
    assert_eq!(
        prepared_sql(&mut conn).await,
        ["SELECT 'a'::text", "SELECT 'c'::text"]
    );
    // 'a' is still cached: running it prepares nothing new.
    conn.query("SELECT 'a'::text", &[]).await.unwrap();
    assert_eq!(
        prepared_sql(&mut conn).await,
        ["SELECT 'a'::text", "SELECT 'c'::text"]
    );
}

#[tokio::test]
async fn a_stale_plan_inside_a_transaction_is_evicted_for_after_rollback_to_savepoint() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute("CREATE TEMP TABLE tx_shape (a int4); INSERT INTO tx_shape VALUES (1)")
        .await
        .unwrap();
    let sql = "SELECT * FROM tx_shape";
    assert_eq!(conn.query(sql, &[]).await.unwrap()[0].len(), 1); // cached, one column

    let mut tx = conn.transaction().await.unwrap();
    // Before the savepoint, so rolling back to it keeps the new shape.
    tx.batch_execute("ALTER TABLE tx_shape ADD COLUMN b text DEFAULT 'new'")
        .await
        .unwrap();
    {
        let mut sp = tx.transaction().await.unwrap(); // SAVEPOINT
                                                      // The server refuses the cached plan; inside a transaction tusk cannot retry.
        let err = sp.query(sql, &[]).await.unwrap_err();
        assert_eq!(err.code().unwrap().code(), "0A000", "{err}");
        assert!(
            err.to_string()
                .contains("cached plan must not change result type"),
            "{err}"
        );
        assert_eq!(sp.transaction_status(), TransactionStatus::Failed);
        sp.rollback().await.unwrap(); // ROLLBACK TO SAVEPOINT
    }
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    // The stale entry is gone: the same SQL is prepared afresh and sees both columns.
    let rows = tx.query(sql, &[]).await.unwrap();
    assert_eq!(rows[0].len(), 2);
    assert_eq!(rows[0].get::<_, &str>("b"), "new");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_stale_plan_met_by_a_stream_or_a_portal_is_evicted_too() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute("CREATE TEMP TABLE st_shape (a int4); INSERT INTO st_shape VALUES (1)")
        .await
        .unwrap();
    let sql = "SELECT * FROM st_shape";
    assert_eq!(conn.query(sql, &[]).await.unwrap()[0].len(), 1); // cached, one column

    conn.batch_execute("ALTER TABLE st_shape ADD COLUMN b int4 DEFAULT 2")
        .await
        .unwrap();
    let err = conn.query_stream(sql, &[]).await.unwrap_err();
    assert_eq!(err.code().unwrap().code(), "0A000", "{err}");
    let mut stream = conn.query_stream(sql, &[]).await.unwrap();
    assert_eq!(stream.columns().len(), 2);
    let row = stream.try_next().await.unwrap().unwrap();
    assert_eq!(row.get::<_, i32>("b"), 2);
    assert!(stream.try_next().await.unwrap().is_none());
    drop(stream);

    conn.batch_execute("ALTER TABLE st_shape ADD COLUMN c int4 DEFAULT 3")
        .await
        .unwrap();
    let mut tx = conn.transaction().await.unwrap();
    let err = tx.bind(sql, &[]).await.unwrap_err();
    assert_eq!(err.code().unwrap().code(), "0A000", "{err}");
    tx.rollback().await.unwrap();
    let mut tx = conn.transaction().await.unwrap();
    let portal = tx.bind(sql, &[]).await.unwrap();
    assert_eq!(portal.columns().len(), 3);
    let rows = tx.query_portal(&portal, 0).await.unwrap();
    assert_eq!(rows[0].get::<_, i32>("c"), 3);
    drop(portal);
    tx.commit().await.unwrap();
}
