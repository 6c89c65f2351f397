//! Unit tests of the backend decoders: the edge cases of each layout and of the lazy
//! iterators. The byte-exact vectors of every message, truncation and extension of each, and
//! a captured server exchange live in `protocol-tests/tests/backend_vectors.rs`.

use super::*;

/// Decodes a body under `tag`.
fn parse(tag: u8, body: &[u8]) -> Result<Message, ProtoError> {
    Message::parse(Frame {
        tag,
        body: Bytes::copy_from_slice(body),
    })
}

/// The message name and reason of a Malformed error; panics on any other outcome.
fn malformed(result: Result<Message, ProtoError>) -> (&'static str, String) {
    match result {
        Err(ProtoError::Malformed { message, reason }) => (message, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Builds a DataRow body from a column count and raw column bytes.
fn data_row(count: u16, columns: &[u8]) -> DataRow {
    let mut body = count.to_be_bytes().to_vec();
    body.extend_from_slice(columns);
    match parse(b'D', &body) {
        Ok(Message::DataRow(row)) => row,
        other => panic!("expected a DataRow, got {other:?}"),
    }
}

/// The `(message, reason)` of the error an iterator ends with, and how many items came before.
fn first_error<T: std::fmt::Debug>(
    iter: impl Iterator<Item = Result<T, ProtoError>>,
) -> (usize, &'static str, String) {
    let mut ok = 0;
    for item in iter {
        match item {
            Ok(_) => ok += 1,
            Err(ProtoError::Malformed { message, reason }) => return (ok, message, reason),
            Err(other) => panic!("expected Malformed, got {other:?}"),
        }
    }
    panic!("the iterator ended without an error after {ok} items")
}

#[test]
fn data_row_ranges_index_into_the_shared_body() {
    let wire = Bytes::from_static(b"\x00\x02\x00\x00\x00\x03abc\x00\x00\x00\x00");
    let base = wire.as_ptr();
    let Ok(Message::DataRow(row)) = Message::parse(Frame {
        tag: b'D',
        body: wire,
    }) else {
        panic!("not a DataRow")
    };
    // Zero-copy: the row is the very allocation it was decoded from.
    assert_eq!(row.buffer().as_ptr(), base);
    let ranges: Vec<_> = row.ranges().collect::<Result<_, _>>().unwrap();
    assert_eq!(ranges, vec![Some(6..9), Some(13..13)]);
    assert_eq!(&row.buffer()[6..9], b"abc");
}

#[test]
fn data_row_without_columns() {
    let row = data_row(0, b"");
    assert_eq!(row.column_count(), 0);
    assert_eq!(row.ranges().next(), None);
    let (message, reason) = malformed(parse(b'D', b"\x00\x00\x01"));
    assert_eq!(message, "DataRow");
    assert!(reason.contains("1 bytes follow"), "{reason}");
}

#[test]
fn data_row_count_is_checked_against_the_body_without_scanning() {
    // 3 columns need at least 12 bytes of length words; 8 follow.
    let (message, reason) = malformed(parse(b'D', b"\x00\x03\xff\xff\xff\xff\xff\xff\xff\xff"));
    assert_eq!(message, "DataRow");
    assert!(reason.contains("3 items announced"), "{reason}");
    let (_, reason) = malformed(parse(b'D', b"\x00"));
    assert!(reason.contains("too short for the count"), "{reason}");
    let (_, reason) = malformed(parse(b'D', b""));
    assert!(reason.contains("too short"), "{reason}");
}

#[test]
fn data_row_negative_length_below_minus_one() {
    let row = data_row(2, b"\x00\x00\x00\x01x\xff\xff\xff\xfe");
    let (ok, message, reason) = first_error(row.ranges());
    assert_eq!((ok, message), (1, "DataRow"));
    assert_eq!(reason, "column 1 has invalid length -2");
    let row = data_row(1, b"\x80\x00\x00\x00");
    let (ok, _, reason) = first_error(row.ranges());
    assert_eq!(ok, 0);
    assert!(reason.contains("-2147483648"), "{reason}");
}

#[test]
fn data_row_value_running_past_the_end() {
    let row = data_row(1, b"\x00\x00\x00\x05abcd");
    let (ok, _, reason) = first_error(row.ranges());
    assert_eq!(ok, 0);
    assert_eq!(reason, "column 0 is 5 bytes long but only 4 bytes are left");
    // The largest possible length must not overflow the range arithmetic.
    let row = data_row(1, b"\x7f\xff\xff\xff");
    let (_, _, reason) = first_error(row.ranges());
    assert!(reason.contains("2147483647 bytes long"), "{reason}");
}

#[test]
fn data_row_length_word_cut_short() {
    // Two columns pass the O(1) check (8 bytes for 2 length words) but the first value eats
    // into the room of the second length word.
    let row = data_row(2, b"\x00\x00\x00\x02ab\xff\xff");
    let (ok, _, reason) = first_error(row.ranges());
    assert_eq!(ok, 1);
    assert_eq!(reason, "the message ends inside the length of column 1");
}

#[test]
fn data_row_trailing_bytes_fail_on_the_last_column() {
    let row = data_row(2, b"\xff\xff\xff\xff\x00\x00\x00\x01a!!");
    let (ok, _, reason) = first_error(row.ranges());
    assert_eq!(ok, 1);
    assert_eq!(reason, "2 bytes are left after the last column");
}

#[test]
fn data_row_ranges_end_after_an_error_and_bound_their_size() {
    let row = data_row(3, b"\xff\xff\xff\xfd\xff\xff\xff\xff\xff\xff\xff\xff");
    let mut ranges = row.ranges();
    assert_eq!(ranges.size_hint(), (0, Some(3)));
    assert_eq!(
        ranges.next(),
        Some(Err(ProtoError::malformed(
            "DataRow",
            "column 0 has invalid length -3"
        )))
    );
    assert_eq!(ranges.size_hint(), (0, Some(0)));
    assert_eq!(ranges.next(), None);
    assert_eq!(ranges.next(), None);
}

/// One RowDescription field with the given name bytes.
fn field_bytes(name: &[u8]) -> Vec<u8> {
    let mut out = name.to_vec();
    out.push(0);
    out.extend_from_slice(&[
        0, 0, 0x40, 0, 0, 1, 0, 0, 0, 0x17, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0,
    ]);
    out
}

/// Builds a RowDescription from a count and raw field bytes.
fn row_description(count: u16, fields: &[u8]) -> RowDescription {
    let mut body = count.to_be_bytes().to_vec();
    body.extend_from_slice(fields);
    match parse(b'T', &body) {
        Ok(Message::RowDescription(desc)) => desc,
        other => panic!("expected a RowDescription, got {other:?}"),
    }
}

#[test]
fn row_description_fields() {
    let mut fields = field_bytes(b"id");
    fields.extend(field_bytes("größe".as_bytes()));
    let desc = row_description(2, &fields);
    assert_eq!(desc.field_count(), 2);
    let all: Vec<Field<'_>> = desc.fields().collect::<Result<_, _>>().unwrap();
    assert_eq!(all[1].name, "größe");
    assert_eq!(
        all[0],
        Field {
            name: "id",
            table_oid: 16384,
            column_id: 1,
            type_oid: 23,
            type_size: 4,
            type_modifier: -1,
            format: 0,
        }
    );
    assert_eq!(row_description(0, b"").fields().next(), None);
    // The upper bound counts the fields still to come; an error may end the walk earlier.
    let mut walk = desc.fields();
    assert_eq!(walk.size_hint(), (0, Some(2)));
    walk.next();
    assert_eq!(walk.size_hint(), (0, Some(1)));
    walk.next();
    assert_eq!(walk.size_hint(), (0, Some(0)));
}

#[test]
fn row_description_count_is_checked_against_the_body() {
    // 2 fields need at least 38 bytes; one field's worth follows.
    let mut body = vec![0, 2];
    body.extend(field_bytes(b""));
    let (message, reason) = malformed(parse(b'T', &body));
    assert_eq!(message, "RowDescription");
    assert!(reason.contains("2 items announced"), "{reason}");
    let (_, reason) = malformed(parse(b'T', b"\x00\x00\x00"));
    assert!(reason.contains("no items announced"), "{reason}");
}

#[test]
fn row_description_bad_fields() {
    // A name that is not UTF-8.
    let desc = row_description(1, &field_bytes(b"\xff\xfe"));
    let (ok, message, reason) = first_error(desc.fields());
    assert_eq!((ok, message), (0, "RowDescription"));
    assert_eq!(reason, "the name of field 0 is not valid UTF-8");
    // A name without NUL: 19 bytes of letters.
    let desc = row_description(1, &[b'a'; 19]);
    let (_, _, reason) = first_error(desc.fields());
    assert_eq!(reason, "the name of field 0 is not NUL-terminated");
    // The second field's name is long enough to leave no room for its fixed part.
    let mut fields = field_bytes(b"a");
    fields.extend_from_slice(b"abcdefghijklmnopqrstuvw\0\x00\x00");
    let desc = row_description(2, &fields);
    let (ok, _, reason) = first_error(desc.fields());
    assert_eq!(ok, 1);
    assert!(
        reason.starts_with("the message ends inside field 1"),
        "{reason}"
    );
    // Bytes after the last field.
    let mut fields = field_bytes(b"a");
    fields.push(b'!');
    let desc = row_description(1, &fields);
    let (ok, _, reason) = first_error(desc.fields());
    assert_eq!(ok, 0);
    assert_eq!(reason, "1 bytes are left after the last field");
    let mut iter = desc.fields();
    assert!(matches!(
        iter.next(),
        Some(Err(ProtoError::Malformed { message: "RowDescription", reason }))
            if reason == "1 bytes are left after the last field"
    ));
    assert_eq!(iter.next(), None);
}

#[test]
fn error_fields_iterate_and_look_up() {
    let Ok(Message::NoticeResponse(fields)) = parse(b'N', b"SWARNING\0M\xff bytes\0\0") else {
        panic!("not a notice")
    };
    // Values are bytes: not UTF-8 is fine here (see the module docs).
    let pairs: Vec<_> = fields.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        pairs,
        vec![(b'S', &b"WARNING"[..]), (b'M', &b"\xff bytes"[..])]
    );
    assert_eq!(fields.get(b'M'), Some(&b"\xff bytes"[..]));
    assert_eq!(fields.get(b'C'), None);
    let Ok(Message::ErrorResponse(empty)) = parse(b'E', b"\0") else {
        panic!("not an error")
    };
    assert_eq!(empty.iter().count(), 0);
}

#[test]
fn error_fields_structure_is_checked_at_decode() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "the field list is not terminated by a zero byte"),
        (
            b"SERROR\0",
            "the field list is not terminated by a zero byte",
        ),
        (b"SERROR\0Mno nul", "field 'M' is not NUL-terminated"),
        (
            b"SERROR\0\0x",
            "1 unexpected bytes after the terminating zero",
        ),
    ];
    for &(body, expected) in cases {
        for (tag, name) in [(b'E', "ErrorResponse"), (b'N', "NoticeResponse")] {
            let (message, reason) = malformed(parse(tag, body));
            assert_eq!((message, reason.as_str()), (name, expected), "{body:?}");
        }
    }
}

