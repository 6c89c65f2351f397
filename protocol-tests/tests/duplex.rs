//! `Connection` end to end over an in-memory `tokio::io::duplex`, against a SCRIPTED server
//! (`protocol_tests::scripted`): a fake, NOT PostgreSQL, for what a real server will not do on
//! demand: replies written one byte at a time or split at every offset, futures dropped at
//! every await point with the server's replies arriving at exact moments, a given statement
//! failing in a given phase, wrong messages in place of the right ones, the stream dropped
//! at every byte of a reply. The live suite (`live_*.rs`) covers real behaviour. No
//! PostgreSQL server is needed (no `TUSK_PG_*` variables are read).
//!
//! Every test checks concrete values and, unless the connection is expected to be broken,
//! that it still answers a query afterwards.
//!
//! Two bugs were found this way, and their tests are now regression tests: a call dropped
//! between writing the Parse of a named statement and reading its description leaked the
//! statement on the server (`LEAK`; now closed by the next request), and a `Transaction`
//! dropped while an extended-protocol group that the server fails was still open hung the
//! next call, because its ROLLBACK went out as a simple Query inside that group, where the
//! server skips it (a Query now closes an open group with Sync first).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use protocol_tests::errors::{expect_code, expect_db, expect_message};
use protocol_tests::scripted::{
    self, Failure, Fault, Phase, Script, ScriptedServer, WriteMode, BACKEND_PID,
};
use protocol_tests::wire;
use tusk::types::Type;
use tusk::{Config, Connection, Error, Kind, SimpleQueryMessage, SqlState, TransactionStatus};

/// Every await on the connection gets this long: a hang fails the test instead of stalling it.
const LIMIT: Duration = Duration::from_secs(20);

/// The one-parameter query most tests use: the server echoes `$1`.
const ECHO: &str = "SELECT $1::int4";

/// Rows 1 to `$1`.
const SERIES: &str = "SELECT generate_series(1, $1)";

/// [`SERIES`] with the parameter written in, for the simple protocol.
const SERIES_5: &str = "SELECT generate_series(1, 5)";

/// COPY into and out of the scripted server's one table (rows `1`, `2`, `3` at first).
const COPY_IN: &str = "COPY t FROM STDIN";
const COPY_OUT: &str = "COPY t TO STDOUT";

/// A query the server fails (see [`Failure::undefined_table`]).
const MISSING: &str = "SELECT x FROM missing";

async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

fn config() -> Config {
    // The host and port are only where a cancel request would go; passfile points nowhere so
    // no ~/.pgpass is read.
    "host=127.0.0.1 port=5432 user=alice dbname=fake passfile=/nonexistent/pgpass"
        .parse()
        .unwrap()
}

async fn connect(script: Script) -> (Connection, ScriptedServer) {
    connect_with(config(), script).await
}

async fn connect_with(config: Config, script: Script) -> (Connection, ScriptedServer) {
    let (server, stream) = ScriptedServer::start(script);
    let conn = within("connect_raw", config.connect_raw(stream))
        .await
        .unwrap_or_else(|e| panic!("connect_raw failed: {e}"));
    (conn, server)
}

/// The client's end of the duplex, recording the size of every read that returned data: the
/// proof that the server's split writes reach the connection as split reads.
struct Recorder {
    inner: DuplexStream,
    reads: Arc<Mutex<Vec<usize>>>,
}

impl AsyncRead for Recorder {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            this.reads.lock().unwrap().push(n);
        }
        result
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// [`connect`] through a [`Recorder`]; also returns the sizes of the connection's reads.
async fn connect_recorded(script: Script) -> (Connection, ScriptedServer, Arc<Mutex<Vec<usize>>>) {
    let (server, inner) = ScriptedServer::start(script);
    let reads = Arc::new(Mutex::new(Vec::new()));
    let stream = Recorder {
        inner,
        reads: reads.clone(),
    };
    let conn = within("connect_raw", config().connect_raw(stream))
        .await
        .unwrap_or_else(|e| panic!("connect_raw failed: {e}"));
    (conn, server, reads)
}

fn mode(write_mode: WriteMode) -> Script {
    Script {
        write_mode,
        ..Script::default()
    }
}

