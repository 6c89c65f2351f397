//! Shared helpers of the duplex tests (`tests/duplex_*.rs`), which run `Connection` end to end
//! over an in-memory `tokio::io::duplex` against a [`ScriptedServer`] (a fake, NOT PostgreSQL):
//!
//! - the SQL the scripted server understands, as constants ([`ECHO`], [`SERIES`], [`COPY_IN`],
//!   ...), and [`LIMIT`], the time any await may take ([`within`]);
//! - connecting ([`connect`], [`connect_with`], and [`connect_recorded`], which also records the
//!   size of every read the connection makes);
//! - checking that a connection still answers a query and is idle ([`check`]), and that the
//!   server saw a clean end and only the expected errors ([`finish`]);
//! - rendering results as values or text ([`rows_of`], [`collect_stream`], [`simple_rows`]);
//! - polling a future part-way and dropping it ([`poll_at_most`]);
//! - the operations under test ([`Op`]: `op_query_one`, `op_pipeline`, `op_copy_in`, ...), each
//!   rendering its result as text for comparison.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use crate::scripted::{Script, ScriptedServer, WriteMode};
use tusk::{Config, Connection, Error, SimpleQueryMessage, TransactionStatus};

/// Every await on the connection gets this long: a hang fails the test instead of stalling it.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The one-parameter query most tests use: the server echoes `$1`.
pub const ECHO: &str = "SELECT $1::int4";

/// Rows 1 to `$1`.
pub const SERIES: &str = "SELECT generate_series(1, $1)";

/// [`SERIES`] with the parameter written in, for the simple protocol.
pub const SERIES_5: &str = "SELECT generate_series(1, 5)";

/// COPY into and out of the scripted server's one table (rows `1`, `2`, `3` at first).
pub const COPY_IN: &str = "COPY t FROM STDIN";
pub const COPY_OUT: &str = "COPY t TO STDOUT";

/// A query the server fails (see
/// [`Failure::undefined_table`](crate::scripted::Failure::undefined_table)).
pub const MISSING: &str = "SELECT x FROM missing";

/// Awaits `fut`, failing the test (naming `what`) if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}"))
}

/// The configuration every test connects with.
pub fn config() -> Config {
    // The host and port are only where a cancel request would go; passfile points nowhere so
    // no ~/.pgpass is read.
    "host=127.0.0.1 port=5432 user=alice dbname=fake passfile=/nonexistent/pgpass"
        .parse()
        .unwrap()
}

/// Starts a scripted server with `script` and connects to it with [`config`].
pub async fn connect(script: Script) -> (Connection, ScriptedServer) {
    connect_with(config(), script).await
}

