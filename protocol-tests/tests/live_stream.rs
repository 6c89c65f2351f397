//! Row streaming, named portals and server-side cursors against the real throwaway
//! PostgreSQL: every value of a million-row stream, streams dropped half-way, errors before
//! and during a stream, portals resumed over several calls, and named cursors fetching in
//! batches (with and without hold).

use std::time::Instant;

use protocol_tests::errors::{expect_code, expect_db, expect_message};
use protocol_tests::live;
use protocol_tests::poll::poll_n_times;
use tusk::{Connection, GenericClient, Kind, Row, SqlState, TransactionStatus};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// Checks that the connection answers correctly and is idle.
async fn check(conn: &mut Connection, tag: i64) {
    let row = conn
        .query_one("SELECT $1::int8 AS tag", &[&tag])
        .await
        .unwrap_or_else(|e| panic!("check {tag}: {e}"));
    assert_eq!(row.get::<_, i64>(0), tag);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

/// The four columns of the big stream, computed by the server for row `i`.
const WIDE_ROWS: &str = "SELECT i::int8 AS id, lpad(to_hex(i::int8 * 7919), 32, '-') AS label, \
     i * 0.5::float8 AS half, \
     timestamptz '2000-01-01 00:00:00+00' + i * interval '1 second' AS at \
     FROM generate_series(1, $1::int4) i";

/// Checks one row of [`WIDE_ROWS`] against the same formulas in Rust.
fn check_wide_row(row: &Row, i: i64) {
    assert_eq!(row.get::<_, i64>(0), i);
    let label: &str = row.get(1);
    assert_eq!(
        label,
        format!("{:->32}", format!("{:x}", i * 7919)),
        "row {i}"
    );
    assert_eq!(row.get::<_, f64>(2), i as f64 * 0.5);
    // timestamptz travels as microseconds since 2000-01-01 UTC.
    let micros = i64::from_be_bytes(row.raw(3).unwrap().try_into().unwrap());
    assert_eq!(micros, i * 1_000_000, "row {i}");
}

#[tokio::test]
async fn stream_a_million_rows_and_check_every_value() {
    let mut conn = admin().await;
    let started = Instant::now();
    let mut rows = conn
        .query_stream(WIDE_ROWS, &[&1_000_000i32])
        .await
        .unwrap();
    let names: Vec<&str> = rows.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["id", "label", "half", "at"]);
    let mut expected = 1i64;
    while let Some(row) = rows.try_next().await.unwrap() {
        check_wide_row(&row, expected);
        expected += 1;
    }
    assert_eq!(expected - 1, 1_000_000);
    assert_eq!(rows.rows_affected(), Some(1_000_000));
    // Finished: polling again yields nothing.
    assert!(rows.try_next().await.unwrap().is_none());
    drop(rows);
    eprintln!(
        "streamed and checked 1,000,000 rows in {:?}",
        started.elapsed()
    );
    check(&mut conn, 1).await;
}

#[tokio::test]
async fn every_batch_size_and_the_single_execute_give_the_same_rows() {
    let mut conn = admin().await;
    for batch in [0u32, 1, 2, 3, 7, 100, 4096] {
        let mut rows = conn
            .query_stream_batched(WIDE_ROWS, &[&1000i32], batch)
            .await
            .unwrap();
        let mut n = 0i64;
        while let Some(row) = rows.try_next().await.unwrap() {
            n += 1;
            check_wide_row(&row, n);
        }
        assert_eq!(n, 1000, "batch {batch}");
        assert_eq!(rows.rows_affected(), Some(1000), "batch {batch}");
        drop(rows);
        check(&mut conn, i64::from(batch)).await;
    }
    // An empty result, and a statement without rows.
    let mut rows = conn
        .query_stream("SELECT 1 WHERE false", &[])
        .await
        .unwrap();
    assert!(rows.try_next().await.unwrap().is_none());
    assert_eq!(rows.rows_affected(), Some(0));
    drop(rows);
    conn.batch_execute("CREATE TEMP TABLE s (a int)")
        .await
        .unwrap();
    let mut rows = conn
        .query_stream("INSERT INTO s SELECT generate_series(1, 5)", &[])
        .await
        .unwrap();
    assert!(rows.columns().is_empty());
    assert!(rows.try_next().await.unwrap().is_none());
    assert_eq!(rows.rows_affected(), Some(5));
    drop(rows);
    check(&mut conn, 2).await;

    // Statements that run to completion at the first Execute and hand their rows out in
    // batches: resuming them (and the Execute sent ahead after the end) must not run them
    // again.
    for (i, sql) in [
        "INSERT INTO s SELECT generate_series(1, 10) RETURNING a",
        "WITH n AS (INSERT INTO s SELECT generate_series(1, 10) RETURNING a) SELECT a FROM n",
    ]
    .into_iter()
    .enumerate()
    {
        conn.batch_execute("TRUNCATE s").await.unwrap();
        let mut rows = conn.query_stream_batched(sql, &[], 3).await.unwrap();
        let mut seen = Vec::new();
        while let Some(row) = rows.try_next().await.unwrap() {
            seen.push(row.get::<_, i32>(0));
        }
        assert_eq!(seen, (1..=10).collect::<Vec<_>>(), "{sql}");
        assert_eq!(rows.rows_affected(), Some(10), "{sql}");
        drop(rows);
        let count = conn.query_one("SELECT count(*) FROM s", &[]).await.unwrap();
        assert_eq!(count.get::<_, i64>(0), 10, "{sql}");
        check(&mut conn, 3 + i as i64).await;
    }
}

