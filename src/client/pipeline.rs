//! Pipelining: many statements sent with one flush and answered in order, so a batch costs
//! one network round trip instead of one per statement (two when some SQL is new to the
//! connection: its Parse/Describe go out first, all together).
//!
//! Like libpq's pipeline mode, the statements form Sync groups: by default one group for the
//! whole pipeline, where an error makes the server skip the rest of the group (those entries
//! report an "aborted" error, SQLSTATE 25P02-like in meaning but local: nothing ran); or one
//! group per statement ([`Pipeline::sync_each`]), where each succeeds or fails on its own.
//! Outside an explicit transaction each Sync group is its own implicit transaction.

use std::collections::HashMap;

use crate::client::connection::{copy_refused_error, db_error, Connection};
use crate::client::query::{
    check_param_count, check_param_limit, encode_bind, QueryRef, ToStatement,
};
use crate::client::row::Row;
use crate::client::statement::{
    columns_from, retype, Column, PendingClose, SharedColumns, Statement,
};
use crate::error::Error;
use crate::proto::backend::Message;
use crate::trace;
use crate::types::{ToSql, Type};

/// The result of one pipelined statement.
#[derive(Debug, Clone)]
pub struct QueryResult {
    columns: Option<SharedColumns>,
    rows: Vec<Row>,
    rows_affected: Option<u64>,
}

impl QueryResult {
    /// The rows it returned.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The rows it returned, by value.
    pub fn into_rows(self) -> Vec<Row> {
        self.rows
    }

    /// Rows affected or returned, as the command tag reports it (`None` for commands that
    /// report no count).
    pub fn rows_affected(&self) -> Option<u64> {
        self.rows_affected
    }

    /// The result columns; empty for a statement that returns no rows.
    pub fn columns(&self) -> &[Column] {
        self.columns.as_deref().map_or(&[], |c| &c[..])
    }
}

/// A batch of statements to send together; build it with [`Connection::pipeline`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// # conn.batch_execute("CREATE TEMP TABLE t (a int4, b text)").await?;
/// let ids = [1i32, 2, 3];
/// let mut pipeline = conn.pipeline();
/// for id in &ids {
///     pipeline.query("SELECT $1::int4 * 10", &[id]);
/// }
/// pipeline.query("UPDATE t SET b = 'x' WHERE a = 1", &[]);
/// for result in pipeline.run().await? {
///     let result = result?;   // each statement's own outcome
///     println!("{} rows", result.rows().len());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Pipeline<'c, 'p> {
    conn: &'c mut Connection,
    entries: Vec<Entry<'p>>,
    sync_each: bool,
}

#[derive(Debug)]
struct Entry<'p> {
    query: QueryRef<'p>,
    /// The parameter references, copied so the caller's slice may be a temporary.
    params: Vec<&'p (dyn ToSql + Sync)>,
}

impl Connection {
    /// Starts a pipeline: queue statements with [`Pipeline::query`], send them all with
    /// [`Pipeline::run`].
    pub fn pipeline(&mut self) -> Pipeline<'_, '_> {
        Pipeline {
            conn: self,
            entries: Vec::new(),
            sync_each: false,
        }
    }
}

/// Where a pipelined statement's description comes from.
enum Slot {
    Ready(Statement),
    /// Index into the list of SQL texts being prepared in phase one.
    Preparing(usize),
    Refused(Error),
}

impl<'c, 'p> Pipeline<'c, 'p> {
    /// One Sync per statement (`true`), so an error affects only its own statement; or one
    /// Sync for the whole pipeline (`false`, the default), so the first error aborts the rest.
    pub fn sync_each(mut self, each: bool) -> Self {
        self.sync_each = each;
        self
    }

