//! `Connection` end to end over an in-memory `tokio::io::duplex`, against the SCRIPTED server
//! (`protocol_tests::scripted`: a fake, NOT PostgreSQL; see `duplex_basic.rs` for the suite):
//! the server's errors in every phase, protocol violations (wrong messages in place of the
//! right ones), and the stream dropped at every byte of a reply.
//!
//! Shared helpers are in `protocol_tests::duplex`. No PostgreSQL server is needed.

use protocol_tests::duplex::{
    check, connect, finish, op_copy_in, op_copy_out, op_execute, op_pipeline, op_prepare,
    op_query_one, op_query_stream, op_simple_query, op_transaction, rows_of, within, Op, ECHO,
    MISSING, SERIES, SERIES_5,
};
use protocol_tests::errors::{expect_code, expect_db, expect_message};
use protocol_tests::scripted::{self, Failure, Fault, Phase, Script};
use protocol_tests::wire;
use tusk::{Error, Kind, SqlState, TransactionStatus};

// ---------------------------------------------------------------------------------------
// d. Errors: the server's (in every phase), and protocol violations.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_parse_error_reaches_every_caller_and_the_connection_goes_on() {
    let (mut conn, server) = connect(Script {
        failures: vec![Failure::undefined_table(MISSING, "missing")],
        ..Script::default()
    })
    .await;
    let mut raised = 0;
    let mut check_err = |err: &Error| {
        expect_db(err, &SqlState::UNDEFINED_TABLE);
        assert_eq!(
            err.as_db_error().unwrap().message,
            "relation \"missing\" does not exist"
        );
        raised += 1;
    };

    check_err(&within("query", conn.query(MISSING, &[])).await.unwrap_err());
    check(&mut conn, 1).await;
    check_err(
        &within("query_one", conn.query_one(MISSING, &[]))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 2).await;
    check_err(
        &within("execute", conn.execute(MISSING, &[]))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 3).await;
    check_err(&within("prepare", conn.prepare(MISSING)).await.unwrap_err());
    check(&mut conn, 4).await;
    check_err(
        &within("query_stream", conn.query_stream(MISSING, &[]))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 5).await;
    check_err(
        &within("simple_query", conn.simple_query(MISSING))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 6).await;
    check_err(
        &within(
            "batch_execute",
            conn.batch_execute(&format!("SELECT 1; {MISSING}")),
        )
        .await
        .unwrap_err(),
    );
    check(&mut conn, 7).await;
    let mut pipeline = conn.pipeline();
    pipeline.query(MISSING, &[]);
    pipeline.query(ECHO, &[&5i32]);
    let results = within("pipeline", pipeline.run()).await.unwrap();
    check_err(results[0].as_ref().unwrap_err());
    assert_eq!(rows_of(results[1].as_ref().unwrap().rows()), [5]);
    check(&mut conn, 8).await;
    assert_eq!(raised, 8);
    finish(conn, server, &["42P01"; 8]).await;
}