/// Checks that the connection answers `SELECT $1::int4` with `value` and is idle.
async fn check(conn: &mut Connection, value: i32) {
    assert!(!conn.is_closed(), "the connection is marked closed");
    let row = within("the check query", conn.query_one(ECHO, &[&value]))
        .await
        .unwrap_or_else(|e| panic!("the check query failed: {e}"));
    assert_eq!(row.get::<_, i32>(0), value);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

/// Closes the connection and checks that the server saw a clean end and no error of its own
/// other than `expected_errors`.
async fn finish(conn: Connection, server: ScriptedServer, expected_errors: &[&str]) {
    let stats = server.stats();
    assert_eq!(
        stats.errors_sent,
        expected_errors,
        "the server raised errors (frontend tags: {:?})",
        String::from_utf8_lossy(&stats.received)
    );
    within("close", conn.close()).await.unwrap();
    within("the server", server.finish()).await.unwrap();
}

fn rows_of(rows: &[tusk::Row]) -> Vec<i32> {
    rows.iter().map(|r| r.get::<_, i32>(0)).collect()
}

/// Every value of a stream, or its first error.
async fn collect_stream(stream: &mut tusk::RowStream<'_>) -> Result<Vec<i32>, Error> {
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await? {
        out.push(row.get::<_, i32>(0));
    }
    Ok(out)
}

fn simple_rows(messages: &[SimpleQueryMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match m {
            SimpleQueryMessage::Row(row) => format!("row {}", row.get(0).unwrap_or("NULL")),
            SimpleQueryMessage::CommandComplete { tag, rows } => format!("{tag} ({rows:?})"),
            other => format!("{other:?}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// a. Every operation, replies written whole.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn startup_over_a_duplex_reports_the_servers_parameters() {
    let (conn, server) = connect(Script::default()).await;
    assert_eq!(conn.parameter("server_version"), Some("15.0"));
    assert_eq!(conn.parameter("server_encoding"), Some("UTF8"));
    assert_eq!(conn.parameter("client_encoding"), Some("UTF8"));
    assert_eq!(conn.parameter("DateStyle"), Some("ISO"));
    assert_eq!(conn.parameter("integer_datetimes"), Some("on"));
    assert_eq!(conn.parameter("TimeZone"), Some("UTC"));
    assert_eq!(conn.backend_pid(), Some(BACKEND_PID));
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    let params = server.stats().startup_params;
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("user"), Some("alice"));
    assert_eq!(get("database"), Some("fake"));
    assert_eq!(get("client_encoding"), Some("UTF8"));
    finish(conn, server, &[]).await;
}

#[tokio::test]
async fn every_operation_works_over_a_duplex() {
    let (mut conn, server) = connect(Script::default()).await;

    // query: Parse/Describe/Flush, then Bind/Execute/Sync; the value comes back in binary.
    let rows = within("query", conn.query(ECHO, &[&5i32])).await.unwrap();
    assert_eq!(rows_of(&rows), [5]);
    assert_eq!(rows[0].columns()[0].name(), "x");
    assert_eq!(rows[0].columns()[0].type_(), &Type::INT4);
    assert_eq!(rows[0].raw(0), Some(&5i32.to_be_bytes()[..]));

    // query_one with a literal; query_opt; the cached statement a second time.
    let row = within("query_one", conn.query_one("SELECT 42", &[]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    let row = within("query_opt", conn.query_opt(ECHO, &[&-6i32]))
        .await
        .unwrap();
    assert_eq!(row.map(|r| r.get::<_, i32>(0)), Some(-6));
    let none = within("query_opt", conn.query_opt(SERIES, &[&0i32]))
        .await
        .unwrap();
    assert!(none.is_none());
    let err = within("query_one", conn.query_one(SERIES, &[&3i32]))
        .await
        .unwrap_err();
    expect_message(&err, Kind::RowCount, "the query returned 3");

    // execute: the count from the command tag.
    let n = within(
        "execute",
        conn.execute("INSERT INTO t VALUES ($1)", &[&1i32]),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let n = within("execute", conn.execute(SERIES, &[&4i32]))
        .await
        .unwrap();
    assert_eq!(n, 4);

    // prepare: the server's description, then the statement run twice.
    let stmt = within("prepare", conn.prepare("SELECT $1::int4 AS y"))
        .await
        .unwrap();
    assert_eq!(stmt.params(), &[Type::INT4]);
    assert_eq!(stmt.columns().len(), 1);
    assert_eq!(stmt.columns()[0].name(), "x");
    for v in [9i32, i32::MIN] {
        let row = within("query_one", conn.query_one(&stmt, &[&v]))
            .await
            .unwrap();
        assert_eq!(row.get::<_, i32>(0), v);
    }
    let insert = within("prepare", conn.prepare("INSERT INTO t VALUES ($1)"))
        .await
        .unwrap();
    assert!(insert.columns().is_empty());

    // simple_query: text values and the command tag.
    let messages = within(
        "simple_query",
        conn.simple_query("SELECT 3; INSERT INTO t VALUES (2)"),
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&messages),
        ["row 3", "SELECT 1 (Some(1))", "INSERT 0 1 (Some(1))"]
    );
    let messages = within(
        "simple_query",
        conn.simple_query("SELECT generate_series(1, 3)"),
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&messages),
        ["row 1", "row 2", "row 3", "SELECT 3 (Some(3))"]
    );
    if let SimpleQueryMessage::Row(row) = &messages[0] {
        assert_eq!(row.columns(), ["x"]);
    }

    // batch_execute, with BEGIN/COMMIT as plain SQL moving the transaction status.
    within(
        "batch_execute",
        conn.batch_execute("BEGIN; INSERT INTO t VALUES (3)"),
    )
    .await
    .unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::InTransaction);
    within("batch_execute", conn.batch_execute("COMMIT"))
        .await
        .unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    // pipeline: one Sync group, then one per statement.
    let (one, two, three) = (1i32, 2i32, 3i32);
    let mut pipeline = conn.pipeline();
    pipeline.query(ECHO, &[&one]);
    pipeline.query("SELECT $1::int4 AS other", &[&two]);
    pipeline.execute("INSERT INTO t VALUES ($1)", &[&three]);
    pipeline.query(SERIES, &[&three]);
    let results = within("pipeline", pipeline.run()).await.unwrap();
    let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(rows_of(results[0].rows()), [1]);
    assert_eq!(rows_of(results[1].rows()), [2]);
    assert!(results[2].rows().is_empty());
    assert_eq!(results[2].rows_affected(), Some(1));
    assert!(results[2].columns().is_empty());
    assert_eq!(rows_of(results[3].rows()), [1, 2, 3]);
    let mut pipeline = conn.pipeline().sync_each(true);
    pipeline.query(ECHO, &[&two]);
    pipeline.query(MISSING, &[]);
    pipeline.query(ECHO, &[&three]);
    server.fail(Failure::undefined_table(MISSING, "missing"));
    let results = within("pipeline", pipeline.run()).await.unwrap();
    assert_eq!(rows_of(results[0].as_ref().unwrap().rows()), [2]);
    expect_db(results[1].as_ref().unwrap_err(), &SqlState::UNDEFINED_TABLE);
    assert_eq!(rows_of(results[2].as_ref().unwrap().rows()), [3]);

    // transaction: BEGIN and COMMIT via the simple protocol.
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    let row = within("query_one", tx.query_one(ECHO, &[&11i32]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 11);
    within("commit", tx.commit()).await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    let tx = within("transaction", conn.transaction()).await.unwrap();
    within("rollback", tx.rollback()).await.unwrap();
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);

    // query_stream: batches of 2 (PortalSuspended twice, then the rest), and the default.
    let mut stream = within(
        "query_stream_batched",
        conn.query_stream_batched(SERIES, &[&5i32], 2),
    )
    .await
    .unwrap();
    assert_eq!(
        within("the stream", collect_stream(&mut stream))
            .await
            .unwrap(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(stream.rows_affected(), Some(5));
    drop(stream);
    let mut stream = within("query_stream", conn.query_stream(SERIES, &[&3i32]))
        .await
        .unwrap();
    assert_eq!(
        within("the stream", collect_stream(&mut stream))
            .await
            .unwrap(),
        [1, 2, 3]
    );
    assert_eq!(stream.rows_affected(), Some(3));
    drop(stream);

    check(&mut conn, 8).await;
    finish(conn, server, &["42P01"]).await;
}

#[tokio::test]
async fn asynchronous_messages_between_replies_are_absorbed() {
    let (mut conn, server) = connect(Script::default()).await;
    let mut notification = 99i32.to_be_bytes().to_vec();
    notification.extend_from_slice(b"jobs\0hello\0");
    let interleaved = [
        wire::parameter_status("TimeZone", "Europe/Paris"),
        wire::fields(
            b'N',
            &[
                (b'S', "NOTICE"),
                (b'C', "00000"),
                (b'M', "just so you know"),
            ],
        ),
        wire::msg(b'A', &notification),
    ]
    .concat();
    // Before the replies to Describe, to Execute, and to a simple Query.
    server.inject(Fault::ReplyBefore {
        tag: b'D',
        bytes: interleaved.clone(),
    });
    server.inject(Fault::ReplyBefore {
        tag: b'E',
        bytes: interleaved.clone(),
    });
    server.inject(Fault::ReplyBefore {
        tag: b'Q',
        bytes: interleaved,
    });
    let row = within("query_one", conn.query_one(ECHO, &[&4i32]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 4);
    let messages = within("simple_query", conn.simple_query("SELECT 6"))
        .await
        .unwrap();
    assert_eq!(simple_rows(&messages), ["row 6", "SELECT 1 (Some(1))"]);
    assert_eq!(conn.parameter("TimeZone"), Some("Europe/Paris"));
    let notifications = conn.take_notifications();
    assert_eq!(notifications.len(), 3);
    assert!(notifications
        .iter()
        .all(|n| n.channel == "jobs" && n.payload == "hello" && n.process_id == 99));
    check(&mut conn, 8).await;
    finish(conn, server, &[]).await;
}

// ---------------------------------------------------------------------------------------
// b. The same session with the replies written byte by byte and split at every offset.
// ---------------------------------------------------------------------------------------

/// Connects, runs a fixed set of calls and checks their results; returns how many bytes the
/// server wrote in all and the sizes of the connection's reads.
async fn scripted_session(script: Script) -> (usize, Vec<usize>) {
    let label = format!("{:?}", script.write_mode);
    let (mut conn, server, reads) = connect_recorded(script).await;
    assert_eq!(conn.parameter("TimeZone"), Some("UTC"), "{label}");
    assert_eq!(conn.backend_pid(), Some(BACKEND_PID), "{label}");
    // The first time through Parse/Describe, the second from the statement cache.
    for v in [7i32, 8] {
        let row = within(&label, conn.query_one(ECHO, &[&v]))
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(row.get::<_, i32>(0), v, "{label}");
    }
    let messages = within(&label, conn.simple_query("SELECT 3"))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(
        simple_rows(&messages),
        ["row 3", "SELECT 1 (Some(1))"],
        "{label}"
    );
    let mut stream = within(&label, conn.query_stream_batched(SERIES, &[&3i32], 2))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let values = within(&label, collect_stream(&mut stream))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(values, [1, 2, 3], "{label}");
    drop(stream);
    let total = server.bytes_written();
    finish(conn, server, &[]).await;
    let reads = reads.lock().unwrap().clone();
    assert_eq!(reads.iter().sum::<usize>(), total, "{label}");
    (total, reads)
}

#[tokio::test]
async fn replies_written_one_byte_at_a_time() {
    let (whole, _) = scripted_session(mode(WriteMode::Whole)).await;
    let (bytes, reads) = scripted_session(mode(WriteMode::ByteByByte)).await;
    assert_eq!(whole, bytes);
    // Every byte reached the connection in a read of its own.
    assert_eq!(reads.len(), bytes);
    let big: Vec<(usize, usize)> = reads
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n != 1)
        .collect();
    assert!(big.is_empty(), "{big:?} of {}", reads.len());
}

#[tokio::test]
async fn replies_split_at_every_offset() {
    let (len, _) = scripted_session(mode(WriteMode::Whole)).await;
    assert!(len > 200, "the session wrote only {len} bytes");
    for k in 0..len {
        let (written, reads) = scripted_session(mode(WriteMode::SplitAt(k))).await;
        assert_eq!(written, len, "split at {k}");
        // One read ended exactly at byte k: the connection saw the split.
        let ends: Vec<usize> = reads
            .iter()
            .scan(0, |at, n| {
                *at += n;
                Some(*at)
            })
            .collect();
        assert!(k == 0 || ends.contains(&k), "split at {k}: reads {reads:?}");
    }
}

// ---------------------------------------------------------------------------------------
// c. Futures dropped at every await point.
// ---------------------------------------------------------------------------------------

/// Polls `fut` up to `polls` times, yielding to the runtime (so the server task runs) between
/// polls; its output if it finished. The future is dropped on return either way.
async fn poll_at_most<F: Future>(fut: F, polls: usize) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..polls {
        let step = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
        if let Poll::Ready(out) = step {
            return Some(out);
        }
        tokio::task::yield_now().await;
    }
    None
}

type OpFuture<'a> = Pin<Box<dyn Future<Output = Result<String, Error>> + 'a>>;

/// An operation under test, rendering its result as text for comparison.
type Op = for<'a> fn(&'a mut Connection) -> OpFuture<'a>;

fn op_query_one(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let row = c.query_one(ECHO, &[&7i32]).await?;
        Ok(row.get::<_, i32>(0).to_string())
    })
}

fn op_execute(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let n = c.execute("INSERT INTO t VALUES ($1)", &[&7i32]).await?;
        Ok(n.to_string())
    })
}

