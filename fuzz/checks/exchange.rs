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
//! | `n`              | the script: one op a byte, see [`Op::from_byte`]                   |
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
//!   the front (a table written from the protocol documentation, below), and an accepted one
//!   is handed back unchanged; asynchronous messages change nothing; an ErrorResponse drops
//!   the steps up to the next Sync (or the rest of a simple Query's statements); nothing but
//!   the refusal of a COPY FROM STDIN ever writes to the output buffer during `handle`, and a
//!   refused message writes nothing;
//! - everything in the output buffer is whole, well-formed frontend messages (a known tag, an
//!   `i32` length of at least 4 whose bytes are all there, the fixed bodies as specified);
//! - the run is bounded by the input: each round of the loop consumes server bytes or ends.
//!
//! Only `tusk` and `bytes` may be used here: both crates that include it depend on them.

use bytes::{BufMut, BytesMut};
use tusk::proto::backend::{self, Authentication, Message, TransactionStatus};
use tusk::proto::exchange::{CopyPolicy, CopyState, QueryPhase, Step, COPY_REFUSED};
use tusk::proto::session::{Incoming, Session, Startup, StartupEvent};
use tusk::proto::IsNull;

/// Small enough that the length check is reached often, large enough for real messages.
const MAX_LEN: usize = 1 << 16;
/// The longest script.
const MAX_OPS: usize = 32;
/// The most chunk sizes.
const MAX_CHUNKS: usize = 8;

/// Names for statements and portals; the last one cannot be encoded.
const NAMES: [&str; 4] = ["", "s1", "p1", "bad\0name"];
/// SQL texts; the last one cannot be encoded. The exchange never looks inside them.
const SQLS: [&str; 8] = [
    "SELECT 1",
    "COPY t FROM STDIN",
    "COPY t TO STDOUT",
    "",
    "SELECT 1; SELECT 2",
    "BEGIN",
    "ROLLBACK",
    "bad\0sql",
];

/// Every tag a client sends once the session is running.
const FRONTEND_TAGS: &[u8] = b"QPBDECSHdcf";

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

/// One step of the script.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// One request.
    Request(Req),
    /// Wait until the exchange is idle or a COPY FROM STDIN waits for data: where a client
    /// writes its next requests.
    WaitReady,
    /// Wait for one more message (of any kind).
    WaitMessage,
    /// Parse + Describe (statement) + Flush, or + Sync.
    Prepare { named: bool, sync: bool },
    /// Parse + (Describe statement) + Bind + (Describe portal) + Execute(max_rows) + Sync.
    Extended {
        describe_statement: bool,
        max_rows: i32,
    },
    /// Bind + Execute + Execute + Flush: a batched row stream, its group left open.
    Stream { max_rows: i32 },
    /// Close (statement or portal) + Sync.
    CloseSync { portal: bool },
    /// `groups` Sync groups of Bind + Execute + Sync, written at once.
    Pipeline { groups: u8 },
    /// What a connection does before its next request: CopyFail when a COPY FROM STDIN
    /// waits, then Sync when a group is open.
    Ready,
}

impl Op {
    /// The op for a script byte: the low 5 bits choose the kind, the high 3 its argument.
    fn from_byte(byte: u8) -> Op {
        let arg = byte >> 5;
        let name = NAMES[usize::from(arg & 3)];
        let sql = SQLS[usize::from(arg)];
        Op::Request(match byte & 0x1f {
            0 => Req::Query(sql, CopyPolicy::Refuse),
            1 => Req::Query(sql, CopyPolicy::Allow),
            2 => Req::Parse(name, sql),
            3 => Req::DescribeStatement(name),
            4 => Req::DescribePortal(name),
            5 => Req::Bind {
                portal: name,
                statement: NAMES[usize::from((arg >> 1) & 3)],
                params: arg % 4,
                failing: arg == 5,
            },
            // 7: a portal name that cannot be encoded; otherwise at most `arg` rows (0: all).
            6 => Req::Execute(if arg == 7 { NAMES[3] } else { "" }, i32::from(arg)),
            7 => Req::CloseStatement(name),
            8 => Req::ClosePortal(name),
            9 => Req::Sync,
            10 => Req::SyncIfOpen,
            11 => Req::Flush,
            12 => Req::CopyData(usize::from(arg) * 3),
            13 => Req::CopyDataHeader(usize::from(arg)),
            14 => Req::CopyDone,
            15 => Req::CopyFail,
            16 => return Op::WaitReady,
            17 => return Op::WaitMessage,
            18 => {
                return Op::Prepare {
                    named: arg & 1 != 0,
                    sync: arg & 2 != 0,
                }
            }
            19 => {
                return Op::Extended {
                    describe_statement: arg & 1 != 0,
                    max_rows: i32::from(arg >> 1),
                }
            }
            20 => {
                return Op::Stream {
                    max_rows: i32::from(arg) + 1,
                }
            }
            21 => {
                return Op::CloseSync {
                    portal: arg & 1 != 0,
                }
            }
            22 => return Op::Pipeline { groups: arg + 2 },
            23 => return Op::Ready,
            _ => return Op::WaitReady,
        })
    }
}

