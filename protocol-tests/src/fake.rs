//! A scripted fake backend: a TCP listener on loopback whose one connection is driven by a
//! test-supplied script. Used only for behaviour a real server will not show on demand.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A fake backend serving one connection with a script.
pub struct FakeServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<io::Result<()>>,
}

impl FakeServer {
    /// Listens on an ephemeral loopback port and runs `script` on the first connection.
    pub async fn start<F, Fut>(script: F) -> FakeServer
    where
        F: FnOnce(FakeClient) -> Fut + Send + 'static,
        Fut: Future<Output = io::Result<()>> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            script(FakeClient { stream }).await
        });
        FakeServer { addr, task }
    }

    /// A key=value connection string for this server.
    pub fn conn_str(&self, user: &str, password: Option<&str>) -> String {
        let mut s = format!(
            "host=127.0.0.1 port={} user={user} dbname=fake connect_timeout=5",
            self.addr.port()
        );
        if let Some(p) = password {
            s.push_str(&format!(" password={p}"));
        }
        s
    }

    /// Waits for the script to finish and returns its result.
    pub async fn finish(self) -> io::Result<()> {
        self.task.await.expect("fake server task panicked")
    }
}

/// The fake backend's side of the one connection.
pub struct FakeClient {
    stream: TcpStream,
}

impl FakeClient {
    /// Reads the untagged StartupMessage and returns its body (after the length). An
    /// SSLRequest or GSSENCRequest before it is answered `N`, as a server without TLS does
    /// (tusk's default `sslmode=prefer` sends one first).
    pub async fn read_startup(&mut self) -> io::Result<Vec<u8>> {
        const SSL_REQUEST: [u8; 4] = 80_877_103i32.to_be_bytes();
        const GSSENC_REQUEST: [u8; 4] = 80_877_104i32.to_be_bytes();
        loop {
            let len = self.stream.read_i32().await?;
            let mut body = vec![0; (len as usize).saturating_sub(4)];
            self.stream.read_exact(&mut body).await?;
            if len == 8 && (body == SSL_REQUEST || body == GSSENC_REQUEST) {
                self.stream.write_all(b"N").await?;
                continue;
            }
            return Ok(body);
        }
    }

    /// Reads one tagged frontend message: its tag and body.
    pub async fn read_message(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let tag = self.stream.read_u8().await?;
        let len = self.stream.read_i32().await?;
        if !(4..=1 << 20).contains(&len) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "bad length"));
        }
        let mut body = vec![0; len as usize - 4];
        self.stream.read_exact(&mut body).await?;
        Ok((tag, body))
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads until the client closes, returning what it sent.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.stream.read_to_end(&mut out).await?;
        Ok(out)
    }

    /// Closes the connection.
    pub async fn close(mut self) -> io::Result<()> {
        self.stream.shutdown().await
    }
}
