//! date, time, timestamp, timestamptz, timetz, interval and the Timestamp wrapper.

use chrono::{
    DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};

use super::*;
use crate::types::{Interval, TimeTz, Timestamp};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32, s: u32, micro: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, micro).unwrap()
}

fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> NaiveDateTime {
    date(y, mo, d).and_time(time(h, mi, s, micro))
}

#[test]
fn date_vectors() {
    vector(
        &Type::DATE,
        "date_send('2000-01-01')",
        "00000000",
        date(2000, 1, 1),
    );
    vector(
        &Type::DATE,
        "date_send('1999-12-31')",
        "ffffffff",
        date(1999, 12, 31),
    );
    vector(
        &Type::DATE,
        "date_send('2024-02-29')",
        "00002279",
        date(2024, 2, 29),
    );
    // Year 4714 BC is chrono's year -4713 (chrono counts a year 0).
    vector(
        &Type::DATE,
        "date_send('4714-11-24 BC')",
        "ffda97a7",
        date(-4713, 11, 24),
    );
    vector(
        &Type::DATE,
        "date_send('0001-01-01')",
        "fff4dbf9",
        date(1, 1, 1),
    );
    vector(
        &Type::DATE,
        "date_send('0001-12-31 BC')",
        "fff4dbf8",
        date(0, 12, 31),
    );
    let ty = Type::DATE;
    vector(
        &ty,
        "date_send('infinity')",
        "7fffffff",
        Timestamp::<NaiveDate>::PosInfinity,
    );
    vector(
        &ty,
        "date_send('-infinity')",
        "80000000",
        Timestamp::<NaiveDate>::NegInfinity,
    );
    vector(
        &ty,
        "date_send('2000-01-01')",
        "00000000",
        Timestamp::Value(date(2000, 1, 1)),
    );
}

#[test]
fn date_limits() {
    let e = err_text(dec::<NaiveDate>(&Type::DATE, &hex("7fffffff")));
    assert_eq!(
        e,
        "invalid date value: infinity cannot be represented by NaiveDate; \
         read it as tusk::types::Timestamp<NaiveDate>"
    );
    assert!(err_text(dec::<NaiveDate>(&Type::DATE, &hex("80000000"))).contains("-infinity"));
    // date_send('5874897-12-31'): valid in PostgreSQL, beyond chrono.
    let e = err_text(dec::<NaiveDate>(&Type::DATE, &hex("7fda970c")));
    assert!(e.contains("outside NaiveDate's range"), "{e}");
    // The day before PostgreSQL's first date is refused when encoding.
    let e = err_text(encode(&date(-4713, 11, 23), &Type::DATE));
    assert!(e.contains("outside PostgreSQL's range"), "{e}");
    fails_with(
        dec::<NaiveDate>(&Type::DATE, &hex("000000")),
        "invalid date value: expected 4 bytes, got 3",
    );
    fails_with(
        encode(&date(2000, 1, 1), &Type::TIMESTAMP),
        "Rust type `chrono::naive::date::NaiveDate` and SQL type `timestamp`",
    );
}

#[test]
fn time_vectors() {
    vector(
        &Type::TIME,
        "time_send('00:00')",
        "0000000000000000",
        time(0, 0, 0, 0),
    );
    vector(
        &Type::TIME,
        "time_send('23:59:59.999999')",
        "000000141dd75fff",
        time(23, 59, 59, 999_999),
    );
    vector(
        &Type::TIME,
        "time_send('12:34:56.789')",
        "0000000a8be62608",
        time(12, 34, 56, 789_000),
    );
    // time_send('24:00') is valid in PostgreSQL but not a NaiveTime.
    let e = err_text(dec::<NaiveTime>(&Type::TIME, &hex("000000141dd76000")));
    assert!(e.contains("24:00:00 cannot be represented"), "{e}");
    fails_with(
        dec::<NaiveTime>(&Type::TIME, &hex("ffffffffffffffff")),
        "invalid time value: -1 microseconds is outside 00:00:00 to 24:00:00",
    );
    // Nanoseconds are truncated to microseconds.
    let t = NaiveTime::from_hms_nano_opt(0, 0, 0, 1_999).unwrap();
    assert_eq!(encode(&t, &Type::TIME).unwrap(), hex("0000000000000001"));
    // A leap second is 24:00:00 at most.
    let leap = NaiveTime::from_hms_micro_opt(23, 59, 59, 1_000_000).unwrap();
    assert_eq!(encode(&leap, &Type::TIME).unwrap(), hex("000000141dd76000"));
    let leap = NaiveTime::from_hms_micro_opt(23, 59, 59, 1_000_001).unwrap();
    fails_with(
        encode(&leap, &Type::TIME),
        "invalid time value: 23:59:60.000001 (a leap second) is past 24:00:00",
    );
}

