//! LISTEN/NOTIFY against the real throwaway PostgreSQL: notifications while idle and while
//! busy, exotic payloads and channel names, bursts, and the Listener's reconnection.

use std::time::{Duration, Instant};

use protocol_tests::errors::{expect_db, expect_message};
use protocol_tests::live;
use tusk::{Config, Connection, Kind, Listener, ListenerEvent, Notification, SqlState};

async fn admin() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

fn config() -> Config {
    live::admin().parse().unwrap()
}

/// The next listener event, failing the test if none comes within `limit`.
async fn recv_within(listener: &mut Listener, limit: Duration) -> ListenerEvent {
    tokio::time::timeout(limit, listener.recv())
        .await
        .expect("no listener event in time")
        .expect("listener error")
}

async fn notification(listener: &mut Listener) -> Notification {
    match recv_within(listener, Duration::from_secs(5)).await {
        ListenerEvent::Notification(n) => n,
        other => panic!("expected a notification, got {other:?}"),
    }
}

async fn notify(conn: &mut Connection, channel: &str, payload: &str) {
    conn.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .await
        .unwrap();
}

#[tokio::test]
async fn an_idle_listener_wakes_up_promptly() {
    let mut listener = Listener::connect(config()).await.unwrap();
    listener.listen("tusk_idle").await.unwrap();
    let mut sender = admin().await;
    let sender_pid = sender.backend_pid().unwrap();
    let sent_at = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        notify(&mut sender, "tusk_idle", "wake up").await;
        Instant::now()
    });
    let started = Instant::now();
    let n = notification(&mut listener).await;
    let received = Instant::now();
    let sent_at = sent_at.await.unwrap();
    assert_eq!(n.channel, "tusk_idle");
    assert_eq!(n.payload, "wake up");
    assert_eq!(n.process_id, sender_pid);
    // It really waited for the NOTIFY, and woke soon after it.
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(
        received.saturating_duration_since(sent_at) < Duration::from_secs(1),
        "woke {:?} after the NOTIFY",
        received.saturating_duration_since(sent_at)
    );
}

#[tokio::test]
async fn a_connection_waits_for_notifications_while_idle() {
    let mut conn = admin().await;
    conn.batch_execute("LISTEN tusk_conn_idle").await.unwrap();
    let mut sender = admin().await;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        notify(&mut sender, "tusk_conn_idle", "one").await;
        notify(&mut sender, "tusk_conn_idle", "two").await;
    });
    for want in ["one", "two"] {
        let n = tokio::time::timeout(Duration::from_secs(5), conn.next_notification())
            .await
            .expect("no notification in time")
            .unwrap();
        assert_eq!(n.payload, want);
    }
    // The wait left the connection in step.
    let row = conn.query_one("SELECT 7::int4", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
}

#[tokio::test]
async fn a_notification_during_a_query_is_queued_not_mixed_into_rows() {
    let mut conn = admin().await;
    conn.batch_execute("LISTEN tusk_busy").await.unwrap();
    let mut sender = admin().await;
    let sender_task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        notify(&mut sender, "tusk_busy", "while you were busy").await;
    });
    // The NOTIFY commits while this query sleeps; the server delivers it when the query ends.
    let rows = conn
        .query(
            "SELECT g FROM (SELECT pg_sleep(0.5)) AS s, generate_series(1, 5) AS g ORDER BY g",
            &[],
        )
        .await
        .unwrap();
    sender_task.await.unwrap();
    let values: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(values, [1, 2, 3, 4, 5]);
    // Already queued by the time the query returned, and delivered after it.
    let queued = conn.take_notifications();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].payload, "while you were busy");

    // The same through the waiting call: a notification sent to itself during a query.
    conn.query("SELECT pg_notify('tusk_busy', 'self'), 1", &[])
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(1), conn.next_notification())
        .await
        .expect("the queued notification was not handed out")
        .unwrap();
    assert_eq!(n.payload, "self");
    assert_eq!(Some(n.process_id), conn.backend_pid());
}

#[tokio::test]
async fn payloads_and_channel_names_survive_quotes_and_non_ascii() {
    let mut listener = Listener::connect(config()).await.unwrap();
    let channel = "Tusk \"quoted\" 'chan' é";
    listener.listen(channel).await.unwrap();
    let mut sender = admin().await;
    let payload = "héllo wörld ✓ 'single' \"double\" \\ backslash; DROP TABLE x; -- ok";
    notify(&mut sender, channel, payload).await;
    notify(&mut sender, channel, "").await;
    let n = notification(&mut listener).await;
    assert_eq!(n.channel, channel);
    assert_eq!(n.payload, payload);
    let empty = notification(&mut listener).await;
    assert_eq!(empty.payload, "");

    // Quoted means case-sensitive: an unquoted NOTIFY goes to the folded name.
    listener.listen("MiXeD").await.unwrap();
    sender
        .batch_execute("NOTIFY MiXeD, 'folded'")
        .await
        .unwrap();
    notify(&mut sender, "MiXeD", "exact").await;
    let n = notification(&mut listener).await;
    assert_eq!((n.channel.as_str(), n.payload.as_str()), ("MiXeD", "exact"));
}

