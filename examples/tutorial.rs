//! The tutorial: "How to Access PostgreSQL from Python with Psycopg", step by step, in tusk.
//!
//! Run it against the throwaway server with the README's first command:
//!
//! ```text
//! scripts/with-test-server cargo run --example tutorial
//! ```
//!
//! It connects with `TUSK_PG_URL` (set by that script), else `DATABASE_URL`, else the test
//! server's default address.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::json;
use tusk::types::Json;
use tusk::{Connection, TransactionStatus};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn url() -> String {
    std::env::var("TUSK_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://tusk:tusk@127.0.0.1:54329/tusk".to_owned())
}

fn step(title: &str) {
    println!("\n== {title}");
}

#[tokio::main]
async fn main() -> Result<()> {
    step("Connect to the database");
    let mut conn = Connection::connect(&url()).await?;
    println!(
        "connected to PostgreSQL {} as backend pid {}",
        conn.parameter("server_version").unwrap_or("?"),
        conn.backend_pid().unwrap_or(0)
    );

    step("SELECT queries with a cursor");
    {
        let mut cur = conn.cursor();
        cur.execute("SELECT * FROM pg_timezone_names", &[]).await?;
        println!("cur.rowcount()  = {}  (rows returned)", cur.rowcount());
        println!(
            "cur.rownumber() = {:?}  (next row to fetch)",
            cur.rownumber()
        );

        let first = cur.fetch_one().await?.expect("at least one time zone");
        let name: &str = first.get("name");
        println!("fetch_one()     -> {name}: {first:?}");
        println!("cur.rownumber() = {:?}", cur.rownumber());

        let two = cur.fetch_many(2).await?;
        let names: Vec<&str> = two.iter().map(|r| r.get("name")).collect();
        println!("fetch_many(2)   -> {names:?}");
        println!("cur.rownumber() = {:?}", cur.rownumber());

        let rest = cur.fetch_all().await?;
        println!("fetch_all()     -> {} rows", rest.len());
        println!("cur.rownumber() = {:?}  (the end)", cur.rownumber());
        println!("fetch_one() again -> {:?}", cur.fetch_one().await?);
        println!("fetch_all() again -> {} rows", cur.fetch_all().await?.len());
    }

    step("Table modification queries");
    conn.batch_execute("DROP TABLE IF EXISTS test_table")
        .await?;
    conn.execute(
        "CREATE TABLE test_table (my_id SERIAL PRIMARY KEY, my_name VARCHAR(20), \
         my_number INTEGER, my_float FLOAT, my_date DATE, my_timestamp TIMESTAMP, \
         my_timestamp_tz TIMESTAMPTZ, my_time TIME, my_json JSON, my_jsonb JSONB)",
        &[],
    )
    .await?;
    println!("created test_table");
    conn.execute(
        "ALTER TABLE test_table ADD COLUMN new_name VARCHAR(100)",
        &[],
    )
    .await?;
    println!("added column new_name");
    conn.execute("ALTER TABLE test_table DROP COLUMN new_name", &[])
        .await?;
    println!("dropped column new_name");

    step("Parametrized queries: values travel separately from the SQL");
    let py_name = "first'last%s";
    let py_number = 1234i32;
    #[allow(clippy::approx_constant)] // the guide's value, not an approximation of pi
    let py_float = 3.14f64;
    let n = conn
        .execute(
            "INSERT INTO test_table (my_name, my_number, my_float) VALUES ($1, $2, $3)",
            &[&py_name, &py_number, &py_float],
        )
        .await?;
    println!("inserted {n} row with my_name = {py_name:?} (quote and %s need no escaping)");

    step("Named parameters");
    let n = conn
        .execute_named(
            "INSERT INTO test_table (my_name, my_number) VALUES (:param_name, :param_number)",
            &[("param_number", &py_number), ("param_name", &py_name)],
        )
        .await?;
    println!("inserted {n} row; the order of the named values does not matter");

    step("INSERT ... RETURNING");
    let row = conn
        .query_one(
            "INSERT INTO test_table (my_name) VALUES ($1) RETURNING my_id",
            &[&py_name],
        )
        .await?;
    let my_id: i32 = row.get("my_id");
    println!("the new row got my_id = {my_id}");

    step("Commit: changes become visible to other sessions");
    let mut other = Connection::connect(&url()).await?;
    let count = "SELECT count(*) FROM test_table WHERE my_name = 'visible?'";
    {
        let mut tx = conn.transaction().await?;
        tx.execute("INSERT INTO test_table (my_name) VALUES ('visible?')", &[])
            .await?;
        let seen: i64 = other.query_one(count, &[]).await?.get(0);
        println!("before commit, a second connection sees {seen} such row(s)");
        tx.commit().await?;
    }
    let seen: i64 = other.query_one(count, &[]).await?.get(0);
    println!("after commit, the second connection sees {seen}");

    step("Roll back: undo uncommitted changes");
    {
        let mut tx = conn.transaction().await?;
        tx.execute(
            "INSERT INTO test_table (my_name) VALUES ($1)",
            &[&"new name"],
        )
        .await?;
        let found = tx
            .query_opt(
                "SELECT my_id FROM test_table WHERE my_name = $1",
                &[&"new name"],
            )
            .await?;
        println!(
            "inside the transaction the row is there: {}",
            found.is_some()
        );
        tx.rollback().await?;
    }
    let found = conn
        .query_opt(
            "SELECT my_id FROM test_table WHERE my_name = $1",
            &[&"new name"],
        )
        .await?;
    println!(
        "after rollback: {}",
        if found.is_some() {
            "still there?!"
        } else {
            "gone"
        }
    );

    step("Aborted transactions");
    {
        let mut tx = conn.transaction().await?;
        let err = tx
            .execute("SELECT * FROM test_table1", &[])
            .await
            .unwrap_err();
        println!("typo in the table name -> {err}");
        println!("transaction status: {:?}", tx.transaction_status());
        let err = tx
            .execute("SELECT * FROM test_table", &[])
            .await
            .unwrap_err();
        println!("the correct query is now refused locally, without a round trip:");
        println!("  -> {err}");
        assert_eq!(err.code().map(|c| c.code()), Some("25P02"));
        tx.rollback().await?;
    }
    println!("after rollback: {:?}", conn.transaction_status());
    let n = conn.query("SELECT * FROM test_table", &[]).await?.len();
    println!("and the query works again: {n} rows");

    step("A transaction block: commits on success, rolls back on error");
    async fn transfer(conn: &mut Connection, fail: bool) -> std::result::Result<(), tusk::Error> {
        let mut tx = conn.transaction().await?;
        tx.execute("INSERT INTO test_table (my_name) VALUES ('block')", &[])
            .await?;
        if fail {
            tx.execute("SELECT 1/0", &[]).await?; // the `?` returns early: tx is dropped
        }
        tx.commit().await
    }
    transfer(&mut conn, false).await?;
    let err = transfer(&mut conn, true).await.unwrap_err();
    println!("second block failed with: {err}");
    let blocks: i64 = conn
        .query_one(
            "SELECT count(*) FROM test_table WHERE my_name = 'block'",
            &[],
        )
        .await?
        .get(0);
    println!("rows from the blocks: {blocks} (the failed one was rolled back)");
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    step("Date and time");
    let now_utc: DateTime<Utc> = Utc::now();
    conn.execute(
        "INSERT INTO test_table (my_timestamp) VALUES ($1)",
        &[&now_utc.naive_utc()],
    )
    .await?;
    conn.execute(
        "INSERT INTO test_table (my_timestamp_tz) VALUES ($1)",
        &[&now_utc],
    )
    .await?;
    conn.execute("SET TIME ZONE 'Europe/Rome'", &[]).await?;
    println!(
        "server TimeZone is now {}",
        conn.parameter("TimeZone").unwrap_or("?")
    );
    let py_date = NaiveDate::from_ymd_opt(2022, 12, 25).expect("valid date");
    conn.execute("INSERT INTO test_table (my_date) VALUES ($1)", &[&py_date])
        .await?;
    let py_time = NaiveTime::from_hms_micro_opt(23, 22, 21, 20).expect("valid time");
    conn.execute("INSERT INTO test_table (my_time) VALUES ($1)", &[&py_time])
        .await?;
    let py_datetime: NaiveDateTime = py_date.and_time(py_time);
    conn.execute(
        "INSERT INTO test_table (my_timestamp) VALUES ($1)",
        &[&py_datetime],
    )
    .await?;
    let row = conn
        .query_one(
            "SELECT (SELECT my_date FROM test_table WHERE my_date IS NOT NULL \
                     ORDER BY my_id DESC LIMIT 1) AS d, \
                    (SELECT my_time FROM test_table WHERE my_time IS NOT NULL \
                     ORDER BY my_id DESC LIMIT 1) AS t, \
                    (SELECT my_timestamp FROM test_table WHERE my_timestamp IS NOT NULL \
                     ORDER BY my_id DESC LIMIT 1) AS ts, \
                    (SELECT my_timestamp_tz FROM test_table WHERE my_timestamp_tz IS NOT NULL \
                     ORDER BY my_id DESC LIMIT 1) AS tz",
            &[],
        )
        .await?;
    let d: NaiveDate = row.get("d");
    let t: NaiveTime = row.get("t");
    let ts: NaiveDateTime = row.get("ts");
    let tz: DateTime<Utc> = row.get("tz");
    println!("date {d}, time {t}, timestamp {ts}");
    let tz_text: String = conn
        .query_one("SELECT $1::timestamptz::text", &[&tz])
        .await?
        .get(0);
    println!("timestamptz {tz} (UTC in Rust), shown by the server in Rome as {tz_text}");

    step("JSON and JSONB");
    let py_dict1 = json!({"key1": ["foo", null, 1.0, 2], "key2": "bar", "key3": 20});
    conn.execute(
        "INSERT INTO test_table (my_json) VALUES ($1)",
        &[&Json(&py_dict1)],
    )
    .await?;
    conn.execute(
        "INSERT INTO test_table (my_jsonb) VALUES ($1)",
        &[&py_dict1],
    )
    .await?;
    let mut cur = conn.cursor();
    cur.execute(
        "SELECT my_json FROM test_table WHERE my_json IS NOT NULL",
        &[],
    )
    .await?;
    let json1: serde_json::Value = cur.fetch_one().await?.expect("a row").get(0);
    println!("my_json  -> {json1}");
    println!("json1[\"key1\"] = {}", json1["key1"]);
    cur.execute(
        "SELECT my_jsonb FROM test_table WHERE my_jsonb IS NOT NULL",
        &[],
    )
    .await?;
    let Json(jsonb1): Json<serde_json::Value> = cur.fetch_one().await?.expect("a row").get(0);
    println!("my_jsonb -> {jsonb1}");

    step("Close");
    conn.close().await?;
    other.close().await?;
    println!("done");
    Ok(())
}
