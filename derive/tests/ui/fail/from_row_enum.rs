#[derive(tusk::FromRow)]
enum Row {
    A,
    B,
}

#[derive(tusk::FromRow)]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
