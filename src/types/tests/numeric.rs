//! numeric and Decimal.

use super::*;
use crate::types::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (literal, numeric_send bytes, the server's text output)
const VECTORS: &[(&str, &str, &str)] = &[
    ("0", "0000000000000000", "0"),
    ("0.000", "0000000000000003", "0.000"),
    ("1", "00010000000000000001", "1"),
    ("-1", "00010000400000000001", "-1"),
    ("0.0001", "0001ffff000000040001", "0.0001"),
    ("1e-20", "0001fffb000000140001", "0.00000000000000000001"),
    ("-0.5", "0001ffff400000011388", "-0.5"),
    ("10000", "00010001000000000001", "10000"),
    ("9999", "0001000000000000270f", "9999"),
    (
        "123456789012345678901234567890.123450000",
        "000a000700000009000c0d801ed204d2162e23340d801ed204d21388",
        "123456789012345678901234567890.123450000",
    ),
    (
        "1.5e30",
        "00010007000000000096",
        "1500000000000000000000000000000",
    ),
    ("-12.3400", "0002000040000004000c0d48", "-12.3400"),
    ("0.00012", "0002ffff00000005000107d0", "0.00012"),
    (
        "100000000.00000001",
        "000500020000000800010000000000000001",
        "100000000.00000001",
    ),
    (
        "9223372036854775807",
        "0005000400000000039a0d2c0170156516af",
        "9223372036854775807",
    ),
    (
        "-9223372036854775808",
        "0005000440000000039a0d2c0170156516b0",
        "-9223372036854775808",
    ),
    ("NaN", "00000000c0000000", "NaN"),
    ("Infinity", "00000000d0000020", "Infinity"),
    ("-Infinity", "00000000f0000020", "-Infinity"),
    ("-0.0", "0000000000000001", "0.0"),
];

#[test]
fn server_vectors() {
    for &(literal, bytes, text) in VECTORS {
        let value = d(literal);
        vector(
            &Type::NUMERIC,
            &format!("numeric_send('{literal}'::numeric)"),
            bytes,
            value.clone(),
        );
        assert_eq!(value.to_string(), text, "{literal}");
        // Display output parses back to the same value and scale.
        assert_eq!(d(text), value, "{text}");
    }
}

#[test]
fn parse_like_numeric_in() {
    // (input, numeric_out of it) from the server.
    for (input, out) in [
        ("  12.5  ", "12.5"),
        ("+.5", "0.5"),
        ("5.", "5"),
        ("1E+3", "1000"),
        ("1.23e-2", "0.0123"),
        ("inf", "Infinity"),
        ("-INF", "-Infinity"),
        ("nan", "NaN"),
        ("-0", "0"),
        ("000123.4500", "123.4500"),
        ("0.000000000000", "0.000000000000"),
    ] {
        assert_eq!(d(input).to_string(), out, "{input}");
    }
    for (bad, why) in [
        ("", "no digits"),
        (".", "no digits"),
        ("-", "no digits"),
        ("1.2.3", "unexpected character"),
        ("1e", "invalid exponent"),
        ("1e+", "invalid exponent"),
        ("abc", "unexpected character"),
        ("1 2", "unexpected character"),
        ("--1", "unexpected character"),
        ("-nan", "unexpected character"),
        // 10^1000000000 = 10000^250000000: the server says "value overflows numeric format".
        (
            "1e1000000000",
            "value overflows numeric format (weight 250000000 outside the 16-bit range)",
        ),
        ("0x10", "unexpected character"),
        ("١", "unexpected character"),
    ] {
        let e = bad.parse::<Decimal>().unwrap_err().to_string();
        assert_eq!(e, format!("invalid numeric literal {bad:?}: {why}"));
    }
    // Scale and weight limits of the format.
    assert!("1e-16383".parse::<Decimal>().is_ok());
    fails_with(
        "1e-16384".parse::<Decimal>(),
        "invalid numeric literal \"1e-16384\": display scale 16384 exceeds the maximum of 16383",
    );
    assert!("1e131071".parse::<Decimal>().is_ok());
    fails_with(
        "1e131072".parse::<Decimal>(),
        "\"1e131072\": value overflows numeric format (weight 32768 outside the 16-bit range)",
    );
    // Leading zeros of an exponent do not count toward its size, as on the server.
    assert_eq!(d("1e0000000003").to_string(), "1000");
    assert_eq!(d("1e-000000000000000002").to_string(), "0.01");
    fails_with(
        "1e0000000001000000000".parse::<Decimal>(),
        "invalid numeric literal \"1e0000000001000000000\": value overflows numeric format",
    );
    let e = "1e-99999".parse::<Decimal>().unwrap_err().to_string();
    assert!(
        e.contains("display scale 99999 exceeds the maximum of 16383"),
        "{e}"
    );
}

#[test]
fn accessors() {
    assert_eq!(d("-12.3400").scale(), 4);
    assert!(d("-12.3400").is_sign_negative());
    assert!(!d("-0.00").is_sign_negative());
    assert!(d("-0.00").is_zero());
    assert!(d("NaN").is_nan() && !d("NaN").is_finite());
    assert!(d("-inf").is_infinite() && d("-inf").is_sign_negative());
    assert_ne!(d("1.5"), d("1.50")); // Equality includes the scale.
    assert_eq!(d("NaN"), Decimal::nan());
    assert_eq!(Decimal::default(), Decimal::zero());
    assert_eq!(format!("{:?}", d("1.50")), "Decimal(1.50)");
}

#[test]
fn constructors_and_conversions() {
    assert_eq!(Decimal::new(12345, 2).unwrap().to_string(), "123.45");
    assert_eq!(Decimal::new(-1, 20).unwrap(), d("-0.00000000000000000001"));
    assert_eq!(
        Decimal::new(i128::MIN, 0).unwrap().to_string(),
        i128::MIN.to_string()
    );
    fails_with(
        Decimal::new(1, 16_384),
        "display scale 16384 exceeds the maximum of 16383",
    );
    assert_eq!(Decimal::from(0i32), d("0"));
    assert_eq!(Decimal::from(u64::MAX).to_string(), "18446744073709551615");
    assert_eq!(Decimal::from(u128::MAX).to_string(), u128::MAX.to_string());
    assert_eq!(Decimal::from(i64::MIN).to_string(), "-9223372036854775808");

    assert_eq!(i64::try_from(&d("-9223372036854775808")).unwrap(), i64::MIN);
    assert_eq!(i64::try_from(&d("7.000")).unwrap(), 7);
    assert_eq!(
        i128::try_from(d("-170141183460469231731687303715884105728")).unwrap(),
        i128::MIN
    );
    assert_eq!(u8::try_from(&d("255")).unwrap(), 255);
    fails_with(
        i64::try_from(&d("9223372036854775808")),
        "9223372036854775808 is out of range for i64",
    );
    fails_with(i64::try_from(&d("1.5")), "1.5 has a fractional part");
    fails_with(i64::try_from(&d("NaN")), "NaN is not a finite number");
    fails_with(u32::try_from(&d("-1")), "-1 is out of range for u32");
    fails_with(
        i32::try_from(&d("1e100")),
        &format!("1{} is out of range", "0".repeat(100)),
    );
    fails_with(
        u128::try_from(&d("1e40")),
        "10000000000000000000000000000000000000000 is out of range",
    );
    let e = i64::try_from(&d("0.5")).unwrap_err().to_string();
    assert_eq!(e, "0.5 has a fractional part");

    assert_eq!(Decimal::from(0.1f64).to_string(), "0.1");
    assert_eq!(
        Decimal::from(-1e-20f64).to_string(),
        "-0.00000000000000000001"
    );
    assert_eq!(Decimal::from(1.5f32).to_string(), "1.5");
    assert_eq!(Decimal::from(0.1f32).to_string(), "0.1");
    assert_eq!(Decimal::from(f64::MAX).to_f64(), f64::MAX);
    assert_eq!(Decimal::from(f64::from_bits(1)).to_f64(), f64::from_bits(1));
    assert!(Decimal::from(f64::NAN).is_nan());
    assert_eq!(Decimal::from(f64::NEG_INFINITY), Decimal::neg_infinity());
    assert_eq!(d("Infinity").to_f64(), f64::INFINITY);
    assert_eq!(d("-12.34").to_f64(), -12.34);
}

#[test]
fn decode_validates() {
    let bad = [
        ("", "ndigits needs 2 bytes"),
        ("000100000000", "dscale needs 2 bytes"),
        (
            "0001000000000000",
            "declares 1 digits (2 bytes) but 0 bytes follow",
        ),
        (
            "00010000000000000001ff",
            "declares 1 digits (2 bytes) but 3 bytes follow",
        ),
        ("0001000000000000ffff", "invalid base-10000 digit -1"),
        ("00010000000000002710", "invalid base-10000 digit 10000"),
        ("0000000080000000", "invalid sign 0x8000"),
        ("0000000000004000", "invalid scale 0x4000"),
        ("ffff000000000000", "declares 65535 digits"),
    ];
    for (bytes, why) in bad {
        let e = err_text(dec::<Decimal>(&Type::NUMERIC, &hex(bytes)));
        assert!(e.starts_with("invalid numeric value: "), "{e}");
        assert!(e.contains(why), "{bytes}: {e}");
    }
    // Digits the display scale hides are truncated, as numeric_recv does: 1.2345 at scale 2
    // is 1.23 (numeric_send(1.23) is 0002 0000 0000 0002 0001 08fc), equal to it and
    // re-encoded as the server encodes it.
    let v: Decimal = dec(&Type::NUMERIC, &hex("00020000 0000 0002 0001 0929")).unwrap();
    assert_eq!(v.to_string(), "1.23");
    assert_eq!(v, d("1.23"));
    assert_eq!(
        encode(&v, &Type::NUMERIC).unwrap(),
        hex("0002000000000002000108fc")
    );
    // The same when whole digits are dropped too: 1.23456789 sent at scale 5 is 1.23456.
    let v: Decimal = dec(&Type::NUMERIC, &hex("0003 0000 0000 0005 0001 0929 1a85")).unwrap();
    assert_eq!(v, d("1.23456"));
    // And at a scale that is a multiple of four nothing is cut from the last digit.
    let v: Decimal = dec(&Type::NUMERIC, &hex("0002 0000 0000 0004 0001 0929")).unwrap();
    assert_eq!(v, d("1.2345"));
    // Leading and trailing zero digits are normalized away.
    let v: Decimal = dec(&Type::NUMERIC, &hex("00030001 0000 0000 0000 0001 0000")).unwrap();
    assert_eq!(v, d("1"));
    assert_eq!(
        encode(&v, &Type::NUMERIC).unwrap(),
        hex("00010000000000000001")
    );
    // A negative zero is zero.
    let v: Decimal = dec(&Type::NUMERIC, &hex("0000 0000 4000 0002")).unwrap();
    assert_eq!(v.to_string(), "0.00");
    assert!(!v.is_sign_negative());
}

#[test]
fn extremes_round_trip() {
    let big = format!("9{}", "0".repeat(131_071));
    let v = d(&big);
    assert_eq!(v.to_string(), big);
    let raw = encode(&v, &Type::NUMERIC).unwrap();
    assert_eq!(raw[..8], hex("0001 7fff 0000 0000")[..]);
    assert_eq!(dec::<Decimal>(&Type::NUMERIC, &raw).unwrap(), v);
    let tiny = format!("-0.{}1", "0".repeat(16_381));
    let v = d(&tiny);
    assert_eq!(v.to_string(), tiny);
    let raw = encode(&v, &Type::NUMERIC).unwrap();
    assert_eq!(dec::<Decimal>(&Type::NUMERIC, &raw).unwrap(), v);
}

#[test]
fn only_numeric() {
    fails_with(
        encode(&d("1"), &Type::FLOAT8),
        "cannot convert between Rust type `tusk::types::numeric::Decimal` and SQL type `float8`",
    );
    fails_with(
        dec::<Decimal>(&Type::INT4, &hex("00000001")),
        "cannot convert between Rust type `tusk::types::numeric::Decimal` and SQL type `int4`",
    );
}

#[test]
fn exponents_and_whitespace_like_numeric_in() {
    // (input, numeric_out of it) from the server. It skips C's whitespace around the literal
    // and before the exponent (strtol), and takes any exponent below INT_MAX / 2 in magnitude,
    // so a zero may carry one far beyond the format's weight range.
    for (input, out) in [
        ("0e1073741822", "0"),
        ("0e1000000000", "0"),
        ("0e100000000", "0"),
        ("0e0000000001073741822", "0"),
        (" 1e 5 ", "100000"),
        ("1e\t+5", "100000"),
        ("1e\x0b5", "100000"),
        ("\x0b1\x0b", "1"),
        ("\x0c1\r\n\t ", "1"),
    ] {
        assert_eq!(d(input).to_string(), out, "{input:?}");
    }
    // Each refused by the server too ("value overflows numeric format" for the exponents,
    // "invalid input syntax" for the rest).
    for (bad, why) in [
        ("0e1073741823", "exponent out of range"),
        ("0e-1073741823", "exponent out of range"),
        ("0e9999999999", "exponent out of range"),
        ("0e99999999999999999999", "exponent out of range"),
        (
            "0e-100000000",
            "display scale 100000000 exceeds the maximum of 16383",
        ),
        // 10^100000000 = 10000^25000000.
        (
            "1e100000000",
            "value overflows numeric format (weight 25000000 outside the 16-bit range)",
        ),
        // A long exponent is first of all not a number.
        ("1e12345678901x", "invalid exponent"),
        ("1e+ 5", "invalid exponent"),
        ("1 e5", "unexpected character"),
        // No-break and em spaces are not C whitespace.
        ("\u{a0}1", "unexpected character"),
        ("1\u{a0}", "unexpected character"),
        ("\u{2003}1", "unexpected character"),
        ("1e\u{a0}5", "invalid exponent"),
    ] {
        let e = bad.parse::<Decimal>().unwrap_err().to_string();
        assert_eq!(e, format!("invalid numeric literal {bad:?}: {why}"));
    }
}

#[test]
fn decode_truncates_to_the_display_scale() {
    // numeric_recv truncates what the display scale hides (trunc_var to dscale). Each row was
    // loaded into PostgreSQL 15 with a binary COPY (numeric_recv), which printed the value and
    // numeric_send of what it stored:
    // (bytes sent, the value the server kept, numeric_send of that value)
    let cases = [
        // 1.5 at dscale 0 is 1: a whole base-10000 digit below the scale goes.
        ("0002 0000 0000 0000 0001 1388", "1", "00010000000000000001"),
        // 1.23456789 at dscale 4 is 1.2345.
        (
            "0003 0000 0000 0004 0001 0929 1a85",
            "1.2345",
            "000200000000000400010929",
        ),
        // 0.00001 (weight -2) at dscale 2 is 0.00: no digit is left.
        ("0001 fffe 0000 0002 03e8", "0.00", "0000000000000002"),
        // -1.5 at dscale 0 is -1 (toward zero).
        (
            "0002 0000 4000 0000 0001 1388",
            "-1",
            "00010000400000000001",
        ),
    ];
    for (sent, value, send) in cases {
        let v: Decimal = dec(&Type::NUMERIC, &hex(sent)).unwrap();
        assert_eq!(v, d(value), "{sent}");
        assert_eq!(v.to_string(), value, "{sent}");
        assert_eq!(encode(&v, &Type::NUMERIC).unwrap(), hex(send), "{sent}");
    }
    // The largest display scale decodes: numeric_send('1e-16383').
    let v: Decimal = dec(&Type::NUMERIC, &hex("0001 f000 0000 3fff 000a")).unwrap();
    assert_eq!(v, d("1e-16383"));
    assert_eq!(v.scale(), 16_383);
}

#[test]
fn predicates_of_each_kind() {
    // (value, is_nan, is_infinite, is_finite, is_zero, is_sign_negative)
    let cases = [
        ("1", false, false, true, false, false),
        ("-1", false, false, true, false, true),
        ("0.00", false, false, true, true, false),
        ("-0.0001", false, false, true, false, true),
        ("NaN", true, false, false, false, false),
        ("Infinity", false, true, false, false, false),
        ("-Infinity", false, true, false, false, true),
    ];
    for (text, nan, infinite, finite, zero, negative) in cases {
        let v = d(text);
        assert_eq!(v.is_nan(), nan, "{text} is_nan");
        assert_eq!(v.is_infinite(), infinite, "{text} is_infinite");
        assert_eq!(v.is_finite(), finite, "{text} is_finite");
        assert_eq!(v.is_zero(), zero, "{text} is_zero");
        assert_eq!(v.is_sign_negative(), negative, "{text} is_sign_negative");
    }
}

#[test]
fn from_i128_and_float_infinities() {
    assert_eq!(Decimal::from(-5i128), d("-5"));
    assert_eq!(Decimal::from(7i128), d("7"));
    assert_eq!(Decimal::from(0i128), Decimal::zero());
    assert_eq!(
        Decimal::from(i128::MIN).to_string(),
        "-170141183460469231731687303715884105728"
    );
    assert_eq!(
        Decimal::from(i128::MAX).to_string(),
        "170141183460469231731687303715884105727"
    );
    assert_eq!(Decimal::from(f64::INFINITY), Decimal::infinity());
    assert_eq!(Decimal::from(f32::INFINITY), Decimal::infinity());
    assert_eq!(Decimal::from(f32::NEG_INFINITY), Decimal::neg_infinity());
}

#[test]
fn decimal_accepts_only_numeric() {
    for info in super::super::oids::BY_OID.iter() {
        let ty = Type::from_oid(info.oid);
        let numeric = ty == Type::NUMERIC;
        assert_eq!(<Decimal as ToSql>::accepts(&ty), numeric, "{ty}");
        assert_eq!(<Decimal as FromSql>::accepts(&ty), numeric, "{ty}");
    }
    // numeric_send('1') is 10 bytes, like a bytea or text value: the type check refuses it.
    fails_with(
        dec::<Decimal>(&Type::BYTEA, &hex("00010000000000000001")),
        "cannot convert between Rust type `tusk::types::numeric::Decimal` and SQL type `bytea`",
    );
}
