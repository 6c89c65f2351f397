//! The server side's decoders (`tusk::proto::server`) against byte-exact vectors of every
//! frontend message and startup packet, written by hand from the "Message Formats" chapter of
//! the PostgreSQL documentation, and against bytes libpq 15 really sent (the captures of
//! `frontend_vectors.rs`).
//!
//! Besides decoding each vector to its documented fields, the suite checks that every proper
//! prefix of a fixed-layout body and every body with a byte appended is refused as Malformed
//! naming the message, that a stream cut at any offset reassembles to the same messages, and
//! that every message the client's own encoder (`tusk::proto::frontend`) writes decodes to the
//! fields it was given (`server_frontend_roundtrip.rs`).

use bytes::{Bytes, BytesMut};
use tusk::proto::framing::{split_frontend_frame, Frame};
use tusk::proto::server::{
    decode, decode_startup, split_startup_packet, AuthResponse, Bind, Execute, FrontendMessage,
    FunctionCall, Parse, ProtocolVersion, StartupPacket, Target, Text, MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::ProtoError;

const MAX: usize = tusk::proto::MAX_FRONTEND_MESSAGE_LEN;

// Startup packets: no tag, the length (counting itself), the code, the body.
const STARTUP: &[u8] = b"\x00\x00\x00\x22\x00\x03\x00\x00user\x00alice\x00database\x00shop\x00\x00";
const STARTUP_3_2: &[u8] = b"\x00\x00\x00\x12\x00\x03\x00\x02user\x00bob\x00\x00";
const SSL_REQUEST: &[u8] = b"\x00\x00\x00\x08\x04\xd2\x16\x2f";
const GSSENC_REQUEST: &[u8] = b"\x00\x00\x00\x08\x04\xd2\x16\x30";
const CANCEL_REQUEST: &[u8] = b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x12\x34\xde\xad\xbe\xef";
/// Protocol 3.2's longer key: 32 bytes here.
const CANCEL_REQUEST_3_2: &[u8] = b"\x00\x00\x00\x2c\x04\xd2\x16\x2e\x00\x00\x12\x34\
    0123456789abcdef0123456789abcdef";

// Tagged messages: tag, length (counting itself), body.
const BIND: &[u8] = b"B\x00\x00\x00\x28p1\0s1\0\x00\x02\x00\x00\x00\x01\
    \x00\x03\x00\x00\x00\x0242\xff\xff\xff\xff\x00\x00\x00\x04\x00\x00\x00\x07\x00\x01\x00\x01";
const CLOSE_STATEMENT: &[u8] = b"C\x00\x00\x00\x08Ss1\0";
const CLOSE_PORTAL: &[u8] = b"C\x00\x00\x00\x06P\0";
const COPY_DATA: &[u8] = b"d\x00\x00\x00\x081\ta\n";
const COPY_DONE: &[u8] = b"c\x00\x00\x00\x04";
const COPY_FAIL: &[u8] = b"f\x00\x00\x00\x09oops\0";
const DESCRIBE_STATEMENT: &[u8] = b"D\x00\x00\x00\x08Ss1\0";
const DESCRIBE_PORTAL: &[u8] = b"D\x00\x00\x00\x06P\0";
const EXECUTE: &[u8] = b"E\x00\x00\x00\x0bp1\0\x00\x00\x00\x0a";
const FLUSH: &[u8] = b"H\x00\x00\x00\x04";
const FUNCTION_CALL: &[u8] = b"F\x00\x00\x00\x1c\x00\x00\x04\xd2\x00\x01\x00\x01\
    \x00\x02\x00\x00\x00\x04\x00\x00\x00\x05\xff\xff\xff\xff\x00\x01";
const PASSWORD_MESSAGE: &[u8] = b"p\x00\x00\x00\x0bsecret\0";
const SASL_INITIAL_RESPONSE: &[u8] = b"p\x00\x00\x00\x21SCRAM-SHA-256\0\x00\x00\x00\x0bn,,n=,r=abc";
const SASL_RESPONSE: &[u8] = b"p\x00\x00\x00\x16c=biws,r=abc,p=xyz";
const PARSE: &[u8] =
    b"P\x00\x00\x00\x1fs1\0SELECT $1, $2\0\x00\x02\x00\x00\x00\x17\x00\x00\x00\x00";
const QUERY: &[u8] = b"Q\x00\x00\x00\x0dSELECT 1\0";
const SYNC: &[u8] = b"S\x00\x00\x00\x04";
const TERMINATE: &[u8] = b"X\x00\x00\x00\x04";

/// How a vector's body may be cut or extended.
#[derive(Debug, Clone, Copy)]
enum Tail {
    /// Every proper prefix of the body, and the body with any byte appended, is malformed.
    Fixed,
    /// The body ends with opaque data: any length from this many bytes on decodes.
    Open(usize),
}

/// Every tagged vector: the name it decodes to, its bytes, and its tail.
const TAGGED: &[(&str, &[u8], Tail)] = &[
    ("Bind", BIND, Tail::Fixed),
    ("Close", CLOSE_STATEMENT, Tail::Fixed),
    ("Close", CLOSE_PORTAL, Tail::Fixed),
    ("CopyData", COPY_DATA, Tail::Open(0)),
    ("CopyDone", COPY_DONE, Tail::Fixed),
    ("CopyFail", COPY_FAIL, Tail::Fixed),
    ("Describe", DESCRIBE_STATEMENT, Tail::Fixed),
    ("Describe", DESCRIBE_PORTAL, Tail::Fixed),
    ("Execute", EXECUTE, Tail::Fixed),
    ("Flush", FLUSH, Tail::Fixed),
    ("FunctionCall", FUNCTION_CALL, Tail::Fixed),
    // The three 'p' kinds decode alike (their readings are checked on their own below).
    ("PasswordMessage", PASSWORD_MESSAGE, Tail::Open(0)),
    ("PasswordMessage", SASL_INITIAL_RESPONSE, Tail::Open(0)),
    ("PasswordMessage", SASL_RESPONSE, Tail::Open(0)),
    ("Parse", PARSE, Tail::Fixed),
    ("Query", QUERY, Tail::Fixed),
    ("Sync", SYNC, Tail::Fixed),
    ("Terminate", TERMINATE, Tail::Fixed),
];

/// Every startup vector: its name, bytes and tail (counted in body bytes after the length).
const STARTUPS: &[(&str, &[u8], Tail)] = &[
    ("StartupMessage", STARTUP, Tail::Fixed),
    ("StartupMessage", STARTUP_3_2, Tail::Fixed),
    ("SSLRequest", SSL_REQUEST, Tail::Fixed),
    ("GSSENCRequest", GSSENC_REQUEST, Tail::Fixed),
    // The key runs to the end: 4 to 256 bytes.
    ("CancelRequest", CANCEL_REQUEST, Tail::Open(12)),
    ("CancelRequest", CANCEL_REQUEST_3_2, Tail::Open(12)),
];

/// Decodes `wire`, which must hold exactly one complete tagged message.
fn one(wire: &[u8]) -> FrontendMessage {
    let mut buf = BytesMut::from(wire);
    let message = decode(&mut buf, MAX)
        .expect("the vector decodes")
        .expect("the vector is a complete frame");
    assert!(buf.is_empty(), "{} bytes left after the frame", buf.len());
    message
}

/// Decodes `wire`, which must hold exactly one complete startup packet.
fn one_startup(wire: &[u8]) -> StartupPacket {
    let mut buf = BytesMut::from(wire);
    let packet = decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN)
        .expect("the vector decodes")
        .expect("the vector is a complete packet");
    assert!(buf.is_empty(), "{} bytes left after the packet", buf.len());
    packet
}

