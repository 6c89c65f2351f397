//! Protocol version negotiation in [`Startup`]: the StartupMessage's version, the server's
//! NegotiateProtocolVersion (decoded from its bytes), and BackendKeyData checked against the
//! negotiated version.

use bytes::BytesMut;

use super::*;
use crate::proto::backend::{self, Authentication, Message, TransactionStatus};
use crate::proto::ProtocolVersion as V;

const V3_0: V = V::V3_0;
const V3_2: V = V::V3_2;

fn startup(min: V, max: V) -> (Startup, BytesMut) {
    let mut out = BytesMut::new();
    let s = Startup::with_versions(
        &[("user", "alice")],
        "alice",
        None,
        "rOprNGfwEbeRWgbNEkqO".into(),
        AuthOptions::default(),
        VersionBounds { min, max },
        &mut out,
    )
    .unwrap();
    (s, out)
}

/// Decodes one backend message from its wire bytes (tag, length, body).
fn wire(tag: u8, body: &[u8]) -> Message {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[tag]);
    buf.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    buf.extend_from_slice(body);
    backend::decode(&mut buf, 1 << 20).unwrap().unwrap()
}

/// NegotiateProtocolVersion ('v') offering 3.`minor` (as PostgreSQL sends it: the whole
/// version code) and the unrecognized options.
fn npv(minor: i32, options: &[&str]) -> Message {
    let mut body = (3 << 16 | minor).to_be_bytes().to_vec();
    body.extend_from_slice(&(options.len() as i32).to_be_bytes());
    for o in options {
        body.extend_from_slice(o.as_bytes());
        body.push(0);
    }
    wire(b'v', &body)
}

fn key_data(pid: i32, key_len: usize) -> Message {
    let mut body = pid.to_be_bytes().to_vec();
    body.extend((0..key_len).map(|i| i as u8));
    wire(b'K', &body)
}

/// Runs a trust startup to ReadyForQuery after the given messages.
fn finish(mut s: Startup, before: Vec<Message>) -> Result<Session, ProtoError> {
    let mut out = BytesMut::new();
    for msg in before {
        s.handle(msg, &mut out)?;
    }
    s.handle(Message::Authentication(Authentication::Ok), &mut out)?;
    s.handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)?;
    Ok(s.into_session())
}

fn negotiation_error(err: ProtoError) -> String {
    match err {
        ProtoError::Negotiation(reason) => reason,
        other => panic!("expected a negotiation error, got {other:?}"),
    }
}

#[test]
fn the_startup_message_carries_the_requested_version() {
    let (_, out) = startup(V3_0, V3_0);
    assert_eq!(&out[..], b"\0\0\0\x14\0\x03\0\0user\0alice\0\0");
    let (_, out) = startup(V3_0, V3_2);
    assert_eq!(&out[..], b"\0\0\0\x14\0\x03\0\x02user\0alice\0\0");
    // The default (libpq 18's): 3.0 only.
    let mut out = BytesMut::new();
    Startup::new(&[("user", "alice")], "alice", None, "n".into(), &mut out).unwrap();
    assert_eq!(&out[4..8], b"\0\x03\0\0");
}

#[test]
fn a_3_0_server_answering_a_3_2_request_gives_a_3_0_session() {
    // What PostgreSQL 15 sends (recorded): 'v', length 12, version code 196608 (3.0), no
    // options.
    let answer = wire(b'v', b"\0\x03\0\0\0\0\0\0");
    let (s, _) = startup(V3_0, V3_2);
    let session = finish(s, vec![answer, key_data(7, 4)]).unwrap();
    assert_eq!(session.protocol_version(), V3_0);
    assert_eq!(session.backend_key().unwrap().secret_key.len(), 4);
}

#[test]
fn a_3_2_session_takes_keys_of_4_to_256_bytes() {
    for len in [4, 32, 256] {
        let (s, _) = startup(V3_0, V3_2);
        let session = finish(s, vec![key_data(9, len)]).unwrap();
        assert_eq!(session.protocol_version(), V3_2);
        let key = session.backend_key().unwrap();
        assert_eq!((key.process_id, key.secret_key.len()), (9, len));
        assert_eq!(key.secret_key[len - 1], (len - 1) as u8);
    }
}

#[test]
fn a_3_0_session_takes_only_4_byte_keys() {
    let (s, _) = startup(V3_0, V3_0);
    let err = finish(s, vec![key_data(9, 32)]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "received invalid BackendKeyData message: cancel key with length 32 not allowed in \
         protocol version 3.0 (must be 4 bytes)"
    );
    // Negotiated down to 3.0: the same rule.
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(0, &[]), key_data(9, 8)]).unwrap_err();
    assert!(negotiation_error(err).contains("length 8 not allowed in protocol version 3.0"));
}

#[test]
fn keys_outside_4_to_256_bytes_are_refused_by_the_decoder() {
    for len in [0, 3, 257] {
        let mut body = 1i32.to_be_bytes().to_vec();
        body.resize(4 + len, 0xab);
        let mut buf = BytesMut::from(&b"K"[..]);
        buf.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        buf.extend_from_slice(&body);
        let err = backend::decode(&mut buf, 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "malformed BackendKeyData message: the secret key is {len} bytes, outside 4..=256"
            )
        );
    }
}

