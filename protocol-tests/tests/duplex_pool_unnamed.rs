//! The pool's shared path with the statement cache off, against the SCRIPTED server
//! (`protocol_tests::scripted`, a fake, NOT PostgreSQL): the exact frontend bytes of an
//! unnamed batch. The live suite (`live_pgbouncer_shared.rs`) covers the real server behind
//! pgbouncer.
//!
//! A pool connects through `Config` over TCP, so the scripted server is reached through a
//! loopback bridge that records every read of the client's bytes. A batch is written with one
//! write, which arrives on loopback as one read.

use std::sync::{Arc, Mutex};

use protocol_tests::duplex::{within, ECHO, SERIES};
use protocol_tests::scripted::{Failure, Script, ScriptedServer};
use protocol_tests::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tusk::{Config, Pool, SqlState};

/// What the client sent, one entry per read of the bridge.
type Reads = Arc<Mutex<Vec<Vec<u8>>>>;

/// Starts a scripted server behind a loopback listener whose one connection is bridged to
/// it; returns the port, the server's handle and the client's bytes as read.
async fn bridged(script: Script) -> (u16, ScriptedServer, Reads) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (server, duplex) = ScriptedServer::start(script);
    let reads: Reads = Arc::default();
    let recorded = reads.clone();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let (mut from_client, mut to_client) = tcp.into_split();
        let (mut from_server, mut to_server) = tokio::io::split(duplex);
        tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from_client.read(&mut buf).await?;
            if n == 0 {
                return to_server.shutdown().await;
            }
            recorded.lock().unwrap().push(buf[..n].to_vec());
            to_server.write_all(&buf[..n]).await?;
        }
    });
    (port, server, reads)
}

/// A pool of one connection to the bridge, with the statement cache off.
fn pool(port: u16) -> Pool {
    let config: Config = format!(
        "host=127.0.0.1 port={port} user=alice dbname=fake passfile=/nonexistent/pgpass \
         sslmode=disable"
    )
    .parse()
    .expect("valid settings");
    Pool::builder(config.statement_cache_capacity(0))
        .max_size(1)
        .build()
}

/// The reads since the last call.
fn take(reads: &Reads) -> Vec<Vec<u8>> {
    std::mem::take(&mut *reads.lock().unwrap())
}

/// The tags of the frontend messages in `bytes`.
fn tags(bytes: &[u8]) -> Vec<u8> {
    let mut tags = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        let len = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        tags.push(rest[0]);
        rest = &rest[1 + len..];
    }
    assert!(rest.is_empty(), "a partial message at the end");
    tags
}

/// A C string's bytes.
fn cstr(s: &str) -> Vec<u8> {
    let mut out = s.as_bytes().to_vec();
    out.push(0);
    out
}

/// The bytes of one unnamed job for `sql` with one int4 parameter `value`, every result
/// column asked in binary: Parse, Bind, Describe (portal), Execute, Sync. Written here from
/// the protocol documentation, not with tusk's encoders.
fn unnamed_job(sql: &str, value: i32) -> Vec<u8> {
    let mut parse = cstr("");
    parse.extend(cstr(sql));
    parse.extend(1i16.to_be_bytes()); // one parameter type
    parse.extend(23u32.to_be_bytes()); // int4, as the server described it
    let mut bind = cstr(""); // the unnamed portal
    bind.extend(cstr("")); // the unnamed statement
    bind.extend(1i16.to_be_bytes()); // one parameter format code
    bind.extend(1i16.to_be_bytes()); // binary
    bind.extend(1i16.to_be_bytes()); // one parameter
    bind.extend(4i32.to_be_bytes());
    bind.extend(value.to_be_bytes());
    bind.extend(1i16.to_be_bytes()); // one result format code per column (one column)
    bind.extend(1i16.to_be_bytes()); // binary
    let mut describe = vec![b'P'];
    describe.extend(cstr(""));
    let mut execute = cstr("");
    execute.extend(0i32.to_be_bytes()); // all rows
    [
        wire::msg(b'P', &parse),
        wire::msg(b'B', &bind),
        wire::msg(b'D', &describe),
        wire::msg(b'E', &execute),
        wire::msg(b'S', &[]),
    ]
    .concat()
}

