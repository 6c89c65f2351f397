//! ToSql and FromSql on structs with named fields: composite types.
use tusk::types::{FromSql, FromSqlOwned, ToSql};

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
#[tusk(name = "inventory_item")]
struct InventoryItem {
    name: String,
    #[tusk(rename = "supplier_id")]
    supplier: i32,
    price: Option<f64>,
    tags: Vec<String>,
    mood: Mood,
}

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
enum Mood {
    Sad,
    Happy,
}

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
#[tusk(rename_all = "PascalCase")]
struct Order {
    order_id: i64,
    items: Vec<InventoryItem>,
    first: Option<InventoryItem>,
}

#[derive(Debug, ToSql, FromSql)]
struct Pair<T> {
    left: T,
    right: Option<T>,
}

#[derive(Debug, tusk::FromSql)]
struct Borrowed<'a> {
    name: &'a str,
    bytes: &'a [u8],
    count: i32,
}

#[derive(Debug, tusk::ToSql, tusk::FromSql)]
struct NoFields {}

fn both<T: ToSql + FromSqlOwned>() {}
fn from<'a, T: FromSql<'a>>() {}

fn main() {
    both::<InventoryItem>();
    both::<Vec<InventoryItem>>();
    both::<Order>();
    both::<Pair<i32>>();
    both::<Pair<Mood>>();
    both::<NoFields>();
    from::<Borrowed<'_>>();
    assert!(!<InventoryItem as ToSql>::accepts(&tusk::types::Type::RECORD));
}
