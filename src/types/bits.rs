//! `bit` and `varbit` as [`BitString`], and `money` as [`Money`].
//!
//! Binary format of `bit` and `varbit` (`bit_send` / `varbit_send`): the `i32` length in bits,
//! then the bits packed most significant first, the last byte padded with zero bits. `money`
//! (`cash_send`) is an `i64` count of the smallest currency unit.

use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::{fixed, FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

/// A string of bits: a `bit(n)` or `varbit` value.
///
/// ```
/// use tusk::types::BitString;
///
/// let b: BitString = "101000001".parse().unwrap();
/// assert_eq!(b.len(), 9);
/// assert_eq!(b.as_bytes(), [0b1010_0000, 0b1000_0000]);
/// assert_eq!(b.get(2), Some(true));
/// assert_eq!(b.to_string(), "101000001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BitString {
    /// The number of bits.
    len: usize,
    /// `len` bits, most significant first, the unused bits of the last byte zero (so that
    /// equal strings compare equal).
    bytes: Vec<u8>,
}

/// The mask of the used bits in the last byte of a string of `len` bits (all ones when full).
fn last_byte_mask(len: usize) -> u8 {
    match len % 8 {
        0 => 0xff,
        used => 0xff << (8 - used),
    }
}

impl BitString {
    /// The first `len` bits of `bytes` (most significant first); the bits past `len` are
    /// cleared. Fails when `bytes` does not hold exactly the `len.div_ceil(8)` bytes needed.
    pub fn from_bytes(mut bytes: Vec<u8>, len: usize) -> Result<BitString, InvalidValue> {
        if bytes.len() != len.div_ceil(8) {
            return Err(InvalidValue::new(
                "bit string",
                format!(
                    "{len} bits take {} bytes, not {}",
                    len.div_ceil(8),
                    bytes.len()
                ),
            ));
        }
        if let Some(last) = bytes.last_mut() {
            *last &= last_byte_mask(len);
        }
        Ok(BitString { len, bytes })
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bits packed most significant first; the last byte's unused bits are zero.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bit at `index` (0 is the leftmost), or `None` past the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        if index >= self.len {
            return None;
        }
        self.bytes
            .get(index / 8)
            .map(|b| b & (0x80 >> (index % 8)) != 0)
    }

    /// Appends one bit.
    pub fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> (self.len % 8);
            }
        }
        self.len += 1;
    }

    /// The bits, leftmost first.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.get(i).unwrap_or(false))
    }
}

impl FromIterator<bool> for BitString {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> BitString {
        let mut b = BitString::default();
        for bit in iter {
            b.push(bit);
        }
        b
    }
}

/// `0`s and `1`s, as the server shows a bit string.
impl fmt::Display for BitString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for bit in self.iter() {
            f.write_str(if bit { "1" } else { "0" })?;
        }
        Ok(())
    }
}

/// A string that is not made of `0`s and `1`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBitStringError(char);

impl fmt::Display for ParseBitStringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a valid binary digit", self.0)
    }
}

impl std::error::Error for ParseBitStringError {}

/// `0`s and `1`s (the server's `B'...'` digits; the empty string is the empty bit string).
impl FromStr for BitString {
    type Err = ParseBitStringError;

    fn from_str(s: &str) -> Result<BitString, ParseBitStringError> {
        s.chars()
            .map(|c| match c {
                '0' => Ok(false),
                '1' => Ok(true),
                other => Err(ParseBitStringError(other)),
            })
            .collect()
    }
}

fn bits_what(ty: &Type) -> &'static str {
    if *ty == Type::BIT {
        "bit"
    } else {
        "varbit"
    }
}

/// Writes a bit string of `len` bits packed in `bytes` (unused bits zero).
pub(crate) fn encode_bits(
    ty: &Type,
    len: usize,
    bytes: &[u8],
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let len = i32::try_from(len).map_err(|_| {
        InvalidValue::boxed(
            bits_what(ty),
            format!("{len} bits exceed the protocol's 32-bit length"),
        )
    })?;
    out.put_i32(len);
    out.put_slice(bytes);
    Ok(IsNull::No)
}

/// Reads a bit string as `varbit_recv` does: the length, then exactly the bytes it needs, the
/// padding bits cleared (the server clears them too).
pub(crate) fn decode_bits(ty: &Type, raw: &[u8]) -> Result<BitString, BoxError> {
    let what = bits_what(ty);
    let mut r = Reader::new(what, raw);
    let len = r.i32("bit length")?;
    let len = usize::try_from(len)
        .map_err(|_| InvalidValue::boxed(what, format!("invalid bit length {len}")))?;
    let bytes = r.take(len.div_ceil(8), "bits")?.to_vec();
    r.finish()?;
    Ok(BitString::from_bytes(bytes, len)?)
}

impl ToSql for BitString {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_bits(ty, self.len, &self.bytes, out)
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, BIT, VARBIT)
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for BitString {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<BitString, BoxError> {
        decode_bits(ty, raw)
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, BIT, VARBIT)
    }
}

/// A `money` value: an integer count of the currency's smallest unit (cents when
/// `lc_monetary`'s currency has two fractional digits, as in the `C` locale).
///
/// The text form of `money` depends on the server's `lc_monetary`, so tusk shows no currency
/// itself: convert to and from a decimal amount with the fractional digits of your currency.
///
/// ```
/// use tusk::types::Money;
///
/// let price = Money(1234); // '12.34'::money with two fractional digits
/// assert_eq!(price.0 / 100, 12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl ToSql for Money {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::MONEY
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Money {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Money, BoxError> {
        Ok(Money(i64::from_be_bytes(fixed("money", raw)?)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::MONEY
    }
}
