//! Prepared statements: the server's description of a statement's parameters and result
//! columns, and the names of statements whose last handle is gone (closed on the server with
//! the connection's next request).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::client::type_cache::TypeCache;
use crate::proto::backend::RowDescription;
use crate::proto::ProtoError;
use crate::types::{Format, Type};

/// A result column: its name, type and, when it comes straight from a table, where from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    name: String,
    type_: Type,
    table_oid: Option<u32>,
    column_id: Option<i16>,
    format: Format,
}

impl Column {
    /// The column's name (its alias in the query, if it has one).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's SQL type.
    pub fn type_(&self) -> &Type {
        &self.type_
    }

    /// The OID of the table the column comes from, if it is a plain table column.
    pub fn table_oid(&self) -> Option<u32> {
        self.table_oid
    }

    /// The column's attribute number in that table, if it is a plain table column.
    pub fn column_id(&self) -> Option<i16> {
        self.column_id
    }

    /// The format tusk asks the server to send this column in: binary where tusk has a binary
    /// codec for the type, text otherwise.
    pub fn format(&self) -> Format {
        self.format
    }
}

/// Builds the columns of a RowDescription, choosing each one's result format.
pub(crate) fn columns_from(
    desc: &RowDescription,
    types: &TypeCache,
) -> Result<Vec<Column>, ProtoError> {
    desc.fields()
        .map(|field| {
            let field = field?;
            let type_ = types.type_of(field.type_oid);
            let format = format_for(&type_);
            Ok(Column {
                name: field.name.to_owned(),
                type_,
                table_oid: (field.table_oid != 0).then_some(field.table_oid),
                column_id: (field.column_id != 0).then_some(field.column_id),
                format,
            })
        })
        .collect()
}

fn format_for(ty: &Type) -> Format {
    if ty.binary_supported() {
        Format::Binary
    } else {
        Format::Text
    }
}

/// The types of `params` and `columns` again from `types`, after a catalog lookup filled it.
pub(crate) fn retype(params: &mut [Type], columns: &mut [Column], types: &TypeCache) {
    for param in params {
        *param = types.type_of(param.oid());
    }
    for column in columns {
        column.type_ = types.type_of(column.type_.oid());
        column.format = format_for(&column.type_);
    }
}

/// Names of server-side statements whose last [`Statement`] handle was dropped, waiting to be
/// closed with the connection's next request.
pub(crate) type CloseQueue = Arc<Mutex<Vec<ServerObject>>>;

/// A named object on the server that is closed (with a Close message) once its last handle is
/// dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerObject {
    /// A prepared statement.
    Statement(String),
    /// A portal (a bound statement).
    Portal(String),
}

/// Closes a named statement whose Parse is written, unless it is disarmed: once a [`Statement`]
/// holds the name (and closes it when dropped), or once the server refused the Parse. Without
/// it, a future dropped between the Parse and the description would leave the statement on
/// the server with no handle to close it.
pub(crate) struct PendingClose {
    queue: CloseQueue,
    name: Option<String>,
}

impl PendingClose {
    /// Arms the guard for statement `name` (none for the unnamed statement, which the next
    /// Parse replaces).
    pub(crate) fn new(queue: &CloseQueue, name: &str) -> PendingClose {
        PendingClose {
            queue: queue.clone(),
            name: (!name.is_empty()).then(|| name.to_owned()),
        }
    }

    /// The statement is accounted for: nothing to close.
    pub(crate) fn disarm(mut self) {
        self.name = None;
    }
}

impl Drop for PendingClose {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            // A poisoned lock only means another thread panicked while pushing a name; the
            // list itself is still a valid Vec.
            let mut names = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            names.push(ServerObject::Statement(name));
        }
    }
}

/// A prepared statement: its parameter types and result columns, as the server described
/// them.
///
/// Cloning is cheap. A statement belongs to the connection that prepared it; when the last
/// clone is dropped (and the statement cache no longer holds it), the server-side statement is
/// closed with that connection's next request.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// let stmt = conn.prepare("SELECT $1::int8 + 1 AS next").await?;
/// assert_eq!(stmt.params(), &[tusk::types::Type::INT8]);
/// assert_eq!(stmt.columns()[0].name(), "next");
/// let row = conn.query_one(&stmt, &[&41i64]).await?;
/// assert_eq!(row.get::<_, i64>(0), 42);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Statement(Arc<StatementInner>);

