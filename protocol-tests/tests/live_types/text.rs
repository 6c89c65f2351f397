//! The string types (`text`, `varchar`, `bpchar`, `name`, `unknown`, `citext`), `bytea`, and the
//! text-format fallback: enums and the types without a binary codec as `String`.

use protocol_tests::live;
use std::collections::{BTreeMap, HashMap};

use tusk::types::{Array, Dimension, Format, Point, Type};
use tusk::{Connection, Kind};

use super::{check, check_decode, check_with_arrays, connect, quote, Ty};

/// Strings that must survive unchanged: empty, quotes, backslashes, control characters,
/// multi-byte UTF-8, and a long one.
fn strings() -> Vec<(String, String)> {
    let samples = [
        "",
        "a",
        "it's",
        r"back\slash \x00",
        "tab\tnewline\ncr\r",
        "héllo ☃ 😀 中文",
        "  padded  ",
        "NULL",
        &"long ".repeat(4_000),
    ];
    samples.iter().map(|s| (quote(s), s.to_string())).collect()
}

#[tokio::test]
async fn text_types() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let strings = strings();
    for ty in ["text", "varchar", "bpchar", "varchar(20000)"] {
        check_with_arrays(conn, &Ty::new(ty), &strings).await;
    }
    // char(n) pads to n on the server; the padding is part of the value read back.
    let padded = [("'ab'", "ab  ".to_owned()), ("''", "    ".to_owned())];
    check_with_arrays(conn, &Ty::new("char(4)"), &padded).await;
    // name: at most 63 bytes.
    let name = "n".repeat(63);
    let names = [
        (quote(&name), name.clone()),
        ("'pg_class'".to_owned(), "pg_class".into()),
    ];
    check_with_arrays(conn, &Ty::new("name"), &names).await;
    let err = conn
        .query_one("SELECT $1::name", &[&"n".repeat(64)])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("42622"), "{err}");
    // `unknown`: since PostgreSQL 10 the server resolves unknown parameters and result
    // columns to text, so the `unknown` codec is never reached live; its values still read.
    check_decode(
        conn,
        &Ty::new("unknown").no_column(),
        &[("'x'", "x".to_owned())],
    )
    .await;
    let stmt = conn
        .prepare("SELECT $1::unknown, 'héllo'::unknown")
        .await
        .unwrap();
    assert_eq!(stmt.params(), [Type::TEXT]);
    assert_eq!(stmt.columns()[1].type_(), &Type::TEXT);
    let row = conn.query_one(&stmt, &[&"x"]).await.unwrap();
    assert_eq!(row.get::<_, &str>(1), "héllo");

    // A NUL is not valid in PostgreSQL text: the server refuses it, the connection survives.
    let err = conn
        .query_one("SELECT $1::text", &[&"a\0b"])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22021"), "{err}");
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn borrowed_strings_and_bytes() {
    let mut conn = connect().await;
    let row = conn
        .query_one(
            "SELECT 'ä'::text, 'b'::varchar, 'c'::char(2), 'd'::name, 'e'::unknown, \
             '\\x00ff'::bytea, ''::bytea, '0/16B3748'::pg_lsn, NULL::text",
            &[],
        )
        .await
        .unwrap();
    let strs: Vec<&str> = (0..5).map(|i| row.get(i)).collect();
    assert_eq!(strs, ["ä", "b", "c ", "d", "e"]);
    assert_eq!(row.get::<_, &[u8]>(5), [0, 0xff]);
    assert_eq!(row.get::<_, &[u8]>(6), b"");
    assert_eq!(row.get::<_, &str>(7), "0/16B3748");
    assert_eq!(row.get::<_, Option<&str>>(8), None);
    // Borrowed parameters.
    let s: &str = "borrowed";
    let b: &[u8] = &[1, 2, 3];
    let row = conn
        .query_one(
            "SELECT $1::text = 'borrowed', $2::bytea = '\\x010203'",
            &[&s, &b],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0) && row.get::<_, bool>(1));
}

