//! Splits complete backend messages off a read buffer.
//!
//! Every backend message is a one-byte tag, a big-endian `i32` length that counts itself but
//! not the tag, and a body. [`split_frame`] looks at the 5-byte header as soon as it is in the
//! buffer and rejects an unknown tag or an impossible length right away, before the IO layer
//! waits for (or allocates room for) a body that a broken or hostile server announced. It only
//! consumes bytes once a whole message is present, so a caller can keep appending to the same
//! buffer and call it again.

use bytes::{Buf, Bytes, BytesMut};

use super::ProtoError;

/// The size of a message header: the tag byte and the 4-byte length.
pub const HEADER_LEN: usize = 5;

/// Every tag a PostgreSQL server sends in protocol 3.0 (and 3.2, which adds none).
const BACKEND_TAGS: &[u8] = b"RK23CdcGHWDIEVvnNAtS1sZT";

/// One complete backend message, not yet decoded.
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
    BACKEND_TAGS.contains(&tag)
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
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    // The tag is checked as soon as it arrives: it never depends on later bytes.
    if !is_backend_tag(tag) {
        return Err(ProtoError::UnknownTag(tag));
    }
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let declared = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let len = match usize::try_from(declared) {
        Ok(len) if len >= 4 && len <= max_len => len,
        _ => {
            return Err(ProtoError::InvalidLength {
                tag,
                len: i64::from(declared),
                max: max_len,
            })
        }
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

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
