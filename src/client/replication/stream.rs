//! [`ReplicationStream`]: the CopyBoth phase after START_REPLICATION, driven by `poll_*`
//! functions over the connection's own (as COPY is). It hands out each XLogData, answers
//! keepalives that ask for a reply at once, sends a standby status update every
//! `status_interval` (the clock is read here, in the IO layer; `proto::replication` takes the
//! time as an argument), and fails with [`Kind::Timeout`](crate::Kind::Timeout) when the
//! server stays silent for `idle_timeout` (the connection is then closed).
//!
//! At-least-once: a status update reports `written` = the end of what arrived, but
//! `flushed` and `applied` = only what the application confirmed ([`ReplicationStream::confirm`]),
//! so the server keeps (and after a restart sends again) everything not confirmed.
//!
//! Cancel safety: the exchange knows the CopyBoth. A stream dropped at any await point leaves
//! the connection's exchange in it; the connection's next call ends it from our side
//! (CopyDone) and drains to ReadyForQuery before its own request (`Connection::drain`), so
//! the connection runs commands again, or is closed after a timeout. Never desynchronised.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::{Instant, Sleep};

use crate::client::connection::{db_error, Connection};
use crate::error::Error;
use crate::proto::backend::{DataRow, Message};
use crate::proto::replication::{
    standby_status_update, Lsn, ReplicationMessage, StandbyStatus, XLogData, PG_EPOCH_UNIX_MICROS,
};
use crate::proto::ProtoError;

/// How often a stream reports its position by default (pg_recvlogical's and pg_receivewal's
/// `--status-interval` default).
pub const DEFAULT_STATUS_INTERVAL: Duration = Duration::from_secs(10);

/// How long a stream waits for any message from the server by default before it gives the
/// connection up: twice PostgreSQL's default `wal_sender_timeout` (60 s). A healthy server is
/// never silent that long: a status update sent after a silence asks for a reply, which the
/// server sends at once.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Physical WAL or a logical decoding plugin's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Physical,
    Logical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Starting,
    Streaming,
    /// Our CopyDone is written (or an error ended the COPY): reading up to ReadyForQuery.
    Ending,
    Done,
}

/// How a stream ended, from [`ReplicationStream::stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamEnd {
    /// Physical replication that reached the end of a timeline (a promotion on the server):
    /// the next timeline and the position where it starts, to START_REPLICATION again on it.
    pub next_timeline: Option<(u32, Lsn)>,
}

/// A running replication stream, from
/// [`ReplicationClient::start_physical`](super::ReplicationClient::start_physical) or
/// [`start_logical`](super::ReplicationClient::start_logical).
///
/// [`next`](ReplicationStream::next) (or the [`Stream`](futures_core::Stream) impl) yields each
/// [`XLogData`]: a chunk of WAL, or one output plugin message. Keepalives and status updates
/// are handled inside. Call [`confirm`](ReplicationStream::confirm) with the position up to
/// which the data is safely stored; only that is reported to the server as flushed, so
/// nothing unconfirmed is lost when the stream breaks. [`stop`](ReplicationStream::stop) ends
/// the stream cleanly and leaves the connection ready for commands.
pub struct ReplicationStream<'a> {
    conn: &'a mut Connection,
    kind: StreamKind,
    state: State,
    written: Lsn,
    confirmed: Lsn,
    server_wal_end: Lsn,
    status_interval: Duration,
    idle_timeout: Duration,
    status_timer: Pin<Box<Sleep>>,
    idle_timer: Pin<Box<Sleep>>,
    /// A message arrived since the last status update (else the next one asks for a reply).
    heard: bool,
    /// The server asked for a status update.
    reply_now: bool,
    next_timeline: Option<(u32, Lsn)>,
    error: Option<Error>,
}

