//! Ranges and multiranges as `tusk::types::Range` and `Multirange`: bounds inclusive,
//! exclusive and infinite, the empty range, and the server's canonical forms (`[1,10]` is
//! `[1,11)`, multiranges sorted and merged), with the server as the oracle.

use std::ops::Bound::{self, Excluded, Included, Unbounded};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use tusk::types::{Decimal, Multirange, Range, Timestamp};

use super::{check_decode, check_encode, check_with_arrays, connect, decode_fails, Ty};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_micro_opt(h, mi, s, micro).unwrap()
}

fn r<T>(lower: Bound<T>, upper: Bound<T>) -> Range<T> {
    Range::new(lower, upper)
}

#[tokio::test]
async fn integer_ranges() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let int4 = Ty::new("int4range");
    let cases = [
        ("'[1,10)'", Range::from(1..10)),
        ("'empty'", Range::empty()),
        ("'(,5)'", Range::from(..5)),
        ("'[3,)'", Range::from(3..)),
        ("'(,)'", r(Unbounded, Unbounded)),
        (
            "'[-2147483648,2147483647)'",
            Range::from(i32::MIN..i32::MAX),
        ),
        ("'[0,1)'", Range::from(0..1)),
    ];
    check_with_arrays(conn, &int4, &cases).await;
    // The server canonicalises: inclusive upper and exclusive lower bounds move by one, and a
    // range covering nothing is empty. Decoding reads its canonical form...
    let canonical = [
        ("'[1,10]'", Range::from(1..11)),
        ("'(1,10]'", Range::from(2..11)),
        ("'(0,1)'", Range::empty()),
        ("'[5,5)'", Range::empty()),
        ("'(,5]'", Range::from(..6)),
    ];
    check_decode(conn, &int4, &canonical).await;
    // ...and what is sent as written is the same value on the server.
    let written = [
        ("'[1,10]'", Range::from(1..=10)),
        ("'(1,10]'", r(Excluded(1), Included(10))),
        ("'(0,1)'", r(Excluded(0), Excluded(1))),
        ("'[5,5)'", Range::from(5..5)),
        ("'(,5]'", Range::from(..=5)),
    ];
    check_encode(conn, &int4, &written).await;
    // A bound past the end of int4 after canonicalising is the server's error.
    let err = conn
        .query_one("SELECT $1::int4range", &[&Range::from(1..=i32::MAX)])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22003"), "{err}");
    // Lower above upper is refused by the server too.
    let err = conn
        .query_one("SELECT $1::int4range", &[&r(Included(5), Excluded(1))])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22000"), "{err}");
    conn.query_one("SELECT 1", &[]).await.unwrap();

    let int8 = Ty::new("int8range");
    let cases = [
        (
            "'[-9223372036854775808,9223372036854775807)'",
            Range::from(i64::MIN..i64::MAX),
        ),
        ("'empty'", Range::empty()),
        ("'(,0)'", Range::from(..0i64)),
        ("'[1,)'", Range::from(1i64..)),
    ];
    check_with_arrays(conn, &int8, &cases).await;
    check_decode(conn, &int8, &[("'[1,1]'", Range::from(1i64..2))]).await;
    // An int4range reads into Range<i64> (widening).
    check_decode(conn, &int4, &[("'[1,2)'", Range::from(1i64..2))]).await;
}

#[tokio::test]
async fn numeric_ranges() {
    let mut conn = connect().await;
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let cases = [
        ("'(1.5,2.50]'", r(Excluded(d("1.5")), Included(d("2.50")))),
        (
            "'[-1e-20,)'",
            r(Included(d("-0.00000000000000000001")), Unbounded),
        ),
        (
            "'(,123456789012345678901234567890.1)'",
            r(Unbounded, Excluded(d("123456789012345678901234567890.1"))),
        ),
        ("'[0,0]'", r(Included(d("0")), Included(d("0")))),
        ("'empty'", Range::empty()),
        // numrange is continuous: nothing is canonicalised.
        ("'[1,10]'", r(Included(d("1")), Included(d("10")))),
    ];
    check_with_arrays(&mut conn, &Ty::new("numrange"), &cases).await;
}

