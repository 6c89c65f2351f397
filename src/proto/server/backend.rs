//! Encoders for every message a PostgreSQL server sends (protocol 3.0, plus the variable-length
//! cancel key of 3.2): what a fake server, a proxy or a conformance tool writes to a client.
//!
//! Each function appends one complete message to a [`BytesMut`] write buffer, following the
//! "Message Formats" section of the PostgreSQL documentation, under the same three rules as the
//! client's [`frontend`](crate::proto::frontend) encoders:
//!
//! - **Lengths are checked.** The message length is written last, once the body is known; it
//!   and every inner length (a DataRow value, a FunctionCallResponse result) must fit the
//!   protocol's signed 32-bit field, else [`ProtoError::TooLarge`]. Counts the protocol
//!   carries in 16 bits (columns, parameter types, format codes) above 65535 give
//!   [`ProtoError::TooMany`].
//! - **Strings are checked.** A NUL inside a NUL-terminated field is refused with
//!   [`ProtoError::NulInString`] naming the field; an empty item where the empty string ends a
//!   list (a SASL mechanism, an error field code 0) is [`ProtoError::Malformed`].
//! - **Failures leave no trace.** On any error the buffer is truncated back to the length it had
//!   on entry.
//!
//! Every message written here is decoded to the same fields by the client's
//! [`backend`](crate::proto::backend) decoder (checked for each message in
//! `protocol-tests/tests/server_vectors.rs`).
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use tusk::proto::backend::TransactionStatus;
//! use tusk::proto::server::backend;
//!
//! let mut buf = BytesMut::new();
//! backend::command_complete("SELECT 1", &mut buf)?;
//! backend::ready_for_query(TransactionStatus::Idle, &mut buf);
//! assert_eq!(&buf[..], b"C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
//! # Ok::<(), tusk::proto::ProtoError>(())
//! ```

use bytes::{BufMut, BytesMut};

use crate::proto::backend::{Authentication, Field, Message, TransactionStatus};
use crate::proto::encode::{self, checked_len, empty_message, put_counted, put_cstr, put_formats};
use crate::proto::frontend::{MAX_CANCEL_KEY_LEN, MIN_CANCEL_KEY_LEN};
use crate::proto::ProtoError;

/// Appends one backend message; its length is checked to fit the `i32` field and the buffer
/// is rolled back on any error (see [`encode::message`]).
fn message(
    buf: &mut BytesMut,
    tag: u8,
    what: &'static str,
    body: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
) -> Result<(), ProtoError> {
    encode::message(buf, Some(tag), what, backend_message_len, body)
}

/// The length field of a whole backend message (`len` counts the field itself).
fn backend_message_len(message: &'static str, len: usize) -> Result<i32, ProtoError> {
    checked_len(format_args!("{message} message"), len)
}

/// Appends an Authentication message (`'R'`) with a code and no data.
fn authentication(code: i32, buf: &mut BytesMut) {
    buf.reserve(9);
    buf.put_u8(b'R');
    buf.put_i32(8);
    buf.put_i32(code);
}

/// Appends an Authentication message (`'R'`) with a code and mechanism data.
fn authentication_data(
    code: i32,
    what: &'static str,
    data: &[u8],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b'R', what, |buf| {
        buf.put_i32(code);
        buf.put_slice(data);
        Ok(())
    })
}

/// Appends AuthenticationOk (code 0): the client is authenticated.
pub fn authentication_ok(buf: &mut BytesMut) {
    authentication(0, buf);
}

/// Appends AuthenticationKerberosV5 (code 2), which no supported server sends any more.
pub fn authentication_kerberos_v5(buf: &mut BytesMut) {
    authentication(2, buf);
}

/// Appends AuthenticationCleartextPassword (code 3): the client answers with its password.
pub fn authentication_cleartext_password(buf: &mut BytesMut) {
    authentication(3, buf);
}

/// Appends AuthenticationMD5Password (code 5): the client answers with the password hashed with
/// this salt.
pub fn authentication_md5_password(salt: [u8; 4], buf: &mut BytesMut) {
    buf.reserve(13);
    buf.put_u8(b'R');
    buf.put_i32(12);
    buf.put_i32(5);
    buf.put_slice(&salt);
}

/// Appends AuthenticationSCMCredential (code 6), which no supported server sends any more.
pub fn authentication_scm_credential(buf: &mut BytesMut) {
    authentication(6, buf);
}

/// Appends AuthenticationGSS (code 7): start a GSSAPI exchange.
pub fn authentication_gss(buf: &mut BytesMut) {
    authentication(7, buf);
}

