//! What the replication live tests share: the servers to run against (the main PostgreSQL 15
//! and PostgreSQL 18 on `TUSK_PG18_PORT`), configurations for them, unique slot
//! names and the check that no slot is left behind.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use protocol_tests::live;
use tusk::replication::ReplicationClient;
use tusk::{Config, Connection};

/// One server the tests run against.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub label: &'static str,
    pub port: u16,
}

/// The main test server and PostgreSQL 18 ([`live::pg18`]: a missing PostgreSQL 18 fails the
/// test unless `TUSK_ALLOW_SKIP=pg18`, so the replication tests never quietly run on 15 alone).
pub fn servers() -> Vec<Server> {
    let mut servers = vec![Server {
        label: "main",
        port: live::port(),
    }];
    if let Some(port) = live::pg18() {
        servers.push(Server {
            label: "pg18",
            port,
        });
    }
    servers
}

impl Server {
    /// The superuser over TCP, as a `Config` (`extra` appended to the key=value string).
    pub fn config(&self, extra: &str) -> Config {
        format!("{} {extra}", live::tcp_at(self.port, "tusk", "tusk"))
            .parse()
            .unwrap()
    }

    /// An ordinary connection as the superuser.
    pub async fn admin(&self) -> Connection {
        self.config("").connect().await.unwrap()
    }

    pub async fn logical(&self) -> ReplicationClient {
        ReplicationClient::connect_logical(&self.config(""))
            .await
            .unwrap()
    }

    pub async fn physical(&self) -> ReplicationClient {
        ReplicationClient::connect_physical(&self.config(""))
            .await
            .unwrap()
    }

    /// The server's major version.
    pub async fn major(&self) -> u32 {
        let mut admin = self.admin().await;
        let row = admin
            .query_one(
                "SELECT current_setting('server_version_num')::int4 / 10000",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i32>(0) as u32
    }
}

/// A slot name no other test (nor another run) uses: `prefix`, the process id, a counter.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "tusk_{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether a slot of that name exists on the server.
pub async fn slot_exists(admin: &mut Connection, name: &str) -> bool {
    admin
        .query_opt(
            "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
            &[&name],
        )
        .await
        .unwrap()
        .is_some()
}

/// Drops the slot if it exists (a failed test must not leave one pinning WAL): waits for a
/// connection that still holds it to go away first.
pub async fn drop_slot(admin: &mut Connection, name: &str) {
    for _ in 0..100 {
        let active: Option<bool> = admin
            .query_opt(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                &[&name],
            )
            .await
            .unwrap()
            .map(|row| row.get(0));
        match active {
            None => return,
            Some(false) => {
                admin
                    .execute("SELECT pg_drop_replication_slot($1)", &[&name])
                    .await
                    .unwrap();
                return;
            }
            Some(true) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("the slot {name} stayed in use");
}

/// Drops the named slots when dropped, even when the test panics (through a fresh runtime on
/// another thread, since a panicking test's runtime may be gone).
pub struct SlotGuard {
    pub port: u16,
    /// Replication slots to drop.
    pub names: Vec<String>,
    /// Prepared transactions (gids) to roll back first: a prepared transaction left behind
    /// holds its locks and makes every later CREATE_REPLICATION_SLOT wait for it.
    pub prepared: Vec<String>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let port = self.port;
        let names = std::mem::take(&mut self.names);
        let prepared = std::mem::take(&mut self.prepared);
        let shown = names
            .iter()
            .chain(&prepared)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let server = Server {
                    label: "cleanup",
                    port,
                };
                let mut admin = server.admin().await;
                for gid in &prepared {
                    // One the test finished with is gone already: 42704 says so.
                    match admin
                        .batch_execute(&format!("ROLLBACK PREPARED '{gid}'"))
                        .await
                    {
                        Err(e) if e.code() != Some(&tusk::SqlState::UNDEFINED_OBJECT) => {
                            panic!("ROLLBACK PREPARED '{gid}': {e}")
                        }
                        _ => {}
                    }
                }
                for name in &names {
                    drop_slot(&mut admin, name).await;
                }
            });
        })
        .join();
        if cleanup.is_err() {
            // Not a panic here: this may run while a test is already unwinding.
            eprintln!("WARNING: could not drop the replication slot(s) {shown}: drop them by hand");
        }
    }
}
