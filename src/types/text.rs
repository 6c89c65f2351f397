//! Strings and byte strings: the text types, every text-format type, and `bytea`.
//!
//! The binary format of `text`, `varchar`, `bpchar`, `name`, `unknown` and `json` is the UTF-8
//! text itself, which is also what a text-format value is; `jsonb` adds a version byte (1) in
//! front. The string types therefore read and write all of them, plus every type without a binary
//! codec (see the module documentation of [`crate::types`]). Decoding borrows: `&str` and
//! `Cow<str>` point into the row's bytes.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use super::{FromSql, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

/// The `jsonb` binary format's version byte, the only one PostgreSQL defines.
pub(crate) const JSONB_VERSION: u8 = 1;

/// Whether the string types convert to and from `ty`.
fn accepts_text(ty: &Type) -> bool {
    super::type_in!(ty, TEXT, VARCHAR, BPCHAR, NAME, UNKNOWN, JSON, JSONB)
        || ty.name() == "citext"
        // enum_send writes the label's bytes: the same as its text form.
        || ty.kind() == super::TypeKind::Enum
        || !ty.binary_supported()
}

fn encode_text(s: &str, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    if *ty == Type::JSONB {
        out.put_u8(JSONB_VERSION);
    }
    out.put_slice(s.as_bytes());
    Ok(IsNull::No)
}

/// The bytes after a `jsonb` value's version byte, which must be 1 (as the server requires).
pub(crate) fn strip_jsonb_version(raw: &[u8]) -> Result<&[u8], BoxError> {
    match raw.split_first() {
        Some((&JSONB_VERSION, rest)) => Ok(rest),
        Some((version, _)) => Err(InvalidValue::boxed(
            "jsonb",
            format!("unsupported jsonb version number {version}"),
        )),
        None => Err(InvalidValue::boxed("jsonb", "empty value: no version byte")),
    }
}

fn decode_text<'a>(ty: &Type, raw: &'a [u8]) -> Result<&'a str, BoxError> {
    let raw = if *ty == Type::JSONB {
        strip_jsonb_version(raw)?
    } else {
        raw
    };
    std::str::from_utf8(raw).map_err(|e| {
        InvalidValue::boxed(
            "text",
            format!("{ty} value is not valid UTF-8 ({e}); is client_encoding UTF8?"),
        )
    })
}

macro_rules! text_to_sql {
    ($($rust:ty),*) => {$(
        impl ToSql for $rust {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                encode_text(self, ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                accepts_text(ty)
            }

            crate::to_sql_checked!();
        }
    )*};
}

text_to_sql!(&str, String, Box<str>, Cow<'_, str>);

impl<'a> FromSql<'a> for &'a str {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<&'a str, BoxError> {
        decode_text(ty, raw)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_text(ty)
    }
}

impl<'a> FromSql<'a> for Cow<'a, str> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Cow<'a, str>, BoxError> {
        decode_text(ty, raw).map(Cow::Borrowed)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_text(ty)
    }
}

impl FromSql<'_> for String {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<String, BoxError> {
        decode_text(ty, raw).map(str::to_owned)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_text(ty)
    }
}

impl FromSql<'_> for Box<str> {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<Box<str>, BoxError> {
        decode_text(ty, raw).map(Box::from)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_text(ty)
    }
}

macro_rules! bytea_to_sql {
    ($($rust:ty),*) => {$(
        impl ToSql for $rust {
            fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                out.put_slice(self);
                Ok(IsNull::No)
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::BYTEA
            }

            crate::to_sql_checked!();
        }
    )*};
}

bytea_to_sql!(&[u8], Vec<u8>, Box<[u8]>, Cow<'_, [u8]>);

impl<'a> FromSql<'a> for &'a [u8] {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<&'a [u8], BoxError> {
        Ok(raw)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BYTEA
    }
}

impl FromSql<'_> for Vec<u8> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Vec<u8>, BoxError> {
        Ok(raw.to_vec())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BYTEA
    }
}

impl FromSql<'_> for Box<[u8]> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Box<[u8]>, BoxError> {
        Ok(Box::from(raw))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BYTEA
    }
}
