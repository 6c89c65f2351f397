//! The checks of the `frontend_decode` fuzz target, shared with the ordinary test that replays
//! the seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] feeds arbitrary bytes to the server side's decoders (`tusk::proto::server`) and
//! walks everything they decode. It must never panic. Besides that it checks:
//!
//! - the whole input as a startup packet body and, its first byte as a tag, the rest as a
//!   tagged message body: everything that decodes is walked to its end (every parameter, value,
//!   format code, type, the auth response read all four ways) and reports its own tag;
//! - what decodes is written back byte for byte by the client's own encoder
//!   (`tusk::proto::frontend`): the decoders accept only canonical bytes and lose nothing
//!   (the exceptions the client cannot write, checked to be refused or skipped: an Execute with
//!   a negative row limit, a StartupMessage of a protocol other than 3.0, a SASLInitialResponse
//!   without initial data);
//! - the input read as a server reads a connection (startup packets until a StartupMessage,
//!   then tagged frames) yields the same packets, frames and first error whether it arrives
//!   whole or split in two pieces (at the middle, and at an offset the first byte picks).
//!
//! Only `tusk` and `bytes` may be used here: both crates that include it depend on them.

use bytes::{BufMut, Bytes, BytesMut};
use tusk::proto::framing::{split_frontend_frame, Frame};
use tusk::proto::server::{
    split_startup_packet, FrontendMessage, StartupPacket, Target, MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::{frontend, IsNull, ProtoError};

/// Small enough that the length check is reached often, large enough for real messages.
const MAX_LEN: usize = 1 << 16;

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    if let Ok(packet) = StartupPacket::parse(Bytes::copy_from_slice(data)) {
        check_startup(&packet, data);
    }
    if let Some((&tag, body)) = data.split_first() {
        if let Ok(message) = FrontendMessage::parse(Frame {
            tag,
            body: Bytes::copy_from_slice(body),
        }) {
            assert_eq!(message.tag(), tag);
            check_message(&message, tag, body);
        }
    }

    let whole = read_connection(&[data]);
    let (front, back) = data.split_at(data.len() / 2);
    assert_eq!(read_connection(&[front, back]), whole);
    if let Some(&first) = data.first() {
        let (front, back) = data.split_at(usize::from(first) % (data.len() + 1));
        assert_eq!(read_connection(&[front, back]), whole);
    }
    for item in whole {
        match item {
            Ok(Read::Startup(body)) => {
                if let Ok(packet) = StartupPacket::parse(body.clone()) {
                    check_startup(&packet, &body);
                }
            }
            Ok(Read::Tagged(frame)) => {
                let (tag, body) = (frame.tag, frame.body.clone());
                if let Ok(message) = FrontendMessage::parse(frame) {
                    assert_eq!(message.tag(), tag);
                    check_message(&message, tag, &body);
                }
            }
            Err(_) => {}
        }
    }
}

/// One thing a server reads: a startup packet's body, or a tagged frame.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Startup(Bytes),
    Tagged(Frame),
}

/// Reads `pieces`, appended one after another to a read buffer, as a server reads a
/// connection: startup packets until one is a StartupMessage (or fails to decode), then tagged
/// frames; up to and including the first error.
fn read_connection(pieces: &[&[u8]]) -> Vec<Result<Read, ProtoError>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut startup_done = false;
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let next = if startup_done {
                split_frontend_frame(&mut buf, MAX_LEN).map(|f| f.map(Read::Tagged))
            } else {
                split_startup_packet(&mut buf, MAX_STARTUP_PACKET_LEN).map(|body| {
                    body.map(|body| {
                        // Only an SSLRequest or GSSENCRequest keeps the startup phase going.
                        startup_done = !matches!(
                            StartupPacket::parse(body.clone()),
                            Ok(StartupPacket::SslRequest | StartupPacket::GssEncRequest)
                        );
                        Read::Startup(body)
                    })
                })
            };
            match next {
                Ok(Some(read)) => out.push(Ok(read)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }
    out
}

/// Walks a startup packet and writes it again with the client's encoder; `body` is what it was
/// decoded from (without the length).
fn check_startup(packet: &StartupPacket, body: &[u8]) {
    let _ = packet.name();
    let mut again = BytesMut::new();
    match packet {
        StartupPacket::Startup {
            version,
            parameters,
        } => {
            assert_eq!(parameters.iter().len(), parameters.len());
            let pairs: Vec<(&str, &str)> = parameters.iter().collect();
            assert_eq!(pairs.len(), parameters.len());
            for (name, _) in &pairs {
                assert!(!name.is_empty());
                assert!(parameters.get(name).is_some());
            }
            // Any 3.x decodes; the client writes the version it is given.
            assert_eq!(version.major, 3);
            frontend::startup_message_version(*version, pairs, &mut again)
                .expect("decoded parameters re-encode");
        }
        StartupPacket::SslRequest => frontend::ssl_request(&mut again),
        StartupPacket::GssEncRequest => frontend::gssenc_request(&mut again),
        StartupPacket::CancelRequest {
            process_id,
            secret_key,
        } => frontend::cancel_request(*process_id, secret_key, &mut again)
            .expect("a decoded key re-encodes"),
    }
    assert_eq!(&again[4..], body, "{packet:?} re-encoded differently");
}