#[tokio::test]
async fn a_stream_dropped_half_way_leaves_the_connection_usable() {
    let mut conn = admin().await;
    for batch in [0u32, 10, 4096] {
        let mut rows = conn
            .query_stream_batched(WIDE_ROWS, &[&200_000i32], batch)
            .await
            .unwrap();
        for i in 1..=25 {
            check_wide_row(&rows.try_next().await.unwrap().unwrap(), i);
        }
        drop(rows);
        check(&mut conn, i64::from(batch)).await;
    }

    // Inside a transaction, the transaction goes on after the drop.
    let mut tx = conn.transaction().await.unwrap();
    let mut rows = tx
        .query_stream("SELECT i FROM generate_series(1, 100000) i", &[])
        .await
        .unwrap();
    assert_eq!(rows.try_next().await.unwrap().unwrap().get::<_, i32>(0), 1);
    drop(rows);
    let row = tx.query_one("SELECT 41 + 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    tx.commit().await.unwrap();
    check(&mut conn, 3).await;

    // Dropped before the first row was read, and the call's future dropped at every await.
    let rows = conn.query_stream(WIDE_ROWS, &[&100_000i32]).await.unwrap();
    drop(rows);
    check(&mut conn, 4).await;
    for polls in 0..6 {
        {
            let fut = conn.query_stream(WIDE_ROWS, &[&100_000i32]);
            let mut fut = std::pin::pin!(fut);
            poll_n_times(fut.as_mut(), polls).await;
        }
        check(&mut conn, 10 + polls as i64).await;
    }
}

#[tokio::test]
async fn errors_surface_at_the_call_or_as_an_item() {
    let mut conn = admin().await;
    // Bad SQL: at the call.
    let err = conn.query_stream("SELEC 1", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::SYNTAX_ERROR);
    check(&mut conn, 1).await;
    // A parameter of the wrong type: at the call, nothing sent.
    let err = conn
        .query_stream("SELECT $1::int4", &[&"seven"])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot encode parameter $1 of SQL type int4 from Rust type &str",
    );
    check(&mut conn, 2).await;
    // The wrong number of parameters.
    let err = conn.query_stream("SELECT $1::int4", &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the statement has 1 parameter(s) but 0 value(s) were given",
    );
    check(&mut conn, 3).await;

    // Division by zero at row 500: 499 rows, then the error as an item, then the end.
    for batch in [0u32, 64, 4096] {
        let mut rows = conn
            .query_stream_batched(
                "SELECT 1 / (i - 500) FROM generate_series(1, 1000) i",
                &[],
                batch,
            )
            .await
            .unwrap();
        let mut n = 0;
        let err = loop {
            match rows.try_next().await {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("the stream ended without the division error"),
                Err(e) => break e,
            }
        };
        // The server sends rows in batches, so the rows before the error all arrive.
        assert_eq!(n, 499, "batch {batch}");
        expect_db(&err, &SqlState::DIVISION_BY_ZERO);
        assert!(rows.try_next().await.unwrap().is_none());
        assert_eq!(rows.rows_affected(), None);
        drop(rows);
        check(&mut conn, 100 + i64::from(batch)).await;
    }

    // In a transaction the error aborts it, as any failed statement does.
    let mut tx = conn.transaction().await.unwrap();
    let mut rows = tx
        .query_stream("SELECT 1 / (i - 3) FROM generate_series(1, 10) i", &[])
        .await
        .unwrap();
    while let Ok(Some(_)) = rows.try_next().await {}
    drop(rows);
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    tx.rollback().await.unwrap();
    check(&mut conn, 4).await;
}

