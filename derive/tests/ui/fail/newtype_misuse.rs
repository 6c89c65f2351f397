#[derive(Debug, tusk::ToSql)]
struct Two(i32, i32);

#[derive(Debug, tusk::FromSql)]
struct Unit;

#[derive(Debug, tusk::ToSql)]
#[tusk(rename_all = "lowercase")]
struct Email(String);

fn main() {}
