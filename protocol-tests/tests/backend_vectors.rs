//! Byte-exact vectors for every backend message of protocol 3.0, written by hand from the
//! "Message Formats" chapter of the PostgreSQL documentation, plus bytes captured from a real
//! PostgreSQL 15 server. Each vector is a complete frame: tag, length, body.
//!
//! Besides decoding each vector, the suite checks that every proper prefix of a fixed-layout
//! body and every body with a byte appended is rejected as Malformed naming the message, and
//! that a stream cut at any byte offset reassembles to the same messages.

use bytes::{Bytes, BytesMut};
use tusk::proto::backend::{
    decode, Authentication, CopyResponse, DataRow, ErrorFields, Field, Message,
    NegotiateProtocolVersion, Notification, ParameterDescription, ParameterStatus, RowDescription,
    TransactionStatus,
};
use tusk::proto::framing::split_frame;
use tusk::proto::{ProtoError, DEFAULT_MAX_MESSAGE_LEN as MAX};

const AUTH_OK: &[u8] = b"R\x00\x00\x00\x08\x00\x00\x00\x00";
const AUTH_KERBEROS: &[u8] = b"R\x00\x00\x00\x08\x00\x00\x00\x02";
const AUTH_CLEARTEXT: &[u8] = b"R\x00\x00\x00\x08\x00\x00\x00\x03";
const AUTH_MD5: &[u8] = b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\xfe\xff";
const AUTH_SCM: &[u8] = b"R\x00\x00\x00\x08\x00\x00\x00\x06";
const AUTH_GSS: &[u8] = b"R\x00\x00\x00\x08\x00\x00\x00\x07";
const AUTH_GSS_CONTINUE: &[u8] = b"R\x00\x00\x00\x0b\x00\x00\x00\x08tok";
const AUTH_SSPI: &[u8] = b"R\x00\x00\x00\x08\x00\x00\x00\x09";
const AUTH_SASL: &[u8] = b"R\x00\x00\x00\x2a\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0";
const AUTH_SASL_CONTINUE: &[u8] = b"R\x00\x00\x00\x1f\x00\x00\x00\x0br=abc,s=c2FsdA==,i=4096";
const AUTH_SASL_FINAL: &[u8] = b"R\x00\x00\x00\x0e\x00\x00\x00\x0cv=c2ln";
const BACKEND_KEY_DATA: &[u8] = b"K\x00\x00\x00\x0c\x00\x00\x12\x34\xde\xad\xbe\xef";
const BIND_COMPLETE: &[u8] = b"2\x00\x00\x00\x04";
const CLOSE_COMPLETE: &[u8] = b"3\x00\x00\x00\x04";
const COMMAND_COMPLETE: &[u8] = b"C\x00\x00\x00\x0fINSERT 0 5\0";
const COPY_IN_RESPONSE: &[u8] = b"G\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00";
const COPY_OUT_RESPONSE: &[u8] = b"H\x00\x00\x00\x09\x01\x00\x01\x00\x01";
const COPY_BOTH_RESPONSE: &[u8] = b"W\x00\x00\x00\x07\x00\x00\x00";
const COPY_DATA: &[u8] = b"d\x00\x00\x00\x08\
    1\ta\n";
const COPY_DONE: &[u8] = b"c\x00\x00\x00\x04";
const DATA_ROW: &[u8] =
    b"D\x00\x00\x00\x14\x00\x03\x00\x00\x00\x0242\xff\xff\xff\xff\x00\x00\x00\x00";
const EMPTY_QUERY_RESPONSE: &[u8] = b"I\x00\x00\x00\x04";
const ERROR_RESPONSE: &[u8] =
    b"E\x00\x00\x00\x3bSERROR\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0P15\0\0";
const NOTICE_RESPONSE: &[u8] = b"N\x00\x00\x00\x20SNOTICE\0VNOTICE\0C00000\0Mhi\0\0";
const FUNCTION_CALL_RESPONSE: &[u8] = b"V\x00\x00\x00\x0a\x00\x00\x00\x02hi";
const FUNCTION_CALL_RESPONSE_NULL: &[u8] = b"V\x00\x00\x00\x08\xff\xff\xff\xff";
const NEGOTIATE_PROTOCOL_VERSION: &[u8] =
    b"v\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01_pq_.foo\0";
