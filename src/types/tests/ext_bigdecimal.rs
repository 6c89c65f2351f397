//! numeric as bigdecimal::BigDecimal (feature `bigdecimal`).

use std::str::FromStr;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;

use super::*;
use crate::types::Decimal;

fn bd(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (literal, numeric_send bytes, the scale read back).
const VECTORS: &[(&str, &str, i64)] = &[
    ("0", "0000000000000000", 0),
    ("0.000", "0000000000000003", 3),
    ("1", "00010000000000000001", 0),
    ("-1", "00010000400000000001", 0),
    ("-0.5", "0001ffff400000011388", 1),
    ("1.50", "000200000000000200011388", 2),
    ("-123.4500", "0002000040000004007b1194", 4),
    ("1e-20", "0001fffb000000140001", 20),
    ("1.5e30", "00010007000000000096", 0),
    (
        "123456789012345678901234567890.123450000",
        "000a000700000009000c0d801ed204d2162e23340d801ed204d21388",
        9,
    ),
    (
        "-9223372036854775808",
        "0005000440000000039a0d2c0170156516b0",
        0,
    ),
    (
        "79228162514264337593543950336",
        "00080007000000000007240c0659059210f1172f112b0150",
        0,
    ),
    // The format's extremes: the largest weight and the largest scale.
    ("1e131071", "00017fff0000000003e8", 0),
    ("-1e-16383", "0001f00040003fff000a", 16383),
];

#[test]
fn server_vectors() {
    for &(literal, bytes, scale) in VECTORS {
        let sql = format!("numeric_send('{literal}'::numeric)");
        let value = bd(literal);
        vector(&Type::NUMERIC, &sql, bytes, value.clone());
        // Equality ignores the scale; the display scale is kept as the BigDecimal's.
        let got: BigDecimal = dec(&Type::NUMERIC, &hex(bytes)).unwrap();
        assert_eq!(got.as_bigint_and_scale().1, scale, "{sql}");
        assert_eq!(got, value, "{sql}");
    }
    // A negative scale (1 × 10^5) is sent as the integer.
    let value = BigDecimal::new(BigInt::from(1), -5);
    assert_eq!(
        encode(&value, &Type::NUMERIC).unwrap(),
        encode(&Decimal::from(100_000), &Type::NUMERIC).unwrap()
    );
    // numeric has no negative zero (numeric_send('-0.0'::numeric)).
    assert_eq!(
        encode(&bd("-0.0"), &Type::NUMERIC).unwrap(),
        hex("0000000000000001")
    );
}

#[test]
fn the_largest_numeric_round_trips() {
    let text = format!("-{}.{}", "9".repeat(131_072), "9".repeat(16_383));
    let expected = encode(&text.parse::<Decimal>().unwrap(), &Type::NUMERIC).unwrap();
    let value = bd(&text);
    assert_eq!(encode(&value, &Type::NUMERIC).unwrap(), expected);
    let back: BigDecimal = dec(&Type::NUMERIC, &expected).unwrap();
    assert_eq!(back, value);
    assert_eq!(back.as_bigint_and_scale().1, 16_383);
}

#[test]
fn beyond_the_format_is_an_error() {
    for (value, why) in [
        (
            BigDecimal::new(BigInt::from(1), 16_384),
            "display scale 16384 exceeds the maximum of 16383",
        ),
        (
            BigDecimal::new(BigInt::from(-1), -131_072),
            "value overflows numeric format (weight 32768 outside the 16-bit range)",
        ),
        (
            BigDecimal::new(BigInt::from(1), i64::MIN),
            "scale -9223372036854775808 is out of range",
        ),
        (
            BigDecimal::new(BigInt::from(1), i64::MAX),
            "exponent -9223372036854775807 is outside the numeric format's range",
        ),
        (
            BigDecimal::new(BigInt::from(7), -(1 << 50)),
            "is outside the numeric format's range",
        ),
    ] {
        let text = err_text(encode(&value, &Type::NUMERIC));
        assert!(
            text.starts_with("invalid numeric value: bigdecimal::BigDecimal ")
                && text.contains(why),
            "{text}"
        );
    }
    for (literal, bytes) in [
        ("NaN", "00000000c0000000"),
        ("Infinity", "00000000d0000020"),
        ("-Infinity", "00000000f0000020"),
    ] {
        fails_with(
            dec::<BigDecimal>(&Type::NUMERIC, &hex(bytes)),
            &format!("invalid numeric value: {literal} cannot be represented by bigdecimal"),
        );
    }
    fails_with(
        dec::<BigDecimal>(&Type::NUMERIC, &hex("00020000")),
        "invalid numeric value",
    );
}

#[test]
fn widening_reads_integers() {
    let read = |ty: &Type, bytes: &str| dec::<BigDecimal>(ty, &hex(bytes)).unwrap();
    assert_eq!(read(&Type::INT2, "8000"), BigDecimal::from(i16::MIN));
    assert_eq!(read(&Type::INT4, "7fffffff"), BigDecimal::from(i32::MAX));
    assert_eq!(
        read(&Type::INT8, "8000000000000000"),
        BigDecimal::from(i64::MIN)
    );
    encodes_exactly(
        &bd("1.5"),
        std::any::type_name::<BigDecimal>(),
        &[Type::NUMERIC],
    );
    decodes_exactly::<BigDecimal>(
        std::any::type_name::<BigDecimal>(),
        &[Type::NUMERIC, Type::INT2, Type::INT4, Type::INT8],
    );
}
