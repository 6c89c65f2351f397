//! The client's side of the ledger: which ids a worker generated and what it was told about
//! each one's commit, and the final comparison against the rows the server holds.
//!
//! Ids are generated per worker in order (`worker << OWNER_SHIFT | sequence`), and each unit of
//! work (a transaction, a COPY, one autocommit insert) takes the next few and ends with one
//! outcome for all of them. A [`Ledger`] therefore keeps runs of ids with the same outcome, not
//! one entry per id: a 30-minute soak with millions of rows keeps a few thousand runs, so the
//! bookkeeping does not show up in the RSS the soak watches for leaks.

use std::ops::Range;

/// Bits of an id below the owner (worker) number: 2^40 ids per worker.
pub const OWNER_SHIFT: u32 = 40;

/// What a worker knows about a unit's commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The server acknowledged the commit: every id must be in the table exactly once.
    Committed,
    /// It failed before anything that could commit was sent, or the server answered it with an
    /// ERROR: no id may be in the table.
    NotCommitted,
    /// The connection failed after the commit (or an autocommit statement) was handed to it:
    /// either way is correct, and the check reports how many went which way.
    Ambiguous,
}

impl Outcome {
    /// The outcome's position in per-outcome arrays: committed, not committed, ambiguous.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A run of consecutive ids with one outcome; it starts where the previous run ends.
#[derive(Debug, Clone, Copy)]
struct Run {
    end: i64,
    outcome: Outcome,
}

/// The ids one owner generated, in runs of equal outcome.
#[derive(Debug, Clone)]
pub struct Ledger {
    base: i64,
    next: i64,
    runs: Vec<Run>,
}

impl Ledger {
    /// An empty ledger for owner `owner` (a worker's index).
    pub fn new(owner: u32) -> Ledger {
        let base = i64::from(owner) << OWNER_SHIFT;
        Ledger {
            base,
            next: base,
            runs: Vec::new(),
        }
    }

    /// The ids the next unit of `count` ids will have; taken by [`Ledger::record`].
    pub fn next_ids(&self, count: usize) -> Range<i64> {
        self.next..self.next + count as i64
    }

    /// Records the outcome of the next `count` ids (those [`Ledger::next_ids`] gave).
    pub fn record(&mut self, count: usize, outcome: Outcome) {
        if count == 0 {
            return;
        }
        self.next += count as i64;
        match self.runs.last_mut() {
            Some(last) if last.outcome == outcome => last.end = self.next,
            _ => self.runs.push(Run {
                end: self.next,
                outcome,
            }),
        }
    }

    /// The recorded outcome of `id`, `None` when this ledger never gave it out.
    pub fn outcome(&self, id: i64) -> Option<Outcome> {
        if id < self.base || id >= self.next {
            return None;
        }
        let i = self.runs.partition_point(|run| run.end <= id);
        self.runs.get(i).map(|run| run.outcome)
    }

    /// The last `len` ids recorded (fewer at the start), `None` before the first.
    pub fn recent(&self, len: usize) -> Option<Range<i64>> {
        (self.next > self.base).then(|| (self.next - len as i64).max(self.base)..self.next)
    }

    /// Every run as its ids and their outcome, in id order.
    pub fn runs(&self) -> impl Iterator<Item = (Range<i64>, Outcome)> + '_ {
        let starts = std::iter::once(self.base).chain(self.runs.iter().map(|run| run.end));
        starts
            .zip(&self.runs)
            .map(|(start, run)| (start..run.end, run.outcome))
    }

    /// How many ids in `range` have `outcome`.
    pub fn count_in(&self, range: &Range<i64>, outcome: Outcome) -> u64 {
        self.runs()
            .filter(|(_, o)| *o == outcome)
            .map(|(ids, _)| (ids.end.min(range.end) - ids.start.max(range.start)).max(0) as u64)
            .sum()
    }

    /// Ids recorded, by outcome (indexed by [`Outcome::index`]).
    pub fn totals(&self) -> [u64; 3] {
        let mut totals = [0; 3];
        for (ids, outcome) in self.runs() {
            totals[outcome.index()] += (ids.end - ids.start) as u64;
        }
        totals
    }

    /// The heap memory the ledger holds, which the RSS check allows for.
    pub fn heap_bytes(&self) -> usize {
        self.runs.capacity() * std::mem::size_of::<Run>()
    }
}

/// Looks `id` up in the ledger of its owner (`ledgers[id >> OWNER_SHIFT]`).
pub fn lookup(ledgers: &[Ledger], id: i64) -> Option<Outcome> {
    let owner = usize::try_from(id >> OWNER_SHIFT).ok()?;
    ledgers.get(owner)?.outcome(id)
}

