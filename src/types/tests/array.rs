//! Arrays: Vec, slices, fixed-size arrays and Array.

use chrono::NaiveDate;

use super::*;
use crate::types::{Array, Decimal, Dimension, Timestamp};

fn dims(d: &[(i32, i32)]) -> Vec<Dimension> {
    d.iter()
        .map(|&(len, lower_bound)| Dimension { len, lower_bound })
        .collect()
}

#[test]
fn one_dimensional_vectors() {
    let int4 = Type::INT4_ARRAY;
    vector(
        &int4,
        "array_send('{}'::int4[])",
        "000000000000000000000017",
        Vec::<i32>::new(),
    );
    vector(
        &int4,
        "array_send('{1,2,3}'::int4[])",
        "0000000100000000000000170000000300000001000000040000000100000004000000020000000400000003",
        vec![1i32, 2, 3],
    );
    vector(
        &int4,
        "array_send('{1,NULL,3}'::int4[])",
        "00000001000000010000001700000003000000010000000400000001ffffffff0000000400000003",
        vec![Some(1i32), None, Some(3)],
    );
    vector(
        &Type::TEXT_ARRAY,
        "array_send('{a,\"b c\",\"\"}'::text[])",
        "000000010000000000000019000000030000000100000001610000000362206300000000",
        vec!["a".to_owned(), "b c".to_owned(), String::new()],
    );
    vector(
        &Type::TEXT_ARRAY,
        "array_send('{NULL}'::text[])",
        "0000000100000001000000190000000100000001ffffffff",
        vec![None::<String>],
    );
    vector(
        &Type::NUMERIC_ARRAY,
        "array_send('{1.5,NaN}'::numeric[])",
        "0000000100000000000006a400000002000000010000000c0002000000000001000113880000000800000000c0000000",
        vec!["1.5".parse::<Decimal>().unwrap(), Decimal::nan()],
    );
    vector(
        &Type::BYTEA_ARRAY,
        "array_send('{\"\\\\x01\"}'::bytea[])",
        "00000001000000000000001100000001000000010000000101",
        vec![vec![1u8]],
    );
    vector(
        &Type::BOOL_ARRAY,
        "array_send(ARRAY[true,false])",
        "000000010000000000000010000000020000000100000001010000000100",
        vec![true, false],
    );
    vector(
        &Type::DATE_ARRAY,
        "array_send('{2000-01-01,infinity}'::date[])",
        "00000001000000000000043a00000002000000010000000400000000000000047fffffff",
        vec![
            Timestamp::Value(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()),
            Timestamp::PosInfinity,
        ],
    );
}

#[test]
fn system_vectors_are_indexed_from_zero() {
    // int2vectorrecv / oidvectorrecv refuse anything but one dimension indexed from 0.
    vector(
        &Type::INT2VECTOR,
        "int2vectorsend('1 2'::int2vector)",
        "0000000100000000000000150000000200000000000000020001000000020002",
        vec![1i16, 2],
    );
    let empty: Vec<i16> = dec(
        &Type::INT2VECTOR,
        &hex("0000000100000000000000150000000000000000"), // int2vectorsend(''::int2vector)
    )
    .unwrap();
    assert!(empty.is_empty());
    vector(
        &Type::OIDVECTOR,
        "oidvectorsend('3'::oidvector)",
        "00000001000000000000001a00000001000000000000000400000003",
        vec![3u32],
    );
    let fixed: [u32; 1] = [3];
    assert_eq!(
        encode(&fixed, &Type::OIDVECTOR).unwrap(),
        hex("00000001000000000000001a00000001000000000000000400000003")
    );
}

#[test]
fn slices_and_fixed_arrays_encode_like_vec() {
    let expected = hex(
        "0000000100000000000000170000000300000001000000040000000100000004000000020000000400000003",
    );
    let v = [1i32, 2, 3];
    assert_eq!(encode(&&v[..], &Type::INT4_ARRAY).unwrap(), expected);
    assert_eq!(encode(&[1i32, 2, 3], &Type::INT4_ARRAY).unwrap(), expected);
    assert_eq!(
        encode(&vec!["a", "b c", ""], &Type::TEXT_ARRAY).unwrap(),
        hex("000000010000000000000019000000030000000100000001610000000362206300000000",)
    );
    // Elements widen as scalars do: i32 elements into int8[].
    assert_eq!(
        encode(&vec![1i32], &Type::INT8_ARRAY).unwrap(),
        hex("00000001 00000000 00000014 00000001 00000001 00000008 0000000000000001")
    );
    fails_with(
        encode(&vec![1i64], &Type::INT4_ARRAY),
        "cannot convert between Rust type `alloc::vec::Vec<i64>` and SQL type `_int4`",
    );
    fails_with(
        encode(&vec![1i32], &Type::INT4),
        "cannot convert between Rust type `alloc::vec::Vec<i32>` and SQL type `int4`",
    );
    // Strings do not go into arrays of text-only elements (they would need the text format).
    fails_with(
        encode(&vec!["10.0.0.1"], &Type::INET_ARRAY),
        "cannot convert between Rust type `alloc::vec::Vec<&str>` and SQL type `_inet`",
    );
}

