//! Every frontend message the client's encoder (`tusk::proto::frontend`) writes is decoded by
//! the server side (`tusk::proto::server`) to the fields it was given: the two sides of the
//! codec agree, message by message, on the edge cases (empty names, NULL and empty values,
//! 65535 items, the longest cancel key, multi-byte UTF-8).

use std::convert::Infallible;

use bytes::{BufMut, BytesMut};
use tusk::proto::frontend;
use tusk::proto::server::{
    decode, decode_startup, Bind, FrontendMessage, FunctionCall, Parse, ProtocolVersion,
    StartupPacket, Target, MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::{IsNull, MAX_FRONTEND_MESSAGE_LEN as MAX};

/// Encodes one message with `encode` and decodes it with the server's decoder; the whole
/// buffer must be one message.
fn roundtrip(encode: impl FnOnce(&mut BytesMut)) -> FrontendMessage {
    let mut buf = BytesMut::new();
    encode(&mut buf);
    let message = decode(&mut buf, MAX).unwrap().expect("a complete message");
    assert!(buf.is_empty(), "{} bytes left", buf.len());
    message
}

/// The same for a startup packet.
fn roundtrip_startup(encode: impl FnOnce(&mut BytesMut)) -> StartupPacket {
    let mut buf = BytesMut::new();
    encode(&mut buf);
    let packet = decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN)
        .unwrap()
        .expect("a complete packet");
    assert!(buf.is_empty(), "{} bytes left", buf.len());
    packet
}

fn put_value(value: Option<&[u8]>, buf: &mut BytesMut) -> Result<IsNull, Infallible> {
    Ok(match value {
        Some(bytes) => {
            buf.put_slice(bytes);
            IsNull::No
        }
        None => IsNull::Yes,
    })
}

#[test]
fn startup_packets() {
    let params = [
        ("user", "alice"),
        ("database", "shöp"),
        ("options", ""),
        ("application_name", "tusk"),
    ];
    let packet = roundtrip_startup(|b| frontend::startup_message(params, b).unwrap());
    let StartupPacket::Startup {
        version,
        parameters,
    } = packet
    else {
        panic!("not a StartupMessage: {packet:?}")
    };
    assert_eq!(version, ProtocolVersion::V3_0);
    assert_eq!(version.code(), tusk::proto::PROTOCOL_VERSION);
    assert_eq!(parameters.iter().collect::<Vec<_>>(), params);

    let packet = roundtrip_startup(|b| frontend::startup_message([], b).unwrap());
    assert!(matches!(packet, StartupPacket::Startup { parameters, .. } if parameters.is_empty()));
    assert_eq!(
        roundtrip_startup(frontend::ssl_request),
        StartupPacket::SslRequest
    );
    assert_eq!(
        roundtrip_startup(frontend::gssenc_request),
        StartupPacket::GssEncRequest
    );
    for key in [&[1u8, 2, 3, 4][..], &[0xee; 256][..]] {
        let packet = roundtrip_startup(|b| frontend::cancel_request(-7, key, b).unwrap());
        assert_eq!(
            packet,
            StartupPacket::CancelRequest {
                process_id: -7,
                secret_key: key.to_vec().into()
            }
        );
    }
}

#[test]
fn authentication_responses() {
    let auth = |message: FrontendMessage| match message {
        FrontendMessage::AuthResponse(response) => response,
        other => panic!("expected an AuthResponse, got {other:?}"),
    };
    let response = auth(roundtrip(|b| {
        frontend::password_message(b"md5a3556571e93b0d20722ba62be61e8c2d", b).unwrap()
    }));
    assert_eq!(
        response.as_password(),
        Ok(&b"md5a3556571e93b0d20722ba62be61e8c2d"[..])
    );
    let response = auth(roundtrip(|b| {
        frontend::password_message(b"p\xe4ss", b).unwrap()
    }));
    assert_eq!(response.as_password(), Ok(&b"p\xe4ss"[..]));
    for data in [&b""[..], b"n,,n=,r=fyko+d2lbbFgONRv9qkxdawL"] {
        let response = auth(roundtrip(|b| {
            frontend::sasl_initial_response("SCRAM-SHA-256", data, b).unwrap()
        }));
        let initial = response.as_sasl_initial_response().unwrap();
        assert_eq!(
            (initial.mechanism, initial.data),
            ("SCRAM-SHA-256", Some(data))
        );
    }
    let response = auth(roundtrip(|b| {
        frontend::sasl_response(b"c=biws,r=x,p=y", b).unwrap()
    }));
    assert_eq!(&response.as_sasl_response()[..], b"c=biws,r=x,p=y");
    let response = auth(roundtrip(|b| {
        frontend::gss_response(b"\x60\x82\x00", b).unwrap()
    }));
    assert_eq!(&response.as_gss_response()[..], b"\x60\x82\x00");
}

#[test]
fn simple_query_and_copy() {
    for sql in ["SELECT 1", "", "SELECT 'ünïcødé 🐘'; SELECT 2"] {
        assert_eq!(
            roundtrip(|b| frontend::query(sql, b).unwrap()),
            FrontendMessage::Query(sql.into())
        );
    }
    assert_eq!(
        roundtrip(|b| frontend::copy_data(b"1\t\\N\n", b).unwrap()),
        FrontendMessage::CopyData(b"1\t\\N\n".to_vec().into())
    );
    let header_form = roundtrip(|b| {
        frontend::copy_data_header(3, b).unwrap();
        b.put_slice(b"abc");
    });
    assert_eq!(
        header_form,
        FrontendMessage::CopyData(b"abc".to_vec().into())
    );
    assert_eq!(roundtrip(frontend::copy_done), FrontendMessage::CopyDone);
    assert_eq!(
        roundtrip(|b| frontend::copy_fail("cancelled by the user", b).unwrap()),
        FrontendMessage::CopyFail("cancelled by the user".into())
    );
    assert_eq!(roundtrip(frontend::sync), FrontendMessage::Sync);
    assert_eq!(roundtrip(frontend::flush), FrontendMessage::Flush);
    assert_eq!(roundtrip(frontend::terminate), FrontendMessage::Terminate);
}

