//! The one deadline model: how every wait on the server is bounded in time.
//!
//! A connection's [`statement_timeout`](crate::Config::statement_timeout) becomes a
//! [`Deadline`], enforced at the only two places a connection waits on the network,
//! `Connection::poll_more` (reading) and `Connection::poll_flush` (writing), so no call can
//! wait past it, whatever path it takes:
//!
//! - **Per call.** Every call starts with `Connection::ready`, which arms the deadline at
//!   *now + limit*. Everything the call waits for after that (draining what an abandoned call
//!   left, preparing, the result) counts against it.
//! - **Per wait**, for the objects that span many calls of the application (a
//!   [`RowStream`](crate::RowStream), [`CopyIn`](crate::CopyIn), [`CopyOut`](crate::CopyOut)):
//!   once started, each wait for the server gets the limit from when it began, so an
//!   application that consumes slowly is not cut off; the server's silence is what counts.
//!
//! When the deadline passes, the wait fails with [`Kind::Timeout`](crate::Kind::Timeout)
//! (SQLSTATE `57014`), a CancelRequest is sent at once (in a task of its own), and the
//! connection is *poisoned*: every further read or write fails the same way, because the
//! position in the stream of answers is unknown. The answers still owed are then drained by
//! [`Connection::settle_after_timeout`], bounded by [`cancel_timeout`](crate::Config::cancel_timeout):
//! at once by the calls that return a result, or by the connection's next `ready` (so a
//! pool settles a connection before handing it out). If the server does not answer the cancel
//! within that time (a stalled network, a hung server) the connection is closed, and a pool
//! discards it: a stalled link costs at most `statement_timeout + cancel_timeout`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, Sleep};

use crate::client::cancel::CancelToken;
use crate::client::connection::Connection;
use crate::error::Error;

/// How long to wait for a cancelled statement's answer before sending the CancelRequest
/// again: a cancel that reached the backend while it was still reading the request is
/// ignored by the server.
const RECANCEL_AFTER: Duration = Duration::from_secs(1);

/// When the connection's current wait must end, and what a passed deadline left to do.
#[derive(Default)]
pub(crate) struct Deadline {
    /// The limit, copied from the connection when armed; `None` = no deadline.
    limit: Option<Duration>,
    mode: Mode,
    /// The timer for the current deadline, reused (reset) from wait to wait.
    timer: Option<Pin<Box<Sleep>>>,
    /// A deadline passed: reads and writes fail until the connection is settled.
    poisoned: bool,
    /// A deadline passed and the answers of the cancelled statement are still owed:
    /// `Connection::ready` cancels and drains them first.
    unsettled: bool,
    /// The CancelRequest sent when the deadline passed; awaited before draining, so it
    /// cannot reach the backend after a later statement has started.
    cancel: Option<JoinHandle<Result<(), Error>>>,
}

#[derive(Default, Debug, Clone, Copy)]
enum Mode {
    /// No deadline.
    #[default]
    Off,
    /// One instant for the whole call.
    Call(Instant),
    /// The limit from the start of each wait: `Some(the current wait's deadline)` while one
    /// is pending.
    EachWait(Option<Instant>),
}

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadline")
            .field("limit", &self.limit)
            .field("mode", &self.mode)
            .field("poisoned", &self.poisoned)
            .field("unsettled", &self.unsettled)
            .finish_non_exhaustive()
    }
}

impl Deadline {
    /// Arms a deadline of `limit` from now for the call that is starting (`None`: no limit).
    #[inline]
    pub(crate) fn start_call(&mut self, limit: Option<Duration>) {
        self.limit = limit;
        self.mode = match limit {
            None => Mode::Off,
            Some(limit) => Mode::Call(Instant::now() + limit),
        };
    }

    /// From now on each wait gets the limit from when it began (streams and COPY, once
    /// started).
    pub(crate) fn each_wait(&mut self) {
        if self.limit.is_some() {
            self.mode = Mode::EachWait(None);
        }
    }

    /// No deadline until the next call starts (waiting for notifications).
    pub(crate) fn off(&mut self) {
        self.mode = Mode::Off;
    }

    /// Bytes arrived: in per-wait mode, the current wait is over.
    #[inline]
    pub(crate) fn progress(&mut self) {
        if let Mode::EachWait(Some(_)) = self.mode {
            self.mode = Mode::EachWait(None);
        }
    }

    /// Whether a passed deadline left the connection unusable until it is settled.
    #[inline]
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Whether `Connection::ready` must cancel and drain before anything else.
    #[inline]
    pub(crate) fn is_unsettled(&self) -> bool {
        self.unsettled
    }

    /// The error of a wait that passed the deadline (or came after one that did).
    pub(crate) fn error(&self) -> Error {
        match self.limit {
            Some(limit) => Error::statement_timeout(format!(
                "the statement did not finish within its statement timeout of {limit:?}; it \
                 was cancelled on the server"
            )),
            None => Error::statement_timeout(
                "an earlier call passed its statement timeout; the statement was cancelled",
            ),
        }
    }