/// Parse, Describe (statement) and Sync of the unnamed statement for `sql`: how the pool
/// describes a SQL text with the cache off.
fn unnamed_description(sql: &str) -> Vec<u8> {
    let mut parse = cstr("");
    parse.extend(cstr(sql));
    parse.extend(0i16.to_be_bytes()); // the server infers the parameter types
    let mut describe = vec![b'S'];
    describe.extend(cstr(""));
    [
        wire::msg(b'P', &parse),
        wire::msg(b'D', &describe),
        wire::msg(b'S', &[]),
    ]
    .concat()
}

fn ints(rows: &[tusk::Row]) -> Vec<i32> {
    rows.iter().map(|row| row.get(0)).collect()
}

#[tokio::test]
async fn a_two_job_unnamed_batch_is_two_self_contained_groups_in_one_write() {
    let (port, server, reads) = bridged(Script::default()).await;
    let pool = pool(port);

    // The first use of each SQL text: described with the unnamed statement (one group), then
    // run as a batch of one.
    let row = within("the first query", pool.query_one(ECHO, &[&1i32]))
        .await
        .expect("first query");
    assert_eq!(row.get::<_, i32>(0), 1);
    let after_startup: Vec<Vec<u8>> = take(&reads)
        .into_iter()
        .skip_while(|read| read.first() != Some(&b'P'))
        .collect();
    assert_eq!(
        after_startup,
        [unnamed_description(ECHO), unnamed_job(ECHO, 1)],
        "describe, then the job"
    );
    let rows = within("the second query", pool.query(SERIES, &[&2i32]))
        .await
        .expect("second query");
    assert_eq!(ints(&rows), [1, 2]);
    assert_eq!(
        take(&reads),
        [unnamed_description(SERIES), unnamed_job(SERIES, 2)]
    );

    // Both described: two tasks' queries, queued in the same poll of this (current-thread)
    // runtime, go out in one write, each its own Sync group.
    let (echo, series) = within("the batch", async {
        tokio::join!(pool.query(ECHO, &[&7i32]), pool.query(SERIES, &[&3i32]))
    })
    .await;
    assert_eq!(ints(&echo.expect("echo")), [7]);
    assert_eq!(ints(&series.expect("series")), [1, 2, 3]);
    let batch = take(&reads);
    assert_eq!(batch.len(), 1, "one write: {batch:?}");
    assert_eq!(tags(&batch[0]), b"PBDESPBDES");
    assert_eq!(
        batch[0],
        [unnamed_job(ECHO, 7), unnamed_job(SERIES, 3)].concat()
    );

    // A failure in one group ends that group only: the other job's answer is whole.
    server.fail(Failure::division_by_zero(SERIES, 1));
    let (series, echo) = within("the batch with a failure", async {
        tokio::join!(pool.query(SERIES, &[&3i32]), pool.query(ECHO, &[&8i32]))
    })
    .await;
    let err = series.expect_err("the scripted division by zero");
    assert_eq!(err.code(), Some(&SqlState::DIVISION_BY_ZERO), "{err}");
    assert_eq!(ints(&echo.expect("echo")), [8]);
    let batch = take(&reads);
    assert_eq!(batch.len(), 1, "one write: {batch:?}");
    assert_eq!(
        batch[0],
        [unnamed_job(SERIES, 3), unnamed_job(ECHO, 8)].concat()
    );

    // Nothing named was ever prepared on the server.
    let stats = server.stats();
    assert!(stats.statements.is_empty(), "{:?}", stats.statements);
    assert_eq!(stats.errors_sent, ["22012"]);
    pool.close().await;
}
