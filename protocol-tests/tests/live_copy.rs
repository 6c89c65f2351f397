//! COPY against the real throwaway PostgreSQL: text, CSV and binary both ways (compared row
//! by row with what SELECT returns), the typed binary writer and reader, CopyFail, errors
//! mid-copy, statements that are not the expected COPY, and dropped copies and futures.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::live;
use protocol_tests::poll::poll_n_times;
use tusk::types::{FromSql, IsNull, ToSql, Type};
use tusk::{BinaryCopyIn, BinaryCopyOut, BoxError, Connection, Kind, SqlState, TransactionStatus};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// Checks that the connection answers a query correctly and is idle.
async fn check(conn: &mut Connection, tag: i64) {
    let row = tokio::time::timeout(
        Duration::from_secs(20),
        conn.query_one("SELECT $1::int8", &[&tag]),
    )
    .await
    .unwrap_or_else(|_| panic!("check {tag}: the connection hangs"))
    .unwrap_or_else(|e| panic!("check {tag}: {e}"));
    assert_eq!(row.get::<_, i64>(0), tag);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

async fn count(conn: &mut Connection, table: &str) -> i64 {
    conn.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

/// Values that need escaping or quoting in every format.
fn tricky_rows() -> Vec<(i32, Option<String>, Option<i64>)> {
    [
        (1, Some("plain"), Some(1)),
        (2, Some("tab\there\tand there"), None),
        (3, Some("line\nbreak, crlf\r\n end"), Some(-5)),
        (4, Some("back\\slash \\N and \\t literally"), Some(0)),
        (5, Some("héllo wörld ✓ 日本語 🐘"), None),
        (6, None, Some(i64::MAX)),
        (7, Some(""), Some(i64::MIN)),
        (8, Some("\"quoted\", with 'commas', \"\""), None),
        (9, Some("\\."), Some(9)),
    ]
    .into_iter()
    .map(|(id, s, n)| (id, s.map(str::to_owned), n))
    .collect()
}

async fn select_rows(
    conn: &mut Connection,
    table: &str,
) -> Vec<(i32, Option<String>, Option<i64>)> {
    conn.query(&format!("SELECT id, s, n FROM {table} ORDER BY id"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn text_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn text_format(rows: &[(i32, Option<String>, Option<i64>)]) -> String {
    let mut out = String::new();
    for (id, s, n) in rows {
        let s = s.as_deref().map_or("\\N".to_owned(), text_escape);
        let n = n.map_or("\\N".to_owned(), |n| n.to_string());
        out.push_str(&format!("{id}\t{s}\t{n}\n"));
    }
    out
}

/// CSV with every non-NULL value quoted, as `FORCE_QUOTE *` writes it.
fn csv_format(rows: &[(i32, Option<String>, Option<i64>)]) -> String {
    let quote = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
    let mut out = String::new();
    for (id, s, n) in rows {
        let s = s.as_deref().map_or(String::new(), quote);
        let n = n.map_or(String::new(), |n| quote(&n.to_string()));
        out.push_str(&format!("{},{s},{n}\n", quote(&id.to_string())));
    }
    out
}

async fn read_all(copy: &mut tusk::CopyOut<'_>) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(chunk) = copy.next_chunk().await.unwrap() {
        data.extend_from_slice(&chunk);
    }
    data
}

const TABLE: &str = "CREATE TEMP TABLE t (id int4 PRIMARY KEY, s text, n int8)";

#[tokio::test]
async fn text_format_both_ways() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let rows = tricky_rows();
    let data = text_format(&rows);

    let mut copy = conn.copy_in("COPY t (id, s, n) FROM STDIN").await.unwrap();
    assert_eq!(copy.format(), tusk::types::Format::Text);
    // Chunks that split rows, escapes and multi-byte characters.
    for chunk in data.as_bytes().chunks(7) {
        copy.send(chunk).await.unwrap();
    }
    assert_eq!(copy.finish().await.unwrap(), rows.len() as u64);
    assert_eq!(select_rows(&mut conn, "t").await, rows);

    let mut copy = conn
        .copy_out("COPY (SELECT id, s, n FROM t ORDER BY id) TO STDOUT")
        .await
        .unwrap();
    assert_eq!(copy.format(), tusk::types::Format::Text);
    let out = read_all(&mut copy).await;
    assert_eq!(copy.rows(), Some(rows.len() as u64));
    drop(copy);
    assert_eq!(String::from_utf8(out).unwrap(), data);
    check(&mut conn, 1).await;
}

#[tokio::test]
async fn csv_format_both_ways() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let rows = tricky_rows();
    let data = csv_format(&rows);

    let mut copy = conn
        .copy_in("COPY t (id, s, n) FROM STDIN (FORMAT csv)")
        .await
        .unwrap();
    copy.send(data.clone()).await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), rows.len() as u64);
    assert_eq!(select_rows(&mut conn, "t").await, rows);

    let mut copy = conn
        .copy_out("COPY (SELECT id, s, n FROM t ORDER BY id) TO STDOUT (FORMAT csv, FORCE_QUOTE *)")
        .await
        .unwrap();
    let out = read_all(&mut copy).await;
    drop(copy);
    assert_eq!(String::from_utf8(out).unwrap(), data);

    // Without FORCE_QUOTE the server quotes only what needs it; reading that back in gives
    // the same rows.
    let mut copy = conn
        .copy_out("COPY (SELECT id, s, n FROM t ORDER BY id) TO STDOUT (FORMAT csv, HEADER)")
        .await
        .unwrap();
    let minimal = read_all(&mut copy).await;
    drop(copy);
    assert!(minimal.starts_with(b"id,s,n\n"));
    conn.batch_execute("CREATE TEMP TABLE t2 (LIKE t)")
        .await
        .unwrap();
    let mut copy = conn
        .copy_in("COPY t2 FROM STDIN (FORMAT csv, HEADER)")
        .await
        .unwrap();
    copy.send(&minimal).await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), rows.len() as u64);
    assert_eq!(select_rows(&mut conn, "t2").await, rows);
    check(&mut conn, 2).await;
}

