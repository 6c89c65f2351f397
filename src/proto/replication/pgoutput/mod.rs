//! Decoding of the `pgoutput` logical decoding plugin's messages, protocol versions 1 to 4:
//! the payload of each [`XLogData`](super::XLogData) of a logical replication stream started
//! with `START_REPLICATION SLOT s LOGICAL x/y (proto_version 'N', publication_names 'p', ...)`.
//!
//! | Version | Server | Adds |
//! |---|---|---|
//! | 1 | 10+ | Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate (11+), Message (14+, `messages`) |
//! | 2 | 14+ | streaming of in-progress transactions (`streaming`): Stream Start / Stop / Commit / Abort, and an xid on the changes inside a streamed block |
//! | 3 | 15+ | two-phase commit (`two_phase`): Begin Prepare, Prepare, Commit Prepared, Rollback Prepared, Stream Prepare |
//! | 4 | 16+ | parallel streaming (`streaming 'parallel'`): Stream Abort carries the abort's LSN and time |
//!
//! The [`Decoder`] is sans-IO: it takes one message's bytes and returns a [`Message`]. It keeps
//! the one piece of state the format needs (whether a streamed block is open, which makes the
//! changes carry an xid) and refuses what may not come: a message the negotiated version does
//! not have, Stream Stop without Stream Start, a transaction boundary inside a streamed block.
//! Tuple values stay in the message's buffer ([`TupleData`]). Turning them into typed values
//! through the Relation's column types is [`tusk::replication`](crate::replication)'s job.

mod messages;
mod tuple;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod tests_server;

use bytes::Bytes;

pub use messages::{
    Begin, BeginPrepare, Commit, CommitPrepared, DataType, Delete, Insert, LogicalMessage, Message,
    OldKind, Origin, Prepare, Relation, RelationColumn, ReplicaIdentity, RollbackPrepared,
    StreamAbort, StreamCommit, StreamStart, Truncate, Update,
};
pub use tuple::{ColumnKind, ColumnValue, TupleData};

use super::Lsn;
use crate::proto::backend::reader::Reader;
use crate::proto::ProtoError;
use tuple::show_tag;

/// The newest pgoutput protocol version this crate decodes.
pub const MAX_PROTOCOL_VERSION: u32 = 4;

/// Decodes the messages of one pgoutput session (one START_REPLICATION), in order.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::replication::pgoutput::{Decoder, Message};
///
/// let mut decoder = Decoder::new(2)?;
/// // Stream Start of transaction 740, first segment.
/// let start = decoder.decode(Bytes::from_static(b"S\0\0\x02\xe4\x01"))?;
/// assert!(matches!(start, Message::StreamStart(s) if s.xid == 740 && s.first_segment));
/// assert_eq!(decoder.streaming(), Some(740));
/// assert!(matches!(decoder.decode(Bytes::from_static(b"E"))?, Message::StreamStop));
/// // A second Stream Stop has no Stream Start to close.
/// assert!(decoder.decode(Bytes::from_static(b"E")).is_err());
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoder {
    version: u32,
    /// The xid of the open streamed block, between Stream Start and Stream Stop.
    stream: Option<u32>,
}

impl Decoder {
    /// A decoder for `protocol_version` (the `proto_version` option the stream was started
    /// with): 1 to [`MAX_PROTOCOL_VERSION`], or [`ProtoError::UnsupportedPgoutputVersion`].
    pub fn new(protocol_version: u32) -> Result<Decoder, ProtoError> {
        if !(1..=MAX_PROTOCOL_VERSION).contains(&protocol_version) {
            return Err(ProtoError::UnsupportedPgoutputVersion(protocol_version));
        }
        Ok(Decoder {
            version: protocol_version,
            stream: None,
        })
    }

    /// The protocol version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The transaction ID of the open streamed block (after Stream Start, before Stream Stop).
    pub fn streaming(&self) -> Option<u32> {
        self.stream
    }

