//! Decodes every message a PostgreSQL server sends in protocol 3.0, zero-copy.
//!
//! [`Message::parse`] turns a [`Frame`] from [`crate::proto::framing`] into a typed message.
//! Bodies stay as [`Bytes`] sharing the read buffer: CopyData, the SASL payloads, and the
//! bodies of DataRow, RowDescription and ErrorResponse are never copied. The result-set
//! messages are validated lazily by their iterators ([`DataRow::ranges`],
//! [`RowDescription::fields`]) so that a row costs one count read at decode time; everything
//! else is checked completely when decoded. Text is required to be UTF-8, since the client
//! always sets `client_encoding` to UTF8 (ErrorResponse and NoticeResponse values excepted,
//! see [`ErrorFields`]).
//!
//! ```
//! use bytes::BytesMut;
//! use tusk::proto::backend::{decode, Message, TransactionStatus};
//!
//! let mut buf = BytesMut::from(&b"C\0\0\0\x0dSELECT 1\0Z\0\0\0\x05I"[..]);
//! let Some(Message::CommandComplete(done)) = decode(&mut buf, 1 << 20).unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!(done.rows(), Some(1));
//! let ready = decode(&mut buf, 1 << 20).unwrap();
//! assert_eq!(ready, Some(Message::ReadyForQuery(TransactionStatus::Idle)));
//! assert_eq!(decode(&mut buf, 1 << 20).unwrap(), None);
//! ```

mod authentication;
mod error_fields;
mod messages;
pub(in crate::proto) mod reader;
mod rows;

use bytes::{Buf, Bytes, BytesMut};

pub use authentication::Authentication;
pub use error_fields::{ErrorFieldIter, ErrorFields};
pub use messages::{
    BackendKeyData, CommandComplete, CopyResponse, NegotiateProtocolVersion, Notification,
    ParameterDescription, ParameterStatus, TransactionStatus,
};
pub use rows::{data_row_body, DataRow, DataRowRanges, DataRows, Field, FieldIter, RowDescription};

use super::framing::{split_frame, Frame};
use super::ProtoError;
use reader::Reader;

/// A decoded backend message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `'R'`: an authentication request or result.
    Authentication(Authentication),
    /// `'K'`: the key to cancel this backend's queries.
    BackendKeyData(BackendKeyData),
    /// `'2'`: a Bind succeeded.
    BindComplete,
    /// `'3'`: a Close succeeded.
    CloseComplete,
    /// `'C'`: a command finished.
    CommandComplete(CommandComplete),
    /// `'G'`: the server is ready to receive COPY data.
    CopyInResponse(CopyResponse),
    /// `'H'`: the server is about to send COPY data.
    CopyOutResponse(CopyResponse),
    /// `'W'`: a COPY in both directions (streaming replication) starts.
    CopyBothResponse(CopyResponse),
    /// `'d'`: a chunk of COPY data.
    CopyData(Bytes),
    /// `'c'`: the COPY data is complete.
    CopyDone,
    /// `'D'`: one row of a result set.
    DataRow(DataRow),
    /// `'I'`: the reply to an empty query string.
    EmptyQueryResponse,
    /// `'E'`: an error.
    ErrorResponse(ErrorFields),
    /// `'N'`: a notice (a warning or information).
    NoticeResponse(ErrorFields),
    /// `'V'`: the result of a function call; `None` is NULL.
    FunctionCallResponse(Option<Bytes>),
    /// `'v'`: the server downgrades the requested protocol version or options.
    NegotiateProtocolVersion(NegotiateProtocolVersion),
    /// `'n'`: the described statement or portal returns no rows.
    NoData,
    /// `'A'`: a NOTIFY on a channel this session listens on.
    NotificationResponse(Notification),
    /// `'t'`: the parameter types of a statement.
    ParameterDescription(ParameterDescription),
    /// `'S'`: the value of a server parameter.
    ParameterStatus(ParameterStatus),
    /// `'1'`: a Parse succeeded.
    ParseComplete,
    /// `'s'`: an Execute stopped at its row limit; the portal has more rows.
    PortalSuspended,
    /// `'Z'`: the server is ready for a new query; carries the transaction status.
    ReadyForQuery(TransactionStatus),
    /// `'T'`: the columns of the rows that follow.
    RowDescription(RowDescription),
}

