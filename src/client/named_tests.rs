//! Tests of the `:name` rewriter and of argument ordering.

use super::*;
use crate::Kind;

/// (input, expected SQL, expected names)
const REWRITES: &[(&str, &str, &[&str])] = &[
    // No placeholders: unchanged.
    ("", "", &[]),
    ("SELECT 1", "SELECT 1", &[]),
    (
        "SELECT a FROM t WHERE b = 'x'",
        "SELECT a FROM t WHERE b = 'x'",
        &[],
    ),
    // Plain placeholders, punctuation around them, first-use order, repeats bind once.
    ("SELECT :a", "SELECT $1", &["a"]),
    (":a", "$1", &["a"]),
    ("(:a,:b)", "($1,$2)", &["a", "b"]),
    ("SELECT :b, :a, :b", "SELECT $1, $2, $1", &["b", "a"]),
    (
        "SELECT 1/:a, 2-:b, -:c",
        "SELECT 1/$1, 2-$2, -$3",
        &["a", "b", "c"],
    ),
    (
        "WHERE a=:a AND b<>:b;",
        "WHERE a=$1 AND b<>$2;",
        &["a", "b"],
    ),
    (
        "SELECT :_x1, :x_2, :X",
        "SELECT $1, $2, $3",
        &["_x1", "x_2", "X"],
    ),
    (
        "INSERT INTO test_table (my_name, my_number) VALUES (:name, :number)",
        "INSERT INTO test_table (my_name, my_number) VALUES ($1, $2)",
        &["name", "number"],
    ),
    (
        "SELECT *\nFROM t\nWHERE a = :a\n  AND b = :b\n",
        "SELECT *\nFROM t\nWHERE a = $1\n  AND b = $2\n",
        &["a", "b"],
    ),
    // Names are case-sensitive.
    (":Id = :id OR :ID", "$1 = $2 OR $3", &["Id", "id", "ID"]),
    // Casts.
    ("SELECT a::int4", "SELECT a::int4", &[]),
    (
        "SELECT '1'::int4, :x::int8",
        "SELECT '1'::int4, $1::int8",
        &["x"],
    ),
    (":a::int8", "$1::int8", &["a"]),
    ("SELECT ::a, :::a", "SELECT ::a, :::a", &[]),
    ("SELECT CAST(:a AS text)", "SELECT CAST($1 AS text)", &["a"]),
    // `:=`, a lone `:`, psql variables.
    ("SELECT f(a := :b)", "SELECT f(a := $1)", &["b"]),
    ("SELECT : a, 1 :", "SELECT : a, 1 :", &[]),
    ("SELECT :'var', :\"var\"", "SELECT :'var', :\"var\"", &[]),
    // Array slices: a `:` after an identifier character or digit is not a placeholder.
    ("SELECT arr[1:2]", "SELECT arr[1:2]", &[]),
    (
        "SELECT arr[lo:hi], arr[1:n]",
        "SELECT arr[lo:hi], arr[1:n]",
        &[],
    ),
    (
        "SELECT arr[:lo : :hi]",
        "SELECT arr[$1 : $2]",
        &["lo", "hi"],
    ),
    ("SELECT arr[:lo:hi]", "SELECT arr[$1:hi]", &["lo"]),
    ("SELECT x:a, a$:b", "SELECT x:a, a$:b", &[]),
    // Standard strings: `''` escapes, a backslash is ordinary.
    ("SELECT 'a:b'", "SELECT 'a:b'", &[]),
    ("SELECT 'it''s :x', :y", "SELECT 'it''s :x', $1", &["y"]),
    ("SELECT 'it\\', :y", "SELECT 'it\\', $1", &["y"]),
    (
        "WHERE col='\\' AND b = :x",
        "WHERE col='\\' AND b = $1",
        &["x"],
    ),
    ("SELECT '--', '/*', :a", "SELECT '--', '/*', $1", &["a"]),
    ("SELECT '$$', '$1', :a", "SELECT '$$', '$1', $1", &["a"]),
    // Escape strings: a backslash escapes the next character, only after a lone `E`/`e`.
    ("SELECT E'it\\'s :x'", "SELECT E'it\\'s :x'", &[]),
    ("SELECT e'it\\'s :x', :y", "SELECT e'it\\'s :x', $1", &["y"]),
    ("SELECT E'\\\\', :y", "SELECT E'\\\\', $1", &["y"]),
    ("SELECT E'a''b :x'", "SELECT E'a''b :x'", &[]),
    (
        "WHERE col=E'\\' AND b = :x'",
        "WHERE col=E'\\' AND b = :x'",
        &[],
    ),
    ("SELECT namE'\\' :x'", "SELECT namE'\\' $1'", &["x"]),
    // An escape string's continuation segment is an escape string too.
    ("SELECT E'a'\n'\\' :x'", "SELECT E'a'\n'\\' :x'", &[]),
    (
        "SELECT E'a' -- c\n\t'\\' :x'",
        "SELECT E'a' -- c\n\t'\\' :x'",
        &[],
    ),
    (
        "SELECT E'a'\r\n\n  '\\' :x'",
        "SELECT E'a'\r\n\n  '\\' :x'",
        &[],
    ),
    ("SELECT 'a'\n'\\' :x'", "SELECT 'a'\n'\\' $1'", &["x"]),
    ("SELECT E'a' '\\' :x'", "SELECT E'a' '\\' $1'", &["x"]),
    ("SELECT E'a'\n:x", "SELECT E'a'\n$1", &["x"]),
    // Unicode strings and identifiers, bit strings: standard quoting rules.
    ("SELECT U&'d\\0061t:a'", "SELECT U&'d\\0061t:a'", &[]),
    ("SELECT U&'\\', :a", "SELECT U&'\\', $1", &["a"]),
    (
        "SELECT U&'\\0061' UESCAPE '!', :a",
        "SELECT U&'\\0061' UESCAPE '!', $1",
        &["a"],
    ),
    (
        "SELECT U&\"col:x\" FROM t WHERE a = :a",
        "SELECT U&\"col:x\" FROM t WHERE a = $1",
        &["a"],
    ),
    (
        "SELECT B'1:0', X'1F', b'01', x'ff', :a",
        "SELECT B'1:0', X'1F', b'01', x'ff', $1",
        &["a"],
    ),
    ("SELECT N'a:b', :a", "SELECT N'a:b', $1", &["a"]),
    // Quoted identifiers.
    ("SELECT \"col:x\"", "SELECT \"col:x\"", &[]),
    ("SELECT \"a\"\":b\", :c", "SELECT \"a\"\":b\", $1", &["c"]),
    // Line comments end at \n or \r.
    ("SELECT 1 -- :x\n, :y", "SELECT 1 -- :x\n, $1", &["y"]),
    ("SELECT 1 -- :x", "SELECT 1 -- :x", &[]),
    ("SELECT 1 -- :x\r:y", "SELECT 1 -- :x\r$1", &["y"]),
    ("SELECT 1 --- :x\n:y", "SELECT 1 --- :x\n$1", &["y"]),
    // Block comments nest.
    ("/* /* :x */ :y */ :z", "/* /* :x */ :y */ $1", &["z"]),
    ("SELECT 1 /* :x */", "SELECT 1 /* :x */", &[]),
    ("SELECT 2 /*/ :x */ :y", "SELECT 2 /*/ :x */ $1", &["y"]),
    (
        "SELECT 3 /* ** :x **/ :y",
        "SELECT 3 /* ** :x **/ $1",
        &["y"],
    ),
    ("SELECT 4 +/* :x */:y", "SELECT 4 +/* :x */$1", &["y"]),
    // Dollar quotes.
    ("$$ :x $$", "$$ :x $$", &[]),
    ("SELECT $$ :x $$, :y", "SELECT $$ :x $$, $1", &["y"]),
    ("$tag$ :x $tag$ :y", "$tag$ :x $tag$ $1", &["y"]),
    ("$tag$ $$ :x $$ $tag$ :y", "$tag$ $$ :x $$ $tag$ $1", &["y"]),
    ("$a$ $b$ :x $a$ :y", "$a$ $b$ :x $a$ $1", &["y"]),
    ("$_1$ :x $_1$ :y", "$_1$ :x $_1$ $1", &["y"]),
    ("$é$ :x $é$ :y", "$é$ :x $é$ $1", &["y"]),
    ("$$1$$, :y", "$$1$$, $1", &["y"]),
    (
        "DO $$ BEGIN x := :y; END $$",
        "DO $$ BEGIN x := :y; END $$",
        &[],
    ),
    (
        "CREATE FUNCTION f(x int) RETURNS int AS $body$ BEGIN RETURN x::int + :y; END \
         $body$ LANGUAGE plpgsql",
        "CREATE FUNCTION f(x int) RETURNS int AS $body$ BEGIN RETURN x::int + :y; END \
         $body$ LANGUAGE plpgsql",
        &[],
    ),
    // `$` inside identifiers is not a parameter or a dollar quote; a `$` that starts
    // neither is an ordinary character.
    ("SELECT a$1, a$$b, :x", "SELECT a$1, a$$b, $1", &["x"]),
    ("SELECT $tag :x", "SELECT $tag $1", &["x"]),
    ("SELECT $ :x", "SELECT $ $1", &["x"]),
    // Non-ASCII text around placeholders; non-ASCII characters are name characters.
    (
        "SELECT 'é:x', :é, :naïve",
        "SELECT 'é:x', $1, $2",
        &["é", "naïve"],
    ),
    (
        "SELECT :a ,'日本:x', :b",
        "SELECT $1 ,'日本:x', $2",
        &["a", "b"],
    ),
    ("WHERE ü = :ü", "WHERE ü = $1", &["ü"]),
    ("SELECT é:x", "SELECT é:x", &[]),
    ("SELECT :a→b", "SELECT $1", &["a→b"]),
    (
        "SELECT \"日本\" = :日本;",
        "SELECT \"日本\" = $1;",
        &["日本"],
    ),
    // Unterminated constructs: the rest is copied verbatim.
    ("SELECT ':x", "SELECT ':x", &[]),
    ("SELECT \":x", "SELECT \":x", &[]),
    ("SELECT E'\\", "SELECT E'\\", &[]),
    ("SELECT E'a'\n", "SELECT E'a'\n", &[]),
    ("SELECT /* :x", "SELECT /* :x", &[]),
    ("SELECT /* /* */ :x", "SELECT /* /* */ :x", &[]),
    ("SELECT $$ :x", "SELECT $$ :x", &[]),
    ("SELECT $t$ :x $$", "SELECT $t$ :x $$", &[]),
    (
        "SELECT :a, 'unterminated :b",
        "SELECT $1, 'unterminated :b",
        &["a"],
    ),
    ("SELECT :a -- :b", "SELECT $1 -- :b", &["a"]),
];

