//! The extended query protocol, statement cache, named parameters, the Cursor and
//! transactions, against the real throwaway PostgreSQL.

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::live;
use protocol_tests::proxy::CountingProxy;
use tusk::{Connection, IsolationLevel, Kind, SqlState, TransactionStatus};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

#[tokio::test]
async fn execute_query_query_one_query_opt() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE t (a int4 PRIMARY KEY, b text)")
        .await
        .unwrap();
    let n = conn
        .execute(
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)",
            &[&1i32, &"x", &2i32, &"y"],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let rows = conn
        .query("SELECT a, b FROM t WHERE a > $1 ORDER BY a", &[&0i32])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, i32>(0), 1);
    assert_eq!(rows[1].get::<_, &str>("b"), "y");
    assert_eq!(rows[0].columns()[1].name(), "b");
    assert_eq!(rows[0].columns()[1].type_(), &tusk::types::Type::TEXT);
    assert!(rows[0].columns()[0].table_oid().is_some());
    assert_eq!(rows[0].columns()[0].column_id(), Some(1));

    let row = conn
        .query_one("INSERT INTO t (a, b) VALUES (3, $1) RETURNING a", &[&"z"])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>("a"), 3);
    assert!(conn
        .query_opt("SELECT b FROM t WHERE a = $1", &[&7i32])
        .await
        .unwrap()
        .is_none());
    let err = conn.query_one("SELECT a FROM t", &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::RowCount,
        "query_one expected exactly one row, the query returned 3",
    );
    let err = conn.query_opt("SELECT a FROM t", &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::RowCount,
        "query_opt expected at most one row, the query returned 3",
    );
    let err = conn
        .query_one("SELECT a FROM t WHERE false", &[])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::RowCount,
        "query_one expected exactly one row, the query returned 0",
    );
    // UPDATE / DELETE counts.
    assert_eq!(conn.execute("UPDATE t SET b = 'q'", &[]).await.unwrap(), 3);
    assert_eq!(
        conn.execute("DELETE FROM t WHERE a = 1", &[])
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn prepare_describes_params_and_columns() {
    let mut conn = admin().await;
    let stmt = conn
        .prepare("SELECT $1::int8 AS n, $2::text AS s")
        .await
        .unwrap();
    assert_eq!(
        stmt.params(),
        &[tusk::types::Type::INT8, tusk::types::Type::TEXT]
    );
    let names: Vec<_> = stmt.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["n", "s"]);
    let row = conn.query_one(&stmt, &[&5i64, &"five"]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), 5);
    // Lossless widening: an i32 value for an int8 parameter.
    let row = conn.query_one(&stmt, &[&6i32, &"six"]).await.unwrap();
    assert_eq!(row.get::<_, i64>("n"), 6);
    // A statement with no result columns.
    let stmt = conn.prepare("SET search_path = public").await.unwrap();
    assert!(stmt.columns().is_empty());
}

#[tokio::test]
async fn wrong_parameter_count_is_refused_before_sending() {
    let mut conn = admin().await;
    let stmt = conn.prepare("SELECT $1::int4").await.unwrap();
    let err = conn.query(&stmt, &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the statement has 1 parameter(s) but 0 value(s) were given",
    );
    let err = conn.query(&stmt, &[&1i32, &2i32]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the statement has 1 parameter(s) but 2 value(s) were given",
    );
    // Also for SQL text that has not been prepared yet (the server describes it first).
    let err = conn
        .query("SELECT $1::int4, $2::int4", &[&1i32])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the statement has 2 parameter(s) but 1 value(s) were given",
    );
    // The connection is fine afterwards.
    let row = conn.query_one("SELECT 1::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
}

