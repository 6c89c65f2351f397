//! [`ReplicationClient`]: a connection opened with the `replication` startup parameter and
//! the replication commands it runs (IDENTIFY_SYSTEM, CREATE / DROP / READ_REPLICATION_SLOT,
//! TIMELINE_HISTORY, START_REPLICATION), all on the simple query protocol.

use super::changes::LogicalDecoder;
use super::commands::{
    self, CreatedSlot, LogicalOptions, PhysicalStart, SlotInfo, SlotOptions, SystemInfo,
    TimelineHistory,
};
use super::logical::LogicalStream;
use super::options::PgOutputOptions;
use super::stream::{ReplicationStream, StreamKind};
use crate::client::connection::Connection;
use crate::client::simple::{SimpleQueryMessage, SimpleRow};
use crate::config::{Config, Replication};
use crate::error::Error;
use crate::proto::replication::Lsn;
use crate::proto::ProtoError;

/// A replication connection: physical (`replication=true`, WAL streaming) or logical
/// (`replication=database`, logical decoding of one database, which also runs SQL).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// use tusk::replication::ReplicationClient;
///
/// let config: tusk::Config = url.parse()?;
/// let mut client = ReplicationClient::connect_logical(&config).await?;
/// let system = client.identify_system().await?;
/// assert_eq!(system.dbname.as_deref(), config.get_dbname());
/// assert!(system.timeline >= 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ReplicationClient {
    conn: Connection,
    mode: Replication,
    /// A logical START_REPLICATION was sent on this connection.
    logical_started: bool,
}

impl ReplicationClient {
    /// Opens a logical replication connection (`replication=database`) to `config`'s
    /// database, whatever `config` says about `replication`.
    pub async fn connect_logical(config: &Config) -> Result<ReplicationClient, Error> {
        Self::open(config, Replication::Database).await
    }

    /// Opens a physical replication connection (`replication=true`), whatever `config` says
    /// about `replication`. Such a connection runs only replication commands, no SQL.
    pub async fn connect_physical(config: &Config) -> Result<ReplicationClient, Error> {
        Self::open(config, Replication::Physical).await
    }

    /// Opens the replication connection `config` asks for; `replication` must be set to
    /// `true` or `database`.
    pub async fn connect(config: &Config) -> Result<ReplicationClient, Error> {
        match config.get_replication() {
            Replication::Off => Err(Error::config(
                "ReplicationClient::connect needs replication=true (physical) or \
                 replication=database (logical) in the configuration; or use connect_physical \
                 / connect_logical",
            )),
            mode => Self::open(config, mode).await,
        }
    }

    async fn open(config: &Config, mode: Replication) -> Result<ReplicationClient, Error> {
        let conn = config.clone().replication(mode).connect().await?;
        Ok(ReplicationClient {
            conn,
            mode,
            logical_started: false,
        })
    }

    /// [`Replication::Physical`] or [`Replication::Database`] (logical).
    pub fn mode(&self) -> Replication {
        self.mode
    }

