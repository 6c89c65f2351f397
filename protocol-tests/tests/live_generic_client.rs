//! `GenericClient`: one generic function runs unchanged on a connection, a transaction, a
//! savepoint and a pooled connection, and the futures it returns are `Send` (spawned here on a
//! multi-threaded runtime, also from a generic context).

use protocol_tests::live;
use tusk::types::Type;
use tusk::{Config, Connection, Error, GenericClient, Pool, SimpleQueryMessage, TransactionStatus};

/// Uses every method of the trait on `client`: creates the temporary table `table` and fills
/// it, reads it back every way, and runs (and rolls back) a nested transaction. Returns the
/// transaction status it started in.
async fn exercise<C: GenericClient>(
    client: &mut C,
    table: &str,
) -> Result<TransactionStatus, Error> {
    let status = client.transaction_status();
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE {table} (id int4 PRIMARY KEY, name text)"
        ))
        .await?;

    // SQL as &str, as String, and as a prepared statement.
    let insert = format!("INSERT INTO {table} (id, name) VALUES ($1, $2)");
    assert_eq!(client.execute(insert.as_str(), &[&1i32, &"one"]).await?, 1);
    assert_eq!(client.execute(&insert, &[&2i32, &"two"]).await?, 1);
    let stmt = client.prepare(&insert).await?;
    assert_eq!(stmt.params(), &[Type::INT4, Type::TEXT]);
    assert_eq!(client.execute(&stmt, &[&3i32, &"three"]).await?, 1);
    let named = format!("INSERT INTO {table} (id, name) VALUES (:id, :name)");
    let inserted = client
        .execute_named(&named, &[("name", &"four"), ("id", &4i32)])
        .await?;
    assert_eq!(inserted, 1);

    let select = format!("SELECT id, name FROM {table} WHERE id > $1 ORDER BY id");
    let rows = client.query(select.as_str(), &[&1i32]).await?;
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        [(2, "two".into()), (3, "three".into()), (4, "four".into())]
    );

    let by_id = format!("SELECT name FROM {table} WHERE id = $1");
    let row = client.query_one(by_id.as_str(), &[&3i32]).await?;
    assert_eq!(row.get::<_, &str>(0), "three");
    let row = client.query_opt(by_id.as_str(), &[&4i32]).await?;
    assert_eq!(row.map(|r| r.get::<_, String>(0)).as_deref(), Some("four"));
    assert!(client.query_opt(by_id.as_str(), &[&99i32]).await?.is_none());

    let by_name = format!("SELECT id FROM {table} WHERE name = :name");
    let rows = client.query_named(&by_name, &[("name", &"two")]).await?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, i32>(0), 2);

    assert_eq!(count(client, table).await?, 4);

    // Nested: BEGIN on an idle connection, SAVEPOINT inside a transaction; rolled back either
    // way, it leaves the rows and the status as they were.
    {
        let mut inner = client.transaction().await?;
        assert_eq!(inner.transaction_status(), TransactionStatus::InTransaction);
        assert_eq!(
            inner.savepoint_name().is_some(),
            status == TransactionStatus::InTransaction,
            "a savepoint exactly when a transaction was already open"
        );
        let deleted = inner
            .execute(format!("DELETE FROM {table}").as_str(), &[])
            .await?;
        assert_eq!(deleted, 4);
        inner.rollback().await?;
    }
    assert_eq!(client.transaction_status(), status);
    assert_eq!(count(client, table).await?, 4);
    Ok(status)
}

/// The table's row count, read with `simple_query` (text values).
async fn count<C: GenericClient>(client: &mut C, table: &str) -> Result<i64, Error> {
    let messages = client
        .simple_query(&format!("SELECT count(*) FROM {table}"))
        .await?;
    let counts: Vec<i64> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap().parse().unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(counts.len(), 1, "{messages:?}");
    Ok(counts[0])
}

/// Runs [`exercise`] on a spawned task from a generic context: this compiles only because the
/// trait's futures are `Send` for every `C`, not just for the concrete types.
fn spawn_exercise<C: GenericClient + 'static>(
    mut client: C,
    table: &'static str,
) -> tokio::task::JoinHandle<Result<(C, TransactionStatus), Error>> {
    tokio::spawn(async move {
        let status = exercise(&mut client, table).await?;
        Ok((client, status))
    })
}

/// Whether the (temporary) table `table` exists in the session.
async fn exists<C: GenericClient>(client: &mut C, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_function_runs_on_a_connection() {
    let conn = Connection::connect(&live::admin()).await.unwrap();
    let (mut conn, status) = spawn_exercise(conn, "gc_conn").await.unwrap().unwrap();
    assert_eq!(status, TransactionStatus::Idle);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert!(exists(&mut conn, "gc_conn").await);
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_function_runs_in_a_transaction_and_a_savepoint() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let task = tokio::spawn(async move {
        let mut tx = conn.transaction().await?;
        assert_eq!(
            exercise(&mut tx, "gc_tx").await?,
            TransactionStatus::InTransaction
        );
        {
            let mut sp = tx.transaction().await?;
            assert!(sp.savepoint_name().is_some());
            assert_eq!(
                exercise(&mut sp, "gc_sp").await?,
                TransactionStatus::InTransaction
            );
            assert!(exists(&mut sp, "gc_sp").await);
            // ROLLBACK TO SAVEPOINT: what the function did in the savepoint is undone, what
            // it did in the transaction is not.
            sp.rollback().await?;
        }
        assert!(!exists(&mut tx, "gc_sp").await);
        assert!(exists(&mut tx, "gc_tx").await);
        assert_eq!(count(&mut tx, "gc_tx").await?, 4);
        tx.rollback().await?;
        assert!(!exists(&mut conn, "gc_tx").await);
        Ok::<_, Error>(conn)
    });
    let conn = task.await.unwrap().unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_transaction_keeps_what_the_generic_function_did() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let mut tx = conn.transaction().await.unwrap();
    exercise(&mut tx, "gc_commit").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&mut conn, "gc_commit").await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_function_runs_on_a_pooled_connection() {
    let config: Config = live::admin().parse().unwrap();
    let pool = Pool::builder(config).max_size(1).build();
    let pooled = pool.get().await.unwrap();
    let pid = pooled.backend_pid(); // still a smart pointer to its Connection
    let (mut pooled, status) = spawn_exercise(pooled, "gc_pool").await.unwrap().unwrap();
    assert_eq!(status, TransactionStatus::Idle);
    assert_eq!(pooled.backend_pid(), pid);
    // A transaction on a pooled connection is a client too.
    let mut tx = GenericClient::transaction(&mut pooled).await.unwrap();
    assert_eq!(
        exercise(&mut tx, "gc_pool_tx").await.unwrap(),
        TransactionStatus::InTransaction
    );
    tx.rollback().await.unwrap();
    assert!(exists(&mut pooled, "gc_pool").await);
    assert!(!exists(&mut pooled, "gc_pool_tx").await);
}
