//! Measuring: rounds timed by the wall clock and the process's CPU time (getrusage), medians,
//! and the one-line-per-workload table.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
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

/// CPU time split as getrusage reports it: `user` is time in the program's own code (drivers,
/// decoding, tokio), `sys` time in the kernel on its behalf (socket reads and writes, epoll,
/// wake-ups, and on loopback much of the TCP path of the server's side too).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    pub user: Duration,
    pub sys: Duration,
}

/// getrusage of `who` (RUSAGE_SELF or RUSAGE_THREAD).
fn rusage(who: libc::c_int) -> Cpu {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is given and returns 0
    // on success; the value is only read after that success is checked.
    let usage = unsafe {
        if libc::getrusage(who, usage.as_mut_ptr()) != 0 {
            panic!("getrusage failed: {}", std::io::Error::last_os_error());
        }
        usage.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Cpu {
        user: tv(usage.ru_utime),
        sys: tv(usage.ru_stime),
    }
}

impl Cpu {
    /// The CPU time spent since `earlier`.
    fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
        }
    }

    pub fn total(self) -> Duration {
        self.user + self.sys
    }

    fn div(self, ops: f64) -> Cpu {
        Cpu {
            user: self.user.div_f64(ops),
            sys: self.sys.div_f64(ops),
        }
    }
}

/// A reading of the CPU clocks at the start of a round.
///
/// The total is that of the whole process (every thread: the tokio-postgres connection task and
/// the runtime's workers count as the client's work) and is exact: Linux keeps the run time of
/// each thread to the nanosecond. The user / sys split is not: unless the kernel is built with
/// VIRT_CPU_ACCOUNTING_GEN it only counts which of the two a thread was in at each timer tick,
/// and getrusage divides the exact total in the proportion of the ticks counted over the
/// thread's (or process's) whole life, never letting either part go down. Differences of two
/// readings of a long-lived process therefore carry the history before them: a round after a
/// system-heavy workload could show no system time at all. So the split is taken from the
/// round's own thread when [`on_fresh_threads`] gives every round a new one (single-threaded
/// workloads), and scaled to the process total; otherwise from the process.
#[derive(Debug, Clone, Copy)]
struct CpuClock {
    process: Cpu,
    thread: Cpu,
}

impl CpuClock {
    fn start() -> CpuClock {
        CpuClock {
            process: rusage(libc::RUSAGE_SELF),
            thread: rusage(libc::RUSAGE_THREAD),
        }
    }

    /// The process's CPU time since `self`, split as described on [`CpuClock`].
    fn elapsed(self, fresh_thread: bool) -> Cpu {
        let process = rusage(libc::RUSAGE_SELF).since(self.process);
        let thread = rusage(libc::RUSAGE_THREAD).since(self.thread);
        if !fresh_thread || thread.total().is_zero() {
            return process;
        }
        let sys = process
            .total()
            .mul_f64(thread.sys.as_secs_f64() / thread.total().as_secs_f64());
        Cpu {
            user: process.total().saturating_sub(sys),
            sys,
        }
    }
}

/// Whether [`on_fresh_threads`] is driving the current workload.
static FRESH_THREADS: AtomicBool = AtomicBool::new(false);
/// Set by [`new_thread`] to ask [`on_fresh_threads`] for a new thread.
static NEW_THREAD: AtomicBool = AtomicBool::new(false);

/// Runs `work` on the current-thread runtime `rt` like `rt.block_on`, but lets [`measure`] move
/// it to a new OS thread before each round, so that each round's user / sys split comes from a
/// thread with no history (see [`CpuClock`]). The runtime, its I/O and the tasks spawned on it
/// stay the same: a current-thread runtime is driven by whichever thread calls `block_on`.
pub fn on_fresh_threads<F>(rt: &tokio::runtime::Runtime, work: F) -> F::Output
where
    F: Future,
    F::Output: Send,
{
    let mut work = std::pin::pin!(work);
    FRESH_THREADS.store(true, Ordering::SeqCst);
    let output = loop {
        let step = UntilNewThread(work.as_mut());
        let step = std::thread::scope(|scope| {
            scope
                .spawn(move || rt.block_on(step.in_this_thread()))
                .join()
        });
        match step {
            Ok(Some(output)) => break output,
            Ok(None) => continue,
            Err(panic) => {
                FRESH_THREADS.store(false, Ordering::SeqCst);
                std::panic::resume_unwind(panic)
            }
        }
    };
    FRESH_THREADS.store(false, Ordering::SeqCst);
    output
}

/// Polls the work until it finishes (`Some`) or, pending, asks for a new thread (`None`).
struct UntilNewThread<'a, F>(Pin<&'a mut F>);

// SAFETY: the workloads' futures are `Send` in fact (connections of the three drivers and plain
// data; no guard or thread-local value held across an await), but their async closures run into
// the compiler's "implementation of `Send` is not general enough" limitation for higher-ranked
// lifetimes, so it cannot prove it. `on_fresh_threads` moves a future only to a thread that
// starts after the previous one has been joined: it is never used by two threads at once.
unsafe impl<F> Send for UntilNewThread<'_, F> {}

impl<'a, F> UntilNewThread<'a, F> {
    /// Unwraps on the thread that polls it (a closure would otherwise capture the `Send`
    /// wrapper's field rather than the wrapper).
    fn in_this_thread(self) -> UntilNewThread<'a, F> {
        self
    }
}

impl<F: Future> Future for UntilNewThread<'_, F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready(Some(output)),
            Poll::Pending if NEW_THREAD.swap(false, Ordering::SeqCst) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Under [`on_fresh_threads`], continues on a new thread; otherwise does nothing. Returns
