//! `Connection` end to end over an in-memory `tokio::io::duplex`, against the SCRIPTED server
//! (`protocol_tests::scripted`: a fake, NOT PostgreSQL; see `duplex_basic.rs` for the suite):
//! the COPY sub-protocol (COPY FROM STDIN and COPY TO STDOUT, completed, aborted and
//! dropped), and a COPY nobody asked for, refused on the wire.
//!
//! Shared helpers are in `protocol_tests::duplex`. No PostgreSQL server is needed.

use protocol_tests::duplex::{
    check, connect, finish, op_copy_in, op_copy_out, within, COPY_IN, COPY_OUT, ECHO,
};
use protocol_tests::errors::expect_message;
use protocol_tests::scripted::{Script, ScriptedServer};
use tusk::{Error, Kind};

// ---------------------------------------------------------------------------------------
// COPY: the sub-protocol over the duplex, and a COPY nobody asked for.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn copy_in_and_copy_out_over_a_duplex() {
    let (mut conn, server) = connect(Script::default()).await;
    assert_eq!(within("copy_in", op_copy_in(&mut conn)).await.unwrap(), "3");
    assert_eq!(server.stats().table, ["1", "2", "3", "4", "5", "6"]);

    // Aborted: nothing of it is stored, the server's 57014 is consumed.
    let mut copy = within("copy_in", conn.copy_in(COPY_IN)).await.unwrap();
    within("send", copy.send("7\n")).await.unwrap();
    within("abort", copy.abort("changed my mind"))
        .await
        .unwrap();
    check(&mut conn, 1).await;
    // Dropped: the same, with the CopyFail written from Drop.
    let mut copy = within("copy_in", conn.copy_in(COPY_IN)).await.unwrap();
    within("send", copy.send("8\n")).await.unwrap();
    drop(copy);
    check(&mut conn, 2).await;
    assert_eq!(server.stats().table.len(), 6);

    assert_eq!(
        within("copy_out", op_copy_out(&mut conn)).await.unwrap(),
        "\"1\\n2\\n3\\n4\\n5\\n6\\n\" Some(6)"
    );
    // Dropped after the first chunk: the rest is drained by the next call.
    let mut copy = within("copy_out", conn.copy_out(COPY_OUT)).await.unwrap();
    let first = within("next_chunk", copy.next_chunk()).await.unwrap();
    assert_eq!(first.as_deref(), Some(&b"1\n"[..]));
    drop(copy);
    check(&mut conn, 3).await;

    // COPY TO STDOUT in a simple Query: its data is discarded, the server goes on with the
    // next statement, and the call reports the refusal.
    let messages = within(
        "simple_query",
        conn.simple_query("COPY t TO STDOUT; SELECT 5"),
    )
    .await
    .unwrap_err();
    expect_message(
        &messages,
        Kind::Usage,
        "COPY cannot run through simple_query or batch_execute",
    );
    check(&mut conn, 4).await;
    finish(conn, server, &["57014", "57014"]).await;
}