/// Appends AuthenticationGSSContinue (code 8) with the next GSSAPI or SSPI token.
pub fn authentication_gss_continue(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    authentication_data(8, "AuthenticationGSSContinue", data, buf)
}

/// Appends AuthenticationSSPI (code 9): start an SSPI exchange.
pub fn authentication_sspi(buf: &mut BytesMut) {
    authentication(9, buf);
}

/// Appends AuthenticationSASL (code 10): the SASL mechanisms offered, in order of preference,
/// each NUL-terminated, then an empty name ending the list. An empty mechanism would end the
/// list early and is refused with [`ProtoError::Malformed`].
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::server::backend;
/// let mut buf = BytesMut::new();
/// backend::authentication_sasl(["SCRAM-SHA-256"], &mut buf)?;
/// assert_eq!(&buf[..], b"R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn authentication_sasl<'a, I: IntoIterator<Item = &'a str>>(
    mechanisms: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b'R', "AuthenticationSASL", |buf| {
        buf.put_i32(10);
        for mechanism in mechanisms {
            if mechanism.is_empty() {
                return Err(ProtoError::malformed(
                    "AuthenticationSASL",
                    "a mechanism name is empty, which would end the list early",
                ));
            }
            put_cstr(buf, "SASL mechanism name", mechanism.as_bytes())?;
        }
        buf.put_u8(0);
        Ok(())
    })
}

/// Appends AuthenticationSASLContinue (code 11) with a challenge (SCRAM's server-first-message).
pub fn authentication_sasl_continue(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    authentication_data(11, "AuthenticationSASLContinue", data, buf)
}

/// Appends AuthenticationSASLFinal (code 12) with the outcome (SCRAM's server-final-message).
pub fn authentication_sasl_final(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    authentication_data(12, "AuthenticationSASLFinal", data, buf)
}

/// Appends BackendKeyData (`'K'`): the process ID and the secret key a CancelRequest must quote.
/// The key is 4 bytes in protocol 3.0 and 4 to 256 bytes in 3.2; any other length is refused
/// with [`ProtoError::Malformed`].
pub fn backend_key_data(
    process_id: i32,
    secret_key: &[u8],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    if !(MIN_CANCEL_KEY_LEN..=MAX_CANCEL_KEY_LEN).contains(&secret_key.len()) {
        return Err(ProtoError::malformed(
            "BackendKeyData",
            format!(
                "the secret key is {} bytes, outside {MIN_CANCEL_KEY_LEN}..={MAX_CANCEL_KEY_LEN}",
                secret_key.len()
            ),
        ));
    }
    message(buf, b'K', "BackendKeyData", |buf| {
        buf.put_i32(process_id);
        buf.put_slice(secret_key);
        Ok(())
    })
}

/// Appends BindComplete (`'2'`).
pub fn bind_complete(buf: &mut BytesMut) {
    empty_message(b'2', buf);
}

/// Appends CloseComplete (`'3'`).
pub fn close_complete(buf: &mut BytesMut) {
    empty_message(b'3', buf);
}

/// Appends CommandComplete (`'C'`) with a command tag, e.g. `"INSERT 0 5"`.
pub fn command_complete(tag: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, b'C', "CommandComplete", |buf| {
        put_cstr(buf, "CommandComplete tag", tag.as_bytes())
    })
}

/// Appends CopyData (`'d'`) carrying a chunk of COPY TO STDOUT (or replication) data.
pub fn copy_data(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    // Checked before copying, so an oversized chunk is refused without being copied first.
    backend_message_len("CopyData", data.len().saturating_add(4))?;
    message(buf, b'd', "CopyData", |buf| {
        buf.put_slice(data);
        Ok(())
    })
}

/// Appends CopyDone (`'c'`): the end of the COPY data.
pub fn copy_done(buf: &mut BytesMut) {
    empty_message(b'c', buf);
}

/// Appends a Copy*Response: the overall format (0 text, 1 binary), then the column count and
/// each column's format. A format other than 0 or 1, or a binary column in a text COPY (the
/// documentation requires all zeros then), is refused with [`ProtoError::Malformed`].
fn copy_response(
    tag: u8,
    what: &'static str,
    format: i8,
    column_formats: &[i16],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    if !matches!(format, 0 | 1) {
        return Err(ProtoError::malformed(
            what,
            format!("unknown overall format {format}"),
        ));
    }
    if let Some((i, bad)) = column_formats
        .iter()
        .enumerate()
        .find(|(_, &f)| !matches!(f, 0 | 1) || (format == 0 && f != 0))
    {
        return Err(ProtoError::malformed(
            what,
            format!("column {i} has format {bad}, not allowed in a COPY of format {format}"),
        ));
    }
    message(buf, tag, what, |buf| {
        buf.put_i8(format);
        put_formats(buf, "COPY column formats", column_formats)
    })
}

