//! date, time, timestamp, timestamptz and interval as the `jiff` crate's types (feature `jiff`).

use jiff::civil::{self, Date, DateTime, Time};
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Span, Timestamp as JiffTimestamp};

use super::*;
use crate::types::Timestamp;

fn naive(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8, micro: i32) -> DateTime {
    civil::datetime(y, mo, d, h, mi, s, micro * 1000)
}

fn time(h: i8, m: i8, s: i8, micro: i32) -> Time {
    civil::time(h, m, s, micro * 1000)
}

fn name<T>() -> &'static str {
    std::any::type_name::<T>()
}

#[test]
fn date_vectors() {
    for (sql, bytes, value) in [
        (
            "date_send('2000-01-01')",
            "00000000",
            civil::date(2000, 1, 1),
        ),
        (
            "date_send('1999-12-31')",
            "ffffffff",
            civil::date(1999, 12, 31),
        ),
        (
            "date_send('2024-02-29')",
            "00002279",
            civil::date(2024, 2, 29),
        ),
        ("date_send('0001-01-01')", "fff4dbf9", civil::date(1, 1, 1)),
        // jiff counts a year 0, as chrono does: 1 BC is year 0.
        (
            "date_send('0001-12-31 BC')",
            "fff4dbf8",
            civil::date(0, 12, 31),
        ),
        (
            "date_send('4714-11-24 BC')",
            "ffda97a7",
            civil::date(-4713, 11, 24),
        ),
        ("date_send('9999-12-31')", "002c95d3", Date::MAX),
    ] {
        vector(&Type::DATE, sql, bytes, value);
    }
    let read = |bytes: &str| dec::<Date>(&Type::DATE, &hex(bytes));
    fails_with(
        read("002c95d4"), // date_send('10000-01-01')
        "invalid date value: 2921940 days after 2000-01-01 is outside jiff::civil::Date's range",
    );
    fails_with(read("7fda970c"), "outside jiff::civil::Date's range"); // 5874897-12-31
                                                                       // Below the server's range, yet a date: read as it is, as the chrono codec does.
    assert_eq!(read("ffda97a6").unwrap(), civil::date(-4713, 11, 23));
    fails_with(read("80000001"), "outside jiff::civil::Date's range");
    fails_with(
        read("7fffffff"),
        "infinity cannot be represented by jiff::civil::Date; read it as tusk::types::Timestamp",
    );
    fails_with(
        read("80000000"),
        "-infinity cannot be represented by jiff::civil::Date",
    );
    let inf: Timestamp<Date> = dec(&Type::DATE, &hex("7fffffff")).unwrap();
    assert_eq!(inf, Timestamp::PosInfinity);
    fails_with(
        encode(&civil::date(-4713, 11, 23), &Type::DATE),
        "invalid date value: -004713-11-23 is outside PostgreSQL's range",
    );
    fails_with(
        encode(&Date::MIN, &Type::DATE),
        "outside PostgreSQL's range",
    );
    encodes_exactly(&Date::MIN, name::<Date>(), &[Type::DATE]);
    decodes_exactly::<Date>(name::<Date>(), &[Type::DATE]);
}

#[test]
fn time_vectors() {
    for (sql, bytes, value) in [
        ("time_send('00:00')", "0000000000000000", Time::MIN),
        (
            "time_send('00:00:00.000001')",
            "0000000000000001",
            time(0, 0, 0, 1),
        ),
        (
            "time_send('12:34:56.789')",
            "0000000a8be62608",
            time(12, 34, 56, 789_000),
        ),
        (
            "time_send('23:59:59.999999')",
            "000000141dd75fff",
            time(23, 59, 59, 999_999),
        ),
    ] {
        vector(&Type::TIME, sql, bytes, value);
    }
    // Nanoseconds are truncated.
    assert_eq!(
        encode(&Time::MAX, &Type::TIME).unwrap(),
        hex("000000141dd75fff")
    );
    let read = |bytes: &str| dec::<Time>(&Type::TIME, &hex(bytes));
    fails_with(
        read("000000141dd76000"), // time_send('24:00')
        "invalid time value: 24:00:00 cannot be represented by jiff::civil::Time",
    );
    fails_with(read("8000000000000000"), "is outside 00:00:00 to 24:00:00");
    encodes_exactly(&Time::MAX, name::<Time>(), &[Type::TIME]);
    decodes_exactly::<Time>(name::<Time>(), &[Type::TIME]);
}

