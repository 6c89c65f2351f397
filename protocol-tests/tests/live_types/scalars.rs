//! `bool`, the integers, `oid`, `"char"` and the floats, with their arrays.

use super::{check, check_decode, check_with_arrays, connect, Ty};

#[tokio::test]
async fn bool_and_integers() {
    let mut conn = connect().await;
    let conn = &mut conn;
    check_with_arrays(conn, &Ty::new("bool"), &[("true", true), ("false", false)]).await;
    let int2 = [
        ("'0'", 0i16),
        ("'1'", 1),
        ("'-1'", -1),
        ("'-32768'", i16::MIN),
        ("'32767'", i16::MAX),
    ];
    check_with_arrays(conn, &Ty::new("int2"), &int2).await;
    let int4 = [
        ("'0'", 0i32),
        ("'1'", 1),
        ("'-1'", -1),
        ("'-2147483648'", i32::MIN),
        ("'2147483647'", i32::MAX),
    ];
    check_with_arrays(conn, &Ty::new("int4"), &int4).await;
    let int8 = [
        ("'0'", 0i64),
        ("'1'", 1),
        ("'-1'", -1),
        ("'-9223372036854775808'", i64::MIN),
        ("'9223372036854775807'", i64::MAX),
        ("'4294967296'", 1 << 32),
    ];
    check_with_arrays(conn, &Ty::new("int8"), &int8).await;
}

#[tokio::test]
async fn oid_and_char() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let oid = [
        ("'0'", 0u32),
        ("'1'", 1),
        ("'2147483648'", 1 << 31),
        ("'4294967295'", u32::MAX),
    ];
    check_with_arrays(conn, &Ty::new("oid"), &oid).await;
    // The server reads a negative oid literal modulo 2^32.
    check_decode(conn, &Ty::new("oid"), &[("'-1'", u32::MAX)]).await;
    // The OID aliases and the 64-bit transaction ID.
    check(
        conn,
        &Ty::new("regclass"),
        &[("'pg_class'", 1259u32), ("'-'", 0)],
    )
    .await;
    check(conn, &Ty::new("regtype"), &[("'int4'", 23u32)]).await;
    check(
        conn,
        &Ty::new("xid8"),
        &[("'0'", 0u64), ("'18446744073709551615'", u64::MAX)],
    )
    .await;
    // The catalogs' vectors: arrays indexed from 0 that the server takes only that way. An
    // empty one reads, but the server cannot receive it in binary (array_recv makes it
    // zero-dimensional, which int2vectorrecv refuses).
    let int2vector = [("'1 -2 32767'", vec![1i16, -2, i16::MAX])];
    check(conn, &Ty::new("int2vector"), &int2vector).await;
    let oidvector = [("'23 4294967295'", vec![23u32, u32::MAX])];
    check(conn, &Ty::new("oidvector"), &oidvector).await;
    check_decode(conn, &Ty::new("int2vector"), &[("''", Vec::<i16>::new())]).await;
    let err = conn
        .query("SELECT $1::oidvector", &[&Vec::<u32>::new()])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22P03"), "{err}");
    // `"char"` is one byte; the server spells bytes with the high bit set in octal.
    let char_ = [
        ("''", 0i8),
        ("'a'", 97),
        (r"'\177'", i8::MAX),
        (r"'\200'", i8::MIN),
        (r"'\377'", -1),
    ];
    check_with_arrays(conn, &Ty::new("\"char\""), &char_).await;
}

#[tokio::test]
async fn floats() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let float4 = [
        ("'0'", 0f32),
        ("'-0'", -0.0),
        ("'1.5'", 1.5),
        ("'-1.5'", -1.5),
        ("'0.1'", 0.1),
        ("'3.4028235e+38'", f32::MAX),
        ("'-3.4028235e+38'", f32::MIN),
        ("'1.1754944e-38'", f32::MIN_POSITIVE),
        ("'1e-45'", f32::from_bits(1)),
        ("'NaN'", f32::NAN),
        ("'Infinity'", f32::INFINITY),
        ("'-Infinity'", f32::NEG_INFINITY),
    ];
    check_with_arrays(conn, &Ty::new("float4"), &float4).await;
    let float8 = [
        ("'0'", 0f64),
        ("'-0'", -0.0),
        ("'1.5'", 1.5),
        ("'-1.5'", -1.5),
        ("'0.1'", 0.1),
        ("'3.141592653589793'", std::f64::consts::PI),
        ("'1.7976931348623157e+308'", f64::MAX),
        ("'-1.7976931348623157e+308'", f64::MIN),
        ("'2.2250738585072014e-308'", f64::MIN_POSITIVE),
        ("'5e-324'", f64::from_bits(1)),
        ("'NaN'", f64::NAN),
        ("'Infinity'", f64::INFINITY),
        ("'-Infinity'", f64::NEG_INFINITY),
    ];
    check_with_arrays(conn, &Ty::new("float8"), &float8).await;
}
