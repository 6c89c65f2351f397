//! `date`, `time`, `timetz`, `timestamp`, `timestamptz` and `interval`: the chrono types at the
//! edges of both ranges, ±infinity through `Timestamp`, and `timestamptz` under non-UTC
//! session time zones to show the binary value is the UTC instant.

use std::fmt::Display;

use chrono::{
    DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc,
};
use tusk::types::{Interval, TimeTz, Timestamp};
use tusk::Connection;

use super::{
    check, check_decode, check_encode, check_with_arrays, connect, decode_fails, encode_fails,
    report, Ty, Value,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32, s: u32, micro: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, micro).unwrap()
}

fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> NaiveDateTime {
    date(y, mo, d).and_time(time(h, mi, s, micro))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> DateTime<Utc> {
    naive(y, mo, d, h, mi, s, micro).and_utc()
}

fn east(seconds: i32) -> FixedOffset {
    FixedOffset::east_opt(seconds).unwrap()
}

/// The value's `Display` equals the server's text form of the literal.
async fn check_display<T: Display>(conn: &mut Connection, ty: &Ty, cases: &[(&str, T)]) {
    let select: Vec<String> = cases.iter().map(|(l, _)| ty.cast(l) + "::text").collect();
    let row = conn
        .query_one(&format!("SELECT {}", select.join(", ")), &[])
        .await
        .unwrap();
    let failures = (cases.iter().enumerate())
        .filter(|(i, (_, v))| row.get::<_, &str>(*i) != v.to_string())
        .map(|(i, (l, v))| format!("Display {v} but {l} is {}", row.get::<_, &str>(i)))
        .collect();
    report(ty, failures);
}

#[tokio::test]
async fn date_and_time() {
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
        ("'262142-12-31'", NaiveDate::MAX),       // chrono's last date
    ];
    check_with_arrays(conn, &ty, &dates).await;
    for (literal, why) in [
        ("'infinity'", "read it as tusk::types::Timestamp"),
        ("'-infinity'", "-infinity cannot be represented"),
        ("'262143-01-01'", "outside NaiveDate's range"),
        ("'5874897-12-31'", "outside NaiveDate's range"),
    ] {
        decode_fails::<NaiveDate>(conn, &ty, literal, why).await;
    }
    encode_fails(conn, "date", NaiveDate::MIN, "outside PostgreSQL's range").await;
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
        ("'2000-01-01'", Timestamp::Value(date(2000, 1, 1))),
        ("'4714-11-24 BC'", Timestamp::Value(date(-4713, 11, 24))),
    ];
    check_with_arrays(conn, &ty, &infinite).await;

    let ty = Ty::new("time");
    let times = [
        ("'00:00:00'", time(0, 0, 0, 0)),
        ("'00:00:00.000001'", time(0, 0, 0, 1)),
        ("'12:34:56.789'", time(12, 34, 56, 789_000)),
        (
            "'23:59:59.999999'",
            NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap(),
        ),
    ];
    check_with_arrays(conn, &ty, &times).await;
    decode_fails::<NaiveTime>(conn, &ty, "'24:00:00'", "24:00:00 cannot be represented").await;
    // Below a microsecond is truncated; a leap second is the server's 23:59:60 = 24:00:00.
    let encode_only = [
        (
            "'00:00:00.000001'",
            NaiveTime::from_hms_nano_opt(0, 0, 0, 1_999).unwrap(),
        ),
        ("'23:59:60'", time(23, 59, 59, 1_000_000)),
    ];
    check_encode(conn, &ty, &encode_only).await;
    encode_fails(conn, "time", time(23, 59, 59, 1_500_000), "past 24:00:00").await;
}

