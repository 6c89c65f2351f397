//! The exchanges under fault: each runs one piece of the protocol on a connection through the
//! proxy and renders its answer as text, so that an attempt's answer compares exactly with the
//! clean run's. Every value that varies between attempts (a backend pid, an attempt's number)
//! is rendered as whether it is right, and every name built from the attempt's number has one
//! length, so every attempt of an exchange moves the same bytes.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use tusk::{Connection, SimpleQueryMessage};

use crate::harness::{through, Ctx, Run};

/// The authentication methods of the startup exchanges, each a role of the test server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `tusk_trust`, with the default sslmode (prefer): the SSLRequest and the server's `N`
    /// are part of the exchange.
    Trust,
    /// `tusk_password`: a cleartext password.
    Cleartext,
    /// `tusk_md5`: MD5.
    Md5,
    /// `tusk_scram`: SCRAM-SHA-256.
    Scram,
}

impl Auth {
    /// Connects to the proxy at `port` as this method's role.
    pub async fn connect(self, port: u16) -> Result<Connection, tusk::Error> {
        let conn_str = match self {
            Auth::Trust => format!("host=127.0.0.1 port={port} user=tusk_trust dbname=tusk"),
            Auth::Cleartext => through(port, "tusk_password", "pw_password", "disable"),
            Auth::Md5 => through(port, "tusk_md5", "pw_md5", "disable"),
            Auth::Scram => through(port, "tusk_scram", "pw_scram", "disable"),
        };
        Connection::connect(&conn_str).await
    }
}

/// One exchange of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    /// Connecting: startup, authentication, parameters, backend key, ReadyForQuery.
    Startup(Auth),
    /// Two statements in one simple Query, with rows, a NULL and command tags.
    SimpleQuery,
    /// A new statement with two parameters (Parse/Describe/Flush, then Bind/Execute/Sync) and
    /// rows of three types.
    ExtendedQuery,
    /// Four statements in one pipeline, new to the connection (described together first).
    Pipeline,
    /// A row stream of seven rows in batches of three (Execute with a row limit,
    /// PortalSuspended, the next Execute kept in flight).
    QueryStream,
    /// A server-side cursor over five rows: DECLARE in its own transaction, FETCHes of two
    /// rows, CLOSE and COMMIT.
    ServerCursor,
    /// COPY FROM STDIN in three chunks.
    CopyIn,
    /// COPY TO STDOUT of ten rows.
    CopyOut,
    /// LISTEN, then a NOTIFY from another session, delivered while the connection waits.
    Notify,
    /// BEGIN, an INSERT, COMMIT.
    Commit,
}

impl Exchange {
    /// Every exchange.
    pub const ALL: [Exchange; 13] = [
        Exchange::Startup(Auth::Trust),
        Exchange::Startup(Auth::Cleartext),
        Exchange::Startup(Auth::Md5),
        Exchange::Startup(Auth::Scram),
        Exchange::SimpleQuery,
        Exchange::ExtendedQuery,
        Exchange::Pipeline,
        Exchange::QueryStream,
        Exchange::ServerCursor,
        Exchange::CopyIn,
        Exchange::CopyOut,
        Exchange::Notify,
        Exchange::Commit,
    ];

    /// The authentication method of a startup exchange.
    pub fn startup_auth(self) -> Option<Auth> {
        match self {
            Exchange::Startup(auth) => Some(auth),
            _ => None,
        }
    }

    /// What the exchange needs on its connection before the plan applies.
    pub async fn setup(self, conn: &mut Connection) {
        let sql = match self {
            Exchange::Pipeline => "CREATE TEMP TABLE fault_pipe (a int4)",
            Exchange::CopyIn => "CREATE TEMP TABLE fault_copy (a int4, b text)",
            _ => return,
        };
        conn.batch_execute(sql)
            .await
            .expect("setting up the exchange");
    }

