//! The extended query protocol on a [`Connection`]: prepare, execute, query, and the
//! statement cache that lets `&str` queries skip the Parse round trip after the first time.
//!
//! A statement not yet prepared is parsed, described and bound in one Sync group:
//! Parse/Describe/Flush, then (once the parameter types are known) Bind/Execute/Sync. Nothing
//! is left between the two halves that a transaction-pooling proxy could reassign, so the
//! unnamed-statement mode (cache capacity 0) works behind pgbouncer.

use std::collections::HashMap;

use crate::client::connection::{db_error, Connection};
use crate::client::row::Row;
use crate::client::statement::{columns_from, Column, SharedColumns, Statement};
use crate::error::Error;
use crate::proto::backend::Message;
use crate::proto::frontend::{self, BindError};
use crate::types::{Format, ToSql, Type};
use crate::SqlState;

/// Parameters of a query: any values that implement [`ToSql`]; `Option<T>` for NULL.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// What can be executed: SQL text (`&str`, `String`) or a prepared [`Statement`].
pub trait ToStatement {
    /// The query this value stands for.
    #[doc(hidden)]
    fn query_ref(&self) -> QueryRef<'_>;
}

/// A query as SQL text or as a prepared statement.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum QueryRef<'a> {
    /// SQL text, prepared through the statement cache.
    Sql(&'a str),
    /// A statement prepared earlier.
    Prepared(&'a Statement),
}

impl ToStatement for str {
    fn query_ref(&self) -> QueryRef<'_> {
        QueryRef::Sql(self)
    }
}

impl ToStatement for String {
    fn query_ref(&self) -> QueryRef<'_> {
        QueryRef::Sql(self)
    }
}

impl ToStatement for Statement {
    fn query_ref(&self) -> QueryRef<'_> {
        QueryRef::Prepared(self)
    }
}

/// What one execution produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The result columns; `None` when the statement returns no rows (NoData).
    pub columns: Option<SharedColumns>,
    pub rows: Vec<Row>,
    /// Rows affected or returned, from the command tag, for commands that report it.
    pub rows_affected: Option<u64>,
}

/// What [`Connection::read_rows_to_ready`] read.
#[derive(Debug)]
pub(crate) struct RowsRead {
    pub rows: Vec<Row>,
    /// Rows affected or returned, from the command tag.
    pub rows_affected: Option<u64>,
    /// Whether the portal ran to completion (CommandComplete or EmptyQueryResponse), rather
    /// than being suspended at its row limit.
    pub completed: bool,
}

/// A per-connection LRU cache of prepared statements keyed by SQL text.
#[derive(Debug)]
pub(crate) struct StatementCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<Box<str>, (Statement, u64)>,
}

impl StatementCache {
    pub(crate) fn new(capacity: usize) -> StatementCache {
        StatementCache {
            capacity,
            tick: 0,
            entries: HashMap::new(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn get(&mut self, sql: &str) -> Option<Statement> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(sql).map(|(stmt, used)| {
            *used = tick;
            stmt.clone()
        })
    }

    /// Inserts, evicting the least recently used entry when full. An evicted statement is
    /// closed on the server once no handle to it remains.
    pub(crate) fn insert(&mut self, sql: &str, stmt: Statement) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                self.entries.remove(&key);
            }
        }
        self.tick += 1;
        self.entries.insert(sql.into(), (stmt, self.tick));
    }

    pub(crate) fn remove(&mut self, sql: &str) {
        self.entries.remove(sql);
    }

    /// Drops the entry for `stmt`'s SQL if it is `stmt`, after `err` if that is the server's
    /// "cached plan must not change result type": the next use of the SQL prepares afresh
    /// instead of failing the same way forever.
    pub(crate) fn forget_if_stale(&mut self, stmt: &Statement, err: &Error) {
        let cached = self.entries.get(stmt.sql());
        if is_stale_plan(err) && cached.is_some_and(|(c, _)| c.name() == stmt.name()) {
            self.entries.remove(stmt.sql());
        }
    }
}

