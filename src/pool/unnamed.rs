//! The shared path with the statement cache off (`Config::statement_cache_capacity(0)`): no
//! named statement, so it works behind a transaction-pooling proxy (pgbouncer in transaction
//! mode), where consecutive Sync groups of one client may run on different server sessions.
//!
//! Each job is one self-contained Sync group, written by [`Requests::run_unnamed`]:
//!
//! ```text
//! Parse("", sql, the pool's parameter types)  Bind("", "", parameters, result formats)
//! Describe(portal "")  Execute("", all rows)  Sync
//! ```
//!
//! and a batch is many such groups in one write, answered in order. The parameter types are
//! the ones the caller encoded its parameters for ([`Described`]), so the server cannot infer
//! others. The result formats are the pool's too (written before the server describes
//! anything); the portal's RowDescription, which comes before the rows, gives the columns the
//! rows are decoded with. Nothing is cached, so a schema change is seen by the next job; the
//! one way a changed shape shows is at Bind, when the number of columns no longer matches the
//! formats (SQLSTATE 08P01, before the statement runs): the SQL is described again on the
//! runner's connection and the job runs once more.
//!
//! [`Pool::describe`](super::Pool) with the cache off uses [`describe`]: Parse of the unnamed
//! statement, Describe, Sync, also one self-contained group.

use std::sync::Arc;

use super::described::Described;
use super::{lock, Job, Shared};
use crate::client::connection::{copy_refused_error, db_error, Connection};
use crate::client::query::Outcome;
use crate::client::row::Row;
use crate::client::statement::{columns_from, Column, SharedColumns};
use crate::error::Error;
use crate::proto::backend::{Message, RowDescription};
use crate::types::Type;
use crate::SqlState;

/// A SQL text's description: its parameter types and result columns.
type Description = (Vec<Type>, Vec<Column>);