#[test]
fn timestamp_vectors() {
    for (sql, bytes, value) in [
        (
            "timestamp_send('2000-01-01 00:00')",
            "0000000000000000",
            naive(2000, 1, 1, 0, 0, 0, 0),
        ),
        (
            "timestamp_send('1999-12-31 23:59:59.999999')",
            "ffffffffffffffff",
            naive(1999, 12, 31, 23, 59, 59, 999_999),
        ),
        (
            "timestamp_send('1969-12-31 23:59:59.999999')",
            "fffca2fec4c81fff",
            naive(1969, 12, 31, 23, 59, 59, 999_999),
        ),
        (
            "timestamp_send('2024-02-29 12:34:56.123456')",
            "0002b58341685e40",
            naive(2024, 2, 29, 12, 34, 56, 123_456),
        ),
        (
            "timestamp_send('4714-11-24 00:00 BC')",
            "fd0f7cc1411fa000",
            naive(-4713, 11, 24, 0, 0, 0, 0),
        ),
        (
            "timestamp_send('9999-12-31 23:59:59.999999')",
            "0380e70b913b7fff",
            naive(9999, 12, 31, 23, 59, 59, 999_999),
        ),
    ] {
        vector(&Type::TIMESTAMP, sql, bytes, value);
    }
    // Sub-microsecond precision is truncated toward the earlier instant, before 2000 too.
    let before = civil::datetime(1999, 12, 31, 23, 59, 59, 999_999_999);
    assert_eq!(
        encode(&before, &Type::TIMESTAMP).unwrap(),
        hex("ffffffffffffffff")
    );
    let read = |bytes: &str| dec::<DateTime>(&Type::TIMESTAMP, &hex(bytes));
    fails_with(
        read("0380e70b913b8000"), // timestamp_send('10000-01-01 00:00')
        "invalid timestamp value: 252455616000000000 microseconds after 2000-01-01 is outside \
         jiff::civil::DateTime's range",
    );
    fails_with(
        read("8000000000000001"),
        "outside jiff::civil::DateTime's range",
    );
    fails_with(
        read("7fffffffffffffff"),
        "infinity cannot be represented by jiff::civil::DateTime",
    );
    fails_with(
        encode(&naive(-4713, 11, 23, 23, 59, 59, 0), &Type::TIMESTAMP),
        "invalid timestamp value: -004713-11-23T23:59:59 is outside PostgreSQL's range",
    );
    encodes_exactly(&before, name::<DateTime>(), &[Type::TIMESTAMP]);
    decodes_exactly::<DateTime>(name::<DateTime>(), &[Type::TIMESTAMP]);
}

