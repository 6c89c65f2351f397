//! Catalog types built by hand (as `client/type_cache.rs` builds them from the catalog) and
//! the composite and enum codecs of `types::__derive`, on bytes captured from PostgreSQL 15:
//! `record_send('("x y",3,b)'::it)` for `CREATE TYPE it AS (name text, qty int4, mood m)`,
//! `m` an enum (OID 238505 in that database).

use bytes::BytesMut;

use super::{dec, encode, fails_with, hex};
use crate::types::__derive::{
    composite_accepts, domain_accepts, enum_accepts, enum_label, unknown_label, CompositeReader,
    CompositeWriter,
};
use crate::types::custom::{CustomType, Details};
use crate::types::{Field, FromSql, IsNull, ToSql, Type, TypeKind};

const MOOD_OID: u32 = 238_505;
const RECORD: &str = "00000003 00000019 00000003 782079 00000017 00000004 00000003 \
                      0003a3a9 00000001 62";
const ALL_NULL: &str = "00000003 00000019 ffffffff 00000017 ffffffff 0003a3a9 ffffffff";

fn custom(oid: u32, name: &str, details: Details) -> Type {
    Type::custom(CustomType::new(oid, name.into(), "public".into(), details))
}

fn mood() -> Type {
    custom(MOOD_OID, "m", Details::Enum(vec!["a".into(), "b".into()]))
}

fn item() -> Type {
    custom(
        300_000,
        "it",
        Details::Composite(vec![
            Field::new("name".into(), Type::TEXT),
            Field::new("qty".into(), Type::INT4),
            Field::new("mood".into(), mood()),
        ]),
    )
}

#[derive(Debug, PartialEq)]
struct It {
    name: Option<String>,
    qty: Option<i32>,
    mood: Option<String>,
}

impl FromSql<'_> for It {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<It, crate::BoxError> {
        let mut r = CompositeReader::new(ty, raw)?;
        Ok(It {
            mood: r.read("mood")?,
            name: r.read("name")?,
            qty: r.read("qty")?,
        })
    }

    fn accepts(ty: &Type) -> bool {
        composite_accepts(
            ty,
            "it",
            &[
                ("name", <Option<String> as FromSql>::accepts),
                ("qty", <Option<i32> as FromSql>::accepts),
                ("mood", <Option<String> as FromSql>::accepts),
            ],
        )
    }
}

impl ToSql for It {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, crate::BoxError> {
        let mut w = CompositeWriter::new(ty, out)?;
        w.write("qty", &self.qty)?;
        w.write("mood", &self.mood)?;
        w.write("name", &self.name)?;
        w.finish()
    }

    fn accepts(ty: &Type) -> bool {
        <It as FromSql>::accepts(ty)
    }

    crate::to_sql_checked!();
}

#[test]
fn a_composite_matches_the_servers_record_send_both_ways() {
    let ty = item();
    let full = It {
        name: Some("x y".into()),
        qty: Some(3),
        mood: Some("b".into()),
    };
    let nulls = It {
        name: None,
        qty: None,
        mood: None,
    };
    for (bytes, value) in [(RECORD, full), (ALL_NULL, nulls)] {
        let raw = hex(bytes);
        assert_eq!(dec::<It>(&ty, &raw).unwrap(), value);
        assert_eq!(encode(&value, &ty).unwrap(), raw);
    }
}

#[test]
fn a_composite_that_does_not_match_its_description_is_an_error_and_marks_it_stale() {
    let ty = item();
    assert!(!ty.is_stale());
    // A fourth field (ADD ATTRIBUTE since the catalog was read).
    let mut four = hex(RECORD);
    four[3] = 4;
    four.extend(hex("00000019 ffffffff"));
    fails_with(dec::<It>(&ty, &four), "4 fields, not 3");
    assert!(ty.is_stale(), "the description is to be read again");
    // A copy made later from the cache shares the mark; a fresh description does not.
    assert!(ty.clone().is_stale());
    assert!(!item().is_stale());
    // A field of another type (ALTER ATTRIBUTE ... TYPE).
    let mut retyped = hex(RECORD);
    retyped[7] = 0x14; // int8 for `name`.
    fails_with(dec::<It>(&item(), &retyped), "field name of type oid 20");
    // A composite containing a stale one is stale too.
    let outer = custom(
        300_001,
        "outer",
        Details::Composite(vec![Field::new("inner".into(), ty)]),
    );
    assert!(outer.is_stale());
}

