//! The pool recovers: a `tusk::Pool` whose connections go through the fault proxy has them cut
//! while idle and mid-query (at every byte of a query, both ways, through the shared path and
//! through a checkout); the call that was cut fails saying the connection is lost (or has its
//! whole answer), the next calls get fresh connections, nothing hangs, and the pool's counters
//! add up: every cut connection is counted closed as broken, and a new one opened.

use std::time::Duration;

use protocol_tests::fault_proxy::{Direction, FaultPlan, FaultProxy};
use protocol_tests::live;
use tusk::{Config, Pool, PoolStatus, Row};

use crate::harness::through;

/// Any pool call: a hang fails the test.
const CALL_LIMIT: Duration = Duration::from_secs(20);

/// The query the pool runs: a few rows, so a cut can fall in any message of the answer.
const SQL: &str = "SELECT g, 'value ' || g FROM generate_series(1, $1::int4) AS g";

async fn within<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(CALL_LIMIT, call)
        .await
        .unwrap_or_else(|_| panic!("{what} hung: no answer within {CALL_LIMIT:?}"))
}

/// A pool of at most `max_size` connections through `proxy`. No health check: finding the
/// connections the proxy cut is the pool's own doing.
fn pool_through(proxy: &FaultProxy, max_size: usize) -> Pool {
    let config: Config = through(proxy.port, "tusk_trust", "", "disable")
        .parse()
        .unwrap();
    Pool::builder(config).max_size(max_size).build()
}

fn render(rows: &[Row]) -> String {
    let values: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    format!("{values:?}")
}

/// The counters once nothing is in flight (a shared query's runner gives its connection back
/// just after the answer): every connection opened is open or counted closed.
async fn settled(pool: &Pool) -> PoolStatus {
    let deadline = tokio::time::Instant::now() + CALL_LIMIT;
    let mut status = pool.status();
    while status.in_use > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
        status = pool.status();
    }
    assert_eq!(
        status.opened,
        status.size as u64 + status.closed.total(),
        "{status:?}"
    );
    assert_eq!(
        (
            status.in_use,
            status.waiting,
            status.queued,
            status.timeouts
        ),
        (0, 0, 0, 0),
        "{status:?}"
    );
    assert_eq!(status.idle, status.size, "{status:?}");
    status
}

