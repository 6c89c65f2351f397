//! `date`, `time`, `timestamp`, `timestamptz` and `interval` as the `jiff` crate's types
//! (tusk's feature `jiff`): the edges of both ranges, ±infinity refused or read through
//! `Timestamp`, 24:00:00 refused, sub-microsecond precision truncated, intervals as spans
//! field by field, and `SignedDuration` only for intervals without months or days.

use jiff::civil::{self, Date, DateTime, Time};
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Span, Timestamp as JiffTimestamp};
use tusk::types::Timestamp;

use super::{
    check_decode, check_encode, check_with_arrays, connect, decode_fails, encode_fails, Ty,
};

fn naive(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8, micro: i32) -> DateTime {
    civil::datetime(y, mo, d, h, mi, s, micro * 1000)
}

fn time(h: i8, m: i8, s: i8, micro: i32) -> Time {
    civil::time(h, m, s, micro * 1000)
}

fn utc(dt: DateTime) -> JiffTimestamp {
    dt.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp()
}

#[tokio::test]
async fn jiff_date_and_time() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("date");
    let dates = [
        ("'2000-01-01'", civil::date(2000, 1, 1)),
        ("'1999-12-31'", civil::date(1999, 12, 31)),
        ("'1970-01-01'", civil::date(1970, 1, 1)),
        ("'2024-02-29'", civil::date(2024, 2, 29)),
        ("'0001-01-01'", civil::date(1, 1, 1)),
        ("'0001-12-31 BC'", civil::date(0, 12, 31)),
        ("'4714-11-24 BC'", civil::date(-4713, 11, 24)), // the server's first date
        ("'9999-12-31'", Date::MAX),                     // jiff's last date
    ];
    check_with_arrays(conn, &ty, &dates).await;
    for (literal, why) in [
        (
            "'infinity'",
            "read it as tusk::types::Timestamp<jiff::civil::Date>",
        ),
        (
            "'-infinity'",
            "-infinity cannot be represented by jiff::civil::Date",
        ),
        ("'10000-01-01'", "outside jiff::civil::Date's range"),
        ("'5874897-12-31'", "outside jiff::civil::Date's range"),
    ] {
        decode_fails::<Date>(conn, &ty, literal, why).await;
    }
    encode_fails(conn, "date", Date::MIN, "outside PostgreSQL's range").await;
    let before_first = civil::date(-4713, 11, 23);
    encode_fails(conn, "date", before_first, "outside PostgreSQL's range").await;
    let infinite = [
        ("'infinity'", Timestamp::PosInfinity),
        ("'-infinity'", Timestamp::NegInfinity),
        ("'2024-02-29'", Timestamp::Value(civil::date(2024, 2, 29))),
    ];
    check_with_arrays(conn, &ty, &infinite).await;

    let ty = Ty::new("time");
    let times = [
        ("'00:00:00'", Time::MIN),
        ("'00:00:00.000001'", time(0, 0, 0, 1)),
        ("'12:34:56.789'", time(12, 34, 56, 789_000)),
        ("'23:59:59.999999'", time(23, 59, 59, 999_999)),
    ];
    check_with_arrays(conn, &ty, &times).await;
    decode_fails::<Time>(conn, &ty, "'24:00:00'", "24:00:00 cannot be represented").await;
    let nanos = [
        ("'23:59:59.999999'", Time::MAX),
        ("'00:00:00.000001'", civil::time(0, 0, 0, 1_999)),
    ];
    check_encode(conn, &ty, &nanos).await;
}

