//! The messages of the `pgoutput` plugin, one type per message, as the
//! [`Decoder`](super::Decoder) returns them.
//!
//! Times are the server's: microseconds since 2000-01-01 00:00:00 UTC
//! ([`PG_EPOCH_UNIX_MICROS`](crate::proto::replication::PG_EPOCH_UNIX_MICROS) converts). `xid`
//! fields named `Option<u32>` are `Some` only inside a streamed block (between Stream Start and
//! Stream Stop, protocol version 2 and later), where the server adds the transaction ID (of
//! the top-level transaction or of a subtransaction) to every change.

use bytes::Bytes;

use super::TupleData;
use crate::proto::replication::Lsn;

/// One decoded pgoutput message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// `B`: a transaction starts.
    Begin(Begin),
    /// `C`: the transaction commits.
    Commit(Commit),
    /// `O`: the transaction came from another node through replication origin `name`.
    Origin(Origin),
    /// `R`: the description of a table, sent before the first change to it in a session and
    /// again after its schema changed.
    Relation(Relation),
    /// `Y`: the name of a non-built-in type a Relation's column uses.
    Type(DataType),
    /// `I`: a row inserted.
    Insert(Insert),
    /// `U`: a row updated.
    Update(Update),
    /// `D`: a row deleted.
    Delete(Delete),
    /// `T`: tables truncated.
    Truncate(Truncate),
    /// `M`: a logical decoding message (`pg_logical_emit_message`; the `messages` option).
    Message(LogicalMessage),
    /// `S`: a block of an in-progress transaction's changes starts (v2+, `streaming`).
    StreamStart(StreamStart),
    /// `E`: the block ends.
    StreamStop,
    /// `c`: a streamed transaction commits.
    StreamCommit(StreamCommit),
    /// `A`: a streamed transaction, or one of its subtransactions, aborts.
    StreamAbort(StreamAbort),
    /// `b`: a transaction being prepared for two-phase commit starts (v3+, `two_phase`).
    BeginPrepare(BeginPrepare),
    /// `P`: it is prepared (PREPARE TRANSACTION).
    Prepare(Prepare),
    /// `K`: a prepared transaction commits (COMMIT PREPARED).
    CommitPrepared(CommitPrepared),
    /// `r`: a prepared transaction is rolled back (ROLLBACK PREPARED).
    RollbackPrepared(RollbackPrepared),
    /// `p`: a streamed transaction is prepared (v3+, `streaming` and `two_phase`).
    StreamPrepare(Prepare),
}

impl Message {
    /// The message's name, e.g. `"Insert"`.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Begin(_) => "Begin",
            Message::Commit(_) => "Commit",
            Message::Origin(_) => "Origin",
            Message::Relation(_) => "Relation",
            Message::Type(_) => "Type",
            Message::Insert(_) => "Insert",
            Message::Update(_) => "Update",
            Message::Delete(_) => "Delete",
            Message::Truncate(_) => "Truncate",
            Message::Message(_) => "Message",
            Message::StreamStart(_) => "Stream Start",
            Message::StreamStop => "Stream Stop",
            Message::StreamCommit(_) => "Stream Commit",
            Message::StreamAbort(_) => "Stream Abort",
            Message::BeginPrepare(_) => "Begin Prepare",
            Message::Prepare(_) => "Prepare",
            Message::CommitPrepared(_) => "Commit Prepared",
            Message::RollbackPrepared(_) => "Rollback Prepared",
            Message::StreamPrepare(_) => "Stream Prepare",
        }
    }
}

/// `B`: Begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Begin {
    /// The LSN of the transaction's commit record.
    pub final_lsn: Lsn,
    /// The commit time.
    pub commit_time: i64,
    /// The transaction ID.
    pub xid: u32,
}

/// `C`: Commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit {
    /// Flags (unused by the server so far: 0).
    pub flags: u8,
    /// The LSN of the commit record.
    pub commit_lsn: Lsn,
    /// The end of the commit record: the position to confirm once the transaction is applied.
    pub end_lsn: Lsn,
    /// The commit time.
    pub commit_time: i64,
}

/// `O`: Origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The commit LSN on the origin server.
    pub commit_lsn: Lsn,
    /// The replication origin's name.
    pub name: String,
}

/// A table's replica identity (`pg_class.relreplident`): which old values an Update or
/// Delete carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaIdentity {
    /// `d`: the primary key's columns.
    Default,
    /// `n`: nothing.
    Nothing,
    /// `f`: every column.
    Full,
    /// `i`: the columns of a chosen unique index.
    Index,
}

impl ReplicaIdentity {
    /// The identity for its `relreplident` character.
    pub fn from_tag(tag: u8) -> Option<ReplicaIdentity> {
        Some(match tag {
            b'd' => ReplicaIdentity::Default,
            b'n' => ReplicaIdentity::Nothing,
            b'f' => ReplicaIdentity::Full,
            b'i' => ReplicaIdentity::Index,
            _ => return None,
        })
    }
}

/// `R`: Relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// The relation's OID: what Insert, Update, Delete and Truncate refer to it by.
    pub id: u32,
    /// The schema (`pg_catalog` is sent as the empty string).
    pub namespace: String,
    /// The table's name.
    pub name: String,
    /// Its replica identity.
    pub replica_identity: ReplicaIdentity,
    /// The published columns, in order.
    pub columns: Vec<RelationColumn>,
}