/// Waits until every connection the proxy cut has ended both ways, then a little longer: the
/// pool's check of an idle connection reads only what the client's runtime has already seen
/// arrive (it never waits), so the end of stream must have got that far.
async fn until_cut_through(proxy: &FaultProxy) {
    for conn in proxy.connections() {
        if conn.is_cut() {
            within("the cut", conn.closed()).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cut_are_replaced_by_fresh_ones() {
    let proxy = FaultProxy::start(live::port()).await;
    let pool = pool_through(&proxy, 2);
    // Two connections open and idle.
    let (a, b) = tokio::join!(pool.get(), pool.get());
    let (a, b) = (a.unwrap(), b.unwrap());
    let old = [a.backend_pid().unwrap(), b.backend_pid().unwrap()];
    drop((a, b));
    assert_eq!(settled(&pool).await.size, 2);
    proxy.cut_all();
    until_cut_through(&proxy).await;

    // A checkout finds both dead and opens a fresh connection.
    let mut conn = within("get", pool.get()).await.unwrap();
    assert!(
        !old.contains(&conn.backend_pid().unwrap()),
        "an old session came back"
    );
    let rows = within("query", conn.query(SQL, &[&3i32])).await.unwrap();
    assert_eq!(
        render(&rows),
        r#"[(1, "value 1"), (2, "value 2"), (3, "value 3")]"#
    );
    drop(conn);
    let status = settled(&pool).await;
    assert_eq!(
        (status.size, status.opened, status.closed.broken),
        (1, 3, 2),
        "{status:?}"
    );

    // The shared path too, after the fresh connection is cut idle in turn.
    proxy.cut_all();
    until_cut_through(&proxy).await;
    let pid: i32 = within("query_one", pool.query_one("SELECT pg_backend_pid()", &[]))
        .await
        .unwrap()
        .get(0);
    assert!(!old.contains(&pid));
    let status = settled(&pool).await;
    assert_eq!(
        (status.size, status.opened, status.closed.broken),
        (1, 4, 3),
        "{status:?}"
    );
    assert_eq!(proxy.accepted(), 4);
}

/// How the pool is asked to run the query.
#[derive(Debug, Clone, Copy)]
enum Path {
    /// `pool.query`: the batching shared path.
    Shared,
    /// `pool.get()` then `query` on the checked-out connection.
    Checkout,
}

async fn run(pool: &Pool, path: Path) -> Result<Vec<Row>, tusk::Error> {
    match path {
        Path::Shared => pool.query(SQL, &[&4i32]).await,
        Path::Checkout => pool.get().await?.query(SQL, &[&4i32]).await,
    }
}

/// Cuts the pool's connection at every offset of one query, both ways, one cut after another
/// on the same pool: the cut call fails saying the connection is lost (or has its whole
/// answer); the next call succeeds on a fresh connection.
async fn cut_at_every_offset(path: Path) {
    let proxy = FaultProxy::start(live::port()).await;
    let pool = pool_through(&proxy, 1);
    let answer = render(&within("the clean query", run(&pool, path)).await.unwrap());
    // The query on a connection that has run it before (its statement is prepared), which is
    // what each cut below meets: the call before it ran on the same connection.
    let conn = proxy.connections().pop().unwrap();
    let before = conn.counts();
    within("the recorded query", run(&pool, path))
        .await
        .unwrap();
    let length = conn.counts().since(before);
    let mut cuts = 0u64;
    let mut oks = 0u64;
    for direction in Direction::BOTH {
        for after in 0..=length.get(direction) {
            let cut = (direction, after);
            // The connection open now has run the query once already (the recovery check of
            // the cut before, or the recording).
            let open: Vec<_> = proxy
                .connections()
                .into_iter()
                .filter(|c| !c.is_cut())
                .collect();
            assert_eq!(open.len(), 1, "{cut:?}: the pool holds one connection");
            open[0].apply(FaultPlan::cut(direction, after));
            match within("the cut query", run(&pool, path)).await {
                Ok(rows) => {
                    assert_eq!(render(&rows), answer, "{path:?} {cut:?}: a wrong Ok");
                    oks += 1;
                    // Given back to the pool, cut: the next call must find it dead.
                    until_cut_through(&proxy).await;
                }
                Err(err) => {
                    assert!(
                        err.is_closed(),
                        "{path:?} {cut:?}: an error that does not say the connection is lost: \
                         {err}"
                    );
                    assert!(
                        cut != (Direction::ToClient, length.to_client),
                        "{path:?} {cut:?}: the client had the whole answer, yet: {err}"
                    );
                }
            }
            cuts += 1;
            // Recovered: the next call has the answer, on a fresh connection.
            let rows = within("the query after a cut", run(&pool, path))
                .await
                .unwrap_or_else(|err| panic!("{path:?} {cut:?}: the pool did not recover: {err}"));
            assert_eq!(render(&rows), answer);
            let status = settled(&pool).await;
            assert_eq!(
                (status.size, status.opened, status.closed.broken),
                (1, 1 + cuts, cuts),
                "{path:?} {cut:?}: every cut connection closed as broken, one fresh one opened"
            );
        }
    }
    assert_eq!(proxy.accepted(), 1 + cuts);
    eprintln!(
        "pool {path:?}: {} bytes to the server, {} to the client; {cuts} cuts ({oks} Ok), \
         each recovered",
        length.to_server, length.to_client
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_path_recovers_from_a_cut_at_every_offset() {
    cut_at_every_offset(Path::Shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_recovers_from_a_cut_at_every_offset() {
    cut_at_every_offset(Path::Checkout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_shared_queries_cut_midway_fail_or_answer_and_the_next_all_answer() {
    let proxy = FaultProxy::start(live::port()).await;
    let pool = pool_through(&proxy, 2);
    let query = "SELECT $1::int4 * 2, repeat('x', 100)";
    // Both connections open, the statement prepared on both.
    let (a, b) = tokio::join!(pool.get(), pool.get());
    let (mut a, mut b) = (a.unwrap(), b.unwrap());
    a.query(query, &[&0i32]).await.unwrap();
    b.query(query, &[&0i32]).await.unwrap();
    drop((a, b));
    for round in 0..2 {
        // In the first round every connection is cut partway through the answers (each about
        // 150 bytes): batches fail from some job on. The second round runs clean.
        if round == 0 {
            for conn in proxy.connections() {
                conn.apply(FaultPlan::cut(Direction::ToClient, 1000));
            }
        }
        let mut tasks = tokio::task::JoinSet::new();
        for value in 0..64i32 {
            let pool = pool.clone();
            tasks.spawn(async move {
                let got = within("a shared query", pool.query_one(query, &[&value])).await;
                (value, got.map(|row| row.get::<_, i32>(0)))
            });
        }
        let mut failed = 0;
        while let Some(done) = tasks.join_next().await {
            let (value, got) = done.unwrap();
            match got {
                Ok(doubled) => assert_eq!(doubled, value * 2),
                Err(err) => {
                    assert!(round == 0, "a clean round failed: {err}");
                    assert!(err.is_closed(), "{err}");
                    failed += 1;
                }
            }
        }
        if round == 0 {
            assert!(failed > 0, "the cut failed no query");
            // A connection that never carried that much is disarmed; the cut ones must have
            // reached the pool's clients before the clean round.
            for conn in proxy.connections() {
                conn.apply(FaultPlan::clean());
            }
            until_cut_through(&proxy).await;
        }
        let status = settled(&pool).await;
        assert_eq!(status.opened, proxy.accepted(), "{status:?}");
    }
}
