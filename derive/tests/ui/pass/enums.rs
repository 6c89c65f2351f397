//! ToSql and FromSql on fieldless enums.
use tusk::types::{FromSql, FromSqlOwned, IsNull, ToSql};

#[derive(Debug, PartialEq, tusk::ToSql, tusk::FromSql)]
#[tusk(name = "mood")]
enum Mood {
    Sad,
    #[tusk(rename = "meh")]
    Ok,
    Happy,
}

#[derive(Debug, PartialEq, ToSql, FromSql)]
#[tusk(rename_all = "snake_case")]
enum TrafficLight {
    BrightRed = 1,
    Amber = 2,
    #[tusk(rename = "GREEN")]
    Green = 3,
}

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
enum Empty {}

fn both<T: ToSql + FromSqlOwned>() {}

fn main() {
    both::<Mood>();
    both::<Option<Mood>>();
    both::<Vec<Mood>>();
    both::<TrafficLight>();
    both::<Empty>();

    // Writing a label needs no type information.
    let mut out = tusk::types::__derive::BytesMut::new();
    assert!(matches!(
        Mood::Ok.to_sql(&tusk::types::Type::TEXT, &mut out).unwrap(),
        IsNull::No
    ));
    assert_eq!(&out[..], b"meh");
    out.clear();
    TrafficLight::BrightRed
        .to_sql(&tusk::types::Type::TEXT, &mut out)
        .unwrap();
    assert_eq!(&out[..], b"bright_red");

    // A built-in type is no enum.
    assert!(!<Mood as ToSql>::accepts(&tusk::types::Type::TEXT));
    assert!(!<Mood as FromSql>::accepts(&tusk::types::Type::INT4));
}
