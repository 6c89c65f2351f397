//! The sans-IO protocol core: PostgreSQL frontend/backend protocol 3.0 and 3.2 as pure functions
//! and state machines over byte buffers ([`ProtocolVersion`], [`VersionBounds`]).
//!
//! Nothing in this module performs IO, reads a clock or draws random numbers: every input is
//! passed in (bytes read from the socket, the SCRAM nonce) and every output is bytes to write or
//! a decoded value. That keeps every transition testable with byte literals, and lets a
//! conformance harness or a proxy use the codec on its own.
//!
//! - [`framing`] splits complete messages off a read buffer, bounds-checking each length.
//! - [`frontend`] encodes every message a client sends.
//! - [`backend`] decodes every message a server sends, zero-copy over [`bytes::Bytes`].
//! - [`auth`] holds the password, MD5 and SCRAM-SHA-256 exchanges.
//! - [`session`] is the connection state machine: startup, transaction status, responses owed.
//! - [`replication`] is streaming replication: WAL positions, the CopyBoth messages, and the
//!   decoding of `pgoutput`'s logical replication messages.
//! - [`server`] is the other side, for fake servers, proxies and conformance tools: it decodes
//!   the startup packet and every frontend message, and encodes every backend message.

pub mod auth;
pub mod backend;
mod encode;
mod error;
pub mod exchange;
pub mod framing;
pub mod frontend;
pub mod replication;
pub mod server;
pub mod session;
mod version;

pub use error::ProtoError;
pub use version::{ProtocolVersion, VersionBounds};

/// Protocol 3.0's code, `(major << 16) | minor`: what a StartupMessage asks for unless the
/// configuration raises it (`max_protocol_version`; see [`ProtocolVersion`]).
pub const PROTOCOL_VERSION: i32 = 196_608;

/// The longest message the server accepts from a client, as its length field counts it (itself
/// included): PostgreSQL's `PQ_LARGE_MESSAGE_LIMIT`, 1 GiB less 2 bytes. A longer one makes the
/// server end the session ("invalid message length"), so the encoders refuse it first.
pub const MAX_FRONTEND_MESSAGE_LEN: usize = 0x3fff_fffe;

/// The default upper bound on a backend message's length (1 GiB), the same limit the server
/// applies to a single field value.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 1 << 30;

/// Whether an encoded value was SQL NULL. An encoder that returns [`IsNull::Yes`] must write
/// nothing; the message then carries length -1 for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsNull {
    /// The value is NULL.
    Yes,
    /// The value was written.
    No,
}
