//! The replication commands' text, built so that nothing a caller passes can change the
//! command: slot names follow PostgreSQL's rule (lower-case letters, digits and underscores,
//! at most 63 bytes) and are sent quoted; plugin and option names are quoted identifiers;
//! option values are SQL string literals. Also the typed results the commands return.

use std::fmt::Write;

use crate::client::MAX_IDENTIFIER_LEN;
use crate::error::Error;
use crate::proto::replication::Lsn;

/// Checks a replication slot name the way the server does (`ReplicationSlotValidateName`):
/// 1 to 63 bytes of `a`-`z`, `0`-`9` and `_`. The error names the slot and what is wrong.
///
/// ```
/// use tusk::replication::check_slot_name;
///
/// assert!(check_slot_name("orders_cdc_1").is_ok());
/// let e = check_slot_name("Orders; DROP TABLE t").unwrap_err();
/// assert!(e.to_string().contains("'O'"));
/// ```
pub fn check_slot_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::usage("a replication slot name cannot be empty"));
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(Error::usage(format!(
            "the replication slot name {name:?} is {} bytes; PostgreSQL allows at most \
             {MAX_IDENTIFIER_LEN}",
            name.len()
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_'))
    {
        return Err(Error::usage(format!(
            "the replication slot name {name:?} contains {bad:?}; slot names may contain only \
             lower-case letters, digits and underscores"
        )));
    }
    Ok(())
}

/// A quoted identifier (`"name"`), after checking it is non-empty, NUL-free, at most 63
/// bytes and without a double quote: the replication command scanner has no escape for one
/// inside a quoted identifier (`""` is a syntax error there), so such a name cannot be sent.
/// `what` names it in the error.
pub(crate) fn quote_ident(what: &str, name: &str) -> Result<String, Error> {
    crate::client::check_identifier(what, name)?;
    if name.contains('"') {
        return Err(Error::usage(format!(
            "{what} {name:?} contains a double quote, which a replication command cannot carry"
        )));
    }
    Ok(format!("\"{name}\""))
}

/// An SQL string literal (`'value'`, inner quotes doubled; the replication command scanner
/// knows no backslash escapes). A NUL cannot be sent and is refused.
pub(crate) fn quote_literal(what: &str, value: &str) -> Result<String, Error> {
    if value.contains('\0') {
        return Err(Error::usage(format!(
            "{what} cannot contain a NUL character"
        )));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// What [`create_replication_slot`](super::ReplicationClient::create_replication_slot)
/// creates: a logical slot with an output plugin or a physical slot, and its options.
///
/// ```
/// use tusk::replication::{SlotOptions, SnapshotAction};
///
/// let logical = SlotOptions::logical().temporary(true).snapshot(SnapshotAction::Nothing);
/// let physical = SlotOptions::physical().reserve_wal(true);
/// # let _ = (logical, physical);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOptions {
    kind: SlotKind,
    temporary: bool,
    snapshot: Option<SnapshotAction>,
    two_phase: bool,
    reserve_wal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SlotKind {
    Logical { plugin: String },
    Physical,
}

/// What a new logical slot does with the snapshot at its consistent point (`SNAPSHOT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotAction {
    /// `'export'`: exported for other sessions (`SET TRANSACTION SNAPSHOT`) until the next
    /// command on this connection; its name comes back in
    /// [`CreatedSlot::snapshot_name`]. The server's default.
    Export,
    /// `'nothing'`: no snapshot.
    Nothing,
    /// `'use'`: used by the transaction open on this (logical) connection, which must have
    /// been begun with `BEGIN ISOLATION LEVEL REPEATABLE READ` and have run no query.
    Use,
}

impl SnapshotAction {
    fn word(self) -> &'static str {
        match self {
            SnapshotAction::Export => "export",
            SnapshotAction::Nothing => "nothing",
            SnapshotAction::Use => "use",
        }
    }

    fn legacy_word(self) -> &'static str {
        match self {
            SnapshotAction::Export => "EXPORT_SNAPSHOT",
            SnapshotAction::Nothing => "NOEXPORT_SNAPSHOT",
            SnapshotAction::Use => "USE_SNAPSHOT",
        }
    }
}

impl SlotOptions {
    /// A logical slot decoding with `pgoutput` (change it with [`SlotOptions::plugin`]).
    pub fn logical() -> SlotOptions {
        SlotOptions {
            kind: SlotKind::Logical {
                plugin: "pgoutput".to_owned(),
            },
            temporary: false,
            snapshot: None,
            two_phase: false,
            reserve_wal: false,
        }
    }

    /// A physical slot.
    pub fn physical() -> SlotOptions {
        SlotOptions {
            kind: SlotKind::Physical,
            ..SlotOptions::logical()
        }
    }

    /// The output plugin of a logical slot (`pgoutput`, `test_decoding`, `wal2json`, ...).
    /// Ignored for a physical slot.
    pub fn plugin(mut self, plugin: &str) -> SlotOptions {
        if let SlotKind::Logical { plugin: p } = &mut self.kind {
            *p = plugin.to_owned();
        }
        self
    }

    /// `TEMPORARY`: the slot is dropped when the connection ends (or on error).
    pub fn temporary(mut self, temporary: bool) -> SlotOptions {
        self.temporary = temporary;
        self
    }

    /// `SNAPSHOT`, for a logical slot (the server exports one when not given).
    pub fn snapshot(mut self, action: SnapshotAction) -> SlotOptions {
        self.snapshot = Some(action);
        self
    }

    /// `TWO_PHASE`: a logical slot decodes prepared transactions at PREPARE (PostgreSQL 15+
    /// syntax; 14 takes it too).
    pub fn two_phase(mut self, two_phase: bool) -> SlotOptions {
        self.two_phase = two_phase;
        self
    }

    /// `RESERVE_WAL`: a physical slot keeps WAL from now on rather than from its first use.
    pub fn reserve_wal(mut self, reserve: bool) -> SlotOptions {
        self.reserve_wal = reserve;
        self
    }

    /// Whether this is a logical slot.
    pub fn is_logical(&self) -> bool {
        matches!(self.kind, SlotKind::Logical { .. })
    }
}

/// `CREATE_REPLICATION_SLOT`'s text for `server_version_num` (the parenthesized options from
/// PostgreSQL 15, the keyword forms before).
pub(crate) fn create_slot_sql(
    name: &str,
    options: &SlotOptions,
    server_version_num: u32,
) -> Result<String, Error> {
    check_slot_name(name)?;
    let mut sql = format!("CREATE_REPLICATION_SLOT \"{name}\"");
    if options.temporary {
        sql.push_str(" TEMPORARY");
    }
    let modern = server_version_num >= 150_000;
    let mut opts: Vec<String> = Vec::new();
    match &options.kind {
        SlotKind::Logical { plugin } => {
            let plugin = quote_ident("an output plugin name", plugin)?;
            let _ = write!(sql, " LOGICAL {plugin}");
            if options.reserve_wal {
                return Err(Error::usage(
                    "RESERVE_WAL is for physical slots; a logical slot reserves WAL when created",
                ));
            }
            if let Some(action) = options.snapshot {
                opts.push(if modern {
                    format!("SNAPSHOT '{}'", action.word())
                } else {
                    action.legacy_word().to_owned()
                });
            }
            if options.two_phase {
                opts.push(
                    if modern {
                        "TWO_PHASE true"
                    } else {
                        "TWO_PHASE"
                    }
                    .to_owned(),
                );
            }
        }
        SlotKind::Physical => {
            sql.push_str(" PHYSICAL");
            if options.snapshot.is_some() || options.two_phase {
                return Err(Error::usage(
                    "SNAPSHOT and TWO_PHASE are for logical slots, not physical ones",
                ));
            }
            if options.reserve_wal {
                opts.push(
                    if modern {
                        "RESERVE_WAL true"
                    } else {
                        "RESERVE_WAL"
                    }
                    .to_owned(),
                );
            }
        }
    }
    if !opts.is_empty() {
        if modern {
            let _ = write!(sql, " ({})", opts.join(", "));
        } else {
            let _ = write!(sql, " {}", opts.join(" "));
        }
    }
    Ok(sql)
}

/// `DROP_REPLICATION_SLOT`'s text.
pub(crate) fn drop_slot_sql(name: &str, wait: bool) -> Result<String, Error> {
    check_slot_name(name)?;
    Ok(format!(
        "DROP_REPLICATION_SLOT \"{name}\"{}",
        if wait { " WAIT" } else { "" }
    ))
}

/// `READ_REPLICATION_SLOT`'s text.
pub(crate) fn read_slot_sql(name: &str) -> Result<String, Error> {
    check_slot_name(name)?;
    Ok(format!("READ_REPLICATION_SLOT \"{name}\""))
}

/// Where [`start_physical`](super::ReplicationClient::start_physical) starts streaming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalStart {
    pub(crate) slot: Option<String>,
    pub(crate) start: Lsn,
    pub(crate) timeline: Option<u32>,
}

