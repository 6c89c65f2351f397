//! Protocol version negotiation against the scripted fake backend (NOT a real PostgreSQL: the
//! cases here are the ones a real server will not produce on demand): NegotiateProtocolVersion
//! naming `_pq_.` options tusk never asked for, raising the version, or coming twice, and
//! BackendKeyData with the longest key protocol 3.2 allows (whose CancelRequest must carry it
//! whole) and with one byte more. `live_pg18.rs` has the real servers.

use std::time::Duration;

use protocol_tests::errors::expect_message;
use protocol_tests::fake::{FakeClient, FakeServer};
use protocol_tests::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tusk::proto::server::{self, StartupPacket, MAX_STARTUP_PACKET_LEN};
use tusk::{Connection, Kind, ProtocolVersion};

/// NegotiateProtocolVersion offering `version` (sent as PostgreSQL does: the whole code).
fn negotiate(version: ProtocolVersion, options: &[&str]) -> Vec<u8> {
    wire::negotiate_protocol_version(version.code(), options)
}

fn key(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7) as u8).collect()
}

/// BackendKeyData with a key of `len` bytes, also lengths the encoder refuses (raw then: the
/// fake may send what no server may).
fn key_data(pid: i32, len: usize) -> Vec<u8> {
    if (4..=256).contains(&len) {
        return wire::backend_key_bytes(pid, &key(len));
    }
    let mut body = pid.to_be_bytes().to_vec();
    body.extend(key(len));
    wire::msg(b'K', &body)
}

/// Runs a fake server that reads the StartupMessage, checks it asked for `asked`, and sends
/// `reply`; then connects with `settings` and returns the connection's result.
async fn connect_with(
    settings: &str,
    asked: ProtocolVersion,
    reply: Vec<u8>,
) -> Result<Connection, tusk::Error> {
    let server = FakeServer::start(move |mut c: FakeClient| async move {
        let body = c.read_startup().await?;
        let version = i32::from_be_bytes(body[..4].try_into().unwrap());
        assert_eq!(ProtocolVersion::from_code(version), asked);
        c.send(&reply).await?;
        // The client closes the connection (after an error) or terminates it.
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let conn_str = format!("{} {settings}", server.conn_str("alice", None));
    let result = tokio::time::timeout(Duration::from_secs(10), Connection::connect(&conn_str))
        .await
        .expect("connect must not hang");
    if let Ok(conn) = result {
        return Ok(conn);
    }
    server.finish().await.unwrap();
    result
}

fn session_reply(before: &[Vec<u8>]) -> Vec<u8> {
    let mut reply = before.concat();
    reply.extend(wire::auth_ok());
    reply.extend(wire::startup_tail());
    reply
}

#[tokio::test]
async fn a_pq_option_tusk_never_requested_is_refused_by_name() {
    let reply = session_reply(&[negotiate(ProtocolVersion::V3_0, &["_pq_.compression"])]);
    let err = connect_with("max_protocol_version=latest", ProtocolVersion::V3_2, reply)
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "received invalid protocol negotiation message: server reported an unsupported \
         parameter that was not requested (\"_pq_.compression\")",
    );
    // Even when the version itself is what was asked for.
    let reply = session_reply(&[negotiate(ProtocolVersion::V3_2, &["_pq_.x", "_pq_.y"])]);
    let err = connect_with("max_protocol_version=3.2", ProtocolVersion::V3_2, reply)
        .await
        .unwrap_err();
    expect_message(&err, Kind::Protocol, "not requested (\"_pq_.x\")");
}

#[tokio::test]
async fn a_raised_version_is_refused() {
    // The default asks for 3.0; a server "downgrading" to 3.2 is wrong.
    let reply = session_reply(&[negotiate(ProtocolVersion::V3_2, &[])]);
    let err = connect_with("", ProtocolVersion::V3_0, reply)
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "server requested downgrade to a higher-numbered version",
    );
}

