//! tusk: an async, pure-Rust PostgreSQL driver.
//!
//! tusk speaks the PostgreSQL frontend/backend protocol 3.0 itself (no libpq) on tokio. The
//! protocol core in [`proto`] is sans-IO: it never touches a socket, so it can be tested with
//! byte literals and reused on its own.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
mod error;
pub mod proto;
mod sqlstate;
pub mod types;

pub use error::{BoxError, DbError, Error, Kind};
pub use sqlstate::SqlState;
