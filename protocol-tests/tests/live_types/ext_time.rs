//! `date`, `time`, `timestamp`, `timestamptz` and `interval` as the `time` crate's types
//! (tusk's feature `time`): the edges of both ranges, ±infinity refused or read through
//! `Timestamp`, 24:00:00 refused, sub-microsecond precision truncated, and intervals with
//! months or days refused by `time::Duration`.

use time::{
    Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcDateTime, UtcOffset,
};
use tusk::types::Timestamp;

use super::{
    check_decode, check_encode, check_with_arrays, connect, decode_fails, encode_fails, Ty,
};

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
}

fn time(h: u8, m: u8, s: u8, micro: u32) -> Time {
    Time::from_hms_micro(h, m, s, micro).unwrap()
}

fn naive(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, micro: u32) -> PrimitiveDateTime {
    PrimitiveDateTime::new(date(y, mo, d), time(h, mi, s, micro))
}

#[tokio::test]
async fn time_date_and_time() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("date");
    let dates = [
        ("'2000-01-01'", date(2000, 1, 1)),
        ("'1999-12-31'", date(1999, 12, 31)),
        ("'1970-01-01'", date(1970, 1, 1)),
        ("'2024-02-29'", date(2024, 2, 29)),
        ("'0001-01-01'", date(1, 1, 1)),
        ("'0001-12-31 BC'", date(0, 12, 31)),
        ("'4714-11-24 BC'", date(-4713, 11, 24)), // the server's first date
        ("'9999-12-31'", date(9999, 12, 31)),     // time's last date
    ];
    check_with_arrays(conn, &ty, &dates).await;
    for (literal, why) in [
        (
            "'infinity'",
            "read it as tusk::types::Timestamp<time::Date>",
        ),
        (
            "'-infinity'",
            "-infinity cannot be represented by time::Date",
        ),
        ("'10000-01-01'", "outside time::Date's range"),
        ("'5874897-12-31'", "outside time::Date's range"),
    ] {
        decode_fails::<Date>(conn, &ty, literal, why).await;
    }
    encode_fails(conn, "date", Date::MIN, "outside PostgreSQL's range").await;
    encode_fails(
        conn,
        "date",
        date(-4713, 11, 23),
        "outside PostgreSQL's range",
    )
    .await;
    let infinite = [
        ("'infinity'", Timestamp::PosInfinity),
        ("'-infinity'", Timestamp::NegInfinity),
        ("'2024-02-29'", Timestamp::Value(date(2024, 2, 29))),
    ];
    check_with_arrays(conn, &ty, &infinite).await;

    let ty = Ty::new("time");
    let times = [
        ("'00:00:00'", Time::MIDNIGHT),
        ("'00:00:00.000001'", time(0, 0, 0, 1)),
        ("'12:34:56.789'", time(12, 34, 56, 789_000)),
        ("'23:59:59.999999'", time(23, 59, 59, 999_999)),
    ];
    check_with_arrays(conn, &ty, &times).await;
    decode_fails::<Time>(conn, &ty, "'24:00:00'", "24:00:00 cannot be represented").await;
    let nanos = [
        ("'23:59:59.999999'", Time::MAX),
        (
            "'00:00:00.000001'",
            Time::from_hms_nano(0, 0, 0, 1_999).unwrap(),
        ),
    ];
    check_encode(conn, &ty, &nanos).await;
}