/// One request written through [`tusk::proto::exchange::Requests`].
#[derive(Debug, Clone, Copy)]
enum Req {
    Query(&'static str, CopyPolicy),
    Parse(&'static str, &'static str),
    DescribeStatement(&'static str),
    DescribePortal(&'static str),
    Bind {
        portal: &'static str,
        statement: &'static str,
        params: u8,
        /// The last parameter's encoder fails.
        failing: bool,
    },
    Execute(&'static str, i32),
    CloseStatement(&'static str),
    ClosePortal(&'static str),
    Sync,
    SyncIfOpen,
    Flush,
    CopyData(usize),
    /// A CopyData header, then that many bytes appended through `Requests::out`.
    CopyDataHeader(usize),
    CopyDone,
    CopyFail,
}

fn valid(s: &str) -> bool {
    !s.contains('\0')
}

impl Req {
    /// Whether the request must succeed; `copy_in`: whether a COPY FROM STDIN waits for data.
    fn must_succeed(&self, copy_in: bool) -> bool {
        match *self {
            Req::Query(sql, _) => valid(sql),
            Req::Parse(name, sql) => valid(name) && valid(sql),
            Req::DescribeStatement(name)
            | Req::DescribePortal(name)
            | Req::Execute(name, _)
            | Req::CloseStatement(name)
            | Req::ClosePortal(name) => valid(name),
            Req::Bind {
                portal,
                statement,
                failing,
                ..
            } => valid(portal) && valid(statement) && !failing,
            Req::Sync | Req::SyncIfOpen | Req::Flush | Req::CopyFail => true,
            Req::CopyData(_) | Req::CopyDataHeader(_) | Req::CopyDone => copy_in,
        }
    }

    /// The tag of the message the request writes.
    fn tag(&self) -> u8 {
        match self {
            Req::Query(..) => b'Q',
            Req::Parse(..) => b'P',
            Req::DescribeStatement(_) | Req::DescribePortal(_) => b'D',
            Req::Bind { .. } => b'B',
            Req::Execute(..) => b'E',
            Req::CloseStatement(_) | Req::ClosePortal(_) => b'C',
            Req::Sync | Req::SyncIfOpen => b'S',
            Req::Flush => b'H',
            Req::CopyData(_) | Req::CopyDataHeader(_) => b'd',
            Req::CopyDone => b'c',
            Req::CopyFail => b'f',
        }
    }

    /// Whether the request is an extended-protocol message that belongs to a Sync group.
    fn opens_group(&self) -> bool {
        matches!(
            self,
            Req::Parse(..)
                | Req::DescribeStatement(_)
                | Req::DescribePortal(_)
                | Req::Bind { .. }
                | Req::Execute(..)
                | Req::CloseStatement(_)
                | Req::ClosePortal(_)
        )
    }

    /// The first reply the request is owed, if any (a Sync written by `sync_if_open` aside).
    fn first_step(&self) -> Option<Step> {
        Some(match *self {
            Req::Query(_, copy_policy) => Step::Query {
                copy_policy,
                phase: QueryPhase::Between,
            },
            Req::Parse(..) => Step::ParseComplete,
            Req::DescribeStatement(_) => Step::ParameterDescription,
            Req::DescribePortal(_) => Step::RowDescription,
            Req::Bind { .. } => Step::BindComplete,
            Req::Execute(..) => Step::Execute { copy: None },
            Req::CloseStatement(_) | Req::ClosePortal(_) => Step::CloseComplete,
            Req::Sync => Step::Ready,
            _ => return None,
        })
    }
}

/// An encoder's own error, for the failing Bind.
#[derive(Debug)]
struct EncodeError;

/// What the checks compare before and after each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    owed: usize,
    open: bool,
    idle: bool,
    front: Option<Step>,
    copy_in: bool,
    rows: bool,
    status: TransactionStatus,
}

fn is_sync(step: &Step) -> bool {
    matches!(step, Step::Ready | Step::Query { .. })
}

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

    fn state(&self) -> State {
        let exchange = self.session.exchange();
        State {
            owed: exchange.owed(),
            open: exchange.group_open(),
            idle: exchange.is_idle(),
            front: exchange.front().copied(),
            copy_in: exchange.in_copy_in(),
            rows: exchange.accepts_rows(),
            status: self.session.transaction_status(),
        }
    }

    /// The invariants that hold between any two calls.
    fn check_state(&self) {
        let s = self.state();
        assert_eq!(
            s.owed, self.owed,
            "owed() drifted from the count of Syncs and Queries"
        );
        assert_eq!(self.session.owed(), s.owed);
        assert_eq!(
            s.open, self.open,
            "group_open() drifted from the requests written"
        );
        assert_eq!(
            s.idle,
            s.owed == 0 && !s.open,
            "is_idle() is not \"nothing owed, no group open\": {s:?}"
        );
        match &s.front {
            None => assert_eq!(s.owed, 0, "ReadyForQuery owed with no step"),
            Some(step) if is_sync(step) => assert!(s.owed > 0, "a Sync step not counted"),
            Some(step) => {
                let _ = step.expected();
            }
        }
        assert_eq!(
            s.copy_in,
            matches!(
                s.front,
                Some(Step::Query {
                    phase: QueryPhase::Copy(CopyState::In),
                    ..
                })
            )
        );
        assert_eq!(
            s.rows,
            matches!(
                s.front,
                Some(Step::Execute { copy: None })
                    | Some(Step::Query {
                        phase: QueryPhase::Rows,
                        ..
                    })
            )
        );
        // A refused COPY never waits for data; the extended protocol never runs COPY FROM STDIN.
        assert!(!matches!(
            s.front,
            Some(Step::Query {
                copy_policy: CopyPolicy::Refuse,
                phase: QueryPhase::Copy(CopyState::In),
            }) | Some(Step::Execute {
                copy: Some(CopyState::In)
            })
        ));
    }

    /// Runs the script until an op waits, or to its end; starts it over once the exchange is
    /// idle again after at least one message, if the server has more to say (`more`).
    fn run_script(&mut self, more: bool) {
        loop {
            if self.next_op == self.script.len() {
                let idle = self.session.exchange().is_idle();
                if !more || self.script.is_empty() || !idle || self.handled == self.handled_at_start
                {
                    return;
                }
                self.next_op = 0;
                self.handled_at_start = self.handled;
            }
            let op = Op::from_byte(self.script[self.next_op]);
            match op {
                Op::WaitReady => {
                    let exchange = self.session.exchange();
                    if !(exchange.is_idle() || exchange.in_copy_in()) {
                        return;
                    }
                }
                Op::WaitMessage => match self.waiting_since {
                    Some(since) if self.handled > since => self.waiting_since = None,
                    Some(_) => return,
                    None => {
                        self.waiting_since = Some(self.handled);
                        return;
                    }
                },
                _ => {}
            }
            self.next_op += 1;
            self.ops_run += 1;
            self.run(op);
        }
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Request(req) => {
                self.request(req);
            }
            Op::WaitReady | Op::WaitMessage => {}
            Op::Prepare { named, sync } => {
                let name = if named { "s1" } else { "" };
                let _ = self.request(Req::Parse(name, SQLS[0]))
                    && self.request(Req::DescribeStatement(name))
                    && self.request(if sync { Req::Sync } else { Req::Flush });
            }
            Op::Extended {
                describe_statement,
                max_rows,
            } => {
                let _ = self.request(Req::Parse("", SQLS[0]))
                    && (!describe_statement || self.request(Req::DescribeStatement("")))
                    && self.request(Req::Bind {
                        portal: "",
                        statement: "",
                        params: 1,
                        failing: false,
                    })
                    && (describe_statement || self.request(Req::DescribePortal("")))
                    && self.request(Req::Execute("", max_rows))
                    && self.request(Req::Sync);
            }
            Op::Stream { max_rows } => {
                let _ = self.request(Req::Bind {
                    portal: "",
                    statement: "s1",
                    params: 2,
                    failing: false,
                }) && self.request(Req::Execute("", max_rows))
                    && self.request(Req::Execute("", max_rows))
                    && self.request(Req::Flush);
            }
            Op::CloseSync { portal } => {
                let _ = self.request(if portal {
                    Req::ClosePortal("p1")
                } else {
                    Req::CloseStatement("s1")
                }) && self.request(Req::Sync);
            }
            Op::Pipeline { groups } => {
                for _ in 0..groups {
                    let _ = self.request(Req::Bind {
                        portal: "",
                        statement: "s1",
                        params: 0,
                        failing: false,
                    }) && self.request(Req::Execute("", 0));
                    self.request(Req::Sync);
                }
            }
            Op::Ready => {
                if self.session.exchange().in_copy_in() {
                    self.request(Req::CopyFail);
                }
                self.request(Req::SyncIfOpen);
            }
        }
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
                Req::CopyFail => requests.copy_fail("fuzz").is_ok(),
            }
        };
        let written = written_tags(&self.out);
        self.out.clear();
        let after = self.state();
        assert_eq!(
            ok,
            req.must_succeed(before.copy_in),
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

    /// An accepted CopyInResponse.
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

/// Whether a server may send a message with `tag` next, per the protocol documentation
/// (asynchronous messages and ErrorResponse may always come).
enum Allowed {
    Yes,
    No,
    /// CopyInResponse to an Execute: refused with CopyFail, unless Sync groups follow.
    RefusedCopyIn,
}

fn allowed(front: Option<Step>, tag: u8) -> Allowed {
    use CopyState::{Ending, Out};
    use QueryPhase::{Between, Copy, Rows};
    if matches!(tag, b'N' | b'A' | b'S' | b'E') {
        return Allowed::Yes;
    }
    let Some(front) = front else {
        return Allowed::No;
    };
    let yes = match front {
        Step::ParseComplete => tag == b'1',
        Step::BindComplete => tag == b'2',
        Step::CloseComplete => tag == b'3',
        Step::ParameterDescription => tag == b't',
        Step::RowDescription => matches!(tag, b'T' | b'n'),
        Step::Execute { copy: None } if tag == b'G' => return Allowed::RefusedCopyIn,
        Step::Execute { copy: None } => matches!(tag, b'D' | b'C' | b'I' | b's' | b'H'),
        Step::Execute { copy: Some(Out) }
        | Step::Query {
            phase: Copy(Out), ..
        } => matches!(tag, b'd' | b'c'),
        Step::Execute { copy: Some(Ending) }
        | Step::Query {
            phase: Copy(Ending),
            ..
        } => tag == b'C',
        Step::Execute {
            copy: Some(CopyState::In),
        }
        | Step::Query {
            phase: Copy(CopyState::In),
            ..
        } => false,
        Step::Ready => tag == b'Z',
        Step::Query { phase: Between, .. } => {
            matches!(tag, b'T' | b'C' | b'I' | b'H' | b'G' | b'Z')
        }
        Step::Query { phase: Rows, .. } => matches!(tag, b'D' | b'C'),
    };
    if yes {
        Allowed::Yes
    } else {
        Allowed::No
    }
}

/// The tags of the frontend messages in `out`; see [`written_frames`].
fn written_tags(out: &[u8]) -> Vec<u8> {
    written_frames(out)
        .into_iter()
        .map(|(tag, _)| tag)
        .collect()
}

/// The frontend messages in `out` as (tag, body); panics unless `out` is whole, well-formed
/// messages.
fn written_frames(out: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut rest = out;
    let mut frames = Vec::new();
    while !rest.is_empty() {
        assert!(rest.len() >= 5, "a frontend message cut short: {rest:?}");
        let tag = rest[0];
        assert!(
            FRONTEND_TAGS.contains(&tag),
            "an unknown frontend tag {:?} in {out:?}",
            char::from(tag)
        );
        let declared = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let len = usize::try_from(declared)
            .ok()
            .filter(|&len| len >= 4)
            .unwrap_or_else(|| panic!("a frontend message with length {declared}"));
        assert!(
            rest.len() > len,
            "a frontend message of length {len} with {} bytes",
            rest.len() - 1
        );
        let body = &rest[5..1 + len];
        match tag {
            b'S' | b'H' | b'c' => assert!(body.is_empty(), "{} with a body", char::from(tag)),
            b'Q' | b'f' => assert!(
                body.split_last()
                    .is_some_and(|(&last, text)| last == 0 && !text.contains(&0)),
                "{} is not one NUL-terminated string: {body:?}",
                char::from(tag)
            ),
            _ => {}
        }
        frames.push((tag, body.to_vec()));
        rest = &rest[1 + len..];
    }
    frames
}
