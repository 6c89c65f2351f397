//! Unit tests of the server-side decoders: the startup packet's framing and layouts, and the
//! edge cases of each frontend message (counts larger than the body, negative lengths, bytes
//! left over, the format-code rule). The byte-exact vectors of every message, from the
//! protocol documentation, and the cross-checks against the client's encoders live in
//! `protocol-tests/tests/server_frontend_vectors.rs`.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::proto::framing::Frame;

const MAX: usize = 1 << 20;

/// Decodes a body under `tag`.
fn parse(tag: u8, body: &[u8]) -> Result<FrontendMessage, ProtoError> {
    FrontendMessage::parse(Frame {
        tag,
        body: Bytes::copy_from_slice(body),
    })
}

/// The reason of a Malformed error naming `message`; panics on any other outcome.
fn malformed<T: std::fmt::Debug>(result: Result<T, ProtoError>, message: &str) -> String {
    match result {
        Err(ProtoError::Malformed { message: m, reason }) if m == message => reason,
        other => panic!("expected Malformed {message}, got {other:?}"),
    }
}

/// Decodes a startup packet body.
fn startup(body: &[u8]) -> Result<StartupPacket, ProtoError> {
    StartupPacket::parse(Bytes::copy_from_slice(body))
}

fn bind(body: &[u8]) -> Bind {
    match parse(b'B', body) {
        Ok(FrontendMessage::Bind(bind)) => bind,
        other => panic!("expected Bind, got {other:?}"),
    }
}

// ---- the startup packet -------------------------------------------------------------------

#[test]
fn a_partial_startup_packet_consumes_nothing() {
    let whole = b"\x00\x00\x00\x14\x00\x03\x00\x00user\x00alice\x00\x00";
    for cut in 0..whole.len() {
        let mut buf = BytesMut::from(&whole[..cut]);
        assert_eq!(
            split_startup_packet(&mut buf, MAX),
            Ok(None),
            "cut at {cut}"
        );
        assert_eq!(&buf[..], &whole[..cut]);
    }
    let mut buf = BytesMut::from(&whole[..]);
    let body = split_startup_packet(&mut buf, MAX).unwrap().unwrap();
    assert_eq!(&body[..], &whole[4..]);
    assert!(buf.is_empty());
}

#[test]
fn startup_lengths_outside_8_to_max_are_refused_from_the_length_alone() {
    for (len, bytes) in [
        (7, [0, 0, 0, 7]),
        (4, [0, 0, 0, 4]),
        (0, [0, 0, 0, 0]),
        (-1, [0xff; 4]),
        (i64::from(i32::MIN), [0x80, 0, 0, 0]),
        (10_001, 10_001i32.to_be_bytes()),
    ] {
        // Only the length has arrived: the error comes before any body.
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(
            split_startup_packet(&mut buf, MAX_STARTUP_PACKET_LEN),
            Err(ProtoError::InvalidStartupLength {
                len,
                max: MAX_STARTUP_PACKET_LEN
            }),
            "length {len}"
        );
        assert_eq!(buf.len(), 4, "nothing consumed");
    }
    // Exactly the limit is accepted (and waited for).
    let mut buf = BytesMut::from(&10_000i32.to_be_bytes()[..]);
    assert_eq!(
        split_startup_packet(&mut buf, MAX_STARTUP_PACKET_LEN),
        Ok(None)
    );
    // A smaller configured limit applies.
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x14"[..]);
    assert_eq!(
        split_startup_packet(&mut buf, 16),
        Err(ProtoError::InvalidStartupLength { len: 20, max: 16 })
    );
}

#[test]
fn request_packets_have_exactly_their_code() {
    assert_eq!(startup(b"\x04\xd2\x16\x2f"), Ok(StartupPacket::SslRequest));
    assert_eq!(
        startup(b"\x04\xd2\x16\x30"),
        Ok(StartupPacket::GssEncRequest)
    );
    let reason = malformed(startup(b"\x04\xd2\x16\x2f\x00"), "SSLRequest");
    assert_eq!(reason, "1 unexpected bytes at the end");
    malformed(startup(b"\x04\xd2\x16\x30\x00\x00"), "GSSENCRequest");
}