#[test]
fn timestamp_vectors() {
    let ty = Type::TIMESTAMP;
    vector(
        &ty,
        "timestamp_send('2000-01-01 00:00')",
        "0000000000000000",
        ts(2000, 1, 1, 0, 0, 0, 0),
    );
    vector(
        &ty,
        "timestamp_send('1999-12-31 23:59:59.999999')",
        "ffffffffffffffff",
        ts(1999, 12, 31, 23, 59, 59, 999_999),
    );
    vector(
        &ty,
        "timestamp_send('1969-12-31 23:59:59.5')",
        "fffca2fec4c07ee0",
        ts(1969, 12, 31, 23, 59, 59, 500_000),
    );
    vector(
        &ty,
        "timestamp_send('2024-02-29 12:34:56.123456')",
        "0002b58341685e40",
        ts(2024, 2, 29, 12, 34, 56, 123_456),
    );
    vector(
        &ty,
        "timestamp_send('4714-11-24 00:00 BC')",
        "fd0f7cc1411fa000",
        ts(-4713, 11, 24, 0, 0, 0, 0),
    );
    vector(
        &ty,
        "timestamp_send('262142-12-31 23:59:59.999999')",
        "71ed5d384399ffff",
        ts(262_142, 12, 31, 23, 59, 59, 999_999),
    );
    vector(
        &ty,
        "timestamp_send('infinity')",
        "7fffffffffffffff",
        Timestamp::<NaiveDateTime>::PosInfinity,
    );
    vector(
        &ty,
        "timestamp_send('-infinity')",
        "8000000000000000",
        Timestamp::<NaiveDateTime>::NegInfinity,
    );
    // timestamp_send('294276-12-31 23:59:59.999999'): valid in PostgreSQL, beyond chrono.
    let e = err_text(dec::<NaiveDateTime>(&ty, &hex("7fffff5bb3b29fff")));
    assert!(e.contains("outside NaiveDateTime's range"), "{e}");
    let e = err_text(dec::<NaiveDateTime>(&ty, &hex("7fffffffffffffff")));
    assert!(
        e.contains("infinity cannot be represented by NaiveDateTime"),
        "{e}"
    );
    let e = err_text(encode(&ts(-4713, 11, 23, 23, 59, 59, 0), &ty));
    assert!(e.contains("outside PostgreSQL's range"), "{e}");
    // Sub-microsecond digits truncate toward the earlier instant on both sides of 2000.
    let before = NaiveDate::from_ymd_opt(1999, 12, 31)
        .unwrap()
        .and_hms_nano_opt(23, 59, 59, 999_999_500)
        .unwrap();
    assert_eq!(encode(&before, &ty).unwrap(), hex("ffffffffffffffff"));
}

