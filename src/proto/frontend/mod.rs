//! Encoders for every message a PostgreSQL client sends: protocol 3.0, plus the variable-length
//! cancel key of protocol 3.2.
//!
//! Each function appends one complete message to a [`BytesMut`] write buffer and nothing else:
//! no IO, no allocation beyond the buffer's own growth on the hot paths (Parse, Bind, Execute,
//! Sync, Query). The layouts follow the "Message Formats" section of the PostgreSQL
//! documentation.
//!
//! Three rules hold for every encoder here:
//!
//! - **Lengths are checked.** A message's length is written last, into a placeholder, once the
//!   body is known; it and every inner length (a Bind parameter, a FunctionCall argument, SASL
//!   data) must fit the protocol's signed 32-bit field or the encoder returns
//!   [`ProtoError::TooLarge`]. A length that silently wrapped would let a value's bytes be read
//!   as protocol messages (RUSTSEC-2024-0363).
//! - **Strings are checked.** A NUL byte inside a NUL-terminated field would end it early and
//!   shift the rest of the message, so it is refused with [`ProtoError::NulInString`] naming the
//!   field. Counts above 65535 (the protocol's 16-bit fields) give [`ProtoError::TooMany`].
//! - **Failures leave no trace.** On any error the buffer is truncated back to the length it had
//!   on entry, so a failed encode never leaves half a message behind to corrupt the stream.
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use tusk::proto::frontend;
//!
//! let mut buf = BytesMut::new();
//! frontend::query("SELECT 1", &mut buf)?;
//! // 'Q', then the length (13: itself, the text and its terminating NUL), then the text.
//! assert_eq!(&buf[..], b"Q\x00\x00\x00\x0dSELECT 1\x00");
//! # Ok::<(), tusk::proto::ProtoError>(())
//! ```

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::proto::encode::{
    self, checked_len, empty_message, patch_i32, put_counted, put_cstr, put_formats, MAX_COUNT,
};
use crate::proto::{IsNull, ProtoError, ProtocolVersion, MAX_FRONTEND_MESSAGE_LEN};

mod bind_section;
pub use bind_section::{bind_parameter_section, bind_with_parameter_section};

#[cfg(test)]
mod tests;

/// The request code an SSLRequest carries in place of a protocol version (1234 << 16 | 5679).
pub const SSL_REQUEST_CODE: i32 = 80_877_103;

/// The request code a GSSENCRequest carries in place of a protocol version (1234 << 16 | 5680).
pub const GSSENC_REQUEST_CODE: i32 = 80_877_104;

/// The request code a CancelRequest carries in place of a protocol version (1234 << 16 | 5678).
pub const CANCEL_REQUEST_CODE: i32 = 80_877_102;

/// The longest cancel secret key the protocol allows (protocol 3.2 made the key variable-length,
/// up to this many bytes; 3.0 keys are 4 bytes).
pub const MAX_CANCEL_KEY_LEN: usize = 256;

/// The shortest cancel secret key tusk sends or accepts: 4 bytes, the 3.0 key's length.
///
/// One rule on every side of tusk (BackendKeyData decoded by the client, CancelRequest encoded
/// by it, CancelRequest decoded by [`crate::proto::server`]): a key is 4 to 256 bytes. That is
/// libpq 18's rule for BackendKeyData ("cancel key ... is too short (minimum 4 bytes)"), and
/// the key a client sends is always one a BackendKeyData gave it. PostgreSQL 18's own
/// CancelRequest check is looser (1 to 256 bytes) but its keys are 32 bytes, so nothing a real
/// server or libpq sends falls between the two rules.
pub const MIN_CANCEL_KEY_LEN: usize = 4;

/// Appends one frontend message: the tag (none for the startup-phase packets), a placeholder
/// length, the body written by `body`, then the length, checked against what the server accepts
/// ([`MAX_FRONTEND_MESSAGE_LEN`]). On any error the buffer is rolled back (see
/// [`encode::message`]).
#[inline]
fn message<E: From<ProtoError>>(
    buf: &mut BytesMut,
    tag: Option<u8>,
    what: &'static str,
    body: impl FnOnce(&mut BytesMut) -> Result<(), E>,
) -> Result<(), E> {
    encode::message(buf, tag, what, frontend_message_len, body)
}