/// Walks every lazily read part of a message (the iterators) and its readings.
fn walk(message: &FrontendMessage) {
    match message {
        FrontendMessage::Bind(bind) => {
            assert_eq!(bind.params().count(), usize::from(bind.param_count()));
            let _ = (bind.param_formats().count(), bind.result_formats().count());
        }
        FrontendMessage::Parse(parse) => {
            let _ = parse.param_types().count();
        }
        FrontendMessage::FunctionCall(call) => {
            assert_eq!(call.args().count(), usize::from(call.arg_count()));
        }
        _ => {}
    }
}

/// A frame with `tag` and `body`, its length computed.
fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut wire = vec![tag];
    wire.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    wire.extend_from_slice(body);
    wire
}

fn parse_body(tag: u8, body: &[u8]) -> Result<FrontendMessage, ProtoError> {
    FrontendMessage::parse(Frame {
        tag,
        body: Bytes::copy_from_slice(body),
    })
}

fn assert_malformed<T: std::fmt::Debug>(result: Result<T, ProtoError>, name: &str, context: &str) {
    match result {
        Err(ProtoError::Malformed { message, .. }) => {
            assert!(
                message == name || message == "startup packet",
                "{context}: error names {message}, expected {name}"
            )
        }
        other => panic!("{context}: expected Malformed {name}, got {other:?}"),
    }
}

