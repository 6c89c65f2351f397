//! Measuring: rounds timed by the wall clock and the process's CPU time (getrusage), medians,
//! and the one-line-per-workload table.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::{BoxError, Settings};

/// The drivers compared, in the order their columns are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Tusk,
    TokioPostgres,
    Sqlx,
}

impl Driver {
    pub const ALL: [Driver; 3] = [Driver::Tusk, Driver::TokioPostgres, Driver::Sqlx];

    pub fn name(self) -> &'static str {
        match self {
            Driver::Tusk => "tusk",
            Driver::TokioPostgres => "tokio-postgres",
            Driver::Sqlx => "sqlx",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Driver::Tusk => 0,
            Driver::TokioPostgres => 1,
            Driver::Sqlx => 2,
        }
    }
}

/// User and system CPU time of this whole process so far (every thread: the tokio-postgres
/// connection task and the runtime's workers count as the client's work).
pub fn cpu_times() -> (Duration, Duration) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is given and returns 0
    // on success; the value is only read after that success is checked.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            panic!("getrusage failed: {}", std::io::Error::last_os_error());
        }
        usage.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

/// One driver's run of one round.
#[derive(Debug, Clone, Copy)]
struct Round {
    ops_per_sec: f64,
    cpu_per_op: Duration,
    user_per_op: Duration,
    sys_per_op: Duration,
}

/// The medians of one driver's rounds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub ops_per_sec: f64,
    pub cpu_per_op: Duration,
    /// The medians of the user and the system (kernel) part on their own: they need not add
    /// up to `cpu_per_op`, the median of the sums.
    pub user_per_op: Duration,
    pub sys_per_op: Duration,
}

/// One workload's results: a summary per driver that ran it.
#[derive(Debug)]
pub struct Outcome {
    pub id: &'static str,
    pub title: String,
    /// What one "op" is, e.g. "q" (a query) or "row".
    pub unit: &'static str,
    pub results: [Option<Summary>; 3],
    /// Why a driver has no result (e.g. "no pipelining").
    pub missing: [Option<&'static str>; 3],
}

/// Runs `settings.rounds` rounds; in each, every driver of `drivers` runs `round` once,
/// starting with a different driver each round so that none always goes first. `round` gets
/// the driver and the time budget of the round and returns the number of ops it completed; the
/// wall and CPU time around it make the round's rates. A short warm-up round per driver comes
/// first (connections, statement caches, the server's buffers) and is not counted.
pub async fn measure(
    drivers: &[Driver],
    settings: &Settings,
    mut round: impl AsyncFnMut(Driver, Duration) -> Result<u64, BoxError>,
) -> Result<[Option<Summary>; 3], BoxError> {
    for &driver in drivers {
        round(driver, settings.round / 5).await?;
    }
    let mut samples: [Vec<Round>; 3] = Default::default();
    for r in 0..settings.rounds {
        for k in 0..drivers.len() {
            let driver = drivers[(r + k) % drivers.len()];
            let (user_start, sys_start) = cpu_times();
            let start = Instant::now();
            let ops = round(driver, settings.round).await?;
            let wall = start.elapsed();
            let (user_end, sys_end) = cpu_times();
            let user = user_end.saturating_sub(user_start);
            let sys = sys_end.saturating_sub(sys_start);
            let cpu = user + sys;
            if ops == 0 {
                return Err(format!("{} completed no operation in a round", driver.name()).into());
            }
            samples[driver.index()].push(Round {
                ops_per_sec: ops as f64 / wall.as_secs_f64(),
                cpu_per_op: cpu.div_f64(ops as f64),
                user_per_op: user.div_f64(ops as f64),
                sys_per_op: sys.div_f64(ops as f64),
            });
        }
    }
    let mut out = [None; 3];
    for (slot, rounds) in out.iter_mut().zip(&samples) {
        if !rounds.is_empty() {
            let median_of = |f: fn(&Round) -> Duration| {
                Duration::from_secs_f64(median(rounds.iter().map(|r| f(r).as_secs_f64()).collect()))
            };
            *slot = Some(Summary {
                ops_per_sec: median(rounds.iter().map(|r| r.ops_per_sec).collect()),
                cpu_per_op: median_of(|r| r.cpu_per_op),
                user_per_op: median_of(|r| r.user_per_op),
                sys_per_op: median_of(|r| r.sys_per_op),
            });
        }
    }
    Ok(out)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

impl Outcome {
    pub fn new(
        id: &'static str,
        title: &str,
        unit: &'static str,
        results: [Option<Summary>; 3],
    ) -> Outcome {
        Outcome {
            id,
            title: title.into(),
            unit,
            results,
            missing: [None; 3],
        }
    }
}

/// Runs `op` repeatedly until `budget` has passed (at least once); returns the ops it reported.
pub async fn repeat_for(
    budget: Duration,
    mut op: impl AsyncFnMut() -> Result<u64, BoxError>,
) -> Result<u64, BoxError> {
    let start = Instant::now();
    let mut ops = 0;
    loop {
        ops += op().await?;
        if start.elapsed() >= budget {
            return Ok(ops);
        }
    }
}

/// `12345.6` as `12,346`; below 100, with one decimal.
fn rate(x: f64) -> String {
    if x < 100.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// CPU time per op in µs, with precision to suit its size.
fn cpu(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 100.0 {
        format!("{us:.0}")
    } else if us >= 1.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.2}")
    }
}

/// The client CPU time split into user and system (kernel) time, one line per workload (not a
/// table row, so scripts/bench's summary leaves it out): whether a driver's time goes to its
/// own code or to the kernel (socket reads, page faults of the result's memory, wake-ups).
pub fn cpu_split(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let _ = write!(out, "{} CPU µs/{}, user + system:", o.id, o.unit);
        for (driver, result) in Driver::ALL.iter().zip(&o.results) {
            if let Some(s) = result {
                let _ = write!(
                    out,
                    "  {} {} + {}",
                    driver.name(),
                    cpu(s.user_per_op),
                    cpu(s.sys_per_op)
                );
            }
        }
        out.push('\n');
    }
    out
}

