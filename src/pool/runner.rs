//! The runner: a task holding one pool connection (and its permit) that sends the queued
//! shared queries in batches until the queue is empty, then gives both back.
//!
//! A batch is one write: Bind/Execute/Sync per query (after one Parse/Describe round trip for
//! SQL the connection has not prepared yet), then the answers are read in order. A failing
//! query ends only its own Sync group; a failing connection fails the queries it was running
//! and is replaced for the rest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::OwnedSemaphorePermit;

use super::lifecycle::{close_in_background, Live};
use super::status::CloseReason;
use super::{lock, unnamed, Job, Shared};
use crate::client::connection::Connection;
use crate::client::pipeline::prepare_all;
use crate::client::query::{is_stale_plan, Outcome};
use crate::client::statement::Statement;
use crate::config::TargetSessionAttrs;
use crate::error::Error;

/// Runs batches until the queue is empty, then gives the connection and the permit back.
/// After [`Pool::close`](super::Pool::close) it still runs what was queued.
pub(super) async fn run(shared: Arc<Shared>, mut permit: OwnedSemaphorePermit) {
    let mut live: Option<Live> = None;
    // Set by a job's reply when the server refused it as read-only (SQLSTATE 25006), watched
    // only when the pool needs read-write sessions: the server changed role under us.
    let read_only_seen =
        (shared.attrs == TargetSessionAttrs::ReadWrite).then(|| Arc::new(AtomicBool::new(false)));
    // Set after the permit was offered to waiting checkouts and came back: run a batch before
    // offering it again, so the loop always reaches an await (a checkout that counts itself as
    // waiting may not have reached the semaphore's queue yet; spinning here could keep it from
    // ever being polled).
    let mut offered = false;
    loop {
        {
            let mut state = lock(&shared.state);
            // After `close`, no checkout waits for a permit: none is yielded to them.
            let yielding =
                !state.closed && !offered && shared.checkouts_waiting.load(Ordering::Acquire) > 0;
            offered = false;
            if state.queue.is_empty() || yielding {
                if let Some(live) = live.take() {
                    shared.put_idle(&mut state, live);
                }
                if state.queue.is_empty() {
                    // Released under the lock: see `Shared::enqueue`.
                    shared.release(state, permit);
                    return;
                }
                // A waiting `Pool::get` is handed the permit first, so shared load cannot
                // starve checkouts.
                drop(permit);
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
        }
        // The connection is found before the jobs are taken off the queue, so a job waits in
        // the queue (where its acquire timeout can take it back) until a connection is ready.
        let current = match &mut live {
            Some(current) => current,
            None => match open(&shared).await {
                Some(Ok(opened)) => live.insert(opened),
                Some(Err(e)) => {
                    // The server cannot be reached: this batch fails; the next one (if any)
                    // tries again.
                    let batch = take_batch(&shared, None);
                    for job in batch {
                        let _ = job.reply.send(Err(e.duplicate()));
                    }
                    continue;
                }
                // No connection within the acquire timeout: the jobs that waited that long
                // have been taken off the queue by their own timeouts; try again for the rest
                // (after letting their callers run: with a zero timeout no attempt waits).
                None => {
                    tokio::task::yield_now().await;
                    continue;
                }
            },
        };
        let batch = take_batch(&shared, read_only_seen.as_ref());
        if batch.is_empty() {
            // Its jobs timed out while the connection was being found.
            continue;
        }
        let retries = run_batch(&shared, &mut current.conn, batch).await;
        let refused_as_read_only = read_only_seen
            .as_ref()
            .is_some_and(|seen| seen.swap(false, Ordering::Relaxed));
        let reason = if current.conn.is_closed() {
            Some(CloseReason::Broken)
        } else if refused_as_read_only {
            log::info!(
                "discarding a pooled connection: a shared query was refused with SQLSTATE \
                 25006 (read-only transaction) and target_session_attrs=read-write"
            );
            Some(CloseReason::RoleChanged)
        } else {
            // Expired or of another role: a new connection for the next batch.
            shared.unfit(current, Instant::now())
        };
        if let Some(reason) = reason {
            if let Some(done) = live.take() {
                close_in_background(done.retire(reason));
            }
        }
        if !retries.is_empty() {
            let mut state = lock(&shared.state);
            for job in retries.into_iter().rev() {
                state.queue.push_front(job);
            }
        }
    }
}

/// A connection for the runner; `None` when none came within the acquire timeout (the
/// jobs' own timeouts take them off the queue meanwhile; this one keeps a runner stuck opening
/// from holding its permit for ever).
async fn open(shared: &Shared) -> Option<Result<Live, Error>> {
    match shared.lifecycle.acquire_timeout {
        None => Some(shared.take_or_open().await),
        Some(limit) => tokio::time::timeout(limit, shared.take_or_open())
            .await
            .ok(),
    }
}

/// Takes the next batch off the queue; each job's reply watches for a read-only refusal when
/// `read_only_seen` is given.
fn take_batch(shared: &Shared, read_only_seen: Option<&Arc<AtomicBool>>) -> Vec<Job> {
    let mut state = lock(&shared.state);
    let n = state.queue.len().min(shared.max_batch);
    state
        .queue
        .drain(..n)
        .map(|mut job| {
            job.reply.read_only_seen = read_only_seen.cloned();
            job
        })
        .collect()
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
        // Each job's statement gets the statement timeout of its own: they run one after the
        // other on the server. (After one passed it, the rest fail at once: see deadline.rs.)
        conn.start_deadline();
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
