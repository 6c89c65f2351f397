//! TupleData: the column values of an Insert, Update or Delete, kept in the message's own
//! buffer ([`Bytes`]) with one small slot per column.

use bytes::Bytes;

use crate::proto::backend::reader::Reader;
use crate::proto::ProtoError;

/// How a column of a [`TupleData`] was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// `n`: SQL NULL.
    Null,
    /// `u`: an unchanged TOASTed value whose bytes were not sent (an Update that did not touch
    /// it). Not NULL: the value is whatever the row held before.
    UnchangedToast,
    /// `t`: the value in text format (the type's output function).
    Text,
    /// `b`: the value in binary format (the type's send function; the `binary` option).
    Binary,
}

impl ColumnKind {
    /// The tag byte on the wire.
    pub fn tag(self) -> u8 {
        match self {
            ColumnKind::Null => b'n',
            ColumnKind::UnchangedToast => b'u',
            ColumnKind::Text => b't',
            ColumnKind::Binary => b'b',
        }
    }
}

/// One column value of a [`TupleData`], borrowing the message's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnValue<'a> {
    /// SQL NULL.
    Null,
    /// An unchanged TOASTed value that was not sent.
    UnchangedToast,
    /// The value's text form.
    Text(&'a [u8]),
    /// The value's binary form.
    Binary(&'a [u8]),
}

impl<'a> ColumnValue<'a> {
    /// How it was sent.
    pub fn kind(&self) -> ColumnKind {
        match self {
            ColumnValue::Null => ColumnKind::Null,
            ColumnValue::UnchangedToast => ColumnKind::UnchangedToast,
            ColumnValue::Text(_) => ColumnKind::Text,
            ColumnValue::Binary(_) => ColumnKind::Binary,
        }
    }

    /// The bytes of a text or binary value; `None` for NULL and unchanged TOAST.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self {
            ColumnValue::Text(b) | ColumnValue::Binary(b) => Some(b),
            ColumnValue::Null | ColumnValue::UnchangedToast => None,
        }
    }
}

/// Where one column's value lies in [`TupleData::body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    kind: ColumnKind,
    start: u32,
    end: u32,
}

/// The column values of one row (pgoutput's TupleData): the bytes stay in the message's buffer,
/// each column is a kind and a range.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::replication::pgoutput::{ColumnKind, ColumnValue, Decoder, Message};
///
/// // Insert into relation 16384: (1 as text, NULL, unchanged TOAST).
/// let mut insert = b"I\0\0\x40\x00N\0\x03".to_vec();
/// insert.extend_from_slice(b"t\0\0\0\x011nu");
/// let Message::Insert(insert) = Decoder::new(1)?.decode(Bytes::from(insert))? else {
///     unreachable!()
/// };
/// assert_eq!(insert.relation_id, 16384);
/// assert_eq!(insert.new.len(), 3);
/// assert_eq!(insert.new.value(0), Some(ColumnValue::Text(b"1")));
/// assert_eq!(insert.new.kind(1), Some(ColumnKind::Null));
/// assert_eq!(insert.new.kind(2), Some(ColumnKind::UnchangedToast));
/// assert_eq!(insert.new.value(3), None);
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TupleData {
    body: Bytes,
    slots: Vec<Slot>,
}