/// whether the thread is new.
async fn new_thread() -> bool {
    if !FRESH_THREADS.load(Ordering::SeqCst) {
        return false;
    }
    let mut asked = false;
    std::future::poll_fn(|cx| {
        if asked {
            Poll::Ready(())
        } else {
            asked = true;
            NEW_THREAD.store(true, Ordering::SeqCst);
            // Polled again at once, on the next thread.
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
    true
}

/// One driver's run of one round.
#[derive(Debug, Clone, Copy)]
struct Round {
    ops_per_sec: f64,
    cpu_per_op: Cpu,
}

/// The medians of one driver's rounds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub ops_per_sec: f64,
    /// The median of the rounds' CPU time per op (user + sys).
    pub cpu_per_op: Duration,
    /// The user / sys split of the round(s) that make that median, so `cpu_per_op` is their sum.
    pub split_per_op: Cpu,
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

/// Runs `settings.rounds` rounds; in each, every driver of `drivers` that `settings` measures
/// (TUSK_BENCH_DRIVERS) runs `round` once, starting with a different driver each round so that
/// none always goes first. `round` gets the driver and the time budget of the round and returns
/// the number of ops it completed; the wall and CPU time around it make the round's rates. A
/// short warm-up round per driver comes first (connections, statement caches, the server's
/// buffers) and is not counted.
pub async fn measure(
    drivers: &[Driver],
    settings: &Settings,
    mut round: impl AsyncFnMut(Driver, Duration) -> Result<u64, BoxError>,
) -> Result<[Option<Summary>; 3], BoxError> {
    let drivers: Vec<Driver> = drivers
        .iter()
        .copied()
        .filter(|&d| settings.measures(d))
        .collect();
    for &driver in &drivers {
        round(driver, settings.round / 5).await?;
    }
    let mut samples: [Vec<Round>; 3] = Default::default();
    for r in 0..settings.rounds {
        for k in 0..drivers.len() {
            let driver = drivers[(r + k) % drivers.len()];
            let fresh_thread = new_thread().await;
            let cpu_start = CpuClock::start();
            let start = Instant::now();
            let ops = round(driver, settings.round).await?;
            let wall = start.elapsed();
            let cpu = cpu_start.elapsed(fresh_thread);
            if ops == 0 {
                return Err(format!("{} completed no operation in a round", driver.name()).into());
            }
            samples[driver.index()].push(Round {
                ops_per_sec: ops as f64 / wall.as_secs_f64(),
                cpu_per_op: cpu.div(ops as f64),
            });
        }
    }
    let mut out = [None; 3];
    for (slot, rounds) in out.iter_mut().zip(&samples) {
        if !rounds.is_empty() {
            let split_per_op = median_cpu(rounds);
            *slot = Some(Summary {
                ops_per_sec: median(rounds.iter().map(|r| r.ops_per_sec).collect()),
                cpu_per_op: split_per_op.total(),
                split_per_op,
            });
        }
    }
    Ok(out)
}

/// The median round by total CPU time per op, or the mean of the middle two: its user and sys
/// parts add up to the median total, which separate medians of each would not.
fn median_cpu(rounds: &[Round]) -> Cpu {
    let mut cpus: Vec<Cpu> = rounds.iter().map(|r| r.cpu_per_op).collect();
    cpus.sort_by_key(|c| c.total());
    let n = cpus.len();
    if n % 2 == 1 {
        cpus[n / 2]
    } else {
        let (a, b) = (cpus[n / 2 - 1], cpus[n / 2]);
        Cpu {
            user: (a.user + b.user) / 2,
            sys: (a.sys + b.sys) / 2,
        }
    }
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
    markdown(&rows, 2)
}

/// The companion of [`table`]: each driver's CPU time per unit split into user and system time,
/// to tell work in the driver's own code from work in the kernel (socket I/O, wake-ups).
pub fn cpu_split_table(outcomes: &[Outcome]) -> String {
    let mut header = vec!["CPU user / sys µs per unit".to_string()];
    header.extend(Driver::ALL.iter().map(|d| d.name().to_string()));
    let mut rows = vec![header];
    for o in outcomes {
        let mut row = vec![format!("{} {}", o.id, o.title)];
        for result in &o.results {
            row.push(result.map_or("—".into(), |s| {
                format!("{} / {}", cpu(s.split_per_op.user), cpu(s.split_per_op.sys))
            }));
        }
        rows.push(row);
    }
    markdown(&rows, 1)
}

/// The results as tab-separated lines for scripts/bench, which reads W4's rate from them:
/// `result <workload> <driver> <ops/s> <CPU µs/op> <user µs/op> <sys µs/op>`.
pub fn tsv(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        for (driver, result) in Driver::ALL.iter().zip(&o.results) {
            if let Some(s) = result {
                let us = |d: Duration| d.as_secs_f64() * 1e6;
                let _ = writeln!(
                    out,
                    "result\t{}\t{}\t{:.1}\t{:.4}\t{:.4}\t{:.4}",
                    o.id,
                    driver.name(),
                    s.ops_per_sec,
                    us(s.cpu_per_op),
                    us(s.split_per_op.user),
                    us(s.split_per_op.sys),
                );
            }
        }
    }
    out
}

/// `rows` (the first is the header) as a Markdown table: the first `text_columns` columns
/// left-aligned, the others (numbers) right-aligned.
fn markdown(rows: &[Vec<String>], text_columns: usize) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        out.push('|');
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c < text_columns {
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
                if c < text_columns {
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
