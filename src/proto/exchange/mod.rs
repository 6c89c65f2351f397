//! The query phase, sans-IO: what the server still owes for the requests written so far, and
//! the one place that decides which backend message may come next.
//!
//! Every request of a running session is written through [`Requests`], which encodes the
//! frontend message and records the replies it calls for as [`Step`]s, in order:
//!
//! | written                 | owed                                                          |
//! | ----------------------- | ------------------------------------------------------------- |
//! | Parse                   | ParseComplete                                                 |
//! | Bind                    | BindComplete                                                  |
//! | Describe (statement)    | ParameterDescription, then RowDescription or NoData           |
//! | Describe (portal)       | RowDescription or NoData                                      |
//! | Execute                 | DataRows, then CommandComplete, EmptyQueryResponse or PortalSuspended; or a COPY |
//! | Close                   | CloseComplete                                                 |
//! | Sync                    | ReadyForQuery                                                 |
//! | Query (simple protocol) | results (RowDescription, DataRows, CommandComplete, ...), then ReadyForQuery |
//! | Flush                   | nothing                                                       |
//!
//! Two requests write a whole Sync group at once, for work any server session may run (behind
//! a transaction-pooling proxy, consecutive groups may land on different sessions):
//! [`Requests::run_unnamed`] (Parse, Bind, Describe of the portal, Execute, Sync of the unnamed
//! statement and portal) and [`Requests::describe_unnamed`] (Parse, Describe of the statement,
//! Sync). Each owes the sum of its messages' rows above, and is written whole or not at all.
//!
//! [`Exchange::handle`] checks each backend message against the step at the front and refuses
//! anything else with [`ProtoError::Unexpected`] naming both. It also applies the server's own
//! rules: after an ErrorResponse in the extended protocol the server skips to the next Sync, so
//! the steps before it are dropped (and, with no Sync written yet, whatever is written before
//! the Sync is not owed either); a simple Query that fails still ends with ReadyForQuery. A COPY
//! the caller did not ask for is refused here too, by writing CopyFail (and the Sync the server
//! then needs) into the output buffer, so every code path refuses it the same way.
//!
//! Asynchronous messages (NoticeResponse, NotificationResponse, ParameterStatus) may arrive
//! between any two messages; the session absorbs them before they reach the exchange.

use std::collections::VecDeque;

use bytes::BytesMut;

use crate::proto::backend::Message;
use crate::proto::{frontend, ProtoError};

mod requests;
pub use requests::Requests;

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

/// What a caller wants done when the server starts a COPY it did not ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyPolicy {
    /// The caller runs the COPY itself (`copy_in` / `copy_out`): the exchange lets the COPY
    /// sub-protocol through.
    Allow,
    /// The caller cannot take part in a COPY: COPY FROM STDIN is failed with CopyFail at once,
    /// COPY TO STDOUT data is let through for the caller to discard, and a CopyBoth
    /// (START_REPLICATION sent as plain SQL) is ended with CopyDone at once, its data let
    /// through for the caller to discard.
    Refuse,
    /// The caller started replication (START_REPLICATION): the server's CopyBothResponse
    /// opens the CopyBoth sub-protocol, with CopyData both ways and CopyDone from either side;
    /// any other COPY is refused as with [`CopyPolicy::Refuse`].
    Both,
}

/// Where a running COPY stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyState {
    /// The server sends CopyData, then CopyDone.
    Out,
    /// The server waits for the client's CopyData and CopyDone (or CopyFail).
    In,
    /// The client sent CopyDone or CopyFail; the server's CommandComplete or ErrorResponse
    /// is next.
    Ending,
    /// CopyBoth (replication): CopyData both ways; CopyDone may come from either side.
    Both,
    /// CopyBoth after the server's CopyDone: the client still sends CopyDone (it may send
    /// CopyData before that); the server sends nothing until then.
    BothServerDone,
    /// CopyBoth after the client's CopyDone: the server's CopyData may still come, then its
    /// CopyDone; the statement's results (a row with the next timeline at a timeline's end,
    /// CommandComplete) follow that.
    BothClientDone,
    /// CopyBoth after both CopyDones: the statement's results come (a RowDescription and row
    /// with the next timeline, CommandComplete). A logical walsender may still send CopyData
    /// of the transaction it was decoding after its own CopyDone (its output plugin writes
    /// without looking): that is let through to be discarded.
    BothEnded,
}