/// Ids of one outcome: how many the workers recorded and how many the table holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Ids recorded with this outcome.
    pub ids: u64,
    /// Of those, ids found in the table (each counted once, however many copies).
    pub present: u64,
}

/// What the comparison of the ledgers with the table found.
#[derive(Debug, Clone, Default)]
pub struct LedgerCheck {
    /// Rows in the table.
    pub rows: u64,
    /// Distinct ids in the table.
    pub distinct: u64,
    /// Per outcome, indexed by [`Outcome::index`].
    pub tallies: [Tally; 3],
    /// Ids present more than once.
    pub duplicated: u64,
    /// Ids in the table that no worker generated.
    pub unknown: u64,
    /// Ids that did not arrive in ascending order (the check's own query is wrong).
    pub out_of_order: u64,
    /// The first few problems, with their ids.
    pub examples: Vec<String>,
}

impl LedgerCheck {
    /// Committed ids absent from the table.
    pub fn missing(&self) -> u64 {
        let committed = self.tallies[Outcome::Committed.index()];
        committed.ids - committed.present
    }

    /// Not-committed ids present in the table.
    pub fn resurrected(&self) -> u64 {
        self.tallies[Outcome::NotCommitted.index()].present
    }

    /// Whether every rule held: each committed id present, none duplicated, no failed or
    /// unknown id present.
    pub fn passed(&self) -> bool {
        self.missing() == 0
            && self.resurrected() == 0
            && self.duplicated == 0
            && self.unknown == 0
            && self.out_of_order == 0
    }

    fn example(&mut self, text: String) {
        const KEPT: usize = 10;
        if self.examples.len() < KEPT {
            self.examples.push(text);
        }
    }
}

/// Compares the table's `(id, copies)` rows, fed in ascending id order, with the ledgers, in
/// one pass and constant memory.
pub struct Verifier {
    runs: Vec<(Range<i64>, Outcome)>,
    /// The run the next id is compared with.
    pos: usize,
    /// The next id of the current run not yet seen in the table.
    cursor: i64,
    present_in_run: u64,
    last_id: Option<i64>,
    check: LedgerCheck,
}

impl Verifier {
    /// A verifier for every run of `ledgers`.
    pub fn new(ledgers: &[Ledger]) -> Verifier {
        let mut runs: Vec<(Range<i64>, Outcome)> = ledgers.iter().flat_map(Ledger::runs).collect();
        runs.sort_by_key(|(ids, _)| ids.start);
        let cursor = runs.first().map_or(0, |(ids, _)| ids.start);
        Verifier {
            runs,
            pos: 0,
            cursor,
            present_in_run: 0,
            last_id: None,
            check: LedgerCheck::default(),
        }
    }

    /// Takes the next row of the table: an id and how many rows carry it.
    pub fn push(&mut self, id: i64, copies: i64) {
        if self.last_id.is_some_and(|last| id <= last) {
            self.check.out_of_order += 1;
            self.check
                .example(format!("id {id} arrived after id {:?}", self.last_id));
            return;
        }
        self.last_id = Some(id);
        self.check.rows += copies.max(0) as u64;
        self.check.distinct += 1;
        while self.pos < self.runs.len() && self.runs[self.pos].0.end <= id {
            self.close_run();
        }
        match self.runs.get(self.pos) {
            Some((ids, outcome)) if ids.start <= id => {
                let outcome = *outcome;
                if outcome == Outcome::Committed && id > self.cursor {
                    self.missing_example(self.cursor, id);
                }
                if outcome == Outcome::NotCommitted {
                    self.check.example(format!(
                        "id {id} (worker {}) is in the table, but its unit was not committed",
                        id >> OWNER_SHIFT
                    ));
                }
                self.present_in_run += 1;
                self.cursor = id + 1;
            }
            _ => {
                self.check.unknown += 1;
                self.check.example(format!(
                    "id {id} is in the table, but no worker generated it"
                ));
            }
        }
        if copies > 1 {
            self.check.duplicated += 1;
            self.check
                .example(format!("id {id} is in the table {copies} times"));
        }
    }

    /// Ends the comparison.
    pub fn finish(mut self) -> LedgerCheck {
        while self.pos < self.runs.len() {
            self.close_run();
        }
        self.check
    }

    fn close_run(&mut self) {
        let (ids, outcome) = self.runs[self.pos].clone();
        if outcome == Outcome::Committed && self.cursor < ids.end {
            self.missing_example(self.cursor, ids.end);
        }
        let tally = &mut self.check.tallies[outcome.index()];
        tally.ids += (ids.end - ids.start) as u64;
        tally.present += self.present_in_run;
        self.present_in_run = 0;
        self.pos += 1;
        if let Some((next, _)) = self.runs.get(self.pos) {
            self.cursor = next.start;
        }
    }

