//! Splits complete tagged messages off a read buffer: backend messages for a client
//! ([`split_frame`]), frontend messages for a server ([`split_frontend_frame`]).
//!
//! Every tagged message is a one-byte tag, a big-endian `i32` length that counts itself but
//! not the tag, and a body. Both splitters look at the 5-byte header as soon as it is in the
//! buffer and reject an unknown tag or an impossible length right away, before the IO layer
//! waits for (or allocates room for) a body that a broken or hostile peer announced. They only
//! consume bytes once a whole message is present, so a caller can keep appending to the same
//! buffer and call them again. (The untagged startup packet a client sends first is split by
//! [`crate::proto::server::split_startup_packet`].)

use bytes::{Buf, Bytes, BytesMut};

use super::backend::data_row_body;
use super::ProtoError;

/// The size of a message header: the tag byte and the 4-byte length.
pub const HEADER_LEN: usize = 5;

/// Every tag a PostgreSQL server sends in protocol 3.0 (and 3.2, which adds none).
const BACKEND_TAGS: &[u8] = b"RK23CdcGHWDIEVvnNAtS1sZT";

/// [`BACKEND_TAGS`] as a table indexed by byte: one load per message instead of a scan.
static IS_BACKEND_TAG: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < BACKEND_TAGS.len() {
        table[BACKEND_TAGS[i] as usize] = true;
        i += 1;
    }
    table
};

/// Every tag a PostgreSQL client sends in protocol 3.0 (and 3.2, which adds none).
const FRONTEND_TAGS: &[u8] = b"BCdcfDEHFpPQSX";

/// [`FRONTEND_TAGS`] as a table indexed by byte.
static IS_FRONTEND_TAG: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < FRONTEND_TAGS.len() {
        table[FRONTEND_TAGS[i] as usize] = true;
        i += 1;
    }
    table
};

/// One complete tagged message, not yet decoded.
///
/// The body excludes the tag and the length word and shares the read buffer's allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message tag, e.g. `b'D'` for DataRow.
    pub tag: u8,
    /// The message body, without the tag and the length.
    pub body: Bytes,
}

/// Whether `tag` starts some backend message of protocol 3.0.
///
/// ```
/// use tusk::proto::framing::is_backend_tag;
/// assert!(is_backend_tag(b'D'));
/// assert!(!is_backend_tag(b'Q')); // Query is a frontend message
/// ```
pub fn is_backend_tag(tag: u8) -> bool {
    IS_BACKEND_TAG[usize::from(tag)]
}

/// Whether `tag` starts some frontend message of protocol 3.0.
///
/// ```
/// use tusk::proto::framing::is_frontend_tag;
/// assert!(is_frontend_tag(b'Q'));
/// assert!(!is_frontend_tag(b'Z')); // ReadyForQuery is a backend message
/// ```
pub fn is_frontend_tag(tag: u8) -> bool {
    IS_FRONTEND_TAG[usize::from(tag)]
}

/// Splits one complete message off the front of `buf`.
///
/// Returns `Ok(None)` while the message is incomplete, and then consumes nothing. It checks that
/// the tag is a backend tag ([`ProtoError::UnknownTag`]) as soon as the tag byte is present, and
/// that the declared length is at least 4 and at most `max_len` ([`ProtoError::InvalidLength`])
/// as soon as the 5-byte header is: both are reported before the body has arrived. An
/// error leaves `buf` untouched too: the stream cannot be resynchronised after it, so the caller
/// should close the connection.
///
/// The body is split off without copying: it shares `buf`'s allocation.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::framing::split_frame;
///
/// let mut buf = BytesMut::from(&b"Z\0\0\0\x05IC\0\0"[..]);
/// let frame = split_frame(&mut buf, 1 << 20).unwrap().unwrap();
/// assert_eq!((frame.tag, &frame.body[..]), (b'Z', &b"I"[..]));
/// assert_eq!(split_frame(&mut buf, 1 << 20).unwrap(), None); // 'C' has only 3 bytes so far
/// assert_eq!(&buf[..], b"C\0\0");
/// ```
pub fn split_frame(buf: &mut BytesMut, max_len: usize) -> Result<Option<Frame>, ProtoError> {
    split_tagged(
        buf,
        max_len,
        &IS_BACKEND_TAG,
        ProtoError::UnknownTag,
        |tag, len, max| ProtoError::InvalidLength { tag, len, max },
    )
}

