//! Backend messages for the fake backend, as byte vectors: written by the server side of tusk's
//! codec (`tusk::proto::server::backend`), whose encoders are checked byte for byte against
//! the protocol documentation in `tests/server_backend_vectors.rs`, and against the client's
//! decoder there too. [`msg`] and [`auth_code`] stay hand-made: they build frames the codec
//! will not (a wrong body, an authentication code nobody implements) for hostile-server tests.
//!
//! The helpers panic on input the protocol cannot carry (a NUL in a string): they are test
//! fixtures, and such input is a bug in the test.

use bytes::BytesMut;
use tusk::proto::backend::{Field, TransactionStatus};
use tusk::proto::server::backend;
use tusk::proto::ProtoError;

/// Runs one encoder into a fresh buffer.
fn encoded(encode: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mut buf).expect("a test fixture the protocol can carry");
    buf.to_vec()
}

/// Runs one encoder of a fixed-layout message into a fresh buffer.
fn fixed(encode: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mut buf);
    buf.to_vec()
}

/// A tagged message of any body, even one no server sends: tag, big-endian length (counting
/// itself), body.
pub fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// AuthenticationOk.
pub fn auth_ok() -> Vec<u8> {
    fixed(backend::authentication_ok)
}

/// AuthenticationCleartextPassword.
pub fn auth_cleartext() -> Vec<u8> {
    fixed(backend::authentication_cleartext_password)
}

/// AuthenticationMD5Password with a salt.
pub fn auth_md5(salt: [u8; 4]) -> Vec<u8> {
    fixed(|b| backend::authentication_md5_password(salt, b))
}

/// AuthenticationSASL listing mechanisms.
pub fn auth_sasl(mechanisms: &[&str]) -> Vec<u8> {
    encoded(|b| backend::authentication_sasl(mechanisms.iter().copied(), b))
}

/// AuthenticationSASLContinue.
pub fn auth_sasl_continue(data: &[u8]) -> Vec<u8> {
    encoded(|b| backend::authentication_sasl_continue(data, b))
}

/// AuthenticationSASLFinal.
pub fn auth_sasl_final(data: &[u8]) -> Vec<u8> {
    encoded(|b| backend::authentication_sasl_final(data, b))
}

/// An Authentication request with any code and no data (for unsupported methods), built by
/// hand: the codec only writes the codes it knows.
pub fn auth_code(code: i32) -> Vec<u8> {
    msg(b'R', &code.to_be_bytes())
}

/// ParameterStatus.
pub fn parameter_status(name: &str, value: &str) -> Vec<u8> {
    encoded(|b| backend::parameter_status(name, value, b))
}

/// BackendKeyData with a protocol 3.0 (4-byte) key.
pub fn backend_key(pid: i32, key: i32) -> Vec<u8> {
    encoded(|b| backend::backend_key_data(pid, &key.to_be_bytes(), b))
}

/// BackendKeyData with a key of any length the protocol allows (4 to 256 bytes; 3.2's are
/// longer than 3.0's 4).
pub fn backend_key_bytes(pid: i32, key: &[u8]) -> Vec<u8> {
    encoded(|b| backend::backend_key_data(pid, key, b))
}

/// NegotiateProtocolVersion offering `version_code` (PostgreSQL sends the whole code, e.g.
/// 196608 for 3.0) and naming `unrecognized` options.
pub fn negotiate_protocol_version(version_code: i32, unrecognized: &[&str]) -> Vec<u8> {
    encoded(|b| backend::negotiate_protocol_version(version_code, unrecognized.iter().copied(), b))
}

/// ReadyForQuery with a status byte (`I`, `T` or `E`).
///
/// # Panics
/// On any other byte: use [`msg`] to send a wrong status.
pub fn ready(status: u8) -> Vec<u8> {
    let status = match status {
        b'I' => TransactionStatus::Idle,
        b'T' => TransactionStatus::InTransaction,
        b'E' => TransactionStatus::Failed,
        other => panic!(
            "no transaction status {:?}: build it with wire::msg",
            other as char
        ),
    };
    fixed(|b| backend::ready_for_query(status, b))
}

