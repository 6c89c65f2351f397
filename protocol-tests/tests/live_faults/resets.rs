//! The exchanges where the client writes most (a pipeline's two rounds, COPY data in chunks, a
//! transaction's three statements), so a reset meets writes as well as reads, reset (RST to
//! both peers) at every byte offset, both ways, with the checks of the closes in `cuts.rs`.
//! Resetting every exchange doubles the binary's time (about 30 s more here), so the others
//! were reset so once, by hand, and passed; only closes run for them each time.

use crate::cuts::check_commit;
use crate::exchanges::Exchange;
use crate::harness::{cut_everywhere, Ctx};

async fn reset(exchange: Exchange) {
    let ctx = Ctx::new().await;
    cut_everywhere(exchange, &ctx, true).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_reset_everywhere() {
    reset(Exchange::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_reset_everywhere() {
    reset(Exchange::CopyIn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_reset_everywhere() {
    let ctx = Ctx::new().await;
    let summary = cut_everywhere(Exchange::Commit, &ctx, true).await;
    ctx.finish().await;
    check_commit(&summary);
}
