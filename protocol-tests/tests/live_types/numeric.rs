//! `numeric` and `tusk::types::Decimal`: every value exactly, its scale included, NaN and
//! ±Infinity, the format's extremes, and the conversions to and from strings and integers
//! compared with the server's own.

use tusk::types::Decimal;
use tusk::Connection;

use super::{check, check_with_arrays, connect, report, Ty};

fn dec(s: &str) -> Decimal {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} is a valid decimal: {e}"))
}

/// The literal and the `Decimal` it equals; `Decimal` parses what the server's `numeric_in`
/// parses, so the same text serves both sides unless a case says otherwise.
fn cases() -> Vec<(String, Decimal)> {
    // The largest numeric: 131072 digits before the point and 16383 after.
    let max = format!("{}.{}", "9".repeat(131_072), "9".repeat(16_383));
    let texts = [
        "0",
        "0.000",
        "1",
        "-1",
        "1.50",
        "-123.4500",
        "0.0001",
        "0.00001",
        "-0.00000000000000000001",
        "9999",
        "10000",
        "99999999.99999999",
        "123456789012345678901234567890.123456789",
        "1e131071",
        "-1e131071",
        "1e-16383",
        "-1e-16383",
        &max,
        &format!("-{max}"),
        "NaN",
        "Infinity",
        "-Infinity",
    ];
    let mut cases: Vec<(String, Decimal)> =
        texts.iter().map(|t| (format!("'{t}'"), dec(t))).collect();
    // Other spellings of the same values.
    for (literal, text) in [
        ("'-0.0'", "0.0"),
        ("'+7'", "7"),
        ("'  1.5e3 '", "1500"),
        ("'-1.5E-3'", "-0.0015"),
        ("'nan'", "NaN"),
        ("'-inf'", "-Infinity"),
    ] {
        cases.push((literal.to_owned(), dec(text)));
    }
    // Integers at the edges of Rust's integer types.
    let integers = [
        (i64::MIN.to_string(), Decimal::from(i64::MIN)),
        (i64::MAX.to_string(), Decimal::from(i64::MAX)),
        (u64::MAX.to_string(), Decimal::from(u64::MAX)),
        (i128::MIN.to_string(), Decimal::from(i128::MIN)),
        (u128::MAX.to_string(), Decimal::from(u128::MAX)),
        ("-5".to_owned(), Decimal::new(-5, 0).unwrap()),
        ("123.45".to_owned(), Decimal::new(12345, 2).unwrap()),
        ("-0.5".to_owned(), Decimal::new(-5, 1).unwrap()),
    ];
    cases.extend(integers.into_iter().map(|(t, d)| (format!("'{t}'"), d)));
    cases
}

#[tokio::test]
async fn numeric_values_exactly() {
    let mut conn = connect().await;
    let cases = cases();
    check(&mut conn, &Ty::new("numeric"), &cases).await;
    // Arrays without the two 150 kB values, to keep the statements small.
    let small: Vec<_> = cases.into_iter().filter(|(l, _)| l.len() < 100).collect();
    check_with_arrays(&mut conn, &Ty::new("numeric"), &small[..8]).await;
    // A column with a typmod rounds to its scale; the value sent is still exact.
    conn.batch_execute("CREATE TEMP TABLE money_t (v numeric(10, 2))")
        .await
        .unwrap();
    for (sent, stored) in [("1.5", "1.50"), ("1.005", "1.01"), ("-0.004", "0.00")] {
        conn.execute("INSERT INTO money_t VALUES ($1)", &[&dec(sent)])
            .await
            .unwrap();
        let row = conn
            .query_one("DELETE FROM money_t RETURNING v", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, Decimal>(0), dec(stored), "{sent}");
    }
}

