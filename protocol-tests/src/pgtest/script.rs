//! The file format of pgtest scenarios: cockroachdb/datadriven's blocks, parsed and written back.
//!
//! A file is a sequence of directives. Each one is a command line (`until ignore=RowDescription`,
//! a trailing `\` continues it on the next line), its input lines, a `----` separator and the
//! expected output, which ends at the first blank line:
//!
//! ```text
//! # A comment.
//! send
//! Query {"String": "SELECT 1"}
//! ----
//!
//! until
//! ReadyForQuery
//! ----
//! {"Type":"DataRow","Values":[{"text":"1"}]}
//! ...
//! ```
//!
//! Output that contains blank lines is fenced by a doubled separator instead (`----` twice
//! before it, `----` twice after it). Arguments are `key`, `key=value` or
//! `key=(value1, value2)` (values may hold nested parentheses).
//!
//! [`Script::rewrite`] writes the file back with new expected outputs, keeping everything else
//! (comments, blank lines, directives, inputs) as it was: datadriven's `-rewrite`.

use std::fmt;

/// One `key`, `key=value` or `key=(v1, v2, ...)` argument of a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The name before `=`.
    pub key: String,
    /// The values: none for a bare key, one for `key=value`, several for `key=(a, b)`.
    pub vals: Vec<String>,
}

/// One directive of a scenario file: the command, its arguments, its input and the expected
/// output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The 1-based line of the command (its first line when continued with `\`).
    pub line: usize,
    /// The command, e.g. `send` or `until`.
    pub cmd: String,
    /// The arguments after the command.
    pub args: Vec<Arg>,
    /// The non-blank input lines with their 1-based line numbers.
    pub input: Vec<(usize, String)>,
    /// The expected output: each line followed by `\n`, empty when none.
    pub expected: String,
    /// Index of the first line not kept verbatim on rewrite (the `----` separator).
    separator: usize,
    /// Index of the first line after the expected block (and its terminating blank line).
    resume: usize,
}

impl Directive {
    /// Whether the directive has the bare argument `key` (or `key=...`).
    pub fn has_arg(&self, key: &str) -> bool {
        self.args.iter().any(|arg| arg.key == key)
    }
}

/// A scenario file's directives and the lines they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The directives in file order.
    pub directives: Vec<Directive>,
    lines: Vec<String>,
}

/// A scenario file that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The 1-based line at fault.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

const SEPARATOR: &str = "----";

impl Script {
    /// Parses a scenario file.
    ///
    /// ```
    /// use protocol_tests::pgtest::script::Script;
    ///
    /// let text = "send\nQuery {\"String\": \"SELECT 1\"}\n----\n\nuntil ignore=RowDescription\nReadyForQuery\n----\n{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n";
    /// let script = Script::parse(text)?;
    /// assert_eq!(script.directives.len(), 2);
    /// let until = &script.directives[1];
    /// assert_eq!((until.line, until.cmd.as_str()), (5, "until"));
    /// assert_eq!(until.args[0].vals, ["RowDescription"]);
    /// assert_eq!(until.expected, "{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n");
    /// # Ok::<(), protocol_tests::pgtest::script::ScriptError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let mut directives = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let start = i;
            let mut command = lines[i].trim().to_owned();
            i += 1;
            if command.is_empty() || command.starts_with('#') {
                continue;
            }
            while command.ends_with('\\') && i < lines.len() {
                command.pop();
                command = format!("{} {}", command.trim_end(), lines[i].trim());
                i += 1;
            }
            let (cmd, args) = parse_command(&command).map_err(|message| ScriptError {
                line: start + 1,
                message,
            })?;
            let mut input = Vec::new();
            while i < lines.len() && lines[i] != SEPARATOR {
                if !lines[i].trim().is_empty() {
                    input.push((i + 1, lines[i].trim().to_owned()));
                }
                i += 1;
            }
            let separator = i;
            let expected = if i < lines.len() {
                i += 1;
                read_expected(&lines, &mut i)?
            } else {
                String::new()
            };
            directives.push(Directive {
                line: start + 1,
                cmd,
                args,
                input,
                expected,
                separator,
                resume: i,
            });
        }
        Ok(Script { directives, lines })
    }

    /// The file with each directive's expected output replaced by `outputs[i]` (`None` keeps
    /// the directive's block as it is), in the layout datadriven's rewrite produces: `----`,
    /// the output, one blank line; the doubled separator when the output has blank lines.
    ///
    /// # Panics
    /// When `outputs` does not have one entry per directive (a caller bug).
    pub fn rewrite(&self, outputs: &[Option<String>]) -> String {
        assert_eq!(
            outputs.len(),
            self.directives.len(),
            "one output per directive"
        );
        let mut out = String::new();
        let mut cursor = 0;
        for (directive, output) in self.directives.iter().zip(outputs) {
            let Some(output) = output else {
                continue;
            };
            for line in &self.lines[cursor..directive.separator] {
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(SEPARATOR);
            out.push('\n');
            let mut output = output.clone();
            if !output.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            if output.lines().any(|line| line.trim().is_empty()) {
                out.push_str("----\n");
                out.push_str(&output);
                out.push_str("----\n----\n\n");
            } else {
                out.push_str(&output);
                out.push('\n');
            }
            cursor = directive.resume;
        }
        for line in &self.lines[cursor..] {
            out.push_str(line);
            out.push('\n');
        }
        // Like datadriven: no blank line at the very end of the file.
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }
}