#[tokio::test]
async fn timestamp() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("timestamp");
    let cases = [
        ("'2000-01-01 00:00:00'", naive(2000, 1, 1, 0, 0, 0, 0)),
        (
            "'1999-12-31 23:59:59.999999'",
            naive(1999, 12, 31, 23, 59, 59, 999_999),
        ),
        ("'1970-01-01 00:00:00'", naive(1970, 1, 1, 0, 0, 0, 0)),
        (
            "'2024-02-29 12:34:56.789012'",
            naive(2024, 2, 29, 12, 34, 56, 789_012),
        ),
        ("'4714-11-24 00:00:00 BC'", naive(-4713, 11, 24, 0, 0, 0, 0)),
        (
            "'262142-12-31 23:59:59.999999'",
            naive(262_142, 12, 31, 23, 59, 59, 999_999),
        ),
    ];
    check_with_arrays(conn, &ty, &cases).await;
    for (literal, why) in [
        ("'infinity'", "read it as tusk::types::Timestamp"),
        ("'-infinity'", "-infinity cannot be represented"),
        (
            "'294276-12-31 23:59:59.999999'",
            "outside NaiveDateTime's range",
        ),
    ] {
        decode_fails::<NaiveDateTime>(conn, &ty, literal, why).await;
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
        NaiveDateTime::MIN,
        "outside PostgreSQL's range",
    )
    .await;
    let nanos = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap();
    let leap = NaiveTime::from_hms_milli_opt(23, 59, 59, 1_000).unwrap();
    let encode_only = [
        (
            "'1999-12-31 23:59:59.999999'",
            date(1999, 12, 31).and_time(nanos),
        ),
        ("'2016-12-31 23:59:60'", date(2016, 12, 31).and_time(leap)),
    ];
    check_encode(conn, &ty, &encode_only).await;
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

/// `timestamptz` cases as UTC instants; each Rust type gets them through `convert`.
fn instants() -> Vec<(&'static str, DateTime<Utc>)> {
    vec![
        ("'2000-01-01 00:00:00+00'", utc(2000, 1, 1, 0, 0, 0, 0)),
        (
            "'1999-12-31 23:59:59.999999+00'",
            utc(1999, 12, 31, 23, 59, 59, 999_999),
        ),
        ("'1970-01-01 00:00:00Z'", utc(1970, 1, 1, 0, 0, 0, 0)),
        (
            "'1969-12-31 23:59:59.5+00'",
            utc(1969, 12, 31, 23, 59, 59, 500_000),
        ),
        (
            "'1900-06-15 12:00:00.000001+00'",
            utc(1900, 6, 15, 12, 0, 0, 1),
        ),
        ("'2021-03-28 01:30:00+00'", utc(2021, 3, 28, 1, 30, 0, 0)),
        (
            "'4714-11-24 00:00:00+00 BC'",
            utc(-4713, 11, 24, 0, 0, 0, 0),
        ),
        (
            "'262142-12-31 23:59:59.999999+00'",
            utc(262_142, 12, 31, 23, 59, 59, 999_999),
        ),
    ]
}

async fn check_instants<T: Value>(conn: &mut Connection, convert: impl Fn(DateTime<Utc>) -> T) {
    let ty = Ty::new("timestamptz");
    let cases: Vec<(&str, T)> = instants()
        .into_iter()
        .map(|(l, v)| (l, convert(v)))
        .collect();
    check_with_arrays(conn, &ty, &cases).await;
    // Other offsets in the literal are the same instants.
    let other_offsets = [
        (
            "'2000-01-01 05:30:00+05:30'",
            convert(utc(2000, 1, 1, 0, 0, 0, 0)),
        ),
        (
            "'1999-12-31 20:30:00-03:30'",
            convert(utc(2000, 1, 1, 0, 0, 0, 0)),
        ),
    ];
    check_decode(conn, &ty, &other_offsets).await;
    for (literal, why) in [
        ("'infinity'", "read it as tusk::types::Timestamp"),
        ("'-infinity'", "-infinity cannot be represented"),
        ("'294276-12-31 23:59:59.999999+00'", "range"),
    ] {
        decode_fails::<T>(conn, &ty, literal, why).await;
    }
    let infinite = [
        ("'infinity'", Timestamp::PosInfinity),
        ("'-infinity'", Timestamp::NegInfinity),
        (
            "'2000-01-01 00:00:00+00'",
            Timestamp::Value(convert(utc(2000, 1, 1, 0, 0, 0, 0))),
        ),
    ];
    check_with_arrays(conn, &ty, &infinite).await;
}

#[tokio::test]
async fn timestamptz_as_utc_fixed_offset_and_local() {
    let mut conn = connect().await;
    let conn = &mut conn;
    check_instants(conn, |v| v).await;
    check_instants(conn, |v| v.fixed_offset()).await;
    check_instants(conn, |v| v.with_timezone(&Local)).await;
    // A DateTime in any offset is sent as its instant (it reads back in +00:00).
    let ty = Ty::new("timestamptz");
    let in_offsets = [
        (
            "'2000-01-01 00:00:00+00'",
            utc(2000, 1, 1, 0, 0, 0, 0).with_timezone(&east(19_800)),
        ),
        (
            "'2000-01-01 00:00:00+00'",
            utc(2000, 1, 1, 0, 0, 0, 0).with_timezone(&east(-12_600)),
        ),
        (
            "'1999-12-31 23:59:59.999999+00'",
            utc(1999, 12, 31, 23, 59, 59, 999_999).fixed_offset(),
        ),
    ];
    check_encode(conn, &ty, &in_offsets).await;
    let before_first = utc(-4713, 11, 23, 23, 59, 59, 999_999);
    encode_fails(
        conn,
        "timestamptz",
        before_first,
        "outside PostgreSQL's range",
    )
    .await;
}