/// Runs one batch on `conn` with unnamed statements, answering every job except those to run
/// again (returned, already described afresh): the ones refused at Bind because their column
/// count changed since the pool described them.
pub(super) async fn run_batch(shared: &Shared, conn: &mut Connection, jobs: Vec<Job>) -> Vec<Job> {
    let mut sent: Vec<Job> = Vec::with_capacity(jobs.len());
    if let Err(e) = conn
        .ready()
        .await
        .and_then(|()| conn.write_pending_closes())
    {
        fail_all(jobs, &e);
        return Vec::new();
    }
    for job in jobs {
        let described = &job.described;
        let written = conn.requests().run_unnamed(
            described.sql(),
            described.param_oids(),
            &job.section,
            described.result_formats(),
        );
        match written {
            Ok(()) => sent.push(job),
            Err(e) => {
                let _ = job.reply.send(Err(e.into()));
            }
        }
    }
    if sent.is_empty() {
        // Closes written alone still need their Sync; `ready` adds it before the next request.
        return Vec::new();
    }
    if let Err(e) = conn.flush().await {
        fail_all(sent, &e);
        return Vec::new();
    }

    let mut stale: Vec<Job> = Vec::new();
    let mut sent = sent.into_iter();
    while let Some(job) = sent.next() {
        // Each job's statement gets the statement timeout of its own (see runner.rs).
        conn.start_deadline();
        match read_job(conn).await {
            Ok(Read::Done(outcome)) => {
                let _ = job.reply.send(Ok(outcome));
            }
            Ok(Read::FormatsOutdated) => {
                forget_description(shared, &job.described);
                let _ = job.reply.send(Err(Error::conversion(
                    "the statement ran, but its result columns changed type since the pool \
                     described it (a schema change), so its rows did not come in the formats \
                     tusk decodes them in; the pool describes it afresh for the next call",
                )));
            }
            Err(e) if conn.is_closed() => {
                let _ = job.reply.send(Err(e.duplicate()));
                fail_all(sent, &e);
                return Vec::new();
            }
            Err(e) if is_column_count_change(&e) && !job.retried => {
                // Refused at Bind, so nothing ran: describe it again, then run it once more.
                forget_description(shared, &job.described);
                stale.push(job);
            }
            Err(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    if stale.is_empty() {
        Vec::new()
    } else {
        describe_again(conn, stale).await
    }
}

/// Describes `sql` with the unnamed statement in one Sync group (Parse, Describe, Sync),
/// leaving nothing on the server: what [`Pool::describe`](super::Pool) does with the
/// statement cache off.
pub(super) async fn describe(conn: &mut Connection, sql: &str) -> Result<Described, Error> {
    let mut described = describe_all(conn, &[(sql, &[])]).await?;
    match described.pop() {
        Some(Ok((mut params, mut columns))) => {
            // Types outside the built-in table: read from the catalog (every group has ended).
            let missing = conn.types_to_look_up(&params, &columns);
            if !missing.is_empty() {
                conn.look_up_types(missing).await?;
                crate::client::statement::retype(&mut params, &mut columns, &conn.types);
            }
            Ok(Described::new(sql, &params, &columns))
        }
        Some(Err(e)) => Err(e),
        // `describe_all` answers every SQL text it was given.
        None => Err(Error::usage("the statement was not described")),
    }
}

/// The jobs refused for a changed column count, described afresh on `conn` (with the
/// parameter types their parameters were encoded for), to run again; a job whose SQL no longer
/// describes is answered with the error.
async fn describe_again(conn: &mut Connection, mut stale: Vec<Job>) -> Vec<Job> {
    let texts: Vec<(&str, &[u32])> = stale
        .iter()
        .map(|job| (job.described.sql(), job.described.param_oids()))
        .collect();
    let described = match describe_all(conn, &texts).await {
        Ok(described) => described,
        Err(e) => {
            fail_all(stale, &e);
            return Vec::new();
        }
    };
    let mut retries = Vec::with_capacity(stale.len());
    // One description per job, in order.
    for (mut job, description) in stale.drain(..).zip(described) {
        match description {
            Ok((_, columns)) => {
                let sql = job.described.sql();
                let params = job.described.params();
                job.described = Arc::new(Described::new(sql, params, &columns));
                job.retried = true;
                retries.push(job);
            }
            Err(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    retries
}

/// Parse/Describe/Sync of the unnamed statement for each SQL text (with its parameter types,
/// none to let the server infer them), all sent together; one result per text, in order. The
/// outer error is the connection failing.
async fn describe_all(
    conn: &mut Connection,
    texts: &[(&str, &[u32])],
) -> Result<Vec<Result<Description, Error>>, Error> {
    conn.ready().await?;
    conn.write_pending_closes()?;
    let written: Vec<Result<(), Error>> = texts
        .iter()
        .map(|(sql, types)| Ok(conn.requests().describe_unnamed(sql, types)?))
        .collect();
    // Closes written ahead of texts that all failed to encode are ended by the next `ready`.
    conn.flush().await?;
    let mut out = Vec::with_capacity(texts.len());
    for result in written {
        out.push(match result {
            Ok(()) => read_description(conn).await?,
            Err(e) => Err(e),
        });
    }
    Ok(out)
}

/// Reads one Parse/Describe/Sync group up to its ReadyForQuery. The outer error is the
/// connection failing.
async fn read_description(conn: &mut Connection) -> Result<Result<Description, Error>, Error> {
    let mut params: Option<Vec<Type>> = None;
    let mut columns: Option<Vec<Column>> = None;
    let mut first_error = None;
    loop {
        match conn.next_response().await? {
            Message::ParameterDescription(desc) => {
                params = Some(
                    desc.types
                        .iter()
                        .map(|&oid| conn.types.type_of(oid))
                        .collect(),
                );
            }
            Message::RowDescription(desc) => {
                columns = Some(columns_from(&desc, &conn.types).map_err(|e| conn.fail(e.into()))?);
            }
            Message::NoData => columns = Some(Vec::new()),
            Message::ErrorResponse(fields) => {
                first_error.get_or_insert_with(|| db_error(&fields));
            }
            Message::ReadyForQuery(_) => break,
            // ParseComplete, CloseComplete: checked by the exchange.
            _ => {}
        }
    }
    Ok(match (first_error, params, columns) {
        (Some(e), _, _) => Err(e),
        (None, Some(params), Some(columns)) => Ok((params, columns)),
        // The exchange takes ReadyForQuery only after both parts of the description, or after
        // an error.
        (None, _, _) => Err(
            conn.fail(Error::protocol(crate::proto::ProtoError::Unexpected {
                expected: "a statement description",
                got: "ReadyForQuery",
            })),
        ),
    })
}

/// How one job's group ended, when the server did not fail it.
enum Read {
    /// Its rows and command tag.
    Done(Outcome),
    /// It ran, but some result column came in a format tusk does not decode its type in.
    FormatsOutdated,
}

/// Reads one job's group (Parse, Bind, Describe, Execute, Sync) up to its ReadyForQuery. The
/// first error the server reported is returned once the group has ended, so the connection is
/// in step either way (use [`Connection::is_closed`] to tell a failed connection apart).
async fn read_job(conn: &mut Connection) -> Result<Read, Error> {
    let mut columns: Option<SharedColumns> = None;
    let mut formats_outdated = false;
    let mut rows: Vec<Row> = Vec::new();
    let mut rows_affected = None;
    let mut first_error = None;
    let mut copy_refused = false;
    loop {
        // The rows already buffered, taken in one go (the exchange lets rows through only
        // after the portal's description, so `columns` is set whenever there are any).
        if let Some(columns) = &columns {
            if let Some(run) = conn.buffered_data_rows() {
                conn.push_rows(run, columns, &mut rows)?;
            }
        }
        let msg = match conn.next_response().await {
            Ok(msg) => msg,
            Err(e) => return Err(first_error.unwrap_or(e)),
        };
        match msg {
            Message::RowDescription(desc) => {
                let (described, as_decoded) =
                    portal_columns(&desc, &conn.types).map_err(|e| conn.fail(e.into()))?;
                formats_outdated = !as_decoded;
                columns = Some(Arc::new(described));
            }
            Message::DataRow(data) => {
                let Some(columns) = &columns else {
                    // A server sends no rows for a portal it described with NoData.
                    return Err(
                        conn.fail(Error::protocol(crate::proto::ProtoError::Unexpected {
                            expected: "CommandComplete after NoData",
                            got: "DataRow",
                        })),
                    );
                };
                let row = Row::new(columns.clone(), data).map_err(|e| conn.fail(e.into()))?;
                rows.push(row);
            }
            Message::CommandComplete(tag) => rows_affected = tag.rows(),
            Message::ErrorResponse(fields) => {
                let err = db_error(&fields);
                first_error.get_or_insert(conn.fail(err));
            }
            Message::ReadyForQuery(_) => break,
            Message::CopyInResponse(_) | Message::CopyOutResponse(_) => copy_refused = true,
            // ParseComplete, BindComplete, NoData, EmptyQueryResponse, CloseComplete (of a
            // Close written ahead), refused COPY data: checked by the exchange, nothing to do.
            _ => {}
        }
    }
    if copy_refused {
        return Err(copy_refused_error("execute or query", first_error));
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if formats_outdated {
        return Ok(Read::FormatsOutdated);
    }
    Ok(Read::Done(Outcome {
        columns: columns.filter(|columns| !columns.is_empty()),
        rows,
        rows_affected,
    }))
}

/// The columns of a portal's RowDescription, and whether every one came in the format tusk
/// decodes its type in (the formats were asked for from the pool's description, which a
/// schema change may have outdated).
fn portal_columns(
    desc: &RowDescription,
    types: &crate::client::type_cache::TypeCache,
) -> Result<(Vec<Column>, bool), crate::proto::ProtoError> {
    let columns = columns_from(desc, types)?;
    let mut as_decoded = true;
    for (field, column) in desc.fields().zip(&columns) {
        as_decoded &= field?.format == column.format().code();
    }
    Ok((columns, as_decoded))
}

/// Whether `err` is the server refusing a Bind whose result format codes do not match the
/// query's columns: the column count changed since the pool described the SQL. The Bind
/// failed, so the statement did not run.
fn is_column_count_change(err: &Error) -> bool {
    err.code() == Some(&SqlState::PROTOCOL_VIOLATION)
        && err
            .as_db_error()
            .is_some_and(|db| db.message.contains("result formats but query has"))
}

/// Drops the pool's description of the job's SQL if it is still `described` (a newer one is
/// left alone), so the next caller describes it afresh.
fn forget_description(shared: &Shared, described: &Arc<Described>) {
    let mut descriptions = lock(&shared.descriptions);
    if descriptions
        .get(described.sql())
        .is_some_and(|current| Arc::ptr_eq(current, described))
    {
        descriptions.remove(described.sql());
    }
}

fn fail_all(jobs: impl IntoIterator<Item = Job>, error: &Error) {
    for job in jobs {
        let _ = job.reply.send(Err(error.duplicate()));
    }
}
