//! Strings, text-format types and bytea.

use std::borrow::Cow;

use super::*;

#[test]
fn text_vectors() {
    vector(&Type::TEXT, "textsend('')", "", String::new());
    vector(
        &Type::TEXT,
        "textsend('hello')",
        "68656c6c6f",
        "hello".to_owned(),
    );
    vector(
        &Type::TEXT,
        "textsend('hé☃')",
        "68c3a9e29883",
        "hé☃".to_owned(),
    );
    vector(
        &Type::VARCHAR,
        "varcharsend('ab'::varchar)",
        "6162",
        "ab".to_owned(),
    );
    vector(
        &Type::BPCHAR,
        "bpcharsend('ab'::char(4))",
        "61622020",
        "ab  ".to_owned(),
    );
    vector(
        &Type::NAME,
        "namesend('pg_class'::name)",
        "70675f636c617373",
        "pg_class".to_owned(),
    );
    vector(&Type::UNKNOWN, "(unknown)", "6162", "ab".to_owned());
}

#[test]
fn every_string_type() {
    let raw = hex("68c3a9");
    let s: &str = dec(&Type::TEXT, &raw).unwrap();
    assert_eq!(s, "hé");
    // Borrowed: no copy.
    assert_eq!(s.as_ptr(), raw.as_ptr());
    let c: Cow<str> = dec(&Type::TEXT, &raw).unwrap();
    assert!(matches!(c, Cow::Borrowed("hé")));
    let b: Box<str> = dec(&Type::VARCHAR, &raw).unwrap();
    assert_eq!(&*b, "hé");
    for v in [
        encode(&"hé", &Type::TEXT).unwrap(),
        encode(&"hé".to_owned(), &Type::TEXT).unwrap(),
        encode(&Box::<str>::from("hé"), &Type::TEXT).unwrap(),
        encode(&Cow::Borrowed("hé"), &Type::TEXT).unwrap(),
    ] {
        assert_eq!(v, raw);
    }
    let e = err_text(dec::<String>(&Type::TEXT, &hex("c328")));
    assert!(
        e.starts_with("invalid text value: text value is not valid UTF-8"),
        "{e}"
    );
}

#[test]
fn strings_take_text_format_types() {
    // An enum, an extension type, an unknown OID: text format, so strings convert.
    let my_enum = Type::from_oid(16_390);
    assert!(!my_enum.binary_supported());
    assert_eq!(dec::<&str>(&my_enum, b"happy").unwrap(), "happy");
    assert_eq!(encode(&"sad", &my_enum).unwrap(), b"sad");
    assert_eq!("sad".encode_format(&my_enum), crate::types::Format::Text);
    // Built-in types without a binary codec: their text output.
    assert_eq!(
        dec::<String>(&Type::TSVECTOR, b"'a' 'b'").unwrap(),
        "'a' 'b'"
    );
    assert_eq!(
        dec::<String>(&Type::XML_ARRAY, b"{<a/>}").unwrap(),
        "{<a/>}"
    );
    assert_eq!(
        dec::<String>(&Type::PG_LSN, b"0/16B3748").unwrap(),
        "0/16B3748"
    );
    // citext by name, even if the driver were to request it in binary.
    let citext = Type::other(16_400, "citext");
    assert_eq!(dec::<&str>(&citext, b"Hi").unwrap(), "Hi");
    // Types with a binary codec are not strings.
    fails_with(
        dec::<String>(&Type::INT4, &hex("00000001")),
        "cannot convert between Rust type `alloc::string::String` and SQL type `int4`",
    );
    fails_with(
        encode(&"1", &Type::INT4),
        "cannot convert between Rust type `&str` and SQL type `int4`",
    );
    fails_with(
        encode(&"t", &Type::BOOL),
        "cannot convert between Rust type `&str` and SQL type `bool`",
    );
    fails_with(
        encode(&"x", &Type::BYTEA),
        "cannot convert between Rust type `&str` and SQL type `bytea`",
    );
}