#[test]
fn timestamptz_vectors() {
    let ty = Type::TIMESTAMPTZ;
    let utc = |naive: NaiveDateTime| Utc.from_utc_datetime(&naive);
    vector(
        &ty,
        "timestamptz_send('2000-01-01 00:00+00')",
        "0000000000000000",
        utc(ts(2000, 1, 1, 0, 0, 0, 0)),
    );
    vector(
        &ty,
        "timestamptz_send('2024-02-29 12:34:56.5+02')",
        "0002b5819446d520",
        utc(ts(2024, 2, 29, 10, 34, 56, 500_000)),
    );
    vector(
        &ty,
        "timestamptz_send('1970-01-01 00:00+00')",
        "fffca2fec4c82000",
        DateTime::<Utc>::UNIX_EPOCH,
    );
    // Before 1970 with a fraction: Unix seconds round toward -infinity, not toward zero.
    vector(
        &ty,
        "timestamptz_send('1969-12-31 23:59:59.5+00')",
        "fffca2fec4c07ee0",
        utc(ts(1969, 12, 31, 23, 59, 59, 500_000)),
    );
    vector(
        &ty,
        "timestamptz_send('1900-06-15 12:00:00.000001+00')",
        "fff4d6efc6c81001",
        utc(ts(1900, 6, 15, 12, 0, 0, 1)),
    );
    vector(
        &ty,
        "timestamptz_send('infinity')",
        "7fffffffffffffff",
        Timestamp::<DateTime<Utc>>::PosInfinity,
    );
    vector(
        &ty,
        "timestamptz_send('-infinity')",
        "8000000000000000",
        Timestamp::<DateTime<Utc>>::NegInfinity,
    );

    // Any zone is sent as its instant; FixedOffset reads back at +00:00.
    let plus2 = FixedOffset::east_opt(7200).unwrap();
    let t = plus2.with_ymd_and_hms(2024, 2, 29, 12, 34, 56).unwrap() + TimeDelta::milliseconds(500);
    let raw = encode(&t, &ty).unwrap();
    assert_eq!(raw, hex("0002b5819446d520"));
    let back: DateTime<FixedOffset> = dec(&ty, &raw).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.offset().local_minus_utc(), 0);
    let local: DateTime<Local> = dec(&ty, &raw).unwrap();
    assert_eq!(local, t);
    assert_eq!(encode(&local, &ty).unwrap(), raw);
    fails_with(
        encode(&t, &Type::TIMESTAMP),
        "DateTime<chrono::offset::fixed::FixedOffset>` and SQL type `timestamp`",
    );
    fails_with(
        encode(&t.naive_utc(), &ty),
        "Rust type `chrono::naive::datetime::NaiveDateTime` and SQL type `timestamptz`",
    );
    fails_with(
        dec::<DateTime<Utc>>(&Type::TIMESTAMP, &raw),
        "DateTime<chrono::offset::utc::Utc>` and SQL type `timestamp`",
    );
}

#[test]
fn timestamp_wrapper_order_and_types() {
    let v = Timestamp::Value(date(2000, 1, 1));
    assert!(Timestamp::NegInfinity < v && v < Timestamp::PosInfinity);
    fails_with(
        encode(&Timestamp::<NaiveDate>::PosInfinity, &Type::TIMESTAMP),
        "Timestamp<chrono::naive::date::NaiveDate>` and SQL type `timestamp`",
    );
    fails_with(
        encode(&Timestamp::<i64>::PosInfinity, &Type::INT8),
        "Rust type `tusk::types::datetime::Timestamp<i64>` and SQL type `int8`",
    );
    fails_with(
        dec::<Timestamp<NaiveDate>>(&Type::DATE, &hex("7fffffff00")),
        "invalid date value: expected 4 bytes, got 5",
    );
}