fn op_prepare(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let stmt = c.prepare("SELECT $1::int4 AS p").await?;
        Ok(format!("{:?} {}", stmt.params(), stmt.columns()[0].name()))
    })
}

fn op_simple_query(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let messages = c.simple_query("SELECT 7").await?;
        Ok(simple_rows(&messages).join(", "))
    })
}

fn op_transaction(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut tx = c.transaction().await?;
        let row = tx.query_one(ECHO, &[&7i32]).await?;
        tx.commit().await?;
        Ok(row.get::<_, i32>(0).to_string())
    })
}

fn op_pipeline(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let (a, b) = (7i32, 3i32);
        let mut pipeline = c.pipeline();
        pipeline.query(ECHO, &[&a]);
        pipeline.query(SERIES, &[&b]);
        let mut out = Vec::new();
        for result in pipeline.run().await? {
            out.push(format!("{:?}", rows_of(result?.rows())));
        }
        Ok(out.join(" "))
    })
}

fn op_query_stream(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut stream = c.query_stream_batched(SERIES, &[&5i32], 2).await?;
        let values = collect_stream(&mut stream).await?;
        Ok(format!("{values:?} {:?}", stream.rows_affected()))
    })
}

fn op_copy_in(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut copy = c.copy_in(COPY_IN).await?;
        copy.send("4\n5\n").await?;
        copy.send(b"6\n").await?;
        Ok(copy.finish().await?.to_string())
    })
}

fn op_copy_out(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut copy = c.copy_out(COPY_OUT).await?;
        let mut data = Vec::new();
        while let Some(chunk) = copy.next_chunk().await? {
            data.extend_from_slice(&chunk);
        }
        Ok(format!(
            "{:?} {:?}",
            String::from_utf8_lossy(&data),
            copy.rows()
        ))
    })
}

/// A COPY FROM STDIN through `query`, which cannot run one: refused on the wire.
fn op_unwanted_copy(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        match c.query(COPY_IN, &[]).await {
            Ok(rows) => Ok(format!("{} rows", rows.len())),
            Err(e) => Ok(format!("{:?}: {e}", e.kind())),
        }
    })
}

/// A query the server fails at Parse.
fn op_failing_query(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        match c.query(MISSING, &[]).await {
            Ok(rows) => Ok(format!("{} rows", rows.len())),
            Err(e) => Ok(format!("{:?} {:?}", e.kind(), e.code().map(|c| c.code()))),
        }
    })
}

/// A stream the server fails at Execute after two rows (see [`fail_series`]).
fn op_failing_stream(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut stream = c.query_stream_batched(SERIES, &[&5i32], 1).await?;
        let mut values = Vec::new();
        let end = loop {
            match stream.try_next().await {
                Ok(Some(row)) => values.push(row.get::<_, i32>(0)),
                Ok(None) => break "end".to_owned(),
                Err(e) => break format!("{:?} {:?}", e.kind(), e.code().map(|c| c.code())),
            }
        };
        Ok(format!("{values:?} {end}"))
    })
}