impl Message {
    /// Decodes one frame. A body that does not match the message's layout is
    /// [`ProtoError::Malformed`] naming the message; an unknown tag is
    /// [`ProtoError::UnknownTag`]; an unknown authentication code is
    /// [`ProtoError::UnsupportedAuth`].
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tusk::proto::backend::{Message, TransactionStatus};
    /// use tusk::proto::framing::Frame;
    ///
    /// let frame = Frame { tag: b'Z', body: Bytes::from_static(b"T") };
    /// let message = Message::parse(frame).unwrap();
    /// assert_eq!(message, Message::ReadyForQuery(TransactionStatus::InTransaction));
    /// assert_eq!(message.name(), "ReadyForQuery");
    /// ```
    pub fn parse(frame: Frame) -> Result<Message, ProtoError> {
        let Frame { tag, body } = frame;
        Ok(match tag {
            b'R' => Message::Authentication(Authentication::parse(body)?),
            b'K' => Message::BackendKeyData(BackendKeyData::parse(body)?),
            b'2' => empty(body, "BindComplete", Message::BindComplete)?,
            b'3' => empty(body, "CloseComplete", Message::CloseComplete)?,
            b'C' => Message::CommandComplete(CommandComplete::parse(body)?),
            b'G' => Message::CopyInResponse(CopyResponse::parse("CopyInResponse", body)?),
            b'H' => Message::CopyOutResponse(CopyResponse::parse("CopyOutResponse", body)?),
            b'W' => Message::CopyBothResponse(CopyResponse::parse("CopyBothResponse", body)?),
            b'd' => Message::CopyData(body),
            b'c' => empty(body, "CopyDone", Message::CopyDone)?,
            b'D' => Message::DataRow(DataRow::parse(body)?),
            b'I' => empty(body, "EmptyQueryResponse", Message::EmptyQueryResponse)?,
            b'E' => Message::ErrorResponse(ErrorFields::parse("ErrorResponse", body)?),
            b'N' => Message::NoticeResponse(ErrorFields::parse("NoticeResponse", body)?),
            b'V' => Message::FunctionCallResponse(parse_function_result(&body)?),
            b'v' => Message::NegotiateProtocolVersion(NegotiateProtocolVersion::parse(body)?),
            b'n' => empty(body, "NoData", Message::NoData)?,
            b'A' => Message::NotificationResponse(Notification::parse(body)?),
            b't' => Message::ParameterDescription(ParameterDescription::parse(body)?),
            b'S' => Message::ParameterStatus(ParameterStatus::parse(body)?),
            b'1' => empty(body, "ParseComplete", Message::ParseComplete)?,
            b's' => empty(body, "PortalSuspended", Message::PortalSuspended)?,
            b'Z' => Message::ReadyForQuery(TransactionStatus::parse(body)?),
            b'T' => Message::RowDescription(RowDescription::parse(body)?),
            other => return Err(ProtoError::UnknownTag(other)),
        })
    }

    /// The message's name as in the protocol documentation, e.g. `"DataRow"`; for
    /// Authentication the specific request, e.g. `"AuthenticationSASL"`.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Authentication(auth) => auth.name(),
            Message::BackendKeyData(_) => "BackendKeyData",
            Message::BindComplete => "BindComplete",
            Message::CloseComplete => "CloseComplete",
            Message::CommandComplete(_) => "CommandComplete",
            Message::CopyInResponse(_) => "CopyInResponse",
            Message::CopyOutResponse(_) => "CopyOutResponse",
            Message::CopyBothResponse(_) => "CopyBothResponse",
            Message::CopyData(_) => "CopyData",
            Message::CopyDone => "CopyDone",
            Message::DataRow(_) => "DataRow",
            Message::EmptyQueryResponse => "EmptyQueryResponse",
            Message::ErrorResponse(_) => "ErrorResponse",
            Message::NoticeResponse(_) => "NoticeResponse",
            Message::FunctionCallResponse(_) => "FunctionCallResponse",
            Message::NegotiateProtocolVersion(_) => "NegotiateProtocolVersion",
            Message::NoData => "NoData",
            Message::NotificationResponse(_) => "NotificationResponse",
            Message::ParameterDescription(_) => "ParameterDescription",
            Message::ParameterStatus(_) => "ParameterStatus",
            Message::ParseComplete => "ParseComplete",
            Message::PortalSuspended => "PortalSuspended",
            Message::ReadyForQuery(_) => "ReadyForQuery",
            Message::RowDescription(_) => "RowDescription",
        }
    }

    /// The message's tag byte, e.g. `b'D'` for DataRow.
    pub fn tag(&self) -> u8 {
        match self {
            Message::Authentication(_) => b'R',
            Message::BackendKeyData(_) => b'K',
            Message::BindComplete => b'2',
            Message::CloseComplete => b'3',
            Message::CommandComplete(_) => b'C',
            Message::CopyInResponse(_) => b'G',
            Message::CopyOutResponse(_) => b'H',
            Message::CopyBothResponse(_) => b'W',
            Message::CopyData(_) => b'd',
            Message::CopyDone => b'c',
            Message::DataRow(_) => b'D',
            Message::EmptyQueryResponse => b'I',
            Message::ErrorResponse(_) => b'E',
            Message::NoticeResponse(_) => b'N',
            Message::FunctionCallResponse(_) => b'V',
            Message::NegotiateProtocolVersion(_) => b'v',
            Message::NoData => b'n',
            Message::NotificationResponse(_) => b'A',
            Message::ParameterDescription(_) => b't',
            Message::ParameterStatus(_) => b'S',
            Message::ParseComplete => b'1',
            Message::PortalSuspended => b's',
            Message::ReadyForQuery(_) => b'Z',
            Message::RowDescription(_) => b'T',
        }
    }
}

