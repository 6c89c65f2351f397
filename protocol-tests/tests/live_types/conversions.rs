//! Across types: lossless widening accepted, narrowing refused with errors naming the parameter
//! or column, the SQL type and the Rust type; and the array shapes the per-type tables do not
//! cover (lower bounds, many dimensions, borrowed slices).

use tusk::types::{Array, Decimal, Dimension, FromSql};
use tusk::{Kind, Row};

use super::{check_decode, check_encode, connect, dim, encode_fails, Ty};

#[tokio::test]
async fn lossless_widening_is_accepted() {
    let mut conn = connect().await;
    let conn = &mut conn;
    // Parameters: a narrower Rust value into a wider SQL type.
    check_encode(conn, &Ty::new("int4"), &[("'-32768'", i16::MIN)]).await;
    check_encode(
        conn,
        &Ty::new("int8"),
        &[("'-32768'", i16::MIN), ("'32767'", i16::MAX)],
    )
    .await;
    check_encode(
        conn,
        &Ty::new("int8"),
        &[("'-2147483648'", i32::MIN), ("'2147483647'", i32::MAX)],
    )
    .await;
    check_encode(conn, &Ty::new("numeric"), &[("'-32768'", i16::MIN)]).await;
    check_encode(conn, &Ty::new("numeric"), &[("'2147483647'", i32::MAX)]).await;
    check_encode(
        conn,
        &Ty::new("numeric"),
        &[("'-9223372036854775808'", i64::MIN)],
    )
    .await;
    let floats = [
        ("'0.1'::float4", 0.1f32),
        ("'-Infinity'", f32::NEG_INFINITY),
        ("'NaN'", f32::NAN),
        ("'-0'", -0.0),
        ("'3.4028234663852886e+38'", f32::MAX),
    ];
    check_encode(conn, &Ty::new("float8"), &floats).await;
    check_encode(
        conn,
        &Ty::new("int8[]"),
        &[("'{1,NULL,-3}'", vec![Some(1i32), None, Some(-3)])],
    )
    .await;

    // Results: a narrower SQL type read into a wider Rust type.
    check_decode(conn, &Ty::new("int2"), &[("'-32768'", i16::MIN as i32)]).await;
    check_decode(conn, &Ty::new("int2"), &[("'32767'", i16::MAX as i64)]).await;
    check_decode(
        conn,
        &Ty::new("int4"),
        &[("'-2147483648'", i32::MIN as i64)],
    )
    .await;
    let floats = [
        ("'0.1'", f64::from(0.1f32)),
        ("'NaN'", f64::NAN),
        ("'-Infinity'", f64::NEG_INFINITY),
    ];
    check_decode(conn, &Ty::new("float4"), &floats).await;

    // Through a column: an i32 into int8, an i16 into numeric.
    conn.batch_execute("CREATE TEMP TABLE wide (a int8, b numeric, c float8)")
        .await
        .unwrap();
    conn.execute(
        "INSERT INTO wide VALUES ($1, $2, $3)",
        &[&i32::MIN, &7i16, &1.5f32],
    )
    .await
    .unwrap();
    let row = conn
        .query_one("SELECT a, b, c FROM wide", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), i64::from(i32::MIN));
    assert_eq!(row.get::<_, Decimal>(1), Decimal::from(7));
    assert_eq!(row.get::<_, f64>(2), 1.5);
}

#[tokio::test]
async fn narrowing_parameters_are_refused() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let cannot = "cannot convert between Rust type";
    encode_fails(conn, "int4", 1i64, cannot).await;
    encode_fails(conn, "int2", 1i32, cannot).await;
    encode_fails(conn, "float4", 1.5f64, cannot).await;
    encode_fails(conn, "int4", "1", cannot).await;
    encode_fails(conn, "numeric", 1.5f64, cannot).await;
    encode_fails(conn, "int8", 1u32, cannot).await;
    encode_fails(conn, "oid", 1i32, cannot).await;
    encode_fails(conn, "bool", 1i32, cannot).await;
    encode_fails(conn, "bytea", "bytes", cannot).await;
    encode_fails(conn, "text", b"text".to_vec(), cannot).await;
    encode_fails(conn, "int4[]", vec![1i64], cannot).await;
    encode_fails(conn, "int4", vec![1i32], cannot).await;
    encode_fails(conn, "jsonb", 1i32, cannot).await;
    encode_fails(conn, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", cannot).await;
    encode_fails(conn, "timestamp", chrono::Utc::now(), cannot).await;
    encode_fails(conn, "timestamptz", chrono::Utc::now().naive_utc(), cannot).await;
    encode_fails(conn, "date", chrono::Utc::now().naive_utc(), cannot).await;
    encode_fails(conn, "\"char\"", 1u8 as i16, cannot).await;
}

/// The error of reading column `name` of `row` as `T`, checked to name the column, its SQL
/// type and `T`.
fn mismatch<'a, T: FromSql<'a>>(row: &'a Row, name: &str, sql: &str) -> String {
    let rust = std::any::type_name::<T>();
    let err = match row.try_get::<_, T>(name) {
        Ok(_) => panic!("column {name} ({sql}) was read as {rust}"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), Kind::Conversion, "{err}");
    let msg = err.to_string();
    let column = format!("{name:?}");
    assert!(
        msg.contains(&column) && msg.contains(sql) && msg.contains(rust),
        "{msg:?} should name column {column}, SQL type {sql} and Rust type {rust}"
    );
    msg
}

