//! The type table, `Type`'s methods, the traits' plumbing and the error messages.

use std::collections::HashSet;

use super::super::oids::BY_OID;
use super::*;
use crate::types::{Format, InvalidValue, WasNull, WrongType};

#[test]
fn table_is_sorted_and_complete() {
    assert!(BY_OID.windows(2).all(|w| w[0].oid < w[1].oid));
    // PostgreSQL 15 has 198 fixed-OID types; the table must not silently shrink.
    assert!(BY_OID.len() > 190, "{} types", BY_OID.len());
    for info in BY_OID.iter() {
        let t = Type::from_oid(info.oid);
        assert!(t.is_known());
        assert_eq!(t.name(), info.name);
    }
}

#[test]
fn well_known_oids() {
    let cases = [
        (Type::BOOL, 16, "bool"),
        (Type::BYTEA, 17, "bytea"),
        (Type::CHAR, 18, "char"),
        (Type::INT8, 20, "int8"),
        (Type::INT2, 21, "int2"),
        (Type::INT4, 23, "int4"),
        (Type::TEXT, 25, "text"),
        (Type::OID, 26, "oid"),
        (Type::JSON, 114, "json"),
        (Type::FLOAT4, 700, "float4"),
        (Type::FLOAT8, 701, "float8"),
        (Type::UNKNOWN, 705, "unknown"),
        (Type::INT4_ARRAY, 1007, "_int4"),
        (Type::TEXT_ARRAY, 1009, "_text"),
        (Type::BPCHAR, 1042, "bpchar"),
        (Type::VARCHAR, 1043, "varchar"),
        (Type::DATE, 1082, "date"),
        (Type::TIME, 1083, "time"),
        (Type::TIMESTAMP, 1114, "timestamp"),
        (Type::TIMESTAMPTZ, 1184, "timestamptz"),
        (Type::INTERVAL, 1186, "interval"),
        (Type::TIMETZ, 1266, "timetz"),
        (Type::NUMERIC, 1700, "numeric"),
        (Type::UUID, 2950, "uuid"),
        (Type::JSONB, 3802, "jsonb"),
        (Type::JSONB_ARRAY, 3807, "_jsonb"),
    ];
    for (t, oid, name) in cases {
        assert_eq!(t.oid(), oid);
        assert_eq!(t.name(), name);
        assert_eq!(Type::from_oid(oid), t);
        assert_eq!(t.to_string(), name);
    }
}

#[test]
fn arrays_and_elements() {
    assert_eq!(Type::INT4_ARRAY.array_element(), Some(Type::INT4));
    assert_eq!(Type::INT4.array_type(), Some(Type::INT4_ARRAY));
    assert_eq!(Type::INT4.array_element(), None);
    // `name` has typelem "char" but is not an array.
    assert_eq!(Type::NAME.array_element(), None);
    assert_eq!(Type::INT2VECTOR.array_element(), Some(Type::INT2));
    assert_eq!(Type::from_oid(99_999).array_element(), None);
    for info in BY_OID.iter() {
        let t = Type::from_oid(info.oid);
        if let Some(array) = t.array_type() {
            assert_eq!(array.array_element(), Some(t.clone()), "{t}");
        }
    }
}

#[test]
fn other_types() {
    let unknown = Type::from_oid(16_500);
    assert!(!unknown.is_known());
    assert_eq!(unknown.oid(), 16_500);
    assert_eq!(unknown.name(), "");
    assert_eq!(unknown.to_string(), "oid 16500");
    assert!(!unknown.binary_supported());

    let citext = Type::other(16_400, "citext");
    assert_eq!(citext.name(), "citext");
    assert_eq!(citext.oid(), 16_400);
    assert_eq!(citext, Type::from_oid(16_400)); // Equality is by OID.
    assert_eq!(format!("{citext:?}"), "Type(citext, oid 16400)");
    assert_eq!(Type::other(23, "myint"), Type::INT4);
    assert_eq!(Type::other(23, "myint").name(), "int4");

    let set: HashSet<Type> = [Type::INT4, Type::from_oid(23), citext.clone()].into();
    assert_eq!(set.len(), 2);
}

#[test]
fn binary_support() {
    for t in [
        Type::BOOL,
        Type::INT8,
        Type::NUMERIC,
        Type::TEXT,
        Type::JSONB,
        Type::UUID,
        Type::TIMESTAMPTZ,
        Type::INT4_ARRAY,
        Type::NUMERIC_ARRAY,
        Type::REGCLASS,
        Type::INET,
        Type::POINT,
        Type::MONEY,
        Type::INET_ARRAY,
        Type::INT4RANGE,
        Type::TSTZMULTIRANGE,
        Type::VARBIT_ARRAY,
        Type::other(16_500, "hstore"),
    ] {
        assert!(t.binary_supported(), "{t}");
    }
    for t in [
        Type::XML,
        Type::XML_ARRAY,
        Type::TSVECTOR_ARRAY,
        Type::PG_LSN,
        Type::ANYRANGE,
        Type::from_oid(16_500),
        Type::other(16_501, "citext"),
        Type::RECORD,
        Type::TSVECTOR,
        Type::from_oid(20_000),
    ] {
        assert!(!t.binary_supported(), "{t}");
    }
}

