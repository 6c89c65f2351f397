//! Typed encoders and decoders against the real server, in binary format (and text for the types
//! without a binary codec).
//!
//! Each type is a table of `(SQL literal, Rust value)` cases: edge values (min, max, zero,
//! negative, empty, NaN, ±Infinity, ...) that must mean the same on both sides. [`check`] runs
//! every case in the three directions, each batched into one statement per type:
//!
//! 1. encode: `$n::T` sent from the Rust value must equal `(literal)::T` on the server, both by
//!    their text forms (which tell `-0` from `0`, `1.50` from `1.5`, and NaN apart from nothing)
//!    and, where the type has `=`, by `IS NOT DISTINCT FROM`;
//! 2. decode: `SELECT (literal)::T` read into the Rust type equals the value;
//! 3. round trip: the value inserted as a parameter into a column of type `T` reads back equal.
//!
//! NULL is a case of every table ([`Option`] in, `None` out, and a clear error into a
//! non-`Option`), and [`check_with_arrays`] derives from each table one- and two-dimensional
//! arrays with NULL elements. The tables live in the sibling modules, one per type family.

use std::fmt::{Debug, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};

use protocol_tests::live;
use tusk::types::{Array, Dimension, FromSqlOwned, ToSql};
use tusk::{Connection, Kind};

#[path = "live_types/conversions.rs"]
mod conversions;
#[path = "live_types/datetime.rs"]
mod datetime;
#[path = "live_types/ext.rs"]
mod ext;
#[path = "live_types/ext_bigdecimal.rs"]
mod ext_bigdecimal;
#[path = "live_types/ext_jiff.rs"]
mod ext_jiff;
#[path = "live_types/ext_rust_decimal.rs"]
mod ext_rust_decimal;
#[path = "live_types/ext_time.rs"]
mod ext_time;
#[path = "live_types/geometry.rs"]
mod geometry;
#[path = "live_types/json_uuid.rs"]
mod json_uuid;
#[path = "live_types/network.rs"]
mod network;
#[path = "live_types/numeric.rs"]
mod numeric;
#[path = "live_types/ranges.rs"]
mod ranges;
#[path = "live_types/scalars.rs"]
mod scalars;
#[path = "live_types/text.rs"]
mod text;

/// A connection with the session settings that text forms depend on pinned down, so the
/// comparisons below do not depend on the server's configuration.
async fn connect() -> Connection {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; \
         SET extra_float_digits = 1; SET bytea_output = 'hex'",
    )
    .await
    .unwrap();
    conn
}

/// A SQL type under test, as written in casts and column definitions (`int4`, `char(4)`).
#[derive(Debug, Clone)]
struct Ty {
    sql: String,
    /// Whether the type has an `=` operator (`json` and `point` do not).
    eq: bool,
    /// Whether a table column can have the type (`unknown` cannot).
    column: bool,
}

impl Ty {
    fn new(sql: &str) -> Ty {
        Ty {
            sql: sql.to_owned(),
            eq: true,
            column: true,
        }
    }

    fn no_eq(mut self) -> Ty {
        self.eq = false;
        self
    }

    fn no_column(mut self) -> Ty {
        self.column = false;
        self
    }

    /// The array type of this type.
    fn array(&self) -> Ty {
        Ty {
            sql: format!("{}[]", self.sql),
            ..self.clone()
        }
    }

    /// `(expr)::T`.
    fn cast(&self, expr: &str) -> String {
        format!("({expr})::{}", self.sql)
    }
}

/// What every tested Rust type can do.
trait Value: ToSql + Sync + FromSqlOwned + Debug + Clone {}

impl<T: ToSql + Sync + FromSqlOwned + Debug + Clone> Value for T {}

/// Equality by `Debug` form: NaN equals NaN, `-0.0` differs from `0.0`, a `Decimal`'s scale
/// counts, and an [`Array`]'s dimensions count.
fn same<T: Debug>(a: &T, b: &T) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Panics with every failure at once, so one run shows the whole picture of a type.
fn report(ty: &Ty, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failure(s) for {}:\n  {}",
        failures.len(),
        ty.sql,
        failures.join("\n  ")
    );
}

