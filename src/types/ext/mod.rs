//! Conversions for other crates' types, each behind the cargo feature named after the crate
//! (see the feature list in the module documentation of `tusk::types`). They add trait
//! implementations only. `ipnet`, `bit-vec` and `geo-types` convert through tusk's own types of
//! the same SQL types, so the wire formats and their checks are those of `super::net`,
//! `super::bits` and `super::geometry`; the numeric and date/time crates share the helpers of
//! `super::numeric` and `super::datetime`.

#[cfg(feature = "bit-vec")]
mod bit_vec;
#[cfg(feature = "geo-types")]
mod geo_types;
#[cfg(feature = "ipnet")]
mod ipnet;

#[cfg(feature = "bigdecimal")]
mod bigdecimal;
#[cfg(feature = "jiff")]
mod jiff;
#[cfg(feature = "rust_decimal")]
mod rust_decimal;
#[cfg(feature = "time")]
mod time;

/// A long value shortened for an error message (a `numeric` may have 147,455 digits).
#[cfg(any(feature = "rust_decimal", feature = "bigdecimal"))]
fn clip(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    // Decimal digits are ASCII, but any text may come here: cut at a character boundary.
    let cut = (0..=LIMIT)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} characters)", &text[..cut], text.len())
}

/// The microseconds of an `interval` that has no months and no days, for the duration types
/// (`time::Duration`, `jiff::SignedDuration`): neither a month nor a day has a fixed length (a
/// day across a daylight saving change is 23 or 25 hours), so an interval with either is an
/// error rather than a guess, as is PostgreSQL 17's `±infinity`.
#[cfg(any(feature = "time", feature = "jiff"))]
fn fixed_length_interval(
    ty: &crate::types::Type,
    raw: &[u8],
    rust: &str,
) -> Result<i64, crate::BoxError> {
    use crate::types::{FromSql, Interval, InvalidValue};

    let interval = Interval::from_sql(ty, raw)?;
    if interval == Interval::INFINITY || interval == Interval::NEG_INFINITY {
        return Err(InvalidValue::boxed(
            "interval",
            format!("{interval} cannot be represented by {rust}"),
        ));
    }
    if interval.months != 0 || interval.days != 0 {
        return Err(InvalidValue::boxed(
            "interval",
            format!(
                "{interval} has months or days, which have no fixed length in {rust}; \
                 read it as tusk::types::Interval"
            ),
        ));
    }
    Ok(interval.microseconds)
}
