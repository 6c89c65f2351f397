//! `date`, `time`, `timetz`, `timestamp` and `timestamptz` as chrono types, [`TimeTz`], and the
//! [`Timestamp`] wrapper that carries PostgreSQL's `infinity` and `-infinity`.
//!
//! On the wire a date is an `i32` count of days since 2000-01-01, a time an `i64` count of
//! microseconds since midnight (up to and including 24:00:00), a timestamp an `i64` count of
//! microseconds since 2000-01-01 00:00 (UTC for `timestamptz`). `i32::MAX`/`i64::MAX` mean
//! `infinity` and the minimums `-infinity`. A `timetz` is the time followed by an `i32` zone
//! offset in seconds *west* of UTC (the reverse of ISO 8601's sign).
//!
//! Sub-microsecond precision is truncated when encoding (toward the earlier instant).

use std::fmt;

use bytes::{BufMut, BytesMut};
use chrono::{
    DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc,
};

use super::{fixed, FromSql, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

/// `NaiveDate::num_days_from_ce` of 2000-01-01, PostgreSQL's epoch.
const PG_EPOCH_DAYS_FROM_CE: i32 = 730_120;
/// Microseconds from 1970-01-01 to 2000-01-01.
pub(crate) const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;
pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;
/// The server's valid date range, in days since 2000-01-01: 4714-11-24 BC up to (excluding)
/// 5874898-01-01 (`IS_VALID_DATE`).
const DATE_MIN: i32 = -2_451_545;
const DATE_END: i32 = 2_145_031_949;
/// The server's valid timestamp range, in microseconds since 2000-01-01: 4714-11-24 00:00 BC up
/// to (excluding) 294277-01-01 (`IS_VALID_TIMESTAMP`).
const TIMESTAMP_MIN: i64 = -211_813_488_000_000_000;
const TIMESTAMP_END: i64 = 9_223_371_331_200_000_000;
/// A `timetz` offset must be strictly within ±16 hours (`TZDISP_LIMIT`).
const TZDISP_LIMIT: i32 = 16 * 3600;

/// A `date`, `timestamp` or `timestamptz` that may be `infinity` or `-infinity`.
///
/// The chrono types cannot represent PostgreSQL's infinite values, so reading one into them is
/// an error; wrap the type in `Timestamp` to read (and write) them. The variants are ordered as
/// the server orders the values.
///
/// ```
/// use chrono::NaiveDate;
/// use tusk::types::{FromSql, Timestamp, Type};
///
/// let raw = i32::MAX.to_be_bytes(); // a date column holding 'infinity'
/// let d = Timestamp::<NaiveDate>::from_sql(&Type::DATE, &raw).unwrap();
/// assert_eq!(d, Timestamp::PosInfinity);
/// assert!(NaiveDate::from_sql(&Type::DATE, &raw).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timestamp<T> {
    /// `-infinity`, before every other value.
    NegInfinity,
    /// A finite value.
    Value(T),
    /// `infinity`, after every other value.
    PosInfinity,
}

impl<T: ToSql> ToSql for Timestamp<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let positive = match self {
            Timestamp::Value(v) => return v.to_sql(ty, out),
            Timestamp::NegInfinity => false,
            Timestamp::PosInfinity => true,
        };
        if *ty == Type::DATE {
            out.put_i32(if positive { i32::MAX } else { i32::MIN });
        } else {
            out.put_i64(if positive { i64::MAX } else { i64::MIN });
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, DATE, TIMESTAMP, TIMESTAMPTZ) && T::accepts(ty)
    }

    crate::to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Timestamp<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Timestamp<T>, BoxError> {
        let infinite = if *ty == Type::DATE {
            match i32::from_be_bytes(fixed("date", raw)?) {
                i32::MAX => Some(Timestamp::PosInfinity),
                i32::MIN => Some(Timestamp::NegInfinity),
                _ => None,
            }
        } else {
            match i64::from_be_bytes(fixed("timestamp", raw)?) {
                i64::MAX => Some(Timestamp::PosInfinity),
                i64::MIN => Some(Timestamp::NegInfinity),
                _ => None,
            }
        };
        match infinite {
            Some(inf) => Ok(inf),
            None => T::from_sql(ty, raw).map(Timestamp::Value),
        }
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, DATE, TIMESTAMP, TIMESTAMPTZ) && T::accepts(ty)
    }
}

fn infinity_error(what: &'static str, rust: &str, positive: bool) -> BoxError {
    let sign = if positive { "" } else { "-" };
    InvalidValue::boxed(
        what,
        format!(
            "{sign}infinity cannot be represented by {rust}; read it as \
             tusk::types::Timestamp<{rust}>"
        ),
    )
}

/// The wire value of a `timestamp` or `timestamptz` (`what`) `micros` after 2000-01-01 00:00,
/// or an error naming `shown` when it is outside the server's range. Shared with the other
/// crates' date-times (src/types/ext/), which compute `micros` in an i128 so nothing overflows.
pub(crate) fn timestamp_in_range(
    micros: i128,
    what: &'static str,
    shown: &dyn fmt::Display,
) -> Result<i64, BoxError> {
    i64::try_from(micros)
        .ok()
        .filter(|m| (TIMESTAMP_MIN..TIMESTAMP_END).contains(m))
        .ok_or_else(|| {
            InvalidValue::boxed(
                what,
                format!("{shown} is outside PostgreSQL's range (4713 BC to 294276 AD)"),
            )
        })
}

