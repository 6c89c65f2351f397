//! `Connection` end to end over an in-memory `tokio::io::duplex`, against the SCRIPTED server
//! (`protocol_tests::scripted`: a fake, NOT PostgreSQL; see `duplex_basic.rs` for the suite):
//! futures dropped at every await point with the server's replies arriving at exact moments,
//! server-side statements left behind by dropped calls, and a `Transaction` dropped with a
//! failing request in flight.
//!
//! Shared helpers are in `protocol_tests::duplex`. No PostgreSQL server is needed.
//!
//! Two bugs were found this way, and their tests are now regression tests: a call dropped
//! between writing the Parse of a named statement and reading its description leaked the
//! statement on the server (`LEAK`; now closed by the next request), and a `Transaction`
//! dropped while an extended-protocol group that the server fails was still open hung the
//! next call, because its ROLLBACK went out as a simple Query inside that group, where the
//! server skips it (a Query now closes an open group with Sync first).

use std::time::Duration;

use protocol_tests::duplex::{
    check, config, connect, connect_with, finish, mode, op_copy_in, op_copy_out, op_execute,
    op_failing_query, op_failing_stream, op_failing_transaction, op_pipeline, op_prepare,
    op_query_one, op_query_stream, op_savepoint, op_simple_query, op_transaction, op_unwanted_copy,
    poll_at_most, within, Op, ECHO, MISSING, SERIES,
};
use protocol_tests::scripted::{Failure, Script, ScriptedServer, WriteMode};
use tusk::{Config, Connection, Error, TransactionStatus};

// ---------------------------------------------------------------------------------------
// c. Futures dropped at every await point.
// ---------------------------------------------------------------------------------------

fn no_setup(_: &ScriptedServer) {}

fn fail_missing(server: &ScriptedServer) {
    server.fail(Failure::undefined_table(MISSING, "missing"));
}

fn fail_series(server: &ScriptedServer) {
    server.fail(Failure::division_by_zero(SERIES, 2));
}

/// An operation, what it must return when it runs to the end, and the SQLSTATEs the server
/// may raise when it is dropped part-way.
struct Case {
    name: &'static str,
    op: Op,
    expected: &'static str,
    allowed_errors: &'static [&'static str],
    /// Run on each new server.
    setup: fn(&ScriptedServer),
}

const UNWANTED_COPY: &str =
    "Usage: invalid use: COPY cannot run through execute or query: use copy_in / \
     copy_out: ERROR 57014: COPY from stdin failed: COPY FROM STDIN cannot run here: use \
     copy_in (a COPY needs its own call)";

const CASES: [Case; 14] = [
    Case {
        name: "query_one",
        op: op_query_one,
        expected: "7",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "execute",
        op: op_execute,
        expected: "1",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "prepare",
        op: op_prepare,
        expected: "[Type(int4, oid 23)] x",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "simple_query",
        op: op_simple_query,
        expected: "row 7, SELECT 1 (Some(1))",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "transaction",
        op: op_transaction,
        expected: "7",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "pipeline",
        op: op_pipeline,
        expected: "[7] [1, 2, 3]",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "query_stream",
        op: op_query_stream,
        expected: "[1, 2, 3, 4, 5] Some(5)",
        allowed_errors: &[],
        setup: no_setup,
    },
    // A copy abandoned before CopyDone is failed with CopyFail: 57014.
    Case {
        name: "copy_in",
        op: op_copy_in,
        expected: "3",
        allowed_errors: &["57014"],
        setup: no_setup,
    },
    Case {
        name: "copy_out",
        op: op_copy_out,
        expected: "\"1\\n2\\n3\\n\" Some(3)",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "unwanted COPY FROM STDIN",
        op: op_unwanted_copy,
        expected: UNWANTED_COPY,
        allowed_errors: &["57014"],
        setup: no_setup,
    },
    Case {
        name: "failing query",
        op: op_failing_query,
        expected: "Db Some(\"42P01\")",
        allowed_errors: &["42P01"],
        setup: fail_missing,
    },
    Case {
        name: "failing stream",
        op: op_failing_stream,
        expected: "[1, 2] Db Some(\"22012\")",
        allowed_errors: &["22012"],
        setup: fail_series,
    },
    Case {
        name: "failing transaction",
        op: op_failing_transaction,
        expected: "7 Some(\"42P01\") Failed Some(\"25P02\")",
        allowed_errors: &["42P01"],
        setup: fail_missing,
    },
    Case {
        name: "savepoint",
        op: op_savepoint,
        expected: "7 true",
        allowed_errors: &[],
        setup: no_setup,
    },
];

