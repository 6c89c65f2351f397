//! Every exchange cut at every byte offset, both ways.

use protocol_tests::fault_proxy::Direction;

use crate::exchanges::{Auth, Exchange};
use crate::harness::{cut_everywhere, Ctx, CutSummary};

async fn cut(exchange: Exchange) {
    let ctx = Ctx::new().await;
    cut_everywhere(exchange, &ctx, false).await;
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
async fn query_stream_cut_everywhere() {
    cut(Exchange::QueryStream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cursor_cut_everywhere() {
    cut(Exchange::ServerCursor).await;
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

/// A commit cut anywhere: see [`check_commit`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_cut_everywhere() {
    let ctx = Ctx::new().await;
    let summary = cut_everywhere(Exchange::Commit, &ctx, false).await;
    ctx.finish().await;
    check_commit(&summary);
}

/// Checks a commit cut (or reset) at every offset against the table, asked on another session
/// once the cut session has ended: the row is there whenever the client got `Ok`. An error
/// with the row committed is the ambiguity every PostgreSQL client has (libpq's too: a COMMIT
/// whose answer is lost has an unknown outcome); it is allowed, and only where the COMMIT had
/// reached the server. It must happen where the server's answer to COMMIT had begun, and
/// after a close once the whole request was forwarded (a reset right behind the request may
/// discard it unread).
pub fn check_commit(summary: &CutSummary) {
    assert_eq!(summary.clean.committed, Some(true));
    let full = summary.clean.counts;
    // The bytes each way once the INSERT was answered, before COMMIT was written.
    let before_commit = summary.clean.marks[0];
    let mut ambiguous = 0;
    for (cut, attempt) in &summary.attempts {
        let committed = attempt
            .committed
            .expect("the commit exchange reports its row");
        let whole_request = cut.direction == Direction::ToServer && cut.after == full.to_server;
        let commit_reached_server = whole_request
            || (cut.direction == Direction::ToClient && cut.after >= before_commit.to_client);
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
            Err(err) => assert!(
                !(answer_begun || (whole_request && !cut.reset)),
                "{cut:?}: the server had the whole COMMIT, yet the row is not there: {err}"
            ),
        }
    }
    // At least each cut inside the server's answer to COMMIT (after its first byte, before its
    // last) is ambiguous.
    let inside_answer = full.to_client - before_commit.to_client - 1;
    assert!(ambiguous >= inside_answer, "{ambiguous} ambiguous cuts");
    eprintln!("Commit: {ambiguous} cuts failed after the server had committed (allowed)");
}
