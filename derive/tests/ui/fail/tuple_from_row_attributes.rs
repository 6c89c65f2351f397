#[derive(tusk::FromRow)]
#[tusk(rename_all = "camelCase")]
struct Pair(#[tusk(rename = "a")] i32, String);

fn main() {}
