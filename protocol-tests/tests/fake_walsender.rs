//! The replication stream against a fake walsender on a TCP socket (a hand-written fake, NOT
//! PostgreSQL), for what a real server will not show on demand: the exact status updates
//! (`written` the end of what arrived, `flushed` / `applied` only what was confirmed), the
//! reply to a keepalive that asks for one, the end of a timeline (the server's CopyDone, the
//! next-timeline row, `StreamEnd::next_timeline`), and malformed replication messages refused
//! with a protocol error instead of a panic.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tusk::replication::{Lsn, PhysicalStart, ReplicationClient};
use tusk::Kind;

const LIMIT: Duration = Duration::from_secs(20);

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn keepalive(wal_end: u64, reply: bool) -> Vec<u8> {
    let mut body = vec![b'k'];
    body.extend_from_slice(&wal_end.to_be_bytes());
    body.extend_from_slice(&0i64.to_be_bytes());
    body.push(u8::from(reply));
    message(b'd', &body)
}

fn xlog(start: u64, data: &[u8]) -> Vec<u8> {
    let mut body = vec![b'w'];
    body.extend_from_slice(&start.to_be_bytes());
    body.extend_from_slice(&(start + data.len() as u64).to_be_bytes());
    body.extend_from_slice(&0i64.to_be_bytes());
    body.extend_from_slice(data);
    message(b'd', &body)
}

/// The fake server's side of one connection.
struct Peer(TcpStream);

impl Peer {
    /// Reads one tagged frontend message.
    async fn read(&mut self) -> (u8, Vec<u8>) {
        let tag = self.0.read_u8().await.unwrap();
        let len = self.0.read_i32().await.unwrap() as usize;
        let mut body = vec![0; len - 4];
        self.0.read_exact(&mut body).await.unwrap();
        (tag, body)
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).await.unwrap();
    }

    /// The startup: the startup packet (with `replication=true` in it), then AuthenticationOk,
    /// a server version, the backend key and ReadyForQuery.
    async fn startup(&mut self) {
        let len = self.0.read_i32().await.unwrap() as usize;
        let mut packet = vec![0; len - 4];
        self.0.read_exact(&mut packet).await.unwrap();
        assert!(
            packet.windows(17).any(|w| w == b"replication\0true\0"),
            "the startup packet asks for a replication connection"
        );
        let mut out = message(b'R', &0i32.to_be_bytes());
        out.extend(message(b'S', b"server_version\x0015.0\0"));
        out.extend(message(b'K', &[0, 0, 0, 7, 0, 0, 0, 9]));
        out.extend(message(b'Z', b"I"));
        self.send(&out).await;
    }

    /// A standby status update: (written, flushed, applied, reply requested).
    async fn status(&mut self) -> (Lsn, Lsn, Lsn, bool) {
        let (tag, body) = self.read().await;
        assert_eq!((tag, body.first()), (b'd', Some(&b'r')), "{body:?}");
        assert_eq!(body.len(), 34);
        let at = |i: usize| Lsn(u64::from_be_bytes(body[i..i + 8].try_into().unwrap()));
        (at(1), at(9), at(17), body[33] == 1)
    }
}

async fn fake() -> (TcpListener, tusk::Config) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = format!(
        "host=127.0.0.1 port={port} user=u dbname=d sslmode=disable gssencmode=disable \
         passfile=/nonexistent"
    )
    .parse()
    .unwrap();
    (listener, config)
}