#[tokio::test]
async fn narrowing_or_reinterpreting_a_parameter_is_an_error_naming_it() {
    let mut conn = admin().await;
    let err = conn
        .query("SELECT $1::int4, $2::int4", &[&1i32, &5i64])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot encode parameter $2 of SQL type int4 from Rust type i64",
    );
    let err = conn.query("SELECT $1::int4", &[&"text"]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot encode parameter $1 of SQL type int4 from Rust type &str",
    );
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn row_get_mismatch_names_column_sql_type_and_rust_type() {
    let mut conn = admin().await;
    let row = conn
        .query_one("SELECT 1::int4 AS a, NULL::text AS b", &[])
        .await
        .unwrap();
    let err = row.try_get::<_, String>("a").unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot convert column 0 (\"a\") of SQL type int4 into Rust type alloc::string::String: \
         the types do not match",
    );
    let err = row.try_get::<_, String>("b").unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot convert column 1 (\"b\") of SQL type text into Rust type alloc::string::String: \
         unexpected NULL",
    );
    assert_eq!(row.try_get::<_, Option<String>>("b").unwrap(), None);
    let err = row.try_get::<_, i32>("nope").unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "no column nope in a row with columns [\"a\", \"b\"]",
    );
    let err = row.try_get::<_, i32>(5).unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "no column 5 in a row with columns [\"a\", \"b\"]",
    );
    // Widening on read is lossless and allowed; a different type is not.
    assert_eq!(row.get::<_, i64>(0), 1);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| row.get::<_, bool>(0)));
    let text = *panic.unwrap_err().downcast::<String>().unwrap();
    assert!(text.contains("int4") && text.contains("bool"), "{text}");
}

async fn prepared(conn: &mut Connection) -> i64 {
    conn.query_one(
        "SELECT count(*)::int8 FROM pg_prepared_statements WHERE name LIKE 'tusk_s%'",
        &[],
    )
    .await
    .unwrap()
    .get::<_, i64>(0)
}

#[tokio::test]
async fn statement_cache_reuses_named_statements_and_evicts_lru() {
    let config: tusk::Config = live::admin().parse().unwrap();
    let mut conn = config.statement_cache_capacity(2).connect().await.unwrap();
    conn.query("SELECT 1", &[]).await.unwrap();
    conn.query("SELECT 1", &[]).await.unwrap();
    // "SELECT 1" and the counting query itself.
    assert_eq!(prepared(&mut conn).await, 2);
    conn.query("SELECT 2", &[]).await.unwrap(); // evicts "SELECT 1" (least recently used)
    conn.query("SELECT 3", &[]).await.unwrap();
    // Evicted statements are closed with the next request.
    let n = prepared(&mut conn).await;
    assert!(n <= 2, "{n} statements left on the server");
}

#[tokio::test]
async fn unnamed_statement_mode_leaves_nothing_prepared() {
    let config: tusk::Config = live::admin().parse().unwrap();
    let mut conn = config.statement_cache_capacity(0).connect().await.unwrap();
    for i in 0..3i32 {
        let row = conn.query_one("SELECT $1::int4 + 1", &[&i]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), i + 1);
    }
    let row = conn
        .query_one("SELECT count(*)::int8 FROM pg_prepared_statements", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn schema_change_under_a_cached_statement_is_reprepared() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE shape (a int4)")
        .await
        .unwrap();
    conn.execute("INSERT INTO shape VALUES (1)", &[])
        .await
        .unwrap();
    let rows = conn.query("SELECT * FROM shape", &[]).await.unwrap();
    assert_eq!(rows[0].len(), 1);
    conn.batch_execute("ALTER TABLE shape ADD COLUMN b text DEFAULT 'new'")
        .await
        .unwrap();
    // The cached plan's result type changed (0A000); tusk evicts and re-prepares once.
    let rows = conn.query("SELECT * FROM shape", &[]).await.unwrap();
    assert_eq!(rows[0].len(), 2);
    assert_eq!(rows[0].get::<_, &str>("b"), "new");
}

#[tokio::test]
async fn named_parameters() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE named_t (a int4, b text)")
        .await
        .unwrap();
    let n = conn
        .execute_named(
            "INSERT INTO named_t (a, b) VALUES (:a, :b), (:a + 1, :b || '::x')",
            &[("b", &"first'last%s"), ("a", &1i32)],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let rows = conn
        .query_named(
            "SELECT b FROM named_t WHERE a >= :min ORDER BY a",
            &[("min", &0i32)],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, &str>(0), "first'last%s");
    assert_eq!(rows[1].get::<_, &str>(0), "first'last%s::x");
    let err = conn
        .execute_named("SELECT :a::int4", &[("b", &1i32)])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "named parameters do not match the SQL: no value given for \"a\"; the SQL does not use \
         \"b\"",
    );
}

