//! Part 2 of the `roundtrip` checks (see `roundtrip.rs`): backend messages written by the
//! server side's encoder from fields the input picks, decoded by the client to exactly those
//! fields, and written again by `backend::encode` to the same bytes.

use bytes::{Bytes, BytesMut};
use tusk::proto::backend::{
    decode, Authentication, Field, Message, NegotiateProtocolVersion, Notification,
    ParameterDescription, ParameterStatus, TransactionStatus,
};
use tusk::proto::server::backend;
use tusk::proto::ProtoError;

use super::{Input, MAX_LEN};

/// How many kinds of op the script has.
const OPS: u8 = 33;

/// An encoder of an Authentication message carrying mechanism data.
type WriteData = fn(&[u8], &mut BytesMut) -> Result<(), ProtoError>;

/// Runs the script in `input`.
pub fn run(input: &mut Input<'_>) {
    let split = input.byte();
    let mut stream = BytesMut::new();
    let mut messages = Vec::new();
    while !input.is_empty() {
        let op = input.byte() % OPS;
        if let Some(message) = op_once(op, input, &mut stream) {
            messages.push(message);
        }
    }
    // The stream, split in two, decodes to the same messages as one by one.
    let (front, back) = stream.split_at(stream.len() * usize::from(split) / 255);
    let mut buf = BytesMut::from(front);
    let mut again = Vec::new();
    for piece in [None, Some(back)] {
        if let Some(piece) = piece {
            buf.extend_from_slice(piece);
        }
        while let Some(message) = decode(&mut buf, MAX_LEN).unwrap() {
            again.push(message);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(again, messages);
}

fn nul_free(text: &str) -> bool {
    !text.contains('\0')
}

/// Writes one message onto `stream` with `encode`, which must succeed exactly when `valid` (a
/// failure leaving `stream` as it was); decodes it with the client's decoder, compares it with
/// `expected` (when given), writes it again with `backend::encode` and compares the bytes.
fn roundtrip(
    stream: &mut BytesMut,
    valid: bool,
    expected: Option<Message>,
    encode: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
) -> Option<Message> {
    let before = stream.len();
    let result = encode(stream);
    assert_eq!(result.is_ok(), valid, "{result:?}");
    if result.is_err() {
        assert_eq!(stream.len(), before, "a failed encode left bytes behind");
        return None;
    }
    let wire = &stream[before..];
    let mut buf = BytesMut::from(wire);
    let message = decode(&mut buf, MAX_LEN)
        .unwrap_or_else(|e| panic!("a written message does not decode: {e}"))
        .expect("a written message is complete");
    assert!(buf.is_empty(), "bytes left after {message:?}");
    if let Some(expected) = expected {
        assert_eq!(message, expected);
    }
    let mut again = BytesMut::new();
    backend::encode(&message, &mut again).expect("a decoded message re-encodes");
    assert_eq!(&again[..], wire, "{message:?} re-encoded differently");
    Some(message)
}

/// Wraps an infallible encoder for [`roundtrip`].
fn fixed(write: fn(&mut BytesMut)) -> impl FnOnce(&mut BytesMut) -> Result<(), ProtoError> {
    move |b| {
        write(b);
        Ok(())
    }
}

fn op_once(op: u8, input: &mut Input<'_>, stream: &mut BytesMut) -> Option<Message> {
    let auth = |a: Authentication| Some(Message::Authentication(a));
    match op {
        0 => roundtrip(
            stream,
            true,
            auth(Authentication::Ok),
            fixed(backend::authentication_ok),
        ),
        1 => roundtrip(
            stream,
            true,
            auth(Authentication::KerberosV5),
            fixed(backend::authentication_kerberos_v5),
        ),
        2 => roundtrip(
            stream,
            true,
            auth(Authentication::CleartextPassword),
            fixed(backend::authentication_cleartext_password),
        ),
        3 => {
            let salt = [input.byte(), input.byte(), input.byte(), input.byte()];
            roundtrip(
                stream,
                true,
                auth(Authentication::Md5Password { salt }),
                |b| {
                    backend::authentication_md5_password(salt, b);
                    Ok(())
                },
            )
        }
        4 => roundtrip(
            stream,
            true,
            auth(Authentication::ScmCredential),
            fixed(backend::authentication_scm_credential),
        ),
        5 => roundtrip(
            stream,
            true,
            auth(Authentication::Gss),
            fixed(backend::authentication_gss),
        ),
        6 => roundtrip(
            stream,
            true,
            auth(Authentication::Sspi),
            fixed(backend::authentication_sspi),
        ),
        7..=9 => {
            let data = input.blob(24);
            let bytes = Bytes::copy_from_slice(data);
            let (expected, write): (_, WriteData) = match op {
                7 => (
                    Authentication::GssContinue(bytes),
                    backend::authentication_gss_continue,
                ),
                8 => (
                    Authentication::SaslContinue(bytes),
                    backend::authentication_sasl_continue,
                ),
                _ => (
                    Authentication::SaslFinal(bytes),
                    backend::authentication_sasl_final,
                ),
            };
            roundtrip(stream, true, auth(expected), |b| write(data, b))
        }
        10 => {
            let mechanisms: Vec<String> = (0..input.count(3)).map(|_| input.text(14)).collect();
            let valid = mechanisms.iter().all(|m| !m.is_empty() && nul_free(m));
            let expected = auth(Authentication::Sasl {
                mechanisms: mechanisms.clone(),
            });
            roundtrip(stream, valid, expected, |b| {
                backend::authentication_sasl(mechanisms.iter().map(String::as_str), b)
            })
        }
        11 => {
            let process_id = input.i32();
            let len = usize::from(input.byte()) + usize::from(input.byte() % 8);
            let key = input.bytes(len);
            let valid = (4..=256).contains(&key.len());
            roundtrip(stream, valid, None, |b| {
                backend::backend_key_data(process_id, key, b)
            })
            .inspect(|m| {
                let Message::BackendKeyData(data) = m else {
                    panic!("BackendKeyData decoded as {m:?}")
                };
                assert_eq!((data.process_id, &data.secret_key[..]), (process_id, key));
            })
        }
        12 => roundtrip(
            stream,
            true,
            Some(Message::BindComplete),
            fixed(backend::bind_complete),
        ),
        13 => roundtrip(
            stream,
            true,
            Some(Message::CloseComplete),
            fixed(backend::close_complete),
        ),
        14 => {
            let tag = input.text(48);
            roundtrip(stream, nul_free(&tag), None, |b| {
                backend::command_complete(&tag, b)
            })
            .inspect(|m| {
                let Message::CommandComplete(done) = m else {
                    panic!("CommandComplete decoded as {m:?}")
                };
                assert_eq!(done.tag(), tag);
            })
        }
        15..=17 => {
            let format = (input.byte() % 3) as i8;
            let columns: Vec<i16> = (0..input.count(4))
                .map(|_| i16::from(input.byte() % 3))
                .collect();
            let valid = matches!(format, 0 | 1)
                && columns.iter().all(|&c| c == 0 || (c == 1 && format == 1));
            type Write = fn(i8, &[i16], &mut BytesMut) -> Result<(), ProtoError>;
            let write: Write = match op {
                15 => backend::copy_in_response,
                16 => backend::copy_out_response,
                _ => backend::copy_both_response,
            };
            roundtrip(stream, valid, None, |b| write(format, &columns, b)).inspect(|m| {
                let (Message::CopyInResponse(c)
                | Message::CopyOutResponse(c)
                | Message::CopyBothResponse(c)) = m
                else {
                    panic!("a Copy*Response decoded as {m:?}")
                };
                assert_eq!((c.format, c.column_formats()), (format, &columns[..]));
            })
        }
        18 => {
            let data = input.blob(32);
            roundtrip(
                stream,
                true,
                Some(Message::CopyData(Bytes::copy_from_slice(data))),
                |b| backend::copy_data(data, b),
            )
        }
        19 => roundtrip(
            stream,
            true,
            Some(Message::CopyDone),
            fixed(backend::copy_done),
        ),
        20 => {
            let values: Vec<Option<&[u8]>> =
                (0..input.count(6)).map(|_| input.nullable(12)).collect();
            roundtrip(stream, true, None, |b| {
                backend::data_row(values.iter().copied(), b)
            })
            .inspect(|m| {
                let Message::DataRow(row) = m else {
                    panic!("DataRow decoded as {m:?}")
                };
                let got: Vec<Option<&[u8]>> = row
                    .ranges()
                    .map(|r| r.expect("a written column").map(|r| &row.buffer()[r]))
                    .collect();
                assert_eq!(got, values);
            })
        }
        21 => roundtrip(
            stream,
            true,
            Some(Message::EmptyQueryResponse),
            fixed(backend::empty_query_response),
        ),
        22 | 23 => {
            let fields: Vec<(u8, String)> = (0..input.count(5))
                .map(|_| (input.byte(), input.text(12)))
                .collect();
            let valid = fields
                .iter()
                .all(|(code, value)| *code != 0 && nul_free(value));
            let pairs = fields.iter().map(|(code, value)| (*code, value.as_str()));
            let notice = op == 23;
            roundtrip(stream, valid, None, |b| {
                if notice {
                    backend::notice_response(pairs, b)
                } else {
                    backend::error_response(pairs, b)
                }
            })
            .inspect(|m| {
                let (Message::ErrorResponse(got) | Message::NoticeResponse(got)) = m else {
                    panic!("an ErrorResponse decoded as {m:?}")
                };
                assert_eq!(
                    m.name(),
                    if notice {
                        "NoticeResponse"
                    } else {
                        "ErrorResponse"
                    }
                );
                let got: Vec<(u8, &[u8])> =
                    got.iter().map(|f| f.expect("a written field")).collect();
                assert!(got
                    .iter()
                    .map(|(c, v)| (*c, *v))
                    .eq(fields.iter().map(|(c, v)| (*c, v.as_bytes()))));
            })
        }
        24 => {
            let result = input.nullable(16);
            let expected = Message::FunctionCallResponse(result.map(Bytes::copy_from_slice));
            roundtrip(stream, true, Some(expected), |b| {
                backend::function_call_response(result, b)
            })
        }
        25 => {
            let newest = input.i32();
            let options: Vec<String> = (0..input.count(3)).map(|_| input.text(10)).collect();
            let valid = options.iter().all(|o| nul_free(o));
            let expected = Message::NegotiateProtocolVersion(NegotiateProtocolVersion {
                newest_minor: newest,
                unrecognized: options.clone(),
            });
            roundtrip(stream, valid, Some(expected), |b| {
                backend::negotiate_protocol_version(newest, options.iter().map(String::as_str), b)
            })
        }
        26 => roundtrip(stream, true, Some(Message::NoData), fixed(backend::no_data)),
        27 => {
            let (process_id, channel, payload) = (input.i32(), input.text(10), input.text(16));
            let valid = nul_free(&channel) && nul_free(&payload);
            let expected = Message::NotificationResponse(Notification {
                process_id,
                channel: channel.clone(),
                payload: payload.clone(),
            });
            roundtrip(stream, valid, Some(expected), |b| {
                backend::notification_response(process_id, &channel, &payload, b)
            })
        }
        28 => {
            let types: Vec<u32> = (0..input.count(6)).map(|_| input.u32()).collect();
            let expected = Message::ParameterDescription(ParameterDescription {
                types: types.clone(),
            });
            roundtrip(stream, true, Some(expected), |b| {
                backend::parameter_description(types.iter().copied(), b)
            })
        }
        29 => {
            let (name, value) = (input.text(12), input.text(12));
            let valid = nul_free(&name) && nul_free(&value);
            let expected = Message::ParameterStatus(ParameterStatus {
                name: name.clone(),
                value: value.clone(),
            });
            roundtrip(stream, valid, Some(expected), |b| {
                backend::parameter_status(&name, &value, b)
            })
        }
        30 => roundtrip(
            stream,
            true,
            Some(Message::ParseComplete),
            fixed(backend::parse_complete),
        ),
        31 => {
            let status = match input.byte() % 4 {
                0 => TransactionStatus::Idle,
                1 => TransactionStatus::InTransaction,
                2 => TransactionStatus::Failed,
                _ => {
                    return roundtrip(
                        stream,
                        true,
                        Some(Message::PortalSuspended),
                        fixed(backend::portal_suspended),
                    );
                }
            };
            roundtrip(stream, true, Some(Message::ReadyForQuery(status)), |b| {
                backend::ready_for_query(status, b);
                Ok(())
            })
        }
        _ => row_description(input, stream),
    }
}

fn row_description(input: &mut Input<'_>, stream: &mut BytesMut) -> Option<Message> {
    let names: Vec<String> = (0..input.count(4)).map(|_| input.text(10)).collect();
    let fields: Vec<Field<'_>> = names
        .iter()
        .map(|name| Field {
            name,
            table_oid: input.u32(),
            column_id: input.i16(),
            type_oid: input.u32(),
            type_size: input.i16(),
            type_modifier: input.i32(),
            format: input.i16(),
        })
        .collect();
    let valid = names.iter().all(|n| nul_free(n));
    roundtrip(stream, valid, None, |b| {
        backend::row_description(fields.iter().copied(), b)
    })
    .inspect(|m| {
        let Message::RowDescription(description) = m else {
            panic!("RowDescription decoded as {m:?}")
        };
        let got: Vec<Field<'_>> = description
            .fields()
            .map(|f| f.expect("a written field"))
            .collect();
        assert_eq!(got, fields);
    })
}
