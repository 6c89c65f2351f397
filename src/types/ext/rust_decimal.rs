//! `numeric` as `rust_decimal::Decimal` (feature `rust_decimal`), through tusk's own
//! [`Decimal`] codec.
//!
//! A `rust_decimal::Decimal` is a 96-bit integer mantissa scaled by 10^-0 to 10^-28. Every one
//! is a `numeric`: it is sent exactly, its scale as the display scale (`1.50` stays `1.50`;
//! `-0` is sent as `0`, as `numeric` has no negative zero). Reading is exact or an
//! [`InvalidValue`] error naming `numeric` and `rust_decimal::Decimal`: `NaN`, `±Infinity`,
//! magnitudes above 79228162514264337593543950335, and nonzero digits beyond the 28th decimal
//! place are refused rather than rounded. A display scale above 28 whose further digits are all
//! zeros (any value of a `numeric(40, 30)` column that fits) is read with the scale shortened to
//! 28: the value is exact, only trailing zeros are lost.
//!
//! Widening (see the module documentation of `tusk::types`): `int2`, `int4` and `int8` values
//! read into it too, exactly; it is sent only as `numeric`.

use bytes::BytesMut;
use rust_decimal::Decimal as RustDecimal;

use super::clip;
use crate::types::{Decimal, FromSql, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

const RUST: &str = "rust_decimal::Decimal";

impl ToSql for RustDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // The scale is at most 28 (well below numeric's 16383) and the mantissa below 2^96:
        // every value converts. Checked anyway, as the conversion is fallible in general.
        let invalid = |why: String| InvalidValue::boxed("numeric", why);
        let scale = u16::try_from(self.scale())
            .map_err(|_| invalid(format!("{RUST} scale {} is too large", self.scale())))?;
        Decimal::new(self.mantissa(), scale)
            .map_err(|e| invalid(e.to_string()))?
            .to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for RustDecimal {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<RustDecimal, BoxError> {
        if *ty != Type::NUMERIC {
            // int2, int4 or int8 (`accepts`): every i64 fits the 96-bit mantissa.
            return Ok(RustDecimal::from(i64::from_sql(ty, raw)?));
        }
        let value = Decimal::from_sql(ty, raw)?;
        let Some((negative, digits, scale)) = value.scaled_digits() else {
            return Err(InvalidValue::boxed(
                "numeric",
                format!("{value} cannot be represented by {RUST}"),
            ));
        };
        from_scaled(negative, &digits, scale).map_err(|why| {
            InvalidValue::boxed("numeric", format!("{} {why}", clip(&value.to_string())))
        })
    }

    fn accepts(ty: &Type) -> bool {
        crate::types::type_in!(ty, NUMERIC, INT2, INT4, INT8)
    }
}

/// `±digits × 10^-scale` (`digits` ASCII without leading zeros), or why it does not fit.
fn from_scaled(negative: bool, digits: &str, scale: u16) -> Result<RustDecimal, String> {
    let max_scale = RustDecimal::MAX_SCALE;
    let mut digits = digits;
    let mut scale = u32::from(scale);
    if scale > max_scale {
        // Only zeros may go: the digits of the places past the 28th are the last ones.
        let extra = (scale - max_scale) as usize; // At most 16383 - 28.
        let (kept, dropped) = digits.split_at(digits.len().saturating_sub(extra));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(format!(
                "has nonzero digits beyond {RUST}'s {max_scale} decimal places"
            ));
        }
        digits = if kept.is_empty() { "0" } else { kept };
        scale = max_scale;
    }
    let out_of_range =
        || format!("is outside {RUST}'s range (magnitudes up to 79228162514264337593543950335)");
    // More than 39 digits do not even fit an i128: the parse fails, as it should.
    let magnitude: i128 = digits.parse().map_err(|_| out_of_range())?;
    let mantissa = if negative { -magnitude } else { magnitude };
    RustDecimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| out_of_range())
}