impl Connection {
    /// Prepares a statement and returns its parameter types and result columns.
    ///
    /// With the statement cache on, preparing the same SQL again returns the cached statement
    /// without a round trip. The statement is a named server-side statement even when the
    /// cache is off (capacity 0), so it can be executed many times; it is closed on the server
    /// once its last handle is dropped. Behind a transaction-pooling proxy, where named
    /// statements do not survive between transactions, turn the cache off and pass SQL text
    /// to `query`/`execute` instead.
    pub async fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        self.ready().await?;
        if let Some(stmt) = self.cache.get(sql) {
            return Ok(stmt);
        }
        let name = self.next_statement_name();
        let stmt = self.parse_describe(&name, sql).await?;
        self.finish_group().await?;
        self.cache.insert(sql, stmt.clone());
        Ok(stmt)
    }

    /// Runs a statement and returns the number of rows it affected (or returned).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// # conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
    /// let n = conn.execute("UPDATE t SET b = $1 WHERE a > $2", &[&"z", &0i32]).await?;
    /// println!("{n} rows updated");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn execute<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<u64, Error>
    where
        Q: ToStatement + ?Sized,
    {
        let outcome = self.run(query.query_ref(), params).await?;
        Ok(outcome.rows_affected.unwrap_or(outcome.rows.len() as u64))
    }

    /// Runs a query and returns all its rows.
    pub async fn query<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Vec<Row>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        Ok(self.run(query.query_ref(), params).await?.rows)
    }

    /// Runs a query that must return exactly one row.
    pub async fn query_one<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Row, Error>
    where
        Q: ToStatement + ?Sized,
    {
        exactly_one(self.query(query, params).await?)
    }

    /// Runs a query that must return at most one row.
    pub async fn query_opt<Q>(
        &mut self,
        query: &Q,
        params: Params<'_>,
    ) -> Result<Option<Row>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        at_most_one(self.query(query, params).await?)
    }

    /// [`execute`](Connection::execute) with `:name` placeholders.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// # let mut conn = tusk::Connection::connect(&url).await?;
    /// # let conn = &mut conn;
    /// # conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
    /// conn.execute_named(
    ///     "INSERT INTO t (a, b) VALUES (:a, :b)",
    ///     &[("a", &1i32), ("b", &"first'last%s")],
    /// ).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn execute_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> Result<u64, Error> {
        let named = crate::client::named::rewrite(sql)?;
        let ordered = crate::client::named::order_args(&named.names, params)?;
        self.execute(named.sql.as_str(), &ordered).await
    }

    /// [`query`](Connection::query) with `:name` placeholders.
    pub async fn query_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> Result<Vec<Row>, Error> {
        let named = crate::client::named::rewrite(sql)?;
        let ordered = crate::client::named::order_args(&named.names, params)?;
        self.query(named.sql.as_str(), &ordered).await
    }

    /// Runs one statement to completion and collects what it produced.
    pub(crate) async fn run(
        &mut self,
        query: QueryRef<'_>,
        params: Params<'_>,
    ) -> Result<Outcome, Error> {
        let limit = self.statement_timeout;
        let work = async {
            self.ready().await?;
            let was_idle = self.transaction_status() == crate::TransactionStatus::Idle;
            match self.run_once(query, params).await {
                Err(e) if is_stale_plan(&e) => {
                    // The table under a cached statement changed shape. Drop the entry;
                    // outside a transaction nothing was lost, so prepare afresh and run once
                    // more.
                    if let QueryRef::Sql(sql) = query {
                        self.cache.remove(sql);
                        if was_idle {
                            return self.run_once(query, params).await;
                        }
                    }
                    Err(e)
                }
                other => other,
            }
        };
        // On expiry `work` is dropped at an await point (cancel-safe), then the statement is
        // cancelled on the server and its responses drained.
        let expired = match limit {
            None => return work.await,
            Some(limit) => match tokio::time::timeout(limit, work).await {
                Ok(result) => return result,
                Err(_) => limit,
            },
        };
        Err(self.statement_timed_out(expired).await)
    }

    async fn run_once(
        &mut self,
        query: QueryRef<'_>,
        params: Params<'_>,
    ) -> Result<Outcome, Error> {
        let stmt = self.statement_for(query, params).await?;
        self.write_bind("", &stmt, params)?;
        frontend::execute("", 0, self.write_buf())?;
        frontend::sync(self.write_buf());
        self.commit_group();
        self.flush().await?;

        let done = self
            .read_rows_to_ready(stmt.shared_columns(), "a response to Bind/Execute")
            .await?;
        Ok(Outcome {
            columns: (!stmt.columns().is_empty()).then(|| stmt.shared_columns().clone()),
            rows: done.rows,
            rows_affected: done.rows_affected,
        })
    }

    /// Reads the responses of a Sync group that binds and executes one portal (or fetches
    /// from a cursor) up to its ReadyForQuery, building rows with `columns`. The first error
    /// the server reported is returned once the group has ended, so the connection is in step
    /// either way; a COPY the caller did not ask for is ended cleanly and refused.
    pub(crate) async fn read_rows_to_ready(
        &mut self,
        columns: &SharedColumns,
        expected: &'static str,
    ) -> Result<RowsRead, Error> {
        let mut done = RowsRead {
            rows: Vec::new(),
            rows_affected: None,
            completed: false,
        };
        let mut first_error = None;
        loop {
            // The rows already buffered, taken in one go: most of a large result.
            if let Some(run) = self.buffered_data_rows() {
                self.push_rows(run, columns, &mut done.rows)?;
            }
            let msg = match self.next_response().await {
                Ok(msg) => msg,
                Err(e) => return Err(first_error.unwrap_or(e)),
            };
            match msg {
                Message::DataRow(data) => {
                    let row = Row::new(columns.clone(), data).map_err(|e| self.fail(e.into()))?;
                    done.rows.push(row);
                }
                Message::ParseComplete
                | Message::BindComplete
                | Message::CloseComplete
                | Message::PortalSuspended => {}
                Message::CommandComplete(tag) => {
                    done.rows_affected = tag.rows();
                    done.completed = true;
                }
                Message::EmptyQueryResponse => done.completed = true,
                Message::ErrorResponse(fields) => {
                    let err = db_error(&fields);
                    first_error.get_or_insert(self.fail(err));
                }
                Message::ReadyForQuery(_) => break,
                Message::CopyInResponse(_) => return Err(self.copy_refused(true).await),
                Message::CopyOutResponse(_) => return Err(self.copy_refused(false).await),
                other => return Err(self.unexpected(other.name(), expected)),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// Appends the rows of a run of DataRows (from [`Connection::buffered_data_rows`]) to
    /// `rows`; a malformed one breaks the connection, as in [`Connection::next_response`].
    pub(crate) fn push_rows(
        &mut self,
        run: bytes::Bytes,
        columns: &SharedColumns,
        rows: &mut Vec<Row>,
    ) -> Result<(), Error> {
        Row::push_run(columns, run, |row| rows.push(row)).map_err(|e| self.fail(e.into()))
    }

    /// Resynchronises, refuses the query in an aborted transaction, and finds its statement:
    /// the given one, the cached one, or a fresh one from Parse/Describe (which leaves the
    /// Sync group open for the Bind that must follow). Checks the parameter count.
    pub(crate) async fn statement_for(
        &mut self,
        query: QueryRef<'_>,
        params: Params<'_>,
    ) -> Result<Statement, Error> {
        self.ready().await?;
        let stmt = match query {
            QueryRef::Prepared(stmt) => {
                if stmt.connection_id() != self.id {
                    return Err(Error::usage(
                        "this statement was prepared on another connection",
                    ));
                }
                self.check_allowed(stmt.sql())?;
                stmt.clone()
            }
            QueryRef::Sql(sql) => {
                self.check_allowed(sql)?;
                match self.cache.get(sql) {
                    Some(stmt) => stmt,
                    None => {
                        let name = if self.cache.capacity() > 0 {
                            self.next_statement_name()
                        } else {
                            String::new()
                        };
                        let stmt = self.parse_describe(&name, sql).await?;
                        if !name.is_empty() {
                            self.cache.insert(sql, stmt.clone());
                        }
                        stmt
                    }
                }
            }
        };
        // On a mismatch after a fresh Parse, the open group is closed by the next call's
        // resynchronisation.
        check_param_count(&stmt, params)?;
        Ok(stmt)
    }

    /// Writes Close for statements and portals no longer referenced, then Bind of `params` to
    /// `stmt` into `portal` ("" = unnamed). Nothing is sent yet. If the Bind cannot be encoded
    /// (a value that does not fit its parameter), the Closes already written are ended with
    /// Sync, so their answers are drained by the next call instead of being taken for the
    /// answers to its request.
    pub(crate) fn write_bind(
        &mut self,
        portal: &str,
        stmt: &Statement,
        params: Params<'_>,
    ) -> Result<(), Error> {
        let result = self
            .write_pending_closes()
            .and_then(|()| encode_bind(portal, stmt, params, self.write_buf()));
        if result.is_err() && !self.write_buf().is_empty() {
            frontend::sync(self.write_buf());
            self.commit_group();
        }
        result
    }

    /// Sends Parse/Describe/Flush for `sql` under `name` ("" = unnamed) and reads the
    /// description, leaving the Sync group open for the Bind that follows (or for
    /// [`Connection::finish_group`]). On an error the group is closed before returning.
    async fn parse_describe(&mut self, name: &str, sql: &str) -> Result<Statement, Error> {
        self.write_pending_closes()?;
        let buf = self.write_buf();
        frontend::parse(name, sql, std::iter::empty(), buf)?;
        frontend::describe_statement(name, buf)?;
        frontend::flush(buf);
        self.open_group();
        self.flush().await?;

        let mut params = None;
        loop {
            match self.next_response().await? {
                Message::ParseComplete | Message::CloseComplete => {}
                Message::ParameterDescription(desc) => {
                    params = Some(desc.types.iter().map(|&oid| Type::from_oid(oid)).collect())
                }
                Message::RowDescription(desc) => {
                    let columns = columns_from(&desc).map_err(|e| self.fail(e.into()))?;
                    return self.described(name, sql, params, columns);
                }
                Message::NoData => return self.described(name, sql, params, Vec::new()),
                Message::ErrorResponse(fields) => {
                    let err = db_error(&fields);
                    let err = self.fail(err);
                    if !self.is_closed() {
                        self.finish_group().await?;
                    }
                    return Err(err);
                }
                other => return Err(self.unexpected(other.name(), "a response to Parse/Describe")),
            }
        }
    }

    fn described(
        &mut self,
        name: &str,
        sql: &str,
        params: Option<Vec<Type>>,
        columns: Vec<Column>,
    ) -> Result<Statement, Error> {
        let params = params.ok_or_else(|| {
            self.unexpected(
                "RowDescription",
                "ParameterDescription before the row description",
            )
        })?;
        let close_queue = (!name.is_empty()).then(|| self.close_queue.clone());
        Ok(Statement::new(
            self.id,
            name.to_owned(),
            sql.into(),
            params,
            columns,
            close_queue,
        ))
    }

    /// Ends a COPY started through `execute`/`query`: a COPY FROM STDIN is answered with
    /// CopyFail, a COPY TO STDOUT's data is discarded; either way the responses are read to
    /// the end so the connection stays usable.
    async fn copy_refused(&mut self, copy_in: bool) -> Error {
        let result = async {
            if copy_in {
                frontend::copy_fail(
                    "COPY FROM STDIN cannot run through execute or query",
                    self.write_buf(),
                )?;
                // The server ignored the Sync sent after Execute while in copy-in mode; after
                // the CopyFail error it skips to the next Sync, so send one more. Its
                // ReadyForQuery is the one already counted as owed.
                frontend::sync(self.write_buf());
                self.flush().await?;
            }
            let mut err = None;
            loop {
                match self.next_response().await? {
                    Message::ReadyForQuery(_) => break,
                    Message::ErrorResponse(f) => {
                        err.get_or_insert(db_error(&f));
                    }
                    _ => {}
                }
            }
            Ok::<_, Error>(err)
        }
        .await;
        let detail = "COPY cannot run through execute or query: use copy_in / copy_out";
        match result {
            Ok(Some(e)) => Error::usage(detail).with_source(e),
            Ok(None) => Error::usage(detail),
            Err(e) => e,
        }
    }

    pub(crate) fn next_statement_name(&mut self) -> String {
        self.statement_counter += 1;
        format!("tusk_s{}", self.statement_counter)
    }

    /// Writes Close for every statement and portal whose last handle was dropped.
    pub(crate) fn write_pending_closes(&mut self) -> Result<(), Error> {
        let names = {
            let mut queue = self.close_queue.lock().unwrap_or_else(|e| e.into_inner());
            if queue.is_empty() {
                return Ok(());
            }
            std::mem::take(&mut *queue)
        };
        for name in names {
            if name.starts_with(crate::client::portal::PORTAL_PREFIX) {
                frontend::close_portal(&name, self.write_buf())?;
            } else {
                frontend::close_statement(&name, self.write_buf())?;
            }
        }
        Ok(())
    }
}

/// The one row of `query_one`, or a [`Kind::RowCount`](crate::Kind::RowCount) error saying
/// how many came back.
pub(crate) fn exactly_one(mut rows: Vec<Row>) -> Result<Row, Error> {
    match rows.len() {
        1 => Ok(rows.remove(0)),
        n => Err(Error::row_count(format!(
            "query_one expected exactly one row, the query returned {n}"
        ))),
    }
}

/// The row of `query_opt` if there is one, or a [`Kind::RowCount`](crate::Kind::RowCount)
/// error when there are several.
pub(crate) fn at_most_one(mut rows: Vec<Row>) -> Result<Option<Row>, Error> {
    match rows.len() {
        0 => Ok(None),
        1 => Ok(Some(rows.remove(0))),
        n => Err(Error::row_count(format!(
            "query_opt expected at most one row, the query returned {n}"
        ))),
    }
}

pub(crate) fn check_param_count(stmt: &Statement, params: Params<'_>) -> Result<(), Error> {
    if stmt.params().len() == params.len() {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "the statement has {} parameter(s) but {} value(s) were given",
            stmt.params().len(),
            params.len()
        )))
    }
}

