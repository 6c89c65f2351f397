//! numeric as rust_decimal::Decimal (feature `rust_decimal`).

use std::str::FromStr;

use rust_decimal::Decimal as RustDecimal;

use super::*;

fn rd(s: &str) -> RustDecimal {
    RustDecimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (literal, numeric_send bytes): values a `rust_decimal::Decimal` holds exactly, read back
/// with the same scale.
const VECTORS: &[(&str, &str)] = &[
    ("0", "0000000000000000"),
    ("0.000", "0000000000000003"),
    ("1", "00010000000000000001"),
    ("-1", "00010000400000000001"),
    ("-0.5", "0001ffff400000011388"),
    ("1.50", "000200000000000200011388"),
    ("-123.4500", "0002000040000004007b1194"),
    ("0.0001", "0001ffff000000040001"),
    ("10000", "00010001000000000001"),
    ("-12.3400", "0002000040000004000c0d48"),
    ("100000000.00000001", "000500020000000800010000000000000001"),
    (
        "9223372036854775807",
        "0005000400000000039a0d2c0170156516af",
    ),
    // The largest magnitude, at scale 0 and at the largest scale.
    (
        "79228162514264337593543950335",
        "00080007000000000007240c0659059210f1172f112b014f",
    ),
    (
        "-79228162514264337593543950335",
        "00080007400000000007240c0659059210f1172f112b014f",
    ),
    (
        "7.9228162514264337593543950335",
        "000800000000001c0007240c0659059210f1172f112b014f",
    ),
    ("0.0000000000000000000000000001", "0001fff90000001c0001"),
];

#[test]
fn server_vectors() {
    for &(literal, bytes) in VECTORS {
        let sql = format!("numeric_send('{literal}'::numeric)");
        vector(&Type::NUMERIC, &sql, bytes, rd(literal));
        // Equality ignores the scale; the text shows it.
        let got: RustDecimal = dec(&Type::NUMERIC, &hex(bytes)).unwrap();
        assert_eq!(got.to_string(), literal, "{sql}");
    }
    // numeric has no negative zero: -0.0 is sent as 0.0 (numeric_send('-0.0'::numeric)).
    assert_eq!(
        encode(&rd("-0.0"), &Type::NUMERIC).unwrap(),
        hex("0000000000000001")
    );
}

#[test]
fn scale_beyond_28_only_when_exact() {
    // numeric_send('1.000000000000000000000000000000'::numeric): scale 30, read at scale 28.
    let got: RustDecimal = dec(&Type::NUMERIC, &hex("000100000000001e0001")).unwrap();
    assert_eq!(got.to_string(), format!("1.{}", "0".repeat(28)));
    // numeric_send('-0.000000000000000000000000000100'::numeric)
    let got: RustDecimal = dec(&Type::NUMERIC, &hex("0001fff94000001e0001")).unwrap();
    assert_eq!(got.to_string(), "-0.0000000000000000000000000001");
    // numeric_send('0.00000000000000000000000000001'::numeric): a digit at the 29th place.
    fails_with(
        dec::<RustDecimal>(&Type::NUMERIC, &hex("0001fff80000001d03e8")),
        "invalid numeric value: 0.00000000000000000000000000001 has nonzero digits beyond \
         rust_decimal::Decimal's 28 decimal places",
    );
    // numeric_send('-1e-16383'::numeric)
    fails_with(
        dec::<RustDecimal>(&Type::NUMERIC, &hex("0001f00040003fff000a")),
        "has nonzero digits beyond rust_decimal::Decimal's 28 decimal places",
    );
}

#[test]
fn out_of_range_and_special_values_are_errors() {
    // numeric_send('79228162514264337593543950336'::numeric): one above the largest.
    fails_with(
        dec::<RustDecimal>(
            &Type::NUMERIC,
            &hex("00080007000000000007240c0659059210f1172f112b0150"),
        ),
        "invalid numeric value: 79228162514264337593543950336 is outside \
         rust_decimal::Decimal's range",
    );
    // numeric_send('1e131071'::numeric): the message shows the start of the 131072 digits.
    let text = err_text(dec::<RustDecimal>(
        &Type::NUMERIC,
        &hex("00017fff0000000003e8"),
    ));
    assert!(
        text.contains("0000... (131072 characters) is outside rust_decimal::Decimal"),
        "{text}"
    );
    for (literal, bytes) in [
        ("NaN", "00000000c0000000"),
        ("Infinity", "00000000d0000020"),
        ("-Infinity", "00000000f0000020"),
    ] {
        fails_with(
            dec::<RustDecimal>(&Type::NUMERIC, &hex(bytes)),
            &format!("invalid numeric value: {literal} cannot be represented by rust_decimal"),
        );
    }
    // Malformed bytes are tusk's numeric errors.
    fails_with(
        dec::<RustDecimal>(&Type::NUMERIC, &hex("0001")),
        "invalid numeric value",
    );
    fails_with(
        dec::<RustDecimal>(&Type::NUMERIC, &hex("00010000000000002710")),
        "invalid base-10000 digit 10000",
    );
}

#[test]
fn widening_reads_integers() {
    let read = |ty: &Type, bytes: &str| dec::<RustDecimal>(ty, &hex(bytes)).unwrap();
    // int2send(32767::int2), int4send((-2147483648)::int4), int8send(9223372036854775807::int8)
    assert_eq!(read(&Type::INT2, "7fff"), RustDecimal::from(32767));
    assert_eq!(read(&Type::INT4, "80000000"), RustDecimal::from(i32::MIN));
    assert_eq!(
        read(&Type::INT8, "7fffffffffffffff"),
        RustDecimal::from(i64::MAX)
    );
    fails_with(
        dec::<RustDecimal>(&Type::INT4, &hex("0000")),
        "invalid int4 value: expected 4 bytes, got 2",
    );
    encodes_exactly(
        &rd("1.5"),
        std::any::type_name::<RustDecimal>(),
        &[Type::NUMERIC],
    );
    decodes_exactly::<RustDecimal>(
        std::any::type_name::<RustDecimal>(),
        &[Type::NUMERIC, Type::INT2, Type::INT4, Type::INT8],
    );
}

#[test]
fn arrays_and_options() {
    // array_send('{1.5,NaN}'::numeric[]) without the NaN: the element bytes are numeric_send's.
    let values = vec![Some(rd("1.5")), None];
    let raw = encode(&values, &Type::NUMERIC_ARRAY).unwrap();
    let back: Vec<Option<RustDecimal>> = dec(&Type::NUMERIC_ARRAY, &raw).unwrap();
    assert_eq!(back, values);
    assert!(dec::<Vec<RustDecimal>>(&Type::NUMERIC_ARRAY, &raw).is_err());
}
