//! Connection settings for the real throwaway PostgreSQL started by `scripts/test-server`
//! (exported by `scripts/with-test-server` as `TUSK_PG_*` variables).
//!
//! # Missing servers, tools and extensions: fail, or skip only when allowed
//!
//! A live test whose server, tool or extension is missing here FAILS; it never passes without
//! testing. A developer whose machine lacks one of the [`SKIPPABLE`] things may allow those
//! tests to skip with `TUSK_ALLOW_SKIP` (a comma-separated list of names):
//!
//! ```text
//! TUSK_ALLOW_SKIP=pgbouncer,citext scripts/with-test-server cargo test --workspace
//! ```
//!
//! Each allowed skip is then printed at once on stderr and again in a summary after the
//! command (recorded in the file `TUSK_SKIP_LOG` names, which `scripts/with-test-server` sets,
//! prints and removes). A test checks what it needs with [`skip_or_fail`] (or
//! [`bouncer_port`], [`tls`], [`ha_pair`], [`failover`]) and returns when that returns. CI
//! never allows a skip.

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

/// A key=value string for `user` with `password` over TCP to the test database on another of
/// the servers `scripts/test-server` runs (e.g. one of [`ha_pair`]'s), which have the same
/// roles and passwords.
pub fn tcp_at(port: u16, user: &str, password: &str) -> String {
    format!(
        "host=127.0.0.1 port={port} user={user} password={password} dbname=tusk connect_timeout=10"
    )
}

/// The variable that allows a live test to skip when something it needs is missing here: a
/// comma-separated list of [`SKIPPABLE`] names, e.g. `TUSK_ALLOW_SKIP=pgbouncer,citext`.
///
/// Without it such a test FAILS: a missing server, tool or extension must never pass as "ok".
/// CI never sets it (`.ci/run` unsets it), so CI runs everything or fails.
pub const ALLOW_SKIP: &str = "TUSK_ALLOW_SKIP";

/// The file an allowed skip is recorded in, one line per skipped test. `scripts/with-test-server`
/// sets it to a fresh temporary file and prints its lines after the command, so the skips show
/// at the end of `scripts/with-test-server cargo test --workspace` (libtest hides a passing
/// test's output).
pub const SKIP_LOG: &str = "TUSK_SKIP_LOG";

/// What a test may be allowed to skip for, with [`ALLOW_SKIP`]: the name and what it stands for.
pub const SKIPPABLE: &[(&str, &str)] = &[
    (
        "pgbouncer",
        "the pgbouncer that scripts/test-server runs (TUSK_PG_BOUNCER_PORT)",
    ),
    (
        "citext",
        "the citext extension (Debian: postgresql-contrib)",
    ),
    (
        "tls",
        "the TLS servers scripts/test-server runs (TUSK_PG_TLS_PORT, TUSK_PG_TLS_DIR)",
    ),
    (
        "ha",
        "the HA and failover pairs scripts/test-server runs (TUSK_PG_HA_PRIMARY_PORT, \
         TUSK_PG_HA_STANDBY_PORT, TUSK_PG_FAILOVER_PORT_A, TUSK_PG_FAILOVER_PORT_B)",
    ),
    (
        "pg18",
        "the PostgreSQL 18 server scripts/test-server runs (TUSK_PG18_PORT)",
    ),
];

/// The [`SKIPPABLE`] names listed in [`ALLOW_SKIP`].
///
/// # Panics
/// When the variable names something that is not in [`SKIPPABLE`] (a typo would otherwise
/// allow nothing, or look as if it did).
pub fn allowed_skips() -> Vec<String> {
    let Ok(list) = std::env::var(ALLOW_SKIP) else {
        return Vec::new();
    };
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    for name in &names {
        assert!(
            SKIPPABLE.iter().any(|(known, _)| known == name),
            "{ALLOW_SKIP}={list:?} names {name:?}, which no test skips for; the names are: {}",
            known_names()
        );
    }
    names
}

