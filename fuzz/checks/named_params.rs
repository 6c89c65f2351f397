//! The checks of the `named_params` fuzz target, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] feeds SQL to the named-parameter rewriter (`:name` → `$n`, what `execute_named`
//! sends; reached through `tusk::fuzzing::rewrite_named`). The first byte chooses how the SQL
//! is made:
//!
//! - even: the rest of the input, as (lossy) UTF-8, is the SQL. Then, besides the absence of
//!   panics: an error is a usage error, and only for SQL holding a `$` followed by a digit
//!   (a positional parameter); a result's names are distinct placeholder names; and the output
//!   is the input with some `:name` spans replaced by `$k`, where `k` numbers `name` in order
//!   of first use and every name is used: aligning input and output character by character
//!   leaves nothing else changed. SQL that yields no names comes back unchanged.
//! - odd: the rest is a list of tokens, one kind byte each (some followed by a chunk of content:
//!   a length byte and that many bytes), joined with spaces: plain words, placeholders (some
//!   with a `::` cast), string literals, quoted identifiers, `--` and (nested) `/* */`
//!   comments, dollar-quoted bodies, escape strings (with backslash escapes and a continuation
//!   segment), bit strings, array slices, `:=`, psql's `:'var'`, identifiers holding `$`, and
//!   positional `$n`. The content of literals, comments and bodies is fuzzed (made valid for
//!   its kind) and may itself hold `:name`, `$1` or quotes. The expected output is built
//!   alongside: each placeholder token becomes `$k` and every other token stays exactly as it
//!   is, so placeholders inside literals, comments or bodies must be left alone. A positional
//!   token anywhere outside them must make the rewrite fail.
//!
//! Only `tusk` is used here (with its `fuzzing` feature).

// Each fuzz target includes one check, so each check includes the reader itself; the test that
// replays every target's seeds then holds one copy per check.
#[allow(clippy::duplicate_mod)]
#[path = "input.rs"]
mod input;

use input::Input;
use tusk::fuzzing::rewrite_named;
use tusk::Kind;

/// The most tokens a structured input builds.
const MAX_TOKENS: usize = 64;

/// Placeholder names the structured inputs use (non-ASCII included: PostgreSQL's identifier
/// rules make every non-ASCII character an identifier character).
const NAMES: [&str; 8] = ["a", "b", "id", "x_1", "_", "Id", "ünï", "a2"];

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    if input.byte().is_multiple_of(2) {
        check_raw(&String::from_utf8_lossy(input.rest()));
    } else {
        check_built(&mut input);
    }
}

/// Arbitrary SQL: the properties that need no model of the SQL.
fn check_raw(sql: &str) {
    let (out, names) = match rewrite_named(sql) {
        Ok(result) => result,
        Err(e) => {
            assert_eq!(e.kind(), Kind::Usage, "{e}");
            let bytes = sql.as_bytes();
            assert!(
                bytes
                    .windows(2)
                    .any(|w| w[0] == b'$' && w[1].is_ascii_digit()),
                "refused SQL without a positional parameter: {sql:?}: {e}"
            );
            return;
        }
    };
    for (k, name) in names.iter().enumerate() {
        assert!(is_name(name), "{name:?} is not a placeholder name");
        assert!(!names[..k].contains(name), "{name:?} is listed twice");
    }
    if names.is_empty() {
        assert_eq!(out, sql, "SQL without names was changed");
        return;
    }
    align(sql, &out, &names);
}