#[test]
fn rewrite_table() {
    for &(input, sql, names) in REWRITES {
        let got = match rewrite(input) {
            Ok(got) => got,
            Err(e) => panic!("rewrite({input:?}) failed: {e}"),
        };
        assert_eq!(got.sql, sql, "SQL of rewrite({input:?})");
        assert_eq!(got.names, names, "names of rewrite({input:?})");
    }
}

fn rewrite_error(input: &str) -> String {
    match rewrite(input) {
        Ok(got) => panic!("rewrite({input:?}) succeeded: {got:?}"),
        Err(e) => {
            assert_eq!(e.kind(), Kind::Usage, "{e}");
            e.to_string()
        }
    }
}

#[test]
fn mixing_positional_and_named_is_refused() {
    for (input, param, name) in [
        ("SELECT $1, :a", "$1", ":a"),
        ("SELECT :a, $2", "$2", ":a"),
        ("SELECT :b, $12 /* :c */, :a", "$12", ":b"),
    ] {
        let message = rewrite_error(input);
        assert!(
            message.contains("mixing positional $n and named :name parameters"),
            "{message}"
        );
        assert!(message.contains(param), "{message}");
        assert!(message.contains(name), "{message}");
    }
}

#[test]
fn positional_alone_is_refused() {
    let message = rewrite_error("SELECT $1 WHERE $2");
    assert!(message.contains("positional parameter $1"), "{message}");
}