#[test]
fn multi_dimensional_vectors() {
    vector(
        &Type::INT4_ARRAY,
        "array_send('{{1,2,3},{4,5,6}}'::int4[])",
        "00000002000000000000001700000002000000010000000300000001000000040000000100000004000000020000000400000003000000040000000400000004000000050000000400000006",
        Array::new(dims(&[(2, 1), (3, 1)]), vec![1i32, 2, 3, 4, 5, 6]).unwrap(),
    );
    vector(
        &Type::INT4_ARRAY,
        "array_send('[0:1]={7,8}'::int4[])",
        "000000010000000000000017000000020000000000000004000000070000000400000008",
        Array::new(dims(&[(2, 0)]), vec![7i32, 8]).unwrap(),
    );
    vector(
        &Type::INT8_ARRAY,
        "array_send('{{{1}},{{2}}}'::int8[])",
        "000000030000000000000014000000020000000100000001000000010000000100000001000000080000000000000001000000080000000000000002",
        Array::new(dims(&[(2, 1), (1, 1), (1, 1)]), vec![1i64, 2]).unwrap(),
    );
    let a = Array::new(dims(&[(2, -5), (1, 3)]), vec![1i16, 2]).unwrap();
    vector(
        &Type::INT2_ARRAY,
        "array_send('[-5:-4][3:3]={{1},{2}}'::int2[])",
        "00000002000000000000001500000002fffffffb0000000100000003000000020001000000020002",
        a.clone(),
    );
    assert_eq!(a.get(&[-4, 3]), Some(&2));
    assert_eq!(a.get(&[-3, 3]), None);
    assert_eq!(a.get(&[-4]), None);
    vector(
        &Type::INT4_ARRAY,
        "array_send('{}'::int4[])",
        "000000000000000000000017",
        Array::<i32>::from_vec(vec![]).unwrap(),
    );

    // A Vec takes one dimension (any lower bound), not more.
    let raw = hex("000000010000000000000017000000020000000000000004000000070000000400000008");
    assert_eq!(
        dec::<Vec<i32>>(&Type::INT4_ARRAY, &raw).unwrap(),
        vec![7, 8]
    );
    let raw = hex("000000030000000000000014000000020000000100000001000000010000000100000001000000080000000000000001000000080000000000000002");
    let e = err_text(dec::<Vec<i64>>(&Type::INT8_ARRAY, &raw));
    assert!(
        e.contains("has 3 dimensions; read it as tusk::types::Array"),
        "{e}"
    );
}

#[test]
fn array_constructor_checks() {
    fails_with(
        Array::new(dims(&[(2, 1)]), vec![1]),
        "invalid array value: the dimensions hold 2 elements but 1 were given",
    );
    fails_with(
        Array::new(dims(&[(1, 1); 7]), vec![1]),
        "invalid array value: 7 dimensions exceed the maximum of 6",
    );
    fails_with(
        Array::new(dims(&[(-1, 1)]), Vec::<i32>::new()),
        "invalid array value: dimension 1 has length -1",
    );
    fails_with(
        Array::new(dims(&[(1, i32::MAX)]), vec![1]),
        "dimension 1 with lower bound 2147483647 and length 1 overflows the index range",
    );
    // Zero-length dimensions normalize to the empty array.
    let a = Array::new(dims(&[(0, 1), (3, 1)]), Vec::<i32>::new()).unwrap();
    assert!(a.dimensions().is_empty() && a.is_empty());
    let a = Array::from_vec(vec!["x", "y"]).unwrap();
    assert_eq!(a.dimensions(), &dims(&[(2, 1)])[..]);
    assert_eq!(a.len(), 2);
    assert_eq!(a.iter().count(), 2);
    assert_eq!((&a).into_iter().count(), 2);
    let (d, e) = a.clone().into_parts();
    assert_eq!((d.len(), e), (1, vec!["x", "y"]));
    assert_eq!(a.into_elements(), vec!["x", "y"]);
}