    /// A parameter the server reported (`server_version`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.conn.parameter(name)
    }

    /// The server process's id.
    pub fn backend_pid(&self) -> Option<i32> {
        self.conn.backend_pid()
    }

    /// Bounds each command (and the draining of a stream dropped half-way) as
    /// [`Connection::set_statement_timeout`] does; a running stream is bounded by its own
    /// idle timeout instead.
    pub fn set_statement_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.conn.set_statement_timeout(timeout);
    }

    /// Whether the connection is closed (a timed-out stream closes it).
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Sends Terminate and closes the socket.
    pub async fn close(self) -> Result<(), Error> {
        self.conn.close().await
    }

    /// Runs SQL (or a replication command) on the simple query protocol, as
    /// [`Connection::simple_query`]. A logical connection runs SQL; a physical one only
    /// replication commands (the server refuses SQL there).
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<SimpleQueryMessage>, Error> {
        self.conn.simple_query(sql).await
    }

    /// `IDENTIFY_SYSTEM`: the cluster's identifier, the current timeline and WAL position,
    /// and (logical) the database.
    pub async fn identify_system(&mut self) -> Result<SystemInfo, Error> {
        let row = self.one_row("IDENTIFY_SYSTEM").await?;
        Ok(SystemInfo {
            systemid: required(&row, "IDENTIFY_SYSTEM", "systemid")?.to_owned(),
            timeline: number(&row, "IDENTIFY_SYSTEM", "timeline")?,
            xlogpos: lsn(&row, "IDENTIFY_SYSTEM", "xlogpos")?,
            dbname: row.try_get("dbname")?.map(str::to_owned),
        })
    }

    /// `CREATE_REPLICATION_SLOT`: a logical slot with an output plugin or a physical slot
    /// (see [`SlotOptions`]). `name` must follow PostgreSQL's slot name rule
    /// ([`check_slot_name`](super::check_slot_name)); the options are sent in the
    /// parenthesized form from PostgreSQL 15, the keyword forms before.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// use tusk::replication::{ReplicationClient, SlotOptions, SnapshotAction};
    ///
    /// let mut client = ReplicationClient::connect_logical(&url.parse()?).await?;
    /// let options = SlotOptions::logical().temporary(true).snapshot(SnapshotAction::Nothing);
    /// let slot = client.create_replication_slot("tusk_doc_slot", &options).await?;
    /// assert_eq!(slot.output_plugin.as_deref(), Some("pgoutput"));
    /// // Temporary: gone when the connection ends.
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_replication_slot(
        &mut self,
        name: &str,
        options: &SlotOptions,
    ) -> Result<CreatedSlot, Error> {
        let sql = commands::create_slot_sql(name, options, self.server_version_num())?;
        let row = self.one_row(&sql).await?;
        const WHAT: &str = "CREATE_REPLICATION_SLOT";
        Ok(CreatedSlot {
            slot_name: required(&row, WHAT, "slot_name")?.to_owned(),
            consistent_point: lsn(&row, WHAT, "consistent_point")?,
            snapshot_name: row.try_get("snapshot_name")?.map(str::to_owned),
            output_plugin: row.try_get("output_plugin")?.map(str::to_owned),
        })
    }

    /// `DROP_REPLICATION_SLOT`; with `wait`, waits for a slot in use by another connection to
    /// become free instead of failing.
    pub async fn drop_replication_slot(&mut self, name: &str, wait: bool) -> Result<(), Error> {
        let sql = commands::drop_slot_sql(name, wait)?;
        self.conn.simple_query(&sql).await.map(drop)
    }

    /// `READ_REPLICATION_SLOT` (PostgreSQL 15+): the slot's type and restart position, or
    /// `None` when there is no such slot.
    pub async fn read_replication_slot(&mut self, name: &str) -> Result<Option<SlotInfo>, Error> {
        let sql = commands::read_slot_sql(name)?;
        let row = self.one_row(&sql).await?;
        const WHAT: &str = "READ_REPLICATION_SLOT";
        let Some(slot_type) = row.try_get("slot_type")? else {
            return Ok(None);
        };
        Ok(Some(SlotInfo {
            slot_type: slot_type.to_owned(),
            restart_lsn: match row.try_get("restart_lsn")? {
                None => None,
                Some(_) => Some(lsn(&row, WHAT, "restart_lsn")?),
            },
            restart_tli: match row.try_get("restart_tli")? {
                None => None,
                Some(_) => Some(number(&row, WHAT, "restart_tli")?),
            },
        }))
    }

    /// `TIMELINE_HISTORY`: the history file of timeline `tli` (timeline 1 has none; the
    /// server answers that with an error).
    pub async fn timeline_history(&mut self, tli: u32) -> Result<TimelineHistory, Error> {
        let row = self.one_row(&format!("TIMELINE_HISTORY {tli}")).await?;
        Ok(TimelineHistory {
            filename: required(&row, "TIMELINE_HISTORY", "filename")?.to_owned(),
            content: required(&row, "TIMELINE_HISTORY", "content")?.to_owned(),
        })
    }

    /// `START_REPLICATION ... PHYSICAL`: streams WAL from `start` (see [`PhysicalStart`]).
    /// The stream holds the connection until it is stopped or dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tusk::Error> {
    /// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
    /// use tusk::replication::{PhysicalStart, ReplicationClient};
    ///
    /// let mut client = ReplicationClient::connect_physical(&url.parse()?).await?;
    /// let now = client.identify_system().await?.xlogpos;
    /// let mut stream = client.start_physical(&PhysicalStart::at(now)).await?;
    /// // ... stream.next().await? yields WAL; stream.confirm(lsn) once it is stored ...
    /// stream.stop().await?;
    /// client.identify_system().await?; // the connection runs commands again
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_physical(
        &mut self,
        start: &PhysicalStart,
    ) -> Result<ReplicationStream<'_>, Error> {
        let sql = commands::start_physical_sql(start)?;
        ReplicationStream::start(&mut self.conn, &sql, StreamKind::Physical, start.start).await
    }

    /// `START_REPLICATION SLOT slot LOGICAL start (options)`: streams the output plugin's
    /// messages from the logical slot `slot`. `start` may be [`Lsn::INVALID`] (0/0): the
    /// server starts at the slot's confirmed position. Nothing before the slot's confirmed
    /// position is sent again.
    ///
    /// One logical stream per connection: PostgreSQL (15 to 18 at least) ends a second
    /// logical START_REPLICATION on the same connection at once, without sending anything
    /// (its walsender keeps the first stream's CopyDone), so a second call is refused with
    /// [`Kind::Usage`](crate::Kind::Usage); open a new client to restart. Physical streams
    /// restart on the same connection.
    pub async fn start_logical(
        &mut self,
        slot: &str,
        start: Lsn,
        options: &LogicalOptions,
    ) -> Result<ReplicationStream<'_>, Error> {
        if self.mode != Replication::Database {
            return Err(Error::usage(
                "logical replication needs a logical replication connection \
                 (ReplicationClient::connect_logical)",
            ));
        }
        if self.logical_started {
            return Err(Error::usage(
                "a logical stream already ran on this connection, and PostgreSQL ends a second \
                 logical START_REPLICATION on the same connection at once: open a new \
                 ReplicationClient to restart",
            ));
        }
        let sql = commands::start_logical_sql(slot, start, options)?;
        // Marked once streaming started: a START_REPLICATION the server refused (no such slot,
        // a slot in use) leaves the connection able to start one.
        let stream =
            ReplicationStream::start(&mut self.conn, &sql, StreamKind::Logical, start).await?;
        self.logical_started = true;
        Ok(stream)
    }

    /// `START_REPLICATION SLOT slot LOGICAL start` with the `pgoutput` options: a stream of
    /// decoded [`Change`](super::Change)s (see [`LogicalStream`]). Same rules as
    /// [`start_logical`](ReplicationClient::start_logical).
    pub async fn start_pgoutput(
        &mut self,
        slot: &str,
        start: Lsn,
        options: &PgOutputOptions,
    ) -> Result<LogicalStream<'_>, Error> {
        let decoder = LogicalDecoder::new(options.version())?;
        let logical = options.to_logical_options()?;
        let stream = self.start_logical(slot, start, &logical).await?;
        Ok(LogicalStream::new(stream, decoder))
    }

    /// The server's major version as `server_version_num` counts it (150000 for 15.x); 0 when
    /// the server did not report one.
    fn server_version_num(&self) -> u32 {
        let version = self.conn.parameter("server_version").unwrap_or("");
        let major: String = version.chars().take_while(char::is_ascii_digit).collect();
        major.parse::<u32>().map_or(0, |m| m.saturating_mul(10_000))
    }

    /// Runs `sql` and returns the first row of its result.
    async fn one_row(&mut self, sql: &str) -> Result<SimpleRow, Error> {
        let messages = self.conn.simple_query(sql).await?;
        messages
            .into_iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .ok_or_else(|| {
                Error::protocol(ProtoError::malformed(
                    "replication command result",
                    format!("{sql} returned no row"),
                ))
            })
    }
}

fn malformed(command: &str, column: &str, detail: String) -> Error {
    Error::protocol(ProtoError::malformed(
        "replication command result",
        format!("{command}'s {column} {detail}"),
    ))
}

fn required<'r>(row: &'r SimpleRow, command: &str, column: &str) -> Result<&'r str, Error> {
    row.try_get(column)?
        .ok_or_else(|| malformed(command, column, "is NULL".to_owned()))
}

fn number(row: &SimpleRow, command: &str, column: &str) -> Result<u32, Error> {
    let text = required(row, command, column)?;
    text.parse().map_err(|_| {
        malformed(
            command,
            column,
            format!("is {text:?}, not a timeline number"),
        )
    })
}

fn lsn(row: &SimpleRow, command: &str, column: &str) -> Result<Lsn, Error> {
    let text = required(row, command, column)?;
    text.parse()
        .map_err(|e| malformed(command, column, format!("is not an LSN: {e}")))
}
