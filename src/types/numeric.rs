//! `numeric` and [`Decimal`], an exact arbitrary-precision decimal stored the way the server
//! stores it: a sign, a weight, a display scale and base-10000 digits.
//!
//! The binary format (`numeric_send` / `numeric_recv`) is four 16-bit fields, `ndigits`,
//! `weight`, `sign` and `dscale`, then `ndigits` base-10000 digits, most significant first. The
//! first digit is multiplied by 10000^weight. `dscale` is the number of decimal digits shown after
//! the point, which may exceed the digits stored (trailing zeros are not stored).

use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::{FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

const NBASE: i16 = 10_000;
/// Decimal digits per base-10000 digit.
const DEC_DIGITS: i64 = 4;
/// The largest display scale the format can carry (`NUMERIC_DSCALE_MAX`).
const MAX_SCALE: u16 = 0x3FFF;

const SIGN_POS: u16 = 0x0000;
const SIGN_NEG: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;
/// The dscale the server sends with ±Infinity: its in-memory header bits for those values read
/// as a display scale of 32. The server ignores the field on input; we send what it sends, so
/// our bytes equal the server's.
const SPECIAL_INF_DSCALE: u16 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Positive,
    Negative,
    NaN,
    Infinity,
    NegInfinity,
}

/// An exact decimal number, PostgreSQL's `numeric`, including `NaN`, `Infinity` and `-Infinity`.
///
/// It keeps the value's display scale, so `1.50` stays `1.50` from the server to [`Display`]
/// and back. Two `Decimal`s are equal when they have the same value *and* the same scale
/// (`1.5 != 1.50`), and `NaN` equals itself: equality compares what the server would store.
///
/// ```
/// use tusk::types::Decimal;
///
/// let d: Decimal = "-123.4500".parse().unwrap();
/// assert_eq!(d.to_string(), "-123.4500");
/// assert_eq!(d.scale(), 4);
/// assert_eq!(Decimal::from(42i64).to_string(), "42");
/// assert_eq!(i64::try_from(&"7.000".parse::<Decimal>().unwrap()).unwrap(), 7);
/// assert_eq!("1e-3".parse::<Decimal>().unwrap().to_string(), "0.001");
/// ```
///
/// [`Display`]: fmt::Display
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    kind: Kind,
    /// The power of 10000 the first digit is multiplied by; 0 when there are no digits.
    weight: i16,
    /// Decimal digits after the point (`dscale`).
    scale: u16,
    /// Base-10000 digits, each in 0..10000, with no leading or trailing zero digits, and none
    /// below the display scale.
    digits: Vec<i16>,
}

impl Decimal {
    /// Zero, with scale 0.
    pub fn zero() -> Decimal {
        Decimal::special(Kind::Positive)
    }

    /// Not-a-number.
    pub fn nan() -> Decimal {
        Decimal::special(Kind::NaN)
    }

    /// Positive infinity (PostgreSQL 14 and later).
    pub fn infinity() -> Decimal {
        Decimal::special(Kind::Infinity)
    }

    /// Negative infinity (PostgreSQL 14 and later).
    pub fn neg_infinity() -> Decimal {
        Decimal::special(Kind::NegInfinity)
    }

    fn special(kind: Kind) -> Decimal {
        Decimal {
            kind,
            weight: 0,
            scale: 0,
            digits: Vec::new(),
        }
    }

    /// `mantissa × 10^-scale`, e.g. `Decimal::new(12345, 2)` is `123.45`; an error when `scale`
    /// exceeds the format's maximum of 16383.
    ///
    /// ```
    /// # use tusk::types::Decimal;
    /// assert_eq!(Decimal::new(-5, 1).unwrap().to_string(), "-0.5");
    /// assert_eq!(Decimal::new(100, 0).unwrap().to_string(), "100");
    /// ```
    pub fn new(mantissa: i128, scale: u16) -> Result<Decimal, DecimalError> {
        Decimal::from_integer(mantissa < 0, mantissa.unsigned_abs(), -i64::from(scale))
            .map_err(DecimalError)
    }

    /// `magnitude × 10^exponent`, negated when `negative`.
    fn from_integer(negative: bool, magnitude: u128, exponent: i64) -> Result<Decimal, String> {
        let digits: Vec<u8> = magnitude.to_string().bytes().map(|b| b - b'0').collect();
        Decimal::from_decimal_digits(negative, &digits, exponent)
    }