#[tokio::test]
async fn status_updates_report_received_and_confirmed_apart_and_a_timeline_ends() {
    let (listener, config) = fake().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer(listener.accept().await.unwrap().0);
        peer.startup().await;
        let (tag, sql) = peer.read().await;
        assert_eq!(tag, b'Q');
        assert_eq!(sql, b"START_REPLICATION PHYSICAL 0/10\0");
        peer.send(&message(b'W', b"\0\0\0")).await;
        // A keepalive asking for a reply: answered at once, nothing confirmed yet.
        peer.send(&keepalive(0x100, true)).await;
        assert_eq!(
            peer.status().await,
            (Lsn(0x10), Lsn(0), Lsn(0), false),
            "the reply to the keepalive"
        );
        peer.send(&xlog(0x10, &[7; 16])).await;
        // The client confirms half of it and reports.
        assert_eq!(
            peer.status().await,
            (Lsn(0x20), Lsn(0x18), Lsn(0x18), false)
        );
        // The timeline ends: CopyDone, the client's CopyDone, the next timeline, the end.
        peer.send(&message(b'c', b"")).await;
        loop {
            match peer.read().await {
                (b'c', _) => break,
                (b'd', body) => assert_eq!(body[0], b'r'),
                other => panic!("{other:?}"),
            }
        }
        let mut out = message(
            b'T',
            b"\0\x02next_tli\0\0\0\0\0\0\0\0\0\0\x14\0\x08\xff\xff\xff\xff\0\0\
              next_tli_startpos\0\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0",
        );
        out.extend(message(b'D', b"\0\x02\0\0\0\x012\0\0\0\x040/20"));
        out.extend(message(b'C', b"SELECT 1\0"));
        out.extend(message(b'C', b"START_STREAMING\0"));
        out.extend(message(b'Z', b"I"));
        peer.send(&out).await;
        // The connection runs commands again.
        let (tag, sql) = peer.read().await;
        assert_eq!((tag, sql.as_slice()), (b'Q', &b"TIMELINE_HISTORY 2\0"[..]));
        let mut out = message(
            b'T',
            b"\0\x02filename\0\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff\0\0\
              content\0\0\0\0\0\0\0\0\0\0\x11\xff\xff\xff\xff\xff\xff\0\0",
        );
        out.extend(message(
            b'D',
            b"\0\x02\0\0\0\x1000000002.history\0\0\0\x061\t0/20",
        ));
        out.extend(message(b'C', b"TIMELINE_HISTORY\0"));
        out.extend(message(b'Z', b"I"));
        peer.send(&out).await;
    });
    tokio::time::timeout(LIMIT, async {
        let mut client = ReplicationClient::connect_physical(&config).await.unwrap();
        let mut stream = client
            .start_physical(&PhysicalStart::at(Lsn(0x10)))
            .await
            .unwrap();
        let data = stream.next().await.unwrap().unwrap();
        assert_eq!((data.wal_start, data.data.len()), (Lsn(0x10), 16));
        assert_eq!(stream.written(), Lsn(0x20));
        stream.confirm(Lsn(0x18));
        stream.confirm(Lsn(0x11)); // never backwards
        stream.send_status().await.unwrap();
        assert_eq!(stream.next().await.unwrap(), None, "the timeline ended");
        let end = stream.stop().await.unwrap();
        assert_eq!(end.next_timeline, Some((2, Lsn(0x20))));
        let history = client.timeline_history(2).await.unwrap();
        assert_eq!(history.filename, "00000002.history");
        assert_eq!(history.content, "1\t0/20");
    })
    .await
    .expect("no hang");
    server.await.unwrap();
}

#[tokio::test]
async fn malformed_replication_messages_are_protocol_errors() {
    for bad in [
        message(b'd', b"x"),                            // unknown type
        message(b'd', b"w\0\0"),                        // XLogData cut short
        message(b'd', &[b'k', 0, 0, 0, 0, 0, 0, 0, 0]), // keepalive cut short
        {
            let mut k = keepalive(1, false);
            *k.last_mut().unwrap() = 2; // a reply flag that is not 0 or 1
            k
        },
        message(b'D', b"\0\0"), // a DataRow inside CopyBoth
    ] {
        let (listener, config) = fake().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer(listener.accept().await.unwrap().0);
            peer.startup().await;
            peer.read().await;
            peer.send(&message(b'W', b"\0\0\0")).await;
            peer.send(&bad).await;
            // Hold the socket until the client gives up.
            let mut rest = Vec::new();
            let _ = peer.0.read_to_end(&mut rest).await;
        });
        let e = tokio::time::timeout(LIMIT, async {
            let mut client = ReplicationClient::connect_physical(&config).await.unwrap();
            let mut stream = client
                .start_physical(&PhysicalStart::at(Lsn(0)))
                .await
                .unwrap();
            let e = stream.next().await.unwrap_err();
            drop(stream);
            assert!(client.is_closed(), "a protocol error closes the connection");
            e
        })
        .await
        .expect("no hang");
        assert_eq!(e.kind(), Kind::Protocol, "{e}");
        server.await.unwrap();
    }
}