#[test]
fn formats() {
    assert_eq!(Format::Text.code(), 0);
    assert_eq!(Format::Binary.code(), 1);
    assert_eq!(1i32.encode_format(&Type::INT4), Format::Binary);
    assert_eq!("happy".encode_format(&Type::from_oid(17_000)), Format::Text);
    assert_eq!(None::<&str>.encode_format(&Type::XML), Format::Text);
    assert_eq!(None::<i32>.encode_format(&Type::INT4), Format::Binary);
}

#[test]
fn wrong_type_message() {
    let e = err_text(encode(&1i64, &Type::INT4));
    assert_eq!(
        e,
        "cannot convert between Rust type `i64` and SQL type `int4`"
    );
    let e = err_text(dec::<i32>(&Type::TEXT, b"1"));
    assert_eq!(
        e,
        "cannot convert between Rust type `i32` and SQL type `text`"
    );
    let w = WrongType::new("u8", Type::BOOL);
    assert_eq!(w.sql_type, Type::BOOL);
}

#[test]
fn nulls() {
    assert_eq!(WasNull.to_string(), "unexpected NULL value");
    let e = decode::<i32>(&Type::INT4, None).unwrap_err();
    assert!(e.downcast_ref::<WasNull>().is_some());
    assert_eq!(decode::<Option<i32>>(&Type::INT4, None).unwrap(), None);
    assert_eq!(
        decode::<Option<i32>>(&Type::INT4, Some(&[0, 0, 0, 7])).unwrap(),
        Some(7)
    );
    let mut out = BytesMut::new();
    assert_eq!(
        None::<i32>.to_sql_checked(&Type::INT4, &mut out).unwrap(),
        IsNull::Yes
    );
    assert!(out.is_empty());
    // Option's accepts is its inner type's.
    fails_with(
        encode(&None::<i32>, &Type::TEXT),
        "cannot convert between Rust type `core::option::Option<i32>` and SQL type `text`",
    );
}

#[test]
fn dyn_and_wrappers() {
    let params: [&(dyn ToSql + Sync); 4] = [&1i32, &"x", &Some(2i64), &Box::new(3i16)];
    let types = [Type::INT8, Type::TEXT, Type::INT8, Type::INT4];
    let mut out = BytesMut::new();
    for (p, t) in params.iter().zip(&types) {
        p.to_sql_checked(t, &mut out).unwrap();
    }
    assert_eq!(
        out.to_vec(),
        hex("0000000000000001 78 0000000000000002 00000003")
    );
    assert_eq!((&&5i32).type_name(), "i32");
    let boxed: Box<i64> = dec(&Type::INT8, &hex("0000000000000009")).unwrap();
    assert_eq!(*boxed, 9);
}

#[test]
fn types_hash_by_oid() {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let h = |t: &Type| state.hash_one(t);
    // Equal types (equality is by OID) hash alike, whatever their variant.
    assert_eq!(h(&Type::INT4), h(&Type::from_oid(23)));
    assert_eq!(
        h(&Type::other(16_400, "citext")),
        h(&Type::from_oid(16_400))
    );
    // Different types hash apart (a constant hash would make every lookup a scan).
    let distinct = [
        Type::BOOL,
        Type::INT4,
        Type::TEXT,
        Type::INT4_ARRAY,
        Type::from_oid(16_400),
        Type::from_oid(16_401),
    ];
    let hashes: HashSet<u64> = distinct.iter().map(h).collect();
    assert_eq!(hashes.len(), distinct.len());
}

#[test]
fn invalid_value_parts() {
    let e = dec::<Vec<i32>>(&Type::INT4_ARRAY, &hex("00000001 00000002 00000017")).unwrap_err();
    let iv = e.downcast_ref::<InvalidValue>().expect("an InvalidValue");
    assert_eq!(iv.what(), "array");
    assert_eq!(iv.reason(), "invalid flags 2");
    assert_eq!(iv.to_string(), "invalid array value: invalid flags 2");
    let e = dec::<i32>(&Type::INT4, &[0, 1]).unwrap_err();
    let iv = e.downcast_ref::<InvalidValue>().expect("an InvalidValue");
    assert_eq!(
        (iv.what(), iv.reason()),
        ("int4", "expected 4 bytes, got 2")
    );
}

#[test]
fn wrappers_accept_what_they_wrap() {
    // Option<T>, &T and Box<T> take exactly T's SQL types; the errors name the wrapper for
    // Option (a NULL has no inner value to name) and the inner type for &T and Box<T>.
    let int4_or_wider = [Type::INT4, Type::INT8, Type::NUMERIC];
    encodes_exactly(&Some(1i32), "core::option::Option<i32>", &int4_or_wider);
    encodes_exactly(&None::<i32>, "core::option::Option<i32>", &int4_or_wider);
    encodes_exactly(&&1i32, "i32", &int4_or_wider);
    encodes_exactly(&Box::new(1i32), "i32", &int4_or_wider);
    encodes_exactly(
        &Box::new(Some(1i32)),
        "core::option::Option<i32>",
        &int4_or_wider,
    );
    let int4_or_narrower = [Type::INT2, Type::INT4];
    decodes_exactly::<Option<i32>>("core::option::Option<i32>", &int4_or_narrower);
    decodes_exactly::<Box<i32>>("alloc::boxed::Box<i32>", &int4_or_narrower);
    // A NULL through the checked decoding: refused before it could become None.
    fails_with(
        decode::<Option<i32>>(&Type::TEXT, None),
        "cannot convert between Rust type `core::option::Option<i32>` and SQL type `text`",
    );
    assert_eq!(
        err_text(decode::<Box<i32>>(&Type::INT4, None)),
        "unexpected NULL value"
    );
}