#[tokio::test]
async fn binary_format_both_ways_as_bytes() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send(text_format(&tricky_rows())).await.unwrap();
    copy.finish().await.unwrap();

    let mut copy = conn
        .copy_out("COPY t TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    assert_eq!(copy.format(), tusk::types::Format::Binary);
    let data = read_all(&mut copy).await;
    drop(copy);
    assert!(data.starts_with(b"PGCOPY\n\xff\r\n\0"));
    assert!(data.ends_with(&[0xff, 0xff]));

    conn.batch_execute("CREATE TEMP TABLE t2 (LIKE t)")
        .await
        .unwrap();
    let mut copy = conn
        .copy_in("COPY t2 FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    assert_eq!(copy.format(), tusk::types::Format::Binary);
    for chunk in data.chunks(5) {
        copy.send(chunk).await.unwrap();
    }
    assert_eq!(copy.finish().await.unwrap(), tricky_rows().len() as u64);
    assert_eq!(select_rows(&mut conn, "t2").await, tricky_rows());
    check(&mut conn, 3).await;
}

/// A `timestamptz` as microseconds since 2000-01-01 UTC: the wire form, without chrono.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Micros(i64);

impl ToSql for Micros {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
    tusk::to_sql_checked!();
}

impl FromSql<'_> for Micros {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        Ok(Micros(i64::from_be_bytes(raw.try_into()?)))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ
    }
}

type Record = (i64, Option<String>, Option<f64>, Option<Micros>);

fn records(n: i64) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let name = match i % 4 {
                0 => None,
                1 => Some(format!("naïve café #{i} ✓")),
                2 => Some(format!("tab\tnew\nline\\{i}")),
                _ => Some(String::new()),
            };
            let score = (i % 5 != 0).then_some(i as f64 * 1.25 - 100.0);
            let at = (i % 6 != 0).then_some(Micros(i * 1_000_003 - 5_000_000_000));
            (i, name, score, at)
        })
        .collect()
}

const TYPES: [Type; 4] = [Type::INT8, Type::TEXT, Type::FLOAT8, Type::TIMESTAMPTZ];