impl PhysicalStart {
    /// From `start` (rounded down by the server to the start of its WAL page), without a slot.
    pub fn at(start: Lsn) -> PhysicalStart {
        PhysicalStart {
            slot: None,
            start,
            timeline: None,
        }
    }

    /// Through the physical slot `name` (which keeps the WAL the client has not flushed).
    pub fn slot(mut self, name: &str) -> PhysicalStart {
        self.slot = Some(name.to_owned());
        self
    }

    /// On timeline `tli` (default: the server's current one).
    pub fn timeline(mut self, tli: u32) -> PhysicalStart {
        self.timeline = Some(tli);
        self
    }
}

/// `START_REPLICATION [SLOT s] PHYSICAL lsn [TIMELINE t]`.
pub(crate) fn start_physical_sql(start: &PhysicalStart) -> Result<String, Error> {
    let mut sql = String::from("START_REPLICATION");
    if let Some(slot) = &start.slot {
        check_slot_name(slot)?;
        let _ = write!(sql, " SLOT \"{slot}\"");
    }
    let _ = write!(sql, " PHYSICAL {}", start.start);
    if let Some(tli) = start.timeline {
        let _ = write!(sql, " TIMELINE {tli}");
    }
    Ok(sql)
}

/// The output plugin options of a logical stream, sent as `("name" 'value', ...)`: names as
/// quoted identifiers, values as string literals, in the order given.
///
/// ```
/// use tusk::replication::LogicalOptions;
///
/// let options = LogicalOptions::new().option("include-xids", "0").option("skip-empty-xacts", "1");
/// assert_eq!(options.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogicalOptions {
    pub(crate) options: Vec<(String, Option<String>)>,
}

