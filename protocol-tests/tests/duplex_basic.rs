//! `Connection` end to end over an in-memory `tokio::io::duplex`, against a SCRIPTED server
//! (`protocol_tests::scripted`): a fake, NOT PostgreSQL, for what a real server will not do on
//! demand: replies written one byte at a time or split at every offset, futures dropped at
//! every await point with the server's replies arriving at exact moments, a given statement
//! failing in a given phase, wrong messages in place of the right ones, the stream dropped
//! at every byte of a reply. The live suite (`live_*.rs`) covers real behaviour. No
//! PostgreSQL server is needed (no `TUSK_PG_*` variables are read).
//!
//! Every test checks concrete values and, unless the connection is expected to be broken,
//! that it still answers a query afterwards.
//!
//! The suite is split by theme: this file (every call working, replies written byte by byte
//! and split at every offset), `duplex_drops.rs` (futures dropped at every await point, and
//! the regressions found that way), `duplex_errors.rs` (errors in every phase, protocol
//! violations, the stream cut at every byte) and `duplex_copy.rs` (COPY); their shared helpers
//! are in `protocol_tests::duplex`.

use protocol_tests::duplex::{
    check, collect_stream, connect, connect_recorded, finish, mode, rows_of, simple_rows, within,
    ECHO, MISSING, SERIES,
};
use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::scripted::{Failure, Fault, Script, WriteMode, BACKEND_PID};
use protocol_tests::wire;
use tusk::types::Type;
use tusk::{Kind, SimpleQueryMessage, SqlState, TransactionStatus};

// ---------------------------------------------------------------------------------------
// a. Every operation, replies written whole.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn startup_over_a_duplex_reports_the_servers_parameters() {
    let (conn, server) = connect(Script::default()).await;
    assert_eq!(conn.parameter("server_version"), Some("15.0"));
    assert_eq!(conn.parameter("server_encoding"), Some("UTF8"));
    assert_eq!(conn.parameter("client_encoding"), Some("UTF8"));
    assert_eq!(conn.parameter("DateStyle"), Some("ISO"));
    assert_eq!(conn.parameter("integer_datetimes"), Some("on"));
    assert_eq!(conn.parameter("TimeZone"), Some("UTC"));
    assert_eq!(conn.backend_pid(), Some(BACKEND_PID));
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    let params = server.stats().startup_params;
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("user"), Some("alice"));
    assert_eq!(get("database"), Some("fake"));
    assert_eq!(get("client_encoding"), Some("UTF8"));
    finish(conn, server, &[]).await;
}