#[test]
fn decode_validates_headers() {
    let ty = Type::INT4_ARRAY;
    let bad: &[(&str, &str)] = &[
        ("", "number of dimensions needs 4 bytes"),
        (
            "00000007 00000000 00000017",
            "invalid number of dimensions 7",
        ),
        (
            "ffffffff 00000000 00000017",
            "invalid number of dimensions -1",
        ),
        ("00000001 00000002 00000017", "invalid flags 2"),
        (
            "00000001 00000000 00000014 00000001 00000001",
            "element type is int8 but _int4 holds int4",
        ),
        (
            "00000001 00000000 00000017 00000001",
            "lower bound needs 4 bytes",
        ),
        (
            "00000001 00000000 00000017 ffffffff 00000001",
            "dimension 1 has length -1",
        ),
        (
            "00000001 00000000 00000017 00000001 7fffffff 00000004 00000001",
            "overflows the index range",
        ),
        // 2^31-1 * 2^31-1 elements declared: refused before allocating.
        (
            "00000002 00000000 00000017 7fffffff 00000000 7fffffff 00000000",
            "elements but only 0 bytes follow",
        ),
        (
            "00000001 00000000 00000017 00000003 00000001 00000004 00000001",
            "declare 3 elements but only 8 bytes follow",
        ),
        (
            "00000001 00000000 00000017 00000002 00000001 00000004 00000001",
            "element length needs 4 bytes but only 0 remain",
        ),
        (
            "00000001 00000000 00000017 00000001 00000001 00000005 00000001",
            "element needs 5 bytes but only 4 remain",
        ),
        (
            "00000001 00000000 00000017 00000001 00000001 fffffffe",
            "element 1 has invalid length -2",
        ),
        (
            "00000001 00000000 00000017 00000001 00000001 00000004 00000001 00",
            "1 unexpected bytes after the value",
        ),
        (
            "00000000 00000000 00000017 00",
            "1 unexpected bytes after the value",
        ),
    ];
    for &(bytes, why) in bad {
        let e = err_text(dec::<Array<i32>>(&ty, &hex(bytes)));
        assert!(e.contains(why), "{bytes}: {e}");
    }
    // Element errors surface as they are: a wrong element length, a NULL into a non-Option.
    let e = err_text(dec::<Vec<i32>>(
        &ty,
        &hex("00000001 00000000 00000017 00000001 00000001 00000002 0001"),
    ));
    assert_eq!(e, "invalid int4 value: expected 4 bytes, got 2");
    let e = err_text(dec::<Vec<i32>>(
        &ty,
        &hex("00000001 00000001 00000017 00000001 00000001 ffffffff"),
    ));
    assert_eq!(e, "unexpected NULL value");
    // The 6-dimension maximum is accepted.
    let six = format!(
        "00000006 00000000 00000017 {} 00000004 00000009",
        "00000001 00000001 ".repeat(6)
    );
    let a = dec::<Array<i32>>(&ty, &hex(&six)).unwrap();
    assert_eq!((a.dimensions().len(), a.elements()), (6, &[9][..]));
    fails_with(
        dec::<Vec<i32>>(&Type::INT4, &hex("00000000")),
        "cannot convert between Rust type `alloc::vec::Vec<i32>` and SQL type `int4`",
    );
    fails_with(
        dec::<Vec<i32>>(&Type::TEXT_ARRAY, &hex("000000000000000000000019")),
        "cannot convert between Rust type `alloc::vec::Vec<i32>` and SQL type `_text`",
    );
}

#[test]
fn borrowed_elements() {
    let raw = hex("000000010000000000000019000000030000000100000001610000000362206300000000");
    let v: Vec<&str> = dec(&Type::TEXT_ARRAY, &raw).unwrap();
    assert_eq!(v, ["a", "b c", ""]);
    let raw = hex("00000001 00000001 00000011 00000002 00000001 ffffffff 00000001 7f");
    let v: Vec<Option<&[u8]>> = dec(&Type::BYTEA_ARRAY, &raw).unwrap();
    assert_eq!(v, [None, Some(&[0x7f][..])]);
}

