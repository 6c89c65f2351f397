//! LISTEN/NOTIFY under chaos: a [`Listener`] on the soak's channel collects every payload the
//! workers' notifications carry, and [`check`] compares them with what was sent.
//!
//! Payloads name what sent them: `r:<id>` inside the transaction whose first row is `id`,
//! `n:<id>` for a standalone `pg_notify` (an id of the sender's notification ledger), `end`
//! for the marker sent after the chaos. A notification may be lost while the listener is
//! reconnecting (and any queued in the server at an immediate shutdown), so losses are
//! reported, not failed; one that was never sent, or arrives twice, is a failure.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tusk::{Listener, ListenerEvent, ReconnectPolicy};

use crate::ledger::{lookup, Ledger, Outcome};
use crate::workload::{error_key, short, ErrorTally, CHANNEL};
use crate::Ctx;

/// The payload of the marker sent once the chaos has stopped.
pub const END_MARKER: &str = "end";

/// What the listener received.
#[derive(Debug, Default)]
pub struct Received {
    /// The payloads as [`key`]s, 8 bytes each (a 30-minute run receives about half a million).
    pub keys: Vec<i64>,
    /// Payloads in no known form.
    pub malformed: Vec<String>,
    /// `Reconnected` events.
    pub reconnects: u64,
    /// Whether the end marker arrived.
    pub end_seen: bool,
    /// Errors from `recv` (each followed by another try).
    pub errors: ErrorTally,
}