#[tokio::test]
async fn every_operation_works_over_a_duplex() {
    let (mut conn, server) = connect(Script::default()).await;

    // query: Parse/Describe/Flush, then Bind/Execute/Sync; the value comes back in binary.
    let rows = within("query", conn.query(ECHO, &[&5i32])).await.unwrap();
    assert_eq!(rows_of(&rows), [5]);
    assert_eq!(rows[0].columns()[0].name(), "x");
    assert_eq!(rows[0].columns()[0].type_(), &Type::INT4);
    assert_eq!(rows[0].raw(0), Some(&5i32.to_be_bytes()[..]));

    // query_one with a literal; query_opt; the cached statement a second time.
    let row = within("query_one", conn.query_one("SELECT 42", &[]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    let row = within("query_opt", conn.query_opt(ECHO, &[&-6i32]))
        .await
        .unwrap();
    assert_eq!(row.map(|r| r.get::<_, i32>(0)), Some(-6));
    let none = within("query_opt", conn.query_opt(SERIES, &[&0i32]))
        .await
        .unwrap();
    assert!(none.is_none());
    let err = within("query_one", conn.query_one(SERIES, &[&3i32]))
        .await
        .unwrap_err();
    expect_message(&err, Kind::RowCount, "the query returned 3");

    // execute: the count from the command tag.
    let n = within(
        "execute",
        conn.execute("INSERT INTO t VALUES ($1)", &[&1i32]),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let n = within("execute", conn.execute(SERIES, &[&4i32]))
        .await
        .unwrap();
    assert_eq!(n, 4);

    // prepare: the server's description, then the statement run twice.
    let stmt = within("prepare", conn.prepare("SELECT $1::int4 AS y"))
        .await
        .unwrap();
    assert_eq!(stmt.params(), &[Type::INT4]);
    assert_eq!(stmt.columns().len(), 1);
    assert_eq!(stmt.columns()[0].name(), "x");
    for v in [9i32, i32::MIN] {
        let row = within("query_one", conn.query_one(&stmt, &[&v]))
            .await
            .unwrap();
        assert_eq!(row.get::<_, i32>(0), v);
    }
    let insert = within("prepare", conn.prepare("INSERT INTO t VALUES ($1)"))
        .await
        .unwrap();
    assert!(insert.columns().is_empty());

    // simple_query: text values and the command tag.
    let messages = within(
        "simple_query",
        conn.simple_query("SELECT 3; INSERT INTO t VALUES (2)"),
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&messages),
        ["row 3", "SELECT 1 (Some(1))", "INSERT 0 1 (Some(1))"]
    );
    let messages = within(
        "simple_query",
        conn.simple_query("SELECT generate_series(1, 3)"),
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&messages),
        ["row 1", "row 2", "row 3", "SELECT 3 (Some(3))"]
    );
    if let SimpleQueryMessage::Row(row) = &messages[0] {
        assert_eq!(row.columns(), ["x"]);
    }

    // batch_execute, with BEGIN/COMMIT as plain SQL moving the transaction status.
    within(
        "batch_execute",
        conn.batch_execute("BEGIN; INSERT INTO t VALUES (3)"),
    )
    .await
    .unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::InTransaction);
    within("batch_execute", conn.batch_execute("COMMIT"))
        .await
        .unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    // pipeline: one Sync group, then one per statement.
    let (one, two, three) = (1i32, 2i32, 3i32);
    let mut pipeline = conn.pipeline();
    pipeline.query(ECHO, &[&one]);
    pipeline.query("SELECT $1::int4 AS other", &[&two]);
    pipeline.execute("INSERT INTO t VALUES ($1)", &[&three]);
    pipeline.query(SERIES, &[&three]);
    let results = within("pipeline", pipeline.run()).await.unwrap();
    let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(rows_of(results[0].rows()), [1]);
    assert_eq!(rows_of(results[1].rows()), [2]);
    assert!(results[2].rows().is_empty());
    assert_eq!(results[2].rows_affected(), Some(1));
    assert!(results[2].columns().is_empty());
    assert_eq!(rows_of(results[3].rows()), [1, 2, 3]);
    let mut pipeline = conn.pipeline().sync_each(true);
    pipeline.query(ECHO, &[&two]);
    pipeline.query(MISSING, &[]);
    pipeline.query(ECHO, &[&three]);
    server.fail(Failure::undefined_table(MISSING, "missing"));
    let results = within("pipeline", pipeline.run()).await.unwrap();
    assert_eq!(rows_of(results[0].as_ref().unwrap().rows()), [2]);
    expect_db(results[1].as_ref().unwrap_err(), &SqlState::UNDEFINED_TABLE);
    assert_eq!(rows_of(results[2].as_ref().unwrap().rows()), [3]);

    // transaction: BEGIN and COMMIT via the simple protocol.
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    let row = within("query_one", tx.query_one(ECHO, &[&11i32]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 11);
    within("commit", tx.commit()).await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    let tx = within("transaction", conn.transaction()).await.unwrap();
    within("rollback", tx.rollback()).await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    // query_stream: batches of 2 (PortalSuspended twice, then the rest), and the default.
    let mut stream = within(
        "query_stream_batched",
        conn.query_stream_batched(SERIES, &[&5i32], 2),
    )
    .await
    .unwrap();
    assert_eq!(
        within("the stream", collect_stream(&mut stream))
            .await
            .unwrap(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(stream.rows_affected(), Some(5));
    drop(stream);
    let mut stream = within("query_stream", conn.query_stream(SERIES, &[&3i32]))
        .await
        .unwrap();
    assert_eq!(
        within("the stream", collect_stream(&mut stream))
            .await
            .unwrap(),
        [1, 2, 3]
    );
    assert_eq!(stream.rows_affected(), Some(3));
    drop(stream);

    check(&mut conn, 8).await;
    finish(conn, server, &["42P01"]).await;
}

#[tokio::test]
async fn asynchronous_messages_between_replies_are_absorbed() {
    let (mut conn, server) = connect(Script::default()).await;
    let mut notification = 99i32.to_be_bytes().to_vec();
    notification.extend_from_slice(b"jobs\0hello\0");
    let interleaved = [
        wire::parameter_status("TimeZone", "Europe/Paris"),
        wire::fields(
            b'N',
            &[
                (b'S', "NOTICE"),
                (b'C', "00000"),
                (b'M', "just so you know"),
            ],
        ),
        wire::msg(b'A', &notification),
    ]
    .concat();
    // Before the replies to Describe, to Execute, and to a simple Query.
    server.inject(Fault::ReplyBefore {
        tag: b'D',
        bytes: interleaved.clone(),
    });
    server.inject(Fault::ReplyBefore {
        tag: b'E',
        bytes: interleaved.clone(),
    });
    server.inject(Fault::ReplyBefore {
        tag: b'Q',
        bytes: interleaved,
    });
    let row = within("query_one", conn.query_one(ECHO, &[&4i32]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 4);
    let messages = within("simple_query", conn.simple_query("SELECT 6"))
        .await
        .unwrap();
    assert_eq!(simple_rows(&messages), ["row 6", "SELECT 1 (Some(1))"]);
    assert_eq!(conn.parameter("TimeZone"), Some("Europe/Paris"));
    let notifications = conn.take_notifications();
    assert_eq!(notifications.len(), 3);
    assert!(notifications
        .iter()
        .all(|n| n.channel == "jobs" && n.payload == "hello" && n.process_id == 99));
    check(&mut conn, 8).await;
    finish(conn, server, &[]).await;
}

// ---------------------------------------------------------------------------------------
// b. The same session with the replies written byte by byte and split at every offset.
// ---------------------------------------------------------------------------------------

/// Connects, runs a fixed set of calls and checks their results; returns how many bytes the
/// server wrote in all and the sizes of the connection's reads.
async fn scripted_session(script: Script) -> (usize, Vec<usize>) {
    let label = format!("{:?}", script.write_mode);
    let (mut conn, server, reads) = connect_recorded(script).await;
    assert_eq!(conn.parameter("TimeZone"), Some("UTC"), "{label}");
    assert_eq!(conn.backend_pid(), Some(BACKEND_PID), "{label}");
    // The first time through Parse/Describe, the second from the statement cache.
    for v in [7i32, 8] {
        let row = within(&label, conn.query_one(ECHO, &[&v]))
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(row.get::<_, i32>(0), v, "{label}");
    }
    let messages = within(&label, conn.simple_query("SELECT 3"))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(
        simple_rows(&messages),
        ["row 3", "SELECT 1 (Some(1))"],
        "{label}"
    );
    let mut stream = within(&label, conn.query_stream_batched(SERIES, &[&3i32], 2))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let values = within(&label, collect_stream(&mut stream))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(values, [1, 2, 3], "{label}");
    drop(stream);
    let total = server.bytes_written();
    finish(conn, server, &[]).await;
    let reads = reads.lock().unwrap().clone();
    assert_eq!(reads.iter().sum::<usize>(), total, "{label}");
    (total, reads)
}

#[tokio::test]
async fn replies_written_one_byte_at_a_time() {
    let (whole, _) = scripted_session(mode(WriteMode::Whole)).await;
    let (bytes, reads) = scripted_session(mode(WriteMode::ByteByByte)).await;
    assert_eq!(whole, bytes);
    // Every byte reached the connection in a read of its own.
    assert_eq!(reads.len(), bytes);
    let big: Vec<(usize, usize)> = reads
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n != 1)
        .collect();
    assert!(big.is_empty(), "{big:?} of {}", reads.len());
}

#[tokio::test]
async fn replies_split_at_every_offset() {
    let (len, _) = scripted_session(mode(WriteMode::Whole)).await;
    assert!(len > 200, "the session wrote only {len} bytes");
    for k in 0..len {
        let (written, reads) = scripted_session(mode(WriteMode::SplitAt(k))).await;
        assert_eq!(written, len, "split at {k}");
        // One read ended exactly at byte k: the connection saw the split.
        let ends: Vec<usize> = reads
            .iter()
            .scan(0, |at, n| {
                *at += n;
                Some(*at)
            })
            .collect();
        assert!(k == 0 || ends.contains(&k), "split at {k}: reads {reads:?}");
    }
}
