//! The datadriven format: blocks, arguments, the doubled separator, and rewrite's layout.

use super::{Arg, Script};

fn arg(key: &str, vals: &[&str]) -> Arg {
    Arg {
        key: key.into(),
        vals: vals.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn blocks_comments_and_line_numbers() {
    let text = "\
# a comment
send crdb_only
Query {\"String\": \"SELECT 1\"}

Sync
----

   # an indented comment
until ignore=RowDescription keepErrMessage
ReadyForQuery
----
{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}
";
    let script = Script::parse(text).unwrap();
    let [send, until] = script.directives.as_slice() else {
        panic!("{script:?}")
    };
    assert_eq!((send.line, send.cmd.as_str()), (2, "send"));
    assert_eq!(send.args, [arg("crdb_only", &[])]);
    // Blank lines inside the input are dropped; each line keeps its number.
    assert_eq!(
        send.input,
        [
            (3, "Query {\"String\": \"SELECT 1\"}".to_string()),
            (5, "Sync".to_string())
        ]
    );
    assert_eq!(send.expected, "");
    assert_eq!((until.line, until.cmd.as_str()), (9, "until"));
    assert_eq!(
        until.args,
        [
            arg("ignore", &["RowDescription"]),
            arg("keepErrMessage", &[])
        ]
    );
    assert_eq!(until.input, [(10, "ReadyForQuery".to_string())]);
    assert_eq!(
        until.expected,
        "{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}\n"
    );
    assert!(until.has_arg("keepErrMessage"));
    assert!(!until.has_arg("crdb_only"));
}

#[test]
fn argument_forms_follow_datadriven() {
    let script = Script::parse(
        "until mapError=(42883, 42804) ignore=(A,B) nested=(f(a, b), c) empty= bare\nX\n----\n",
    )
    .unwrap();
    assert_eq!(
        script.directives[0].args,
        [
            arg("mapError", &["42883", "42804"]),
            arg("ignore", &["A", "B"]),
            arg("nested", &["f(a, b)", "c"]),
            arg("empty", &[""]),
            arg("bare", &[]),
        ]
    );
}

#[test]
fn a_backslash_continues_the_command_line() {
    let script = Script::parse("until \\\n  keepErrMessage\nReadyForQuery\n----\n").unwrap();
    let d = &script.directives[0];
    assert_eq!((d.line, d.cmd.as_str()), (1, "until"));
    assert_eq!(d.args, [arg("keepErrMessage", &[])]);
    assert_eq!(d.input, [(3, "ReadyForQuery".to_string())]);
}

#[test]
fn the_doubled_separator_allows_blank_lines() {
    let text = "cmd\n----\n----\na\n\nb\n----\n----\n\nnext\n----\nc\n";
    let script = Script::parse(text).unwrap();
    assert_eq!(script.directives[0].expected, "a\n\nb\n");
    assert_eq!(script.directives[1].expected, "c\n");
    assert_eq!(script.directives[1].line, 10);
}

#[test]
fn malformed_files_name_the_line() {
    let err = Script::parse("x\ncmd\n----\n----\na\n").unwrap_err();
    assert_eq!(err.line, 4);
    assert!(err.message.contains("never closed"), "{err}");
    let err = Script::parse("cmd\n----\n----\na\n----\n----\nb\n").unwrap_err();
    assert_eq!(err.line, 7);
    assert!(err.message.contains("blank line"), "{err}");
    let err = Script::parse("\n\nuntil x=(a, b\n").unwrap_err();
    assert_eq!(err.line, 3);
    assert!(err.message.contains("not closed"), "{err}");
    let err = Script::parse("until =a\n").unwrap_err();
    assert_eq!(err.line, 1);
}

#[test]
fn rewrite_replaces_only_the_expected_blocks() {
    let text = "\
# head

send
Query {\"String\": \"SELECT 1\"}
----

# between
until
ReadyForQuery
----
old line 1
old line 2


last
X
----
keep me
";
    let script = Script::parse(text).unwrap();
    assert_eq!(script.directives.len(), 3);
    let out = script.rewrite(&[
        Some(String::new()),
        Some("new\n".into()),
        None, // not run: kept as it is
    ]);
    assert_eq!(
        out,
        "\
# head

send
Query {\"String\": \"SELECT 1\"}
----

# between
until
ReadyForQuery
----
new


last
X
----
keep me
"
    );
    // Rewriting with the same outputs gives the same file back.
    let again = Script::parse(&out).unwrap();
    let same: Vec<Option<String>> = again
        .directives
        .iter()
        .map(|d| Some(d.expected.clone()))
        .collect();
    assert_eq!(again.rewrite(&same), out);
}

#[test]
fn rewrite_fences_output_with_blank_lines_and_adds_a_missing_separator() {
    let script = Script::parse("a\n----\nx\n\nb\ninput").unwrap();
    let out = script.rewrite(&[Some("1\n\n2\n".into()), Some("3".into())]);
    assert_eq!(
        out,
        "a\n----\n----\n1\n\n2\n----\n----\n\nb\ninput\n----\n3\n"
    );
    let again = Script::parse(&out).unwrap();
    assert_eq!(again.directives[0].expected, "1\n\n2\n");
    assert_eq!(again.directives[1].expected, "3\n");
}