#[test]
fn timestamptz_vectors() {
    let utc = |dt: DateTime| dt.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp();
    for (sql, bytes, value) in [
        (
            "timestamptz_send('2000-01-01 00:00+00')",
            "0000000000000000",
            utc(naive(2000, 1, 1, 0, 0, 0, 0)),
        ),
        (
            "timestamptz_send('1970-01-01 00:00+00')",
            "fffca2fec4c82000",
            JiffTimestamp::UNIX_EPOCH,
        ),
        (
            "timestamptz_send('2024-02-29 12:34:56.5+02')",
            "0002b5819446d520",
            utc(naive(2024, 2, 29, 10, 34, 56, 500_000)),
        ),
        (
            "timestamptz_send('9999-12-30 22:00:00.999999+00')",
            "0380e6f5c64c1a3f",
            JiffTimestamp::new(253_402_207_200, 999_999_000).unwrap(),
        ),
    ] {
        vector(&Type::TIMESTAMPTZ, sql, bytes, value);
        // A zoned date-time is sent as its instant.
        let zoned = value.to_zoned_datetime(TimeZone::fixed(tz::offset(2)));
        assert_eq!(
            encode(&zoned, &Type::TIMESTAMPTZ).unwrap(),
            hex(bytes),
            "{sql}"
        );
    }
    // jiff's last instant, to the microsecond.
    assert_eq!(
        encode(&JiffTimestamp::MAX, &Type::TIMESTAMPTZ).unwrap(),
        hex("0380e6f5c64c1a3f")
    );
    // One nanosecond before 2000 is the microsecond before it.
    let before = utc(civil::datetime(1999, 12, 31, 23, 59, 59, 999_999_999));
    assert_eq!(
        encode(&before, &Type::TIMESTAMPTZ).unwrap(),
        hex("ffffffffffffffff")
    );
    let read = |bytes: &str| dec::<JiffTimestamp>(&Type::TIMESTAMPTZ, &hex(bytes));
    fails_with(
        read("7fffffffffffffff"),
        "invalid timestamptz value: infinity cannot be represented by jiff::Timestamp",
    );
    fails_with(
        read("0380e6f5c64c1a40"), // timestamptz_send('9999-12-30 22:00:01+00')
        "invalid timestamptz value: 252455522401000000 microseconds after 2000-01-01 is \
         outside jiff::Timestamp's range",
    );
    // jiff's last instant is 9999-12-30 22:00 UTC, so that every offset has a civil time.
    fails_with(
        read("0380e70b913b7fff"), // timestamptz_send('9999-12-31 23:59:59.999999+00')
        "is outside jiff::Timestamp's range",
    );
    fails_with(
        read("8000000000000001"),
        "is outside jiff::Timestamp's range",
    );
    fails_with(
        encode(&JiffTimestamp::MIN, &Type::TIMESTAMPTZ),
        "outside PostgreSQL's range",
    );
    let rust = name::<JiffTimestamp>();
    encodes_exactly(&JiffTimestamp::MIN, rust, &[Type::TIMESTAMPTZ]);
    decodes_exactly::<JiffTimestamp>(rust, &[Type::TIMESTAMPTZ]);
    let zoned = JiffTimestamp::UNIX_EPOCH.to_zoned_datetime(TimeZone::UTC);
    encodes_exactly(&zoned, name::<jiff::ZonedDateTime>(), &[Type::TIMESTAMPTZ]);
    decodes_exactly::<jiff::ZonedDateTime>(name::<jiff::ZonedDateTime>(), &[Type::TIMESTAMPTZ]);
    // Read in UTC.
    let read: jiff::ZonedDateTime = dec(&Type::TIMESTAMPTZ, &hex("0002b5819446d520")).unwrap();
    assert_eq!(read.time_zone(), &TimeZone::UTC);
    assert_eq!(
        read.timestamp(),
        utc(naive(2024, 2, 29, 10, 34, 56, 500_000))
    );
    fails_with(
        dec::<jiff::ZonedDateTime>(&Type::TIMESTAMPTZ, &hex("7fffffffffffffff")),
        "infinity cannot be represented by jiff::Timestamp",
    );
}

#[test]
fn signed_duration_vectors() {
    for (sql, bytes, value) in [
        (
            "interval_send('0')",
            "00000000000000000000000000000000",
            SignedDuration::ZERO,
        ),
        (
            "interval_send('01:02:03.5')",
            "00000000ddf019e00000000000000000",
            SignedDuration::from_millis(3_723_500),
        ),
        (
            "interval_send('-00:00:00.000001')",
            "ffffffffffffffff0000000000000000",
            SignedDuration::from_micros(-1),
        ),
        (
            "interval_send('2562047788:00:54.775807')",
            "7fffffffffffffff0000000000000000",
            SignedDuration::from_micros(i64::MAX),
        ),
    ] {
        vector(&Type::INTERVAL, sql, bytes, value);
    }
    assert_eq!(
        encode(&SignedDuration::from_nanos(-1), &Type::INTERVAL).unwrap(),
        hex("ffffffffffffffff0000000000000000")
    );
    fails_with(
        encode(&SignedDuration::MAX, &Type::INTERVAL),
        "invalid interval value: jiff::SignedDuration",
    );
    let read = |bytes: &str| dec::<SignedDuration>(&Type::INTERVAL, &hex(bytes));
    fails_with(
        read("00000000000000000000000100000000"), // interval_send('1 day')
        "invalid interval value: 1 day has months or days, which have no fixed length in \
         jiff::SignedDuration; read it as tusk::types::Interval",
    );
    fails_with(
        read("000000000000000000000000ffffffff"),
        "-1 mons has months or days",
    );
    fails_with(
        read("80000000000000008000000080000000"), // PostgreSQL 17's -infinity
        "-infinity cannot be represented by jiff::SignedDuration",
    );
    let rust = name::<SignedDuration>();
    encodes_exactly(&SignedDuration::ZERO, rust, &[Type::INTERVAL]);
    decodes_exactly::<SignedDuration>(rust, &[Type::INTERVAL]);
}

