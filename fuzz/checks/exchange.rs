//! The checks of the `exchange` fuzz target, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`): one
//! body, so the seeds are replayed against exactly what the fuzzer checks.
//!
//! [`check`] drives whole query-phase exchanges of a live [`Session`] (built through the public
//! startup path) with arbitrary server bytes. The input is read as:
//!
//! | bytes            | meaning                                                            |
//! | ---------------- | ------------------------------------------------------------------ |
//! | 1                | `n`: how many script ops follow (`byte % 33`)                      |
//! | `n`              | the script: one op a byte, see [`script::Op::from_byte`]           |
//! | 1                | `c`: how many chunk sizes follow (`byte % 9`)                      |
//! | `c`              | chunk sizes, used in turn; 0 = everything left; no sizes = one chunk |
//! | the rest         | the server's byte stream                                           |
//!
//! The script runs until an op waits (for the exchange to settle, or for one more message);
//! then the server's bytes are appended to a read buffer a chunk at a time (so messages arrive
//! split at arbitrary points), every complete message is decoded (`backend::decode`) and handed
//! to [`Session::handle`], and the script resumes as soon as its wait is over. When the script
//! has run to its end, the exchange is idle again, at least one message came since it started
//! and server bytes are left, it starts over: more requests interleaved with the same stream.
//! A decoding error or a refused message ends the run, as it breaks a real connection.
//!
//! Besides the absence of panics (an underflow of the owed count included) it checks, after
//! every request and every message:
//!
//! - the owed count equals a count kept here by observation: one more per Query and per Sync
//!   written (by a request, including the Sync a Query writes first to close an open group, or
//!   by the exchange itself when it refuses a COPY FROM STDIN in an unsynced group), one less
//!   per accepted ReadyForQuery, never changing otherwise; an accepted ReadyForQuery needs a
//!   count above zero;
//! - `group_open` equals a flag kept here the same way, `is_idle()` is exactly "nothing owed and
//!   no group open", the front step agrees with the owed count, `in_copy_in` and
//!   `accepts_rows` agree with the front step;
//! - a request never changes the step at the front (but CopyDone/CopyFail ending a COPY FROM
//!   STDIN), fails exactly when its input is invalid (a NUL in a name or the SQL, an encoder's
//!   error, COPY data outside COPY FROM STDIN), writes exactly its one message when it
//!   succeeds (a Query in an open group: Sync, then the Query) and nothing at all (and owes
//!   nothing) when it fails, as `requests.rs` promises;
//! - a message is accepted exactly when the protocol lets a server send it after what is at
//!   the front (a table written from the protocol documentation, in `exchange_model.rs`), and
//!   an accepted one is handed back unchanged; asynchronous messages change nothing; an
//!   ErrorResponse drops the steps up to the next Sync (or the rest of a simple Query's
//!   statements); nothing but the refusal of a COPY FROM STDIN ever writes to the output
//!   buffer during `handle`, and a refused message writes nothing;
//! - everything in the output buffer is whole, well-formed frontend messages (a known tag, an
//!   `i32` length of at least 4 whose bytes are all there, the fixed bodies as specified);
//! - the run is bounded by the input: each round of the loop consumes server bytes or ends.
//!
//! This file owns the entry points ([`check`], [`run`]), the feeding loop and the checks of
//! each request and each message ([`Driver::request`], [`Driver::receive`]). Two files beside
//! it, declared below with `#[path]` (relative to this file's directory, whichever crate
//! includes it), hold the rest:
//!
//! - `exchange_script.rs`: what the script's bytes mean (ops, requests) and how the driver
//!   runs them;
//! - `exchange_model.rs`: what the checks compare against: the state snapshot and its
//!   invariants, the protocol's table of allowed replies, the frontend message format.
//!
//! Only `tusk` and `bytes` may be used in these files: both crates that include them depend on
//! them.

#[path = "exchange_model.rs"]
mod model;
#[path = "exchange_script.rs"]
mod script;

use bytes::{BufMut, BytesMut};
use tusk::proto::backend::{self, Authentication, Message, TransactionStatus};
use tusk::proto::exchange::{CopyPolicy, CopyState, QueryPhase, Step, COPY_REFUSED};
use tusk::proto::session::{Incoming, Session, Startup, StartupEvent};
use tusk::proto::IsNull;

use model::{allowed, is_sync, written_frames, written_tags, Allowed, State};
use script::Req;