fn known_names() -> String {
    SKIPPABLE
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Called by a live test that cannot run because `requirement` (a [`SKIPPABLE`] name) is
/// missing here; `why` says what exactly is missing and how to get it. Returns only when
/// [`ALLOW_SKIP`] names `requirement`: the skip is then written to the terminal (straight to
/// stderr, which libtest does not capture) and recorded in [`SKIP_LOG`] for the summary
/// `scripts/with-test-server` prints, and the caller returns without testing anything.
///
/// # Panics
/// Unless [`ALLOW_SKIP`] names `requirement`: the test fails, saying what is missing and how to
/// allow the skip. Also when `requirement` is not in [`SKIPPABLE`].
pub fn skip_or_fail(requirement: &str, why: &str) {
    use std::io::Write;

    assert!(
        SKIPPABLE.iter().any(|(name, _)| *name == requirement),
        "skip_or_fail({requirement:?}): add it to live::SKIPPABLE (known: {})",
        known_names()
    );
    if !allowed_skips().iter().any(|name| name == requirement) {
        panic!(
            "{why}. This test needs {requirement} and did not run. Install it (see \
             scripts/test-server), or allow the skip explicitly with \
             {ALLOW_SKIP}={requirement} (a comma-separated list; never set in CI)"
        );
    }
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    let line = format!("{}: {test}: {why}", test_binary());
    // Straight to the process's stderr: `eprintln!` output is captured by libtest and shown
    // only for failing tests.
    let _ = writeln!(
        std::io::stderr().lock(),
        "\nSKIPPED (allowed by {ALLOW_SKIP}) {line}"
    );
    if let Some(path) = std::env::var_os(SKIP_LOG).filter(|p| !p.is_empty()) {
        // One short append per line: lines from tests running in parallel do not interleave.
        let record = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = record {
            panic!("cannot record the skip in {SKIP_LOG}={path:?}: {e}");
        }
    }
}

/// The name of the running test binary without cargo's hash (`live_pgbouncer`).
fn test_binary() -> String {
    let stem = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => stem,
    }
}

/// The port of the pgbouncer that `scripts/test-server` runs in front of the server
/// (`TUSK_PG_BOUNCER_PORT`; transaction pooling, 2 server connections per user, roles `tusk`
/// and `tusk_scram`), or `None` when it is not running and [`ALLOW_SKIP`] allows `pgbouncer`
/// to be missing: the caller then returns (see [`skip_or_fail`]).
///
/// # Panics
/// When pgbouncer is not running and the skip is not allowed. Also when the variable is set
/// but is not a port number.
pub fn bouncer_port() -> Option<u16> {
    match std::env::var("TUSK_PG_BOUNCER_PORT") {
        Ok(port) => Some(port.parse().expect("TUSK_PG_BOUNCER_PORT is a port number")),
        Err(_) => {
            skip_or_fail(
                "pgbouncer",
                "TUSK_PG_BOUNCER_PORT is not set, so pgbouncer is not running (not installable \
                 here? see the warnings of scripts/test-server)",
            );
            None
        }
    }
}

/// A key=value string for `user` with `password` through pgbouncer to the test database, or
/// `None` when pgbouncer is not running and that skip is allowed; see [`bouncer_port`].
pub fn bouncer_tcp(user: &str, password: &str) -> Option<String> {
    bouncer_port().map(|port| {
        format!(
            "host=127.0.0.1 port={port} user={user} password={password} dbname=tusk \
             connect_timeout=10"
        )
    })
}

/// The TLS servers `scripts/test-server` runs beside the plaintext one, with the test
/// certificates it made.
#[derive(Debug, Clone)]
pub struct TlsServers {
    /// The cluster with `ssl=on`, serving a certificate for `localhost` only, signed by the test
    /// CA (roles: `tusk_tlsonly` hostssl-only, `tusk_plainonly` hostnossl-only, `tusk_cert`
    /// client-certificate login, the rest accepted either way).
    pub port: u16,
    /// The cluster serving an expired certificate (otherwise like the main one).
    pub expired_port: u16,
    /// The directory of client-side files: `ca.crt`, `other-ca.crt`, `client*.crt/key`.
    pub dir: std::path::PathBuf,
}

impl TlsServers {
    /// A file of the certificate directory, as a string for a connection setting.
    pub fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// A key=value string to the TLS cluster as `user` with `password`, through `host`
    /// (`localhost` matches the certificate; `127.0.0.1` does not).
    pub fn conn(&self, host: &str, user: &str, password: &str) -> String {
        format!(
            "host={host} port={} user={user} password={password} dbname=tusk connect_timeout=10",
            self.port
        )
    }
}