/// The length field of a whole frontend message (`len` counts the field itself).
fn frontend_message_len(message: &'static str, len: usize) -> Result<i32, ProtoError> {
    checked_message_len(message, len, MAX_FRONTEND_MESSAGE_LEN)
}

/// A whole message's length field (`len` counts the field itself), refused above `limit` (the
/// server's, [`MAX_FRONTEND_MESSAGE_LEN`], which also keeps it inside an `i32`).
fn checked_message_len(message: &'static str, len: usize, limit: usize) -> Result<i32, ProtoError> {
    if len > limit {
        return Err(ProtoError::MessageTooLarge { message, len });
    }
    checked_len(format_args!("{message} message"), len)
}

/// Appends a StartupMessage asking for protocol 3.0 ([`crate::proto::PROTOCOL_VERSION`]), then
/// each parameter as `name\0value\0`, then a terminating NUL: [`startup_message_version`] with
/// [`ProtocolVersion::V3_0`].
///
/// `user` is the one parameter the server requires; `database`, `application_name`,
/// `client_encoding` and any run-time setting may follow. An empty name is refused with
/// [`ProtoError::Malformed`], because the server would read it as the end of the list.
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::frontend;
/// let mut buf = BytesMut::new();
/// frontend::startup_message([("user", "alice")], &mut buf)?;
/// assert_eq!(&buf[..], b"\x00\x00\x00\x14\x00\x03\x00\x00user\x00alice\x00\x00");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn startup_message<'a, I: IntoIterator<Item = (&'a str, &'a str)>>(
    params: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    startup_message_version(ProtocolVersion::V3_0, params, buf)
}

/// Appends a StartupMessage asking for protocol `version` (the client's
/// `max_protocol_version`; a server that speaks only an older minor version answers
/// NegotiateProtocolVersion), then the parameters as [`startup_message`] writes them.
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::{frontend, ProtocolVersion};
/// let mut buf = BytesMut::new();
/// frontend::startup_message_version(ProtocolVersion::V3_2, [("user", "alice")], &mut buf)?;
/// assert_eq!(&buf[..], b"\x00\x00\x00\x14\x00\x03\x00\x02user\x00alice\x00\x00");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn startup_message_version<'a, I: IntoIterator<Item = (&'a str, &'a str)>>(
    version: ProtocolVersion,
    params: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, None, "StartupMessage", |buf| {
        buf.put_i32(version.code());
        for (name, value) in params {
            if name.is_empty() {
                return Err(ProtoError::malformed(
                    "StartupMessage",
                    "a parameter name is empty, which would end the parameter list early",
                ));
            }
            put_cstr(buf, "StartupMessage parameter name", name.as_bytes())?;
            put_cstr(buf, "StartupMessage parameter value", value.as_bytes())?;
        }
        buf.put_u8(0);
        Ok(())
    })
}

/// Appends an SSLRequest (length 8, code [`SSL_REQUEST_CODE`]); the server answers with a
/// single byte, `S` or `N`.
pub fn ssl_request(buf: &mut BytesMut) {
    buf.reserve(8);
    buf.put_i32(8);
    buf.put_i32(SSL_REQUEST_CODE);
}

/// Appends a GSSENCRequest (length 8, code [`GSSENC_REQUEST_CODE`]); the server answers with a
/// single byte, `G` or `N`.
pub fn gssenc_request(buf: &mut BytesMut) {
    buf.reserve(8);
    buf.put_i32(8);
    buf.put_i32(GSSENC_REQUEST_CODE);
}

