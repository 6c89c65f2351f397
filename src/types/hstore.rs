//! `hstore` (the extension type) as `HashMap<String, Option<String>>` and `BTreeMap<..>`.
//!
//! `hstore` has no fixed OID: a type is taken for it by its name, as a [`Type::other`] named
//! `hstore` (what the connection's catalog lookup gives); an unnamed OID stays text-format.
//!
//! Binary format (`hstore_send` / `hstore_recv`): the `i32` number of pairs, then per pair the
//! key as an `i32` length and its bytes, and the value likewise (length -1 for NULL). The
//! server sends the pairs in its storage order, shorter keys first and keys of one length by
//! their bytes; tusk writes them in that order too, so that the bytes are the server's own.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use bytes::{BufMut, BytesMut};

use super::{FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

/// Whether `ty` is the `hstore` extension type.
pub(crate) fn is_hstore(ty: &Type) -> bool {
    !ty.is_known() && is_hstore_name(ty.name())
}

/// Whether a type of this name (read from the catalog, no fixed OID) is `hstore`.
pub(crate) fn is_hstore_name(name: &str) -> bool {
    name == "hstore"
}

fn put_len(out: &mut BytesMut, len: usize, what: &str) -> Result<(), BoxError> {
    let len = i32::try_from(len).map_err(|_| {
        InvalidValue::boxed(
            "hstore",
            format!("a {what} of {len} bytes exceeds the protocol's 2 GiB limit"),
        )
    })?;
    out.put_i32(len);
    Ok(())
}

fn encode_hstore<'m>(
    pairs: impl Iterator<Item = (&'m String, &'m Option<String>)>,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let mut pairs: Vec<_> = pairs.collect();
    // hstore's order (`comparePairs`): by key length, then by the key's bytes.
    pairs.sort_unstable_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
    put_len(out, pairs.len(), "map of pairs")?;
    for (key, value) in pairs {
        put_len(out, key.len(), "key")?;
        out.put_slice(key.as_bytes());
        match value {
            Some(v) => {
                put_len(out, v.len(), "value")?;
                out.put_slice(v.as_bytes());
            }
            None => out.put_i32(-1),
        }
    }
    Ok(IsNull::No)
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, BoxError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        InvalidValue::boxed(
            "hstore",
            format!("a {what} is not valid UTF-8 ({e}); is client_encoding UTF8?"),
        )
    })
}

/// Calls `insert` for each pair of an `hstore` value.
fn decode_hstore(
    raw: &[u8],
    mut insert: impl FnMut(String, Option<String>),
) -> Result<(), BoxError> {
    let mut r = Reader::new("hstore", raw);
    let count = r.i32("number of pairs")?;
    // Each pair takes at least its two 4-byte lengths.
    let count = usize::try_from(count)
        .ok()
        .filter(|&n| n <= r.remaining() / 8)
        .ok_or_else(|| {
            InvalidValue::boxed(
                "hstore",
                format!(
                    "invalid number of pairs {count} for {} bytes",
                    r.remaining()
                ),
            )
        })?;
    for _ in 0..count {
        let len = r.i32("key length")?;
        let len = usize::try_from(len).map_err(|_| {
            InvalidValue::boxed(
                "hstore",
                format!("invalid key length {len} (keys are not NULL)"),
            )
        })?;
        let key = utf8(r.take(len, "key")?, "key")?;
        let value = match r.i32("value length")? {
            -1 => None,
            len => {
                let len = usize::try_from(len).map_err(|_| {
                    InvalidValue::boxed("hstore", format!("invalid value length {len}"))
                })?;
                Some(utf8(r.take(len, "value")?, "value")?)
            }
        };
        insert(key, value);
    }
    r.finish()
}

/// An `hstore`: `None` values are NULL.
///
/// ```
/// use std::collections::HashMap;
/// use tusk::types::{ToSql, Type};
///
/// let map = HashMap::from([("a".to_owned(), Some("1".to_owned())), ("b".to_owned(), None)]);
/// assert!(<HashMap<String, Option<String>> as ToSql>::accepts(&Type::other(16_500, "hstore")));
/// ```
impl<S: BuildHasher> ToSql for HashMap<String, Option<String>, S> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_hstore(self.iter(), out)
    }

    fn accepts(ty: &Type) -> bool {
        is_hstore(ty)
    }

    crate::to_sql_checked!();
}

impl<S: BuildHasher + Default> FromSql<'_> for HashMap<String, Option<String>, S> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let mut map = HashMap::default();
        decode_hstore(raw, |k, v| {
            map.insert(k, v);
        })?;
        Ok(map)
    }

    fn accepts(ty: &Type) -> bool {
        is_hstore(ty)
    }
}

/// An `hstore`: `None` values are NULL.
impl ToSql for BTreeMap<String, Option<String>> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_hstore(self.iter(), out)
    }

    fn accepts(ty: &Type) -> bool {
        is_hstore(ty)
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for BTreeMap<String, Option<String>> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let mut map = BTreeMap::new();
        decode_hstore(raw, |k, v| {
            map.insert(k, v);
        })?;
        Ok(map)
    }

    fn accepts(ty: &Type) -> bool {
        is_hstore(ty)
    }
}