const NO_DATA: &[u8] = b"n\x00\x00\x00\x04";
const NOTIFICATION_RESPONSE: &[u8] = b"A\x00\x00\x00\x13\x00\x00\x00\x42ch\0payload\0";
const PARAMETER_DESCRIPTION: &[u8] = b"t\x00\x00\x00\x0e\x00\x02\x00\x00\x00\x17\x00\x00\x00\x19";
const PARAMETER_STATUS: &[u8] = b"S\x00\x00\x00\x15TimeZone\0Etc/UTC\0";
const PARSE_COMPLETE: &[u8] = b"1\x00\x00\x00\x04";
const PORTAL_SUSPENDED: &[u8] = b"s\x00\x00\x00\x04";
const READY_FOR_QUERY: &[u8] = b"Z\x00\x00\x00\x05E";
const ROW_DESCRIPTION: &[u8] = b"T\x00\x00\x00\x32\x00\x02id\0\x00\x00\x40\x00\x00\x01\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00name\0\x00\x00\x40\x00\x00\x02\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x01";

/// How a vector's body may be cut or extended.
#[derive(Debug, Clone, Copy)]
enum Tail {
    /// Every proper prefix of the body, and the body with any byte appended, is malformed.
    Fixed,
    /// The body ends with opaque data: any length from this many bytes on is valid.
    Open(usize),
}

/// Every vector: the message name it decodes to, its wire bytes, and its tail.
const ALL: &[(&str, &[u8], Tail)] = &[
    ("AuthenticationOk", AUTH_OK, Tail::Fixed),
    ("AuthenticationKerberosV5", AUTH_KERBEROS, Tail::Fixed),
    (
        "AuthenticationCleartextPassword",
        AUTH_CLEARTEXT,
        Tail::Fixed,
    ),
    ("AuthenticationMD5Password", AUTH_MD5, Tail::Fixed),
    ("AuthenticationSCMCredential", AUTH_SCM, Tail::Fixed),
    ("AuthenticationGSS", AUTH_GSS, Tail::Fixed),
    (
        "AuthenticationGSSContinue",
        AUTH_GSS_CONTINUE,
        Tail::Open(4),
    ),
    ("AuthenticationSSPI", AUTH_SSPI, Tail::Fixed),
    ("AuthenticationSASL", AUTH_SASL, Tail::Fixed),
    (
        "AuthenticationSASLContinue",
        AUTH_SASL_CONTINUE,
        Tail::Open(4),
    ),
    ("AuthenticationSASLFinal", AUTH_SASL_FINAL, Tail::Open(4)),
    // The secret key runs to the end of the message (4 to 256 bytes, for protocol 3.2).
    ("BackendKeyData", BACKEND_KEY_DATA, Tail::Open(8)),
    ("BindComplete", BIND_COMPLETE, Tail::Fixed),
    ("CloseComplete", CLOSE_COMPLETE, Tail::Fixed),
    ("CommandComplete", COMMAND_COMPLETE, Tail::Fixed),
    ("CopyInResponse", COPY_IN_RESPONSE, Tail::Fixed),
    ("CopyOutResponse", COPY_OUT_RESPONSE, Tail::Fixed),
    ("CopyBothResponse", COPY_BOTH_RESPONSE, Tail::Fixed),
    ("CopyData", COPY_DATA, Tail::Open(0)),
    ("CopyDone", COPY_DONE, Tail::Fixed),
    ("DataRow", DATA_ROW, Tail::Fixed),
    ("EmptyQueryResponse", EMPTY_QUERY_RESPONSE, Tail::Fixed),
    ("ErrorResponse", ERROR_RESPONSE, Tail::Fixed),
    ("NoticeResponse", NOTICE_RESPONSE, Tail::Fixed),
    ("FunctionCallResponse", FUNCTION_CALL_RESPONSE, Tail::Fixed),
    (
        "FunctionCallResponse",
        FUNCTION_CALL_RESPONSE_NULL,
        Tail::Fixed,
    ),
    (
        "NegotiateProtocolVersion",
        NEGOTIATE_PROTOCOL_VERSION,
        Tail::Fixed,
    ),
    ("NoData", NO_DATA, Tail::Fixed),
    ("NotificationResponse", NOTIFICATION_RESPONSE, Tail::Fixed),
    ("ParameterDescription", PARAMETER_DESCRIPTION, Tail::Fixed),
    ("ParameterStatus", PARAMETER_STATUS, Tail::Fixed),
    ("ParseComplete", PARSE_COMPLETE, Tail::Fixed),
    ("PortalSuspended", PORTAL_SUSPENDED, Tail::Fixed),
    ("ReadyForQuery", READY_FOR_QUERY, Tail::Fixed),
    ("RowDescription", ROW_DESCRIPTION, Tail::Fixed),
];