#[tokio::test]
async fn jiff_timestamp() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("timestamp");
    let cases = [
        ("'2000-01-01 00:00:00'", naive(2000, 1, 1, 0, 0, 0, 0)),
        (
            "'1999-12-31 23:59:59.999999'",
            naive(1999, 12, 31, 23, 59, 59, 999_999),
        ),
        (
            "'1969-12-31 23:59:59.999999'",
            naive(1969, 12, 31, 23, 59, 59, 999_999),
        ),
        (
            "'2024-02-29 12:34:56.789012'",
            naive(2024, 2, 29, 12, 34, 56, 789_012),
        ),
        ("'4714-11-24 00:00:00 BC'", naive(-4713, 11, 24, 0, 0, 0, 0)),
        (
            "'9999-12-31 23:59:59.999999'",
            naive(9999, 12, 31, 23, 59, 59, 999_999),
        ),
    ];
    check_with_arrays(conn, &ty, &cases).await;
    for (literal, why) in [
        ("'infinity'", "read it as tusk::types::Timestamp"),
        ("'-infinity'", "-infinity cannot be represented"),
        (
            "'10000-01-01 00:00:00'",
            "outside jiff::civil::DateTime's range",
        ),
        (
            "'294276-12-31 23:59:59.999999'",
            "outside jiff::civil::DateTime's range",
        ),
    ] {
        decode_fails::<DateTime>(conn, &ty, literal, why).await;
    }
    let before_first = naive(-4713, 11, 23, 23, 59, 59, 999_999);
    encode_fails(
        conn,
        "timestamp",
        before_first,
        "outside PostgreSQL's range",
    )
    .await;
    encode_fails(
        conn,
        "timestamp",
        DateTime::MIN,
        "outside PostgreSQL's range",
    )
    .await;
    let nanos = civil::date(1999, 12, 31).to_datetime(Time::MAX);
    check_encode(conn, &ty, &[("'1999-12-31 23:59:59.999999'", nanos)]).await;
    let infinite = [
        ("'infinity'", Timestamp::PosInfinity),
        ("'-infinity'", Timestamp::NegInfinity),
        (
            "'2000-01-01 00:00:00'",
            Timestamp::Value(naive(2000, 1, 1, 0, 0, 0, 0)),
        ),
    ];
    check_with_arrays(conn, &ty, &infinite).await;
}

#[tokio::test]
async fn jiff_timestamptz() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("timestamptz");
    let instants = [
        (
            "'2000-01-01 00:00:00+00'",
            utc(naive(2000, 1, 1, 0, 0, 0, 0)),
        ),
        (
            "'1999-12-31 23:59:59.999999+00'",
            utc(naive(1999, 12, 31, 23, 59, 59, 999_999)),
        ),
        ("'1970-01-01 00:00:00Z'", JiffTimestamp::UNIX_EPOCH),
        (
            "'2021-03-28 01:30:00+00'",
            utc(naive(2021, 3, 28, 1, 30, 0, 0)),
        ),
        (
            "'4714-11-24 00:00:00+00 BC'",
            utc(naive(-4713, 11, 24, 0, 0, 0, 0)),
        ),
        // jiff's last instant, to the microsecond (its first is before the server's).
        (
            "'9999-12-30 22:00:00.999999+00'",
            utc(naive(9999, 12, 30, 22, 0, 0, 999_999)),
        ),
    ];
    check_with_arrays(conn, &ty, &instants).await;
    let other_offsets = [
        (
            "'2000-01-01 05:30:00+05:30'",
            utc(naive(2000, 1, 1, 0, 0, 0, 0)),
        ),
        (
            "'1999-12-31 20:30:00-03:30'",
            utc(naive(2000, 1, 1, 0, 0, 0, 0)),
        ),
    ];
    check_decode(conn, &ty, &other_offsets).await;
    // A zoned date-time is sent as its instant, whatever its zone.
    let zoned = [
        (
            "'2000-01-01 00:00:00+00'",
            utc(naive(2000, 1, 1, 0, 0, 0, 0)).to_zoned_datetime(TimeZone::fixed(tz::offset(2))),
        ),
        (
            "'1999-12-31 23:59:59.999999+00'",
            utc(civil::datetime(1999, 12, 31, 23, 59, 59, 999_999_999))
                .to_zoned_datetime(TimeZone::UTC),
        ),
    ];
    check_encode(conn, &ty, &zoned).await;
    // Read in UTC.
    let in_utc: Vec<_> = (instants.iter())
        .map(|(l, v)| (*l, v.to_zoned_datetime(TimeZone::UTC)))
        .collect();
    check_with_arrays(conn, &ty, &in_utc).await;
    for (literal, why) in [
        ("'infinity'", "read it as tusk::types::Timestamp"),
        ("'-infinity'", "-infinity cannot be represented"),
        (
            "'9999-12-31 23:59:59+00'",
            "outside jiff::Timestamp's range",
        ),
        (
            "'9999-12-30 22:00:01+00'",
            "outside jiff::Timestamp's range",
        ),
    ] {
        decode_fails::<JiffTimestamp>(conn, &ty, literal, why).await;
    }
    // jiff's first instant (year -9999) is before the server's.
    let min = JiffTimestamp::MIN;
    encode_fails(conn, "timestamptz", min, "outside PostgreSQL's range").await;
    let infinite = [
        ("'infinity'", Timestamp::PosInfinity),
        ("'-infinity'", Timestamp::NegInfinity),
        (
            "'1970-01-01 00:00:00+00'",
            Timestamp::Value(JiffTimestamp::UNIX_EPOCH),
        ),
    ];
    check_with_arrays(conn, &ty, &infinite).await;
}