#[test]
fn malformed_composites_are_errors_not_panics() {
    let ty = item();
    let full = hex(RECORD);
    // Every truncation of a valid value.
    for end in 0..full.len() {
        assert!(dec::<It>(&ty, &full[..end]).is_err(), "cut at {end}");
    }
    // Trailing bytes, a negative length other than -1, a length past the end.
    let mut trailing = full.clone();
    trailing.push(0);
    fails_with(dec::<It>(&ty, &trailing), "unexpected bytes");
    let mut negative = full.clone();
    negative[8..12].copy_from_slice(&(-2i32).to_be_bytes());
    fails_with(dec::<It>(&ty, &negative), "invalid length -2");
    let mut long = full.clone();
    long[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(dec::<It>(&ty, &long).is_err());
    // A negative field count.
    let mut count = full;
    count[0..4].copy_from_slice(&(-1i32).to_be_bytes());
    fails_with(dec::<It>(&ty, &count), "-1 fields");
}

#[test]
fn the_writer_needs_every_field_and_names_the_one_that_failed() {
    let ty = item();
    let mut out = BytesMut::new();
    let mut w = CompositeWriter::new(&ty, &mut out).unwrap();
    w.write("name", &"x").unwrap();
    fails_with(w.write("colour", &"red"), "has no field \"colour\"");
    fails_with(w.write("qty", &"three"), "field \"qty\" of it");
    w.write("qty", &1i32).unwrap();
    fails_with(w.finish(), "no value was given for field \"mood\"");
    // Not a composite at all.
    fails_with(
        CompositeWriter::new(&Type::INT4, &mut out).map(|_| ()),
        "not a composite",
    );
}

#[test]
fn composites_accept_their_name_and_exactly_their_fields() {
    let ty = item();
    let accepts =
        |fields: &[(&str, crate::types::__derive::Accepts)]| composite_accepts(&ty, "it", fields);
    let text = <String as FromSql>::accepts;
    let int = <i32 as FromSql>::accepts;
    assert!(accepts(&[("name", text), ("qty", int), ("mood", text)]));
    assert!(accepts(&[("mood", text), ("qty", int), ("name", text)]));
    assert!(!accepts(&[("name", text), ("qty", int)]), "a field missing");
    assert!(!accepts(&[("name", text), ("qty", text), ("mood", text)]));
    assert!(!accepts(&[("name", text), ("qty", int), ("feel", text)]));
    assert!(composite_accepts(
        &ty,
        "public.it",
        &[("name", text), ("qty", int), ("mood", text)]
    ));
    assert!(!composite_accepts(
        &ty,
        "other.it",
        &[("name", text), ("qty", int), ("mood", text)]
    ));
    assert!(!composite_accepts(&Type::INT4, "int4", &[]));
}

#[test]
fn enums_accept_by_name_and_travel_as_their_label() {
    let m = mood();
    assert_eq!(m.kind(), TypeKind::Enum);
    assert!(m.binary_supported());
    assert!(enum_accepts(&m, "m", &["a", "b"]));
    // A label the Rust side lacks (added by a migration) does not make the type unusable.
    assert!(enum_accepts(&m, "m", &["a"]));
    assert!(!enum_accepts(&m, "mood", &["a", "b"]));
    assert!(!enum_accepts(&Type::TEXT, "text", &[]));
    // Strings read and write the label in binary, which is its text.
    assert_eq!(dec::<String>(&m, b"b").unwrap(), "b");
    assert_eq!(encode(&"a", &m).unwrap(), b"a");
}

#[test]
fn domains_convert_through_their_base_type() {
    let posint = custom(300_002, "posint", Details::Domain(Type::INT4));
    let outer = custom(300_003, "small", Details::Domain(posint.clone()));
    assert_eq!(outer.kind(), TypeKind::Domain);
    assert_eq!(outer.without_domains(), &Type::INT4);
    assert!(outer.binary_supported());
    assert_eq!(encode(&7i32, &outer).unwrap(), hex("00000007"));
    assert_eq!(dec::<i32>(&outer, &hex("00000007")).unwrap(), 7);
    fails_with(encode(&7i64, &outer), "`i64` and SQL type `small`");
    assert!(domain_accepts(&posint, "posint", <i32 as ToSql>::accepts));
    assert!(!domain_accepts(
        &posint,
        "posint",
        <String as ToSql>::accepts
    ));
    assert!(!domain_accepts(
        &Type::INT4,
        "int4",
        <i32 as ToSql>::accepts
    ));
    // An array of the domain: the header keeps the domain's OID, the elements are int4.
    let array = custom(300_004, "_posint", Details::Array(posint));
    let raw = encode(&vec![1i32, 2], &array).unwrap();
    assert_eq!(
        raw,
        hex("00000001 00000000 000493e2 00000002 00000001 00000004 00000001 00000004 00000002")
    );
    assert_eq!(dec::<Vec<i32>>(&array, &raw).unwrap(), [1, 2]);
}

#[test]
fn kinds_of_the_built_in_types() {
    assert_eq!(Type::INT4.kind(), TypeKind::Base);
    assert_eq!(Type::TEXT_ARRAY.kind(), TypeKind::Array);
    assert_eq!(Type::INT4RANGE.kind(), TypeKind::Range);
    assert_eq!(Type::INT4MULTIRANGE.kind(), TypeKind::Multirange);
    assert_eq!(Type::RECORD.kind(), TypeKind::Pseudo);
    assert_eq!(Type::INT4.schema(), "pg_catalog");
    assert_eq!(Type::from_oid(400_000).kind(), TypeKind::Base);
    assert_eq!(Type::from_oid(400_000).schema(), "");
    // A composite of a text-only field is text as a whole.
    let with_text_field = custom(
        300_005,
        "t",
        Details::Composite(vec![Field::new("v".into(), Type::TSVECTOR)]),
    );
    assert!(!with_text_field.binary_supported());
}

/// A composite whose fields borrow from the value's bytes.
#[derive(Debug, PartialEq)]
struct Borrowed<'a> {
    name: &'a str,
}