#[test]
fn timetz_vectors() {
    let tz = |t: NaiveTime, east: i32| TimeTz {
        time: t,
        offset: FixedOffset::east_opt(east).unwrap(),
    };
    let ty = Type::TIMETZ;
    // (sql, bytes, value, the server's text output)
    let cases = [
        (
            "timetz_send('00:00+00')",
            "000000000000000000000000",
            tz(time(0, 0, 0, 0), 0),
            "00:00:00+00",
        ),
        (
            "timetz_send('12:34:56.789-08')",
            "0000000a8be6260800007080",
            tz(time(12, 34, 56, 789_000), -8 * 3600),
            "12:34:56.789-08",
        ),
        (
            "timetz_send('23:59:59+05:30')",
            "000000141dc81dc0ffffb2a8",
            tz(time(23, 59, 59, 0), 19_800),
            "23:59:59+05:30",
        ),
        (
            "timetz_send('01:02:03+15:59:59')",
            "00000000dde878c0ffff1f01",
            tz(time(1, 2, 3, 0), 57_599),
            "01:02:03+15:59:59",
        ),
    ];
    for (sql, bytes, value, text) in cases {
        vector(&ty, sql, bytes, value);
        assert_eq!(value.to_string(), text);
    }
    // timetz_send('24:00-15:59'): time 24:00 is not a NaiveTime.
    fails_with(
        dec::<TimeTz>(&ty, &hex("000000141dd760000000e0c4")),
        "invalid timetz value: 24:00:00 cannot be represented by chrono::NaiveTime",
    );
    // Offsets of 16 hours or more are out of PostgreSQL's range both ways.
    let e = err_text(dec::<TimeTz>(&ty, &hex("0000000000000000 0000e100")));
    assert!(
        e.contains("time zone displacement 57600 is out of range"),
        "{e}"
    );
    fails_with(
        encode(&tz(time(0, 0, 0, 0), 57_600), &ty),
        "invalid timetz value: offset +16:00 is outside PostgreSQL's range (within ±16 hours)",
    );
    fails_with(
        encode(&tz(time(0, 0, 0, 0), -57_600), &ty),
        "invalid timetz value: offset -16:00 is outside PostgreSQL's range (within ±16 hours)",
    );
    fails_with(
        dec::<TimeTz>(&ty, &hex("00")),
        "invalid timetz value: expected 12 bytes, got 1",
    );
}

#[test]
fn interval_vectors() {
    let ty = Type::INTERVAL;
    // (sql literal, interval_send bytes, value, the server's text output)
    let cases = [
        (
            "0",
            "00000000000000000000000000000000",
            Interval::new(0, 0, 0),
            "00:00:00",
        ),
        (
            "1 year 2 mons 3 days 04:05:06.789",
            "000000036c97ca88000000030000000e",
            Interval::new(14, 3, 14_706_789_000),
            "1 year 2 mons 3 days 04:05:06.789",
        ),
        (
            "-1 year -2 mons -3 days -04:05:06.789",
            "fffffffc93683578fffffffdfffffff2",
            Interval::new(-14, -3, -14_706_789_000),
            "-1 years -2 mons -3 days -04:05:06.789",
        ),
        (
            "-1 day +02:03",
            "00000001b7e1dd00ffffffff00000000",
            Interval::new(0, -1, 7_380_000_000),
            "-1 days +02:03:00",
        ),
        (
            "1 mon -1 day",
            "0000000000000000ffffffff00000001",
            Interval::new(1, -1, 0),
            "1 mon -1 days",
        ),
        (
            "178000000 years",
            "0000000000000000000000007f50c600",
            Interval::new(2_136_000_000, 0, 0),
            "178000000 years",
        ),
        (
            "-00:00:00.000001",
            "ffffffffffffffff0000000000000000",
            Interval::new(0, 0, -1),
            "-00:00:00.000001",
        ),
    ];
    for (literal, bytes, value, text) in cases {
        vector(&ty, &format!("interval_send('{literal}')"), bytes, value);
        assert_eq!(value.to_string(), text, "{literal}");
    }
    fails_with(
        dec::<Interval>(&ty, &hex("00")),
        "invalid interval value: expected 16 bytes, got 1",
    );
    fails_with(
        encode(&Interval::default(), &Type::TIME),
        "cannot convert between Rust type `tusk::types::interval::Interval` and SQL type `time`",
    );
}

#[test]
fn interval_display_like_the_server() {
    // (value, the server's text output for the same interval)
    let cases = [
        (Interval::new(0, 1, 0), "1 day"),
        (Interval::new(-1, 1, -1_000_000), "-1 mons +1 day -00:00:01"),
        (Interval::new(0, 0, 90_000_000_000), "25:00:00"),
        (Interval::new(11, 0, 0), "11 mons"),
        (Interval::new(0, 0, 500_000), "00:00:00.5"),
        (Interval::new(0, i32::MIN, 0), "-2147483648 days"),
        (Interval::new(0, 0, i64::MAX), "2562047788:00:54.775807"),
        (Interval::new(0, 0, i64::MIN), "-2562047788:00:54.775808"),
        (Interval::new(i32::MIN, 0, 0), "-178956970 years -8 mons"),
        (Interval::INFINITY, "infinity"),
        (Interval::NEG_INFINITY, "-infinity"),
    ];
    for (value, text) in cases {
        assert_eq!(value.to_string(), text);
    }
}

