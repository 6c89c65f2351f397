//! Runs a scenario against a server: one session per file, each directive in turn, each
//! output compared with the expected block (or recorded, with rewrite).
//!
//! The directives (CockroachDB's, plus tusk's `cancel`):
//!
//! - `send`: encodes each input line ([`Frontend::parse_line`]) and writes them all. No output.
//! - `until`: reads messages until each listed type was seen, in order; prints every message.
//!   An ErrorResponse or ReadyForQuery that is not the type waited for ends the step with an
//!   error (the scenario lost track of the conversation, and waiting on could hang).
//! - `receive`: like `until`, but prints only the messages of the listed types.
//! - `let $name`: one `Query` line whose answer is one row of one column; `$name` is then
//!   replaced by that value in later `send` lines. No output.
//! - `$UNIQUE` (tusk, [`UNIQUE`]): a token unique to the run, in `send` lines; printed back as
//!   `$UNIQUE` in outputs.
//! - `only crdb` / `only noncrdb`: the rest of the file runs only against that kind of server.
//! - `cancel` (tusk): sends a CancelRequest for this session on a second connection
//!   ([`Session::cancel`]). No output.
//!
//! `crdb_only` / `noncrdb_only` on `send`, `until`, `receive` skip the step against the other
//! kind of server. A mismatch fails its step and the file goes on (the conversation is still in
//! step); an error (timeout, closed connection, bad input) fails the step and ends the file,
//! its later steps counted as not run.

use std::fmt::Write as _;
use std::path::Path;

use bytes::BytesMut;
use tusk::proto::backend::Message;

use super::backend_json::{check_type, Filters};
use super::connection::{Session, Target};
use super::diff::diff;
use super::frontend_json::Frontend;
use super::script::{Directive, Script};

/// What became of one directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The output matched.
    Pass,
    /// The output differed: the diff (`- expected`, `+ received`).
    Fail(String),
    /// Not run against this server: why.
    Skip(String),
    /// Rewrite mode: the expected block was replaced by the server's output.
    Rewritten,
    /// The step could not be carried out; the rest of the file did not run.
    Error(String),
}

/// One directive's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The directive's line in its file.
    pub line: usize,
    /// The directive's command.
    pub cmd: String,
    /// What happened.
    pub status: Status,
}

/// The results of one scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file's name as given to the runner.
    pub path: String,
    /// One entry per directive that ran or was skipped, in file order.
    pub steps: Vec<Step>,
    /// Directives not run after an error ended the file.
    pub not_run: usize,
    /// Why the file could not run at all (unreadable, malformed, no connection).
    pub error: Option<String>,
    /// Rewrite mode: whether the file was written back (it changed).
    pub rewritten: bool,
}

impl FileReport {
    /// Whether every step passed (or was skipped or rewritten) and nothing was left unrun.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.not_run == 0
            && self
                .steps
                .iter()
                .all(|step| !matches!(step.status, Status::Fail(_) | Status::Error(_)))
    }

    /// The report lines: `PASS file:line cmd`, `FAIL file:line cmd` with the diff or error
    /// indented below, `SKIP file:line cmd (why)`, `REWRITE file:line cmd`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(error) = &self.error {
            let _ = writeln!(out, "FAIL {}: {error}", self.path);
        }
        for step in &self.steps {
            let at = format!("{}:{} {}", self.path, step.line, step.cmd);
            let _ = match &step.status {
                Status::Pass => writeln!(out, "PASS {at}"),
                Status::Rewritten => writeln!(out, "REWRITE {at}"),
                Status::Skip(why) => writeln!(out, "SKIP {at} ({why})"),
                Status::Fail(diff) => {
                    let _ = writeln!(out, "FAIL {at}: output differs (- expected, + received)");
                    for line in diff.lines() {
                        let _ = writeln!(out, "    {line}");
                    }
                    Ok(())
                }
                Status::Error(error) => {
                    let _ = writeln!(out, "FAIL {at}: {}", error.lines().next().unwrap_or(""));
                    for line in error.lines().skip(1) {
                        let _ = writeln!(out, "    {line}");
                    }
                    Ok(())
                }
            };
        }
        if self.not_run > 0 {
            let _ = writeln!(
                out,
                "FAIL {}: {} later directive(s) not run after the error",
                self.path, self.not_run
            );
        }
        if self.rewritten {
            let _ = writeln!(out, "REWROTE {}", self.path);
        }
        out
    }
}

