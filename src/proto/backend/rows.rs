//! Result-set messages: RowDescription and DataRow, both validated lazily.
//!
//! A DataRow is the hottest message of the driver, so decoding one reads only its column count
//! (and checks, in O(1), that the body is long enough for that many length words). Its column
//! values stay where they are in the read buffer; [`DataRow::ranges`] walks the length words on
//! demand and yields byte ranges into [`DataRow::buffer`], checking each against the body.
//! A RowDescription is walked the same way by [`RowDescription::fields`].

use std::ops::Range;

use bytes::Bytes;

use crate::proto::ProtoError;

/// The bytes a RowDescription field needs besides its name: its NUL terminator, table OID,
/// column number, type OID, type size, type modifier and format code.
const FIELD_FIXED_LEN: usize = 1 + 4 + 2 + 4 + 2 + 4 + 2;

/// Reads the 16-bit count at the start of `body` and checks that the body can hold that many
/// items of at least `min_item_len` bytes each; a count of zero must leave nothing behind.
///
/// Inlined: it runs for every DataRow, and with `min_item_len` a constant the check is a
/// multiplication by a constant rather than a division.
#[inline]
fn read_count(message: &'static str, body: &Bytes, min_item_len: usize) -> Result<u16, ProtoError> {
    let Some(&[hi, lo]) = body.get(..2) else {
        return Err(bad_count(message, None, body.len()));
    };
    let count = u16::from_be_bytes([hi, lo]);
    let rest = body.len() - 2;
    // `count <= u16::MAX` and `min_item_len` is a small constant: no overflow.
    if rest < usize::from(count) * min_item_len || (count == 0 && rest != 0) {
        return Err(bad_count(message, Some(count), rest));
    }
    Ok(count)
}

/// The error of [`read_count`]: no room for the count (`None`), or `rest` bytes that cannot
/// hold `count` items.
#[cold]
fn bad_count(message: &'static str, count: Option<u16>, rest: usize) -> ProtoError {
    let reason = match count {
        None => format!("the body is {rest} bytes, too short for the count"),
        Some(0) => format!("no items announced but {rest} bytes follow"),
        Some(count) => format!("{count} items announced but only {rest} bytes follow"),
    };
    ProtoError::malformed(message, reason)
}

/// One row of a result set: the column values, still in the read buffer.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::backend::{Message, DataRow};
/// use tusk::proto::framing::Frame;
///
/// // two columns: "42" and NULL
/// let body = Bytes::from_static(b"\x00\x02\x00\x00\x00\x0242\xff\xff\xff\xff");
/// let Message::DataRow(row) = Message::parse(Frame { tag: b'D', body }).unwrap() else {
///     unreachable!()
/// };
/// assert_eq!(row.column_count(), 2);
/// let ranges: Vec<_> = row.ranges().collect::<Result<_, _>>().unwrap();
/// assert_eq!(&row.buffer()[ranges[0].clone().unwrap()], b"42");
/// assert_eq!(ranges[1], None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRow {
    body: Bytes,
    column_count: u16,
}

impl DataRow {
    /// Reads the column count; the columns themselves are checked by [`DataRow::ranges`].
    #[inline]
    pub(super) fn parse(body: Bytes) -> Result<DataRow, ProtoError> {
        let column_count = read_count("DataRow", &body, 4)?;
        Ok(DataRow { body, column_count })
    }

    /// How many column values the row carries.
    pub fn column_count(&self) -> u16 {
        self.column_count
    }

    /// The whole message body; the ranges from [`DataRow::ranges`] index into it.
    pub fn buffer(&self) -> &Bytes {
        &self.body
    }

    /// The whole message body, taken out of the row (no copy, no reference count change).
    pub fn into_buffer(self) -> Bytes {
        self.body
    }

    /// The byte range of each column value within [`DataRow::buffer`], in order; `None` is SQL
    /// NULL.
    ///
    /// A length below -1, a value running past the end of the message, or bytes left over after
    /// the last column yield an error (on the column at fault, the last one for leftover bytes),
    /// after which the iterator ends.
    pub fn ranges(&self) -> DataRowRanges<'_> {
        DataRowRanges {
            body: &self.body,
            pos: 2,
            column: 0,
            count: self.column_count,
        }
    }
}

