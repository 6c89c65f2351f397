//! `numeric` as `bigdecimal::BigDecimal` (tusk's feature `bigdecimal`): every finite value
//! exactly, with the display scale as its scale, up to the format's extremes; NaN and
//! ±Infinity refused, and values beyond the format refused before they are sent.

use std::str::FromStr;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;

use super::{
    check, check_decode, check_encode, check_with_arrays, connect, decode_fails, encode_fails, Ty,
};

fn bd(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[tokio::test]
async fn bigdecimal_as_numeric() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("numeric");
    // Each reads back with the display scale as its scale, as these parse.
    let texts = [
        "0",
        "0.000",
        "1",
        "-1",
        "1.50",
        "-123.4500",
        "0.0001",
        "1e-20",
        "-0.00000000000000000001",
        "99999999.99999999",
        "123456789012345678901234567890.123456789",
        "-170141183460469231731687303715884105728",
        "1e-16383",
        "-1e-16383",
    ];
    let cases: Vec<(String, BigDecimal)> =
        texts.iter().map(|t| (format!("'{t}'"), bd(t))).collect();
    check_with_arrays(conn, &ty, &cases).await;

    // The format's extremes: 131072 digits before the point and 16383 after.
    let max = format!("{}.{}", "9".repeat(131_072), "9".repeat(16_383));
    let extremes = [
        ("'1e131071'".to_owned(), bd("1e131071").with_scale(0)),
        ("'-1e131071'".to_owned(), bd("-1e131071").with_scale(0)),
        (format!("'{max}'"), bd(&max)),
        (format!("'-{max}'"), bd(&format!("-{max}"))),
    ];
    check(conn, &ty, &extremes).await;

    // A negative scale is sent as the integer; numeric has no negative zero.
    let encode_only = [
        ("'100000'", BigDecimal::new(BigInt::from(1), -5)),
        ("'-1500'", bd("-1.5e3")),
        ("'0.0'", bd("-0.0")),
    ];
    check_encode(conn, &ty, &encode_only).await;
    check_decode(conn, &ty, &[("'1.5e3'", bd("1500")), ("'-0.0'", bd("0.0"))]).await;

    for (literal, why) in [
        (
            "'NaN'",
            "NaN cannot be represented by bigdecimal::BigDecimal",
        ),
        (
            "'Infinity'",
            "Infinity cannot be represented by bigdecimal::BigDecimal",
        ),
        ("'-Infinity'", "-Infinity cannot be represented"),
    ] {
        decode_fails::<BigDecimal>(conn, &ty, literal, why).await;
    }
    for (value, why) in [
        (
            BigDecimal::new(BigInt::from(1), 16_384),
            "display scale 16384 exceeds the maximum of 16383",
        ),
        (
            BigDecimal::new(BigInt::from(-1), -131_072),
            "value overflows numeric format",
        ),
        (
            BigDecimal::new(BigInt::from(1), i64::MIN),
            "is out of range",
        ),
    ] {
        encode_fails(conn, "numeric", value, why).await;
    }

    // Widening: integers read exactly.
    let cases = [
        (i64::MIN.to_string(), BigDecimal::from(i64::MIN)),
        (i64::MAX.to_string(), BigDecimal::from(i64::MAX)),
    ];
    let cases: Vec<(&str, BigDecimal)> =
        cases.iter().map(|(l, v)| (l.as_str(), v.clone())).collect();
    check_decode(conn, &Ty::new("int8"), &cases).await;
    check_decode(
        conn,
        &Ty::new("int2"),
        &[("-32768", BigDecimal::from(-32_768))],
    )
    .await;
    check_decode(
        conn,
        &Ty::new("int4"),
        &[("2147483647", BigDecimal::from(i32::MAX))],
    )
    .await;
}
