//! Criterion micro benchmarks of tusk's sans-IO protocol core, each beside the equivalent from
//! rust-postgres (postgres-protocol, with tokio-postgres's value codecs), so the two can be read
//! side by side:
//!
//! - `datarow`: decode 1,000 DataRow messages of (int8, text, float8, timestamptz) from a read
//!   buffer and read the four columns of each into Rust values (i64, &str, f64,
//!   `DateTime<Utc>`) with each library's binary decoders;
//! - `bind`: encode a Bind with 10 binary parameters through each library's `dyn ToSql`;
//! - `scram`: the client side of a SCRAM-SHA-256 exchange with 4096 iterations against a fixed
//!   server-first-message: take it, compute the client-final-message (the proof), verify the
//!   server-final-message. Building the client-first-message is setup, not measured (rust-postgres
//!   draws a random nonce there, so its server messages are made per run in the setup).
//!
//! Run with `cargo bench --bench micro` (add a name to filter, e.g. `-- scram`).

use std::hint::black_box;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::{BufMut, BytesMut};
use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use fallible_iterator::FallibleIterator;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How many DataRows one `datarow` iteration decodes.
const ROWS: usize = 1000;

// ---------------------------------------------------------------------------------------------
// DataRow

/// One DataRow message (tag, length, body) of (int8, text, float8, timestamptz) in binary.
fn data_row(i: i64) -> Vec<u8> {
    let text = format!("{:032x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let columns: [Vec<u8>; 4] = [
        i.to_be_bytes().to_vec(),
        text.into_bytes(),
        (i as f64 * 0.5).to_be_bytes().to_vec(),
        // Microseconds since 2000-01-01, about 2024.
        (757_382_400_000_000i64 + i * 1_000_000)
            .to_be_bytes()
            .to_vec(),
    ];
    let mut body = BytesMut::new();
    body.put_u16(4);
    for column in &columns {
        body.put_i32(column.len() as i32);
        body.put_slice(column);
    }
    let mut message = vec![b'D'];
    message.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    message.extend_from_slice(&body);
    message
}

/// A read buffer holding `ROWS` DataRows back to back, as a socket read would leave them.
fn data_rows() -> Vec<u8> {
    (0..ROWS as i64).flat_map(data_row).collect()
}

/// tusk: frame + decode each message, then walk its column ranges and decode each value.
fn tusk_rows(buf: &mut BytesMut) -> f64 {
    use tusk::proto::backend::{decode, Message};
    use tusk::types::{FromSql, Type};

    let mut sum = 0.0;
    while let Some(message) = decode(buf, tusk::proto::DEFAULT_MAX_MESSAGE_LEN).expect("decode") {
        let Message::DataRow(row) = message else {
            panic!("not a DataRow: {}", message.name());
        };
        let body = row.buffer();
        let mut ranges = row.ranges();
        let mut next = || {
            let range = ranges.next().expect("a column").expect("a valid column");
            &body[range.expect("not NULL")]
        };
        let id = i64::from_sql(&Type::INT8, next()).expect("int8");
        let name = <&str>::from_sql(&Type::TEXT, next()).expect("text");
        let score = f64::from_sql(&Type::FLOAT8, next()).expect("float8");
        let at = DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, next()).expect("timestamptz");
        sum += id as f64 + name.len() as f64 + score + at.timestamp() as f64;
    }
    sum
}

/// postgres-protocol: parse each message, walk its ranges, decode with tokio-postgres's types.
fn pp_rows(buf: &mut BytesMut) -> f64 {
    use postgres_protocol::message::backend::Message;
    use tokio_postgres::types::{FromSql, Type};

    let mut sum = 0.0;
    while let Some(message) = Message::parse(buf).expect("parse") {
        let Message::DataRow(row) = message else {
            panic!("not a DataRow");
        };
        let body = row.buffer();
        let mut ranges = row.ranges();
        let mut next = || {
            let range = ranges.next().expect("a valid column").expect("a column");
            &body[range.expect("not NULL")]
        };
        let id = i64::from_sql(&Type::INT8, next()).expect("int8");
        let name = <&str>::from_sql(&Type::TEXT, next()).expect("text");
        let score = f64::from_sql(&Type::FLOAT8, next()).expect("float8");
        let at = DateTime::<Utc>::from_sql(&Type::TIMESTAMPTZ, next()).expect("timestamptz");
        sum += id as f64 + name.len() as f64 + score + at.timestamp() as f64;
    }
    sum
}