fn bind(message: FrontendMessage) -> Bind {
    match message {
        FrontendMessage::Bind(bind) => bind,
        other => panic!("expected Bind, got {other:?}"),
    }
}

fn auth(message: FrontendMessage) -> AuthResponse {
    match message {
        FrontendMessage::AuthResponse(response) => response,
        other => panic!("expected an AuthResponse, got {other:?}"),
    }
}

#[test]
fn every_tagged_vector_is_one_frame_with_its_name_and_tag() {
    for &(name, wire, _) in TAGGED {
        let message = one(wire);
        assert_eq!(message.name(), name);
        assert_eq!(message.tag(), wire[0], "{name}");
        walk(&message);
    }
    for &(name, wire, _) in STARTUPS {
        assert_eq!(one_startup(wire).name(), name);
    }
}

#[test]
fn startup_vectors() {
    let StartupPacket::Startup {
        version,
        parameters,
    } = one_startup(STARTUP)
    else {
        panic!("not a StartupMessage")
    };
    assert_eq!(version, ProtocolVersion::V3_0);
    assert_eq!(
        parameters.iter().collect::<Vec<_>>(),
        [("user", "alice"), ("database", "shop")]
    );
    let StartupPacket::Startup {
        version,
        parameters,
    } = one_startup(STARTUP_3_2)
    else {
        panic!("not a StartupMessage")
    };
    assert_eq!((version.major, version.minor), (3, 2));
    assert_eq!(parameters.get("user"), Some("bob"));
    assert_eq!(one_startup(SSL_REQUEST), StartupPacket::SslRequest);
    assert_eq!(one_startup(GSSENC_REQUEST), StartupPacket::GssEncRequest);
    assert_eq!(
        one_startup(CANCEL_REQUEST),
        StartupPacket::CancelRequest {
            process_id: 0x1234,
            secret_key: Bytes::from_static(b"\xde\xad\xbe\xef")
        }
    );
    assert_eq!(
        one_startup(CANCEL_REQUEST_3_2),
        StartupPacket::CancelRequest {
            process_id: 0x1234,
            secret_key: Bytes::from_static(b"0123456789abcdef0123456789abcdef")
        }
    );
}

