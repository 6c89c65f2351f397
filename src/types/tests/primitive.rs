//! bool, "char", integers, OIDs and floats.

use super::*;

#[test]
fn bool_vectors() {
    vector(&Type::BOOL, "boolsend(true)", "01", true);
    vector(&Type::BOOL, "boolsend(false)", "00", false);
    // Like boolrecv, any nonzero byte is true.
    assert!(dec::<bool>(&Type::BOOL, &[2]).unwrap());
    assert!(err_text(dec::<bool>(&Type::BOOL, &[])).contains("expected 1 bytes, got 0"));
    assert!(err_text(dec::<bool>(&Type::BOOL, &[0, 1])).contains("expected 1 bytes, got 2"));
}

#[test]
fn char_vectors() {
    vector(&Type::CHAR, "charsend('a'::\"char\")", "61", b'a' as i8);
    vector(&Type::CHAR, "charsend(''::\"char\")", "00", 0i8);
    vector(
        &Type::CHAR,
        "charsend('\\310'::\"char\")",
        "c8",
        0xc8u8 as i8,
    );
    fails_with(
        dec::<i8>(&Type::CHAR, &[]),
        "invalid \"char\" value: expected 1 bytes, got 0",
    );
    fails_with(
        encode(&1i8, &Type::INT2),
        "cannot convert between Rust type `i8` and SQL type `int2`",
    );
}

#[test]
fn integer_vectors() {
    vector(&Type::INT2, "int2send(0::int2)", "0000", 0i16);
    vector(&Type::INT2, "int2send(-1::int2)", "ffff", -1i16);
    vector(&Type::INT2, "int2send(32767::int2)", "7fff", i16::MAX);
    vector(&Type::INT2, "int2send((-32768)::int2)", "8000", i16::MIN);
    vector(&Type::INT4, "int4send(0)", "00000000", 0i32);
    vector(&Type::INT4, "int4send(-1)", "ffffffff", -1i32);
    vector(&Type::INT4, "int4send(2147483647)", "7fffffff", i32::MAX);
    vector(
        &Type::INT4,
        "int4send((-2147483648)::int4)",
        "80000000",
        i32::MIN,
    );
    vector(&Type::INT8, "int8send(0::int8)", "0000000000000000", 0i64);
    vector(&Type::INT8, "int8send(-1::int8)", "ffffffffffffffff", -1i64);
    vector(
        &Type::INT8,
        "int8send(9223372036854775807::int8)",
        "7fffffffffffffff",
        i64::MAX,
    );
    vector(
        &Type::INT8,
        "int8send((-9223372036854775808)::int8)",
        "8000000000000000",
        i64::MIN,
    );
}

#[test]
fn integers_widen_never_narrow() {
    // Encoding widens: the bytes are the wider type's.
    assert_eq!(encode(&-1i16, &Type::INT4).unwrap(), hex("ffffffff"));
    assert_eq!(
        encode(&-1i16, &Type::INT8).unwrap(),
        hex("ffffffffffffffff")
    );
    assert_eq!(
        encode(&i32::MIN, &Type::INT8).unwrap(),
        hex("ffffffff80000000")
    );
    // Integers into numeric, as numeric_send would produce for them.
    assert_eq!(
        encode(&-1i32, &Type::NUMERIC).unwrap(),
        hex("00010000400000000001")
    );
    assert_eq!(
        encode(&i64::MAX, &Type::NUMERIC).unwrap(),
        hex("0005000400000000039a0d2c0170156516af")
    );
    // Never narrowed.
    fails_with(
        encode(&1i64, &Type::INT4),
        "cannot convert between Rust type `i64` and SQL type `int4`",
    );
    fails_with(
        encode(&1i64, &Type::INT2),
        "cannot convert between Rust type `i64` and SQL type `int2`",
    );
    fails_with(
        encode(&1i32, &Type::INT2),
        "cannot convert between Rust type `i32` and SQL type `int2`",
    );
    fails_with(
        encode(&1i32, &Type::FLOAT8),
        "cannot convert between Rust type `i32` and SQL type `float8`",
    );
    // Decoding widens.
    assert_eq!(dec::<i64>(&Type::INT2, &hex("ffff")).unwrap(), -1);
    assert_eq!(
        dec::<i64>(&Type::INT4, &hex("80000000")).unwrap(),
        -2_147_483_648
    );
    assert_eq!(dec::<i32>(&Type::INT2, &hex("7fff")).unwrap(), 32767);
    fails_with(
        dec::<i32>(&Type::INT8, &hex("0000000000000001")),
        "cannot convert between Rust type `i32` and SQL type `int8`",
    );
    fails_with(
        dec::<i16>(&Type::INT4, &hex("00000001")),
        "cannot convert between Rust type `i16` and SQL type `int4`",
    );
    // Lengths are checked against the column's type, not the Rust type's.
    let e = err_text(dec::<i64>(&Type::INT4, &hex("0000000000000001")));
    assert_eq!(e, "invalid int4 value: expected 4 bytes, got 8");
    let e = err_text(dec::<i64>(&Type::INT8, &hex("000001")));
    assert_eq!(e, "invalid int8 value: expected 8 bytes, got 3");
    // Called without the accepts check, a mismatch is still an error, not a panic.
    fails_with(
        i16::from_sql(&Type::INT8, &hex("7fffffffffffffff")),
        "invalid integer value: int8 value 9223372036854775807 does not fit in i16",
    );
    fails_with(
        i32::from_sql(&Type::TEXT, b"1234"),
        "invalid integer value: text is not an integer type",
    );
    let mut out = BytesMut::new();
    fails_with(
        i64::MAX.to_sql(&Type::INT2, &mut out),
        "invalid integer value: 9223372036854775807 does not fit in int2",
    );
}