    /// Queues a statement (SQL text or a prepared [`Statement`]); returns its position in the
    /// results.
    pub fn query<Q>(&mut self, query: &'p Q, params: &[&'p (dyn ToSql + Sync)]) -> usize
    where
        Q: ToStatement + ?Sized,
    {
        self.entries.push(Entry {
            query: query.query_ref(),
            params: params.to_vec(),
        });
        self.entries.len() - 1
    }

    /// Same as [`Pipeline::query`]; the affected-row count is in
    /// [`QueryResult::rows_affected`].
    pub fn execute<Q>(&mut self, query: &'p Q, params: &[&'p (dyn ToSql + Sync)]) -> usize
    where
        Q: ToStatement + ?Sized,
    {
        self.query(query, params)
    }

    /// How many statements are queued.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sends everything and returns one result per queued statement, in order. The outer
    /// error is for the connection failing; statement errors are in the inner results.
    pub async fn run(self) -> Result<Vec<Result<QueryResult, Error>>, Error> {
        let Pipeline {
            conn,
            entries,
            sync_each,
        } = self;
        // The body is an `async` block of its own so that its `?`s end it, not `run`: the
        // settling below must see every error.
        let result = trace::traced!(
            trace::pipeline(&conn.trace, entries.iter().map(|e| e.query)),
            async {
                conn.ready().await?;

                // Phase one: describe every SQL text the connection has not prepared yet, each
                // in its own Sync group so one bad statement does not take the others down.
                let mut slots = Vec::with_capacity(entries.len());
                let mut to_prepare: Vec<(&str, String)> = Vec::new();
                let mut index_of: HashMap<&str, usize> = HashMap::new();
                for entry in &entries {
                    // In an aborted transaction only ROLLBACK may run: refuse the rest here
                    // (25P02), before anything, even a Parse, is sent for them.
                    let sql = match entry.query {
                        QueryRef::Prepared(stmt) => stmt.sql(),
                        QueryRef::Sql(sql) => sql,
                    };
                    if let Err(e) = conn
                        .check_allowed(sql)
                        .and_then(|()| check_param_limit(&entry.params))
                    {
                        slots.push(Slot::Refused(e));
                        continue;
                    }
                    slots.push(match entry.query {
                        QueryRef::Prepared(stmt) => {
                            if stmt.connection_id() != conn.id {
                                Slot::Refused(Error::usage(
                                    "this statement was prepared on another connection",
                                ))
                            } else {
                                Slot::Ready(stmt.clone())
                            }
                        }
                        QueryRef::Sql(sql) => match conn.cache.get(sql) {
                            Some(stmt) => Slot::Ready(stmt),
                            None => {
                                let next = to_prepare.len();
                                let i = *index_of.entry(sql).or_insert(next);
                                if i == next {
                                    to_prepare.push((sql, conn.next_statement_name()));
                                }
                                Slot::Preparing(i)
                            }
                        },
                    });
                }
                // One result per SQL text in `to_prepare`, so every `Slot::Preparing` index is
                // valid.
                let prepared = prepare_all(conn, &to_prepare).await?;

                // Phase two: Bind/Execute for every statement, then one Sync or a Sync each.
                let mut outcomes: Vec<Option<Result<QueryResult, Error>>> = Vec::new();
                let mut sent: Vec<(usize, Statement)> = Vec::new();
                conn.write_pending_closes()?;
                for (i, (entry, slot)) in entries.iter().zip(slots).enumerate() {
                    outcomes.push(None);
                    let stmt = match slot {
                        Slot::Ready(stmt) => stmt,
                        Slot::Refused(e) => {
                            outcomes[i] = Some(Err(e));
                            continue;
                        }
                        Slot::Preparing(p) => match &prepared[p] {
                            Ok(stmt) => stmt.clone(),
                            Err(e) => {
                                outcomes[i] = Some(Err(share(e)));
                                continue;
                            }
                        },
                    };
                    let mut requests = conn.requests();
                    let queued = check_param_count(stmt.params(), &entry.params)
                        .and_then(|()| encode_bind("", &stmt, &entry.params, &mut requests))
                        .and_then(|()| Ok(requests.execute("", 0)?));
                    if let Err(e) = queued {
                        outcomes[i] = Some(Err(e));
                        continue;
                    }
                    if sync_each {
                        requests.sync();
                    }
                    sent.push((i, stmt));
                }
                drop(prepared);
                // One Sync for the whole group, or for queued Closes alone (whose CloseComplete
                // would otherwise turn up among the answers to the next request).
                let closes_only = sent.is_empty() && conn.session().exchange().group_open();
                let one_group = !sync_each && !sent.is_empty();
                if one_group || closes_only {
                    conn.requests().sync();
                }
                conn.flush().await?;

                let mut group_failed = false;
                for (i, stmt) in &sent {
                    let result = if group_failed {
                        Err(Error::usage(
                            "not run: an earlier statement in the same pipeline Sync group failed",
                        ))
                    } else {
                        read_result(conn, stmt).await?
                    };
                    if let Err(e) = &result {
                        conn.cache.forget_if_stale(stmt, e);
                    }
                    if result.is_err() && !sync_each {
                        group_failed = true;
                    }
                    if sync_each {
                        expect_ready(conn).await?;
                    }
                    outcomes[*i] = Some(result);
                }
                if one_group || closes_only {
                    expect_ready(conn).await?;
                }
                Ok(outcomes
                    .into_iter()
                    .map(|o| o.unwrap_or_else(|| Err(Error::usage("statement was not sent"))))
                    .collect())
            }
            .await
        );
        conn.settle_if_timed_out(result).await
    }
}

/// Errors are not `Clone`; a statement shared by several entries reports its error to each,
/// with the same kind, SQLSTATE and server fields.
fn share(e: &Error) -> Error {
    e.duplicate()
}

