//! Every exchange with its bytes re-chunked (one-byte, random, coalesced pieces) and delayed:
//! exactly the clean answer each time.

use crate::exchanges::Exchange;
use crate::harness::{rechunked, Ctx};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_rechunked_and_delayed_gives_the_clean_answer() {
    let ctx = Ctx::new().await;
    let mut runs = tokio::task::JoinSet::new();
    for exchange in Exchange::ALL {
        let ctx = ctx.clone();
        runs.spawn(async move { rechunked(exchange, &ctx).await });
    }
    while let Some(run) = runs.join_next().await {
        if let Err(err) = run {
            std::panic::resume_unwind(err.into_panic());
        }
    }
    ctx.finish().await;
}
