//! `uuid` as [`Uuid`], and as `uuid::Uuid` with the `uuid` feature. The binary format is the
//! 16 bytes in order.

use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::{fixed, FromSql, IsNull, ToSql, Type};
use crate::BoxError;

/// A UUID: 16 bytes, shown as hyphenated lowercase hex.
///
/// ```
/// use tusk::types::Uuid;
///
/// let u: Uuid = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11".parse().unwrap();
/// assert_eq!(u.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
/// assert_eq!(u.as_bytes()[0], 0xa0);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The UUID with these bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Uuid {
        Uuid(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// A string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseUuidError(String);

impl fmt::Display for ParseUuidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid UUID {:?}: expected 32 hex digits, optionally hyphenated as 8-4-4-4-12 and in braces", self.0)
    }
}

impl std::error::Error for ParseUuidError {}

/// Accepts the hyphenated form (`a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`), 32 bare hex digits,
/// and either in braces; hex digits in any case.
impl FromStr for Uuid {
    type Err = ParseUuidError;

    fn from_str(s: &str) -> Result<Uuid, ParseUuidError> {
        let err = || ParseUuidError(s.to_owned());
        let inner = match s.strip_prefix('{') {
            Some(rest) => rest.strip_suffix('}').ok_or_else(err)?,
            None => s,
        };
        let hex: &[u8] = inner.as_bytes();
        let digits: Vec<u8> = match hex.len() {
            32 => hex.to_vec(),
            36 => {
                // Hyphens exactly at 8, 13, 18 and 23.
                for (i, &c) in hex.iter().enumerate() {
                    if matches!(i, 8 | 13 | 18 | 23) != (c == b'-') {
                        return Err(err());
                    }
                }
                hex.iter().copied().filter(|&c| c != b'-').collect()
            }
            _ => return Err(err()),
        };
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| err())?;
            if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(err());
            }
            *byte = u8::from_str_radix(text, 16).map_err(|_| err())?;
        }
        Ok(Uuid(bytes))
    }
}

impl ToSql for Uuid {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Uuid {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Uuid, BoxError> {
        Ok(Uuid(fixed("uuid", raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }
}

#[cfg(feature = "uuid")]
impl ToSql for ::uuid::Uuid {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_slice(self.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    crate::to_sql_checked!();
}

#[cfg(feature = "uuid")]
impl FromSql<'_> for ::uuid::Uuid {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<::uuid::Uuid, BoxError> {
        Ok(::uuid::Uuid::from_bytes(fixed("uuid", raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }
}

#[cfg(feature = "uuid")]
impl From<::uuid::Uuid> for Uuid {
    fn from(u: ::uuid::Uuid) -> Uuid {
        Uuid(u.into_bytes())
    }
}

#[cfg(feature = "uuid")]
impl From<Uuid> for ::uuid::Uuid {
    fn from(u: Uuid) -> ::uuid::Uuid {
        ::uuid::Uuid::from_bytes(u.0)
    }
}
