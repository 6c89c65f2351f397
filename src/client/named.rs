//! Named parameters: rewriting `:name` placeholders into PostgreSQL's positional `$n`, and
//! ordering the caller's `(name, value)` pairs to match.
//!
//! PostgreSQL itself only knows positional parameters (`$1`, `$2`, ...). `execute_named` and
//! `query_named` let callers write `:name` instead (as JDBC-style and psql-style named
//! parameters do; psycopg users know the idea as `%(name)s`). [`rewrite`] turns such SQL into
//! positional SQL and reports the distinct names in order of first use; [`order_args`] then
//! lines the supplied values up with those names.
//!
//! The rewriter is a small linear lexer that follows PostgreSQL's lexical rules just far enough
//! to know which `:` are outside string literals, quoted identifiers, comments and
//! dollar-quoted bodies. It never rejects SQL the server would accept because of a lexing
//! detail: an unterminated literal or comment is copied through unchanged, and the server then
//! reports the syntax error with a better position than we could.
//!
//! # What counts as a placeholder
//!
//! `:` followed by an identifier start (an ASCII letter, `_`, or any non-ASCII character, as
//! in PostgreSQL's own identifiers), then any identifier characters (ASCII letters, digits,
//! `_`, non-ASCII characters). The `:` must not directly follow another `:` or an identifier
//! character (letter, digit, `_`, `$`, non-ASCII), so:
//!
//! - casts stay casts: `a::text` and `:a::int8` (the latter becomes `$1::int8`);
//! - array slices stay slices: `arr[1:2]`, `arr[lo:hi]` and `arr[1:n]` are untouched. To bind
//!   slice bounds write `arr[:lo : :hi]`; `arr[:lo:hi]` binds only `:lo` (and if a value for
//!   `hi` is supplied anyway, [`order_args`] reports it as unused rather than ignoring it);
//! - `:=` and psql's `:'var'` / `:"var"` are not placeholders.
//!
//! Names are case-sensitive (`:id` and `:ID` are different parameters): they are ours, not SQL
//! identifiers, so PostgreSQL's case folding does not apply. Since non-ASCII characters are
//! identifier characters, put a space or punctuation between a placeholder and non-ASCII text
//! that is not part of its name. A name used several times binds one value (one `$n`).
//!
//! # Assumptions
//!
//! `standard_conforming_strings` is on (the default since PostgreSQL 9.1): a backslash in a
//! plain `'...'` literal is an ordinary character. Positional `$n` parameters are refused: a
//! named-parameter call has no way to supply them.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::Error;

/// The most parameters one statement can have: the Bind message counts them in an Int16 that
/// the server reads as unsigned.
const MAX_PARAMS: usize = u16::MAX as usize;

/// The result of [`rewrite`]: the SQL with `$1..$n`, and the distinct names in order of first
/// use (`$1` is `names[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamedSql {
    /// The SQL text with every `:name` placeholder replaced by its `$n`.
    pub(crate) sql: String,
    /// The distinct placeholder names, without the `:`; `names[k]` is bound as `$k+1`.
    pub(crate) names: Vec<String>,
}

