//! The client side over a byte stream: [`Connection`](connection::Connection) and every
//! operation on it (queries, statements, rows, cursors, transactions, pipelines, streams,
//! portals, server cursors, COPY, LISTEN/NOTIFY, cancel).
//!
//! This layer moves bytes and hands results to the caller; what may follow what on the wire is
//! decided by the sans-IO exchanges in `crate::proto`.

pub(crate) mod cancel;
pub(crate) mod connection;
pub(crate) mod copy;
pub(crate) mod cursor;
pub(crate) mod generic;
pub(crate) mod named;
pub(crate) mod notify;
pub(crate) mod pipeline;
pub(crate) mod portal;
pub(crate) mod query;
pub(crate) mod row;
pub(crate) mod row_ranges;
pub(crate) mod server_cursor;
pub(crate) mod simple;
pub(crate) mod statement;
pub(crate) mod statement_cache;
pub(crate) mod stream;
pub(crate) mod transaction;
pub(crate) mod transport;
