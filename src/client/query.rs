//! The extended query protocol on a [`Connection`]: prepare, execute, query, and the
//! statement cache that lets `&str` queries skip the Parse round trip after the first time.
//!
//! A statement not yet prepared is parsed, described and bound in one Sync group:
//! Parse/Describe/Flush, then (once the parameter types are known) Bind/Execute/Sync. Nothing
//! is left between the two halves that a transaction-pooling proxy could reassign, so the
//! unnamed-statement mode (cache capacity 0) works behind pgbouncer.

use crate::client::connection::{copy_refused_error, db_error, Connection};
use crate::client::row::Row;
use crate::client::statement::{
    columns_from, retype, Column, PendingClose, ServerObject, SharedColumns, Statement,
};
use crate::error::{Conversion, ConvertedValue, Error};
use crate::proto::backend::Message;
use crate::proto::exchange::Requests;
use crate::proto::frontend::BindError;
use crate::trace;
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

/// How a statement run by [`Connection::run_into`] ended (its rows went to the sink).
#[derive(Debug)]
pub(crate) struct Completion {
    /// The result columns; `None` when the statement returns no rows (NoData).
    pub columns: Option<SharedColumns>,
    /// Rows affected or returned, from the command tag, for commands that report it.
    pub rows_affected: Option<u64>,
}

/// Where the rows of a result go as they are read: all kept (`Vec<Row>`), only the first
/// ([`FirstRow`], for `query_one` / `query_opt`), or only counted ([`CountRows`], for
/// `execute`), so a call allocates nothing for rows it does not return.
pub(crate) trait RowSink: Send {
    /// Takes the next row.
    fn push(&mut self, row: Row);
    /// Forgets what was pushed (before a statement is run again).
    fn clear(&mut self);
    /// Whether the caller uses the command tag's row count (`query_one` does not: it is not
    /// parsed then).
    fn wants_count(&self) -> bool {
        true
    }
}

impl RowSink for Vec<Row> {
    fn push(&mut self, row: Row) {
        Vec::push(self, row);
    }
    fn clear(&mut self) {
        Vec::clear(self);
    }
}

/// Keeps the first row and counts them all.
#[derive(Debug, Default)]
pub(crate) struct FirstRow {
    first: Option<Row>,
    count: usize,
}

impl RowSink for FirstRow {
    fn push(&mut self, row: Row) {
        if self.first.is_none() {
            self.first = Some(row);
        }
        self.count += 1;
    }
    fn clear(&mut self) {
        *self = FirstRow::default();
    }
    fn wants_count(&self) -> bool {
        false
    }
}

impl FirstRow {
    /// The row of `query_one`, or a [`Kind::RowCount`](crate::Kind::RowCount) error.
    fn exactly_one(self) -> Result<Row, Error> {
        match (self.count, self.first) {
            (1, Some(row)) => Ok(row),
            (n, _) => Err(row_count_error("query_one expected exactly one row", n)),
        }
    }

    /// The row of `query_opt` if there is one, or a [`Kind::RowCount`](crate::Kind::RowCount)
    /// error when there are several.
    fn at_most_one(self) -> Result<Option<Row>, Error> {
        match (self.count, self.first) {
            (0, _) => Ok(None),
            (1, row) => Ok(row),
            (n, _) => Err(row_count_error("query_opt expected at most one row", n)),
        }
    }
}

/// Counts the rows without keeping them.
#[derive(Debug, Default)]
pub(crate) struct CountRows(pub u64);

impl RowSink for CountRows {
    fn push(&mut self, _row: Row) {
        self.0 += 1;
    }
    fn clear(&mut self) {
        self.0 = 0;
    }
}

#[cold]
fn row_count_error(what: &str, n: usize) -> Error {
    Error::row_count(format!("{what}, the query returned {n}"))
}

/// What [`Connection::read_rows_to_ready`] read.
#[derive(Debug)]
pub(crate) struct RowsRead {
    /// Rows affected or returned, from the command tag.
    pub rows_affected: Option<u64>,
    /// Whether the portal ran to completion (CommandComplete or EmptyQueryResponse), rather
    /// than being suspended at its row limit.
    pub completed: bool,
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
        trace::traced!(trace::statement(&self.trace, sql), {
            let result = async {
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
            .await;
            self.settle_if_timed_out(result).await
        })
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
        trace::traced!(trace::statement_ref(&self.trace, query.query_ref()), {
            let mut count = CountRows(0);
            let done = self.run_into(query.query_ref(), params, &mut count).await?;
            Ok(done.rows_affected.unwrap_or(count.0))
        })
    }

