//! What the pool knows about a SQL text before a connection is chosen: its parameter types,
//! as a server described them.

use bytes::{Bytes, BytesMut};

use crate::client::query::{check_param_count, encode_detached_bind, Params};
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
#[derive(Debug)]
pub(super) struct Described {
    sql: Box<str>,
    params: Box<[Type]>,
}

impl Described {
    pub(super) fn new(sql: &str, params: &[Type]) -> Described {
        Described {
            sql: sql.into(),
            params: params.into(),
        }
    }

    /// The SQL text.
    pub(super) fn sql(&self) -> &str {
        &self.sql
    }

    /// The parameter types the server inferred or was told.
    pub(super) fn params(&self) -> &[Type] {
        &self.params
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
