//! A counting TCP proxy on loopback: forwards one client connection to the real server and
//! counts the bytes the client sends, so a test can prove a call sent nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
pub struct CountingProxy {
    /// The port clients connect to.
    pub port: u16,
    sent: Arc<AtomicU64>,
}

impl CountingProxy {
    /// Starts a proxy forwarding to `127.0.0.1:upstream_port`.
    pub async fn start(upstream_port: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
                    return;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = cr.read(&mut buf).await?;
                            if n == 0 {
                                break;
                            }
                            counter.fetch_add(n as u64, Ordering::SeqCst);
                            sw.write_all(&buf[..n]).await?;
                        }
                        sw.shutdown().await
                    };
                    let down = async {
                        tokio::io::copy(&mut sr, &mut cw).await?;
                        cw.shutdown().await
                    };
                    let _ = tokio::join!(up, down);
                });
            }
        });
        CountingProxy { port, sent }
    }

    /// Bytes the client has sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}