/// Splits one complete frontend message off the front of `buf`: what a server reads once the
/// startup packet is done.
///
/// The same rules as [`split_frame`], with the frontend's tags: an unknown tag is
/// [`ProtoError::UnknownFrontendTag`] as soon as its byte is present, a length below 4 or above
/// `max_len` is [`ProtoError::InvalidFrontendLength`] as soon as the header is; `Ok(None)`
/// (nothing consumed) while the message is incomplete. For reference, PostgreSQL itself allows
/// [`MAX_FRONTEND_MESSAGE_LEN`](crate::proto::MAX_FRONTEND_MESSAGE_LEN) for Query, Parse, Bind,
/// FunctionCall and CopyData, and 10000 bytes for Sync, Flush, Close, Describe, Execute,
/// Terminate, CopyDone and CopyFail.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::framing::split_frontend_frame;
///
/// let mut buf = BytesMut::from(&b"S\0\0\0\x04X\0\0"[..]);
/// let frame = split_frontend_frame(&mut buf, 1 << 20).unwrap().unwrap();
/// assert_eq!((frame.tag, frame.body.len()), (b'S', 0)); // Sync
/// assert_eq!(split_frontend_frame(&mut buf, 1 << 20).unwrap(), None); // Terminate is cut short
/// ```
pub fn split_frontend_frame(
    buf: &mut BytesMut,
    max_len: usize,
) -> Result<Option<Frame>, ProtoError> {
    split_tagged(
        buf,
        max_len,
        &IS_FRONTEND_TAG,
        ProtoError::UnknownFrontendTag,
        |tag, len, max| ProtoError::InvalidFrontendLength { tag, len, max },
    )
}

/// The one framing rule of both directions; `tags` is the side's tag table and the two
/// functions make its errors. Inlined into each caller, so the tables and errors are constants
/// there.
#[inline(always)]
fn split_tagged(
    buf: &mut BytesMut,
    max_len: usize,
    tags: &[bool; 256],
    unknown_tag: fn(u8) -> ProtoError,
    invalid_length: fn(u8, i64, usize) -> ProtoError,
) -> Result<Option<Frame>, ProtoError> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    // The tag is checked as soon as it arrives: it never depends on later bytes.
    if !tags[usize::from(tag)] {
        return Err(unknown_tag(tag));
    }
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let declared = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let len = match usize::try_from(declared) {
        Ok(len) if len >= 4 && len <= max_len => len,
        _ => return Err(invalid_length(tag, i64::from(declared), max_len)),
    };
    // `len <= i32::MAX`, so adding the tag byte cannot overflow a usize.
    let total = len + 1;
    if buf.len() < total {
        return Ok(None);
    }
    buf.advance(HEADER_LEN);
    let body = buf.split_to(len - 4).freeze();
    Ok(Some(Frame { tag, body }))
}

/// Splits off the front of `buf`, in one piece, the longest run of complete DataRow messages
/// (tag `D`) with valid lengths, headers included; `None` when `buf` does not start with one.
///
/// A large result arrives as thousands of DataRows per socket read: taking them all with one
/// split, rather than one [`split_frame`] each, leaves a single reference-count update on the
/// read buffer for the whole run. Anything else (another message, an incomplete one, an
/// invalid length) ends the run and stays in `buf` for [`split_frame`], which reports the
/// errors. Walk the run with [`crate::proto::backend::DataRows`].
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::framing::split_data_rows;
///
/// let mut buf = BytesMut::from(&b"D\0\0\0\x06\0\0D\0\0\0\x06\0\0C\0\0"[..]);
/// let run = split_data_rows(&mut buf, 1 << 20).unwrap();
/// assert_eq!(run.len(), 14);
/// assert_eq!(&buf[..], b"C\0\0");
/// assert_eq!(split_data_rows(&mut buf, 1 << 20), None);
/// ```
pub fn split_data_rows(buf: &mut BytesMut, max_len: usize) -> Option<Bytes> {
    let mut end = 0;
    // A length over `max_len` ends the run too; `split_frame` then reports it.
    while let Some(body) = data_row_body(buf, end).filter(|body| body.end - end - 1 <= max_len) {
        end = body.end;
    }
    (end > 0).then(|| buf.split_to(end).freeze())
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