/// Decodes `wire`, which must hold exactly one complete message.
fn one(wire: &[u8]) -> Message {
    let mut buf = BytesMut::from(wire);
    let message = decode(&mut buf, MAX)
        .expect("the vector decodes")
        .expect("the vector is a complete frame");
    assert!(buf.is_empty(), "{} bytes left after the frame", buf.len());
    message
}

/// Walks the lazily validated parts of a message: DataRow columns, RowDescription fields,
/// ErrorResponse/NoticeResponse fields.
fn walk(message: &Message) -> Result<(), ProtoError> {
    match message {
        Message::DataRow(row) => row.ranges().try_for_each(|r| r.map(drop)),
        Message::RowDescription(desc) => desc.fields().try_for_each(|f| f.map(drop)),
        Message::ErrorResponse(fields) | Message::NoticeResponse(fields) => {
            fields.iter().try_for_each(|f| f.map(drop))
        }
        _ => Ok(()),
    }
}

/// A frame with `tag` and `body`, its length computed.
fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut wire = vec![tag];
    wire.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    wire.extend_from_slice(body);
    wire
}

/// Decodes one frame and walks it completely.
fn decode_fully(wire: &[u8]) -> Result<Message, ProtoError> {
    let message = decode(&mut BytesMut::from(wire), MAX)?.expect("a complete frame");
    walk(&message)?;
    Ok(message)
}

/// Asserts a Malformed error names the message `name` (or, for an authentication message cut
/// inside its code, the Authentication family).
fn assert_malformed(result: Result<Message, ProtoError>, name: &str, context: &str) {
    match result {
        Err(ProtoError::Malformed { message, .. }) => assert!(
            message == name || (message == "Authentication" && name.starts_with(message)),
            "{context}: error names {message}, expected {name}"
        ),
        other => panic!("{context}: expected Malformed {name}, got {other:?}"),
    }
}

/// The DataRow inside `message`.
fn data_row(message: Message) -> DataRow {
    match message {
        Message::DataRow(row) => row,
        other => panic!("expected DataRow, got {other:?}"),
    }
}

/// The column values of a DataRow as byte slices (`None` for NULL).
fn columns(row: &DataRow) -> Vec<Option<&[u8]>> {
    row.ranges()
        .map(|r| r.unwrap().map(|range| &row.buffer()[range]))
        .collect()
}

/// The RowDescription inside `message`.
fn row_description(message: Message) -> RowDescription {
    match message {
        Message::RowDescription(desc) => desc,
        other => panic!("expected RowDescription, got {other:?}"),
    }
}

/// The fields of an ErrorResponse or NoticeResponse as `(code, text)` pairs.
fn error_fields(fields: &ErrorFields) -> Vec<(char, &str)> {
    fields
        .iter()
        .map(|f| {
            let (code, value) = f.unwrap();
            (char::from(code), std::str::from_utf8(value).unwrap())
        })
        .collect()
}

/// The CopyResponse inside any of the three Copy*Response messages.
fn copy_response(message: Message) -> CopyResponse {
    match message {
        Message::CopyInResponse(c) | Message::CopyOutResponse(c) | Message::CopyBothResponse(c) => {
            c
        }
        other => panic!("expected a Copy*Response, got {other:?}"),
    }
}

