//! The exchanges where the client writes more than once (so a reset meets writes as well as
//! reads) reset (RST to both peers) at every byte offset, both ways, with the checks of the
//! closes in `cuts.rs`. The other exchanges write once: resetting them too would add a third
//! to the binary's time for little (they were run so once, and passed).

use crate::cuts::check_commit;
use crate::exchanges::{Auth, Exchange};
use crate::harness::{cut_everywhere, Ctx};

async fn reset(exchange: Exchange) {
    let ctx = Ctx::new().await;
    cut_everywhere(exchange, &ctx, true).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_scram_reset_everywhere() {
    reset(Exchange::Startup(Auth::Scram)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_query_reset_everywhere() {
    reset(Exchange::ExtendedQuery).await;
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