/// Where the body of the DataRow message starting at `pos` in `run` lies: `None` unless a whole
/// one starts there (tag `D`, then a valid length of at least 4 that stays within `run`). The one
/// framing rule of a run, for [`DataRows`] and for the connection's row loop, which walks a run
/// without slicing it per row.
///
/// ```
/// use tusk::proto::backend::data_row_body;
///
/// let run = b"D\0\0\0\x06\0\0D\0\0";
/// assert_eq!(data_row_body(run, 0), Some(5..7));
/// assert_eq!(data_row_body(run, 7), None); // cut short
/// ```
#[inline]
pub fn data_row_body(run: &[u8], pos: usize) -> Option<Range<usize>> {
    let frame = run.get(pos..)?;
    let &[b'D', a, b, c, d] = frame.get(..5)? else {
        return None;
    };
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    // The length is an i32 on the wire (a negative one is invalid), and `len < frame.len()`
    // keeps the body within the run (the tag byte is not counted in `len`).
    (len >= 4 && len <= i32::MAX as usize && len < frame.len()).then(|| pos + 5..pos + 1 + len)
}

/// The DataRows of a run split off a read buffer by
/// [`split_data_rows`](crate::proto::framing::split_data_rows), in order. Each row's body is a
/// slice of the run (no copy).
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::backend::DataRows;
/// use tusk::proto::framing::split_data_rows;
///
/// let mut buf = BytesMut::from(&b"D\0\0\0\x0c\0\x01\0\0\0\x0242"[..]);
/// let run = split_data_rows(&mut buf, 1 << 20).unwrap();
/// let rows: Vec<_> = DataRows::new(run).collect::<Result<_, _>>().unwrap();
/// assert_eq!(rows.len(), 1);
/// assert_eq!(rows[0].column_count(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct DataRows {
    run: Bytes,
    pos: usize,
}

impl DataRows {
    /// The rows of `run`, which must be whole DataRow messages as
    /// [`split_data_rows`](crate::proto::framing::split_data_rows) returns them. Anything else
    /// in it (a truncated message, another tag) yields a
    /// [`ProtoError::Malformed`] and ends the iteration.
    pub fn new(run: Bytes) -> DataRows {
        DataRows { run, pos: 0 }
    }

    #[cold]
    fn fail(&mut self) -> Option<Result<DataRow, ProtoError>> {
        self.pos = self.run.len();
        Some(Err(ProtoError::malformed(
            "DataRow",
            "a run of DataRow messages is cut short or holds another message",
        )))
    }
}

impl Iterator for DataRows {
    type Item = Result<DataRow, ProtoError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.run.len() {
            return None;
        }
        let Some(body) = data_row_body(&self.run, self.pos) else {
            return self.fail();
        };
        self.pos = body.end;
        Some(DataRow::parse(self.run.slice(body)))
    }
}

impl std::iter::FusedIterator for DataRows {}

/// The iterator of [`DataRow::ranges`].
#[derive(Debug, Clone)]
pub struct DataRowRanges<'a> {
    body: &'a [u8],
    pos: usize,
    column: u16,
    count: u16,
}

impl DataRowRanges<'_> {
    /// Ends the iteration with an error about the current column.
    #[cold]
    fn fail(&mut self, reason: String) -> Option<Result<Option<Range<usize>>, ProtoError>> {
        self.column = self.count;
        Some(Err(ProtoError::malformed("DataRow", reason)))
    }
}

impl Iterator for DataRowRanges<'_> {
    type Item = Result<Option<Range<usize>>, ProtoError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.column >= self.count {
            return None;
        }
        let column = self.column;
        let Some(&[a, b, c, d]) = self.body.get(self.pos..).and_then(|rest| rest.get(..4)) else {
            return self.fail(format!(
                "the message ends inside the length of column {column}"
            ));
        };
        let len = i32::from_be_bytes([a, b, c, d]);
        let start = self.pos + 4;
        let range = match usize::try_from(len) {
            // `start <= body.len()` was just checked, so the subtraction cannot underflow.
            Ok(len) if len <= self.body.len() - start => {
                self.pos = start + len;
                Some(start..self.pos)
            }
            Ok(len) => {
                return self.fail(format!(
                    "column {column} is {len} bytes long but only {} bytes are left",
                    self.body.len() - start
                ))
            }
            Err(_) if len == -1 => {
                self.pos = start;
                None
            }
            Err(_) => return self.fail(format!("column {column} has invalid length {len}")),
        };
        self.column += 1;
        if self.column == self.count && self.pos != self.body.len() {
            return self.fail(format!(
                "{} bytes are left after the last column",
                self.body.len() - self.pos
            ));
        }
        Some(Ok(range))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // An error ends the iteration early, so only the upper bound is exact.
        (0, Some(usize::from(self.count - self.column)))
    }
}