#[test]
fn a_version_below_min_protocol_version_is_refused() {
    let (s, _) = startup(V3_2, V3_2);
    let err = finish(s, vec![npv(0, &[])]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "server only supports protocol version 3.0, but \"min_protocol_version\" was set to 3.2"
    );
}

#[test]
fn a_raised_version_is_refused() {
    let (s, _) = startup(V3_0, V3_0);
    let err = finish(s, vec![npv(2, &[])]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "received invalid protocol negotiation message: server requested downgrade to a \
         higher-numbered version"
    );
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(3, &[])]).unwrap_err();
    assert!(negotiation_error(err).contains("downgrade to a higher-numbered version"));
    // A bare minor (major 0) or another major: not a version tusk speaks, or below the min.
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![wire(b'v', b"\0\0\0\x02\0\0\0\0")]).unwrap_err();
    assert!(negotiation_error(err).contains("server only supports protocol version 0.2"));
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![wire(b'v', b"\xff\xff\xff\xff\0\0\0\0")]).unwrap_err();
    assert!(negotiation_error(err).contains("downgrade to a higher-numbered version"));
}

#[test]
fn a_negotiation_that_changes_nothing_is_refused() {
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(2, &[])]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "received invalid protocol negotiation message: server negotiated but asks for no changes"
    );
}

#[test]
fn a_version_tusk_does_not_speak_is_refused() {
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(1, &[])]).unwrap_err();
    assert!(negotiation_error(err).contains("server offered protocol version 3.1"));
}

#[test]
fn options_tusk_never_requested_are_refused_by_name() {
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(2, &["_pq_.compression"])]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "received invalid protocol negotiation message: server reported an unsupported \
         parameter that was not requested (\"_pq_.compression\")"
    );
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(0, &["_pq_.a", "_pq_.b"])]).unwrap_err();
    assert!(negotiation_error(err).contains("(\"_pq_.a\")"));
    let (s, _) = startup(V3_0, V3_0);
    let err = finish(s, vec![npv(0, &["compression"])]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "received invalid protocol negotiation message: server reported unsupported parameter \
         name without a \"_pq_.\" prefix (\"compression\")"
    );
}

#[test]
fn a_second_negotiation_is_refused() {
    let (s, _) = startup(V3_0, V3_2);
    let err = finish(s, vec![npv(0, &[]), npv(0, &[])]).unwrap_err();
    assert_eq!(
        negotiation_error(err),
        "received duplicate protocol negotiation message"
    );
}

#[test]
fn a_negotiation_after_authentication_began_is_refused() {
    let (mut s, mut out) = startup(V3_0, V3_2);
    s.handle(Message::Authentication(Authentication::Ok), &mut out)
        .unwrap();
    let err = s.handle(npv(0, &[]), &mut out).unwrap_err();
    assert!(matches!(
        err,
        ProtoError::Unexpected {
            got: "NegotiateProtocolVersion",
            ..
        }
    ));
    let (mut s, mut out) = startup(V3_0, V3_2);
    s.handle(
        Message::Authentication(Authentication::CleartextPassword),
        &mut out,
    )
    .unwrap_err(); // no password: but the request moved nothing
    let (mut s2, mut out2) = startup(V3_0, V3_2);
    s2.handle(
        Message::Authentication(Authentication::Md5Password { salt: [0; 4] }),
        &mut out2,
    )
    .unwrap_err();
    // A refused request left the state Waiting; negotiation is still allowed then.
    assert!(s.handle(npv(0, &[]), &mut out).is_ok());
}

#[test]
fn bounds_tusk_cannot_speak_are_refused_before_anything_is_written() {
    for (min, max, reason) in [
        (
            V3_2,
            V3_0,
            "\"min_protocol_version\" is greater than \"max_protocol_version\"",
        ),
        (
            V3_0,
            V { major: 3, minor: 1 },
            "protocol version 3.1 is not one tusk speaks (3.0 and 3.2)",
        ),
        (
            V { major: 2, minor: 0 },
            V3_2,
            "protocol version 2.0 is not one tusk speaks (3.0 and 3.2)",
        ),
    ] {
        let mut out = BytesMut::new();
        let err = Startup::with_versions(
            &[("user", "alice")],
            "alice",
            None,
            "n".into(),
            AuthOptions::default(),
            VersionBounds { min, max },
            &mut out,
        )
        .unwrap_err();
        assert_eq!(negotiation_error(err), reason);
        assert!(out.is_empty());
    }
}

#[test]
fn the_version_is_in_debug_and_on_the_startup() {
    let (mut s, mut out) = startup(V3_0, V3_2);
    assert_eq!(s.protocol_version(), V3_2);
    s.handle(npv(0, &[]), &mut out).unwrap();
    assert_eq!(s.protocol_version(), V3_0);
    assert!(format!("{s:?}").contains("version: \"3.0\""));
}