#[tokio::test]
async fn a_copy_nobody_asked_for_is_refused_on_the_wire() {
    let (mut conn, server) = connect(Script::default()).await;
    let copy_fails = |server: &ScriptedServer| {
        server
            .stats()
            .received
            .iter()
            .filter(|&&t| t == b'f')
            .count()
    };
    let refused = |err: &Error, call: &str| {
        expect_message(
            err,
            Kind::Usage,
            &format!("COPY cannot run through {call}: use copy_in / copy_out"),
        );
    };

    // Extended protocol: Bind/Execute/Sync written, so CopyFail and a new Sync follow (the
    // server ignores the Sync it got in copy-in mode).
    let err = within("query", conn.query(COPY_IN, &[])).await.unwrap_err();
    refused(&err, "execute or query");
    assert!(
        err.to_string()
            .contains("ERROR 57014: COPY from stdin failed"),
        "{err}"
    );
    assert_eq!(copy_fails(&server), 1);
    check(&mut conn, 1).await;
    let err = within("execute", conn.execute(COPY_IN, &[]))
        .await
        .unwrap_err();
    refused(&err, "execute or query");
    check(&mut conn, 2).await;

    // A stream's group has no Sync yet: CopyFail, then the Sync is written.
    let mut stream = within("query_stream", conn.query_stream(COPY_IN, &[]))
        .await
        .unwrap();
    let err = within("the stream", stream.try_next()).await.unwrap_err();
    refused(&err, "query_stream");
    assert!(within("the stream", stream.try_next())
        .await
        .unwrap()
        .is_none());
    drop(stream);
    check(&mut conn, 3).await;

    // Simple protocol: CopyFail; the statements after the COPY do not run.
    let err = within(
        "simple_query",
        conn.simple_query(&format!("{COPY_IN}; SELECT 1")),
    )
    .await
    .unwrap_err();
    refused(&err, "simple_query or batch_execute");
    check(&mut conn, 4).await;
    let err = within("batch_execute", conn.batch_execute(COPY_IN))
        .await
        .unwrap_err();
    refused(&err, "simple_query or batch_execute");
    check(&mut conn, 5).await;

    // One pipeline group: the next Bind aborts the COPY (08P01) and the rest of the group
    // is skipped.
    let mut pipeline = conn.pipeline();
    pipeline.query(COPY_IN, &[]);
    pipeline.query(ECHO, &[&6i32]);
    let results = within("pipeline", pipeline.run()).await.unwrap();
    let err = results[0].as_ref().unwrap_err();
    refused(err, "a pipeline");
    assert!(
        err.to_string()
            .contains("08P01: unexpected message type 0x42 during COPY from stdin"),
        "{err}"
    );
    expect_message(
        results[1].as_ref().unwrap_err(),
        Kind::Usage,
        "not run: an earlier statement in the same pipeline Sync group failed",
    );
    check(&mut conn, 6).await;

    // The wrong kind of COPY for copy_in / copy_out.
    let err = within("copy_out", conn.copy_out(COPY_IN))
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_out needs a COPY ... TO STDOUT statement; this one is a COPY ... FROM STDIN \
         (use copy_in)",
    );
    check(&mut conn, 7).await;
    let err = within("copy_in", conn.copy_in(COPY_OUT)).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_in needs a COPY ... FROM STDIN statement; this one is a COPY ... TO STDOUT \
         (use copy_out)",
    );
    check(&mut conn, 8).await;

    // COPY TO STDOUT through query: its data is let through and discarded.
    let err = within("query", conn.query(COPY_OUT, &[]))
        .await
        .unwrap_err();
    refused(&err, "execute or query");
    check(&mut conn, 9).await;

    assert_eq!(server.stats().table, ["1", "2", "3"], "nothing was stored");
    finish(
        conn,
        server,
        &[
            "57014", "57014", "57014", "57014", "57014", "08P01", "57014",
        ],
    )
    .await;
}

/// Documents a limit of the exchange (see `refuse_extended_copy_in`): a COPY FROM STDIN in
/// a pipeline with a Sync group after its own cannot be refused cleanly (the server ignores
/// the group's Sync in copy-in mode and would merge the groups), so the connection is given
/// up with a protocol error rather than left to hang.
#[tokio::test]
async fn a_copy_in_a_pipeline_of_several_sync_groups_ends_the_connection() {
    let (mut conn, server) = connect(Script::default()).await;
    let (a, b) = (1i32, 2i32);
    let mut pipeline = conn.pipeline().sync_each(true);
    pipeline.query(ECHO, &[&a]);
    pipeline.query(COPY_IN, &[]);
    pipeline.query(ECHO, &[&b]);
    let err = within("pipeline", pipeline.run()).await.unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "unexpected CopyInResponse message while waiting for no COPY FROM STDIN in a \
         pipeline of several Sync groups",
    );
    assert!(conn.is_closed());
    assert_eq!(server.stats().table, ["1", "2", "3"]);
    drop(conn);
    within("the server", server.finish()).await.unwrap();
}
