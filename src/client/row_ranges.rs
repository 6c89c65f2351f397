//! Where each value of a row lies in its DataRow body, stored compactly. Fetching a large result
//! builds one of these per row, and `Vec<Row>` holds them all, so both the work and the size
//! count: rows of up to [`INLINE`] columns whose body is under 64 KiB (nearly all rows) keep a
//! 16-bit start per value packed into two words, without an allocation (24 bytes in all).
//!
//! Only starts are kept: a value's length is the length word right before its start in the
//! body (`-1` for NULL), which the body holds anyway.

use crate::proto::backend::DataRow;
use crate::proto::ProtoError;

/// Columns whose starts are stored without a heap allocation: 8 starts of 16 bits in a `u128`.
const INLINE: usize = 8;

/// The ranges of one row; only meaningful with the body they were read from.
#[derive(Debug, Clone)]
pub(crate) struct RowRanges(Repr);

#[derive(Debug, Clone)]
enum Repr {
    /// Up to [`INLINE`] values in a body shorter than 64 KiB: start `i` is bits `16 i ..
    /// 16 i + 16` of the two words (low word first). Whole words, so that building and moving
    /// one stays in registers.
    Short([u64; 2]),
    /// Any other row: a `u32` start per value (a body is at most the maximum message length,
    /// below 4 GiB because lengths on the wire are `i32`).
    Long(Box<[u32]>),
}

impl RowRanges {
    /// Reads and validates every length word of `row`, which must carry exactly `columns`
    /// values.
    pub(crate) fn of(row: &DataRow, columns: usize) -> Result<RowRanges, ProtoError> {
        RowRanges::of_body(row.buffer(), columns).ok_or_else(|| malformed(row, columns))
    }

    /// [`RowRanges::of`] on a DataRow body given as bytes; `None` when it is not exactly
    /// `columns` well-formed values (see [`malformed`] for why).
    ///
    /// Always inlined: in [`Row::push_run`](crate::Row)'s loop the result is then built in
    /// registers instead of being returned through memory (worth a quarter of the loop).
    #[inline(always)]
    pub(crate) fn of_body(body: &[u8], columns: usize) -> Option<RowRanges> {
        let count = body
            .get(..2)
            .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])))?;
        if count != columns {
            return None;
        }
        if columns <= INLINE && body.len() <= usize::from(u16::MAX) {
            let mut packed = 0u128;
            let mut shift = 0;
            let end = walk(body, columns, |start| {
                // `start < body.len() <= u16::MAX`, and at most 8 starts fill the 128 bits.
                packed |= (start as u128) << shift;
                shift += 16;
            })?;
            (end == body.len()).then_some(RowRanges(Repr::Short([
                packed as u64,
                (packed >> 64) as u64,
            ])))
        } else {
            let mut starts = Vec::with_capacity(columns);
            // The framing limits a body to `i32::MAX` bytes, so every start fits a u32.
            let end = walk(body, columns, |start| starts.push(start as u32))?;
            (end == body.len()).then(|| RowRanges(Repr::Long(starts.into_boxed_slice())))
        }
    }

    /// The bytes of value `i` of `body` (the body this was read from), `None` for NULL (and for
    /// an `i` past the last value, which callers rule out).
    #[inline]
    pub(crate) fn value<'b>(&self, body: &'b [u8], i: usize) -> Option<&'b [u8]> {
        let start = match &self.0 {
            Repr::Short([lo, hi]) if i < INLINE => {
                let word = if i < INLINE / 2 { lo } else { hi };
                usize::from((word >> (16 * (i % (INLINE / 2)))) as u16)
            }
            Repr::Short(_) => return None,
            Repr::Long(starts) => *starts.get(i)? as usize,
        };
        // Validated by `of_body`: the length word lies right before `start`, and a
        // non-negative length stays within the body. A negative one is NULL; a start of 0 (a
        // column past the last) has no length word.
        let word = body.get(start.checked_sub(4)?..start)?;
        let len = usize::try_from(i32::from_be_bytes(word.try_into().ok()?)).ok()?;
        body.get(start..start + len)
    }
}

