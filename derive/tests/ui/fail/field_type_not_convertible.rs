struct NotSql;

#[derive(tusk::FromRow)]
struct A {
    id: i32,
    value: NotSql,
}

#[derive(Debug, tusk::ToSql)]
struct Composite {
    value: std::time::Instant,
}

fn main() {}
