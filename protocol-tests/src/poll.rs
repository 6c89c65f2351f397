//! Driving a future part-way, for the cancellation-safety tests.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Polls `fut` up to `polls` times, yielding to the runtime between polls; returns whether it
/// finished. Only yielding (no sleeps) means each poll advances the operation by whatever the
/// socket has delivered so far, so successive poll counts stop it at successive await points.
pub async fn poll_n_times<F: Future + ?Sized>(mut fut: Pin<&mut F>, polls: usize) -> bool {
    for _ in 0..polls {
        let done = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_ready())).await;
        if done {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

/// Runs `test`, failing (panicking) instead of hanging when it does not finish within
/// `limit`: `what` names the test in the message.
pub async fn within_limit<F: std::future::Future<Output = ()>>(
    limit: std::time::Duration,
    what: &str,
    test: F,
) {
    if tokio::time::timeout(limit, test).await.is_err() {
        panic!("{what} did not finish within {limit:?}: a hang");
    }
}
