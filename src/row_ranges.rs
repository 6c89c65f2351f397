//! Where each value of a row lies in its DataRow body, stored compactly. Fetching a large result
//! builds one of these per row, and `Vec<Row>` holds them all, so both the work and the size
//! count: rows of up to [`INLINE`] columns whose body is under 64 KiB (nearly all rows) keep a
//! 2-byte start per value inline, without an allocation, in 24 bytes.
//!
//! Only starts are kept: a value's length is the length word right before its start in the
//! body (`-1` for NULL), which the body holds anyway.

use crate::proto::backend::DataRow;
use crate::proto::ProtoError;

/// Columns whose starts are stored without a heap allocation.
const INLINE: usize = 11;

/// The ranges of one row; only meaningful with the body they were read from.
#[derive(Debug, Clone)]
pub(crate) struct RowRanges(Repr);

#[derive(Debug, Clone)]
enum Repr {
    /// Up to [`INLINE`] values in a body shorter than 64 KiB, so every start fits a `u16`.
    Short([u16; INLINE]),
    /// Any other row: a `u32` start per value (a body is at most the maximum message length,
    /// below 4 GiB because lengths on the wire are `i32`).
    Long(Box<[u32]>),
}

impl RowRanges {
    /// Reads and validates every length word of `row`, which must carry exactly `columns`
    /// values.
    #[inline]
    pub(crate) fn of(row: &DataRow, columns: usize) -> Result<RowRanges, ProtoError> {
        let body: &[u8] = row.buffer();
        let found = if usize::from(row.column_count()) != columns {
            None
        } else if columns <= INLINE && body.len() <= usize::from(u16::MAX) {
            let mut starts = [0u16; INLINE];
            // Every start is below `body.len()`, which fits a u16 here.
            walk(body, &mut starts[..columns], |s| s as u16).map(|()| Repr::Short(starts))
        } else {
            let mut starts = vec![0u32; columns].into_boxed_slice();
            // The framing limits a body to `i32::MAX` bytes, so every start fits a u32.
            walk(body, &mut starts, |s| s as u32).map(|()| Repr::Long(starts))
        };
        match found {
            Some(repr) => Ok(RowRanges(repr)),
            None => Err(malformed(row, columns)),
        }
    }

    /// The bytes of value `i` of `body` (the body this was read from), `None` for NULL (and for
    /// an `i` past the last value, which callers rule out).
    #[inline]
    pub(crate) fn value<'b>(&self, body: &'b [u8], i: usize) -> Option<&'b [u8]> {
        let start = match &self.0 {
            Repr::Short(starts) => usize::from(*starts.get(i)?),
            Repr::Long(starts) => *starts.get(i)? as usize,
        };
        // Validated by `of`: the length word lies right before `start`, and a non-negative
        // length stays within the body. A negative one is NULL.
        let word = body.get(start.checked_sub(4)?..start)?;
        let len = usize::try_from(i32::from_be_bytes(word.try_into().ok()?)).ok()?;
        body.get(start..start + len)
    }
}

/// Walks the length words of a DataRow body, storing where each value starts into `starts`
/// (one slot per value the row must carry). `None` when the body does not hold exactly that
/// many well-formed values; [`malformed`] then says what is wrong.
#[inline]
fn walk<T>(body: &[u8], starts: &mut [T], narrow: impl Fn(usize) -> T) -> Option<()> {
    let mut pos = 2;
    for slot in starts {
        let word = body.get(pos..pos + 4)?;
        let len = i32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        let start = pos + 4;
        *slot = narrow(start);
        pos = match usize::try_from(len) {
            // `start <= body.len()` since the length word was in the body.
            Ok(len) if len <= body.len() - start => start + len,
            Ok(_) => return None,
            Err(_) if len == -1 => start,
            Err(_) => return None,
        };
    }
    (pos == body.len()).then_some(())
}

/// The error for a row `of` refused: the wrong number of values, or what the checked iterator
/// says of the column at fault.
#[cold]
fn malformed(row: &DataRow, columns: usize) -> ProtoError {
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
        check(&[None; 11]);
    }

    #[test]
    fn wide_or_long_rows_keep_u32_starts() {
        let values: Vec<Option<&[u8]>> = (0..40)
            .map(|i| if i % 3 == 0 { None } else { Some(&b"xy"[..]) })
            .collect();
        check(&values);
        check(&[Some(&b"1"[..]); 12]);
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