/// One reply (or run of replies) the server owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// ParseComplete, for a Parse.
    ParseComplete,
    /// BindComplete, for a Bind.
    BindComplete,
    /// CloseComplete, for a Close.
    CloseComplete,
    /// ParameterDescription, the first reply to a Describe of a statement.
    ParameterDescription,
    /// RowDescription or NoData: the second reply to a Describe of a statement, the only
    /// one to a Describe of a portal.
    RowDescription,
    /// The replies to an Execute: DataRows, then CommandComplete, EmptyQueryResponse or
    /// PortalSuspended; or a COPY, which the extended protocol here always refuses.
    Execute {
        /// Set once the server started a COPY.
        copy: Option<CopyState>,
    },
    /// ReadyForQuery, for a Sync.
    Ready,
    /// The replies to a simple Query: for each statement in it a result (RowDescription and
    /// DataRows, a COPY, or nothing) and CommandComplete or EmptyQueryResponse, or an
    /// ErrorResponse that ends the statements; then ReadyForQuery.
    Query {
        /// Whether a COPY may run.
        copy_policy: CopyPolicy,
        /// Where the current statement stands.
        phase: QueryPhase,
    },
}

/// Where the current statement of a simple Query stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryPhase {
    /// Between statements: a new result, an error or ReadyForQuery may come.
    Between,
    /// A RowDescription came: DataRows, then CommandComplete.
    Rows,
    /// A COPY is running.
    Copy(CopyState),
}

impl Step {
    /// What this step waits for, for error messages.
    pub fn expected(&self) -> &'static str {
        match self {
            Step::ParseComplete => "ParseComplete",
            Step::BindComplete => "BindComplete",
            Step::CloseComplete => "CloseComplete",
            Step::ParameterDescription => "ParameterDescription",
            Step::RowDescription => "RowDescription or NoData",
            Step::Execute { copy: None } => {
                "DataRow, CommandComplete, EmptyQueryResponse or PortalSuspended"
            }
            Step::Execute {
                copy: Some(CopyState::Out),
            }
            | Step::Query {
                phase:
                    QueryPhase::Copy(CopyState::Out | CopyState::Both | CopyState::BothClientDone),
                ..
            } => "CopyData or CopyDone",
            Step::Query {
                phase: QueryPhase::Copy(CopyState::BothServerDone),
                ..
            } => "nothing until the client's CopyDone (the server ended its side of CopyBoth)",
            Step::Query {
                phase: QueryPhase::Copy(CopyState::BothEnded),
                ..
            } => "the results of START_REPLICATION after CopyBoth ended",
            Step::Execute { copy: Some(_) }
            | Step::Query {
                phase: QueryPhase::Copy(_),
                ..
            } => "CommandComplete or ErrorResponse ending a COPY",
            Step::Ready => "ReadyForQuery",
            Step::Query {
                phase: QueryPhase::Between,
                ..
            } => "a simple query's next result or ReadyForQuery",
            Step::Query {
                phase: QueryPhase::Rows,
                ..
            } => "DataRow or CommandComplete",
        }
    }

    /// Whether this step answers a Sync or a Query, i.e. ends with ReadyForQuery.
    fn is_sync(&self) -> bool {
        matches!(self, Step::Ready | Step::Query { .. })
    }
}

/// The replies still owed, in the order the requests were written, and the rules for taking
/// a backend message in. Owned by the [`Session`](crate::proto::session::Session).
#[derive(Debug, Default)]
pub struct Exchange {
    steps: VecDeque<Step>,
    /// How many steps end with ReadyForQuery.
    syncs: usize,
    /// Extended-protocol messages were written since the last Sync: the group needs one.
    open: bool,
    /// An error ended a group whose Sync is not written yet: the server discards everything
    /// up to it, so nothing written before it is owed.
    discarding: bool,
}

impl Exchange {
    /// How many ReadyForQuery messages are owed.
    pub fn owed(&self) -> usize {
        self.syncs
    }

