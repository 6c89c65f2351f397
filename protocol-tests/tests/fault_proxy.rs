//! The fault proxy itself (protocol_tests::fault_proxy), on raw bytes between a plain TCP
//! client and a plain TCP upstream made here (no PostgreSQL: what is tested is what the proxy
//! forwards, byte for byte): counting, cuts and stalls at exact offsets each way, plans per
//! connection and applied to a running one, re-chunking and delays, and that dropping it
//! closes everything.

use std::time::Duration;

use protocol_tests::fault_proxy::{
    ByteCounts, Chunking, Direction, FaultPlan, FaultProxy, KEPT_BYTES,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Long enough for bytes to cross loopback on a busy machine; a test that expects silence
/// waits this long.
const QUIET: Duration = Duration::from_millis(300);
/// Every test's bound: a hang fails.
const LIMIT: Duration = Duration::from_secs(20);

/// What an upstream connection does.
#[derive(Clone, Copy)]
enum Upstream {
    /// Sends every byte back.
    Echo,
    /// Sends `n` bytes (0, 1, 2, ... mod 256) and closes its sending side, then reads until the
    /// end without answering.
    Send(usize),
    /// Reads, reporting each read's bytes on the channel, and never writes.
    Record,
}

/// Starts an upstream server; every connection does `what`. Reads are reported on the
/// returned channel (`Record`), an empty vector marking the end of the stream.
async fn upstream(what: Upstream) -> (u16, mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (reads, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let reads = reads.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                if let Upstream::Send(n) = what {
                    let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
                    socket.write_all(&data).await.unwrap();
                    socket.shutdown().await.unwrap();
                }
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if matches!(what, Upstream::Record) {
                        let _ = reads.send(buf[..n].to_vec());
                    }
                    if n == 0 {
                        break;
                    }
                    if matches!(what, Upstream::Echo) && socket.write_all(&buf[..n]).await.is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    (port, received)
}

/// Everything recorded until the end of the stream, and the sizes of the reads.
async fn recorded(received: &mut mpsc::UnboundedReceiver<Vec<u8>>) -> (Vec<u8>, Vec<usize>) {
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    while let Some(read) = received.recv().await {
        if read.is_empty() {
            break;
        }
        sizes.push(read.len());
        all.extend_from_slice(&read);
    }
    (all, sizes)
}

/// Reads until the end of the stream; an error (a reset) fails the test.
async fn read_to_end(client: &mut TcpStream) -> Vec<u8> {
    let mut data = Vec::new();
    client
        .read_to_end(&mut data)
        .await
        .expect("a clean end of stream, not a reset");
    data
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| i as u8).collect()
}

async fn within<F: std::future::Future<Output = ()>>(test: F) {
    protocol_tests::poll::within_limit(LIMIT, "the proxy test", test).await;
}

#[tokio::test]
async fn a_clean_run_counts_every_byte_each_way() {
    within(async {
        let (port, _) = upstream(Upstream::Echo).await;
        let proxy = FaultProxy::start(port).await;
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let data = pattern(100_000);
        let (mut read_half, mut write_half) = client.split();
        let (_, echoed) = tokio::join!(write_half.write_all(&data), async {
            let mut echoed = vec![0u8; data.len()];
            read_half.read_exact(&mut echoed).await.unwrap();
            echoed
        });
        assert_eq!(echoed, data);
        let counts = ByteCounts {
            to_server: 100_000,
            to_client: 100_000,
        };
        let conn = proxy.connection(0).unwrap();
        assert_eq!(conn.counts(), counts);
        assert_eq!(proxy.counts(), counts);
        // The first bytes each way are kept.
        assert_eq!(conn.bytes(Direction::ToServer), data[..KEPT_BYTES]);
        assert_eq!(conn.bytes(Direction::ToClient), data[..KEPT_BYTES]);
        drop(client);
        proxy.connection(0).unwrap().closed().await;
        assert_eq!(proxy.accepted(), 1);
        assert!(!proxy.connection(0).unwrap().is_cut());
    })
    .await;
}

#[tokio::test]
async fn a_cut_toward_the_server_forwards_exactly_n_bytes_then_closes_both_sides() {
    within(async {
        for n in [0usize, 1, 7, 99, 100] {
            let (port, mut received) = upstream(Upstream::Record).await;
            let proxy = FaultProxy::start(port).await;
            proxy.set_default_plan(FaultPlan::cut(Direction::ToServer, n as u64));
            let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
            // Written piece by piece, so the cut falls inside a read as well as between them.
            for piece in pattern(100).chunks(33) {
                // After the cut the proxy may have closed: a failed write is fine.
                let _ = client.write_all(piece).await;
            }
            let (got, _) = recorded(&mut received).await;
            assert_eq!(got, pattern(n), "cut after {n}");
            // The client sees a clean end of stream.
            assert_eq!(read_to_end(&mut client).await, b"");
            let conn = proxy.connection(0).unwrap();
            conn.closed().await;
            assert!(conn.is_cut());
            assert_eq!(conn.counts().to_server, n as u64);
            assert_eq!(conn.bytes(Direction::ToServer), pattern(n));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_the_last_bytes_before_a_cut_draw_gets_back() {
    within(async {
        // The echo of the bytes forwarded before the cut would be the answer to them; the
        // other direction stops before they go out, so none of it reaches the client.
        for _ in 0..20 {
            let (port, _) = upstream(Upstream::Echo).await;
            let proxy = FaultProxy::start(port).await;
            proxy.set_default_plan(FaultPlan::cut(Direction::ToServer, 10));
            let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
            client.write_all(&pattern(10)).await.unwrap();
            assert_eq!(read_to_end(&mut client).await, b"");
            assert_eq!(proxy.connection(0).unwrap().counts().to_server, 10);
        }
    })
    .await;
}

#[tokio::test]
async fn a_cut_toward_the_client_delivers_exactly_n_bytes_then_end_of_stream() {
    within(async {
        for n in [0usize, 1, 4095, 4096, 50_000, 100_000] {
            let (port, _) = upstream(Upstream::Send(100_000)).await;
            let proxy = FaultProxy::start(port).await;
            proxy.set_default_plan(FaultPlan::cut(Direction::ToClient, n as u64));
            let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
            assert_eq!(read_to_end(&mut client).await, pattern(n), "cut after {n}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_reset_delivers_at_most_n_bytes_then_a_reset_each_way() {
    within(async {
        let (port, mut received) = upstream(Upstream::Send(100)).await;
        let _ = &mut received;
        let proxy = FaultProxy::start(port).await;
        proxy.set_default_plan(FaultPlan::reset(Direction::ToClient, 10));
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let conn = loop {
            if let Some(conn) = proxy.connection(0) {
                break conn;
            }
            tokio::task::yield_now().await;
        };
        conn.closed().await;
        let mut data = Vec::new();
        let err = client.read_to_end(&mut data).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        assert!(pattern(10).starts_with(&data), "{data:?}");
        assert_eq!(conn.counts().to_client, 10);

        // Toward the server: the upstream's read fails with a reset after at most n bytes.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = FaultProxy::start(port).await;
        proxy.set_default_plan(FaultPlan::reset(Direction::ToServer, 5));
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let (mut upstream_side, _) = listener.accept().await.unwrap();
        client.write_all(&pattern(50)).await.unwrap();
        let mut data = Vec::new();
        let err = upstream_side.read_to_end(&mut data).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        assert!(pattern(5).starts_with(&data), "{data:?}");
    })
    .await;
}

#[tokio::test]
async fn a_stall_forwards_exactly_n_bytes_and_keeps_the_sockets_open_until_cut() {
    within(async {
        // Toward the client: n bytes arrive, then nothing, and no end of stream.
        let (port, _) = upstream(Upstream::Send(1000)).await;
        let proxy = FaultProxy::start(port).await;
        proxy.set_default_plan(FaultPlan::stall(Direction::ToClient, 10));
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let mut first = vec![0u8; 10];
        client.read_exact(&mut first).await.unwrap();
        assert_eq!(first, pattern(10));
        let mut more = [0u8; 1];
        let quiet = tokio::time::timeout(QUIET, client.read(&mut more)).await;
        assert!(quiet.is_err(), "a stalled connection delivered {quiet:?}");
        // The other direction still flows, and the stall holds until the test cuts.
        let conn = proxy.connection(0).unwrap();
        client.write_all(b"still open").await.unwrap();
        assert!(!conn.is_cut());
        conn.cut();
        assert_eq!(read_to_end(&mut client).await, b"");
        conn.closed().await;
        assert_eq!(conn.counts().to_client, 10);

        // Toward the server: n bytes arrive upstream, then nothing, and no end of stream.
        let (port, mut received) = upstream(Upstream::Record).await;
        let proxy = FaultProxy::start(port).await;
        proxy.set_default_plan(FaultPlan::stall(Direction::ToServer, 5));
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        client.write_all(&pattern(50)).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 5 {
            got.extend(received.recv().await.unwrap());
        }
        assert_eq!(got, pattern(5));
        let quiet = tokio::time::timeout(QUIET, received.recv()).await;
        assert!(quiet.is_err(), "a stalled connection forwarded {quiet:?}");
        proxy.stall_all(); // already stalled: no change
        proxy.cut_all();
        assert_eq!(
            received.recv().await.unwrap(),
            b"",
            "end of stream after the cut"
        );
    })
    .await;
}

#[tokio::test]
async fn a_plan_applied_to_a_running_connection_counts_from_that_moment() {
    within(async {
        let (port, mut received) = upstream(Upstream::Record).await;
        let proxy = FaultProxy::start(port).await;
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        client.write_all(&pattern(50)).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 50 {
            got.extend(received.recv().await.unwrap());
        }
        let conn = proxy.connection(0).unwrap();
        assert_eq!(conn.counts().to_server, 50);
        conn.apply(FaultPlan::cut(Direction::ToServer, 10));
        let _ = client.write_all(&pattern(50)).await;
        let (rest, _) = recorded(&mut received).await;
        assert_eq!(rest, pattern(10));
        assert_eq!(conn.counts().to_server, 60);
        // A cut applied at offset 0 closes at once, with nothing in flight.
        let (port, mut received) = upstream(Upstream::Record).await;
        let proxy = FaultProxy::start(port).await;
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        client.write_all(b"x").await.unwrap();
        assert_eq!(received.recv().await.unwrap(), b"x");
        proxy
            .connection(0)
            .unwrap()
            .apply(FaultPlan::cut(Direction::ToClient, 0));
        assert_eq!(read_to_end(&mut client).await, b"");
        assert_eq!(received.recv().await.unwrap(), b"");
    })
    .await;
}

#[tokio::test]
async fn plans_go_to_the_numbered_connection_or_to_all() {
    within(async {
        let (port, _) = upstream(Upstream::Send(100)).await;
        let proxy = FaultProxy::start(port).await;
        proxy.set_plan_for(1, FaultPlan::cut(Direction::ToClient, 3));
        let mut lengths = Vec::new();
        for _ in 0..3 {
            let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
            lengths.push(read_to_end(&mut client).await.len());
        }
        assert_eq!(lengths, [100, 3, 100]);
        proxy.set_default_plan(FaultPlan::cut(Direction::ToClient, 7));
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        assert_eq!(read_to_end(&mut client).await, pattern(7));
        assert_eq!(proxy.accepted(), 4);
        assert_eq!(proxy.connections().len(), 4);
    })
    .await;
}

#[tokio::test]
async fn one_byte_pieces_arrive_one_by_one_and_whole() {
    within(async {
        let (port, mut received) = upstream(Upstream::Record).await;
        let proxy = FaultProxy::start(port).await;
        // The delay keeps the pieces apart on the upstream's side.
        proxy.set_default_plan(
            FaultPlan::clean()
                .chunked(Chunking::Fixed(1))
                .delayed(Duration::from_millis(20)),
        );
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        client.write_all(&pattern(10)).await.unwrap();
        drop(client);
        let (got, sizes) = recorded(&mut received).await;
        assert_eq!(got, pattern(10));
        assert_eq!(sizes, [1; 10]);
    })
    .await;
}

#[tokio::test]
async fn random_pieces_follow_their_seed() {
    within(async {
        let mut runs = Vec::new();
        for _ in 0..2 {
            let (port, mut received) = upstream(Upstream::Record).await;
            let proxy = FaultProxy::start(port).await;
            proxy.set_default_plan(
                FaultPlan::clean()
                    .chunked(Chunking::Random { seed: 42, max: 7 })
                    .delayed(Duration::from_millis(20)),
            );
            let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
            client.write_all(&pattern(40)).await.unwrap();
            drop(client);
            let (got, sizes) = recorded(&mut received).await;
            assert_eq!(got, pattern(40));
            assert!(
                sizes.iter().all(|&size| (1..=7).contains(&size)),
                "{sizes:?}"
            );
            runs.push(sizes);
        }
        assert_eq!(runs[0], runs[1], "the same seed cuts the same pieces");
        assert!(runs[0].iter().any(|&s| s != runs[0][0]), "{:?}", runs[0]);
    })
    .await;
}

#[tokio::test]
async fn coalescing_gathers_small_writes_into_one() {
    within(async {
        let (port, mut received) = upstream(Upstream::Record).await;
        let proxy = FaultProxy::start(port).await;
        proxy.set_default_plan(FaultPlan::clean().chunked(Chunking::Coalesce {
            max: 64 * 1024,
            linger: QUIET,
        }));
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        client.set_nodelay(true).unwrap();
        for piece in pattern(100).chunks(10) {
            client.write_all(piece).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(client);
        let (got, sizes) = recorded(&mut received).await;
        assert_eq!(got, pattern(100));
        assert_eq!(sizes, [100]);
    })
    .await;
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() {
    within(async {
        let (port, mut received) = upstream(Upstream::Record).await;
        let proxy = FaultProxy::start(port).await;
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        assert_eq!(received.recv().await.unwrap(), b"hello");
        drop(proxy);
        assert_eq!(
            received.recv().await.unwrap(),
            b"",
            "the upstream side closed"
        );
        let mut rest = Vec::new();
        // Closed: an end of stream or a reset, either way no more data.
        let _ = client.read_to_end(&mut rest).await;
        assert!(rest.is_empty());
    })
    .await;
}
