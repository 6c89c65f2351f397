//! The runner: a task holding one pool connection (and its permit) that sends the queued
//! shared queries in batches until the queue is empty, then gives both back.
//!
//! A batch is one write: Bind/Execute/Sync per query (after one Parse/Describe round trip for
//! SQL the connection has not prepared yet), then the answers are read in order. A failing
//! query ends only its own Sync group; a failing connection fails the queries it was running
//! and is replaced for the rest.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use super::{lock, unnamed, Job, Shared};
use crate::client::connection::Connection;
use crate::client::pipeline::prepare_all;
use crate::client::query::{is_stale_plan, Outcome};
use crate::client::statement::Statement;
use crate::error::Error;

/// Runs batches until the queue is empty (or the pool closed), then gives the connection and
/// the permit back.
pub(super) async fn run(shared: Arc<Shared>, mut permit: OwnedSemaphorePermit) {
    let mut conn: Option<Connection> = None;
    // Set after the permit was offered to waiting checkouts and came back: run a batch before
    // offering it again, so the loop always reaches an await (a checkout that counts itself as
    // waiting may not have reached the semaphore's queue yet; spinning here could keep it from
    // ever being polled).
    let mut offered = false;
    loop {
        let batch: Vec<Job> = {
            let mut state = lock(&shared.state);
            let yielding = !offered && shared.checkouts_waiting.load(Ordering::Acquire) > 0;
            offered = false;
            if state.closed || state.queue.is_empty() || yielding {
                if let Some(conn) = conn.take() {
                    if !state.closed && !conn.is_closed() {
                        state.idle.push(conn);
                    }
                }
                // Released under the lock: see `Shared::enqueue`. A waiting `Pool::get` is
                // handed the permit first, so shared load cannot starve checkouts.
                drop(permit);
                if state.closed || state.queue.is_empty() {
                    return;
                }
                // Jobs still wait: go on if the permit was not taken. If it was, the checkout
                // that took it starts a runner when it is given back.
                match shared.permits.clone().try_acquire_owned() {
                    Ok(again) => {
                        permit = again;
                        offered = true;
                    }
                    Err(_) => return,
                }
            }
            let n = state.queue.len().min(shared.max_batch);
            state.queue.drain(..n).collect()
        };
        let current = match &mut conn {
            Some(current) => current,
            None => match shared.open().await {
                Ok(opened) => conn.insert(opened),
                Err(e) => {
                    // The server cannot be reached: this batch fails; the next one (if any)
                    // tries again.
                    for job in batch {
                        let _ = job.reply.send(Err(e.duplicate()));
                    }
                    continue;
                }
            },
        };
        let retries = run_batch(&shared, current, batch).await;
        if current.is_closed() {
            conn = None;
        }
        if !retries.is_empty() {
            let mut state = lock(&shared.state);
            for job in retries.into_iter().rev() {
                state.queue.push_front(job);
            }
        }
    }
}

/// Runs one batch on `conn`, answering every job except those to run again (returned): the
/// ones whose cached statement went stale under a schema change. With the statement cache off
/// the batch runs on unnamed statements instead (see `unnamed.rs`).
async fn run_batch(shared: &Shared, conn: &mut Connection, jobs: Vec<Job>) -> Vec<Job> {
    if shared.config.get_statement_cache_capacity() == 0 {
        return unnamed::run_batch(shared, conn, jobs).await;
    }
    let mut retries = Vec::new();
    let statements = match statements_for(conn, &jobs).await {
        Ok(statements) => statements,
        Err(e) => {
            fail_all(jobs, &e);
            return retries;
        }
    };

    // Bind/Execute/Sync for each job whose statement is ready; the others are answered now.
    let mut sent: Vec<(Job, Statement)> = Vec::with_capacity(jobs.len());
    if let Err(e) = conn.write_pending_closes() {
        fail_all(jobs, &e);
        return retries;
    }
    for (job, statement) in jobs.into_iter().zip(statements) {
        let statement = match statement {
            Ok(statement) if statement.params() == job.described.params() => statement,
            Ok(_) => {
                let _ = job.reply.send(Err(Error::usage(
                    "the statement's parameter types changed since the pool described it; \
                     run it again",
                )));
                continue;
            }
            Err(e) => {
                let _ = job.reply.send(Err(e));
                continue;
            }
        };
        let written = conn.write_shared_job(&statement, &job.section);
        if let Err(e) = written {
            let _ = job.reply.send(Err(e));
            continue;
        }
        sent.push((job, statement));
    }
    if sent.is_empty() {
        return retries;
    }
    if let Err(e) = conn.flush().await {
        fail_all(sent.into_iter().map(|(job, _)| job), &e);
        return retries;
    }

    let mut sent = sent.into_iter();
    while let Some((mut job, statement)) = sent.next() {
        let mut rows = Vec::new();
        let read = conn
            .read_rows_to_ready(statement.shared_columns(), "execute or query", &mut rows)
            .await;
        match read {
            Ok(done) => {
                let outcome = Outcome {
                    columns: (!statement.columns().is_empty())
                        .then(|| statement.shared_columns().clone()),
                    rows,
                    rows_affected: done.rows_affected,
                };
                let _ = job.reply.send(Ok(outcome));
            }
            Err(e) if conn.is_closed() => {
                let _ = job.reply.send(Err(e.duplicate()));
                fail_all(sent.map(|(job, _)| job), &e);
                return retries;
            }
            Err(e) if is_stale_plan(&e) && !job.retried => {
                // The table under the cached statement changed shape; nothing ran (its own
                // Sync group failed). Prepare afresh and run it once more.
                conn.forget_statement(statement.sql());
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

/// Each job's statement on `conn`: from its cache, or prepared now, all SQL texts it lacks in
/// one round trip. The outer error is the connection failing.
async fn statements_for(
    conn: &mut Connection,
    jobs: &[Job],
) -> Result<Vec<Result<Statement, Error>>, Error> {
    conn.ready().await?;
    let mut found: Vec<Result<Statement, usize>> = Vec::with_capacity(jobs.len());
    let mut to_prepare: Vec<(&str, String)> = Vec::new();
    for job in jobs {
        let sql = job.described.sql();
        found.push(match conn.cached_statement(sql) {
            Some(statement) => Ok(statement),
            None => Err(match to_prepare.iter().position(|(s, _)| *s == sql) {
                Some(i) => i,
                None => {
                    to_prepare.push((sql, conn.next_statement_name()));
                    to_prepare.len() - 1
                }
            }),
        });
    }
    // One result per entry of `to_prepare`, so every index below is valid.
    let prepared = prepare_all(conn, &to_prepare).await?;
    Ok(found
        .into_iter()
        .map(|f| match f {
            Ok(statement) => Ok(statement),
            Err(i) => match &prepared[i] {
                Ok(statement) => Ok(statement.clone()),
                Err(e) => Err(e.duplicate()),
            },
        })
        .collect())
}

fn fail_all(jobs: impl IntoIterator<Item = Job>, error: &Error) {
    for job in jobs {
        let _ = job.reply.send(Err(error.duplicate()));
    }
}