/// Appends a value the way Bind's and FunctionCall's encoders expect.
fn put(value: Option<&[u8]>, buf: &mut BytesMut) -> Result<IsNull, std::convert::Infallible> {
    Ok(match value {
        Some(value) => {
            buf.put_slice(value);
            IsNull::No
        }
        None => IsNull::Yes,
    })
}

/// Walks a tagged message and writes it again with the client's encoder; `tag` and `body` are
/// what it was decoded from.
fn check_message(message: &FrontendMessage, tag: u8, body: &[u8]) {
    let _ = message.name();
    let mut again = BytesMut::new();
    let written = match message {
        FrontendMessage::Bind(bind) => {
            let count = usize::from(bind.param_count());
            assert_eq!(bind.params().len(), count);
            assert_eq!(bind.params().count(), count);
            for index in 0..=count {
                let format = bind.param_format(index);
                assert!(index < count || format.is_none());
            }
            let _ = (bind.result_format(0), bind.result_format(usize::MAX));
            let formats: Vec<i16> = bind.param_formats().collect();
            let results: Vec<i16> = bind.result_formats().collect();
            frontend::bind(
                bind.portal(),
                bind.statement(),
                &formats,
                bind.params(),
                put,
                &results,
                &mut again,
            )
            .map_err(|e| e.to_string())
        }
        FrontendMessage::Close(target) => match target {
            Target::Statement(name) => frontend::close_statement(name, &mut again),
            Target::Portal(name) => frontend::close_portal(name, &mut again),
        }
        .map_err(|e| e.to_string()),
        FrontendMessage::CopyData(data) => {
            frontend::copy_data(data, &mut again).map_err(|e| e.to_string())
        }
        FrontendMessage::CopyDone => {
            frontend::copy_done(&mut again);
            Ok(())
        }
        FrontendMessage::CopyFail(reason) => {
            frontend::copy_fail(reason, &mut again).map_err(|e| e.to_string())
        }
        FrontendMessage::Describe(target) => match target {
            Target::Statement(name) => frontend::describe_statement(name, &mut again),
            Target::Portal(name) => frontend::describe_portal(name, &mut again),
        }
        .map_err(|e| e.to_string()),
        FrontendMessage::Execute(execute) => {
            let result = frontend::execute(&execute.portal, execute.max_rows, &mut again);
            if execute.max_rows < 0 {
                // The server reads a negative limit as none; the client never writes one.
                assert!(result.is_err() && again.is_empty());
                return;
            }
            result.map_err(|e| e.to_string())
        }
        FrontendMessage::Flush => {
            frontend::flush(&mut again);
            Ok(())
        }
        FrontendMessage::FunctionCall(call) => {
            assert_eq!(call.args().count(), usize::from(call.arg_count()));
            let formats: Vec<i16> = call.arg_formats().collect();
            frontend::function_call(
                call.function_oid(),
                &formats,
                call.args(),
                call.result_format(),
                &mut again,
            )
            .map_err(|e| e.to_string())
        }
        FrontendMessage::AuthResponse(response) => {
            check_auth_response(response, tag, body);
            frontend::gss_response(response.as_gss_response(), &mut again)
                .map_err(|e| e.to_string())
        }
        FrontendMessage::Parse(parse) => {
            assert_eq!(parse.param_types().len(), parse.param_types().count());
            frontend::parse(parse.name(), parse.sql(), parse.param_types(), &mut again)
                .map_err(|e| e.to_string())
        }
        FrontendMessage::Query(sql) => frontend::query(sql, &mut again).map_err(|e| e.to_string()),
        FrontendMessage::Sync => {
            frontend::sync(&mut again);
            Ok(())
        }
        FrontendMessage::Terminate => {
            frontend::terminate(&mut again);
            Ok(())
        }
    };
    written.unwrap_or_else(|e| panic!("{message:?} does not re-encode: {e}"));
    assert_eq!(again[0], tag);
    assert_eq!(&again[5..], body, "{message:?} re-encoded differently");
}

/// Reads an auth response all four ways; the two that parse are written again.
fn check_auth_response(response: &tusk::proto::server::AuthResponse, tag: u8, body: &[u8]) {
    assert_eq!(&response.as_sasl_response()[..], body);
    if let Ok(password) = response.as_password() {
        let mut again = BytesMut::new();
        frontend::password_message(password, &mut again).expect("a decoded password re-encodes");
        assert_eq!((again[0], &again[5..]), (tag, body));
    }
    if let Ok(initial) = response.as_sasl_initial_response() {
        // The client always sends initial data; "none" (-1) it cannot write.
        if let Some(data) = initial.data {
            let mut again = BytesMut::new();
            frontend::sasl_initial_response(initial.mechanism, data, &mut again)
                .expect("a decoded SASLInitialResponse re-encodes");
            assert_eq!((again[0], &again[5..]), (tag, body));
        }
    }
}
