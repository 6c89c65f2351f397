//! json, jsonb and uuid.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::types::{Json, Uuid};

#[test]
fn json_vectors() {
    let doc = json!({"a": [1, 2.5, null, true]});
    // The server keeps json text as written and prints jsonb with spaces; serde_json prints
    // compactly, so the vectors check decoding, and encoding is checked on compact text.
    let json_raw = hex("7b2261223a205b312c20322e352c206e756c6c2c20747275655d7d");
    let jsonb_raw = hex("017b2261223a205b312c20322e352c206e756c6c2c20747275655d7d");
    assert_eq!(dec::<Value>(&Type::JSON, &json_raw).unwrap(), doc);
    assert_eq!(dec::<Value>(&Type::JSONB, &jsonb_raw).unwrap(), doc);
    assert_eq!(
        encode(&doc, &Type::JSON).unwrap(),
        br#"{"a":[1,2.5,null,true]}"#
    );
    let mut expected = vec![1u8];
    expected.extend_from_slice(br#"{"a":[1,2.5,null,true]}"#);
    assert_eq!(encode(&doc, &Type::JSONB).unwrap(), expected);
    // jsonb_send('"x"'::jsonb) and jsonb_send('null'::jsonb) are compact already: both ways.
    vector(
        &Type::JSONB,
        "jsonb_send('\"x\"'::jsonb)",
        "01227822",
        json!("x"),
    );
    vector(
        &Type::JSONB,
        "jsonb_send('null'::jsonb)",
        "016e756c6c",
        Value::Null,
    );
    vector(
        &Type::JSONB,
        "jsonb_send('\"x\"'::jsonb)",
        "01227822",
        Json("x".to_owned()),
    );
}

/// A JSON number decodes to the nearest `f64` (what Rust's own parser gives), so that a value
/// read and written back is unchanged. serde_json's default float parser can be one unit in
/// the last place off; tusk turns on its `float_roundtrip` feature. Found by the `from_sql`
/// fuzz target: `2222888…8` (110 digits) decoded to 2.2228888888888888e107, which encoded and
/// decoded again came back as 2.222888888888889e107.
#[test]
fn json_numbers_decode_to_the_nearest_double() {
    let long = format!("2222{}", "8".repeat(104));
    for text in [
        "2.2228888888888888e+107",
        long.as_str(),
        "0.30000000000000004",
        "1e-320",
    ] {
        let expected: f64 = text.parse().unwrap();
        for ty in [Type::JSON, Type::JSONB] {
            let mut raw = if ty == Type::JSONB {
                vec![1u8]
            } else {
                Vec::new()
            };
            raw.extend_from_slice(text.as_bytes());
            let value: Value = dec(&ty, &raw).unwrap();
            assert_eq!(value.as_f64(), Some(expected), "{text} as {ty}");
            let again: Value = dec(&ty, &encode(&value, &ty).unwrap()).unwrap();
            assert_eq!(again, value, "{text} as {ty}, written back");
        }
    }
}

#[test]
fn json_of_any_serde_type() {
    let map: BTreeMap<String, Vec<i32>> = [("k".to_owned(), vec![1, 2])].into();
    let raw = encode(&Json(&map), &Type::JSONB).unwrap();
    assert_eq!(raw, b"\x01{\"k\":[1,2]}");
    let Json(back): Json<BTreeMap<String, Vec<i32>>> = dec(&Type::JSONB, &raw).unwrap();
    assert_eq!(back, map);
    // Borrowing deserialization from the row's bytes.
    let Json(s): Json<&str> = dec(&Type::JSON, br#""plain""#).unwrap();
    assert_eq!(s, "plain");
    let e = err_text(dec::<Json<Vec<i32>>>(&Type::JSON, br#"{"k":1}"#));
    assert!(
        e.starts_with("invalid json value: cannot deserialize"),
        "{e}"
    );
    let e = err_text(dec::<Value>(&Type::JSONB, b"\x02{}"));
    assert_eq!(e, "invalid jsonb value: unsupported jsonb version number 2");
    fails_with(
        dec::<Value>(&Type::JSONB, b""),
        "invalid jsonb value: empty value: no version byte",
    );
    fails_with(
        encode(&json!(1), &Type::TEXT),
        "cannot convert between Rust type `serde_json::value::Value` and SQL type `text`",
    );
    fails_with(
        dec::<Value>(&Type::TEXT, b"1"),
        "cannot convert between Rust type `serde_json::value::Value` and SQL type `text`",
    );
}

#[test]
fn uuid_vectors() {
    let cases = [
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ];
    for text in cases {
        let u: Uuid = text.parse().unwrap();
        let bytes: String = text.chars().filter(|&c| c != '-').collect();
        vector(&Type::UUID, &format!("uuid_send('{text}')"), &bytes, u);
        assert_eq!(u.to_string(), text);
    }
}

#[test]
fn uuid_parsing() {
    let u: Uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap();
    for form in [
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
    ] {
        assert_eq!(form.parse::<Uuid>().unwrap(), u, "{form}");
    }
    for bad in [
        "",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11",
        "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "+0eebc999c0b4ef8bb6d6bb9bd380a11",
        "{a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd38éa1",
    ] {
        let e = bad.parse::<Uuid>().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "invalid UUID {bad:?}: expected 32 hex digits, optionally hyphenated as \
                 8-4-4-4-12 and in braces"
            )
        );
    }
    assert_eq!(
        format!("{u:?}"),
        "Uuid(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11)"
    );
    let e = err_text(dec::<Uuid>(&Type::UUID, &[0; 15]));
    assert_eq!(e, "invalid uuid value: expected 16 bytes, got 15");
    fails_with(
        encode(&u, &Type::TEXT),
        "cannot convert between Rust type `tusk::types::uuid::Uuid` and SQL type `text`",
    );
}

#[cfg(feature = "uuid")]
#[test]
fn uuid_crate() {
    let u = ::uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    vector(
        &Type::UUID,
        "uuid_send('a0eebc99-...')",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        u,
    );
    let ours = Uuid::from(u);
    assert_eq!(ours.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_eq!(::uuid::Uuid::from(ours), u);
    encodes_exactly(&u, "uuid::Uuid", &[Type::UUID]);
    decodes_exactly::<::uuid::Uuid>("uuid::Uuid", &[Type::UUID]);
}

#[test]
fn json_types_accept_exactly_json_and_jsonb() {
    for t in [Type::JSON, Type::JSONB] {
        assert!(<Json<i32> as ToSql>::accepts(&t), "{t}");
        assert!(<Json<i32> as FromSql>::accepts(&t), "{t}");
        assert!(<Value as ToSql>::accepts(&t), "{t}");
        assert!(<Value as FromSql>::accepts(&t), "{t}");
    }
    // Not text, not arrays of json, not a text-format type (which strings would take).
    for t in [
        Type::TEXT,
        Type::BYTEA,
        Type::JSON_ARRAY,
        Type::JSONB_ARRAY,
        Type::JSONPATH,
        Type::from_oid(16_390),
    ] {
        assert!(!<Json<i32> as ToSql>::accepts(&t), "{t}");
        assert!(!<Json<i32> as FromSql>::accepts(&t), "{t}");
        assert!(!<Value as ToSql>::accepts(&t), "{t}");
        assert!(!<Value as FromSql>::accepts(&t), "{t}");
    }
    fails_with(
        encode(&Json(1), &Type::TEXT),
        "cannot convert between Rust type `tusk::types::json::Json<i32>` and SQL type `text`",
    );
    fails_with(
        dec::<Json<i32>>(&Type::TEXT, b"1"),
        "cannot convert between Rust type `tusk::types::json::Json<i32>` and SQL type `text`",
    );
    fails_with(
        dec::<Json<i32>>(&Type::BYTEA, b"1"),
        "cannot convert between Rust type `tusk::types::json::Json<i32>` and SQL type `bytea`",
    );
}

#[test]
fn uuid_accepts_exactly_uuid() {
    let u: Uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap();
    encodes_exactly(&u, "tusk::types::uuid::Uuid", &[Type::UUID]);
    decodes_exactly::<Uuid>("tusk::types::uuid::Uuid", &[Type::UUID]);
    let e = "x".parse::<Uuid>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid UUID \"x\": expected 32 hex digits, optionally hyphenated as 8-4-4-4-12 and in \
         braces"
    );
}
