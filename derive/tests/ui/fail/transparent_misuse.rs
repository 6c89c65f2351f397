#[derive(Debug, tusk::ToSql)]
#[tusk(transparent)]
struct Two(i32, i32);

#[derive(Debug, tusk::FromSql)]
#[tusk(transparent, name = "email")]
struct Email(String);

#[derive(Debug, tusk::ToSql)]
#[tusk(transparent)]
enum Mood {
    Sad,
}

fn main() {}