#[test]
fn cancel_keys_of_4_to_256_bytes_are_accepted() {
    for len in [4, 5, 32, 256] {
        let mut body = b"\x04\xd2\x16\x2e\x00\x00\x30\x39".to_vec();
        body.extend(std::iter::repeat_n(0xab, len));
        let Ok(StartupPacket::CancelRequest {
            process_id,
            secret_key,
        }) = startup(&body)
        else {
            panic!("key of {len} bytes refused")
        };
        assert_eq!((process_id, secret_key.len()), (12345, len));
    }
    for len in [0, 3, 257] {
        let mut body = b"\x04\xd2\x16\x2e\x00\x00\x30\x39".to_vec();
        body.extend(std::iter::repeat_n(0xab, len));
        let reason = malformed(startup(&body), "CancelRequest");
        assert_eq!(
            reason,
            format!("the secret key is {len} bytes, outside 4..=256")
        );
    }
    // Cut inside the process ID.
    malformed(startup(b"\x04\xd2\x16\x2e\x00\x00"), "CancelRequest");
}

#[test]
fn unknown_codes_are_refused_naming_the_code() {
    // 1234.5681 (one past GSSENCRequest), protocol 2.0, protocol 4.0, 0.
    for code in [80_877_105i32, 0x0002_0000, 0x0004_0000, 0] {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0u\0\0");
        assert_eq!(
            startup(&body),
            Err(ProtoError::UnknownStartupCode(code)),
            "code {code}"
        );
    }
}

#[test]
fn any_protocol_3_minor_version_is_decoded() {
    for (code, minor) in [(196_608i32, 0), (0x3_0002, 2), (0x3_ffff, 0xffff)] {
        let mut body = code.to_be_bytes().to_vec();
        body.push(0);
        let Ok(StartupPacket::Startup {
            version,
            parameters,
        }) = startup(&body)
        else {
            panic!("version code {code} refused")
        };
        assert_eq!(version, ProtocolVersion { major: 3, minor });
        assert_eq!(version.code(), code);
        assert!(parameters.is_empty());
    }
    assert_eq!(ProtocolVersion::V3_2.to_string(), "3.2");
    assert_eq!(ProtocolVersion::from_code(196_608), ProtocolVersion::V3_0);
}

#[test]
fn startup_parameters_need_their_final_nul_as_the_last_byte() {
    let v3 = b"\x00\x03\x00\x00";
    let with = |rest: &[u8]| [&v3[..], rest].concat();
    let cases: [(&[u8], &str); 5] = [
        (b"", "the parameter list does not end with a NUL"),
        (b"user\0bob\0", "the parameter list does not end with a NUL"),
        (b"user\0bob", "a parameter value is not NUL-terminated"),
        (b"user\0", "a parameter value is not NUL-terminated"),
        (
            b"user\0bob\0\0x",
            "1 bytes follow the NUL that ends the parameter list",
        ),
    ];
    for (rest, expected) in cases {
        let reason = malformed(startup(&with(rest)), "StartupMessage");
        assert_eq!(reason, expected, "{rest:?}");
    }
    let reason = malformed(startup(&with(b"us\xffer\0bob\0\0")), "StartupMessage");
    assert_eq!(reason, "a parameter name is not valid UTF-8");
    // An empty value is a value.
    let Ok(StartupPacket::Startup { parameters, .. }) = startup(&with(b"user\0\0options\0\0\0"))
    else {
        panic!("empty values refused")
    };
    assert_eq!(
        parameters.iter().collect::<Vec<_>>(),
        [("user", ""), ("options", "")]
    );
    assert_eq!(parameters.len(), 2);
    assert_eq!(parameters.get("database"), None);
}

#[test]
fn decode_startup_consumes_a_packet_that_fails_to_decode() {
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x09\x04\xd2\x16\x2f\x00next"[..]);
    assert!(decode_startup(&mut buf, MAX).is_err());
    assert_eq!(&buf[..], b"next");
}

// ---- tagged frames ------------------------------------------------------------------------