#[test]
fn subscripts_follow_the_server() {
    // '{{1,2,3},{4,5,6}}'::int4[]; the expectations are the server's own subscripting:
    // a[2][1] = 4, a[1][2] = 2, a[2][3] = 6, and a[1][4], a[0][1], a[3][1] are NULL.
    let a = Array::new(dims(&[(2, 1), (3, 1)]), vec![1i32, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(a.get(&[2, 1]), Some(&4));
    assert_eq!(a.get(&[1, 2]), Some(&2));
    assert_eq!(a.get(&[2, 3]), Some(&6));
    assert_eq!(a.get(&[1, 4]), None);
    assert_eq!(a.get(&[0, 1]), None);
    assert_eq!(a.get(&[3, 1]), None);
    assert_eq!(a.get(&[1, 1, 1]), None);
    assert_eq!(Array::<i32>::from_vec(vec![]).unwrap().get(&[]), None);
    assert!(!a.is_empty());
    assert!(Array::<i32>::from_vec(vec![]).unwrap().is_empty());
    assert_eq!(a.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
}

#[test]
fn array_types_accept_only_arrays_of_their_elements() {
    // Elements widen as scalars do: i32 elements go into int4[] and int8[] (never int2[]),
    // and are read from int2[] and int4[] (never int8[]).
    for t in [Type::INT4_ARRAY, Type::INT8_ARRAY] {
        assert!(<Array<i32> as ToSql>::accepts(&t), "{t}");
        assert!(<&[i32] as ToSql>::accepts(&t), "{t}");
        assert!(<[i32; 2] as ToSql>::accepts(&t), "{t}");
        assert!(<Vec<i32> as ToSql>::accepts(&t), "{t}");
    }
    for t in [Type::INT4, Type::TEXT, Type::INT2_ARRAY, Type::TEXT_ARRAY] {
        assert!(!<Array<i32> as ToSql>::accepts(&t), "{t}");
        assert!(!<&[i32] as ToSql>::accepts(&t), "{t}");
        assert!(!<[i32; 2] as ToSql>::accepts(&t), "{t}");
        assert!(!<Vec<i32> as ToSql>::accepts(&t), "{t}");
    }
    for t in [Type::INT2_ARRAY, Type::INT4_ARRAY] {
        assert!(<Array<i32> as FromSql>::accepts(&t), "{t}");
        assert!(<Vec<i32> as FromSql>::accepts(&t), "{t}");
    }
    for t in [Type::INT4, Type::TEXT, Type::INT8_ARRAY, Type::TEXT_ARRAY] {
        assert!(!<Array<i32> as FromSql>::accepts(&t), "{t}");
        assert!(!<Vec<i32> as FromSql>::accepts(&t), "{t}");
    }
    // Strings go only into arrays of binary elements.
    assert!(<Array<&str> as ToSql>::accepts(&Type::TEXT_ARRAY));
    assert!(!<Array<&str> as ToSql>::accepts(&Type::INET_ARRAY));
    assert!(!<Array<String> as FromSql>::accepts(&Type::INET_ARRAY));
    assert!(!<&[&str] as ToSql>::accepts(&Type::INET_ARRAY));
    assert!(!<[&str; 1] as ToSql>::accepts(&Type::INET_ARRAY));

    let a = Array::from_vec(vec![1i32, 2]).unwrap();
    fails_with(
        encode(&a, &Type::INT4),
        "cannot convert between Rust type `tusk::types::array::Array<i32>` and SQL type `int4`",
    );
    fails_with(
        encode(&a, &Type::INT2_ARRAY),
        "cannot convert between Rust type `tusk::types::array::Array<i32>` and SQL type `_int2`",
    );
    fails_with(
        dec::<Array<i32>>(&Type::INT4, &hex("00000001")),
        "cannot convert between Rust type `tusk::types::array::Array<i32>` and SQL type `int4`",
    );
    fails_with(
        dec::<Array<i32>>(&Type::INT8_ARRAY, &hex("000000000000000000000014")),
        "cannot convert between Rust type `tusk::types::array::Array<i32>` and SQL type `_int8`",
    );
    let v = [1i32, 2];
    fails_with(
        encode(&&v[..], &Type::INT4),
        "cannot convert between Rust type `&[i32]` and SQL type `int4`",
    );
    fails_with(
        encode(&&v[..], &Type::TEXT_ARRAY),
        "cannot convert between Rust type `&[i32]` and SQL type `_text`",
    );
    fails_with(
        encode(&v, &Type::INT4),
        "cannot convert between Rust type `[i32; 2]` and SQL type `int4`",
    );
    fails_with(
        encode(&v, &Type::TEXT_ARRAY),
        "cannot convert between Rust type `[i32; 2]` and SQL type `_text`",
    );
}

/// An element that breaks `to_sql`'s contract: it writes bytes and then says NULL.
#[derive(Debug)]
struct SloppyNull;

impl ToSql for SloppyNull {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(b"junk");
        Ok(IsNull::Yes)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INT4
    }

    crate::to_sql_checked!();
}

#[test]
fn null_elements_drop_what_their_writer_left() {
    // array_send('{NULL}'::int4[]) and array_send('{1,NULL}'::int4[]): the bytes an element
    // wrote before answering NULL are not sent.
    assert_eq!(
        encode(&vec![SloppyNull], &Type::INT4_ARRAY).unwrap(),
        hex("0000000100000001000000170000000100000001ffffffff")
    );
    assert_eq!(
        encode(
            &Array::from_vec(vec![SloppyNull, SloppyNull]).unwrap(),
            &Type::INT4_ARRAY
        )
        .unwrap(),
        hex("00000001 00000001 00000017 00000002 00000001 ffffffff ffffffff")
    );
}
