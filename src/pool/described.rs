//! What the pool knows about a SQL text before a connection is chosen: its parameter types
//! and result formats, as a server described them.

use bytes::{Bytes, BytesMut};

use crate::client::query::{check_param_count, encode_detached_bind, Params};
use crate::client::statement::Column;
use crate::error::Error;
use crate::proto::frontend;
use crate::types::Type;

/// The pool's description of one SQL text: the text and its parameter types, which callers
/// encode their parameters against in their own task.
///
/// Unlike a [`Statement`](crate::Statement) it belongs to no connection and names no
/// server-side statement: the runner that sends a job looks up (or prepares) the statement on
/// its own connection, and reads the rows with that statement's columns. It checks there that
/// the parameter types still match these.
///
/// With the statement cache off there is no statement on the connection: the runner sends the
/// SQL text with these parameter types and result formats in each job's own Sync group.
#[derive(Debug)]
pub(super) struct Described {
    sql: Box<str>,
    params: Box<[Type]>,
    /// `params` as OIDs, for the Parse of an unnamed job.
    param_oids: Box<[u32]>,
    /// One format code per result column, each the one tusk decodes that column's type in
    /// (binary where it has a binary codec, as [`Column::format`] chose): for the Bind of an
    /// unnamed job, which is written before the server describes the portal. One code per
    /// column rather than one for all (as a `Statement` sends when they agree), so a query
    /// whose column count changed since (a table altered under `SELECT *`) is refused at Bind,
    /// before it runs, instead of sending its new columns in a format chosen for others.
    result_formats: Box<[i16]>,
}

impl Described {
    /// The description of `sql`: its parameter types and its result columns, as a server
    /// described them.
    pub(super) fn new(sql: &str, params: &[Type], columns: &[Column]) -> Described {
        Described {
            sql: sql.into(),
            params: params.into(),
            param_oids: params.iter().map(Type::oid).collect(),
            result_formats: columns.iter().map(|c| c.format() as i16).collect(),
        }
    }

    /// Whether a parameter's catalog type changed since (see `client/type_cache.rs`).
    pub(super) fn has_stale_types(&self) -> bool {
        self.params.iter().any(Type::is_stale)
    }

    /// The SQL text.
    pub(super) fn sql(&self) -> &str {
        &self.sql
    }

    /// The parameter types the server inferred or was told.
    pub(super) fn params(&self) -> &[Type] {
        &self.params
    }

    /// The parameter types as OIDs.
    pub(super) fn param_oids(&self) -> &[u32] {
        &self.param_oids
    }

    /// The Bind result format codes, one per result column.
    pub(super) fn result_formats(&self) -> &[i16] {
        &self.result_formats
    }

    /// The Bind parameter section (formats, count, values) for `params`, see
    /// [`frontend::bind_parameter_section`]: checked against the parameter types here, so a
    /// wrong count or value fails in the caller's task before anything is queued.
    pub(super) fn encode(&self, params: Params<'_>) -> Result<Bytes, Error> {
        check_param_count(&self.params, params)?;
        let mut bind = BytesMut::new();
        encode_detached_bind(&self.params, params, &mut bind)?;
        let section = frontend::bind_parameter_section(&bind)?;
        Ok(bind.freeze().slice(section))
    }
}