/// Rewrites the `:name` placeholders of `sql` into `$n` positional parameters.
///
/// SQL without placeholders comes back unchanged with no names. Fails (a usage error) when the
/// SQL contains a positional `$n` parameter, or more than 65535 distinct names.
pub(crate) fn rewrite(sql: &str) -> Result<NamedSql, Error> {
    let b = sql.as_bytes();
    let mut out = String::new();
    // Bytes of `sql` before this index are already in `out` (or replaced there).
    let mut copied = 0;
    let mut names: Vec<String> = Vec::new();
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    let mut positional: Option<&str> = None;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i = match c {
            b'\'' => skip_quoted(b, i + 1, b'\''),
            b'"' => skip_quoted(b, i + 1, b'"'),
            b'-' if b.get(i + 1) == Some(&b'-') => skip_line_comment(b, i + 2),
            b'/' if b.get(i + 1) == Some(&b'*') => skip_block_comment(b, i + 2),
            b'$' => match dollar(sql, i) {
                Dollar::Positional(end) => {
                    // `i` is an ASCII `$` and `end` follows an ASCII digit: both are char
                    // boundaries.
                    positional.get_or_insert(&sql[i..end]);
                    end
                }
                Dollar::Quote { body, delimiter } => match sql[body..].find(delimiter) {
                    // `body` follows the ASCII `$` closing the opening delimiter.
                    Some(at) => body + at + delimiter.len(),
                    None => b.len(),
                },
                Dollar::Plain => i + 1,
            },
            b':' if is_placeholder_colon(b, i) => {
                let end = name_end(b, i + 1);
                // `i` is an ASCII `:`; `name_end` stops at an ASCII byte or the end, because it
                // consumes every non-ASCII byte: both are char boundaries.
                let name = &sql[i + 1..end];
                let number = match numbers.get(name) {
                    Some(&n) => n,
                    None => {
                        if names.len() == MAX_PARAMS {
                            return Err(Error::usage(format!(
                                "too many named parameters: a statement can have at most \
                                 {MAX_PARAMS}"
                            )));
                        }
                        names.push(name.to_owned());
                        numbers.insert(name, names.len());
                        names.len()
                    }
                };
                if copied == 0 {
                    // The first placeholder: only now is a copy needed.
                    out.reserve(sql.len() + 8);
                }
                out.push_str(&sql[copied..i]);
                // Writing into a String cannot fail.
                let _ = write!(out, "${number}");
                copied = end;
                end
            }
            c if is_ident_start(c) => {
                let end = ident_end(b, i + 1);
                // An `E` (or `e`) that is a whole word and touches a quote opens an escape
                // string, where a backslash escapes the next character, `\'` included.
                if end == i + 1 && (c == b'E' || c == b'e') && b.get(end) == Some(&b'\'') {
                    skip_escape_string(b, end + 1)
                } else {
                    end
                }
            }
            _ => i + 1,
        };
    }
    if let Some(param) = positional {
        return Err(Error::usage(match names.first() {
            Some(name) => format!(
                "mixing positional $n and named :name parameters is not supported \
                 (found {param} and :{name}); use only :name placeholders"
            ),
            None => format!(
                "positional parameter {param} in SQL given to a named-parameter call; \
                 use :name placeholders, or the positional API"
            ),
        }));
    }
    if names.is_empty() {
        return Ok(NamedSql {
            sql: sql.to_owned(),
            names,
        });
    }
    out.push_str(&sql[copied..]);
    Ok(NamedSql { sql: out, names })
}

/// Orders the caller's `(name, value)` pairs to match `names` (from [`rewrite`]), so that the
/// k-th value binds `$k`.
///
/// Fails (a usage error naming the culprits) when a name is given twice, when a placeholder has
/// no value, or when a value names no placeholder of the SQL. Names are compared exactly, and
/// are given without the leading `:`.
pub(crate) fn order_args<'a, T: ?Sized>(
    names: &[String],
    args: &[(&str, &'a T)],
) -> Result<Vec<&'a T>, Error> {
    // Argument index by name; the first duplicate is an error on its own, whatever the SQL.
    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(args.len());
    for (index, (name, _)) in args.iter().enumerate() {
        if by_name.insert(name, index).is_some() {
            return Err(Error::usage(format!(
                "named parameter {name:?} is given more than once"
            )));
        }
    }
    let mut used = vec![false; args.len()];
    let mut ordered = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for name in names {
        match by_name.get(name.as_str()) {
            Some(&index) => {
                // `index` came from enumerating `args`, and `used` has `args.len()` entries.
                used[index] = true;
                ordered.push(args[index].1);
            }
            None => missing.push(name.as_str()),
        }
    }
    let unused: Vec<&str> = args
        .iter()
        .zip(&used)
        .filter(|(_, &used)| !used)
        .map(|((name, _), _)| *name)
        .collect();
    if missing.is_empty() && unused.is_empty() {
        return Ok(ordered);
    }
    let mut message = String::from("named parameters do not match the SQL:");
    if !missing.is_empty() {
        message.push_str(" no value given for ");
        push_list(&mut message, &missing);
    }
    if !unused.is_empty() {
        if !missing.is_empty() {
            message.push(';');
        }
        message.push_str(" the SQL does not use ");
        push_list(&mut message, &unused);
        if unused.iter().any(|name| name.starts_with(':')) {
            message.push_str(" (give names without the leading ':')");
        }
    }
    Err(Error::usage(message))
}

/// Appends `names` as a comma-separated list of quoted names.
fn push_list(message: &mut String, names: &[&str]) {
    for (k, name) in names.iter().enumerate() {
        if k > 0 {
            message.push_str(", ");
        }
        // Writing into a String cannot fail.
        let _ = write!(message, "{name:?}");
    }
}

/// An identifier's first byte, as PostgreSQL's lexer sees it: ASCII letters, `_`, and every
/// byte of a non-ASCII character.
fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

