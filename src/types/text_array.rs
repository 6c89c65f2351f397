//! Arrays in text format (`array_out` / `array_in`), for the arrays of element types without a
//! binary codec (`tsvector[]`, `xml[]`, enums' arrays...): such an array is requested and sent
//! as text, and [`Vec`] and [`Array`](super::Array) parse and write that text here.
//!
//! The form: optional bounds `[lower:upper]...=` when some dimension does not start at 1, then
//! nested `{...}`, one level per dimension, elements separated by commas. An element is `NULL`
//! (unquoted, any case) or its text, unquoted or in double quotes with `\` escaping the next
//! character; whitespace around an unquoted element is not part of it.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use super::array::MAX_DIMENSIONS;
use super::{Dimension, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

/// A parsed text-format array: its dimensions and its elements in row-major order, each
/// borrowed from the text unless unescaping changed it; `None` for NULL.
pub(crate) struct TextArray<'a> {
    pub(crate) dims: Vec<Dimension>,
    pub(crate) elements: Vec<Option<Cow<'a, [u8]>>>,
}

fn invalid(reason: impl Into<String>) -> BoxError {
    InvalidValue::boxed("array", reason)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// The length of each dimension (by depth), as first seen.
    lens: [Option<usize>; MAX_DIMENSIONS],
    /// The depth at which the elements are (every element must be at the same one).
    leaf_depth: Option<usize>,
    elements: Vec<Option<Cow<'a, [u8]>>>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), BoxError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(invalid(format!(
                "expected {:?} at byte {} of a text-format array",
                char::from(c),
                self.pos
            )))
        }
    }

    /// A signed decimal integer (the bounds decoration).
    fn integer(&mut self) -> Result<i32, BoxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') || self.peek() == Some(b'+') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(self.s.get(start..self.pos).unwrap_or_default())
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| invalid(format!("invalid array bound at byte {start}")))
    }

    /// `[lower:upper]...=`: the lower bound and length of each dimension.
    fn bounds(&mut self) -> Result<Vec<Dimension>, BoxError> {
        let mut dims = Vec::new();
        while self.peek() == Some(b'[') {
            self.pos += 1;
            let lower = self.integer()?;
            self.expect(b':')?;
            let upper = self.integer()?;
            self.expect(b']')?;
            let len = upper
                .checked_sub(lower)
                .and_then(|d| d.checked_add(1))
                .filter(|&l| l >= 0)
                .ok_or_else(|| invalid(format!("invalid array bounds [{lower}:{upper}]")))?;
            dims.push(Dimension {
                len,
                lower_bound: lower,
            });
        }
        self.expect(b'=')?;
        Ok(dims)
    }

    /// One `{...}` level at `depth` (0 outermost).
    fn level(&mut self, depth: usize) -> Result<(), BoxError> {
        if depth >= MAX_DIMENSIONS {
            return Err(invalid(format!(
                "more than {MAX_DIMENSIONS} dimensions in a text-format array"
            )));
        }
        self.expect(b'{')?;
        self.skip_whitespace();
        let mut count = 0;
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() == Some(b'{') {
                    self.level(depth + 1)?;
                } else {
                    if *self.leaf_depth.get_or_insert(depth) != depth {
                        return Err(invalid(
                            "elements at different depths in a text-format array",
                        ));
                    }
                    let element = self.element()?;
                    self.elements.push(element);
                }
                count += 1;
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(invalid(format!(
                            "expected ',' or '}}' at byte {} of a text-format array",
                            self.pos
                        )))
                    }
                }
            }
        }
        // `depth < MAX_DIMENSIONS`, checked above.
        match self.lens.get_mut(depth) {
            Some(Some(len)) if *len != count => Err(invalid(
                "sub-arrays of different lengths in a text-format array",
            )),
            Some(slot) => {
                *slot = Some(count);
                Ok(())
            }
            None => Err(invalid("too many dimensions in a text-format array")),
        }
    }

    /// One element: quoted, or unquoted up to the next `,` or `}` with its surrounding
    /// whitespace dropped; `\` escapes the next character in both.
    fn element(&mut self) -> Result<Option<Cow<'a, [u8]>>, BoxError> {
        let quoted = self.peek() == Some(b'"');
        if quoted {
            self.pos += 1;
        }
        let start = self.pos;
        let mut owned: Option<Vec<u8>> = None;
        // The end of the text, excluding trailing whitespace of an unquoted element.
        let mut end = start;
        loop {
            let Some(c) = self.peek() else {
                return Err(invalid("unterminated text-format array"));
            };
            match c {
                b'"' if quoted => {
                    self.pos += 1;
                    end = self.pos - 1;
                    break;
                }
                b',' | b'}' if !quoted => break,
                b'"' | b'{' if !quoted => {
                    return Err(invalid(format!(
                        "unexpected {:?} in an unquoted array element",
                        char::from(c)
                    )))
                }
                b'\\' => {
                    let Some(&next) = self.s.get(self.pos + 1) else {
                        return Err(invalid("unterminated escape in a text-format array"));
                    };
                    let buf = owned.get_or_insert_with(|| {
                        self.s.get(start..self.pos).unwrap_or_default().to_vec()
                    });
                    buf.push(next);
                    self.pos += 2;
                    end = self.pos;
                }
                _ => {
                    if let Some(buf) = &mut owned {
                        buf.push(c);
                    }
                    self.pos += 1;
                    if quoted || !c.is_ascii_whitespace() {
                        end = self.pos;
                    }
                }
            }
        }
        if let Some(mut buf) = owned {
            if !quoted {
                // Trailing unescaped whitespace; an escaped space stays (it moved `end`).
                let trailing = self.pos - end;
                buf.truncate(buf.len().saturating_sub(trailing));
            }
            return Ok(Some(Cow::Owned(buf)));
        }
        let text = self.s.get(start..end).unwrap_or_default();
        if !quoted && text.eq_ignore_ascii_case(b"NULL") {
            return Ok(None);
        }
        Ok(Some(Cow::Borrowed(text)))
    }
}