#[test]
fn frontend_framing_refuses_backend_tags_and_bad_lengths_from_the_header() {
    for tag in [b'Z', b'T', b'R', 0, 0xff] {
        let mut buf = BytesMut::from(&[tag][..]);
        assert_eq!(
            split_frontend_frame(&mut buf, MAX),
            Err(ProtoError::UnknownFrontendTag(tag))
        );
    }
    for (len, bytes) in [(3, [0, 0, 0, 3]), (-1, [0xff; 4]), (101, [0, 0, 0, 101])] {
        let mut buf = BytesMut::from(&[b'Q'][..]);
        buf.extend_from_slice(&bytes);
        assert_eq!(
            split_frontend_frame(&mut buf, 100),
            Err(ProtoError::InvalidFrontendLength {
                tag: b'Q',
                len,
                max: 100
            })
        );
        assert_eq!(buf.len(), 5, "nothing consumed");
    }
    assert_eq!(parse(b'Z', b"I"), Err(ProtoError::UnknownFrontendTag(b'Z')));
}

#[test]
fn bodiless_messages_refuse_a_body() {
    for (tag, name) in [
        (b'S', "Sync"),
        (b'H', "Flush"),
        (b'X', "Terminate"),
        (b'c', "CopyDone"),
    ] {
        assert_eq!(parse(tag, b"").unwrap().name(), name);
        let reason = malformed(parse(tag, b"\0"), name);
        assert_eq!(reason, "1 unexpected bytes at the end");
    }
}

#[test]
fn close_and_describe_refuse_an_unknown_kind() {
    for (tag, name) in [(b'C', "Close"), (b'D', "Describe")] {
        let reason = malformed(parse(tag, b"Xs\0"), name);
        assert_eq!(reason, "unknown kind of object 0x58 (expected 'S' or 'P')");
        let reason = malformed(parse(tag, b""), name);
        assert!(reason.contains("before the kind of object"), "{reason}");
        malformed(parse(tag, b"Sname"), name);
        malformed(parse(tag, b"Sname\0\0"), name);
    }
    let Ok(FrontendMessage::Describe(target)) = parse(b'D', b"P\0") else {
        panic!("not a Describe")
    };
    assert_eq!(target, Target::Portal(Text::from("")));
    assert_eq!(target.name(), "");
}

#[test]
fn execute_passes_any_row_limit_through() {
    for limit in [0, 1, -1, i32::MIN, i32::MAX] {
        let mut body = b"p1\0".to_vec();
        body.extend_from_slice(&limit.to_be_bytes());
        assert_eq!(
            parse(b'E', &body),
            Ok(FrontendMessage::Execute(Execute {
                portal: "p1".into(),
                max_rows: limit
            }))
        );
    }
    malformed(parse(b'E', b"p1\0\0\0\0"), "Execute");
}

// ---- Bind, Parse, FunctionCall: counts and lengths against the body ------------------------

#[test]
fn bind_counts_larger_than_the_body_are_refused_without_allocating() {
    // 65535 format codes announced, 2 bytes follow.
    let reason = malformed(parse(b'B', b"\0\0\xff\xff\x00\x01"), "Bind");
    assert_eq!(
        reason,
        "the message ends before the parameter format codes (131070 bytes needed, 2 left)"
    );
    // 65535 parameters announced, none follow.
    let reason = malformed(parse(b'B', b"\0\0\0\0\xff\xff"), "Bind");
    assert_eq!(
        reason,
        "the message ends inside the length of parameter 0 (65535 announced)"
    );
    // 2 result format codes announced, 1 follows.
    let reason = malformed(parse(b'B', b"\0\0\0\0\0\0\x00\x02\x00\x01"), "Bind");
    assert!(
        reason.contains("before the result format codes"),
        "{reason}"
    );
}