#[tokio::test]
async fn jiff_span_and_signed_duration_as_interval() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("interval");
    let time_parts = Span::new()
        .hours(4)
        .minutes(5)
        .seconds(6)
        .microseconds(789_000);
    let spans = [
        ("'0'", Span::new()),
        (
            "'1 year 2 mons 3 days 04:05:06.789'",
            time_parts.months(14).days(3),
        ),
        (
            "'-1 year -2 mons -3 days -04:05:06.789'",
            -time_parts.months(14).days(3),
        ),
        ("'-00:00:00.000001'", Span::new().microseconds(-1)),
        ("'3 weeks'", Span::new().days(21)),
        ("'19998 years'", Span::new().months(239_976)),
        ("'-7304484 days'", Span::new().days(-7_304_484)),
        ("'175307616:00:00'", Span::new().hours(175_307_616)),
    ];
    check_with_arrays(conn, &ty, &spans).await;
    // Other shapes of the same intervals.
    let shapes = [
        (
            "'1 year 2 mons 3 days 04:05:06.789'",
            Span::new()
                .years(1)
                .months(2)
                .days(3)
                .hours(4)
                .minutes(5)
                .seconds(6)
                .milliseconds(789),
        ),
        ("'21 days'", Span::new().weeks(3)),
        ("'90 minutes'", Span::new().minutes(90)),
        ("'-00:00:00.000001'", Span::new().nanoseconds(-1)),
    ];
    check_encode(conn, &ty, &shapes).await;
    for (literal, why) in [
        ("'1 mon -1 day'", "mixes positive and negative fields"),
        ("'-1 day +02:03'", "mixes positive and negative fields"),
        ("'19998 years 1 mon'", "outside jiff::Span's range"),
        ("'2562047788:00:54.775807'", "outside jiff::Span's range"),
    ] {
        decode_fails::<Span>(conn, &ty, literal, why).await;
    }

    let durations = [
        ("'0'", SignedDuration::ZERO),
        ("'01:02:03.5'", SignedDuration::from_millis(3_723_500)),
        ("'-00:00:00.000001'", SignedDuration::from_micros(-1)),
        (
            "'2562047788:00:54.775807'",
            SignedDuration::from_micros(i64::MAX),
        ),
        (
            "'-2562047788:00:54.775807'",
            SignedDuration::from_micros(-i64::MAX),
        ),
    ];
    check_with_arrays(conn, &ty, &durations).await;
    let nanos = [("'-00:00:00.000001'", SignedDuration::from_nanos(-1))];
    check_encode(conn, &ty, &nanos).await;
    for literal in ["'1 day'", "'1 mon'", "'-1 year'", "'1 day -01:00'"] {
        decode_fails::<SignedDuration>(conn, &ty, literal, "which have no fixed length").await;
    }
    encode_fails(conn, "interval", SignedDuration::MAX, "outside the range").await;
}
