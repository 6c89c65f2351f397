//! `numeric` as `bigdecimal::BigDecimal` (feature `bigdecimal`), through tusk's own
//! [`Decimal`] codec.
//!
//! Both are arbitrary-precision decimals, so every finite `numeric` reads exactly, with its
//! display scale as the `BigDecimal`'s scale (`1.50` reads as 150 × 10^-2). `NaN` and
//! `±Infinity`, which `BigDecimal` lacks, are [`InvalidValue`] errors naming `numeric` and
//! `bigdecimal::BigDecimal`.
//!
//! A `BigDecimal` is sent exactly, its scale as the display scale (a negative scale, as in
//! 1 × 10^5, is sent as the integer 100000). `numeric` has limits a `BigDecimal` has not:
//! at most 131072 digits before the point and a display scale of at most 16383. A value beyond
//! them is an [`InvalidValue`] error, as the server refuses such a literal; so is a scale above
//! 16383 even when the digits it adds are zeros (normalize such a value first).
//!
//! Widening (see the module documentation of `tusk::types`): `int2`, `int4` and `int8` values
//! read into it too; it is sent only as `numeric`.

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::BigDecimal;
use bytes::BytesMut;

use super::clip;
use crate::types::{Decimal, FromSql, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

const RUST: &str = "bigdecimal::BigDecimal";

impl ToSql for BigDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let (integer, scale) = self.as_bigint_and_scale();
        let invalid = |why: String| {
            InvalidValue::boxed(
                "numeric",
                format!("{RUST} {}: {why}", clip(&self.to_string())),
            )
        };
        // value = integer × 10^-scale; the scale is an i64, whose minimum has no negation.
        let exponent = scale
            .checked_neg()
            .ok_or_else(|| invalid(format!("scale {scale} is out of range")))?;
        let digits: Vec<u8> = (integer.magnitude().to_str_radix(10).bytes())
            .map(|b| b - b'0')
            .collect();
        let negative = integer.sign() == Sign::Minus;
        Decimal::from_decimal_digits(negative, &digits, exponent)
            .map_err(invalid)?
            .to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for BigDecimal {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<BigDecimal, BoxError> {
        if *ty != Type::NUMERIC {
            // int2, int4 or int8 (`accepts`).
            return Ok(BigDecimal::from(i64::from_sql(ty, raw)?));
        }
        let value = Decimal::from_sql(ty, raw)?;
        let Some((negative, digits, scale)) = value.scaled_digits() else {
            return Err(InvalidValue::boxed(
                "numeric",
                format!("{value} cannot be represented by {RUST}"),
            ));
        };
        // `digits` are ASCII decimal digits (at least one), which always parse.
        let magnitude = BigInt::parse_bytes(digits.as_bytes(), 10).ok_or_else(|| {
            InvalidValue::boxed("numeric", format!("invalid digits {}", clip(&digits)))
        })?;
        let integer = if negative { -magnitude } else { magnitude };
        Ok(BigDecimal::new(integer, i64::from(scale)))
    }

    fn accepts(ty: &Type) -> bool {
        crate::types::type_in!(ty, NUMERIC, INT2, INT4, INT8)
    }
}
