//! Hostile and rare server behaviour, from the scripted fake backend (NOT a real PostgreSQL:
//! these are the cases a real server will not produce on demand). Every case must end in a
//! typed error: no panic, no hang.

use std::time::Duration;

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::fake::{FakeClient, FakeServer};
use protocol_tests::wire;
use tusk::proto::server::FrontendMessage;
use tusk::{Connection, Kind, SqlState};

/// Connects to `server` within a deadline, so a hang fails the test instead of stalling it.
async fn connect(server: &FakeServer, password: Option<&str>) -> Result<Connection, tusk::Error> {
    let conn_str = server.conn_str("alice", password);
    tokio::time::timeout(Duration::from_secs(10), Connection::connect(&conn_str))
        .await
        .expect("connect must not hang")
}

/// Extracts the client nonce from a SASLInitialResponse body.
fn client_nonce(message: &FrontendMessage) -> String {
    let FrontendMessage::AuthResponse(response) = message else {
        panic!("expected SASLInitialResponse, got {message:?}")
    };
    let initial = response.as_sasl_initial_response().unwrap();
    assert_eq!(initial.mechanism, "SCRAM-SHA-256");
    // "n,,n=,r=<nonce>"
    let data = std::str::from_utf8(initial.data.expect("an initial response")).unwrap();
    data.rsplit("r=").next().unwrap().to_owned()
}

#[tokio::test]
async fn trust_login_and_parameters() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&[wire::auth_ok(), wire::startup_tail()].concat())
            .await?;
        c.read_to_end().await?;
        Ok(())
    })
    .await;
    let conn = connect(&server, None).await.unwrap();
    assert_eq!(conn.parameter("server_version"), Some("15.99 (fake)"));
    assert_eq!(conn.backend_pid(), Some(4242));
    conn.close().await.unwrap();
    server.finish().await.unwrap();
}

#[tokio::test]
async fn wrong_scram_server_signature_is_refused() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::auth_sasl(&["SCRAM-SHA-256"])).await?;
        let nonce = client_nonce(&c.read_frontend().await?);
        let first = format!("r={nonce}SERVERPART,s=QSXCR+Q6sek8bf92,i=4096");
        c.send(&wire::auth_sasl_continue(first.as_bytes())).await?;
        c.read_message().await?; // client-final
                                 // A signature the server could only produce by knowing the password: this one is wrong.
        c.send(&wire::auth_sasl_final(
            b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ))
        .await?;
        c.send(&[wire::auth_ok(), wire::startup_tail()].concat())
            .await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let err = connect(&server, Some("secret")).await.unwrap_err();
    expect_message(
        &err,
        Kind::Auth,
        "the server's SCRAM signature is wrong: the server does not know the password",
    );
}

#[tokio::test]
async fn scram_skipping_the_final_message_is_refused() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::auth_sasl(&["SCRAM-SHA-256"])).await?;
        let nonce = client_nonce(&c.read_frontend().await?);
        let first = format!("r={nonce}X,s=QSXCR+Q6sek8bf92,i=4096");
        c.send(&wire::auth_sasl_continue(first.as_bytes())).await?;
        c.read_message().await?;
        // AuthenticationOk without SASLFinal: the server never proved it knows the password.
        c.send(&[wire::auth_ok(), wire::startup_tail()].concat())
            .await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let err = connect(&server, Some("secret")).await.unwrap_err();
    expect_message(
        &err,
        Kind::Auth,
        "the server ended the SCRAM exchange without proving it knows the password",
    );
}

#[tokio::test]
async fn scram_nonce_not_extending_ours_is_refused() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::auth_sasl(&["SCRAM-SHA-256"])).await?;
        c.read_message().await?;
        c.send(&wire::auth_sasl_continue(
            b"r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096",
        ))
        .await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let err = connect(&server, Some("secret")).await.unwrap_err();
    expect_message(
        &err,
        Kind::Auth,
        "server-first-message: the server nonce does not extend the client nonce",
    );
}

#[tokio::test]
async fn unsupported_and_unknown_auth_methods_are_refused() {
    // 2 = Kerberos V5, 7 = GSS, 9 = SSPI, 6 = SCM credentials, 99 = not a method at all.
    for (code, method) in [
        (2, "Kerberos V5 (tusk supports"),
        (6, "SCM credentials (tusk supports"),
        (7, "GSSAPI (tusk supports"),
        (9, "SSPI (tusk supports"),
        (99, "code 99"),
    ] {
        let server = FakeServer::start(move |mut c: FakeClient| async move {
            c.read_startup().await?;
            c.send(&wire::auth_code(code)).await?;
            let _ = c.read_to_end().await;
            Ok(())
        })
        .await;
        let err = connect(&server, Some("secret")).await.unwrap_err();
        expect_message(
            &err,
            Kind::Auth,
            &format!("the server requested unsupported authentication method {method}"),
        );
    }
}

