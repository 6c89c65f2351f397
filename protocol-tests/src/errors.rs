//! Assertions that say which error a call returned: a server error by its SQLSTATE, one of
//! tusk's own by its kind and message, so that a different error fails the test.

use tusk::{Error, Kind, SqlState};

/// Asserts that `err` is an error the server reported (an ErrorResponse) with SQLSTATE `code`.
#[track_caller]
pub fn expect_db(err: &Error, code: &SqlState) {
    assert_eq!(
        err.kind(),
        Kind::Db,
        "expected a server error {code:?}, got: {err}"
    );
    expect_code(err, code);
}

/// Asserts that `err` carries SQLSTATE `code`: the server's, or tusk's own (25P02 for a
/// statement refused in an aborted transaction, 57014 for a timeout).
#[track_caller]
pub fn expect_code(err: &Error, code: &SqlState) {
    assert_eq!(
        err.code(),
        Some(code),
        "expected SQLSTATE {code:?}, got: {err}"
    );
}

/// Asserts that `err` is of `kind` and that its text (`Display`, which includes the source)
/// contains `part`.
#[track_caller]
pub fn expect_message(err: &Error, kind: Kind, part: &str) {
    let text = err.to_string();
    assert_eq!(err.kind(), kind, "expected a {kind:?} error, got: {text}");
    assert!(
        text.contains(part),
        "expected a {kind:?} error containing {part:?}, got: {text}"
    );
}
