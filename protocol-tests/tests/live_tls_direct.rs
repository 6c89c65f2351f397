//! `sslnegotiation=direct`, and what only a TLS server that is not PostgreSQL can show: the
//! in-process TLS proxy (`protocol_tests::tls_proxy`, a test helper) terminates TLS in front of
//! the real plaintext server, so the session is real while the TLS side can be varied — direct
//! negotiation with ALPN (the PostgreSQL 15 here has none), a server that asks for no client
//! certificate, a server that cannot offer SCRAM-SHA-256-PLUS, and the connections a cancel
//! request opens.

use std::time::{Duration, Instant};

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::live::{self, TlsServers};
use protocol_tests::tls_proxy::{TlsProxy, TlsProxyOptions};
use tusk::{Connection, Kind, SqlState};

/// A proxy serving the test server certificate (for `localhost`) in front of the plaintext
/// server.
async fn proxy(tls: &TlsServers, accept_ssl_request: bool, accept_direct: bool) -> TlsProxy {
    let mut options = TlsProxyOptions::new(
        ("127.0.0.1".into(), live::port()),
        tls.dir.join("server.crt"),
        tls.dir.join("server.key"),
    );
    options.accept_ssl_request = accept_ssl_request;
    options.accept_direct = accept_direct;
    TlsProxy::start(options)
        .await
        .expect("the TLS proxy starts")
}

fn through(proxy: &TlsProxy, tls: &TlsServers, settings: &str) -> String {
    format!(
        "host=localhost port={} user=tusk_scram password=pw_scram dbname=tusk connect_timeout=10 \
         sslrootcert={} {settings}",
        proxy.port,
        tls.file("ca.crt")
    )
}

#[tokio::test]
async fn direct_negotiation_sends_a_client_hello_with_alpn_postgresql() {
    let Some(tls) = live::tls() else { return };
    let proxy = proxy(&tls, false, true).await;
    let conn_str = through(&proxy, &tls, "sslmode=verify-full sslnegotiation=direct");
    let mut conn = Connection::connect(&conn_str).await.unwrap();
    assert!(conn.ssl_in_use());
    let row = conn.query_one("SELECT 40 + 2", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    conn.close().await.unwrap();
    let seen = proxy.ended(1).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].direct && !seen[0].ssl_request, "{seen:?}");
    assert_eq!(seen[0].alpn.as_deref(), Some(&b"postgresql"[..]));
    assert_eq!(seen[0].sni.as_deref(), Some("localhost"));
}

#[tokio::test]
async fn the_default_negotiation_sends_an_sslrequest_first() {
    let Some(tls) = live::tls() else { return };
    let proxy = proxy(&tls, true, false).await;
    let mut conn = Connection::connect(&through(&proxy, &tls, "sslmode=verify-full"))
        .await
        .unwrap();
    assert!(conn.ssl_in_use());
    assert!(conn.ssl_protocol_version().unwrap().starts_with("TLSv1."));
    conn.simple_query("SELECT 1").await.unwrap();
    conn.close().await.unwrap();
    let seen = proxy.ended(1).await;
    assert!(
        seen[0].ssl_request && !seen[0].direct && seen[0].tls,
        "{seen:?}"
    );
}

#[tokio::test]
async fn direct_negotiation_against_postgresql_15_fails_quickly_and_cleanly() {
    let Some(tls) = live::tls() else { return };
    let conn_str = format!(
        "{} sslmode=require sslnegotiation=direct",
        tls.conn("localhost", "tusk_scram", "pw_scram")
    );
    let started = Instant::now();
    let err = Connection::connect(&conn_str).await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}: {err:?}");
    assert!(
        matches!(err.kind(), Kind::Io | Kind::Tls | Kind::Closed),
        "{err:?}"
    );
    // A weak sslmode cannot be combined with direct negotiation at all.
    let err = Connection::connect(&format!(
        "{} sslnegotiation=direct",
        tls.conn("localhost", "tusk_scram", "pw_scram")
    ))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), Kind::Config, "{err:?}");
}