    /// Runs a query and returns all its rows.
    pub async fn query<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Vec<Row>, Error>
    where
        Q: ToStatement + ?Sized,
    {
        trace::traced!(
            trace::statement_ref(&self.trace, query.query_ref()),
            Ok(self.run(query.query_ref(), params).await?.rows)
        )
    }

    /// Runs a query that must return exactly one row.
    pub async fn query_one<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<Row, Error>
    where
        Q: ToStatement + ?Sized,
    {
        trace::traced!(trace::statement_ref(&self.trace, query.query_ref()), {
            let mut first = FirstRow::default();
            self.run_into(query.query_ref(), params, &mut first).await?;
            first.exactly_one()
        })
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
        trace::traced!(trace::statement_ref(&self.trace, query.query_ref()), {
            let mut first = FirstRow::default();
            self.run_into(query.query_ref(), params, &mut first).await?;
            first.at_most_one()
        })
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
        let mut rows = Vec::new();
        let done = self.run_into(query, params, &mut rows).await?;
        Ok(Outcome {
            columns: done.columns,
            rows,
            rows_affected: done.rows_affected,
        })
    }

    /// Runs `query` with `params` (under the statement timeout), its rows going to `sink`.
    pub(crate) async fn run_into<S: RowSink>(
        &mut self,
        query: QueryRef<'_>,
        params: Params<'_>,
        sink: &mut S,
    ) -> Result<Completion, Error> {
        // `ready` arms the call's deadline; a wait past it fails, and the connection is
        // settled (the statement cancelled, its answers drained) before the error returns.
        let result = async {
            self.ready().await?;
            let was_idle = self.transaction_status() == crate::TransactionStatus::Idle;
            match self.run_once(query, params, sink).await {
                Err(e) if is_stale_plan(&e) => {
                    // The table under a cached statement changed shape. Drop the entry;
                    // outside a transaction nothing was lost, so prepare afresh and run once
                    // more.
                    if let QueryRef::Sql(sql) = query {
                        self.cache.remove(sql);
                        if was_idle {
                            sink.clear();
                            return self.run_once(query, params, sink).await;
                        }
                    }
                    Err(e)
                }
                other => other,
            }
        }
        .await;
        self.settle_if_timed_out(result).await
    }

    async fn run_once<S: RowSink>(
        &mut self,
        query: QueryRef<'_>,
        params: Params<'_>,
        sink: &mut S,
    ) -> Result<Completion, Error> {
        let stmt = self.statement_for(query, params).await?;
        self.write_bind("", &stmt, params)?;
        let mut requests = self.requests();
        requests.execute("", 0)?;
        requests.sync();
        self.flush().await?;

        let done = self
            .read_rows_to_ready(stmt.shared_columns(), "execute or query", sink)
            .await?;
        Ok(Completion {
            columns: (!stmt.columns().is_empty()).then(|| stmt.shared_columns().clone()),
            rows_affected: done.rows_affected,
        })
    }

