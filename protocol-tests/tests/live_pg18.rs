//! The protocol-touching live suite against PostgreSQL 18 beside the main PostgreSQL 15 server,
//! each asked for protocol 3.0 (libpq 18's default) and for `latest` (3.2): connect with each
//! authentication method, simple and extended queries, a pipeline, COPY both ways,
//! LISTEN/NOTIFY, the pool, and a real CancelRequest.
//!
//! The servers are the oracle: `SHOW server_version` says which one answered, and the bytes
//! they exchanged with tusk (recorded by a clean `FaultProxy` in between) show the version the
//! StartupMessage asked for, whether a NegotiateProtocolVersion came back, and the cancel key
//! the server issued, which the CancelRequest must carry whole (32 bytes under 3.2 on
//! PostgreSQL 18, 4 otherwise), with PostgreSQL 18 actually stopping the `pg_sleep` it names.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol_tests::fault_proxy::{Direction, FaultProxy, ProxiedConnection};
use protocol_tests::live;
use tusk::proto::backend::{self, Message};
use tusk::proto::frontend::CANCEL_REQUEST_CODE;
use tusk::{Config, Connection, Kind, Pool, ProtocolVersion, SqlState};

/// One server asked for one protocol version.
#[derive(Debug, Clone, Copy)]
struct Case {
    /// The server's major version, as `SHOW server_version` starts.
    major: &'static str,
    port: u16,
    max: ProtocolVersion,
}

impl Case {
    /// What the session must run at: 3.2 only when asked for and the server is 18.
    fn expected(&self) -> ProtocolVersion {
        if self.major == "18" {
            self.max
        } else {
            ProtocolVersion::V3_0
        }
    }

    /// The cancel key length the server must issue.
    fn key_len(&self) -> usize {
        if self.expected() == ProtocolVersion::V3_2 {
            32
        } else {
            4
        }
    }

    fn config(&self, port: u16, user: &str, password: &str) -> Config {
        Config::new()
            .host("127.0.0.1")
            .port(port)
            .user(user)
            .password(password)
            .dbname(&live::env("TUSK_PG_DBNAME"))
            .ssl_mode(tusk::SslMode::Disable)
            .max_protocol_version(self.max)
    }
}

/// The main server and the PostgreSQL 18 server, each with 3.0 and `latest`; `None` when the
/// PostgreSQL 18 server is missing and the skip is allowed.
fn cases() -> Option<Vec<Case>> {
    let pg18 = live::pg18()?;
    let mut cases = Vec::new();
    for (major, port) in [("15", live::port()), ("18", pg18)] {
        for max in [ProtocolVersion::V3_0, ProtocolVersion::LATEST] {
            cases.push(Case { major, port, max });
        }
    }
    Some(cases)
}

/// The backend messages a recorded server-to-client stream starts with, up to the first
/// ReadyForQuery.
fn startup_messages(conn: &ProxiedConnection) -> Vec<Message> {
    let mut buf = BytesMut::from(&conn.bytes(Direction::ToClient)[..]);
    let mut messages = Vec::new();
    while let Some(msg) = backend::decode(&mut buf, 1 << 20).expect("the server's bytes decode") {
        let ready = matches!(msg, Message::ReadyForQuery(_));
        messages.push(msg);
        if ready {
            return messages;
        }
    }
    panic!("no ReadyForQuery in the recorded startup: {messages:?}");
}

/// The version code the recorded StartupMessage asked for.
fn requested(conn: &ProxiedConnection) -> ProtocolVersion {
    let sent = conn.bytes(Direction::ToServer);
    ProtocolVersion::from_code(i32::from_be_bytes(sent[4..8].try_into().unwrap()))
}