/// `Decimal`'s `Display` and `FromStr` against `numeric_out`, and its integer and float
/// conversions against the server's casts, for every case.
#[tokio::test]
async fn numeric_conversions_match_the_server() {
    let mut conn = connect().await;
    let cases = cases();
    let failures = compare_conversions(&mut conn, &cases).await;
    report(&Ty::new("numeric"), failures);

    // Out of the format's range: refused when parsed, as the server refuses the literal.
    for (text, why) in [
        (
            "1e131072",
            "value overflows numeric format (weight 32768 outside the 16-bit range)",
        ),
        (
            "1e-16384",
            "display scale 16384 exceeds the maximum of 16383",
        ),
        (
            "-1e131072",
            "value overflows numeric format (weight 32768 outside the 16-bit range)",
        ),
    ] {
        let err = text.parse::<Decimal>().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid numeric literal {text:?}: {why}")
        );
        let err = conn
            .query_one(&format!("SELECT '{text}'::numeric"), &[])
            .await
            .unwrap_err();
        assert_eq!(err.code().map(|c| c.code()), Some("22003"), "{err}");
    }
    assert_eq!(
        Decimal::new(1, 16_384).unwrap_err().to_string(),
        "display scale 16384 exceeds the maximum of 16383"
    );

    // `FromStr` accepts what `numeric_in` accepts (spellings PostgreSQL 14 to 17 agree on),
    // to the same value and scale.
    let spellings = [
        "0",
        "-0",
        "+0",
        ".5",
        "5.",
        "-.5",
        "00012.3400",
        "1.50e1",
        "1e3",
        "1E+3",
        "1e-3",
        "1e0000000001",
        " 42 ",
        "\t42\n",
        "NaN",
        "nan",
        "  NaN ",
        "-NaN",
        "Infinity",
        "+Infinity",
        "-inf",
        "+inf",
        "infinity ",
        "0e131072",
        "1e",
        "e1",
        ".",
        "",
        "-",
        "1.2.3",
        "1e3.5",
        "- 1",
        "--1",
        "1 2",
        "Infinit",
        "1e+",
        "0e-16384",
    ];
    let mut failures = Vec::new();
    for text in spellings {
        let server = conn
            .query_one("SELECT $1::text::numeric::text", &[&text])
            .await;
        let server = server.map(|row| row.get::<_, String>(0));
        match (text.parse::<Decimal>(), server) {
            (Ok(ours), Ok(theirs)) if ours.to_string() == theirs => {}
            // Refused by both: not a literal (22P02), or out of the format's range (22003).
            (Err(ours), Err(e))
                if ours.to_string().starts_with("invalid numeric literal")
                    && (e.code() == Some(&tusk::SqlState::INVALID_TEXT_REPRESENTATION)
                        || e.code() == Some(&tusk::SqlState::NUMERIC_VALUE_OUT_OF_RANGE)) => {}
            (ours, theirs) => failures.push(format!("{text:?}: ours {ours:?}, server {theirs:?}")),
        }
    }
    report(&Ty::new("numeric"), failures);
}

async fn compare_conversions(conn: &mut Connection, cases: &[(String, Decimal)]) -> Vec<String> {
    // Per case: the text, the value as an exact int8 and as an exact integer in i128's range
    // (NULL when not one), and as float8 where the cast is defined.
    let values: Vec<String> = (cases.iter().enumerate())
        .map(|(i, (lit, _))| format!("({i}, ({lit})::numeric)"))
        .collect();
    let sql = format!(
        "SELECT v::text, \
           CASE WHEN v = trunc(v) AND v BETWEEN {} AND {} THEN v::int8 END, \
           CASE WHEN v = trunc(v) AND v BETWEEN {} AND {} THEN trunc(v)::text END, \
           CASE WHEN v IN ('NaN', 'Infinity', '-Infinity') OR v = 0 \
             OR abs(v) BETWEEN 1e-300 AND 1e300 THEN v::float8 END \
         FROM (VALUES {}) AS c (i, v) ORDER BY i",
        i64::MIN,
        i64::MAX,
        i128::MIN,
        i128::MAX,
        values.join(", ")
    );
    let rows = conn.query(&sql, &[]).await.unwrap();
    assert_eq!(rows.len(), cases.len(), "one row per case");
    let mut failures = Vec::new();
    for (row, (lit, d)) in rows.iter().zip(cases) {
        let text: &str = row.get(0);
        if d.to_string() != text {
            failures.push(format!("{lit}: Display {d} but numeric_out {text}"));
        }
        match text.parse::<Decimal>() {
            Ok(back) if back == *d && back.scale() == d.scale() => {}
            other => failures.push(format!("{lit}: {text} parses to {other:?}")),
        }
        let int8: Option<i64> = row.get(1);
        if i64::try_from(d).ok() != int8 {
            failures.push(format!(
                "{lit}: i64 {:?} but the server {int8:?}",
                i64::try_from(d)
            ));
        }
        let int128: Option<&str> = row.get(2);
        let ours = i128::try_from(d).ok().map(|n| n.to_string());
        if ours.as_deref() != int128 {
            failures.push(format!("{lit}: i128 {ours:?} but the server {int128:?}"));
        }
        let float8: Option<f64> = row.get(3);
        if let Some(f) = float8 {
            let ours = d.to_f64();
            if f.to_bits() != ours.to_bits() && !(f.is_nan() && ours.is_nan()) {
                failures.push(format!("{lit}: to_f64 {ours} but the server {f}"));
            }
        }
    }
    assert_eq!(rows.len(), cases.len());
    failures
}
