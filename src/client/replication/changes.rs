//! [`LogicalDecoder`]: the `pgoutput` messages of a logical replication stream turned into
//! [`Change`]s, with the relations they refer to and typed rows ([`ChangeTuple`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::Error;
use crate::proto::replication::pgoutput::{self, Decoder, Message, OldKind, TupleData};
use crate::proto::replication::Lsn;
use crate::proto::ProtoError;
use crate::types::Type;

use super::ChangeTuple;

pub use crate::proto::replication::pgoutput::{ColumnKind, ReplicaIdentity};

/// One change of a logical replication stream, in the order the server sends them.
///
/// Times are the server's, in microseconds since 2000-01-01 00:00:00 UTC
/// ([`PG_EPOCH_UNIX_MICROS`](crate::proto::replication::PG_EPOCH_UNIX_MICROS) converts).
/// `xid` fields are `Some` inside a streamed block (between `StreamStart` and `StreamStop`,
/// the stream option `streaming`), where changes of in-progress transactions arrive before
/// their commit, each with its (sub)transaction's ID.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Change {
    /// A transaction starts.
    Begin {
        /// The LSN of its commit record.
        final_lsn: Lsn,
        /// Its commit time.
        commit_time: i64,
        /// Its transaction ID.
        xid: u32,
    },
    /// The transaction commits.
    Commit {
        /// The LSN of the commit record.
        commit_lsn: Lsn,
        /// The end of the commit record: the position to confirm once it is applied.
        end_lsn: Lsn,
        /// The commit time.
        commit_time: i64,
    },
    /// The transaction came from another server through replication origin `name`.
    Origin {
        /// The commit LSN on the origin.
        commit_lsn: Lsn,
        /// The origin's name.
        name: String,
    },
    /// A table's description, new or changed (the later changes of the table use it).
    Relation(Arc<Relation>),
    /// The name of a type that is not built in, used by a relation's column.
    Type {
        /// The type's OID.
        oid: u32,
        /// Its schema.
        schema: String,
        /// Its name.
        name: String,
    },
    /// A row inserted.
    Insert {
        /// The table.
        relation: Arc<Relation>,
        /// The new row.
        new: ChangeTuple,
        /// The (sub)transaction, inside a streamed block.
        xid: Option<u32>,
    },
    /// A row updated.
    Update {
        /// The table.
        relation: Arc<Relation>,
        /// The old values: the key when it changed (`old_is_key_only`), or the whole row with
        /// REPLICA IDENTITY FULL; `None` otherwise.
        old: Option<ChangeTuple>,
        /// Whether `old` holds the key's columns only (the others are NULL).
        old_is_key_only: bool,
        /// The new row (unchanged TOAST values are not sent).
        new: ChangeTuple,
        /// The (sub)transaction, inside a streamed block.
        xid: Option<u32>,
    },
    /// A row deleted.
    Delete {
        /// The table.
        relation: Arc<Relation>,
        /// The key (`key_only`), or the whole row with REPLICA IDENTITY FULL.
        old: ChangeTuple,
        /// Whether `old` holds the key's columns only (the others are NULL).
        key_only: bool,
        /// The (sub)transaction, inside a streamed block.
        xid: Option<u32>,
    },
    /// Tables truncated.
    Truncate {
        /// The tables.
        relations: Vec<Arc<Relation>>,
        /// TRUNCATE ... CASCADE.
        cascade: bool,
        /// TRUNCATE ... RESTART IDENTITY.
        restart_identity: bool,
        /// The (sub)transaction, inside a streamed block.
        xid: Option<u32>,
    },
    /// A logical decoding message (`pg_logical_emit_message`; the stream option `messages`).
    Message {
        /// Emitted as part of its transaction (decoded at commit) rather than at once.
        transactional: bool,
        /// The message's LSN.
        lsn: Lsn,
        /// The prefix.
        prefix: String,
        /// The content.
        content: Bytes,
        /// The (sub)transaction, inside a streamed block.
        xid: Option<u32>,
    },
    /// A block of an in-progress transaction's changes starts.
    StreamStart {
        /// The transaction.
        xid: u32,
        /// Whether this is its first block.
        first_segment: bool,
    },
    /// The block ends.
    StreamStop,
    /// A streamed transaction commits.
    StreamCommit {
        /// The transaction.
        xid: u32,
        /// The LSN of the commit record.
        commit_lsn: Lsn,
        /// The end of the commit record.
        end_lsn: Lsn,
        /// The commit time.
        commit_time: i64,
    },
    /// A streamed transaction (`subxid == xid`) or one of its subtransactions aborts: forget
    /// its changes.
    StreamAbort {
        /// The top-level transaction.
        xid: u32,
        /// The aborted (sub)transaction.
        subxid: u32,
        /// The abort's LSN (protocol version 4, `streaming 'parallel'`).
        abort_lsn: Option<Lsn>,
        /// The abort time (protocol version 4, `streaming 'parallel'`).
        abort_time: Option<i64>,
    },
    /// A transaction being prepared for two-phase commit starts.
    BeginPrepare(PrepareInfo),
    /// The transaction is prepared.
    Prepare(PrepareInfo),
    /// A streamed transaction is prepared.
    StreamPrepare(PrepareInfo),
    /// A prepared transaction commits.
    CommitPrepared {
        /// The LSN of the commit record.
        commit_lsn: Lsn,
        /// The end of the commit record.
        end_lsn: Lsn,
        /// The commit time.
        commit_time: i64,
        /// The transaction.
        xid: u32,
        /// Its global identifier.
        gid: String,
    },
    /// A prepared transaction is rolled back.
    RollbackPrepared {
        /// The end of the prepared transaction.
        prepare_end_lsn: Lsn,
        /// The end of the rollback record.
        rollback_end_lsn: Lsn,
        /// The prepare time.
        prepare_time: i64,
        /// The rollback time.
        rollback_time: i64,
        /// The transaction.
        xid: u32,
        /// Its global identifier.
        gid: String,
    },
}

