//! The harness of the fault tests: an attempt runs one exchange on a connection through its
//! own [`FaultProxy`] under a plan; a clean attempt records the exchange's answer and its
//! length each way; [`cut_everywhere`] then cuts it at every offset in both directions,
//! [`rechunked`] re-cuts and delays its bytes, and both check every attempt against the clean
//! answer.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol_tests::fault_proxy::{
    ByteCounts, Chunking, Direction, FaultPlan, FaultProxy, ProxiedConnection,
};
use protocol_tests::live;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tusk::{Config, Connection, Pool};

use crate::exchanges::{Auth, Exchange};

/// How long one attempt may take. A cut is seen as an end of stream at once, so reaching this
/// means a hang (no connect_timeout or statement timeout is set to turn one into an error).
pub const ATTEMPT_LIMIT: Duration = Duration::from_secs(20);

/// Attempts running at once across the whole binary: each holds one server connection (two
/// for a few), and the shared server allows 100 for everyone.
static SLOTS: Semaphore = Semaphore::const_new(8);

/// A place among the attempts running at once (see [`SLOTS`]), held until dropped.
pub async fn slot() -> tokio::sync::SemaphorePermit<'static> {
    SLOTS
        .acquire()
        .await
        .expect("the semaphore is never closed")
}

/// Numbers the attempts of this process (channel names, row ids).
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Numbers the contexts of this process (each test has its own commit table).
static NEXT_CTX: AtomicU32 = AtomicU32::new(0);

/// A fresh attempt number, at most 6 digits so names built from it keep one length.
pub fn next_id() -> u32 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed) % 1_000_000
}

/// What the attempts of a test share: a pool straight to the server (not through any proxy)
/// for what the exchanges need from another session (a NOTIFY, a check of committed rows),
/// and names unique to this process, since other test runs may share the server.
pub struct Ctx {
    /// Superuser connections to the server, not through any proxy.
    pub admin: Pool,
    /// `fault_commit_<pid>_<n>`: the table the commit exchange inserts into.
    pub commit_table: String,
    /// `<pid>` zero-padded to 7 digits, for channel names of one length.
    pub tag: String,
}

impl Ctx {
    /// Creates the context: the pool, and the commit table (granted to `tusk_trust`).
    pub async fn new() -> Arc<Ctx> {
        let config: Config = live::admin().parse().unwrap();
        let admin = Pool::builder(config).max_size(4).build();
        let tag = format!("{:07}", std::process::id() % 10_000_000);
        let number = NEXT_CTX.fetch_add(1, Ordering::Relaxed);
        let commit_table = format!("fault_commit_{tag}_{:02}", number % 100);
        let mut conn = admin.get().await.unwrap();
        conn.batch_execute(&format!(
            "DROP TABLE IF EXISTS {commit_table}; \
             CREATE TABLE {commit_table} (id int4 PRIMARY KEY); \
             GRANT SELECT, INSERT ON {commit_table} TO tusk_trust"
        ))
        .await
        .unwrap();
        Arc::new(Ctx {
            admin,
            commit_table,
            tag,
        })
    }

    /// Drops what [`Ctx::new`] made.
    pub async fn finish(&self) {
        self.admin
            .execute(&format!("DROP TABLE IF EXISTS {}", self.commit_table), &[])
            .await
            .unwrap();
    }
}

/// A key=value string to the proxy for `user` (with `password` unless empty): no
/// connect_timeout, so a hang shows as one.
pub fn through(port: u16, user: &str, password: &str, sslmode: &str) -> String {
    let mut conn_str =
        format!("host=127.0.0.1 port={port} user={user} dbname=tusk sslmode={sslmode}");
    if !password.is_empty() {
        conn_str.push_str(&format!(" password={password}"));
    }
    conn_str
}

/// What one attempt saw.
pub struct Attempt {
    /// The exchange's answer rendered as text, or its error.
    pub result: Result<String, tusk::Error>,
    /// Bytes forwarded each way from the start of the exchange.
    pub counts: ByteCounts,
    /// Counts the exchange noted at its phases (the commit's start), from the same start.
    pub marks: Vec<ByteCounts>,
    /// The bytes the client was sent during the exchange.
    pub to_client: Vec<u8>,
    /// How many connections the proxy accepted (1 unless the client retried).
    pub connections: u64,
    /// For the commit exchange: whether its row is in the table once its server session has
    /// ended (asked on another connection).
    pub committed: Option<bool>,
}