/// Appends a CancelRequest (code [`CANCEL_REQUEST_CODE`]) for the backend identified by the
/// process id and secret key from its BackendKeyData: length 12 + the key's length.
///
/// The key is raw bytes: 4 in protocol 3.0, 4 to [`MAX_CANCEL_KEY_LEN`] in 3.2 (PostgreSQL 18
/// sends 32). A key outside [`MIN_CANCEL_KEY_LEN`]..=[`MAX_CANCEL_KEY_LEN`] is refused with
/// [`ProtoError::Malformed`] and nothing is written. A cancel request goes on a new connection
/// of its own.
pub fn cancel_request(
    process_id: i32,
    secret_key: &[u8],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    if !(MIN_CANCEL_KEY_LEN..=MAX_CANCEL_KEY_LEN).contains(&secret_key.len()) {
        return Err(ProtoError::malformed(
            "CancelRequest",
            format!(
                "the secret key is {} bytes, outside the protocol's \
                 {MIN_CANCEL_KEY_LEN}..={MAX_CANCEL_KEY_LEN}",
                secret_key.len()
            ),
        ));
    }
    message(buf, None, "CancelRequest", |buf| {
        buf.put_i32(CANCEL_REQUEST_CODE);
        buf.put_i32(process_id);
        buf.put_slice(secret_key);
        Ok(())
    })
}

/// Appends a PasswordMessage (`p`): the password, cleartext or MD5-hashed, as a C string.
pub fn password_message(password: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, Some(b'p'), "PasswordMessage", |buf| {
        put_cstr(buf, "password", password)
    })
}

/// Appends a SASLInitialResponse (`p`): the chosen mechanism's name, then the length of the
/// client's first message and the message itself.
///
/// The protocol's "no initial response" form (length -1) is not needed by any mechanism this
/// crate implements, so `data` is always sent, possibly empty.
pub fn sasl_initial_response(
    mechanism: &str,
    data: &[u8],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, Some(b'p'), "SASLInitialResponse", |buf| {
        put_cstr(buf, "SASL mechanism name", mechanism.as_bytes())?;
        buf.put_i32(checked_len("SASL initial response data", data.len())?);
        buf.put_slice(data);
        Ok(())
    })
}

/// Appends a SASLResponse (`p`): the rest of the message is the mechanism's data.
pub fn sasl_response(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, Some(b'p'), "SASLResponse", |buf| {
        buf.put_slice(data);
        Ok(())
    })
}

/// Appends a GSSResponse (`p`): the rest of the message is GSSAPI or SSPI data.
pub fn gss_response(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, Some(b'p'), "GSSResponse", |buf| {
        buf.put_slice(data);
        Ok(())
    })
}

/// Appends a Query (`Q`): one or more SQL statements for the simple query protocol.
///
/// See the [module example](self).
pub fn query(sql: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, Some(b'Q'), "Query", |buf| {
        put_cstr(buf, "Query text", sql.as_bytes())
    })
}

/// Appends a Parse (`P`): prepares `sql` as the statement `name` (`""` is the unnamed
/// statement), with the given parameter type OIDs (0 leaves a type to the server).
///
/// More than 65535 types gives [`ProtoError::TooMany`].
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::frontend;
/// let mut buf = BytesMut::new();
/// frontend::parse("", "SELECT $1", [23], &mut buf)?; // 23 = int4
/// assert_eq!(&buf[..], b"P\x00\x00\x00\x15\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn parse<I: IntoIterator<Item = u32>>(
    name: &str,
    sql: &str,
    param_types: I,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, Some(b'P'), "Parse", |buf| {
        put_cstr(buf, "Parse statement name", name.as_bytes())?;
        put_cstr(buf, "Parse query text", sql.as_bytes())?;
        put_counted(buf, "Parse parameter types", param_types, |buf, _, oid| {
            buf.put_u32(oid);
            Ok::<(), ProtoError>(())
        })
    })
}

/// Why [`bind`] failed: the message itself, or one parameter's encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError<E> {
    /// The message could not be encoded: a name containing NUL, more than 65535 format codes or
    /// parameters, a value longer than the protocol allows, or an encoder that broke its
    /// contract (wrote bytes for a NULL, or removed bytes it had not written).
    Proto(ProtoError),
    /// A parameter's encoder returned an error.
    Param {
        /// The parameter's 0-based position (it is `$index+1` in the SQL).
        index: usize,
        /// The encoder's error.
        error: E,
    },
}