/// A transaction whose second statement fails: commit reports the aborted transaction.
fn op_failing_transaction(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut tx = c.transaction().await?;
        let row = tx.query_one(ECHO, &[&7i32]).await?;
        let failed = tx.query(MISSING, &[]).await.unwrap_err();
        let status = tx.transaction_status();
        let commit = tx.commit().await.unwrap_err();
        Ok(format!(
            "{} {:?} {status:?} {:?}",
            row.get::<_, i32>(0),
            failed.code().map(|c| c.code()),
            commit.code().map(|c| c.code())
        ))
    })
}

/// A savepoint inside a transaction, both committed.
fn op_savepoint(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut tx = c.transaction().await?;
        let mut sp = tx.transaction().await?;
        let name = sp
            .savepoint_name()
            .unwrap_or_default()
            .starts_with("tusk_sp_");
        let row = sp.query_one(ECHO, &[&7i32]).await?;
        sp.commit().await?;
        tx.commit().await?;
        Ok(format!("{} {name}", row.get::<_, i32>(0)))
    })
}

fn no_setup(_: &ScriptedServer) {}

fn fail_missing(server: &ScriptedServer) {
    server.fail(Failure::undefined_table(MISSING, "missing"));
}

fn fail_series(server: &ScriptedServer) {
    server.fail(Failure::division_by_zero(SERIES, 2));
}

/// An operation, what it must return when it runs to the end, and the SQLSTATEs the server
/// may raise when it is dropped part-way.
struct Case {
    name: &'static str,
    op: Op,
    expected: &'static str,
    allowed_errors: &'static [&'static str],
    /// Run on each new server.
    setup: fn(&ScriptedServer),
}

const UNWANTED_COPY: &str =
    "Usage: invalid use: COPY cannot run through execute or query: use copy_in / \
     copy_out: ERROR 57014: COPY from stdin failed: COPY FROM STDIN cannot run here: use \
     copy_in (a COPY needs its own call)";

const CASES: [Case; 14] = [
    Case {
        name: "query_one",
        op: op_query_one,
        expected: "7",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "execute",
        op: op_execute,
        expected: "1",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "prepare",
        op: op_prepare,
        expected: "[Type(int4, oid 23)] x",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "simple_query",
        op: op_simple_query,
        expected: "row 7, SELECT 1 (Some(1))",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "transaction",
        op: op_transaction,
        expected: "7",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "pipeline",
        op: op_pipeline,
        expected: "[7] [1, 2, 3]",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "query_stream",
        op: op_query_stream,
        expected: "[1, 2, 3, 4, 5] Some(5)",
        allowed_errors: &[],
        setup: no_setup,
    },
    // A copy abandoned before CopyDone is failed with CopyFail: 57014.
    Case {
        name: "copy_in",
        op: op_copy_in,
        expected: "3",
        allowed_errors: &["57014"],
        setup: no_setup,
    },
    Case {
        name: "copy_out",
        op: op_copy_out,
        expected: "\"1\\n2\\n3\\n\" Some(3)",
        allowed_errors: &[],
        setup: no_setup,
    },
    Case {
        name: "unwanted COPY FROM STDIN",
        op: op_unwanted_copy,
        expected: UNWANTED_COPY,
        allowed_errors: &["57014"],
        setup: no_setup,
    },
    Case {
        name: "failing query",
        op: op_failing_query,
        expected: "Db Some(\"42P01\")",
        allowed_errors: &["42P01"],
        setup: fail_missing,
    },
    Case {
        name: "failing stream",
        op: op_failing_stream,
        expected: "[1, 2] Db Some(\"22012\")",
        allowed_errors: &["22012"],
        setup: fail_series,
    },
    Case {
        name: "failing transaction",
        op: op_failing_transaction,
        expected: "7 Some(\"42P01\") Failed Some(\"25P02\")",
        allowed_errors: &["42P01"],
        setup: fail_missing,
    },
    Case {
        name: "savepoint",
        op: op_savepoint,
        expected: "7 true",
        allowed_errors: &[],
        setup: no_setup,
    },
];

/// The largest number of polls any operation may need (byte-by-byte replies).
const MAX_POLLS: usize = 5_000;

/// Checks the outcome of a run that finished.
fn check_outcome(case: &Case, mode: WriteMode, outcome: &Result<String, Error>) {
    let name = case.name;
    let result = outcome
        .as_ref()
        .unwrap_or_else(|e| panic!("{name} ({mode:?}) failed: {e}"));
    assert_eq!(result, case.expected, "{name} ({mode:?})");
}

/// Closes the connection; the server may have raised only the allowed errors.
async fn finish_allowing(conn: Connection, server: ScriptedServer, case: &Case) {
    let errors = server.stats().errors_sent;
    assert!(
        errors
            .iter()
            .all(|e| case.allowed_errors.contains(&e.as_str())),
        "{}: the server raised {errors:?}",
        case.name
    );
    within("close", conn.close()).await.unwrap();
    within("the server", server.finish()).await.unwrap();
}

/// For n = 0, 1, 2, ...: a fresh connection, the operation polled exactly n times and
/// dropped, then a query that must return the right value on a clean, idle connection; until
/// the operation finishes within n polls (whose result is checked too). Returns that n.
async fn drop_on_fresh_connections(case: &Case, mode: WriteMode, config: &Config) -> usize {
    for n in 0..MAX_POLLS {
        let (mut conn, server) = connect_with(config.clone(), self::mode(mode)).await;
        (case.setup)(&server);
        let outcome = within(case.name, poll_at_most((case.op)(&mut conn), n)).await;
        if let Some(outcome) = &outcome {
            check_outcome(case, mode, outcome);
        }
        check(&mut conn, 8 + n as i32).await;
        finish_allowing(conn, server, case).await;
        if outcome.is_some() {
            return n;
        }
    }
    panic!(
        "{} ({mode:?}) did not finish within {MAX_POLLS} polls",
        case.name
    );
}

/// The same on one connection, warmed up by a first complete run (so the statement cache is
/// in play), with a check after each drop.
async fn drop_on_one_connection(case: &Case, mode: WriteMode, config: &Config) -> usize {
    let (mut conn, server) = connect_with(config.clone(), self::mode(mode)).await;
    (case.setup)(&server);
    let warm = within(case.name, (case.op)(&mut conn)).await;
    check_outcome(case, mode, &warm);
    for n in 0..MAX_POLLS {
        let outcome = within(case.name, poll_at_most((case.op)(&mut conn), n)).await;
        if let Some(outcome) = &outcome {
            check_outcome(case, mode, outcome);
        }
        check(&mut conn, -(n as i32)).await;
        if outcome.is_some() {
            finish_allowing(conn, server, case).await;
            return n;
        }
    }
    panic!(
        "{} ({mode:?}) did not finish within {MAX_POLLS} polls",
        case.name
    );
}