    /// Reads the responses of a Sync group that binds and executes one portal (or fetches
    /// from a cursor) up to its ReadyForQuery, building rows with `columns`. The first error
    /// the server reported is returned once the group has ended, so the connection is in step
    /// either way; a COPY the caller did not ask for is ended cleanly and refused.
    pub(crate) async fn read_rows_to_ready<S: RowSink>(
        &mut self,
        columns: &SharedColumns,
        call: &'static str,
        sink: &mut S,
    ) -> Result<RowsRead, Error> {
        let mut done = RowsRead {
            rows_affected: None,
            completed: false,
        };
        let mut first_error = None;
        let mut copy_refused = false;
        loop {
            // The rows already buffered, taken in one go: most of a large result.
            if let Some(run) = self.buffered_data_rows() {
                self.push_rows(run, columns, sink)?;
            }
            let msg = match self.next_response().await {
                Ok(msg) => msg,
                Err(e) => return Err(first_error.unwrap_or(e)),
            };
            // The exchange let through only what may follow; the acknowledgements
            // (ParseComplete, BindComplete, CloseComplete, PortalSuspended) and refused COPY
            // data need nothing here.
            match msg {
                Message::DataRow(data) => {
                    let row = Row::new(columns.clone(), data).map_err(|e| self.fail(e.into()))?;
                    sink.push(row);
                }
                Message::CommandComplete(tag) => {
                    if sink.wants_count() {
                        done.rows_affected = tag.rows();
                    }
                    done.completed = true;
                }
                Message::EmptyQueryResponse => done.completed = true,
                Message::ErrorResponse(fields) => {
                    let err = db_error(&fields);
                    first_error.get_or_insert(self.fail(err));
                }
                Message::ReadyForQuery(_) => break,
                Message::CopyInResponse(_) | Message::CopyOutResponse(_) => copy_refused = true,
                _ => {}
            }
        }
        if copy_refused {
            return Err(copy_refused_error(call, first_error));
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    pub(crate) fn push_rows<S: RowSink>(
        &mut self,
        run: bytes::Bytes,
        columns: &SharedColumns,
        sink: &mut S,
    ) -> Result<(), Error> {
        Row::push_run(columns, run, |row| sink.push(row)).map_err(|e| self.fail(e.into()))
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
        check_param_limit(params)?;
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
                    Some(stmt) if !stmt.has_stale_types() => stmt,
                    _ => {
                        // Not cached, or prepared with a catalog type that has changed since.
                        self.cache.remove(sql);
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
        check_param_count(stmt.params(), params)?;
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
            .and_then(|()| encode_bind(portal, stmt, params, &mut self.requests()));
        if result.is_err() {
            // Closes (or a Parse) may be written already: end their group.
            self.requests().sync_if_open();
        }
        result
    }

    /// Sends Parse/Describe/Flush for `sql` under `name` ("" = unnamed) and reads the
    /// description, leaving the Sync group open for the Bind that follows (or for
    /// [`Connection::finish_group`]). On an error the group is closed before returning.
    async fn parse_describe(&mut self, name: &str, sql: &str) -> Result<Statement, Error> {
        let (mut params, mut columns, pending) = self.parse_and_describe(name, sql).await?;
        let missing = self.types_to_look_up(&params, &columns);
        if !missing.is_empty() {
            // Types outside the built-in table: read them from the catalog with a simple
            // query, which needs the group ended first.
            self.finish_group().await?;
            self.look_up_types(missing).await?;
            if name.is_empty() {
                // The simple query replaced the unnamed statement: parse it again, now with
                // the types in the cache.
                let (params, columns, pending) = self.parse_and_describe(name, sql).await?;
                pending.disarm();
                return self.described(name, sql, Some(params), columns);
            }
            retype(&mut params, &mut columns, &self.types);
        }
        pending.disarm();
        self.described(name, sql, Some(params), columns)
    }

    /// Sends Parse/Describe/Flush and reads the description, leaving the group open. The
    /// guard closes a named statement if the caller does not take it over.
    async fn parse_and_describe(
        &mut self,
        name: &str,
        sql: &str,
    ) -> Result<(Vec<Type>, Vec<Column>, PendingClose), Error> {
        self.write_pending_closes()?;
        let mut requests = self.requests();
        requests.parse(name, sql, &[])?;
        requests.describe_statement(name)?;
        requests.flush();
        // From here the statement may exist on the server: if this future is dropped before
        // a `Statement` takes the name over, it is closed with the next request.
        let pending = PendingClose::new(&self.close_queue, name);
        self.flush().await?;

        let mut params = None;
        loop {
            match self.next_response().await? {
                Message::ParameterDescription(desc) => {
                    params = Some(
                        desc.types
                            .iter()
                            .map(|&oid| self.types.type_of(oid))
                            .collect(),
                    )
                }
                Message::RowDescription(desc) => {
                    let columns =
                        columns_from(&desc, &self.types).map_err(|e| self.fail(e.into()))?;
                    // The exchange takes a RowDescription only after the ParameterDescription.
                    return Ok((params.unwrap_or_default(), columns, pending));
                }
                Message::NoData => return Ok((params.unwrap_or_default(), Vec::new(), pending)),
                Message::ErrorResponse(fields) => {
                    // Usually the Parse failed and there is nothing to close; if only the
                    // Describe did, the statement exists. The guard closes the name either way
                    // (closing a statement that does not exist is not an error).
                    drop(pending);
                    let err = db_error(&fields);
                    let err = self.fail(err);
                    if !self.is_closed() {
                        self.finish_group().await?;
                    }
                    return Err(err);
                }
                // ParseComplete, CloseComplete.
                _ => {}
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
        // The exchange takes a statement's RowDescription only after its ParameterDescription.
        let params = params.unwrap_or_default();
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

    /// The cached statement for `sql`, if this connection has one (for the pool's shared
    /// path, which prepares what is missing itself).
    pub(crate) fn cached_statement(&mut self, sql: &str) -> Option<Statement> {
        match self.cache.get(sql) {
            // Prepared with a catalog type that changed since: prepare it again.
            Some(stmt) if stmt.has_stale_types() => {
                self.cache.remove(sql);
                None
            }
            found => found,
        }
    }

    /// Drops the cached statement for `sql` (its plan went stale).
    pub(crate) fn forget_statement(&mut self, sql: &str) {
        self.cache.remove(sql);
    }

    /// Writes one of the pool's shared jobs: Bind of `stmt` with the parameter section the
    /// caller's task encoded, Execute, Sync. On error nothing is written.
    pub(crate) fn write_shared_job(
        &mut self,
        stmt: &Statement,
        section: &[u8],
    ) -> Result<(), Error> {
        let mut requests = self.requests();
        requests.bind_with_parameter_section("", stmt.name(), section, stmt.result_formats())?;
        // An unnamed portal's Execute cannot fail to encode after its Bind did not.
        requests.execute("", 0)?;
        requests.sync();
        Ok(())
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
        let mut requests = self.requests();
        for object in names {
            match object {
                ServerObject::Portal(name) => requests.close_portal(&name)?,
                ServerObject::Statement(name) => requests.close_statement(&name)?,
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
        n => Err(row_count_error("query_one expected exactly one row", n)),
    }
}

/// The row of `query_opt` if there is one, or a [`Kind::RowCount`](crate::Kind::RowCount)
/// error when there are several.
pub(crate) fn at_most_one(mut rows: Vec<Row>) -> Result<Option<Row>, Error> {
    match rows.len() {
        0 => Ok(None),
        1 => Ok(Some(rows.remove(0))),
        n => Err(row_count_error("query_opt expected at most one row", n)),
    }
}

/// Refuses more parameters than the protocol's 16-bit count carries, before anything is sent:
/// a Parse of such SQL would get a ParameterDescription whose count wrapped, and a Bind cannot
/// carry them. libpq refuses them the same way.
pub(crate) fn check_param_limit(params: Params<'_>) -> Result<(), Error> {
    if params.len() > usize::from(u16::MAX) {
        return Err(Error::usage(format!(
            "{} parameters were given; the protocol allows at most {} per statement",
            params.len(),
            u16::MAX
        )));
    }
    Ok(())
}

pub(crate) fn check_param_count(types: &[Type], params: Params<'_>) -> Result<(), Error> {
    if types.len() == params.len() {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "the statement has {} parameter(s) but {} value(s) were given",
            types.len(),
            params.len()
        )))
    }
}

/// Writes Bind of `stmt` with `params` through `requests` (the unnamed or a named portal).
pub(crate) fn encode_bind(
    portal: &str,
    stmt: &Statement,
    params: Params<'_>,
    requests: &mut Requests<'_>,
) -> Result<(), Error> {
    let types = stmt.params();
    let formats = param_formats(params, types);
    requests
        .bind(
            portal,
            stmt.name(),
            &formats,
            params.iter().zip(types),
            |(value, ty), out| value.to_sql_checked(ty, out),
            stmt.result_formats(),
        )
        .map_err(|e| bind_error(e, params, types))
}

/// Encodes a whole Bind of the unnamed statement into `buf`, outside any session: the pool's
/// callers encode their parameters this way, and its runner re-frames the parameter section
/// under its own statement name.
pub(crate) fn encode_detached_bind(
    types: &[Type],
    params: Params<'_>,
    buf: &mut bytes::BytesMut,
) -> Result<(), Error> {
    let formats = param_formats(params, types);
    crate::proto::frontend::bind(
        "",
        "",
        &formats,
        params.iter().zip(types),
        |(value, ty), out| value.to_sql_checked(ty, out),
        &[],
        buf,
    )
    .map_err(|e| bind_error(e, params, types))
}

/// The parameter format codes: one `1` when every value is sent in binary (the common case),
/// none without parameters, else one per parameter.
fn param_formats(params: Params<'_>, types: &[Type]) -> std::borrow::Cow<'static, [i16]> {
    let all_binary = params
        .iter()
        .zip(types)
        .all(|(p, ty)| p.encode_format(ty) == Format::Binary);
    if params.is_empty() {
        std::borrow::Cow::Borrowed(&[])
    } else if all_binary {
        std::borrow::Cow::Borrowed(&[1])
    } else {
        params
            .iter()
            .zip(types)
            .map(|(p, ty)| p.encode_format(ty) as i16)
            .collect()
    }
}

/// The public error for a Bind that could not be encoded: which parameter, its SQL type and
/// the Rust type it came from.
fn bind_error(e: BindError<crate::error::BoxError>, params: Params<'_>, types: &[Type]) -> Error {
    match e {
        BindError::Proto(e) => Error::from(e),
        BindError::Param { index, error } => {
            let detail = Conversion::new(
                ConvertedValue::Parameter(index + 1),
                &types[index],
                params[index].type_name(),
            );
            Error::converting(detail, false).with_source(error)
        }
    }
}

/// Whether `err` is the server's "cached plan must not change result type".
pub(crate) fn is_stale_plan(err: &Error) -> bool {
    err.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
        && err.as_db_error().is_some_and(|db| {
            db.message
                .contains("cached plan must not change result type")
        })
}