impl<E> From<ProtoError> for BindError<E> {
    fn from(error: ProtoError) -> Self {
        BindError::Proto(error)
    }
}

impl<E> fmt::Display for BindError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::Proto(error) => error.fmt(f),
            // The encoder's own message is reachable through `source()`.
            BindError::Param { index, .. } => {
                write!(f, "could not encode Bind parameter {}", index + 1)
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BindError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BindError::Proto(error) => error.source(),
            BindError::Param { error, .. } => Some(error),
        }
    }
}

/// Appends a Bind (`B`): binds `params` to the prepared `statement`, creating `portal` (`""` for
/// the unnamed ones).
///
/// `param_formats` holds zero codes (all text), one (for every parameter) or one per parameter;
/// 0 is text and 1 binary. `result_formats` is the same for the result columns.
///
/// Each parameter is handed to `encode`, which appends the value's bytes straight into `buf`
/// (no intermediate copy) and returns [`IsNull::No`], or writes nothing and returns
/// [`IsNull::Yes`] for SQL NULL. The length in front of the value is patched in afterwards and
/// checked to fit an i32. An encoder must only append: one that writes bytes for a NULL, or
/// truncates the buffer, gets a [`BindError::Proto`] error. An encoder's own error comes back
/// as [`BindError::Param`] with the parameter's index. Counts above 65535 give
/// [`ProtoError::TooMany`]. On any error the buffer is rolled back.
///
/// ```
/// # use bytes::{BufMut, BytesMut};
/// # use tusk::proto::{frontend, IsNull};
/// let mut buf = BytesMut::new();
/// let params: [Option<&str>; 2] = [Some("42"), None];
/// frontend::bind("", "", &[], params, |value, buf| {
///     Ok::<_, std::convert::Infallible>(match value {
///         Some(text) => {
///             buf.put_slice(text.as_bytes());
///             IsNull::No
///         }
///         None => IsNull::Yes,
///     })
/// }, &[], &mut buf)?;
/// assert_eq!(
///     &buf[..],
///     b"B\x00\x00\x00\x16\x00\x00\x00\x00\x00\x02\x00\x00\x00\x0242\xff\xff\xff\xff\x00\x00"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn bind<P, I, F, E>(
    portal: &str,
    statement: &str,
    param_formats: &[i16],
    params: I,
    mut encode: F,
    result_formats: &[i16],
    buf: &mut BytesMut,
) -> Result<(), BindError<E>>
where
    I: IntoIterator<Item = P>,
    F: FnMut(P, &mut BytesMut) -> Result<IsNull, E>,
{
    let params = params.into_iter();
    // One reservation up front for everything but the values' own bytes, plus a guess of 8
    // bytes a value (a number, a timestamp): the many small writes below then never grow the
    // buffer, and most values fit without a reallocation either.
    let (expected, _) = params.size_hint();
    buf.reserve(
        1 + 4
            + portal.len()
            + statement.len()
            + 2
            + 2 * (3 + param_formats.len() + result_formats.len())
            + expected.min(MAX_COUNT) * (4 + 8),
    );
    message(buf, Some(b'B'), "Bind", |buf| {
        put_cstr(buf, "Bind portal name", portal.as_bytes())?;
        put_cstr(buf, "Bind statement name", statement.as_bytes())?;
        put_formats(buf, "Bind parameter format codes", param_formats)?;
        let count_pos = buf.len();
        buf.put_u16(0);
        let mut count = 0;
        let mut params = params;
        while let Some(param) = params.next() {
            if count == MAX_COUNT {
                // Report the real total: this parameter plus whatever the iterator still holds.
                return Err(BindError::Proto(ProtoError::TooMany {
                    what: "Bind parameters",
                    count: count + 1 + params.count(),
                }));
            }
            let len_pos = buf.len();
            buf.put_i32(0);
            let is_null = match encode(param, buf) {
                Ok(is_null) => is_null,
                Err(error) => {
                    return Err(BindError::Param {
                        index: count,
                        error,
                    })
                }
            };
            // The value's length, checked: it must fit the i32 field, and the encoder must only
            // have appended (nothing for a NULL).
            let len = value_length(count, buf.len().checked_sub(len_pos + 4), is_null)?;
            patch_i32(buf, len_pos, len);
            count += 1;
        }
        // `count <= MAX_COUNT` by the check above, so the cast is exact; the placeholder is ours.
        buf[count_pos..count_pos + 2].copy_from_slice(&(count as u16).to_be_bytes());
        put_formats(buf, "Bind result format codes", result_formats)?;
        Ok(())
    })
}