/// Splits one complete message off `buf` ([`split_frame`]) and decodes it ([`Message::parse`]).
/// `Ok(None)` means the message is incomplete and nothing was consumed. After a framing error
/// nothing is consumed either; after a decoding error the faulty frame has been consumed.
pub fn decode(buf: &mut BytesMut, max_len: usize) -> Result<Option<Message>, ProtoError> {
    if let Some(message) = decode_short(buf) {
        return Ok(Some(message));
    }
    match split_frame(buf, max_len)? {
        Some(frame) => Message::parse(frame).map(Some),
        None => Ok(None),
    }
}

/// The messages without a body, and ReadyForQuery, taken off the front of `buf` without
/// splitting a frame off: the acknowledgements that answer every extended query. `None` (with
/// nothing consumed) for anything else, an incomplete message, or a malformed one, which
/// [`split_frame`] and [`Message::parse`] then report.
fn decode_short(buf: &mut BytesMut) -> Option<Message> {
    let header = buf.get(..5)?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let (message, total) = match (header[0], len) {
        (b'2', 4) => (Message::BindComplete, 5),
        (b'1', 4) => (Message::ParseComplete, 5),
        (b'3', 4) => (Message::CloseComplete, 5),
        (b'n', 4) => (Message::NoData, 5),
        (b's', 4) => (Message::PortalSuspended, 5),
        (b'I', 4) => (Message::EmptyQueryResponse, 5),
        (b'c', 4) => (Message::CopyDone, 5),
        (b'Z', 5) => {
            let status = match buf.get(5)? {
                b'I' => TransactionStatus::Idle,
                b'T' => TransactionStatus::InTransaction,
                b'E' => TransactionStatus::Failed,
                _ => return None,
            };
            (Message::ReadyForQuery(status), 6)
        }
        // A short tag, decoded in place: `len` is at most 4 + 39 here.
        (b'C', 5..=43) => {
            let total = len as usize + 1;
            let body = buf.get(5..total)?;
            (
                Message::CommandComplete(CommandComplete::parse_inline(body)?),
                total,
            )
        }
        _ => return None,
    };
    buf.advance(total);
    Some(message)
}

/// Checks that a message without contents has an empty body.
fn empty(body: Bytes, name: &'static str, message: Message) -> Result<Message, ProtoError> {
    Reader::new(name, &body).finish()?;
    Ok(message)
}

/// Decodes FunctionCallResponse: an `i32` length (-1 for NULL) and that many bytes.
fn parse_function_result(body: &Bytes) -> Result<Option<Bytes>, ProtoError> {
    let mut r = Reader::new("FunctionCallResponse", body);
    let len = r.i32("the result length")?;
    let value = match usize::try_from(len) {
        Ok(len) => Some(r.bytes(len, "the end of the result value")?),
        Err(_) if len == -1 => None,
        Err(_) => return Err(r.error(format!("invalid result length {len}"))),
    };
    r.finish()?;
    Ok(value)
}

#[cfg(test)]
mod tests;