/// Both ways, with replies written whole and byte by byte, with the statement cache on and
/// off (unnamed statements).
async fn drop_at_every_await(index: usize) {
    let case = &CASES[index];
    for config in [config(), config().statement_cache_capacity(0)] {
        for write_mode in [WriteMode::Whole, WriteMode::ByteByByte] {
            let fresh = drop_on_fresh_connections(case, write_mode, &config).await;
            let warm = drop_on_one_connection(case, write_mode, &config).await;
            assert!(fresh >= 1 && warm >= 1, "{}: {fresh} {warm}", case.name);
        }
    }
}

#[tokio::test]
async fn query_one_dropped_at_every_await() {
    drop_at_every_await(0).await;
}

#[tokio::test]
async fn execute_dropped_at_every_await() {
    drop_at_every_await(1).await;
}

#[tokio::test]
async fn prepare_dropped_at_every_await() {
    drop_at_every_await(2).await;
}

#[tokio::test]
async fn simple_query_dropped_at_every_await() {
    drop_at_every_await(3).await;
}

#[tokio::test]
async fn transaction_dropped_at_every_await() {
    drop_at_every_await(4).await;
}

#[tokio::test]
async fn pipeline_dropped_at_every_await() {
    drop_at_every_await(5).await;
}

#[tokio::test]
async fn query_stream_dropped_at_every_await() {
    drop_at_every_await(6).await;
}

#[tokio::test]
async fn copy_in_dropped_at_every_await() {
    drop_at_every_await(7).await;
}

#[tokio::test]
async fn copy_out_dropped_at_every_await() {
    drop_at_every_await(8).await;
}

#[tokio::test]
async fn an_unwanted_copy_dropped_at_every_await() {
    drop_at_every_await(9).await;
}

#[tokio::test]
async fn a_failing_query_dropped_at_every_await() {
    drop_at_every_await(10).await;
}

#[tokio::test]
async fn a_failing_stream_dropped_at_every_await() {
    drop_at_every_await(11).await;
}

#[tokio::test]
async fn a_failing_transaction_dropped_at_every_await() {
    drop_at_every_await(12).await;
}

#[tokio::test]
async fn a_savepoint_dropped_at_every_await() {
    drop_at_every_await(13).await;
}

// ---------------------------------------------------------------------------------------
// d. Errors: the server's (in every phase), and protocol violations.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_parse_error_reaches_every_caller_and_the_connection_goes_on() {
    let (mut conn, server) = connect(Script {
        failures: vec![Failure::undefined_table(MISSING, "missing")],
        ..Script::default()
    })
    .await;
    let mut raised = 0;
    let mut check_err = |err: &Error| {
        expect_db(err, &SqlState::UNDEFINED_TABLE);
        assert_eq!(
            err.as_db_error().unwrap().message,
            "relation \"missing\" does not exist"
        );
        raised += 1;
    };

    check_err(&within("query", conn.query(MISSING, &[])).await.unwrap_err());
    check(&mut conn, 1).await;
    check_err(
        &within("query_one", conn.query_one(MISSING, &[]))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 2).await;
    check_err(
        &within("execute", conn.execute(MISSING, &[]))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 3).await;
    check_err(&within("prepare", conn.prepare(MISSING)).await.unwrap_err());
    check(&mut conn, 4).await;
    check_err(
        &within("query_stream", conn.query_stream(MISSING, &[]))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 5).await;
    check_err(
        &within("simple_query", conn.simple_query(MISSING))
            .await
            .unwrap_err(),
    );
    check(&mut conn, 6).await;
    check_err(
        &within(
            "batch_execute",
            conn.batch_execute(&format!("SELECT 1; {MISSING}")),
        )
        .await
        .unwrap_err(),
    );
    check(&mut conn, 7).await;
    let mut pipeline = conn.pipeline();
    pipeline.query(MISSING, &[]);
    pipeline.query(ECHO, &[&5i32]);
    let results = within("pipeline", pipeline.run()).await.unwrap();
    check_err(results[0].as_ref().unwrap_err());
    assert_eq!(rows_of(results[1].as_ref().unwrap().rows()), [5]);
    check(&mut conn, 8).await;
    assert_eq!(raised, 8);
    finish(conn, server, &["42P01"; 8]).await;
}

#[tokio::test]
async fn errors_at_bind_and_execute_reach_the_caller_and_the_connection_goes_on() {
    for phase in [Phase::Parse, Phase::Bind, Phase::Execute] {
        let (mut conn, server) = connect(Script::default()).await;
        // Rows 1 and 2 are sent before an Execute-phase error.
        server.fail(Failure::division_by_zero(SERIES, 2).in_phase(phase));
        server.fail(Failure::division_by_zero(SERIES_5, 2).in_phase(phase));
        let err = within("query", conn.query(SERIES, &[&5i32]))
            .await
            .unwrap_err();
        expect_db(&err, &SqlState::DIVISION_BY_ZERO);
        check(&mut conn, 1).await;

        let stream = within(
            "query_stream",
            conn.query_stream_batched(SERIES, &[&5i32], 1),
        )
        .await;
        match (phase, stream) {
            (Phase::Execute, Ok(mut stream)) => {
                let mut values = Vec::new();
                let err = loop {
                    match within("the stream", stream.try_next()).await {
                        Ok(Some(row)) => values.push(row.get::<_, i32>(0)),
                        Ok(None) => panic!("the stream ended without the error"),
                        Err(e) => break e,
                    }
                };
                assert_eq!(values, [1, 2]);
                expect_db(&err, &SqlState::DIVISION_BY_ZERO);
                assert!(within("the stream", stream.try_next())
                    .await
                    .unwrap()
                    .is_none());
            }
            (_, Err(err)) if phase != Phase::Execute => {
                expect_db(&err, &SqlState::DIVISION_BY_ZERO)
            }
            (_, other) => panic!("{phase:?}: {other:?}"),
        }
        check(&mut conn, 2).await;

        // In a simple query every phase fails the statement (an Execute-phase error after
        // the RowDescription and the first rows).
        let err = within("simple_query", conn.simple_query(SERIES_5))
            .await
            .unwrap_err();
        expect_db(&err, &SqlState::DIVISION_BY_ZERO);
        check(&mut conn, 3).await;

        let stmt = within("prepare", conn.prepare(SERIES)).await;
        match (phase, stmt) {
            (Phase::Parse, Err(err)) => expect_db(&err, &SqlState::DIVISION_BY_ZERO),
            (Phase::Bind | Phase::Execute, Ok(stmt)) => {
                let err = within("query", conn.query(&stmt, &[&5i32]))
                    .await
                    .unwrap_err();
                expect_db(&err, &SqlState::DIVISION_BY_ZERO);
            }
            (_, other) => panic!("{phase:?}: {other:?}"),
        }
        check(&mut conn, 4).await;
        finish(conn, server, &["22012"; 4]).await;
    }
}