fn bench_datarow(c: &mut Criterion) {
    let template = data_rows();
    // Both must read the same values, or the comparison means nothing.
    let a = tusk_rows(&mut BytesMut::from(&template[..]));
    let b = pp_rows(&mut BytesMut::from(&template[..]));
    assert_eq!(a, b, "tusk and postgres-protocol read different values");

    let mut group = c.benchmark_group("datarow_decode_read_4_columns_x1000");
    group.throughput(Throughput::Elements(ROWS as u64));
    let fresh = || BytesMut::from(&template[..]);
    group.bench_function("tusk", |b| {
        b.iter_batched_ref(
            fresh,
            |buf| black_box(tusk_rows(buf)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("postgres-protocol", |b| {
        b.iter_batched_ref(fresh, |buf| black_box(pp_rows(buf)), BatchSize::SmallInput)
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Bind

/// The ten parameters: a mix of what applications bind (ids, text, numbers, a flag, a time,
/// a NULL).
struct BindParams {
    id: i64,
    n: i32,
    name: &'static str,
    score: f64,
    flag: bool,
    at: DateTime<Utc>,
    missing: Option<i64>,
    note: String,
    count: i32,
    ratio: f64,
}

impl BindParams {
    fn new() -> BindParams {
        BindParams {
            id: 1_234_567_890,
            n: 42,
            name: "a name of moderate length",
            score: 98.6,
            flag: true,
            at: Utc.with_ymd_and_hms(2024, 5, 17, 12, 30, 0).unwrap(),
            missing: None,
            note: "x".repeat(100),
            count: 7,
            ratio: 0.25,
        }
    }
}

fn tusk_bind(p: &BindParams, buf: &mut BytesMut) {
    use tusk::types::{ToSql, Type};
    let params: [&(dyn ToSql + Sync); 10] = [
        &p.id, &p.n, &p.name, &p.score, &p.flag, &p.at, &p.missing, &p.note, &p.count, &p.ratio,
    ];
    let types = [
        Type::INT8,
        Type::INT4,
        Type::TEXT,
        Type::FLOAT8,
        Type::BOOL,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::TEXT,
        Type::INT4,
        Type::FLOAT8,
    ];
    tusk::proto::frontend::bind(
        "",
        "s1",
        &[1],
        params.iter().zip(&types),
        |(value, ty), out| value.to_sql_checked(ty, out),
        &[1],
        buf,
    )
    .expect("bind");
}

fn pp_bind(p: &BindParams, buf: &mut BytesMut) {
    use postgres_protocol::IsNull as PpIsNull;
    use tokio_postgres::types::{IsNull, ToSql, Type};
    let params: [&(dyn ToSql + Sync); 10] = [
        &p.id, &p.n, &p.name, &p.score, &p.flag, &p.at, &p.missing, &p.note, &p.count, &p.ratio,
    ];
    let types = [
        Type::INT8,
        Type::INT4,
        Type::TEXT,
        Type::FLOAT8,
        Type::BOOL,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::TEXT,
        Type::INT4,
        Type::FLOAT8,
    ];
    let result = postgres_protocol::message::frontend::bind(
        "",
        "s1",
        [1],
        params.iter().zip(&types),
        |(value, ty), out| match value.to_sql_checked(ty, out) {
            Ok(IsNull::No) => Ok(PpIsNull::No),
            Ok(IsNull::Yes) => Ok(PpIsNull::Yes),
            Err(e) => Err(e),
        },
        [1],
        buf,
    );
    if result.is_err() {
        panic!("postgres-protocol bind failed");
    }
}

fn bench_bind(c: &mut Criterion) {
    let params = BindParams::new();
    let mut a = BytesMut::new();
    let mut b = BytesMut::new();
    tusk_bind(&params, &mut a);
    pp_bind(&params, &mut b);
    assert_eq!(
        a, b,
        "tusk and postgres-protocol encode different Bind messages"
    );

    let mut group = c.benchmark_group("bind_10_params");
    let mut buf = BytesMut::with_capacity(1024);
    group.bench_function("tusk", |bench| {
        bench.iter(|| {
            buf.clear();
            tusk_bind(black_box(&params), &mut buf);
            black_box(buf.len())
        })
    });
    group.bench_function("postgres-protocol", |bench| {
        bench.iter(|| {
            buf.clear();
            pp_bind(black_box(&params), &mut buf);
            black_box(buf.len())
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// SCRAM

const PASSWORD: &[u8] = b"pw_scram";
const SALT: [u8; 16] = *b"0123456789abcdef";
const ITERATIONS: u32 = 4096;
const CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

/// What a server holding PASSWORD's verifier would send, for a given client nonce.
struct ServerSide {
    server_key: Vec<u8>,
}

impl ServerSide {
    fn new() -> ServerSide {
        // The verifier ends in "$<StoredKey>:<ServerKey>", both base64.
        let verifier = tusk::proto::auth::scram::scram_verifier(PASSWORD, &SALT, ITERATIONS)
            .expect("verifier");
        let server_key = verifier.rsplit(':').next().expect("a ServerKey");
        ServerSide {
            server_key: STANDARD.decode(server_key).expect("base64 ServerKey"),
        }
    }

    /// The server-first and server-final messages answering `client_nonce`.
    fn messages(&self, client_nonce: &str) -> (String, String) {
        let nonce = format!("{client_nonce}{SERVER_NONCE}");
        let server_first = format!("r={nonce},s={},i={ITERATIONS}", STANDARD.encode(SALT));
        // AuthMessage = client-first-bare "," server-first "," client-final-without-proof;
        // "biws" is base64 of the GS2 header "n,,".
        let auth_message = format!("n=,r={client_nonce},{server_first},c=biws,r={nonce}");
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.server_key).expect("HMAC takes any key length");
        mac.update(auth_message.as_bytes());
        let signature = mac.finalize().into_bytes();
        (server_first, format!("v={}", STANDARD.encode(signature)))
    }
}

fn bench_scram(c: &mut Criterion) {
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256 as PpScram};
    use tusk::proto::auth::scram::ScramSha256;

    let server = ServerSide::new();
    let (tusk_first, tusk_final) = server.messages(CLIENT_NONCE);
    let pp_setup = || {
        let scram = PpScram::new(PASSWORD, ChannelBinding::unsupported());
        let first = std::str::from_utf8(scram.message()).expect("UTF-8 client-first");
        let nonce = first
            .strip_prefix("n,,n=,r=")
            .expect("a client-first-message without channel binding")
            .to_owned();
        let (server_first, server_final) = server.messages(&nonce);
        (scram, server_first, server_final)
    };

    let tusk_exchange = |scram: &mut ScramSha256| {
        scram.update(tusk_first.as_bytes()).expect("update");
        black_box(scram.message().len());
        scram.finish(tusk_final.as_bytes()).expect("finish");
    };
    let pp_exchange = |(scram, server_first, server_final): &mut (PpScram, String, String)| {
        scram.update(server_first.as_bytes()).expect("update");
        black_box(scram.message().len());
        scram.finish(server_final.as_bytes()).expect("finish");
    };
    let tusk_setup = || ScramSha256::new(PASSWORD, CLIENT_NONCE).expect("client-first");

    let mut group = c.benchmark_group("scram_sha256_client_4096_iterations");
    group.sample_size(30);
    group.bench_function("tusk", |b| {
        b.iter_batched_ref(tusk_setup, tusk_exchange, BatchSize::SmallInput)
    });
    group.bench_function("postgres-protocol", |b| {
        b.iter_batched_ref(pp_setup, pp_exchange, BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, bench_datarow, bench_bind, bench_scram);
criterion_main!(benches);
