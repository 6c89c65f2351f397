//! Encoders of the backend messages that carry this database's one `int4` column and the end
//! of a command: RowDescription, DataRow, CommandComplete and ErrorResponse. The server
//! replies with them, and tests use them to build wrong replies for a [`Fault`](super::Fault).

use super::INT4_OID;
use crate::wire;

/// RowDescription of one `int4` column.
pub fn row_description(name: &str, format: i16) -> Vec<u8> {
    let mut body = 1i16.to_be_bytes().to_vec();
    body.extend_from_slice(name.as_bytes());
    body.push(0);
    body.extend_from_slice(&0i32.to_be_bytes()); // table OID
    body.extend_from_slice(&0i16.to_be_bytes()); // column number
    body.extend_from_slice(&INT4_OID.to_be_bytes());
    body.extend_from_slice(&4i16.to_be_bytes()); // type size
    body.extend_from_slice(&(-1i32).to_be_bytes()); // type modifier
    body.extend_from_slice(&format.to_be_bytes());
    wire::msg(b'T', &body)
}

/// DataRow of one `int4` value in text (0) or binary (1) format.
pub fn data_row(value: Option<i32>, format: i16) -> Vec<u8> {
    let mut body = 1i16.to_be_bytes().to_vec();
    match value {
        None => body.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(v) => {
            let bytes = if format == 1 {
                v.to_be_bytes().to_vec()
            } else {
                v.to_string().into_bytes()
            };
            body.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            body.extend_from_slice(&bytes);
        }
    }
    wire::msg(b'D', &body)
}

/// CommandComplete with a tag.
pub fn command_complete(tag: &str) -> Vec<u8> {
    let mut body = tag.as_bytes().to_vec();
    body.push(0);
    wire::msg(b'C', &body)
}

/// An ErrorResponse (ERROR) with a SQLSTATE and message.
pub fn error_response(code: &str, message: &str) -> Vec<u8> {
    wire::fields(
        b'E',
        &[
            (b'S', "ERROR"),
            (b'V', "ERROR"),
            (b'C', code),
            (b'M', message),
        ],
    )
}