impl std::fmt::Debug for ReplicationStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicationStream")
            .field("kind", &self.kind)
            .field("state", &self.state)
            .field("written", &self.written)
            .field("confirmed", &self.confirmed)
            .field("status_interval", &self.status_interval)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl<'a> ReplicationStream<'a> {
    /// Writes START_REPLICATION (`sql`) and waits for CopyBothResponse.
    pub(crate) async fn start(
        conn: &'a mut Connection,
        sql: &str,
        kind: StreamKind,
        start: Lsn,
    ) -> Result<ReplicationStream<'a>, Error> {
        conn.ready().await?;
        conn.requests().start_replication(sql)?;
        let now = Instant::now();
        let mut stream = ReplicationStream {
            conn,
            kind,
            state: State::Starting,
            written: start,
            confirmed: Lsn::INVALID,
            server_wal_end: Lsn::INVALID,
            status_interval: DEFAULT_STATUS_INTERVAL,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            status_timer: Box::pin(tokio::time::sleep_until(now + DEFAULT_STATUS_INTERVAL)),
            idle_timer: Box::pin(tokio::time::sleep_until(now + DEFAULT_IDLE_TIMEOUT)),
            heard: true,
            reply_now: false,
            next_timeline: None,
            error: None,
        };
        poll_fn(|cx| stream.poll_start(cx)).await?;
        // The stream's own timers bound every wait from now on; the statement timeout is for
        // statements, and a stream may rightly run for days.
        stream.conn.deadline.off();
        stream.reset_status_timer();
        Ok(stream)
    }

    /// Sets how often the position is reported (default [`DEFAULT_STATUS_INTERVAL`]). A
    /// status update also goes out every quarter of the idle timeout if that is shorter, and
    /// at once when the server asks for one.
    pub fn set_status_interval(&mut self, interval: Duration) {
        self.status_interval = interval.max(Duration::from_millis(1));
        self.reset_status_timer();
    }

    /// Sets how long the server may stay silent before the stream fails with
    /// [`Kind::Timeout`](crate::Kind::Timeout) and the connection is closed (default
    /// [`DEFAULT_IDLE_TIMEOUT`]).
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.idle_timeout = timeout.max(Duration::from_millis(4));
        self.idle_timer
            .as_mut()
            .reset(Instant::now() + self.idle_timeout);
        self.reset_status_timer();
    }

    /// Records that everything up to `lsn` is safely stored (for logical replication: the
    /// end LSN of the last transaction applied). The next status update reports it as
    /// flushed and applied; the server may then forget it (a slot advances). Never moves
    /// backwards.
    pub fn confirm(&mut self, lsn: Lsn) {
        self.confirmed = self.confirmed.max(lsn);
    }

    /// The position confirmed so far.
    pub fn confirmed(&self) -> Lsn {
        self.confirmed
    }

    /// The end of what arrived (physical: the end of the last WAL chunk; logical: the LSN of
    /// the last message).
    pub fn written(&self) -> Lsn {
        self.written
    }

    /// The end of WAL on the server, from its last message.
    pub fn server_wal_end(&self) -> Lsn {
        self.server_wal_end
    }

    /// The next XLogData, or `None` once the stream has ended (the server ended it at a
    /// timeline's end, or after [`stop`](ReplicationStream::stop)). Cancel-safe.
    pub async fn next(&mut self) -> Result<Option<XLogData>, Error> {
        poll_fn(|cx| self.poll_next_data(cx)).await
    }

    /// Sends a status update now (with the confirmed position) and waits until it is written.
    pub async fn send_status(&mut self) -> Result<(), Error> {
        if self.state != State::Streaming {
            return Ok(());
        }
        self.write_status(false)?;
        self.conn.flush().await
    }

    /// Ends the stream: a last status update, CopyDone, then the rest of the server's data is
    /// read and discarded up to ReadyForQuery. The connection then runs commands (or
    /// START_REPLICATION) again.
    pub async fn stop(mut self) -> Result<StreamEnd, Error> {
        if self.state == State::Streaming {
            if self.conn.session().exchange().in_copy_both() {
                self.write_status(false)?;
                self.conn.requests().copy_both_done()?;
            }
            self.state = State::Ending;
        }
        poll_fn(|cx| self.poll_drive(cx)).await?;
        Ok(StreamEnd {
            next_timeline: self.next_timeline,
        })
    }

    /// The next status update is due after `status_interval`, or a quarter of the idle
    /// timeout if shorter: one that finds nothing heard since the last asks for a reply, so a
    /// healthy server is heard from within about half the idle timeout.
    fn reset_status_timer(&mut self) {
        let period = self.status_interval.min(self.idle_timeout / 4);
        self.status_timer.as_mut().reset(Instant::now() + period);
    }

    /// Writes a standby status update into the write buffer (flushed on the next poll).
    fn write_status(&mut self, reply_requested: bool) -> Result<(), Error> {
        let status = StandbyStatus {
            written: self.written.max(self.confirmed),
            flushed: self.confirmed,
            applied: self.confirmed,
        };
        let since_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let micros = i64::try_from(since_unix.as_micros()).unwrap_or(i64::MAX);
        let now = micros.saturating_sub(PG_EPOCH_UNIX_MICROS);
        let mut requests = self.conn.requests();
        let out = requests.copy_both_out()?;
        standby_status_update(status, now, reply_requested, out);
        self.heard = false;
        self.reply_now = false;
        self.reset_status_timer();
        Ok(())
    }

    /// The next message, or the idle timeout's error (the connection is then closed).
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        match self.conn.poll_response(cx) {
            Poll::Ready(Ok(msg)) => {
                self.heard = true;
                let at = Instant::now() + self.idle_timeout;
                self.idle_timer.as_mut().reset(at);
                Poll::Ready(Ok(msg))
            }
            Poll::Ready(Err(e)) => {
                self.state = State::Done;
                Poll::Ready(Err(e))
            }
            Poll::Pending => {
                if self.idle_timer.as_mut().poll(cx).is_ready() {
                    self.state = State::Done;
                    self.conn.close_stalled();
                    return Poll::Ready(Err(Error::timeout(format!(
                        "the replication stream received nothing from the server within its \
                         idle timeout of {:?}; the connection was closed",
                        self.idle_timeout
                    ))));
                }
                Poll::Pending
            }
        }
    }

    /// Reads the answer to START_REPLICATION up to CopyBothResponse.
    fn poll_start(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            let msg = std::task::ready!(self.poll_message(cx))?;
            match msg {
                Message::CopyBothResponse(_) => {
                    self.state = State::Streaming;
                    return Poll::Ready(Ok(()));
                }
                Message::ErrorResponse(fields) => {
                    self.error.get_or_insert_with(|| db_error(&fields));
                }
                Message::ReadyForQuery(_) => {
                    self.state = State::Done;
                    return Poll::Ready(Err(self.error.take().unwrap_or_else(|| {
                        Error::usage("START_REPLICATION ended without starting a stream")
                    })));
                }
                _ => {}
            }
        }
    }

    /// The next XLogData; status updates go out on the way.
    pub(crate) fn poll_next_data(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<XLogData>, Error>> {
        loop {
            match self.state {
                State::Starting | State::Done => return Poll::Ready(Ok(None)),
                State::Ending => {
                    std::task::ready!(self.poll_drive(cx))?;
                    return Poll::Ready(Ok(None));
                }
                State::Streaming => {}
            }
            if self.reply_now || self.status_timer.is_elapsed() {
                let ping = !self.heard;
                self.write_status(ping)?;
                // Out now, not after the buffered messages: the server may be waiting for it.
                if let Poll::Ready(Err(e)) = self.conn.poll_flush(cx) {
                    self.state = State::Done;
                    return Poll::Ready(Err(e));
                }
            }
            let msg = match self.poll_message(cx) {
                Poll::Ready(msg) => msg?,
                Poll::Pending => {
                    if self.status_timer.as_mut().poll(cx).is_ready() {
                        continue;
                    }
                    return Poll::Pending;
                }
            };
            match msg {
                Message::CopyData(body) => match ReplicationMessage::parse(body) {
                    Ok(ReplicationMessage::XLogData(data)) => {
                        let end = match self.kind {
                            StreamKind::Physical => data
                                .wal_start
                                .checked_add(data.data.len() as u64)
                                .unwrap_or(data.wal_start),
                            StreamKind::Logical => data.wal_start,
                        };
                        self.written = self.written.max(end);
                        self.server_wal_end = self.server_wal_end.max(data.wal_end);
                        return Poll::Ready(Ok(Some(data)));
                    }
                    Ok(ReplicationMessage::PrimaryKeepalive(keepalive)) => {
                        self.server_wal_end = self.server_wal_end.max(keepalive.wal_end);
                        self.reply_now |= keepalive.reply_requested;
                    }
                    Err(e) => {
                        self.state = State::Done;
                        return Poll::Ready(Err(self.conn.fail(Error::protocol(e))));
                    }
                },
                // The server ended its side (the end of a timeline): ours follows.
                Message::CopyDone => {
                    if self.conn.session().exchange().in_copy_both() {
                        self.write_status(false)?;
                        self.conn.requests().copy_both_done()?;
                    }
                    self.state = State::Ending;
                }
                Message::ErrorResponse(fields) => {
                    self.error.get_or_insert_with(|| db_error(&fields));
                    self.state = State::Ending;
                }
                // The server left COPY without a CopyDone (see the exchange): the stream is
                // over; its results follow.
                Message::CommandComplete(_) => self.state = State::Ending,
                // The exchange lets nothing else through while CopyBoth runs.
                _ => {}
            }
        }
    }

    /// After CopyDone (or an error): reads up to ReadyForQuery, keeping the next timeline
    /// row and the first error.
    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while self.state == State::Ending {
            let msg = std::task::ready!(self.poll_message(cx))?;
            match msg {
                Message::DataRow(row) => match next_timeline(&row) {
                    Ok(next) => self.next_timeline = Some(next),
                    Err(e) => {
                        self.error.get_or_insert(Error::protocol(e));
                    }
                },
                Message::ErrorResponse(fields) => {
                    self.error.get_or_insert_with(|| db_error(&fields));
                }
                Message::ReadyForQuery(_) => {
                    self.state = State::Done;
                    if let Some(e) = self.error.take() {
                        return Poll::Ready(Err(e));
                    }
                }
                // Data still in flight when our CopyDone went out, the server's CopyDone,
                // the row's description, CommandComplete.
                _ => {}
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The row START_REPLICATION sends after reaching a timeline's end: `next_tli`,
/// `next_tli_startpos`.
fn next_timeline(row: &DataRow) -> Result<(u32, Lsn), ProtoError> {
    let bad = |why: &str| ProtoError::malformed("DataRow", format!("the next timeline row {why}"));
    let mut values = Vec::with_capacity(2);
    for range in row.ranges() {
        let range = range?.ok_or_else(|| bad("has a NULL"))?;
        let text = std::str::from_utf8(&row.buffer()[range]).map_err(|_| bad("is not UTF-8"))?;
        values.push(text.to_owned());
    }
    let [tli, start] = values.as_slice() else {
        return Err(bad("does not have two values"));
    };
    let tli = tli.parse().map_err(|_| bad("has a bad timeline"))?;
    let start = start.parse().map_err(|_| bad("has a bad LSN"))?;
    Ok((tli, start))
}

impl futures_core::Stream for ReplicationStream<'_> {
    type Item = Result<XLogData, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_data(cx).map(Result::transpose)
    }
}
