//! Backend messages from byte literals (laid out as the protocol documentation's "Message
//! Formats" describe them) to the JSON lines pgproto3 and CockroachDB's runner write, and the
//! options that filter them.

use bytes::Bytes;
use tusk::proto::backend::Message;
use tusk::proto::framing::Frame;

use super::super::gojson;
use super::super::script::Arg;
use super::Filters;

fn message(tag: u8, body: &[u8]) -> Message {
    Message::parse(Frame {
        tag,
        body: Bytes::copy_from_slice(body),
    })
    .unwrap()
}

fn json(filters: &Filters, tag: u8, body: &[u8]) -> Option<String> {
    filters.to_json(&message(tag, body)).unwrap()
}

fn plain(tag: u8, body: &[u8]) -> String {
    json(&Filters::default(), tag, body).unwrap()
}

fn args(line: &str) -> Vec<Arg> {
    let script = super::super::script::Script::parse(&format!("until {line}\nX\n----\n")).unwrap();
    script.directives[0].args.clone()
}

/// A RowDescription body of one field: name, table OID 16385, column 2, int4 (23, size 4),
/// modifier -1, text format.
const ROW_DESCRIPTION: &[u8] = b"\0\x01id\0\0\0\x40\x01\0\x02\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0";

/// An ErrorResponse body: severity, code, message, detail, constraint, file, line, routine.
const UNIQUE_VIOLATION: &[u8] = b"SERROR\0VERROR\0C23505\0Mduplicate key value violates unique \
    constraint \"t_pkey\"\0DKey (id)=(1) already exists.\0nt_pkey\0Fnbtinsert.c\0L664\0\
    R_bt_check_unique\0\0";