#[tokio::test]
async fn sasl_without_a_supported_mechanism_is_refused() {
    let cases: [(&[&str], &str); 2] = [
        (
            &["OAUTHBEARER"],
            "the server requested unsupported authentication method SASL with mechanisms \
             [\"OAUTHBEARER\"] (tusk supports SCRAM-SHA-256 and SCRAM-SHA-256-PLUS)",
        ),
        // PLUS needs TLS, which this plaintext session does not have.
        (
            &["SCRAM-SHA-256-PLUS", "OAUTHBEARER"],
            "the server offers only SCRAM-SHA-256-PLUS, which needs channel binding data from \
             a TLS connection, but the connection is not using TLS",
        ),
    ];
    for (mechanisms, expected) in cases {
        let server = FakeServer::start(move |mut c: FakeClient| async move {
            c.read_startup().await?;
            c.send(&wire::auth_sasl(mechanisms)).await?;
            let _ = c.read_to_end().await;
            Ok(())
        })
        .await;
        let err = connect(&server, Some("secret")).await.unwrap_err();
        expect_message(&err, Kind::Auth, expected);
    }
}

#[tokio::test]
async fn password_requested_but_none_given() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::auth_md5([1, 2, 3, 4])).await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    // Make sure no ~/.pgpass or PGPASSWORD fills the gap: the password file is one that does
    // not exist, and `Config::connect` reads no PG* variable (unlike `Connection::connect`).
    let config: tusk::Config = format!(
        "{} passfile=/nonexistent/pgpass",
        server.conn_str("alice", None)
    )
    .parse()
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), config.connect())
        .await
        .unwrap();
    let err = match err {
        Ok(_) => panic!("connected without a password"),
        Err(e) => e,
    };
    expect_message(
        &err,
        Kind::Auth,
        "the server requires md5 authentication for user \"alice\" but no password was given",
    );
}

/// An ErrorResponse at each step of the startup exchange becomes a Db error with its SQLSTATE.
#[tokio::test]
async fn error_response_at_each_startup_step() {
    for step in 0..4 {
        let server = FakeServer::start(move |mut c: FakeClient| async move {
            c.read_startup().await?;
            let error = wire::fatal("53300", "sorry, too many clients already");
            let script: Vec<Vec<u8>> = vec![
                wire::auth_cleartext(),
                wire::auth_ok(),
                wire::parameter_status("server_version", "15"),
                wire::backend_key(1, 2),
            ];
            for (i, m) in script.iter().enumerate() {
                if i == step {
                    break;
                }
                c.send(m).await?;
                if i == 0 {
                    c.read_message().await?; // the password
                }
            }
            c.send(&error).await?;
            c.close().await
        })
        .await;
        let err = connect(&server, Some("pw")).await.unwrap_err();
        expect_db(&err, &SqlState::TOO_MANY_CONNECTIONS);
        let db = err.as_db_error().unwrap();
        assert_eq!(db.severity, "FATAL");
        assert_eq!(db.message, "sorry, too many clients already");
        server.finish().await.unwrap();
    }
}

/// The server's side of a successful cleartext startup, as bytes.
fn full_startup_reply() -> Vec<u8> {
    [wire::auth_ok(), wire::startup_tail()].concat()
}

/// The connection cut after every prefix of the server's startup reply: a typed error each
/// time (Closed/Io), never a panic or a hang.
#[tokio::test]
async fn cut_at_every_byte_of_startup() {
    let reply = full_startup_reply();
    for cut in 0..reply.len() {
        let prefix = reply[..cut].to_vec();
        let server = FakeServer::start(move |mut c: FakeClient| async move {
            c.read_startup().await?;
            c.send(&prefix).await?;
            c.close().await
        })
        .await;
        let err = connect(&server, None)
            .await
            .expect_err("a cut startup must fail");
        expect_message(&err, Kind::Closed, "closed the connection during startup");
        assert!(err.is_closed(), "cut at {cut}");
    }
}

#[tokio::test]
async fn oversized_length_is_refused_before_allocating() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        // 'R' with a 2 GiB - 1 length: must be refused from the header alone.
        c.send(&[b'R', 0x7f, 0xff, 0xff, 0xff]).await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let err = connect(&server, None).await.unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "backend message 'R' declares length 2147483647, outside 4..=",
    );
}

#[tokio::test]
async fn configured_max_message_len_is_enforced() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::auth_ok()).await?;
        c.send(&wire::parameter_status("big", &"x".repeat(4096)))
            .await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let config: tusk::Config = server.conn_str("alice", None).parse().unwrap();
    let err = config.max_message_len(1024).connect().await.unwrap_err();
    expect_message(
        &err,
        Kind::Protocol,
        "backend message 'S' declares length 4105, outside 4..=1024",
    );
}