#[tokio::test]
async fn date_and_time_ranges() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let daterange = Ty::new("daterange");
    let cases = [
        (
            "'[2000-01-01,2000-01-02)'",
            Range::from(date(2000, 1, 1)..date(2000, 1, 2)),
        ),
        ("'[4713-11-24 BC,)'", Range::from(date(-4712, 11, 24)..)),
        ("'(,2024-02-29)'", Range::from(..date(2024, 2, 29))),
        ("'empty'", Range::empty()),
    ];
    check_with_arrays(conn, &daterange, &cases).await;
    // Discrete like integers: [d,d] is [d,d+1).
    check_decode(
        conn,
        &daterange,
        &[(
            "'[2000-01-01,2000-01-01]'",
            Range::from(date(2000, 1, 1)..date(2000, 1, 2)),
        )],
    )
    .await;
    check_encode(
        conn,
        &daterange,
        &[(
            "'[2000-01-01,2000-01-01]'",
            Range::from(date(2000, 1, 1)..=date(2000, 1, 1)),
        )],
    )
    .await;
    // ±infinity as bounds (not the same as unbounded) through Timestamp.
    let infinite = [
        (
            "'[-infinity,infinity]'",
            r(
                Included(Timestamp::NegInfinity),
                Included(Timestamp::PosInfinity),
            ),
        ),
        (
            "'[2000-01-01,infinity)'",
            r(
                Included(Timestamp::Value(date(2000, 1, 1))),
                Excluded(Timestamp::PosInfinity),
            ),
        ),
    ];
    check_with_arrays(conn, &daterange, &infinite).await;
    decode_fails::<Range<NaiveDate>>(conn, &daterange, "'[2000-01-01,infinity)'", "infinity").await;

    let tsrange = Ty::new("tsrange");
    let cases = [
        (
            "'[2000-01-01 00:00,2000-01-01 00:00:00.000001)'",
            Range::from(at(2000, 1, 1, 0, 0, 0, 0)..at(2000, 1, 1, 0, 0, 0, 1)),
        ),
        (
            "'(1999-12-31 23:59:59.999999,]'",
            r(Excluded(at(1999, 12, 31, 23, 59, 59, 999_999)), Unbounded),
        ),
        (
            "'[2024-02-29 12:34:56.5,2024-02-29 12:34:56.5]'",
            Range::from(
                at(2024, 2, 29, 12, 34, 56, 500_000)..=at(2024, 2, 29, 12, 34, 56, 500_000),
            ),
        ),
        ("'empty'", Range::empty()),
    ];
    check_with_arrays(conn, &tsrange, &cases).await;

    let tstzrange = Ty::new("tstzrange");
    let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let cases = [
        (
            "'[2000-01-01 00:00+00,2000-01-02 00:00+00)'",
            Range::from(utc("2000-01-01T00:00:00Z")..utc("2000-01-02T00:00:00Z")),
        ),
        // Another offset is the same instant.
        (
            "'(2024-02-29 12:34:56.5+02,)'",
            r(Excluded(utc("2024-02-29T10:34:56.5Z")), Unbounded),
        ),
        ("'(,)'", r(Unbounded, Unbounded)),
        ("'empty'", Range::empty()),
    ];
    check_with_arrays(conn, &tstzrange, &cases).await;
}

#[tokio::test]
async fn multiranges() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let int4 = Ty::new("int4multirange");
    let cases = [
        ("'{}'", Multirange::default()),
        (
            "'{[1,3), [5,7)}'",
            Multirange(vec![Range::from(1..3), Range::from(5..7)]),
        ),
        (
            "'{(,0), [10,)}'",
            Multirange(vec![Range::from(..0), Range::from(10..)]),
        ),
        ("'{(,)}'", Multirange(vec![r(Unbounded, Unbounded)])),
    ];
    check_with_arrays(conn, &int4, &cases).await;
    // The server sorts, merges overlapping and adjacent ranges, canonicalises each and drops
    // empty ones.
    let unsorted = || {
        Multirange(vec![
            Range::from(5..7),
            Range::from(1..3),
            Range::from(2..=3),
            Range::empty(),
            Range::from(7..=8),
        ])
    };
    let literal = "'{[5,7), [1,3), [2,3], empty, [7,8]}'";
    check_decode(
        conn,
        &int4,
        &[(
            literal,
            Multirange(vec![Range::from(1..4), Range::from(5..9)]),
        )],
    )
    .await;
    check_encode(conn, &int4, &[(literal, unsorted())]).await;

    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let nummultirange = [(
        "'{[1.5,2.5], (3,)}'",
        Multirange(vec![
            r(Included(d("1.5")), Included(d("2.5"))),
            r(Excluded(d("3")), Unbounded),
        ]),
    )];
    check_with_arrays(conn, &Ty::new("nummultirange"), &nummultirange).await;
    let int8 = [(
        "'{[1,2), [4,5)}'",
        Multirange(vec![Range::from(1i64..2), Range::from(4i64..5)]),
    )];
    check_with_arrays(conn, &Ty::new("int8multirange"), &int8).await;
    let dates = [(
        "'{[2000-01-01,2000-02-01)}'",
        Multirange(vec![Range::from(date(2000, 1, 1)..date(2000, 2, 1))]),
    )];
    check_with_arrays(conn, &Ty::new("datemultirange"), &dates).await;
    let ts = [(
        "'{[2000-01-01 00:00,2000-01-01 01:00)}'",
        Multirange(vec![Range::from(
            at(2000, 1, 1, 0, 0, 0, 0)..at(2000, 1, 1, 1, 0, 0, 0),
        )]),
    )];
    check_with_arrays(conn, &Ty::new("tsmultirange"), &ts).await;
    let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let tstz = [(
        "'{[2000-01-01 00:00+00,)}'",
        Multirange(vec![Range::from(utc("2000-01-01T00:00:00Z")..)]),
    )];
    check_with_arrays(conn, &Ty::new("tstzmultirange"), &tstz).await;
}