    fn missing_example(&mut self, from: i64, to: i64) {
        self.check.example(format!(
            "committed ids {from}..{to} (worker {}, {} ids) are not in the table",
            from >> OWNER_SHIFT,
            to - from
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two workers: worker 0 committed 0..3, failed 3..5, committed 5..6; worker 1 ambiguous
    /// 0..2, committed 2..4.
    fn ledgers() -> Vec<Ledger> {
        let mut a = Ledger::new(0);
        a.record(3, Outcome::Committed);
        a.record(2, Outcome::NotCommitted);
        a.record(1, Outcome::Committed);
        let mut b = Ledger::new(1);
        b.record(2, Outcome::Ambiguous);
        b.record(2, Outcome::Committed);
        vec![a, b]
    }

    fn id(owner: i64, seq: i64) -> i64 {
        owner << OWNER_SHIFT | seq
    }

    fn verify(rows: &[(i64, i64)]) -> LedgerCheck {
        let ledgers = ledgers();
        let mut verifier = Verifier::new(&ledgers);
        for &(id, copies) in rows {
            verifier.push(id, copies);
        }
        verifier.finish()
    }

    fn all_committed() -> Vec<(i64, i64)> {
        vec![
            (id(0, 0), 1),
            (id(0, 1), 1),
            (id(0, 2), 1),
            (id(0, 5), 1),
            (id(1, 2), 1),
            (id(1, 3), 1),
        ]
    }

    #[test]
    fn runs_merge_and_lookups_find_them() {
        let ledgers = ledgers();
        assert_eq!(ledgers[0].runs().count(), 3);
        assert_eq!(lookup(&ledgers, id(0, 4)), Some(Outcome::NotCommitted));
        assert_eq!(lookup(&ledgers, id(0, 5)), Some(Outcome::Committed));
        assert_eq!(lookup(&ledgers, id(0, 6)), None);
        assert_eq!(lookup(&ledgers, id(1, 1)), Some(Outcome::Ambiguous));
        assert_eq!(lookup(&ledgers, id(7, 0)), None);
        assert_eq!(ledgers[0].totals(), [4, 2, 0]);
        assert_eq!(ledgers[0].recent(2), Some(id(0, 4)..id(0, 6)));
        assert_eq!(
            ledgers[0].count_in(&(id(0, 2)..id(0, 6)), Outcome::Committed),
            2
        );
        let mut merged = Ledger::new(2);
        merged.record(1, Outcome::Committed);
        merged.record(4, Outcome::Committed);
        assert_eq!(merged.runs().count(), 1);
        assert_eq!(Ledger::new(3).recent(5), None);
    }

    #[test]
    fn a_faithful_table_passes() {
        let check = verify(&all_committed());
        assert!(check.passed(), "{check:?}");
        assert_eq!(
            check.tallies[Outcome::Committed.index()],
            Tally { ids: 6, present: 6 }
        );
        assert_eq!(
            check.tallies[Outcome::Ambiguous.index()],
            Tally { ids: 2, present: 0 }
        );
        let mut with_ambiguous = all_committed();
        with_ambiguous.insert(4, (id(1, 1), 1));
        let check = verify(&with_ambiguous);
        assert!(check.passed(), "{check:?}");
        assert_eq!(check.tallies[Outcome::Ambiguous.index()].present, 1);
    }

    #[test]
    fn a_missing_committed_id_fails() {
        for gone in [0, 1, 3, 5] {
            let mut rows = all_committed();
            let removed = rows.remove(gone).0;
            let check = verify(&rows);
            assert!(!check.passed());
            assert_eq!(check.missing(), 1);
            assert!(
                check.examples[0].contains(&format!("{removed}..{}", removed + 1)),
                "{:?}",
                check.examples
            );
        }
    }

    #[test]
    fn a_duplicate_fails() {
        let mut rows = all_committed();
        rows[2].1 = 2;
        let check = verify(&rows);
        assert!(!check.passed());
        assert_eq!((check.duplicated, check.rows, check.missing()), (1, 7, 0));
    }

    #[test]
    fn a_failed_or_unknown_id_present_fails() {
        let mut rows = all_committed();
        rows.insert(3, (id(0, 3), 1));
        let check = verify(&rows);
        assert!(!check.passed());
        assert_eq!(check.resurrected(), 1);

        let mut rows = all_committed();
        rows.push((id(1, 9), 1));
        let check = verify(&rows);
        assert!(!check.passed());
        assert_eq!(check.unknown, 1);
    }

    #[test]
    fn rows_out_of_order_fail() {
        let mut rows = all_committed();
        rows.swap(0, 1);
        assert!(!verify(&rows).passed());
    }
}
