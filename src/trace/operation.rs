//! `db.operation.name` from SQL text: its first keyword, upper-cased. PostgreSQL's commands
//! come out as `&'static str` from a table; any other word is kept in an inline buffer, so
//! naming a span allocates nothing either way.

/// The longest word kept. PostgreSQL's longest command keyword is `CHECKPOINT` or
/// `DEALLOCATE` (10 bytes); a longer first word is not a command, and no name is better than a
/// truncated one.
const MAX_KEYWORD: usize = 16;

/// The first keywords of PostgreSQL's SQL commands, the common ones first (looked up in order).
#[rustfmt::skip]
const COMMANDS: &[&str] = &[
    "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "BEGIN", "COMMIT", "ROLLBACK",
    "SAVEPOINT", "RELEASE", "MERGE", "COPY", "TABLE", "CALL", "SET", "SHOW", "RESET", "START",
    "END", "ABORT", "DECLARE", "FETCH", "MOVE", "CLOSE", "PREPARE", "EXECUTE", "DEALLOCATE",
    "DISCARD", "LISTEN", "NOTIFY", "UNLISTEN", "LOCK", "CREATE", "ALTER", "DROP", "TRUNCATE",
    "COMMENT", "GRANT", "REVOKE", "ANALYZE", "VACUUM", "EXPLAIN", "CLUSTER", "REINDEX",
    "REFRESH", "CHECKPOINT", "DO", "IMPORT", "LOAD", "REASSIGN", "SECURITY",
];

/// An operation name: a SQL keyword upper-cased (`SELECT`), or `BATCH SELECT` for a pipeline of
/// one kind of statement.
#[derive(Clone, Copy)]
pub(crate) struct Operation(Name);

#[derive(Clone, Copy)]
enum Name {
    /// One of [`COMMANDS`].
    Command(&'static str),
    /// Anything else, upper-cased ASCII in a fixed buffer.
    Other {
        bytes: [u8; Operation::CAPACITY],
        len: u8,
    },
}

impl Operation {
    /// `BATCH ` and a keyword.
    const CAPACITY: usize = 6 + MAX_KEYWORD;

    /// The first keyword of `sql`, skipping leading blanks, comments (`-- ...`, nested
    /// `/* ... */`) and opening parentheses (`(SELECT 1) UNION ...`). `None` when the text does
    /// not start with a word of at most 16 ASCII letters (an empty query, a stray symbol, an
    /// identifier such as `foo1`).
    pub(crate) fn of_sql(sql: &str) -> Option<Operation> {
        let bytes = sql.as_bytes();
        let rest = &bytes[skip_to_keyword(bytes)..];
        // One pass: the word's letters, upper-cased, up to the first other byte.
        let mut upper = [0u8; MAX_KEYWORD];
        let mut len = 0;
        for &b in rest {
            if !b.is_ascii_alphabetic() {
                // A word running on into identifier characters (`foo1`, `sélect`) is no
                // keyword.
                if b.is_ascii_digit() || b == b'_' || b == b'$' || !b.is_ascii() {
                    return None;
                }
                break;
            }
            *upper.get_mut(len)? = b.to_ascii_uppercase();
            len += 1;
        }
        if len == 0 {
            return None;
        }
        let word = &upper[..len];
        // Slice equality compares the lengths first, so most commands cost one comparison.
        if let Some(command) = COMMANDS.iter().find(|command| command.as_bytes() == word) {
            return Some(Operation(Name::Command(command)));
        }
        let mut op = Operation::empty();
        op.push(word);
        Some(op)
    }

    fn empty() -> Operation {
        Operation(Name::Other {
            bytes: [0; Operation::CAPACITY],
            len: 0,
        })
    }

    /// The name of a batch: `BATCH SELECT` when every statement has the operation `same`,
    /// else `BATCH`, as the conventions ask.
    pub(crate) fn batch(same: Option<Operation>) -> Operation {
        let mut op = Operation::empty();
        op.push(b"BATCH");
        if let Some(same) = same {
            op.push(b" ");
            op.push(same.as_str().as_bytes());
        }
        op
    }

    /// Appends ASCII `word`, upper-cased, to an `Other` name; the callers stay within the
    /// capacity.
    fn push(&mut self, word: &[u8]) {
        let Name::Other { bytes, len } = &mut self.0 else {
            return;
        };
        for &b in word {
            if let Some(slot) = bytes.get_mut(usize::from(*len)) {
                *slot = b.to_ascii_uppercase();
                *len += 1;
            }
        }
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Name::Command(command) => command,
            // Only ASCII letters and blanks are ever pushed.
            Name::Other { bytes, len } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or("")
            }
        }
    }
}

