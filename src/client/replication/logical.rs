//! [`LogicalStream`]: a `pgoutput` stream whose messages come out as decoded [`Change`]s
//! (through [`LogicalDecoder`]), over a [`ReplicationStream`] (status updates, keepalives,
//! at-least-once confirmation, the idle timeout and cancel safety are that type's).

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::changes::{Change, LogicalDecoder};
use super::stream::{ReplicationStream, StreamEnd};
use crate::error::Error;
use crate::proto::replication::Lsn;

/// A running `pgoutput` stream, from
/// [`ReplicationClient::start_pgoutput`](super::ReplicationClient::start_pgoutput).
///
/// [`next`](LogicalStream::next) (or the [`Stream`](futures_core::Stream) impl) yields each
/// [`Change`]. Once a transaction's changes are applied, [`confirm`](LogicalStream::confirm)
/// its `Change::Commit`'s `end_lsn`: only confirmed positions are reported to the server as
/// flushed, so after a broken connection the slot sends again everything not confirmed
/// (at-least-once), and after a restart nothing confirmed comes again.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// use tusk::replication::{Change, Lsn, PgOutputOptions, ReplicationClient, SlotOptions};
///
/// let config: tusk::Config = url.parse()?;
/// let mut admin = config.connect().await?;
/// admin.batch_execute("CREATE TEMP TABLE doc_t (id int4 PRIMARY KEY)").await?;
/// # admin.batch_execute("DROP PUBLICATION IF EXISTS doc_pub; CREATE PUBLICATION doc_pub FOR ALL TABLES").await?;
/// let mut client = ReplicationClient::connect_logical(&config).await?;
/// let slot = SlotOptions::logical().temporary(true);
/// client.create_replication_slot("tusk_doc_logical", &slot).await?;
/// let options = PgOutputOptions::new(["doc_pub"]).binary(true);
/// let mut stream = client.start_pgoutput("tusk_doc_logical", Lsn::INVALID, &options).await?;
/// // ... changes committed from now on arrive:
/// // while let Some(change) = stream.next().await? {
/// //     if let Change::Commit { end_lsn, .. } = change { stream.confirm(end_lsn) }
/// // }
/// stream.stop().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct LogicalStream<'a> {
    inner: ReplicationStream<'a>,
    decoder: LogicalDecoder,
    last_lsn: Lsn,
}

impl<'a> LogicalStream<'a> {
    pub(crate) fn new(inner: ReplicationStream<'a>, decoder: LogicalDecoder) -> LogicalStream<'a> {
        LogicalStream {
            inner,
            decoder,
            last_lsn: Lsn::INVALID,
        }
    }

    /// The next change, or `None` once the stream has ended. Cancel-safe.
    pub async fn next(&mut self) -> Result<Option<Change>, Error> {
        poll_fn(|cx| self.poll_next_change(cx)).await
    }

    fn poll_next_change(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Change>, Error>> {
        let Some(data) = ready!(self.inner.poll_next_data(cx))? else {
            return Poll::Ready(Ok(None));
        };
        self.last_lsn = data.wal_start;
        Poll::Ready(self.decoder.decode(data.wal_start, data.data).map(Some))
    }

    /// Records that everything up to `lsn` is applied (a `Change::Commit`'s `end_lsn`); see
    /// [`ReplicationStream::confirm`].
    pub fn confirm(&mut self, lsn: Lsn) {
        self.inner.confirm(lsn);
    }

    /// The position confirmed so far.
    pub fn confirmed(&self) -> Lsn {
        self.inner.confirmed()
    }

    /// The LSN of the last message (its XLogData start: a change's record, a commit's end).
    pub fn last_lsn(&self) -> Lsn {
        self.last_lsn
    }

    /// The decoder: its relations, and [`LogicalDecoder::set_type`] for types that are not
    /// built in.
    pub fn decoder_mut(&mut self) -> &mut LogicalDecoder {
        &mut self.decoder
    }

    /// See [`ReplicationStream::set_status_interval`].
    pub fn set_status_interval(&mut self, interval: Duration) {
        self.inner.set_status_interval(interval);
    }

    /// See [`ReplicationStream::set_idle_timeout`].
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.inner.set_idle_timeout(timeout);
    }

    /// Sends a status update now (see [`ReplicationStream::send_status`]).
    pub async fn send_status(&mut self) -> Result<(), Error> {
        self.inner.send_status().await
    }

    /// Ends the stream cleanly, reporting the confirmed position first (see
    /// [`ReplicationStream::stop`]).
    pub async fn stop(self) -> Result<StreamEnd, Error> {
        self.inner.stop().await
    }
}

impl futures_core::Stream for LogicalStream<'_> {
    type Item = Result<Change, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_change(cx).map(Result::transpose)
    }
}