    /// An integer: at most 39 digits at exponent 0, which always fit.
    fn from_integer_exact(negative: bool, magnitude: u128) -> Decimal {
        Decimal::from_integer(negative, magnitude, 0).unwrap_or_else(|_| Decimal::nan())
    }

    /// Builds a finite value from decimal digits `d0 d1 ... dn-1` (each 0 to 9) meaning
    /// `d0d1...dn-1 × 10^exponent`, with the display scale `max(0, -exponent)`. Also the
    /// encoder of the other crates' decimal types (src/types/ext/).
    pub(crate) fn from_decimal_digits(
        negative: bool,
        decimal: &[u8],
        exponent: i64,
    ) -> Result<Decimal, String> {
        // Far beyond the format's range either way (its weight is 16 bits, its scale 14), and
        // small enough that the exponent arithmetic below cannot overflow an i64 (a caller may
        // pass any exponent, e.g. a BigDecimal's).
        const MAX_EXPONENT: i64 = 1 << 40;
        if exponent.unsigned_abs() > MAX_EXPONENT as u64 {
            return Err(format!(
                "exponent {exponent} is outside the numeric format's range"
            ));
        }
        let scale = (-exponent).max(0);
        if scale > i64::from(MAX_SCALE) {
            return Err(format!(
                "display scale {scale} exceeds the maximum of {MAX_SCALE}"
            ));
        }
        let n = decimal.len() as i64; // A slice length fits in i64.
        if n == 0 {
            return Decimal::finite(negative, 0, scale as u16, Vec::new());
        }
        // Digit i has decimal exponent exponent + n - 1 - i; group the exponents by fours.
        let top = (exponent + n - 1).div_euclid(DEC_DIGITS);
        let bottom = exponent.div_euclid(DEC_DIGITS);
        let count = usize::try_from(top - bottom + 1).map_err(|_| "too many digits")?;
        let mut digits = vec![0i16; count]; // At most n / 4 + 2: bounded by the input.
        for (i, &d) in decimal.iter().enumerate() {
            let e = exponent + n - 1 - i as i64;
            let slot = (top - e.div_euclid(DEC_DIGITS)) as usize; // In 0..count by construction.
            let place = 10i16.pow(e.rem_euclid(DEC_DIGITS) as u32);
            if let Some(digit) = digits.get_mut(slot) {
                *digit += i16::from(d) * place;
            }
        }
        Decimal::finite(negative, top, scale as u16, digits)
    }