#[test]
fn command_complete_row_counts() {
    let cases: &[(&str, Option<u64>)] = &[
        ("INSERT 0 5", Some(5)),
        ("INSERT 16385 1", Some(1)),
        ("UPDATE 3", Some(3)),
        ("DELETE 2", Some(2)),
        ("SELECT 10", Some(10)),
        ("MERGE 1", Some(1)),
        ("MOVE 4", Some(4)),
        ("FETCH 2", Some(2)),
        ("COPY 7", Some(7)),
        ("SELECT 18446744073709551615", Some(u64::MAX)),
        ("CREATE TABLE", None),
        ("BEGIN", None),
        ("", None),
        ("INSERT 0", None),
        ("INSERT 0 5 6", None),
        ("UPDATE", None),
        ("UPDATE x", None),
        ("UPDATE -1", None),
        ("SELECT 18446744073709551616", None),
        // As str::parse::<u64> reads the count: leading zeros are fine, nothing else is.
        ("SELECT 000000000000000000000000001", Some(1)),
        ("SELECT ", None),
        ("SELECT 1:", None),
        ("SELECT /", None),
        ("SELECT +1", None),
        ("CREATE TABLE AS 3", None),
    ];
    for &(tag, rows) in cases {
        let body = format!("{tag}\0");
        let Ok(Message::CommandComplete(done)) = parse(b'C', body.as_bytes()) else {
            panic!("{tag:?} did not decode")
        };
        assert_eq!((done.tag(), done.rows()), (tag, rows), "{tag:?}");
    }
}