/// Checks the startup a proxied connection recorded against the case; returns the cancel key.
fn check_startup(case: &Case, conn: &ProxiedConnection) -> (i32, Vec<u8>) {
    assert_eq!(requested(conn), case.max, "{case:?}");
    let messages = startup_messages(conn);
    let negotiations: Vec<_> = messages
        .iter()
        .filter_map(|m| match m {
            Message::NegotiateProtocolVersion(n) => Some(n),
            _ => None,
        })
        .collect();
    if case.max == case.expected() {
        assert!(negotiations.is_empty(), "{case:?}: {negotiations:?}");
    } else {
        // PostgreSQL 15 answered the 3.2 request: 3.0 (the whole code, 196608), no options.
        assert_eq!(negotiations.len(), 1, "{case:?}");
        assert_eq!(negotiations[0].newest_minor, ProtocolVersion::V3_0.code());
        assert!(negotiations[0].unrecognized.is_empty());
    }
    let key = messages
        .iter()
        .find_map(|m| match m {
            Message::BackendKeyData(k) => Some(k.clone()),
            _ => None,
        })
        .expect("BackendKeyData");
    assert_eq!(key.secret_key.len(), case.key_len(), "{case:?}");
    (key.process_id, key.secret_key.to_vec())
}

async fn server_version(conn: &mut Connection) -> String {
    let row = conn.query_one("SHOW server_version", &[]).await.unwrap();
    row.get::<_, String>(0)
}

#[tokio::test]
async fn every_auth_method_negotiates_the_version_the_server_speaks() {
    let Some(cases) = cases() else { return };
    for case in cases {
        let proxy = FaultProxy::start(case.port).await;
        for (user, password) in [
            ("tusk_trust", ""),
            ("tusk_password", "pw_password"),
            ("tusk_md5", "pw_md5"),
            ("tusk_scram", "pw_scram"),
        ] {
            let mut conn = case
                .config(proxy.port, user, password)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{case:?} {user}: {e}"));
            assert_eq!(conn.protocol_version(), case.expected(), "{case:?} {user}");
            let version = server_version(&mut conn).await;
            assert!(
                version.starts_with(&format!("{}.", case.major)),
                "{version}"
            );
            let recorded = proxy.connections().pop().unwrap();
            let (pid, _) = check_startup(&case, &recorded);
            assert_eq!(conn.backend_pid(), Some(pid));
            let who: String = conn
                .query_one("SELECT current_user::text", &[])
                .await
                .unwrap()
                .get(0);
            assert_eq!(who, user);
            conn.close().await.unwrap();
        }
    }
}