/// Small enough that the length check is reached often, large enough for real messages.
const MAX_LEN: usize = 1 << 16;
/// The longest script.
const MAX_OPS: usize = 32;
/// The most chunk sizes.
const MAX_CHUNKS: usize = 8;

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    run(data);
}

/// How a run ended, for the test that checks that each seed reaches what it was made for.
#[derive(Debug)]
#[allow(dead_code)] // Read by protocol-tests only.
pub struct Outcome {
    /// Messages handed to the session.
    pub messages: usize,
    /// The run ended on a decoding error or a refused message.
    pub broken: bool,
    /// Server bytes never decoded.
    pub unread: usize,
    /// Nothing is owed and no group is open at the end.
    pub idle: bool,
    /// Every op of the script ran at least once.
    pub script_done: bool,
}

/// Runs every check on `data` and reports how the run ended.
pub fn run(data: &[u8]) -> Outcome {
    let (count, rest) = take_count(data, MAX_OPS);
    let (ops, rest) = rest.split_at(count.min(rest.len()));
    let (count, rest) = take_count(rest, MAX_CHUNKS);
    let (chunks, server) = rest.split_at(count.min(rest.len()));

    let mut driver = Driver::new(ops);
    let mut buf = BytesMut::new();
    let mut fed = 0usize;
    let mut next_chunk = 0usize;
    let mut rounds = 0usize;
    let mut broken = false;
    loop {
        rounds += 1;
        // Each round handles a message (at least 5 bytes of the stream), feeds at least one
        // byte, or ends.
        assert!(
            rounds <= 2 * server.len() + 2,
            "the loop ran {rounds} rounds on {} server bytes",
            server.len()
        );
        driver.run_script(fed < server.len() || !buf.is_empty());
        match backend::decode(&mut buf, MAX_LEN) {
            // The stream cannot be trusted any more: the client closes the connection.
            Err(_) => {
                broken = true;
                break;
            }
            Ok(Some(msg)) => {
                if !driver.receive(msg) {
                    broken = true;
                    break;
                }
            }
            Ok(None) => {
                let left = server.len() - fed;
                if left == 0 {
                    break;
                }
                let size = match chunks.get(next_chunk % chunks.len().max(1)) {
                    Some(&size) if size > 0 => usize::from(size).min(left),
                    _ => left,
                };
                next_chunk += 1;
                buf.extend_from_slice(&server[fed..fed + size]);
                fed += size;
            }
        }
    }
    // Every script op ran at most once per message handled, plus once.
    assert!(driver.ops_run <= ops.len() * (driver.handled + 1));
    Outcome {
        messages: driver.handled,
        broken,
        unread: server.len() - fed + buf.len(),
        idle: driver.session.exchange().is_idle(),
        script_done: driver.ops_run >= ops.len(),
    }
}

/// A count from the first byte of `data` (`byte % (max + 1)`), and the rest.
fn take_count(data: &[u8], max: usize) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&byte, rest)) => (usize::from(byte) % (max + 1), rest),
        None => (0, &[]),
    }
}

/// An encoder's own error, for the failing Bind.
#[derive(Debug)]
struct EncodeError;

/// The session under test, the script, and what the checks know from observing both.
struct Driver<'a> {
    session: Session,
    out: BytesMut,
    script: &'a [u8],
    next_op: usize,
    /// The number of messages handled when the pending WaitMessage began.
    waiting_since: Option<usize>,
    /// Messages handled so far, and when the script last (re)started.
    handled: usize,
    handled_at_start: usize,
    ops_run: usize,
    // The model: what the exchange must report.
    owed: usize,
    open: bool,
    /// An ErrorResponse ended a group whose Sync is not written yet: what is written before
    /// it is not answered.
    discarding: bool,
}