#[tokio::test]
async fn binary_writer_round_trip() {
    let mut conn = admin().await;
    conn.batch_execute(
        "SET TimeZone = 'UTC'; \
         CREATE TEMP TABLE r (id int8 PRIMARY KEY, name text, score float8, at timestamptz)",
    )
    .await
    .unwrap();
    // Enough rows for several batches and flushes.
    let expected = records(20_000);
    let copy = conn
        .copy_in("COPY r (id, name, score, at) FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    let mut writer = BinaryCopyIn::new(copy, &TYPES);
    for (id, name, score, at) in &expected {
        writer.write(&[id, name, score, at]).await.unwrap();
    }
    assert_eq!(writer.finish().await.unwrap(), expected.len() as u64);

    let rows = conn
        .query("SELECT id, name, score, at FROM r ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<Record> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(got, expected);
    // The timestamp means what it should: 2000-01-01 plus the microseconds.
    let row = conn
        .query_one("SELECT at::text FROM r WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "1999-12-31 22:36:41.000003+00");
    check(&mut conn, 4).await;
}

#[tokio::test]
async fn binary_reader_against_select() {
    let mut conn = admin().await;
    let select = "SELECT g::int8, \
                  CASE WHEN g % 7 = 0 THEN NULL ELSE 'värde ' || g || E'\\t✓' END, \
                  CASE WHEN g % 5 = 0 THEN NULL ELSE g * 0.5::float8 END, \
                  CASE WHEN g % 3 = 0 THEN NULL \
                       ELSE timestamptz '2000-01-01 00:00:00+00' + g * interval '1 second' END \
                  FROM generate_series(1, 5000) g ORDER BY g";
    let expected: Vec<Record> = conn
        .query(select, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(expected.len(), 5000);

    let copy = conn
        .copy_out(&format!("COPY ({select}) TO STDOUT (FORMAT binary)"))
        .await
        .unwrap();
    let mut reader = BinaryCopyOut::new(copy, &TYPES);
    let mut got: Vec<Record> = Vec::new();
    while let Some(row) = reader.next().await.unwrap() {
        assert_eq!(row.len(), 4);
        got.push((row.get(0), row.get(1), row.get(2), row.get(3)));
    }
    assert_eq!(reader.rows(), Some(5000));
    assert_eq!(got, expected);
    assert_eq!(got[0].3, Some(Micros(1_000_000)));
    // After the end it stays ended.
    assert!(reader.next().await.unwrap().is_none());
    drop(reader);

    // An empty result is a header and a trailer.
    let copy = conn
        .copy_out("COPY (SELECT 1::int8 WHERE false) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let mut reader = BinaryCopyOut::new(copy, &[Type::INT8]);
    assert!(reader.next().await.unwrap().is_none());
    assert_eq!(reader.rows(), Some(0));
    drop(reader);
    check(&mut conn, 5).await;
}

#[tokio::test]
async fn binary_reader_refuses_mismatches() {
    let mut conn = admin().await;
    // Wrong number of types: a typed error, and the connection drains the rest.
    let copy = conn
        .copy_out("COPY (SELECT 1::int8, 2::int8) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let mut reader = BinaryCopyOut::new(copy, &[Type::INT8]);
    let err = reader.next().await.unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "a row has 2 field(s) but 1 column type(s) were given",
    );
    assert!(
        reader.next().await.unwrap().is_none(),
        "ended after the error"
    );
    drop(reader);
    check(&mut conn, 6).await;

    // A value read as the wrong Rust type.
    let copy = conn
        .copy_out("COPY (SELECT 'x'::text) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let mut reader = BinaryCopyOut::new(copy, &[Type::TEXT]);
    let row = reader.next().await.unwrap().unwrap();
    let err = row.try_get::<i64>(0).unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot convert column 0 of SQL type text into Rust type i64: the types do not match",
    );
    assert!(reader.next().await.unwrap().is_none());
    drop(reader);

    // Text data given to the binary reader.
    let copy = conn.copy_out("COPY (SELECT 1) TO STDOUT").await.unwrap();
    let mut reader = BinaryCopyOut::new(copy, &[Type::INT4]);
    let err = reader.next().await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "BinaryCopyOut needs COPY ... TO STDOUT (FORMAT binary), but the server sends text or \
         CSV data",
    );
    drop(reader);
    check(&mut conn, 7).await;
}

#[tokio::test]
async fn binary_writer_refuses_bad_rows_and_goes_on() {
    let mut conn = admin().await;
    conn.batch_execute("CREATE TEMP TABLE b (id int8, name text)")
        .await
        .unwrap();
    let copy = conn
        .copy_in("COPY b FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    let mut writer = BinaryCopyIn::new(copy, &[Type::INT8, Type::TEXT]);
    writer.write(&[&1i64, &"one"]).await.unwrap();
    let err = writer.write(&[&"two", &"two"]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Conversion,
        "cannot encode column 0 of SQL type int8 from Rust type &str",
    );
    let err = writer.write(&[&2i64]).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "the row has 1 value(s) but the COPY has 2 column(s)",
    );
    writer.write(&[&3i64, &None::<String>]).await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.finish().await.unwrap(), 2);
    assert_eq!(count(&mut conn, "b").await, 2);

    // The binary writer on a text COPY: refused, and the copy is aborted.
    let copy = conn.copy_in("COPY b FROM STDIN").await.unwrap();
    let mut writer = BinaryCopyIn::new(copy, &[Type::INT8, Type::TEXT]);
    let not_binary = "BinaryCopyIn needs COPY ... FROM STDIN (FORMAT binary), but the server \
                      expects text or CSV data";
    let err = writer.write(&[&1i64, &"x"]).await.unwrap_err();
    expect_message(&err, Kind::Usage, not_binary);
    let err = writer.finish().await.unwrap_err();
    expect_message(&err, Kind::Usage, not_binary);
    assert_eq!(count(&mut conn, "b").await, 2);
    check(&mut conn, 8).await;
}

#[tokio::test]
async fn abort_sends_copy_fail() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\tx\t1\n2\ty\t2\n").await.unwrap();
    copy.flush().await.unwrap();
    copy.abort("the test changed its mind").await.unwrap();
    assert_eq!(count(&mut conn, "t").await, 0);
    check(&mut conn, 9).await;

    // A reason the protocol cannot carry: an error, and the dropped copy is cancelled anyway.
    let copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    let err = copy.abort("nul\0byte").await.unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "CopyFail reason contains a NUL byte, which the protocol cannot carry",
    );
    check(&mut conn, 10).await;

    // Inside a transaction the abort fails the transaction, like any error.
    let mut tx = conn.transaction().await.unwrap();
    let copy = tx.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.abort("stop").await.unwrap();
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    let err = tx.copy_in("COPY t FROM STDIN").await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
    tx.rollback().await.unwrap();
    check(&mut conn, 11).await;
}

#[tokio::test]
async fn error_mid_copy_surfaces_at_finish() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\ta\t1\n1\tduplicate\t2\n").await.unwrap();
    let err = copy.finish().await.unwrap_err();
    expect_db(&err, &SqlState::UNIQUE_VIOLATION);
    assert_eq!(
        err.as_db_error().unwrap().constraint.as_deref(),
        Some("t_pkey")
    );
    assert_eq!(count(&mut conn, "t").await, 0);
    check(&mut conn, 12).await;
}

