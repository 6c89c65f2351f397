//! Bulk loading with COPY: writes rows of (int8, text, float8, timestamptz) with the binary
//! writer, reads them back with the binary reader, and prints the counts and rates.
//!
//! ```text
//! scripts/with-test-server cargo run --release --example copy            # 1,000,000 rows
//! scripts/with-test-server cargo run --release --example copy -- 50000   # fewer
//! ```
//!
//! It connects with `TUSK_PG_URL` (set by that script), else `DATABASE_URL`, else the test
//! server's default address.

use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::{SinkExt, StreamExt};
use tusk::types::Type;
use tusk::{BinaryCopyIn, BinaryCopyOut, Connection};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn url() -> String {
    std::env::var("TUSK_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://tusk:tusk@127.0.0.1:54329/tusk".to_owned())
}

const TYPES: [Type; 4] = [Type::INT8, Type::TEXT, Type::FLOAT8, Type::TIMESTAMPTZ];

fn rate(rows: u64, seconds: f64) -> String {
    format!("{:.0} rows/s", rows as f64 / seconds.max(1e-9))
}

#[tokio::main]
async fn main() -> Result<()> {
    let rows: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000_000,
    };
    let mut conn = Connection::connect(&url()).await?;
    conn.batch_execute(
        "CREATE TEMP TABLE readings (id int8, label text, value float8, taken_at timestamptz)",
    )
    .await?;

    // Load: one reused buffer, many rows per CopyData message.
    let start = Instant::now();
    let base: DateTime<Utc> = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut label = String::new();
    let copy = conn
        .copy_in("COPY readings (id, label, value, taken_at) FROM STDIN (FORMAT binary)")
        .await?;
    let mut writer = BinaryCopyIn::new(copy, &TYPES);
    for i in 0..rows as i64 {
        label.clear();
        use std::fmt::Write;
        write!(label, "sensor-{}", i % 1000)?;
        // Every 10th value is missing.
        let value = (i % 10 != 0).then_some(i as f64 * 0.001);
        let taken_at = base + Duration::seconds(i);
        writer.write(&[&i, &label, &value, &taken_at]).await?;
    }
    let loaded = writer.finish().await?;
    let load_time = start.elapsed().as_secs_f64();
    println!(
        "loaded {loaded} rows in {load_time:.2} s: {}",
        rate(loaded, load_time)
    );

    // Read back through the Stream impl, checking every row.
    let start = Instant::now();
    let copy = conn
        .copy_out("COPY readings TO STDOUT (FORMAT binary)")
        .await?;
    let mut reader = BinaryCopyOut::new(copy, &TYPES);
    let (mut read, mut nulls, mut id_sum) = (0u64, 0u64, 0i64);
    while let Some(row) = StreamExt::next(&mut reader).await {
        let row = row?;
        let id: i64 = row.get(0);
        let _label: &str = row.get(1);
        let value: Option<f64> = row.get(2);
        let taken_at: DateTime<Utc> = row.get(3);
        assert_eq!(taken_at, base + Duration::seconds(id));
        nulls += u64::from(value.is_none());
        id_sum += id;
        read += 1;
    }
    let read_time = start.elapsed().as_secs_f64();
    println!(
        "read {read} rows ({nulls} NULL values) in {read_time:.2} s: {}",
        rate(read, read_time)
    );
    drop(reader);

    let n = rows as i64;
    assert_eq!(read, rows);
    assert_eq!(id_sum, n * (n - 1) / 2);
    let counted: i64 = conn
        .query_one("SELECT count(*) FROM readings", &[])
        .await?
        .get(0);
    println!("SELECT count(*) agrees: {counted}");

    // CopyIn is also a futures Sink of byte chunks (text format here).
    conn.batch_execute("CREATE TEMP TABLE notes (id int8, body text)")
        .await?;
    let mut sink = conn.copy_in("COPY notes FROM STDIN").await?;
    for i in 0..1000 {
        SinkExt::feed(&mut sink, Bytes::from(format!("{i}\tnote {i}\n"))).await?;
    }
    SinkExt::close(&mut sink).await?;
    println!("the sink copied {} rows", sink.rows().unwrap_or(0));
    drop(sink);
    conn.close().await?;
    Ok(())
}