#[test]
fn messages_print_as_pgproto3_marshals_them() {
    let cases: &[(u8, &[u8], &str)] = &[
        (b'1', b"", r#"{"Type":"ParseComplete"}"#),
        (b'2', b"", r#"{"Type":"BindComplete"}"#),
        (b'3', b"", r#"{"Type":"CloseComplete"}"#),
        (b'n', b"", r#"{"Type":"NoData"}"#),
        (b's', b"", r#"{"Type":"PortalSuspended"}"#),
        (b'I', b"", r#"{"Type":"EmptyQueryResponse"}"#),
        (b'c', b"", r#"{"Type":"CopyDone"}"#),
        (b'Z', b"E", r#"{"Type":"ReadyForQuery","TxStatus":"E"}"#),
        (
            b'C',
            b"INSERT 0 5\0",
            r#"{"Type":"CommandComplete","CommandTag":"INSERT 0 5"}"#,
        ),
        (
            b'D',
            b"\0\x03\0\0\0\x011\xff\xff\xff\xff\0\0\0\0",
            r#"{"Type":"DataRow","Values":[{"text":"1"},null,{"text":""}]}"#,
        ),
        (
            b'T',
            ROW_DESCRIPTION,
            r#"{"Type":"RowDescription","Fields":[{"Name":"id","TableOID":16385,"TableAttributeNumber":2,"DataTypeOID":23,"DataTypeSize":4,"TypeModifier":-1,"Format":0}]}"#,
        ),
        (
            b't',
            b"\0\x02\0\0\0\x17\0\0\0\x19",
            r#"{"Type":"ParameterDescription","ParameterOIDs":[23,25]}"#,
        ),
        (
            b't',
            b"\0\0",
            r#"{"Type":"ParameterDescription","ParameterOIDs":[]}"#,
        ),
        (
            b'S',
            b"TimeZone\0UTC\0",
            r#"{"Type":"ParameterStatus","Name":"TimeZone","Value":"UTC"}"#,
        ),
        (
            b'G',
            b"\x01\0\x02\0\x01\0\x01",
            r#"{"Type":"CopyInResponse","ColumnFormatCodes":[1,1]}"#,
        ),
        (
            b'H',
            b"\0\0\x01\0\0",
            r#"{"Type":"CopyOutResponse","ColumnFormatCodes":[0]}"#,
        ),
        (b'd', b"1\tx\n", r#"{"Type":"CopyData","Data":"3109780a"}"#),
        (
            b'V',
            b"\0\0\0\x0242",
            r#"{"Type":"FunctionCallResponse","Result":{"text":"42"}}"#,
        ),
        (
            b'V',
            b"\xff\xff\xff\xff",
            r#"{"Type":"FunctionCallResponse","Result":null}"#,
        ),
        (
            b'K',
            b"\0\0\x30\x39\x01\x02\x03\x04",
            r#"{"Type":"BackendKeyData","ProcessID":12345,"SecretKey":16909060}"#,
        ),
        (
            b'v',
            b"\0\0\0\0\0\0\0\x01_pq_.x\0",
            r#"{"Type":"NegotiateProtocolVersion","NewestMinorProtocol":0,"UnrecognizedOptions":["_pq_.x"]}"#,
        ),
        (b'R', b"\0\0\0\0", r#"{"Type":"AuthenticationOk"}"#),
        (
            b'R',
            b"\0\0\0\x05\x01\x02\x03\x04",
            r#"{"Type":"AuthenticationMD5Password","Salt":[1,2,3,4]}"#,
        ),
        (
            b'R',
            b"\0\0\0\x0aSCRAM-SHA-256\0\0",
            r#"{"Type":"AuthenticationSASL","AuthMechanisms":["SCRAM-SHA-256"]}"#,
        ),
    ];
    for (tag, body, expected) in cases {
        assert_eq!(plain(*tag, body), *expected, "tag {}", char::from(*tag));
    }
}

#[test]
fn errors_keep_the_code_and_what_the_options_ask_for() {
    assert_eq!(
        plain(b'E', UNIQUE_VIOLATION),
        r#"{"Type":"ErrorResponse","Code":"23505","ConstraintName":"t_pkey"}"#
    );
    let keep = Filters::from_args(&args("keepErrMessage ignore_constraint_name")).unwrap();
    assert_eq!(
        json(&keep, b'E', UNIQUE_VIOLATION).unwrap(),
        r#"{"Type":"ErrorResponse","Code":"23505","Message":"duplicate key value violates unique constraint \"t_pkey\""}"#
    );
    let mapped = Filters::from_args(&args("mapError=(23505, 99999)")).unwrap();
    assert_eq!(
        json(&mapped, b'E', UNIQUE_VIOLATION).unwrap(),
        r#"{"Type":"ErrorResponse","Code":"99999","ConstraintName":"t_pkey"}"#
    );
}

#[test]
fn notices_show_what_a_scenario_checks_and_no_source_location() {
    assert_eq!(
        plain(
            b'N',
            b"SWARNING\0VWARNING\0C01000\0Mcareful\0Dsome detail\0Fpl_exec.c\0L3859\0\0"
        ),
        r#"{"Type":"NoticeResponse","Severity":"WARNING","Code":"01000","Message":"careful","Detail":"some detail"}"#
    );
    assert_eq!(
        plain(b'N', b"SNOTICE\0C00000\0Mhi\0Hthe hint\0\0"),
        r#"{"Type":"NoticeResponse","Severity":"NOTICE","Code":"00000","Message":"hi","Hint":"the hint"}"#
    );
}

#[test]
fn the_sessions_own_pid_prints_as_zero_in_notifications() {
    let body = b"\0\0\x30\x39chan\0payload\0";
    let own = Filters {
        own_pid: Some(12345),
        ..Filters::default()
    };
    assert_eq!(
        json(&own, b'A', body).unwrap(),
        r#"{"Type":"NotificationResponse","PID":0,"Channel":"chan","Payload":"payload"}"#
    );
    let other = Filters {
        own_pid: Some(999),
        ..Filters::default()
    };
    assert_eq!(
        json(&other, b'A', body).unwrap(),
        r#"{"Type":"NotificationResponse","PID":12345,"Channel":"chan","Payload":"payload"}"#
    );
}

#[test]
fn row_description_options_blank_their_fields() {
    let all = Filters::from_args(&args(
        "ignore_table_oids ignore_type_oids ignore_data_type_sizes",
    ))
    .unwrap();
    assert_eq!(
        json(&all, b'T', ROW_DESCRIPTION).unwrap(),
        r#"{"Type":"RowDescription","Fields":[{"Name":"id","TableOID":0,"TableAttributeNumber":2,"DataTypeOID":0,"DataTypeSize":0,"TypeModifier":-1,"Format":0}]}"#
    );
}

#[test]
fn ignore_takes_every_spelling_of_a_list() {
    for line in [
        "ignore=(RowDescription,NoticeResponse)",
        "ignore=RowDescription,NoticeResponse",
        "ignore=RowDescription ignore=NoticeResponse",
    ] {
        let filters = Filters::from_args(&args(line)).unwrap();
        assert_eq!(json(&filters, b'T', ROW_DESCRIPTION), None, "{line}");
        assert_eq!(json(&filters, b'N', b"SNOTICE\0C00000\0Mx\0\0"), None);
        assert!(json(&filters, b'Z', b"I").is_some());
    }
}

#[test]
fn unknown_options_and_types_are_refused() {
    for (line, expected) in [
        (
            "ignore=RowDescriptor",
            "unknown backend message type \"RowDescriptor\"",
        ),
        ("ignore", "ignore needs message types"),
        ("keepErrMessages", "unknown option \"keepErrMessages\""),
        ("keepErrMessage=yes", "keepErrMessage takes no value"),
        ("mapError=(1)", "mapError takes two codes"),
    ] {
        let err = Filters::from_args(&args(line)).unwrap_err();
        assert!(err.contains(expected), "{line}: {err}");
    }
}

#[test]
fn malformed_rows_are_decoding_errors_not_panics() {
    // Two columns announced, the second runs past the end.
    let row = message(b'D', b"\0\x02\0\0\0\x011\0\0\0\x09ab");
    let err = Filters::default().to_json(&row).unwrap_err();
    assert!(err.to_string().contains("column 1"), "{err}");
}

#[test]
fn strings_are_escaped_as_go_escapes_them() {
    let mut out = String::new();
    gojson::write_str(
        &mut out,
        "q\"b\\ n\n r\r t\t b\u{8} f\u{c} nul\0 <>& \u{2028}\u{2029} \u{7f} é ✓".as_bytes(),
    );
    // DEL (0x7f) is not escaped.
    assert_eq!(
        out,
        concat!(
            r#""q\"b\\ n\n r\r t\t b\b f\f nul\u0000 \u003c\u003e\u0026 \u2028\u2029 "#,
            "\u{7f} é ✓\""
        )
    );
    // Each byte of invalid UTF-8 becomes one \ufffd (Go decodes rune by rune).
    let mut out = String::new();
    gojson::write_str(&mut out, b"a\xe2\x82b\xff");
    assert_eq!(out, r#""a\ufffd\ufffdb\ufffd""#);
}

#[test]
fn values_print_as_text_unless_they_hold_control_bytes_or_are_not_utf8() {
    assert_eq!(gojson::value(None), "null");
    assert_eq!(gojson::value(Some(b"ABCD")), r#"{"text":"ABCD"}"#);
    assert_eq!(
        gojson::value(Some(b"\0\0\0\x2a")),
        r#"{"binary":"0000002a"}"#
    );
    assert_eq!(gojson::value(Some(b"a\nb")), r#"{"binary":"610a62"}"#);
    assert_eq!(gojson::value(Some(b"\xff\xfe")), r#"{"binary":"fffe"}"#);
    assert_eq!(gojson::value(Some("ü".as_bytes())), r#"{"text":"ü"}"#);
}
