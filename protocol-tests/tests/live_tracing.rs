//! tusk's spans (feature `tracing`) against the real server, caught by a subscriber that keeps
//! every span with its fields and parent: the OpenTelemetry database attributes of a query,
//! the query text only when asked for, errors with their SQLSTATE, a transaction's span over
//! its statements, connects, the pool, and the longer-lived spans of streams, COPY and
//! pipelines.
//!
//! Each test installs the subscriber for its own thread only (`set_default`) and runs on a
//! current-thread runtime, so the tests of this file do not see each other's spans.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use protocol_tests::live;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;
use tusk::{Config, Pool};

/// A span as the subscriber saw it.
#[derive(Debug, Clone)]
struct Captured {
    name: &'static str,
    target: String,
    level: Level,
    /// Every field recorded, at creation or later, as text (`Empty` fields never recorded are
    /// absent).
    fields: BTreeMap<String, String>,
    /// The index of the parent span among the captured ones.
    parent: Option<usize>,
    closed: bool,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// The captured spans, in the order they were created.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

/// A span's index in [`Capture`], kept in the registry's extensions.
struct Index(usize);

/// Collects field values as text: strings as they are, everything else by `Debug` (which is
/// `Display` for values recorded with `%`).
struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span
            .parent()
            .and_then(|parent| parent.extensions().get::<Index>().map(|i| i.0));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        let mut spans = self.lock();
        spans.push(Captured {
            name: meta.name(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields,
            parent,
            closed: false,
        });
        span.extensions_mut().insert(Index(spans.len() - 1));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(index) = index_of(&ctx, id) else {
            return;
        };
        values.record(&mut Fields(&mut self.lock()[index].fields));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(index) = index_of(&ctx, &id) {
            self.lock()[index].closed = true;
        }
    }
}

fn index_of<S>(ctx: &Context<'_, S>, id: &Id) -> Option<usize>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ctx.span(id)?.extensions().get::<Index>().map(|i| i.0)
}