#[tokio::test]
async fn an_error_inside_a_transaction_fails_it_until_rollback() {
    let (mut conn, server) = connect(Script {
        failures: vec![Failure::undefined_table(MISSING, "missing")],
        ..Script::default()
    })
    .await;
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    let err = within("query", tx.query(MISSING, &[])).await.unwrap_err();
    expect_db(&err, &SqlState::UNDEFINED_TABLE);
    assert_eq!(tx.transaction_status(), TransactionStatus::Failed);
    // Refused locally: nothing is sent in a failed transaction.
    let sent = server.stats().received.len();
    let err = within("query_one", tx.query_one(ECHO, &[&1i32]))
        .await
        .unwrap_err();
    expect_code(&err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    assert_eq!(server.stats().received.len(), sent);
    // Commit rolls back and says so.
    let err = within("commit", tx.commit()).await.unwrap_err();
    expect_code(&err, &SqlState::IN_FAILED_SQL_TRANSACTION);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert_eq!(server.stats().transaction_status, b'I');
    check(&mut conn, 8).await;
    finish(conn, server, &["42P01"]).await;
}

/// A protocol violation: `fault` is injected, `op` must fail with a protocol error whose text
/// is `expected`, and the connection is closed afterwards.
async fn violation(fault: Fault, op: Op, expected: &str) {
    let (mut conn, server) = connect(Script::default()).await;
    server.inject(fault.clone());
    let err = within(expected, op(&mut conn)).await.unwrap_err();
    expect_message(&err, Kind::Protocol, expected);
    assert_eq!(err.to_string(), format!("protocol error: {expected}"));
    assert!(conn.is_closed(), "{fault:?}: the connection stays open");
    let again = within("the next call", conn.query_one(ECHO, &[&1i32]))
        .await
        .unwrap_err();
    assert!(again.is_closed(), "{again}");
    expect_message(&again, Kind::Closed, "the connection is closed");
    drop(conn);
    within("the server", server.finish()).await.unwrap();
}

#[tokio::test]
async fn bind_complete_in_answer_to_parse() {
    violation(
        Fault::ReplyInstead {
            tag: b'P',
            bytes: wire::msg(b'2', &[]),
        },
        op_query_one,
        "unexpected BindComplete message while waiting for ParseComplete",
    )
    .await;
}

#[tokio::test]
async fn row_description_without_parameter_description() {
    violation(
        Fault::ReplyInstead {
            tag: b'D',
            bytes: scripted::row_description("x", 0),
        },
        op_prepare,
        "unexpected RowDescription message while waiting for ParameterDescription",
    )
    .await;
}

#[tokio::test]
async fn data_row_before_row_description_in_a_simple_query() {
    violation(
        Fault::ReplyInstead {
            tag: b'Q',
            bytes: [
                scripted::data_row(Some(1), 0),
                scripted::command_complete("SELECT 1"),
                wire::ready(b'I'),
            ]
            .concat(),
        },
        op_simple_query,
        "unexpected DataRow message while waiting for a simple query's next result or \
         ReadyForQuery",
    )
    .await;
}

#[tokio::test]
async fn ready_for_query_in_place_of_the_rows() {
    violation(
        Fault::ReplyInstead {
            tag: b'E',
            bytes: wire::ready(b'I'),
        },
        op_query_one,
        "unexpected ReadyForQuery message while waiting for DataRow, CommandComplete, \
         EmptyQueryResponse or PortalSuspended",
    )
    .await;
}

#[tokio::test]
async fn a_stray_close_complete_before_ready_for_query() {
    violation(
        Fault::ReplyBefore {
            tag: b'S',
            bytes: wire::msg(b'3', &[]),
        },
        op_execute,
        "unexpected CloseComplete message while waiting for ReadyForQuery",
    )
    .await;
}

#[tokio::test]
async fn a_row_after_the_end_of_a_streamed_result() {
    // The stream's Sync comes after the result ended: a DataRow before its ReadyForQuery.
    violation(
        Fault::ReplyBefore {
            tag: b'S',
            bytes: scripted::data_row(Some(6), 1),
        },
        op_query_stream,
        "unexpected DataRow message while waiting for ReadyForQuery",
    )
    .await;
}

#[tokio::test]
async fn a_reply_nobody_asked_for_is_refused_by_the_next_call() {
    let (mut conn, server) = connect(Script::default()).await;
    // A ParseComplete after the ReadyForQuery that ends the first query.
    server.inject(Fault::ReplyInstead {
        tag: b'S',
        bytes: [wire::ready(b'I'), wire::msg(b'1', &[])].concat(),
    });
    let row = within("query_one", conn.query_one(ECHO, &[&3i32]))
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 3);
    let err = within("query_one", conn.query_one(ECHO, &[&4i32]))
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "unexpected ParseComplete message while waiting for BindComplete",
    );
    assert!(conn.is_closed());
    drop(conn);
    within("the server", server.finish()).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// e. The server closing the stream in the middle of a reply.
// ---------------------------------------------------------------------------------------