    /// Normalizes a finite value the way the server's `make_result` does: digits hidden by the
    /// display scale are truncated (as `numeric_recv` does), leading and trailing zero digits are
    /// dropped, and zero is positive with weight 0.
    fn finite(
        negative: bool,
        weight: i64,
        scale: u16,
        mut digits: Vec<i16>,
    ) -> Result<Decimal, String> {
        let mut weight = weight;
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        weight -= leading as i64;
        // Digits the display scale hides are truncated away, as numeric_recv does (trunc_var):
        // whole base-10000 digits below weight -ceil(scale / 4), then the decimal places of the
        // digit at that weight beyond the scale (1.2345 at scale 2 is 1.23, not 1.2345 shown
        // as 1.23).
        let last_weight = -(i64::from(scale) + DEC_DIGITS - 1).div_euclid(DEC_DIGITS);
        let keep = (weight - last_weight + 1).max(0);
        if (digits.len() as i64) > keep {
            digits.truncate(keep as usize); // `keep` < digits.len() here.
        }
        let partial = i64::from(scale) % DEC_DIGITS;
        // With `keep` digits left, the last one is at `last_weight`: the partly shown digit.
        if partial != 0 && keep > 0 && digits.len() as i64 == keep {
            if let Some(last) = digits.last_mut() {
                let unit = 10i16.pow((DEC_DIGITS - partial) as u32);
                *last -= *last % unit;
            }
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Decimal {
                kind: Kind::Positive,
                weight: 0,
                scale,
                digits,
            });
        }
        let weight = i16::try_from(weight).map_err(|_| {
            format!("value overflows numeric format (weight {weight} outside the 16-bit range)")
        })?;
        Ok(Decimal {
            kind: if negative {
                Kind::Negative
            } else {
                Kind::Positive
            },
            weight,
            scale,
            digits,
        })
    }

    /// The display scale: how many digits are shown after the decimal point.
    pub fn scale(&self) -> u16 {
        self.scale
    }

    /// Whether this is `NaN`.
    pub fn is_nan(&self) -> bool {
        self.kind == Kind::NaN
    }

    /// Whether this is `Infinity` or `-Infinity`.
    pub fn is_infinite(&self) -> bool {
        matches!(self.kind, Kind::Infinity | Kind::NegInfinity)
    }

    /// Whether this is neither `NaN` nor infinite.
    pub fn is_finite(&self) -> bool {
        matches!(self.kind, Kind::Positive | Kind::Negative)
    }

    /// Whether the value is below zero (`-Infinity` included). Zero is never negative.
    pub fn is_sign_negative(&self) -> bool {
        matches!(self.kind, Kind::Negative | Kind::NegInfinity)
    }

    /// Whether the value is zero (of any scale).
    pub fn is_zero(&self) -> bool {
        self.kind == Kind::Positive && self.digits.is_empty()
    }

    /// A finite value as `(negative, digits, scale)`: `digits` are the ASCII decimal digits of
    /// |value| × 10^scale, without leading zeros (`"0"` for zero), so the value is exactly
    /// `±digits × 10^-scale`. `None` for NaN and the infinities. For the decoders of the other
    /// crates' decimal types (src/types/ext/).
    #[cfg_attr(
        not(any(feature = "rust_decimal", feature = "bigdecimal")),
        allow(dead_code)
    )]
    pub(crate) fn scaled_digits(&self) -> Option<(bool, String, u16)> {
        if !self.is_finite() {
            return None;
        }
        // Display writes every digit and exactly `scale` of them after the point, so its digits
        // without the sign and the point are the scaled integer.
        let text = self.to_string();
        let digits = text.trim_start_matches(['-', '0', '.']);
        let mut out = String::with_capacity(digits.len().max(1));
        out.extend(digits.chars().filter(char::is_ascii_digit));
        if out.is_empty() {
            out.push('0');
        }
        Some((self.is_sign_negative(), out, self.scale))
    }

    /// The base-10000 digit multiplied by 10000^`weight` (0 outside the stored digits).
    fn digit_at(&self, weight: i64) -> i16 {
        usize::try_from(i64::from(self.weight) - weight)
            .ok()
            .and_then(|i| self.digits.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        // Rust's float parser reads our Display output, "NaN" and "Infinity" included.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// The integer magnitude, when the value is finite and has no fractional part.
    fn integer_magnitude(&self) -> Result<u128, String> {
        if !self.is_finite() {
            return Err(format!("{self} is not a finite number"));
        }
        let lowest = i64::from(self.weight) - self.digits.len() as i64 + 1;
        if !self.digits.is_empty() && lowest < 0 {
            return Err(format!("{self} has a fractional part"));
        }
        let mut magnitude: u128 = 0;
        if !self.digits.is_empty() {
            for w in (0..=i64::from(self.weight)).rev() {
                magnitude = magnitude
                    .checked_mul(NBASE as u128)
                    .and_then(|m| m.checked_add(self.digit_at(w) as u128))
                    .ok_or_else(|| format!("{self} is out of range"))?;
            }
        }
        Ok(magnitude)
    }

    fn to_wire(&self, out: &mut BytesMut) -> Result<(), BoxError> {
        let (sign, scale) = match self.kind {
            Kind::Positive => (SIGN_POS, self.scale),
            Kind::Negative => (SIGN_NEG, self.scale),
            Kind::NaN => (SIGN_NAN, 0),
            Kind::Infinity => (SIGN_PINF, SPECIAL_INF_DSCALE),
            Kind::NegInfinity => (SIGN_NINF, SPECIAL_INF_DSCALE),
        };
        let ndigits = u16::try_from(self.digits.len()).map_err(|_| {
            InvalidValue::boxed(
                "numeric",
                format!("{} base-10000 digits do not fit", self.digits.len()),
            )
        })?;
        out.reserve(8 + 2 * self.digits.len());
        out.put_u16(ndigits);
        out.put_i16(self.weight);
        out.put_u16(sign);
        out.put_u16(scale);
        for &d in &self.digits {
            out.put_i16(d);
        }
        Ok(())
    }

    fn from_wire(raw: &[u8]) -> Result<Decimal, BoxError> {
        let mut r = Reader::new("numeric", raw);
        let ndigits = r.u16("ndigits")?;
        let weight = r.i16("weight")?;
        let sign = r.u16("sign")?;
        let scale = r.u16("dscale")?;
        if scale > MAX_SCALE {
            return Err(InvalidValue::boxed(
                "numeric",
                format!("invalid scale {scale:#x}"),
            ));
        }
        if r.remaining() != 2 * usize::from(ndigits) {
            return Err(InvalidValue::boxed(
                "numeric",
                format!(
                    "header declares {ndigits} digits ({} bytes) but {} bytes follow",
                    2 * usize::from(ndigits),
                    r.remaining()
                ),
            ));
        }
        let mut digits = Vec::with_capacity(usize::from(ndigits)); // Length checked above.
        for _ in 0..ndigits {
            let d = r.i16("digit")?;
            if !(0..NBASE).contains(&d) {
                return Err(InvalidValue::boxed(
                    "numeric",
                    format!("invalid base-10000 digit {d}"),
                ));
            }
            digits.push(d);
        }
        r.finish()?;
        let negative = match sign {
            SIGN_POS => false,
            SIGN_NEG => true,
            SIGN_NAN => return Ok(Decimal::nan()),
            SIGN_PINF => return Ok(Decimal::infinity()),
            SIGN_NINF => return Ok(Decimal::neg_infinity()),
            other => {
                return Err(InvalidValue::boxed(
                    "numeric",
                    format!("invalid sign {other:#06x}"),
                ))
            }
        };
        Decimal::finite(negative, weight.into(), scale, digits)
            .map_err(|reason| InvalidValue::boxed("numeric", reason))
    }
}

impl Default for Decimal {
    fn default() -> Decimal {
        Decimal::zero()
    }
}

/// Like the server's `numeric_out`: all digits, no exponent, exactly `scale` digits after the
/// point; `NaN`, `Infinity`, `-Infinity`.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::NaN => return f.write_str("NaN"),
            Kind::Infinity => return f.write_str("Infinity"),
            Kind::NegInfinity => return f.write_str("-Infinity"),
            Kind::Negative => f.write_str("-")?,
            Kind::Positive => {}
        }
        if self.weight < 0 || self.digits.is_empty() {
            f.write_str("0")?;
        } else {
            write!(f, "{}", self.digit_at(self.weight.into()))?;
            for w in (0..i64::from(self.weight)).rev() {
                write!(f, "{:04}", self.digit_at(w))?;
            }
        }
        if self.scale > 0 {
            f.write_str(".")?;
            let mut left = usize::from(self.scale);
            let mut w = -1i64;
            while left > 0 {
                let group = format!("{:04}", self.digit_at(w));
                let n = left.min(4);
                f.write_str(&group[..n])?; // `group` is four ASCII digits and n <= 4.
                left -= n;
                w -= 1;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

/// A string that is not a `numeric` literal, a value outside the format's range, or a
/// [`Decimal`] that does not fit the integer type it was converted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalError(String);

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecimalError {}

/// Parses what the server's `numeric_in` accepts: optional surrounding whitespace (C's, not
/// Unicode's), a sign, digits with an optional decimal point, an optional exponent (`1.5e-3`,
/// below 1073741823 in magnitude), and `NaN`, `Infinity`, `inf` in any case. The scale is the
/// number of digits after the point, less the exponent.
impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(s: &str) -> Result<Decimal, DecimalError> {
        let err = |why: &str| DecimalError(format!("invalid numeric literal {s:?}: {why}"));
        let t = s.trim_matches(is_c_space);
        let (negative, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]), // The first byte is ASCII: index 1 is a boundary.
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if body.eq_ignore_ascii_case("nan") && body.len() == t.len() {
            return Ok(Decimal::nan());
        }
        if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
            return Ok(if negative {
                Decimal::neg_infinity()
            } else {
                Decimal::infinity()
            });
        }
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])), // 'e' is ASCII: boundaries hold.
            None => (body, None),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || !all_digits(frac_part) {
            return Err(err("unexpected character"));
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("no digits"));
        }
        let exponent: i64 = match exponent {
            None => 0,
            Some(e) => {
                /// `numeric_in` refuses exponents of this magnitude or more (`INT_MAX / 2`).
                const MAX_EXPONENT: i64 = 1_073_741_823;
                // The server reads the exponent with strtol, which skips leading whitespace.
                let e = e.trim_start_matches(is_c_space);
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) {
                    return Err(err("invalid exponent"));
                }
                // Leading zeros do not count: the server reads `1e0000000003` as 1000. More
                // than ten digits are beyond the limit below (and might overflow an i64).
                if digits.trim_start_matches('0').len() > 10 {
                    return Err(err("exponent out of range"));
                }
                let exponent: i64 = e.parse().map_err(|_| err("invalid exponent"))?;
                // The server's limit, whatever the digits: `0e1073741822` is 0, but
                // `0e1073741823` is refused.
                if exponent.abs() >= MAX_EXPONENT {
                    return Err(err("exponent out of range"));
                }
                exponent
            }
        };
        let decimal: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        let exponent = exponent - frac_part.len() as i64;
        Decimal::from_decimal_digits(negative, &decimal, exponent).map_err(|why| err(&why))
    }
}

