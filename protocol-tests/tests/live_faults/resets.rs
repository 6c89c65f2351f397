//! Two exchanges where the client writes while the server answers or writes several times
//! (COPY data in chunks; a transaction's three statements), so that a reset meets writes as
//! well as reads, reset (RST to both peers) at every byte offset, both ways, with the checks
//! of the closes in `cuts.rs`. Resetting every exchange doubles the binary's time (about 30 s
//! more on this machine): that is the ignored test below, run by hand.

use crate::cuts::check_commit;
use crate::exchanges::Exchange;
use crate::harness::{cut_everywhere, Ctx};

async fn reset(exchange: Exchange) {
    let ctx = Ctx::new().await;
    cut_everywhere(exchange, &ctx, true).await;
    ctx.finish().await;
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

/// Every exchange reset at every offset: the slow full set, run by hand
/// (`scripts/with-test-server cargo test -p protocol-tests --test live_faults -- --ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 30 s more on a busy 2-core machine); run by hand with --ignored"]
async fn every_exchange_reset_everywhere() {
    let ctx = Ctx::new().await;
    for exchange in Exchange::ALL {
        let summary = cut_everywhere(exchange, &ctx, true).await;
        if exchange == Exchange::Commit {
            check_commit(&summary);
        }
    }
    ctx.finish().await;
}
