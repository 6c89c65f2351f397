//! `date`, `time`, `timestamp`, `timestamptz` and `interval` as the `jiff` crate's types
//! (feature `jiff`), on the wire formats and range checks of the chrono codecs
//! (src/types/datetime.rs):
//!
//! | SQL type | Rust type |
//! |---|---|
//! | `date` | `jiff::civil::Date` |
//! | `time` | `jiff::civil::Time` |
//! | `timestamp` | `jiff::civil::DateTime` |
//! | `timestamptz` | `jiff::Timestamp`, `jiff::ZonedDateTime` (sent as its instant, read in UTC) |
//! | `interval` | `jiff::Span`; `jiff::SignedDuration`, only of microseconds (see below) |
//!
//! Errors, never wrapping or panicking: `infinity` and `-infinity` (read them through
//! [`Timestamp`](crate::types::Timestamp)`<T>`), dates outside jiff's range (years -9999 to
//! 9999), `24:00:00` (a `civil::Time` ends at 23:59:59.999999999), and values outside the
//! server's ranges when sending. Sub-microsecond precision is truncated when sending, toward the
//! earlier instant, as for chrono's types.
//!
//! A `Span` keeps calendar units apart as an `interval` does, so it is the lossless match:
//! years and months are sent as months, weeks and days as days, and the rest as microseconds.
//! An interval is read as a span of months, days, hours, minutes, seconds and microseconds
//! (`1 year 2 mons 3 days 04:05:06.5` is `P14M3DT4H5M6.5S`); one with fields of both signs
//! (`1 mon -1 days`), which a `Span` cannot hold, or beyond a `Span`'s limits is an error.
//!
//! An `interval`'s months and days have no fixed length (a day across a daylight saving change
//! is 23 or 25 hours), so a `SignedDuration` is sent as microseconds with no days or months,
//! and only such an interval is read into one; any other is an error: read it as a `Span` or
//! an [`Interval`].

use bytes::{BufMut, BytesMut};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp, ZonedDateTime};

use crate::types::datetime::{
    read_date, read_timestamp, time_of_day, timestamp_in_range, write_date, PG_EPOCH_UNIX_MICROS,
    USECS_PER_SEC,
};
use crate::types::{fixed, FromSql, Interval, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

/// PostgreSQL's epoch, 2000-01-01 00:00.
const PG_EPOCH: DateTime = jiff::civil::datetime(2000, 1, 1, 0, 0, 0, 0);
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;

/// Microseconds since midnight; the sub-microsecond part is truncated.
fn time_micros(t: Time) -> i64 {
    let secs = i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second());
    secs * USECS_PER_SEC + i64::from(t.subsec_nanosecond() / 1000)
}

/// The time `micros` after midnight, which must be below 24 hours (checked by the callers).
fn micros_time(micros: i64, what: &'static str) -> Result<Time, BoxError> {
    let secs = micros.div_euclid(USECS_PER_SEC);
    let nanos = micros.rem_euclid(USECS_PER_SEC) * 1000;
    // Each part is checked to fit by `try_from`, and again by `Time::new`.
    let part = |v: i64| i8::try_from(v).unwrap_or(i8::MAX);
    Time::new(
        part(secs / 3600),
        part(secs / 60 % 60),
        part(secs % 60),
        i32::try_from(nanos).unwrap_or(i32::MAX),
    )
    .map_err(|_| InvalidValue::boxed(what, format!("invalid time of {micros} microseconds")))
}

/// Microseconds from 2000-01-01 00:00 to `dt`, truncated toward the earlier instant.
fn datetime_micros(dt: DateTime) -> i128 {
    dt.duration_since(PG_EPOCH).as_nanos().div_euclid(1000)
}

/// The date-time `micros` after 2000-01-01 00:00, or an error when jiff cannot hold it.
fn micros_datetime(micros: i64, what: &'static str, rust: &str) -> Result<DateTime, BoxError> {
    PG_EPOCH
        .checked_add(SignedDuration::from_micros(micros))
        .map_err(|_| {
            InvalidValue::boxed(
                what,
                format!("{micros} microseconds after 2000-01-01 is outside {rust}'s range"),
            )
        })
}

