//! Part 1 of the `roundtrip` checks (see `roundtrip.rs`): frontend messages written by the
//! client's encoder from fields the input picks, decoded by the server side to exactly those
//! fields.

use bytes::{BufMut, BytesMut};
use tusk::proto::frontend;
use tusk::proto::server::{
    decode, decode_startup, FrontendMessage, ProtocolVersion, StartupPacket, Target,
    MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::{IsNull, ProtoError};

use super::{Input, MAX_LEN};

/// How many kinds of op the script has.
const OPS: u8 = 23;

/// The messages written so far, in one stream per phase, and what each decoded to.
#[derive(Default)]
struct Written {
    startup: BytesMut,
    startups: Vec<StartupPacket>,
    tagged: BytesMut,
    messages: Vec<FrontendMessage>,
}

/// An encoder run by [`encode_one`], its fields moved in.
type Encode = Box<dyn FnOnce(&mut BytesMut) -> Result<(), ProtoError>>;

/// Runs the script in `input`.
pub fn run(input: &mut Input<'_>) {
    let split = input.byte();
    let mut written = Written::default();
    while !input.is_empty() {
        let op = input.byte() % OPS;
        if op < 4 {
            startup_op(op, input, &mut written);
        } else {
            tagged_op(op, input, &mut written);
        }
    }
    // The streams, split in two, decode to the same packets and messages as one by one.
    let cut = |len: usize| len * usize::from(split) / 255;
    let mut startups = Vec::new();
    let (front, back) = written.startup.split_at(cut(written.startup.len()));
    let mut buf = BytesMut::from(front);
    for piece in [None, Some(back)] {
        if let Some(piece) = piece {
            buf.extend_from_slice(piece);
        }
        while let Some(packet) = decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN).unwrap() {
            startups.push(packet);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(startups, written.startups);
    let mut messages = Vec::new();
    let (front, back) = written.tagged.split_at(cut(written.tagged.len()));
    let mut buf = BytesMut::from(front);
    for piece in [None, Some(back)] {
        if let Some(piece) = piece {
            buf.extend_from_slice(piece);
        }
        while let Some(message) = decode(&mut buf, MAX_LEN).unwrap() {
            messages.push(message);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(messages, written.messages);
}

/// Encodes one message onto `buf` with `encode`, which must succeed exactly when `valid`; a
/// failure must leave `buf` as it was. Returns the new bytes when it succeeded.
fn encode_one(
    buf: &mut BytesMut,
    valid: bool,
    encode: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
) -> Option<BytesMut> {
    let before = buf.len();
    let result = encode(buf);
    assert_eq!(result.is_ok(), valid, "{result:?}");
    if result.is_err() {
        assert_eq!(buf.len(), before, "a failed encode left bytes behind");
        return None;
    }
    Some(BytesMut::from(&buf[before..]))
}

fn nul_free(text: &str) -> bool {
    !text.contains('\0')
}

/// The startup packets: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest.
fn startup_op(op: u8, input: &mut Input<'_>, written: &mut Written) {
    let (valid, encode): (bool, Encode);
    let expected = match op {
        0 => {
            let params: Vec<(String, String)> = (0..input.count(3))
                .map(|_| (input.text(6), input.text(6)))
                .collect();
            valid = params
                .iter()
                .all(|(n, v)| !n.is_empty() && nul_free(n) && nul_free(v));
            let pairs: Vec<(String, String)> = params.clone();
            encode = Box::new(move |b| {
                frontend::startup_message(pairs.iter().map(|(n, v)| (&n[..], &v[..])), b)
            });
            Expected::Startup(params)
        }
        1 => {
            valid = true;
            encode = Box::new(|b| {
                frontend::ssl_request(b);
                Ok(())
            });
            Expected::Packet(StartupPacket::SslRequest)
        }
        2 => {
            valid = true;
            encode = Box::new(|b| {
                frontend::gssenc_request(b);
                Ok(())
            });
            Expected::Packet(StartupPacket::GssEncRequest)
        }
        _ => {
            let process_id = input.i32();
            let len = usize::from(input.byte()) + usize::from(input.byte() % 8);
            let key = input.bytes(len).to_vec();
            valid = (4..=256).contains(&key.len());
            let packet = StartupPacket::CancelRequest {
                process_id,
                secret_key: key.clone().into(),
            };
            encode = Box::new(move |b| frontend::cancel_request(process_id, &key, b));
            Expected::Packet(packet)
        }
    };
    let Some(wire) = encode_one(&mut written.startup, valid, encode) else {
        return;
    };
    let mut buf = wire.clone();
    let decoded = decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN);
    match (expected, decoded) {
        (Expected::Startup(params), Ok(Some(packet))) => {
            let StartupPacket::Startup {
                version,
                parameters,
            } = &packet
            else {
                panic!("a StartupMessage decoded as {packet:?}")
            };
            assert_eq!(*version, ProtocolVersion::V3_0);
            assert!(parameters
                .iter()
                .eq(params.iter().map(|(n, v)| (&n[..], &v[..]))));
            written.startups.push(packet);
        }
        // The client writes any key up to 256 bytes; the server side takes 4..=256 (protocol
        // 3.0 keys are 4 bytes; 3.2 allows up to 256). A shorter one is refused, and taken
        // back out of the stream.
        (Expected::Packet(StartupPacket::CancelRequest { secret_key, .. }), Err(e))
            if secret_key.len() < 4 =>
        {
            assert!(matches!(
                e,
                ProtoError::Malformed {
                    message: "CancelRequest",
                    ..
                }
            ));
            let end = written.startup.len() - wire.len();
            written.startup.truncate(end);
            return;
        }
        (Expected::Packet(expected), Ok(Some(packet))) => {
            assert_eq!(packet, expected);
            written.startups.push(packet);
        }
        (_, other) => panic!("a startup packet decoded as {other:?}"),
    }
    assert!(buf.is_empty(), "bytes left after the packet");
}

/// What a startup op should decode to.
enum Expected {
    Startup(Vec<(String, String)>),
    Packet(StartupPacket),
}

fn put(value: Option<&[u8]>, buf: &mut BytesMut) -> Result<IsNull, std::convert::Infallible> {
    Ok(match value {
        Some(value) => {
            buf.put_slice(value);
            IsNull::No
        }
        None => IsNull::Yes,
    })
}

/// Decodes `wire`, which must be exactly one frontend message.
fn decode_one(wire: BytesMut) -> FrontendMessage {
    let mut buf = wire;
    let message = decode(&mut buf, MAX_LEN)
        .unwrap_or_else(|e| panic!("a written message does not decode: {e}"))
        .expect("a written message is complete");
    assert!(buf.is_empty(), "bytes left after the message");
    message
}

/// The tagged messages.
fn tagged_op(op: u8, input: &mut Input<'_>, written: &mut Written) {
    let buf = &mut written.tagged;
    let message = match op {
        4 => {
            let sql = input.text(24);
            let wire = encode_one(buf, nul_free(&sql), |b| frontend::query(&sql, b));
            wire.map(|w| (decode_one(w), FrontendMessage::Query(sql.into())))
        }
        5 => {
            let (name, sql) = (input.text(6), input.text(24));
            let types: Vec<u32> = (0..input.count(6)).map(|_| input.u32()).collect();
            let valid = nul_free(&name) && nul_free(&sql);
            let wire = encode_one(buf, valid, |b| {
                frontend::parse(&name, &sql, types.iter().copied(), b)
            });
            wire.map(|w| {
                let message = decode_one(w);
                let FrontendMessage::Parse(parse) = &message else {
                    panic!("a Parse decoded as {message:?}")
                };
                assert_eq!(
                    (parse.name().as_str(), parse.sql().as_str()),
                    (&name[..], &sql[..])
                );
                assert!(parse.param_types().eq(types.iter().copied()));
                (message.clone(), message)
            })
        }
        6 => {
            let (portal, statement) = (input.text(6), input.text(6));
            let formats: Vec<i16> = (0..input.count(4)).map(|_| input.i16()).collect();
            let values: Vec<Option<&[u8]>> =
                (0..input.count(6)).map(|_| input.nullable(16)).collect();
            let results: Vec<i16> = (0..input.count(4)).map(|_| input.i16()).collect();
            let valid = nul_free(&portal) && nul_free(&statement);
            let wire = encode_one(buf, valid, |b| {
                frontend::bind(
                    &portal,
                    &statement,
                    &formats,
                    values.iter().copied(),
                    put,
                    &results,
                    b,
                )
                .map_err(|e| match e {
                    frontend::BindError::Proto(e) => e,
                    frontend::BindError::Param { error, .. } => match error {},
                })
            });
            wire.map(|w| {
                let message = decode_one(w);
                let FrontendMessage::Bind(bind) = &message else {
                    panic!("a Bind decoded as {message:?}")
                };
                assert_eq!(bind.portal().as_str(), portal);
                assert_eq!(bind.statement().as_str(), statement);
                assert!(bind.param_formats().eq(formats.iter().copied()));
                assert!(bind.params().eq(values.iter().copied()));
                assert!(bind.result_formats().eq(results.iter().copied()));
                (message.clone(), message)
            })
        }
        7..=10 => {
            let name = input.text(8);
            type Write = fn(&str, &mut BytesMut) -> Result<(), ProtoError>;
            let (write, expected): (Write, FrontendMessage) = match op {
                7 => (
                    frontend::describe_statement,
                    FrontendMessage::Describe(Target::Statement(name.clone().into())),
                ),
                8 => (
                    frontend::describe_portal,
                    FrontendMessage::Describe(Target::Portal(name.clone().into())),
                ),
                9 => (
                    frontend::close_statement,
                    FrontendMessage::Close(Target::Statement(name.clone().into())),
                ),
                _ => (
                    frontend::close_portal,
                    FrontendMessage::Close(Target::Portal(name.clone().into())),
                ),
            };
            let wire = encode_one(buf, nul_free(&name), |b| write(&name, b));
            wire.map(|w| (decode_one(w), expected))
        }
        11 => {
            let (portal, max_rows) = (input.text(8), input.i32());
            let valid = nul_free(&portal) && max_rows >= 0;
            let wire = encode_one(buf, valid, |b| frontend::execute(&portal, max_rows, b));
            let expected = tusk::proto::server::Execute {
                portal: portal.clone().into(),
                max_rows,
            };
            wire.map(|w| (decode_one(w), FrontendMessage::Execute(expected)))
        }
        12..=15 => {
            let (write, expected): (fn(&mut BytesMut), FrontendMessage) = match op {
                12 => (frontend::sync, FrontendMessage::Sync),
                13 => (frontend::flush, FrontendMessage::Flush),
                14 => (frontend::terminate, FrontendMessage::Terminate),
                _ => (frontend::copy_done, FrontendMessage::CopyDone),
            };
            let wire = encode_one(buf, true, |b| {
                write(b);
                Ok(())
            });
            wire.map(|w| (decode_one(w), expected))
        }
        16 => {
            let data = input.blob(32);
            let wire = encode_one(buf, true, |b| frontend::copy_data(data, b));
            wire.map(|w| {
                (
                    decode_one(w),
                    FrontendMessage::CopyData(data.to_vec().into()),
                )
            })
        }
        17 => {
            let reason = input.text(16);
            let wire = encode_one(buf, nul_free(&reason), |b| frontend::copy_fail(&reason, b));
            wire.map(|w| (decode_one(w), FrontendMessage::CopyFail(reason.into())))
        }
        18 => {
            let oid = input.u32();
            let formats: Vec<i16> = (0..input.count(3)).map(|_| input.i16()).collect();
            let args: Vec<Option<&[u8]>> = (0..input.count(4)).map(|_| input.nullable(8)).collect();
            let result_format = input.i16();
            let wire = encode_one(buf, true, |b| {
                frontend::function_call(oid, &formats, args.iter().copied(), result_format, b)
            });
            wire.map(|w| {
                let message = decode_one(w);
                let FrontendMessage::FunctionCall(call) = &message else {
                    panic!("a FunctionCall decoded as {message:?}")
                };
                assert_eq!(call.function_oid(), oid);
                assert!(call.arg_formats().eq(formats.iter().copied()));
                assert!(call.args().eq(args.iter().copied()));
                assert_eq!(call.result_format(), result_format);
                (message.clone(), message)
            })
        }
        _ => auth_op(op, input, buf),
    };
    if let Some((decoded, expected)) = message {
        assert_eq!(decoded, expected);
        written.messages.push(decoded);
    }
}

/// The authentication responses ('p'), each read back as its kind.
fn auth_op(
    op: u8,
    input: &mut Input<'_>,
    buf: &mut BytesMut,
) -> Option<(FrontendMessage, FrontendMessage)> {
    let read = |message: &FrontendMessage| match message {
        FrontendMessage::AuthResponse(response) => response.clone(),
        other => panic!("an authentication response decoded as {other:?}"),
    };
    match op {
        19 => {
            let password = input.blob(16);
            let valid = !password.contains(&0);
            let wire = encode_one(buf, valid, |b| frontend::password_message(password, b))?;
            let message = decode_one(wire);
            assert_eq!(read(&message).as_password(), Ok(password));
            Some((message.clone(), message))
        }
        20 => {
            let (mechanism, data) = (input.text(14), input.blob(24));
            let wire = encode_one(buf, nul_free(&mechanism), |b| {
                frontend::sasl_initial_response(&mechanism, data, b)
            })?;
            let message = decode_one(wire);
            let response = read(&message);
            let initial = response.as_sasl_initial_response().unwrap();
            assert_eq!(
                (initial.mechanism, initial.data),
                (&mechanism[..], Some(data))
            );
            Some((message.clone(), message))
        }
        _ => {
            let data = input.blob(32);
            let sasl = op == 21;
            let wire = encode_one(buf, true, |b| {
                if sasl {
                    frontend::sasl_response(data, b)
                } else {
                    frontend::gss_response(data, b)
                }
            })?;
            let message = decode_one(wire);
            assert_eq!(&read(&message).as_sasl_response()[..], data);
            assert_eq!(&read(&message).as_gss_response()[..], data);
            Some((message.clone(), message))
        }
    }
}