/// A placeholder name's bytes after the first: identifier starts and digits (no `$`).
fn is_name_byte(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit()
}

/// Where the placeholder name starting at `i` ends.
fn name_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_name_byte(c)) {
        i += 1;
    }
    i
}

/// Where the identifier (or keyword) continuing at `i` ends: like names, plus `$`, which
/// PostgreSQL accepts inside identifiers (`a$1` is one identifier, not `a` and `$1`).
fn ident_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_name_byte(c) || c == b'$') {
        i += 1;
    }
    i
}

/// Whether the `:` at `i` starts a placeholder: an identifier start follows, and neither a
/// `:` (a `::` cast) nor an identifier character (`arr[lo:hi]`, `arr[1:n]`) precedes it.
fn is_placeholder_colon(b: &[u8], i: usize) -> bool {
    let follows_ok = b.get(i + 1).is_some_and(|&c| is_ident_start(c));
    let precedes_ok = match i.checked_sub(1).and_then(|p| b.get(p)) {
        None => true,
        Some(&p) => p != b':' && p != b'$' && !is_name_byte(p),
    };
    follows_ok && precedes_ok
}

/// Skips a literal or quoted identifier whose body starts at `i`, closed by `quote` and with
/// a doubled `quote` standing for itself: `'...'` (also `B'...'`, `X'...'`, `U&'...'`) and
/// `"..."` (also `U&"..."`). Returns the index after the closing quote, or the end.
fn skip_quoted(b: &[u8], mut i: usize, quote: u8) -> usize {
    while let Some(&c) = b.get(i) {
        if c == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Skips an escape string `E'...'` whose body starts at `i`: a backslash escapes the next
/// byte (a multi-byte character's other bytes are never `'` or `\`, so skipping one byte is
/// enough), `''` is a quote. A continuation segment (see [`continuation_quote`]) is part of
/// the same escape string. Returns the index after the closing quote, or the end.
fn skip_escape_string(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => match continuation_quote(b, i + 1) {
                Some(next) => i = next,
                None => return i + 1,
            },
            _ => i += 1,
        }
    }
    b.len()
}

/// If a string literal that closed just before `i` continues in another segment (SQL's
/// `'foo'` newline `'bar'`), the index after the segment's opening quote.
///
/// As in PostgreSQL, the separator is horizontal whitespace and `--` comments, then a
/// newline, then any whitespace and comments each ended by a newline. Only escape strings need
/// this: the continuation follows their rules, not those of a plain literal.
fn continuation_quote(b: &[u8], mut i: usize) -> Option<usize> {
    let mut seen_newline = false;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\x0c' => i += 1,
            b'\x0b' if seen_newline => i += 1,
            b'\n' | b'\r' => {
                seen_newline = true;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => i = skip_line_comment(b, i + 2),
            b'\'' if seen_newline => return Some(i + 1),
            _ => return None,
        }
    }
    None
}

/// Skips a `--` comment whose text starts at `i`; it ends before the next newline.
fn skip_line_comment(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
        i += 1;
    }
    i
}

/// Skips a `/* */` comment whose text starts at `i`. PostgreSQL's block comments nest.
fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 1usize;
    while let Some(&c) = b.get(i) {
        match (c, b.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// What a `$` outside any literal starts.
enum Dollar<'s> {
    /// A positional parameter `$123`, ending before the given index.
    Positional(usize),
    /// A dollar-quoted body starting at `body` and ending at the next `delimiter`
    /// (`$$` or `$tag$`).
    Quote { body: usize, delimiter: &'s str },
    /// Nothing special: PostgreSQL lexes the `$` on its own.
    Plain,
}

/// Classifies the `$` at `i` (which is not inside an identifier).
fn dollar(sql: &str, i: usize) -> Dollar<'_> {
    let b = sql.as_bytes();
    let mut j = i + 1;
    match b.get(j) {
        Some(c) if c.is_ascii_digit() => {
            while b.get(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            Dollar::Positional(j)
        }
        Some(&c) if c == b'$' || is_ident_start(c) => {
            // A tag: an identifier start, then identifier starts and digits (no `$`).
            j = name_end(b, j);
            if b.get(j) == Some(&b'$') {
                // `i` and `j` are ASCII `$`: the delimiter's ends are char boundaries.
                Dollar::Quote {
                    body: j + 1,
                    delimiter: &sql[i..=j],
                }
            } else {
                Dollar::Plain
            }
        }
        _ => Dollar::Plain,
    }
}

#[cfg(test)]
#[path = "named_tests.rs"]
mod tests;