/// A `ToSql::accepts` or `FromSql::accepts`.
type Accepts = fn(&Type) -> bool;

/// The built-in types (and an unknown OID) that an `accepts` function admits, by name.
fn accepted(accepts: Accepts) -> Vec<String> {
    super::super::oids::BY_OID
        .iter()
        .map(|info| Type::from_oid(info.oid))
        .chain([Type::from_oid(99_999)])
        .filter(accepts)
        .map(|t| t.name().to_owned())
        .collect()
}

#[test]
fn datetime_types_accept_exactly_their_sql_type() {
    // (ToSql::accepts, FromSql::accepts, the only SQL type both must admit)
    let cases: [(Accepts, Accepts, &[&str]); 12] = [
        (
            <NaiveDate as ToSql>::accepts,
            <NaiveDate as FromSql>::accepts,
            &["date"],
        ),
        (
            <NaiveTime as ToSql>::accepts,
            <NaiveTime as FromSql>::accepts,
            &["time"],
        ),
        (
            <NaiveDateTime as ToSql>::accepts,
            <NaiveDateTime as FromSql>::accepts,
            &["timestamp"],
        ),
        (
            <DateTime<Utc> as ToSql>::accepts,
            <DateTime<Utc> as FromSql>::accepts,
            &["timestamptz"],
        ),
        (
            <DateTime<FixedOffset> as ToSql>::accepts,
            <DateTime<FixedOffset> as FromSql>::accepts,
            &["timestamptz"],
        ),
        (
            <DateTime<Local> as ToSql>::accepts,
            <DateTime<Local> as FromSql>::accepts,
            &["timestamptz"],
        ),
        (
            <TimeTz as ToSql>::accepts,
            <TimeTz as FromSql>::accepts,
            &["timetz"],
        ),
        (
            <Timestamp<NaiveDate> as ToSql>::accepts,
            <Timestamp<NaiveDate> as FromSql>::accepts,
            &["date"],
        ),
        (
            <Timestamp<NaiveDateTime> as ToSql>::accepts,
            <Timestamp<NaiveDateTime> as FromSql>::accepts,
            &["timestamp"],
        ),
        (
            <Timestamp<DateTime<Utc>> as ToSql>::accepts,
            <Timestamp<DateTime<Utc>> as FromSql>::accepts,
            &["timestamptz"],
        ),
        // Only date, timestamp and timestamptz have infinities: a Timestamp of any other type
        // accepts nothing, not even its inner type's SQL type.
        (
            <Timestamp<NaiveTime> as ToSql>::accepts,
            <Timestamp<NaiveTime> as FromSql>::accepts,
            &[],
        ),
        (
            <Timestamp<i64> as ToSql>::accepts,
            <Timestamp<i64> as FromSql>::accepts,
            &[],
        ),
    ];
    for (i, (to, from, expected)) in cases.into_iter().enumerate() {
        assert_eq!(accepted(to), expected, "ToSql of case {i}");
        assert_eq!(accepted(from), expected, "FromSql of case {i}");
    }
}