/// The largest number of polls any operation may need (byte-by-byte replies).
const MAX_POLLS: usize = 5_000;

/// Checks the outcome of a run that finished.
fn check_outcome(case: &Case, mode: WriteMode, outcome: &Result<String, Error>) {
    let name = case.name;
    let result = outcome
        .as_ref()
        .unwrap_or_else(|e| panic!("{name} ({mode:?}) failed: {e}"));
    assert_eq!(result, case.expected, "{name} ({mode:?})");
}

/// Closes the connection; the server may have raised only the allowed errors.
async fn finish_allowing(conn: Connection, server: ScriptedServer, case: &Case) {
    let errors = server.stats().errors_sent;
    assert!(
        errors
            .iter()
            .all(|e| case.allowed_errors.contains(&e.as_str())),
        "{}: the server raised {errors:?}",
        case.name
    );
    within("close", conn.close()).await.unwrap();
    within("the server", server.finish()).await.unwrap();
}

/// For n = 0, 1, 2, ...: a fresh connection, the operation polled exactly n times and
/// dropped, then a query that must return the right value on a clean, idle connection; until
/// the operation finishes within n polls (whose result is checked too). Returns that n.
async fn drop_on_fresh_connections(case: &Case, mode: WriteMode, config: &Config) -> usize {
    for n in 0..MAX_POLLS {
        let (mut conn, server) = connect_with(config.clone(), self::mode(mode)).await;
        (case.setup)(&server);
        let outcome = within(case.name, poll_at_most((case.op)(&mut conn), n)).await;
        if let Some(outcome) = &outcome {
            check_outcome(case, mode, outcome);
        }
        check(&mut conn, 8 + n as i32).await;
        finish_allowing(conn, server, case).await;
        if outcome.is_some() {
            return n;
        }
    }
    panic!(
        "{} ({mode:?}) did not finish within {MAX_POLLS} polls",
        case.name
    );
}

/// The same on one connection, warmed up by a first complete run (so the statement cache is
/// in play), with a check after each drop.
async fn drop_on_one_connection(case: &Case, mode: WriteMode, config: &Config) -> usize {
    let (mut conn, server) = connect_with(config.clone(), self::mode(mode)).await;
    (case.setup)(&server);
    let warm = within(case.name, (case.op)(&mut conn)).await;
    check_outcome(case, mode, &warm);
    for n in 0..MAX_POLLS {
        let outcome = within(case.name, poll_at_most((case.op)(&mut conn), n)).await;
        if let Some(outcome) = &outcome {
            check_outcome(case, mode, outcome);
        }
        check(&mut conn, -(n as i32)).await;
        if outcome.is_some() {
            finish_allowing(conn, server, case).await;
            return n;
        }
    }
    panic!(
        "{} ({mode:?}) did not finish within {MAX_POLLS} polls",
        case.name
    );
}

/// Both ways, with replies written whole and byte by byte, with the statement cache on and
/// off (unnamed statements).
async fn drop_at_every_await(index: usize) {
    let case = &CASES[index];
    for config in [config(), config().statement_cache_capacity(0)] {
        for write_mode in [WriteMode::Whole, WriteMode::ByteByByte] {
            let fresh = drop_on_fresh_connections(case, write_mode, &config).await;
            let warm = drop_on_one_connection(case, write_mode, &config).await;
            assert!(fresh >= 1 && warm >= 1, "{}: {fresh} {warm}", case.name);
        }
    }
}

#[tokio::test]
async fn query_one_dropped_at_every_await() {
    drop_at_every_await(0).await;
}

#[tokio::test]
async fn execute_dropped_at_every_await() {
    drop_at_every_await(1).await;
}

#[tokio::test]
async fn prepare_dropped_at_every_await() {
    drop_at_every_await(2).await;
}