/// Appends CopyInResponse (`'G'`): the server is ready for COPY FROM STDIN data. `format` is
/// 0 (text) or 1 (binary); `column_formats` has one code per column (all 0 in a text COPY).
pub fn copy_in_response(
    format: i8,
    column_formats: &[i16],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    copy_response(b'G', "CopyInResponse", format, column_formats, buf)
}

/// Appends CopyOutResponse (`'H'`): COPY TO STDOUT data follows. The arguments are as for
/// [`copy_in_response`].
pub fn copy_out_response(
    format: i8,
    column_formats: &[i16],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    copy_response(b'H', "CopyOutResponse", format, column_formats, buf)
}

/// Appends CopyBothResponse (`'W'`): a COPY in both directions starts (streaming replication).
/// The arguments are as for [`copy_in_response`].
pub fn copy_both_response(
    format: i8,
    column_formats: &[i16],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    copy_response(b'W', "CopyBothResponse", format, column_formats, buf)
}

/// Appends DataRow (`'D'`): the column values of one row, each already encoded in its column's
/// format (`None` is SQL NULL, written as length -1).
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::server::backend;
/// let mut buf = BytesMut::new();
/// backend::data_row([Some(&b"42"[..]), None], &mut buf)?;
/// assert_eq!(&buf[..], b"D\x00\x00\x00\x10\x00\x02\x00\x00\x00\x0242\xff\xff\xff\xff");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn data_row<'a, I: IntoIterator<Item = Option<&'a [u8]>>>(
    values: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b'D', "DataRow", |buf| {
        put_counted(buf, "DataRow columns", values, |buf, index, value| {
            put_value(buf, "DataRow column", index, value)
        })
    })
}

/// Appends one length-prefixed value: -1 for NULL, else its checked length and its bytes.
fn put_value(
    buf: &mut BytesMut,
    what: &'static str,
    index: usize,
    value: Option<&[u8]>,
) -> Result<(), ProtoError> {
    match value {
        None => buf.put_i32(-1),
        Some(value) => {
            buf.put_i32(checked_len(format_args!("{what} {index}"), value.len())?);
            buf.put_slice(value);
        }
    }
    Ok(())
}

/// Appends EmptyQueryResponse (`'I'`): the reply to an empty query string.
pub fn empty_query_response(buf: &mut BytesMut) {
    empty_message(b'I', buf);
}

/// Appends an ErrorResponse or NoticeResponse: the fields and the terminating zero.
fn error_or_notice<I, V>(
    tag: u8,
    what: &'static str,
    value_what: &'static str,
    fields: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError>
where
    I: IntoIterator<Item = (u8, V)>,
    V: AsRef<[u8]>,
{
    message(buf, tag, what, |buf| {
        for (code, value) in fields {
            if code == 0 {
                return Err(ProtoError::malformed(
                    what,
                    "a field code is 0, which would end the field list early",
                ));
            }
            buf.put_u8(code);
            put_cstr(buf, value_what, value.as_ref())?;
        }
        buf.put_u8(0);
        Ok(())
    })
}

/// Appends ErrorResponse (`'E'`) with `(code, value)` fields in the given order, e.g.
/// `(b'S', "ERROR")`, `(b'C', "42P01")`, `(b'M', "relation \"t\" does not exist")`; the codes
/// are listed in the documentation's "Error and Notice Message Fields". A code of 0 (which ends
/// the list) is refused with [`ProtoError::Malformed`].
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::server::backend;
/// let mut buf = BytesMut::new();
/// backend::error_response([(b'S', "ERROR"), (b'C', "22012")], &mut buf)?;
/// assert_eq!(&buf[..], b"E\x00\x00\x00\x13SERROR\x00C22012\x00\x00");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn error_response<I, V>(fields: I, buf: &mut BytesMut) -> Result<(), ProtoError>
where
    I: IntoIterator<Item = (u8, V)>,
    V: AsRef<[u8]>,
{
    error_or_notice(b'E', "ErrorResponse", "ErrorResponse field", fields, buf)
}

/// Appends NoticeResponse (`'N'`): the same fields as [`error_response`], for a warning or
/// information.
pub fn notice_response<I, V>(fields: I, buf: &mut BytesMut) -> Result<(), ProtoError>
where
    I: IntoIterator<Item = (u8, V)>,
    V: AsRef<[u8]>,
{
    error_or_notice(b'N', "NoticeResponse", "NoticeResponse field", fields, buf)
}

/// Appends FunctionCallResponse (`'V'`): the function's result, `None` for NULL.
pub fn function_call_response(result: Option<&[u8]>, buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, b'V', "FunctionCallResponse", |buf| {
        put_value(buf, "FunctionCallResponse result", 0, result)
    })
}

