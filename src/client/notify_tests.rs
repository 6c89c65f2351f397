//! Tests of the notification streams: pure helpers, and the two `Stream` implementations
//! against a minimal scripted backend on loopback (the live tests in protocol-tests cover the
//! real server through `recv` and `next_notification`).

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::Kind;

#[test]
fn quote_ident_doubles_quotes() {
    assert_eq!(quote_ident("jobs"), "\"jobs\"");
    assert_eq!(quote_ident("Mixed Case"), "\"Mixed Case\"");
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote_ident("\""), "\"\"\"\"");
    assert_eq!(quote_ident("é; DROP"), "\"é; DROP\"");
}

#[test]
fn channel_names_are_checked() {
    for (channel, why) in [
        ("", "a channel name cannot be empty"),
        ("a\0b", "a channel name cannot contain a NUL character"),
    ] {
        let err = check_channel(channel).unwrap_err();
        assert_eq!(err.kind(), Kind::Usage, "{err}");
        assert!(err.to_string().ends_with(why), "{err}");
    }
    assert!(check_channel("a\"b").is_ok());
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_secs(1));
    let delays: Vec<_> = (1..=7).map(|a| policy.delay_before(a)).collect();
    let ms = Duration::from_millis;
    assert_eq!(
        delays,
        [
            ms(0),
            ms(100),
            ms(200),
            ms(400),
            ms(800),
            ms(1000),
            ms(1000)
        ]
    );
    // No overflow however many attempts.
    assert_eq!(policy.delay_before(u32::MAX), ms(1000));
}

fn assert_send<T: Send>() {}

#[test]
fn listener_and_stream_are_send() {
    assert_send::<Listener>();
    assert_send::<Notifications<'static>>();
}

/// Appends one backend message: tag, length, body.
fn message(out: &mut BytesMut, tag: u8, body: &[u8]) {
    out.put_u8(tag);
    out.put_i32(i32::try_from(body.len() + 4).expect("test messages are small"));
    out.put_slice(body);
}

fn notification_msg(out: &mut BytesMut, pid: i32, channel: &str, payload: &str) {
    let mut body = BytesMut::new();
    body.put_i32(pid);
    body.put_slice(channel.as_bytes());
    body.put_u8(0);
    body.put_slice(payload.as_bytes());
    body.put_u8(0);
    message(out, b'A', &body);
}

/// The FATAL error a server sends before ending a terminated session.
fn fatal_msg(out: &mut BytesMut) {
    let mut body = BytesMut::new();
    for (field, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "57P01"),
        (b'M', "terminating connection due to administrator command"),
    ] {
        body.put_u8(field);
        body.put_slice(value.as_bytes());
        body.put_u8(0);
    }
    body.put_u8(0);
    message(out, b'E', &body);
}

/// Reads the StartupMessage (answering `N` to an SSLRequest first) and answers: trust
/// authentication, a cancel key, idle.
async fn accept_session(listener: &TcpListener, pid: i32) -> TcpStream {
    let (mut sock, _) = listener.accept().await.unwrap();
    loop {
        let len = sock.read_i32().await.unwrap();
        let mut startup = vec![0; usize::try_from(len - 4).unwrap()];
        sock.read_exact(&mut startup).await.unwrap();
        // sslmode=prefer asks for TLS first: answer as a server without it.
        if startup == 80_877_103i32.to_be_bytes() {
            sock.write_all(b"N").await.unwrap();
            continue;
        }
        break;
    }
    let mut out = BytesMut::new();
    message(&mut out, b'R', &0i32.to_be_bytes());
    let mut key = BytesMut::new();
    key.put_i32(pid);
    key.put_slice(&[1, 2, 3, 4]);
    message(&mut out, b'K', &key);
    message(&mut out, b'Z', b"I");
    sock.write_all(&out).await.unwrap();
    sock
}

/// Reads one simple Query and returns its SQL.
async fn read_query(sock: &mut TcpStream) -> String {
    let tag = sock.read_u8().await.unwrap();
    assert_eq!(tag, b'Q');
    let len = sock.read_i32().await.unwrap();
    let mut body = vec![0; usize::try_from(len - 4).unwrap()];
    sock.read_exact(&mut body).await.unwrap();
    assert_eq!(body.pop(), Some(0));
    String::from_utf8(body).unwrap()
}

/// Answers a LISTEN: CommandComplete, then idle.
async fn answer_listen(sock: &mut TcpStream) -> String {
    let sql = read_query(sock).await;
    let mut out = BytesMut::new();
    message(&mut out, b'C', b"LISTEN\0");
    message(&mut out, b'Z', b"I");
    sock.write_all(&out).await.unwrap();
    sql
}

async fn fake_config(listener: &TcpListener) -> Config {
    let port = listener.local_addr().unwrap().port();
    format!("host=127.0.0.1 port={port} user=fake dbname=fake connect_timeout=5")
        .parse()
        .unwrap()
}

async fn next_within<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream yielded nothing in time")
}