/// For every byte `cut` of the replies to `op`: a fresh connection whose server drops the
/// stream after `cut` bytes of them. `op` must fail with a Closed or Io error (no panic, no
/// hang), the connection is closed, and the next call says so.
async fn cut_at_every_byte(name: &str, op: Op, expected: &str) {
    let (mut conn, server) = connect(Script::default()).await;
    let start = server.bytes_written();
    assert_eq!(within(name, op(&mut conn)).await.unwrap(), expected);
    let len = server.bytes_written() - start;
    finish(conn, server, &[]).await;
    for cut in 0..len {
        let (mut conn, server) = connect(Script::default()).await;
        server.close_after(start + cut);
        let err = match within(name, op(&mut conn)).await {
            Ok(v) => panic!("{name} cut at {cut}/{len}: returned {v}"),
            Err(e) => e,
        };
        assert!(
            matches!(err.kind(), Kind::Closed | Kind::Io) && err.is_closed(),
            "{name} cut at {cut}/{len}: {err} ({:?})",
            err.kind()
        );
        assert!(conn.is_closed(), "{name} cut at {cut}/{len}");
        let again = within("the next call", conn.query_one(ECHO, &[&1i32]))
            .await
            .unwrap_err();
        expect_message(&again, Kind::Closed, "the connection is closed");
        assert!(server.stats().closed_by_server);
        drop(conn);
        within("the server", server.finish()).await.unwrap();
    }
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_query() {
    cut_at_every_byte("query_one", op_query_one, "7").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_simple_query() {
    cut_at_every_byte("simple_query", op_simple_query, "row 7, SELECT 1 (Some(1))").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_row_stream() {
    cut_at_every_byte("query_stream", op_query_stream, "[1, 2, 3, 4, 5] Some(5)").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_transaction() {
    cut_at_every_byte("transaction", op_transaction, "7").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_pipeline() {
    cut_at_every_byte("pipeline", op_pipeline, "[7] [1, 2, 3]").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_copy_in() {
    cut_at_every_byte("copy_in", op_copy_in, "3").await;
}

#[tokio::test]
async fn stream_cut_at_every_byte_of_a_copy_out() {
    cut_at_every_byte("copy_out", op_copy_out, "\"1\\n2\\n3\\n\" Some(3)").await;
}

// ---------------------------------------------------------------------------------------
// COPY: the sub-protocol over the duplex, and a COPY nobody asked for.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn copy_in_and_copy_out_over_a_duplex() {
    let (mut conn, server) = connect(Script::default()).await;
    assert_eq!(within("copy_in", op_copy_in(&mut conn)).await.unwrap(), "3");
    assert_eq!(server.stats().table, ["1", "2", "3", "4", "5", "6"]);

    // Aborted: nothing of it is stored, the server's 57014 is consumed.
    let mut copy = within("copy_in", conn.copy_in(COPY_IN)).await.unwrap();
    within("send", copy.send("7\n")).await.unwrap();
    within("abort", copy.abort("changed my mind"))
        .await
        .unwrap();
    check(&mut conn, 1).await;
    // Dropped: the same, with the CopyFail written from Drop.
    let mut copy = within("copy_in", conn.copy_in(COPY_IN)).await.unwrap();
    within("send", copy.send("8\n")).await.unwrap();
    drop(copy);
    check(&mut conn, 2).await;
    assert_eq!(server.stats().table.len(), 6);

    assert_eq!(
        within("copy_out", op_copy_out(&mut conn)).await.unwrap(),
        "\"1\\n2\\n3\\n4\\n5\\n6\\n\" Some(6)"
    );
    // Dropped after the first chunk: the rest is drained by the next call.
    let mut copy = within("copy_out", conn.copy_out(COPY_OUT)).await.unwrap();
    let first = within("next_chunk", copy.next_chunk()).await.unwrap();
    assert_eq!(first.as_deref(), Some(&b"1\n"[..]));
    drop(copy);
    check(&mut conn, 3).await;

    // COPY TO STDOUT in a simple Query: its data is discarded, the server goes on with the
    // next statement, and the call reports the refusal.
    let messages = within(
        "simple_query",
        conn.simple_query("COPY t TO STDOUT; SELECT 5"),
    )
    .await
    .unwrap_err();
    expect_message(
        &messages,
        Kind::Usage,
        "COPY cannot run through simple_query or batch_execute",
    );
    check(&mut conn, 4).await;
    finish(conn, server, &["57014", "57014"]).await;
}

#[tokio::test]
async fn a_copy_nobody_asked_for_is_refused_on_the_wire() {
    let (mut conn, server) = connect(Script::default()).await;
    let copy_fails = |server: &ScriptedServer| {
        server
            .stats()
            .received
            .iter()
            .filter(|&&t| t == b'f')
            .count()
    };
    let refused = |err: &Error, call: &str| {
        expect_message(
            err,
            Kind::Usage,
            &format!("COPY cannot run through {call}: use copy_in / copy_out"),
        );
    };

    // Extended protocol: Bind/Execute/Sync written, so CopyFail and a new Sync follow (the
    // server ignores the Sync it got in copy-in mode).
    let err = within("query", conn.query(COPY_IN, &[])).await.unwrap_err();
    refused(&err, "execute or query");
    assert!(
        err.to_string()
            .contains("ERROR 57014: COPY from stdin failed"),
        "{err}"
    );
    assert_eq!(copy_fails(&server), 1);
    check(&mut conn, 1).await;
    let err = within("execute", conn.execute(COPY_IN, &[]))
        .await
        .unwrap_err();
    refused(&err, "execute or query");
    check(&mut conn, 2).await;

    // A stream's group has no Sync yet: CopyFail, then the Sync is written.
    let mut stream = within("query_stream", conn.query_stream(COPY_IN, &[]))
        .await
        .unwrap();
    let err = within("the stream", stream.try_next()).await.unwrap_err();
    refused(&err, "query_stream");
    assert!(within("the stream", stream.try_next())
        .await
        .unwrap()
        .is_none());
    drop(stream);
    check(&mut conn, 3).await;

    // Simple protocol: CopyFail; the statements after the COPY do not run.
    let err = within(
        "simple_query",
        conn.simple_query(&format!("{COPY_IN}; SELECT 1")),
    )
    .await
    .unwrap_err();
    refused(&err, "simple_query or batch_execute");
    check(&mut conn, 4).await;
    let err = within("batch_execute", conn.batch_execute(COPY_IN))
        .await
        .unwrap_err();
    refused(&err, "simple_query or batch_execute");
    check(&mut conn, 5).await;

    // One pipeline group: the next Bind aborts the COPY (08P01) and the rest of the group
    // is skipped.
    let mut pipeline = conn.pipeline();
    pipeline.query(COPY_IN, &[]);
    pipeline.query(ECHO, &[&6i32]);
    let results = within("pipeline", pipeline.run()).await.unwrap();
    let err = results[0].as_ref().unwrap_err();
    refused(err, "a pipeline");
    assert!(
        err.to_string()
            .contains("08P01: unexpected message type 0x42 during COPY from stdin"),
        "{err}"
    );
    expect_message(
        results[1].as_ref().unwrap_err(),
        Kind::Usage,
        "not run: an earlier statement in the same pipeline Sync group failed",
    );
    check(&mut conn, 6).await;

    // The wrong kind of COPY for copy_in / copy_out.
    let err = within("copy_out", conn.copy_out(COPY_IN))
        .await
        .unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_out needs a COPY ... TO STDOUT statement; this one is a COPY ... FROM STDIN \
         (use copy_in)",
    );
    check(&mut conn, 7).await;
    let err = within("copy_in", conn.copy_in(COPY_OUT)).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "copy_in needs a COPY ... FROM STDIN statement; this one is a COPY ... TO STDOUT \
         (use copy_out)",
    );
    check(&mut conn, 8).await;

    // COPY TO STDOUT through query: its data is let through and discarded.
    let err = within("query", conn.query(COPY_OUT, &[]))
        .await
        .unwrap_err();
    refused(&err, "execute or query");
    check(&mut conn, 9).await;

    assert_eq!(server.stats().table, ["1", "2", "3"], "nothing was stored");
    finish(
        conn,
        server,
        &[
            "57014", "57014", "57014", "57014", "57014", "08P01", "57014",
        ],
    )
    .await;
}

/// Documents a limit of the exchange (see `refuse_extended_copy_in`): a COPY FROM STDIN in
/// a pipeline with a Sync group after its own cannot be refused cleanly (the server ignores
/// the group's Sync in copy-in mode and would merge the groups), so the connection is given
/// up with a protocol error rather than left to hang.
#[tokio::test]
async fn a_copy_in_a_pipeline_of_several_sync_groups_ends_the_connection() {
    let (mut conn, server) = connect(Script::default()).await;
    let (a, b) = (1i32, 2i32);
    let mut pipeline = conn.pipeline().sync_each(true);
    pipeline.query(ECHO, &[&a]);
    pipeline.query(COPY_IN, &[]);
    pipeline.query(ECHO, &[&b]);
    let err = within("pipeline", pipeline.run()).await.unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "unexpected CopyInResponse message while waiting for no COPY FROM STDIN in a \
         pipeline of several Sync groups",
    );
    assert!(conn.is_closed());
    assert_eq!(server.stats().table, ["1", "2", "3"]);
    drop(conn);
    within("the server", server.finish()).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// Server-side statements left behind by dropped calls.
// ---------------------------------------------------------------------------------------

/// How many named statements the server holds for `sql`.
fn held(server: &ScriptedServer, sql: &str) -> usize {
    server
        .stats()
        .statements
        .iter()
        .filter(|(_, s)| s == sql)
        .count()
}

/// A call preparing `sql` dropped at every await, then `sql` prepared again and another query
/// run (which writes the Closes queued by dropped handles): the server must hold one
/// statement for `sql`, the one the connection knows about.
async fn no_statement_left_behind(name: &str, op: Op, sql: &str) {
    for n in 0..MAX_POLLS {
        let (mut conn, server) = connect(mode(WriteMode::ByteByByte)).await;
        let finished = within(name, poll_at_most(op(&mut conn), n)).await.is_some();
        let stmt = within("prepare", conn.prepare(sql)).await.unwrap();
        check(&mut conn, 1).await;
        check(&mut conn, 2).await;
        assert_eq!(
            held(&server, sql),
            1,
            "{name} dropped after {n} polls: statements on the server {:?}, the connection's \
             is {:?}",
            server.stats().statements,
            stmt.name()
        );
        drop(stmt);
        finish(conn, server, &[]).await;
        if finished {
            return;
        }
    }
    panic!("{name} did not finish within {MAX_POLLS} polls");
}

// A call dropped after its Parse of a named statement was written and before the reply to
// the Describe has been read leaves that statement on the server for the rest of the
// session: the connection has no handle to it, so it is never closed, and the next call
// prepares the same SQL again under a new name.
const LEAK: &str = "regression: a prepare/query/pipeline future dropped between writing Parse \
                    of a named statement and reading its description left the statement on \
                    the server (never closed)";

#[tokio::test]
async fn a_dropped_prepare_leaves_no_statement_behind() {
    no_statement_left_behind("prepare", op_prepare, "SELECT $1::int4 AS p").await;
}

#[tokio::test]
async fn a_dropped_query_leaves_no_statement_behind() {
    no_statement_left_behind("query_one", op_query_one, ECHO).await;
}

#[tokio::test]
async fn a_dropped_pipeline_leaves_no_statement_behind() {
    no_statement_left_behind("pipeline", op_pipeline, SERIES).await;
}

/// The smallest reproduction of [`LEAK`]: `prepare` polled once (Parse, Describe and Flush
/// are written; nothing is read yet) and dropped.
#[tokio::test]
async fn a_prepare_dropped_after_one_poll_leaves_its_statement_behind() {
    let (mut conn, server) = connect(Script::default()).await;
    let sql = "SELECT $1::int4 AS p";
    assert!(within("prepare", poll_at_most(conn.prepare(sql), 1))
        .await
        .is_none());
    let stmt = within("prepare", conn.prepare(sql)).await.unwrap();
    assert_eq!(stmt.name(), "tusk_s2");
    check(&mut conn, 1).await;
    // Today: [("tusk_s1", sql), ("tusk_s2", sql), ("tusk_s3", ECHO)].
    assert_eq!(
        server.stats().statements,
        [
            ("tusk_s2".to_owned(), sql.to_owned()),
            ("tusk_s3".to_owned(), ECHO.to_owned())
        ],
        "{LEAK}"
    );
    drop(stmt);
    finish(conn, server, &[]).await;
}

// ---------------------------------------------------------------------------------------
// A Transaction dropped while a failing Parse is in flight.
// ---------------------------------------------------------------------------------------

/// Regression (it hung): a statement inside a transaction is dropped after its Parse/Describe/Flush
/// went out and before the answer; the guard's Drop then queues its ROLLBACK as a simple
/// Query behind that still-open Sync group, and the next call's resynchronisation closes the
/// group with a Sync written after the Query. On the wire: Parse, Describe, Flush, Query
/// (ROLLBACK), Sync. When the Parse fails, the server skips every message up to the Sync,
/// the Query included (PostgreSQL's `ignore_till_sync` skips 'Q' too), so it sends one
/// ReadyForQuery where the exchange counts two (it stops its skip at the Query step): the
/// next call waits forever, and the ROLLBACK never ran (the server's transaction is still
/// failed).
#[tokio::test]
async fn a_transaction_dropped_with_a_failing_parse_in_flight() {
    let (mut conn, server) = connect(Script {
        failures: vec![Failure::undefined_table(MISSING, "missing")],
        ..Script::default()
    })
    .await;
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    // One poll writes and sends Parse, Describe and Flush; nothing is read yet.
    assert!(poll_at_most(tx.query(MISSING, &[]), 1).await.is_none());
    drop(tx);
    let next = tokio::time::timeout(Duration::from_secs(5), conn.query_one(ECHO, &[&1i32])).await;
    let stats = server.stats();
    let received = String::from_utf8_lossy(&stats.received[1..]).into_owned();
    assert!(
        received.starts_with("QPDHSQ"),
        "BEGIN, Parse/Describe/Flush, then the group's Sync before the ROLLBACK: {received}"
    );
    let row = next
        .unwrap_or_else(|_| {
            panic!(
                "the next call hangs; the server answered the Sync with ReadyForQuery {:?} \
                 after skipping the ROLLBACK, and its errors were {:?}",
                stats.transaction_status as char, stats.errors_sent
            )
        })
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert_eq!(server.stats().transaction_status, b'I');
}

/// The same hang without any future dropped mid-await: a row stream inside a transaction is
/// dropped early (its Sync group is left open, as documented), the server's error for a later
/// batch is in flight, and the transaction guard is dropped (queueing its ROLLBACK behind the
/// open group).
#[tokio::test]
async fn a_transaction_dropped_after_a_failing_stream_was_dropped() {
    let (mut conn, server) = connect(Script::default()).await;
    // Row 3 fails.
    server.fail(Failure::division_by_zero(SERIES, 2));
    let mut tx = within("transaction", conn.transaction()).await.unwrap();
    let mut stream = within("query_stream", tx.query_stream_batched(SERIES, &[&5i32], 1))
        .await
        .unwrap();
    // Rows 1 and 2: after the first PortalSuspended the stream keeps two Executes in
    // flight, so the second one's error is on its way when the stream is dropped.
    for expected in [1, 2] {
        let row = within("the stream", stream.try_next()).await.unwrap();
        assert_eq!(row.map(|r| r.get::<_, i32>(0)), Some(expected));
    }
    drop(stream);
    drop(tx);
    let next = tokio::time::timeout(Duration::from_secs(5), conn.query_one(ECHO, &[&1i32])).await;
    let stats = server.stats();
    let row = next
        .unwrap_or_else(|_| {
            panic!(
                "the next call hangs; the server got {:?}, answered with ReadyForQuery {:?} \
                 and raised {:?}",
                String::from_utf8_lossy(&stats.received[1..]),
                stats.transaction_status as char,
                stats.errors_sent
            )
        })
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    assert_eq!(server.stats().transaction_status, b'I');
}
