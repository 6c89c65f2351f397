#[derive(tusk::FromRow)]
#[tusk(rename_all = "snake")]
struct A {
    a: i32,
}

#[derive(Debug, tusk::ToSql)]
#[tusk(rename_all = "Title Case")]
enum Mood {
    Sad,
}

fn main() {}