impl Capture {
    /// A capture installed as this thread's subscriber until the guard is dropped.
    fn install() -> (Capture, tracing::subscriber::DefaultGuard) {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Captured>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spans(&self) -> Vec<Captured> {
        self.lock().clone()
    }

    /// The spans named `name`, with their indexes.
    fn named(&self, name: &str) -> Vec<(usize, Captured)> {
        self.spans()
            .into_iter()
            .enumerate()
            .filter(|(_, s)| s.name == name)
            .collect()
    }

    /// The one `tusk.query` span with operation `op`.
    fn query(&self, op: &str) -> (usize, Captured) {
        let mut found: Vec<_> = self
            .named("tusk.query")
            .into_iter()
            .filter(|(_, s)| s.field("db.operation.name") == Some(op))
            .collect();
        assert_eq!(found.len(), 1, "one {op} span: {:#?}", self.spans());
        found.remove(0)
    }

    /// Forgets what was captured so far (the connect, setup statements).
    fn clear(&self) {
        // Indexes stay valid for spans still open: entries are blanked, not removed.
        for span in self.lock().iter_mut() {
            span.name = "(cleared)";
        }
    }
}

fn config() -> Config {
    live::admin().parse().unwrap()
}

#[tokio::test]
async fn a_query_is_one_span_with_the_database_conventions() {
    let (capture, _guard) = Capture::install();
    let mut conn = config().connect().await.unwrap();
    capture.clear();
    let sql = "SELECT n FROM generate_series(1, 3) AS n WHERE n > $1";
    let rows = conn.query(sql, &[&0i32]).await.unwrap();
    assert_eq!(rows.len(), 3);

    let spans = capture.named("tusk.query");
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = &spans[0].1;
    assert_eq!(span.target, "tusk");
    assert_eq!(span.level, Level::INFO);
    assert!(span.closed);
    let port = live::port().to_string();
    for (name, value) in [
        ("otel.name", "SELECT tusk"),
        ("otel.kind", "client"),
        ("db.system.name", "postgresql"),
        ("db.namespace", "tusk"),
        ("db.operation.name", "SELECT"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("db.response.returned_rows", "3"),
    ] {
        assert_eq!(span.field(name), Some(value), "{name}: {span:#?}");
    }
    for absent in [
        "db.query.text",
        "error.type",
        "db.response.status_code",
        "otel.status_code",
    ] {
        assert_eq!(span.field(absent), None, "{absent}: {span:#?}");
    }

    // The other calls: one span each, rows where rows come back.
    capture.clear();
    conn.query_one("SELECT 1", &[]).await.unwrap();
    conn.query_opt("SELECT 1 WHERE false", &[]).await.unwrap();
    conn.execute("SET application_name = 'tusk_tracing'", &[])
        .await
        .unwrap();
    conn.prepare("VALUES (1)").await.unwrap();
    conn.batch_execute("/* why */ SHOW server_version")
        .await
        .unwrap();
    let ops: Vec<(String, Option<String>)> = capture
        .named("tusk.query")
        .into_iter()
        .map(|(_, s)| {
            (
                s.field("db.operation.name").unwrap_or("-").to_owned(),
                s.field("db.response.returned_rows").map(str::to_owned),
            )
        })
        .collect();
    let expected = [
        ("SELECT", Some("1")),
        ("SELECT", Some("0")),
        ("SET", None),
        ("VALUES", None),
        ("SHOW", None),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(op, rows)| ((*op).to_owned(), rows.map(str::to_owned)))
        .collect();
    assert_eq!(ops, expected);
}

#[tokio::test]
async fn the_query_text_is_recorded_only_when_asked_for() {
    let (capture, _guard) = Capture::install();
    let sql = "SELECT $1::text AS secret_here";
    let mut plain = config().connect().await.unwrap();
    plain.query_one(sql, &[&"x"]).await.unwrap();
    plain.simple_query("SELECT 'literal'").await.unwrap();
    for (_, span) in capture.named("tusk.query") {
        assert_eq!(span.field("db.query.text"), None, "{span:#?}");
    }

    capture.clear();
    let mut opted = config().trace_query_text(true).connect().await.unwrap();
    opted.query_one(sql, &[&"x"]).await.unwrap();
    let (_, span) = capture.query("SELECT");
    assert_eq!(span.field("db.query.text"), Some(sql));
    // A prepared statement's text too; never the parameters.
    let stmt = opted.prepare("VALUES ($1::int4)").await.unwrap();
    capture.clear();
    opted.query(&stmt, &[&424242i32]).await.unwrap();
    let (_, span) = capture.query("VALUES");
    assert_eq!(span.field("db.query.text"), Some("VALUES ($1::int4)"));
    assert!(
        span.fields.values().all(|v| !v.contains("424242")),
        "{span:#?}"
    );
}

#[tokio::test]
async fn an_error_records_its_sqlstate() {
    let (capture, _guard) = Capture::install();
    let mut conn = config().connect().await.unwrap();
    capture.clear();
    let err = conn.query("SELECT 1 / $1", &[&0i32]).await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22012"));
    let (_, span) = capture.query("SELECT");
    assert_eq!(span.field("db.response.status_code"), Some("22012"));
    assert_eq!(span.field("error.type"), Some("22012"));
    assert_eq!(span.field("otel.status_code"), Some("ERROR"));
    assert_eq!(span.field("db.response.returned_rows"), None);

    // An error of tusk's own, without SQLSTATE: its kind.
    capture.clear();
    conn.query_one("SELECT 1 WHERE false", &[])
        .await
        .unwrap_err();
    let (_, span) = capture.query("SELECT");
    assert_eq!(span.field("error.type"), Some("row_count"));
    assert_eq!(span.field("db.response.status_code"), None);
    assert_eq!(span.field("otel.status_code"), Some("ERROR"));
}

#[tokio::test]
async fn a_transaction_span_parents_its_statements() {
    let (capture, _guard) = Capture::install();
    let mut conn = config().connect().await.unwrap();
    conn.batch_execute("CREATE TEMP TABLE tracing_tx (a int4)")
        .await
        .unwrap();
    capture.clear();

    // The caller's own span around it all, as a web handler's would be.
    let request = tracing::info_span!("request");
    let work = async {
        let mut tx = conn.transaction().await.unwrap();
        tx.execute("INSERT INTO tracing_tx VALUES (1)", &[])
            .await
            .unwrap();
        {
            let mut sp = tx.transaction().await.unwrap();
            sp.execute("DELETE FROM tracing_tx", &[]).await.unwrap();
            sp.rollback().await.unwrap();
        }
        tx.query("SELECT a FROM tracing_tx", &[]).await.unwrap();
        tx.commit().await.unwrap();
        // After the transaction: the caller's span again.
        conn.execute("UPDATE tracing_tx SET a = 2", &[])
            .await
            .unwrap();
    };
    tracing::Instrument::instrument(work, request).await;

    let (request, _) = capture.named("request").remove(0);
    let transactions = capture.named("tusk.transaction");
    assert_eq!(transactions.len(), 2, "{transactions:#?}");
    let (tx, tx_span) = &transactions[0];
    let (sp, sp_span) = &transactions[1];
    assert_eq!(tx_span.parent, Some(request));
    assert_eq!(tx_span.field("otel.name"), Some("transaction tusk"));
    assert_eq!(tx_span.field("tusk.transaction.end"), Some("commit"));
    assert_eq!(tx_span.field("db.namespace"), Some("tusk"));
    assert!(tx_span.closed);
    assert_eq!(sp_span.parent, Some(*tx));
    assert_eq!(sp_span.field("tusk.transaction.end"), Some("rollback"));
    assert!(sp_span.field("tusk.savepoint").is_some(), "{sp_span:#?}");

    for (op, parent) in [
        ("BEGIN", *tx),
        ("INSERT", *tx),
        ("SAVEPOINT", *sp),
        ("DELETE", *sp),
        ("ROLLBACK", *sp),
        ("SELECT", *tx),
        ("COMMIT", *tx),
        ("UPDATE", request),
    ] {
        let (_, span) = capture.query(op);
        assert_eq!(span.parent, Some(parent), "{op}: {:#?}", capture.spans());
    }
}

#[tokio::test]
async fn a_dropped_transaction_says_so_and_lets_go_of_its_statements() {
    let (capture, _guard) = Capture::install();
    let mut conn = config().connect().await.unwrap();
    capture.clear();
    {
        let mut tx = conn.transaction().await.unwrap();
        tx.query("SELECT 1", &[]).await.unwrap();
    }
    // Runs the queued ROLLBACK first, outside any transaction span.
    conn.query("VALUES (1)", &[]).await.unwrap();
    let (tx, span) = capture.named("tusk.transaction").remove(0);
    assert_eq!(span.field("tusk.transaction.end"), Some("dropped"));
    assert!(span.closed);
    assert_eq!(capture.query("SELECT").1.parent, Some(tx));
    assert_eq!(capture.query("VALUES").1.parent, None);
}

#[tokio::test]
async fn connect_spans_name_the_server() {
    let (capture, _guard) = Capture::install();
    let conn = config().connect().await.unwrap();
    drop(conn);
    let port = live::port().to_string();
    let (connect, span) = capture.named("tusk.connect").remove(0);
    assert_eq!(span.field("otel.name"), Some("connect tusk"));
    assert_eq!(span.field("db.operation.name"), Some("connect"));
    assert_eq!(span.field("db.system.name"), Some("postgresql"));
    assert_eq!(span.field("server.address"), Some("127.0.0.1"));
    assert_eq!(span.field("server.port"), Some(port.as_str()));
    let attempts = capture.named("tusk.connect.attempt");
    assert!(!attempts.is_empty());
    for (_, attempt) in &attempts {
        assert_eq!(attempt.parent, Some(connect));
        assert_eq!(attempt.field("server.address"), Some("127.0.0.1"));
        assert_eq!(attempt.field("server.port"), Some(port.as_str()));
        assert_eq!(attempt.field("network.transport"), Some("tcp"));
    }

    // Refused: the SQLSTATE on both.
    capture.clear();
    let bad: Config = live::tcp("tusk_scram", "wrong").parse().unwrap();
    let err = bad.connect().await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("28P01"));
    let (_, span) = capture.named("tusk.connect").remove(0);
    assert_eq!(span.field("error.type"), Some("28P01"));
    assert_eq!(span.field("otel.status_code"), Some("ERROR"));
    assert!(capture
        .named("tusk.connect.attempt")
        .iter()
        .any(|(_, a)| a.field("error.type") == Some("28P01")));

    // A Unix-domain socket: the socket file as the address, no port.
    capture.clear();
    let unix: Config = format!(
        "host={} port={} user=tusk password=tusk dbname=tusk",
        live::socket_dir(),
        live::port()
    )
    .parse()
    .unwrap();
    let mut conn = unix.connect().await.unwrap();
    conn.query("SELECT 1", &[]).await.unwrap();
    let (_, span) = capture.query("SELECT");
    let socket = format!("{}/.s.PGSQL.{}", live::socket_dir(), live::port());
    assert_eq!(span.field("server.address"), Some(socket.as_str()));
    assert_eq!(span.field("server.port"), None);
}

#[tokio::test]
async fn the_pool_has_spans_for_checkouts_and_shared_queries() {
    let (capture, _guard) = Capture::install();
    let pool = Pool::builder(config().trace_query_text(true))
        .max_size(2)
        .build();
    {
        let mut conn = pool.get().await.unwrap();
        conn.query("SELECT 1", &[]).await.unwrap();
    }
    let (get, span) = capture.named("tusk.pool.get").remove(0);
    assert_eq!(span.field("db.namespace"), Some("tusk"));
    assert!(span.closed);
    let (_, connect) = capture.named("tusk.connect").remove(0);
    assert_eq!(
        connect.parent,
        Some(get),
        "a new connection is opened inside the checkout"
    );

    capture.clear();
    let sql = "SELECT $1::int4 + 1";
    let row = pool.query_one(sql, &[&41i32]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    let shared: Vec<_> = capture
        .named("tusk.query")
        .into_iter()
        .filter(|(_, s)| s.field("tusk.pool.shared").is_some())
        .collect();
    assert_eq!(shared.len(), 1, "{:#?}", capture.spans());
    let (shared_index, span) = &shared[0];
    for (name, value) in [
        ("otel.name", "SELECT tusk"),
        ("db.operation.name", "SELECT"),
        ("db.namespace", "tusk"),
        ("db.query.text", sql),
        ("db.response.returned_rows", "1"),
    ] {
        assert_eq!(span.field(name), Some(value), "{name}: {span:#?}");
    }
    assert!(span.closed);
    // The first use of the SQL prepares it on a checked-out connection, inside the span.
    let (_, get) = capture.named("tusk.pool.get").remove(0);
    assert_eq!(get.parent, Some(*shared_index));

    capture.clear();
    let err = pool.execute("SELECT 1 / 0", &[]).await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22012"));
    let (_, span) = capture
        .named("tusk.query")
        .into_iter()
        .find(|(_, s)| s.field("tusk.pool.shared").is_some())
        .unwrap();
    assert_eq!(span.field("error.type"), Some("22012"));
    pool.close().await;
}

#[tokio::test]
async fn streams_copies_and_pipelines_record_their_rows() {
    let (capture, _guard) = Capture::install();
    let mut conn = config().connect().await.unwrap();
    capture.clear();

    let mut stream = conn
        .query_stream_batched("SELECT generate_series(1, 10)", &[], 4)
        .await
        .unwrap();
    while stream.try_next().await.unwrap().is_some() {}
    drop(stream);
    let (_, span) = capture.query("SELECT");
    assert_eq!(span.field("db.response.returned_rows"), Some("10"));
    assert!(span.closed);

    capture.clear();
    let mut copy = conn
        .copy_out("COPY (SELECT generate_series(1, 5)) TO STDOUT")
        .await
        .unwrap();
    while copy.next_chunk().await.unwrap().is_some() {}
    drop(copy);
    let (_, span) = capture.query("COPY");
    assert_eq!(span.field("otel.name"), Some("COPY tusk"));
    assert_eq!(span.field("db.response.returned_rows"), Some("5"));

    capture.clear();
    conn.batch_execute("CREATE TEMP TABLE tracing_copy (a int4)")
        .await
        .unwrap();
    let mut copy = conn.copy_in("COPY tracing_copy FROM STDIN").await.unwrap();
    copy.send("1\nnot a number\n").await.unwrap();
    let err = copy.finish().await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22P02"));
    let (_, span) = capture.query("COPY");
    assert_eq!(span.field("error.type"), Some("22P02"));

    capture.clear();
    let mut pipeline = conn.pipeline().sync_each(true);
    pipeline.query("SELECT 1", &[]);
    pipeline.query("SELECT generate_series(1, 2)", &[]);
    let results = pipeline.run().await.unwrap();
    assert_eq!(results.len(), 2);
    let (_, span) = capture.named("tusk.pipeline").remove(0);
    assert_eq!(span.field("db.operation.name"), Some("BATCH SELECT"));
    assert_eq!(span.field("otel.name"), Some("BATCH SELECT tusk"));
    assert_eq!(span.field("db.operation.batch.size"), Some("2"));
    assert_eq!(span.field("db.response.returned_rows"), Some("3"));
}