    /// Decodes one message: the `data` of an XLogData. On an error the decoder's state is
    /// unchanged (the stream should be considered broken all the same).
    pub fn decode(&mut self, data: Bytes) -> Result<Message, ProtoError> {
        let mut r = Reader::new("pgoutput", &data);
        let tag = r.u8("the message type")?;
        let (name, since) = describe(tag)
            .ok_or_else(|| r.error(format!("unknown pgoutput message type {}", show_tag(tag))))?;
        r.set_message(name);
        if self.version < since {
            return Err(r.error(format!(
                "this message needs pgoutput protocol version {since} or later, and the stream \
                 uses version {}",
                self.version
            )));
        }
        match (tag, self.stream) {
            // Only changes (with their xid), Origin and Stream Stop belong in a streamed block.
            (b'R' | b'Y' | b'I' | b'U' | b'D' | b'T' | b'M' | b'O' | b'E', Some(_))
            | (b'S', None) => {}
            (b'E', None) => return Err(unexpected(name, "Stream Start before Stream Stop")),
            (_, Some(_)) => return Err(unexpected(name, "Stream Stop ending the streamed block")),
            (_, None) => {}
        }
        // Inside a streamed block every change carries the (sub)transaction's ID.
        let xid = match (tag, self.stream) {
            (b'R' | b'Y' | b'I' | b'U' | b'D' | b'T' | b'M', Some(_)) => {
                Some(r.u32("the transaction ID")?)
            }
            _ => None,
        };
        let message = match tag {
            b'B' => Message::Begin(Begin {
                final_lsn: lsn(&mut r, "the final LSN")?,
                commit_time: r.i64("the commit time")?,
                xid: r.u32("the transaction ID")?,
            }),
            b'C' => Message::Commit(Commit {
                flags: r.u8("the flags")?,
                commit_lsn: lsn(&mut r, "the commit LSN")?,
                end_lsn: lsn(&mut r, "the end LSN")?,
                commit_time: r.i64("the commit time")?,
            }),
            b'O' => Message::Origin(Origin {
                commit_lsn: lsn(&mut r, "the origin's commit LSN")?,
                name: r.cstr("the origin name")?.to_owned(),
            }),
            b'R' => Message::Relation(relation(&mut r, xid)?),
            b'Y' => Message::Type(DataType {
                xid,
                oid: r.u32("the type OID")?,
                namespace: r.cstr("the type's namespace")?.to_owned(),
                name: r.cstr("the type name")?.to_owned(),
            }),
            b'I' => {
                let relation_id = r.u32("the relation OID")?;
                expect_byte(&mut r, b'N', "the new tuple's 'N'")?;
                let new = TupleData::read(&mut r, &data)?;
                Message::Insert(Insert {
                    xid,
                    relation_id,
                    new,
                })
            }
            b'U' => {
                let relation_id = r.u32("the relation OID")?;
                let (old, new) = match r.u8("the tuple type")? {
                    b'N' => (None, TupleData::read(&mut r, &data)?),
                    kind @ (b'K' | b'O') => {
                        let old = TupleData::read(&mut r, &data)?;
                        expect_byte(&mut r, b'N', "the new tuple's 'N'")?;
                        (Some((old_kind(kind), old)), TupleData::read(&mut r, &data)?)
                    }
                    other => {
                        return Err(r.error(format!(
                            "the tuple type is {}, not 'K', 'O' or 'N'",
                            show_tag(other)
                        )))
                    }
                };
                Message::Update(Update {
                    xid,
                    relation_id,
                    old,
                    new,
                })
            }
            b'D' => {
                let relation_id = r.u32("the relation OID")?;
                let kind = match r.u8("the tuple type")? {
                    kind @ (b'K' | b'O') => old_kind(kind),
                    other => {
                        return Err(r.error(format!(
                            "the tuple type is {}, not 'K' or 'O'",
                            show_tag(other)
                        )))
                    }
                };
                Message::Delete(Delete {
                    xid,
                    relation_id,
                    old_kind: kind,
                    old: TupleData::read(&mut r, &data)?,
                })
            }
            b'T' => {
                let count = r.i32("the relation count")?;
                let options = r.u8("the options")?;
                let count = usize::try_from(count)
                    .map_err(|_| r.error(format!("the relation count is {count}")))?;
                // Four bytes each: a count the bytes left cannot hold allocates nothing.
                if count > r.remaining() / 4 {
                    return Err(r.error(format!(
                        "{count} relations declared but only {} bytes are left",
                        r.remaining()
                    )));
                }
                let mut relation_ids = Vec::with_capacity(count);
                for _ in 0..count {
                    relation_ids.push(r.u32("a relation OID")?);
                }
                Message::Truncate(Truncate {
                    xid,
                    options,
                    relation_ids,
                })
            }
            b'M' => {
                let flags = r.u8("the flags")?;
                let at = lsn(&mut r, "the message LSN")?;
                let prefix = r.cstr("the prefix")?.to_owned();
                let len = r.i32("the content length")?;
                let len = usize::try_from(len)
                    .map_err(|_| r.error(format!("the content length is {len}")))?;
                Message::Message(LogicalMessage {
                    xid,
                    flags,
                    lsn: at,
                    prefix,
                    content: r.bytes(len, "the content")?,
                })
            }
            b'S' => Message::StreamStart(StreamStart {
                xid: r.u32("the transaction ID")?,
                first_segment: match r.u8("the first-segment flag")? {
                    0 => false,
                    1 => true,
                    other => {
                        return Err(
                            r.error(format!("the first-segment flag is {other}, not 0 or 1"))
                        )
                    }
                },
            }),
            b'E' => Message::StreamStop,
            b'c' => Message::StreamCommit(StreamCommit {
                xid: r.u32("the transaction ID")?,
                flags: r.u8("the flags")?,
                commit_lsn: lsn(&mut r, "the commit LSN")?,
                end_lsn: lsn(&mut r, "the end LSN")?,
                commit_time: r.i64("the commit time")?,
            }),
            b'A' => {
                let xid = r.u32("the transaction ID")?;
                let subxid = r.u32("the subtransaction ID")?;
                // Version 4 adds the abort's LSN and time when the stream was started with
                // `streaming 'parallel'`; what is left says which.
                let (abort_lsn, abort_time) = if self.version >= 4 && r.remaining() > 0 {
                    (
                        Some(lsn(&mut r, "the abort LSN")?),
                        Some(r.i64("the abort time")?),
                    )
                } else {
                    (None, None)
                };
                Message::StreamAbort(StreamAbort {
                    xid,
                    subxid,
                    abort_lsn,
                    abort_time,
                })
            }
            b'b' => Message::BeginPrepare(BeginPrepare {
                prepare_lsn: lsn(&mut r, "the prepare LSN")?,
                end_lsn: lsn(&mut r, "the end LSN")?,
                prepare_time: r.i64("the prepare time")?,
                xid: r.u32("the transaction ID")?,
                gid: r.cstr("the GID")?.to_owned(),
            }),
            b'P' => Message::Prepare(prepare(&mut r)?),
            b'p' => Message::StreamPrepare(prepare(&mut r)?),
            b'K' => Message::CommitPrepared(CommitPrepared {
                flags: r.u8("the flags")?,
                commit_lsn: lsn(&mut r, "the commit LSN")?,
                end_lsn: lsn(&mut r, "the end LSN")?,
                commit_time: r.i64("the commit time")?,
                xid: r.u32("the transaction ID")?,
                gid: r.cstr("the GID")?.to_owned(),
            }),
            b'r' => Message::RollbackPrepared(RollbackPrepared {
                flags: r.u8("the flags")?,
                prepare_end_lsn: lsn(&mut r, "the prepare end LSN")?,
                rollback_end_lsn: lsn(&mut r, "the rollback end LSN")?,
                prepare_time: r.i64("the prepare time")?,
                rollback_time: r.i64("the rollback time")?,
                xid: r.u32("the transaction ID")?,
                gid: r.cstr("the GID")?.to_owned(),
            }),
            // `describe` knows no other tag.
            _ => return Err(r.error("unknown pgoutput message type")),
        };
        r.finish()?;
        match &message {
            Message::StreamStart(s) => self.stream = Some(s.xid),
            Message::StreamStop => self.stream = None,
            _ => {}
        }
        Ok(message)
    }
}