/// The TLS servers, or `None` when they do not run here and [`ALLOW_SKIP`] allows `tls` to be
/// missing: the caller then returns (see [`skip_or_fail`]).
///
/// # Panics
/// When they are not running and the skip is not allowed.
pub fn tls() -> Option<TlsServers> {
    let port = std::env::var("TUSK_PG_TLS_PORT");
    let expired = std::env::var("TUSK_PG_TLS_EXPIRED_PORT");
    let dir = std::env::var("TUSK_PG_TLS_DIR");
    match (port, expired, dir) {
        (Ok(port), Ok(expired), Ok(dir)) => Some(TlsServers {
            port: port.parse().expect("TUSK_PG_TLS_PORT is a port number"),
            expired_port: expired
                .parse()
                .expect("TUSK_PG_TLS_EXPIRED_PORT is a port number"),
            dir: dir.into(),
        }),
        _ => {
            skip_or_fail(
                "tls",
                "TUSK_PG_TLS_PORT, TUSK_PG_TLS_EXPIRED_PORT or TUSK_PG_TLS_DIR is not set, so \
                 the TLS servers are not running (see the warnings of scripts/test-server)",
            );
            None
        }
    }
}

/// The PostgreSQL 18 server's port (`TUSK_PG18_PORT`: same roles, passwords and database as
/// the main server; protocol 3.2), or `None` when it does not run here and [`ALLOW_SKIP`]
/// allows `pg18` to be missing: the caller then returns (see [`skip_or_fail`]).
///
/// # Panics
/// When it is not running and the skip is not allowed.
pub fn pg18() -> Option<u16> {
    match std::env::var("TUSK_PG18_PORT") {
        Ok(port) => Some(port.parse().expect("TUSK_PG18_PORT is a port number")),
        Err(_) => {
            skip_or_fail(
                "pg18",
                "TUSK_PG18_PORT is not set, so the PostgreSQL 18 server is not running (see the \
                 warnings of scripts/test-server)",
            );
            None
        }
    }
}

/// Whether the session uses TLS, as the server sees it (`pg_stat_ssl`): the oracle for what
/// the sslmode negotiation did.
pub async fn server_sees_tls(conn: &mut tusk::Connection) -> bool {
    conn.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .await
    .expect("pg_stat_ssl")
    .get(0)
}

/// A port variable of `scripts/test-server`, `None` when it is not set.
///
/// # Panics
/// When it is set but is not a port number.
fn port_var(name: &str) -> Option<u16> {
    std::env::var(name).ok().map(|port| {
        port.parse()
            .unwrap_or_else(|_| panic!("{name}={port:?} is not a port number"))
    })
}

/// The HA pair `scripts/test-server` runs: a primary and its asynchronous hot standby
/// (`pg_basebackup -R`, streaming replication over loopback; the same roles, passwords and
/// test database as the main server, see [`tcp_at`]). A row written on the primary shows on
/// the standby a moment later; the standby is read-only (`pg_is_in_recovery()`,
/// `transaction_read_only`). Tests must leave the pair as it is: no promotion, no `ALTER
/// SYSTEM` (the failover pair, [`failover`], is the one to break).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HaPair {
    /// `TUSK_PG_HA_PRIMARY_PORT`: always the primary.
    pub primary: u16,
    /// `TUSK_PG_HA_STANDBY_PORT`: always its hot standby.
    pub standby: u16,
}

/// The HA pair, or `None` when it does not run here and [`ALLOW_SKIP`] allows `ha` to be
/// missing: the caller then returns (see [`skip_or_fail`]).
///
/// # Panics
/// When it is not running and the skip is not allowed.
pub fn ha_pair() -> Option<HaPair> {
    match (
        port_var("TUSK_PG_HA_PRIMARY_PORT"),
        port_var("TUSK_PG_HA_STANDBY_PORT"),
    ) {
        (Some(primary), Some(standby)) => Some(HaPair { primary, standby }),
        _ => {
            skip_or_fail(
                "ha",
                "TUSK_PG_HA_PRIMARY_PORT or TUSK_PG_HA_STANDBY_PORT is not set, so the HA pair is \
                 not running (see the warnings of scripts/test-server)",
            );
            None
        }
    }
}

