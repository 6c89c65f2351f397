//! date, time, timestamp, timestamptz and interval as the `time` crate's types (feature `time`).

use time::{
    Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcDateTime, UtcOffset,
};

use super::*;
use crate::types::Timestamp;

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
}

fn time(h: u8, m: u8, s: u8, micro: u32) -> Time {
    Time::from_hms_micro(h, m, s, micro).unwrap()
}

fn naive(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, micro: u32) -> PrimitiveDateTime {
    PrimitiveDateTime::new(date(y, mo, d), time(h, mi, s, micro))
}

#[test]
fn date_vectors() {
    for (sql, bytes, value) in [
        ("date_send('2000-01-01')", "00000000", date(2000, 1, 1)),
        ("date_send('1999-12-31')", "ffffffff", date(1999, 12, 31)),
        ("date_send('2024-02-29')", "00002279", date(2024, 2, 29)),
        ("date_send('0001-01-01')", "fff4dbf9", date(1, 1, 1)),
        // The time crate counts a year 0, as chrono does: 1 BC is year 0.
        ("date_send('0001-12-31 BC')", "fff4dbf8", date(0, 12, 31)),
        (
            "date_send('4714-11-24 BC')",
            "ffda97a7",
            date(-4713, 11, 24),
        ),
        ("date_send('9999-12-31')", "002c95d3", date(9999, 12, 31)),
    ] {
        vector(&Type::DATE, sql, bytes, value);
    }
    let read = |bytes: &str| dec::<Date>(&Type::DATE, &hex(bytes));
    // date_send('10000-01-01'): past time's range (without its large-dates feature).
    fails_with(
        read("002c95d4"),
        "invalid date value: 2921940 days after 2000-01-01 is outside time::Date's range",
    );
    fails_with(read("7fda970c"), "outside time::Date's range"); // 5874897-12-31
    fails_with(
        read("7fffffff"),
        "infinity cannot be represented by time::Date; read it as tusk::types::Timestamp",
    );
    fails_with(
        read("80000000"),
        "-infinity cannot be represented by time::Date",
    );
    fails_with(
        read("000000"),
        "invalid date value: expected 4 bytes, got 3",
    );
    // Through Timestamp<T>, infinity reads and writes.
    for (bytes, value) in [
        ("7fffffff", Timestamp::PosInfinity),
        ("80000000", Timestamp::NegInfinity),
        ("00002279", Timestamp::Value(date(2024, 2, 29))),
    ] {
        vector(&Type::DATE, "date_send(...)", bytes, value);
    }
    // Before the server's first date.
    fails_with(
        encode(&date(-4713, 11, 23), &Type::DATE),
        "invalid date value: -4713-11-23 is outside PostgreSQL's range",
    );
    fails_with(
        encode(&Date::MIN, &Type::DATE),
        "outside PostgreSQL's range",
    );
    encodes_exactly(&Date::MIN, std::any::type_name::<Date>(), &[Type::DATE]);
    decodes_exactly::<Date>(std::any::type_name::<Date>(), &[Type::DATE]);
}