/// The length field of Bind parameter `index` (0-based): -1 for a NULL, which must have
/// appended nothing, else the `written` bytes, which must fit the i32 field.
#[inline]
fn value_length(index: usize, written: Option<usize>, is_null: IsNull) -> Result<i32, ProtoError> {
    match (written, is_null) {
        (Some(0), IsNull::Yes) => Ok(-1),
        (Some(written), IsNull::No) if written <= i32::MAX as usize => Ok(written as i32),
        (written, is_null) => Err(bad_param(index, written, is_null)),
    }
}

/// The error for Bind parameter `index` (0-based) whose encoder broke its contract, or whose
/// value is too long: `written` is how many bytes it appended (`None`: it removed bytes).
#[cold]
fn bad_param(index: usize, written: Option<usize>, is_null: IsNull) -> ProtoError {
    let n = index + 1;
    match (written, is_null) {
        (None, _) => ProtoError::malformed(
            "Bind",
            format!("the encoder of parameter {n} removed bytes it had not written"),
        ),
        (Some(written), IsNull::Yes) => ProtoError::malformed(
            "Bind",
            format!("parameter {n} was reported NULL but its encoder wrote {written} bytes"),
        ),
        (Some(written), IsNull::No) => ProtoError::TooLarge {
            what: format!("Bind parameter {n}"),
            len: written,
        },
    }
}

/// Appends a Describe (`D`) or Close (`C`) naming a statement (`S`) or portal (`P`).
fn statement_or_portal(
    tag: u8,
    message_name: &'static str,
    kind: u8,
    name_field: &'static str,
    name: &str,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, Some(tag), message_name, |buf| {
        buf.put_u8(kind);
        put_cstr(buf, name_field, name.as_bytes())
    })
}

/// Appends a Describe (`D`) of the prepared statement `name`; the server answers with
/// ParameterDescription and RowDescription (or NoData).
pub fn describe_statement(name: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    statement_or_portal(b'D', "Describe", b'S', "Describe statement name", name, buf)
}

/// Appends a Describe (`D`) of the portal `name`; the server answers with RowDescription (or
/// NoData).
pub fn describe_portal(name: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    statement_or_portal(b'D', "Describe", b'P', "Describe portal name", name, buf)
}

/// Appends an Execute (`E`) of `portal`, returning at most `max_rows` rows; 0 means all rows.
///
/// A negative `max_rows` is refused with [`ProtoError::Malformed`].
#[inline]
pub fn execute(portal: &str, max_rows: i32, buf: &mut BytesMut) -> Result<(), ProtoError> {
    if max_rows < 0 {
        return Err(ProtoError::malformed(
            "Execute",
            format!("the row limit is {max_rows}; it must be 0 (all rows) or positive"),
        ));
    }
    if portal.is_empty() {
        // The unnamed portal, on every query: the whole message at once.
        let mut message = [b'E', 0, 0, 0, 9, 0, 0, 0, 0, 0];
        message[6..].copy_from_slice(&max_rows.to_be_bytes());
        buf.extend_from_slice(&message);
        return Ok(());
    }
    message(buf, Some(b'E'), "Execute", |buf| {
        put_cstr(buf, "Execute portal name", portal.as_bytes())?;
        buf.put_i32(max_rows);
        Ok(())
    })
}