#[tokio::test]
async fn queries_pipelines_copy_and_notifications_run_at_each_version() {
    let Some(cases) = cases() else { return };
    for case in cases {
        let config = case.config(case.port, "tusk", "tusk");
        let mut conn = config.connect().await.unwrap();
        assert_eq!(conn.protocol_version(), case.expected());
        // Simple protocol.
        conn.batch_execute("CREATE TEMP TABLE p18 (id int4, s text); SELECT 1")
            .await
            .unwrap();
        // Extended protocol, a prepared statement, a NULL.
        let n = conn
            .execute(
                "INSERT INTO p18 VALUES ($1, $2), ($3, NULL)",
                &[&1i32, &"one", &2i32],
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        let stmt = conn
            .prepare("SELECT s FROM p18 WHERE id = $1")
            .await
            .unwrap();
        let row = conn.query_one(&stmt, &[&1i32]).await.unwrap();
        assert_eq!(row.get::<_, &str>(0), "one");
        // A pipeline: one round trip, answers in order.
        let values: Vec<i32> = (0..20).collect();
        let mut p = conn.pipeline();
        for i in &values {
            p.query("SELECT $1::int4 * 3", &[i]);
        }
        let results = p.run().await.unwrap();
        for (i, result) in results.iter().enumerate() {
            assert_eq!(
                result.as_ref().unwrap().rows()[0].get::<_, i32>(0),
                i as i32 * 3
            );
        }
        // COPY in and out.
        let mut copy = conn.copy_in("COPY p18 FROM STDIN").await.unwrap();
        copy.send(&b"3\tthree\n4\t\\N\n"[..]).await.unwrap();
        assert_eq!(copy.finish().await.unwrap(), 2);
        let mut out = conn
            .copy_out("COPY (SELECT * FROM p18 ORDER BY id) TO STDOUT")
            .await
            .unwrap();
        let mut text = Vec::new();
        while let Some(chunk) = out.next_chunk().await.unwrap() {
            text.extend_from_slice(&chunk);
        }
        drop(out);
        assert_eq!(text, b"1\tone\n2\t\\N\n3\tthree\n4\t\\N\n");
        // LISTEN/NOTIFY from another session of the same server.
        conn.batch_execute("LISTEN p18_channel").await.unwrap();
        let mut sender = config.connect().await.unwrap();
        sender
            .execute("SELECT pg_notify('p18_channel', $1)", &[&case.major])
            .await
            .unwrap();
        let note = tokio::time::timeout(Duration::from_secs(5), conn.next_notification())
            .await
            .expect("no notification in time")
            .unwrap();
        assert_eq!(
            (note.channel.as_str(), note.payload.as_str()),
            ("p18_channel", case.major)
        );
        assert_eq!(note.process_id, sender.backend_pid().unwrap());
    }
}

#[tokio::test]
async fn a_cancel_request_carries_the_whole_key_and_stops_the_statement() {
    let Some(cases) = cases() else { return };
    for case in cases {
        let proxy = FaultProxy::start(case.port).await;
        let mut conn = case
            .config(proxy.port, "tusk", "tusk")
            .connect()
            .await
            .unwrap();
        let (pid, key) = check_startup(&case, &proxy.connections()[0]);
        let token = conn.cancel_token();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            token.cancel().await
        });
        let started = Instant::now();
        let err = conn.execute("SELECT pg_sleep(10)", &[]).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&SqlState::QUERY_CANCELED),
            "{case:?}: {err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        canceller.await.unwrap().unwrap();
        // The cancel went through the proxy on a connection of its own: length 12 + key,
        // the code, the process ID, the key the server issued.
        let cancel = proxy.connections()[1].bytes(Direction::ToServer);
        assert_eq!(cancel.len(), 12 + key.len(), "{case:?}");
        assert_eq!(&cancel[..4], &((12 + key.len()) as i32).to_be_bytes());
        assert_eq!(&cancel[4..8], &CANCEL_REQUEST_CODE.to_be_bytes());
        assert_eq!(&cancel[8..12], &pid.to_be_bytes());
        assert_eq!(&cancel[12..], &key[..]);
        // The session goes on.
        assert_eq!(
            server_version(&mut conn).await.split('.').next(),
            Some(case.major)
        );
    }
}

#[tokio::test]
async fn the_pool_connects_at_the_configured_version() {
    let Some(cases) = cases() else { return };
    for case in cases {
        let pool = Pool::builder(case.config(case.port, "tusk_scram", "pw_scram"))
            .max_size(2)
            .build();
        let row = pool
            .query_one("SELECT $1::int4 + 1", &[&41i32])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i32>(0), 42);
        let mut conn = pool.get().await.unwrap();
        assert_eq!(conn.protocol_version(), case.expected());
        assert!(server_version(&mut conn).await.starts_with(case.major));
    }
}

#[tokio::test]
async fn min_protocol_version_3_2_needs_postgresql_18() {
    let Some(pg18) = live::pg18() else { return };
    let only_32 = |port: u16| {
        Config::new()
            .host("127.0.0.1")
            .port(port)
            .user("tusk")
            .password("tusk")
            .dbname(&live::env("TUSK_PG_DBNAME"))
            .min_protocol_version(ProtocolVersion::V3_2)
    };
    // PostgreSQL 15 can only offer 3.0.
    let err = only_32(live::port()).connect().await.unwrap_err();
    assert_eq!(err.kind(), Kind::Protocol, "{err}");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        text.contains(
            "server only supports protocol version 3.0, but \"min_protocol_version\" was set \
             to 3.2"
        ),
        "{text}"
    );
    // PostgreSQL 18 speaks it (max defaults to latest when min is above 3.0).
    let mut conn = only_32(pg18).connect().await.unwrap();
    assert_eq!(conn.protocol_version(), ProtocolVersion::V3_2);
    assert!(server_version(&mut conn).await.starts_with("18."));
}