/// Checks a server-captured interval both ways for a `Span`, which has no `PartialEq` (its
/// fields are compared one by one).
#[track_caller]
fn span_vector(sql: &str, bytes: &str, value: Span) {
    let raw = hex(bytes);
    let got: Span = dec(&Type::INTERVAL, &raw).unwrap_or_else(|e| panic!("decoding {sql}: {e}"));
    assert_eq!(got.fieldwise(), value.fieldwise(), "decoding {sql}");
    assert_eq!(
        encode(&value, &Type::INTERVAL).unwrap(),
        raw,
        "encoding {value} for {sql}"
    );
}

#[test]
fn span_vectors() {
    span_vector(
        "interval_send('0')",
        "00000000000000000000000000000000",
        Span::new(),
    );
    span_vector(
        "interval_send('1 year 2 mons 3 days 04:05:06.789')",
        "000000036c97ca88000000030000000e",
        Span::new()
            .months(14)
            .days(3)
            .hours(4)
            .minutes(5)
            .seconds(6)
            .microseconds(789_000),
    );
    span_vector(
        "interval_send('-1 year -2 mons -3 days -04:05:06.789')",
        "fffffffc93683578fffffffdfffffff2",
        -Span::new()
            .months(14)
            .days(3)
            .hours(4)
            .minutes(5)
            .seconds(6)
            .microseconds(789_000),
    );
    span_vector(
        "interval_send('-00:00:00.000001')",
        "ffffffffffffffff0000000000000000",
        Span::new().microseconds(-1),
    );
    span_vector(
        "interval_send('3 weeks')",
        "00000000000000000000001500000000",
        Span::new().days(21),
    );
    span_vector(
        "interval_send('19998 years')", // a Span's most months
        "0000000000000000000000000003a968",
        Span::new().months(239_976),
    );
    // Other shapes of the same interval encode the same.
    for (span, bytes) in [
        (
            Span::new()
                .years(1)
                .months(2)
                .days(3)
                .hours(4)
                .minutes(5)
                .seconds(6)
                .milliseconds(789),
            "000000036c97ca88000000030000000e",
        ),
        (Span::new().weeks(3), "00000000000000000000001500000000"),
        (
            Span::new().years(19_998),
            "0000000000000000000000000003a968",
        ),
        // Nanoseconds are truncated toward the more negative value.
        (
            Span::new().nanoseconds(-1),
            "ffffffffffffffff0000000000000000",
        ),
        (
            Span::new().nanoseconds(1999),
            "00000000000000010000000000000000",
        ),
    ] {
        assert_eq!(
            encode(&span, &Type::INTERVAL).unwrap(),
            hex(bytes),
            "{span}"
        );
    }
    let read = |bytes: &str| dec::<Span>(&Type::INTERVAL, &hex(bytes));
    fails_with(
        read("0000000000000000ffffffff00000001"), // interval_send('1 mon -1 day')
        "invalid interval value: 1 mon -1 days mixes positive and negative fields, which \
         jiff::Span cannot",
    );
    fails_with(
        read("00000001b7e1dd00ffffffff00000000"), // interval_send('-1 day +02:03')
        "mixes positive and negative fields",
    );
    fails_with(
        read("0000000000000000000000000003a969"), // interval_send('19998 years 1 mon')
        "invalid interval value: 19998 years 1 mon is outside jiff::Span's range",
    );
    fails_with(
        read("7fffffffffffffff0000000000000000"), // interval_send('2562047788:00:54.775807')
        "is outside jiff::Span's range",
    );
    fails_with(
        read("7fffffffffffffff7fffffff7fffffff"),
        "is outside jiff::Span's range",
    );
    fails_with(
        read("0000"),
        "invalid interval value: expected 16 bytes, got 2",
    );
    let rust = name::<Span>();
    encodes_exactly(&Span::new(), rust, &[Type::INTERVAL]);
    decodes_exactly::<Span>(rust, &[Type::INTERVAL]);
}
