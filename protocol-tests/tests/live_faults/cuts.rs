//! Every exchange cut at every byte offset, both ways.

use protocol_tests::fault_proxy::Direction;

use crate::exchanges::{Auth, Exchange};
use crate::harness::{cut_everywhere, Ctx};

async fn cut(exchange: Exchange) {
    let ctx = Ctx::new().await;
    cut_everywhere(exchange, &ctx).await;
    ctx.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_trust_cut_everywhere() {
    cut(Exchange::Startup(Auth::Trust)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_cleartext_cut_everywhere() {
    cut(Exchange::Startup(Auth::Cleartext)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_md5_cut_everywhere() {
    cut(Exchange::Startup(Auth::Md5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_scram_cut_everywhere() {
    cut(Exchange::Startup(Auth::Scram)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_cut_everywhere() {
    cut(Exchange::SimpleQuery).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_query_cut_everywhere() {
    cut(Exchange::ExtendedQuery).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_cut_everywhere() {
    cut(Exchange::Pipeline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_cut_everywhere() {
    cut(Exchange::CopyIn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_out_cut_everywhere() {
    cut(Exchange::CopyOut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_cut_everywhere() {
    cut(Exchange::Notify).await;
}

/// A commit cut anywhere: the row is in the table (asked on another session once the cut
/// session has ended) whenever the client got `Ok`. An error with the row committed is the
/// ambiguity every PostgreSQL client has (libpq's too: a COMMIT whose answer is lost has an
/// unknown outcome); it is allowed, and only where the COMMIT had reached the server: the whole
/// request forwarded, or the server's answer to it begun.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_cut_everywhere() {
    let ctx = Ctx::new().await;
    let summary = cut_everywhere(Exchange::Commit, &ctx).await;
    ctx.finish().await;
    assert_eq!(summary.clean.committed, Some(true));
    let full = summary.clean.counts;
    // The bytes each way once the INSERT was answered, before COMMIT was written.
    let before_commit = summary.clean.marks[0];
    let mut ambiguous = 0;
    for (cut, attempt) in &summary.attempts {
        let committed = attempt
            .committed
            .expect("the commit exchange reports its row");
        let commit_reached_server = match cut.direction {
            Direction::ToServer => cut.after == full.to_server,
            Direction::ToClient => cut.after >= before_commit.to_client,
        };
        // Past its first byte, the server's answer to COMMIT was on its way.
        let answer_begun =
            cut.direction == Direction::ToClient && cut.after > before_commit.to_client;
        match &attempt.result {
            Ok(_) => assert!(committed, "{cut:?}: Ok, but the row is not in the table"),
            Err(err) if committed => {
                assert!(
                    commit_reached_server,
                    "{cut:?}: the row was committed though the COMMIT never reached the \
                     server: {err}"
                );
                ambiguous += 1;
            }
            Err(err) => {
                let whole_request = cut.direction == Direction::ToServer && commit_reached_server;
                assert!(
                    !(answer_begun || whole_request),
                    "{cut:?}: the server had the whole COMMIT, yet the row is not there: {err}"
                );
            }
        }
    }
    // At least these are ambiguous: each cut inside the server's answer to COMMIT (after its
    // first byte, before its last), and one more: the whole request forwarded.
    let inside_answer = full.to_client - before_commit.to_client - 1;
    assert!(ambiguous > inside_answer, "{ambiguous} ambiguous cuts");
    eprintln!("Commit: {ambiguous} cuts failed after the server had committed (allowed)");
}
