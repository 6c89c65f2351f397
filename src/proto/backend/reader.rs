//! A bounds-checked cursor over one message body, shared by the decoders of this module and the
//! frontend decoder of [`crate::proto::server`].
//!
//! Every read checks the remaining length first and fails with [`ProtoError::Malformed`] naming
//! the message and the field, so no decoder indexes a body directly.

use bytes::Bytes;

use crate::proto::ProtoError;

/// Reads the fields of one message body front to back.
pub(in crate::proto) struct Reader<'a> {
    body: &'a Bytes,
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `body`; errors name `message`.
    pub(in crate::proto) fn new(message: &'static str, body: &'a Bytes) -> Self {
        Reader {
            body,
            pos: 0,
            message,
        }
    }

    /// Names a more specific message in later errors (e.g. once an Authentication code is
    /// known).
    pub(in crate::proto) fn set_message(&mut self, message: &'static str) {
        self.message = message;
    }

    /// The error for this message with `reason`.
    pub(in crate::proto) fn error(&self, reason: impl Into<String>) -> ProtoError {
        ProtoError::malformed(self.message, reason)
    }

    /// How many bytes have been read: the offset of the next field in the body.
    pub(in crate::proto) fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub(in crate::proto) fn remaining(&self) -> usize {
        self.body.len() - self.pos
    }

    /// The next `n` bytes, or an error naming `what` if fewer are left.
    pub(in crate::proto) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ProtoError> {
        let body: &'a [u8] = self.body;
        match body.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.error(format!(
                "the message ends before {what} ({n} bytes needed, {} left)",
                self.remaining()
            ))),
        }
    }

    /// The next `N` bytes as an array.
    pub(in crate::proto) fn array<const N: usize>(
        &mut self,
        what: &str,
    ) -> Result<[u8; N], ProtoError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// One byte.
    pub(in crate::proto) fn u8(&mut self, what: &str) -> Result<u8, ProtoError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian `i16`.
    pub(in crate::proto) fn i16(&mut self, what: &str) -> Result<i16, ProtoError> {
        self.array(what).map(i16::from_be_bytes)
    }

    /// A big-endian `u16` (a count the protocol declares as Int16 but that is never negative).
    pub(in crate::proto) fn u16(&mut self, what: &str) -> Result<u16, ProtoError> {
        self.array(what).map(u16::from_be_bytes)
    }

    /// A big-endian `i32`.
    pub(in crate::proto) fn i32(&mut self, what: &str) -> Result<i32, ProtoError> {
        self.array(what).map(i32::from_be_bytes)
    }

    /// A big-endian `u32` (an OID).
    pub(in crate::proto) fn u32(&mut self, what: &str) -> Result<u32, ProtoError> {
        self.array(what).map(u32::from_be_bytes)
    }

    /// A big-endian `i64` (a timestamp in microseconds).
    pub(in crate::proto) fn i64(&mut self, what: &str) -> Result<i64, ProtoError> {
        self.array(what).map(i64::from_be_bytes)
    }

    /// A big-endian `u64` (a WAL location).
    pub(in crate::proto) fn u64(&mut self, what: &str) -> Result<u64, ProtoError> {
        self.array(what).map(u64::from_be_bytes)
    }

    /// The next `n` bytes as a shared slice of the body (no copy).
    pub(in crate::proto) fn bytes(&mut self, n: usize, what: &str) -> Result<Bytes, ProtoError> {
        let start = self.pos;
        self.take(n, what)?;
        Ok(self.body.slice(start..self.pos))
    }

    /// Everything left, as a shared slice of the body (no copy).
    pub(in crate::proto) fn rest(&mut self) -> Bytes {
        let rest = self.body.slice(self.pos..);
        self.pos = self.body.len();
        rest
    }

    /// A NUL-terminated string's bytes, without the NUL.
    pub(in crate::proto) fn cstr_bytes(&mut self, what: &str) -> Result<&'a [u8], ProtoError> {
        let body: &'a [u8] = self.body;
        let rest = &body[self.pos..]; // `pos <= len` always holds: every advance is checked.
        match rest.iter().position(|&b| b == 0) {
            Some(nul) => {
                self.pos += nul + 1;
                Ok(&rest[..nul])
            }
            None => Err(self.error(format!("{what} is not NUL-terminated"))),
        }
    }

    /// A NUL-terminated UTF-8 string.
    pub(in crate::proto) fn cstr(&mut self, what: &str) -> Result<&'a str, ProtoError> {
        let bytes = self.cstr_bytes(what)?;
        std::str::from_utf8(bytes).map_err(|_| self.error(format!("{what} is not valid UTF-8")))
    }

    /// Fails unless the whole body has been read.
    pub(in crate::proto) fn finish(&self) -> Result<(), ProtoError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(format!("{n} unexpected bytes at the end"))),
        }
    }
}
