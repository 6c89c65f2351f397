#[derive(tusk::FromRow)]
struct A {
    #[tusk(try_from = "not a type!")]
    a: u8,
}

#[derive(Debug, tusk::ToSql)]
#[tusk(name = "")]
enum Mood {
    Sad,
}

#[derive(Debug, tusk::ToSql)]
#[tusk(crate = "::")]
enum Mood2 {
    Sad,
}

fn main() {}
