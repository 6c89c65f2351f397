//! The pool's shared path (`Pool::query` and friends) through pgbouncer in transaction pooling
//! mode (`TUSK_PG_BOUNCER_PORT`; `default_pool_size = 2`, so the pool's connections share two
//! server sessions and are swapped between them after every Sync group).
//!
//! With `statement_cache_capacity(0)` the pool describes SQL with the unnamed statement and runs
//! each shared query as one self-contained group (Parse/Bind/Describe/Execute/Sync), many to a
//! write: every result must be right whichever session runs it, errors stay with their caller,
//! and a schema change shows at once. (With the cache on, named statements break there as soon
//! as pgbouncer moves a client to another session; a test that showed it depended on how
//! pgbouncer assigned sessions under the rest of the suite's load and was dropped as flaky.)
//!
//! Every value is checked against one computed in Rust from the parameters sent. Tables are
//! named `bouncer_*` with the process id and a timestamp (other tests share the server).
//!
//! Every test fails when pgbouncer is not running here, unless `TUSK_ALLOW_SKIP` names
//! `pgbouncer` (then it skips, and the skip is reported; see `protocol_tests::live`).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};
use protocol_tests::live;
use tusk::{Config, Kind, Pool, SqlState};

/// Tasks sharing the pool at once.
const TASKS: i32 = 64;
/// Rounds of queries per task.
const ROUNDS: i32 = 20;
/// Client connections of the pool: twice pgbouncer's server connections, so they must share.
const POOL_SIZE: usize = 4;
/// A test that takes longer than this has hung.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `test`, failing instead of hanging through pgbouncer when it does not finish within
/// [`LIMIT`].
async fn within_limit<F: Future<Output = ()>>(what: &str, test: F) {
    protocol_tests::poll::within_limit(LIMIT, what, test).await
}

/// The connection settings through pgbouncer as `tusk_scram` with the given statement cache
/// capacity (`None`: tusk's default, named statements); `None` when pgbouncer is not running
/// here and that skip is allowed (it panics otherwise; see `live::bouncer_port`).
fn bouncer_config(cache: Option<usize>) -> Option<Config> {
    let params = live::bouncer_tcp("tusk_scram", "pw_scram")?;
    let config: Config = params.parse().expect("valid connection string");
    Some(match cache {
        Some(capacity) => config.statement_cache_capacity(capacity),
        None => config,
    })
}

/// A pool through pgbouncer with the statement cache off; see [`bouncer_config`].
fn unnamed_pool(max_size: usize) -> Option<Pool> {
    Some(
        Pool::builder(bouncer_config(Some(0))?)
            .max_size(max_size)
            .build(),
    )
}

/// A table name no other run or test uses.
fn unique_table(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("bouncer_{what}_{}_{nanos}", std::process::id())
}

/// The values one task sends in one round, and what the server must send back for them.
struct Values {
    int4: i32,
    int8: i64,
    text: String,
    float8: f64,
    flag: bool,
    maybe_int4: Option<i32>,
    maybe_text: Option<String>,
    at: DateTime<Utc>,
    bytes: Vec<u8>,
    ints: Vec<i32>,
    texts: Vec<String>,
}

impl Values {
    fn new(task: i32, round: i32) -> Values {
        let at = Utc
            .timestamp_opt(
                1_700_000_000 + i64::from(task) * 86_400 + i64::from(round) * 3_600,
                u32::try_from(task * 1_000 + round).expect("small") * 1_000,
            )
            .single()
            .expect("a valid time");
        Values {
            int4: task * 1_000 + round,
            int8: (i64::from(task) << 40) | i64::from(round),
            text: format!("task {task} round {round} ünïcødé 'quoted' \"x\""),
            // Exact in binary: the server's doubling must give exactly twice it.
            float8: f64::from(task) + f64::from(round) / 8.0,
            flag: (task + round) % 2 == 0,
            maybe_int4: (round % 3 != 0).then_some(round),
            maybe_text: (round % 2 == 0).then(|| format!("t{task}")),
            at,
            bytes: vec![task as u8, round as u8, 0, 0xff, b'\\', b'\''],
            ints: vec![task, -round, i32::MAX],
            texts: vec![format!("a{task}"), "b,c".to_owned(), "\"q\" {}".to_owned()],
        }
    }
}