#[tokio::test]
async fn bytea() {
    let mut conn = connect().await;
    let all: Vec<u8> = (0..=255).collect();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let cases: Vec<(String, Vec<u8>)> = [vec![], vec![0], vec![0xff], b"'\\".to_vec(), all, big]
        .into_iter()
        .map(|bytes| (format!("'\\x{}'", hex(&bytes)), bytes))
        .collect();
    check_with_arrays(&mut conn, &Ty::new("bytea"), &cases).await;
    // The escape form is another spelling of the same bytes.
    let cases = [(r"E'\\000\\377abc'", vec![0, 0xff, b'a', b'b', b'c'])];
    check_decode(&mut conn, &Ty::new("bytea"), &cases).await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the contrib extension `name` in the test database; false (the test skipped) when
/// the server does not have it and `TUSK_ALLOW_SKIP` names it, else a missing one fails.
async fn create_extension(conn: &mut Connection, name: &str) -> bool {
    let available = conn
        .query_one(
            "SELECT count(*)::int8 FROM pg_available_extensions WHERE name = $1",
            &[&name],
        )
        .await
        .unwrap();
    if available.get::<_, i64>(0) == 0 {
        live::skip_or_fail(
            name,
            &format!(
                "the {name} extension is not installed on the test server (Debian: \
                 postgresql-contrib)"
            ),
        );
        return false;
    }
    // Tests run in parallel; a concurrent CREATE EXTENSION may collide, so retry once.
    let create = format!("CREATE EXTENSION IF NOT EXISTS {name}");
    if conn.batch_execute(&create).await.is_err() {
        conn.batch_execute(&create).await.unwrap();
    }
    true
}

/// `citext` is an extension type: no fixed OID, so it travels as text. Fails when the
/// extension is missing, unless `TUSK_ALLOW_SKIP` names `citext`.
#[tokio::test]
async fn citext_extension() {
    let mut conn = connect().await;
    if !create_extension(&mut conn, "citext").await {
        return;
    }
    check(&mut conn, &Ty::new("citext"), &strings()).await;
    let row = conn
        .query_one("SELECT $1::citext = 'MiXeD', 'X'::citext", &[&"mixed"])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "citext compares case-insensitively");
    assert_eq!(row.columns()[1].format(), Format::Text);
    assert_eq!(row.get::<_, &str>(1), "X");
    // Its arrays have no binary codec either: their text form.
    let row = conn
        .query_one("SELECT ARRAY['a', 'B']::citext[]", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "{a,B}");
}

async fn create_mood(conn: &mut Connection) {
    conn.batch_execute("CREATE TYPE pg_temp.mood AS ENUM ('sad', 'ok', 'happy', 'très content')")
        .await
        .unwrap();
}