/// Appends NegotiateProtocolVersion (`'v'`): the server supports the requested major version
/// only up to `newest_version`, and did not recognise the `_pq_.` options in `unrecognized`.
///
/// PostgreSQL sends the whole version code there (`major << 16 | minor`, e.g. 196608 for 3.0),
/// though the documentation calls the field the newest minor version; the value is written as
/// given.
pub fn negotiate_protocol_version<'a, I: IntoIterator<Item = &'a str>>(
    newest_version: i32,
    unrecognized: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b'v', "NegotiateProtocolVersion", |buf| {
        buf.put_i32(newest_version);
        let count_pos = buf.len();
        buf.put_i32(0);
        let mut count = 0usize;
        for option in unrecognized {
            put_cstr(buf, "protocol option name", option.as_bytes())?;
            count += 1;
        }
        // Each option took at least its NUL, so the message-length check below would fail
        // first for a count that does not fit; checked all the same.
        let count = checked_len("NegotiateProtocolVersion option count", count)?;
        buf[count_pos..count_pos + 4].copy_from_slice(&count.to_be_bytes());
        Ok(())
    })
}

/// Appends NoData (`'n'`): the described statement or portal returns no rows.
pub fn no_data(buf: &mut BytesMut) {
    empty_message(b'n', buf);
}

/// Appends NotificationResponse (`'A'`): a NOTIFY from backend `process_id` on `channel`.
pub fn notification_response(
    process_id: i32,
    channel: &str,
    payload: &str,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b'A', "NotificationResponse", |buf| {
        buf.put_i32(process_id);
        put_cstr(buf, "notification channel", channel.as_bytes())?;
        put_cstr(buf, "notification payload", payload.as_bytes())
    })
}

/// Appends ParameterDescription (`'t'`): the type OID of each parameter of a statement.
pub fn parameter_description<I: IntoIterator<Item = u32>>(
    types: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b't', "ParameterDescription", |buf| {
        put_counted(buf, "ParameterDescription types", types, |buf, _, oid| {
            buf.put_u32(oid);
            Ok(())
        })
    })
}

/// Appends ParameterStatus (`'S'`): the current value of a reported server parameter.
pub fn parameter_status(name: &str, value: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, b'S', "ParameterStatus", |buf| {
        put_cstr(buf, "ParameterStatus name", name.as_bytes())?;
        put_cstr(buf, "ParameterStatus value", value.as_bytes())
    })
}

/// Appends ParseComplete (`'1'`).
pub fn parse_complete(buf: &mut BytesMut) {
    empty_message(b'1', buf);
}

/// Appends PortalSuspended (`'s'`): an Execute stopped at its row limit.
pub fn portal_suspended(buf: &mut BytesMut) {
    empty_message(b's', buf);
}

/// Appends ReadyForQuery (`'Z'`) with the transaction status: `I`, `T` or `E`.
pub fn ready_for_query(status: TransactionStatus, buf: &mut BytesMut) {
    let status = match status {
        TransactionStatus::Idle => b'I',
        TransactionStatus::InTransaction => b'T',
        TransactionStatus::Failed => b'E',
    };
    buf.extend_from_slice(&[b'Z', 0, 0, 0, 5, status]);
}

/// Appends RowDescription (`'T'`): the columns of the rows that follow, described by the same
/// [`Field`] the client's decoder yields.
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::backend::Field;
/// # use tusk::proto::server::backend;
/// let n = Field {
///     name: "n",
///     table_oid: 0,
///     column_id: 0,
///     type_oid: 23, // int4
///     type_size: 4,
///     type_modifier: -1,
///     format: 0,
/// };
/// let mut buf = BytesMut::new();
/// backend::row_description([n], &mut buf)?;
/// assert_eq!(
///     &buf[..],
///     b"T\x00\x00\x00\x1a\x00\x01n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00"
/// );
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn row_description<'a, I: IntoIterator<Item = Field<'a>>>(
    fields: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, b'T', "RowDescription", |buf| {
        put_counted(buf, "RowDescription fields", fields, |buf, _, field| {
            put_cstr(buf, "RowDescription field name", field.name.as_bytes())?;
            buf.reserve(18);
            buf.put_u32(field.table_oid);
            buf.put_i16(field.column_id);
            buf.put_u32(field.type_oid);
            buf.put_i16(field.type_size);
            buf.put_i32(field.type_modifier);
            buf.put_i16(field.format);
            Ok(())
        })
    })
}