#[tokio::test]
async fn time_timestamp() {
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
            "outside time::PrimitiveDateTime's range",
        ),
        (
            "'294276-12-31 23:59:59.999999'",
            "outside time::PrimitiveDateTime's range",
        ),
    ] {
        decode_fails::<PrimitiveDateTime>(conn, &ty, literal, why).await;
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
        PrimitiveDateTime::MIN,
        "outside PostgreSQL's range",
    )
    .await;
    let nanos = PrimitiveDateTime::new(date(1999, 12, 31), Time::MAX);
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
async fn time_timestamptz() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("timestamptz");
    let instants = [
        ("'2000-01-01 00:00:00+00'", naive(2000, 1, 1, 0, 0, 0, 0)),
        (
            "'1999-12-31 23:59:59.999999+00'",
            naive(1999, 12, 31, 23, 59, 59, 999_999),
        ),
        ("'1970-01-01 00:00:00Z'", naive(1970, 1, 1, 0, 0, 0, 0)),
        ("'2021-03-28 01:30:00+00'", naive(2021, 3, 28, 1, 30, 0, 0)),
        (
            "'4714-11-24 00:00:00+00 BC'",
            naive(-4713, 11, 24, 0, 0, 0, 0),
        ),
        (
            "'9999-12-31 23:59:59.999999+00'",
            naive(9999, 12, 31, 23, 59, 59, 999_999),
        ),
    ];
    // Read back with offset UTC, whatever offset the literal had.
    let offset: Vec<(&str, OffsetDateTime)> =
        instants.iter().map(|&(l, v)| (l, v.assume_utc())).collect();
    check_with_arrays(conn, &ty, &offset).await;
    let utc: Vec<(&str, UtcDateTime)> = instants.iter().map(|&(l, v)| (l, v.as_utc())).collect();
    check_with_arrays(conn, &ty, &utc).await;
    let other_offsets = [
        (
            "'2000-01-01 05:30:00+05:30'",
            naive(2000, 1, 1, 0, 0, 0, 0).assume_utc(),
        ),
        (
            "'1999-12-31 20:30:00-03:30'",
            naive(2000, 1, 1, 0, 0, 0, 0).assume_utc(),
        ),
    ];
    check_decode(conn, &ty, &other_offsets).await;
    // Any offset is sent as its instant.
    let plus_two = UtcOffset::from_hms(2, 0, 0).unwrap();
    let in_offsets = [
        (
            "'2000-01-01 00:00:00+00'",
            naive(2000, 1, 1, 2, 0, 0, 0).assume_offset(plus_two),
        ),
        (
            "'1999-12-31 23:59:59.999999+00'",
            naive(2000, 1, 1, 0, 0, 0, 0).assume_utc() - Duration::nanoseconds(1),
        ),
    ];
    check_encode(conn, &ty, &in_offsets).await;
    for (literal, why) in [
        ("'infinity'", "read it as tusk::types::Timestamp"),
        ("'-infinity'", "-infinity cannot be represented"),
        (
            "'10000-01-01 00:00:00+00'",
            "outside time::OffsetDateTime's range",
        ),
    ] {
        decode_fails::<OffsetDateTime>(conn, &ty, literal, why).await;
    }
    decode_fails::<UtcDateTime>(conn, &ty, "'infinity'", "time::UtcDateTime").await;
    let before_first = naive(-4713, 11, 23, 23, 59, 59, 999_999).assume_utc();
    encode_fails(
        conn,
        "timestamptz",
        before_first,
        "outside PostgreSQL's range",
    )
    .await;
    let infinite = [
        ("'infinity'", Timestamp::PosInfinity),
        ("'-infinity'", Timestamp::NegInfinity),
        (
            "'2000-01-01 00:00:00+00'",
            Timestamp::Value(OffsetDateTime::from_unix_timestamp(946_684_800).unwrap()),
        ),
    ];
    check_with_arrays(conn, &ty, &infinite).await;
}

#[tokio::test]
async fn time_duration_as_interval() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("interval");
    let cases = [
        ("'0'", Duration::ZERO),
        ("'01:02:03.5'", Duration::milliseconds(3_723_500)),
        ("'-00:00:00.000001'", Duration::microseconds(-1)),
        ("'838:59:59'", Duration::seconds(3_020_399)),
        (
            "'2562047788:00:54.775807'",
            Duration::microseconds(i64::MAX),
        ),
        (
            "'-2562047788:00:54.775807'",
            Duration::microseconds(-i64::MAX),
        ),
    ];
    check_with_arrays(conn, &ty, &cases).await;
    check_encode(
        conn,
        &ty,
        &[("'-00:00:00.000001'", Duration::nanoseconds(-1))],
    )
    .await;
    for literal in ["'1 day'", "'1 mon'", "'-1 year'", "'1 day -01:00'"] {
        decode_fails::<Duration>(conn, &ty, literal, "which have no fixed length").await;
    }
    encode_fails(conn, "interval", Duration::MAX, "outside the range").await;
}