/// The whitespace `numeric_in` skips around a literal (C's `isspace`): not Unicode's.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Decimal {
            fn from(v: $t) -> Decimal {
                let v = i128::from(v);
                Decimal::from_integer_exact(v < 0, v.unsigned_abs())
            }
        }
    )*};
}

from_integer!(i8, i16, i32, i64, u8, u16, u32, u64);

impl From<u128> for Decimal {
    fn from(v: u128) -> Decimal {
        Decimal::from_integer_exact(false, v)
    }
}

impl From<i128> for Decimal {
    fn from(v: i128) -> Decimal {
        Decimal::from_integer_exact(v < 0, v.unsigned_abs())
    }
}

/// The shortest decimal that reads back as the same `f64` (so `0.1` becomes `0.1`, not the
/// binary value's 55 digits); NaN and the infinities map to their `numeric` counterparts.
impl From<f64> for Decimal {
    fn from(v: f64) -> Decimal {
        if v.is_nan() {
            return Decimal::nan();
        }
        if v.is_infinite() {
            return if v > 0.0 {
                Decimal::infinity()
            } else {
                Decimal::neg_infinity()
            };
        }
        // Rust prints finite floats as plain decimals (no exponent) of at most ~330 digits,
        // which always parse.
        v.to_string().parse().unwrap_or_else(|_| Decimal::nan())
    }
}

