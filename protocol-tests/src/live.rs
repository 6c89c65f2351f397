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

/// Whether this run is CI's (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The port of the pgbouncer that `scripts/test-server` runs in front of the server
/// (`TUSK_PG_BOUNCER_PORT`; transaction pooling, 2 server connections per user, roles `tusk`
/// and `tusk_scram`), or `None` when it could not run one (pgbouncer not installable here):
/// the caller then skips, after this function has said so loudly on stderr.
///
/// # Panics
/// Under CI ([`in_ci`]) when the port is missing: CI must run the pgbouncer tests. Also when
/// the variable is set but is not a port number.
pub fn bouncer_port() -> Option<u16> {
    match std::env::var("TUSK_PG_BOUNCER_PORT") {
        Ok(port) => Some(port.parse().expect("TUSK_PG_BOUNCER_PORT is a port number")),
        Err(_) if in_ci() => panic!(
            "TUSK_PG_BOUNCER_PORT is not set under CI: scripts/test-server must install and run \
             pgbouncer there; see its warnings"
        ),
        Err(_) => {
            eprintln!(
                "\n*** SKIPPED: TUSK_PG_BOUNCER_PORT is not set, so pgbouncer is not running (not \
                 installable here? see the warnings of scripts/test-server). The pgbouncer tests \
                 did NOT run. ***\n"
            );
            None
        }
    }
}

/// A key=value string for `user` with `password` through pgbouncer to the test database, or
/// `None` (after a loud message) when pgbouncer is not running; see [`bouncer_port`].
pub fn bouncer_tcp(user: &str, password: &str) -> Option<String> {
    bouncer_port().map(|port| {
        format!(
            "host=127.0.0.1 port={port} user={user} password={password} dbname=tusk \
             connect_timeout=10"
        )
    })
}