/// What Begin Prepare, Prepare and Stream Prepare say about a prepared transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareInfo {
    /// The LSN of the prepare record.
    pub prepare_lsn: Lsn,
    /// The end of the prepared transaction.
    pub end_lsn: Lsn,
    /// The prepare time.
    pub prepare_time: i64,
    /// The transaction.
    pub xid: u32,
    /// The global identifier given to PREPARE TRANSACTION.
    pub gid: String,
}

/// A published table as the last Relation message described it, shared (`Arc`) by the changes
/// that refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    id: u32,
    schema: String,
    name: String,
    replica_identity: ReplicaIdentity,
    columns: Vec<RelationColumn>,
}

impl Relation {
    /// The table's OID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Its schema (`pg_catalog` arrives as the empty string).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `schema.name`, quoted where needed the way the server's `quote_ident` does.
    pub fn qualified_name(&self) -> String {
        if self.schema.is_empty() {
            quote(&self.name)
        } else {
            format!("{}.{}", quote(&self.schema), quote(&self.name))
        }
    }

    /// Its replica identity: which old values Updates and Deletes carry.
    pub fn replica_identity(&self) -> ReplicaIdentity {
        self.replica_identity
    }

    /// The published columns, in order.
    pub fn columns(&self) -> &[RelationColumn] {
        &self.columns
    }

    /// The column named `name`, with its position.
    pub fn column(&self, name: &str) -> Option<(usize, &RelationColumn)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }
}

/// A name as `quote_ident` would print it: bare if lower-case letters, digits and `_`.
fn quote(name: &str) -> String {
    let bare = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// One column of a [`Relation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    name: String,
    type_: Type,
    type_modifier: i32,
    key: bool,
}

impl RelationColumn {
    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its type: built in, named by a Type message, or given to
    /// [`LogicalDecoder::set_type`].
    pub fn type_(&self) -> &Type {
        &self.type_
    }

    /// Its type modifier (`atttypmod`: -1 for none).
    pub fn type_modifier(&self) -> i32 {
        self.type_modifier
    }

    /// Whether it is part of the replica identity key.
    pub fn is_key(&self) -> bool {
        self.key
    }
}

/// Turns the messages of a `pgoutput` logical replication stream into [`Change`]s: the sans-IO
/// [`pgoutput::Decoder`] plus the relations and type names the stream described.
///
/// Feed it each XLogData's payload in order, from the start of the session (the server sends
/// a table's Relation message before its first change in each session).
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::replication::Lsn;
/// use tusk::replication::{Change, LogicalDecoder};
///
/// let mut decoder = LogicalDecoder::new(1)?;
/// let begin = b"B\0\0\0\0\x01\xbf\x8a\xd8\0\x03\x04\xc5\x62\xbc\x7d\xb3\0\0\x03\x3a";
/// match decoder.decode(Lsn(0x1_bf8a_d8), Bytes::from_static(begin))? {
///     Change::Begin { final_lsn, xid, .. } => {
///         assert_eq!(final_lsn.to_string(), "0/1BF8AD8");
///         assert_eq!(xid, 826);
///     }
///     other => panic!("{other:?}"),
/// }
/// // An Insert into a relation the stream never described.
/// let insert = b"I\0\0\x40\x71N\0\x01n";
/// let err = decoder.decode(Lsn(0), Bytes::from_static(insert)).unwrap_err();
/// assert!(err.to_string().contains("relation 16497"), "{err}");
/// # Ok::<(), tusk::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LogicalDecoder {
    decoder: Decoder,
    relations: HashMap<u32, Arc<Relation>>,
    /// Types given by the caller or named by Type messages, by OID.
    types: HashMap<u32, Type>,
    /// The OIDs whose type the caller gave: a Type message does not replace them.
    given: HashMap<u32, ()>,
}

