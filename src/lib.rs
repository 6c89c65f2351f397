//! tusk: an async, pure-Rust PostgreSQL driver.
//!
//! tusk speaks the PostgreSQL frontend/backend protocol itself (no libpq) on tokio: 3.0, and
//! 3.2 (PostgreSQL 18) when `max_protocol_version` asks for it. The
//! protocol core in [`proto`] is sans-IO: it never touches a socket, so it can be tested with
//! byte literals and reused on its own.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// The derive macros' generated code names `::tusk::...`; this makes that path work inside tusk
// too (its own tests and doc tests).
extern crate self as tusk;

mod client;
pub mod config;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod pool;
pub mod proto;
pub mod replication {
    //! Streaming replication: replication connections and commands ([`ReplicationClient`]),
    //! physical and logical streams with at-least-once confirmation ([`ReplicationStream`],
    //! [`LogicalStream`]), and the changes of a `pgoutput` stream as typed values
    //! ([`LogicalDecoder`], [`Change`], [`ChangeTuple`]).
    pub use crate::client::replication::*;
}
mod sqlstate;
mod tls;
mod trace;
pub mod types;

pub use client::cancel::{CancelToken, StatementTimeoutGuard};
pub use client::connection::Connection;
pub use client::copy::{BinaryCopyIn, BinaryCopyOut, BinaryRow, CopyIn, CopyOut};
pub use client::cursor::Cursor;
pub use client::from_row::{FromRow, TypedRowStream};
pub use client::generic::GenericClient;
pub use client::notify::{Listener, ListenerEvent, Notifications, ReconnectPolicy};
pub use client::pipeline::{Pipeline, QueryResult};
pub use client::portal::Portal;
pub use client::query::{Params, ToStatement};
pub use client::row::{Row, RowIndex};
pub use client::server_cursor::{ServerCursor, ServerCursorStream, DEFAULT_ITERSIZE};
pub use client::simple::{SimpleColumnIndex, SimpleQueryMessage, SimpleRow};
pub use client::statement::{Column, Statement};
pub use client::stream::{RowStream, DEFAULT_BATCH_ROWS};
pub use client::transaction::{IsolationLevel, Transaction, TransactionBuilder};
pub use config::{
    Config, GssEncMode, Host, LoadBalanceHosts, NoticeHandler, Replication, RootCert, SslCertMode,
    SslMode, SslNegotiation, SslProtocolVersion, TargetSessionAttrs,
};
pub use error::{BoxError, Conversion, ConvertedValue, DbError, Error, Kind};
pub use pool::{
    BoxFuture, Pool, PoolBuilder, PoolClosedCounts, PoolStatus, PooledConnection,
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_HEALTH_CHECK_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BATCH,
    DEFAULT_MAX_LIFETIME, DEFAULT_POOL_SIZE,
};
pub use proto::backend::{Notification, TransactionStatus};
pub use proto::ProtocolVersion;
pub use sqlstate::SqlState;
/// Derives [`FromRow`](trait@FromRow) for a struct: see `docs/derive.md`.
#[cfg(feature = "derive")]
pub use tusk_derive::FromRow;
/// Derives [`FromSql`](types::FromSql) for an enum (a PostgreSQL enum), a struct (a composite
/// type) or a newtype (a domain, or transparent): see `docs/derive.md`.
#[cfg(feature = "derive")]
pub use tusk_derive::FromSql;
/// Derives [`ToSql`](types::ToSql) for an enum (a PostgreSQL enum), a struct (a composite
/// type) or a newtype (a domain, or transparent): see `docs/derive.md`.
#[cfg(feature = "derive")]
pub use tusk_derive::ToSql;

/// The README's Rust examples, run as doc tests (against the test server, like every example that
/// connects) so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The derive guide's examples, compiled as doc tests.
#[cfg(all(doctest, feature = "derive"))]
#[doc = include_str!("../docs/derive.md")]
pub struct DeriveGuideDoctests;

/// The derives used inside tusk itself, where `::tusk` is `extern crate self as tusk`.
#[cfg(all(test, feature = "derive"))]
mod derive_inside_tusk {
    use crate::types::{decode, FromSql, ToSql, Type};

    #[derive(Debug, PartialEq, crate::ToSql, crate::FromSql)]
    #[tusk(transparent)]
    struct Id(i32);

    #[derive(Debug, crate::ToSql, crate::FromSql)]
    #[tusk(rename_all = "kebab-case")]
    enum Colour {
        DarkRed,
    }

    #[derive(Debug, crate::FromRow)]
    #[allow(dead_code)]
    struct Pair {
        id: Id,
        #[tusk(default)]
        colour: Option<Colour>,
    }

    #[test]
    fn derives_expand_inside_tusk() {
        assert!(<Id as ToSql>::accepts(&Type::INT4));
        assert_eq!(
            decode::<Id>(&Type::INT4, Some(&[0, 0, 0, 9])).unwrap(),
            Id(9)
        );
        let mut out = bytes::BytesMut::new();
        Colour::DarkRed.to_sql(&Type::TEXT, &mut out).unwrap();
        assert_eq!(&out[..], b"dark-red");
        assert!(!<Colour as FromSql>::accepts(&Type::TEXT));
        fn from_row<T: crate::FromRow>() {}
        from_row::<Pair>();
    }
}