/// One column of a [`Relation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    /// Flags: bit 1 marks a column of the replica identity key.
    pub flags: u8,
    /// The column's name.
    pub name: String,
    /// The OID of its type.
    pub type_oid: u32,
    /// Its type modifier (`atttypmod`; -1 for none).
    pub type_modifier: i32,
}

impl RelationColumn {
    /// Whether the column is part of the replica identity key.
    pub fn is_key(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// `Y`: Type, the name of a type that is not built in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataType {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// The type's OID.
    pub oid: u32,
    /// Its schema (`pg_catalog` is sent as the empty string).
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// `I`: Insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// The OID of the [`Relation`].
    pub relation_id: u32,
    /// The new row.
    pub new: TupleData,
}

/// Which old values an Update or Delete carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OldKind {
    /// `K`: the replica identity key's columns (the others are NULL).
    Key,
    /// `O`: the whole old row (REPLICA IDENTITY FULL).
    Full,
}

/// `U`: Update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// The OID of the [`Relation`].
    pub relation_id: u32,
    /// The old key or row: sent when the key changed (`Key`) or the identity is FULL (`Full`).
    pub old: Option<(OldKind, TupleData)>,
    /// The new row.
    pub new: TupleData,
}

/// `D`: Delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// The OID of the [`Relation`].
    pub relation_id: u32,
    /// Whether `old` holds the key only or the whole row.
    pub old_kind: OldKind,
    /// The deleted row's key or values.
    pub old: TupleData,
}

/// `T`: Truncate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncate {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// The option bits: 1 CASCADE, 2 RESTART IDENTITY.
    pub options: u8,
    /// The OIDs of the truncated relations.
    pub relation_ids: Vec<u32>,
}

impl Truncate {
    /// TRUNCATE ... CASCADE.
    pub fn cascade(&self) -> bool {
        self.options & 1 != 0
    }

    /// TRUNCATE ... RESTART IDENTITY.
    pub fn restart_identity(&self) -> bool {
        self.options & 2 != 0
    }
}

/// `M`: a logical decoding message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalMessage {
    /// The transaction ID, inside a streamed block.
    pub xid: Option<u32>,
    /// Flags: bit 1 marks a transactional message.
    pub flags: u8,
    /// The LSN of the message.
    pub lsn: Lsn,
    /// The prefix given to `pg_logical_emit_message`.
    pub prefix: String,
    /// The content (any bytes).
    pub content: Bytes,
}

impl LogicalMessage {
    /// Whether the message was emitted as part of its transaction (decoded at its commit)
    /// rather than at once.
    pub fn transactional(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// `S`: Stream Start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamStart {
    /// The streamed transaction's ID.
    pub xid: u32,
    /// Whether this is the transaction's first block.
    pub first_segment: bool,
}

/// `c`: Stream Commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCommit {
    /// The transaction ID.
    pub xid: u32,
    /// Flags (unused so far: 0).
    pub flags: u8,
    /// The LSN of the commit record.
    pub commit_lsn: Lsn,
    /// The end of the commit record.
    pub end_lsn: Lsn,
    /// The commit time.
    pub commit_time: i64,
}

/// `A`: Stream Abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAbort {
    /// The top-level transaction's ID.
    pub xid: u32,
    /// The aborted subtransaction's ID (the same as `xid` when the whole transaction aborts).
    pub subxid: u32,
    /// The abort's LSN: protocol version 4 with `streaming = parallel` only.
    pub abort_lsn: Option<Lsn>,
    /// The abort time: protocol version 4 with `streaming = parallel` only.
    pub abort_time: Option<i64>,
}

/// `b`: Begin Prepare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeginPrepare {
    /// The LSN of the prepare record.
    pub prepare_lsn: Lsn,
    /// The end of the prepared transaction.
    pub end_lsn: Lsn,
    /// The prepare time.
    pub prepare_time: i64,
    /// The transaction ID.
    pub xid: u32,
    /// The global transaction identifier given to PREPARE TRANSACTION.
    pub gid: String,
}

/// `P`: Prepare, and `p`: Stream Prepare (the same fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    /// Flags (unused so far: 0).
    pub flags: u8,
    /// The LSN of the prepare record.
    pub prepare_lsn: Lsn,
    /// The end of the prepared transaction.
    pub end_lsn: Lsn,
    /// The prepare time.
    pub prepare_time: i64,
    /// The transaction ID.
    pub xid: u32,
    /// The global transaction identifier.
    pub gid: String,
}

/// `K`: Commit Prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPrepared {
    /// Flags (unused so far: 0).
    pub flags: u8,
    /// The LSN of the commit record.
    pub commit_lsn: Lsn,
    /// The end of the commit record.
    pub end_lsn: Lsn,
    /// The commit time.
    pub commit_time: i64,
    /// The transaction ID.
    pub xid: u32,
    /// The global transaction identifier.
    pub gid: String,
}

/// `r`: Rollback Prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPrepared {
    /// Flags (unused so far: 0).
    pub flags: u8,
    /// The end of the prepared transaction.
    pub prepare_end_lsn: Lsn,
    /// The end of the rollback record.
    pub rollback_end_lsn: Lsn,
    /// The prepare time.
    pub prepare_time: i64,
    /// The rollback time.
    pub rollback_time: i64,
    /// The transaction ID.
    pub xid: u32,
    /// The global transaction identifier.
    pub gid: String,
}
