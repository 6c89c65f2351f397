//! The workers: each loops over random operations on the pool (transactions inserting ledger
//! rows, COPY batches, autocommit inserts through the pool's shared path, read-backs of its
//! own rows, notifications), retries after errors with a small backoff, and records in its
//! [`Ledger`]s what it was told about every unit's commit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tusk::{Error, Kind};

use crate::ledger::{Ledger, Outcome};
use crate::{Ctx, Rng};

/// The longest an operation may take before it counts as a hang. Every wait inside one is
/// bounded below this: the pool's acquire timeout (10 s), the connect timeout (5 s), the
/// server's statement_timeout (10 s).
pub const OP_LIMIT: Duration = Duration::from_secs(30);

/// The channel the workers notify on and the listener listens to.
pub const CHANNEL: &str = "soak";

const INSERT: &str = "INSERT INTO soak_ledger (id, worker, op) VALUES ($1, $2, $3)";
const NOTIFY: &str = "SELECT pg_notify('soak', $1)";
const COPY: &str = "COPY soak_ledger (id, worker, op) FROM STDIN";
/// Each id of the window with its number of copies.
const READ_BACK: &str =
    "SELECT id, count(*) FROM soak_ledger WHERE id >= $1 AND id < $2 GROUP BY id";
/// How many of its latest ids a read-back checks.
const READ_WINDOW: usize = 300;

/// What a worker does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// BEGIN, 1-5 INSERTs (one statement each), maybe a pg_notify, COMMIT.
    TxInsert,
    /// BEGIN, 2-8 INSERTs in one pipeline, maybe a pg_notify, COMMIT.
    TxPipeline,
    /// One INSERT through `Pool::execute` (the shared, batching path), in its own implicit
    /// transaction.
    SharedInsert,
    /// COPY FROM STDIN of 5-50 rows in its own implicit transaction.
    Copy,
    /// BEGIN, COPY FROM STDIN of 5-25 rows, maybe a pg_notify, COMMIT.
    TxCopy,
    /// A read-back of the worker's latest ids on a checked-out connection.
    Read,
    /// The same read-back through `Pool::query`.
    SharedRead,
    /// `pg_notify` through `Pool::execute`, in its own implicit transaction.
    Notify,
    /// One of the writes above, dropped after a random 0-4 ms if it has not finished: the
    /// future is dropped at whatever await point it reached (a dropped transaction must never
    /// commit, and the connection must go back to the pool consistent).
    Cancelled,
}

impl Op {
    /// Every operation with its weight in the mix.
    const MIX: [(Op, u32); 9] = [
        (Op::TxInsert, 20),
        (Op::TxPipeline, 10),
        (Op::SharedInsert, 15),
        (Op::Copy, 10),
        (Op::TxCopy, 5),
        (Op::Read, 15),
        (Op::SharedRead, 15),
        (Op::Notify, 10),
        (Op::Cancelled, 8),
    ];

    /// The operations [`Op::Cancelled`] cuts short.
    const WRITES: [Op; 6] = [
        Op::TxInsert,
        Op::TxPipeline,
        Op::SharedInsert,
        Op::Copy,
        Op::TxCopy,
        Op::Notify,
    ];

    /// A name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::TxInsert => "tx-insert",
            Op::TxPipeline => "tx-pipeline",
            Op::SharedInsert => "shared-insert",
            Op::Copy => "copy",
            Op::TxCopy => "tx-copy",
            Op::Read => "read",
            Op::SharedRead => "shared-read",
            Op::Notify => "notify",
            Op::Cancelled => "cancelled",
        }
    }

    fn pick(rng: &mut Rng) -> Op {
        let total: u32 = Op::MIX.iter().map(|(_, w)| w).sum();
        let mut roll = rng.below(u64::from(total)) as u32;
        for (op, weight) in Op::MIX {
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        Op::Read
    }

    /// Whether a failure of this operation can have committed anything (the shared path's
    /// classification also differs: see [`classify`]).
    fn via_shared_path(self) -> bool {
        matches!(self, Op::SharedInsert | Op::Notify)
    }
}

/// How far an operation got, for classifying its failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing that can commit has been handed to the connection: a failure commits nothing.
    Safe,
    /// The COMMIT, the end of an autocommit COPY or an autocommit statement is (or may be) on
    /// its way: a lost connection leaves the outcome unknown.
    CommitSent,
}

