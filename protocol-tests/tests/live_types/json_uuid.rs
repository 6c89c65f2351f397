//! `json` and `jsonb` as `serde_json::Value` and `Json<T>` of a serde struct, and `uuid`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as JsonValue};
use tusk::types::{Json, Uuid};

use super::{check_decode, check_with_arrays, connect, decode_fails, quote, Ty};

/// Literals are written as serde_json prints (compact, keys sorted), so even `json`, which
/// keeps its input text, compares equal as text.
fn values() -> Vec<(String, JsonValue)> {
    let cases = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5),
        json!(-2.5e-7),
        json!(1e300),
        json!(""),
        json!("quote\" backslash\\ tab\t newline\n ☃ 😀"),
        json!([]),
        json!({}),
        json!([1, "two", null, [3.5], {"four": false}]),
        json!({"a": {"b": [null, {"c": "d"}]}, "z": 1}),
    ];
    cases
        .into_iter()
        .map(|v| (quote(&v.to_string()), v))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reading {
    sensor: String,
    celsius: f64,
    tags: Vec<String>,
    note: Option<String>,
}

#[tokio::test]
async fn json_and_jsonb() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let values = values();
    let json = Ty::new("json").no_eq();
    let jsonb = Ty::new("jsonb");
    check_with_arrays(conn, &json, &values).await;
    check_with_arrays(conn, &jsonb, &values).await;
    // jsonb normalizes: whitespace, key order, duplicate keys (the last wins).
    let spelled = [(
        r#"'{ "b" : 1, "a" : [ 2 ], "b": 3 }'"#,
        json!({"a": [2], "b": 3}),
    )];
    check_decode(conn, &jsonb, &spelled).await;

    let reading = Reading {
        sensor: "t-1".into(),
        celsius: -40.5,
        tags: vec!["outdoor".into(), "ünïcode".into()],
        note: None,
    };
    let literal = quote(&serde_json::to_string(&reading).unwrap());
    let cases = [(literal.as_str(), Json(reading.clone()))];
    check_with_arrays(conn, &json, &cases).await;
    check_with_arrays(conn, &jsonb, &cases).await;
    // A document of another shape does not deserialize: the error says why.
    let other = r#"'{"sensor": 1}'"#;
    decode_fails::<Json<Reading>>(conn, &jsonb, other, "cannot deserialize").await;
    decode_fails::<Json<Reading>>(conn, &json, other, "invalid type").await;
}

#[tokio::test]
async fn uuid() {
    let mut conn = connect().await;
    let parse = |s: &str| s.parse::<Uuid>().unwrap();
    let cases = [
        (
            "'00000000-0000-0000-0000-000000000000'",
            Uuid::from_bytes([0; 16]),
        ),
        (
            "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
            Uuid::from_bytes([0xff; 16]),
        ),
        (
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
            parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ),
    ];
    check_with_arrays(&mut conn, &Ty::new("uuid"), &cases).await;
    // The server's other spellings, and ours.
    let spelled = [
        ("'{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}'", cases[2].1),
        (
            "'a0eebc999c0b4ef8bb6d6bb9bd380a11'",
            parse("{A0EEBC999C0B4EF8BB6D6BB9BD380A11}"),
        ),
    ];
    check_decode(&mut conn, &Ty::new("uuid"), &spelled).await;
    let row = conn
        .query_one("SELECT $1::uuid::text", &[&cases[2].1])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), cases[2].1.to_string());
}
