//! A scripted fake backend: a TCP listener on loopback whose one connection is driven by a
//! test-supplied script. Used only for behaviour a real server will not show on demand.
//!
//! What the client sends is framed and decoded by the server side of tusk's codec
//! (`tusk::proto::server`), so a malformed startup packet or message fails the script with the
//! codec's error.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tusk::proto::framing::{split_frontend_frame, Frame};
use tusk::proto::server::{
    split_startup_packet, FrontendMessage, StartupPacket, MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::ProtoError;

/// The longest frontend message the fake backend reads.
const MAX_MESSAGE_LEN: usize = 1 << 20;

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
            script(FakeClient {
                stream,
                buf: BytesMut::new(),
            })
            .await
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
    /// Bytes read from the client and not yet handed out.
    buf: BytesMut,
}

/// A codec error as the IO error the scripts return.
fn invalid(e: ProtoError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl FakeClient {
    /// Reads more from the client into the buffer; the client closing is `UnexpectedEof`.
    async fn fill(&mut self) -> io::Result<()> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Reads the untagged StartupMessage and returns its body (after the length). An
    /// SSLRequest or GSSENCRequest before it is answered `N`, as a server without TLS does
    /// (tusk's default `sslmode=prefer` sends one first).
    pub async fn read_startup(&mut self) -> io::Result<Vec<u8>> {
        loop {
            let body: Bytes = match split_startup_packet(&mut self.buf, MAX_STARTUP_PACKET_LEN)
                .map_err(invalid)?
            {
                Some(body) => body,
                None => {
                    self.fill().await?;
                    continue;
                }
            };
            match StartupPacket::parse(body.clone()).map_err(invalid)? {
                StartupPacket::SslRequest | StartupPacket::GssEncRequest => {
                    self.stream.write_all(b"N").await?;
                }
                _ => return Ok(body.to_vec()),
            }
        }
    }

    /// Reads one tagged frontend message as it came: its tag and body.
    pub async fn read_message(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let frame = self.read_frame().await?;
        Ok((frame.tag, frame.body.to_vec()))
    }

    /// Reads one tagged frontend message, decoded.
    pub async fn read_frontend(&mut self) -> io::Result<FrontendMessage> {
        let frame = self.read_frame().await?;
        FrontendMessage::parse(frame).map_err(invalid)
    }

    async fn read_frame(&mut self) -> io::Result<Frame> {
        loop {
            match split_frontend_frame(&mut self.buf, MAX_MESSAGE_LEN).map_err(invalid)? {
                Some(frame) => return Ok(frame),
                None => self.fill().await?,
            }
        }
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads until the client closes, returning what it sent (after what was read so far).
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        let mut out = self.buf.split().to_vec();
        self.stream.read_to_end(&mut out).await?;
        Ok(out)
    }

    /// Closes the connection.
    pub async fn close(mut self) -> io::Result<()> {
        self.stream.shutdown().await
    }
}