/// `DateTime<Local>` in a process whose local zone is not UTC: the test runs itself again with
/// `TZ=America/St_Johns` (setting the variable in this multi-threaded process would race).
#[tokio::test]
async fn timestamptz_as_local_under_a_non_utc_tz() {
    const CHILD: &str = "TUSK_LIVE_TYPES_TZ_CHILD";
    const NAME: &str = "datetime::timestamptz_as_local_under_a_non_utc_tz";
    if std::env::var_os(CHILD).is_none() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--test-threads=1"])
            .env(CHILD, "1")
            .env("TZ", "America/St_Johns")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report = || {
            format!(
                "the run under TZ=America/St_Johns: {}\n--- stdout:\n{stdout}\n--- stderr:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        };
        assert!(output.status.success(), "{}", report());
        // Exit status 0 also means "no test matched": insist that this very test ran, alone,
        // and passed.
        let ran: Vec<&str> = stdout
            .lines()
            .filter(|line| line.starts_with("test ") && !line.starts_with("test result:"))
            .collect();
        assert_eq!(ran, [format!("test {NAME} ... ok")], "{}", report());
        assert!(
            stdout
                .lines()
                .any(|line| line.starts_with("test result: ok. 1 passed; 0 failed; 0 ignored;")),
            "{}",
            report()
        );
        return;
    }
    let offset = Local::now().offset().local_minus_utc();
    assert!(
        [-12_600, -9_000].contains(&offset),
        "TZ not applied: offset {offset}"
    );
    let mut conn = connect().await;
    check_instants(&mut conn, |v| v.with_timezone(&Local)).await;
    let row = conn
        .query_one(
            "SELECT '2000-01-01 03:30:00+00'::timestamptz, $1::timestamptz = '2021-07-01 14:30Z'",
            &[&Local.with_ymd_and_hms(2021, 7, 1, 12, 0, 0).unwrap()],
        )
        .await
        .unwrap();
    let read: DateTime<Local> = row.get(0);
    assert_eq!(read.naive_local(), naive(2000, 1, 1, 0, 0, 0, 0));
    assert_eq!(read.offset().local_minus_utc(), -12_600);
    assert!(
        row.get::<_, bool>(1),
        "a local DateTime is sent as its instant"
    );
}

/// Under a non-UTC session time zone the binary value is still the UTC instant: literals with
/// an offset decode to the same instant, and literals without one are the zone's local time.
async fn check_in_zone(
    conn: &mut Connection,
    zone: &str,
    local: &[(&str, DateTime<Utc>)],
    text: (DateTime<Utc>, &str),
) {
    conn.batch_execute(&format!("SET TimeZone = '{zone}'"))
        .await
        .unwrap();
    let ty = Ty::new("timestamptz");
    check_with_arrays(conn, &ty, &instants()).await;
    check_decode(conn, &ty, local).await;
    let row = conn
        .query_one(
            "SELECT $1::timestamptz::text, '2000-01-01 00:00:00+00'::timestamptz, \
             '2000-01-01 00:00:00'::timestamp",
            &[&text.0],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), text.1, "in {zone}");
    assert_eq!(
        row.raw(1),
        Some(&[0u8; 8][..]),
        "2000-01-01 UTC is 0 in any zone"
    );
    assert_eq!(
        row.raw(2),
        Some(&[0u8; 8][..]),
        "timestamp ignores the zone"
    );
}

