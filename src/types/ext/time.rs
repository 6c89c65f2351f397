//! `date`, `time`, `timestamp`, `timestamptz` and `interval` as the `time` crate's types
//! (feature `time`), on the wire formats and range checks of the chrono codecs
//! (src/types/datetime.rs):
//!
//! | SQL type | Rust type |
//! |---|---|
//! | `date` | `time::Date` |
//! | `time` | `time::Time` |
//! | `timestamp` | `time::PrimitiveDateTime` |
//! | `timestamptz` | `time::OffsetDateTime` (read with offset UTC), `time::UtcDateTime` |
//! | `interval` | `time::Duration`, only of microseconds (see below) |
//!
//! Errors, never wrapping or panicking: `infinity` and `-infinity` (read them through
//! [`Timestamp`](crate::types::Timestamp)`<T>`), dates outside the `time` crate's range (years
//! -9999 to 9999, or ±999999 with its `large-dates` feature), `24:00:00` (a `time::Time` ends
//! at 23:59:59.999999999), and values outside the server's ranges when sending. Sub-microsecond
//! precision is truncated when sending, toward the earlier instant, as for chrono's types.
//!
//! An `interval` keeps months, days and microseconds apart, and neither a month nor a day has
//! a fixed length (a day across a daylight saving change is 23 or 25 hours). So a
//! `time::Duration` is sent as microseconds with no days or months, and only such an interval
//! is read into one; any other is an error: read it as [`Interval`].

use bytes::{BufMut, BytesMut};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcDateTime};

use crate::types::datetime::{
    read_date, read_timestamp, time_of_day, timestamp_in_range, write_date, PG_EPOCH_UNIX_MICROS,
    USECS_PER_DAY, USECS_PER_SEC,
};
use crate::types::{fixed, FromSql, Interval, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

/// The Julian day number of 2000-01-01, PostgreSQL's epoch, as `Date::to_julian_day` counts.
const PG_EPOCH_JULIAN_DAY: i64 = 2_451_545;

/// Microseconds since midnight; the sub-microsecond part is truncated.
fn time_micros(t: Time) -> i64 {
    let (h, m, s, nanos) = t.as_hms_nano();
    (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * USECS_PER_SEC
        + i64::from(nanos / 1000)
}

/// The time `micros` after midnight, which must be below 24 hours (checked by the callers).
fn micros_time(micros: i64, what: &'static str) -> Result<Time, BoxError> {
    let secs = micros.div_euclid(USECS_PER_SEC);
    let micro = micros.rem_euclid(USECS_PER_SEC);
    // Each part is checked to fit by `try_from`, and again by `from_hms_micro`.
    let part = |v: i64| u8::try_from(v).unwrap_or(u8::MAX);
    Time::from_hms_micro(
        part(secs / 3600),
        part(secs / 60 % 60),
        part(secs % 60),
        u32::try_from(micro).unwrap_or(u32::MAX),
    )
    .map_err(|_| InvalidValue::boxed(what, format!("invalid time of {micros} microseconds")))
}

/// The date `days` after 2000-01-01, or an error when `time::Date` cannot hold it.
fn days_date(days: i64, what: &'static str, rust: &str) -> Result<Date, BoxError> {
    i32::try_from(days + PG_EPOCH_JULIAN_DAY)
        .ok()
        .and_then(|julian| Date::from_julian_day(julian).ok())
        .ok_or_else(|| {
            InvalidValue::boxed(
                what,
                format!("{days} days after 2000-01-01 is outside {rust}'s range"),
            )
        })
}

/// Days since 2000-01-01 (a `time::Date`'s Julian day is an i32: no overflow).
fn date_days(d: Date) -> i64 {
    i64::from(d.to_julian_day()) - PG_EPOCH_JULIAN_DAY
}

/// The date-time `micros` after 2000-01-01 00:00, or an error when `rust` cannot hold it.
fn micros_datetime(
    micros: i64,
    what: &'static str,
    rust: &str,
) -> Result<PrimitiveDateTime, BoxError> {
    let date = days_date(micros.div_euclid(USECS_PER_DAY), what, rust)?;
    let time = micros_time(micros.rem_euclid(USECS_PER_DAY), what)?;
    Ok(PrimitiveDateTime::new(date, time))
}

/// Microseconds from 2000-01-01 00:00 UTC to an instant given in Unix nanoseconds, truncated
/// toward the earlier instant.
fn instant_micros(unix_nanos: i128) -> i128 {
    unix_nanos.div_euclid(1000) - i128::from(PG_EPOCH_UNIX_MICROS)
}

impl ToSql for Date {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        write_date(date_days(*self), self, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Date {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Date, BoxError> {
        let days = read_date(raw, "time::Date")?;
        days_date(days.into(), "date", "time::Date")
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }
}

impl ToSql for Time {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(time_micros(*self));
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIME
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Time {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Time, BoxError> {
        let micros = i64::from_be_bytes(fixed("time", raw)?);
        micros_time(time_of_day(micros, "time", "time::Time")?, "time")
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIME
    }
}

impl ToSql for PrimitiveDateTime {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = i128::from(date_days(self.date())) * i128::from(USECS_PER_DAY)
            + i128::from(time_micros(self.time()));
        out.put_i64(timestamp_in_range(micros, "timestamp", self)?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for PrimitiveDateTime {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<PrimitiveDateTime, BoxError> {
        const RUST: &str = "time::PrimitiveDateTime";
        micros_datetime(read_timestamp(raw, "timestamp", RUST)?, "timestamp", RUST)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }
}

/// A `timestamptz` is an instant: the value is sent as its UTC instant, whatever its offset.
impl ToSql for OffsetDateTime {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = instant_micros(self.unix_timestamp_nanos());
        out.put_i64(timestamp_in_range(micros, "timestamptz", self)?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    crate::to_sql_checked!();
}

/// The instant with offset UTC (the binary format carries no zone).
impl FromSql<'_> for OffsetDateTime {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<OffsetDateTime, BoxError> {
        const RUST: &str = "time::OffsetDateTime";
        let micros = read_timestamp(raw, "timestamptz", RUST)?;
        Ok(micros_datetime(micros, "timestamptz", RUST)?.assume_utc())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

impl ToSql for UtcDateTime {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = instant_micros(self.unix_timestamp_nanos());
        out.put_i64(timestamp_in_range(micros, "timestamptz", self)?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for UtcDateTime {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<UtcDateTime, BoxError> {
        const RUST: &str = "time::UtcDateTime";
        let micros = read_timestamp(raw, "timestamptz", RUST)?;
        Ok(micros_datetime(micros, "timestamptz", RUST)?.as_utc())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// Sent as an interval of microseconds only (no days, no months); see the module documentation.
impl ToSql for Duration {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = self.whole_nanoseconds().div_euclid(1000);
        let micros = i64::try_from(micros).map_err(|_| {
            InvalidValue::boxed(
                "interval",
                format!("time::Duration {self} is outside the range of its microseconds"),
            )
        })?;
        Interval::new(0, 0, micros).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Duration {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<Duration, BoxError> {
        let micros = super::fixed_length_interval(ty, raw, "time::Duration")?;
        // Any i64 of microseconds is well within a Duration's i64 of seconds.
        Ok(Duration::microseconds(micros))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}