#[tokio::test]
async fn cursor_rowcount_rownumber_and_fetches() {
    let mut conn = admin().await;
    let expected: i64 = conn
        .query_one("SELECT count(*) FROM pg_timezone_names", &[])
        .await
        .unwrap()
        .get(0);
    let mut cur = conn.cursor();
    assert_eq!(cur.rowcount(), -1);
    assert_eq!(cur.rownumber(), None);
    cur.execute("SELECT * FROM pg_timezone_names", &[])
        .await
        .unwrap();
    assert_eq!(cur.rowcount(), expected);
    assert_eq!(cur.rownumber(), Some(0));
    assert_eq!(cur.columns()[0].name(), "name");
    assert!(cur.fetch_one().await.unwrap().is_some());
    assert_eq!(cur.rownumber(), Some(1));
    assert_eq!(cur.fetch_many(2).await.unwrap().len(), 2);
    assert_eq!(cur.rownumber(), Some(3));
    let rest = cur.fetch_all().await.unwrap();
    assert_eq!(rest.len() as i64, expected - 3);
    assert_eq!(cur.rownumber(), Some(expected as usize));
    assert!(cur.fetch_one().await.unwrap().is_none());
    assert!(cur.fetch_many(5).await.unwrap().is_empty());
    assert!(cur.fetch_all().await.unwrap().is_empty());

    // Executing again replaces the result; DML reports affected rows and no result set.
    cur.execute("CREATE TEMP TABLE cur_t (a int4)", &[])
        .await
        .unwrap();
    assert_eq!(cur.rownumber(), None);
    cur.execute("INSERT INTO cur_t SELECT generate_series(1, 5)", &[])
        .await
        .unwrap();
    assert_eq!(cur.rowcount(), 5);
    let err = cur.fetch_one().await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the last operation did not produce a result set to fetch from",
    );
    cur.execute_named("UPDATE cur_t SET a = a + :d WHERE a > 2", &[("d", &10i32)])
        .await
        .unwrap();
    assert_eq!(cur.rowcount(), 3);
    cur.execute("DELETE FROM cur_t WHERE a > 10", &[])
        .await
        .unwrap();
    assert_eq!(cur.rowcount(), 3);
}

#[tokio::test]
async fn cursor_rownumber_stays_at_the_row_count_past_the_end() {
    // psycopg: rownumber is the index of the next row, and fetching past the end leaves it at
    // the number of rows (here 3, from the SQL).
    let mut conn = admin().await;
    let mut cur = conn.cursor();
    let values = |rows: Vec<tusk::Row>| rows.iter().map(|r| r.get(0)).collect::<Vec<i32>>();

    cur.execute("SELECT generate_series(1, 3)", &[])
        .await
        .unwrap();
    assert_eq!(values(cur.fetch_many(2).await.unwrap()), [1, 2]);
    assert_eq!(cur.rownumber(), Some(2));
    assert_eq!(values(cur.fetch_many(5).await.unwrap()), [3]); // asks past the end
    assert_eq!(cur.rownumber(), Some(3));
    assert!(cur.fetch_one().await.unwrap().is_none());
    assert_eq!(cur.rownumber(), Some(3));
    assert!(cur.fetch_many(4).await.unwrap().is_empty());
    assert_eq!(cur.rownumber(), Some(3));
    assert!(cur.fetch_all().await.unwrap().is_empty());
    assert_eq!(cur.rownumber(), Some(3));

    cur.execute("SELECT generate_series(1, 3)", &[])
        .await
        .unwrap();
    assert_eq!(cur.rownumber(), Some(0));
    for expected in 1..=3 {
        assert_eq!(
            cur.fetch_one().await.unwrap().unwrap().get::<_, i32>(0),
            expected
        );
        assert_eq!(cur.rownumber(), Some(expected as usize));
    }
    assert!(cur.fetch_one().await.unwrap().is_none());
    assert_eq!(cur.rownumber(), Some(3));
    assert!(cur.fetch_one().await.unwrap().is_none());
    assert_eq!(cur.rownumber(), Some(3));

    cur.execute("SELECT generate_series(1, 3)", &[])
        .await
        .unwrap();
    assert_eq!(values(cur.fetch_all().await.unwrap()), [1, 2, 3]);
    assert_eq!(cur.rownumber(), Some(3));
    assert!(cur.fetch_all().await.unwrap().is_empty());
    assert!(cur.fetch_many(1).await.unwrap().is_empty());
    assert_eq!(cur.rownumber(), Some(3));

    // An empty result: nothing to fetch, rownumber stays 0.
    cur.execute("SELECT 1 WHERE false", &[]).await.unwrap();
    assert!(cur.fetch_one().await.unwrap().is_none());
    assert!(cur.fetch_many(2).await.unwrap().is_empty());
    assert!(cur.fetch_all().await.unwrap().is_empty());
    assert_eq!(cur.rownumber(), Some(0));
}