#[tokio::test]
async fn timestamptz_under_non_utc_time_zones() {
    let mut conn = connect().await;
    let local = [
        ("'2000-01-01 00:00:00'", utc(1999, 12, 31, 23, 0, 0, 0)),
        ("'2021-07-01 12:00:00'", utc(2021, 7, 1, 10, 0, 0, 0)),
        // The last microsecond before the spring-forward gap, and the first after it.
        (
            "'2021-03-28 01:59:59.999999'",
            utc(2021, 3, 28, 0, 59, 59, 999_999),
        ),
        ("'2021-03-28 03:00:00'", utc(2021, 3, 28, 1, 0, 0, 0)),
    ];
    let text = (utc(2021, 7, 1, 10, 0, 0, 0), "2021-07-01 12:00:00+02");
    check_in_zone(&mut conn, "Europe/Rome", &local, text).await;
    let local = [
        ("'2000-01-01 00:00:00'", utc(2000, 1, 1, 3, 30, 0, 0)),
        ("'2021-07-01 12:00:00'", utc(2021, 7, 1, 14, 30, 0, 0)),
    ];
    let text = (utc(2000, 1, 1, 3, 30, 0, 0), "2000-01-01 00:00:00-03:30");
    check_in_zone(&mut conn, "America/St_Johns", &local, text).await;
}

#[tokio::test]
async fn timetz_and_interval() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("timetz");
    let tz = |h, m, s, micro, offset| TimeTz {
        time: time(h, m, s, micro),
        offset: east(offset),
    };
    let cases = [
        ("'00:00:00+00'", tz(0, 0, 0, 0, 0)),
        ("'12:34:56.789-08'", tz(12, 34, 56, 789_000, -8 * 3600)),
        ("'12:00:00+05:30'", tz(12, 0, 0, 0, 19_800)),
        (
            "'23:59:59.999999+15:59:59'",
            tz(23, 59, 59, 999_999, 57_599),
        ),
        ("'00:00:00-15:59:59'", tz(0, 0, 0, 0, -57_599)),
        ("'01:02:03+01:02:03'", tz(1, 2, 3, 0, 3_723)),
        ("'01:02:03.5-00:00:01'", tz(1, 2, 3, 500_000, -1)),
        ("'00:00:00.000001-00:30'", tz(0, 0, 0, 1, -1_800)),
    ];
    check_with_arrays(conn, &ty, &cases).await;
    check_display(conn, &ty, &cases).await;
    decode_fails::<TimeTz>(conn, &ty, "'24:00:00+01'", "24:00:00 cannot be represented").await;
    encode_fails(
        conn,
        "timetz",
        tz(0, 0, 0, 0, 16 * 3600),
        "within ±16 hours",
    )
    .await;

    let ty = Ty::new("interval");
    let finite = [
        ("'0'", Interval::default()),
        (
            "'1 year 2 mons 3 days 04:05:06.789'",
            Interval::new(14, 3, 14_706_789_000),
        ),
        ("'-1 days +02:03:00'", Interval::new(0, -1, 7_380_000_000)),
        ("'1 mon -1 days'", Interval::new(1, -1, 0)),
        ("'-00:00:00.000001'", Interval::new(0, 0, -1)),
        ("'-178956970 years -8 mons'", Interval::new(i32::MIN, 0, 0)),
        ("'-2147483648 days'", Interval::new(0, i32::MIN, 0)),
        ("'2562047788:00:54.775807'", Interval::new(0, 0, i64::MAX)),
        ("'-1 years -2 mons'", Interval::new(-14, 0, 0)),
        ("'-01:00:00'", Interval::new(0, 0, -3_600_000_000)),
        ("'1 mon -00:00:00.000001'", Interval::new(1, 0, -1)),
        ("'-1 days +00:00:00.000001'", Interval::new(0, -1, 1)),
        ("'100:00:00'", Interval::new(0, 0, 360_000_000_000)),
        ("'1 year 1 day'", Interval::new(12, 1, 0)),
    ];
    check_display(conn, &ty, &finite).await;
    // Every field at its extreme; PostgreSQL 17 reads these as ±infinity.
    let version = "SELECT current_setting('server_version_num')::int4";
    let v17 = conn.query_one(version, &[]).await.unwrap().get::<_, i32>(0) >= 170_000;
    let max = match v17 {
        true => "'infinity'",
        false => "'178956970 years 7 mons 2147483647 days 2562047788:00:54.775807'",
    };
    let min = match v17 {
        true => "'-infinity'",
        // The text form of i64::MIN microseconds does not parse; build it.
        false => {
            "'-178956970 years -8 mons -2147483648 days' \
                  + make_interval(secs => -9223372036854.775808)"
        }
    };
    let mut cases = finite.to_vec();
    cases.extend([(max, Interval::INFINITY), (min, Interval::NEG_INFINITY)]);
    cases.push((
        "make_interval(secs => -9223372036854.775808)",
        Interval::new(0, 0, i64::MIN),
    ));
    check_with_arrays(conn, &ty, &cases).await;
    check(conn, &ty, &[("'@ 1 day ago'", Interval::new(0, -1, 0))]).await;
}
