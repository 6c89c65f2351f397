//! The chaos beside the workload: every 1-3 s `pg_terminate_backend` of one or two of the
//! soak's client backends, picked at random from `pg_stat_activity` on an admin connection of
//! its own, and every [`RESTART_EVERY`] a restart of the server through
//! `scripts/test-server soak-restart`, alternating fast and immediate shutdowns.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tusk::Connection;

use crate::workload::{error_key, short, ErrorTally};
use crate::{Ctx, Rng};

/// Time between two server restarts.
pub const RESTART_EVERY: Duration = Duration::from_secs(20);

/// The longest a restart may take (stop, crash recovery, start) before it counts as failed.
const RESTART_LIMIT: Duration = Duration::from_secs(120);

/// The soak's own backends, apart from the chaos connection itself: the pool's and the
/// listener's (application names `tusk-soak-*`).
const VICTIMS: &str = "SELECT pid FROM pg_stat_activity \
     WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
     AND application_name LIKE 'tusk-soak-%' AND application_name <> 'tusk-soak-chaos'";

/// One server restart.
#[derive(Debug, Clone)]
pub struct Restart {
    /// `fast` or `immediate`.
    pub mode: &'static str,
    /// Seconds into the soak it began.
    pub at: f64,
    /// How long `soak-restart` took.
    pub took: Duration,
    /// Its error, when it failed.
    pub error: Option<String>,
}

/// What the chaos did.
#[derive(Debug, Default)]
pub struct ChaosReport {
    /// Backends `pg_terminate_backend` reported as signalled.
    pub terminated: u64,
    /// Rounds that found no backend to terminate.
    pub empty_rounds: u64,
    /// The restarts, in order.
    pub restarts: Vec<Restart>,
    /// The chaos connection's own errors (it reconnects).
    pub errors: ErrorTally,
}

/// Runs the chaos until the soak stops; a restart under way is finished first.
pub async fn chaos(ctx: Arc<Ctx>) -> ChaosReport {
    let mut report = ChaosReport::default();
    let mut rng = Rng::new(0xC4A05);
    let mut admin: Option<Connection> = None;
    let mut next_restart = ctx.started + RESTART_EVERY;
    let mut immediate = false;
    loop {
        let pause = Duration::from_millis(1000 + rng.below(2001));
        if !ctx.sleep(pause).await {
            break;
        }
        if Instant::now() >= next_restart {
            let mode = if immediate { "immediate" } else { "fast" };
            immediate = !immediate;
            // The admin connection does not survive it; connect afresh afterwards.
            admin = None;
            report.restarts.push(restart(&ctx, mode).await);
            next_restart = Instant::now() + RESTART_EVERY;
            continue;
        }
        if admin.as_ref().is_none_or(Connection::is_closed) {
            let connected = ctx
                .config
                .clone()
                .application_name("tusk-soak-chaos")
                .connect()
                .await;
            match connected {
                Ok(conn) => admin = Some(conn),
                Err(e) => {
                    count(&mut report.errors, "chaos-connect", &e);
                    continue;
                }
            }
        }
        let Some(conn) = admin.as_mut() else {
            continue;
        };
        match terminate_some(conn, &mut rng).await {
            Ok(0) => report.empty_rounds += 1,
            Ok(n) => report.terminated += n,
            Err(e) => count(&mut report.errors, "chaos", &e),
        }
    }
    if let Some(conn) = admin {
        let _ = conn.close().await;
    }
    report
}

fn count(errors: &mut ErrorTally, what: &str, err: &tusk::Error) {
    let entry = errors
        .counts
        .entry(error_key(what, err))
        .or_insert_with(|| (0, short(&err.to_string())));
    entry.0 += 1;
}

/// Terminates one or two random backends of the soak; returns how many were signalled.
async fn terminate_some(conn: &mut Connection, rng: &mut Rng) -> Result<u64, tusk::Error> {
    let mut pids: Vec<i32> = conn
        .query(VICTIMS, &[])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut terminated = 0;
    for _ in 0..1 + rng.below(2) {
        if pids.is_empty() {
            break;
        }
        let pid = pids.swap_remove(rng.below(pids.len() as u64) as usize);
        let row = conn
            .query_one("SELECT pg_terminate_backend($1)", &[&pid])
            .await?;
        if row.try_get::<_, bool>(0)? {
            terminated += 1;
        }
    }
    Ok(terminated)
}

/// Restarts the server with `scripts/test-server soak-restart MODE`.
async fn restart(ctx: &Ctx, mode: &'static str) -> Restart {
    let at = ctx.started.elapsed().as_secs_f64();
    let started = Instant::now();
    let run = tokio::process::Command::new(&ctx.settings.server_script)
        .args(["soak-restart", mode])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let error = match tokio::time::timeout(RESTART_LIMIT, run).await {
        Ok(Ok(out)) if out.status.success() => None,
        Ok(Ok(out)) => Some(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(Err(e)) => Some(format!("could not run {}: {e}", ctx.settings.server_script)),
        Err(_) => Some(format!("did not finish within {RESTART_LIMIT:?}")),
    };
    if let Some(e) = &error {
        ctx.fail(format!("restart ({mode}) at {at:.0} s failed: {e}"));
    }
    Restart {
        mode,
        at,
        took: started.elapsed(),
        error,
    }
}
