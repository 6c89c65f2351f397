//! `interval` and [`Interval`]: months, days and microseconds, kept apart as the server keeps
//! them (a month is not a fixed number of days, nor a day of seconds across DST changes).
//!
//! Binary format (`interval_send`): `i64` microseconds, `i32` days, `i32` months.

use std::fmt;

use bytes::{BufMut, BytesMut};

use super::{fixed, FromSql, IsNull, ToSql, Type};
use crate::BoxError;

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;

/// A PostgreSQL `interval`.
///
/// Its [`Display`](fmt::Display) is the server's default output (`IntervalStyle = postgres`).
/// PostgreSQL 17's `infinity` and `-infinity` intervals are all three fields at their maximum,
/// or all at their minimum; [`Interval::INFINITY`] and [`Interval::NEG_INFINITY`].
///
/// ```
/// use tusk::types::Interval;
///
/// let i = Interval { months: 14, days: 3, microseconds: 14_706_789_000 };
/// assert_eq!(i.to_string(), "1 year 2 mons 3 days 04:05:06.789");
/// assert_eq!(Interval::new(0, -1, 7_380_000_000).to_string(), "-1 days +02:03:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Months (a year is 12).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

impl Interval {
    /// `infinity` (PostgreSQL 17 and later).
    pub const INFINITY: Interval = Interval {
        months: i32::MAX,
        days: i32::MAX,
        microseconds: i64::MAX,
    };

    /// `-infinity` (PostgreSQL 17 and later).
    pub const NEG_INFINITY: Interval = Interval {
        months: i32::MIN,
        days: i32::MIN,
        microseconds: i64::MIN,
    };

    /// The interval of `months`, `days` and `microseconds`.
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Interval {
        Interval {
            months,
            days,
            microseconds,
        }
    }
}

/// Appends ` [+]<value> <unit>[s]` for a nonzero field, as the server's postgres style does:
/// after a negative field, a positive one gets an explicit `+`.
fn write_part(
    f: &mut fmt::Formatter<'_>,
    value: i64,
    unit: &str,
    first: &mut bool,
    after_negative: &mut bool,
) -> fmt::Result {
    if value == 0 {
        return Ok(());
    }
    let space = if *first { "" } else { " " };
    let plus = if *after_negative && value > 0 {
        "+"
    } else {
        ""
    };
    let plural = if value != 1 { "s" } else { "" };
    write!(f, "{space}{plus}{value} {unit}{plural}")?;
    *after_negative = value < 0;
    *first = false;
    Ok(())
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Interval::INFINITY {
            return f.write_str("infinity");
        }
        if *self == Interval::NEG_INFINITY {
            return f.write_str("-infinity");
        }
        // Rust's `/` and `%` truncate toward zero like C's, so each part keeps the sign of its
        // field, as the server splits them.
        let months = i64::from(self.months);
        let (years, months) = (months / 12, months % 12);
        let time = self.microseconds;
        let hours = time / USECS_PER_HOUR;
        let minutes = time % USECS_PER_HOUR / USECS_PER_MINUTE;
        let seconds = time % USECS_PER_MINUTE / USECS_PER_SEC;
        let fraction = time % USECS_PER_SEC;

        let mut first = true;
        let mut after_negative = false;
        write_part(f, years, "year", &mut first, &mut after_negative)?;
        write_part(f, months, "mon", &mut first, &mut after_negative)?;
        write_part(f, self.days.into(), "day", &mut first, &mut after_negative)?;
        if first || time != 0 {
            let space = if first { "" } else { " " };
            let sign = if time < 0 {
                "-"
            } else if after_negative {
                "+"
            } else {
                ""
            };
            write!(
                f,
                "{space}{sign}{:02}:{:02}:{:02}",
                hours.unsigned_abs(),
                minutes.unsigned_abs(),
                seconds.unsigned_abs()
            )?;
            if fraction != 0 {
                let digits = format!("{:06}", fraction.unsigned_abs());
                write!(f, ".{}", digits.trim_end_matches('0'))?;
            }
        }
        Ok(())
    }
}

impl ToSql for Interval {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.microseconds);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for Interval {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Interval, BoxError> {
        let b = fixed::<16>("interval", raw)?;
        // Fixed offsets into a 16-byte array.
        let (micros, rest) = b.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(Interval {
            microseconds: i64::from_be_bytes(micros.try_into().unwrap_or([0; 8])),
            days: i32::from_be_bytes(days.try_into().unwrap_or([0; 4])),
            months: i32::from_be_bytes(months.try_into().unwrap_or([0; 4])),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}