impl LogicalDecoder {
    /// A decoder for a stream started with `proto_version` `protocol_version` (1 to 4).
    pub fn new(protocol_version: u32) -> Result<LogicalDecoder, Error> {
        Ok(LogicalDecoder {
            decoder: Decoder::new(protocol_version)?,
            relations: HashMap::new(),
            types: HashMap::new(),
            given: HashMap::new(),
        })
    }

    /// The pgoutput protocol version.
    pub fn protocol_version(&self) -> u32 {
        self.decoder.version()
    }

    /// The transaction whose streamed block is open (after `StreamStart`, before `StreamStop`).
    pub fn streaming(&self) -> Option<u32> {
        self.decoder.streaming()
    }

    /// The relation with OID `id`, as last described.
    pub fn relation(&self, id: u32) -> Option<&Arc<Relation>> {
        self.relations.get(&id)
    }

    /// Uses `ty` for the columns of its OID in the Relation messages decoded from now on: a
    /// type described by the catalog (an enum, a composite, a domain, an extension type) read
    /// through a connection, so that its values decode as in a query. Without it a type that is
    /// not built in has only the name a Type message gave it.
    pub fn set_type(&mut self, ty: Type) {
        self.given.insert(ty.oid(), ());
        self.types.insert(ty.oid(), ty);
    }

    /// Decodes one XLogData payload (`data`), which started at `wal_start` (named in errors).
    pub fn decode(&mut self, wal_start: Lsn, data: Bytes) -> Result<Change, Error> {
        let message = self.decoder.decode(data).map_err(|e| at(wal_start, e))?;
        Ok(match message {
            Message::Begin(b) => Change::Begin {
                final_lsn: b.final_lsn,
                commit_time: b.commit_time,
                xid: b.xid,
            },
            Message::Commit(c) => Change::Commit {
                commit_lsn: c.commit_lsn,
                end_lsn: c.end_lsn,
                commit_time: c.commit_time,
            },
            Message::Origin(o) => Change::Origin {
                commit_lsn: o.commit_lsn,
                name: o.name,
            },
            Message::Relation(r) => {
                let relation = Arc::new(self.relation_of(r));
                self.relations.insert(relation.id, relation.clone());
                Change::Relation(relation)
            }
            Message::Type(t) => {
                if !self.given.contains_key(&t.oid) {
                    self.types.insert(t.oid, Type::other(t.oid, &t.name));
                }
                Change::Type {
                    oid: t.oid,
                    schema: t.namespace,
                    name: t.name,
                }
            }
            Message::Insert(i) => {
                let relation = self.known(wal_start, "Insert", i.relation_id)?;
                Change::Insert {
                    new: tuple(wal_start, "Insert", &relation, i.new)?,
                    relation,
                    xid: i.xid,
                }
            }
            Message::Update(u) => {
                let relation = self.known(wal_start, "Update", u.relation_id)?;
                let (old, old_is_key_only) = match u.old {
                    Some((kind, old)) => (
                        Some(tuple(wal_start, "Update", &relation, old)?),
                        kind == OldKind::Key,
                    ),
                    None => (None, false),
                };
                Change::Update {
                    old,
                    old_is_key_only,
                    new: tuple(wal_start, "Update", &relation, u.new)?,
                    relation,
                    xid: u.xid,
                }
            }
            Message::Delete(d) => {
                let relation = self.known(wal_start, "Delete", d.relation_id)?;
                Change::Delete {
                    old: tuple(wal_start, "Delete", &relation, d.old)?,
                    key_only: d.old_kind == OldKind::Key,
                    relation,
                    xid: d.xid,
                }
            }
            Message::Truncate(t) => Change::Truncate {
                relations: t
                    .relation_ids
                    .iter()
                    .map(|&id| self.known(wal_start, "Truncate", id))
                    .collect::<Result<_, _>>()?,
                cascade: t.cascade(),
                restart_identity: t.restart_identity(),
                xid: t.xid,
            },
            Message::Message(m) => Change::Message {
                transactional: m.transactional(),
                lsn: m.lsn,
                prefix: m.prefix,
                content: m.content,
                xid: m.xid,
            },
            Message::StreamStart(s) => Change::StreamStart {
                xid: s.xid,
                first_segment: s.first_segment,
            },
            Message::StreamStop => Change::StreamStop,
            Message::StreamCommit(c) => Change::StreamCommit {
                xid: c.xid,
                commit_lsn: c.commit_lsn,
                end_lsn: c.end_lsn,
                commit_time: c.commit_time,
            },
            Message::StreamAbort(a) => Change::StreamAbort {
                xid: a.xid,
                subxid: a.subxid,
                abort_lsn: a.abort_lsn,
                abort_time: a.abort_time,
            },
            Message::BeginPrepare(b) => Change::BeginPrepare(PrepareInfo {
                prepare_lsn: b.prepare_lsn,
                end_lsn: b.end_lsn,
                prepare_time: b.prepare_time,
                xid: b.xid,
                gid: b.gid,
            }),
            Message::Prepare(p) => Change::Prepare(prepare_info(p)),
            Message::StreamPrepare(p) => Change::StreamPrepare(prepare_info(p)),
            Message::CommitPrepared(c) => Change::CommitPrepared {
                commit_lsn: c.commit_lsn,
                end_lsn: c.end_lsn,
                commit_time: c.commit_time,
                xid: c.xid,
                gid: c.gid,
            },
            Message::RollbackPrepared(r) => Change::RollbackPrepared {
                prepare_end_lsn: r.prepare_end_lsn,
                rollback_end_lsn: r.rollback_end_lsn,
                prepare_time: r.prepare_time,
                rollback_time: r.rollback_time,
                xid: r.xid,
                gid: r.gid,
            },
        })
    }

