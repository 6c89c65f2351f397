//! The logging proxy of `examples/proxy.rs` (its own code, included below) between tusk and the
//! real test server: tusk connects through it (SSLRequest answered `N` by the proxy, SCRAM,
//! cleartext and MD5 passwords, a cancel request), its queries get the server's answers, and
//! the proxy logs each message in both directions as the codec decodes it.

#[allow(dead_code)] // the example's `main` is not used here
#[path = "../../examples/proxy.rs"]
mod proxy;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol_tests::errors::expect_db;
use protocol_tests::live;
use tokio::net::TcpListener;
use tusk::{Connection, SqlState};

/// A proxy in front of the test server, and the lines it has logged.
struct Running {
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    async fn start() -> Running {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local address").port();
        let upstream = SocketAddr::from(([127, 0, 0, 1], live::port()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let log: proxy::Log = Arc::new(move |line| sink.lock().unwrap().push(line));
        tokio::spawn(proxy::serve(listener, upstream, log));
        Running { port, lines }
    }

    fn conn_str(&self, user: &str, password: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname=tusk \
             application_name=proxied connect_timeout=10",
            self.port
        )
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until a logged line equals `line`: the relays log on their own tasks.
    async fn wait_for(&self, line: &str) {
        for _ in 0..1000 {
            if self.lines().iter().any(|l| l == line) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the proxy never logged {line:?}; it logged:\n{:#?}",
            self.lines()
        );
    }
}

/// Checks that `lines` holds a line matching each of `expected` in that order (others may come
/// between them): `"=text"` must equal the line, anything else must start it.
fn assert_in_order(lines: &[String], expected: &[&str]) {
    let mut at = 0;
    for pattern in expected {
        let matches = |line: &String| match pattern.strip_prefix('=') {
            Some(exact) => line == exact,
            None => line.starts_with(pattern),
        };
        match lines[at..].iter().position(matches) {
            Some(found) => at += found + 1,
            None => panic!("no line {pattern:?} after line {at}; the proxy logged:\n{lines:#?}"),
        }
    }
}

#[tokio::test]
async fn tusk_works_through_the_proxy_and_every_message_is_logged() {
    let proxy = Running::start().await;
    let mut conn = Connection::connect(&proxy.conn_str("tusk", "tusk"))
        .await
        .expect("connect through the proxy");
    let pid = conn.backend_pid().expect("a backend key");
    let rows = conn
        .query("SELECT $1::int4 + 1 AS n", &[&41i32])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i32>(0), 42);
    conn.batch_execute("SELECT 1; SELECT 2").await.unwrap();
    let error = conn.execute("SELECT 1/0", &[]).await.unwrap_err();
    expect_db(&error, &SqlState::DIVISION_BY_ZERO);
    conn.close().await.unwrap();
    proxy.wait_for("S→C (closed)").await;

    let lines = proxy.lines();
    assert_in_order(
        &lines,
        &[
            "=C→S SSLRequest",
            "=S→C N (answered by the proxy: no TLS, the client goes on in plaintext)",
            "C→S StartupMessage 3.0 user=tusk database=tusk",
            // Plaintext: no channel binding to offer.
            "=S→C AuthenticationSASL SCRAM-SHA-256",
            "C→S SASLInitialResponse SCRAM-SHA-256 (",
            "S→C AuthenticationSASLContinue (",
            "C→S SASLResponse (",
            "S→C AuthenticationSASLFinal (",
            "=S→C AuthenticationOk",
            "S→C ParameterStatus server_version=15",
            &format!("S→C BackendKeyData pid {pid} (4-byte key)"),
            "=S→C ReadyForQuery idle",
            // Parse / Describe / Flush, then Bind / Execute / Sync.
            "C→S Parse statement ",
            "=C→S Describe statement \"tusk_s1\"",
            "=C→S Flush",
            "=S→C ParseComplete",
            "=S→C ParameterDescription [23]",
            "=S→C RowDescription 1 field: n",
            "C→S Bind portal \"\" statement \"tusk_s1\" 1 param",
            "=C→S Execute portal \"\" all rows",
            "=C→S Sync",
            "=S→C BindComplete",
            "=S→C DataRow 1 column",
            "=S→C CommandComplete \"SELECT 1\"",
            "=S→C ReadyForQuery idle",
            "=C→S Query \"SELECT 1; SELECT 2\"",
            "=S→C RowDescription 1 field: ?column?",
            "=S→C DataRow 1 column",
            "=S→C CommandComplete \"SELECT 1\"",
            "=S→C DataRow 1 column",
            "=S→C ReadyForQuery idle",
            "C→S Parse statement \"tusk_s2\" \"SELECT 1/0\"",
            "=S→C ErrorResponse ERROR 22012 \"division by zero\"",
            "=S→C ReadyForQuery idle",
            "=C→S Terminate",
            "=S→C (closed)",
        ],
    );
    // The one StartupMessage carries tusk's parameters, the application name among them.
    let startup: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("StartupMessage"))
        .collect();
    assert_eq!(startup.len(), 1, "{lines:#?}");
    assert!(
        startup[0].contains(" application_name=proxied"),
        "{}",
        startup[0]
    );
    // The SCRAM exchange is summarised by its lengths, never printed.
    let sasl: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("SASL") && !l.ends_with("AuthenticationSASL SCRAM-SHA-256"))
        .collect();
    assert_eq!(sasl.len(), 4, "{lines:#?}");
    assert!(sasl.iter().all(|l| l.ends_with(" bytes)")), "{sasl:#?}");
}

#[tokio::test]
async fn password_responses_are_told_apart_by_the_request_before_them() {
    let proxy = Running::start().await;
    for (user, password, request) in [
        (
            "tusk_password",
            "pw_password",
            "AuthenticationCleartextPassword",
        ),
        ("tusk_md5", "pw_md5", "AuthenticationMD5Password"),
    ] {
        let conn = Connection::connect(&proxy.conn_str(user, password))
            .await
            .unwrap_or_else(|e| panic!("{user} through the proxy: {e}"));
        conn.close().await.unwrap();
        // The cleartext password with its NUL; "md5" and 32 hex digits with their NUL.
        let len = if user == "tusk_md5" {
            36
        } else {
            password.len() + 1
        };
        let lines = proxy.lines();
        assert_in_order(
            &lines,
            &[
                &format!("C→S StartupMessage 3.0 user={user} "),
                &format!("={}", format_args!("S→C {request}")),
                &format!("=C→S PasswordMessage ({len} bytes)"),
                "=S→C AuthenticationOk",
            ],
        );
        assert!(!lines.iter().any(|l| l.contains(password)), "{lines:#?}");
        proxy.lines.lock().unwrap().clear();
    }
}

#[tokio::test]
async fn a_cancel_request_goes_through_the_proxy() {
    let proxy = Running::start().await;
    let mut conn = Connection::connect(&proxy.conn_str("tusk", "tusk"))
        .await
        .unwrap();
    let pid = conn.backend_pid().expect("a backend key");
    let token = conn.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel().await
    });
    let error = conn.execute("SELECT pg_sleep(30)", &[]).await.unwrap_err();
    expect_db(&error, &SqlState::QUERY_CANCELED);
    canceller
        .await
        .unwrap()
        .expect("the cancel request was sent");
    assert_in_order(
        &proxy.lines(),
        &[&format!("=C→S CancelRequest pid {pid} (4-byte key)")],
    );
    // The session goes on.
    assert_eq!(
        conn.query_one("SELECT 7", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        7
    );
}