#[test]
fn positional_in_quotes_is_fine() {
    for input in [
        "SELECT '$1', :a",
        "SELECT \"$1\", :a",
        "SELECT :a -- $1",
        "SELECT :a, $$ $1 $$",
    ] {
        let got = rewrite(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(got.names, ["a"], "{input:?}");
    }
}

#[test]
fn parameter_limit() {
    let names = |count: usize| -> String {
        (0..count)
            .map(|k| format!(":p{k}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let got = rewrite(&names(MAX_PARAMS)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.names.len(), MAX_PARAMS);
    assert!(got.sql.ends_with(",$65535"));
    // Repeats do not count.
    let repeated = format!("{},:p0,:p1", names(MAX_PARAMS));
    assert_eq!(
        rewrite(&repeated).map(|n| n.names.len()).ok(),
        Some(MAX_PARAMS)
    );
    let message = rewrite_error(&names(MAX_PARAMS + 1));
    assert!(message.contains("too many named parameters"), "{message}");
}

/// A tiny deterministic generator, so the scramble test needs no dependency.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // The result is below `n`, which is a usize.
        (self.0 % n as u64) as usize
    }
}

/// Random mixes of the lexer's tricky pieces never panic, leave placeholder-free SQL alone,
/// and produce `$n` where the server will see a positional parameter.
#[test]
fn scrambled_input_keeps_invariants() {
    const PIECES: &[&str] = &[
        "'", "\"", "E", "e", "U&", "$", "$$", "$a$", "$1", "1", "a", ":", "::", "-", "--", "/",
        "*", "/*", "*/", "\\", "\n", "\r", " ", "é", "日", "_", ":a", ":b", ":é", "''", "[", "]",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(16);
        let input: String = (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        let Ok(got) = rewrite(&input) else { continue };
        if got.names.is_empty() {
            assert_eq!(got.sql, input);
            continue;
        }
        for name in &got.names {
            assert!(
                !name.is_empty() && name.bytes().all(is_name_byte),
                "{input:?}"
            );
        }
        // Every `$n` we wrote sits where the lexer sees a positional parameter.
        let again = rewrite(&got.sql).err().map(|e| e.to_string());
        assert!(
            again
                .is_some_and(|m| m
                    .contains("positional parameter $1 in SQL given to a named-parameter call")),
            "{input:?} => {:?}",
            got.sql
        );
    }
}

#[test]
fn long_input_is_linear() {
    // Shapes that would be quadratic with naive backtracking; each must finish quickly.
    let n = 200_000;
    for input in [
        "$a".repeat(n),
        "E'a'\n ".repeat(n),
        "/*".repeat(n),
        ":a".repeat(n),
        "$x ".repeat(n),
        format!("$t${}", "$t ".repeat(n)),
        format!("E'x' {}", "-- c".repeat(n)),
    ] {
        let _ = rewrite(&input);
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn order_error(names: &[String], args: &[(&str, &i32)]) -> String {
    match order_args(names, args) {
        Ok(got) => panic!("order_args succeeded: {got:?}"),
        Err(e) => {
            assert_eq!(e.kind(), Kind::Usage, "{e}");
            e.to_string()
        }
    }
}

#[test]
fn order_args_follows_names() {
    let got = order_args(&names(&["b", "a", "c"]), &[("a", &1), ("c", &3), ("b", &2)]);
    assert_eq!(got.ok(), Some(vec![&2, &1, &3]));
    let none: &[(&str, &i32)] = &[];
    assert_eq!(order_args(&[], none).ok(), Some(vec![]));
}

#[test]
fn order_args_unsized_values() {
    let got = order_args(&names(&["y", "x"]), &[("x", "one"), ("y", "two")]);
    assert_eq!(got.ok(), Some(vec!["two", "one"]));
    let (one, two): (&dyn std::fmt::Display, &dyn std::fmt::Display) = (&1u8, &"two");
    let got = order_args(&names(&["b", "a"]), &[("a", one), ("b", two)]);
    let shown: Vec<String> = got
        .unwrap_or_default()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(shown, ["two", "1"]);
}

#[test]
fn order_args_missing() {
    let message = order_error(&names(&["a", "b", "c"]), &[("b", &1)]);
    assert!(
        message.contains("no value given for \"a\", \"c\""),
        "{message}"
    );
    assert!(!message.contains("does not use"), "{message}");
}

#[test]
fn order_args_unused() {
    let message = order_error(&names(&["a"]), &[("a", &1), ("zz", &2)]);
    assert!(message.contains("the SQL does not use \"zz\""), "{message}");
    assert!(!message.contains("no value"), "{message}");
    let message = order_error(&[], &[("a", &1)]);
    assert!(message.contains("\"a\""), "{message}");
}

#[test]
fn order_args_typo_names_both_sides() {
    let message = order_error(&names(&["name"]), &[("nmae", &1)]);
    assert!(message.contains("no value given for \"name\""), "{message}");
    assert!(message.contains("does not use \"nmae\""), "{message}");
}

#[test]
fn order_args_leading_colon_hint() {
    let message = order_error(&names(&["a"]), &[(":a", &1)]);
    assert!(message.contains("without the leading ':'"), "{message}");
}

#[test]
fn order_args_case_sensitive() {
    let message = order_error(&names(&["Id"]), &[("id", &1)]);
    assert!(
        message.contains("\"Id\"") && message.contains("\"id\""),
        "{message}"
    );
}

#[test]
fn order_args_duplicate() {
    let message = order_error(&names(&["a"]), &[("a", &1), ("b", &2), ("a", &3)]);
    assert!(
        message.contains("\"a\" is given more than once"),
        "{message}"
    );
}

#[test]
fn rewrite_then_order() {
    let named =
        rewrite("UPDATE t SET a = :a WHERE id = :id AND a <> :a").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(named.sql, "UPDATE t SET a = $1 WHERE id = $2 AND a <> $1");
    let got = order_args(&named.names, &[("id", &7), ("a", &1)]);
    assert_eq!(got.ok(), Some(vec![&1, &7]));
}