/// Runs the scenario file at `path` against `target`; with `rewrite`, writes the file back with
/// the outputs received (only when every step ran without error, and only if it changed).
/// `name` is how the report names the file.
pub fn run_file(path: &Path, name: &str, target: &Target, rewrite: bool) -> FileReport {
    let mut report = FileReport {
        path: name.to_owned(),
        steps: Vec::new(),
        not_run: 0,
        error: None,
        rewritten: false,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            report.error = Some(format!("cannot read the file: {e}"));
            return report;
        }
    };
    let script = match Script::parse(&text) {
        Ok(script) => script,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let outputs = run_script(&script, target, rewrite, &mut report);
    if rewrite && report.passed() {
        let new_text = script.rewrite(&outputs);
        if new_text != text {
            match std::fs::write(path, new_text) {
                Ok(()) => report.rewritten = true,
                Err(e) => report.error = Some(format!("cannot write the file back: {e}")),
            }
        }
    }
    report
}

/// Runs a parsed scenario, appending its steps to `report`; returns each directive's output
/// (`None` for one that did not run), for [`Script::rewrite`].
pub fn run_script(
    script: &Script,
    target: &Target,
    rewrite: bool,
    report: &mut FileReport,
) -> Vec<Option<String>> {
    let mut outputs = vec![None; script.directives.len()];
    let mut session = match Session::connect(target) {
        Ok(session) => session,
        Err(e) => {
            report.error = Some(e.to_string());
            report.not_run = script.directives.len();
            return outputs;
        }
    };
    let unique = match unique_token() {
        Ok(token) => token,
        Err(e) => {
            report.error = Some(e);
            report.not_run = script.directives.len();
            return outputs;
        }
    };
    let mut run = Run {
        session: &mut session,
        vars: Vec::new(),
        unique,
        only: None,
    };
    for (i, directive) in script.directives.iter().enumerate() {
        let status = match run.step(directive) {
            Ok(Done::Output(actual)) => {
                let status = if actual == directive.expected {
                    Status::Pass
                } else if rewrite {
                    Status::Rewritten
                } else {
                    Status::Fail(diff(&directive.expected, &actual))
                };
                outputs[i] = Some(actual);
                status
            }
            Ok(Done::Skipped(why)) => Status::Skip(why),
            Err(e) => Status::Error(e),
        };
        let failed = matches!(status, Status::Error(_));
        report.steps.push(Step {
            line: directive.line,
            cmd: directive.cmd.clone(),
            status,
        });
        if failed {
            report.not_run = script.directives.len() - i - 1;
            return outputs;
        }
    }
    session.terminate();
    outputs
}

/// The variable (tusk's) that stands for a token unique to each run of a file: replaced by the
/// token in `send` lines, and the token replaced by it in what `until` and `receive` print. It
/// keeps what a scenario shares with other sessions (a NOTIFY channel) apart from concurrent
/// runs while its expected output stays the same from run to run.
pub const UNIQUE: &str = "$UNIQUE";

/// A fresh token for [`UNIQUE`]: `u` and 16 random hex digits (a valid SQL identifier).
fn unique_token() -> Result<String, String> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| format!("no random bytes for $UNIQUE: {e}"))?;
    let mut token = String::from("u");
    for b in random {
        token.push_str(&format!("{b:02x}"));
    }
    Ok(token)
}

/// What a directive produced.
enum Done {
    /// It ran; its output.
    Output(String),
    /// It did not run against this server; why.
    Skipped(String),
}

/// The state of one file's run.
struct Run<'a> {
    session: &'a mut Session,
    /// `let` variables: (`$name`, value).
    vars: Vec<(String, String)>,
    /// What [`UNIQUE`] stands for in this run.
    unique: String,
    /// After `only crdb` / `only noncrdb` that does not match the server: why the rest is skipped.
    only: Option<String>,
}