#[test]
fn oid_vectors() {
    vector(&Type::OID, "oidsend(0::oid)", "00000000", 0u32);
    vector(&Type::OID, "oidsend(4294967295::oid)", "ffffffff", u32::MAX);
    vector(
        &Type::REGCLASS,
        "oidsend('pg_class'::regclass::oid)",
        "000004eb",
        1259u32,
    );
    vector(
        &Type::XID,
        "xidsend('4294967295'::xid)",
        "ffffffff",
        u32::MAX,
    );
    vector(
        &Type::XID8,
        "xid8send('18446744073709551615'::xid8)",
        "ffffffffffffffff",
        u64::MAX,
    );
    for t in [Type::REGTYPE, Type::REGPROC, Type::REGROLE, Type::CID] {
        assert_eq!(encode(&7u32, &t).unwrap(), hex("00000007"));
    }
    fails_with(
        encode(&7u32, &Type::INT4),
        "cannot convert between Rust type `u32` and SQL type `int4`",
    );
    fails_with(
        encode(&7u32, &Type::INT8),
        "cannot convert between Rust type `u32` and SQL type `int8`",
    );
    fails_with(
        dec::<u32>(&Type::OID, &hex("0000")),
        "invalid oid value: expected 4 bytes, got 2",
    );
}

/// Floats compare by bits so NaN and -0 are checked exactly.
#[track_caller]
fn float4(sql: &str, bytes: &str, v: f32) {
    let raw = hex(bytes);
    assert_eq!(
        dec::<f32>(&Type::FLOAT4, &raw).unwrap().to_bits(),
        v.to_bits(),
        "{sql}"
    );
    assert_eq!(encode(&v, &Type::FLOAT4).unwrap(), raw, "{sql}");
}

#[track_caller]
fn float8(sql: &str, bytes: &str, v: f64) {
    let raw = hex(bytes);
    assert_eq!(
        dec::<f64>(&Type::FLOAT8, &raw).unwrap().to_bits(),
        v.to_bits(),
        "{sql}"
    );
    assert_eq!(encode(&v, &Type::FLOAT8).unwrap(), raw, "{sql}");
}

#[test]
fn float_vectors() {
    float4("float4send(0::float4)", "00000000", 0.0);
    float4("float4send('-0'::float4)", "80000000", -0.0);
    float4("float4send(1.5::float4)", "3fc00000", 1.5);
    float4("float4send('NaN'::float4)", "7fc00000", f32::NAN);
    float4("float4send('Infinity'::float4)", "7f800000", f32::INFINITY);
    float4(
        "float4send('-Infinity'::float4)",
        "ff800000",
        f32::NEG_INFINITY,
    );
    float4("float4send('3.4028235e38'::float4)", "7f7fffff", f32::MAX);
    float4(
        "float4send('1.4e-45'::float4)",
        "00000001",
        f32::from_bits(1),
    );
    float8("float8send(0::float8)", "0000000000000000", 0.0);
    float8("float8send('-0'::float8)", "8000000000000000", -0.0);
    float8("float8send(0.1::float8)", "3fb999999999999a", 0.1);
    float8("float8send('NaN'::float8)", "7ff8000000000000", f64::NAN);
    float8(
        "float8send('Infinity'::float8)",
        "7ff0000000000000",
        f64::INFINITY,
    );
    float8(
        "float8send('-Infinity'::float8)",
        "fff0000000000000",
        f64::NEG_INFINITY,
    );
    float8(
        "float8send('1.7976931348623157e308'::float8)",
        "7fefffffffffffff",
        f64::MAX,
    );
    float8(
        "float8send('5e-324'::float8)",
        "0000000000000001",
        f64::from_bits(1),
    );
}