#[tokio::test]
async fn transactions_commit_rollback_drop_and_savepoints() {
    let mut conn = admin().await;
    let table = format!("tx_t_{}", std::process::id());
    conn.batch_execute(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (a int4)"
    ))
    .await
    .unwrap();
    let mut other = admin().await;
    let count = |sql: String| async move {
        let mut c = Connection::connect(&live::admin()).await.unwrap();
        c.query_one(sql.as_str(), &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let count_sql = format!("SELECT count(*) FROM {table}");

    let mut tx = conn.transaction().await.unwrap();
    tx.execute(&format!("INSERT INTO {table} VALUES (1)"), &[])
        .await
        .unwrap();
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    // Not visible from another connection before commit.
    assert_eq!(count(count_sql.clone()).await, 0);
    tx.commit().await.unwrap();
    assert_eq!(count(count_sql.clone()).await, 1);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    let mut tx = conn.transaction().await.unwrap();
    tx.execute(&format!("INSERT INTO {table} VALUES (2)"), &[])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(count_sql.clone()).await, 1);

    {
        let mut tx = conn.transaction().await.unwrap();
        tx.execute(&format!("INSERT INTO {table} VALUES (3)"), &[])
            .await
            .unwrap();
        // dropped without commit
    }
    // The queued ROLLBACK runs before the next statement.
    let n: i64 = conn
        .query_one(count_sql.as_str(), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    // A new transaction right after a dropped guard is a top-level one, not a savepoint.
    drop(conn.transaction().await.unwrap());
    let tx = conn.transaction().await.unwrap();
    assert_eq!(tx.savepoint_name(), None);
    drop(tx);
    let tx = conn
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    // Savepoints.
    let mut tx = conn.transaction().await.unwrap();
    tx.execute(&format!("INSERT INTO {table} VALUES (4)"), &[])
        .await
        .unwrap();
    {
        let mut sp = tx.transaction().await.unwrap();
        assert!(sp.savepoint_name().is_some());
        sp.execute(&format!("INSERT INTO {table} VALUES (5)"), &[])
            .await
            .unwrap();
        sp.rollback().await.unwrap();
    }
    {
        let mut sp = tx.transaction().await.unwrap();
        sp.execute(&format!("INSERT INTO {table} VALUES (6)"), &[])
            .await
            .unwrap();
        sp.commit().await.unwrap();
    }
    {
        let mut sp = tx.transaction().await.unwrap();
        // An error inside a savepoint, then dropping it, recovers the outer transaction.
        let err = sp.execute("SELECT 1/0", &[]).await.unwrap_err();
        expect_db(&err, &SqlState::DIVISION_BY_ZERO);
        assert_eq!(sp.transaction_status(), TransactionStatus::Failed);
    }
    tx.execute(&format!("INSERT INTO {table} VALUES (7)"), &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rows = conn
        .query(&format!("SELECT a FROM {table} ORDER BY a"), &[])
        .await
        .unwrap();
    let values: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(values, [1, 4, 6, 7]);
    other
        .batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn commit_of_an_aborted_transaction_rolls_back_and_says_so() {
    let mut conn = admin().await;
    let mut tx = conn.transaction().await.unwrap();
    let err = tx.execute("SELECT 1/0", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

#[tokio::test]
async fn transaction_builder_sets_modes() {
    let mut conn = admin().await;
    let mut tx = conn
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .read_only(true)
        .deferrable(true)
        .start()
        .await
        .unwrap();
    let row = tx
        .query_one("SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "serializable");
    assert_eq!(row.get::<_, &str>(1), "on");
    let err = tx
        .batch_execute("CREATE TEMP TABLE ro (a int)")
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::READ_ONLY_SQL_TRANSACTION);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn aborted_transaction_is_refused_without_a_round_trip() {
    let proxy = CountingProxy::start(live::port()).await;
    let conn_str = format!(
        "host=127.0.0.1 port={} user=tusk password=tusk dbname=tusk",
        proxy.port
    );
    let mut conn = Connection::connect(&conn_str).await.unwrap();
    conn.batch_execute("BEGIN").await.unwrap();
    let err = conn.query("SELECT 1/0", &[]).await.unwrap_err();
    expect_db(&err, &SqlState::DIVISION_BY_ZERO);
    assert_eq!(conn.transaction_status(), TransactionStatus::Failed);
    let before = proxy.bytes_sent();
    let stmt_err = conn.query("SELECT 1", &[]).await.unwrap_err();
    let exec_err = conn
        .execute("INSERT INTO nowhere VALUES (1)", &[])
        .await
        .unwrap_err();
    let batch_err = conn.batch_execute("COMMIT").await.unwrap_err();
    let tx_err = conn.transaction().await.unwrap_err();
    let mut cur = conn.cursor();
    let cur_err = cur.execute("SELECT 2", &[]).await.unwrap_err();
    for err in [stmt_err, exec_err, batch_err, tx_err, cur_err] {
        assert_eq!(err.kind(), Kind::AbortedTransaction, "{err}");
        assert_eq!(err.code().unwrap().code(), "25P02");
        assert!(err.to_string().contains("roll back"), "{err}");
    }
    // Give the proxy a moment: nothing may arrive.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        proxy.bytes_sent(),
        before,
        "a refused statement reached the server"
    );
    conn.execute("ROLLBACK", &[]).await.unwrap();
    assert!(proxy.bytes_sent() > before);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn errors_carry_every_server_field() {
    let mut conn = admin().await;
    conn.batch_execute(
        "CREATE TEMP TABLE fields_t (id int4 CONSTRAINT fields_pk PRIMARY KEY, v text NOT NULL)",
    )
    .await
    .unwrap();
    conn.execute("INSERT INTO fields_t VALUES (1, 'a')", &[])
        .await
        .unwrap();
    let err = conn
        .execute("INSERT INTO fields_t VALUES (1, 'b')", &[])
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::UNIQUE_VIOLATION);
    let db = err.as_db_error().unwrap();
    assert_eq!(db.severity, "ERROR");
    assert_eq!(db.constraint.as_deref(), Some("fields_pk"));
    assert_eq!(db.table.as_deref(), Some("fields_t"));
    assert!(db.detail.as_deref().unwrap().contains("(id)=(1)"));
    assert!(db.schema.is_some() && db.file.is_some() && db.line.is_some() && db.routine.is_some());
    let shown = err.to_string();
    assert!(
        shown.contains("23505") && shown.contains("DETAIL"),
        "{shown}"
    );

    let err = conn
        .execute("SELECT nosuchcolumn FROM fields_t", &[])
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::UNDEFINED_COLUMN);
    assert_eq!(err.as_db_error().unwrap().position, Some(8));
    let err = conn
        .execute("INSERT INTO fields_t VALUES (2, NULL)", &[])
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::NOT_NULL_VIOLATION);
    assert_eq!(err.as_db_error().unwrap().column.as_deref(), Some("v"));
    let err = conn
        .batch_execute("DO $$ BEGIN RAISE EXCEPTION 'boom' USING HINT = 'try again'; END $$")
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::RAISE_EXCEPTION);
    let db = err.as_db_error().unwrap();
    assert_eq!(db.message, "boom");
    assert_eq!(db.hint.as_deref(), Some("try again"));
    assert!(db.where_.is_some());
    assert!(err.to_string().contains("HINT: try again"));
}

#[tokio::test]
async fn notices_go_to_the_handler_not_the_result() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let config: tusk::Config = live::admin().parse().unwrap();
    let mut conn = config
        .notice_handler(move |notice: &tusk::DbError| {
            sink.lock().unwrap().push(notice.message.clone())
        })
        .connect()
        .await
        .unwrap();
    let rows = conn
        .query("SELECT 1 FROM (SELECT pg_catalog.set_config('client_min_messages', 'notice', false)) s", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    conn.batch_execute("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$")
        .await
        .unwrap();
    let rows = conn.query("SELECT 42", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(seen.lock().unwrap().as_slice(), ["hello from plpgsql"]);
}

#[tokio::test]
async fn statement_from_another_connection_is_refused() {
    let mut a = admin().await;
    let mut b = admin().await;
    let stmt = a.prepare("SELECT 1").await.unwrap();
    let err = b.query(&stmt, &[]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "this statement was prepared on another connection",
    );
}

#[tokio::test]
async fn copy_through_query_is_refused_cleanly() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE copy_t (a int)")
        .await
        .unwrap();
    let err = conn
        .execute("COPY copy_t FROM STDIN", &[])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "COPY cannot run through execute or query: use copy_in / copy_out",
    );
    let err = conn
        .execute("COPY copy_t TO STDOUT", &[])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "COPY cannot run through execute or query: use copy_in / copy_out",
    );
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn row_debug_shows_decoded_values() {
    let mut conn = admin().await;
    let row = conn
        .query_one(
            "SELECT 1::int4 AS i, 'x'::text AS t, NULL::int8 AS n, 1.50::numeric AS d, \
             '1 day'::interval AS iv, '1.2.3.4'::inet AS ip, '\\x0aff'::bytea AS b, \
             '[1,10]'::int4range AS r, '(1,2)'::point AS p",
            &[],
        )
        .await
        .unwrap();
    let shown = format!("{row:?}");
    assert_eq!(
        shown,
        r#"{"i": 1, "t": "x", "n": NULL, "d": 1.50, "iv": 1 day, "ip": 1.2.3.4, "b": 0x0aff, "r": [1,11), "p": Point { x: 1.0, y: 2.0 }}"#
    );
}

/// Regression: a Bind that cannot be encoded after queued Close messages were written must not
/// leave those Closes unsynced (their CloseComplete was once taken for the next call's answer).
#[tokio::test]
async fn failed_bind_after_queued_closes_keeps_the_connection_in_step() {
    let config: tusk::Config = live::admin().parse().unwrap();
    let mut conn = config.statement_cache_capacity(1).connect().await.unwrap();
    let s1 = conn.prepare("SELECT 1").await.unwrap();
    let s2 = conn.prepare("SELECT $1::int4").await.unwrap(); // evicts s1 from the cache
    drop(s1); // its Close is queued for the next request
    let err = conn.execute(&s2, &[&"not an int"]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot encode parameter $1 of SQL type int4 from Rust type &str",
    );
    conn.batch_execute("SELECT 1").await.unwrap();
    let row = conn.query_one(&s2, &[&7i32]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
}

/// A portal bound to a COPY is refused cleanly when executed, through the same response
/// reader as plain queries, and the transaction carries on.
#[tokio::test]
async fn copy_through_a_portal_is_refused_cleanly() {
    let mut conn = admin().await;
    let mut tx = conn.transaction().await.unwrap();
    let portal = tx.bind("COPY (SELECT 1) TO STDOUT", &[]).await.unwrap();
    let err = tx.query_portal(&portal, 0).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "COPY cannot run through execute or query: use copy_in / copy_out",
    );
    drop(portal);
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    let row = tx.query_one("SELECT 2::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
    tx.commit().await.unwrap();
}
