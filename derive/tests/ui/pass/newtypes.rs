//! Newtypes: transparent, and domains.
use tusk::types::{FromSql, FromSqlOwned, ToSql, Type};

#[derive(Debug, PartialEq, tusk::ToSql, tusk::FromSql)]
#[tusk(transparent)]
struct UserId(i64);

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
#[tusk(transparent)]
struct Named {
    inner: Option<String>,
}

#[derive(Debug, tusk::FromSql)]
#[tusk(transparent)]
struct Borrowed<'a>(&'a str);

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
#[tusk(transparent)]
struct Wrapper<T>(T);

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
#[tusk(name = "email")]
struct Email(String);

/// The domain's name defaults to the type's in snake_case: `postal_code`.
#[derive(Debug, tusk::ToSql, tusk::FromSql)]
struct PostalCode(String);

fn both<T: ToSql + FromSqlOwned>() {}
fn from<'a, T: FromSql<'a>>() {}

fn main() {
    both::<UserId>();
    both::<Named>();
    both::<Wrapper<f64>>();
    both::<Email>();
    both::<PostalCode>();
    both::<Vec<Email>>();
    from::<Borrowed<'_>>();

    // Transparent: exactly what the inner type accepts, decoded by it.
    assert!(<UserId as ToSql>::accepts(&Type::INT8));
    assert!(<UserId as FromSql>::accepts(&Type::INT4));
    assert!(!<UserId as ToSql>::accepts(&Type::TEXT));
    let id: UserId = tusk::types::decode(&Type::INT8, Some(&[0, 0, 0, 0, 0, 0, 0, 7])).unwrap();
    assert_eq!(id, UserId(7));
    let named: Named = tusk::types::decode(&Type::TEXT, None).unwrap();
    assert!(named.inner.is_none());
    let borrowed: Borrowed = tusk::types::decode(&Type::TEXT, Some(b"x")).unwrap();
    assert_eq!(borrowed.0, "x");

    // A domain newtype accepts no built-in type.
    assert!(!<Email as ToSql>::accepts(&Type::TEXT));
}
