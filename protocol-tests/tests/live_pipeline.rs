//! Pipelining against the real server: many statements, one flush, results in order.

use protocol_tests::errors::{expect_code, expect_db, expect_message};
use protocol_tests::live;
use protocol_tests::proxy::CountingProxy;
use tusk::{Connection, Kind, SqlState, TransactionStatus};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

#[tokio::test]
async fn results_come_back_in_order_with_new_and_cached_statements() {
    let mut conn = admin().await;
    conn.query("SELECT $1::int4 + 0", &[&1i32]).await.unwrap(); // cached now
    let values: Vec<i32> = (0..200).collect();
    let mut p = conn.pipeline();
    for (i, v) in values.iter().enumerate() {
        if i % 2 == 0 {
            p.query("SELECT $1::int4 + 0", &[v]);
        } else {
            p.query("SELECT $1::int4 * 1 AS fresh", &[v]); // prepared inside the pipeline
        }
    }
    p.query("SELECT 'tail'::text", &[]);
    let results = p.run().await.unwrap();
    assert_eq!(results.len(), 201);
    for (i, result) in results[..200].iter().enumerate() {
        let rows = result.as_ref().unwrap().rows();
        assert_eq!(rows[0].get::<_, i32>(0), i as i32);
    }
    let tail = results[200].as_ref().unwrap();
    assert_eq!(tail.rows()[0].get::<_, &str>(0), "tail");
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn one_sync_group_aborts_the_rest_after_an_error() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE pipe_t (a int4)")
        .await
        .unwrap();
    let mut p = conn.pipeline();
    p.execute("INSERT INTO pipe_t VALUES (1)", &[]);
    p.execute("SELECT 1/0", &[]);
    p.execute("INSERT INTO pipe_t VALUES (2)", &[]);
    let results = p.run().await.unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok());
    expect_db(
        results[1].as_ref().unwrap_err(),
        &SqlState::DIVISION_BY_ZERO,
    );
    let aborted = results[2].as_ref().unwrap_err();
    expect_message(
        aborted,
        Kind::Usage,
        "not run: an earlier statement in the same pipeline Sync group failed",
    );
    // The group was one implicit transaction: the first insert was rolled back too.
    let n: i64 = conn
        .query_one("SELECT count(*) FROM pipe_t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn sync_each_isolates_errors() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE pipe_e (a int4)")
        .await
        .unwrap();
    let mut p = conn.pipeline().sync_each(true);
    p.execute("INSERT INTO pipe_e VALUES (1)", &[]);
    p.execute("SELECT 1/0", &[]);
    p.execute("SELEKT nonsense", &[]); // fails at Parse, in phase one
    p.execute("INSERT INTO pipe_e VALUES (2)", &[]);
    let results = p.run().await.unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap().rows_affected(), Some(1));
    expect_db(
        results[1].as_ref().unwrap_err(),
        &SqlState::DIVISION_BY_ZERO,
    );
    expect_db(results[2].as_ref().unwrap_err(), &SqlState::SYNTAX_ERROR);
    assert!(results[3].is_ok());
    let n: i64 = conn
        .query_one("SELECT count(*) FROM pipe_e", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn parameter_errors_are_per_statement_and_nothing_hangs() {
    let mut conn = admin().await;
    let mut p = conn.pipeline().sync_each(true);
    p.query("SELECT $1::int4", &[&1i32]);
    p.query("SELECT $1::int4", &[&"not an int"]);
    p.query("SELECT $1::int4, $2::int4", &[&1i32]);
    p.query("SELECT 2", &[]);
    let results = p.run().await.unwrap();
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok());
    expect_message(
        results[1].as_ref().unwrap_err(),
        Kind::Conversion,
        "cannot encode parameter $1 of SQL type int4 from Rust type &str",
    );
    expect_message(
        results[2].as_ref().unwrap_err(),
        Kind::Usage,
        "the statement has 2 parameter(s) but 1 value(s) were given",
    );
    assert!(results[3].is_ok());
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn a_thousand_cached_statements_in_one_pipeline() {
    let mut conn = admin().await;
    conn.query("SELECT $1::int8", &[&0i64]).await.unwrap();
    let values: Vec<i64> = (0..1000).collect();
    let mut p = conn.pipeline();
    for v in &values {
        p.query("SELECT $1::int8", &[v]);
    }
    let results = p.run().await.unwrap();
    let got: Vec<i64> = results
        .iter()
        .map(|r| {
            let rows = r.as_ref().unwrap().rows();
            assert_eq!(rows.len(), 1);
            rows[0].get(0)
        })
        .collect();
    assert_eq!(got, values);
}

#[tokio::test]
async fn an_empty_pipeline_is_fine() {
    let mut conn = admin().await;
    let results = conn.pipeline().run().await.unwrap();
    assert!(results.is_empty());
}

#[tokio::test]
async fn large_results_in_a_pipeline_keep_their_rows_apart() {
    // Many socket reads' worth of rows, so they are taken a buffered run at a time, with the
    // next statement's rows right behind them.
    let mut conn = admin().await;
    let mut p = conn.pipeline();
    p.query(
        "SELECT i, md5(i::text) FROM generate_series(1, 50000) i",
        &[],
    );
    p.query("SELECT -i FROM generate_series(1, 3) i", &[]);
    let results = p.run().await.unwrap();
    assert_eq!(results.len(), 2);
    let big = results[0].as_ref().unwrap().rows();
    assert_eq!(big.len(), 50000);
    for (i, row) in big.iter().enumerate() {
        assert_eq!(row.get::<_, i32>(0), i as i32 + 1);
        assert_eq!(row.get::<_, &str>(1).len(), 32);
    }
    let small: Vec<i32> = results[1]
        .as_ref()
        .unwrap()
        .rows()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(small, [-1, -2, -3]);
}

#[tokio::test]
async fn aborted_transaction_pipeline_is_refused_locally_without_a_round_trip() {
    // Through a byte-counting proxy, so the test tells tusk's refusal from the server's (which
    // would also say 25P02, but only after the statements were sent).
    let proxy = CountingProxy::start(live::port()).await;
    let conn_str = format!(
        "host=127.0.0.1 port={} user=tusk password=tusk dbname=tusk",
        proxy.port
    );
    let mut conn = Connection::connect(&conn_str).await.unwrap();
    conn.batch_execute("CREATE TEMP SEQUENCE pipe_seq")
        .await
        .unwrap();
    // Cached before the transaction fails, so the pipeline needs no Parse for them.
    conn.query("SELECT nextval('pipe_seq')", &[]).await.unwrap(); // 1
    let stmt = conn.prepare("SELECT $1::int4").await.unwrap();
    conn.batch_execute("BEGIN").await.unwrap();
    let err = conn.query("SELECT 1/0", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    assert_eq!(conn.transaction_status(), TransactionStatus::Failed);

    let before = proxy.bytes_sent();
    let mut p = conn.pipeline();
    p.query("SELECT nextval('pipe_seq')", &[]); // cached SQL
    p.query(&stmt, &[&1i32]); // a prepared statement
    p.query("SELECT 'never prepared'::text", &[]); // new SQL
    let results = p.run().await.unwrap();
    assert_eq!(results.len(), 3);
    for result in &results {
        let err = result.as_ref().unwrap_err();
        expect_message(
            err,
            Kind::AbortedTransaction,
            "current transaction is aborted, commands ignored until end of transaction block: \
             roll back (or roll back to a savepoint) first; nothing was sent to the server",
        );
        expect_code(err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        proxy.bytes_sent(),
        before,
        "a refused pipeline statement reached the server"
    );

    conn.batch_execute("ROLLBACK").await.unwrap();
    // Sequences are not transactional: had nextval run, the next value would be 3.
    let next: i64 = conn
        .query_one("SELECT nextval('pipe_seq')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(next, 2);
}

#[tokio::test]
async fn a_stale_plan_in_a_pipeline_is_evicted_so_the_next_pipeline_reprepares() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE pipe_shape (a int4); INSERT INTO pipe_shape VALUES (1)")
        .await
        .unwrap();
    let mut p = conn.pipeline();
    p.query("SELECT * FROM pipe_shape", &[]);
    assert_eq!(
        p.run().await.unwrap()[0].as_ref().unwrap().columns().len(),
        1
    );
    conn.batch_execute("ALTER TABLE pipe_shape ADD COLUMN b text DEFAULT 'new'")
        .await
        .unwrap();
    // The server refuses the cached plan (0A000, "cached plan must not change result type").
    let mut p = conn.pipeline();
    p.query("SELECT * FROM pipe_shape", &[]);
    let results = p.run().await.unwrap();
    let err = results[0].as_ref().unwrap_err();
    expect_db(err, &SqlState::FEATURE_NOT_SUPPORTED);
    assert_eq!(
        err.as_db_error().unwrap().message,
        "cached plan must not change result type"
    );
    // The entry was evicted: the next pipeline prepares afresh and sees both columns.
    let mut p = conn.pipeline();
    p.query("SELECT * FROM pipe_shape", &[]);
    let results = p.run().await.unwrap();
    let result = results[0].as_ref().unwrap();
    assert_eq!(result.columns().len(), 2);
    assert_eq!(result.rows()[0].get::<_, &str>("b"), "new");
}

#[tokio::test]
async fn a_pipeline_that_sends_no_statement_still_ends_its_queued_closes() {
    // With the cache off, a dropped statement's Close waits for the next request. A pipeline
    // whose every statement is refused before sending must not leave that Close unsynced,
    // or its CloseComplete turns up in the middle of the next simple query.
    let config: tusk::Config = live::admin().parse().unwrap();
    let mut conn = config.statement_cache_capacity(0).connect().await.unwrap();
    let dropped = conn.prepare("SELECT 1").await.unwrap();
    let stmt = conn.prepare("SELECT $1::int4").await.unwrap();
    drop(dropped);
    let mut p = conn.pipeline();
    p.query(&stmt, &[]); // wrong parameter count: refused locally
    let results = p.run().await.unwrap();
    expect_message(
        results[0].as_ref().unwrap_err(),
        Kind::Usage,
        "the statement has 1 parameter(s) but 0 value(s) were given",
    );
    conn.batch_execute("SELECT 1").await.unwrap();
    let rows = conn
        .simple_query("SELECT count(*) FROM pg_prepared_statements")
        .await
        .unwrap();
    let tusk::SimpleQueryMessage::Row(row) = &rows[0] else {
        panic!("{rows:?}")
    };
    // Only `stmt` is left: the dropped one was closed.
    assert_eq!(row.get(0), Some("1"));
}
