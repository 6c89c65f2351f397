//! tusk: an async, pure-Rust PostgreSQL driver.
//!
//! tusk speaks the PostgreSQL frontend/backend protocol 3.0 itself (no libpq) on tokio. The
//! protocol core in [`proto`] is sans-IO: it never touches a socket, so it can be tested with
//! byte literals and reused on its own.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod cancel;
pub mod config;
mod connection;
mod copy;
mod cursor;
mod error;
mod named;
mod notify;
mod pipeline;
mod pool;
mod portal;
pub mod proto;
mod query;
mod row;
mod row_ranges;
mod server_cursor;
mod simple;
mod socket;
mod sqlstate;
mod statement;
mod stream;
mod transaction;
pub mod types;

pub use cancel::{CancelToken, StatementTimeoutGuard};
pub use config::{Config, Host, NoticeHandler, SslMode};
pub use connection::Connection;
pub use copy::{BinaryCopyIn, BinaryCopyOut, BinaryRow, CopyIn, CopyOut};
pub use cursor::Cursor;
pub use error::{BoxError, DbError, Error, Kind};
pub use notify::{Listener, ListenerEvent, Notifications, ReconnectPolicy};
pub use pipeline::{Pipeline, QueryResult};
pub use pool::{
    Pool, PoolBuilder, PoolStatus, PooledConnection, DEFAULT_MAX_BATCH, DEFAULT_POOL_SIZE,
};
pub use portal::Portal;
pub use proto::backend::{Notification, TransactionStatus};
pub use query::{Params, ToStatement};
pub use row::{Row, RowIndex};
pub use server_cursor::{ServerCursor, ServerCursorStream, DEFAULT_ITERSIZE};
pub use simple::{SimpleColumnIndex, SimpleQueryMessage, SimpleRow};
pub use sqlstate::SqlState;
pub use statement::{Column, Statement};
pub use stream::{RowStream, DEFAULT_BATCH_ROWS};
pub use transaction::{IsolationLevel, Transaction, TransactionBuilder};

/// The README's Rust examples, run as doc tests (against the test server, like every example that
/// connects) so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