#[tokio::test]
async fn error_mid_copy_surfaces_on_the_next_write() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\ta\t1\n1\tduplicate\t2\n").await.unwrap();
    copy.flush().await.unwrap();
    // Keep writing (as a bulk load would) until the server's error shows up.
    let mut next_id = 2;
    let mut failure = None;
    for _ in 0..2000 {
        let mut batch = String::new();
        for _ in 0..500 {
            batch.push_str(&format!("{next_id}\tfiller\t{next_id}\n"));
            next_id += 1;
        }
        if let Err(e) = copy.send(batch).await {
            failure = Some(e);
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let err = failure.expect("the error surfaced on a write before finish");
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err}");
    // Every later call reports the same failure.
    let again = copy.send("99999\tz\t1\n").await.unwrap_err();
    assert_eq!(again.code(), Some(&SqlState::UNIQUE_VIOLATION));
    let at_finish = copy.finish().await.unwrap_err();
    assert_eq!(at_finish.code(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(count(&mut conn, "t").await, 0);
    check(&mut conn, 13).await;

    // A malformed value fails its row at once (a duplicate key may wait for the server's
    // batch of rows to be inserted): seen through flush; abort after a failure succeeds.
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\ta\tnot a number\n").await.unwrap();
    copy.flush().await.unwrap();
    let mut failure = None;
    for _ in 0..500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if let Err(e) = copy.flush().await {
            failure = Some(e);
            break;
        }
    }
    assert_eq!(
        failure.expect("flush reports the error").code(),
        Some(&SqlState::INVALID_TEXT_REPRESENTATION)
    );
    copy.abort("after the error").await.unwrap();
    check(&mut conn, 14).await;
}

#[tokio::test]
async fn wrong_column_count_errors_at_finish() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\ta\t1\textra\n").await.unwrap();
    let err = copy.finish().await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::BAD_COPY_FILE_FORMAT), "{err}");
    check(&mut conn, 15).await;

    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\ta\n").await.unwrap();
    let err = copy.finish().await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::BAD_COPY_FILE_FORMAT), "{err}");
    assert_eq!(count(&mut conn, "t").await, 0);
    check(&mut conn, 16).await;
}

