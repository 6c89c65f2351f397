//! Unit tests of the exchange: what a request owes, which server message may follow which,
//! and the server's own rules (skip to Sync after an error, COPY refusals), with the server's
//! messages built from their wire bytes (protocol documentation, "Message Formats").

use bytes::BytesMut;

use super::*;
use crate::proto::backend;

/// One backend message from its tag and body, through the real decoder.
fn msg(tag: u8, body: &[u8]) -> Message {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[tag]);
    buf.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    buf.extend_from_slice(body);
    backend::decode(&mut buf, 1 << 20).unwrap().unwrap()
}

fn parse_complete() -> Message {
    msg(b'1', b"")
}
fn bind_complete() -> Message {
    msg(b'2', b"")
}
fn close_complete() -> Message {
    msg(b'3', b"")
}
fn no_data() -> Message {
    msg(b'n', b"")
}
fn portal_suspended() -> Message {
    msg(b's', b"")
}
fn empty_query() -> Message {
    msg(b'I', b"")
}
fn copy_done() -> Message {
    msg(b'c', b"")
}
fn copy_data() -> Message {
    msg(b'd', b"1\n")
}
fn ready() -> Message {
    msg(b'Z', b"I")
}
fn complete(tag: &str) -> Message {
    let mut body = tag.as_bytes().to_vec();
    body.push(0);
    msg(b'C', &body)
}
fn data_row() -> Message {
    msg(b'D', b"\x00\x01\x00\x00\x00\x011")
}
fn row_description() -> Message {
    // One int4 column "x", text format.
    msg(
        b'T',
        b"\x00\x01x\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00",
    )
}
fn parameter_description() -> Message {
    msg(b't', b"\x00\x01\x00\x00\x00\x17")
}
fn error() -> Message {
    msg(b'E', b"SERROR\x00C42P01\x00Mboom\x00\x00")
}
fn copy_in_response() -> Message {
    msg(b'G', b"\x00\x00\x00")
}
fn copy_out_response() -> Message {
    msg(b'H', b"\x00\x00\x00")
}

/// An exchange and its output buffer.
#[derive(Default)]
struct Pair {
    exchange: Exchange,
    out: BytesMut,
}

impl Pair {
    fn requests(&mut self) -> Requests<'_> {
        Requests::new(&mut self.exchange, &mut self.out)
    }

    /// Feeds `msg`, which must be accepted and come back unchanged.
    fn accept(&mut self, msg: Message) {
        let name = msg.name();
        self.exchange
            .handle(&msg, &mut self.out)
            .unwrap_or_else(|e| panic!("{name} refused: {e}"));
    }

    /// Feeds `msg`, which must be refused as unexpected while waiting for `expected`.
    fn refuse(&mut self, msg: Message, expected: &'static str) {
        let got = msg.name();
        assert_eq!(
            self.exchange.handle(&msg, &mut self.out).unwrap_err(),
            ProtoError::Unexpected { expected, got }
        );
    }

    /// The tags of the frontend messages written so far, then clears the buffer.
    fn take_written(&mut self) -> Vec<u8> {
        let mut tags = Vec::new();
        let mut rest = &self.out[..];
        while !rest.is_empty() {
            let len = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            tags.push(rest[0]);
            rest = &rest[1 + len..];
        }
        self.out.clear();
        tags
    }
}