/// As `From<f64>`, with the shortest decimal that reads back as the same `f32`.
impl From<f32> for Decimal {
    fn from(v: f32) -> Decimal {
        if v.is_finite() {
            v.to_string().parse().unwrap_or_else(|_| Decimal::nan())
        } else {
            Decimal::from(f64::from(v))
        }
    }
}

macro_rules! to_integer {
    ($($t:ty),*) => {$(
        /// Exact: fails unless the value is an integer (any scale: `7.00` is 7) in range.
        impl TryFrom<&Decimal> for $t {
            type Error = DecimalError;

            fn try_from(d: &Decimal) -> Result<$t, DecimalError> {
                let magnitude = d.integer_magnitude().map_err(DecimalError)?;
                let out_of_range =
                    || DecimalError(format!("{d} is out of range for {}", stringify!($t)));
                if d.is_sign_negative() {
                    let v = i128::try_from(magnitude)
                        .ok()
                        .and_then(i128::checked_neg)
                        .or_else(|| (magnitude == i128::MIN.unsigned_abs()).then_some(i128::MIN))
                        .ok_or_else(out_of_range)?;
                    <$t>::try_from(v).map_err(|_| out_of_range())
                } else {
                    <$t>::try_from(magnitude).map_err(|_| out_of_range())
                }
            }
        }

        impl TryFrom<Decimal> for $t {
            type Error = DecimalError;

            fn try_from(d: Decimal) -> Result<$t, DecimalError> {
                <$t>::try_from(&d)
            }
        }
    )*};
}

to_integer!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128);

impl ToSql for Decimal {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.to_wire(out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Decimal {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Decimal, BoxError> {
        Decimal::from_wire(raw)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}