/// Microseconds since 2000-01-01 00:00 of a naive (UTC or local) date-time, checked against the
/// server's range.
fn naive_to_pg(dt: &NaiveDateTime, what: &'static str) -> Result<i64, BoxError> {
    let utc = dt.and_utc();
    // chrono's range (±262143 years) and i128 keep this far from overflow.
    let micros = i128::from(utc.timestamp()) * i128::from(USECS_PER_SEC)
        + i128::from(utc.timestamp_subsec_micros())
        - i128::from(PG_EPOCH_UNIX_MICROS);
    timestamp_in_range(micros, what, dt)
}

/// The microseconds after 2000-01-01 00:00 of a `timestamp` or `timestamptz` (`what`) value, or
/// an error for infinity, which `rust` cannot represent. Shared with src/types/ext/.
pub(crate) fn read_timestamp(raw: &[u8], what: &'static str, rust: &str) -> Result<i64, BoxError> {
    let micros = i64::from_be_bytes(fixed(what, raw)?);
    match micros {
        i64::MAX => Err(infinity_error(what, rust, true)),
        i64::MIN => Err(infinity_error(what, rust, false)),
        _ => Ok(micros),
    }
}

/// The UTC date-time `micros` after 2000-01-01 00:00, or an error for infinity and for values
/// outside chrono's range.
fn pg_to_utc(raw: &[u8], what: &'static str, rust: &str) -> Result<DateTime<Utc>, BoxError> {
    let micros = read_timestamp(raw, what, rust)?;
    let unix = micros.checked_add(PG_EPOCH_UNIX_MICROS);
    unix.and_then(|u| {
        let nanos = u.rem_euclid(USECS_PER_SEC) * 1000; // < 1e9: fits u32.
        DateTime::from_timestamp(u.div_euclid(USECS_PER_SEC), nanos as u32)
    })
    .ok_or_else(|| {
        InvalidValue::boxed(
            what,
            format!("{micros} microseconds after 2000-01-01 is outside {rust}'s range"),
        )
    })
}

/// Writes a `date` `days` after 2000-01-01, or fails naming `shown` when it is outside the
/// server's range. Shared with src/types/ext/.
pub(crate) fn write_date(
    days: i64,
    shown: &dyn fmt::Display,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let days = i32::try_from(days)
        .ok()
        .filter(|d| (DATE_MIN..DATE_END).contains(d))
        .ok_or_else(|| {
            InvalidValue::boxed(
                "date",
                format!("{shown} is outside PostgreSQL's range (4714-11-24 BC to 5874897 AD)"),
            )
        })?;
    out.put_i32(days);
    Ok(IsNull::No)
}

/// The days after 2000-01-01 of a `date` value, or an error for infinity, which `rust` cannot
/// represent. Shared with src/types/ext/.
pub(crate) fn read_date(raw: &[u8], rust: &str) -> Result<i32, BoxError> {
    match i32::from_be_bytes(fixed("date", raw)?) {
        i32::MAX => Err(infinity_error("date", rust, true)),
        i32::MIN => Err(infinity_error("date", rust, false)),
        days => Ok(days),
    }
}

