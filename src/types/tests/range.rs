//! Ranges and multiranges.

use std::ops::Bound;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::types::{Decimal, Multirange, Range, Timestamp};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn range_vectors() {
    // The server canonicalises [1,10] to [1,11).
    vector(
        &Type::INT4RANGE,
        "range_send('[1,10]'::int4range)",
        "020000000400000001000000040000000b",
        Range::from(1..11),
    );
    vector(
        &Type::INT4RANGE,
        "range_send('empty'::int4range)",
        "01",
        Range::<i32>::empty(),
    );
    vector(
        &Type::INT4RANGE,
        "range_send('(,5)'::int4range)",
        "080000000400000005",
        Range::from(..5),
    );
    vector(
        &Type::INT8RANGE,
        "range_send('[3,)'::int8range)",
        "12000000080000000000000003",
        Range::from(3i64..),
    );
    vector(
        &Type::INT4RANGE,
        "range_send('(,)'::int4range)",
        "18",
        Range::<i32>::new(Bound::Unbounded, Bound::Unbounded),
    );
    vector(
        &Type::NUMRANGE,
        "range_send('(1.5,2.5]'::numrange)",
        "040000000c0002000000000001000113880000000c000200000000000100021388",
        Range::new(
            Bound::Excluded("1.5".parse::<Decimal>().unwrap()),
            Bound::Included("2.5".parse().unwrap()),
        ),
    );
    vector(
        &Type::DATERANGE,
        "range_send('[2000-01-01,2000-01-02)'::daterange)",
        "0200000004000000000000000400000001",
        Range::from(date(2000, 1, 1)..date(2000, 1, 2)),
    );
    vector(
        &Type::TSRANGE,
        "range_send('[2000-01-01 00:00,infinity]'::tsrange)",
        "06000000080000000000000000000000087fffffffffffffff",
        Range::new(
            Bound::Included(Timestamp::Value(
                date(2000, 1, 1).and_hms_opt(0, 0, 0).unwrap(),
            )),
            Bound::Included(Timestamp::PosInfinity),
        ),
    );
    let y2k: DateTime<Utc> = "2000-01-01T00:00:00Z".parse().unwrap();
    vector(
        &Type::TSTZRANGE,
        "range_send('(2000-01-01 00:00+00,)'::tstzrange)",
        "10000000080000000000000000",
        Range::new(Bound::Excluded(y2k), Bound::Unbounded),
    );
}

#[test]
fn multirange_vectors() {
    vector(
        &Type::INT4MULTIRANGE,
        "multirange_send('{[1,3),[5,7)}'::int4multirange)",
        "00000002000000110200000004000000010000000400000003000000110200000004000000050000000400000007",
        Multirange(vec![Range::from(1..3), Range::from(5..7)]),
    );
    vector(
        &Type::INT4MULTIRANGE,
        "multirange_send('{}'::int4multirange)",
        "00000000",
        Multirange::<i32>::default(),
    );
}

#[test]
fn range_types_and_accepts() {
    let ranges = [
        (Type::INT4RANGE, Type::INT4, Type::INT4MULTIRANGE),
        (Type::INT8RANGE, Type::INT8, Type::INT8MULTIRANGE),
        (Type::NUMRANGE, Type::NUMERIC, Type::NUMMULTIRANGE),
        (Type::DATERANGE, Type::DATE, Type::DATEMULTIRANGE),
        (Type::TSRANGE, Type::TIMESTAMP, Type::TSMULTIRANGE),
        (Type::TSTZRANGE, Type::TIMESTAMPTZ, Type::TSTZMULTIRANGE),
    ];
    for (range, subtype, multi) in ranges {
        assert_eq!(range.range_subtype(), Some(subtype));
        assert_eq!(multi.multirange_range(), Some(range.clone()));
        assert!(range.binary_supported() && multi.binary_supported());
        assert_eq!(range.multirange_range(), None);
        assert_eq!(multi.range_subtype(), None);
    }
    assert_eq!(Type::ANYRANGE.range_subtype(), None);
    // Bounds widen as their values do (an i32 to int8 or numeric), never narrow.
    encodes_exactly(
        &Range::from(1..2),
        "tusk::types::range::Range<i32>",
        &[Type::INT4RANGE, Type::INT8RANGE, Type::NUMRANGE],
    );
    encodes_exactly(
        &Range::from(1i64..2),
        "tusk::types::range::Range<i64>",
        &[Type::INT8RANGE, Type::NUMRANGE],
    );
    decodes_exactly::<Range<i64>>(
        "tusk::types::range::Range<i64>",
        &[Type::INT4RANGE, Type::INT8RANGE],
    );
    decodes_exactly::<Multirange<NaiveDate>>(
        "tusk::types::range::Multirange<chrono::naive::date::NaiveDate>",
        &[Type::DATEMULTIRANGE],
    );
}

#[test]
fn range_api() {
    let r = Range::from(1..=10);
    assert_eq!(r.lower(), Some(&Bound::Included(1)));
    assert_eq!(r.upper(), Some(&Bound::Included(10)));
    assert!(r.contains(&10) && !r.contains(&11) && !r.contains(&0));
    assert_eq!(r.to_string(), "[1,10]");
    assert_eq!(Range::from(..=3).to_string(), "(,3]");
    assert_eq!(Range::<i32>::empty().to_string(), "empty");
    assert!(!Range::<i32>::empty().contains(&0));
    assert_eq!(Range::<i32>::empty().lower(), None);
    assert_eq!(Range::from(1..2).map(i64::from), Range::from(1i64..2));
    assert_eq!(
        Range::from(1..2).into_bounds(),
        Some((Bound::Included(1), Bound::Excluded(2)))
    );
    let m: Multirange<i32> = vec![Range::from(1..2)].into_iter().collect();
    assert_eq!(m.ranges(), [Range::from(1..2)]);
    assert_eq!(m.into_ranges().len(), 1);
}

#[test]
fn invalid_ranges() {
    fails_with(
        dec::<Range<i32>>(&Type::INT4RANGE, &[]),
        "flags needs 1 bytes",
    );
    fails_with(
        dec::<Range<i32>>(&Type::INT4RANGE, &hex("20")),
        "invalid flags 0x20",
    );
    fails_with(
        dec::<Range<i32>>(&Type::INT4RANGE, &hex("02ffffffff")),
        "lower bound has invalid length -1",
    );
    fails_with(
        dec::<Range<i32>>(&Type::INT4RANGE, &hex("0800000004000000")),
        "upper bound needs 4 bytes",
    );
    fails_with(
        dec::<Range<i32>>(&Type::INT4RANGE, &hex("0100")),
        "1 unexpected bytes",
    );
    fails_with(
        dec::<Range<i32>>(&Type::INT4RANGE, &hex("18000000040000000100")),
        "unexpected bytes",
    );
    // The GiST-only flag carries no meaning in a value.
    assert!(dec::<Range<i32>>(&Type::INT4RANGE, &hex("81"))
        .unwrap()
        .is_empty());
    fails_with(
        dec::<Multirange<i32>>(&Type::INT4MULTIRANGE, &hex("7fffffff")),
        "invalid range count 2147483647",
    );
    fails_with(
        dec::<Multirange<i32>>(&Type::INT4MULTIRANGE, &hex("00000001ffffffff00")),
        "range 1 has invalid length -1",
    );
    // A bound cannot be NULL.
    fails_with(
        encode(
            &Range::new(Bound::Included(None::<i32>), Bound::Unbounded),
            &Type::INT4RANGE,
        ),
        "cannot be NULL",
    );
}