#[test]
fn bind_value_lengths_are_checked() {
    // One parameter of 5 bytes, 4 present.
    let reason = malformed(parse(b'B', b"\0\0\0\0\0\x01\0\0\0\x05abcd"), "Bind");
    assert_eq!(
        reason,
        "parameter 0 is 5 bytes long but only 4 bytes are left"
    );
    // A length of -2 (only -1 means NULL).
    let reason = malformed(parse(b'B', b"\0\0\0\0\0\x01\xff\xff\xff\xfe\0\0"), "Bind");
    assert_eq!(reason, "parameter 0 has invalid length -2");
    // i32::MAX announced.
    let reason = malformed(parse(b'B', b"\0\0\0\0\0\x01\x7f\xff\xff\xff\0\0"), "Bind");
    assert!(
        reason.starts_with("parameter 0 is 2147483647 bytes long"),
        "{reason}"
    );
    // Bytes after the result formats.
    let reason = malformed(parse(b'B', b"\0\0\0\0\0\0\0\0!"), "Bind");
    assert_eq!(reason, "1 unexpected bytes at the end");
    // No result format count at all.
    malformed(parse(b'B', b"\0\0\0\0\0\0"), "Bind");
}

#[test]
fn bind_format_rule() {
    // No codes: all text; two values.
    let b = bind(b"\0\0\0\0\0\x02\0\0\0\x01a\xff\xff\xff\xff\0\0");
    assert_eq!(
        (b.param_format(0), b.param_format(1), b.param_format(2)),
        (Some(0), Some(0), None)
    );
    assert_eq!(b.params().len(), 2);
    assert_eq!(b.params().collect::<Vec<_>>(), [Some(&b"a"[..]), None]);
    // One code for both.
    let b = bind(b"\0\0\0\x01\0\x01\0\x02\0\0\0\0\0\0\0\0\0\0");
    assert_eq!((b.param_format(0), b.param_format(1)), (Some(1), Some(1)));
    assert_eq!(
        b.params().collect::<Vec<_>>(),
        [Some(&b""[..]), Some(&b""[..])]
    );
    // Two codes for three values: invalid, no format applies.
    let b = bind(b"\0\0\0\x02\0\x01\0\0\0\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0");
    assert_eq!(b.param_format(0), None);
    assert_eq!(b.param_formats().collect::<Vec<_>>(), [1, 0]);
    // Result formats: none, one, several.
    assert_eq!(bind(b"\0\0\0\0\0\0\0\0").result_format(7), Some(0));
    assert_eq!(bind(b"\0\0\0\0\0\0\0\x01\0\x01").result_format(7), Some(1));
    let b = bind(b"\0\0\0\0\0\0\0\x02\0\x01\0\0");
    assert_eq!(
        (b.result_format(0), b.result_format(1), b.result_format(2)),
        (Some(1), Some(0), None)
    );
}

#[test]
fn parse_counts_and_trailing_bytes() {
    let reason = malformed(parse(b'P', b"\0SELECT 1\0\x00\x02\0\0\0\x17"), "Parse");
    assert_eq!(
        reason,
        "the message ends before the parameter types (8 bytes needed, 4 left)"
    );
    let reason = malformed(parse(b'P', b"\0SELECT 1\0\x00\x00\x00"), "Parse");
    assert_eq!(reason, "1 unexpected bytes at the end");
    let reason = malformed(parse(b'P', b"\0SELECT \xe9\0\x00\x00"), "Parse");
    assert_eq!(reason, "the query text is not valid UTF-8");
    let Ok(FrontendMessage::Parse(p)) = parse(b'P', b"s\0q\0\x00\x02\xff\xff\xff\xff\0\0\0\0")
    else {
        panic!("not a Parse")
    };
    // OIDs are unsigned.
    assert_eq!(p.param_types().collect::<Vec<_>>(), [u32::MAX, 0]);
    assert_eq!(p.param_types().len(), 2);
}

