//! Streaming replication: [`ReplicationClient`] opens a physical (`replication=true`) or
//! logical (`replication=database`) replication connection and runs the replication commands
//! (IDENTIFY_SYSTEM, CREATE / DROP / READ_REPLICATION_SLOT, TIMELINE_HISTORY, SQL on a
//! logical connection); START_REPLICATION gives a [`ReplicationStream`] of WAL or of an
//! output plugin's messages, which reports back only what the application
//! [confirmed](ReplicationStream::confirm) (at-least-once delivery), or a [`LogicalStream`]
//! of decoded `pgoutput` [`Change`]s.
//!
//! The changes a `pgoutput` stream carries are decoded into typed values by
//! [`LogicalDecoder`]. The wire format of the stream's messages (XLogData, keepalives, status
//! updates) and [`Lsn`] are in [`tusk::proto::replication`](crate::proto::replication), sans
//! IO.

mod change_tuple;
mod changes;
mod client;
mod commands;
mod logical;
mod options;
mod stream;

pub use crate::proto::replication::{Lsn, XLogData};
pub use change_tuple::*;
pub use changes::*;
pub use client::ReplicationClient;
pub use commands::{
    check_slot_name, CreatedSlot, LogicalOptions, PhysicalStart, SlotInfo, SlotOptions,
    SnapshotAction, SystemInfo, TimelineHistory,
};
pub use logical::LogicalStream;
pub use options::{PgOutputOptions, Streaming};
pub use stream::{ReplicationStream, StreamEnd, DEFAULT_IDLE_TIMEOUT, DEFAULT_STATUS_INTERVAL};