#[tokio::test]
async fn a_burst_arrives_whole_and_in_order() {
    let mut listener = Listener::connect(config()).await.unwrap();
    listener.listen("tusk_burst").await.unwrap();
    let mut sender = admin().await;
    // 2000 in one transaction, then 200 in as many transactions.
    sender
        .execute(
            "SELECT pg_notify('tusk_burst', g::text) FROM generate_series(1, 2000) AS g",
            &[],
        )
        .await
        .unwrap();
    for i in 2001..=2200 {
        notify(&mut sender, "tusk_burst", &i.to_string()).await;
    }
    for want in 1..=2200 {
        let n = notification(&mut listener).await;
        assert_eq!(n.payload, want.to_string());
    }
    // Nothing more is pending.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), listener.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn unlisten_stops_delivery() {
    let mut listener = Listener::connect(config()).await.unwrap();
    listener.listen("tusk_keep").await.unwrap();
    listener.listen("tusk_drop").await.unwrap();
    listener.unlisten("tusk_drop").await.unwrap();
    let mut sender = admin().await;
    notify(&mut sender, "tusk_drop", "gone").await;
    notify(&mut sender, "tusk_keep", "kept").await;
    assert_eq!(notification(&mut listener).await.payload, "kept");
    listener.unlisten_all().await.unwrap();
    notify(&mut sender, "tusk_keep", "gone too").await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), listener.recv())
            .await
            .is_err()
    );
    let err = listener.listen("").await.unwrap_err();
    expect_message(&err, Kind::Usage, "a channel name cannot be empty");
    let err = listener.listen(&"n".repeat(64)).await.unwrap_err();
    expect_message(
        &err,
        Kind::Usage,
        "64 bytes, more than PostgreSQL's 63-byte",
    );
}

#[tokio::test]
async fn a_dropped_recv_loses_nothing_and_listen_works_in_between() {
    let mut listener = Listener::connect(config()).await.unwrap();
    listener.listen("tusk_a").await.unwrap();
    // A recv abandoned while waiting.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), listener.recv())
            .await
            .is_err()
    );
    listener.listen("tusk_b").await.unwrap();
    let mut sender = admin().await;
    notify(&mut sender, "tusk_a", "a").await;
    notify(&mut sender, "tusk_b", "b").await;
    assert_eq!(notification(&mut listener).await.payload, "a");
    assert_eq!(notification(&mut listener).await.payload, "b");
    // Its own notifications carry its own process ID.
    listener.notify("tusk_a", "mine").await.unwrap();
    let n = notification(&mut listener).await;
    assert_eq!(Some(n.process_id), listener.backend_pid());
}

#[tokio::test]
async fn the_listener_reconnects_after_its_backend_is_terminated() {
    let mut listener = Listener::connect(config()).await.unwrap();
    listener.listen("tusk_reco").await.unwrap();
    listener.listen("tusk reco 2").await.unwrap();
    let old_pid = listener.backend_pid().unwrap();
    let mut admin = admin().await;
    // Delivered before the loss: must still come out first.
    notify(&mut admin, "tusk_reco", "before").await;
    // Let the listener's backend pass it on before it is killed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&old_pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);

    assert_eq!(notification(&mut listener).await.payload, "before");
    let started = Instant::now();
    match recv_within(&mut listener, Duration::from_secs(10)).await {
        ListenerEvent::Reconnected { missed_possible } => assert!(missed_possible),
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let new_pid = listener.backend_pid().unwrap();
    assert_ne!(new_pid, old_pid);

    // Every channel is listened to again on the new connection.
    notify(&mut admin, "tusk_reco", "after").await;
    notify(&mut admin, "tusk reco 2", "after 2").await;
    assert_eq!(notification(&mut listener).await.payload, "after");
    assert_eq!(notification(&mut listener).await.payload, "after 2");

    // A second loss, found by `listen` rather than `recv`.
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&new_pid])
        .await
        .unwrap();
    // Give the server a moment to end the session.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // LISTEN on the dead connection fails; the channel is still restored on reconnection.
    let err = listener.listen("tusk_reco_3").await.unwrap_err();
    assert!(err.is_closed(), "{err}");
    // The server's FATAL for the terminated backend, read before the connection's end.
    expect_db(&err, &SqlState::ADMIN_SHUTDOWN);
    match recv_within(&mut listener, Duration::from_secs(10)).await {
        ListenerEvent::Reconnected { missed_possible } => assert!(missed_possible),
        other => panic!("expected Reconnected, got {other:?}"),
    }
    notify(&mut admin, "tusk_reco_3", "third").await;
    assert_eq!(notification(&mut listener).await.payload, "third");
    listener.close().await.unwrap();
}

#[tokio::test]
async fn reconnection_gives_up_after_the_configured_attempts() {
    // A listener whose config points at the real server through a port we then close is hard
    // to arrange; instead, turn reconnection off and kill the backend.
    let mut listener = Listener::connect(config()).await.unwrap();
    listener.set_reconnect_policy(tusk::ReconnectPolicy::default().max_attempts(0));
    listener.listen("tusk_noreco").await.unwrap();
    let pid = listener.backend_pid().unwrap();
    admin()
        .await
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("recv did not return")
        .unwrap_err();
    expect_message(
        &err,
        Kind::Closed,
        "the listener's connection was lost and reconnection is turned off \
         (ReconnectPolicy::max_attempts is 0)",
    );
    // Turned back on, the next recv reconnects.
    listener.set_reconnect_policy(tusk::ReconnectPolicy::default());
    assert_eq!(
        recv_within(&mut listener, Duration::from_secs(5)).await,
        ListenerEvent::Reconnected {
            missed_possible: true
        }
    );
}