/// Encodes Bind for `stmt` with `params`; a value that does not fit its parameter's SQL type
/// is an error naming the parameter, the SQL type and the Rust type.
pub(crate) fn encode_bind(
    portal: &str,
    stmt: &Statement,
    params: Params<'_>,
    buf: &mut bytes::BytesMut,
) -> Result<(), Error> {
    encode_bind_with(
        portal,
        stmt.name(),
        stmt.params(),
        stmt.result_formats(),
        params,
        buf,
    )
}

/// [`encode_bind`] from the parts of a statement: its name, parameter types and result formats
/// (a pool encodes parameters before it knows the statement's name on the connection).
pub(crate) fn encode_bind_with(
    portal: &str,
    statement: &str,
    types: &[Type],
    result_formats: &[i16],
    params: Params<'_>,
    buf: &mut bytes::BytesMut,
) -> Result<(), Error> {
    let all_binary = params
        .iter()
        .zip(types)
        .all(|(p, ty)| p.encode_format(ty) == Format::Binary);
    let formats: Vec<i16>;
    let param_formats: &[i16] = if params.is_empty() {
        &[]
    } else if all_binary {
        &[1]
    } else {
        formats = params
            .iter()
            .zip(types)
            .map(|(p, ty)| p.encode_format(ty) as i16)
            .collect();
        &formats
    };
    frontend::bind(
        portal,
        statement,
        param_formats,
        params.iter().zip(types),
        |(value, ty), out| value.to_sql_checked(ty, out),
        result_formats,
        buf,
    )
    .map_err(|e| match e {
        BindError::Proto(e) => Error::from(e),
        BindError::Param { index, error } => {
            let value = params[index];
            Error::conversion(format!(
                "cannot encode parameter ${} of SQL type {} from Rust type {}",
                index + 1,
                types[index],
                value.type_name()
            ))
            .with_source(error)
        }
    })
}

/// Whether `err` is the server's "cached plan must not change result type".
pub(crate) fn is_stale_plan(err: &Error) -> bool {
    err.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
        && err.as_db_error().is_some_and(|db| {
            db.message
                .contains("cached plan must not change result type")
        })
}
