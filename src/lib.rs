//! tusk: an async, pure-Rust PostgreSQL driver.
//!
//! tusk speaks the PostgreSQL frontend/backend protocol 3.0 itself (no libpq) on tokio. The
//! protocol core in [`proto`] is sans-IO: it never touches a socket, so it can be tested with
//! byte literals and reused on its own.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
mod connection;
mod error;
pub mod proto;
mod simple;
mod socket;
mod sqlstate;
pub mod types;

pub use config::Config;
pub use connection::Connection;
pub use error::{BoxError, DbError, Error, Kind};
pub use proto::backend::{Notification, TransactionStatus};
pub use simple::{SimpleColumnIndex, SimpleQueryMessage, SimpleRow};
pub use sqlstate::SqlState;
