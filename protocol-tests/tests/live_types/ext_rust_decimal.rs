//! `numeric` as `rust_decimal::Decimal` (tusk's feature `rust_decimal`): every value it holds
//! exactly, its scale included, the limits of its 96-bit mantissa and 28 decimal places, and
//! the values it cannot hold refused.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::{check_decode, check_encode, check_with_arrays, connect, decode_fails, Ty};

fn rd(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[tokio::test]
async fn rust_decimal_as_numeric() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("numeric");
    let texts = [
        "0",
        "0.000",
        "1",
        "-1",
        "1.50",
        "-123.4500",
        "0.0001",
        "9999",
        "10000",
        "9223372036854775807",
        "-9223372036854775808",
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "7.9228162514264337593543950335",
        "0.0000000000000000000000000001",
        "-0.0000000000000000000000000001",
    ];
    let cases: Vec<(String, Decimal)> = texts.iter().map(|t| (format!("'{t}'"), rd(t))).collect();
    check_with_arrays(conn, &ty, &cases).await;

    // numeric has no negative zero; the scale is kept.
    check_encode(conn, &ty, &[("'0.00'", rd("-0.00"))]).await;
    // Another spelling of the same values.
    check_decode(conn, &ty, &[("'1.5e3'", rd("1500")), ("'-0.0'", rd("0.0"))]).await;
    // A scale above 28 reads at 28 when the further digits are zeros.
    let wide = Ty::new("numeric(40, 30)");
    let cases = [
        ("'1.5'", rd("1.5000000000000000000000000000")),
        (
            "'-0.0000000000000000000000000001'",
            rd("-0.0000000000000000000000000001"),
        ),
        ("'0'", rd("0.0000000000000000000000000000")),
    ];
    check_decode(conn, &wide, &cases).await;
    decode_fails::<Decimal>(conn, &wide, "'1e-29'", "nonzero digits beyond").await;

    for (literal, why) in [
        (
            "'NaN'",
            "NaN cannot be represented by rust_decimal::Decimal",
        ),
        (
            "'Infinity'",
            "Infinity cannot be represented by rust_decimal::Decimal",
        ),
        ("'-Infinity'", "-Infinity cannot be represented"),
        (
            "'79228162514264337593543950336'",
            "79228162514264337593543950336 is outside rust_decimal::Decimal's range",
        ),
        ("'-1e40'", "is outside rust_decimal::Decimal's range"),
        (
            "'1e-29'",
            "nonzero digits beyond rust_decimal::Decimal's 28 decimal places",
        ),
        ("'1e131071'", "is outside rust_decimal::Decimal's range"),
    ] {
        decode_fails::<Decimal>(conn, &ty, literal, why).await;
    }

    // Widening: integers read exactly.
    for (sql, min, max) in [
        ("int2", i64::from(i16::MIN), i64::from(i16::MAX)),
        ("int4", i64::from(i32::MIN), i64::from(i32::MAX)),
        ("int8", i64::MIN, i64::MAX),
    ] {
        let cases = [
            (min.to_string(), Decimal::from(min)),
            ("0".to_owned(), Decimal::ZERO),
            (max.to_string(), Decimal::from(max)),
        ];
        let cases: Vec<(&str, Decimal)> = cases.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        check_decode(conn, &Ty::new(sql), &cases).await;
    }
}
