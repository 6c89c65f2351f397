//! The CopyBoth sub-protocol (START_REPLICATION): CopyData both ways, CopyDone from either
//! side in either order, the statement's results after both, and the refusal of a CopyBoth
//! nobody asked for.

use super::*;

fn copy_both_response() -> Message {
    msg(b'W', b"\x00\x00\x00")
}

/// START_REPLICATION's Query, accepted up to its CopyBothResponse.
fn started() -> Pair {
    let mut p = Pair::default();
    assert!(!p.requests().in_copy_both());
    p.requests()
        .start_replication("START_REPLICATION 0/0")
        .unwrap();
    assert_eq!(p.take_written(), b"Q");
    // Nothing may be sent before the server's answer.
    assert!(p.requests().copy_both_out().is_err());
    p.accept(copy_both_response());
    assert!(
        p.out.is_empty(),
        "a CopyBoth the caller asked for is not refused"
    );
    assert!(p.exchange.in_copy_both());
    p
}

#[test]
fn client_ends_copy_both_first_and_the_server_drains_its_data() {
    let mut p = started();
    p.accept(copy_data());
    p.requests()
        .copy_both_out()
        .unwrap()
        .extend_from_slice(b"d\0\0\0\x05r");
    p.requests().copy_both_done().unwrap();
    assert_eq!(p.take_written(), b"dc");
    assert!(!p.exchange.in_copy_both());
    // Data already in flight still comes, then the server's CopyDone.
    p.accept(copy_data());
    assert_eq!(
        p.requests().copy_both_done().unwrap_err(),
        ProtoError::Unexpected {
            expected: "a CopyBoth (START_REPLICATION) in progress before sending CopyBoth data",
            got: "CopyDone",
        }
    );
    p.accept(copy_done());
    // A logical walsender may still finish writing the transaction it was decoding.
    p.accept(copy_data());
    p.refuse(
        data_row(),
        "the results of START_REPLICATION after CopyBoth ended",
    );
    p.accept(complete("START_STREAMING"));
    p.refuse(copy_data(), "a simple query's next result or ReadyForQuery");
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn server_ends_copy_both_first_then_a_timeline_row_follows() {
    let mut p = started();
    p.accept(copy_data());
    p.accept(copy_done());
    assert!(p.exchange.copy_both_server_done());
    // The server sends nothing until the client's CopyDone.
    p.refuse(
        copy_data(),
        "nothing until the client's CopyDone (the server ended its side of CopyBoth)",
    );
    // The client may still report its position before its own CopyDone.
    p.requests().copy_both_out().unwrap();
    p.requests().copy_both_done().unwrap();
    assert_eq!(p.take_written(), b"c");
    assert!(!p.exchange.copy_both_server_done());
    // The next timeline as a one-row result, then the command's end.
    p.accept(row_description());
    p.accept(data_row());
    p.accept(complete("SELECT"));
    p.accept(complete("START_STREAMING"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn an_error_ends_copy_both() {
    let mut p = started();
    p.accept(copy_data());
    p.accept(error());
    assert!(!p.exchange.in_copy_both());
    assert!(p.requests().copy_both_out().is_err());
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn a_copy_both_nobody_asked_for_is_ended_with_copy_done() {
    for policy in [CopyPolicy::Refuse, CopyPolicy::Allow] {
        let mut p = Pair::default();
        p.requests().query("START_REPLICATION 0/0", policy).unwrap();
        p.out.clear();
        p.accept(copy_both_response());
        assert_eq!(p.take_written(), b"c", "{policy:?}");
        assert!(!p.exchange.in_copy_both());
        p.accept(copy_data());
        p.accept(copy_done());
        p.accept(complete("START_STREAMING"));
        p.accept(ready());
        assert!(p.exchange.is_idle());
    }
}

#[test]
fn copy_both_refuses_what_does_not_belong() {
    let mut p = started();
    p.refuse(data_row(), "CopyData or CopyDone");
    let mut p = started();
    p.refuse(ready(), "CopyData or CopyDone");
    // A replication Query takes no COPY FROM STDIN.
    let mut p = Pair::default();
    p.requests()
        .start_replication("START_REPLICATION 0/0")
        .unwrap();
    p.out.clear();
    p.accept(copy_in_response());
    assert_eq!(p.take_written(), b"f");
    // An extended-protocol Execute never opens a CopyBoth.
    let mut p = Pair::default();
    p.requests().execute("", 0).unwrap();
    p.refuse(
        copy_both_response(),
        "DataRow, CommandComplete, EmptyQueryResponse or PortalSuspended",
    );
}

#[test]
fn a_server_may_end_copy_both_with_command_complete_alone() {
    let mut p = started();
    p.accept(complete("COPY 0"));
    assert!(!p.exchange.in_copy_both());
    p.accept(complete("START_REPLICATION"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
}
