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
    /// The payloads, as (kind, id): kind 0 for `r:`, 1 for `n:`.
    pub keys: Vec<(u8, i64)>,
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

fn parse(payload: &str) -> Option<(u8, i64)> {
    let (kind, id) = payload.split_once(':')?;
    let kind = match kind {
        "r" => 0,
        "n" => 1,
        _ => return None,
    };
    Some((kind, id.parse().ok()?))
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
                check.examples.push(format!("{key:?} arrived twice"));
            }
            continue;
        }
        previous = Some(key);
        let ledgers = if key.0 == 0 { rows } else { notes };
        match lookup(ledgers, key.1) {
            Some(outcome @ (Outcome::Committed | Outcome::Ambiguous)) => {
                check.received[outcome.index()] += 1;
            }
            other => {
                check.phantoms += 1;
                if check.examples.len() < 10 {
                    check
                        .examples
                        .push(format!("{key:?} arrived, but its sender was {other:?}"));
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