impl ToSql for Date {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // Whole days: the duration between two midnights is a multiple of 24 hours.
        let days = self.duration_since(PG_EPOCH.date()).as_hours() / 24;
        write_date(days, self, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Date {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Date, BoxError> {
        const RUST: &str = "jiff::civil::Date";
        let days = read_date(raw, RUST)?;
        // A civil date's days are 24 hours (no time zone, so no daylight saving), and 2^31
        // days of hours fit an i64 of seconds many times over.
        let step = SignedDuration::from_hours(i64::from(days) * 24);
        PG_EPOCH.date().checked_add(step).map_err(|_| {
            InvalidValue::boxed(
                "date",
                format!("{days} days after 2000-01-01 is outside {RUST}'s range"),
            )
        })
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
        micros_time(time_of_day(micros, "time", "jiff::civil::Time")?, "time")
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIME
    }
}

impl ToSql for DateTime {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = datetime_micros(*self);
        out.put_i64(timestamp_in_range(micros, "timestamp", self)?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for DateTime {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<DateTime, BoxError> {
        const RUST: &str = "jiff::civil::DateTime";
        micros_datetime(read_timestamp(raw, "timestamp", RUST)?, "timestamp", RUST)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = self.as_nanosecond().div_euclid(1000) - i128::from(PG_EPOCH_UNIX_MICROS);
        out.put_i64(timestamp_in_range(micros, "timestamptz", self)?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Timestamp {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Timestamp, BoxError> {
        const RUST: &str = "jiff::Timestamp";
        let micros = read_timestamp(raw, "timestamptz", RUST)?;
        micros
            .checked_add(PG_EPOCH_UNIX_MICROS)
            .and_then(|unix| Timestamp::from_microsecond(unix).ok())
            .ok_or_else(|| {
                InvalidValue::boxed(
                    "timestamptz",
                    format!("{micros} microseconds after 2000-01-01 is outside {RUST}'s range"),
                )
            })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// A `timestamptz` is an instant: the value is sent as its instant, whatever its time zone.
impl ToSql for ZonedDateTime {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.timestamp().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    crate::to_sql_checked!();
}

/// The instant in the UTC time zone: the binary format carries no zone (give the value its
/// zone with `with_time_zone`).
impl FromSql<'_> for ZonedDateTime {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<ZonedDateTime, BoxError> {
        Ok(Timestamp::from_sql(ty, raw)?.to_zoned_datetime(TimeZone::UTC))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// Sent as an interval of microseconds only (no days, no months); see the module documentation.
impl ToSql for SignedDuration {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let micros = i64::try_from(self.as_nanos().div_euclid(1000)).map_err(|_| {
            InvalidValue::boxed(
                "interval",
                format!("jiff::SignedDuration {self} is outside the range of its microseconds"),
            )
        })?;
        Interval::new(0, 0, micros).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for SignedDuration {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<SignedDuration, BoxError> {
        let micros = super::fixed_length_interval(ty, raw, "jiff::SignedDuration")?;
        Ok(SignedDuration::from_micros(micros))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

impl ToSql for Span {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // Every field carries the span's sign; i64 and i128 hold any span's totals exactly.
        let months = i64::from(self.get_years()) * 12 + i64::from(self.get_months());
        let days = i64::from(self.get_weeks()) * 7 + i64::from(self.get_days());
        let micros = i128::from(self.get_hours()) * i128::from(USECS_PER_HOUR)
            + i128::from(self.get_minutes()) * i128::from(USECS_PER_MINUTE)
            + i128::from(self.get_seconds()) * i128::from(USECS_PER_SEC)
            + i128::from(self.get_milliseconds()) * 1000
            + i128::from(self.get_microseconds())
            + i128::from(self.get_nanoseconds()).div_euclid(1000);
        let too_big = |field: &str| {
            InvalidValue::boxed(
                "interval",
                format!("jiff::Span {self}: its {field} are outside the interval's range"),
            )
        };
        let interval = Interval::new(
            i32::try_from(months).map_err(|_| too_big("months"))?,
            i32::try_from(days).map_err(|_| too_big("days"))?,
            i64::try_from(micros).map_err(|_| too_big("microseconds"))?,
        );
        // PostgreSQL 17 reads these two as ±infinity, which no span means.
        if interval == Interval::INFINITY || interval == Interval::NEG_INFINITY {
            return Err(too_big("fields"));
        }
        interval.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Span {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<Span, BoxError> {
        let interval = Interval::from_sql(ty, raw)?;
        let fields = [
            i64::from(interval.months),
            i64::from(interval.days),
            interval.microseconds,
        ];
        if fields.iter().any(|&f| f > 0) && fields.iter().any(|&f| f < 0) {
            return Err(InvalidValue::boxed(
                "interval",
                format!("{interval} mixes positive and negative fields, which jiff::Span cannot"),
            ));
        }
        let micros = interval.microseconds;
        // Truncating division: every part keeps the sign of `micros`, as a span's fields must.
        let span = Span::new()
            .try_months(interval.months)
            .and_then(|s| s.try_days(interval.days))
            .and_then(|s| s.try_hours(micros / USECS_PER_HOUR))
            .and_then(|s| s.try_minutes(micros % USECS_PER_HOUR / USECS_PER_MINUTE))
            .and_then(|s| s.try_seconds(micros % USECS_PER_MINUTE / USECS_PER_SEC))
            .and_then(|s| s.try_microseconds(micros % USECS_PER_SEC));
        span.map_err(|e| {
            InvalidValue::boxed(
                "interval",
                format!("{interval} is outside jiff::Span's range: {e}"),
            )
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}