#[test]
fn extended_query_vectors() {
    let b = bind(one(BIND));
    assert_eq!((b.portal().as_str(), b.statement().as_str()), ("p1", "s1"));
    assert_eq!(b.param_formats().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(
        b.params().collect::<Vec<_>>(),
        [Some(&b"42"[..]), None, Some(&b"\x00\x00\x00\x07"[..])]
    );
    assert_eq!(b.result_formats().collect::<Vec<_>>(), [1]);
    // Two codes for three values: the protocol gives none of them a format.
    assert_eq!(b.param_format(0), None);
    assert_eq!(b.result_format(5), Some(1));

    let FrontendMessage::Parse(p) = one(PARSE) else {
        panic!("not a Parse")
    };
    assert_eq!(
        (p.name().as_str(), p.sql().as_str()),
        ("s1", "SELECT $1, $2")
    );
    assert_eq!(p.param_types().collect::<Vec<_>>(), [23, 0]);

    let statement = || Text::from("s1");
    assert_eq!(
        one(CLOSE_STATEMENT),
        FrontendMessage::Close(Target::Statement(statement()))
    );
    assert_eq!(
        one(CLOSE_PORTAL),
        FrontendMessage::Close(Target::Portal("".into()))
    );
    assert_eq!(
        one(DESCRIBE_STATEMENT),
        FrontendMessage::Describe(Target::Statement(statement()))
    );
    assert_eq!(
        one(DESCRIBE_PORTAL),
        FrontendMessage::Describe(Target::Portal("".into()))
    );
    assert_eq!(
        one(EXECUTE),
        FrontendMessage::Execute(Execute {
            portal: "p1".into(),
            max_rows: 10
        })
    );
    assert_eq!(one(FLUSH), FrontendMessage::Flush);
    assert_eq!(one(SYNC), FrontendMessage::Sync);
    assert_eq!(one(QUERY), FrontendMessage::Query("SELECT 1".into()));
    assert_eq!(one(TERMINATE), FrontendMessage::Terminate);
}

#[test]
fn copy_and_function_call_vectors() {
    assert_eq!(
        one(COPY_DATA),
        FrontendMessage::CopyData(Bytes::from_static(b"1\ta\n"))
    );
    assert_eq!(one(COPY_DONE), FrontendMessage::CopyDone);
    assert_eq!(one(COPY_FAIL), FrontendMessage::CopyFail("oops".into()));
    let FrontendMessage::FunctionCall(call) = one(FUNCTION_CALL) else {
        panic!("not a FunctionCall")
    };
    let call: &FunctionCall = &call;
    assert_eq!(call.function_oid(), 1234);
    assert_eq!(call.arg_formats().collect::<Vec<_>>(), [1]);
    assert_eq!(
        call.args().collect::<Vec<_>>(),
        [Some(&b"\x00\x00\x00\x05"[..]), None]
    );
    assert_eq!(call.result_format(), 1);
}

#[test]
fn authentication_response_vectors_read_as_their_kind() {
    assert_eq!(
        auth(one(PASSWORD_MESSAGE)).as_password(),
        Ok(&b"secret"[..])
    );
    let sasl = auth(one(SASL_INITIAL_RESPONSE));
    let initial = sasl.as_sasl_initial_response().unwrap();
    assert_eq!(
        (initial.mechanism, initial.data),
        ("SCRAM-SHA-256", Some(&b"n,,n=,r=abc"[..]))
    );
    assert_eq!(
        &auth(one(SASL_RESPONSE)).as_sasl_response()[..],
        b"c=biws,r=abc,p=xyz"
    );
    // Every proper prefix of a password or a SASLInitialResponse body fails to read as one.
    for (wire, reading) in [
        (PASSWORD_MESSAGE, "PasswordMessage"),
        (SASL_INITIAL_RESPONSE, "SASLInitialResponse"),
    ] {
        let body = &wire[5..];
        for cut in 0..body.len() {
            let response = auth(one(&frame(b'p', &body[..cut])));
            let context = format!("{reading} cut to {cut}");
            if reading == "PasswordMessage" {
                assert_malformed(response.as_password(), reading, &context);
            } else {
                assert_malformed(response.as_sasl_initial_response(), reading, &context);
            }
        }
    }
}

#[test]
fn every_prefix_of_a_fixed_body_is_malformed() {
    for &(name, wire, tail) in TAGGED {
        let body = &wire[5..];
        for cut in 0..body.len() {
            let context = format!("{name} cut to {cut} of {} body bytes", body.len());
            let result = parse_body(wire[0], &body[..cut]);
            match tail {
                Tail::Open(min) if cut >= min => {
                    assert_eq!(result.expect(&context).name(), name, "{context}")
                }
                _ => assert_malformed(result, name, &context),
            }
        }
    }
    for &(name, wire, tail) in STARTUPS {
        let body = &wire[4..];
        for cut in 0..body.len() {
            let context = format!("{name} cut to {cut} of {} body bytes", body.len());
            let result = StartupPacket::parse(Bytes::copy_from_slice(&body[..cut]));
            match tail {
                Tail::Open(min) if cut >= min => {
                    assert_eq!(result.expect(&context).name(), name, "{context}")
                }
                // A cut inside the code leaves a shorter code: "startup packet" is named.
                _ => assert_malformed(result, name, &context),
            }
        }
    }
}

#[test]
fn every_fixed_body_with_a_byte_appended_is_malformed() {
    for &(name, wire, tail) in TAGGED.iter().chain(STARTUPS) {
        let tagged = TAGGED.iter().any(|&(_, w, _)| w == wire);
        for extra in [0u8, b'x', 0xff] {
            let context = format!("{name} with 0x{extra:02x} appended");
            let mut body = wire[if tagged { 5 } else { 4 }..].to_vec();
            body.push(extra);
            let result = if tagged {
                parse_body(wire[0], &body).map(|m| m.name())
            } else {
                StartupPacket::parse(Bytes::from(body)).map(|p| p.name())
            };
            match tail {
                Tail::Open(_) => assert_eq!(result.expect(&context), name, "{context}"),
                Tail::Fixed => assert_malformed(result, name, &context),
            }
        }
    }
}

/// A connection's whole stream as a server reads it: an SSLRequest, the StartupMessage, then
/// every tagged vector and the libpq captures' messages after their startup packets.
fn whole_stream() -> Vec<u8> {
    let mut stream = [SSL_REQUEST, STARTUP].concat();
    for &(_, wire, _) in TAGGED {
        stream.extend_from_slice(wire);
    }
    stream.extend_from_slice(&PGBENCH_EXTENDED[PGBENCH_STARTUP_LEN..]);
    stream
}

/// What a server reads from `buf`: startup packets until the StartupMessage, then tagged
/// messages; `startup_done` carries the phase across calls.
fn drain(buf: &mut BytesMut, startup_done: &mut bool, out: &mut Vec<String>) {
    while !*startup_done {
        match decode_startup(buf, MAX_STARTUP_PACKET_LEN).expect("the stream is valid") {
            Some(packet) => {
                *startup_done = matches!(packet, StartupPacket::Startup { .. });
                out.push(format!("{packet:?}"));
            }
            None => return,
        }
    }
    while let Some(message) = decode(buf, MAX).expect("the stream is valid") {
        out.push(format!("{message:?}"));
    }
}

#[test]
fn a_stream_cut_at_every_offset_reassembles_identically() {
    let stream = whole_stream();
    let mut expected = Vec::new();
    let mut whole = BytesMut::from(&stream[..]);
    drain(&mut whole, &mut false, &mut expected);
    assert!(whole.is_empty());
    assert_eq!(expected.len(), 2 + TAGGED.len() + 6);

    for cut in 0..=stream.len() {
        let (mut buf, mut done, mut got) = (BytesMut::from(&stream[..cut]), false, Vec::new());
        drain(&mut buf, &mut done, &mut got);
        // Whatever is left is a strict prefix of one packet or frame.
        if done {
            assert!(split_frontend_frame(&mut buf.clone(), MAX)
                .unwrap()
                .is_none());
        } else {
            assert!(
                split_startup_packet(&mut buf.clone(), MAX_STARTUP_PACKET_LEN)
                    .unwrap()
                    .is_none()
            );
        }
        buf.extend_from_slice(&stream[cut..]);
        drain(&mut buf, &mut done, &mut got);
        assert!(buf.is_empty(), "cut at {cut}");
        assert_eq!(got, expected, "cut at {cut}");
    }
}

// Bytes libpq 15 sent, from `frontend_vectors.rs` (see there for how they were captured):
// `pgbench -M extended` running `SELECT :x::int4` with x = 42.
const PGBENCH_STARTUP_LEN: usize = 0x42;
const PGBENCH_EXTENDED: &[u8] = b"\x00\x00\x00\x42\x00\x03\x00\x00\
user\x00postgres\x00database\x00postgres\x00application_name\x00pgbench\x00\x00\
P\x00\x00\x00\x18\x00SELECT $1::int4;\x00\x00\x00\
B\x00\x00\x00\x14\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0242\x00\x01\x00\x00\
D\x00\x00\x00\x06P\x00\
E\x00\x00\x00\x09\x00\x00\x00\x00\x00\
S\x00\x00\x00\x04\
X\x00\x00\x00\x04";
// psql with password authentication, then `COPY t FROM STDIN` with two lines.
const PSQL_COPY: &[u8] = b"\x00\x00\x00\x3f\x00\x03\x00\x00\
user\x00postgres\x00database\x00postgres\x00application_name\x00tusk\x00\x00\
p\x00\x00\x00\x0bsecret\x00\
Q\x00\x00\x00\x16COPY t FROM STDIN\x00\
d\x00\x00\x00\x0c1\tx\n2\ty\n\
c\x00\x00\x00\x04\
X\x00\x00\x00\x04";

/// Decodes a captured connection: its startup packet, then its tagged messages.
fn decode_capture(wire: &[u8]) -> (StartupPacket, Vec<FrontendMessage>) {
    let mut buf = BytesMut::from(wire);
    let startup = decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN)
        .unwrap()
        .unwrap();
    let mut messages = Vec::new();
    while let Some(message) = decode(&mut buf, MAX).unwrap() {
        messages.push(message);
    }
    assert!(buf.is_empty(), "{} bytes left", buf.len());
    (startup, messages)
}

