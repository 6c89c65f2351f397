//! The backend messages that carry this database's one `int4` column and the end of a command:
//! RowDescription, DataRow, CommandComplete and ErrorResponse, written by the server side of
//! tusk's codec (`tusk::proto::server::backend`). The server writes them straight into its
//! output (`put_*`); the public functions return them as bytes, for tests that build wrong
//! replies for a [`Fault`](super::Fault).

use bytes::BytesMut;
use tusk::proto::backend::Field;
use tusk::proto::server::backend;

use super::INT4_OID;

/// Appends a RowDescription of one `int4` column.
pub(super) fn put_row_description(out: &mut BytesMut, name: &str, format: i16) {
    let column = Field {
        name,
        table_oid: 0,
        column_id: 0,
        type_oid: INT4_OID,
        type_size: 4,
        type_modifier: -1,
        format,
    };
    backend::row_description([column], out).expect("a column name without NUL");
}

/// Appends a DataRow of one `int4` value in text (0) or binary (1) format.
pub(super) fn put_data_row(out: &mut BytesMut, value: Option<i32>, format: i16) {
    let text;
    let binary;
    let bytes: Option<&[u8]> = match value {
        None => None,
        Some(v) if format == 1 => {
            binary = v.to_be_bytes();
            Some(&binary)
        }
        Some(v) => {
            text = v.to_string();
            Some(text.as_bytes())
        }
    };
    backend::data_row([bytes], out).expect("one column fits a DataRow");
}

/// Appends a CommandComplete with a tag.
pub(super) fn put_command_complete(out: &mut BytesMut, tag: &str) {
    backend::command_complete(tag, out).expect("a command tag without NUL");
}

/// Appends an ErrorResponse or NoticeResponse (`severity` picks which: `ERROR`/`FATAL` or a
/// notice's `WARNING`, ...) with a SQLSTATE and message.
pub(super) fn put_error_or_notice(out: &mut BytesMut, severity: &str, code: &str, message: &str) {
    let fields = [
        (b'S', severity),
        (b'V', severity),
        (b'C', code),
        (b'M', message),
    ];
    let written = match severity {
        "ERROR" | "FATAL" | "PANIC" => backend::error_response(fields, out),
        _ => backend::notice_response(fields, out),
    };
    // Messages are built from names and SQL the codec decoded, which hold no NUL.
    written.expect("error fields without NUL");
}

/// Runs a `put_*` writer into fresh bytes.
fn bytes(put: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut out = BytesMut::new();
    put(&mut out);
    out.to_vec()
}

/// RowDescription of one `int4` column.
pub fn row_description(name: &str, format: i16) -> Vec<u8> {
    bytes(|out| put_row_description(out, name, format))
}

/// DataRow of one `int4` value in text (0) or binary (1) format.
pub fn data_row(value: Option<i32>, format: i16) -> Vec<u8> {
    bytes(|out| put_data_row(out, value, format))
}

/// CommandComplete with a tag.
pub fn command_complete(tag: &str) -> Vec<u8> {
    bytes(|out| put_command_complete(out, tag))
}

/// An ErrorResponse (ERROR) with a SQLSTATE and message.
pub fn error_response(code: &str, message: &str) -> Vec<u8> {
    bytes(|out| put_error_or_notice(out, "ERROR", code, message))
}

#[cfg(test)]
mod tests {
    //! The replies byte for byte as the protocol documentation lays them out (the oracle these
    //! helpers carried when they were written by hand).

    use super::*;

    #[test]
    fn int4_column_vectors() {
        // "x": table 0, column 0, type 23, size 4, modifier -1, binary.
        assert_eq!(
            row_description("x", 1),
            b"T\x00\x00\x00\x1a\x00\x01x\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x01"
        );
        assert_eq!(
            data_row(Some(-2), 0),
            b"D\x00\x00\x00\x0c\x00\x01\x00\x00\x00\x02-2"
        );
        assert_eq!(
            data_row(Some(7), 1),
            b"D\x00\x00\x00\x0e\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07"
        );
        assert_eq!(
            data_row(None, 1),
            b"D\x00\x00\x00\x0a\x00\x01\xff\xff\xff\xff"
        );
        assert_eq!(command_complete("COPY 3"), b"C\x00\x00\x00\x0bCOPY 3\x00");
        assert_eq!(
            error_response("42601", "x"),
            b"E\x00\x00\x00\x1dSERROR\x00VERROR\x00C42601\x00Mx\x00\x00"
        );
    }
}