    /// Whether nothing at all is owed.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.steps.is_empty() && !self.open
    }

    /// Whether extended-protocol messages were written without their Sync yet.
    pub fn group_open(&self) -> bool {
        self.open
    }

    /// The step at the front, if any.
    pub fn front(&self) -> Option<&Step> {
        self.steps.front()
    }

    /// Whether a DataRow may come next, so the reader's fast path may take a run of them
    /// without going through [`Exchange::handle`].
    #[inline]
    pub fn accepts_rows(&self) -> bool {
        matches!(
            self.steps.front(),
            Some(Step::Execute { copy: None })
                | Some(Step::Query {
                    phase: QueryPhase::Rows,
                    ..
                })
        )
    }

    /// Whether a CopyBoth (replication) at the front still takes the client's CopyData and
    /// CopyDone (the client has not sent its CopyDone yet).
    pub fn in_copy_both(&self) -> bool {
        matches!(
            self.steps.front(),
            Some(Step::Query {
                phase: QueryPhase::Copy(CopyState::Both | CopyState::BothServerDone),
                ..
            })
        )
    }

    /// Whether the server ended its side of the CopyBoth at the front (its CopyDone came; the
    /// client's CopyDone is due).
    pub fn copy_both_server_done(&self) -> bool {
        matches!(
            self.steps.front(),
            Some(Step::Query {
                phase: QueryPhase::Copy(CopyState::BothServerDone),
                ..
            })
        )
    }

    /// Whether the COPY at the front waits for the client's data (CopyData, CopyDone or
    /// CopyFail may be written).
    pub fn in_copy_in(&self) -> bool {
        matches!(
            self.steps.front(),
            Some(Step::Query {
                phase: QueryPhase::Copy(CopyState::In),
                ..
            })
        )
    }

    #[inline]
    fn push(&mut self, step: Step) {
        if step.is_sync() {
            self.syncs += 1;
            self.discarding = false;
            if matches!(step, Step::Ready) {
                self.open = false;
            }
        } else {
            self.open = true;
            if self.discarding {
                // The server discards this message unanswered (it skips to the next Sync).
                return;
            }
        }
        self.steps.push_back(step);
    }

    #[inline]
    fn pop(&mut self) {
        if let Some(step) = self.steps.pop_front() {
            if step.is_sync() {
                self.syncs -= 1;
            }
        }
    }

    /// Takes one backend message in (never an asynchronous one: the session absorbs those).
    /// `Ok` means the front step allows it and the caller may act on it; anything else is a
    /// protocol error. `out` receives what the exchange writes by itself (the refusal of an
    /// unwanted COPY), which the caller flushes before it waits for more input.
    pub fn handle(&mut self, msg: &Message, out: &mut BytesMut) -> Result<(), ProtoError> {
        let Some(front) = self.steps.front_mut() else {
            // Nothing is owed. A server ends a session with a FATAL ErrorResponse on its own
            // (pg_terminate_backend, idle_session_timeout, shutdown): hand it over.
            return match msg {
                Message::ErrorResponse(_) => Ok(()),
                other => Err(unexpected("nothing (no request is outstanding)", other)),
            };
        };
        let accepted = match (front, msg) {
            (_, Message::ErrorResponse(_)) => {
                self.error();
                return Ok(());
            }
            (Step::ParseComplete, Message::ParseComplete)
            | (Step::BindComplete, Message::BindComplete)
            | (Step::CloseComplete, Message::CloseComplete)
            | (Step::ParameterDescription, Message::ParameterDescription(_))
            | (Step::RowDescription, Message::RowDescription(_) | Message::NoData)
            | (
                Step::Execute { copy: None },
                Message::CommandComplete(_)
                | Message::EmptyQueryResponse
                | Message::PortalSuspended,
            )
            | (
                Step::Execute {
                    copy: Some(CopyState::Ending),
                },
                Message::CommandComplete(_),
            ) => Advance::Pop,
            (Step::Execute { copy: None }, Message::DataRow(_)) => Advance::Stay,
            (step @ Step::Execute { copy: None }, Message::CopyOutResponse(_)) => {
                *step = Step::Execute {
                    copy: Some(CopyState::Out),
                };
                Advance::Stay
            }
            (
                Step::Execute {
                    copy: Some(CopyState::Out),
                },
                Message::CopyData(_),
            ) => Advance::Stay,
            (
                step @ Step::Execute {
                    copy: Some(CopyState::Out),
                },
                Message::CopyDone,
            ) => {
                *step = Step::Execute {
                    copy: Some(CopyState::Ending),
                };
                Advance::Stay
            }
            (Step::Execute { copy: None }, Message::CopyInResponse(_)) => {
                return self.refuse_extended_copy_in(out);
            }
            (Step::Ready, Message::ReadyForQuery(_)) => Advance::Pop,
            (Step::Query { copy_policy, phase }, _) => {
                match query_transition(*copy_policy, *phase, msg) {
                    Some(QueryMove::To(next)) => {
                        *phase = next;
                        Advance::Stay
                    }
                    Some(QueryMove::Refuse) => {
                        *phase = QueryPhase::Copy(CopyState::Ending);
                        frontend::copy_fail(COPY_REFUSED, out)?;
                        Advance::Stay
                    }
                    Some(QueryMove::RefuseBoth) => {
                        // Ended from our side at once; the server's data until its CopyDone
                        // is let through for the caller to discard.
                        *phase = QueryPhase::Copy(CopyState::BothClientDone);
                        frontend::copy_done(out);
                        Advance::Stay
                    }
                    Some(QueryMove::Done) => Advance::Pop,
                    None => Advance::Refuse,
                }
            }
            _ => Advance::Refuse,
        };
        match accepted {
            Advance::Pop => self.pop(),
            Advance::Stay => {}
            Advance::Refuse => return Err(self.refused(msg)),
        }
        Ok(())
    }

    /// The error for `msg`, which the front step does not take.
    #[cold]
    fn refused(&self, msg: &Message) -> ProtoError {
        let expected = self.steps.front().map_or("nothing", Step::expected);
        unexpected(expected, msg)
    }

    /// Applies an ErrorResponse: a simple Query goes on to its ReadyForQuery; in the extended
    /// protocol the server skips to the next Sync.
    fn error(&mut self) {
        if let Some(Step::Query { phase, .. }) = self.steps.front_mut() {
            *phase = QueryPhase::Between;
            return;
        }
        while let Some(step) = self.steps.front() {
            if step.is_sync() {
                return;
            }
            self.pop();
        }
        // No Sync written yet: what is written before it is discarded unanswered.
        self.discarding = true;
    }

    /// The server started COPY FROM STDIN for an Execute. The extended protocol here never
    /// runs one, so it is failed at once. In copy-in mode the server ignores Sync, so the
    /// group's Sync, if already written, did not count: after CopyFail it reports the error
    /// and skips to the next Sync, which is written here.
    fn refuse_extended_copy_in(&mut self, out: &mut BytesMut) -> Result<(), ProtoError> {
        // How many steps were written after this Execute, and where the first Sync among them is.
        let rest = self.steps.len() - 1;
        let first_sync = self.steps.iter().skip(1).position(Step::is_sync);
        match first_sync {
            // Nothing after the Execute, or only more of the same group: the next message
            // (if any) or the CopyFail aborts the COPY, and the Sync written now ends the group.
            None => {
                frontend::copy_fail(COPY_REFUSED, out)?;
                frontend::sync(out);
                self.push(Step::Ready);
            }
            // Exactly the group's own Sync after it: the server ignored it; the new Sync
            // replaces it.
            Some(0) if rest == 1 && self.steps[1] == Step::Ready => {
                frontend::copy_fail(COPY_REFUSED, out)?;
                frontend::sync(out);
            }
            // Other messages of the group came after the Execute: the first of them aborts the
            // COPY and the server skips to the group's Sync. The CopyFail arrives after that,
            // outside COPY, where the server ignores it.
            Some(n) if n > 0 => frontend::copy_fail(COPY_REFUSED, out)?,
            // More Sync groups follow (a pipeline): the server ignores this group's Sync and
            // would merge the next group into this one; the replies can no longer be told
            // apart, so the session cannot continue.
            Some(_) => {
                return Err(ProtoError::Unexpected {
                    expected: "no COPY FROM STDIN in a pipeline of several Sync groups",
                    got: "CopyInResponse",
                })
            }
        }
        self.steps[0] = Step::Execute {
            copy: Some(CopyState::Ending),
        };
        Ok(())
    }

    /// Records that the client sent CopyDone in the CopyBoth at the front.
    fn copy_both_ended(&mut self) {
        if let Some(Step::Query { phase, .. }) = self.steps.front_mut() {
            *phase = match *phase {
                QueryPhase::Copy(CopyState::Both) => QueryPhase::Copy(CopyState::BothClientDone),
                // Both sides are done: the statement's results follow.
                QueryPhase::Copy(CopyState::BothServerDone) => {
                    QueryPhase::Copy(CopyState::BothEnded)
                }
                other => other,
            };
        }
    }

    /// Records that the client ended the COPY FROM STDIN at the front (CopyDone or CopyFail
    /// written).
    fn copy_in_ended(&mut self) {
        if let Some(Step::Query { phase, .. }) = self.steps.front_mut() {
            if *phase == QueryPhase::Copy(CopyState::In) {
                *phase = QueryPhase::Copy(CopyState::Ending);
            }
        }
    }
}