#[test]
fn parse_describe_execute_close() {
    let types: Vec<u32> = (0..=u16::MAX as u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    for (name, sql, types) in [
        ("", "SELECT 1", &[][..]),
        ("tusk_s1", "SELECT $1::int8, $2", &[20, 0][..]),
        ("s", "SELECT $1", &types[..65535]),
    ] {
        let message = roundtrip(|b| frontend::parse(name, sql, types.iter().copied(), b).unwrap());
        let FrontendMessage::Parse(parse) = message else {
            panic!("not a Parse")
        };
        let parse: Parse = parse;
        assert_eq!((parse.name().as_str(), parse.sql().as_str()), (name, sql));
        assert!(parse.param_types().eq(types.iter().copied()));
    }
    for name in ["", "tusk_s1", "ünïcødé"] {
        let statement = || Target::Statement(name.into());
        let portal = || Target::Portal(name.into());
        let m = |f: fn(&str, &mut BytesMut) -> Result<(), tusk::proto::ProtoError>| {
            roundtrip(|b| f(name, b).unwrap())
        };
        assert_eq!(
            m(frontend::describe_statement),
            FrontendMessage::Describe(statement())
        );
        assert_eq!(
            m(frontend::describe_portal),
            FrontendMessage::Describe(portal())
        );
        assert_eq!(
            m(frontend::close_statement),
            FrontendMessage::Close(statement())
        );
        assert_eq!(m(frontend::close_portal), FrontendMessage::Close(portal()));
        for max_rows in [0, 1, 4096, i32::MAX] {
            let FrontendMessage::Execute(execute) =
                roundtrip(|b| frontend::execute(name, max_rows, b).unwrap())
            else {
                panic!("not an Execute")
            };
            assert_eq!(
                (execute.portal.as_str(), execute.max_rows),
                (name, max_rows)
            );
        }
    }
}

fn decoded_bind(message: FrontendMessage) -> Bind {
    match message {
        FrontendMessage::Bind(bind) => bind,
        other => panic!("expected Bind, got {other:?}"),
    }
}

#[test]
fn bind_with_every_kind_of_value() {
    let values: [Option<&[u8]>; 5] = [
        Some(b"42"),
        None,
        Some(b""),
        Some(&[0, 0, 0, 7]),
        Some(&[0xff; 300]),
    ];
    for (portal, statement, formats, results) in [
        ("", "", &[][..], &[][..]),
        ("p1", "tusk_s9", &[1][..], &[1][..]),
        ("portal", "statement", &[0, 1, 0, 1, 1][..], &[0, 1, 1][..]),
    ] {
        let bind = decoded_bind(roundtrip(|b| {
            frontend::bind(portal, statement, formats, values, put_value, results, b).unwrap()
        }));
        assert_eq!(
            (bind.portal().as_str(), bind.statement().as_str()),
            (portal, statement)
        );
        assert!(bind.param_formats().eq(formats.iter().copied()));
        assert_eq!(bind.param_count(), 5);
        assert!(bind.params().eq(values));
        assert!(bind.result_formats().eq(results.iter().copied()));
    }
    // Without parameters, and with the most the protocol carries.
    let bind = decoded_bind(roundtrip(|b| {
        frontend::bind("", "", &[], [None; 0], put_value, &[], b).unwrap()
    }));
    assert_eq!(bind.params().len(), 0);
    let many = vec![None; 65535];
    let bind = decoded_bind(roundtrip(|b| {
        frontend::bind("", "", &[1], many.iter().copied(), put_value, &[], b).unwrap()
    }));
    assert_eq!(bind.param_count(), 65535);
    assert!(bind.params().all(|v| v.is_none()));
    assert_eq!(bind.param_format(65534), Some(1));
}

#[test]
fn bind_reframed_from_a_parameter_section() {
    let mut unnamed = BytesMut::new();
    frontend::bind(
        "",
        "",
        &[1],
        [Some(&b"\x00\x00\x00\x01"[..]), None],
        put_value,
        &[],
        &mut unnamed,
    )
    .unwrap();
    let section = frontend::bind_parameter_section(&unnamed).unwrap();
    let bind = decoded_bind(roundtrip(|b| {
        frontend::bind_with_parameter_section("p", "tusk_s3", &unnamed[section], &[1, 0], b)
            .unwrap()
    }));
    assert_eq!(
        (bind.portal().as_str(), bind.statement().as_str()),
        ("p", "tusk_s3")
    );
    assert!(bind.params().eq([Some(&b"\x00\x00\x00\x01"[..]), None]));
    assert!(bind.result_formats().eq([1, 0]));
}

#[test]
fn function_call() {
    let args: [Option<&[u8]>; 3] = [Some(b"\x00\x00\x00\x05"), None, Some(b"")];
    for (oid, formats, result_format) in [(1234, &[1][..], 1), (u32::MAX, &[][..], 0)] {
        let message =
            roundtrip(|b| frontend::function_call(oid, formats, args, result_format, b).unwrap());
        let FrontendMessage::FunctionCall(call) = message else {
            panic!("not a FunctionCall")
        };
        let call: FunctionCall = call;
        assert_eq!(call.function_oid(), oid);
        assert!(call.arg_formats().eq(formats.iter().copied()));
        assert!(call.args().eq(args));
        assert_eq!(call.result_format(), result_format);
    }
}