#[test]
fn every_vector_is_one_frame_with_its_name_and_tag() {
    for &(name, wire, _) in ALL {
        let message = one(wire);
        assert_eq!(message.name(), name);
        assert_eq!(message.tag(), wire[0], "{name}");
        walk(&message).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn authentication_vectors() {
    let auth = |wire| match one(wire) {
        Message::Authentication(auth) => auth,
        other => panic!("expected Authentication, got {other:?}"),
    };
    assert_eq!(auth(AUTH_OK), Authentication::Ok);
    assert_eq!(auth(AUTH_KERBEROS), Authentication::KerberosV5);
    assert_eq!(auth(AUTH_CLEARTEXT), Authentication::CleartextPassword);
    assert_eq!(
        auth(AUTH_MD5),
        Authentication::Md5Password {
            salt: [0x01, 0x02, 0xfe, 0xff]
        }
    );
    assert_eq!(auth(AUTH_SCM), Authentication::ScmCredential);
    assert_eq!(auth(AUTH_GSS), Authentication::Gss);
    assert_eq!(
        auth(AUTH_GSS_CONTINUE),
        Authentication::GssContinue(Bytes::from_static(b"tok"))
    );
    assert_eq!(auth(AUTH_SSPI), Authentication::Sspi);
    assert_eq!(
        auth(AUTH_SASL),
        Authentication::Sasl {
            mechanisms: vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-256".into()]
        }
    );
    assert_eq!(
        auth(AUTH_SASL_CONTINUE),
        Authentication::SaslContinue(Bytes::from_static(b"r=abc,s=c2FsdA==,i=4096"))
    );
    assert_eq!(
        auth(AUTH_SASL_FINAL),
        Authentication::SaslFinal(Bytes::from_static(b"v=c2ln"))
    );
    assert_eq!(auth(AUTH_SASL).code(), 10);
    // Code 1 was never assigned; the error names the code.
    let mut buf = BytesMut::from(&b"R\x00\x00\x00\x08\x00\x00\x00\x01"[..]);
    assert_eq!(
        decode(&mut buf, MAX),
        Err(ProtoError::UnsupportedAuth("code 1".into()))
    );
}

#[test]
fn session_vectors() {
    let Message::BackendKeyData(key) = one(BACKEND_KEY_DATA) else {
        panic!("not BackendKeyData")
    };
    assert_eq!(key.process_id, 0x1234);
    assert_eq!(&key.secret_key[..], b"\xde\xad\xbe\xef");
    assert_eq!(
        one(PARAMETER_STATUS),
        Message::ParameterStatus(ParameterStatus {
            name: "TimeZone".into(),
            value: "Etc/UTC".into()
        })
    );
    assert_eq!(
        one(NEGOTIATE_PROTOCOL_VERSION),
        Message::NegotiateProtocolVersion(NegotiateProtocolVersion {
            newest_minor: 0,
            unrecognized: vec!["_pq_.foo".into()]
        })
    );
    assert_eq!(
        one(NOTIFICATION_RESPONSE),
        Message::NotificationResponse(Notification {
            process_id: 0x42,
            channel: "ch".into(),
            payload: "payload".into()
        })
    );
    assert_eq!(
        one(READY_FOR_QUERY),
        Message::ReadyForQuery(TransactionStatus::Failed)
    );
}

#[test]
fn extended_query_vectors() {
    assert_eq!(one(PARSE_COMPLETE), Message::ParseComplete);
    assert_eq!(one(BIND_COMPLETE), Message::BindComplete);
    assert_eq!(one(CLOSE_COMPLETE), Message::CloseComplete);
    assert_eq!(one(NO_DATA), Message::NoData);
    assert_eq!(one(PORTAL_SUSPENDED), Message::PortalSuspended);
    assert_eq!(one(EMPTY_QUERY_RESPONSE), Message::EmptyQueryResponse);
    assert_eq!(
        one(PARAMETER_DESCRIPTION),
        Message::ParameterDescription(ParameterDescription {
            types: vec![23, 25]
        })
    );
    let Message::CommandComplete(done) = one(COMMAND_COMPLETE) else {
        panic!("not CommandComplete")
    };
    assert_eq!((done.tag(), done.rows()), ("INSERT 0 5", Some(5)));
    assert_eq!(
        one(FUNCTION_CALL_RESPONSE),
        Message::FunctionCallResponse(Some(Bytes::from_static(b"hi")))
    );
    assert_eq!(
        one(FUNCTION_CALL_RESPONSE_NULL),
        Message::FunctionCallResponse(None)
    );
}

#[test]
fn result_set_vectors() {
    let desc = row_description(one(ROW_DESCRIPTION));
    assert_eq!(desc.field_count(), 2);
    let fields: Vec<Field<'_>> = desc.fields().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        fields,
        vec![
            Field {
                name: "id",
                table_oid: 16384,
                column_id: 1,
                type_oid: 23,
                type_size: 4,
                type_modifier: -1,
                format: 0
            },
            Field {
                name: "name",
                table_oid: 16384,
                column_id: 2,
                type_oid: 25,
                type_size: -1,
                type_modifier: -1,
                format: 1
            },
        ]
    );
    let row = data_row(one(DATA_ROW));
    assert_eq!(row.column_count(), 3);
    assert_eq!(columns(&row), vec![Some(&b"42"[..]), None, Some(&b""[..])]);
}

#[test]
fn copy_vectors() {
    let copy_in = copy_response(one(COPY_IN_RESPONSE));
    assert_eq!(
        (copy_in.format, copy_in.column_formats()),
        (0, &[0i16, 0][..])
    );
    let copy_out = copy_response(one(COPY_OUT_RESPONSE));
    assert_eq!(
        (copy_out.format, copy_out.column_formats()),
        (1, &[1i16][..])
    );
    let copy_both = copy_response(one(COPY_BOTH_RESPONSE));
    assert_eq!((copy_both.format, copy_both.column_formats()), (0, &[][..]));
    assert!(matches!(one(COPY_IN_RESPONSE), Message::CopyInResponse(_)));
    assert!(matches!(
        one(COPY_OUT_RESPONSE),
        Message::CopyOutResponse(_)
    ));
    assert!(matches!(
        one(COPY_BOTH_RESPONSE),
        Message::CopyBothResponse(_)
    ));
    assert_eq!(
        one(COPY_DATA),
        Message::CopyData(Bytes::from_static(b"1\ta\n"))
    );
    assert_eq!(one(COPY_DONE), Message::CopyDone);
}

#[test]
fn error_and_notice_vectors() {
    let Message::ErrorResponse(fields) = one(ERROR_RESPONSE) else {
        panic!("not ErrorResponse")
    };
    assert_eq!(
        error_fields(&fields),
        vec![
            ('S', "ERROR"),
            ('V', "ERROR"),
            ('C', "42P01"),
            ('M', "relation \"t\" does not exist"),
            ('P', "15"),
        ]
    );
    let db = tusk::DbError::from_fields(&fields).unwrap();
    assert_eq!(db.code, tusk::SqlState::UNDEFINED_TABLE);
    assert_eq!(db.position, Some(15));
    let Message::NoticeResponse(fields) = one(NOTICE_RESPONSE) else {
        panic!("not NoticeResponse")
    };
    assert_eq!(fields.get(b'M'), Some(&b"hi"[..]));
}

#[test]
fn every_prefix_of_a_fixed_body_is_malformed() {
    for &(name, wire, tail) in ALL {
        let body = &wire[5..];
        for cut in 0..body.len() {
            let short = frame(wire[0], &body[..cut]);
            let context = format!("{name} cut to {cut} of {} body bytes", body.len());
            match tail {
                Tail::Open(min) if cut >= min => {
                    let message = decode_fully(&short).unwrap_or_else(|e| panic!("{context}: {e}"));
                    assert_eq!(message.name(), name, "{context}");
                }
                _ => assert_malformed(decode_fully(&short), name, &context),
            }
        }
    }
}

#[test]
fn every_fixed_body_with_a_byte_appended_is_malformed() {
    for &(name, wire, tail) in ALL {
        for extra in [0u8, b'x', 0xff] {
            let mut body = wire[5..].to_vec();
            body.push(extra);
            let long = frame(wire[0], &body);
            let context = format!("{name} with 0x{extra:02x} appended");
            match tail {
                Tail::Open(_) => {
                    let message = decode_fully(&long).unwrap_or_else(|e| panic!("{context}: {e}"));
                    assert_eq!(message.name(), name, "{context}");
                }
                Tail::Fixed => assert_malformed(decode_fully(&long), name, &context),
            }
        }
    }
}

/// Every vector and every captured exchange, back to back.
fn whole_stream() -> Vec<u8> {
    let mut stream: Vec<u8> = ALL.iter().flat_map(|&(_, wire, _)| wire.to_vec()).collect();
    for captured in CAPTURED {
        stream.extend_from_slice(captured);
    }
    stream
}

/// Decodes every complete message in `buf`.
fn drain(buf: &mut BytesMut, out: &mut Vec<Message>) {
    while let Some(message) = decode(buf, MAX).expect("the stream is valid") {
        out.push(message);
    }
}

#[test]
fn a_stream_cut_at_every_offset_reassembles_identically() {
    let stream = whole_stream();
    let mut expected = Vec::new();
    let mut whole = BytesMut::from(&stream[..]);
    drain(&mut whole, &mut expected);
    assert!(whole.is_empty());
    assert_eq!(expected.len(), ALL.len() + 48);

    for cut in 0..=stream.len() {
        let mut buf = BytesMut::from(&stream[..cut]);
        let mut got = Vec::new();
        drain(&mut buf, &mut got);
        // Whatever is left is a strict prefix of one frame: at most a partial message.
        assert!(split_frame(&mut buf.clone(), MAX).unwrap().is_none());
        buf.extend_from_slice(&stream[cut..]);
        drain(&mut buf, &mut got);
        assert!(buf.is_empty(), "cut at {cut}");
        assert_eq!(got, expected, "cut at {cut}");
    }

    // And fed one byte at a time, as a slow socket would.
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &byte in &stream {
        buf.extend_from_slice(&[byte]);
        drain(&mut buf, &mut got);
    }
    assert_eq!(got, expected);
}

// Bytes captured from a real server: PostgreSQL 15.18 (Debian 15.18-0+deb12u1), a throwaway
// cluster (`initdb -A trust`) on 127.0.0.1, reached by a small Python client that sent a
// protocol 3.0 StartupMessage (user=postgres, database=postgres, client_encoding=UTF8,
// application_name=tusk-capture) and then, each followed by reading up to ReadyForQuery:
//  1. Query "SELECT 1 AS one, 'héllo'::text AS greeting, NULL::int4 AS nothing;
//            DO $$BEGIN RAISE NOTICE 'hi'; END$$; SELECT 1/0"
//  2. Query "LISTEN ch" (its reply is not kept)
//  3. Query "NOTIFY ch, 'payload'; COPY (VALUES (1, 'a'), (2, 'b')) TO STDOUT"
//  4. Query "" (empty)
//  5. Parse/Bind/Describe portal/Execute of "SELECT $1::int4 + 1 AS n" with '41' (unnamed);
//     Parse "s1" = "SELECT * FROM (VALUES (1), (2)) v", Bind "p1", Execute "p1" with a limit of
//     1 row, Close statement "s1"; Parse + Describe statement "SET search_path = public"; Sync.
// The bytes are exactly as received; one message per line. The backend process ID is 8201.

const CAPTURED_STARTUP: &[u8] = b"\
    R\x00\x00\x00\x08\x00\x00\x00\x00\
    S\x00\x00\x00\x22application_name\x00tusk-capture\x00\
    S\x00\x00\x00\x19client_encoding\x00UTF8\x00\
    S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00\
    S\x00\x00\x00\x26default_transaction_read_only\x00off\x00\
    S\x00\x00\x00\x17in_hot_standby\x00off\x00\
    S\x00\x00\x00\x19integer_datetimes\x00on\x00\
    S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00\
    S\x00\x00\x00\x14is_superuser\x00on\x00\
    S\x00\x00\x00\x19server_encoding\x00UTF8\x00\
    S\x00\x00\x00\x32server_version\x0015.18 (Debian 15.18-0+deb12u1)\x00\
    S\x00\x00\x00\x23session_authorization\x00postgres\x00\
    S\x00\x00\x00\x23standard_conforming_strings\x00on\x00\
    S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00\
    K\x00\x00\x00\x0c\x00\x00\x20\x09\x4e\x4e\x12\x72\
    Z\x00\x00\x00\x05I\
";
const CAPTURED_SIMPLE: &[u8] = b"\
    T\x00\x00\x00\x51\x00\x03one\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00greeting\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00nothing\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00\
    D\x00\x00\x00\x19\x00\x03\x00\x00\x00\x011\x00\x00\x00\x06h\xc3\xa9llo\xff\xff\xff\xff\
    C\x00\x00\x00\x0dSELECT 1\x00\
    N\x00\x00\x00\x77SNOTICE\x00VNOTICE\x00C00000\x00Mhi\x00WPL/pgSQL function inline_code_block line 1 at RAISE\x00Fpl_exec.c\x00L3891\x00Rexec_stmt_raise\x00\x00\
    C\x00\x00\x00\x07DO\x00\
    E\x00\x00\x00\x41SERROR\x00VERROR\x00C22012\x00Mdivision by zero\x00Fint.c\x00L869\x00Rint4div\x00\x00\
    Z\x00\x00\x00\x05I\
";
const CAPTURED_SIMPLE2: &[u8] = b"\
    C\x00\x00\x00\x0bNOTIFY\x00\
    H\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00\
    d\x00\x00\x00\x081\x09a\x0a\
    d\x00\x00\x00\x082\x09b\x0a\
    c\x00\x00\x00\x04\
    C\x00\x00\x00\x0bCOPY 2\x00\
    A\x00\x00\x00\x13\x00\x00 \x09ch\x00payload\x00\
    Z\x00\x00\x00\x05I\
";
const CAPTURED_EMPTY: &[u8] = b"\
    I\x00\x00\x00\x04\
    Z\x00\x00\x00\x05I\
";
const CAPTURED_EXTENDED: &[u8] = b"\
    1\x00\x00\x00\x04\
    2\x00\x00\x00\x04\
    t\x00\x00\x00\x0a\x00\x01\x00\x00\x00\x17\
    T\x00\x00\x00\x1a\x00\x01n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00\
    D\x00\x00\x00\x0c\x00\x01\x00\x00\x00\x0242\
    C\x00\x00\x00\x0dSELECT 1\x00\
    1\x00\x00\x00\x04\
    2\x00\x00\x00\x04\
    D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x011\
    s\x00\x00\x00\x04\
    3\x00\x00\x00\x04\
    1\x00\x00\x00\x04\
    t\x00\x00\x00\x06\x00\x00\
    n\x00\x00\x00\x04\
    Z\x00\x00\x00\x05I\
";

const CAPTURED: [&[u8]; 5] = [
    CAPTURED_STARTUP,
    CAPTURED_SIMPLE,
    CAPTURED_SIMPLE2,
    CAPTURED_EMPTY,
    CAPTURED_EXTENDED,
];

/// Decodes a whole captured exchange, walking every lazy part.
fn decode_all(wire: &[u8]) -> Vec<Message> {
    let mut buf = BytesMut::from(wire);
    let mut out = Vec::new();
    drain(&mut buf, &mut out);
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    for message in &out {
        walk(message).unwrap_or_else(|e| panic!("{}: {e}", message.name()));
    }
    out
}

/// The names of `messages`, for comparing a whole exchange at a glance.
fn names(messages: &[Message]) -> Vec<&'static str> {
    messages.iter().map(Message::name).collect()
}