/// Starts a scripted server with `script` and connects to it with `config`.
pub async fn connect_with(config: Config, script: Script) -> (Connection, ScriptedServer) {
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

/// [`connect`] through a `Recorder`; also returns the sizes of the connection's reads.
pub async fn connect_recorded(
    script: Script,
) -> (Connection, ScriptedServer, Arc<Mutex<Vec<usize>>>) {
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

/// A script that only sets how replies are written.
pub fn mode(write_mode: WriteMode) -> Script {
    Script {
        write_mode,
        ..Script::default()
    }
}

/// Checks that the connection answers `SELECT $1::int4` with `value` and is idle.
pub async fn check(conn: &mut Connection, value: i32) {
    assert!(!conn.is_closed(), "the connection is marked closed");
    let row = within("the check query", conn.query_one(ECHO, &[&value]))
        .await
        .unwrap_or_else(|e| panic!("the check query failed: {e}"));
    assert_eq!(row.get::<_, i32>(0), value);
    assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
}

/// Closes the connection and checks that the server saw a clean end and no error of its own
/// other than `expected_errors`.
pub async fn finish(conn: Connection, server: ScriptedServer, expected_errors: &[&str]) {
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

/// The `int4` values of rows.
pub fn rows_of(rows: &[tusk::Row]) -> Vec<i32> {
    rows.iter().map(|r| r.get::<_, i32>(0)).collect()
}

/// Every value of a stream, or its first error.
pub async fn collect_stream(stream: &mut tusk::RowStream<'_>) -> Result<Vec<i32>, Error> {
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await? {
        out.push(row.get::<_, i32>(0));
    }
    Ok(out)
}

/// A simple query's messages as text: `row <value>` and `<tag> (<rows>)`.
pub fn simple_rows(messages: &[SimpleQueryMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match m {
            SimpleQueryMessage::Row(row) => format!("row {}", row.get(0).unwrap_or("NULL")),
            SimpleQueryMessage::CommandComplete { tag, rows } => format!("{tag} ({rows:?})"),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Polls `fut` up to `polls` times, yielding to the runtime (so the server task runs) between
/// polls; its output if it finished. The future is dropped on return either way.
pub async fn poll_at_most<F: Future>(fut: F, polls: usize) -> Option<F::Output> {
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

pub type OpFuture<'a> = Pin<Box<dyn Future<Output = Result<String, Error>> + 'a>>;

/// An operation under test, rendering its result as text for comparison.
pub type Op = for<'a> fn(&'a mut Connection) -> OpFuture<'a>;

/// `query_one` of [`ECHO`] with 7.
pub fn op_query_one(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let row = c.query_one(ECHO, &[&7i32]).await?;
        Ok(row.get::<_, i32>(0).to_string())
    })
}

/// `execute` of an INSERT.
pub fn op_execute(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let n = c.execute("INSERT INTO t VALUES ($1)", &[&7i32]).await?;
        Ok(n.to_string())
    })
}

/// `prepare`: the parameter types and the column name.
pub fn op_prepare(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let stmt = c.prepare("SELECT $1::int4 AS p").await?;
        Ok(format!("{:?} {}", stmt.params(), stmt.columns()[0].name()))
    })
}

/// `simple_query` of `SELECT 7`.
pub fn op_simple_query(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let messages = c.simple_query("SELECT 7").await?;
        Ok(simple_rows(&messages).join(", "))
    })
}

/// A transaction running [`ECHO`], committed.
pub fn op_transaction(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut tx = c.transaction().await?;
        let row = tx.query_one(ECHO, &[&7i32]).await?;
        tx.commit().await?;
        Ok(row.get::<_, i32>(0).to_string())
    })
}

/// A pipeline of [`ECHO`] and [`SERIES`].
pub fn op_pipeline(c: &mut Connection) -> OpFuture<'_> {
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

/// A row stream of [`SERIES`] in batches of 2.
pub fn op_query_stream(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut stream = c.query_stream_batched(SERIES, &[&5i32], 2).await?;
        let values = collect_stream(&mut stream).await?;
        Ok(format!("{values:?} {:?}", stream.rows_affected()))
    })
}

/// `copy_in` of three rows in two chunks.
pub fn op_copy_in(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        let mut copy = c.copy_in(COPY_IN).await?;
        copy.send("4\n5\n").await?;
        copy.send(b"6\n").await?;
        Ok(copy.finish().await?.to_string())
    })
}

/// `copy_out` of the whole table.
pub fn op_copy_out(c: &mut Connection) -> OpFuture<'_> {
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
pub fn op_unwanted_copy(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        match c.query(COPY_IN, &[]).await {
            Ok(rows) => Ok(format!("{} rows", rows.len())),
            Err(e) => Ok(format!("{:?}: {e}", e.kind())),
        }
    })
}

/// A query the server fails at Parse.
pub fn op_failing_query(c: &mut Connection) -> OpFuture<'_> {
    Box::pin(async move {
        match c.query(MISSING, &[]).await {
            Ok(rows) => Ok(format!("{} rows", rows.len())),
            Err(e) => Ok(format!("{:?} {:?}", e.kind(), e.code().map(|c| c.code()))),
        }
    })
}

/// A stream the server fails at Execute after two rows (see `fail_series` in
/// `tests/duplex_drops.rs`).
pub fn op_failing_stream(c: &mut Connection) -> OpFuture<'_> {
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
pub fn op_failing_transaction(c: &mut Connection) -> OpFuture<'_> {
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
pub fn op_savepoint(c: &mut Connection) -> OpFuture<'_> {
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