#[tokio::test]
async fn a_server_refusing_the_sslrequest_fails_require_and_falls_back_under_prefer() {
    let Some(tls) = live::tls() else { return };
    let proxy = proxy(&tls, false, false).await;
    let err = Connection::connect(&through(&proxy, &tls, "sslmode=require"))
        .await
        .unwrap_err();
    expect_message(&err, Kind::Tls, "does not support SSL");
    let conn = Connection::connect(&through(&proxy, &tls, "sslmode=prefer"))
        .await
        .unwrap();
    assert!(!conn.ssl_in_use());
}

#[tokio::test]
async fn sslcertmode_require_fails_when_the_server_asks_for_no_certificate() {
    let Some(tls) = live::tls() else { return };
    let proxy = proxy(&tls, true, true).await;
    let conn_str = through(
        &proxy,
        &tls,
        &format!(
            "sslmode=verify-full sslcertmode=require sslcert={} sslkey={}",
            tls.file("client.crt"),
            tls.file("client.key")
        ),
    );
    let err = Connection::connect(&conn_str).await.unwrap_err();
    expect_message(&err, Kind::Tls, "did not request an SSL certificate");
    // allow (the default) goes on without sending it.
    let conn_str = conn_str.replace("sslcertmode=require", "sslcertmode=allow");
    Connection::connect(&conn_str).await.unwrap();
}

/// Through the proxy the client is on TLS but the server is not, so it cannot offer
/// SCRAM-SHA-256-PLUS: `require` refuses before any proof, and `prefer` authenticates with the
/// gs2 flag `y` ("I could bind, you offered no binding"), which the server accepts because it
/// indeed cannot bind.
#[tokio::test]
async fn channel_binding_when_the_server_cannot_offer_plus() {
    let Some(tls) = live::tls() else { return };
    let proxy = proxy(&tls, true, true).await;
    let err = Connection::connect(&through(
        &proxy,
        &tls,
        "sslmode=verify-full channel_binding=require",
    ))
    .await
    .unwrap_err();
    expect_message(&err, Kind::Auth, "does not offer SCRAM-SHA-256-PLUS");
    let mut conn = Connection::connect(&through(
        &proxy,
        &tls,
        "sslmode=verify-full channel_binding=prefer",
    ))
    .await
    .unwrap();
    conn.simple_query("SELECT 1").await.unwrap();
}

/// The cancel request of a TLS session travels over TLS too, negotiated the same way.
#[tokio::test]
async fn a_cancel_request_uses_the_sessions_tls() {
    let Some(tls) = live::tls() else { return };
    for settings in [
        "sslmode=verify-full",
        "sslmode=verify-full sslnegotiation=direct",
    ] {
        let proxy = proxy(&tls, true, true).await;
        let mut conn = Connection::connect(&through(&proxy, &tls, settings))
            .await
            .unwrap();
        let token = conn.cancel_token();
        let canceller = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            token.cancel().await
        });
        let err = conn.execute("SELECT pg_sleep(30)", &[]).await.unwrap_err();
        expect_db(&err, &SqlState::QUERY_CANCELED);
        canceller.await.unwrap().unwrap();
        // The cancel connection has ended; the session still runs.
        let seen = proxy.ended(1).await;
        assert_eq!(seen.len(), 1, "{settings}: {seen:?}");
        assert!(
            seen[0].tls,
            "{settings}: the cancel request went in plaintext"
        );
        assert_eq!(
            seen[0].direct,
            settings.contains("direct"),
            "{settings}: {seen:?}"
        );
        conn.simple_query("SELECT 1").await.unwrap();
    }
}

/// `sslsni=0` keeps the host name out of the ClientHello (it is still verified).
#[tokio::test]
async fn sslsni_off_sends_no_server_name() {
    let Some(tls) = live::tls() else { return };
    let proxy = proxy(&tls, true, true).await;
    let mut conn = Connection::connect(&through(&proxy, &tls, "sslmode=verify-full sslsni=0"))
        .await
        .unwrap();
    conn.simple_query("SELECT 1").await.unwrap();
    conn.close().await.unwrap();
    let seen = proxy.ended(1).await;
    assert!(seen[0].tls, "{seen:?}");
    assert_eq!(seen[0].sni, None, "{seen:?}");
}