#[tokio::test]
async fn simple_query_dropped_at_every_await() {
    drop_at_every_await(3).await;
}

#[tokio::test]
async fn transaction_dropped_at_every_await() {
    drop_at_every_await(4).await;
}

#[tokio::test]
async fn pipeline_dropped_at_every_await() {
    drop_at_every_await(5).await;
}

#[tokio::test]
async fn query_stream_dropped_at_every_await() {
    drop_at_every_await(6).await;
}

#[tokio::test]
async fn copy_in_dropped_at_every_await() {
    drop_at_every_await(7).await;
}

#[tokio::test]
async fn copy_out_dropped_at_every_await() {
    drop_at_every_await(8).await;
}

#[tokio::test]
async fn an_unwanted_copy_dropped_at_every_await() {
    drop_at_every_await(9).await;
}

#[tokio::test]
async fn a_failing_query_dropped_at_every_await() {
    drop_at_every_await(10).await;
}

#[tokio::test]
async fn a_failing_stream_dropped_at_every_await() {
    drop_at_every_await(11).await;
}

#[tokio::test]
async fn a_failing_transaction_dropped_at_every_await() {
    drop_at_every_await(12).await;
}

#[tokio::test]
async fn a_savepoint_dropped_at_every_await() {
    drop_at_every_await(13).await;
}

// ---------------------------------------------------------------------------------------
// Server-side statements left behind by dropped calls.
// ---------------------------------------------------------------------------------------

/// How many named statements the server holds for `sql`.
fn held(server: &ScriptedServer, sql: &str) -> usize {
    server
        .stats()
        .statements
        .iter()
        .filter(|(_, s)| s == sql)
        .count()
}

/// A call preparing `sql` dropped at every await, then `sql` prepared again and another query
/// run (which writes the Closes queued by dropped handles): the server must hold one
/// statement for `sql`, the one the connection knows about.
async fn no_statement_left_behind(name: &str, op: Op, sql: &str) {
    for n in 0..MAX_POLLS {
        let (mut conn, server) = connect(mode(WriteMode::ByteByByte)).await;
        let finished = within(name, poll_at_most(op(&mut conn), n)).await.is_some();
        let stmt = within("prepare", conn.prepare(sql)).await.unwrap();
        check(&mut conn, 1).await;
        check(&mut conn, 2).await;
        assert_eq!(
            held(&server, sql),
            1,
            "{name} dropped after {n} polls: statements on the server {:?}, the connection's \
             is {:?}",
            server.stats().statements,
            stmt.name()
        );
        drop(stmt);
        finish(conn, server, &[]).await;
        if finished {
            return;
        }
    }
    panic!("{name} did not finish within {MAX_POLLS} polls");
}

// A call dropped after its Parse of a named statement was written and before the reply to
// the Describe has been read leaves that statement on the server for the rest of the
// session: the connection has no handle to it, so it is never closed, and the next call
// prepares the same SQL again under a new name.
const LEAK: &str = "regression: a prepare/query/pipeline future dropped between writing Parse \
                    of a named statement and reading its description left the statement on \
                    the server (never closed)";

#[tokio::test]
async fn a_dropped_prepare_leaves_no_statement_behind() {
    no_statement_left_behind("prepare", op_prepare, "SELECT $1::int4 AS p").await;
}

#[tokio::test]
async fn a_dropped_query_leaves_no_statement_behind() {
    no_statement_left_behind("query_one", op_query_one, ECHO).await;
}

#[tokio::test]
async fn a_dropped_pipeline_leaves_no_statement_behind() {
    no_statement_left_behind("pipeline", op_pipeline, SERIES).await;
}