impl TupleData {
    /// Reads a TupleData at the reader's position; `message` is the whole message body the
    /// reader reads (the tuple keeps a slice of it).
    pub(super) fn read(r: &mut Reader<'_>, message: &Bytes) -> Result<TupleData, ProtoError> {
        let start = r.position();
        let count = r.i16("the TupleData column count")?;
        let count = usize::try_from(count)
            .map_err(|_| r.error(format!("the TupleData column count is {count}")))?;
        // Every column takes at least its kind byte: a count the bytes left cannot hold is
        // refused before anything is allocated for it.
        if count > r.remaining() {
            return Err(r.error(format!(
                "the TupleData declares {count} columns but only {} bytes are left",
                r.remaining()
            )));
        }
        let mut slots = Vec::with_capacity(count);
        for i in 0..count {
            let kind = match r.u8("a TupleData column kind")? {
                b'n' => ColumnKind::Null,
                b'u' => ColumnKind::UnchangedToast,
                b't' => ColumnKind::Text,
                b'b' => ColumnKind::Binary,
                other => {
                    return Err(r.error(format!(
                        "TupleData column {i} has kind {}, not 'n', 'u', 't' or 'b'",
                        show_tag(other)
                    )))
                }
            };
            let (from, to) = match kind {
                ColumnKind::Null | ColumnKind::UnchangedToast => (r.position(), r.position()),
                ColumnKind::Text | ColumnKind::Binary => {
                    let len = r.i32("a TupleData column length")?;
                    let len = usize::try_from(len)
                        .map_err(|_| r.error(format!("TupleData column {i} has length {len}")))?;
                    let from = r.position();
                    r.take(len, "a TupleData column value")?;
                    (from, r.position())
                }
            };
            let offset = |pos: usize| u32::try_from(pos - start);
            match (offset(from), offset(to)) {
                (Ok(start), Ok(end)) => slots.push(Slot { kind, start, end }),
                _ => return Err(r.error("the TupleData is longer than 4 GiB")),
            }
        }
        Ok(TupleData {
            body: message.slice(start..r.position()),
            slots,
        })
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// How column `index` was sent; `None` past the last column.
    pub fn kind(&self, index: usize) -> Option<ColumnKind> {
        self.slots.get(index).map(|s| s.kind)
    }

    /// Column `index`'s value; `None` past the last column.
    pub fn value(&self, index: usize) -> Option<ColumnValue<'_>> {
        self.slots.get(index).map(|slot| self.value_of(slot))
    }

    fn value_of(&self, slot: &Slot) -> ColumnValue<'_> {
        // Each slot was made from the bytes of `body` itself.
        let bytes = self
            .body
            .get(slot.start as usize..slot.end as usize)
            .unwrap_or_default();
        match slot.kind {
            ColumnKind::Null => ColumnValue::Null,
            ColumnKind::UnchangedToast => ColumnValue::UnchangedToast,
            ColumnKind::Text => ColumnValue::Text(bytes),
            ColumnKind::Binary => ColumnValue::Binary(bytes),
        }
    }

    /// Column `index`'s bytes as a shared slice of the message (no copy); `None` for NULL,
    /// unchanged TOAST or past the last column.
    pub fn value_bytes(&self, index: usize) -> Option<Bytes> {
        let slot = self.slots.get(index)?;
        match slot.kind {
            ColumnKind::Text | ColumnKind::Binary => {
                Some(self.body.slice(slot.start as usize..slot.end as usize))
            }
            ColumnKind::Null | ColumnKind::UnchangedToast => None,
        }
    }

    /// The values, in column order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = ColumnValue<'_>> + '_ {
        self.slots.iter().map(|slot| self.value_of(slot))
    }

    /// The TupleData's bytes as sent (column count included).
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

impl std::fmt::Debug for TupleData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for value in self.values() {
            match value {
                ColumnValue::Null => list.entry(&format_args!("NULL")),
                ColumnValue::UnchangedToast => list.entry(&format_args!("unchanged TOAST")),
                ColumnValue::Text(t) => list.entry(&String::from_utf8_lossy(t)),
                ColumnValue::Binary(b) => list.entry(&format_args!("0x{}", hex(b))),
            };
        }
        list.finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A tag byte shown readably: `'x'` for printable ASCII, `0x00` otherwise.
pub(super) fn show_tag(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}'", tag as char)
    } else {
        format!("0x{tag:02x}")
    }
}

#[cfg(test)]
pub(super) fn hex_for_tests(bytes: &[u8]) -> String {
    hex(bytes)
}
