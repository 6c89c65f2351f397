#[derive(tusk::FromRow)]
struct Inner {
    a: i32,
}

#[derive(tusk::FromRow)]
struct A {
    #[tusk(flatten, rename = "inner")]
    a: Inner,
    #[tusk(skip, default)]
    b: i32,
    #[tusk(json, try_from = "i64")]
    c: i32,
    #[tusk(default, json)]
    d: i32,
}

fn main() {}
