//! Where each value of a row lies in its DataRow body, stored compactly: 8 bytes a column, and
//! inline (no allocation) for rows of up to [`INLINE`] columns, which is most rows. Fetching a
//! large result builds one of these per row, so the allocator stays out of the hot loop.

use std::ops::Range;

use crate::proto::backend::DataRow;
use crate::proto::ProtoError;

/// Columns stored without a heap allocation.
const INLINE: usize = 8;

/// One value: its start in the body and its length, `-1` for NULL. A body never exceeds the
/// maximum message length (checked by framing, at most 1 GiB by default and always below
/// `u32::MAX` because lengths on the wire are `i32`), so both fit.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    len: i32,
}

/// The ranges of one row.
#[derive(Debug, Clone)]
pub(crate) struct RowRanges(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Inline { spans: [Span; INLINE], count: u8 },
    Heap(Vec<Span>),
}

impl RowRanges {
    /// Reads and validates every column range of `row`.
    pub(crate) fn of(row: &DataRow) -> Result<RowRanges, ProtoError> {
        let count = usize::from(row.column_count());
        let mut ranges = RowRanges(if count <= INLINE {
            Repr::Inline {
                spans: [Span::default(); INLINE],
                count: 0,
            }
        } else {
            Repr::Heap(Vec::with_capacity(count))
        });
        for range in row.ranges() {
            let span = match range? {
                None => Span { start: 0, len: -1 },
                Some(r) => Span {
                    start: u32::try_from(r.start).map_err(|_| too_long())?,
                    len: i32::try_from(r.len()).map_err(|_| too_long())?,
                },
            };
            ranges.push(span)?;
        }
        Ok(ranges)
    }

    fn push(&mut self, span: Span) -> Result<(), ProtoError> {
        match &mut self.0 {
            Repr::Inline { spans, count } => {
                let slot = spans.get_mut(usize::from(*count)).ok_or_else(|| {
                    ProtoError::malformed("DataRow", "more values than its column count")
                })?;
                *slot = span;
                *count += 1;
            }
            Repr::Heap(spans) => spans.push(span),
        }
        Ok(())
    }

    fn spans(&self) -> &[Span] {
        match &self.0 {
            Repr::Inline { spans, count } => &spans[..usize::from(*count)],
            Repr::Heap(spans) => spans,
        }
    }

    /// The number of values.
    pub(crate) fn len(&self) -> usize {
        self.spans().len()
    }

    /// The byte range of value `i` in the body, `None` for NULL; `i` must be `< len()`.
    pub(crate) fn get(&self, i: usize) -> Option<Range<usize>> {
        let span = self.spans()[i];
        // A negative length marks NULL; otherwise both fit usize.
        let len = usize::try_from(span.len).ok()?;
        let start = span.start as usize;
        Some(start..start + len)
    }
}

fn too_long() -> ProtoError {
    ProtoError::malformed("DataRow", "a value lies beyond 4 GiB into the message")
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
        let ranges = RowRanges::of(&row).unwrap();
        assert_eq!(ranges.len(), values.len());
        for (i, v) in values.iter().enumerate() {
            let got = ranges.get(i).map(|r| &row.buffer()[r]);
            assert_eq!(got, *v, "column {i}");
        }
    }

    #[test]
    fn inline_rows_with_nulls_and_empty_values() {
        check(&[]);
        check(&[Some(b"42"), None, Some(b""), Some(b"abc")]);
        check(&[None; 8]);
    }

    #[test]
    fn wide_rows_go_to_the_heap() {
        let values: Vec<Option<&[u8]>> = (0..40)
            .map(|i| if i % 3 == 0 { None } else { Some(&b"xy"[..]) })
            .collect();
        check(&values);
        check(&[Some(&b"1"[..]); 9]);
    }

    #[test]
    fn malformed_rows_are_errors() {
        // Two columns; the second claims 9 bytes where none are left.
        let row = match Message::parse(Frame {
            tag: b'D',
            body: Bytes::from_static(&[0, 2, 0, 0, 0, 1, b'x', 0, 0, 0, 9]),
        }) {
            Ok(Message::DataRow(row)) => row,
            other => panic!("{other:?}"),
        };
        assert!(RowRanges::of(&row).is_err());
    }
}