/// Where an exchange runs: the proxied connection under its plan, for marks.
pub struct Run<'a> {
    /// The proxied connection, steered by the plan.
    pub link: &'a ProxiedConnection,
    /// Its counts when the exchange began.
    pub start: ByteCounts,
    /// Counts noted at phases of the exchange, relative to `start`.
    pub marks: Vec<ByteCounts>,
    /// This attempt's number.
    pub id: u32,
    /// The shared context.
    pub ctx: &'a Ctx,
}

impl Run<'_> {
    /// Notes the bytes forwarded so far.
    pub fn mark(&mut self) {
        self.marks.push(self.link.counts().since(self.start));
    }
}

/// Runs `exchange` once through a proxy of its own under `plan` (offsets from the start of the
/// exchange: the first byte of the connection for a startup, otherwise the first byte after
/// the connection is set up). Connecting and setting up for a non-startup exchange happen
/// before the plan applies and must succeed.
pub async fn attempt(exchange: Exchange, plan: FaultPlan, ctx: &Ctx) -> Attempt {
    let proxy = FaultProxy::start(live::port()).await;
    let id = next_id();
    if let Some(auth) = exchange.startup_auth() {
        // Every connection the client makes gets the plan, a retry on a new socket too.
        proxy.set_default_plan(plan);
        let result = auth.connect(proxy.port).await;
        // Counted before the connection is dropped, which writes a Terminate.
        let counts = proxy.connection(0).map(|c| c.counts()).unwrap_or_default();
        let to_client = proxy
            .connection(0)
            .map(|c| c.bytes(Direction::ToClient))
            .unwrap_or_default();
        let result = result.map(|conn| crate::exchanges::startup_answer(&conn));
        return Attempt {
            result,
            counts,
            marks: Vec::new(),
            to_client,
            connections: proxy.accepted(),
            committed: None,
        };
    }
    let mut conn = Connection::connect(&through(proxy.port, "tusk_trust", "", "disable"))
        .await
        .expect("the clean connect before the exchange");
    exchange.setup(&mut conn).await;
    let link = proxy
        .connection(0)
        .expect("the proxy accepted the connection");
    let backend_pid = conn.backend_pid();
    let start = link.counts();
    link.apply(plan);
    let mut run = Run {
        link: &link,
        start,
        marks: Vec::new(),
        id,
        ctx,
    };
    let result = exchange.run(&mut conn, &mut run).await;
    let marks = run.marks;
    let counts = link.counts().since(start);
    let skip = usize::try_from(start.to_client).unwrap_or(usize::MAX);
    let to_client = link
        .bytes(Direction::ToClient)
        .get(skip..)
        .unwrap_or_default()
        .to_vec();
    drop(conn);
    let committed = exchange.committed(backend_pid, id, ctx).await;
    Attempt {
        result,
        counts,
        marks,
        to_client,
        connections: proxy.accepted(),
        committed,
    }
}

/// A cut, as the tests name it.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    /// The direction cut.
    pub direction: Direction,
    /// Bytes forwarded that way before the cut, from the start of the exchange.
    pub after: u64,
    /// Whether the cut resets (RST) rather than closes (FIN) the sockets.
    pub reset: bool,
}

impl Cut {
    /// The proxy's plan for this cut.
    pub fn plan(self) -> FaultPlan {
        if self.reset {
            FaultPlan::reset(self.direction, self.after)
        } else {
            FaultPlan::cut(self.direction, self.after)
        }
    }
}

/// How a cut loop went, for the test's own checks and the summary it prints.
pub struct CutSummary {
    /// The clean run.
    pub clean: Attempt,
    /// Every cut with what its attempt saw.
    pub attempts: Vec<(Cut, Attempt)>,
    /// The loop's wall time.
    pub elapsed: Duration,
}