#[tokio::test]
async fn unknown_tag_and_garbage_are_protocol_errors() {
    for (junk, expected) in [
        (
            b"!\x00\x00\x00\x04".to_vec(),
            "unknown backend message tag '!'",
        ),
        (
            b"\x00\x00\x00\x00\x00".to_vec(),
            "unknown backend message tag 0x00",
        ),
        (
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            "backend message 'H' declares length 1414811695, outside 4..=",
        ),
        // Authentication with a short body
        (wire::msg(b'R', &[0, 0]), "malformed Authentication message"),
        // ReadyForQuery too long
        (wire::msg(b'Z', b"IX"), "malformed ReadyForQuery message"),
        // unknown transaction status
        (wire::msg(b'Z', b"Q"), "malformed ReadyForQuery message"),
        // a DataRow cut inside its first column's length
        (
            wire::msg(b'D', &[0, 1, 0, 0, 0]),
            "malformed DataRow message: 1 items announced but only 3 bytes follow",
        ),
        // a well-formed DataRow (one empty value) during startup
        (
            wire::msg(b'D', &[0, 1, 0, 0, 0, 0]),
            "unexpected DataRow message while waiting for an authentication or startup message",
        ),
    ] {
        let server = FakeServer::start(move |mut c: FakeClient| async move {
            c.read_startup().await?;
            c.send(&wire::auth_ok()).await?;
            c.send(&junk).await?;
            let _ = c.read_to_end().await;
            Ok(())
        })
        .await;
        let err = connect(&server, None).await.unwrap_err();
        expect_message(&err, Kind::Protocol, expected);
    }
}

/// A notice during startup is absorbed. (A NegotiateProtocolVersion is no longer absorbed
/// blindly: its rules are in fake_negotiation.rs; one listing `_pq_.x`, which tusk never asks
/// for, fails the connection.)
#[tokio::test]
async fn notices_during_startup_are_absorbed() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&wire::fields(
            b'N',
            &[(b'S', "NOTICE"), (b'C', "00000"), (b'M', "hello")],
        ))
        .await?;
        c.send(&full_startup_reply()).await?;
        let _ = c.read_to_end().await;
        Ok(())
    })
    .await;
    let conn = connect(&server, None).await.unwrap();
    assert_eq!(conn.backend_pid(), Some(4242));
}

#[tokio::test]
async fn server_closing_mid_query_is_a_closed_error_and_the_connection_stays_closed() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&full_startup_reply()).await?;
        let (tag, _) = c.read_message().await?;
        assert_eq!(tag, b'Q');
        c.send(&wire::fatal(
            "57P01",
            "terminating connection due to administrator command",
        ))
        .await?;
        c.close().await
    })
    .await;
    let mut conn = connect(&server, None).await.unwrap();
    let err = conn.batch_execute("SELECT 1").await.unwrap_err();
    expect_db(&err, &SqlState::ADMIN_SHUTDOWN);
    assert!(err.is_closed());
    let err = conn.batch_execute("SELECT 1").await.unwrap_err();
    assert!(err.is_closed(), "{err}");
    expect_message(&err, Kind::Closed, "the connection is closed");
}

/// A server that sends its FATAL and closes while the client is writing, without reading what
/// the client sent (so its socket answers with a reset): the client's write fails before it
/// has read anything, and the FATAL waiting unread in its socket must still be what the caller
/// sees, not the reset.
#[tokio::test]
async fn a_fatal_waiting_unread_when_a_write_fails_is_the_error() {
    let server = FakeServer::start(|mut c: FakeClient| async move {
        c.read_startup().await?;
        c.send(&[wire::auth_ok(), wire::startup_tail()].concat())
            .await?;
        let (tag, _) = c.read_message().await?;
        assert_eq!(tag, b'Q', "the COPY statement");
        // CopyInResponse: text format, no columns.
        let copy_in = wire::msg(b'G', &[0, 0, 0]);
        let fatal = wire::fatal(
            "57P01",
            "terminating connection due to administrator command",
        );
        c.send(&copy_in).await?;
        // The FATAL goes out once the client is busy writing (its socket full, as nothing is
        // read here), so it waits unread in the client's socket; then the close, with the
        // client's data unread, answers with a reset.
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.send(&fatal).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(c);
        Ok(())
    })
    .await;
    let mut conn = connect(&server, None).await.unwrap();
    let mut copy = conn.copy_in("COPY t FROM STDIN").await.unwrap();
    // Far more than the socket buffers hold: the write must wait, then fail.
    let chunk = vec![b'x'; 1 << 20];
    let err = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Err(e) = copy.send(&chunk).await {
                return e;
            }
        }
    })
    .await
    .expect("the failed write must not hang");
    assert_eq!(
        err.code(),
        Some(&SqlState::ADMIN_SHUTDOWN),
        "the server's FATAL, not the reset after it: {err}"
    );
    server.finish().await.unwrap();
}