#[tokio::test]
async fn an_error_at_commit_after_the_last_row_reaches_the_consumer() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE d (a int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        .await
        .unwrap();
    let mut rows = conn
        .query_stream("INSERT INTO d VALUES (1), (1) RETURNING a", &[])
        .await
        .unwrap();
    assert_eq!(rows.try_next().await.unwrap().unwrap().get::<_, i32>(0), 1);
    assert_eq!(rows.try_next().await.unwrap().unwrap().get::<_, i32>(0), 1);
    let err = rows.try_next().await.unwrap_err();
    expect_db(&err, &SqlState::UNIQUE_VIOLATION);
    assert!(rows.try_next().await.unwrap().is_none());
    drop(rows);
    let row = conn.query_one("SELECT count(*) FROM d", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), 0);
    check(&mut conn, 1).await;
}

#[tokio::test]
async fn copy_through_a_stream_is_refused_cleanly() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE c (a int)")
        .await
        .unwrap();
    for sql in ["COPY (SELECT 1) TO STDOUT", "COPY c FROM STDIN"] {
        for batch in [0u32, 100] {
            let mut rows = conn.query_stream_batched(sql, &[], batch).await.unwrap();
            let err = rows.try_next().await.unwrap_err();
            expect_message(
                &err,
                Kind::Usage,
                "COPY cannot run through query_stream: use copy_in / copy_out",
            );
            assert!(rows.try_next().await.unwrap().is_none());
            drop(rows);
            check(&mut conn, i64::from(batch)).await;
        }
    }
}

#[tokio::test]
async fn a_portal_is_resumed_over_several_calls() {
    let mut conn = admin().await;
    let mut tx = conn.transaction().await.unwrap();
    let portal = tx
        .bind(
            "SELECT i, i * 2 AS twice FROM generate_series(1, $1) i",
            &[&10i32],
        )
        .await
        .unwrap();
    assert!(portal.name().starts_with("tusk_p"));
    assert_eq!(portal.columns()[1].name(), "twice");
    let mut seen = Vec::new();
    for expected in [3, 3, 3, 1] {
        assert!(!portal.is_exhausted());
        let rows = tx.query_portal(&portal, 3).await.unwrap();
        assert_eq!(rows.len(), expected);
        for row in rows {
            assert_eq!(row.get::<_, i32>(1), 2 * row.get::<_, i32>(0));
            seen.push(row.get::<_, i32>(0));
        }
    }
    assert!(portal.is_exhausted());
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    assert!(tx.query_portal(&portal, 3).await.unwrap().is_empty());

    // 0 = all the rest; two portals interleaved.
    let a = tx.bind("SELECT generate_series(1, 5)", &[]).await.unwrap();
    let b = tx
        .bind("SELECT generate_series(101, 105)", &[])
        .await
        .unwrap();
    assert_eq!(tx.query_portal(&a, 2).await.unwrap().len(), 2);
    assert_eq!(
        tx.query_portal(&b, 1).await.unwrap()[0].get::<_, i32>(0),
        101
    );
    let rest = tx.query_portal(&a, 0).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    assert!(a.is_exhausted());
    let err = tx.query_portal(&b, -1).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "max_rows is -1; it must be 0 (all rows) or positive",
    );

    // A dropped portal is closed with the next request.
    let open = portal_names(&mut tx).await;
    assert!(open.contains(&a.name().to_owned()) && open.contains(&b.name().to_owned()));
    let a_name = a.name().to_owned();
    drop(a);
    assert_eq!(
        tx.query_portal(&b, 1).await.unwrap()[0].get::<_, i32>(0),
        102
    );
    let open = portal_names(&mut tx).await;
    assert!(!open.contains(&a_name), "{open:?}");
    assert!(open.contains(&b.name().to_owned()));

    // An error in the portal aborts the transaction.
    let bad = tx
        .bind("SELECT 1 / (i - 2) FROM generate_series(1, 5) i", &[])
        .await
        .unwrap();
    let err = tx.query_portal(&bad, 0).await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    let err = tx.query_portal(&b, 1).await.unwrap_err();
    expect_message(
        &err,
        Kind::AbortedTransaction,
        "current transaction is aborted",
    );
    expect_code(&err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    tx.rollback().await.unwrap();
    drop((bad, b, portal));
    check(&mut conn, 1).await;
}

