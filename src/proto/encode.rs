//! The writing rules both encoders share: [`crate::proto::frontend`] (what a client sends) and
//! [`crate::proto::server`]'s backend encoder (what a server sends).
//!
//! A message is written with its length last, into a placeholder, once the body is known; every
//! length is checked to fit the protocol's signed 32-bit field and every count its 16-bit field;
//! a C string with a NUL inside is refused; and a message that fails half-way is rolled back so
//! the buffer is left exactly as it was.

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::proto::ProtoError;

/// The largest count a 16-bit protocol field carries (the server reads counts as unsigned).
pub(crate) const MAX_COUNT: usize = u16::MAX as usize;

/// Converts a length to the protocol's signed 32-bit length field, refusing anything larger.
///
/// `what` is only formatted when the check fails, so callers pass `format_args!` freely on hot
/// paths. Every length the encoders write goes through here.
pub(crate) fn checked_len(what: impl fmt::Display, n: usize) -> Result<i32, ProtoError> {
    i32::try_from(n).map_err(|_| ProtoError::TooLarge {
        what: what.to_string(),
        len: n,
    })
}

/// Converts a count to the protocol's 16-bit count field, refusing anything larger.
pub(crate) fn checked_count(what: &'static str, n: usize) -> Result<u16, ProtoError> {
    u16::try_from(n).map_err(|_| ProtoError::TooMany { what, count: n })
}

/// Overwrites 4 bytes at `pos` with `value`, big-endian.
///
/// Callers pass the position of a placeholder they wrote themselves and have not truncated
/// since, so the range is in bounds.
#[inline]
pub(crate) fn patch_i32(buf: &mut BytesMut, pos: usize, value: i32) {
    buf[pos..pos + 4].copy_from_slice(&value.to_be_bytes());
}

/// Appends `s` and a terminating NUL, refusing a NUL inside `s`.
#[inline]
pub(crate) fn put_cstr(buf: &mut BytesMut, what: &'static str, s: &[u8]) -> Result<(), ProtoError> {
    // Names (a statement's, a portal's) are a few bytes, which a plain loop scans faster than
    // a call to memchr; long text (a Parse's SQL) gets memchr, one fast pass.
    #[allow(clippy::manual_contains)] // `contains` is the memchr call this avoids.
    let has_nul = if s.len() <= 32 {
        s.iter().any(|&b| b == 0)
    } else {
        s.contains(&0)
    };
    if has_nul {
        return Err(ProtoError::NulInString { what });
    }
    buf.reserve(s.len() + 1);
    buf.put_slice(s);
    buf.put_u8(0);
    Ok(())
}

/// Appends a 16-bit count followed by the format codes.
#[inline]
pub(crate) fn put_formats(
    buf: &mut BytesMut,
    what: &'static str,
    formats: &[i16],
) -> Result<(), ProtoError> {
    let count = checked_count(what, formats.len())?;
    buf.reserve(2 + 2 * formats.len());
    buf.put_u16(count);
    for &format in formats {
        buf.put_i16(format);
    }
    Ok(())
}

/// Appends a 16-bit count of `items`, then each item via `put` (given its 0-based index).
///
/// The count is patched in afterwards so any iterator works without collecting it first.
pub(crate) fn put_counted<T, E: From<ProtoError>>(
    buf: &mut BytesMut,
    what: &'static str,
    items: impl IntoIterator<Item = T>,
    mut put: impl FnMut(&mut BytesMut, usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let count_pos = buf.len();
    buf.put_u16(0);
    let mut items = items.into_iter();
    let mut count = 0;
    while let Some(item) = items.next() {
        if count == MAX_COUNT {
            // Report the real total: this item plus whatever the iterator still holds.
            let count = count + 1 + items.count();
            return Err(ProtoError::TooMany { what, count }.into());
        }
        put(buf, count, item)?;
        count += 1;
    }
    // `count <= MAX_COUNT` by the check above, so the cast is exact; the placeholder is ours.
    buf[count_pos..count_pos + 2].copy_from_slice(&(count as u16).to_be_bytes());
    Ok(())
}

/// How the length field of a whole message is checked (`len` counts the field itself): against
/// what the server accepts from a client for the frontend encoders, against the `i32` field for
/// the backend encoders. The error names `message`.
///
/// A trait rather than a function pointer, so each encoder's check is a static call the
/// compiler can inline into the message writer.
pub(crate) trait LengthCheck:
    FnOnce(&'static str, usize) -> Result<i32, ProtoError>
{
}

impl<F: FnOnce(&'static str, usize) -> Result<i32, ProtoError>> LengthCheck for F {}

/// Appends one message: the tag (none for the startup-phase packets), a placeholder length, the
/// body written by `body`, then patches the length in, checked by `check`.
///
/// If `body` fails or `check` refuses the length, the buffer is truncated back to its length at
/// entry and the error returned.
#[inline]
pub(crate) fn message<E: From<ProtoError>>(
    buf: &mut BytesMut,
    tag: Option<u8>,
    what: &'static str,
    check: impl LengthCheck,
    body: impl FnOnce(&mut BytesMut) -> Result<(), E>,
) -> Result<(), E> {
    let start = buf.len();
    let result = write_message(buf, tag, what, check, body);
    if result.is_err() {
        buf.truncate(start);
    }
    result
}

/// The part of [`message`] that may fail half-way; [`message`] rolls back after it.
#[inline]
fn write_message<E: From<ProtoError>>(
    buf: &mut BytesMut,
    tag: Option<u8>,
    what: &'static str,
    check: impl LengthCheck,
    body: impl FnOnce(&mut BytesMut) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(tag) = tag {
        buf.put_u8(tag);
    }
    let len_pos = buf.len();
    buf.put_i32(0);
    body(buf)?;
    // Bodies only append (bind() verifies its encoder did not shrink the buffer below the value
    // it was writing), so the buffer still reaches past the placeholder here.
    let len = check(what, buf.len() - len_pos)?;
    patch_i32(buf, len_pos, len);
    Ok(())
}

/// Appends a message that is only a tag and the length 4.
#[inline]
pub(crate) fn empty_message(tag: u8, buf: &mut BytesMut) {
    buf.reserve(5);
    buf.put_u8(tag);
    buf.put_i32(4);
}