impl Run<'_> {
    fn step(&mut self, d: &Directive) -> Result<Done, String> {
        if let Some(why) = &self.only {
            return Ok(Done::Skipped(why.clone()));
        }
        let crdb = self.session.is_cockroach;
        if d.has_arg("crdb_only") && !crdb {
            return Ok(Done::Skipped("crdb_only".into()));
        }
        if d.has_arg("noncrdb_only") && crdb {
            return Ok(Done::Skipped("noncrdb_only".into()));
        }
        match d.cmd.as_str() {
            "send" => self.send(d).map(|()| Done::Output(String::new())),
            "until" => self.until(d, false).map(Done::Output),
            "receive" => self.until(d, true).map(Done::Output),
            "let" => self.let_var(d).map(|()| Done::Output(String::new())),
            "cancel" => {
                no_args(d)?;
                no_input(d)?;
                self.session.cancel().map_err(|e| e.to_string())?;
                Ok(Done::Output(String::new()))
            }
            "only" => {
                no_input(d)?;
                let wanted_crdb = match d.args.as_slice() {
                    [arg] if arg.key == "crdb" && arg.vals.is_empty() => true,
                    [arg] if arg.key == "noncrdb" && arg.vals.is_empty() => false,
                    _ => return Err("only takes one argument: crdb or noncrdb".into()),
                };
                if wanted_crdb != crdb {
                    self.only = Some(format!("only {}", d.args[0].key));
                    return Ok(Done::Skipped(format!("only {}", d.args[0].key)));
                }
                Ok(Done::Output(d.expected.clone()))
            }
            other => Err(format!(
                "unknown directive {other:?} (known: send, until, receive, let, only, cancel)"
            )),
        }
    }

    /// Encodes every input line first, so a bad line sends nothing, then writes them.
    fn send(&mut self, d: &Directive) -> Result<(), String> {
        for arg in &d.args {
            if !matches!(arg.key.as_str(), "crdb_only" | "noncrdb_only") {
                return Err(format!("send takes no option {:?}", arg.key));
            }
        }
        let mut buf = BytesMut::new();
        for (line_no, line) in &d.input {
            let line = self.substitute(line);
            let message =
                Frontend::parse_line(&line).map_err(|e| format!("line {line_no}: {e}"))?;
            message
                .encode(&mut buf)
                .map_err(|e| format!("line {line_no}: cannot encode {line}: {e}"))?;
        }
        self.session.write(&buf).map_err(|e| e.to_string())
    }

    /// A send line with the `let` variables and [`UNIQUE`] replaced by their values.
    fn substitute(&self, line: &str) -> String {
        let mut line = line.replace(UNIQUE, &self.unique);
        for (name, value) in &self.vars {
            line = line.replace(name.as_str(), value);
        }
        line
    }

    /// `until` (all messages) or `receive` (only the listed ones).
    fn until(&mut self, d: &Directive, only_listed: bool) -> Result<String, String> {
        let mut filters = Filters::from_args(&d.args)?;
        filters.own_pid = self.session.backend_key.as_ref().map(|key| key.process_id);
        let mut wanted = Vec::with_capacity(d.input.len());
        for (line_no, name) in &d.input {
            check_type(name).map_err(|e| format!("line {line_no}: {e}"))?;
            wanted.push(name.as_str());
        }
        if wanted.is_empty() {
            return Err(format!("{} lists no message type to wait for", d.cmd));
        }
        let received = self.read_until(&wanted, &filters)?;
        let mut out = String::new();
        for (msg, matched) in &received {
            if only_listed && !matched {
                continue;
            }
            if let Some(json) = filters.to_json(msg).map_err(|e| e.to_string())? {
                out.push_str(&json);
                out.push('\n');
            }
        }
        // The token is random and 17 characters long: it cannot stand for anything else.
        Ok(out.replace(&self.unique, UNIQUE))
    }

    /// Reads until each of `wanted` was seen in order: every message read, each marked whether
    /// it was the one waited for. An ErrorResponse or ReadyForQuery not waited for is an error
    /// (as in CockroachDB's runner), with what was received before it.
    fn read_until(
        &mut self,
        wanted: &[&str],
        filters: &Filters,
    ) -> Result<Vec<(Message, bool)>, String> {
        let deadline = self.session.step_deadline();
        let mut received: Vec<(Message, bool)> = Vec::new();
        for want in wanted {
            loop {
                let msg = self
                    .session
                    .next_message(deadline, want)
                    .map_err(|e| with_received(&e.to_string(), &received, filters))?;
                let name = msg.name();
                if name != *want && matches!(name, "ErrorResponse" | "ReadyForQuery") {
                    // Shown whole, whatever the step's options, to say what went wrong.
                    let shown = Filters {
                        keep_err_message: true,
                        own_pid: filters.own_pid,
                        ..Filters::default()
                    };
                    let got = shown
                        .to_json(&msg)
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| name.to_owned());
                    return Err(with_received(
                        &format!("waiting for {want}, got {got}"),
                        &received,
                        filters,
                    ));
                }
                let matched = name == *want;
                received.push((msg, matched));
                if matched {
                    break;
                }
            }
        }
        Ok(received)
    }

    /// `let $name` with one `Query` line answered by one row of one column.
    fn let_var(&mut self, d: &Directive) -> Result<(), String> {
        let name = match d.args.as_slice() {
            [arg] if arg.key.starts_with('$') && arg.vals.is_empty() => arg.key.clone(),
            _ => return Err("let takes one argument, the variable: let $name".into()),
        };
        let [(line_no, line)] = d.input.as_slice() else {
            return Err("let takes one input line: Query {\"String\": \"SELECT ...\"}".into());
        };
        let line = self.substitute(line);
        let query @ Frontend::Query { .. } =
            Frontend::parse_line(&line).map_err(|e| format!("line {line_no}: {e}"))?
        else {
            return Err(format!("line {line_no}: let needs a Query, not {line}"));
        };
        let mut buf = BytesMut::new();
        query.encode(&mut buf).map_err(|e| e.to_string())?;
        self.session.write(&buf).map_err(|e| e.to_string())?;
        let filters = Filters::default();
        let received = self.read_until(&["DataRow", "ReadyForQuery"], &filters)?;
        let rows: Vec<_> = received
            .iter()
            .filter_map(|(msg, _)| match msg {
                Message::DataRow(row) => Some(row),
                _ => None,
            })
            .collect();
        let [row] = rows.as_slice() else {
            return Err(format!(
                "let {name}: the query returned {} rows, not 1",
                rows.len()
            ));
        };
        let ranges: Vec<_> = row
            .ranges()
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let value = match ranges.as_slice() {
            [Some(range)] => String::from_utf8_lossy(&row.buffer()[range.clone()]).into_owned(),
            [None] => return Err(format!("let {name}: the value is NULL")),
            _ => {
                return Err(format!(
                    "let {name}: the row has {} columns, not 1",
                    ranges.len()
                ))
            }
        };
        self.vars.retain(|(n, _)| *n != name);
        self.vars.push((name, value));
        // Longest names first, so `$ab` is replaced before `$a` could eat its prefix.
        self.vars.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        Ok(())
    }
}

fn no_args(d: &Directive) -> Result<(), String> {
    match d.args.first() {
        None => Ok(()),
        Some(arg) => Err(format!("{} takes no argument, got {:?}", d.cmd, arg.key)),
    }
}

fn no_input(d: &Directive) -> Result<(), String> {
    match d.input.first() {
        None => Ok(()),
        Some((line, _)) => Err(format!("{} takes no input (line {line})", d.cmd)),
    }
}

/// An error followed by the messages received before it, as JSON lines.
fn with_received(error: &str, received: &[(Message, bool)], filters: &Filters) -> String {
    let mut out = error.to_owned();
    if !received.is_empty() {
        out.push_str("\nreceived before it:");
        for (msg, _) in received {
            let json = filters
                .to_json(msg)
                .map(|json| json.unwrap_or_else(|| format!("({} ignored)", msg.name())))
                .unwrap_or_else(|e| format!("({}: {e})", msg.name()));
            out.push('\n');
            out.push_str(&json);
        }
    }
    out
}
