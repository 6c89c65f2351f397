//! Codec tests. Every byte string named after a SQL expression was captured from PostgreSQL 15
//! with `python3 scripts/gen-types.py --vectors` (the server's own send functions); each such
//! vector is checked both ways: decoding the bytes gives the value, encoding the value gives
//! the bytes.

use std::fmt::Debug;

use bytes::BytesMut;

use super::{decode, FromSql, IsNull, ToSql, Type};
use crate::BoxError;

mod array;
mod datetime;
mod misc;
mod numeric;
mod primitive;
mod text;
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