#[tokio::test]
async fn statements_that_are_not_the_right_copy_fail_cleanly() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();

    let err = conn.copy_in("SELECT 1").await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_in needs a COPY ... FROM STDIN statement; the server ran this one without \
         starting a copy",
    );
    check(&mut conn, 20).await;

    let err = conn.copy_in("COPY missing FROM STDIN").await.unwrap_err();
    expect_db(&err, &SqlState::UNDEFINED_TABLE);
    check(&mut conn, 21).await;

    let err = conn.copy_in("COPY t TO STDOUT").await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_in needs a COPY ... FROM STDIN statement; this one is a COPY ... TO STDOUT (use \
         copy_out)",
    );
    check(&mut conn, 22).await;

    let err = conn.copy_out("SELECT 1").await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_out needs a COPY ... TO STDOUT statement; the server ran this one without \
         starting a copy",
    );
    check(&mut conn, 23).await;

    let err = conn.copy_out("COPY t FROM STDIN").await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_out needs a COPY ... TO STDOUT statement; this one is a COPY ... FROM STDIN (use \
         copy_in)",
    );
    check(&mut conn, 24).await;

    let err = conn
        .copy_out("COPY t TO STDOUT (FORMAT nonsense)")
        .await
        .unwrap_err();
    expect_db(&err, &SqlState::INVALID_PARAMETER_VALUE);
    check(&mut conn, 25).await;
    assert_eq!(count(&mut conn, "t").await, 0);
}