impl std::iter::FusedIterator for DataRowRanges<'_> {}

/// The description of a result set's columns.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::backend::Message;
/// use tusk::proto::framing::Frame;
///
/// // one int4 column named "n", text format
/// let body = Bytes::from_static(
///     b"\x00\x01n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00",
/// );
/// let Message::RowDescription(desc) = Message::parse(Frame { tag: b'T', body }).unwrap() else {
///     unreachable!()
/// };
/// let field = desc.fields().next().unwrap().unwrap();
/// assert_eq!((field.name, field.type_oid, field.type_size), ("n", 23, 4));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDescription {
    body: Bytes,
    field_count: u16,
}

impl RowDescription {
    /// Reads the field count; the fields themselves are checked by [`RowDescription::fields`].
    pub(super) fn parse(body: Bytes) -> Result<RowDescription, ProtoError> {
        let field_count = read_count("RowDescription", &body, FIELD_FIXED_LEN)?;
        Ok(RowDescription { body, field_count })
    }

    /// How many columns the result set has.
    pub fn field_count(&self) -> u16 {
        self.field_count
    }

    /// The columns, in order. A field that is cut short or whose name is not NUL-terminated
    /// UTF-8, or bytes left over after the last field, yield an error, after which the iterator
    /// ends.
    pub fn fields(&self) -> FieldIter<'_> {
        FieldIter {
            body: &self.body,
            pos: 2,
            field: 0,
            count: self.field_count,
        }
    }
}

/// One column of a [`RowDescription`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field<'a> {
    /// The column name.
    pub name: &'a str,
    /// The OID of the table the column comes from, or 0.
    pub table_oid: u32,
    /// The column's attribute number in that table, or 0.
    pub column_id: i16,
    /// The OID of the column's data type.
    pub type_oid: u32,
    /// The data type's size (`pg_type.typlen`); negative for variable-width types.
    pub type_size: i16,
    /// The type modifier (`pg_attribute.atttypmod`), e.g. a varchar's length; -1 for none.
    pub type_modifier: i32,
    /// The format code: 0 text, 1 binary. Always 0 in the reply to Describe of a statement,
    /// when the format is not known yet. Other values are passed through for the caller to
    /// reject.
    pub format: i16,
}

/// The iterator of [`RowDescription::fields`].
#[derive(Debug, Clone)]
pub struct FieldIter<'a> {
    body: &'a [u8],
    pos: usize,
    field: u16,
    count: u16,
}

impl<'a> FieldIter<'a> {
    /// Ends the iteration with an error about the current field.
    #[cold]
    fn fail(&mut self, reason: String) -> Option<Result<Field<'a>, ProtoError>> {
        self.field = self.count;
        Some(Err(ProtoError::malformed("RowDescription", reason)))
    }
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = Result<Field<'a>, ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.field >= self.count {
            return None;
        }
        let index = self.field;
        let body: &'a [u8] = self.body;
        // `pos <= body.len()` always holds: it only advances over bytes already checked.
        let rest = &body[self.pos..];
        let Some(nul) = rest.iter().position(|&b| b == 0) else {
            return self.fail(format!("the name of field {index} is not NUL-terminated"));
        };
        let Ok(name) = std::str::from_utf8(&rest[..nul]) else {
            return self.fail(format!("the name of field {index} is not valid UTF-8"));
        };
        let Some(fixed) = rest.get(nul + 1..nul + FIELD_FIXED_LEN) else {
            return self.fail(format!("the message ends inside field {index} ({name:?})"));
        };
        // `fixed` is exactly FIELD_FIXED_LEN - 1 = 18 bytes, so these indexes are in bounds.
        let field = Field {
            name,
            table_oid: u32::from_be_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]),
            column_id: i16::from_be_bytes([fixed[4], fixed[5]]),
            type_oid: u32::from_be_bytes([fixed[6], fixed[7], fixed[8], fixed[9]]),
            type_size: i16::from_be_bytes([fixed[10], fixed[11]]),
            type_modifier: i32::from_be_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]),
            format: i16::from_be_bytes([fixed[16], fixed[17]]),
        };
        self.pos += nul + FIELD_FIXED_LEN;
        self.field += 1;
        if self.field == self.count && self.pos != body.len() {
            return self.fail(format!(
                "{} bytes are left after the last field",
                body.len() - self.pos
            ));
        }
        Some(Ok(field))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // An error ends the iteration early, so only the upper bound is exact.
        (0, Some(usize::from(self.count - self.field)))
    }
}

impl std::iter::FusedIterator for FieldIter<'_> {}