impl<'a> FromSql<'a> for Borrowed<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Borrowed<'a>, crate::BoxError> {
        let mut r = CompositeReader::new(ty, raw)?;
        Ok(Borrowed {
            name: r.read("name")?,
        })
    }

    fn accepts(ty: &Type) -> bool {
        composite_accepts(ty, "one", &[("name", <&str as FromSql>::accepts)])
    }
}

#[test]
fn composite_fields_can_borrow_from_the_bytes() {
    let ty = custom(
        300_006,
        "one",
        Details::Composite(vec![Field::new("name".into(), Type::TEXT)]),
    );
    let raw = hex("00000001 00000019 00000002 6869");
    assert_eq!(dec::<Borrowed>(&ty, &raw).unwrap(), Borrowed { name: "hi" });
}

#[test]
fn what_a_catalog_type_says_about_itself() {
    let m = mood();
    assert_eq!(m.enum_labels().unwrap(), ["a", "b"]);
    assert_eq!(Type::INT4.enum_labels(), None);
    assert_eq!(item().enum_labels(), None);
    assert_eq!((m.name(), m.schema(), m.oid()), ("m", "public", MOOD_OID));
    // An enum's label, and the errors the derive reports with.
    assert_eq!(enum_label(&m, b"b").unwrap(), "b");
    fails_with(enum_label(&m, b"\xff"), "a label of m is not valid UTF-8");
    let err = unknown_label(&m, "meh", "app::Mood").to_string();
    assert!(
        err.contains("\"meh\"") && err.contains("app::Mood"),
        "{err}"
    );
    // Ranges and multiranges read from the catalog name what they are made of.
    let range = custom(300_010, "floatrange", Details::Range(Type::FLOAT8));
    let multi = custom(
        300_011,
        "floatmultirange",
        Details::Multirange(range.clone()),
    );
    assert_eq!(range.kind(), TypeKind::Range);
    assert_eq!(range.range_subtype(), Some(Type::FLOAT8));
    assert_eq!(multi.kind(), TypeKind::Multirange);
    assert_eq!(multi.multirange_range(), Some(range.clone()));
    assert_eq!(range.multirange_range(), None);
    assert!(range.binary_supported() && multi.binary_supported());
    // The system catalogs' row types are composites (their fields are not read).
    assert_eq!(Type::PG_TYPE.kind(), TypeKind::Composite);
    assert_eq!(Type::PG_TYPE.fields(), None);
}