impl LogicalOptions {
    /// No options.
    pub fn new() -> LogicalOptions {
        LogicalOptions::default()
    }

    /// Adds `name 'value'`.
    pub fn option(mut self, name: &str, value: &str) -> LogicalOptions {
        self.options.push((name.to_owned(), Some(value.to_owned())));
        self
    }

    /// Adds `name` without a value.
    pub fn flag(mut self, name: &str) -> LogicalOptions {
        self.options.push((name.to_owned(), None));
        self
    }

    /// How many options there are.
    pub fn len(&self) -> usize {
        self.options.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.options.is_empty()
    }
}

/// `START_REPLICATION SLOT s LOGICAL lsn [(options)]`.
pub(crate) fn start_logical_sql(
    slot: &str,
    start: Lsn,
    options: &LogicalOptions,
) -> Result<String, Error> {
    check_slot_name(slot)?;
    let mut sql = format!("START_REPLICATION SLOT \"{slot}\" LOGICAL {start}");
    if !options.is_empty() {
        let mut parts = Vec::with_capacity(options.len());
        for (name, value) in &options.options {
            let mut part = quote_ident("an output plugin option name", name)?;
            if let Some(value) = value {
                part.push(' ');
                part.push_str(&quote_literal(
                    &format!("the value of the option {name:?}"),
                    value,
                )?);
            }
            parts.push(part);
        }
        let _ = write!(sql, " ({})", parts.join(", "));
    }
    Ok(sql)
}

/// What `IDENTIFY_SYSTEM` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// The cluster's system identifier (`pg_control_system().system_identifier`), as text:
    /// it is an unsigned 64-bit number.
    pub systemid: String,
    /// The current timeline.
    pub timeline: u32,
    /// The current WAL flush position.
    pub xlogpos: Lsn,
    /// The database of a logical replication connection (`None` for a physical one).
    pub dbname: Option<String>,
}

/// What `CREATE_REPLICATION_SLOT` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSlot {
    /// The slot's name.
    pub slot_name: String,
    /// The LSN from which the slot is consistent: a logical stream starts there.
    pub consistent_point: Lsn,
    /// The exported snapshot's name (`SnapshotAction::Export` on a logical slot).
    pub snapshot_name: Option<String>,
    /// The output plugin (`None` for a physical slot).
    pub output_plugin: Option<String>,
}

/// What `READ_REPLICATION_SLOT` reports about an existing slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// `physical` or `logical`.
    pub slot_type: String,
    /// The oldest WAL the slot keeps (`None` when it has reserved none yet).
    pub restart_lsn: Option<Lsn>,
    /// The timeline of `restart_lsn`.
    pub restart_tli: Option<u32>,
}

/// What `TIMELINE_HISTORY` returns: the history file of a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineHistory {
    /// The file's name, e.g. `00000002.history`.
    pub filename: String,
    /// The file's contents.
    pub content: String,
}

#[cfg(test)]
#[path = "commands_tests.rs"]
mod tests;
