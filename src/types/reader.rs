//! Bounds-checked reading and writing of the binary forms with an inner layout (numeric,
//! arrays, ranges, composites, jsonb): exact-length values, a cursor that never reads past the
//! end, and length-prefixed elements.

use bytes::{BufMut, BytesMut};

use super::{InvalidValue, IsNull};
use crate::BoxError;

/// The value as exactly `N` bytes, or an error naming the expected and the actual length.
#[inline]
pub(crate) fn fixed<const N: usize>(what: &'static str, raw: &[u8]) -> Result<[u8; N], BoxError> {
    match <[u8; N]>::try_from(raw) {
        Ok(bytes) => Ok(bytes),
        Err(_) => Err(wrong_length(what, N, raw.len())),
    }
}

#[cold]
fn wrong_length(what: &'static str, expected: usize, got: usize) -> BoxError {
    InvalidValue::boxed(what, format!("expected {expected} bytes, got {got}"))
}

/// A bounds-checked cursor over a binary value with an inner layout (numeric, arrays, jsonb).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(what: &'static str, buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, what }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], BoxError> {
        if n > self.buf.len() {
            return Err(InvalidValue::boxed(
                self.what,
                format!("{field} needs {n} bytes but only {} remain", self.buf.len()),
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], BoxError> {
        let bytes = self.take(N, field)?;
        // `take` returned exactly N bytes.
        Ok(<[u8; N]>::try_from(bytes).unwrap_or([0; N]))
    }

    pub(crate) fn u16(&mut self, field: &str) -> Result<u16, BoxError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn i16(&mut self, field: &str) -> Result<i16, BoxError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn i32(&mut self, field: &str) -> Result<i32, BoxError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &str) -> Result<u32, BoxError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Fails when bytes are left over after the value.
    pub(crate) fn finish(self) -> Result<(), BoxError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(InvalidValue::boxed(
                self.what,
                format!("{} unexpected bytes after the value", self.buf.len()),
            ))
        }
    }
}

/// Writes a 4-byte length prefix and the value `write` produces after it, or -1 and nothing
/// for NULL. Returns whether the value was NULL. Used for array elements.
pub(crate) fn write_length_prefixed(
    out: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<IsNull, BoxError>,
) -> Result<IsNull, BoxError> {
    let start = out.len();
    out.put_i32(0);
    let is_null = write(out)?;
    let len = match is_null {
        IsNull::Yes => {
            out.truncate(start + 4);
            -1
        }
        IsNull::No => {
            let len = out.len() - start - 4;
            i32::try_from(len).map_err(|_| {
                InvalidValue::boxed(
                    "array",
                    format!("an element of {len} bytes exceeds the protocol's 2 GiB limit"),
                )
            })?
        }
    };
    out[start..start + 4].copy_from_slice(&len.to_be_bytes()); // `start + 4 <= out.len()`.
    Ok(is_null)
}