/// Walks the length words of the `count` values of a DataRow body, passing where each value
/// starts to `start`; returns the end of the last value, or `None` when a length word is
/// missing or a length is invalid or runs past the body.
#[inline(always)]
fn walk(body: &[u8], count: usize, mut start: impl FnMut(usize)) -> Option<usize> {
    let mut pos = 2;
    for _ in 0..count {
        let word = body.get(pos..pos + 4)?;
        let len = i32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        let value = pos + 4;
        start(value);
        pos = match usize::try_from(len) {
            // `value <= body.len()` since the length word was in the body.
            Ok(len) if len <= body.len() - value => value + len,
            Ok(_) => return None,
            Err(_) if len == -1 => value,
            Err(_) => return None,
        };
    }
    Some(pos)
}

/// The error for a row `of` refused: the wrong number of values, or what the checked iterator
/// says of the column at fault.
#[cold]
pub(crate) fn malformed(row: &DataRow, columns: usize) -> ProtoError {
    let count = row.column_count();
    if usize::from(count) != columns {
        return ProtoError::malformed(
            "DataRow",
            format!("{count} values for {columns} columns described"),
        );
    }
    row.ranges()
        .find_map(Result::err)
        .unwrap_or_else(|| ProtoError::malformed("DataRow", "the values do not fit the message"))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::RowRanges;
    use crate::proto::backend::Message;
    use crate::proto::framing::Frame;

    /// A DataRow body from values (`None` = NULL).
    fn data_row(values: &[Option<&[u8]>]) -> crate::proto::backend::DataRow {
        let mut body = (values.len() as u16).to_be_bytes().to_vec();
        for v in values {
            match v {
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    body.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    body.extend_from_slice(v);
                }
            }
        }
        parse(body)
    }

    fn parse(body: Vec<u8>) -> crate::proto::backend::DataRow {
        match Message::parse(Frame {
            tag: b'D',
            body: Bytes::from(body),
        }) {
            Ok(Message::DataRow(row)) => row,
            other => panic!("{other:?}"),
        }
    }

    fn check(values: &[Option<&[u8]>]) {
        let row = data_row(values);
        let ranges = RowRanges::of(&row, values.len()).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(ranges.value(row.buffer(), i), *v, "column {i}");
        }
        assert_eq!(ranges.value(row.buffer(), values.len()), None);
    }

    #[test]
    fn short_rows_with_nulls_and_empty_values() {
        check(&[]);
        check(&[Some(b"42"), None, Some(b""), Some(b"abc")]);
        check(&[None; 8]);
    }

    #[test]
    fn wide_or_long_rows_keep_u32_starts() {
        let values: Vec<Option<&[u8]>> = (0..40)
            .map(|i| if i % 3 == 0 { None } else { Some(&b"xy"[..]) })
            .collect();
        check(&values);
        check(&[Some(&b"1"[..]); 9]);
        // A body past 64 KiB: starts beyond u16.
        let big = vec![7u8; 70_000];
        check(&[Some(&big[..]), None, Some(b"after")]);
    }

    #[test]
    fn malformed_rows_are_errors() {
        // Two columns; the second claims 9 bytes where none are left.
        let row = parse(vec![0, 2, 0, 0, 0, 1, b'x', 0, 0, 0, 9]);
        let err = RowRanges::of(&row, 2).unwrap_err().to_string();
        assert!(err.contains("column 1 is 9 bytes long"), "{err}");
        // A length below -1.
        let row = parse(vec![0, 1, 0xff, 0xff, 0xff, 0xfe]);
        let err = RowRanges::of(&row, 1).unwrap_err().to_string();
        assert!(err.contains("invalid length -2"), "{err}");
        // Bytes left over after the last value.
        let row = parse(vec![0, 1, 0, 0, 0, 1, b'x', b'y']);
        let err = RowRanges::of(&row, 1).unwrap_err().to_string();
        assert!(err.contains("left after the last column"), "{err}");
        // A value count that does not match the description.
        let row = data_row(&[Some(b"1")]);
        let err = RowRanges::of(&row, 2).unwrap_err().to_string();
        assert!(err.contains("1 values for 2 columns described"), "{err}");
    }
}