#[test]
fn function_call_sections_are_checked() {
    let ok = b"\0\0\x04\xd2\0\x01\0\x01\0\x02\0\0\0\x02hi\xff\xff\xff\xff\0\x01";
    let Ok(FrontendMessage::FunctionCall(call)) = parse(b'F', ok) else {
        panic!("not a FunctionCall")
    };
    assert_eq!(call.function_oid(), 1234);
    assert_eq!(call.arg_formats().collect::<Vec<_>>(), [1]);
    assert_eq!(call.arg_count(), 2);
    assert_eq!(call.args().collect::<Vec<_>>(), [Some(&b"hi"[..]), None]);
    assert_eq!(call.result_format(), 1);
    // Without the result format.
    let reason = malformed(parse(b'F', &ok[..ok.len() - 2]), "FunctionCall");
    assert!(reason.contains("before the result format code"), "{reason}");
    // An argument running past the end.
    let reason = malformed(
        parse(b'F', b"\0\0\0\x01\0\0\0\x01\0\0\x01\0"),
        "FunctionCall",
    );
    assert_eq!(
        reason,
        "argument 0 is 256 bytes long but only 0 bytes are left"
    );
}

// ---- the authentication response -----------------------------------------------------------

fn auth(body: &[u8]) -> AuthResponse {
    match parse(b'p', body) {
        Ok(FrontendMessage::AuthResponse(response)) => response,
        other => panic!("expected an AuthResponse, got {other:?}"),
    }
}

#[test]
fn a_password_is_exactly_one_c_string_of_any_bytes() {
    assert_eq!(auth(b"secret\0").as_password(), Ok(&b"secret"[..]));
    assert_eq!(auth(b"\xff\xfe\0").as_password(), Ok(&b"\xff\xfe"[..]));
    assert_eq!(auth(b"\0").as_password(), Ok(&b""[..]));
    malformed(auth(b"secret").as_password(), "PasswordMessage");
    let reason = malformed(auth(b"a\0b\0").as_password(), "PasswordMessage");
    assert_eq!(reason, "2 unexpected bytes at the end");
}

#[test]
fn sasl_initial_response_lengths() {
    let none = auth(b"SCRAM-SHA-256\0\xff\xff\xff\xff");
    let initial = none.as_sasl_initial_response().unwrap();
    assert_eq!((initial.mechanism, initial.data), ("SCRAM-SHA-256", None));
    let empty = auth(b"M\0\0\0\0\0");
    assert_eq!(
        empty.as_sasl_initial_response().unwrap().data,
        Some(&b""[..])
    );
    for (body, reason) in [
        (
            &b"M\0\0\0\0\x05abcd"[..],
            "the message ends before the end of the initial response (5 bytes needed, 4 left)",
        ),
        (b"M\0\0\0\0\x01ab", "1 unexpected bytes at the end"),
        (b"M\0\xff\xff\xff\xfe", "invalid initial response length -2"),
        (
            b"M\0\xff\xff",
            "the message ends before the length of the initial response (4 bytes needed, 2 left)",
        ),
        (b"M", "the mechanism name is not NUL-terminated"),
    ] {
        let got = malformed(auth(body).as_sasl_initial_response(), "SASLInitialResponse");
        assert_eq!(got, reason, "{body:?}");
    }
    // SASLResponse and GSSResponse are the whole body, whatever it holds.
    let raw = auth(b"c=biws,r=abc\0\xff");
    assert_eq!(&raw.as_sasl_response()[..], b"c=biws,r=abc\0\xff");
    assert_eq!(raw.as_gss_response(), raw.body());
}

#[test]
fn decode_takes_one_message_at_a_time() {
    let mut buf = BytesMut::from(&b"Q\0\0\0\x0dSELECT 1\0S\0\0\0\x04X\0"[..]);
    assert_eq!(
        decode(&mut buf, MAX),
        Ok(Some(FrontendMessage::Query("SELECT 1".into())))
    );
    assert_eq!(decode(&mut buf, MAX), Ok(Some(FrontendMessage::Sync)));
    assert_eq!(decode(&mut buf, MAX), Ok(None));
    assert_eq!(&buf[..], b"X\0");
    // A frame that fails to decode is consumed; the next one is still readable.
    let mut buf = BytesMut::from(&b"Q\0\0\0\x05xS\0\0\0\x04"[..]);
    malformed(decode(&mut buf, MAX), "Query");
    assert_eq!(decode(&mut buf, MAX), Ok(Some(FrontendMessage::Sync)));
}