/// As [`mismatch`], for a Rust type that cannot read the SQL type at all (whatever the value).
fn wrong_type<'a, T: FromSql<'a>>(row: &'a Row, name: &str, sql: &str) {
    let msg = mismatch::<T>(row, name, sql);
    assert!(msg.ends_with(": the types do not match"), "{msg:?}");
}

#[tokio::test]
async fn row_get_mismatches_name_column_and_types() {
    let mut conn = connect().await;
    let row = conn
        .query_one(
            "SELECT 1::int8 AS big, 1.5::float8 AS wide, 1::int4 AS int, 'x'::text AS word, \
             '\\x00'::bytea AS raw, '2000-01-01'::timestamp AS ts, 1.5::numeric AS num, \
             '{1,NULL}'::int4[] AS nulls, '{{1,2},{3,4}}'::int4[] AS grid, 300::int4 AS n300, \
             'infinity'::date AS inf",
            &[],
        )
        .await
        .unwrap();
    let row = &row;
    // Types that do not convert.
    wrong_type::<i32>(row, "big", "int8");
    wrong_type::<f32>(row, "wide", "float8");
    wrong_type::<String>(row, "int", "int4");
    wrong_type::<i32>(row, "word", "text");
    wrong_type::<&str>(row, "raw", "bytea");
    wrong_type::<Vec<u8>>(row, "word", "text");
    wrong_type::<chrono::NaiveDate>(row, "ts", "timestamp");
    wrong_type::<chrono::DateTime<chrono::Utc>>(row, "ts", "timestamp");
    wrong_type::<f64>(row, "num", "numeric");
    wrong_type::<Vec<i16>>(row, "nulls", "_int4");
    wrong_type::<i32>(row, "nulls", "_int4");
    // Types that convert, but not this value.
    mismatch::<Vec<i32>>(row, "nulls", "_int4");
    mismatch::<Vec<Option<i32>>>(row, "grid", "_int4");
    let msg = mismatch::<chrono::NaiveDate>(row, "inf", "date");
    assert!(
        msg.ends_with(
            "invalid date value: infinity cannot be represented by NaiveDate; read it as \
             tusk::types::Timestamp<NaiveDate>"
        ),
        "{msg}"
    );
    let err = row.try_get::<_, Vec<i32>>("nulls").unwrap_err();
    assert!(err.to_string().contains("NULL"), "{err}");
    let err = row.try_get::<_, Vec<i32>>("grid").unwrap_err();
    assert!(err.to_string().contains("tusk::types::Array"), "{err}");
    assert_eq!(row.get::<_, i32>("n300"), 300);
    // `Row::get` panics with the same message (checked once: a panic's backtrace is slow).
    let msg = mismatch::<Vec<i32>>(row, "nulls", "_int4");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        row.get::<_, Vec<i32>>("nulls");
    }));
    let panic = caught.expect_err("Row::get panics on a mismatch");
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        text.contains(&msg),
        "get panicked with {text:?}, try_get said {msg:?}"
    );
}

#[tokio::test]
async fn array_shapes() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let ty = Ty::new("int4[]");
    let bounded = |dims: &[(i32, i32)], elements: Vec<Option<i32>>| {
        let dims = dims
            .iter()
            .map(|&(len, lower_bound)| Dimension { len, lower_bound });
        Array::new(dims.collect(), elements).unwrap()
    };
    // Lower bounds other than 1 survive both ways in an Array; a Vec reads just the elements.
    let cases = [
        (
            "'[0:2]={1,NULL,3}'",
            bounded(&[(3, 0)], vec![Some(1), None, Some(3)]),
        ),
        (
            "'[-5:-4]={7,8}'",
            bounded(&[(2, -5)], vec![Some(7), Some(8)]),
        ),
        (
            "'[2:3][-1:0]={{1,2},{3,NULL}}'",
            bounded(&[(2, 2), (2, -1)], vec![Some(1), Some(2), Some(3), None]),
        ),
        (
            "'{{{1},{2}},{{3},{4}}}'",
            bounded(&[(2, 1), (2, 1), (1, 1)], (1..=4).map(Some).collect()),
        ),
        (
            "'{{{{{{1,2}}}}}}'",
            Array::new(
                vec![dim(1), dim(1), dim(1), dim(1), dim(1), dim(2)],
                vec![Some(1), Some(2)],
            )
            .unwrap(),
        ),
    ];
    super::check(conn, &ty, &cases).await;
    check_decode(
        conn,
        &ty,
        &[("'[0:2]={1,NULL,3}'", vec![Some(1), None, Some(3)])],
    )
    .await;
    // Seven dimensions are more than the server allows.
    let seven = Array::new(vec![dim(1); 7], vec![1i32]);
    assert_eq!(
        seven.unwrap_err().to_string(),
        "invalid array value: 7 dimensions exceed the maximum of 6",
        "Array::new refuses 7 dimensions"
    );
    // Borrowed slices and fixed-size arrays encode like a Vec.
    let slice: &[i32] = &[1, 2, 3];
    let fixed = [Some("a"), None];
    let row = conn
        .query_one(
            "SELECT $1::int4[] = '{1,2,3}', $2::text[] IS NOT DISTINCT FROM '{a,NULL}'",
            &[&slice, &fixed],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0) && row.get::<_, bool>(1));
    // Arrays of borrowed strings decode borrowing from the row.
    let row = conn
        .query_one("SELECT '{x,NULL,\"\"}'::text[]", &[])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Vec<Option<&str>>>(0),
        [Some("x"), None, Some("")]
    );
}