/// One task's rounds through the shared path: every parameter type, per-task SQL texts,
/// commands, empty results, and now and then a failing statement; every result checked.
/// Returns the backend pids that served it.
async fn shared_task(pool: Pool, task: i32, table: Arc<str>) -> HashSet<i32> {
    let mut pids = HashSet::new();
    // A SQL text of this task alone: running another task's statement would show.
    let own = format!("SELECT $1::int8 * {} AS task_{task}", task + 2);
    let insert = format!("INSERT INTO {table} (id, task, round, label) VALUES ($1, $2, $3, $4)");
    let update = format!("UPDATE {table} SET label = $2 WHERE id = $1");
    let find = format!("SELECT label FROM {table} WHERE id = $1");
    for round in 0..ROUNDS {
        let at = |what: &str| format!("task {task}, round {round}: {what}");
        let v = Values::new(task, round);

        let row = pool
            .query_one(
                "SELECT $1::int4 + 1, $2::int8 - 1, $3::text || '!', $4::float8 * 2, \
                 NOT $5::bool, pg_backend_pid()",
                &[&v.int4, &v.int8, &v.text, &v.float8, &v.flag],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("scalars")));
        assert_eq!(row.get::<_, i32>(0), v.int4 + 1, "{}", at("int4"));
        assert_eq!(row.get::<_, i64>(1), v.int8 - 1, "{}", at("int8"));
        assert_eq!(
            row.get::<_, String>(2),
            format!("{}!", v.text),
            "{}",
            at("text")
        );
        assert_eq!(row.get::<_, f64>(3), v.float8 * 2.0, "{}", at("float8"));
        assert_eq!(row.get::<_, bool>(4), !v.flag, "{}", at("bool"));
        pids.insert(row.get::<_, i32>(5));

        let row = pool
            .query_one(
                "SELECT $1::int4 IS NULL, coalesce($1::int4, -1), $2::text, $2::text IS NULL",
                &[&v.maybe_int4, &v.maybe_text],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("nulls")));
        assert_eq!(
            row.get::<_, bool>(0),
            v.maybe_int4.is_none(),
            "{}",
            at("null")
        );
        assert_eq!(row.get::<_, i32>(1), v.maybe_int4.unwrap_or(-1));
        assert_eq!(
            row.get::<_, Option<String>>(2),
            v.maybe_text,
            "{}",
            at("text")
        );
        assert_eq!(row.get::<_, bool>(3), v.maybe_text.is_none());

        let row = pool
            .query_one(
                "SELECT $1::timestamptz + interval '1 day', \
                 extract(epoch FROM $1::timestamptz)::int8",
                &[&v.at],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("timestamptz")));
        assert_eq!(
            row.get::<_, DateTime<Utc>>(0),
            v.at + chrono::Duration::days(1),
            "{}",
            at("timestamptz")
        );
        assert_eq!(row.get::<_, i64>(1), v.at.timestamp());

        let row = pool
            .query_one(
                "SELECT $1::bytea || '\\x00ff'::bytea, length($1::bytea)",
                &[&v.bytes],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("bytea")));
        let mut expected = v.bytes.clone();
        expected.extend_from_slice(&[0, 0xff]);
        assert_eq!(row.get::<_, Vec<u8>>(0), expected, "{}", at("bytea"));
        assert_eq!(row.get::<_, i32>(1), v.bytes.len() as i32);

        let row = pool
            .query_one(
                "SELECT $1::int4[] || $2::int4, array_length($1::int4[], 1), $3::text[]",
                &[&v.ints, &v.int4, &v.texts],
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("arrays")));
        let mut ints = v.ints.clone();
        ints.push(v.int4);
        assert_eq!(row.get::<_, Vec<i32>>(0), ints, "{}", at("int4[]"));
        assert_eq!(row.get::<_, i32>(1), v.ints.len() as i32);
        assert_eq!(row.get::<_, Vec<String>>(2), v.texts, "{}", at("text[]"));

        let row = pool
            .query_one(own.as_str(), &[&v.int8])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("own SQL")));
        assert_eq!(row.columns()[0].name(), format!("task_{task}"));
        assert_eq!(row.get::<_, i64>(0), v.int8 * i64::from(task + 2));

        // Commands: the count of rows affected; a query without rows (ids are never negative).
        let id = v.int4;
        let missing = -1 - id;
        let label = format!("{task}/{round}");
        if round % 4 == 1 {
            let row = pool
                .query_one(
                    format!("{insert} RETURNING id, upper(label)").as_str(),
                    &[&id, &task, &round, &label],
                )
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", at("insert returning")));
            assert_eq!(row.get::<_, i32>(0), id, "{}", at("insert returning"));
            assert_eq!(row.get::<_, String>(1), label.to_uppercase());
        } else {
            let n = pool
                .execute(insert.as_str(), &[&id, &task, &round, &label])
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", at("insert")));
            assert_eq!(n, 1, "{}", at("insert"));
        }
        let none = pool
            .query(find.as_str(), &[&missing])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", at("no rows")));
        assert!(none.is_empty(), "{}", at("no rows"));
        assert!(pool
            .query_opt(find.as_str(), &[&missing])
            .await
            .expect("query_opt")
            .is_none());
        if round % 5 == 0 {
            let n = pool
                .execute(update.as_str(), &[&id, &format!("{label}*")])
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", at("update")));
            assert_eq!(n, 1, "{}", at("update"));
            let n = pool
                .execute(update.as_str(), &[&missing, &"nobody"])
                .await
                .expect("update of nothing");
            assert_eq!(n, 0, "{}", at("update of nothing"));
        }

        // Failures among the other tasks' queries: each fails alone, with its SQLSTATE.
        if round % 7 == task % 7 {
            let err = pool
                .query_one("SELECT 10 / $1::int4", &[&0i32])
                .await
                .expect_err("division by zero");
            assert_eq!(err.code(), Some(&SqlState::DIVISION_BY_ZERO), "{err}");
            let err = pool
                .execute(insert.as_str(), &[&id, &task, &round, &"again"])
                .await
                .expect_err("duplicate key");
            assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
        }
    }
    let row = pool
        .query_one(
            format!("SELECT count(*), sum(round)::int8 FROM {table} WHERE task = $1").as_str(),
            &[&task],
        )
        .await
        .expect("own rows");
    assert_eq!(row.get::<_, i64>(0), i64::from(ROUNDS), "task {task}: rows");
    assert_eq!(
        row.get::<_, i64>(1),
        i64::from(ROUNDS * (ROUNDS - 1) / 2),
        "task {task}: rounds"
    );
    pids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_queries_with_unnamed_statements_survive_session_swapping() {
    let Some(pool) = unnamed_pool(POOL_SIZE) else {
        return;
    };
    let table: Arc<str> = unique_table("shared").into();
    within_limit("shared queries through pgbouncer", async {
        pool.execute(
            format!(
                "CREATE TABLE {table} (id int4 PRIMARY KEY, task int4 NOT NULL, \
                 round int4 NOT NULL, label text NOT NULL)"
            )
            .as_str(),
            &[],
        )
        .await
        .expect("create table");
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| tokio::spawn(shared_task(pool.clone(), task, table.clone())))
            .collect();
        let mut pids = HashSet::new();
        for task in tasks {
            pids.extend(task.await.expect("task"));
        }
        // Four client connections over two server sessions: the jobs were run by both.
        eprintln!("{TASKS} tasks over {POOL_SIZE} connections were served by backends {pids:?}");
        assert!(pids.len() >= 2, "one backend served everything: {pids:?}");
        let total: i64 = pool
            .query_one(format!("SELECT count(*) FROM {table}").as_str(), &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(total, i64::from(TASKS * ROUNDS));
        pool.execute(format!("DROP TABLE {table}").as_str(), &[])
            .await
            .expect("drop table");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_statement_in_a_batch_fails_only_its_caller() {
    // One connection: every job below goes through one runner, in as few batches as the
    // queue allows (the descriptions are made first, so nothing waits on a checkout).
    let Some(pool) = unnamed_pool(1) else {
        return;
    };
    let table = unique_table("batch");
    let insert = format!("INSERT INTO {table} (id) VALUES ($1)");
    within_limit("a batch with failures", async {
        pool.execute(
            format!("CREATE TABLE {table} (id int4 PRIMARY KEY)").as_str(),
            &[],
        )
        .await
        .expect("create table");
        pool.execute(insert.as_str(), &[&1i32])
            .await
            .expect("row 1");
        pool.query_one("SELECT 10 / $1::int4", &[&5i32])
            .await
            .expect("described");
        pool.query_one("SELECT $1::int4 * 3, $2::text", &[&1i32, &"x"])
            .await
            .expect("described");

        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (pool, barrier, insert) = (pool.clone(), barrier.clone(), insert.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    match i % 16 {
                        5 => {
                            let err = pool
                                .query_one("SELECT 10 / $1::int4", &[&0i32])
                                .await
                                .expect_err("division by zero");
                            assert_eq!(err.code(), Some(&SqlState::DIVISION_BY_ZERO), "{err}");
                        }
                        11 => {
                            let err = pool
                                .execute(insert.as_str(), &[&1i32])
                                .await
                                .expect_err("duplicate key");
                            assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
                        }
                        13 => {
                            // A command in the same batch, its own implicit transaction.
                            let n = pool
                                .execute(insert.as_str(), &[&(100 + i)])
                                .await
                                .expect("insert");
                            assert_eq!(n, 1);
                        }
                        _ => {
                            let text = format!("task {i}");
                            let row = pool
                                .query_one("SELECT $1::int4 * 3, $2::text", &[&i, &text])
                                .await
                                .unwrap_or_else(|e| panic!("task {i}: {e}"));
                            assert_eq!(row.get::<_, i32>(0), i * 3);
                            assert_eq!(row.get::<_, &str>(1), text);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        // The failed insert left nothing; the successful ones committed.
        let ids: Vec<i32> = pool
            .query(format!("SELECT id FROM {table} ORDER BY id").as_str(), &[])
            .await
            .expect("ids")
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut expected = vec![1];
        expected.extend((0..TASKS).filter(|i| i % 16 == 13).map(|i| 100 + i));
        assert_eq!(ids, expected);
        pool.execute(format!("DROP TABLE {table}").as_str(), &[])
            .await
            .expect("drop table");
    })
    .await;
}

/// The column names and first row of `SELECT * FROM table`, through the shared path.
async fn select_all(pool: &Pool, table: &str) -> Result<(Vec<String>, tusk::Row), tusk::Error> {
    let row = pool
        .query_one(format!("SELECT * FROM {table}").as_str(), &[])
        .await?;
    let names = row.columns().iter().map(|c| c.name().to_owned()).collect();
    Ok((names, row))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_change_between_calls_gives_the_new_shape() {
    let Some(pool) = unnamed_pool(2) else {
        return;
    };
    let table = unique_table("shape");
    within_limit("schema changes", async {
        let ddl = |sql: String| {
            let pool = pool.clone();
            async move { pool.execute(sql.as_str(), &[]).await.expect("DDL") }
        };
        ddl(format!("CREATE TABLE {table} (a int4, b text)")).await;
        ddl(format!("INSERT INTO {table} VALUES (1, 'one')")).await;
        let (names, row) = select_all(&pool, &table).await.expect("two columns");
        assert_eq!(names, ["a", "b"]);
        assert_eq!((row.get::<_, i32>(0), row.get::<_, &str>(1)), (1, "one"));

        // A column more: the pool's two result formats no longer match three columns; the
        // server refuses the Bind (nothing ran), the runner describes the SQL again and runs
        // it once more.
        ddl(format!("ALTER TABLE {table} ADD COLUMN c int8 DEFAULT 7")).await;
        let (names, row) = select_all(&pool, &table).await.expect("three columns");
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(row.get::<_, i64>(2), 7);
        // ... and the fresh description serves the calls after it.
        let (names, _) = select_all(&pool, &table)
            .await
            .expect("three columns again");
        assert_eq!(names, ["a", "b", "c"]);

        // A column fewer, the same way.
        ddl(format!("ALTER TABLE {table} DROP COLUMN b")).await;
        let (names, row) = select_all(&pool, &table).await.expect("two columns again");
        assert_eq!(names, ["a", "c"]);
        assert_eq!((row.get::<_, i32>(0), row.get::<_, i64>(1)), (1, 7));

        // A column's type changes, binary before and after: the portal's own description
        // gives the new type, no stale-plan error.
        ddl(format!("ALTER TABLE {table} ALTER COLUMN a TYPE int8")).await;
        let (names, row) = select_all(&pool, &table).await.expect("int8 column");
        assert_eq!(names, ["a", "c"]);
        assert_eq!(row.columns()[0].type_(), &tusk::types::Type::INT8);
        assert_eq!(row.get::<_, i64>(0), 1);

        // A column's type changes to one tusk reads as text (pg_lsn): the first call ran with
        // the formats asked for the old type, so its rows cannot be decoded (a Conversion
        // error that says so); the next call is described afresh and gets it right.
        ddl(format!(
            "ALTER TABLE {table} ALTER COLUMN c DROP DEFAULT, \
             ALTER COLUMN c TYPE pg_lsn USING '0/7'::pg_lsn"
        ))
        .await;
        let err = select_all(&pool, &table)
            .await
            .expect_err("rows in the old formats");
        assert_eq!(err.kind(), Kind::Conversion, "{err}");
        let (names, row) = select_all(&pool, &table).await.expect("pg_lsn column");
        assert_eq!(names, ["a", "c"]);
        assert_eq!(row.get::<_, &str>(1), "0/7");

        ddl(format!("DROP TABLE {table}")).await;
    })
    .await;
}