/// Enums (their label) and built-in types without a binary codec are read and written as their
/// text form.
#[tokio::test]
async fn text_format_fallback() {
    let mut conn = connect().await;
    let conn = &mut conn;
    create_mood(conn).await;
    let moods: Vec<(String, String)> = ["sad", "happy", "très content"]
        .iter()
        .map(|m| (quote(m), m.to_string()))
        .collect();
    check(conn, &Ty::new("mood"), &moods).await;
    // An enum read from the catalog travels in binary (its label), so its arrays are typed
    // arrays of strings, not one text value.
    check(
        conn,
        &Ty::new("mood[]"),
        &[(
            "'{sad,NULL,ok}'",
            vec![Some("sad".to_owned()), None, Some("ok".to_owned())],
        )],
    )
    .await;
    // (inet, cidr, macaddr, bit, ranges, point, ... have binary codecs now: see network.rs,
    // ranges.rs, geometry.rs.)
    let cases = [
        ("tsvector", "'a' 'cat' 'fat'"),
        ("tsquery", "'fat' & 'cat'"),
        ("pg_lsn", "0/16B3748"),
        ("tsvector[]", "{'a',NULL}"),
    ];
    for (ty, text) in cases {
        check(conn, &Ty::new(ty), &[(quote(text), text.to_owned())]).await;
    }
    check(
        conn,
        &Ty::new("txid_snapshot").no_eq(),
        &[("'10:20:10,14,15'", "10:20:10,14,15".to_owned())],
    )
    .await;
    check(
        conn,
        &Ty::new("xml").no_eq(),
        &[("'<a>x</a>'", "<a>x</a>".to_owned())],
    )
    .await;
    // A composite type, an anonymous record (a result only), and a domain over text.
    conn.batch_execute(
        "CREATE TYPE pg_temp.pair AS (a int4, b text); \
         CREATE DOMAIN pg_temp.label AS text CHECK (VALUE <> '')",
    )
    .await
    .unwrap();
    // A composite read from the catalog travels in binary (read it with a derived FromSql,
    // live_catalog_types.rs): as a string it is a type error, its text form a `::text` away.
    let row = conn
        .query_one("SELECT '(1,\"x y\")'::pair, '(1,\"x y\")'::pair::text", &[])
        .await
        .unwrap();
    assert_eq!(row.columns()[0].format(), Format::Binary);
    assert!(row.try_get::<_, String>(0).is_err());
    assert_eq!(row.get::<_, &str>(1), "(1,\"x y\")");
    let record = [("ROW(1, NULL, 'z')", "(1,,z)".to_owned())];
    check_decode(conn, &Ty::new("record").no_column(), &record).await;
    check(conn, &Ty::new("label"), &[("'tag'", "tag".to_owned())]).await;

    // The column formats tusk asked for, and a text parameter for an enum column.
    conn.batch_execute("CREATE TEMP TABLE feelings (m mood, at pg_lsn, p point, n int4)")
        .await
        .unwrap();
    conn.execute(
        "INSERT INTO feelings VALUES ($1, $2, $3, $4)",
        &[&"ok", &"0/1", &Point::new(0.0, 0.0), &7i32],
    )
    .await
    .unwrap();
    let row = conn.query_one("SELECT * FROM feelings", &[]).await.unwrap();
    let formats: Vec<Format> = row.columns().iter().map(|c| c.format()).collect();
    assert_eq!(
        formats,
        [Format::Binary, Format::Text, Format::Binary, Format::Binary]
    );
    assert_eq!(row.get::<_, &str>("m"), "ok");
    assert_eq!(row.get::<_, String>("at"), "0/1");
    assert_eq!(row.get::<_, Point>("p"), Point::new(0.0, 0.0));
    assert_eq!(row.get::<_, i32>("n"), 7);
    // An enum's label is not a number: reading one as an integer names the column and the
    // type, by the name the catalog gave it.
    let err = row.try_get::<_, i32>("m").unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    let msg = err.to_string();
    assert!(
        msg.contains("\"m\"")
            && msg.contains("SQL type mood ")
            && msg.ends_with("into Rust type i32: the types do not match"),
        "{msg}"
    );
    // A label the enum does not have is the server's error.
    let err = conn
        .execute("INSERT INTO feelings (m) VALUES ($1)", &[&"angry"])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22P02"), "{err}");
}