#[test]
fn time_vectors() {
    for (sql, bytes, value) in [
        ("time_send('00:00')", "0000000000000000", time(0, 0, 0, 0)),
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
    let nanos = Time::from_hms_nano(23, 59, 59, 999_999_999).unwrap();
    assert_eq!(
        encode(&nanos, &Type::TIME).unwrap(),
        hex("000000141dd75fff")
    );
    let read = |bytes: &str| dec::<Time>(&Type::TIME, &hex(bytes));
    fails_with(
        read("000000141dd76000"), // time_send('24:00')
        "invalid time value: 24:00:00 cannot be represented by time::Time",
    );
    fails_with(
        read("ffffffffffffffff"),
        "-1 microseconds is outside 00:00:00 to 24:00:00",
    );
    fails_with(read("000000141dd76001"), "is outside 00:00:00 to 24:00:00");
    encodes_exactly(&nanos, std::any::type_name::<Time>(), &[Type::TIME]);
    decodes_exactly::<Time>(std::any::type_name::<Time>(), &[Type::TIME]);
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
    let before = PrimitiveDateTime::new(
        date(1999, 12, 31),
        Time::from_hms_nano(23, 59, 59, 999_999_999).unwrap(),
    );
    assert_eq!(
        encode(&before, &Type::TIMESTAMP).unwrap(),
        hex("ffffffffffffffff")
    );
    let read = |bytes: &str| dec::<PrimitiveDateTime>(&Type::TIMESTAMP, &hex(bytes));
    fails_with(
        read("0380e70b913b8000"), // timestamp_send('10000-01-01 00:00')
        "invalid timestamp value: 2921940 days after 2000-01-01 is outside \
         time::PrimitiveDateTime's range",
    );
    fails_with(
        read("7fffff5bb3b29fff"),
        "outside time::PrimitiveDateTime's range",
    );
    fails_with(
        read("7fffffffffffffff"),
        "infinity cannot be represented by time::Primitive",
    );
    fails_with(read("8000000000000000"), "-infinity cannot be represented");
    let inf: Timestamp<PrimitiveDateTime> =
        dec(&Type::TIMESTAMP, &hex("8000000000000000")).unwrap();
    assert_eq!(inf, Timestamp::NegInfinity);
    fails_with(
        encode(&naive(-4713, 11, 23, 23, 59, 59, 0), &Type::TIMESTAMP),
        "invalid timestamp value: -4713-11-23 23:59:59.0 is outside PostgreSQL's range",
    );
    let rust = std::any::type_name::<PrimitiveDateTime>();
    encodes_exactly(&before, rust, &[Type::TIMESTAMP]);
    decodes_exactly::<PrimitiveDateTime>(rust, &[Type::TIMESTAMP]);
}

#[test]
fn timestamptz_vectors() {
    let utc = |dt: PrimitiveDateTime| dt.assume_utc();
    let plus_two = UtcOffset::from_hms(2, 0, 0).unwrap();
    for (sql, bytes, value) in [
        (
            "timestamptz_send('2000-01-01 00:00+00')",
            "0000000000000000",
            utc(naive(2000, 1, 1, 0, 0, 0, 0)),
        ),
        (
            "timestamptz_send('1970-01-01 00:00+00')",
            "fffca2fec4c82000",
            OffsetDateTime::UNIX_EPOCH,
        ),
        (
            "timestamptz_send('2024-02-29 12:34:56.5+02')",
            "0002b5819446d520",
            naive(2024, 2, 29, 12, 34, 56, 500_000).assume_offset(plus_two),
        ),
        (
            "timestamptz_send('9999-12-31 23:59:59.999999+00')",
            "0380e70b913b7fff",
            utc(naive(9999, 12, 31, 23, 59, 59, 999_999)),
        ),
    ] {
        vector(&Type::TIMESTAMPTZ, sql, bytes, value);
        let read: OffsetDateTime = dec(&Type::TIMESTAMPTZ, &hex(bytes)).unwrap();
        assert_eq!(read.offset(), UtcOffset::UTC, "{sql}");
        let utc_value = UtcDateTime::from_unix_timestamp_nanos(value.unix_timestamp_nanos());
        vector(&Type::TIMESTAMPTZ, sql, bytes, utc_value.unwrap());
    }
    // One nanosecond before 2000 is the microsecond before it.
    let before = utc(naive(2000, 1, 1, 0, 0, 0, 0)) - Duration::nanoseconds(1);
    assert_eq!(
        encode(&before, &Type::TIMESTAMPTZ).unwrap(),
        hex("ffffffffffffffff")
    );
    fails_with(
        dec::<OffsetDateTime>(&Type::TIMESTAMPTZ, &hex("7fffffffffffffff")),
        "invalid timestamptz value: infinity cannot be represented by time::OffsetDateTime",
    );
    fails_with(
        dec::<UtcDateTime>(&Type::TIMESTAMPTZ, &hex("0380e70b913b8000")),
        "is outside time::UtcDateTime's range",
    );
    // A date the server has no timestamp for.
    let early = utc(naive(-4713, 11, 23, 0, 0, 0, 0));
    fails_with(
        encode(&early, &Type::TIMESTAMPTZ),
        "outside PostgreSQL's range",
    );
    let rust = std::any::type_name::<OffsetDateTime>();
    encodes_exactly(&early, rust, &[Type::TIMESTAMPTZ]);
    decodes_exactly::<OffsetDateTime>(rust, &[Type::TIMESTAMPTZ]);
    let rust = std::any::type_name::<UtcDateTime>();
    encodes_exactly(&UtcDateTime::UNIX_EPOCH, rust, &[Type::TIMESTAMPTZ]);
    decodes_exactly::<UtcDateTime>(rust, &[Type::TIMESTAMPTZ]);
}

#[test]
fn duration_vectors() {
    for (sql, bytes, value) in [
        (
            "interval_send('0')",
            "00000000000000000000000000000000",
            Duration::ZERO,
        ),
        (
            "interval_send('01:02:03.5')",
            "00000000ddf019e00000000000000000",
            Duration::milliseconds(3_723_500),
        ),
        (
            "interval_send('-00:00:00.000001')",
            "ffffffffffffffff0000000000000000",
            Duration::microseconds(-1),
        ),
        (
            "interval_send('2562047788:00:54.775807')",
            "7fffffffffffffff0000000000000000",
            Duration::microseconds(i64::MAX),
        ),
    ] {
        vector(&Type::INTERVAL, sql, bytes, value);
    }
    // Sub-microsecond precision is truncated toward the earlier (more negative) value.
    assert_eq!(
        encode(&Duration::nanoseconds(-1), &Type::INTERVAL).unwrap(),
        hex("ffffffffffffffff0000000000000000")
    );
    fails_with(
        encode(&Duration::MAX, &Type::INTERVAL),
        "invalid interval value: time::Duration",
    );
    let read = |bytes: &str| dec::<Duration>(&Type::INTERVAL, &hex(bytes));
    for (bytes, shown) in [
        ("00000000000000000000000100000000", "1 day"), // interval_send('1 day')
        ("000000000000000000000000ffffffff", "-1 mons"), // interval_send('-1 mons')
        ("0000000000000000ffffffff00000001", "1 mon -1 days"), // interval_send('1 mon -1 day')
    ] {
        fails_with(
            read(bytes),
            &format!(
                "invalid interval value: {shown} has months or days, which have no fixed \
                 length in time::Duration; read it as tusk::types::Interval"
            ),
        );
    }
    // PostgreSQL 17's infinity: every field at its maximum.
    fails_with(
        read("7fffffffffffffff7fffffff7fffffff"),
        "infinity cannot be represented by time::Duration",
    );
    fails_with(
        read("00"),
        "invalid interval value: expected 16 bytes, got 1",
    );
    let rust = std::any::type_name::<Duration>();
    encodes_exactly(&Duration::ZERO, rust, &[Type::INTERVAL]);
    decodes_exactly::<Duration>(rust, &[Type::INTERVAL]);
}