/// Runs every case in all three directions (see the module documentation), plus NULL.
async fn check<T: Value, L: AsRef<str>>(conn: &mut Connection, ty: &Ty, cases: &[(L, T)]) {
    let mut failures = encode(conn, ty, cases).await;
    failures.extend(decode(conn, ty, cases).await);
    if ty.column {
        failures.extend(round_trip(conn, ty, cases).await);
    }
    report(ty, failures);
}

/// [`check`] for the type, then for its arrays built from the same cases: one-dimensional with
/// NULL elements first, in the middle and last (`Vec<Option<T>>`), without NULLs (`Vec<T>` and
/// [`Array`]`<T>`), two-dimensional with NULLs (`Array<Option<T>>`), and empty.
async fn check_with_arrays<T: Value, L: AsRef<str>>(
    conn: &mut Connection,
    ty: &Ty,
    cases: &[(L, T)],
) {
    check(conn, ty, cases).await;
    let array = ty.array();
    let element = |case: Option<&(L, T)>| match case {
        Some((lit, _)) => ty.cast(lit.as_ref()),
        None => format!("NULL::{}", ty.sql),
    };
    let mut with_nulls: Vec<Option<&(L, T)>> = cases.iter().map(Some).collect();
    with_nulls.insert(with_nulls.len() / 2, None);
    with_nulls.insert(0, None);
    with_nulls.push(None);
    let value = |cases: &[Option<&(L, T)>]| -> Vec<Option<T>> {
        cases.iter().map(|c| c.map(|(_, v)| v.clone())).collect()
    };
    let literal = |cases: &[Option<&(L, T)>]| -> String {
        let items: Vec<String> = cases.iter().map(|&c| element(c)).collect();
        format!("ARRAY[{}]", items.join(", "))
    };

    let one_d = [
        (literal(&with_nulls), value(&with_nulls)),
        ("'{}'".to_owned(), Vec::new()),
    ];
    check(conn, &array, &one_d).await;

    let plain: Vec<T> = cases.iter().map(|(_, v)| v.clone()).collect();
    let all: Vec<Option<&(L, T)>> = cases.iter().map(Some).collect();
    check(conn, &array, &[(literal(&all), plain.clone())]).await;
    let plain = Array::new(vec![dim(plain.len())], plain).unwrap();
    check(conn, &array, &[(literal(&all), plain)]).await;

    // Two rows; the elements padded with NULLs to fill them, so there is at least one NULL.
    let mut grid: Vec<Option<&(L, T)>> = cases.iter().map(Some).collect();
    let columns = grid.len() / 2 + 1;
    grid.resize(2 * columns, None);
    let (top, bottom) = grid.split_at(columns);
    let two_d_literal = format!("ARRAY[{}, {}]", literal(top), literal(bottom));
    let dims = vec![dim(2), dim(columns)];
    let two_d = Array::new(dims, value(&grid)).unwrap();
    let empty = Array::new(Vec::new(), Vec::new()).unwrap();
    check(
        conn,
        &array,
        &[(two_d_literal, two_d), ("'{}'".to_owned(), empty)],
    )
    .await;
}

/// A dimension of `len` elements starting at index 1.
fn dim(len: usize) -> Dimension {
    Dimension {
        len: len.try_into().unwrap(),
        lower_bound: 1,
    }
}