impl<'a> Driver<'a> {
    fn new(script: &'a [u8]) -> Driver<'a> {
        // The public way to a live session: startup, AuthenticationOk, ReadyForQuery.
        let mut out = BytesMut::new();
        let mut startup = Startup::new(
            &[("user", "fuzz"), ("database", "fuzz")],
            "fuzz",
            None,
            "rOprNGfwEbeRWgbNEkqO".into(),
            &mut out,
        )
        .expect("a StartupMessage");
        startup
            .handle(Message::Authentication(Authentication::Ok), &mut out)
            .expect("AuthenticationOk");
        let ready = startup
            .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
            .expect("ReadyForQuery");
        assert!(matches!(ready, StartupEvent::Ready));
        let session = startup.into_session();
        out.clear();
        let driver = Driver {
            session,
            out,
            script,
            next_op: 0,
            waiting_since: None,
            handled: 0,
            handled_at_start: 0,
            ops_run: 0,
            owed: 0,
            open: false,
            discarding: false,
        };
        assert!(driver.state().idle);
        driver.check_state();
        driver
    }

    /// Writes one request and checks what it wrote and owes; whether it succeeded.
    fn request(&mut self, req: Req) -> bool {
        let before = self.state();
        assert!(self.out.is_empty());
        let ok = {
            let mut requests = self.session.requests(&mut self.out);
            match req {
                Req::Query(sql, policy) => requests.query(sql, policy).is_ok(),
                Req::Parse(name, sql) => requests.parse(name, sql, &[]).is_ok(),
                Req::DescribeStatement(name) => requests.describe_statement(name).is_ok(),
                Req::DescribePortal(name) => requests.describe_portal(name).is_ok(),
                Req::Bind {
                    portal,
                    statement,
                    params,
                    failing,
                } => requests
                    .bind(
                        portal,
                        statement,
                        &[],
                        0..params,
                        |i, buf: &mut BytesMut| {
                            if failing && i + 1 == params {
                                Err(EncodeError)
                            } else if i % 2 == 0 {
                                buf.put_slice(b"42");
                                Ok(IsNull::No)
                            } else {
                                Ok(IsNull::Yes)
                            }
                        },
                        &[],
                    )
                    .is_ok(),
                Req::Execute(portal, max_rows) => requests.execute(portal, max_rows).is_ok(),
                Req::CloseStatement(name) => requests.close_statement(name).is_ok(),
                Req::ClosePortal(name) => requests.close_portal(name).is_ok(),
                Req::Sync => {
                    requests.sync();
                    true
                }
                Req::SyncIfOpen => {
                    requests.sync_if_open();
                    true
                }
                Req::Flush => {
                    requests.flush();
                    true
                }
                Req::CopyData(len) => requests.copy_data(&vec![b'x'; len]).is_ok(),
                Req::CopyDataHeader(len) => match requests.copy_data_header(len) {
                    Ok(()) => {
                        requests.out().put_bytes(b'x', len);
                        true
                    }
                    Err(_) => false,
                },
                Req::CopyDone => requests.copy_done().is_ok(),
                Req::CopyBothDone => requests.copy_both_done().is_ok(),
                Req::CopyFail => requests.copy_fail("fuzz").is_ok(),
            }
        };
        let written = written_tags(&self.out);
        self.out.clear();
        let after = self.state();
        assert_eq!(
            ok,
            req.must_succeed(before.copy_in, before.copy_both),
            "{req:?} succeeded or failed against its input (before: {before:?})"
        );
        if !ok {
            assert!(written.is_empty(), "the failed {req:?} wrote {written:?}");
            assert_eq!(after, before, "the failed {req:?} changed the exchange");
            self.check_state();
            return false;
        }

        // A simple Query closes a group left open with Sync first (inside an open group that
        // fails, the server would skip the Query with the rest of the group).
        let closes_group = matches!(req, Req::Query(..) | Req::SyncIfOpen) && before.open;
        let expected: &[u8] = match req {
            Req::SyncIfOpen if !before.open => &[],
            Req::SyncIfOpen => b"S",
            Req::Query(..) if closes_group => b"SQ",
            _ => &[req.tag()],
        };
        assert_eq!(written, expected, "{req:?} wrote other messages");

        // The model: one owed for each Sync and each Query written.
        let was_discarding = self.discarding;
        let syncs = written
            .iter()
            .filter(|&&tag| matches!(tag, b'S' | b'Q'))
            .count();
        if syncs > 0 {
            self.owed += syncs;
            self.discarding = false;
        }
        if req.opens_group() {
            self.open = true;
        }
        if matches!(req, Req::Sync) || closes_group {
            self.open = false;
        }

        // What is at the front is never changed by writing more, but for the end of a COPY
        // FROM STDIN.
        match before.front {
            Some(front) => {
                let expected = match (req, front) {
                    (
                        Req::CopyDone | Req::CopyFail,
                        Step::Query {
                            copy_policy,
                            phase: QueryPhase::Copy(CopyState::In),
                        },
                    ) => Step::Query {
                        copy_policy,
                        phase: QueryPhase::Copy(CopyState::Ending),
                    },
                    // The client's CopyDone in a CopyBoth: the server's side may still be open.
                    (
                        Req::CopyBothDone,
                        Step::Query {
                            copy_policy,
                            phase: QueryPhase::Copy(CopyState::Both),
                        },
                    ) => Step::Query {
                        copy_policy,
                        phase: QueryPhase::Copy(CopyState::BothClientDone),
                    },
                    (
                        Req::CopyBothDone,
                        Step::Query {
                            copy_policy,
                            phase: QueryPhase::Copy(CopyState::BothServerDone),
                        },
                    ) => Step::Query {
                        copy_policy,
                        phase: QueryPhase::Copy(CopyState::BothEnded),
                    },
                    _ => front,
                };
                assert_eq!(
                    after.front,
                    Some(expected),
                    "{req:?} changed the front step"
                );
            }
            None => {
                let first = if closes_group {
                    Some(Step::Ready)
                } else {
                    req.first_step()
                };
                let expected = match first {
                    // After an error, the server discards the rest of the group unanswered.
                    Some(step) if !is_sync(&step) && was_discarding => None,
                    other => other,
                };
                assert_eq!(after.front, expected, "{req:?} owes the wrong first reply");
            }
        }
        assert_eq!(after.status, before.status);
        self.check_state();
        true
    }

    /// Hands one server message to the session and checks the outcome; whether the session
    /// goes on (false once the message was refused).
    fn receive(&mut self, msg: Message) -> bool {
        self.handled += 1;
        let before = self.state();
        assert!(self.out.is_empty());
        let tag = msg.tag();
        let sent = msg.clone();
        let result = self.session.handle(msg, &mut self.out);
        let written = written_frames(&self.out);
        let after = self.state();
        self.out.clear();

        let allowed = allowed(before.front, tag);
        let accepted = result.is_ok();
        match allowed {
            Allowed::Yes => assert!(
                accepted,
                "{} refused after {before:?}: {:?}",
                sent.name(),
                result.err()
            ),
            Allowed::No => assert!(
                !accepted,
                "{} accepted after {before:?} (now {after:?})",
                sent.name()
            ),
            Allowed::RefusedCopyIn => {
                // An unsynced group can always refuse the COPY; a pipeline may not.
                if before.owed == 0 {
                    assert!(
                        accepted,
                        "CopyInResponse refused after {before:?}: {result:?}"
                    );
                }
            }
        }
        let incoming = match result {
            Ok(incoming) => incoming,
            Err(_) => {
                assert!(
                    written.is_empty(),
                    "a refused {} wrote {written:?}",
                    sent.name()
                );
                assert_eq!(
                    after,
                    before,
                    "a refused {} changed the exchange",
                    sent.name()
                );
                // The real client breaks the connection here.
                return false;
            }
        };

        match (tag, incoming) {
            (b'N', Incoming::Notice(_))
            | (b'A', Incoming::Notification(_))
            | (b'S', Incoming::ParameterChanged) => {
                assert!(written.is_empty());
                assert_eq!(
                    after, before,
                    "an asynchronous message changed the exchange"
                );
            }
            (b'Z', Incoming::Ready(status)) => {
                assert_eq!(Message::ReadyForQuery(status), sent);
                assert!(written.is_empty());
                assert!(before.owed > 0, "ReadyForQuery accepted with none owed");
                assert_eq!(after.owed, before.owed - 1);
                assert_eq!(after.status, status);
                assert_eq!(after.open, before.open);
                self.owed -= 1;
            }
            (_, Incoming::Response(msg)) => {
                assert_eq!(msg, sent, "the accepted message came back changed");
                assert_eq!(after.status, before.status);
                if tag == b'G' {
                    self.copy_in_response(&before, &after, &written);
                } else if tag == b'W' {
                    copy_both_response(&before, &after, &written);
                } else {
                    assert!(written.is_empty(), "{} wrote {written:?}", sent.name());
                    assert_eq!(after.owed, before.owed, "{} changed owed()", sent.name());
                    assert_eq!(after.open, before.open);
                }
                if tag == b'E' {
                    self.error_response(&before, &after);
                }
                if tag == b'D' {
                    assert_eq!(after.front, before.front, "a DataRow moved the exchange");
                }
            }
            (_, incoming) => panic!("{} came back as {incoming:?}", sent.name()),
        }
        self.check_state();
        true
    }

    /// An accepted ErrorResponse: a simple Query goes on to its next statement or
    /// ReadyForQuery; in the extended protocol the server skips to the next Sync.
    fn error_response(&mut self, before: &State, after: &State) {
        match before.front {
            None => assert_eq!(after.front, None),
            Some(Step::Ready) => assert_eq!(after.front, Some(Step::Ready)),
            Some(Step::Query { copy_policy, .. }) => assert_eq!(
                after.front,
                Some(Step::Query {
                    copy_policy,
                    phase: QueryPhase::Between,
                })
            ),
            Some(_) if before.owed == 0 => {
                assert_eq!(
                    after.front, None,
                    "steps left after an error, no Sync written"
                );
                self.discarding = true;
            }
            Some(_) => assert!(
                after.front.as_ref().is_some_and(is_sync),
                "an error did not skip to the Sync: {after:?}"
            ),
        }
    }

    /// An accepted CopyInResponse (see [`copy_both_response`] for CopyBothResponse).
    fn copy_in_response(&mut self, before: &State, after: &State, written: &[(u8, Vec<u8>)]) {
        let tags: Vec<u8> = written.iter().map(|(tag, _)| *tag).collect();
        match before.front {
            Some(Step::Execute { copy: None }) => {
                assert_eq!(
                    after.front,
                    Some(Step::Execute {
                        copy: Some(CopyState::Ending)
                    })
                );
                if before.owed == 0 {
                    // No Sync written yet: the exchange writes one after the CopyFail.
                    assert_eq!(tags, b"fS", "the refused COPY in an unsynced group");
                    assert_eq!(after.owed, 1);
                    assert!(!after.open);
                    self.owed += 1;
                    self.open = false;
                    self.discarding = false;
                } else {
                    assert!(
                        tags == b"f" || tags == b"fS",
                        "the refused COPY wrote {tags:?}"
                    );
                    assert_eq!(after.owed, before.owed);
                    assert_eq!(after.open, before.open);
                }
            }
            Some(Step::Query {
                copy_policy: CopyPolicy::Refuse,
                phase: QueryPhase::Between,
            }) => {
                assert_eq!(tags, b"f", "the refused COPY in a simple Query");
                assert_eq!(
                    after.front,
                    Some(Step::Query {
                        copy_policy: CopyPolicy::Refuse,
                        phase: QueryPhase::Copy(CopyState::Ending),
                    })
                );
                assert_eq!(after.owed, before.owed);
            }
            Some(Step::Query {
                copy_policy: CopyPolicy::Allow,
                phase: QueryPhase::Between,
            }) => {
                assert!(tags.is_empty(), "the allowed COPY wrote {tags:?}");
                assert!(after.copy_in);
                assert_eq!(after.owed, before.owed);
            }
            other => panic!("CopyInResponse accepted after {other:?}"),
        }
        for (tag, body) in written {
            if *tag == b'f' {
                assert_eq!(&body[..body.len() - 1], COPY_REFUSED.as_bytes());
            }
        }
    }
}

/// An accepted CopyBothResponse: it opens the CopyBoth for a Query that started replication,
/// and is ended at once with CopyDone for any other.
fn copy_both_response(before: &State, after: &State, written: &[(u8, Vec<u8>)]) {
    let tags: Vec<u8> = written.iter().map(|(tag, _)| *tag).collect();
    let Some(Step::Query {
        copy_policy,
        phase: QueryPhase::Between,
    }) = before.front
    else {
        panic!("CopyBothResponse accepted after {before:?}");
    };
    let (expected_tags, phase): (&[u8], _) = match copy_policy {
        CopyPolicy::Both => (b"", CopyState::Both),
        CopyPolicy::Allow | CopyPolicy::Refuse => (b"c", CopyState::BothClientDone),
    };
    assert_eq!(
        tags, expected_tags,
        "CopyBothResponse under {copy_policy:?}"
    );
    assert_eq!(
        after.front,
        Some(Step::Query {
            copy_policy,
            phase: QueryPhase::Copy(phase),
        })
    );
    assert_eq!(after.copy_both, copy_policy == CopyPolicy::Both);
    assert_eq!(after.owed, before.owed);
    assert_eq!(after.open, before.open);
}