/// The smallest reproduction of [`LEAK`]: `prepare` polled once (Parse, Describe and Flush
/// are written; nothing is read yet) and dropped.
#[tokio::test]
async fn a_prepare_dropped_after_one_poll_leaves_its_statement_behind() {
    let (mut conn, server) = connect(Script::default()).await;
    let sql = "SELECT $1::int4 AS p";
    assert!(within("prepare", poll_at_most(conn.prepare(sql), 1))
        .await
        .is_none());
    let stmt = within("prepare", conn.prepare(sql)).await.unwrap();
    assert_eq!(stmt.name(), "tusk_s2");
    check(&mut conn, 1).await;
    // Today: [("tusk_s1", sql), ("tusk_s2", sql), ("tusk_s3", ECHO)].
    assert_eq!(
        server.stats().statements,
        [
            ("tusk_s2".to_owned(), sql.to_owned()),
            ("tusk_s3".to_owned(), ECHO.to_owned())
        ],
        "{LEAK}"
    );
    drop(stmt);
    finish(conn, server, &[]).await;
}

// ---------------------------------------------------------------------------------------
// A Transaction dropped while a failing Parse is in flight.
// ---------------------------------------------------------------------------------------

/// Regression (it hung): a statement inside a transaction is dropped after its Parse/Describe/Flush
/// went out and before the answer; the guard's Drop then queues its ROLLBACK as a simple
/// Query behind that still-open Sync group, and the next call's resynchronisation closes the
/// group with a Sync written after the Query. On the wire: Parse, Describe, Flush, Query
/// (ROLLBACK), Sync. When the Parse fails, the server skips every message up to the Sync,
/// the Query included (PostgreSQL's `ignore_till_sync` skips 'Q' too), so it sends one
/// ReadyForQuery where the exchange counts two (it stops its skip at the Query step): the
/// next call waits forever, and the ROLLBACK never ran (the server's transaction is still
/// failed).
#[tokio::test]
async fn a_transaction_dropped_with_a_failing_parse_in_flight() {
    let (mut conn, server) = connect(Script {
        failures: vec![Failure::undefined_table(MISSING, "missing")],
        ..Script::default()
    })
    .await;
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    // One poll writes and sends Parse, Describe and Flush; nothing is read yet.
    assert!(poll_at_most(tx.query(MISSING, &[]), 1).await.is_none());
    drop(tx);
    let next = tokio::time::timeout(Duration::from_secs(5), conn.query_one(ECHO, &[&1i32])).await;
    let stats = server.stats();
    let received = String::from_utf8_lossy(&stats.received[1..]).into_owned();
    assert!(
        received.starts_with("QPDHSQ"),
        "BEGIN, Parse/Describe/Flush, then the group's Sync before the ROLLBACK: {received}"
    );
    let row = next
        .unwrap_or_else(|_| {
            panic!(
                "the next call hangs; the server answered the Sync with ReadyForQuery {:?} \
                 after skipping the ROLLBACK, and its errors were {:?}",
                stats.transaction_status as char, stats.errors_sent
            )
        })
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert_eq!(server.stats().transaction_status, b'I');
}

/// The same hang without any future dropped mid-await: a row stream inside a transaction is
/// dropped early (its Sync group is left open, as documented), the server's error for a later
/// batch is in flight, and the transaction guard is dropped (queueing its ROLLBACK behind the
/// open group).
#[tokio::test]
async fn a_transaction_dropped_after_a_failing_stream_was_dropped() {
    let (mut conn, server) = connect(Script::default()).await;
    // Row 3 fails.
    server.fail(Failure::division_by_zero(SERIES, 2));
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    let mut stream = within("query_stream", tx.query_stream_batched(SERIES, &[&5i32], 1))
        .await
        .unwrap();
    // Rows 1 and 2: after the first PortalSuspended the stream keeps two Executes in
    // flight, so the second one's error is on its way when the stream is dropped.
    for expected in [1, 2] {
        let row = within("the stream", stream.try_next()).await.unwrap();
        assert_eq!(row.map(|r| r.get::<_, i32>(0)), Some(expected));
    }
    drop(stream);
    drop(tx);
    let next = tokio::time::timeout(Duration::from_secs(5), conn.query_one(ECHO, &[&1i32])).await;
    let stats = server.stats();
    let row = next
        .unwrap_or_else(|_| {
            panic!(
                "the next call hangs; the server got {:?}, answered with ReadyForQuery {:?} \
                 and raised {:?}",
                String::from_utf8_lossy(&stats.received[1..]),
                stats.transaction_status as char,
                stats.errors_sent
            )
        })
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert_eq!(server.stats().transaction_status, b'I');
}