#[test]
fn datetime_wrong_type_errors_name_both_types() {
    // Each value's bytes have the width of the wrong SQL type too, so only the type check
    // stands between them and a bogus value. date_send('2024-02-29') = 00002279.
    fails_with(
        dec::<NaiveDate>(&Type::INT4, &hex("00002279")),
        "Rust type `chrono::naive::date::NaiveDate` and SQL type `int4`",
    );
    // time_send('12:34:56.789') = 0000000a8be62608.
    let time_bytes = hex("0000000a8be62608");
    fails_with(
        dec::<NaiveTime>(&Type::INT8, &time_bytes),
        "Rust type `chrono::naive::time::NaiveTime` and SQL type `int8`",
    );
    fails_with(
        encode(&time(12, 34, 56, 789_000), &Type::INT8),
        "Rust type `chrono::naive::time::NaiveTime` and SQL type `int8`",
    );
    fails_with(
        encode(&time(12, 34, 56, 789_000), &Type::TIMESTAMP),
        "Rust type `chrono::naive::time::NaiveTime` and SQL type `timestamp`",
    );
    // timestamptz_send('2024-02-29 12:34:56.5+02') = 0002b5819446d520: an instant, not a
    // local date-time.
    let tstz = hex("0002b5819446d520");
    fails_with(
        dec::<NaiveDateTime>(&Type::TIMESTAMPTZ, &tstz),
        "Rust type `chrono::naive::datetime::NaiveDateTime` and SQL type `timestamptz`",
    );
    // timestamp_send('2024-02-29 12:34:56.123456') = 0002b58341685e40: no zone, so not an
    // instant.
    let tsz = hex("0002b58341685e40");
    fails_with(
        dec::<DateTime<FixedOffset>>(&Type::TIMESTAMP, &tsz),
        "DateTime<chrono::offset::fixed::FixedOffset>` and SQL type `timestamp`",
    );
    fails_with(
        dec::<DateTime<Local>>(&Type::TIMESTAMP, &tsz),
        "DateTime<chrono::offset::local::Local>` and SQL type `timestamp`",
    );
    // timetz_send('12:34:56.789-08') = 0000000a8be6260800007080.
    let timetz = TimeTz {
        time: time(12, 34, 56, 789_000),
        offset: FixedOffset::west_opt(8 * 3600).unwrap(),
    };
    fails_with(
        encode(&timetz, &Type::TIME),
        "Rust type `tusk::types::datetime::TimeTz` and SQL type `time`",
    );
    fails_with(
        dec::<TimeTz>(&Type::BYTEA, &hex("0000000a8be6260800007080")),
        "Rust type `tusk::types::datetime::TimeTz` and SQL type `bytea`",
    );
    // timestamp_send('infinity') = 7fffffffffffffff is no date infinity.
    fails_with(
        dec::<Timestamp<NaiveDate>>(&Type::TIMESTAMP, &hex("7fffffffffffffff")),
        "Rust type `tusk::types::datetime::Timestamp<chrono::naive::date::NaiveDate>` and SQL \
         type `timestamp`",
    );
    fails_with(
        dec::<Timestamp<i64>>(&Type::INT8, &hex("7fffffffffffffff")),
        "Rust type `tusk::types::datetime::Timestamp<i64>` and SQL type `int8`",
    );
}

#[test]
fn negative_infinity_needs_the_timestamp_wrapper() {
    // timestamp_send('-infinity') = timestamptz_send('-infinity') = 8000000000000000.
    let raw = hex("8000000000000000");
    fails_with(
        dec::<NaiveDateTime>(&Type::TIMESTAMP, &raw),
        "invalid timestamp value: -infinity cannot be represented by NaiveDateTime; read it as \
         tusk::types::Timestamp<NaiveDateTime>",
    );
    fails_with(
        dec::<DateTime<Utc>>(&Type::TIMESTAMPTZ, &raw),
        "invalid timestamptz value: -infinity cannot be represented by DateTime<Utc>; read it \
         as tusk::types::Timestamp<DateTime<Utc>>",
    );
    fails_with(
        dec::<DateTime<Local>>(&Type::TIMESTAMPTZ, &raw),
        "-infinity cannot be represented by DateTime<Local>",
    );
}

#[test]
fn interval_accepts_only_interval() {
    assert_eq!(accepted(<Interval as ToSql>::accepts), ["interval"]);
    assert_eq!(accepted(<Interval as FromSql>::accepts), ["interval"]);
    // interval_send('1 year 2 mons 3 days 04:05:06.789'): 16 bytes, as wide as a uuid.
    fails_with(
        dec::<Interval>(&Type::UUID, &hex("000000036c97ca88000000030000000e")),
        "Rust type `tusk::types::interval::Interval` and SQL type `uuid`",
    );
}
