//! Connection settings for the real throwaway PostgreSQL started by `scripts/test-server`
//! (exported by `scripts/with-test-server` as `TUSK_PG_*` variables).

/// A setting exported by `scripts/with-test-server`.
///
/// # Panics
/// When the variable is missing: the live tests need the real server. Run the suite with
/// `scripts/with-test-server cargo test --workspace`.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: live tests need the throwaway PostgreSQL; run the suite with \
             `scripts/with-test-server cargo test --workspace`"
        )
    })
}

/// The server's TCP port.
pub fn port() -> u16 {
    env("TUSK_PG_PORT")
        .parse()
        .expect("TUSK_PG_PORT is a port number")
}

/// The directory holding the server's Unix-domain socket.
pub fn socket_dir() -> String {
    env("TUSK_PG_SOCKET_DIR")
}

/// A key=value string for `user` with `password` over TCP to the test database.
pub fn tcp(user: &str, password: &str) -> String {
    format!(
        "host=127.0.0.1 port={} user={user} password={password} dbname=tusk connect_timeout=10",
        port()
    )
}

/// The superuser `tusk` over TCP (scram-sha-256).
pub fn admin() -> String {
    tcp("tusk", "tusk")
}