#[test]
fn libpq_captures_decode_to_what_was_sent() {
    let (startup, messages) = decode_capture(PGBENCH_EXTENDED);
    let StartupPacket::Startup { parameters, .. } = startup else {
        panic!("not a StartupMessage")
    };
    assert_eq!(parameters.get("application_name"), Some("pgbench"));
    let [FrontendMessage::Parse(parse), FrontendMessage::Bind(b), FrontendMessage::Describe(d), FrontendMessage::Execute(e), FrontendMessage::Sync, FrontendMessage::Terminate] =
        &messages[..]
    else {
        panic!("unexpected messages: {messages:?}")
    };
    let parse: &Parse = parse;
    assert_eq!(
        (parse.name().as_str(), parse.sql().as_str()),
        ("", "SELECT $1::int4;")
    );
    assert_eq!(parse.param_types().len(), 0);
    assert_eq!(b.params().collect::<Vec<_>>(), [Some(&b"42"[..])]);
    assert_eq!(b.param_format(0), Some(0));
    assert_eq!(b.result_formats().collect::<Vec<_>>(), [0]);
    assert_eq!(d, &Target::Portal("".into()));
    assert_eq!((e.portal.as_str(), e.max_rows), ("", 0));

    let (startup, messages) = decode_capture(PSQL_COPY);
    assert_eq!(startup.name(), "StartupMessage");
    let [FrontendMessage::AuthResponse(password), FrontendMessage::Query(sql), FrontendMessage::CopyData(data), FrontendMessage::CopyDone, FrontendMessage::Terminate] =
        &messages[..]
    else {
        panic!("unexpected messages: {messages:?}")
    };
    assert_eq!(password.as_password(), Ok(&b"secret"[..]));
    assert_eq!(sql, "COPY t FROM STDIN");
    assert_eq!(&data[..], b"1\tx\n2\ty\n");
}

/// The `conn_*` seeds of the `frontend_decode` fuzz target (written by
/// `fuzz/make_server_seeds.py`) are whole, valid connections: every packet and message in them
/// decodes, so replaying them reaches every decoder rather than stopping at a framing error.
#[test]
fn every_connection_seed_of_frontend_decode_decodes_whole() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/frontend_decode");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("conn_") {
            continue;
        }
        let stream = std::fs::read(&path).expect("a seed");
        let (mut buf, mut done, mut read) = (BytesMut::from(&stream[..]), false, Vec::new());
        drain(&mut buf, &mut done, &mut read);
        assert!(buf.is_empty(), "{name}: {} bytes left undecoded", buf.len());
        assert!(!read.is_empty(), "{name}: nothing decoded");
        seeds += 1;
    }
    assert!(
        seeds >= 20,
        "only {seeds} connection seeds in {}",
        dir.display()
    );
}