#[test]
fn text_must_be_utf8() {
    let cases: &[(u8, &[u8], &str)] = &[
        (b'C', b"SELECT \xff\0", "CommandComplete"),
        (b'S', b"name\0\xc3\0", "ParameterStatus"),
        (b'S', b"\xc3\0value\0", "ParameterStatus"),
        (b'A', b"\0\0\0\x01\xe2\x82\0p\0", "NotificationResponse"),
        (b'A', b"\0\0\0\x01ch\0\xff\0", "NotificationResponse"),
        (
            b'v',
            b"\0\0\0\0\0\0\0\x01\xff\0",
            "NegotiateProtocolVersion",
        ),
        (b'R', b"\0\0\0\x0aSCRAM\xff\0\0", "AuthenticationSASL"),
    ];
    for &(tag, body, name) in cases {
        let (message, reason) = malformed(parse(tag, body));
        assert_eq!(message, name, "{body:?}");
        assert!(reason.ends_with("is not valid UTF-8"), "{reason}");
    }
}

#[test]
fn authentication_codes() {
    for code in [1, 4, 13, -1, i32::MAX] {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(b"data");
        assert_eq!(
            parse(b'R', &body),
            Err(ProtoError::UnsupportedAuth(format!("code {code}")))
        );
    }
    let (message, reason) = malformed(parse(b'R', b"\0\0\0"));
    assert_eq!(message, "Authentication");
    assert!(reason.contains("the authentication code"), "{reason}");
    let (message, _) = malformed(parse(b'R', b"\0\0\0\x05\x01\x02\x03"));
    assert_eq!(message, "AuthenticationMD5Password");
    let (message, _) = malformed(parse(b'R', b"\0\0\0\x00\x00"));
    assert_eq!(message, "AuthenticationOk");
    // An empty SASL list is structurally valid; the auth layer decides what to do with it.
    assert_eq!(
        parse(b'R', b"\0\0\0\x0a\0"),
        Ok(Message::Authentication(Authentication::Sasl {
            mechanisms: vec![]
        }))
    );
    let (_, reason) = malformed(parse(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0"));
    assert!(reason.contains("not NUL-terminated"), "{reason}");
    for auth in [
        Authentication::Ok,
        Authentication::Sasl { mechanisms: vec![] },
        Authentication::SaslFinal(Bytes::new()),
    ] {
        let name = auth.name();
        assert_eq!(Message::Authentication(auth).name(), name);
    }
}

#[test]
fn backend_key_data_secret_lengths() {
    let mut body = 7i32.to_be_bytes().to_vec();
    body.extend([0xab; 32]); // protocol 3.2 servers send 32 bytes
    let Ok(Message::BackendKeyData(key)) = parse(b'K', &body) else {
        panic!("32-byte key refused")
    };
    assert_eq!((key.process_id, key.secret_key.len()), (7, 32));
    body.truncate(4 + 256);
    body.resize(4 + 256, 1);
    assert!(parse(b'K', &body).is_ok());
    body.push(1);
    let (_, reason) = malformed(parse(b'K', &body));
    assert_eq!(reason, "the secret key is 257 bytes, outside 4..=256");
    let (_, reason) = malformed(parse(b'K', b"\0\0\0\x07abc"));
    assert_eq!(reason, "the secret key is 3 bytes, outside 4..=256");
}

#[test]
fn count_prefixed_messages_check_before_allocating() {
    // A huge NegotiateProtocolVersion count must fail without reserving room for it.
    let (message, reason) = malformed(parse(b'v', b"\0\0\0\0\x7f\xff\xff\xff"));
    assert_eq!(message, "NegotiateProtocolVersion");
    assert_eq!(
        reason,
        "2147483647 options announced but only 0 bytes follow"
    );
    let (_, reason) = malformed(parse(b'v', b"\0\0\0\0\xff\xff\xff\xff"));
    assert!(reason.starts_with("-1 options"), "{reason}");
    let (message, reason) = malformed(parse(b't', b"\xff\xff\0\0\0\x17"));
    assert_eq!(message, "ParameterDescription");
    assert_eq!(reason, "65535 parameters announced but 4 bytes follow");
    let (message, reason) = malformed(parse(b'G', b"\0\xff\xff\0\0"));
    assert_eq!(message, "CopyInResponse");
    assert_eq!(reason, "65535 column formats announced but 2 bytes follow");
}

#[test]
fn copy_response_formats() {
    let (message, reason) = malformed(parse(b'H', b"\x02\0\0"));
    assert_eq!(message, "CopyOutResponse");
    assert_eq!(reason, "unknown overall format 2");
    let (message, reason) = malformed(parse(b'W', b"\x01\0\x02\0\x01\0\x02"));
    assert_eq!(message, "CopyBothResponse");
    assert_eq!(reason, "column 1 has unknown format 2");
    let Ok(Message::CopyInResponse(copy)) = parse(b'G', b"\x01\0\x02\0\x01\0\x01") else {
        panic!("binary CopyInResponse refused")
    };
    assert_eq!((copy.format, copy.column_formats()), (1, &[1i16, 1][..]));
}

#[test]
fn function_call_response_lengths() {
    assert_eq!(
        parse(b'V', b"\xff\xff\xff\xff"),
        Ok(Message::FunctionCallResponse(None))
    );
    assert_eq!(
        parse(b'V', b"\0\0\0\0"),
        Ok(Message::FunctionCallResponse(Some(Bytes::new())))
    );
    let (_, reason) = malformed(parse(b'V', b"\xff\xff\xff\xfe"));
    assert_eq!(reason, "invalid result length -2");
    let (_, reason) = malformed(parse(b'V', b"\x7f\xff\xff\xffab"));
    assert!(
        reason.contains("2147483647 bytes needed, 2 left"),
        "{reason}"
    );
}

#[test]
fn ready_for_query_status() {
    for (byte, status) in [
        (b'I', TransactionStatus::Idle),
        (b'T', TransactionStatus::InTransaction),
        (b'E', TransactionStatus::Failed),
    ] {
        assert_eq!(parse(b'Z', &[byte]), Ok(Message::ReadyForQuery(status)));
    }
    let (message, reason) = malformed(parse(b'Z', b"X"));
    assert_eq!(message, "ReadyForQuery");
    assert_eq!(reason, "unknown transaction status byte 0x58");
}

#[test]
fn copy_data_is_not_copied() {
    let body = Bytes::from_static(b"1\ta\n");
    let Ok(Message::CopyData(data)) = Message::parse(Frame {
        tag: b'd',
        body: body.clone(),
    }) else {
        panic!("not CopyData")
    };
    assert_eq!(data.as_ptr(), body.as_ptr());
}

#[test]
fn unknown_tag_in_a_frame() {
    assert_eq!(parse(b'Q', b""), Err(ProtoError::UnknownTag(b'Q')));
}

#[test]
fn decode_consumes_a_bad_frame_but_not_a_partial_one() {
    let mut buf = BytesMut::from(&b"Z\0\0\0\x05XZ\0\0\0\x05I1\0\0"[..]);
    assert_eq!(
        decode(&mut buf, 1024),
        Err(ProtoError::malformed(
            "ReadyForQuery",
            "unknown transaction status byte 0x58"
        ))
    );
    assert_eq!(
        decode(&mut buf, 1024),
        Ok(Some(Message::ReadyForQuery(TransactionStatus::Idle)))
    );
    assert_eq!(decode(&mut buf, 1024), Ok(None));
    assert_eq!(&buf[..], b"1\0\0");
}

/// One well-formed body for each backend message, laid out from the protocol documentation's
/// "Message Formats" section, with the message's name there.
const EVERY_MESSAGE: &[(u8, &[u8], &str)] = &[
    (b'R', b"\0\0\0\0", "AuthenticationOk"),
    (b'K', b"\0\0\0\x07\0\0\0\x09", "BackendKeyData"),
    (b'2', b"", "BindComplete"),
    (b'3', b"", "CloseComplete"),
    (b'C', b"SELECT 1\0", "CommandComplete"),
    (b'G', b"\0\0\0", "CopyInResponse"),
    (b'H', b"\0\0\0", "CopyOutResponse"),
    (b'W', b"\0\0\0", "CopyBothResponse"),
    (b'd', b"x", "CopyData"),
    (b'c', b"", "CopyDone"),
    (b'D', b"\0\0", "DataRow"),
    (b'I', b"", "EmptyQueryResponse"),
    (b'E', b"SERROR\0C42000\0Mbad\0\0", "ErrorResponse"),
    (b'N', b"SNOTICE\0C00000\0Mhi\0\0", "NoticeResponse"),
    (b'V', b"\xff\xff\xff\xff", "FunctionCallResponse"),
    (b'v', b"\0\0\0\0\0\0\0\0", "NegotiateProtocolVersion"),
    (b'n', b"", "NoData"),
    (b'A', b"\0\0\0\x07ch\0payload\0", "NotificationResponse"),
    (b't', b"\0\0", "ParameterDescription"),
    (b'S', b"a\0b\0", "ParameterStatus"),
    (b'1', b"", "ParseComplete"),
    (b's', b"", "PortalSuspended"),
    (b'Z', b"I", "ReadyForQuery"),
    (b'T', b"\0\0", "RowDescription"),
];

#[test]
fn every_message_reports_the_tag_and_name_it_was_framed_with() {
    for &(tag, body, name) in EVERY_MESSAGE {
        let message = parse(tag, body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(message.tag(), tag, "{name}");
        assert_eq!(message.name(), name);
    }
    // Every tag the framer accepts is in the table.
    for tag in 0..=u8::MAX {
        let known = EVERY_MESSAGE.iter().any(|&(t, _, _)| t == tag);
        assert_eq!(
            crate::proto::framing::is_backend_tag(tag),
            known,
            "tag {:?}",
            tag as char
        );
    }
}

/// Every authentication request the protocol documentation lists: its code, a body after the
/// code, the variant it decodes to and the documented message name.
#[test]
fn every_authentication_request_decodes_with_its_code_and_name() {
    let cases: Vec<(i32, &[u8], Authentication, &str)> = vec![
        (0, b"", Authentication::Ok, "AuthenticationOk"),
        (
            2,
            b"",
            Authentication::KerberosV5,
            "AuthenticationKerberosV5",
        ),
        (
            3,
            b"",
            Authentication::CleartextPassword,
            "AuthenticationCleartextPassword",
        ),
        (
            5,
            b"\x01\x02\x03\x04",
            Authentication::Md5Password { salt: [1, 2, 3, 4] },
            "AuthenticationMD5Password",
        ),
        (
            6,
            b"",
            Authentication::ScmCredential,
            "AuthenticationSCMCredential",
        ),
        (7, b"", Authentication::Gss, "AuthenticationGSS"),
        (
            8,
            b"gss",
            Authentication::GssContinue(Bytes::from_static(b"gss")),
            "AuthenticationGSSContinue",
        ),
        (9, b"", Authentication::Sspi, "AuthenticationSSPI"),
        (
            10,
            b"SCRAM-SHA-256\0\0",
            Authentication::Sasl {
                mechanisms: vec!["SCRAM-SHA-256".into()],
            },
            "AuthenticationSASL",
        ),
        (
            11,
            b"r=abc",
            Authentication::SaslContinue(Bytes::from_static(b"r=abc")),
            "AuthenticationSASLContinue",
        ),
        (
            12,
            b"v=xyz",
            Authentication::SaslFinal(Bytes::from_static(b"v=xyz")),
            "AuthenticationSASLFinal",
        ),
    ];
    for (code, rest, expected, name) in cases {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(rest);
        let Ok(Message::Authentication(auth)) = parse(b'R', &body) else {
            panic!("{name} did not decode")
        };
        assert_eq!(auth, expected, "{name}");
        assert_eq!(auth.code(), code, "{name}");
        assert_eq!(auth.name(), name);
        // A message that must be empty after its code is refused with bytes left over, under
        // its own name.
        if rest.is_empty() {
            body.push(0);
            let (message, _) = malformed(parse(b'R', &body));
            assert_eq!(message, name);
        }
    }
}

#[test]
fn error_fields_keep_the_whole_body() {
    let body = b"SERROR\0C42000\0Mbad\0\0";
    let Ok(Message::ErrorResponse(fields)) = parse(b'E', body) else {
        panic!("not an ErrorResponse")
    };
    assert_eq!(&fields.buffer()[..], &body[..]);
}

#[test]
fn counted_lists_decode_at_their_documented_sizes() {
    // ParameterDescription: Int16 count, then an Int32 OID each.
    assert_eq!(
        parse(b't', b"\0\x03\0\0\0\x17\0\0\0\x19\xff\xff\xff\xff"),
        Ok(Message::ParameterDescription(ParameterDescription {
            types: vec![23, 25, u32::MAX]
        }))
    );
    // CopyOutResponse: Int8 overall format, Int16 count, then an Int16 format each.
    let Ok(Message::CopyOutResponse(copy)) = parse(b'H', b"\x01\0\x03\0\x01\0\x01\0\x01") else {
        panic!("not a CopyOutResponse")
    };
    assert_eq!(copy.format, 1);
    assert_eq!(copy.column_formats(), [1, 1, 1]);
}

#[test]
fn data_row_gives_up_its_body_without_a_copy() {
    let body = Bytes::from_static(b"\0\x01\0\0\0\x02ok");
    let Ok(Message::DataRow(row)) = Message::parse(Frame {
        tag: b'D',
        body: body.clone(),
    }) else {
        panic!("not a DataRow")
    };
    let taken = row.into_buffer();
    assert_eq!(taken, body);
    assert_eq!(taken.as_ptr(), body.as_ptr());
}

/// `decode` takes the acknowledgements, ReadyForQuery and short command tags off the buffer in
/// place (no frame split): every such message decodes exactly as `Message::parse` decodes it,
/// whole or cut at any byte, and a malformed one is reported by the general path, which
/// consumes it, with the general path's error.
#[test]
fn decode_in_place_agrees_with_parse_at_every_cut() {
    let long_tag = format!("{}\0", "X".repeat(39)); // one past what is kept inline
    let inline_tag = format!("{}\0", "Y".repeat(38)); // the longest kept inline
    let cases: Vec<(u8, Vec<u8>)> = vec![
        (b'2', vec![]),
        (b'1', vec![]),
        (b'3', vec![]),
        (b'n', vec![]),
        (b's', vec![]),
        (b'I', vec![]),
        (b'c', vec![]),
        (b'Z', b"I".to_vec()),
        (b'Z', b"T".to_vec()),
        (b'Z', b"E".to_vec()),
        (b'C', b"SELECT 1\0".to_vec()),
        (b'C', b"INSERT 0 18446744073709551615\0".to_vec()),
        (b'C', inline_tag.into_bytes()),
        (b'C', long_tag.into_bytes()),
        (b'C', "SELECT \u{e9}\0".as_bytes().to_vec()),
    ];
    for (tag, body) in cases {
        let mut frame = vec![tag];
        frame.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        frame.extend_from_slice(&body);
        let expected = parse(tag, &body).unwrap();
        for cut in 0..frame.len() {
            let mut buf = BytesMut::from(&frame[..cut]);
            assert_eq!(
                decode(&mut buf, 1024),
                Ok(None),
                "{expected:?} cut at {cut}"
            );
            assert_eq!(buf.len(), cut, "a partial message consumes nothing");
            buf.extend_from_slice(&frame[cut..]);
            buf.extend_from_slice(b"Z\0\0\0\x05I");
            assert_eq!(decode(&mut buf, 1024), Ok(Some(expected.clone())));
            assert_eq!(&buf[..], b"Z\0\0\0\x05I", "exactly one message consumed");
        }
    }
    // Malformed: the in-place path steps aside and the general path reports the error.
    let bad: &[(&[u8], ProtoError)] = &[
        (
            b"C\0\0\0\x0cSELECT 1",
            ProtoError::malformed("CommandComplete", "the command tag is not NUL-terminated"),
        ),
        (
            b"C\0\0\0\x0cSELECT\0\0",
            ProtoError::malformed("CommandComplete", "1 unexpected bytes at the end"),
        ),
        (
            b"C\0\0\0\x0dSELECT \xff\0",
            ProtoError::malformed("CommandComplete", "the command tag is not valid UTF-8"),
        ),
        (
            b"2\0\0\0\x05x",
            ProtoError::malformed("BindComplete", "1 unexpected bytes at the end"),
        ),
    ];
    for (frame, error) in bad {
        let mut buf = BytesMut::from(*frame);
        assert_eq!(decode(&mut buf, 1024).as_ref(), Err(error), "{frame:?}");
        assert!(buf.is_empty(), "the bad frame is consumed");
    }
}

#[test]
fn a_command_tag_compares_by_its_text_however_it_is_stored() {
    use std::hash::{BuildHasher, RandomState};
    let tag = "CREATE MATERIALIZED VIEW and a few more words to pass 38 bytes";
    let body = format!("{tag}\0");
    let Ok(Message::CommandComplete(shared)) = parse(b'C', body.as_bytes()) else {
        panic!("did not decode")
    };
    let mut frame = b"C".to_vec();
    frame.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    frame.extend_from_slice(body.as_bytes());
    let Ok(Some(Message::CommandComplete(decoded))) = decode(&mut BytesMut::from(&frame[..]), 1024)
    else {
        panic!("did not decode")
    };
    assert_eq!(shared, decoded);
    assert_eq!(shared.tag(), tag);
    let short = "SELECT 3\0";
    let Ok(Message::CommandComplete(inline)) = parse(b'C', short.as_bytes()) else {
        panic!("did not decode")
    };
    assert_ne!(inline, shared);
    assert_eq!(
        format!("{inline:?}"),
        "CommandComplete { tag: \"SELECT 3\" }"
    );
    let hasher = RandomState::new();
    assert_eq!(hasher.hash_one(&shared), hasher.hash_one(&decoded));
    assert_ne!(hasher.hash_one(&shared), hasher.hash_one(&inline));
}