#[tokio::test]
async fn a_version_below_min_protocol_version_is_refused() {
    let reply = session_reply(&[negotiate(ProtocolVersion::V3_0, &[])]);
    let err = connect_with("min_protocol_version=3.2", ProtocolVersion::V3_2, reply)
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "server only supports protocol version 3.0, but \"min_protocol_version\" was set to 3.2",
    );
}

#[tokio::test]
async fn a_second_negotiation_is_refused() {
    let npv = negotiate(ProtocolVersion::V3_0, &[]);
    let reply = session_reply(&[npv.clone(), npv]);
    let err = connect_with("max_protocol_version=latest", ProtocolVersion::V3_2, reply)
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "received duplicate protocol negotiation message",
    );
}

#[tokio::test]
async fn a_257_byte_key_is_refused() {
    let mut reply = wire::auth_ok();
    reply.extend(key_data(7, 257));
    reply.extend(wire::ready(b'I'));
    let err = connect_with("max_protocol_version=latest", ProtocolVersion::V3_2, reply)
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "malformed BackendKeyData message: the secret key is 257 bytes, outside 4..=256",
    );
}

#[tokio::test]
async fn a_long_key_in_a_3_0_session_is_refused() {
    let mut reply = wire::auth_ok();
    reply.extend(key_data(7, 32));
    reply.extend(wire::ready(b'I'));
    let err = connect_with("", ProtocolVersion::V3_0, reply)
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "cancel key with length 32 not allowed in protocol version 3.0 (must be 4 bytes)",
    );
}

/// A 256-byte key (the longest 3.2 allows) is taken, and the CancelRequest carries it whole on
/// a second connection: length 12 + 256 = 268. The fake serves both connections.
#[tokio::test]
async fn a_256_byte_key_is_carried_whole_by_the_cancel_request() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let key = key(256);
    let server = tokio::spawn(async move {
        // The session: StartupMessage (3.2 asked for), then trust and a 256-byte key.
        let (mut session, _) = listener.accept().await.unwrap();
        let mut buf = bytes::BytesMut::new();
        let version = loop {
            if let Some(packet) = server::decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN).unwrap()
            {
                match packet {
                    StartupPacket::Startup { version, .. } => break version,
                    StartupPacket::SslRequest => session.write_all(b"N").await.unwrap(),
                    other => panic!("unexpected {other:?}"),
                }
            } else {
                session.read_buf(&mut buf).await.unwrap();
            }
        };
        assert_eq!(version, ProtocolVersion::V3_2);
        let mut reply = wire::auth_ok();
        reply.extend(wire::parameter_status("server_version", "18.99 (fake)"));
        reply.extend(key_data(4242, 256));
        reply.extend(wire::ready(b'I'));
        session.write_all(&reply).await.unwrap();
        // The cancel: its own connection, nothing but the CancelRequest, then closed by us.
        let (mut cancel, _) = listener.accept().await.unwrap();
        let mut raw = Vec::new();
        let mut chunk = [0u8; 512];
        while raw.len() < 4 || raw.len() < i32::from_be_bytes(raw[..4].try_into().unwrap()) as usize
        {
            let n = cancel.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&chunk[..n]);
        }
        drop(cancel);
        (session, raw)
    });
    let conn_str = format!(
        "host=127.0.0.1 port={port} user=alice dbname=fake connect_timeout=5 \
         max_protocol_version=latest"
    );
    let conn = Connection::connect(&conn_str).await.unwrap();
    assert_eq!(conn.protocol_version(), ProtocolVersion::V3_2);
    assert_eq!(conn.backend_pid(), Some(4242));
    conn.cancel_token().cancel().await.unwrap();
    let (_session, raw) = server.await.unwrap();
    assert_eq!(raw.len(), 268);
    let mut buf = bytes::BytesMut::from(&raw[..]);
    let packet = server::decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN)
        .unwrap()
        .unwrap();
    let StartupPacket::CancelRequest {
        process_id,
        secret_key,
    } = packet
    else {
        panic!("expected a CancelRequest, got {packet:?}")
    };
    assert_eq!(process_id, 4242);
    assert_eq!(&secret_key[..], &key[..]);
}
