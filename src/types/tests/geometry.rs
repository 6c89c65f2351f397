//! bit, varbit, money, the geometric types and hstore.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::types::{BitString, Circle, Line, LineSegment, Money, Path, Point, Polygon, Rect};

fn bits(s: &str) -> BitString {
    s.parse().unwrap()
}

#[test]
fn bit_vectors() {
    vector(&Type::BIT, "bit_send(B'1010')", "00000004a0", bits("1010"));
    vector(
        &Type::VARBIT,
        "varbit_send(B'101000001'::varbit)",
        "00000009a080",
        bits("101000001"),
    );
    vector(
        &Type::VARBIT,
        "varbit_send(B''::varbit)",
        "00000000",
        BitString::default(),
    );
    encodes_exactly(
        &bits("1"),
        "tusk::types::bits::BitString",
        &[Type::BIT, Type::VARBIT],
    );
    decodes_exactly::<BitString>("tusk::types::bits::BitString", &[Type::BIT, Type::VARBIT]);
}

#[test]
fn bit_strings() {
    let b = bits("101000001");
    assert_eq!(b.len(), 9);
    assert_eq!(b.iter().filter(|&x| x).count(), 3);
    assert_eq!(b.get(8), Some(true));
    assert_eq!(b.get(9), None);
    assert_eq!(b.to_string(), "101000001");
    assert!(BitString::default().is_empty());
    // Padding bits are cleared, here and when decoding (as varbit_recv does).
    let padded = BitString::from_bytes(vec![0xff], 3).unwrap();
    assert_eq!(padded.as_bytes(), [0xe0]);
    assert_eq!(
        dec::<BitString>(&Type::VARBIT, &hex("00000003ff")).unwrap(),
        padded
    );
    fails_with(
        BitString::from_bytes(vec![0, 0], 8),
        "8 bits take 1 bytes, not 2",
    );
    fails_with(
        "10x".parse::<BitString>(),
        "'x' is not a valid binary digit",
    );
    fails_with(
        dec::<BitString>(&Type::BIT, &hex("ffffffff")),
        "invalid bit length -1",
    );
    fails_with(
        dec::<BitString>(&Type::BIT, &hex("00000009ff")),
        "bits needs 2 bytes",
    );
    fails_with(
        dec::<BitString>(&Type::BIT, &hex("00000001ff00")),
        "unexpected bytes",
    );
}

#[test]
fn money_vectors() {
    vector(
        &Type::MONEY,
        "cash_send('12.34'::money)",
        "00000000000004d2",
        Money(1234),
    );
    vector(
        &Type::MONEY,
        "cash_send('-92233720368547758.08'::money)",
        "8000000000000000",
        Money(i64::MIN),
    );
    encodes_exactly(&Money(1), "tusk::types::bits::Money", &[Type::MONEY]);
    decodes_exactly::<Money>("tusk::types::bits::Money", &[Type::MONEY]);
    fails_with(
        dec::<Money>(&Type::MONEY, &[0; 4]),
        "expected 8 bytes, got 4",
    );
}

#[test]
fn geometric_vectors() {
    let p = Point::new;
    vector(
        &Type::POINT,
        "point_send('(1,-2.5)')",
        "3ff0000000000000c004000000000000",
        p(1.0, -2.5),
    );
    vector(
        &Type::LINE,
        "line_send('{1,-1,0}')",
        "3ff0000000000000bff00000000000000000000000000000",
        Line {
            a: 1.0,
            b: -1.0,
            c: 0.0,
        },
    );
    vector(
        &Type::LSEG,
        "lseg_send('[(0,0),(1,1)]')",
        "000000000000000000000000000000003ff00000000000003ff0000000000000",
        LineSegment {
            start: p(0.0, 0.0),
            end: p(1.0, 1.0),
        },
    );
    vector(
        &Type::BOX,
        "box_send('(0,0),(2,3)')",
        "4000000000000000400800000000000000000000000000000000000000000000",
        Rect::new(p(0.0, 0.0), p(2.0, 3.0)),
    );
    vector(
        &Type::PATH,
        "path_send('[(0,0),(1,1),(2,0)]')",
        "0000000003000000000000000000000000000000003ff00000000000003ff000000000000040000000000000000000000000000000",
        Path { closed: false, points: vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)] },
    );
    vector(
        &Type::PATH,
        "path_send('((0,0),(1,1))')",
        "0100000002000000000000000000000000000000003ff00000000000003ff0000000000000",
        Path {
            closed: true,
            points: vec![p(0.0, 0.0), p(1.0, 1.0)],
        },
    );
    vector(
        &Type::POLYGON,
        "poly_send('((0,0),(1,1),(1,0))')",
        "00000003000000000000000000000000000000003ff00000000000003ff00000000000003ff00000000000000000000000000000",
        Polygon { points: vec![p(0.0, 0.0), p(1.0, 1.0), p(1.0, 0.0)] },
    );
    vector(
        &Type::CIRCLE,
        "circle_send('<(1,2),3>')",
        "3ff000000000000040000000000000004008000000000000",
        Circle {
            center: p(1.0, 2.0),
            radius: 3.0,
        },
    );
    encodes_exactly(&p(0.0, 0.0), "tusk::types::geometry::Point", &[Type::POINT]);
    decodes_exactly::<Rect>("tusk::types::geometry::Rect", &[Type::BOX]);
}