impl PartialEq for Operation {
    fn eq(&self, other: &Operation) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The index of the first byte after leading blanks, comments and parentheses.
fn skip_to_keyword(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii_whitespace() || b == b'(' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            _ => break,
        }
    }
    i
}

/// The index after the block comment starting at `start` (PostgreSQL nests them); the end of
/// the text when it is not closed.
fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::Operation;

    fn op(sql: &str) -> Option<String> {
        Operation::of_sql(sql).map(|op| op.as_str().to_owned())
    }

    #[test]
    fn the_first_keyword_upper_cased() {
        assert_eq!(op("SELECT 1").as_deref(), Some("SELECT"));
        assert_eq!(op("insert into t values (1)").as_deref(), Some("INSERT"));
        assert_eq!(
            op("  \n\tWith x AS (SELECT 1) SELECT * FROM x").as_deref(),
            Some("WITH")
        );
        assert_eq!(op("BEGIN;").as_deref(), Some("BEGIN"));
        assert_eq!(op("commit").as_deref(), Some("COMMIT"));
        assert_eq!(op("SAVEPOINT tusk_sp_1").as_deref(), Some("SAVEPOINT"));
    }

    #[test]
    fn comments_and_parentheses_are_skipped() {
        assert_eq!(op("-- who\nSELECT 1").as_deref(), Some("SELECT"));
        assert_eq!(
            op("/* a /* nested */ one */ update t set a = 1").as_deref(),
            Some("UPDATE")
        );
        assert_eq!(
            op("((SELECT 1)) UNION (SELECT 2)").as_deref(),
            Some("SELECT")
        );
        assert_eq!(op("/*x*/-- y\n  DELETE FROM t").as_deref(), Some("DELETE"));
        // A lone `-` or `/` starts no comment: the text starts with a symbol.
        assert_eq!(op("-x\nSELECT 1"), None);
        assert_eq!(op("/ */ SELECT 1"), None);
    }

    #[test]
    fn operations_compare_and_print_by_name() {
        let select = Operation::of_sql("SELECT 1").unwrap();
        assert_eq!(select, Operation::of_sql("select 2").unwrap());
        assert_ne!(
            select,
            Operation::of_sql("INSERT INTO t VALUES (1)").unwrap()
        );
        assert_eq!(format!("{select:?}"), "SELECT");
    }

    #[test]
    fn no_name_without_a_leading_word() {
        assert_eq!(op(""), None);
        assert_eq!(op("   "), None);
        assert_eq!(op("-- only a comment"), None);
        assert_eq!(op("/* unclosed SELECT"), None);
        assert_eq!(op("$1"), None);
        assert_eq!(op(";SELECT 1"), None);
        assert_eq!(op("ABCDEFGHIJKLMNOPQ x"), None, "longer than any keyword");
        assert_eq!(
            op("ABCDEFGHIJKLMNOP x").as_deref(),
            Some("ABCDEFGHIJKLMNOP")
        );
        assert_eq!(op("sélect 1"), None);
        assert_eq!(op("foo1 bar"), None);
        assert_eq!(op("a_b"), None);
    }

    #[test]
    fn the_keyword_ends_at_the_first_non_letter() {
        assert_eq!(op("SELECT*FROM t").as_deref(), Some("SELECT"));
        assert_eq!(op("VALUES(1)").as_deref(), Some("VALUES"));
    }

    #[test]
    fn every_command_is_upper_case_and_fits() {
        for command in super::COMMANDS {
            assert_eq!(command.to_ascii_uppercase(), *command);
            assert!(command.len() <= super::MAX_KEYWORD, "{command}");
            assert_eq!(op(&command.to_lowercase()).as_deref(), Some(*command));
        }
    }

    #[test]
    fn batches() {
        let select = Operation::of_sql("select 1");
        assert_eq!(Operation::batch(select).as_str(), "BATCH SELECT");
        assert_eq!(Operation::batch(None).as_str(), "BATCH");
        let longest = Operation::of_sql("ABCDEFGHIJKLMNOP");
        assert_eq!(Operation::batch(longest).as_str(), "BATCH ABCDEFGHIJKLMNOP");
    }
}