/// What a unit of work adds to the ledger: `rows` ids in the table's ledger, and a
/// notification (sent inside the transaction, keyed by its first row id, or on its own, keyed
/// by an id of the notification ledger).
#[derive(Debug, Clone, Copy)]
struct Unit {
    rows: usize,
    notify: bool,
}

/// One operation's counts.
#[derive(Debug, Clone, Default)]
pub struct OpStats {
    /// Times it ran.
    pub runs: u64,
    /// Units by outcome (indexed by [`Outcome::index`]); reads count as committed when they
    /// succeeded and as not committed when they failed.
    pub outcomes: [u64; 3],
    /// Rows in committed units.
    pub rows_committed: u64,
    /// The slowest run.
    pub slowest: Duration,
}

/// Errors by operation, kind and SQLSTATE, with the first message of each.
#[derive(Debug, Clone, Default)]
pub struct ErrorTally {
    /// Key → (count, first message).
    pub counts: BTreeMap<String, (u64, String)>,
}

impl ErrorTally {
    fn add(&mut self, op: Op, err: &Error) {
        let entry = self
            .counts
            .entry(error_key(op.name(), err))
            .or_insert_with(|| (0, short(&err.to_string())));
        entry.0 += 1;
    }

    /// Adds another tally's counts to this one.
    pub fn merge(&mut self, other: ErrorTally) {
        for (key, (count, message)) in other.counts {
            self.counts.entry(key).or_insert((0, message)).0 += count;
        }
    }
}

/// `op kind [SQLSTATE] [FATAL]`, the key errors are counted under.
pub fn error_key(op: &str, err: &Error) -> String {
    let mut key = format!("{op} {:?}", err.kind());
    if let Some(code) = err.code() {
        let _ = write!(key, " {}", code.code());
    }
    if let Some(db) = err.as_db_error() {
        if db.severity != "ERROR" {
            let _ = write!(key, " {}", db.severity);
        }
    }
    key
}

/// The first line of a message, cut to a report's width.
pub fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    match line.char_indices().nth(110) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

/// What a worker hands back when the soak ends.
#[derive(Debug)]
pub struct WorkerReport {
    /// The ids of the table's rows it generated.
    pub rows: Ledger,
    /// The ids of the notifications it sent on their own (`Op::Notify`).
    pub notes: Ledger,
    /// Notifications sent inside transactions, by the transaction's outcome.
    pub tx_notes: [u64; 3],
    /// Per operation.
    pub stats: BTreeMap<Op, OpStats>,
    /// Failed operations.
    pub errors: ErrorTally,
    /// Read-backs that completed and the ids they compared.
    pub reads_checked: u64,
    /// Ids compared by read-backs.
    pub ids_read: u64,
}

/// Runs worker `index` until the soak stops.
pub async fn worker(ctx: Arc<Ctx>, index: u32) -> WorkerReport {
    let mut me = WorkerReport {
        rows: Ledger::new(index),
        notes: Ledger::new(index),
        tx_notes: [0; 3],
        stats: BTreeMap::new(),
        errors: ErrorTally::default(),
        reads_checked: 0,
        ids_read: 0,
    };
    let mut rng = Rng::new(u64::from(index) + 1);
    let mut failures_in_a_row = 0u32;
    while !ctx.stopping() {
        // `picked` is what the statistics count; `op` is what runs.
        let picked = Op::pick(&mut rng);
        let (op, limit) = match picked {
            Op::Cancelled => {
                let write = Op::WRITES[rng.below(Op::WRITES.len() as u64) as usize];
                (write, Duration::from_micros(rng.below(4000)))
            }
            _ => (picked, OP_LIMIT),
        };
        let unit = plan(op, &mut rng);
        let row_ids = me.rows.next_ids(unit.rows);
        let note_id = me.notes.next_ids(1).start;
        let mut phase = Phase::Safe;
        let started = Instant::now();
        let ran = tokio::time::timeout(
            limit,
            run(
                &ctx, op, index, unit, &row_ids, note_id, &me.rows, &mut phase,
            ),
        )
        .await;
        let took = started.elapsed();
        let (outcome, failed) = match ran {
            Ok(Ok(ReadBack::Checked(ids))) => {
                me.reads_checked += 1;
                me.ids_read += ids;
                (Outcome::Committed, false)
            }
            Ok(Ok(_)) => (Outcome::Committed, false),
            Ok(Err(e)) => {
                me.errors.add(picked, &e);
                (classify(phase, &e, op.via_shared_path()), true)
            }
            // Cut short on purpose: whatever was sent may or may not commit.
            Err(_) if picked == Op::Cancelled => (dropped(phase), false),
            Err(_) => {
                ctx.fail(format!(
                    "worker {index}: {} did not finish within {OP_LIMIT:?} (a hang)",
                    op.name()
                ));
                (dropped(phase), true)
            }
        };
        record(&mut me, picked, op, unit, outcome, took);
        if outcome == Outcome::Committed {
            ctx.committed(unit.rows, unit.notify);
        }
        if !failed {
            failures_in_a_row = 0;
        } else {
            failures_in_a_row += 1;
            // 20-40 ms doubling per failure in a row, up to about a second.
            let base = 20u64 << failures_in_a_row.min(5);
            let pause = base + rng.below(base);
            ctx.sleep(Duration::from_millis(pause)).await;
        }
    }
    me
}