    /// Called while a wait is pending: `Ready` once the deadline has passed (the waker is
    /// registered with the timer otherwise).
    fn poll_passed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let at = match (&mut self.mode, self.limit) {
            (Mode::Off, _) | (_, None) => return Poll::Pending,
            (Mode::Call(at), _) => *at,
            (Mode::EachWait(until), Some(limit)) => {
                *until.get_or_insert_with(|| Instant::now() + limit)
            }
        };
        let timer = match &mut self.timer {
            Some(timer) => {
                if timer.deadline() != at {
                    timer.as_mut().reset(at);
                }
                timer
            }
            None => self.timer.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        timer.as_mut().poll(cx)
    }
}

impl Connection {
    /// A wait on the network is pending: checks the deadline. `Ready` with the timeout error
    /// once it has passed (the connection is then poisoned and a cancel is on its way).
    #[inline]
    pub(crate) fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        if self.deadline.poll_passed(cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(self.deadline_passed())
    }

    /// The deadline passed with answers owed: poison the connection, send the cancel now.
    fn deadline_passed(&mut self) -> Error {
        let error = self.deadline.error();
        self.deadline.mode = Mode::Off;
        if self.is_closed() {
            return error;
        }
        self.deadline.poisoned = true;
        self.deadline.unsettled = true;
        self.spawn_cancel();
        error
    }

    /// Sends the CancelRequest from a task of its own, so the statement stops on the server
    /// now even when the caller (a stream, a COPY, a pool's next user) only comes back much
    /// later. Outside a Tokio runtime nothing can be spawned: the settling sends it instead.
    fn spawn_cancel(&mut self) {
        if self.deadline.cancel.is_some() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let token = self.cancel_token();
            self.deadline.cancel = Some(runtime.spawn(async move { token.cancel().await }));
        }
    }

    /// Cancels and drains what a passed deadline left running, within `cancel_timeout`.
    /// On success the connection is idle and usable again; otherwise it is closed and the
    /// error says why.
    pub(crate) async fn settle_after_timeout(&mut self) -> Result<(), Error> {
        let limit = self.cancel_timeout;
        // The drain below has its own bound; reads must not fail for the passed deadline.
        self.deadline.poisoned = false;
        self.deadline.mode = Mode::Off;
        let token = self.cancel_token();
        let first_cancel = self.deadline.cancel.take();
        let outcome = tokio::time::timeout(limit, async {
            // The cancel already sent must have reached the server before the drain can end
            // and a later statement start; one that was not sent or failed is sent now.
            let delivered = match first_cancel {
                Some(handle) => matches!(handle.await, Ok(Ok(()))),
                None => false,
            };
            if !delivered {
                resend_cancel(&token).await;
            }
            // Once the drain is over nothing runs any more, so no later cancel can hit
            // another statement. Not answered within a second: a cancel that reached the
            // backend while it was still reading the request was ignored; send another.
            loop {
                if let Ok(drained) = tokio::time::timeout(RECANCEL_AFTER, self.drain()).await {
                    return drained;
                }
                resend_cancel(&token).await;
            }
        })
        .await;
        match outcome {
            Ok(Ok(())) => {
                self.deadline.unsettled = false;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                self.close_stalled();
                Err(Error::timeout(format!(
                    "the server did not answer the cancel of a statement that passed its \
                     statement timeout within the cancel_timeout of {limit:?}; the connection \
                     was closed"
                )))
            }
        }
    }

    /// Starts the deadline of the next statement of a batch that began with `ready` (the
    /// pool's shared queries run one after the other).
    pub(crate) fn start_deadline(&mut self) {
        self.deadline.start_call(self.statement_timeout);
    }

    /// For a connection given back to a pool: a statement still running (a dropped future
    /// left its answers owed) is cancelled now, and the next `ready` drains it within the
    /// cancel timeout, or closes the connection.
    ///
    /// Only when everything was written: requests still in the buffer (a dropped
    /// transaction's queued ROLLBACK) mean the server is not running them, and the reset sends
    /// them; a cancel then would cost a connection for nothing.
    pub(crate) fn abandon_unfinished(&mut self) {
        if self.is_closed()
            || self.session().exchange().is_idle()
            || self.unwritten() > 0
            || self.deadline.is_unsettled()
        {
            return;
        }
        self.deadline.unsettled = true;
        self.spawn_cancel();
    }

    /// What a call returns when its deadline passed: the connection settled (or closed) first,
    /// so it is idle when the caller gets the error back. A result that is not a timeout is
    /// passed through.
    ///
    /// The check is inline and the settling a separate, never-inlined future, so the path of a
    /// call that did not time out (nearly all of them) stays a single branch.
    #[inline]
    pub(crate) async fn settle_if_timed_out<T>(
        &mut self,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        match result {
            Err(timed_out) if self.deadline.is_unsettled() => {
                Err(self.settled_error(timed_out).await)
            }
            result => result,
        }
    }

    /// The slow path of [`Connection::settle_if_timed_out`]: settle, then the error to return.
    #[inline(never)]
    async fn settled_error(&mut self, timed_out: Error) -> Error {
        match self.settle_after_timeout().await {
            Ok(()) => timed_out,
            // The session itself ended meanwhile: that is what the caller must know now.
            Err(e) if self.is_closed() && e.kind() != crate::Kind::Timeout => e,
            Err(e) => e.with_source(timed_out),
        }
    }
}

/// Sends one more CancelRequest; a failure to deliver it is not the end (the drain may still
/// finish, and the outer bound ends the wait).
async fn resend_cancel(token: &CancelToken) {
    if let Err(e) = token.cancel().await {
        log::debug!("could not deliver a cancel request: {e}");
    }
}