/// Reads an expected block starting at `lines[*i]` (just after the separator) and leaves `*i`
/// after it and its terminating blank line.
fn read_expected(lines: &[String], i: &mut usize) -> Result<String, ScriptError> {
    let mut expected = String::new();
    if lines.get(*i).map(String::as_str) == Some(SEPARATOR) {
        // The doubled form: everything up to two successive separator lines, blank lines too.
        let opened_at = *i + 1;
        *i += 1;
        loop {
            let Some(line) = lines.get(*i) else {
                return Err(ScriptError {
                    line: opened_at,
                    message: "the output opened by a doubled ---- is never closed by another"
                        .into(),
                });
            };
            if line == SEPARATOR && lines.get(*i + 1).map(String::as_str) == Some(SEPARATOR) {
                *i += 2;
                match lines.get(*i) {
                    Some(after) if !after.trim().is_empty() => {
                        return Err(ScriptError {
                            line: *i + 1,
                            message: "a blank line must follow the closing doubled ----".into(),
                        })
                    }
                    Some(_) => *i += 1,
                    None => {}
                }
                return Ok(expected);
            }
            expected.push_str(line);
            expected.push('\n');
            *i += 1;
        }
    }
    while let Some(line) = lines.get(*i) {
        *i += 1;
        if line.trim().is_empty() {
            break;
        }
        expected.push_str(line);
        expected.push('\n');
    }
    Ok(expected)
}

/// Splits a command line into the command and its arguments (datadriven's syntax).
fn parse_command(line: &str) -> Result<(String, Vec<Arg>), String> {
    let line = line.trim();
    let (cmd, mut rest) = line.split_once(' ').unwrap_or((line, ""));
    let mut args = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok((cmd.to_owned(), args));
        }
        let key_end = rest.find([' ', '=']).unwrap_or(rest.len());
        let key = &rest[..key_end];
        if key.is_empty() {
            return Err(format!("an argument has no name in {line:?}"));
        }
        rest = &rest[key_end..];
        let mut vals = Vec::new();
        if let Some(after_eq) = rest.strip_prefix('=') {
            if let Some(list) = after_eq.strip_prefix('(') {
                let (values, after) = split_list(list)
                    .ok_or_else(|| format!("the value list of {key} is not closed in {line:?}"))?;
                vals = values;
                rest = after;
            } else {
                let end = after_eq.find(' ').unwrap_or(after_eq.len());
                vals.push(after_eq[..end].to_owned());
                rest = &after_eq[end..];
            }
        }
        args.push(Arg {
            key: key.to_owned(),
            vals,
        });
    }
}

/// Splits `a, (b, c), d) rest` at its top-level commas up to the closing parenthesis: the
/// values (spaces after each comma skipped) and what follows the parenthesis.
fn split_list(list: &str) -> Option<(Vec<String>, &str)> {
    let mut depth = 1;
    let mut values = Vec::new();
    let mut start = 0;
    for (pos, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    values.push(list[start..pos].to_owned());
                    return Some((values, &list[pos + 1..]));
                }
            }
            ',' if depth == 1 => {
                values.push(list[start..pos].to_owned());
                start = pos + 1;
                start += list[start..].len() - list[start..].trim_start_matches(' ').len();
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
#[path = "script_tests.rs"]
mod tests;