/// Serialises the users of the failover pair within this process: see [`failover`].
static FAILOVER_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The failover pair `scripts/test-server` runs (`TUSK_PG_FAILOVER_PORT_A` and `_B`): one is
/// the primary, the other its synchronous standby (`synchronous_commit = on`,
/// `synchronous_standby_names = '*'`: every commit acknowledged to a client has reached the
/// standby), and a test may fail the primary over ([`Failover::promote`]) and make the pair
/// healthy again ([`Failover::reset`]). Which port is the primary changes with every failover:
/// call [`Failover::reset`] first and use the ports it returns.
///
/// Holding a `Failover` holds a process-wide lock, so two tests of one binary never use the
/// pair at the same time. The failover subcommands must NOT run concurrently for two tests:
/// the script's own lock only keeps two runs from overlapping, not one test's failover from
/// breaking another test's pair. So only one test binary may use the failover pair (today
/// `live_ha_servers`); a second user must join that binary and take this lock.
#[derive(Debug)]
pub struct Failover {
    /// `TUSK_PG_FAILOVER_PORT_A`.
    pub port_a: u16,
    /// `TUSK_PG_FAILOVER_PORT_B`.
    pub port_b: u16,
    _lock: std::sync::MutexGuard<'static, ()>,
}

/// The failover pair, locked for the caller (see [`Failover`]; blocks while another test of
/// this process holds it), or `None` when it does not run here and [`ALLOW_SKIP`] allows `ha`
/// to be missing: the caller then returns (see [`skip_or_fail`]).
///
/// # Panics
/// When it is not running and the skip is not allowed.
pub fn failover() -> Option<Failover> {
    let (Some(port_a), Some(port_b)) = (
        port_var("TUSK_PG_FAILOVER_PORT_A"),
        port_var("TUSK_PG_FAILOVER_PORT_B"),
    ) else {
        skip_or_fail(
            "ha",
            "TUSK_PG_FAILOVER_PORT_A or TUSK_PG_FAILOVER_PORT_B is not set, so the failover pair \
             is not running (see the warnings of scripts/test-server)",
        );
        return None;
    };
    // A test that panicked while holding the lock left the pair in some state; reset copes.
    let lock = FAILOVER_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(Failover {
        port_a,
        port_b,
        _lock: lock,
    })
}

impl Failover {
    /// Runs `scripts/test-server failover-reset`: makes the pair healthy whatever state it is
    /// in (the current primary stays primary; the other server is made its synchronous
    /// standby again, a fresh copy when it was not one). Returns `(primary, standby)`. Takes
    /// about a second when a standby has to be made, less otherwise. Blocks the thread.
    ///
    /// # Panics
    /// When the script fails (its stderr is in the message).
    pub fn reset(&mut self) -> (u16, u16) {
        let out = self.run("failover-reset");
        let primary = self.printed_port(&out, "TUSK_PG_FAILOVER_PRIMARY_PORT");
        let standby = self.printed_port(&out, "TUSK_PG_FAILOVER_STANDBY_PORT");
        assert_ne!(primary, standby, "failover-reset printed one port twice");
        (primary, standby)
    }

    /// Runs `scripts/test-server failover-promote`: simulates losing the primary. It stops the
    /// primary in immediate mode (like a crash: its sessions are cut), promotes the standby,
    /// sets `synchronous_standby_names = ''` on it (no standby is left) and waits until it
    /// accepts writes. Returns the new primary's port (the old standby's). The old primary
    /// stays down until [`Failover::reset`]. Needs a healthy pair (call [`Failover::reset`]
    /// first). About a third of a second. Blocks the thread.
    ///
    /// # Panics
    /// When the script fails (its stderr is in the message).
    pub fn promote(&mut self) -> u16 {
        let out = self.run("failover-promote");
        self.printed_port(&out, "TUSK_PG_FAILOVER_PRIMARY_PORT")
    }

    /// Runs `scripts/test-server SUBCOMMAND` with this process's environment (the variables
    /// `scripts/with-test-server` exported, `TUSK_PG_DIR` among them, locate the clusters) and
    /// returns its stdout.
    fn run(&self, subcommand: &str) -> String {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("scripts")
            .join("test-server");
        let out = std::process::Command::new(&script)
            .arg(subcommand)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {} {subcommand}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{} {subcommand} failed ({}):\n{}{stdout}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// The port printed as `name=<port>`: one of the pair's.
    fn printed_port(&self, stdout: &str, name: &str) -> u16 {
        let port: u16 = stdout
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in the script's output:\n{stdout}"))
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not a port number in:\n{stdout}"));
        assert!(
            port == self.port_a || port == self.port_b,
            "{name}={port} is neither TUSK_PG_FAILOVER_PORT_A={} nor _B={}",
            self.port_a,
            self.port_b
        );
        port
    }
}
