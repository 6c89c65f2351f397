#[derive(tusk::FromRow)]
#[tusk(rename_al = "camelCase")]
struct A {
    #[tusk(renam = "x")]
    a: i32,
    #[tusk(default = "yes")]
    b: i32,
    #[tusk(rename)]
    c: i32,
    #[tusk(rename = "c2", rename = "c3")]
    d: i32,
}

#[derive(Debug, tusk::ToSql)]
enum Mood {
    #[tusk(skip)]
    Sad,
}

fn main() {}
