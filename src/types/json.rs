//! `json` and `jsonb` as `serde_json::Value` or any serde type through [`Json`].
//!
//! The binary format of `json` is its text; `jsonb`'s is a version byte (1) and then the text.
//! Decoding rejects any other `jsonb` version, as the server does.

use std::fmt;

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use super::text::{strip_jsonb_version, JSONB_VERSION};
use super::{FromSql, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

/// A `json` or `jsonb` value of any type that serde can (de)serialize.
///
/// ```
/// use std::collections::BTreeMap;
/// use tusk::types::{FromSql, Json, Type};
///
/// let raw = b"\x01{\"x\": 1, \"y\": 2}"; // a jsonb value
/// let Json(p) = Json::<BTreeMap<String, i32>>::from_sql(&Type::JSONB, raw).unwrap();
/// assert_eq!(p["y"], 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Json<T>(pub T);

fn accepts_json(ty: &Type) -> bool {
    *ty == Type::JSON || *ty == Type::JSONB
}

fn encode_json<T: Serialize + ?Sized>(
    value: &T,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    if *ty == Type::JSONB {
        out.put_u8(JSONB_VERSION);
    }
    serde_json::to_writer(out.writer(), value)
        .map_err(|e| InvalidValue::boxed("json", format!("cannot serialize: {e}")))?;
    Ok(IsNull::No)
}

fn decode_json<'a, T: Deserialize<'a>>(ty: &Type, raw: &'a [u8]) -> Result<T, BoxError> {
    let text = if *ty == Type::JSONB {
        strip_jsonb_version(raw)?
    } else {
        raw
    };
    serde_json::from_slice(text).map_err(|e| {
        InvalidValue::boxed(
            if *ty == Type::JSONB { "jsonb" } else { "json" },
            format!("cannot deserialize: {e}"),
        )
    })
}

impl<T: Serialize + fmt::Debug> ToSql for Json<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_json(&self.0, ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_json(ty)
    }

    crate::to_sql_checked!();
}

impl<'a, T: Deserialize<'a>> FromSql<'a> for Json<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Json<T>, BoxError> {
        decode_json(ty, raw).map(Json)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_json(ty)
    }
}

impl ToSql for serde_json::Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_json(self, ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_json(ty)
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for serde_json::Value {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<serde_json::Value, BoxError> {
        decode_json(ty, raw)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_json(ty)
    }
}