#[test]
fn captured_startup() {
    let messages = decode_all(CAPTURED_STARTUP);
    assert_eq!(messages.len(), 16);
    assert_eq!(messages[0], Message::Authentication(Authentication::Ok));
    let params: Vec<(String, String)> = messages[1..14]
        .iter()
        .map(|m| match m {
            Message::ParameterStatus(p) => (p.name.clone(), p.value.clone()),
            other => panic!("expected ParameterStatus, got {other:?}"),
        })
        .collect();
    assert!(params.contains(&("client_encoding".into(), "UTF8".into())));
    assert!(params.contains(&(
        "server_version".into(),
        "15.18 (Debian 15.18-0+deb12u1)".into()
    )));
    let Message::BackendKeyData(key) = &messages[14] else {
        panic!("expected BackendKeyData")
    };
    assert_eq!((key.process_id, key.secret_key.len()), (8201, 4));
    assert_eq!(
        messages[15],
        Message::ReadyForQuery(TransactionStatus::Idle)
    );
}

#[test]
fn captured_simple_query_with_notice_and_error() {
    let mut messages = decode_all(CAPTURED_SIMPLE);
    assert_eq!(
        names(&messages),
        [
            "RowDescription",
            "DataRow",
            "CommandComplete",
            "NoticeResponse",
            "CommandComplete",
            "ErrorResponse",
            "ReadyForQuery"
        ]
    );
    let desc = row_description(messages.remove(0));
    let fields: Vec<(&str, u32, i16)> = desc
        .fields()
        .map(|f| f.map(|f| (f.name, f.type_oid, f.type_size)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        fields,
        [("one", 23, 4), ("greeting", 25, -1), ("nothing", 23, 4)]
    );
    let row = data_row(messages.remove(0));
    assert_eq!(
        columns(&row),
        [Some("1".as_bytes()), Some("héllo".as_bytes()), None]
    );
    let Message::CommandComplete(done) = &messages[0] else {
        panic!("expected CommandComplete")
    };
    assert_eq!((done.tag(), done.rows()), ("SELECT 1", Some(1)));
    let Message::NoticeResponse(notice) = &messages[1] else {
        panic!("expected NoticeResponse")
    };
    assert_eq!(notice.get(b'M'), Some(&b"hi"[..]));
    let Message::CommandComplete(done) = &messages[2] else {
        panic!("expected CommandComplete")
    };
    assert_eq!((done.tag(), done.rows()), ("DO", None));
    let Message::ErrorResponse(error) = &messages[3] else {
        panic!("expected ErrorResponse")
    };
    let db = tusk::DbError::from_fields(error).unwrap();
    assert_eq!(db.code, tusk::SqlState::DIVISION_BY_ZERO);
    assert_eq!(db.message, "division by zero");
    assert_eq!(messages[4], Message::ReadyForQuery(TransactionStatus::Idle));
}

#[test]
fn captured_copy_and_notification() {
    let messages = decode_all(CAPTURED_SIMPLE2);
    assert_eq!(
        names(&messages),
        [
            "CommandComplete",
            "CopyOutResponse",
            "CopyData",
            "CopyData",
            "CopyDone",
            "CommandComplete",
            "NotificationResponse",
            "ReadyForQuery"
        ]
    );
    let Message::CopyOutResponse(copy) = &messages[1] else {
        panic!("expected CopyOutResponse")
    };
    assert_eq!((copy.format, copy.column_formats()), (0, &[0i16, 0][..]));
    assert_eq!(
        messages[2],
        Message::CopyData(Bytes::from_static(b"1\ta\n"))
    );
    assert_eq!(
        messages[3],
        Message::CopyData(Bytes::from_static(b"2\tb\n"))
    );
    let Message::CommandComplete(done) = &messages[5] else {
        panic!("expected CommandComplete")
    };
    assert_eq!(done.rows(), Some(2));
    assert_eq!(
        messages[6],
        Message::NotificationResponse(Notification {
            process_id: 8201,
            channel: "ch".into(),
            payload: "payload".into()
        })
    );
}

#[test]
fn captured_empty_query() {
    assert_eq!(
        decode_all(CAPTURED_EMPTY),
        [
            Message::EmptyQueryResponse,
            Message::ReadyForQuery(TransactionStatus::Idle)
        ]
    );
}

#[test]
fn captured_extended_query() {
    let messages = decode_all(CAPTURED_EXTENDED);
    assert_eq!(
        names(&messages),
        [
            "ParseComplete",
            "BindComplete",
            "ParameterDescription",
            "RowDescription",
            "DataRow",
            "CommandComplete",
            "ParseComplete",
            "BindComplete",
            "DataRow",
            "PortalSuspended",
            "CloseComplete",
            "ParseComplete",
            "ParameterDescription",
            "NoData",
            "ReadyForQuery"
        ]
    );
    assert_eq!(
        messages[2],
        Message::ParameterDescription(ParameterDescription { types: vec![23] })
    );
    let row = data_row(messages[4].clone());
    assert_eq!(columns(&row), [Some(&b"42"[..])]);
    assert_eq!(
        messages[12],
        Message::ParameterDescription(ParameterDescription { types: vec![] })
    );
}