/// Result columns shared by a statement and every row read with it. A thin pointer (an `Arc`
/// of a `Vec`, not of a slice): every [`Row`](crate::Row) holds one, and a large result is
/// millions of rows.
pub(crate) type SharedColumns = Arc<Vec<Column>>;

#[derive(Debug)]
struct StatementInner {
    connection_id: u64,
    name: String,
    sql: Box<str>,
    params: Vec<Type>,
    columns: SharedColumns,
    /// The Bind result-format codes: one code for all columns when they agree.
    result_formats: Vec<i16>,
    /// Where to queue the name for closing when the last handle goes; `None` for the unnamed
    /// statement, which the server replaces by itself.
    close_queue: Option<CloseQueue>,
    /// Whether a parameter or column has a type read from the catalog (which may go stale).
    has_catalog_types: bool,
    /// The count of stale marks (`types::custom::stale_marks`) at which none of the
    /// statement's catalog types was stale: until it changes there is nothing to look at, so
    /// each use costs one load after a DDL change somewhere, not a walk of the types.
    fresh_at_marks: AtomicU64,
}

impl Drop for StatementInner {
    fn drop(&mut self) {
        if let Some(queue) = &self.close_queue {
            // A poisoned lock only means another thread panicked while pushing a name; the
            // list itself is still a valid Vec.
            let mut names = queue.lock().unwrap_or_else(|e| e.into_inner());
            names.push(ServerObject::Statement(std::mem::take(&mut self.name)));
        }
    }
}

impl Statement {
    pub(crate) fn new(
        connection_id: u64,
        name: String,
        sql: Box<str>,
        params: Vec<Type>,
        columns: Vec<Column>,
        close_queue: Option<CloseQueue>,
    ) -> Statement {
        let result_formats = result_formats(&columns);
        let has_catalog_types = params
            .iter()
            .chain(columns.iter().map(|c| &c.type_))
            .any(|ty| ty.as_custom().is_some());
        Statement(Arc::new(StatementInner {
            has_catalog_types,
            fresh_at_marks: AtomicU64::new(0),
            connection_id,
            name,
            sql,
            params,
            columns: Arc::new(columns),
            result_formats,
            close_queue,
        }))
    }

    /// The server-side name ("" for the unnamed statement).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.0.sql
    }

    /// The parameter types the server inferred or was told.
    pub fn params(&self) -> &[Type] {
        &self.0.params
    }

    /// The result columns (empty for a statement that returns no rows).
    pub fn columns(&self) -> &[Column] {
        &self.0.columns
    }

    pub(crate) fn shared_columns(&self) -> &SharedColumns {
        &self.0.columns
    }

    pub(crate) fn result_formats(&self) -> &[i16] {
        &self.0.result_formats
    }

    pub(crate) fn connection_id(&self) -> u64 {
        self.0.connection_id
    }

    /// Whether a type of a parameter or column was found changed on the server since the
    /// statement was prepared (see `client/type_cache.rs`).
    pub(crate) fn has_stale_types(&self) -> bool {
        if !self.0.has_catalog_types {
            return false;
        }
        let marks = crate::types::custom::stale_marks();
        if self.0.fresh_at_marks.load(Ordering::Relaxed) == marks {
            return false;
        }
        let stale = self
            .params()
            .iter()
            .chain(self.columns().iter().map(Column::type_))
            .any(Type::is_stale);
        if !stale {
            self.0.fresh_at_marks.store(marks, Ordering::Relaxed);
        }
        stale
    }
}

fn result_formats(columns: &[Column]) -> Vec<i16> {
    let code = |c: &Column| c.format as i16;
    match columns.first() {
        None => Vec::new(),
        Some(first) if columns.iter().all(|c| c.format == first.format) => vec![code(first)],
        Some(_) => columns.iter().map(code).collect(),
    }
}