/// Walks `sql` and `out` together: they agree byte for byte except where `sql` has
/// `:name` (a maximal name) and `out` has `$k` with `names[k - 1] == name`. Numbers appear in
/// order of first use, and every name is used.
fn align(sql: &str, out: &str, names: &[String]) {
    let (a, b) = (sql.as_bytes(), out.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut next = 1; // The number a name not seen yet must get.
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        // A difference: it must be a replaced placeholder.
        assert!(
            a.get(i) == Some(&b':') && b.get(j) == Some(&b'$'),
            "the output differs from the input at byte {i} of {sql:?} / {j} of {out:?} \
             other than by a placeholder"
        );
        let end = i + 1 + a[i + 1..].iter().take_while(|&&c| is_name_byte(c)).count();
        let name = &sql[i + 1..end];
        let digits = b[j + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let number: usize = out[j + 1..j + 1 + digits]
            .parse()
            .unwrap_or_else(|_| panic!("no number after '$' at byte {j} of {out:?}"));
        assert!(
            (1..=names.len()).contains(&number) && names[number - 1] == name,
            ":{name} became ${number} (names {names:?})"
        );
        assert!(number <= next, "${number} is used before ${next}");
        if number == next {
            next += 1;
        }
        i = end;
        j += 1 + digits;
    }
    assert_eq!(
        next,
        names.len() + 1,
        "names listed but never used: {names:?}"
    );
}

/// A placeholder name: an identifier start (ASCII letter, `_`, non-ASCII), then name bytes.
fn is_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] >= 0x80)
        && b.iter().all(|&c| is_name_byte(c))
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// SQL built from tokens, with the output the rewrite must give.
fn check_built(input: &mut Input<'_>) {
    let mut sql = String::new();
    let mut expected = String::new();
    let mut names: Vec<&str> = Vec::new();
    let mut positional = false;
    let mut after_escape_string = false;
    for _ in 0..MAX_TOKENS {
        if input.is_empty() {
            break;
        }
        if !sql.is_empty() {
            // After an escape string, a newline and a quote further on would continue it
            // (lexed with its backslash rules); `;` ends it for sure.
            let separator = if after_escape_string { " ; " } else { " " };
            sql.push_str(separator);
            expected.push_str(separator);
        }
        let kind = input.byte();
        after_escape_string = matches!(kind % 20, 9 | 10);
        let (text, rewritten) = match kind % 20 {
            0 => same(word(input.chunk())),
            1 | 2 => {
                let name = NAMES[usize::from(input.byte()) % NAMES.len()];
                let number = match names.iter().position(|n| *n == name) {
                    Some(k) => k + 1,
                    None => {
                        names.push(name);
                        names.len()
                    }
                };
                // Kind 2 adds a cast right after the name.
                let cast = if kind % 20 == 2 { "::int8" } else { "" };
                (format!(":{name}{cast}"), format!("${number}{cast}"))
            }
            3 => same(format!("'{}'", content(input.chunk()).replace('\'', "''"))),
            4 => same(format!(
                "\"{}\"",
                content(input.chunk()).replace('"', "\"\"")
            )),
            5 => same(format!(
                "--{}\n",
                content(input.chunk()).replace(['\n', '\r'], " ")
            )),
            6 => same(format!("/*{}*/", comment_body(input.chunk()))),
            7 => same(format!(
                "/*{} /*{}*/ {}*/",
                comment_body(input.chunk()),
                comment_body(input.chunk()),
                comment_body(input.chunk())
            )),
            8 => {
                let tag = ["", "x", "tag_1", "ü"][usize::from(input.byte()) % 4];
                // Every `$` of the body is followed by a space, so the body cannot hold the
                // closing delimiter (which has no space) nor end in part of it.
                let body = content(input.chunk()).replace('$', "$ ");
                same(format!("${tag}${body}${tag}$"))
            }
            9 => same(format!("E'{}'", escape_body(input.chunk()))),
            10 => same(format!(
                "E'{}'\n  '{}'",
                escape_body(input.chunk()),
                escape_body(input.chunk())
            )),
            11 => same(
                ["B'0101'", "X'1F'", "U&'d\\0061t'", "U&\"d:a\""][usize::from(input.byte()) % 4]
                    .to_owned(),
            ),
            12 => same(
                ["arr[1:2]", "arr[lo:hi]", "arr[1:n]", "a[x:y:z]"][usize::from(input.byte()) % 4]
                    .to_owned(),
            ),
            13 => same(
                ["f(a := 1)", "x::text", ":::a", ": a", "1 :"][usize::from(input.byte()) % 5]
                    .to_owned(),
            ),
            14 => same(
                [":'var'", ":\"var\"", "a$1", "a$b", "$"][usize::from(input.byte()) % 5].to_owned(),
            ),
            15 => {
                positional = true;
                same(format!("${}", input.byte() % 10 + 1))
            }
            16 => same(format!(
                "'{}'",
                content(input.chunk()).replace('\'', "''") + ":a $1"
            )),
            17 => same(format!("-- :a $1 {}\n", word(input.chunk()))),
            18 => same(format!("$q$ :a $1 '{}' $q$", word(input.chunk()))),
            _ => same(format!("\"{}:a\"", word(input.chunk()))),
        };
        sql.push_str(&text);
        expected.push_str(&rewritten);
    }

    match rewrite_named(&sql) {
        Ok((out, got_names)) => {
            assert!(
                !positional,
                "a positional parameter was accepted: {sql:?} -> {out:?}"
            );
            assert_eq!(out, expected, "rewrite of {sql:?}");
            assert_eq!(got_names, names, "names of {sql:?}");
        }
        Err(e) => {
            assert!(positional, "{sql:?} was refused: {e}");
            assert_eq!(e.kind(), Kind::Usage, "{e}");
        }
    }
    // Whatever was built, the raw properties hold too.
    check_raw(&sql);
}

/// A token that the rewrite must leave as it is.
fn same(text: String) -> (String, String) {
    (text.clone(), text)
}

/// A plain word: the chunk's bytes mapped onto letters, digits, `_` and punctuation that start
/// nothing special (no quotes, `$`, `:`, `-`, `/`, `*`, `[`), never empty.
fn word(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+()=,<>;.%";
    let mut word: String = bytes
        .iter()
        .map(|&b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect();
    if word.is_empty() {
        word.push('w');
    }
    word
}

/// Free text for inside a literal, comment or body: any characters, NUL excluded.
fn content(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\0', " ")
}

/// Free text for a block comment: no `/*` or `*/` of its own (which would nest or close it).
fn comment_body(bytes: &[u8]) -> String {
    content(bytes).replace(['/', '*'], " ")
}

/// The body of an escape string: backslashes and quotes escaped (`\\`, `\'`), other text
/// as it is.
fn escape_body(bytes: &[u8]) -> String {
    let mut body = String::new();
    for c in content(bytes).chars() {
        match c {
            '\\' => body.push_str("\\\\"),
            '\'' => body.push_str("\\'"),
            c => body.push(c),
        }
    }
    body
}