/// Appends `message`, a backend message as the client's decoder returns it, re-encoded: what a
/// proxy that decodes the server's messages writes to forward one (possibly changed). A message
/// decoded from valid bytes is written back byte for byte; a lazily decoded part that turns out
/// malformed (a DataRow column, a RowDescription field, an ErrorResponse field) is that part's
/// [`ProtoError::Malformed`], with the buffer rolled back.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::backend::decode;
/// use tusk::proto::server::backend;
///
/// let wire = b"D\x00\x00\x00\x10\x00\x02\x00\x00\x00\x0242\xff\xff\xff\xff";
/// let message = decode(&mut BytesMut::from(&wire[..]), 1 << 20)?.unwrap();
/// let mut out = BytesMut::new();
/// backend::encode(&message, &mut out)?;
/// assert_eq!(&out[..], &wire[..]);
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn encode(message: &Message, buf: &mut BytesMut) -> Result<(), ProtoError> {
    match message {
        Message::Authentication(auth) => return encode_authentication(auth, buf),
        Message::BackendKeyData(key) => {
            return backend_key_data(key.process_id, &key.secret_key, buf)
        }
        Message::BindComplete => bind_complete(buf),
        Message::CloseComplete => close_complete(buf),
        Message::CommandComplete(done) => return command_complete(done.tag(), buf),
        Message::CopyInResponse(c) => return copy_in_response(c.format, c.column_formats(), buf),
        Message::CopyOutResponse(c) => return copy_out_response(c.format, c.column_formats(), buf),
        Message::CopyBothResponse(c) => {
            return copy_both_response(c.format, c.column_formats(), buf)
        }
        Message::CopyData(data) => return copy_data(data, buf),
        Message::CopyDone => copy_done(buf),
        Message::DataRow(row) => {
            let values = row
                .ranges()
                .map(|range| range.map(|range| range.map(|range| &row.buffer()[range])))
                .collect::<Result<Vec<_>, _>>()?;
            return data_row(values, buf);
        }
        Message::EmptyQueryResponse => empty_query_response(buf),
        Message::ErrorResponse(fields) => {
            return error_response(fields.iter().collect::<Result<Vec<_>, _>>()?, buf)
        }
        Message::NoticeResponse(fields) => {
            return notice_response(fields.iter().collect::<Result<Vec<_>, _>>()?, buf)
        }
        Message::FunctionCallResponse(result) => {
            return function_call_response(result.as_deref(), buf)
        }
        Message::NegotiateProtocolVersion(negotiate) => {
            return negotiate_protocol_version(
                negotiate.newest_minor,
                negotiate.unrecognized.iter().map(String::as_str),
                buf,
            )
        }
        Message::NoData => no_data(buf),
        Message::NotificationResponse(n) => {
            return notification_response(n.process_id, &n.channel, &n.payload, buf)
        }
        Message::ParameterDescription(description) => {
            return parameter_description(description.types.iter().copied(), buf)
        }
        Message::ParameterStatus(status) => {
            return parameter_status(&status.name, &status.value, buf)
        }
        Message::ParseComplete => parse_complete(buf),
        Message::PortalSuspended => portal_suspended(buf),
        Message::ReadyForQuery(status) => ready_for_query(*status, buf),
        Message::RowDescription(description) => {
            return row_description(description.fields().collect::<Result<Vec<_>, _>>()?, buf)
        }
    }
    Ok(())
}

/// The Authentication part of [`encode`].
fn encode_authentication(auth: &Authentication, buf: &mut BytesMut) -> Result<(), ProtoError> {
    match auth {
        Authentication::Ok => authentication_ok(buf),
        Authentication::KerberosV5 => authentication_kerberos_v5(buf),
        Authentication::CleartextPassword => authentication_cleartext_password(buf),
        Authentication::Md5Password { salt } => authentication_md5_password(*salt, buf),
        Authentication::ScmCredential => authentication_scm_credential(buf),
        Authentication::Gss => authentication_gss(buf),
        Authentication::GssContinue(data) => return authentication_gss_continue(data, buf),
        Authentication::Sspi => authentication_sspi(buf),
        Authentication::Sasl { mechanisms } => {
            return authentication_sasl(mechanisms.iter().map(String::as_str), buf)
        }
        Authentication::SaslContinue(data) => return authentication_sasl_continue(data, buf),
        Authentication::SaslFinal(data) => return authentication_sasl_final(data, buf),
    }
    Ok(())
}