/// A tag's message name and the protocol version that introduced it.
fn describe(tag: u8) -> Option<(&'static str, u32)> {
    Some(match tag {
        b'B' => ("pgoutput Begin", 1),
        b'C' => ("pgoutput Commit", 1),
        b'O' => ("pgoutput Origin", 1),
        b'R' => ("pgoutput Relation", 1),
        b'Y' => ("pgoutput Type", 1),
        b'I' => ("pgoutput Insert", 1),
        b'U' => ("pgoutput Update", 1),
        b'D' => ("pgoutput Delete", 1),
        b'T' => ("pgoutput Truncate", 1),
        b'M' => ("pgoutput Message", 1),
        b'S' => ("pgoutput Stream Start", 2),
        b'E' => ("pgoutput Stream Stop", 2),
        b'c' => ("pgoutput Stream Commit", 2),
        b'A' => ("pgoutput Stream Abort", 2),
        b'b' => ("pgoutput Begin Prepare", 3),
        b'P' => ("pgoutput Prepare", 3),
        b'K' => ("pgoutput Commit Prepared", 3),
        b'r' => ("pgoutput Rollback Prepared", 3),
        b'p' => ("pgoutput Stream Prepare", 3),
        _ => return None,
    })
}

fn unexpected(got: &'static str, expected: &'static str) -> ProtoError {
    ProtoError::Unexpected { expected, got }
}