#[tokio::test]
async fn errors_at_bind_and_execute_reach_the_caller_and_the_connection_goes_on() {
    for phase in [Phase::Parse, Phase::Bind, Phase::Execute] {
        let (mut conn, server) = connect(Script::default()).await;
        // Rows 1 and 2 are sent before an Execute-phase error.
        server.fail(Failure::division_by_zero(SERIES, 2).in_phase(phase));
        server.fail(Failure::division_by_zero(SERIES_5, 2).in_phase(phase));
        let err = within("query", conn.query(SERIES, &[&5i32]))
            .await
            .unwrap_err();
        expect_db(&err, &SqlState::DIVISION_BY_ZERO);
        check(&mut conn, 1).await;

        let stream = within(
            "query_stream",
            conn.query_stream_batched(SERIES, &[&5i32], 1),
        )
        .await;
        match (phase, stream) {
            (Phase::Execute, Ok(mut stream)) => {
                let mut values = Vec::new();
                let err = loop {
                    match within("the stream", stream.try_next()).await {
                        Ok(Some(row)) => values.push(row.get::<_, i32>(0)),
                        Ok(None) => panic!("the stream ended without the error"),
                        Err(e) => break e,
                    }
                };
                assert_eq!(values, [1, 2]);
                expect_db(&err, &SqlState::DIVISION_BY_ZERO);
                assert!(within("the stream", stream.try_next())
                    .await
                    .unwrap()
                    .is_none());
            }
            (_, Err(err)) if phase != Phase::Execute => {
                expect_db(&err, &SqlState::DIVISION_BY_ZERO)
            }
            (_, other) => panic!("{phase:?}: {other:?}"),
        }
        check(&mut conn, 2).await;

        // In a simple query every phase fails the statement (an Execute-phase error after
        // the RowDescription and the first rows).
        let err = within("simple_query", conn.simple_query(SERIES_5))
            .await
            .unwrap_err();
        expect_db(&err, &SqlState::DIVISION_BY_ZERO);
        check(&mut conn, 3).await;

        let stmt = within("prepare", conn.prepare(SERIES)).await;
        match (phase, stmt) {
            (Phase::Parse, Err(err)) => expect_db(&err, &SqlState::DIVISION_BY_ZERO),
            (Phase::Bind | Phase::Execute, Ok(stmt)) => {
                let err = within("query", conn.query(&stmt, &[&5i32]))
                    .await
                    .unwrap_err();
                expect_db(&err, &SqlState::DIVISION_BY_ZERO);
            }
            (_, other) => panic!("{phase:?}: {other:?}"),
        }
        check(&mut conn, 4).await;
        finish(conn, server, &["22012"; 4]).await;
    }
}

