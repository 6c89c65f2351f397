//! The body of ErrorResponse and NoticeResponse: `(code byte, NUL-terminated value)` pairs
//! ending with a zero byte.
//!
//! The structure is checked when the message is decoded (these messages are rare, so one scan
//! costs nothing), which means a broken ErrorResponse is reported as such instead of surfacing
//! later as a half-read error. The values are handed out as bytes and are deliberately not
//! required to be UTF-8: a server error must reach the user even when its text is mis-encoded
//! (a localized message from a server whose encoding does not match, or an error sent before
//! the startup packet set `client_encoding`), so the consumer (`DbError::from_fields`) decodes
//! them lossily.

use bytes::Bytes;

use crate::proto::ProtoError;

/// The fields of an ErrorResponse or NoticeResponse, still in the read buffer.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::backend::Message;
/// use tusk::proto::framing::Frame;
///
/// let body = Bytes::from_static(b"SERROR\0C22012\0Mdivision by zero\0\0");
/// let Message::ErrorResponse(fields) = Message::parse(Frame { tag: b'E', body }).unwrap() else {
///     unreachable!()
/// };
/// let pairs: Vec<(u8, &[u8])> = fields.iter().collect::<Result<_, _>>().unwrap();
/// assert_eq!(pairs[1], (b'C', &b"22012"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFields {
    body: Bytes,
    message: &'static str,
}

impl ErrorFields {
    /// Checks the structure of an ErrorResponse or NoticeResponse body (`message` names which).
    pub(super) fn parse(message: &'static str, body: Bytes) -> Result<ErrorFields, ProtoError> {
        let fields = ErrorFields { body, message };
        let mut iter = fields.iter();
        for field in iter.by_ref() {
            field?;
        }
        match iter.rest.len() {
            0 => Ok(fields),
            n => Err(ProtoError::malformed(
                message,
                format!("{n} unexpected bytes after the terminating zero"),
            )),
        }
    }

    /// The `(code, value)` pairs in the order the server sent them, e.g. `(b'C', b"22012")`.
    /// The codes are listed in the protocol documentation ("Error and Notice Message Fields");
    /// unknown codes should be ignored.
    pub fn iter(&self) -> ErrorFieldIter<'_> {
        ErrorFieldIter {
            rest: &self.body,
            message: self.message,
            done: false,
        }
    }

    /// The value of the first field with `code`, e.g. `get(b'M')` for the message.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.iter()
            .filter_map(Result::ok)
            .find_map(|(c, value)| (c == code).then_some(value))
    }

    /// The whole message body.
    pub fn buffer(&self) -> &Bytes {
        &self.body
    }
}

/// The iterator of [`ErrorFields::iter`].
#[derive(Debug, Clone)]
pub struct ErrorFieldIter<'a> {
    /// What has not been read yet. After the terminating zero it holds whatever follows, for
    /// [`ErrorFields::parse`] to inspect.
    rest: &'a [u8],
    message: &'static str,
    /// Set at the terminating zero or after an error.
    done: bool,
}

impl<'a> Iterator for ErrorFieldIter<'a> {
    type Item = Result<(u8, &'a [u8]), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Every exit below but a complete field ends the iteration.
        self.done = true;
        let Some((&code, after_code)) = self.rest.split_first() else {
            return Some(Err(ProtoError::malformed(
                self.message,
                "the field list is not terminated by a zero byte",
            )));
        };
        if code == 0 {
            self.rest = after_code;
            return None;
        }
        let Some(nul) = after_code.iter().position(|&b| b == 0) else {
            return Some(Err(ProtoError::malformed(
                self.message,
                format!("field {:?} is not NUL-terminated", char::from(code)),
            )));
        };
        let value = &after_code[..nul];
        self.rest = &after_code[nul + 1..];
        self.done = false;
        Some(Ok((code, value)))
    }
}

impl std::iter::FusedIterator for ErrorFieldIter<'_> {}