/// Parse/Describe/Sync for each SQL text, all sent together; the statements are cached (or,
/// with the cache off, closed again once their last handle is dropped).
pub(crate) async fn prepare_all(
    conn: &mut Connection,
    to_prepare: &[(&str, String)],
) -> Result<Vec<Result<Statement, Error>>, Error> {
    if to_prepare.is_empty() {
        return Ok(Vec::new());
    }
    conn.write_pending_closes()?;
    let mut requests = conn.requests();
    for (sql, name) in to_prepare {
        requests.parse(name, sql, &[])?;
        requests.describe_statement(name)?;
        requests.sync();
    }
    // Until a `Statement` takes each name over, a dropped future leaves it to be closed.
    let mut pending: Vec<PendingClose> = to_prepare
        .iter()
        .map(|(_, name)| PendingClose::new(&conn.close_queue, name))
        .collect();
    pending.reverse();
    conn.flush().await?;
    let mut described = Vec::with_capacity(to_prepare.len());
    for _ in to_prepare {
        let guard = pending.pop();
        let mut params: Option<Vec<Type>> = None;
        let mut result = None;
        loop {
            match conn.next_response().await? {
                Message::ParameterDescription(desc) => {
                    params = Some(
                        desc.types
                            .iter()
                            .map(|&oid| conn.types.type_of(oid))
                            .collect(),
                    )
                }
                Message::RowDescription(desc) => {
                    let columns =
                        columns_from(&desc, &conn.types).map_err(|e| conn.fail(e.into()))?;
                    result = Some(Ok(columns));
                }
                Message::NoData => result = Some(Ok(Vec::new())),
                Message::ErrorResponse(fields) => result = Some(Err(db_error(&fields))),
                Message::ReadyForQuery(_) => break,
                // ParseComplete, CloseComplete: checked by the exchange.
                _ => {}
            }
        }
        described.push(match (result, params) {
            (Some(Ok(columns)), Some(params)) => Ok((params, columns, guard)),
            (Some(Err(e)), _) => Err(e),
            // The exchange takes ReadyForQuery only after the RowDescription or NoData that
            // follows a ParameterDescription, or after an error.
            _ => Err(Error::protocol(crate::proto::ProtoError::Unexpected {
                expected: "a statement description",
                got: "ReadyForQuery",
            })),
        });
    }
    // Every group has ended: the types outside the built-in table can be read from the
    // catalog (one lookup for all the statements), the guards still closing the names if
    // this future is dropped meanwhile.
    let missing: Vec<u32> = described
        .iter()
        .flatten()
        .flat_map(|(params, columns, _)| conn.types_to_look_up(params, columns))
        .collect();
    if !missing.is_empty() {
        conn.look_up_types(missing).await?;
    }
    let mut out = Vec::with_capacity(to_prepare.len());
    for ((sql, name), description) in to_prepare.iter().zip(described) {
        out.push(description.map(|(mut params, mut columns, guard)| {
            retype(&mut params, &mut columns, &conn.types);
            if let Some(guard) = guard {
                guard.disarm();
            }
            let stmt = Statement::new(
                conn.id,
                name.clone(),
                (*sql).into(),
                params,
                columns,
                Some(conn.close_queue.clone()),
            );
            conn.cache.insert(sql, stmt.clone());
            stmt
        }));
    }
    Ok(out)
}

/// Reads one statement's Bind/Execute responses (not its ReadyForQuery).
async fn read_result(
    conn: &mut Connection,
    stmt: &Statement,
) -> Result<Result<QueryResult, Error>, Error> {
    let mut result = QueryResult {
        columns: (!stmt.columns().is_empty()).then(|| stmt.shared_columns().clone()),
        rows: Vec::new(),
        rows_affected: None,
    };
    let mut copy_refused = false;
    loop {
        // The rows already buffered, taken in one go, as the other row readers do.
        if let Some(run) = conn.buffered_data_rows() {
            conn.push_rows(run, stmt.shared_columns(), &mut result.rows)?;
        }
        match conn.next_response().await? {
            Message::DataRow(data) => {
                let row = Row::new(stmt.shared_columns().clone(), data)
                    .map_err(|e| conn.fail(e.into()))?;
                result.rows.push(row);
            }
            Message::CommandComplete(_) | Message::EmptyQueryResponse if copy_refused => {
                return Ok(Err(copy_refused_error("a pipeline", None)));
            }
            Message::CommandComplete(done) => {
                result.rows_affected = done.rows();
                return Ok(Ok(result));
            }
            Message::EmptyQueryResponse => return Ok(Ok(result)),
            Message::ErrorResponse(fields) if copy_refused => {
                return Ok(Err(copy_refused_error(
                    "a pipeline",
                    Some(db_error(&fields)),
                )));
            }
            Message::ErrorResponse(fields) => return Ok(Err(db_error(&fields))),
            // The exchange failed a COPY FROM STDIN on the wire (or, with more Sync groups
            // queued behind it, refused to go on); COPY TO STDOUT data is skipped until the
            // COPY's CommandComplete.
            Message::CopyInResponse(_) | Message::CopyOutResponse(_) => copy_refused = true,
            // BindComplete, CloseComplete, COPY data: checked by the exchange.
            _ => {}
        }
    }
}

/// Reads up to and including the next ReadyForQuery.
async fn expect_ready(conn: &mut Connection) -> Result<(), Error> {
    loop {
        // An ErrorResponse or CloseComplete may come first; the exchange refuses the rest.
        if let Message::ReadyForQuery(_) = conn.next_response().await? {
            return Ok(());
        }
    }
}