/// Runs `exchange` cleanly, then once cut at every offset from 0 to its full length in each
/// direction (the last one after the whole answer), closing the sockets or with `reset`
/// resetting them, at most [`SLOTS`] at a time, and checks each attempt: no panic, no hang, an
/// error or exactly the clean answer, and after a close that comes once the client received
/// everything, the clean answer. Errors must say the connection was lost. Prints a summary
/// line.
pub async fn cut_everywhere(exchange: Exchange, ctx: &Arc<Ctx>, reset: bool) -> CutSummary {
    let started = Instant::now();
    let clean = attempt(exchange, FaultPlan::clean(), ctx).await;
    let answer = match &clean.result {
        Ok(answer) => answer.clone(),
        Err(err) => panic!("{exchange:?}: the clean run failed: {err}"),
    };
    assert_eq!(
        clean.connections, 1,
        "{exchange:?}: the clean run made one connection"
    );
    let mut set = JoinSet::new();
    for direction in Direction::BOTH {
        for after in offsets(exchange, &clean, direction) {
            let cut = Cut {
                direction,
                after,
                reset,
            };
            let ctx = ctx.clone();
            set.spawn(async move {
                let _slot = slot().await;
                let run =
                    tokio::time::timeout(ATTEMPT_LIMIT, attempt(exchange, cut.plan(), &ctx)).await;
                (cut, run)
            });
        }
    }
    let mut attempts = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (cut, run) = match joined {
            Ok(done) => done,
            Err(err) => panic!("{exchange:?}: an attempt panicked: {err}"),
        };
        let Ok(seen) = run else {
            panic!("{exchange:?}: {cut:?} hung: no answer within {ATTEMPT_LIMIT:?}");
        };
        check_cut(exchange, &answer, &clean.counts, cut, &seen);
        attempts.push((cut, seen));
    }
    attempts.sort_by_key(|(cut, _)| (cut.direction, cut.after));
    let summary = CutSummary {
        clean,
        attempts,
        elapsed: started.elapsed(),
    };
    let oks = summary
        .attempts
        .iter()
        .filter(|(_, a)| a.result.is_ok())
        .count();
    let mut kinds: Vec<String> = summary
        .attempts
        .iter()
        .filter_map(|(_, a)| a.result.as_ref().err().map(|e| format!("{:?}", e.kind())))
        .collect();
    kinds.sort();
    kinds.dedup();
    let style = if reset { "resets" } else { "cuts" };
    eprintln!(
        "{exchange:?}: {} bytes to the server, {} to the client; {} {style} in {:.1?}: {oks} Ok, \
         {} Err ({})",
        summary.clean.counts.to_server,
        summary.clean.counts.to_client,
        summary.attempts.len(),
        summary.elapsed,
        summary.attempts.len() - oks,
        kinds.join(", ")
    );
    summary
}

/// The offsets to cut `exchange` at in `direction`: every one from 0 to the whole length,
/// except in a password startup's answer after AuthenticationOk. That part (parameters,
/// backend key, ReadyForQuery) is read by the same code whatever the method, and the trust
/// startup is cut at every byte of it; the other methods are cut at every byte up to the
/// header of the message after AuthenticationOk, then at every fifth and at the last,
/// which keeps the binary within its time on a busy machine.
fn offsets(exchange: Exchange, clean: &Attempt, direction: Direction) -> Vec<u64> {
    let full = clean.counts.get(direction);
    let password = matches!(exchange, Exchange::Startup(auth) if auth != Auth::Trust);
    if !password || direction == Direction::ToServer {
        return (0..=full).collect();
    }
    let auth_ok_end = authentication_ok_end(&clean.to_client)
        .unwrap_or_else(|| panic!("{exchange:?}: no AuthenticationOk in the clean run"));
    let every_byte_until = auth_ok_end as u64 + 5;
    let mut offsets: Vec<u64> = (0..=every_byte_until.min(full)).collect();
    offsets.extend((every_byte_until + 5..full).step_by(5));
    offsets.push(full);
    offsets.dedup();
    offsets
}