#[tokio::test]
async fn server_error_during_copy_out_ends_the_stream() {
    let mut conn = admin().await;
    let mut copy = conn
        .copy_out("COPY (SELECT 10 / (3 - g) FROM generate_series(1, 5) g) TO STDOUT")
        .await
        .unwrap();
    let mut data = Vec::new();
    let err = loop {
        match copy.next_chunk().await {
            Ok(Some(chunk)) => data.extend_from_slice(&chunk),
            Ok(None) => panic!("the stream ended without the error"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), Some(&SqlState::DIVISION_BY_ZERO));
    assert_eq!(data, b"5\n10\n");
    assert!(copy.next_chunk().await.unwrap().is_none());
    drop(copy);
    check(&mut conn, 30).await;
}

#[tokio::test]
async fn dropped_copies_leave_the_connection_usable() {
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();

    // CopyIn dropped mid-way: cancelled with CopyFail, nothing stored.
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    copy.send("1\ta\t1\n").await.unwrap();
    copy.flush().await.unwrap();
    copy.send("2\tb\t2\n").await.unwrap();
    drop(copy);
    check(&mut conn, 40).await;
    assert_eq!(count(&mut conn, "t").await, 0);

    // Dropped before any data.
    drop(conn.copy_in("COPY t FROM STDIN").await.unwrap());
    check(&mut conn, 41).await;

    // CopyOut dropped after a few chunks: the rest is drained.
    let mut copy = conn
        .copy_out("COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g) TO STDOUT")
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(copy.next_chunk().await.unwrap().is_some());
    }
    drop(copy);
    check(&mut conn, 42).await;

    // Binary reader dropped mid-way.
    let copy = conn
        .copy_out(
            "COPY (SELECT g::int8 FROM generate_series(1, 10000) g) TO STDOUT (FORMAT binary)",
        )
        .await
        .unwrap();
    let mut reader = BinaryCopyOut::new(copy, &[Type::INT8]);
    assert_eq!(reader.next().await.unwrap().unwrap().get::<i64>(0), 1);
    drop(reader);
    check(&mut conn, 43).await;

    // Binary writer dropped mid-way.
    let copy = conn
        .copy_in("COPY t (id, s, n) FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    let mut writer = BinaryCopyIn::new(copy, &[Type::INT4, Type::TEXT, Type::INT8]);
    for i in 0..10_000i32 {
        writer.write(&[&i, &"x", &1i64]).await.unwrap();
    }
    drop(writer);
    check(&mut conn, 44).await;
    assert_eq!(count(&mut conn, "t").await, 0);
}

type Op = for<'a> fn(&'a mut Connection) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Drops each COPY operation after 0, 1, 2, ... polls until it completes, checking the
/// connection after every drop.
#[tokio::test]
async fn futures_dropped_at_any_point_leave_the_connection_usable() {
    let ops: Vec<(&str, Op)> = vec![
        ("copy_in cycle", |c| {
            Box::pin(async move {
                if let Ok(mut copy) = c.copy_in("COPY t FROM STDIN").await {
                    let _ = copy.send("1\ta\t1\n").await;
                    let _ = copy.finish().await;
                }
            })
        }),
        ("copy_in abort", |c| {
            Box::pin(async move {
                if let Ok(copy) = c.copy_in("COPY t FROM STDIN").await {
                    let _ = copy.abort("stop").await;
                }
            })
        }),
        ("copy_out cycle", |c| {
            Box::pin(async move {
                if let Ok(mut copy) = c
                    .copy_out("COPY (SELECT generate_series(1, 20)) TO STDOUT")
                    .await
                {
                    while let Ok(Some(_)) = copy.next_chunk().await {}
                }
            })
        }),
        ("copy_out of COPY FROM STDIN", |c| {
            Box::pin(async move {
                let _ = c.copy_out("COPY t FROM STDIN").await;
            })
        }),
        ("copy_in of COPY TO STDOUT", |c| {
            Box::pin(async move {
                let _ = c.copy_in("COPY t TO STDOUT").await;
            })
        }),
        ("binary cycle", |c| {
            Box::pin(async move {
                if let Ok(copy) = c.copy_in("COPY t FROM STDIN (FORMAT binary)").await {
                    let mut w = BinaryCopyIn::new(copy, &[Type::INT4, Type::TEXT, Type::INT8]);
                    let _ = w.write(&[&1i32, &"a", &1i64]).await;
                    let _ = w.finish().await;
                }
            })
        }),
    ];
    let mut conn = admin().await;
    conn.batch_execute(TABLE).await.unwrap();
    let mut tag = 1000;
    for (name, op) in ops {
        let mut polls = 0;
        loop {
            let mut fut = op(&mut conn);
            let done = poll_n_times(fut.as_mut(), polls).await;
            drop(fut);
            tag += 1;
            check(&mut conn, tag).await;
            conn.batch_execute("TRUNCATE t").await.unwrap();
            if done {
                // Each operation awaits the server at least once, so some drops were mid-way.
                assert!(polls >= 2, "{name} finished at once");
                break;
            }
            polls += 1;
            assert!(polls < 2000, "{name} never finished");
        }
    }
}