/// Parses a text-format array.
pub(crate) fn parse(raw: &[u8]) -> Result<TextArray<'_>, BoxError> {
    let mut p = Parser {
        s: raw,
        pos: 0,
        lens: [None; MAX_DIMENSIONS],
        leaf_depth: None,
        elements: Vec::new(),
    };
    p.skip_whitespace();
    let declared = if p.peek() == Some(b'[') {
        Some(p.bounds()?)
    } else {
        None
    };
    p.skip_whitespace();
    p.level(0)?;
    p.skip_whitespace();
    if p.pos != raw.len() {
        return Err(invalid(format!(
            "unexpected bytes after a text-format array at byte {}",
            p.pos
        )));
    }
    if p.elements.is_empty() {
        return Ok(TextArray {
            dims: Vec::new(),
            elements: Vec::new(),
        });
    }
    let ndim = p.leaf_depth.map_or(0, |d| d + 1);
    let mut dims = Vec::with_capacity(ndim);
    for len in p.lens.iter().take(ndim).map(|l| l.unwrap_or(0)) {
        let len = i32::try_from(len).map_err(|_| invalid("an array dimension exceeds 32 bits"))?;
        dims.push(Dimension {
            len,
            lower_bound: 1,
        });
    }
    if let Some(declared) = declared {
        if declared
            .iter()
            .map(|d| d.len)
            .ne(dims.iter().map(|d| d.len))
        {
            return Err(invalid(
                "the declared array bounds do not match the elements",
            ));
        }
        dims = declared;
    }
    Ok(TextArray {
        dims,
        elements: p.elements,
    })
}

/// Writes an array in text format: each element's text (as `T` writes it for the text-format
/// element type) quoted and escaped, NULL as `NULL`, with the bounds in front when a dimension
/// does not start at 1.
pub(crate) fn encode<'e, T: ToSql + 'e>(
    element: &Type,
    dims: &[Dimension],
    elements: impl IntoIterator<Item = &'e T>,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    if dims.is_empty() {
        out.put_slice(b"{}");
        return Ok(IsNull::No);
    }
    if dims.iter().any(|d| d.lower_bound != 1) {
        for d in dims {
            // `len >= 1` here (an array with elements); the upper bound fits as i64.
            let upper = i64::from(d.lower_bound) + i64::from(d.len) - 1;
            out.put_slice(format!("[{}:{upper}]", d.lower_bound).as_bytes());
        }
        out.put_u8(b'=');
    }
    // `blocks[k]`: the number of elements in one sub-array of depth `k` (1 to ndim - 1); a
    // new one starts at every element index it divides. (The dimensions came from a checked
    // Array or a one-dimensional vector, so their product fits.)
    let ndim = dims.len();
    let mut blocks = Vec::with_capacity(ndim);
    let mut block: usize = 1;
    for d in dims.iter().skip(1).rev() {
        block = block.saturating_mul(usize::try_from(d.len).unwrap_or(0).max(1));
        blocks.push(block);
    }
    let mut scratch = BytesMut::new();
    for (i, value) in elements.into_iter().enumerate() {
        if i == 0 {
            for _ in 0..ndim {
                out.put_u8(b'{');
            }
        } else {
            let restarted = blocks.iter().filter(|&&b| i % b == 0).count();
            for _ in 0..restarted {
                out.put_u8(b'}');
            }
            out.put_u8(b',');
            for _ in 0..restarted {
                out.put_u8(b'{');
            }
        }
        scratch.clear();
        match value.to_sql(element, &mut scratch)? {
            IsNull::Yes => out.put_slice(b"NULL"),
            IsNull::No => {
                out.put_u8(b'"');
                for &c in scratch.iter() {
                    if c == b'"' || c == b'\\' {
                        out.put_u8(b'\\');
                    }
                    out.put_u8(c);
                }
                out.put_u8(b'"');
            }
        }
    }
    for _ in 0..ndim {
        out.put_u8(b'}');
    }
    Ok(IsNull::No)
}