/// Chooses the size of an operation's unit.
fn plan(op: Op, rng: &mut Rng) -> Unit {
    let tx_notify = rng.below(3) == 0;
    match op {
        Op::TxInsert => Unit {
            rows: 1 + rng.below(5) as usize,
            notify: tx_notify,
        },
        Op::TxPipeline => Unit {
            rows: 2 + rng.below(7) as usize,
            notify: tx_notify,
        },
        Op::SharedInsert => Unit {
            rows: 1,
            notify: false,
        },
        Op::Copy => Unit {
            rows: 5 + rng.below(46) as usize,
            notify: false,
        },
        Op::TxCopy => Unit {
            rows: 5 + rng.below(21) as usize,
            notify: tx_notify,
        },
        Op::Read | Op::SharedRead | Op::Cancelled => Unit {
            rows: 0,
            notify: false,
        },
        Op::Notify => Unit {
            rows: 0,
            notify: true,
        },
    }
}

/// Enters a unit's outcome in the ledgers, and in the statistics under `picked`.
fn record(me: &mut WorkerReport, picked: Op, op: Op, unit: Unit, outcome: Outcome, took: Duration) {
    me.rows.record(unit.rows, outcome);
    if unit.notify {
        if op == Op::Notify {
            me.notes.record(1, outcome);
        } else {
            me.tx_notes[outcome.index()] += 1;
        }
    }
    let stats = me.stats.entry(picked).or_default();
    stats.runs += 1;
    stats.outcomes[outcome.index()] += 1;
    if outcome == Outcome::Committed {
        stats.rows_committed += unit.rows as u64;
    }
    stats.slowest = stats.slowest.max(took);
}

/// What a unit whose future was dropped did to the database: nothing before anything that
/// can commit was sent (a dropped transaction guard queues a ROLLBACK), unknown after.
fn dropped(phase: Phase) -> Outcome {
    match phase {
        Phase::Safe => Outcome::NotCommitted,
        Phase::CommitSent => Outcome::Ambiguous,
    }
}

/// What a failed unit did to the database, from how far it got and what the error says.
fn classify(phase: Phase, err: &Error, shared_path: bool) -> Outcome {
    if phase == Phase::Safe {
        return Outcome::NotCommitted;
    }
    match err.kind() {
        // The server answered with an ERROR: the statement, COPY or COMMIT failed and its
        // transaction is rolled back. Not a FATAL, nor the WARNING of an immediate shutdown:
        // the session ended, maybe after the commit.
        Kind::Db if err.as_db_error().is_some_and(|d| d.severity == "ERROR") => {
            Outcome::NotCommitted
        }
        // commit() on an aborted transaction rolls it back and says so.
        Kind::AbortedTransaction => Outcome::NotCommitted,
        // The shared path's queue timeout: the pool says the query never ran (SQLSTATE-less,
        // unlike a cancelled statement's 57014). The final check holds it to that.
        Kind::Timeout if shared_path && err.code().is_none() => Outcome::NotCommitted,
        _ => Outcome::Ambiguous,
    }
}

/// What an operation that succeeded did.
enum ReadBack {
    /// Not a read.
    Wrote,
    /// Nothing to read back yet.
    Nothing,
    /// A read-back compared this many ids.
    Checked(u64),
}