#[test]
fn strings_as_json() {
    let json = r#"{"a": [1, 2.5, null, true]}"#;
    assert_eq!(encode(&json, &Type::JSON).unwrap(), json.as_bytes());
    let mut jsonb = vec![1u8];
    jsonb.extend_from_slice(json.as_bytes());
    assert_eq!(encode(&json, &Type::JSONB).unwrap(), jsonb);
    assert_eq!(dec::<&str>(&Type::JSONB, &jsonb).unwrap(), json);
    assert_eq!(dec::<&str>(&Type::JSON, json.as_bytes()).unwrap(), json);
    let e = err_text(dec::<&str>(&Type::JSONB, &hex("027b7d")));
    assert_eq!(e, "invalid jsonb value: unsupported jsonb version number 2");
    fails_with(
        dec::<&str>(&Type::JSONB, &[]),
        "invalid jsonb value: empty value: no version byte",
    );
}

#[test]
fn bytea_vectors() {
    vector(&Type::BYTEA, "byteasend(''::bytea)", "", Vec::<u8>::new());
    vector(
        &Type::BYTEA,
        "byteasend('\\x00ff10'::bytea)",
        "00ff10",
        vec![0u8, 0xff, 0x10],
    );
    let raw = hex("00ff10");
    let s: &[u8] = dec(&Type::BYTEA, &raw).unwrap();
    assert_eq!(s.as_ptr(), raw.as_ptr());
    let b: Box<[u8]> = dec(&Type::BYTEA, &raw).unwrap();
    assert_eq!(&*b, &raw[..]);
    assert_eq!(encode(&&raw[..], &Type::BYTEA).unwrap(), raw);
    assert_eq!(encode(&Cow::Borrowed(&raw[..]), &Type::BYTEA).unwrap(), raw);
    fails_with(
        encode(&raw, &Type::TEXT),
        "cannot convert between Rust type `alloc::vec::Vec<u8>` and SQL type `text`",
    );
    fails_with(
        dec::<Vec<u8>>(&Type::TEXT, b"x"),
        "cannot convert between Rust type `alloc::vec::Vec<u8>` and SQL type `text`",
    );
}

#[test]
fn strings_and_bytes_accept_exactly_their_sql_types() {
    // The text types, json and jsonb, citext by name, and every text-format type...
    let accepted = [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
        Type::JSON,
        Type::JSONB,
        Type::other(16_400, "citext"),
        Type::from_oid(16_390),
        Type::TSVECTOR,
        Type::PG_LSN,
        Type::XML,
        Type::XML_ARRAY,
    ];
    // ...but no type with a binary codec of its own, arrays of binary elements included.
    let refused = [
        Type::BOOL,
        Type::CHAR,
        Type::INT4,
        Type::OID,
        Type::FLOAT8,
        Type::NUMERIC,
        Type::BYTEA,
        Type::DATE,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::UUID,
        Type::INET,
        Type::MONEY,
        Type::POINT,
        Type::INT4RANGE,
        Type::TEXT_ARRAY,
        Type::JSONB_ARRAY,
        Type::INT4_ARRAY,
        Type::INET_ARRAY,
    ];
    encodes_only(&"x", "&str", &accepted, &refused);
    encodes_only(
        &"x".to_owned(),
        "alloc::string::String",
        &accepted,
        &refused,
    );
    encodes_only(
        &Box::<str>::from("x"),
        "alloc::boxed::Box<str>",
        &accepted,
        &refused,
    );
    encodes_only(
        &Cow::Borrowed("x"),
        "alloc::borrow::Cow<'_, str>",
        &accepted,
        &refused,
    );
    decodes_only::<&str>("&str", &accepted, &refused);
    decodes_only::<String>("alloc::string::String", &accepted, &refused);
    decodes_only::<Box<str>>("alloc::boxed::Box<str>", &accepted, &refused);
    decodes_only::<Cow<str>>("alloc::borrow::Cow<'_, str>", &accepted, &refused);

    // Byte strings are bytea and nothing else.
    let bytea = [Type::BYTEA];
    encodes_exactly(&&b"x"[..], "&[u8]", &bytea);
    encodes_exactly(&b"x".to_vec(), "alloc::vec::Vec<u8>", &bytea);
    encodes_exactly(
        &Box::<[u8]>::from(&b"x"[..]),
        "alloc::boxed::Box<[u8]>",
        &bytea,
    );
    encodes_exactly(
        &Cow::Borrowed(&b"x"[..]),
        "alloc::borrow::Cow<'_, [u8]>",
        &bytea,
    );
    decodes_exactly::<&[u8]>("&[u8]", &bytea);
    decodes_exactly::<Vec<u8>>("alloc::vec::Vec<u8>", &bytea);
    decodes_exactly::<Box<[u8]>>("alloc::boxed::Box<[u8]>", &bytea);
}