/// Direction 1: each value sent as `$n::T` equals the literal on the server. Returns failures.
async fn encode<T: Value, L: AsRef<str>>(
    conn: &mut Connection,
    ty: &Ty,
    cases: &[(L, T)],
) -> Vec<String> {
    let null: Option<T> = None;
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    let mut select = Vec::new();
    for (i, (lit, value)) in cases.iter().enumerate() {
        params.push(value);
        let (sent, expected) = (ty.cast(&format!("${}", i + 1)), ty.cast(lit.as_ref()));
        select.push(format!("{sent}::text, {expected}::text"));
        if ty.eq {
            select.push(format!("{sent} IS NOT DISTINCT FROM {expected}"));
        } else {
            select.push("true".to_owned());
        }
    }
    params.push(&null);
    select.push(format!(
        "{} IS NULL",
        ty.cast(&format!("${}", params.len()))
    ));
    let sql = format!("SELECT {}", select.join(", "));
    let row = match conn.query_one(&sql, &params).await {
        Ok(row) => row,
        Err(e) => return vec![format!("encode: {e} (in {})", clip(&sql))],
    };
    let mut failures = Vec::new();
    for (i, (lit, value)) in cases.iter().enumerate() {
        let sent: Option<&str> = row.get(3 * i);
        let expected: Option<&str> = row.get(3 * i + 1);
        let equal: Option<bool> = row.get(3 * i + 2);
        if sent != expected || equal != Some(true) {
            failures.push(format!(
                "encode {value:?}: the server got {sent:?} but {} is {expected:?} \
                 (IS NOT DISTINCT FROM: {equal:?})",
                clip(lit.as_ref()),
            ));
        }
    }
    if !row.get::<_, bool>(3 * cases.len()) {
        failures.push("encode None: not NULL on the server".to_owned());
    }
    failures
}

/// Direction 2: `SELECT (literal)::T` decodes to the value; `NULL::T` to `None`, and into a
/// non-`Option` to an error naming the column and both types.
async fn decode<T: Value, L: AsRef<str>>(
    conn: &mut Connection,
    ty: &Ty,
    cases: &[(L, T)],
) -> Vec<String> {
    let mut select: Vec<String> = cases.iter().map(|(lit, _)| ty.cast(lit.as_ref())).collect();
    select.push(format!("NULL::{} AS null_col", ty.sql));
    let sql = format!("SELECT {}", select.join(", "));
    let row = match conn.query_one(&sql, &[]).await {
        Ok(row) => row,
        Err(e) => return vec![format!("decode: {e} (in {})", clip(&sql))],
    };
    let mut failures = Vec::new();
    for (i, (lit, expected)) in cases.iter().enumerate() {
        match row.try_get::<_, T>(i) {
            Ok(got) if same(&got, expected) => {}
            Ok(got) => failures.push(format!(
                "decode {}: got {got:?}, expected {expected:?}",
                clip(lit.as_ref())
            )),
            Err(e) => failures.push(format!("decode {}: {e}", clip(lit.as_ref()))),
        }
        match row.try_get::<_, Option<T>>(i) {
            Ok(Some(got)) if same(&got, expected) => {}
            other => failures.push(format!(
                "decode {} as Option: {other:?}",
                clip(lit.as_ref())
            )),
        }
    }
    let null = cases.len();
    match row.try_get::<_, Option<T>>(null) {
        Ok(None) => {}
        other => failures.push(format!("decode NULL as Option: {other:?}")),
    }
    match row.try_get::<_, T>(null) {
        Err(e) if e.kind() == Kind::Conversion => {
            let rust = std::any::type_name::<T>();
            let msg = e.to_string();
            if !msg.contains("null_col") || !msg.contains(rust) || !msg.contains("NULL") {
                failures.push(format!("decode NULL into {rust}: unclear error {msg:?}"));
            }
        }
        other => failures.push(format!("decode NULL into a non-Option: {other:?}")),
    }
    failures
}

/// Names temporary tables uniquely across the tests' connections and calls.
static TABLES: AtomicUsize = AtomicUsize::new(0);