    fn relation_of(&self, r: pgoutput::Relation) -> Relation {
        let columns = r
            .columns
            .into_iter()
            .map(|c| RelationColumn {
                key: c.is_key(),
                type_: self
                    .types
                    .get(&c.type_oid)
                    .cloned()
                    .unwrap_or_else(|| Type::from_oid(c.type_oid)),
                type_modifier: c.type_modifier,
                name: c.name,
            })
            .collect();
        Relation {
            id: r.id,
            schema: r.namespace,
            name: r.name,
            replica_identity: r.replica_identity,
            columns,
        }
    }

    /// The relation `id` a change refers to, or an error naming it.
    fn known(
        &self,
        wal_start: Lsn,
        message: &'static str,
        id: u32,
    ) -> Result<Arc<Relation>, Error> {
        self.relations.get(&id).cloned().ok_or_else(|| {
            at(
                wal_start,
                ProtoError::malformed(
                    pgoutput_name(message),
                    format!(
                        "relation {id} was not described by a Relation message earlier in the \
                         stream"
                    ),
                ),
            )
        })
    }
}

fn prepare_info(p: pgoutput::Prepare) -> PrepareInfo {
    PrepareInfo {
        prepare_lsn: p.prepare_lsn,
        end_lsn: p.end_lsn,
        prepare_time: p.prepare_time,
        xid: p.xid,
        gid: p.gid,
    }
}

/// A row of `relation`, which must have one value per column.
fn tuple(
    wal_start: Lsn,
    message: &'static str,
    relation: &Arc<Relation>,
    data: TupleData,
) -> Result<ChangeTuple, Error> {
    if data.len() != relation.columns.len() {
        return Err(at(
            wal_start,
            ProtoError::malformed(
                pgoutput_name(message),
                format!(
                    "{} values for the {} columns of relation {} ({})",
                    data.len(),
                    relation.columns.len(),
                    relation.id,
                    relation.qualified_name()
                ),
            ),
        ));
    }
    Ok(ChangeTuple::new(relation.clone(), data))
}

fn pgoutput_name(message: &'static str) -> &'static str {
    match message {
        "Insert" => "pgoutput Insert",
        "Update" => "pgoutput Update",
        "Delete" => "pgoutput Delete",
        _ => "pgoutput Truncate",
    }
}

/// A protocol error, with the WAL position of the message it is about.
fn at(wal_start: Lsn, err: ProtoError) -> Error {
    Error::protocol(err).with_message(format!("in the replication message at {wal_start}"))
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.qualified_name())
    }
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "changes_types_tests.rs"]
mod types_tests;