/// An ErrorResponse (or NoticeResponse with `tag = b'N'`) from `(code, value)` fields.
///
/// # Panics
/// On any other tag.
pub fn fields(tag: u8, fields: &[(u8, &str)]) -> Vec<u8> {
    let fields = fields.iter().copied();
    match tag {
        b'E' => encoded(|b| backend::error_response(fields, b)),
        b'N' => encoded(|b| backend::notice_response(fields, b)),
        other => panic!(
            "{:?} is neither ErrorResponse nor NoticeResponse",
            other as char
        ),
    }
}

/// A FATAL ErrorResponse with a SQLSTATE and message.
pub fn fatal(code: &str, message: &str) -> Vec<u8> {
    fields(
        b'E',
        &[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', code),
            (b'M', message),
        ],
    )
}

/// The usual tail of a successful startup: a couple of parameters, a key, ReadyForQuery.
pub fn startup_tail() -> Vec<u8> {
    [
        parameter_status("server_version", "15.99 (fake)"),
        parameter_status("client_encoding", "UTF8"),
        backend_key(4242, 777),
        ready(b'I'),
    ]
    .concat()
}

/// The reply to a simple Query returning one text column `name` with one row `value`:
/// RowDescription, DataRow, CommandComplete `SELECT 1`, ReadyForQuery idle.
pub fn one_value_reply(name: &str, value: &str) -> Vec<u8> {
    let column = Field {
        name,
        table_oid: 0,
        column_id: 0,
        type_oid: 25, // text
        type_size: -1,
        type_modifier: -1,
        format: 0,
    };
    [
        encoded(|b| backend::row_description([column], b)),
        encoded(|b| backend::data_row([Some(value.as_bytes())], b)),
        encoded(|b| backend::command_complete("SELECT 1", b)),
        ready(b'I'),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    //! The fixtures the fake-backend tests are built on, byte for byte as the protocol
    //! documentation lays them out: the hand-written oracle these helpers had before they
    //! moved onto the codec.

    use super::*;

    #[test]
    fn startup_tail_vector() {
        assert_eq!(
            startup_tail(),
            [
                &b"S\x00\x00\x00\x20server_version\x0015.99 (fake)\x00"[..],
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00",
                b"K\x00\x00\x00\x0c\x00\x00\x10\x92\x00\x00\x03\x09",
                b"Z\x00\x00\x00\x05I",
            ]
            .concat()
        );
    }

    #[test]
    fn one_value_reply_vector() {
        assert_eq!(
            one_value_reply("x", "on"),
            [
                // One field "x": table 0, column 0, type 25, size -1, modifier -1, text.
                &b"T\x00\x00\x00\x1a\x00\x01x\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00"[..],
                b"D\x00\x00\x00\x0c\x00\x01\x00\x00\x00\x02on",
                b"C\x00\x00\x00\x0dSELECT 1\x00",
                b"Z\x00\x00\x00\x05I",
            ]
            .concat()
        );
    }

    #[test]
    fn authentication_vectors() {
        assert_eq!(auth_ok(), b"R\x00\x00\x00\x08\x00\x00\x00\x00");
        assert_eq!(auth_cleartext(), b"R\x00\x00\x00\x08\x00\x00\x00\x03");
        assert_eq!(
            auth_md5([1, 2, 3, 4]),
            b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\x03\x04"
        );
        assert_eq!(
            auth_sasl(&["SCRAM-SHA-256"]),
            b"R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"
        );
        assert_eq!(
            auth_sasl_continue(b"r=x"),
            b"R\x00\x00\x00\x0b\x00\x00\x00\x0br=x"
        );
        assert_eq!(
            auth_sasl_final(b"v=y"),
            b"R\x00\x00\x00\x0b\x00\x00\x00\x0cv=y"
        );
        assert_eq!(auth_code(1), b"R\x00\x00\x00\x08\x00\x00\x00\x01");
    }

    #[test]
    fn error_and_notice_vectors() {
        assert_eq!(
            fatal("28P01", "bad"),
            b"E\x00\x00\x00\x1fSFATAL\x00VFATAL\x00C28P01\x00Mbad\x00\x00"
        );
        assert_eq!(
            fields(b'N', &[(b'M', "hi")]),
            b"N\x00\x00\x00\x09Mhi\x00\x00"
        );
        assert_eq!(ready(b'E'), b"Z\x00\x00\x00\x05E");
        assert_eq!(msg(b'Z', b"?"), b"Z\x00\x00\x00\x05?");
    }
}