/// Names of the portals and cursors open in the session (`pg_cursors`), but for the unnamed
/// portal running this query.
async fn portal_names(conn: &mut impl GenericClient) -> Vec<String> {
    conn.query(
        "SELECT name FROM pg_cursors WHERE name <> '' ORDER BY name",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<_, String>(0))
    .collect()
}

#[tokio::test]
async fn bind_is_refused_outside_a_transaction_and_errors_at_bind_surface() {
    let mut conn = admin().await;
    let mut tx = conn.transaction().await.unwrap();
    let err = tx.bind("SELEC 1", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::SYNTAX_ERROR);
    tx.rollback().await.unwrap();

    let mut tx = conn.transaction().await.unwrap();
    // The transaction ended behind the guard's back.
    tx.batch_execute("COMMIT").await.unwrap();
    let err = tx.bind("SELECT 1", &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "a portal lives only until the end of its transaction, and no transaction is open",
    );
    drop(tx);
    check(&mut conn, 1).await;
}

#[tokio::test]
async fn a_server_cursor_fetches_in_batches() {
    let mut conn = admin().await;
    let mut cur = conn.server_cursor("walk \"it\"").itersize(7);
    assert_eq!(cur.rownumber(), None);
    cur.execute(
        "SELECT i, $1::text || i AS label FROM generate_series(1, $2) i",
        &[&"row ", &100i32],
    )
    .await
    .unwrap();
    assert_eq!(cur.rownumber(), Some(0));
    assert_eq!(cur.columns()[1].name(), "label");
    // Idle before: the cursor started a transaction of its own.
    assert_eq!(
        cur.connection().transaction_status(),
        TransactionStatus::InTransaction
    );
    let check_row = |row: &Row, i: i32| {
        assert_eq!(row.get::<_, i32>(0), i);
        assert_eq!(row.get::<_, &str>(1), format!("row {i}"));
    };
    let mut next = 1;
    for _ in 0..10 {
        check_row(&cur.fetch_one().await.unwrap().unwrap(), next);
        next += 1;
    }
    assert_eq!(cur.rownumber(), Some(10));
    let many = cur.fetch_many(20).await.unwrap();
    assert_eq!(many.len(), 20);
    for row in &many {
        check_row(row, next);
        next += 1;
    }
    assert_eq!(cur.rownumber(), Some(30));
    for _ in 0..5 {
        check_row(&cur.fetch_one().await.unwrap().unwrap(), next);
        next += 1;
    }
    let rest = cur.fetch_all().await.unwrap();
    assert_eq!(rest.len(), 65);
    for row in &rest {
        check_row(row, next);
        next += 1;
    }
    assert_eq!(cur.rownumber(), Some(100));
    assert!(cur.fetch_one().await.unwrap().is_none());
    assert!(cur.fetch_many(5).await.unwrap().is_empty());
    assert_eq!(cur.rownumber(), Some(100));
    // The cursor is visible on the server under its exact name.
    let open = portal_names(cur.connection()).await;
    assert_eq!(open, ["walk \"it\""]);
    cur.close().await.unwrap();
    assert!(portal_names(&mut conn).await.is_empty());
    check(&mut conn, 1).await;
}