/// The Markdown table: one line per workload.
pub fn table(outcomes: &[Outcome]) -> String {
    let header = [
        "workload",
        "unit",
        "tusk /s",
        "tokio-postgres /s",
        "sqlx /s",
        "tusk ÷ best other",
        "CPU µs/unit tusk",
        "tokio-postgres",
        "sqlx",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for o in outcomes {
        let mut row = vec![format!("{} {}", o.id, o.title), o.unit.to_string()];
        for i in 0..3 {
            row.push(match (&o.results[i], o.missing[i]) {
                (Some(s), _) => rate(s.ops_per_sec),
                (None, Some(why)) => format!("— ({why})"),
                (None, None) => "—".into(),
            });
        }
        let best_other = o.results[1..]
            .iter()
            .flatten()
            .map(|s| s.ops_per_sec)
            .fold(None, |best: Option<f64>, x| {
                Some(best.map_or(x, |b| b.max(x)))
            });
        row.push(match (&o.results[0], best_other) {
            (Some(t), Some(b)) => format!("{:.2}x", t.ops_per_sec / b),
            _ => "—".into(),
        });
        for result in &o.results {
            row.push(result.map_or("—".into(), |s| cpu(s.cpu_per_op)));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        out.push('|');
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            // Numbers right-aligned, text left-aligned.
            if c < 2 {
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{cell} |", " ".repeat(pad));
            }
        }
        out.push('\n');
        if n == 0 {
            out.push('|');
            for (c, w) in widths.iter().enumerate() {
                let dashes = "-".repeat(*w);
                if c < 2 {
                    let _ = write!(out, " {dashes} |");
                } else {
                    let _ = write!(out, " {}: |", &dashes[1..]);
                }
            }
            out.push('\n');
        }
    }
    out
}
