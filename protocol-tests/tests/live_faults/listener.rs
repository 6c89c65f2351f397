//! The reconnecting `Listener` through the fault proxy: its connection cut at every byte of a
//! notification's delivery, and its reconnection cut at every byte of the LISTEN it issues
//! again, both ways, and at every seventh byte of the startup before it (every byte of a
//! startup is cut in `cuts.rs`; here what matters is that the listener tries again, and each
//! attempt costs three sessions). Each time it reports `Reconnected` (or, when the cut came
//! after the whole notification, that notification first), never a partial or wrong
//! notification, never an error, and the next notification arrives.

use std::sync::Arc;
use std::time::Duration;

use protocol_tests::fault_proxy::{Direction, FaultPlan, FaultProxy};
use protocol_tests::live;
use tokio::task::JoinSet;
use tusk::{Config, Listener, ListenerEvent, Pool, ReconnectPolicy};

use crate::harness::{next_id, slot, through, Ctx, ATTEMPT_LIMIT};

/// A listener through `proxy`, reconnecting at once and then every few milliseconds, and
/// listening on a channel of its own.
async fn listener_through(proxy: &FaultProxy, ctx: &Ctx) -> (Listener, String) {
    let config: Config = through(proxy.port, "tusk_trust", "", "disable")
        .parse()
        .unwrap();
    let mut listener = Listener::connect(config).await.unwrap();
    listener.set_reconnect_policy(
        ReconnectPolicy::default()
            .max_attempts(5)
            .initial_delay(Duration::from_millis(1))
            .max_delay(Duration::from_millis(20)),
    );
    let channel = format!("fault_{}_{:06}", ctx.tag, next_id());
    listener.listen(&channel).await.unwrap();
    (listener, channel)
}

/// NOTIFY from another session (not through the proxy).
async fn notify(admin: &Pool, channel: &str, payload: &str) {
    admin
        .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .await
        .expect("NOTIFY from another session");
}

async fn recv(listener: &mut Listener, what: &str) -> ListenerEvent {
    tokio::time::timeout(ATTEMPT_LIMIT, listener.recv())
        .await
        .unwrap_or_else(|_| panic!("{what}: the listener hung"))
        .unwrap_or_else(|err| panic!("{what}: the listener failed: {err}"))
}

/// After a loss: notifications get through again (resent while the listener reports more
/// reconnections, which a cut landing after a whole reconnection causes).
async fn delivers_again(listener: &mut Listener, admin: &Pool, channel: &str, what: &str) {
    for round in 0..3 {
        let payload = format!("after {round}");
        notify(admin, channel, &payload).await;
        match recv(listener, what).await {
            ListenerEvent::Notification(n) => {
                assert_eq!(
                    (n.channel.as_str(), n.payload.as_str()),
                    (channel, &*payload)
                );
                return;
            }
            ListenerEvent::Reconnected { .. } => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    panic!("{what}: no notification after three reconnections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_cut_anywhere_in_a_notification_reconnects() {
    let ctx = Ctx::new().await;
    let proxy = FaultProxy::start(live::port()).await;
    let (mut listener, channel) = listener_through(&proxy, &ctx).await;
    // The notification's length, recorded.
    let first = proxy.connection(0).unwrap();
    let before = first.counts();
    notify(&ctx.admin, &channel, "payload 000").await;
    assert!(matches!(
        recv(&mut listener, "clean").await,
        ListenerEvent::Notification(_)
    ));
    let length = first.counts().since(before).to_client;
    for after in 0..=length {
        let what = format!("a cut after {after} of {length} bytes of a notification");
        let open = proxy.connections().pop().unwrap();
        assert!(
            !open.is_cut(),
            "{what}: the listener is on a live connection"
        );
        open.apply(FaultPlan::cut(Direction::ToClient, after));
        let payload = format!("payload {after:03}");
        notify(&ctx.admin, &channel, &payload).await;
        match recv(&mut listener, &what).await {
            ListenerEvent::Notification(n) => {
                assert_eq!(after, length, "{what}: delivered from a cut stream");
                assert_eq!(n.payload, payload, "{what}");
                // Then the loss shows.
                let event = recv(&mut listener, &what).await;
                assert_eq!(
                    event,
                    ListenerEvent::Reconnected {
                        missed_possible: true
                    }
                );
            }
            ListenerEvent::Reconnected { missed_possible } => {
                assert!(missed_possible);
                assert!(after < length, "{what}: the whole notification was lost");
            }
            other => panic!("{what}: {other:?}"),
        }
        delivers_again(&mut listener, &ctx.admin, &channel, &what).await;
    }
    ctx.finish().await;
}

/// One reconnection cut at `after` bytes in `direction`: the listener tries again and reports
/// `Reconnected`, and notifications get through.
/// Returns how many connections the proxy carried.
async fn reconnection_cut(ctx: Arc<Ctx>, direction: Direction, after: u64) -> u64 {
    let proxy = FaultProxy::start(live::port()).await;
    let (mut listener, channel) = listener_through(&proxy, &ctx).await;
    let what = format!("a reconnection cut after {after} bytes {direction:?}");
    proxy.set_plan_for(1, FaultPlan::cut(direction, after));
    proxy.connection(0).unwrap().cut();
    let event = recv(&mut listener, &what).await;
    assert_eq!(
        event,
        ListenerEvent::Reconnected {
            missed_possible: true
        },
        "{what}"
    );
    delivers_again(&mut listener, &ctx.admin, &channel, &what).await;
    proxy.accepted()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_whose_reconnection_is_cut_anywhere_tries_again() {
    let ctx = Ctx::new().await;
    // A clean reconnection's length each way (startup, then LISTEN again), and its startup's
    // (the length of the first connection before its LISTEN).
    let proxy = FaultProxy::start(live::port()).await;
    let config: Config = through(proxy.port, "tusk_trust", "", "disable")
        .parse()
        .unwrap();
    let startup = {
        let listener = Listener::connect(config).await.unwrap();
        let startup = proxy.connection(0).unwrap().counts();
        drop(listener);
        startup
    };
    let (mut listener, _channel) = listener_through(&proxy, &ctx).await;
    proxy.connection(1).unwrap().cut();
    assert!(matches!(
        recv(&mut listener, "clean").await,
        ListenerEvent::Reconnected { .. }
    ));
    let length = proxy.connection(2).unwrap().counts();
    drop((listener, proxy));
    let mut attempts = JoinSet::new();
    let mut cuts = 0;
    for direction in Direction::BOTH {
        let offsets = (0..startup.get(direction))
            .step_by(7)
            .chain(startup.get(direction)..=length.get(direction));
        for after in offsets {
            cuts += 1;
            let ctx = ctx.clone();
            attempts.spawn(async move {
                let _slot = slot().await;
                reconnection_cut(ctx, direction, after).await
            });
        }
    }
    let mut retried = 0;
    while let Some(done) = attempts.join_next().await {
        let connections = done.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()));
        retried += u64::from(connections > 2);
    }
    eprintln!(
        "Listener reconnection: {} bytes to the server, {} to the client ({} and {} of them \
         the startup); {cuts} cuts, every one recovered ({retried} needed another attempt)",
        length.to_server, length.to_client, startup.to_server, startup.to_client
    );
    ctx.finish().await;
}
