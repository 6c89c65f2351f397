//! What the checks of the `exchange` fuzz target (`exchange.rs`) compare against, written
//! independently of the exchange: the state snapshot taken before and after each call and the
//! invariants it must meet ([`Driver::check_state`]), the table of which server message may
//! come after which step, from the protocol documentation ([`allowed`]), and the format of
//! the frontend messages a session writes ([`written_frames`]).

use tusk::proto::backend::TransactionStatus;
use tusk::proto::exchange::{CopyPolicy, CopyState, QueryPhase, Step};

use super::Driver;

/// Every tag a client sends once the session is running.
const FRONTEND_TAGS: &[u8] = b"QPBDECSHdcf";

/// What the checks compare before and after each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct State {
    pub(super) owed: usize,
    pub(super) open: bool,
    pub(super) idle: bool,
    pub(super) front: Option<Step>,
    pub(super) copy_in: bool,
    pub(super) copy_both: bool,
    pub(super) rows: bool,
    pub(super) status: TransactionStatus,
}

pub(super) fn is_sync(step: &Step) -> bool {
    matches!(step, Step::Ready | Step::Query { .. })
}

impl Driver<'_> {
    pub(super) fn state(&self) -> State {
        let exchange = self.session.exchange();
        State {
            owed: exchange.owed(),
            open: exchange.group_open(),
            idle: exchange.is_idle(),
            front: exchange.front().copied(),
            copy_in: exchange.in_copy_in(),
            copy_both: exchange.in_copy_both(),
            rows: exchange.accepts_rows(),
            status: self.session.transaction_status(),
        }
    }

    /// The invariants that hold between any two calls.
    pub(super) fn check_state(&self) {
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
            s.copy_both,
            matches!(
                s.front,
                Some(Step::Query {
                    copy_policy: CopyPolicy::Both,
                    phase: QueryPhase::Copy(CopyState::Both | CopyState::BothServerDone),
                })
            ),
            "in_copy_both() is not \"the client's side of a replication CopyBoth is open\""
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
}

/// Whether a server may send a message with `tag` next, per the protocol documentation
/// (asynchronous messages and ErrorResponse may always come).
pub(super) enum Allowed {
    Yes,
    No,
    /// CopyInResponse to an Execute: refused with CopyFail, unless Sync groups follow.
    RefusedCopyIn,
}

pub(super) fn allowed(front: Option<Step>, tag: u8) -> Allowed {
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
        // The extended protocol never runs a CopyBoth.
        Step::Execute {
            copy:
                Some(
                    CopyState::Both
                    | CopyState::BothServerDone
                    | CopyState::BothClientDone
                    | CopyState::BothEnded,
                ),
        } => false,
        // CopyBoth (replication): data and CopyDone from the server until its CopyDone; a
        // walsender may also leave COPY with CommandComplete alone.
        Step::Query {
            phase: Copy(CopyState::Both | CopyState::BothClientDone),
            ..
        } => matches!(tag, b'd' | b'c' | b'C'),
        // The server's CopyDone came: nothing until the client's.
        Step::Query {
            phase: Copy(CopyState::BothServerDone),
            ..
        } => false,
        // Both CopyDones: late data of a logical walsender, the command's results.
        Step::Query {
            phase: Copy(CopyState::BothEnded),
            ..
        } => matches!(tag, b'd' | b'T' | b'C'),
        Step::Ready => tag == b'Z',
        Step::Query { phase: Between, .. } => {
            matches!(tag, b'T' | b'C' | b'I' | b'H' | b'G' | b'W' | b'Z')
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
pub(super) fn written_tags(out: &[u8]) -> Vec<u8> {
    written_frames(out)
        .into_iter()
        .map(|(tag, _)| tag)
        .collect()
}

/// The frontend messages in `out` as (tag, body); panics unless `out` is whole, well-formed
/// messages.
pub(super) fn written_frames(out: &[u8]) -> Vec<(u8, Vec<u8>)> {
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