#[test]
fn an_extended_query_owes_each_reply_in_order() {
    let mut p = Pair::default();
    let mut r = p.requests();
    r.parse("s1", "SELECT $1::int4", &[]).unwrap();
    r.describe_statement("s1").unwrap();
    r.bind_with_parameter_section("", "s1", &[0, 0], &[])
        .unwrap();
    r.execute("", 0).unwrap();
    r.sync();
    assert_eq!(p.take_written(), b"PDBES");
    assert_eq!(p.exchange.owed(), 1);
    assert!(!p.exchange.group_open());
    assert!(!p.exchange.accepts_rows());

    p.accept(parse_complete());
    p.accept(parameter_description());
    assert!(!p.exchange.accepts_rows());
    p.accept(row_description());
    p.accept(bind_complete());
    assert!(p.exchange.accepts_rows());
    p.accept(data_row());
    p.accept(data_row());
    p.accept(complete("SELECT 2"));
    assert!(!p.exchange.accepts_rows());
    assert_eq!(p.exchange.owed(), 1);
    p.accept(ready());
    assert_eq!(p.exchange.owed(), 0);
    assert!(p.exchange.is_idle());
    assert!(p.out.is_empty(), "nothing written by the exchange itself");
}

#[test]
fn each_step_refuses_every_other_reply_naming_both() {
    // The step at the front, made the front by the requests written, and a message it must
    // refuse.
    type Setup = fn(&mut Requests<'_>);
    let cases: [(Setup, Message, &str); 9] = [
        (
            |r| r.parse("", "SELECT 1", &[]).unwrap(),
            bind_complete(),
            "ParseComplete",
        ),
        (
            |r| r.bind_with_parameter_section("", "", &[0, 0], &[]).unwrap(),
            parse_complete(),
            "BindComplete",
        ),
        (
            |r| r.close_statement("s").unwrap(),
            bind_complete(),
            "CloseComplete",
        ),
        (
            |r| r.describe_statement("s").unwrap(),
            row_description(),
            "ParameterDescription",
        ),
        (
            |r| r.describe_portal("").unwrap(),
            parameter_description(),
            "RowDescription or NoData",
        ),
        (
            |r| r.execute("", 0).unwrap(),
            row_description(),
            "DataRow, CommandComplete, EmptyQueryResponse or PortalSuspended",
        ),
        (|r| r.sync(), complete("SELECT 1"), "ReadyForQuery"),
        (
            |r| r.query("SELECT 1", CopyPolicy::Refuse).unwrap(),
            // A DataRow needs a RowDescription first (issue 11: no longer dropped silently).
            data_row(),
            "a simple query's next result or ReadyForQuery",
        ),
        (
            |r| r.query("SELECT 1", CopyPolicy::Refuse).unwrap(),
            bind_complete(),
            "a simple query's next result or ReadyForQuery",
        ),
    ];
    for (setup, wrong, expected) in cases {
        let mut p = Pair::default();
        setup(&mut p.requests());
        p.refuse(wrong, expected);
    }
}

#[test]
fn a_reply_with_nothing_owed_is_refused_but_a_fatal_error_is_handed_over() {
    let mut p = Pair::default();
    p.refuse(ready(), "nothing (no request is outstanding)");
    p.refuse(data_row(), "nothing (no request is outstanding)");
    // A FATAL ErrorResponse before the server closes the session (pg_terminate_backend).
    p.accept(error());
    assert!(p.exchange.is_idle());
}

#[test]
fn describe_of_a_statement_without_rows_ends_with_no_data() {
    let mut p = Pair::default();
    let mut r = p.requests();
    r.parse("", "INSERT INTO t VALUES ($1)", &[]).unwrap();
    r.describe_statement("").unwrap();
    r.flush();
    assert_eq!(p.take_written(), b"PDH");
    // Flush owes nothing; the group is open until a Sync.
    assert!(p.exchange.group_open());
    assert_eq!(p.exchange.owed(), 0);
    assert!(!p.exchange.is_idle());
    p.accept(parse_complete());
    p.refuse(no_data(), "ParameterDescription");
    p.accept(parameter_description());
    p.accept(no_data());
    assert!(p.exchange.front().is_none());
    assert!(!p.exchange.is_idle(), "the open group still needs its Sync");
    p.requests().sync_if_open();
    assert_eq!(p.take_written(), b"S");
    p.accept(ready());
    assert!(p.exchange.is_idle());
    // With no group open, sync_if_open writes nothing.
    p.requests().sync_if_open();
    assert!(p.out.is_empty());
}

#[test]
fn execute_ends_with_any_of_its_three_endings() {
    for ending in [complete("UPDATE 3"), empty_query(), portal_suspended()] {
        let mut p = Pair::default();
        let mut r = p.requests();
        r.execute("p", 5).unwrap();
        r.execute("p", 5).unwrap();
        r.sync();
        p.accept(data_row());
        p.accept(ending);
        // The second Execute is next, then the Sync.
        assert_eq!(p.exchange.front(), Some(&Step::Execute { copy: None }));
        p.accept(complete("SELECT 0"));
        p.accept(ready());
        assert!(p.exchange.is_idle());
    }
}

#[test]
fn an_error_skips_the_rest_of_the_group_up_to_its_sync() {
    let mut p = Pair::default();
    let mut r = p.requests();
    r.parse("", "SELECT nope", &[]).unwrap();
    r.bind_with_parameter_section("", "", &[0, 0], &[]).unwrap();
    r.execute("", 0).unwrap();
    r.sync();
    r.bind_with_parameter_section("", "s2", &[0, 0], &[])
        .unwrap();
    r.execute("", 0).unwrap();
    r.sync();
    assert_eq!(p.exchange.owed(), 2);
    p.accept(error());
    // ParseComplete, BindComplete and the rows are no longer owed: ReadyForQuery is next.
    assert_eq!(p.exchange.front(), Some(&Step::Ready));
    p.refuse(bind_complete(), "ReadyForQuery");

    let mut p = Pair::default();
    let mut r = p.requests();
    r.parse("", "SELECT nope", &[]).unwrap();
    r.execute("", 0).unwrap();
    r.sync();
    r.execute("", 0).unwrap();
    r.sync();
    p.accept(error());
    p.accept(ready());
    // The second group is untouched.
    assert_eq!(p.exchange.front(), Some(&Step::Execute { copy: None }));
    assert_eq!(p.exchange.owed(), 1);
    p.accept(complete("SELECT 0"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn after_an_error_in_an_open_group_nothing_is_owed_until_its_sync() {
    let mut p = Pair::default();
    let mut r = p.requests();
    r.parse("", "SELECT nope", &[]).unwrap();
    r.describe_statement("").unwrap();
    r.flush();
    p.accept(error());
    assert!(p.exchange.front().is_none());
    assert!(p.exchange.group_open());
    // The server discards these until the Sync: they are not owed.
    let mut r = p.requests();
    r.bind_with_parameter_section("", "", &[0, 0], &[]).unwrap();
    r.execute("", 0).unwrap();
    r.sync();
    assert_eq!(p.exchange.front(), Some(&Step::Ready));
    p.accept(ready());
    assert!(p.exchange.is_idle());
    // And after the Sync, requests are owed again.
    p.requests().parse("", "SELECT 1", &[]).unwrap();
    assert_eq!(p.exchange.front(), Some(&Step::ParseComplete));
}

#[test]
fn a_simple_query_runs_several_statements_and_survives_an_error() {
    let mut p = Pair::default();
    p.requests()
        .query(
            "SELECT 1; CREATE TABLE t (); ; SELECT nope",
            CopyPolicy::Refuse,
        )
        .unwrap();
    assert_eq!(p.take_written(), b"Q");
    assert_eq!(p.exchange.owed(), 1);
    p.accept(row_description());
    assert!(p.exchange.accepts_rows());
    p.accept(data_row());
    p.refuse(row_description(), "DataRow or CommandComplete");

    let mut p = Pair::default();
    p.requests()
        .query(
            "SELECT 1; CREATE TABLE t (); ; SELECT nope",
            CopyPolicy::Refuse,
        )
        .unwrap();
    p.accept(row_description());
    p.accept(data_row());
    p.accept(complete("SELECT 1"));
    assert!(!p.exchange.accepts_rows());
    p.refuse(data_row(), "a simple query's next result or ReadyForQuery");

    let mut p = Pair::default();
    p.requests()
        .query(
            "SELECT 1; CREATE TABLE t (); ; SELECT nope",
            CopyPolicy::Refuse,
        )
        .unwrap();
    p.accept(row_description());
    p.accept(complete("SELECT 0"));
    p.accept(complete("CREATE TABLE"));
    p.accept(empty_query());
    p.accept(row_description());
    // An error ends the statements (even mid-result); ReadyForQuery still follows.
    p.accept(error());
    assert_eq!(p.exchange.owed(), 1);
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

/// The exact bytes of the CopyFail the exchange writes when it refuses a COPY FROM STDIN.
fn copy_fail_bytes() -> Vec<u8> {
    let mut expected = vec![b'f'];
    expected.extend_from_slice(&(COPY_REFUSED.len() as i32 + 5).to_be_bytes());
    expected.extend_from_slice(COPY_REFUSED.as_bytes());
    expected.push(0);
    expected
}

#[test]
fn a_simple_query_refuses_copy_in_with_copy_fail_and_lets_copy_out_data_through() {
    let mut p = Pair::default();
    p.requests()
        .query("COPY t FROM STDIN", CopyPolicy::Refuse)
        .unwrap();
    p.out.clear();
    p.accept(copy_in_response());
    assert_eq!(&p.out[..], &copy_fail_bytes()[..]);
    assert!(!p.exchange.in_copy_in(), "no data may be written now");
    // The server's answer to the CopyFail, then ReadyForQuery.
    p.accept(error());
    p.accept(ready());
    assert!(p.exchange.is_idle());

    let mut p = Pair::default();
    p.requests()
        .query("COPY t TO STDOUT", CopyPolicy::Refuse)
        .unwrap();
    p.out.clear();
    p.accept(copy_out_response());
    p.accept(copy_data());
    p.accept(copy_data());
    p.refuse(complete("COPY 2"), "CopyData or CopyDone");
    p.accept(copy_done());
    p.refuse(
        copy_data(),
        "CommandComplete or ErrorResponse ending a COPY",
    );
    p.accept(complete("COPY 2"));
    p.accept(ready());
    assert!(p.out.is_empty());
}

#[test]
fn an_allowed_copy_in_takes_data_until_copy_done() {
    let mut p = Pair::default();
    // COPY data outside a COPY FROM STDIN is refused on the client's side too.
    assert_eq!(
        p.requests().copy_data(b"1\n").unwrap_err(),
        ProtoError::Unexpected {
            expected: "a COPY FROM STDIN in progress before sending COPY data",
            got: "CopyData",
        }
    );
    p.requests()
        .query("COPY t FROM STDIN", CopyPolicy::Allow)
        .unwrap();
    p.out.clear();
    assert!(p.requests().copy_done().is_err());
    p.accept(copy_in_response());
    assert!(p.out.is_empty(), "an allowed COPY is not refused");
    assert!(p.exchange.in_copy_in());
    let mut r = p.requests();
    r.copy_data(b"1\n").unwrap();
    r.copy_data_header(2).unwrap();
    r.out().extend_from_slice(b"2\n");
    r.copy_done().unwrap();
    assert_eq!(p.take_written(), b"ddc");
    assert!(!p.exchange.in_copy_in());
    p.refuse(data_row(), "CommandComplete or ErrorResponse ending a COPY");
    p.accept(complete("COPY 2"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn a_server_error_mid_copy_in_ends_the_copy() {
    let mut p = Pair::default();
    p.requests()
        .query("COPY t FROM STDIN", CopyPolicy::Allow)
        .unwrap();
    p.accept(copy_in_response());
    p.accept(error());
    assert!(!p.exchange.in_copy_in());
    // CopyFail after the COPY ended is harmless (the server ignores it) and owes nothing.
    p.requests().copy_fail("late").unwrap();
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn an_extended_copy_in_is_refused_with_the_sync_the_server_then_needs() {
    // The Execute's own Sync already written: the server ignored it in COPY mode, so a new
    // one is written, and one ReadyForQuery stays owed.
    let mut p = Pair::default();
    let mut r = p.requests();
    r.execute("", 0).unwrap();
    r.sync();
    p.out.clear();
    p.accept(copy_in_response());
    let mut expected = copy_fail_bytes();
    expected.extend_from_slice(b"S\x00\x00\x00\x04");
    assert_eq!(&p.out[..], &expected[..]);
    assert_eq!(p.exchange.owed(), 1);
    p.accept(error());
    p.accept(ready());
    assert!(p.exchange.is_idle());

    // An open group (Execute, Flush): the Sync written now closes it.
    let mut p = Pair::default();
    let mut r = p.requests();
    r.execute("", 10).unwrap();
    r.flush();
    p.out.clear();
    p.accept(copy_in_response());
    assert_eq!(&p.out[..], &expected[..]);
    assert!(!p.exchange.group_open());
    assert_eq!(p.exchange.owed(), 1);
    p.accept(error());
    p.accept(ready());
    assert!(p.exchange.is_idle());

    // More of the same group after the Execute: the next message aborts the COPY and the
    // server skips to the group's own Sync, so only CopyFail is written.
    let mut p = Pair::default();
    let mut r = p.requests();
    r.execute("", 0).unwrap();
    r.close_portal("").unwrap();
    r.sync();
    r.execute("", 0).unwrap();
    r.sync();
    p.out.clear();
    p.accept(copy_in_response());
    assert_eq!(&p.out[..], &copy_fail_bytes()[..]);
    assert_eq!(p.exchange.owed(), 2);
    p.accept(error());
    p.accept(ready());
    assert_eq!(p.exchange.front(), Some(&Step::Execute { copy: None }));

    // The group's Sync and then another group: the server would merge them; refused.
    let mut p = Pair::default();
    let mut r = p.requests();
    r.execute("", 0).unwrap();
    r.sync();
    r.execute("", 0).unwrap();
    r.sync();
    assert_eq!(
        p.exchange
            .handle(&copy_in_response(), &mut p.out)
            .unwrap_err(),
        ProtoError::Unexpected {
            expected: "no COPY FROM STDIN in a pipeline of several Sync groups",
            got: "CopyInResponse",
        }
    );
}

#[test]
fn an_extended_copy_out_runs_to_its_command_complete() {
    let mut p = Pair::default();
    let mut r = p.requests();
    r.close_statement("old").unwrap();
    r.execute("", 0).unwrap();
    r.sync();
    p.out.clear();
    p.accept(close_complete());
    p.accept(copy_out_response());
    assert!(!p.exchange.accepts_rows());
    p.accept(copy_data());
    p.refuse(data_row(), "CopyData or CopyDone");
    p.accept(copy_done());
    p.accept(complete("COPY 1"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
    assert!(p.out.is_empty());
}

#[test]
fn a_query_closes_a_group_left_open_first() {
    // A Parse left open by a dropped future, then a queued ROLLBACK (a dropped transaction).
    let mut p = Pair::default();
    let mut r = p.requests();
    r.parse("", "SELECT x FROM missing", &[]).unwrap();
    r.describe_statement("").unwrap();
    r.flush();
    r.query("ROLLBACK", CopyPolicy::Refuse).unwrap();
    // The Sync goes before the Query, so the Parse's failure cannot swallow the Query.
    assert_eq!(p.take_written(), b"PDHSQ");
    assert_eq!(p.exchange.owed(), 2);
    // One that fails to encode writes neither its Sync nor itself.
    assert!(p.requests().query("bad\0sql", CopyPolicy::Refuse).is_err());
    assert!(p.out.is_empty());
    assert_eq!(p.exchange.owed(), 2);
    p.accept(error());
    p.accept(ready());
    p.accept(complete("ROLLBACK"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn a_request_that_fails_to_encode_writes_and_owes_nothing() {
    let mut p = Pair::default();
    let mut r = p.requests();
    assert!(r.query("SELECT '\0'", CopyPolicy::Refuse).is_err());
    assert!(r.parse("", "SELECT '\0'", &[]).is_err());
    assert!(r.describe_statement("a\0b").is_err());
    assert!(r.execute("a\0b", 0).is_err());
    assert!(r.close_portal("a\0b").is_err());
    assert!(p.out.is_empty());
    assert!(p.exchange.is_idle());
}

#[test]
fn expectations_are_named_for_every_step() {
    // Each step's description, as error messages show it.
    let named = [
        (Step::ParseComplete, "ParseComplete"),
        (Step::BindComplete, "BindComplete"),
        (Step::CloseComplete, "CloseComplete"),
        (Step::ParameterDescription, "ParameterDescription"),
        (Step::RowDescription, "RowDescription or NoData"),
        (Step::Ready, "ReadyForQuery"),
        (
            Step::Execute {
                copy: Some(CopyState::Ending),
            },
            "CommandComplete or ErrorResponse ending a COPY",
        ),
        (
            Step::Query {
                copy_policy: CopyPolicy::Allow,
                phase: QueryPhase::Copy(CopyState::In),
            },
            "CommandComplete or ErrorResponse ending a COPY",
        ),
        (
            Step::Query {
                copy_policy: CopyPolicy::Allow,
                phase: QueryPhase::Rows,
            },
            "DataRow or CommandComplete",
        ),
    ];
    for (step, text) in named {
        assert_eq!(step.expected(), text);
    }
}

#[test]
fn bind_encodes_each_parameter_and_owes_bind_complete() {
    let mut p = Pair::default();
    let params: [Option<&[u8]>; 2] = [Some(b"42"), None];
    p.requests()
        .bind(
            "",
            "s1",
            &[],
            params,
            |value, out| {
                Ok::<_, std::convert::Infallible>(match value {
                    Some(bytes) => {
                        out.extend_from_slice(bytes);
                        crate::proto::IsNull::No
                    }
                    None => crate::proto::IsNull::Yes,
                })
            },
            &[1],
        )
        .unwrap();
    // The protocol documentation's layout: portal "", statement "s1", no format codes, two
    // values ("42" and NULL), one result format code (binary).
    assert_eq!(
        &p.out[..],
        b"B\x00\x00\x00\x1a\x00s1\x00\x00\x00\x00\x02\x00\x00\x00\x0242\xff\xff\xff\xff\x00\x01\x00\x01"
    );
    assert_eq!(p.exchange.front(), Some(&Step::BindComplete));
    // A failing encoder: nothing written, nothing owed.
    let mut p = Pair::default();
    let failed = p.requests().bind(
        "",
        "",
        &[],
        [()],
        |(), _| Err::<crate::proto::IsNull, _>("no"),
        &[],
    );
    assert!(failed.is_err());
    assert!(p.out.is_empty());
    assert!(p.exchange.is_idle());
}

#[test]
fn copy_fail_is_written_and_ends_the_copy_in() {
    let mut p = Pair::default();
    p.requests()
        .query("COPY t FROM STDIN", CopyPolicy::Allow)
        .unwrap();
    p.accept(copy_in_response());
    p.out.clear();
    assert!(p.requests().in_copy_in());
    p.requests().copy_fail("stop").unwrap();
    assert_eq!(&p.out[..], b"f\x00\x00\x00\x09stop\x00");
    assert!(!p.requests().in_copy_in());
    assert!(!p.exchange.in_copy_in());
    p.accept(error());
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn unnamed_jobs_are_self_contained_groups_and_an_error_ends_only_its_own() {
    let mut p = Pair::default();
    let mut r = p.requests();
    // Two jobs, as the pool's runner writes them with the statement cache off.
    r.run_unnamed(
        "SELECT $1::int4",
        &[23],
        &[0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 7],
        &[1],
    )
    .unwrap();
    r.run_unnamed("SELECT 1 / $1::int4", &[23], &[0, 0, 0, 0], &[1])
        .unwrap();
    assert_eq!(p.take_written(), b"PBDESPBDES");
    assert_eq!(p.exchange.owed(), 2);
    assert!(!p.exchange.group_open());

    // The first: the portal's columns before its rows.
    p.accept(parse_complete());
    p.accept(bind_complete());
    assert!(!p.exchange.accepts_rows());
    p.accept(row_description());
    assert!(p.exchange.accepts_rows());
    p.accept(data_row());
    p.accept(complete("SELECT 1"));
    p.refuse(data_row(), "ReadyForQuery");
    p.accept(ready());
    assert_eq!(p.exchange.owed(), 1);

    // The second fails at Bind: the server skips its Describe and Execute, up to its Sync.
    p.accept(parse_complete());
    p.accept(error());
    p.refuse(row_description(), "ReadyForQuery");
    p.accept(ready());
    assert!(p.exchange.is_idle());

    // A portal without rows (a command) is described with NoData.
    let mut r = p.requests();
    r.run_unnamed("INSERT INTO t VALUES (1)", &[], &[0, 0, 0, 0], &[])
        .unwrap();
    p.out.clear();
    p.accept(parse_complete());
    p.accept(bind_complete());
    p.accept(no_data());
    p.accept(complete("INSERT 0 1"));
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[test]
fn an_unnamed_job_is_written_whole_or_not_at_all() {
    let mut p = Pair::default();
    let mut r = p.requests();
    // The Parse fails (a NUL in the text): nothing written, nothing owed.
    assert!(r
        .run_unnamed("SELECT '\0'", &[], &[0, 0, 0, 0], &[])
        .is_err());
    // The Parse encodes, the Bind does not (more result formats than a 16-bit count): the
    // Parse is rolled back with it.
    let formats = vec![1i16; usize::from(u16::MAX) + 1];
    assert!(r
        .run_unnamed("SELECT 1", &[], &[0, 0, 0, 0], &formats)
        .is_err());
    assert!(r.describe_unnamed("SELECT '\0'", &[]).is_err());
    assert!(p.out.is_empty());
    assert!(p.exchange.is_idle());

    // Inside a group left open (a Close written before), a failed job leaves the group as it
    // was: still open, owing only the CloseComplete.
    let mut r = p.requests();
    r.close_statement("s1").unwrap();
    assert!(r
        .run_unnamed("SELECT 1", &[], &[0, 0, 0, 0], &formats)
        .is_err());
    assert_eq!(p.take_written(), b"C");
    assert!(p.exchange.group_open());
    assert_eq!(p.exchange.front(), Some(&Step::CloseComplete));
    assert_eq!(p.exchange.owed(), 0);
}

#[test]
fn an_unnamed_description_is_one_group() {
    let mut p = Pair::default();
    let mut r = p.requests();
    r.describe_unnamed("SELECT $1::int4", &[]).unwrap();
    r.describe_unnamed("SELECT x FROM missing", &[23]).unwrap();
    assert_eq!(p.take_written(), b"PDSPDS");
    assert_eq!(p.exchange.owed(), 2);
    p.accept(parse_complete());
    p.refuse(row_description(), "ParameterDescription");
    p.accept(parameter_description());
    p.accept(row_description());
    p.accept(ready());
    // The second fails at Parse: its Describe is skipped.
    p.accept(error());
    p.accept(ready());
    assert!(p.exchange.is_idle());
}

#[path = "tests_copy_both.rs"]
mod copy_both;
