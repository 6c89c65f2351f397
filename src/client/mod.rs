//! The client side over a byte stream: [`Connection`](connection::Connection) and every
//! operation on it (queries, statements, rows, cursors, transactions, pipelines, streams,
//! portals, server cursors, COPY, LISTEN/NOTIFY, cancel).
//!
//! This layer moves bytes and hands results to the caller; what may follow what on the wire is
//! decided by the sans-IO exchanges in `crate::proto`.

pub(crate) mod cancel;
pub(crate) mod connection;
pub(crate) mod copy;
pub(crate) mod cursor;
pub(crate) mod deadline;
pub(crate) mod from_row;
pub(crate) mod generic;
pub(crate) mod named;
pub(crate) mod notify;
pub(crate) mod pipeline;
pub(crate) mod portal;
pub(crate) mod query;
pub(crate) mod replication;
pub(crate) mod row;
pub(crate) mod row_ranges;
pub(crate) mod server_cursor;
pub(crate) mod simple;
pub(crate) mod statement;
pub(crate) mod statement_cache;
pub(crate) mod stream;
pub(crate) mod transaction;
pub(crate) mod transport;
pub(crate) mod type_cache;

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1` bytes): a longer one is cut to
/// this length with only a NOTICE, so two names sharing their first 63 bytes would collide.
pub(crate) const MAX_IDENTIFIER_LEN: usize = 63;

/// Checks a name tusk sends as an SQL identifier (a server cursor's, a LISTEN channel's):
/// non-empty, no NUL, at most [`MAX_IDENTIFIER_LEN`] bytes. `what` names it in the error.
pub(crate) fn check_identifier(what: &str, name: &str) -> Result<(), crate::Error> {
    if name.is_empty() {
        return Err(crate::Error::usage(format!("{what} cannot be empty")));
    }
    if name.contains('\0') {
        return Err(crate::Error::usage(format!(
            "{what} cannot contain a NUL character"
        )));
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(crate::Error::usage(format!(
            "{what} is {} bytes, more than PostgreSQL's {MAX_IDENTIFIER_LEN}-byte identifier \
             limit (the server would cut it short, and names sharing their first \
             {MAX_IDENTIFIER_LEN} bytes would collide)",
            name.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod identifier_tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_before_sending() {
        assert!(check_identifier("a channel name", "jobs").is_ok());
        assert!(check_identifier("a channel name", &"x".repeat(63)).is_ok());
        for (name, needle) in [
            ("", "cannot be empty"),
            ("a\0b", "NUL"),
            (&*"x".repeat(64), "64 bytes"),
            // Multi-byte characters count in bytes, as the server counts them.
            (&*"é".repeat(32), "64 bytes"),
        ] {
            let e = check_identifier("a channel name", name).unwrap_err();
            assert_eq!(e.kind(), crate::Kind::Usage);
            let text = e.to_string();
            assert!(
                text.contains("a channel name") && text.contains(needle),
                "{text}"
            );
        }
    }
}