#[tokio::test]
async fn notifications_stream_yields_in_order_then_ends_with_the_session() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = fake_config(&listener).await;
    let server = tokio::spawn(async move {
        let mut sock = accept_session(&listener, 7).await;
        let mut out = BytesMut::new();
        notification_msg(&mut out, 99, "jobs", "first");
        notification_msg(&mut out, 99, "jobs", "second ✓");
        sock.write_all(&out).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut out = BytesMut::new();
        notification_msg(&mut out, 98, "other", "third");
        fatal_msg(&mut out);
        sock.write_all(&out).await.unwrap();
        // The session ends: close the socket.
    });
    let mut conn = config.connect().await.unwrap();
    let mut stream = conn.notifications();
    let mut got = Vec::new();
    for _ in 0..3 {
        let n = next_within(&mut stream).await.unwrap().unwrap();
        got.push((n.process_id, n.channel, n.payload));
    }
    assert_eq!(
        got,
        [
            (99, "jobs".to_owned(), "first".to_owned()),
            (99, "jobs".to_owned(), "second ✓".to_owned()),
            (98, "other".to_owned(), "third".to_owned()),
        ]
    );
    // The server's reason, then the end of the stream.
    let err = next_within(&mut stream).await.unwrap().unwrap_err();
    assert!(err.is_closed(), "{err}");
    assert_eq!(err.code().map(|c| c.code()), Some("57P01"));
    assert!(next_within(&mut stream).await.is_none());
    drop(stream);
    assert!(conn.is_closed());
    server.await.unwrap();
}

#[tokio::test]
async fn a_dropped_notifications_stream_loses_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = fake_config(&listener).await;
    let (send, recv) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut sock = accept_session(&listener, 7).await;
        // Wait until the client has given up one wait, then send.
        recv.await.unwrap();
        let mut out = BytesMut::new();
        notification_msg(&mut out, 1, "c", "after the drop");
        sock.write_all(&out).await.unwrap();
        // Keep the session open until the client goes.
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest).await;
    });
    let mut conn = config.connect().await.unwrap();
    {
        let mut stream = conn.notifications();
        let waited = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
        assert!(waited.is_err(), "nothing was sent yet");
    }
    send.send(()).unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), conn.next_notification())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.payload, "after the drop");
    drop(conn);
    server.await.unwrap();
}

#[tokio::test]
async fn listener_stream_reconnects_and_listens_again() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = fake_config(&listener).await;
    let server = tokio::spawn(async move {
        // First session: LISTEN, one notification, then terminated.
        let mut sock = accept_session(&listener, 10).await;
        assert_eq!(answer_listen(&mut sock).await, "LISTEN \"a\"\"b\"");
        let mut out = BytesMut::new();
        notification_msg(&mut out, 5, "a\"b", "before");
        fatal_msg(&mut out);
        sock.write_all(&out).await.unwrap();
        drop(sock);
        // Second session: the LISTEN comes again by itself.
        let mut sock = accept_session(&listener, 11).await;
        assert_eq!(answer_listen(&mut sock).await, "LISTEN \"a\"\"b\"");
        let mut out = BytesMut::new();
        notification_msg(&mut out, 5, "a\"b", "after");
        sock.write_all(&out).await.unwrap();
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest).await;
    });
    let mut events = Listener::connect(config).await.unwrap();
    assert_eq!(events.backend_pid(), Some(10));
    events.listen("a\"b").await.unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next_within(&mut events).await.unwrap().unwrap());
    }
    let note = |payload: &str| {
        ListenerEvent::Notification(Notification {
            process_id: 5,
            channel: "a\"b".into(),
            payload: payload.into(),
        })
    };
    assert_eq!(
        got,
        [
            note("before"),
            ListenerEvent::Reconnected {
                missed_possible: true
            },
            note("after"),
        ]
    );
    assert_eq!(events.backend_pid(), Some(11));
    drop(events);
    server.await.unwrap();
}

#[tokio::test]
async fn reconnection_gives_up_after_max_attempts_with_backoff() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = fake_config(&listener).await;
    let server = tokio::spawn(async move {
        let mut sock = accept_session(&listener, 10).await;
        let mut out = BytesMut::new();
        fatal_msg(&mut out);
        sock.write_all(&out).await.unwrap();
        // Every reconnection attempt is refused at once (socket closed on accept).
        let mut attempts = 0;
        while let Ok(Ok((sock, _))) =
            tokio::time::timeout(Duration::from_millis(500), listener.accept()).await
        {
            drop(sock);
            attempts += 1;
        }
        attempts
    });
    let mut events = Listener::connect(config).await.unwrap();
    events.set_reconnect_policy(
        ReconnectPolicy::default()
            .max_attempts(3)
            .initial_delay(Duration::from_millis(20))
            .max_delay(Duration::from_millis(40)),
    );
    let started = std::time::Instant::now();
    let err = events.recv().await.unwrap_err();
    // Two delays: 20 ms, then 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(err.kind(), Kind::Closed, "{err}");
    assert!(
        err.to_string()
            .contains("the listener's connection was lost and 3 attempt(s) to reconnect failed"),
        "{err}"
    );
    assert_eq!(events.backend_pid(), None);
    drop(events);
    assert_eq!(server.await.unwrap(), 3);
}
