//! Streaming replication, sans IO: the [`Lsn`] type, the messages a replication stream carries
//! in CopyData after START_REPLICATION ([`ReplicationMessage`] from the server; the
//! [`standby_status_update`] and [`hot_standby_feedback`] the client answers with), and the
//! decoding of the `pgoutput` logical decoding plugin's messages ([`pgoutput`]).

mod lsn;
pub mod pgoutput;
mod stream;

pub use lsn::{Lsn, ParseLsnError};
pub use stream::{
    hot_standby_feedback, standby_status_update, HotStandbyFeedback, PrimaryKeepalive,
    ReplicationMessage, StandbyStatus, XLogData, PG_EPOCH_UNIX_MICROS,
};