impl ToSql for NaiveDate {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // chrono's range: no overflow.
        let days = self.num_days_from_ce() - PG_EPOCH_DAYS_FROM_CE;
        write_date(days.into(), self, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for NaiveDate {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<NaiveDate, BoxError> {
        let days = read_date(raw, "NaiveDate")?;
        days.checked_add(PG_EPOCH_DAYS_FROM_CE)
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| {
                InvalidValue::boxed(
                    "date",
                    format!("{days} days after 2000-01-01 is outside NaiveDate's range"),
                )
            })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::DATE
    }
}

fn time_to_pg(t: &NaiveTime, what: &'static str) -> Result<i64, BoxError> {
    // A leap second has nanosecond() >= 1e9; at most 23:59:59 + 1s = 24:00:00 is valid.
    let micros =
        i64::from(t.num_seconds_from_midnight()) * USECS_PER_SEC + i64::from(t.nanosecond() / 1000);
    if micros > USECS_PER_DAY {
        return Err(InvalidValue::boxed(
            what,
            format!("{t} (a leap second) is past 24:00:00"),
        ));
    }
    Ok(micros)
}

/// Checks the microseconds since midnight of a `time` or `timetz` (`what`) value: within
/// 00:00:00 to 24:00:00, and not 24:00:00, which `rust` (a type of at most 23:59:59.999...)
/// cannot represent. Shared with src/types/ext/.
pub(crate) fn time_of_day(micros: i64, what: &'static str, rust: &str) -> Result<i64, BoxError> {
    if micros == USECS_PER_DAY {
        return Err(InvalidValue::boxed(
            what,
            format!("24:00:00 cannot be represented by {rust}"),
        ));
    }
    if !(0..USECS_PER_DAY).contains(&micros) {
        return Err(InvalidValue::boxed(
            what,
            format!("{micros} microseconds is outside 00:00:00 to 24:00:00"),
        ));
    }
    Ok(micros)
}

fn pg_to_time(micros: i64, what: &'static str) -> Result<NaiveTime, BoxError> {
    let micros = time_of_day(micros, what, "chrono::NaiveTime")?;
    let secs = (micros / USECS_PER_SEC) as u32; // < 86400.
    let nanos = (micros % USECS_PER_SEC * 1000) as u32; // < 1e9.
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
        .ok_or_else(|| InvalidValue::boxed(what, format!("invalid time {micros}")))
}

impl ToSql for NaiveTime {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(time_to_pg(self, "time")?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIME
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for NaiveTime {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<NaiveTime, BoxError> {
        pg_to_time(i64::from_be_bytes(fixed("time", raw)?), "time")
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIME
    }
}

impl ToSql for NaiveDateTime {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(naive_to_pg(self, "timestamp")?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for NaiveDateTime {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<NaiveDateTime, BoxError> {
        Ok(pg_to_utc(raw, "timestamp", "NaiveDateTime")?.naive_utc())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP
    }
}

/// A `timestamptz` is an instant: any time zone's `DateTime` is sent as its UTC instant.
impl<Tz: TimeZone> ToSql for DateTime<Tz> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(naive_to_pg(&self.naive_utc(), "timestamptz")?);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for DateTime<Utc> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<DateTime<Utc>, BoxError> {
        pg_to_utc(raw, "timestamptz", "DateTime<Utc>")
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// The instant with offset +00:00 (the binary format carries no zone).
impl FromSql<'_> for DateTime<FixedOffset> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<DateTime<FixedOffset>, BoxError> {
        Ok(pg_to_utc(raw, "timestamptz", "DateTime<FixedOffset>")?.fixed_offset())
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// The instant in this machine's local time zone.
impl FromSql<'_> for DateTime<Local> {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<DateTime<Local>, BoxError> {
        Ok(pg_to_utc(raw, "timestamptz", "DateTime<Local>")?.with_timezone(&Local))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

/// A `timetz`: a time of day with a UTC offset.
///
/// `offset` is east of UTC as usual in chrono (`+05:30` is `FixedOffset::east_opt(19800)`);
/// the conversion to the wire's seconds-west convention happens in the codec. PostgreSQL allows
/// offsets strictly within ±16 hours.
///
/// ```
/// use chrono::{FixedOffset, NaiveTime};
/// use tusk::types::TimeTz;
///
/// let t = TimeTz {
///     time: NaiveTime::from_hms_milli_opt(12, 34, 56, 789).unwrap(),
///     offset: FixedOffset::west_opt(8 * 3600).unwrap(),
/// };
/// assert_eq!(t.to_string(), "12:34:56.789-08");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeTz {
    /// The time of day.
    pub time: NaiveTime,
    /// The offset from UTC, positive east.
    pub offset: FixedOffset,
}

/// As the server prints it: `hh:mm:ss[.ffffff]` then the offset as `±hh[:mm[:ss]]`.
impl fmt::Display for TimeTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time.format("%H:%M:%S"))?;
        let micros = self.time.nanosecond() / 1000;
        if micros != 0 {
            let frac = format!("{micros:06}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        let east = self.offset.local_minus_utc();
        let sign = if east < 0 { '-' } else { '+' };
        let abs = east.unsigned_abs();
        let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
        write!(f, "{sign}{h:02}")?;
        if m != 0 || s != 0 {
            write!(f, ":{m:02}")?;
        }
        if s != 0 {
            write!(f, ":{s:02}")?;
        }
        Ok(())
    }
}

impl ToSql for TimeTz {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let west = -self.offset.local_minus_utc();
        if west <= -TZDISP_LIMIT || west >= TZDISP_LIMIT {
            return Err(InvalidValue::boxed(
                "timetz",
                format!(
                    "offset {} is outside PostgreSQL's range (within ±16 hours)",
                    self.offset
                ),
            ));
        }
        out.put_i64(time_to_pg(&self.time, "timetz")?);
        out.put_i32(west);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMETZ
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for TimeTz {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<TimeTz, BoxError> {
        let bytes = fixed::<12>("timetz", raw)?;
        let (time, zone) = bytes.split_at(8);
        // `split_at(8)` of 12 bytes: 8 and 4.
        let micros = i64::from_be_bytes(time.try_into().unwrap_or([0; 8]));
        let west = i32::from_be_bytes(zone.try_into().unwrap_or([0; 4]));
        if west <= -TZDISP_LIMIT || west >= TZDISP_LIMIT {
            return Err(InvalidValue::boxed(
                "timetz",
                format!("time zone displacement {west} is out of range"),
            ));
        }
        let offset = FixedOffset::west_opt(west)
            .ok_or_else(|| InvalidValue::boxed("timetz", format!("invalid offset {west}")))?;
        Ok(TimeTz {
            time: pg_to_time(micros, "timetz")?,
            offset,
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMETZ
    }
}