/// Runs one operation. `phase` says, if it fails or is dropped, whether anything that can
/// commit was sent.
#[allow(clippy::too_many_arguments)]
async fn run(
    ctx: &Ctx,
    op: Op,
    worker: u32,
    unit: Unit,
    ids: &Range<i64>,
    note_id: i64,
    rows: &Ledger,
    phase: &mut Phase,
) -> Result<ReadBack, Error> {
    let worker = worker as i32;
    // A notification inside a transaction is keyed by the transaction's first row.
    let tx_payload = format!("r:{}", ids.start);
    match op {
        Op::TxInsert | Op::TxPipeline => {
            let mut conn = ctx.pool.get().await?;
            let mut tx = conn.transaction().await?;
            let ids: Vec<i64> = ids.clone().collect();
            if op == Op::TxInsert {
                for id in &ids {
                    tx.execute(INSERT, &[id, &worker, &op.name()]).await?;
                }
            } else {
                let name = op.name();
                let mut pipeline = tx.pipeline();
                for id in &ids {
                    pipeline.execute(INSERT, &[id, &worker, &name]);
                }
                for result in pipeline.run().await? {
                    result?;
                }
            }
            if unit.notify {
                tx.execute(NOTIFY, &[&tx_payload]).await?;
            }
            *phase = Phase::CommitSent;
            tx.commit().await?;
        }
        Op::SharedInsert => {
            *phase = Phase::CommitSent;
            ctx.pool
                .execute(INSERT, &[&ids.start, &worker, &op.name()])
                .await?;
        }
        Op::Copy => {
            let mut conn = ctx.pool.get().await?;
            let mut copy = conn.copy_in(COPY).await?;
            for chunk in copy_text(ids, worker, op).chunks(16) {
                copy.send(chunk.concat()).await?;
            }
            *phase = Phase::CommitSent;
            copy.finish().await?;
        }
        Op::TxCopy => {
            let mut conn = ctx.pool.get().await?;
            let mut tx = conn.transaction().await?;
            let mut copy = tx.copy_in(COPY).await?;
            copy.send(copy_text(ids, worker, op).concat()).await?;
            copy.finish().await?;
            if unit.notify {
                tx.execute(NOTIFY, &[&tx_payload]).await?;
            }
            *phase = Phase::CommitSent;
            tx.commit().await?;
        }
        Op::Read | Op::SharedRead => {
            let Some(window) = rows.recent(READ_WINDOW) else {
                return Ok(ReadBack::Nothing);
            };
            let found = if op == Op::SharedRead {
                ctx.pool
                    .query(READ_BACK, &[&window.start, &window.end])
                    .await?
            } else {
                let mut conn = ctx.pool.get().await?;
                conn.query(READ_BACK, &[&window.start, &window.end]).await?
            };
            let mut committed_seen = 0;
            for row in &found {
                let id: i64 = row.try_get(0)?;
                let copies: i64 = row.try_get(1)?;
                let outcome = rows.outcome(id);
                if copies != 1 || !matches!(outcome, Some(Outcome::Committed | Outcome::Ambiguous))
                {
                    ctx.fail(format!(
                        "worker {worker}: {} found id {id} {copies} time(s), recorded as {:?}",
                        op.name(),
                        outcome
                    ));
                }
                if outcome == Some(Outcome::Committed) {
                    committed_seen += 1;
                }
            }
            let committed = rows.count_in(&window, Outcome::Committed);
            if committed_seen != committed {
                ctx.fail(format!(
                    "worker {worker}: {} saw {committed_seen} of its {committed} acknowledged ids \
                     in {window:?}: an acknowledged commit is not visible",
                    op.name()
                ));
            }
            return Ok(ReadBack::Checked(window.end as u64 - window.start as u64));
        }
        Op::Notify => {
            *phase = Phase::CommitSent;
            ctx.pool.execute(NOTIFY, &[&format!("n:{note_id}")]).await?;
        }
        // Never run as such: the worker runs one of `Op::WRITES` in its place.
        Op::Cancelled => return Ok(ReadBack::Nothing),
    }
    Ok(ReadBack::Wrote)
}

/// The COPY text rows for `ids`, one string per row.
fn copy_text(ids: &Range<i64>, worker: i32, op: Op) -> Vec<String> {
    ids.clone()
        .map(|id| format!("{id}\t{worker}\t{}\n", op.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_by_phase_and_answer() {
        let closed = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(Phase::Safe, &closed, false), Outcome::NotCommitted);
        assert_eq!(
            classify(Phase::CommitSent, &closed, false),
            Outcome::Ambiguous
        );
        assert_eq!(
            classify(Phase::CommitSent, &closed, true),
            Outcome::Ambiguous
        );
    }

    #[test]
    fn the_mix_picks_every_operation() {
        let mut rng = Rng::new(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            seen.insert(Op::pick(&mut rng));
        }
        assert_eq!(seen.len(), Op::MIX.len());
    }
}