/// The CopyFail reason sent when a COPY FROM STDIN is refused.
pub const COPY_REFUSED: &str =
    "COPY FROM STDIN cannot run here: use copy_in (a COPY needs its own call)";

enum Advance {
    Pop,
    Stay,
    Refuse,
}

enum QueryMove {
    To(QueryPhase),
    Refuse,
    RefuseBoth,
    Done,
}

/// The simple Query's transition table; `None` for a message that may not come now.
fn query_transition(policy: CopyPolicy, phase: QueryPhase, msg: &Message) -> Option<QueryMove> {
    use QueryPhase::{Between, Copy, Rows};
    Some(match (phase, msg) {
        (Between, Message::RowDescription(_)) => QueryMove::To(Rows),
        (Rows, Message::DataRow(_)) => QueryMove::To(Rows),
        (
            Between | Rows | Copy(CopyState::Ending | CopyState::BothEnded),
            Message::CommandComplete(_),
        ) => QueryMove::To(Between),
        (Between, Message::EmptyQueryResponse) => QueryMove::To(Between),
        (Between, Message::CopyOutResponse(_)) => QueryMove::To(Copy(CopyState::Out)),
        (Copy(CopyState::Out), Message::CopyData(_)) => QueryMove::To(Copy(CopyState::Out)),
        (Copy(CopyState::Out), Message::CopyDone) => QueryMove::To(Copy(CopyState::Ending)),
        (Between, Message::CopyInResponse(_)) => match policy {
            CopyPolicy::Allow => QueryMove::To(Copy(CopyState::In)),
            CopyPolicy::Refuse | CopyPolicy::Both => QueryMove::Refuse,
        },
        (Between, Message::CopyBothResponse(_)) => match policy {
            CopyPolicy::Both => QueryMove::To(Copy(CopyState::Both)),
            CopyPolicy::Allow | CopyPolicy::Refuse => QueryMove::RefuseBoth,
        },
        (Copy(CopyState::Both), Message::CopyData(_)) => QueryMove::To(Copy(CopyState::Both)),
        (Copy(CopyState::BothClientDone), Message::CopyData(_)) => {
            QueryMove::To(Copy(CopyState::BothClientDone))
        }
        (Copy(CopyState::Both), Message::CopyDone) => {
            QueryMove::To(Copy(CopyState::BothServerDone))
        }
        // Both sides are done: the statement's results follow (a row with the next timeline
        // after physical replication reached a timeline's end, then CommandComplete).
        (Copy(CopyState::BothClientDone), Message::CopyDone) => {
            QueryMove::To(Copy(CopyState::BothEnded))
        }
        (Copy(CopyState::BothEnded), Message::CopyData(_)) => {
            QueryMove::To(Copy(CopyState::BothEnded))
        }
        (Copy(CopyState::BothEnded), Message::RowDescription(_)) => QueryMove::To(Rows),
        // A logical walsender that already saw a CopyDone (PostgreSQL 15 keeps that from one
        // START_REPLICATION to the next on a connection) ends the COPY at once with
        // CommandComplete, without a CopyDone of its own; anything the client sends then is
        // outside COPY, where the server ignores CopyData and CopyDone.
        (Copy(CopyState::Both | CopyState::BothClientDone), Message::CommandComplete(_)) => {
            QueryMove::To(Between)
        }
        (Between, Message::ReadyForQuery(_)) => QueryMove::Done,
        _ => return None,
    })
}

fn unexpected(expected: &'static str, got: &Message) -> ProtoError {
    ProtoError::Unexpected {
        expected,
        got: got.name(),
    }
}
