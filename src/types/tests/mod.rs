//! Codec tests. Every byte string named after a SQL expression was captured from PostgreSQL 15
//! with `python3 scripts/gen-types.py --vectors` (the server's own send functions); each such
//! vector is checked both ways: decoding the bytes gives the value, encoding the value gives
//! the bytes.

use std::fmt::Debug;

use bytes::BytesMut;

use super::{decode, FromSql, IsNull, ToSql, Type};
use crate::BoxError;

mod array;
mod custom;
mod datetime;
#[cfg(feature = "bigdecimal")]
mod ext_bigdecimal;
#[cfg(feature = "jiff")]
mod ext_jiff;
#[cfg(feature = "rust_decimal")]
mod ext_rust_decimal;
#[cfg(feature = "time")]
mod ext_time;
mod geometry;
mod misc;
mod net;
mod numeric;
mod primitive;
mod range;
mod text;
mod text_array;
mod types;

/// Bytes from a hex string (spaces allowed for readability).
pub(super) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex string {s:?}");
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).expect("ASCII hex");
            u8::from_str_radix(text, 16).expect("hex digit")
        })
        .collect()
}

/// Encodes through the checked, object-safe entry point the driver uses.
pub(super) fn encode<T: ToSql>(value: &T, ty: &Type) -> Result<Vec<u8>, BoxError> {
    let mut out = BytesMut::new();
    match value.to_sql_checked(ty, &mut out)? {
        IsNull::No => Ok(out.to_vec()),
        IsNull::Yes => {
            assert!(out.is_empty(), "a NULL must write nothing");
            Err("NULL".into())
        }
    }
}

/// Decodes with the accepts check a row accessor performs.
pub(super) fn dec<'a, T: FromSql<'a>>(ty: &Type, raw: &'a [u8]) -> Result<T, BoxError> {
    decode(ty, Some(raw))
}

/// Checks a server-captured vector both ways.
#[track_caller]
pub(super) fn vector<T>(ty: &Type, sql: &str, bytes: &str, value: T)
where
    T: ToSql + for<'a> FromSql<'a> + PartialEq + Debug,
{
    let raw = hex(bytes);
    let got: T = dec(ty, &raw).unwrap_or_else(|e| panic!("decoding {sql}: {e}"));
    assert_eq!(got, value, "decoding {sql}");
    let enc = encode(&value, ty).unwrap_or_else(|e| panic!("encoding {sql}: {e}"));
    assert_eq!(enc, raw, "encoding {value:?} for {sql}");
}

/// The error message of a failed conversion.
pub(super) fn err_text<T: Debug>(r: Result<T, BoxError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that a conversion failed with an error whose message contains `expected`.
#[track_caller]
pub(super) fn fails_with<T: Debug, E: std::fmt::Display>(r: Result<T, E>, expected: &str) {
    let text = match r {
        Ok(v) => panic!("expected an error containing {expected:?}, got {v:?}"),
        Err(e) => e.to_string(),
    };
    assert!(
        text.contains(expected),
        "expected an error containing {expected:?}, got {text:?}"
    );
}

/// Every built-in type, plus an "other" type with and without a name: the SQL types an
/// `accepts` is checked against.
pub(super) fn every_type() -> Vec<Type> {
    let mut all: Vec<Type> = super::oids::BY_OID
        .iter()
        .map(|info| Type::from_oid(info.oid))
        .collect();
    all.push(Type::from_oid(16_390));
    all.push(Type::other(16_391, "mytype"));
    all
}

/// Asserts that the Rust type `T` is sent as each of the SQL types `accepted` and none of
/// `refused`, and that a refused value is a `WrongType` error naming the Rust type `rust_name`
/// and the SQL type.
#[track_caller]
pub(super) fn encodes_only<T: ToSql>(
    value: &T,
    rust_name: &str,
    accepted: &[Type],
    refused: &[Type],
) {
    for t in accepted {
        assert!(T::accepts(t), "ToSql for {rust_name} refuses {t}");
    }
    for t in refused {
        assert!(!T::accepts(t), "ToSql for {rust_name} accepts {t}");
        fails_with(
            encode(value, t),
            &format!("cannot convert between Rust type `{rust_name}` and SQL type `{t}`"),
        );
    }
}

/// Asserts that the Rust type `T` is read from each of the SQL types `accepted` and none of
/// `refused`, and that a refused type is a `WrongType` error naming both types.
#[track_caller]
pub(super) fn decodes_only<T: FromSql<'static> + Debug>(
    rust_name: &str,
    accepted: &[Type],
    refused: &[Type],
) {
    for t in accepted {
        assert!(
            <T as FromSql>::accepts(t),
            "FromSql for {rust_name} refuses {t}"
        );
    }
    for t in refused {
        assert!(
            !<T as FromSql>::accepts(t),
            "FromSql for {rust_name} accepts {t}"
        );
        fails_with(
            dec::<T>(t, &[0; 16]),
            &format!("cannot convert between Rust type `{rust_name}` and SQL type `{t}`"),
        );
    }
}

/// The types of [`every_type`] that are not in `expected`.
fn all_but(expected: &[Type]) -> Vec<Type> {
    every_type()
        .into_iter()
        .filter(|t| !expected.contains(t))
        .collect()
}

/// [`encodes_only`] the types `expected`, refusing every other type.
#[track_caller]
pub(super) fn encodes_exactly<T: ToSql>(value: &T, rust_name: &str, expected: &[Type]) {
    encodes_only(value, rust_name, expected, &all_but(expected));
}

/// [`decodes_only`] the types `expected`, refusing every other type.
#[track_caller]
pub(super) fn decodes_exactly<T: FromSql<'static> + Debug>(rust_name: &str, expected: &[Type]) {
    decodes_only::<T>(rust_name, expected, &all_but(expected));
}