fn lsn(r: &mut Reader<'_>, what: &str) -> Result<Lsn, ProtoError> {
    r.u64(what).map(Lsn)
}

fn expect_byte(r: &mut Reader<'_>, want: u8, what: &str) -> Result<(), ProtoError> {
    match r.u8(what)? {
        got if got == want => Ok(()),
        got => Err(r.error(format!("expected {what}, found {}", show_tag(got)))),
    }
}

fn old_kind(tag: u8) -> OldKind {
    if tag == b'K' {
        OldKind::Key
    } else {
        OldKind::Full
    }
}

fn relation(r: &mut Reader<'_>, xid: Option<u32>) -> Result<Relation, ProtoError> {
    let id = r.u32("the relation OID")?;
    let namespace = r.cstr("the namespace")?.to_owned();
    let name = r.cstr("the relation name")?.to_owned();
    let identity = r.u8("the replica identity")?;
    let replica_identity = ReplicaIdentity::from_tag(identity).ok_or_else(|| {
        r.error(format!(
            "the replica identity is {}, not 'd', 'n', 'f' or 'i'",
            show_tag(identity)
        ))
    })?;
    let count = r.i16("the column count")?;
    let count =
        usize::try_from(count).map_err(|_| r.error(format!("the column count is {count}")))?;
    // A column is at least 10 bytes (flags, an empty name's NUL, type OID, modifier).
    if count > r.remaining() / 10 {
        return Err(r.error(format!(
            "{count} columns declared but only {} bytes are left",
            r.remaining()
        )));
    }
    let mut columns = Vec::with_capacity(count);
    for _ in 0..count {
        columns.push(RelationColumn {
            flags: r.u8("a column's flags")?,
            name: r.cstr("a column name")?.to_owned(),
            type_oid: r.u32("a column's type OID")?,
            type_modifier: r.i32("a column's type modifier")?,
        });
    }
    Ok(Relation {
        xid,
        id,
        namespace,
        name,
        replica_identity,
        columns,
    })
}

fn prepare(r: &mut Reader<'_>) -> Result<Prepare, ProtoError> {
    Ok(Prepare {
        flags: r.u8("the flags")?,
        prepare_lsn: lsn(r, "the prepare LSN")?,
        end_lsn: lsn(r, "the end LSN")?,
        prepare_time: r.i64("the prepare time")?,
        xid: r.u32("the transaction ID")?,
        gid: r.cstr("the GID")?.to_owned(),
    })
}