#[tokio::test]
async fn a_server_cursor_fetches_itersize_rows_at_a_time() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP SEQUENCE q").await.unwrap();
    let mut cur = conn.server_cursor("counted").itersize(7);
    // The server evaluates nextval only for the rows a FETCH asks for, so the sequence shows
    // how far the cursor has run.
    cur.execute("SELECT nextval('q') FROM generate_series(1, 100)", &[])
        .await
        .unwrap();
    let mut n = 0i64;
    while let Some(row) = cur.fetch_one().await.unwrap() {
        n += 1;
        assert_eq!(row.get::<_, i64>(0), n);
        let produced = cur
            .connection()
            .query_one("SELECT last_value FROM q", &[])
            .await
            .unwrap()
            .get::<_, i64>(0);
        let batches = (n + 6) / 7;
        assert_eq!(produced, (batches * 7).min(100), "after row {n}");
    }
    assert_eq!(n, 100);
    drop(cur);
    // Dropped: the queued CLOSE and COMMIT run before the next request.
    check(&mut conn, 1).await;
    assert!(portal_names(&mut conn).await.is_empty());
}

#[tokio::test]
async fn a_with_hold_cursor_survives_commit() {
    let mut conn = admin().await;
    conn.batch_execute("BEGIN").await.unwrap();
    let mut cur = conn.server_cursor("held").itersize(4).with_hold(true);
    assert!(cur.is_with_hold());
    cur.execute("SELECT generate_series(1, 20)", &[])
        .await
        .unwrap();
    let first: Vec<i32> = cur
        .fetch_many(6)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(first, [1, 2, 3, 4, 5, 6]);
    cur.connection().batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        cur.connection().transaction_status(),
        TransactionStatus::Idle
    );
    let rest: Vec<i32> = cur
        .fetch_all()
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rest, (7..=20).collect::<Vec<_>>());
    assert_eq!(cur.rownumber(), Some(20));
    cur.close().await.unwrap();
    assert!(portal_names(&mut conn).await.is_empty());

    // Declared while idle: no transaction is started, and a dropped cursor is closed.
    let mut cur = conn.server_cursor("held2").with_hold(true);
    cur.execute("SELECT generate_series(1, 3)", &[])
        .await
        .unwrap();
    assert_eq!(
        cur.connection().transaction_status(),
        TransactionStatus::Idle
    );
    assert_eq!(cur.fetch_one().await.unwrap().unwrap().get::<_, i32>(0), 1);
    drop(cur);
    assert!(portal_names(&mut conn).await.is_empty());
    check(&mut conn, 1).await;
}

