//! One struct deriving FromRow, ToSql and FromSql with one set of attributes, and the derives
//! used through `tusk::types`, where they sit beside the traits of the same names.
use tusk::types::{FromSql, ToSql};
use tusk::FromRow;

#[derive(Debug, FromRow, ToSql, FromSql)]
#[tusk(name = "point3", rename_all = "UPPERCASE")]
struct Point3 {
    x: f64,
    y: f64,
    #[tusk(rename = "zed")]
    z: f64,
}

fn all<T: FromRow + ToSql + for<'a> FromSql<'a>>() {}

fn main() {
    all::<Point3>();
}
