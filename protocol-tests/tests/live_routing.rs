//! Multi-host routing against a real primary and its hot standby (`scripts/test-server`'s HA
//! pair, made with `pg_basebackup -R`): every `target_session_attrs` value with the hosts in
//! both orders, a host that refuses first, host names resolved, and load balancing spreading
//! connects over both servers. The server itself tells which one a session landed on
//! (`inet_server_port()`, `pg_is_in_recovery()`), independently of what tusk reports.

use std::collections::HashMap;

use protocol_tests::live;
use tusk::{Config, Connection, Kind, TargetSessionAttrs};

/// A config listing `ports` on 127.0.0.1 as the superuser, in that order.
fn config(ports: &[u16], attrs: TargetSessionAttrs) -> Config {
    let hosts = vec!["127.0.0.1"; ports.len()].join(",");
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let config: Config = format!(
        "host={hosts} port={} user=tusk password=tusk dbname=tusk connect_timeout=10 \
         sslmode=disable",
        ports.join(",")
    )
    .parse()
    .unwrap();
    config.target_session_attrs(attrs)
}

/// The port the session's server listens on and whether it is in recovery, as the server
/// says.
async fn landed_on(conn: &mut Connection) -> (u16, bool) {
    let row = conn
        .query_one(
            "SELECT inet_server_port(), pg_catalog.pg_is_in_recovery()",
            &[],
        )
        .await
        .unwrap();
    (row.get::<_, i32>(0) as u16, row.get(1))
}

/// A port on loopback that refuses connections.
fn refusing_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn every_target_session_attrs_value_in_both_orders() {
    let Some(live::HaPair { primary, standby }) = live::ha_pair() else {
        return;
    };
    use TargetSessionAttrs::*;
    for order in [[primary, standby], [standby, primary]] {
        for (attrs, wanted) in [
            (Any, order[0]),
            (ReadWrite, primary),
            (ReadOnly, standby),
            (Primary, primary),
            (Standby, standby),
            (PreferStandby, standby),
        ] {
            let mut conn = config(&order, attrs)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{attrs} over {order:?}: {e}"));
            let (port, in_recovery) = landed_on(&mut conn).await;
            assert_eq!(port, wanted, "{attrs} over {order:?}");
            assert_eq!(in_recovery, port == standby, "{attrs} over {order:?}");
            // What tusk reports agrees with the server.
            assert_eq!(conn.in_hot_standby(), Some(port == standby));
        }
    }
}

#[tokio::test]
async fn no_suitable_server_lists_every_one_tried() {
    let Some(live::HaPair { primary, standby }) = live::ha_pair() else {
        return;
    };
    // Only standbys when read-write is wanted.
    let e = config(&[standby], TargetSessionAttrs::ReadWrite)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Kind::ServerRole, "{e}");
    assert!(e.to_string().contains("session is read-only"), "{e}");
    // Only the primary when a standby is required.
    let refused = refusing_port();
    let e = config(&[refused, primary], TargetSessionAttrs::Standby)
        .connect()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert_eq!(e.kind(), Kind::ServerRole, "{text}");
    assert!(
        text.contains(&format!("(1) 127.0.0.1:{refused}"))
            && text.contains("refused")
            && text.contains(&format!("(2) 127.0.0.1:{primary}"))
            && text.contains("server is not in hot standby mode"),
        "{text}"
    );
    // prefer-standby with no standby falls back to any server.
    let mut conn = config(&[primary], TargetSessionAttrs::PreferStandby)
        .connect()
        .await
        .unwrap();
    assert_eq!(landed_on(&mut conn).await, (primary, false));
}

#[tokio::test]
async fn a_host_that_refuses_first_is_passed_over() {
    let Some(live::HaPair { primary, standby }) = live::ha_pair() else {
        return;
    };
    let refused = refusing_port();
    for attrs in [TargetSessionAttrs::Any, TargetSessionAttrs::ReadWrite] {
        let mut conn = config(&[refused, standby, primary], attrs)
            .connect()
            .await
            .unwrap();
        let wanted = if attrs == TargetSessionAttrs::Any {
            standby
        } else {
            primary
        };
        assert_eq!(landed_on(&mut conn).await.0, wanted, "{attrs}");
    }
}

#[tokio::test]
async fn a_host_name_is_resolved_and_its_address_dialled() {
    let Some(live::HaPair { primary, standby }) = live::ha_pair() else {
        return;
    };
    // `localhost` resolves to 127.0.0.1 where the servers listen (::1 too on some machines,
    // where that address is tried as well).
    let config: Config = format!(
        "host=localhost,localhost port={standby},{primary} user=tusk password=tusk dbname=tusk \
         sslmode=disable connect_timeout=10 target_session_attrs=primary"
    )
    .parse()
    .unwrap();
    let mut conn = config.connect().await.unwrap();
    assert_eq!(landed_on(&mut conn).await, (primary, false));
}

#[tokio::test]
async fn load_balancing_spreads_connects_over_both_servers() {
    let Some(live::HaPair { primary, standby }) = live::ha_pair() else {
        return;
    };
    let config = config(&[primary, standby], TargetSessionAttrs::Any)
        .load_balance_hosts(tusk::LoadBalanceHosts::Random);
    let mut seen: HashMap<u16, usize> = HashMap::new();
    const CONNECTS: usize = 40;
    for _ in 0..CONNECTS {
        let mut conn = config.connect().await.unwrap();
        *seen.entry(landed_on(&mut conn).await.0).or_default() += 1;
    }
    // Each side is drawn with probability 1/2: fewer than 8 of 40 on either side happens
    // with probability about 2e-5.
    for port in [primary, standby] {
        let n = seen.get(&port).copied().unwrap_or(0);
        assert!(n >= 8, "{port} got {n} of {CONNECTS}: {seen:?}");
    }
    // Without load balancing, always the first.
    let config = config.load_balance_hosts(tusk::LoadBalanceHosts::Disable);
    for _ in 0..5 {
        let mut conn = config.connect().await.unwrap();
        assert_eq!(landed_on(&mut conn).await.0, primary);
    }
}

#[tokio::test]
async fn a_host_that_never_answers_costs_one_connect_timeout() {
    let Some(live::HaPair { primary, .. }) = live::ha_pair() else {
        return;
    };
    // Accepts TCP connections (the kernel's backlog) but never answers the startup.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let config: Config = format!(
        "host=127.0.0.1,127.0.0.1 port={silent_port},{primary} user=tusk password=tusk \
         dbname=tusk sslmode=disable connect_timeout=1"
    )
    .parse()
    .unwrap();
    let started = std::time::Instant::now();
    let mut conn = config.connect().await.unwrap();
    let took = started.elapsed();
    assert_eq!(landed_on(&mut conn).await, (primary, false));
    assert!(
        took >= std::time::Duration::from_millis(900) && took < std::time::Duration::from_secs(5),
        "the silent host should cost about connect_timeout (1 s), took {took:?}"
    );
    // Alone, the silent host is a timeout naming it.
    let config: Config = format!(
        "host=127.0.0.1 port={silent_port} user=tusk password=tusk dbname=tusk sslmode=disable \
         connect_timeout=1"
    )
    .parse()
    .unwrap();
    let e = config.connect().await.unwrap_err();
    assert_eq!(e.kind(), Kind::Timeout, "{e}");
    assert!(e.to_string().contains(&silent_port.to_string()), "{e}");
    drop(silent);
}
