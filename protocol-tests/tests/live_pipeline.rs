//! Pipelining against the real server: many statements, one flush, results in order.

use protocol_tests::live;
use tusk::{Connection, Kind};

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
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().code().unwrap().code(),
        "22012"
    );
    let aborted = results[2].as_ref().unwrap_err();
    assert!(
        aborted.to_string().contains("earlier statement"),
        "{aborted}"
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
    assert_eq!(results[0].as_ref().unwrap().rows_affected(), Some(1));
    assert_eq!(
        results[1].as_ref().unwrap_err().code().unwrap().code(),
        "22012"
    );
    assert_eq!(
        results[2].as_ref().unwrap_err().code().unwrap().code(),
        "42601"
    );
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
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().kind(), Kind::Conversion);
    assert_eq!(results[2].as_ref().unwrap_err().kind(), Kind::Usage);
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
    for (v, r) in values.iter().zip(&results) {
        assert_eq!(r.as_ref().unwrap().rows()[0].get::<_, i64>(0), *v);
    }
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
