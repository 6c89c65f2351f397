//! `send` lines: pgproto3's field names into messages, and the bytes they encode to, written
//! out from the protocol documentation's "Message Formats".

use bytes::BytesMut;

use super::{Frontend, Target};

fn bytes(line: &str) -> Vec<u8> {
    let mut buf = BytesMut::new();
    Frontend::parse_line(line)
        .unwrap()
        .encode(&mut buf)
        .unwrap();
    buf.to_vec()
}

#[test]
fn every_message_type_parses_with_pgproto3_field_names() {
    let cases = [
        (
            r#"Query {"String": "SELECT 1"}"#,
            Frontend::Query {
                sql: "SELECT 1".into(),
            },
        ),
        (
            r#"Parse {"Name": "s", "Query": "SELECT $1", "ParameterOIDs": [23]}"#,
            Frontend::Parse {
                name: "s".into(),
                query: "SELECT $1".into(),
                param_oids: vec![23],
            },
        ),
        (
            r#"Bind {"DestinationPortal": "p", "PreparedStatement": "s", "ParameterFormatCodes": [1], "Parameters": [{"binary": "0a0B"}, {"text": "x"}, null], "ResultFormatCodes": [0, 1]}"#,
            Frontend::Bind {
                portal: "p".into(),
                statement: "s".into(),
                param_formats: vec![1],
                params: vec![Some(vec![0x0a, 0x0b]), Some(b"x".to_vec()), None],
                result_formats: vec![0, 1],
            },
        ),
        (
            r#"Describe {"ObjectType": "S", "Name": "s"}"#,
            Frontend::Describe {
                target: Target::Statement,
                name: "s".into(),
            },
        ),
        // Older CockroachDB files give the object type as the byte's number (80 = 'P').
        (
            r#"Close {"ObjectType": 80, "Name": "p"}"#,
            Frontend::Close {
                target: Target::Portal,
                name: "p".into(),
            },
        ),
        (
            r#"Execute {"Portal": "p", "MaxRows": 5}"#,
            Frontend::Execute {
                portal: "p".into(),
                max_rows: 5,
            },
        ),
        ("Sync", Frontend::Sync),
        ("Flush", Frontend::Flush),
        ("CopyDone", Frontend::CopyDone),
        ("Terminate", Frontend::Terminate),
        (
            r#"CopyData {"Data": "1\tx\n"}"#,
            Frontend::CopyData(b"1\tx\n".to_vec()),
        ),
        (
            r#"CopyData {"BinaryData": "UEdDT1BZCv8NCgA="}"#,
            Frontend::CopyData(b"PGCOPY\n\xff\r\n\0".to_vec()),
        ),
        (
            r#"CopyFail { "Message": "gave up" }"#,
            Frontend::CopyFail {
                message: "gave up".into(),
            },
        ),
        (
            r#"FunctionCall {"Function": 177, "ArgFormatCodes": [1], "Arguments": [{"binary": "00000001"}, "AAAAAg==", null], "ResultFormatCode": 1}"#,
            Frontend::FunctionCall {
                function: 177,
                arg_formats: vec![1],
                args: vec![Some(vec![0, 0, 0, 1]), Some(vec![0, 0, 0, 2]), None],
                result_format: 1,
            },
        ),
        // pgproto3's own MarshalJSON form, Type inside the object.
        (
            r#"{"Type":"Execute","Portal":"","MaxRows":0}"#,
            Frontend::Execute {
                portal: String::new(),
                max_rows: 0,
            },
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(Frontend::parse_line(line), Ok(expected), "{line}");
    }
}

#[test]
fn absent_and_null_fields_are_go_zero_values() {
    assert_eq!(
        Frontend::parse_line("Bind").unwrap(),
        Frontend::Bind {
            portal: String::new(),
            statement: String::new(),
            param_formats: vec![],
            params: vec![],
            result_formats: vec![],
        }
    );
    assert_eq!(
        Frontend::parse_line(r#"Parse {"Query": "SELECT 1", "ParameterOIDs": null}"#).unwrap(),
        Frontend::Parse {
            name: String::new(),
            query: "SELECT 1".into(),
            param_oids: vec![],
        }
    );
    assert_eq!(
        Frontend::parse_line("Execute").unwrap(),
        Frontend::Execute {
            portal: String::new(),
            max_rows: 0,
        }
    );
}

#[test]
fn mistakes_are_refused_naming_what_is_wrong() {
    let cases = [
        ("Querry {}", "unknown frontend message type \"Querry\""),
        (r#"Query {"Sting": "x"}"#, "Query has no field \"Sting\""),
        (r#"Query {"String": 1}"#, "String must be a string"),
        (r#"Query {"String": "x""#, "invalid JSON"),
        (r#"Query ["x"]"#, "expected a JSON object"),
        (r#"Describe {"Name": "s"}"#, "ObjectType is missing"),
        (
            r#"Describe {"ObjectType": "X"}"#,
            "ObjectType must be \"S\"",
        ),
        (
            r#"Execute {"MaxRows": 2147483648}"#,
            "MaxRows must be an integer",
        ),
        (r#"Execute {"MaxRows": 1.5}"#, "MaxRows must be an integer"),
        (
            r#"Parse {"ParameterOIDs": [-1]}"#,
            "ParameterOIDs[0] must be an integer",
        ),
        (
            r#"Bind {"ParameterFormatCodes": [70000]}"#,
            "ParameterFormatCodes[0]",
        ),
        (
            r#"Bind {"Parameters": [{"binary": "abc"}]}"#,
            "odd number of hex digits",
        ),
        (
            r#"Bind {"Parameters": [{"binary": "+f"}]}"#,
            "is not hexadecimal",
        ),
        (
            r#"Bind {"Parameters": [{"txt": "a"}]}"#,
            "Parameters[0] must be",
        ),
        (r#"Bind {"Parameters": ["AAAA"]}"#, "Parameters[0] must be"),
        (r#"CopyData {"BinaryData": "***"}"#, "is not base64"),
        (
            r#"CopyData {"Data": "a", "BinaryData": "YQ=="}"#,
            "not both",
        ),
        (r#"{"String": "x"}"#, "no \"Type\" field"),
        (r#"{"Type": 5}"#, "\"Type\" must be a string"),
    ];
    for (line, expected) in cases {
        let err = Frontend::parse_line(line).unwrap_err();
        assert!(err.contains(expected), "{line}: {err}");
    }
}

#[test]
fn encodings_match_the_documented_layouts() {
    // Query: 'Q', length, the string and its NUL.
    assert_eq!(bytes(r#"Query {"String": ""}"#), b"Q\0\0\0\x05\0");
    // Parse: name, query, int16 count, int32 OIDs.
    assert_eq!(
        bytes(r#"Parse {"Name": "s", "Query": "q", "ParameterOIDs": [20]}"#),
        b"P\0\0\0\x0es\0q\0\0\x01\0\0\0\x14"
    );
    // Bind: portal, statement, format codes, values (-1 for NULL), result formats.
    assert_eq!(
        bytes(
            r#"Bind {"DestinationPortal": "p", "ParameterFormatCodes": [1], "Parameters": [{"binary": "ff"}, null], "ResultFormatCodes": [1]}"#
        ),
        b"B\0\0\0\x1ap\0\0\0\x01\0\x01\0\x02\0\0\0\x01\xff\xff\xff\xff\xff\0\x01\0\x01"
    );
    assert_eq!(
        bytes(r#"Describe {"ObjectType": "P", "Name": "p"}"#),
        b"D\0\0\0\x07Pp\0"
    );
    assert_eq!(
        bytes(r#"Close {"ObjectType": "S", "Name": ""}"#),
        b"C\0\0\0\x06S\0"
    );
    assert_eq!(
        bytes(r#"Execute {"Portal": "p", "MaxRows": 2}"#),
        b"E\0\0\0\x0ap\0\0\0\0\x02"
    );
    assert_eq!(bytes("Sync"), b"S\0\0\0\x04");
    assert_eq!(bytes("Flush"), b"H\0\0\0\x04");
    assert_eq!(bytes("CopyDone"), b"c\0\0\0\x04");
    assert_eq!(bytes("Terminate"), b"X\0\0\0\x04");
    assert_eq!(bytes(r#"CopyData {"Data": "ab"}"#), b"d\0\0\0\x06ab");
    assert_eq!(bytes(r#"CopyFail {"Message": "m"}"#), b"f\0\0\0\x06m\0");
    // FunctionCall: OID, argument formats, arguments, result format.
    assert_eq!(
        bytes(
            r#"FunctionCall {"Function": 177, "ArgFormatCodes": [0], "Arguments": [{"text": "1"}], "ResultFormatCode": 1}"#
        ),
        b"F\0\0\0\x15\0\0\0\xb1\0\x01\0\0\0\x01\0\0\0\x011\0\x01"
    );
}

#[test]
fn what_the_encoder_refuses_is_an_error_not_a_panic() {
    let mut buf = BytesMut::new();
    let nul = Frontend::parse_line(r#"Query {"String": "a\u0000b"}"#).unwrap();
    assert!(nul.encode(&mut buf).is_err());
    let negative = Frontend::parse_line(r#"Execute {"MaxRows": -1}"#).unwrap();
    assert!(negative.encode(&mut buf).is_err());
    assert!(buf.is_empty(), "a failed encode writes nothing");
}