#[test]
fn invalid_geometric_values() {
    fails_with(dec::<Point>(&Type::POINT, &[0; 15]), "y needs 8 bytes");
    fails_with(dec::<Point>(&Type::POINT, &[0; 17]), "unexpected bytes");
    fails_with(
        dec::<Path>(&Type::PATH, &hex("0000000000")),
        "invalid number of points 0",
    );
    fails_with(
        dec::<Polygon>(&Type::POLYGON, &hex("7fffffff")),
        "invalid number of points 2147483647",
    );
    fails_with(
        dec::<Circle>(
            &Type::CIRCLE,
            &hex("00000000000000000000000000000000bff0000000000000"),
        ),
        "negative radius -1",
    );
    fails_with(
        encode(&Path::default(), &Type::PATH),
        "no value without points",
    );
    fails_with(
        encode(&Polygon::default(), &Type::POLYGON),
        "no value without points",
    );
}

fn hstore() -> Type {
    Type::other(16_500, "hstore")
}

#[test]
fn hstore_vectors() {
    let pairs = [("a", Some("1")), ("b", None), ("long key", Some(""))];
    let owned = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_owned)));
    let sql = "hstore_send('a=>1, b=>NULL, \"long key\"=>\"\"'::hstore)";
    let bytes = "00000003000000016100000001310000000162ffffffff000000086c6f6e67206b657900000000";
    vector(
        &hstore(),
        sql,
        bytes,
        owned.clone().collect::<HashMap<_, _>>(),
    );
    vector(&hstore(), sql, bytes, owned.collect::<BTreeMap<_, _>>());
    // Keys in hstore's order: by length first, so "b" before "aa".
    let map = BTreeMap::from([("aa".to_owned(), None), ("b".to_owned(), None)]);
    assert_eq!(
        encode(&map, &hstore()).unwrap(),
        hex("00000002 00000001 62 ffffffff 00000002 6161 ffffffff")
    );
    encodes_exactly(&map, "alloc::collections::btree::map::BTreeMap<alloc::string::String, core::option::Option<alloc::string::String>>", &[]);
    assert!(<HashMap<String, Option<String>> as ToSql>::accepts(
        &hstore()
    ));
    assert!(!<HashMap<String, Option<String>> as ToSql>::accepts(
        &Type::from_oid(16_500)
    ));
    assert!(!<BTreeMap<String, Option<String>> as FromSql>::accepts(
        &Type::other(16_501, "citext")
    ));
}

#[test]
fn invalid_hstore_values() {
    let dec_map = |raw: &str| dec::<BTreeMap<String, Option<String>>>(&hstore(), &hex(raw));
    fails_with(dec_map("7fffffff"), "invalid number of pairs 2147483647");
    fails_with(dec_map("00000001ffffffff00000000"), "invalid key length -1");
    fails_with(
        dec_map("0000000100000001ff00000000"),
        "key is not valid UTF-8",
    );
    fails_with(
        dec_map("000000010000000161fffffffe"),
        "invalid value length -2",
    );
    fails_with(dec_map("00000000 00"), "unexpected bytes");
}