#[tokio::test]
async fn an_error_inside_a_transaction_fails_it_until_rollback() {
    let (mut conn, server) = connect(Script {
        failures: vec![Failure::undefined_table(MISSING, "missing")],
        ..Script::default()
    })
    .await;
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    let err = within("query", tx.query(MISSING, &[])).await.unwrap_err();
    expect_db(&err, &SqlState::UNDEFINED_TABLE);
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    // Refused locally: nothing is sent in a failed transaction.
    let sent = server.stats().received.len();
    let err = within("query_one", tx.query_one(ECHO, &[&1i32]))
        .await
        .unwrap_err();
    expect_code(&err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    assert_eq!(server.stats().received.len(), sent);
    // Commit rolls back and says so.
    let err = within("commit", tx.commit()).await.unwrap_err();
    expect_code(&err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert_eq!(server.stats().transaction_status, b'I');
    check(&mut conn, 8).await;
    finish(conn, server, &["42P01"]).await;
}

/// A protocol violation: `fault` is injected, `op` must fail with a protocol error whose text
/// is `expected`, and the connection is closed afterwards.
async fn violation(fault: Fault, op: Op, expected: &str) {
    let (mut conn, server) = connect(Script::default()).await;
    server.inject(fault.clone());
    let err = within(expected, op(&mut conn)).await.unwrap_err();
    expect_message(&err, Kind::Protocol, expected);
    assert_eq!(err.to_string(), format!("protocol error: {expected}"));
    assert!(conn.is_closed(), "{fault:?}: the connection stays open");
    let again = within("the next call", conn.query_one(ECHO, &[&1i32]))
        .await
        .unwrap_err();
    assert!(again.is_closed(), "{again}");
    expect_message(&again, Kind::Closed, "the connection is closed");
    drop(conn);
    within("the server", server.finish()).await.unwrap();
}

#[tokio::test]
async fn bind_complete_in_answer_to_parse() {
    violation(
        Fault::ReplyInstead {
            tag: b'P',
            bytes: wire::msg(b'2', &[]),
        },
        op_query_one,
        "unexpected BindComplete message while waiting for ParseComplete",
    )
    .await;
}

#[tokio::test]
async fn row_description_without_parameter_description() {
    violation(
        Fault::ReplyInstead {
            tag: b'D',
            bytes: scripted::row_description("x", 0),
        },
        op_prepare,
        "unexpected RowDescription message while waiting for ParameterDescription",
    )
    .await;
}

#[tokio::test]
async fn data_row_before_row_description_in_a_simple_query() {
    violation(
        Fault::ReplyInstead {
            tag: b'Q',
            bytes: [
                scripted::data_row(Some(1), 0),
                scripted::command_complete("SELECT 1"),
                wire::ready(b'I'),
            ]
            .concat(),
        },
        op_simple_query,
        "unexpected DataRow message while waiting for a simple query's next result or \
         ReadyForQuery",
    )
    .await;
}

#[tokio::test]
async fn ready_for_query_in_place_of_the_rows() {
    violation(
        Fault::ReplyInstead {
            tag: b'E',
            bytes: wire::ready(b'I'),
        },
        op_query_one,
        "unexpected ReadyForQuery message while waiting for DataRow, CommandComplete, \
         EmptyQueryResponse or PortalSuspended",
    )
    .await;
}

#[tokio::test]
async fn a_stray_close_complete_before_ready_for_query() {
    violation(
        Fault::ReplyBefore {
            tag: b'S',
            bytes: wire::msg(b'3', &[]),
        },
        op_execute,
        "unexpected CloseComplete message while waiting for ReadyForQuery",
    )
    .await;
}

#[tokio::test]
async fn a_row_after_the_end_of_a_streamed_result() {
    // The stream's Sync comes after the result ended: a DataRow before its ReadyForQuery.
    violation(
        Fault::ReplyBefore {
            tag: b'S',
            bytes: scripted::data_row(Some(6), 1),
        },
        op_query_stream,
        "unexpected DataRow message while waiting for ReadyForQuery",
    )
    .await;
}

#[tokio::test]
async fn a_reply_nobody_asked_for_is_refused_by_the_next_call() {
    let (mut conn, server) = connect(Script::default()).await;
    // A ParseComplete after the ReadyForQuery that ends the first query.
    server.inject(Fault::ReplyInstead {
        tag: b'S',
        bytes: [wire::ready(b'I'), wire::msg(b'1', &[])].concat(),
    });
    let row = within("query_one", conn.query_one(ECHO, &[&3i32]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 3);
    let err = within("query_one", conn.query_one(ECHO, &[&4i32]))
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "unexpected ParseComplete message while waiting for BindComplete",
    );
    assert!(conn.is_closed());
    drop(conn);
    within("the server", server.finish()).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// e. The server closing the stream in the middle of a reply.
// ---------------------------------------------------------------------------------------

/// For every byte `cut` of the replies to `op`: a fresh connection whose server drops the
/// stream after `cut` bytes of them. `op` must fail with a Closed or Io error (no panic, no
/// hang), the connection is closed, and the next call says so.
async fn cut_at_every_byte(name: &str, op: Op, expected: &str) {
    let (mut conn, server) = connect(Script::default()).await;
    let start = server.bytes_written();
    assert_eq!(within(name, op(&mut conn)).await.unwrap(), expected);
    let len = server.bytes_written() - start;
    finish(conn, server, &[]).await;
    for cut in 0..len {
        let (mut conn, server) = connect(Script::default()).await;
        server.close_after(start + cut);
        let err = match within(name, op(&mut conn)).await {
            Ok(v) => panic!("{name} cut at {cut}/{len}: returned {v}"),
            Err(e) => e,
        };
        assert!(
            matches!(err.kind(), Kind::Closed | Kind::Io) && err.is_closed(),
            "{name} cut at {cut}/{len}: {err} ({:?})",
            err.kind()
        );
        assert!(conn.is_closed(), "{name} cut at {cut}/{len}");
        let again = within("the next call", conn.query_one(ECHO, &[&1i32]))
            .await
            .unwrap_err();
        expect_message(&again, Kind::Closed, "the connection is closed");
        assert!(server.stats().closed_by_server);
        drop(conn);
        within("the server", server.finish()).await.unwrap();
    }
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_query() {
    cut_at_every_byte("query_one", op_query_one, "7").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_simple_query() {
    cut_at_every_byte("simple_query", op_simple_query, "row 7, SELECT 1 (Some(1))").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_row_stream() {
    cut_at_every_byte("query_stream", op_query_stream, "[1, 2, 3, 4, 5] Some(5)").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_transaction() {
    cut_at_every_byte("transaction", op_transaction, "7").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_pipeline() {
    cut_at_every_byte("pipeline", op_pipeline, "[7] [1, 2, 3]").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_copy_in() {
    cut_at_every_byte("copy_in", op_copy_in, "3").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_copy_out() {
    cut_at_every_byte("copy_out", op_copy_out, "\"1\\n2\\n3\\n\" Some(3)").await;
}