#[test]
fn floats_widen_never_narrow() {
    // 1.5f32 as float8 is exactly 1.5.
    assert_eq!(
        encode(&1.5f32, &Type::FLOAT8).unwrap(),
        hex("3ff8000000000000")
    );
    assert_eq!(dec::<f64>(&Type::FLOAT4, &hex("3fc00000")).unwrap(), 1.5);
    fails_with(
        encode(&1.5f64, &Type::FLOAT4),
        "cannot convert between Rust type `f64` and SQL type `float4`",
    );
    fails_with(
        dec::<f32>(&Type::FLOAT8, &hex("3ff8000000000000")),
        "cannot convert between Rust type `f32` and SQL type `float8`",
    );
    fails_with(
        dec::<f64>(&Type::FLOAT8, &hex("3ff80000")),
        "invalid float8 value: expected 8 bytes, got 4",
    );
}

#[test]
fn scalars_accept_exactly_their_sql_types() {
    // The type matrix of the module documentation, with its widening rules.
    let oid_like = [
        Type::OID,
        Type::REGPROC,
        Type::REGPROCEDURE,
        Type::REGOPER,
        Type::REGOPERATOR,
        Type::REGCLASS,
        Type::REGTYPE,
        Type::REGCONFIG,
        Type::REGDICTIONARY,
        Type::REGNAMESPACE,
        Type::REGROLE,
        Type::REGCOLLATION,
        Type::XID,
        Type::CID,
    ];
    encodes_exactly(&true, "bool", &[Type::BOOL]);
    decodes_exactly::<bool>("bool", &[Type::BOOL]);
    encodes_exactly(&1i8, "i8", &[Type::CHAR]);
    decodes_exactly::<i8>("i8", &[Type::CHAR]);
    encodes_exactly(
        &1i16,
        "i16",
        &[Type::INT2, Type::INT4, Type::INT8, Type::NUMERIC],
    );
    decodes_exactly::<i16>("i16", &[Type::INT2]);
    encodes_exactly(&1i32, "i32", &[Type::INT4, Type::INT8, Type::NUMERIC]);
    decodes_exactly::<i32>("i32", &[Type::INT2, Type::INT4]);
    encodes_exactly(&1i64, "i64", &[Type::INT8, Type::NUMERIC]);
    decodes_exactly::<i64>("i64", &[Type::INT2, Type::INT4, Type::INT8]);
    encodes_exactly(&1u32, "u32", &oid_like);
    decodes_exactly::<u32>("u32", &oid_like);
    encodes_exactly(&1u64, "u64", &[Type::XID8]);
    decodes_exactly::<u64>("u64", &[Type::XID8]);
    encodes_exactly(&1f32, "f32", &[Type::FLOAT4, Type::FLOAT8]);
    decodes_exactly::<f32>("f32", &[Type::FLOAT4]);
    encodes_exactly(&1f64, "f64", &[Type::FLOAT8]);
    decodes_exactly::<f64>("f64", &[Type::FLOAT4, Type::FLOAT8]);
}

#[test]
fn oid_like_length_errors_name_their_type() {
    fails_with(
        dec::<u32>(&Type::XID, &hex("000000")),
        "invalid xid value: expected 4 bytes, got 3",
    );
    fails_with(
        dec::<u32>(&Type::OID, &hex("000000")),
        "invalid oid value: expected 4 bytes, got 3",
    );
    fails_with(
        dec::<u32>(&Type::REGCLASS, &hex("0000000000")),
        "invalid oid value: expected 4 bytes, got 5",
    );
    fails_with(
        dec::<u64>(&Type::XID8, &hex("00000000")),
        "invalid xid8 value: expected 8 bytes, got 4",
    );
}
