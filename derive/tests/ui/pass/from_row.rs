//! FromRow with every attribute, rename_all, generics, tuple and unit structs.
use std::marker::PhantomData;

#[derive(Debug, tusk::FromRow)]
struct User {
    id: i32,
    #[tusk(rename = "user_name")]
    name: String,
    email: Option<String>,
    #[tusk(default)]
    nickname: Option<String>,
    #[tusk(flatten)]
    address: Address,
    #[tusk(skip)]
    cached: Vec<u8>,
    #[tusk(try_from = "i64")]
    age: u8,
    #[tusk(json)]
    settings: Settings,
    r#type: String,
}

#[derive(Debug, tusk::FromRow)]
#[tusk(rename_all = "camelCase")]
struct Address {
    street_name: String,
    #[tusk(rename = "ZIP")]
    zip: String,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Settings {
    #[allow(dead_code)]
    theme: String,
}

#[derive(Debug, tusk::FromRow)]
#[tusk(rename_all = "SCREAMING_SNAKE_CASE")]
struct Generic<T, U: Default> {
    value: T,
    #[tusk(default)]
    other: U,
    #[tusk(skip)]
    marker: PhantomData<U>,
    #[tusk(flatten)]
    nested: Nested<T>,
}

#[derive(Debug, tusk::FromRow)]
struct Nested<T> {
    inner: Vec<T>,
}

#[derive(Debug, tusk::FromRow)]
struct Pair(i32, Option<String>);

#[derive(Debug, tusk::FromRow)]
struct Nothing;

#[derive(Debug, tusk::FromRow)]
struct WithWhere<T>
where
    T: Clone,
{
    value: T,
}

mod reexport {
    pub use tusk as renamed;
}

#[derive(Debug, tusk::FromRow)]
#[tusk(crate = "reexport::renamed")]
struct ThroughReexport {
    id: i64,
}

fn from_row<T: tusk::FromRow>() {}

fn main() {
    from_row::<User>();
    from_row::<Address>();
    from_row::<Generic<i32, String>>();
    from_row::<Pair>();
    from_row::<Nothing>();
    from_row::<WithWhere<String>>();
    from_row::<ThroughReexport>();
}
