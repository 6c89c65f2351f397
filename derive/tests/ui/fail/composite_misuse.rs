#[derive(Debug, tusk::ToSql, tusk::FromSql)]
struct Item {
    #[tusk(flatten)]
    a: i32,
    #[tusk(json)]
    b: String,
    #[tusk(rename = "a")]
    c: i32,
}

#[derive(Debug, tusk::ToSql)]
enum Mood {
    Sad,
    #[tusk(rename = "Sad")]
    Unhappy,
}

fn main() {}