/// Appends a Close (`C`) of the prepared statement `name`.
pub fn close_statement(name: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    statement_or_portal(b'C', "Close", b'S', "Close statement name", name, buf)
}

/// Appends a Close (`C`) of the portal `name`.
pub fn close_portal(name: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    statement_or_portal(b'C', "Close", b'P', "Close portal name", name, buf)
}

/// Appends a Sync (`S`): ends an extended-query batch; the server answers with ReadyForQuery.
#[inline]
pub fn sync(buf: &mut BytesMut) {
    empty_message(b'S', buf);
}

/// Appends a Flush (`H`): asks the server to send what it has buffered, without ending the batch.
pub fn flush(buf: &mut BytesMut) {
    empty_message(b'H', buf);
}

/// Appends a Terminate (`X`): the polite goodbye before closing the socket.
pub fn terminate(buf: &mut BytesMut) {
    empty_message(b'X', buf);
}

/// Appends a CopyDone (`c`): the end of a COPY FROM STDIN data stream.
pub fn copy_done(buf: &mut BytesMut) {
    empty_message(b'c', buf);
}

/// Appends a CopyData (`d`) carrying `data`, a chunk of a COPY FROM STDIN stream.
pub fn copy_data(data: &[u8], buf: &mut BytesMut) -> Result<(), ProtoError> {
    // Check before copying so an oversized chunk is refused without first being copied.
    checked_message_len(
        "CopyData",
        data.len().saturating_add(4),
        MAX_FRONTEND_MESSAGE_LEN,
    )?;
    message(buf, Some(b'd'), "CopyData", |buf| {
        buf.put_slice(data);
        Ok(())
    })
}

/// Appends only the header of a CopyData (`d` and the length) for a payload of `len` bytes that
/// the caller appends next, so a COPY writer can produce data straight into the buffer.
///
/// The caller must then append exactly `len` bytes, or the stream is corrupt.
///
/// ```
/// # use bytes::{BufMut, BytesMut};
/// # use tusk::proto::frontend;
/// let mut buf = BytesMut::new();
/// frontend::copy_data_header(4, &mut buf)?;
/// buf.put_slice(b"1\tx\n");
/// assert_eq!(&buf[..], b"d\x00\x00\x00\x081\tx\n");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn copy_data_header(len: usize, buf: &mut BytesMut) -> Result<(), ProtoError> {
    let len = checked_message_len("CopyData", len.saturating_add(4), MAX_FRONTEND_MESSAGE_LEN)?;
    buf.reserve(5);
    buf.put_u8(b'd');
    buf.put_i32(len);
    Ok(())
}

/// Appends a CopyFail (`f`): aborts a COPY FROM STDIN, with `reason` reported in the server's
/// error.
pub fn copy_fail(reason: &str, buf: &mut BytesMut) -> Result<(), ProtoError> {
    message(buf, Some(b'f'), "CopyFail", |buf| {
        put_cstr(buf, "CopyFail reason", reason.as_bytes())
    })
}

/// Appends a FunctionCall (`F`): calls the function `function_oid` with `args` (`None` is
/// NULL), each already encoded in the format `arg_formats` gives it (same rules as Bind's
/// parameter formats), asking for the result in `result_format`.
///
/// The protocol keeps this message for old clients; prefer a prepared `SELECT f($1)`.
pub fn function_call<'a, I: IntoIterator<Item = Option<&'a [u8]>>>(
    function_oid: u32,
    arg_formats: &[i16],
    args: I,
    result_format: i16,
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, Some(b'F'), "FunctionCall", |buf| {
        buf.put_u32(function_oid);
        put_formats(buf, "FunctionCall argument format codes", arg_formats)?;
        put_counted(buf, "FunctionCall arguments", args, |buf, index, arg| {
            match arg {
                None => buf.put_i32(-1),
                Some(value) => {
                    let what = format_args!("FunctionCall argument {}", index + 1);
                    buf.put_i32(checked_len(what, value.len())?);
                    buf.put_slice(value);
                }
            }
            Ok::<(), ProtoError>(())
        })?;
        buf.put_i16(result_format);
        Ok(())
    })
}