/// Connects the listener (retrying while the server starts) and listens on the channel.
pub async fn connect(ctx: &Ctx) -> Result<Listener, tusk::Error> {
    let config = ctx.config.clone().application_name("tusk-soak-listener");
    let mut listener = Listener::connect(config).await?;
    // Keeps trying through a restart; a `recv` error after 50 attempts is counted and the
    // next `recv` starts over.
    listener.set_reconnect_policy(
        ReconnectPolicy::default()
            .max_attempts(50)
            .initial_delay(Duration::from_millis(50))
            .max_delay(Duration::from_secs(1)),
    );
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Receives until the end marker has arrived after the soak stopped, or until `ctx`'s final
/// stop (`listen_until`) passes.
pub async fn listen(ctx: Arc<Ctx>, mut listener: Listener) -> Received {
    let mut got = Received::default();
    loop {
        let event = tokio::select! {
            event = listener.recv() => event,
            () = ctx.listener_deadline() => break,
        };
        match event {
            Ok(ListenerEvent::Notification(n)) => {
                ctx.notes_received.fetch_add(1, Ordering::Relaxed);
                match parse(&n.payload) {
                    Some(key) => got.keys.push(key),
                    None if n.payload == END_MARKER => {
                        got.end_seen = true;
                        break;
                    }
                    None => got.malformed.push(short(&n.payload)),
                }
            }
            Ok(ListenerEvent::Reconnected { .. }) => got.reconnects += 1,
            Ok(_) => {}
            Err(e) => {
                let entry = got
                    .errors
                    .counts
                    .entry(error_key("listener", &e))
                    .or_insert_with(|| (0, short(&e.to_string())));
                entry.0 += 1;
            }
        }
    }
    let _ = listener.close().await;
    got
}

/// Bit 62 of a key: set for `n:` payloads (ids of the notification ledgers), clear for `r:`
/// (ids of the table's ledgers). Ids stay far below it (64 owners << `OWNER_SHIFT`).
const NOTE_BIT: i64 = 1 << 62;

/// A payload's key: its id, with [`NOTE_BIT`] telling which ledgers it belongs to.
fn key(kind: &str, id: i64) -> Option<i64> {
    if !(0..NOTE_BIT).contains(&id) {
        return None;
    }
    match kind {
        "r" => Some(id),
        "n" => Some(id | NOTE_BIT),
        _ => None,
    }
}

fn parse(payload: &str) -> Option<i64> {
    let (kind, id) = payload.split_once(':')?;
    key(kind, id.parse().ok()?)
}

/// The payload a key came from.
fn describe(key: i64) -> String {
    match key & NOTE_BIT {
        0 => format!("r:{key}"),
        _ => format!("n:{}", key & !NOTE_BIT),
    }
}

/// Sent and received notifications, compared.
#[derive(Debug, Default)]
pub struct NoteCheck {
    /// Sent, by the outcome of what sent them (indexed by [`Outcome::index`]).
    pub sent: [u64; 3],
    /// Received, by the outcome of what sent them.
    pub received: [u64; 3],
    /// Received but never sent by a committed or ambiguous unit (or malformed).
    pub phantoms: u64,
    /// Received more than once.
    pub duplicates: u64,
    /// The first few problems.
    pub examples: Vec<String>,
}

impl NoteCheck {
    /// Notifications of committed units that never arrived.
    pub fn lost(&self) -> u64 {
        let i = Outcome::Committed.index();
        self.sent[i].saturating_sub(self.received[i])
    }

    /// Whether nothing arrived that was not sent, and nothing twice.
    pub fn passed(&self) -> bool {
        self.phantoms == 0 && self.duplicates == 0
    }
}

/// Compares what arrived with what the workers sent: `rows` and `notes` are the workers'
/// ledgers (by worker index), `tx_sent` the notifications sent inside transactions.
pub fn check(
    got: &mut Received,
    rows: &[Ledger],
    notes: &[Ledger],
    tx_sent: [u64; 3],
) -> NoteCheck {
    let mut check = NoteCheck {
        sent: tx_sent,
        ..NoteCheck::default()
    };
    for ledger in notes {
        for (i, n) in ledger.totals().into_iter().enumerate() {
            check.sent[i] += n;
        }
    }
    got.keys.sort_unstable();
    let mut previous = None;
    for &key in &got.keys {
        if previous == Some(key) {
            check.duplicates += 1;
            if check.examples.len() < 10 {
                check
                    .examples
                    .push(format!("{} arrived twice", describe(key)));
            }
            continue;
        }
        previous = Some(key);
        let (ledgers, id) = match key & NOTE_BIT {
            0 => (rows, key),
            _ => (notes, key & !NOTE_BIT),
        };
        match lookup(ledgers, id) {
            Some(outcome @ (Outcome::Committed | Outcome::Ambiguous)) => {
                check.received[outcome.index()] += 1;
            }
            other => {
                check.phantoms += 1;
                if check.examples.len() < 10 {
                    check.examples.push(format!(
                        "{} arrived, but its sender was {other:?}",
                        describe(key)
                    ));
                }
            }
        }
    }
    check.phantoms += got.malformed.len() as u64;
    for payload in got.malformed.iter().take(10) {
        check.examples.push(format!("unknown payload {payload:?}"));
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(payloads: &[&str]) -> Received {
        let mut got = Received::default();
        for payload in payloads {
            match parse(payload) {
                Some(key) => got.keys.push(key),
                None => got.malformed.push((*payload).to_owned()),
            }
        }
        got
    }

    #[test]
    fn sent_and_received_are_matched_by_ledger() {
        let mut rows = Ledger::new(0);
        rows.record(2, Outcome::Committed);
        rows.record(1, Outcome::NotCommitted);
        let mut notes = Ledger::new(0);
        notes.record(1, Outcome::Committed);
        notes.record(1, Outcome::Ambiguous);
        let (rows, notes) = (vec![rows], vec![notes]);

        let mut got = received(&["r:0", "n:0", "n:1"]);
        let check = check(&mut got, &rows, &notes, [1, 0, 0]);
        assert!(check.passed(), "{check:?}");
        assert_eq!(
            (check.sent, check.received, check.lost()),
            ([2, 0, 1], [2, 0, 1], 0)
        );

        // A notification of a failed unit, one of an id never given out, one twice, garbage.
        let mut got = received(&["r:2", "n:7", "r:0", "r:0", "x:1", "r:-1"]);
        let check = super::check(&mut got, &rows, &notes, [1, 0, 0]);
        assert!(!check.passed());
        assert_eq!(
            (check.phantoms, check.duplicates),
            (4, 1),
            "{:?}",
            check.examples
        );
    }
}
