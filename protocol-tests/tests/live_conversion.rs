//! Conversion errors carry which value failed and both type names (`Error::as_conversion`),
//! for a parameter sent, a column read, and a binary COPY's fields, against the real server.

use protocol_tests::errors::expect_message;
use protocol_tests::live;
use tusk::{Connection, ConvertedValue, Kind};

#[tokio::test]
async fn a_parameter_that_cannot_be_encoded_is_named_with_both_types() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let err = conn
        .query("SELECT $1::int8, $2::int4", &[&1i64, &"two"])
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot encode parameter $2 of SQL type int4 from Rust type &str",
    );
    let detail = err.as_conversion().expect("a conversion detail");
    assert_eq!(detail.value, ConvertedValue::Parameter(2));
    assert_eq!(detail.sql_type, "int4");
    assert_eq!(detail.rust_type, "&str");
    // Nothing was sent: the connection carries on.
    assert_eq!(
        conn.query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
}

#[tokio::test]
async fn a_column_that_cannot_be_read_is_named_with_both_types() {
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    let row = conn
        .query_one("SELECT 1::int4 AS a, 7::int8 AS n", &[])
        .await
        .unwrap();
    let err = row.try_get::<_, i32>("n").unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot convert column 1 (\"n\") of SQL type int8 into Rust type i32: the types do not \
         match",
    );
    let detail = err.as_conversion().expect("a conversion detail");
    assert_eq!(
        detail.value,
        ConvertedValue::Column {
            index: 1,
            name: Some("n".into())
        }
    );
    assert_eq!(
        (detail.sql_type.as_str(), detail.rust_type.as_str()),
        ("int8", "i32")
    );
    // A server error is not a conversion.
    let err = conn.query("SELECT 1/0", &[]).await.unwrap_err();
    assert!(err.as_conversion().is_none());
}

#[tokio::test]
async fn a_binary_copy_field_that_cannot_be_encoded_is_named_with_both_types() {
    use tusk::types::Type;
    let mut conn = Connection::connect(&live::admin()).await.unwrap();
    conn.batch_execute("CREATE TEMP TABLE conv (a int4, b text)")
        .await
        .unwrap();
    let copy = conn
        .copy_in("COPY conv (a, b) FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    let mut writer = tusk::BinaryCopyIn::new(copy, &[Type::INT4, Type::TEXT]);
    let err = writer.write(&[&"one", &"x"]).await.unwrap_err();
    let detail = err.as_conversion().expect("a conversion detail");
    assert_eq!(detail.value, ConvertedValue::Field { index: 0 });
    assert_eq!(
        (detail.sql_type.as_str(), detail.rust_type.as_str()),
        ("int4", "&str")
    );
}