/// Where the AuthenticationOk message ends in a server's answer to a startup (sent in
/// plaintext, without an SSLRequest), walking the frames by hand: a type byte, then a 4-byte
/// length that counts itself.
fn authentication_ok_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + 5) {
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let end = at + 1 + len;
        if header[0] == b'R' && len == 8 && bytes.get(at + 5..end) == Some(&[0, 0, 0, 0]) {
            return Some(end);
        }
        at = end;
    }
    None
}

/// The checks every cut attempt passes.
fn check_cut(exchange: Exchange, answer: &str, full: &ByteCounts, cut: Cut, seen: &Attempt) {
    // The proxy's own promise: never more than `after` bytes the way it cut.
    assert!(
        seen.counts.get(cut.direction) <= cut.after,
        "{exchange:?}: {cut:?} forwarded {:?}",
        seen.counts
    );
    match &seen.result {
        Ok(got) => assert_eq!(
            got, answer,
            "{exchange:?}: {cut:?} gave a wrong Ok (the clean answer is on the right)"
        ),
        Err(err) => {
            assert!(
                err.is_closed(),
                "{exchange:?}: {cut:?} failed with an error that does not say the connection \
                 is lost: {err} ({:?})",
                err.kind()
            );
            // A reset may cost the client what it had not read yet (Linux keeps it readable,
            // other systems may not), so only a close promises the whole answer.
            let everything =
                !cut.reset && cut.direction == Direction::ToClient && cut.after == full.to_client;
            assert!(
                !everything,
                "{exchange:?}: {cut:?} comes after the client received the whole answer, yet: {err}"
            );
        }
    }
}

/// The re-chunkings every exchange must get through with exactly the clean answer: one-byte
/// pieces, random pieces from a few seeds, everything coalesced, and pieces delayed.
pub fn rechunkings() -> Vec<(&'static str, FaultPlan)> {
    let mut plans = vec![
        (
            "one-byte pieces",
            FaultPlan::clean().chunked(Chunking::Fixed(1)),
        ),
        (
            "coalesced",
            FaultPlan::clean().chunked(Chunking::Coalesce {
                max: 64 * 1024,
                linger: Duration::from_millis(2),
            }),
        ),
        (
            "random pieces up to 40 bytes, each delayed 1 ms",
            FaultPlan::clean()
                .chunked(Chunking::Random { seed: 7, max: 40 })
                .delayed(Duration::from_millis(1)),
        ),
        (
            "one-byte pieces toward the client, each delayed 1 ms",
            FaultPlan {
                to_client: FaultPlan::clean()
                    .chunked(Chunking::Fixed(1))
                    .delayed(Duration::from_millis(1))
                    .to_client,
                ..FaultPlan::clean()
            },
        ),
    ];
    for seed in 1..=4 {
        plans.push((
            "random pieces up to 8 bytes",
            FaultPlan::clean().chunked(Chunking::Random { seed, max: 8 }),
        ));
    }
    plans
}

/// Runs `exchange` cleanly, then under every [`rechunkings`] plan, and checks each gives
/// exactly the clean answer with the same bytes each way.
pub async fn rechunked(exchange: Exchange, ctx: &Arc<Ctx>) {
    let clean = attempt(exchange, FaultPlan::clean(), ctx).await;
    let answer = match &clean.result {
        Ok(answer) => answer.clone(),
        Err(err) => panic!("{exchange:?}: the clean run failed: {err}"),
    };
    let mut set = JoinSet::new();
    for (name, plan) in rechunkings() {
        let ctx = ctx.clone();
        set.spawn(async move {
            let _slot = slot().await;
            let run = tokio::time::timeout(ATTEMPT_LIMIT, attempt(exchange, plan, &ctx)).await;
            (name, run)
        });
    }
    while let Some(joined) = set.join_next().await {
        let (name, run) = joined.unwrap_or_else(|err| panic!("{exchange:?}: panicked: {err}"));
        let seen = run.unwrap_or_else(|_| panic!("{exchange:?}: {name} hung"));
        match &seen.result {
            Ok(got) => assert_eq!(got, &answer, "{exchange:?}: {name} gave a wrong answer"),
            Err(err) => panic!("{exchange:?}: {name} failed: {err}"),
        }
        assert_eq!(
            seen.counts, clean.counts,
            "{exchange:?}: {name} moved other bytes"
        );
    }
}
