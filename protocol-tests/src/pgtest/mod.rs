//! pgtest: data-driven protocol scenarios replayed against any PostgreSQL server, in the file
//! format of CockroachDB's pgwire tests (`pkg/testutils/pgtest`), implemented here from its
//! description; the format, the directives and tusk's extensions are documented in
//! `protocol-tests/pgtest/README.md`, next to tusk's own corpus.
//!
//! A scenario sends frontend messages written as JSON and compares the backend messages that
//! come back, printed as JSON lines, with the expected block:
//!
//! ```text
//! send
//! Parse {"Query": "SELECT $1::int4 + 1"}
//! Bind {"Parameters": [{"text": "41"}]}
//! Execute
//! Sync
//! ----
//!
//! until
//! ReadyForQuery
//! ----
//! {"Type":"ParseComplete"}
//! {"Type":"BindComplete"}
//! {"Type":"DataRow","Values":[{"text":"42"}]}
//! {"Type":"CommandComplete","CommandTag":"SELECT 1"}
//! {"Type":"ReadyForQuery","TxStatus":"I"}
//! ```
//!
//! The parts:
//!
//! - [`script`]: the datadriven block format, parsed and rewritten.
//! - [`frontend_json`]: `send` lines into frontend messages, encoded by `tusk::proto::frontend`.
//! - [`backend_json`]: backend messages, decoded by `tusk::proto::backend`, into JSON lines,
//!   with the options that filter them (`ignore=`, `keepErrMessage`, ...).
//! - [`connection`]: the runner's own TCP session (startup and authentication included).
//! - [`runner`]: the directives, the comparison, the report and rewrite.
//! - [`diff`]: the line diff of a failed step.
//!
//! The `pgtest` binary (`src/bin/pgtest.rs`) runs files or directories of them from the command
//! line; `tests/live_conformance.rs` runs the corpus against the test server.

#![warn(missing_docs)]

pub mod backend_json;
pub mod connection;
pub mod diff;
pub mod frontend_json;
mod gojson;
pub mod runner;
pub mod script;

use std::path::{Path, PathBuf};

pub use connection::Target;
pub use runner::{run_file, FileReport, Status, Step};

/// The file extension of scenario files found in a directory.
pub const EXTENSION: &str = "pgtest";

/// The scenario files named by `paths`: each file as given, and for each directory its
/// `*.pgtest` files in name order.
///
/// ```no_run
/// let files = protocol_tests::pgtest::scenario_files(&["protocol-tests/pgtest".into()])?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn scenario_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<_, _>>()?;
            found.retain(|p| p.is_file() && p.extension().is_some_and(|ext| ext == EXTENSION));
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// The totals of a run over several files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Files run.
    pub files: usize,
    /// Steps that matched (or were rewritten).
    pub passed: usize,
    /// Steps that differed or failed, plus files that could not run.
    pub failed: usize,
    /// Steps skipped against this server.
    pub skipped: usize,
    /// Steps not run after an error.
    pub not_run: usize,
}

impl Totals {
    /// Adds one file's report.
    pub fn add(&mut self, report: &FileReport) {
        self.files += 1;
        self.not_run += report.not_run;
        if report.error.is_some() {
            self.failed += 1;
        }
        for step in &report.steps {
            match step.status {
                Status::Pass | Status::Rewritten => self.passed += 1,
                Status::Fail(_) | Status::Error(_) => self.failed += 1,
                Status::Skip(_) => self.skipped += 1,
            }
        }
    }

    /// Whether nothing failed and nothing was left unrun.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.not_run == 0
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} file(s): {} step(s) passed, {} failed, {} skipped, {} not run",
            self.files, self.passed, self.failed, self.skipped, self.not_run
        )
    }
}

/// Runs every file in turn against `target`, printing each report as it completes through
/// `print`; returns the totals.
pub fn run_all(
    files: &[PathBuf],
    target: &Target,
    rewrite: bool,
    mut print: impl FnMut(&FileReport),
) -> Totals {
    let mut totals = Totals::default();
    for file in files {
        let report = run_file(file, &display(file), target, rewrite);
        print(&report);
        totals.add(&report);
    }
    totals
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