/// Direction 3: every value (and NULL) inserted as a parameter into a column of type `T`
/// reads back equal.
async fn round_trip<T: Value, L: AsRef<str>>(
    conn: &mut Connection,
    ty: &Ty,
    cases: &[(L, T)],
) -> Vec<String> {
    let table = format!("round_trip_{}", TABLES.fetch_add(1, Ordering::Relaxed));
    let create = format!("CREATE TEMP TABLE {table} (i int4, v {})", ty.sql);
    if let Err(e) = conn.batch_execute(&create).await {
        return vec![format!("round trip: {e} (in {create})")];
    }
    let mut values: Vec<Option<T>> = cases.iter().map(|(_, v)| Some(v.clone())).collect();
    values.push(None);
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
    let mut insert = format!("INSERT INTO {table} (i, v) VALUES ");
    for i in 1..=values.len() {
        let sep = if i > 1 { ", " } else { "" };
        write!(insert, "{sep}({i}, ${i})").unwrap();
    }
    if let Err(e) = conn.execute(&insert, &params).await {
        return vec![format!("round trip insert: {e}")];
    }
    let select = format!("SELECT v FROM {table} ORDER BY i");
    let rows = match conn.query(&select, &[]).await {
        Ok(rows) => rows,
        Err(e) => return vec![format!("round trip select: {e}")],
    };
    let mut failures = Vec::new();
    for (row, expected) in rows.iter().zip(&values) {
        match row.try_get::<_, Option<T>>(0) {
            Ok(got) if same(&got, expected) => {}
            other => failures.push(format!("round trip {expected:?}: read back {other:?}")),
        }
    }
    if rows.len() != values.len() {
        failures.push(format!("round trip: {} rows read back", rows.len()));
    }
    failures
}

/// Encodes only: for values with no literal that decodes back to them (sub-microsecond times,
/// non-UTC offsets) or that decode to something else by design.
async fn check_encode<T: Value>(conn: &mut Connection, ty: &Ty, cases: &[(&str, T)]) {
    report(ty, encode(conn, ty, cases).await);
}

/// Decodes only: literals the Rust value does not encode back to (another spelling, a
/// widening read).
async fn check_decode<T: Value>(conn: &mut Connection, ty: &Ty, cases: &[(&str, T)]) {
    report(ty, decode(conn, ty, cases).await);
}

/// Reading `(literal)::T` into `T` fails with a conversion error naming the SQL type and the
/// Rust type, whose cause contains `why`.
async fn decode_fails<T: Value>(conn: &mut Connection, ty: &Ty, literal: &str, why: &str) {
    let row = conn
        .query_one(&format!("SELECT {} AS bad", ty.cast(literal)), &[])
        .await
        .unwrap();
    let err = row.try_get::<_, T>(0).unwrap_err();
    let rust = std::any::type_name::<T>();
    let msg = format!("{err}");
    assert_eq!(err.kind(), Kind::Conversion, "{msg}");
    assert!(
        msg.contains("\"bad\"")
            && msg.contains(&typname(&ty.sql))
            && msg.contains(rust)
            && msg.contains(why),
        "decode {literal} into {rust}: {msg:?} should name the column, {}, {rust} and say {why:?}",
        ty.sql
    );
}

/// Sending `value` as `$2::T` fails before anything reaches the server, with an error naming
/// `$2`, the SQL type and the Rust type, whose cause contains `why`; the connection stays fine.
async fn encode_fails<T: ToSql + Sync>(conn: &mut Connection, sql_type: &str, value: T, why: &str) {
    let sql = format!("SELECT $1::int4, $2::{sql_type}");
    let err = conn.query(&sql, &[&0i32, &value]).await.unwrap_err();
    let rust = value.type_name();
    let msg = format!("{err}");
    assert_eq!(err.kind(), Kind::Conversion, "{msg}");
    let name = typname(sql_type);
    assert!(
        msg.contains("$2") && msg.contains(&name) && msg.contains(rust) && msg.contains(why),
        "sending {value:?} as {sql_type}: {msg:?} should name $2, {name}, {rust} and say {why:?}"
    );
    let row = conn.query_one("SELECT 1::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
}

/// The `pg_type.typname` of a type as written in SQL: `int4` for `int4`, `bpchar` for
/// `char(4)`... as far as these tests need: typmods dropped, quotes removed, `_` for arrays.
fn typname(sql: &str) -> String {
    let base = sql.split('(').next().unwrap_or(sql).trim_matches('"');
    match base.strip_suffix("[]") {
        Some(element) => format!("_{}", element.trim_matches('"')),
        None => base.to_owned(),
    }
}

/// A long literal shortened for messages.
fn clip(s: &str) -> String {
    if s.len() <= 120 {
        return s.to_owned();
    }
    let cut = (0..=120)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &s[..cut], s.len())
}

/// `'...'` with quotes doubled: a SQL string literal of `s`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