    /// Runs the exchange (not a startup) and renders its answer.
    pub async fn run(
        self,
        conn: &mut Connection,
        run: &mut Run<'_>,
    ) -> Result<String, tusk::Error> {
        match self {
            Exchange::Startup(_) => unreachable!("a startup runs in connect"),
            Exchange::SimpleQuery => simple_query(conn).await,
            Exchange::ExtendedQuery => extended_query(conn).await,
            Exchange::Pipeline => pipeline(conn).await,
            Exchange::QueryStream => query_stream(conn).await,
            Exchange::ServerCursor => server_cursor(conn).await,
            Exchange::CopyIn => copy_in(conn).await,
            Exchange::CopyOut => copy_out(conn).await,
            Exchange::Notify => notify(conn, run).await,
            Exchange::Commit => commit(conn, run).await,
        }
    }

    /// For the commit exchange: once the attempt's server session `backend_pid` has ended
    /// (so the server has done whatever it will do for it), whether its row is in the table.
    pub async fn committed(self, backend_pid: Option<i32>, id: u32, ctx: &Ctx) -> Option<bool> {
        if self != Exchange::Commit {
            return None;
        }
        let pid = backend_pid.expect("the commit exchange runs on a connected session");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let gone: bool = ctx
                .admin
                .query_one(
                    "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .await
                .unwrap()
                .get(0);
            if gone {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "session {pid} did not end after its cut"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let present: bool = ctx
            .admin
            .query_one(
                &format!(
                    "SELECT count(*) = 1 FROM {} WHERE id = $1",
                    ctx.commit_table
                ),
                &[&(id as i32)],
            )
            .await
            .unwrap()
            .get(0);
        Some(present)
    }
}

/// A startup's answer: what the server reported, as far as it is the same for every session.
pub fn startup_answer(conn: &Connection) -> String {
    let mut answer = String::new();
    for name in [
        "server_version",
        "session_authorization",
        "client_encoding",
        "DateStyle",
        "TimeZone",
        "integer_datetimes",
    ] {
        let _ = write!(answer, "{name}={:?} ", conn.parameter(name));
    }
    let _ = write!(
        answer,
        "pid={} status={:?}",
        conn.backend_pid().is_some(),
        conn.transaction_status()
    );
    answer
}

async fn simple_query(conn: &mut Connection) -> Result<String, tusk::Error> {
    let messages = conn
        .simple_query("SELECT 1 AS a, 'one' AS b UNION ALL SELECT 2, NULL; SELECT 'x' AS c")
        .await?;
    let mut answer = String::new();
    for message in messages {
        match message {
            SimpleQueryMessage::Row(row) => {
                let values: Vec<Option<&str>> = (0..row.len()).map(|i| row.get(i)).collect();
                let _ = write!(answer, "row {:?} {values:?}; ", row.columns());
            }
            SimpleQueryMessage::CommandComplete { tag, rows } => {
                let _ = write!(answer, "done {tag} {rows:?}; ");
            }
            other => {
                let _ = write!(answer, "{other:?}; ");
            }
        }
    }
    Ok(answer)
}

async fn extended_query(conn: &mut Connection) -> Result<String, tusk::Error> {
    let rows = conn
        .query(
            "SELECT g, repeat('x', g), g::float8 / 4 FROM generate_series(1, $1::int4) g \
             WHERE g % $2::int4 <> 0",
            &[&7i32, &3i32],
        )
        .await?;
    let values: Vec<(i32, String, f64)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    Ok(format!("{values:?}"))
}

async fn pipeline(conn: &mut Connection) -> Result<String, tusk::Error> {
    let mut pipeline = conn.pipeline();
    pipeline.query("SELECT ($1::int4 * 2)::text", &[&21i32]);
    pipeline.execute(
        "INSERT INTO fault_pipe SELECT generate_series(1, $1::int4)",
        &[&3i32],
    );
    pipeline.query("SELECT $1::text || '!'", &[&"hi"]);
    pipeline.query("SELECT sum(a)::text FROM fault_pipe", &[]);
    let results = pipeline.run().await?;
    let mut answer = String::new();
    for result in results {
        match result {
            Ok(result) => {
                let values: Vec<Option<String>> =
                    result.rows().iter().map(|row| row.get(0)).collect();
                let _ = write!(answer, "{values:?} {:?}; ", result.rows_affected());
            }
            // A statement's own error: part of the answer, so a cut that shows up here (rather
            // than as the pipeline's error) fails the comparison with the clean run.
            Err(err) => {
                let _ = write!(answer, "error {:?} {err}; ", err.kind());
            }
        }
    }
    Ok(answer)
}

async fn query_stream(conn: &mut Connection) -> Result<String, tusk::Error> {
    let mut stream = conn
        .query_stream_batched("SELECT generate_series(1, $1::int4)", &[&7i32], 3)
        .await?;
    let mut values: Vec<i32> = Vec::new();
    while let Some(row) = stream.try_next().await? {
        values.push(row.get(0));
    }
    Ok(format!("{values:?} {:?}", stream.rows_affected()))
}

async fn server_cursor(conn: &mut Connection) -> Result<String, tusk::Error> {
    let mut cursor = conn.server_cursor("c").itersize(2);
    cursor
        .execute("SELECT generate_series(1, $1::int4)", &[&5i32])
        .await?;
    let mut values: Vec<i32> = Vec::new();
    loop {
        let rows = cursor.fetch_many(2).await?;
        if rows.is_empty() {
            break;
        }
        values.extend(rows.iter().map(|row| row.get::<_, i32>(0)));
    }
    cursor.close().await?;
    Ok(format!("{values:?} {:?}", conn.transaction_status()))
}

async fn copy_in(conn: &mut Connection) -> Result<String, tusk::Error> {
    let mut copy = conn.copy_in("COPY fault_copy FROM STDIN").await?;
    for chunk in 0..3 {
        let data: String = (0..7)
            .map(|i| format!("{}\trow {chunk}.{i}\n", chunk * 7 + i))
            .collect();
        copy.send(data).await?;
    }
    let copied = copy.finish().await?;
    Ok(format!("copied {copied}"))
}

async fn copy_out(conn: &mut Connection) -> Result<String, tusk::Error> {
    let mut copy = conn
        .copy_out("COPY (SELECT g, 'row ' || g FROM generate_series(1, 10) g) TO STDOUT")
        .await?;
    let mut data = Vec::new();
    while let Some(chunk) = copy.next_chunk().await? {
        data.extend_from_slice(&chunk);
    }
    Ok(format!(
        "{} rows={:?}",
        String::from_utf8_lossy(&data),
        copy.rows()
    ))
}

async fn notify(conn: &mut Connection, run: &mut Run<'_>) -> Result<String, tusk::Error> {
    let channel = format!("fault_{}_{:06}", run.ctx.tag, run.id);
    let payload = format!("payload {:06}", run.id);
    conn.batch_execute(&format!("LISTEN {channel}")).await?;
    // From another session, not through the proxy, once the LISTEN is in place.
    let sender: i32 = run
        .ctx
        .admin
        .query_one(
            "SELECT pg_backend_pid() FROM (SELECT pg_notify($1, $2)) AS sent",
            &[&channel, &payload],
        )
        .await
        .expect("the NOTIFY from another session")
        .get(0);
    let n = conn.next_notification().await?;
    Ok(format!(
        "channel {} payload {} sender {}",
        n.channel == channel,
        n.payload == payload,
        n.process_id == sender
    ))
}

async fn commit(conn: &mut Connection, run: &mut Run<'_>) -> Result<String, tusk::Error> {
    let insert = format!("INSERT INTO {} (id) VALUES ($1)", run.ctx.commit_table);
    let mut tx = conn.transaction().await?;
    let inserted = tx.execute(&insert, &[&(run.id as i32)]).await?;
    // Everything before COMMIT has been sent and answered.
    run.mark();
    tx.commit().await?;
    Ok(format!("inserted {inserted}, committed"))
}
