//! A TCP proxy on loopback in front of the real server that a test can stall: the connections
//! open at that moment stop forwarding bytes either way without being closed, as behind a
//! network that went silent (a dropped NAT entry, a failed-over address). Connections opened
//! afterwards are forwarded normally.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy. Its tasks end with the test's runtime.
pub struct StallingProxy {
    /// The port clients connect to.
    pub port: u16,
    /// Connections numbered below this are stalled.
    stall_below: watch::Sender<u64>,
    /// The number the next accepted connection gets.
    next_connection: Arc<AtomicU64>,
}

impl StallingProxy {
    /// Starts a proxy forwarding to `127.0.0.1:upstream_port`.
    pub async fn start(upstream_port: u16) -> StallingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (stall_below, watcher) = watch::channel(0u64);
        let next_connection = Arc::new(AtomicU64::new(0));
        let numbering = next_connection.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let number = numbering.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(forward(cr, sw, number, watcher.clone()));
                tokio::spawn(forward(sr, cw, number, watcher.clone()));
            }
        });
        StallingProxy {
            port,
            stall_below,
            next_connection,
        }
    }

    /// Stalls every connection open now (and any accepted before this returns); later ones
    /// are forwarded normally.
    pub fn stall_existing(&self) {
        let now = self.next_connection.load(Ordering::SeqCst);
        self.stall_below.send_replace(now);
    }

    /// How many connections the proxy has accepted.
    pub fn connections(&self) -> u64 {
        self.next_connection.load(Ordering::SeqCst)
    }
}

/// Copies `from` to `to` chunk by chunk; once connection `number` is stalled, holds every
/// chunk for ever (the socket stays open, nothing is forwarded).
async fn forward(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    number: u64,
    mut stall_below: watch::Receiver<u64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if number < *stall_below.borrow_and_update() {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