/// Arrays of types without a binary codec travel in text format; `Vec<String>`,
/// `Vec<Option<String>>` and `Array<..>` parse and write that form (quotes, backslashes,
/// commas, braces, the word NULL as a value), and a string still reads the whole text.
#[tokio::test]
async fn text_format_arrays() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let tsvectors: Vec<(String, String)> = [
        "'a' 'cat' 'fat'",
        "'it''s' 'x y':1A",
        "",
        r"'back\\slash'",
        "'NULL'",
        "'\"q\"' ',' '{b}'",
    ]
    .iter()
    .map(|s| (quote(s), s.to_string()))
    .collect();
    check_with_arrays(conn, &Ty::new("tsvector"), &tsvectors).await;
    let xml: Vec<(String, String)> = ["<a>x</a>", r#"a,b {c} "d" \e NULL"#, "", "NULL", " padded "]
        .iter()
        .map(|s| (quote(s), s.to_string()))
        .collect();
    check_with_arrays(conn, &Ty::new("xml").no_eq(), &xml).await;
    let row = conn
        .query_one(
            "SELECT ARRAY['a b'::tsvector, NULL], '[0:1]={x,y}'::xml[], ARRAY[]::tsquery[]",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.columns()[0].format(), Format::Text);
    assert_eq!(row.get::<_, &str>(0), r#"{"'a' 'b'",NULL}"#);
    assert_eq!(
        row.get::<_, Vec<Option<String>>>(0),
        [Some("'a' 'b'".to_owned()), None]
    );
    let shifted: Array<String> = row.get(1);
    assert_eq!(shifted.dimensions()[0].lower_bound, 0);
    assert_eq!(shifted.elements(), ["x", "y"]);
    assert!(row.get::<_, Vec<String>>(2).is_empty());
    // Bounds other than 1 and several dimensions are written in the array's text form.
    let dims = vec![
        Dimension {
            len: 2,
            lower_bound: 0,
        },
        Dimension {
            len: 1,
            lower_bound: -3,
        },
    ];
    let grid = Array::new(dims, vec![Some("a b"), None]).unwrap();
    let row = conn
        .query_one("SELECT $1::tsvector[]::text, $1::tsvector[]", &[&grid])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, &str>(0),
        r#"[0:1][-3:-3]={{"'a' 'b'"},{NULL}}"#
    );
    let back: Array<Option<String>> = row.get(1);
    assert_eq!(back.dimensions(), grid.dimensions());
    assert_eq!(back.elements(), [Some("'a' 'b'".to_owned()), None]);
    // Into a Rust type that does not take the element type: the types do not match.
    let err = row.try_get::<_, Vec<i32>>(0).unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion, "{err}");
}

/// `hstore` is an extension type with no fixed OID: accepted by the name the connection reads
/// from the catalog, and then binary.
#[tokio::test]
async fn hstore_extension() {
    let mut conn = connect().await;
    if !create_extension(&mut conn, "hstore").await {
        return;
    }
    let map = |pairs: &[(&str, Option<&str>)]| -> HashMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect()
    };
    let cases = [
        ("''", map(&[])),
        ("'a=>1, b=>NULL'", map(&[("a", Some("1")), ("b", None)])),
        (
            r#"'"k y"=>"v,\"w\\", ""=>"", "NULL"=>"NULL", "é☃"=>"😀"'"#,
            map(&[
                ("k y", Some(r#"v,"w\"#)),
                ("", Some("")),
                ("NULL", Some("NULL")),
                ("é☃", Some("😀")),
            ]),
        ),
    ];
    // The matrix compares values by their Debug text, which a HashMap prints in any order: it
    // runs on BTreeMap, and the HashMap is checked with `==` below.
    let sorted: Vec<(&str, BTreeMap<String, Option<String>>)> = cases
        .iter()
        .map(|(lit, m)| (*lit, m.clone().into_iter().collect()))
        .collect();
    check(&mut conn, &Ty::new("hstore"), &sorted).await;
    for (literal, map) in &cases {
        let row = conn
            .query_one(
                &format!("SELECT ({literal})::hstore, $1::hstore = ({literal})::hstore"),
                &[map],
            )
            .await
            .unwrap();
        assert_eq!(&row.get::<_, HashMap<String, Option<String>>>(0), map);
        assert!(row.get::<_, bool>(1), "{literal} sent as a HashMap");
    }
    let row = conn.query_one("SELECT 'a=>1'::hstore", &[]).await.unwrap();
    assert_eq!(row.columns()[0].format(), Format::Binary);
}
