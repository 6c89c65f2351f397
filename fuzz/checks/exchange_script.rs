//! The script of the `exchange` fuzz target (`exchange.rs`): what each script byte means
//! ([`Op::from_byte`]), the requests it stands for ([`Req`]) with what each must do (succeed or
//! fail, the message it writes, whether it opens a Sync group, the first reply it is owed), and
//! how the driver runs the script between messages ([`Driver::run_script`]).

use tusk::proto::exchange::{CopyPolicy, QueryPhase, Step};

use super::Driver;

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
            24 => Req::Query(sql, CopyPolicy::Both),
            25 => Req::CopyBothDone,
            _ => return Op::WaitReady,
        })
    }
}

/// One request written through [`tusk::proto::exchange::Requests`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Req {
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
    /// CopyDone ending the client's side of a CopyBoth (START_REPLICATION).
    CopyBothDone,
}

fn valid(s: &str) -> bool {
    !s.contains('\0')
}

impl Req {
    /// Whether the request must succeed; `copy_in`: whether a COPY FROM STDIN waits for data;
    /// `copy_both`: whether the client's side of a CopyBoth is open.
    pub(super) fn must_succeed(&self, copy_in: bool, copy_both: bool) -> bool {
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
            Req::CopyBothDone => copy_both,
        }
    }

    /// The tag of the message the request writes.
    pub(super) fn tag(&self) -> u8 {
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
            Req::CopyDone | Req::CopyBothDone => b'c',
            Req::CopyFail => b'f',
        }
    }

    /// Whether the request is an extended-protocol message that belongs to a Sync group.
    pub(super) fn opens_group(&self) -> bool {
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
    pub(super) fn first_step(&self) -> Option<Step> {
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

impl Driver<'_> {
    /// Runs the script until an op waits, or to its end; starts it over once the exchange is
    /// idle again after at least one message, if the server has more to say (`more`).
    pub(super) fn run_script(&mut self, more: bool) {
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
}