#[tokio::test]
async fn server_cursor_errors_and_reuse() {
    let mut conn = admin().await;
    let mut cur = conn.server_cursor("e");
    let err = cur.fetch_one().await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the server cursor has not executed a query to fetch from",
    );
    // A bad query: the transaction the cursor started is rolled back.
    let err = cur.execute("SELEC 1", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::SYNTAX_ERROR);
    assert_eq!(
        cur.connection().transaction_status(),
        TransactionStatus::Idle
    );
    // An error while fetching: reported, and closing ends the failed transaction.
    cur.execute("SELECT 1 / (i - 5) FROM generate_series(1, 10) i", &[])
        .await
        .unwrap();
    let err = cur.fetch_all().await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    assert_eq!(
        cur.connection().transaction_status(),
        TransactionStatus::Failed
    );
    // Executing again rolls the failed transaction back and starts afresh.
    cur.execute("SELECT 1 / (i - 5) FROM generate_series(1, 10) i", &[])
        .await
        .unwrap();
    assert_eq!(cur.fetch_many(4).await.unwrap().len(), 4);
    let err = cur.fetch_one().await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    cur.close().await.unwrap();
    check(&mut conn, 1).await;

    // Executing again replaces the declared query.
    let mut tx = conn.transaction().await.unwrap();
    let mut cur = tx.server_cursor("again").itersize(2);
    cur.execute("SELECT 'a'::text", &[]).await.unwrap();
    assert_eq!(
        cur.fetch_one().await.unwrap().unwrap().get::<_, &str>(0),
        "a"
    );
    cur.execute("SELECT 7::int8, 8::int8", &[]).await.unwrap();
    assert_eq!(cur.rownumber(), Some(0));
    let row = cur.fetch_one().await.unwrap().unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (7, 8));
    drop(cur);
    // Inside the caller's transaction the cursor leaves it open.
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    tx.commit().await.unwrap();
    check(&mut conn, 2).await;

    let mut cur = conn.server_cursor("");
    let err = cur.execute("SELECT 1", &[]).await.unwrap_err();
    expect_message(&err, Kind::Usage, "a server cursor's name cannot be empty");
    drop(cur);
    // Longer than the server's 63-byte identifiers: refused before anything is sent (the
    // server would cut it short, so two such names would be one cursor).
    let long = "c".repeat(64);
    let mut cur = conn.server_cursor(&long);
    let err = cur.execute("SELECT 1", &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "64 bytes, more than PostgreSQL's 63-byte",
    );
    drop(cur);
    check(&mut conn, 2).await;
    // 63 bytes is fine, and the server keeps the whole name.
    let exact = "c".repeat(63);
    let mut tx = conn.transaction().await.unwrap();
    let mut cur = tx.server_cursor(&exact);
    cur.execute("SELECT 1", &[]).await.unwrap();
    let open: String = cur
        .connection()
        .query_one("SELECT name FROM pg_cursors WHERE name <> ''", &[])
        .await
        .unwrap()
        .get(0);
    drop(cur);
    assert_eq!(open, exact);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_server_cursor_as_a_stream() {
    let mut conn = admin().await;
    let mut cur = conn.server_cursor("streamed").itersize(7);
    cur.execute("SELECT generate_series(1, 100)", &[])
        .await
        .unwrap();
    let mut rows = cur.into_stream();
    let mut n = 0;
    while let Some(row) = rows.try_next().await.unwrap() {
        n += 1;
        assert_eq!(row.get::<_, i32>(0), n);
    }
    assert_eq!(n, 100);
    assert!(rows.try_next().await.unwrap().is_none());
    drop(rows);
    check(&mut conn, 1).await;
    assert!(portal_names(&mut conn).await.is_empty());

    // Dropped half-way, at every poll of a fetch.
    for polls in 0..6 {
        {
            let mut cur = conn.server_cursor("streamed").itersize(7);
            cur.execute("SELECT generate_series(1, 100)", &[])
                .await
                .unwrap();
            let mut rows = cur.into_stream();
            for i in 1..=10 {
                assert_eq!(rows.try_next().await.unwrap().unwrap().get::<_, i32>(0), i);
            }
            let fut = rows.try_next();
            let mut fut = std::pin::pin!(fut);
            poll_n_times(fut.as_mut(), polls).await;
        }
        check(&mut conn, 10 + polls as i64).await;
        assert!(portal_names(&mut conn).await.is_empty());
    }
}

#[tokio::test]
async fn cursor_and_portal_calls_dropped_at_every_await() {
    let mut conn = admin().await;
    for polls in 0..8 {
        for hold in [false, true] {
            {
                let mut cur = conn.server_cursor("dropped").with_hold(hold);
                let fut = cur.execute("SELECT generate_series(1, $1)", &[&50i32]);
                let mut fut = std::pin::pin!(fut);
                poll_n_times(fut.as_mut(), polls).await;
            }
            check(&mut conn, polls as i64).await;
            assert!(portal_names(&mut conn).await.is_empty(), "polls {polls}");
        }
        {
            let mut cur = conn.server_cursor("dropped").itersize(3);
            cur.execute("SELECT generate_series(1, 50)", &[])
                .await
                .unwrap();
            cur.fetch_one().await.unwrap();
            let fut = cur.fetch_many(10);
            let mut fut = std::pin::pin!(fut);
            poll_n_times(fut.as_mut(), polls).await;
        }
        check(&mut conn, 100 + polls as i64).await;
        assert!(portal_names(&mut conn).await.is_empty(), "polls {polls}");

        let mut tx = conn.transaction().await.unwrap();
        {
            let fut = tx.bind("SELECT generate_series(1, 50)", &[]);
            let mut fut = std::pin::pin!(fut);
            poll_n_times(fut.as_mut(), polls).await;
        }
        let portal = tx.bind("SELECT generate_series(1, 50)", &[]).await.unwrap();
        {
            let fut = tx.query_portal(&portal, 10);
            let mut fut = std::pin::pin!(fut);
            poll_n_times(fut.as_mut(), polls).await;
        }
        let row = tx.query_one("SELECT 7", &[]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 7);
        // The portal dropped with the first bind's future is closed by now; only the
        // second one remains.
        assert_eq!(portal_names(&mut tx).await, [portal.name().to_owned()]);
        tx.rollback().await.unwrap();
        check(&mut conn, 200 + polls as i64).await;
    }
}
