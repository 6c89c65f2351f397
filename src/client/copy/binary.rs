//! The binary COPY format on top of [`CopyIn`] and [`CopyOut`]: [`BinaryCopyIn`] writes rows
//! of [`ToSql`] values, [`BinaryCopyOut`] reads rows whose values are decoded with [`FromSql`].
//!
//! The layout (PostgreSQL documentation, "COPY", "Binary Format"): an 11-byte signature, an
//! `i32` flags field and an `i32` header-extension length followed by that many bytes; then
//! per row an `i16` field count and, for each field, an `i32` length (-1 for NULL) and the
//! value in the type's binary form; finally the trailer, an `i16` -1.
//!
//! The encoding and parsing are plain functions over buffers ([`RowEncoder`],
//! [`RowDecoder`]), tested with byte literals; the two public types only move bytes between
//! them and the connection.

use std::fmt;
use std::future::poll_fn;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};

use super::{CopyIn, CopyOut};
use crate::error::{Conversion, ConvertedValue, Error};
use crate::proto::{IsNull, ProtoError};
use crate::types::{Format, FromSql, ToSql, Type};

/// The signature every binary COPY stream starts with.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Signature, flags and header-extension length.
const HEADER_LEN: usize = 19;
/// Header flag bit 16: every row carries an OID (the removed `WITH OIDS`).
const FLAG_OIDS: i32 = 1 << 16;
/// Header flag bits 16 to 31 are critical: a reader must stop at one it does not know.
const CRITICAL_FLAGS: i32 = !0xffff;
/// Encoded rows are handed to the connection in batches of about this size, many rows to a
/// CopyData message.
const BATCH: usize = 64 * 1024;

/// The name [`ProtoError::Malformed`] gives the binary COPY stream.
const STREAM: &str = "binary COPY data";

/// Writes rows to a `COPY ... FROM STDIN (FORMAT binary)`, each value encoded with its
/// column's [`ToSql`] implementation.
///
/// Rows are encoded into a reused buffer and sent many to a message, so writing a row
/// allocates nothing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// use tusk::types::Type;
/// use tusk::BinaryCopyIn;
///
/// conn.batch_execute("CREATE TEMP TABLE t (id int8, name text)").await?;
/// let copy = conn.copy_in("COPY t (id, name) FROM STDIN (FORMAT binary)").await?;
/// let mut writer = BinaryCopyIn::new(copy, &[Type::INT8, Type::TEXT]);
/// writer.write(&[&1i64, &"one"]).await?;
/// writer.write(&[&2i64, &None::<&str>]).await?;
/// assert_eq!(writer.finish().await?, 2);
/// # Ok(())
/// # }
/// ```
pub struct BinaryCopyIn<'a> {
    copy: CopyIn<'a>,
    encoder: RowEncoder,
}

impl fmt::Debug for BinaryCopyIn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinaryCopyIn")
            .field("copy", &self.copy)
            .field("types", &self.encoder.types)
            .finish_non_exhaustive()
    }
}

impl<'a> BinaryCopyIn<'a> {
    /// Wraps a copy started with `FORMAT binary` whose columns have `types`, in order. The
    /// header is written with the first batch of rows.
    pub fn new(copy: CopyIn<'a>, types: &[Type]) -> BinaryCopyIn<'a> {
        BinaryCopyIn {
            copy,
            encoder: RowEncoder::new(types),
        }
    }

    /// Writes one row: a value for each column (`None` of an `Option` for NULL). A value
    /// that does not fit its column's type is an error naming the column, the SQL type and
    /// the Rust type; the row is then left out and the copy can go on. The server's error for
    /// earlier rows, if it has arrived, is returned instead.
    ///
    /// Dropping the returned future never splits a row: it is encoded whole before anything
    /// is awaited.
    pub async fn write(&mut self, row: &[&(dyn ToSql + Sync)]) -> Result<(), Error> {
        self.check_format()?;
        self.encoder.encode(row)?;
        if self.encoder.buf.len() >= BATCH {
            self.hand_over()?;
            self.copy.flush_if_full().await?;
        }
        Ok(())
    }

    /// Sends every row written so far, then returns the server's error if one has arrived.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.check_format()?;
        self.hand_over()?;
        self.copy.flush().await
    }

    /// Writes the trailer, ends the copy and returns the number of rows copied, or the
    /// server's error.
    pub async fn finish(mut self) -> Result<u64, Error> {
        if let Err(e) = self.check_format() {
            self.copy
                .abort("the data was not in the binary format")
                .await?;
            return Err(e);
        }
        self.encoder.finish();
        self.hand_over()?;
        self.copy.finish().await
    }

    /// Cancels the copy, as [`CopyIn::abort`]: nothing of it is stored.
    pub async fn abort(self, reason: &str) -> Result<(), Error> {
        self.copy.abort(reason).await
    }

    /// Moves the encoded rows into the connection's write buffer.
    fn hand_over(&mut self) -> Result<(), Error> {
        if !self.encoder.buf.is_empty() {
            self.copy.queue(&self.encoder.buf)?;
            self.encoder.buf.clear();
        }
        Ok(())
    }

    fn check_format(&self) -> Result<(), Error> {
        if self.copy.format() == Format::Binary {
            Ok(())
        } else {
            Err(Error::usage(
                "BinaryCopyIn needs COPY ... FROM STDIN (FORMAT binary), but the server \
                 expects text or CSV data",
            ))
        }
    }
}

/// Encodes rows in the binary COPY format into a reused buffer, the header first.
pub(crate) struct RowEncoder {
    types: Vec<Type>,
    pub(crate) buf: BytesMut,
}

impl RowEncoder {
    pub(crate) fn new(types: &[Type]) -> RowEncoder {
        let mut buf = BytesMut::with_capacity(BATCH + BATCH / 4);
        buf.put_slice(SIGNATURE);
        buf.put_i32(0); // flags: no OIDs
        buf.put_i32(0); // no header extension
        RowEncoder {
            types: types.to_vec(),
            buf,
        }
    }

    /// Appends one row. On error nothing of it stays in the buffer.
    pub(crate) fn encode(&mut self, row: &[&(dyn ToSql + Sync)]) -> Result<(), Error> {
        if row.len() != self.types.len() {
            return Err(Error::usage(format!(
                "the row has {} value(s) but the COPY has {} column(s)",
                row.len(),
                self.types.len()
            )));
        }
        let count = i16::try_from(self.types.len()).map_err(|_| {
            Error::usage(format!(
                "a binary COPY row holds at most {} fields; {} column types were given",
                i16::MAX,
                self.types.len()
            ))
        })?;
        let row_start = self.buf.len();
        self.buf.put_i16(count);
        for (index, (value, ty)) in row.iter().zip(&self.types).enumerate() {
            if let Err(e) = encode_field(&mut self.buf, index, *value, ty) {
                self.buf.truncate(row_start);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Appends the trailer.
    pub(crate) fn finish(&mut self) {
        self.buf.put_i16(-1);
    }
}

/// Appends one field: its length (-1 for NULL) and its value.
fn encode_field(
    buf: &mut BytesMut,
    index: usize,
    value: &dyn ToSql,
    ty: &Type,
) -> Result<(), Error> {
    let len_at = buf.len();
    buf.put_i32(0);
    let is_null = value.to_sql_checked(ty, buf).map_err(|e| {
        let detail = Conversion::new(
            ConvertedValue::Field { index },
            ty.name(),
            value.type_name(),
        );
        Error::converting(detail, false).with_source(e)
    })?;
    let len = match is_null {
        IsNull::Yes => {
            buf.truncate(len_at + 4);
            -1
        }
        IsNull::No => {
            let len = buf.len() - len_at - 4;
            i32::try_from(len).map_err(|_| ProtoError::TooLarge {
                what: format!("binary COPY column {index} ({})", ty.name()),
                len,
            })?
        }
    };
    // `len_at + 4 <= buf.len()`: the placeholder was written there above.
    buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Reads rows from a `COPY ... TO STDOUT (FORMAT binary)`, decoding values with [`FromSql`].
///
/// Also a [`Stream`](futures_core::Stream) of rows. Malformed data is an error naming what was
/// wrong (never a panic); the stream ends after it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// use tusk::types::Type;
/// use tusk::BinaryCopyOut;
///
/// let copy = conn
///     .copy_out("COPY (SELECT g::int8, 'row ' || g FROM generate_series(1, 3) g) TO STDOUT (FORMAT binary)")
///     .await?;
/// let mut reader = BinaryCopyOut::new(copy, &[Type::INT8, Type::TEXT]);
/// while let Some(row) = reader.next().await? {
///     let id: i64 = row.get(0);
///     let name: &str = row.get(1);
///     println!("{id}: {name}");
/// }
/// assert_eq!(reader.rows(), Some(3));
/// # Ok(())
/// # }
/// ```
pub struct BinaryCopyOut<'a> {
    copy: CopyOut<'a>,
    decoder: RowDecoder,
}

impl fmt::Debug for BinaryCopyOut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinaryCopyOut")
            .field("copy", &self.copy)
            .field("types", &self.decoder.types)
            .finish_non_exhaustive()
    }
}

impl<'a> BinaryCopyOut<'a> {
    /// Wraps a copy started with `FORMAT binary` whose columns have `types`, in order.
    pub fn new(copy: CopyOut<'a>, types: &[Type]) -> BinaryCopyOut<'a> {
        BinaryCopyOut {
            copy,
            decoder: RowDecoder::new(types),
        }
    }

    /// The next row, or `None` after the trailer.
    pub async fn next(&mut self) -> Result<Option<BinaryRow>, Error> {
        poll_fn(|cx| self.poll_next_row(cx)).await
    }

    /// The number of rows the server reports having copied, once the stream has ended.
    pub fn rows(&self) -> Option<u64> {
        self.copy.rows()
    }

    fn poll_next_row(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<BinaryRow>, Error>> {
        let result = ready!(self.poll_step(cx));
        if result.is_err() {
            self.decoder.stage = Stage::Done;
        }
        Poll::Ready(result)
    }

    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<BinaryRow>, Error>> {
        if self.decoder.stage != Stage::Done && self.copy.format() != Format::Binary {
            return Poll::Ready(Err(Error::usage(
                "BinaryCopyOut needs COPY ... TO STDOUT (FORMAT binary), but the server sends \
                 text or CSV data",
            )));
        }
        loop {
            match self.decoder.stage {
                Stage::Done => return Poll::Ready(Ok(None)),
                // The trailer was read: only the end of the copy may follow.
                Stage::Trailer => match ready!(self.copy.poll_next_chunk(cx))? {
                    Some(chunk) if !chunk.is_empty() => {
                        return Poll::Ready(Err(after_trailer(chunk.len()).into()))
                    }
                    Some(_) => {}
                    None => {
                        self.decoder.stage = Stage::Done;
                        return Poll::Ready(Ok(None));
                    }
                },
                Stage::Header | Stage::Rows => {
                    if let Some(row) = self.decoder.next_row()? {
                        return Poll::Ready(Ok(Some(row)));
                    }
                    if self.decoder.stage == Stage::Trailer {
                        continue;
                    }
                    match ready!(self.copy.poll_next_chunk(cx))? {
                        Some(chunk) => self.decoder.push(chunk),
                        None => return Poll::Ready(Err(self.decoder.truncated().into())),
                    }
                }
            }
        }
    }
}

impl futures_core::Stream for BinaryCopyOut<'_> {
    type Item = Result<BinaryRow, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_row(cx).map(Result::transpose)
    }
}

/// Where a [`RowDecoder`] is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Header,
    Rows,
    /// The trailer was read.
    Trailer,
    /// The stream ended, or failed.
    Done,
}

/// Splits binary COPY data, arriving in chunks of any size, into rows.
///
/// A chunk holding whole rows is sliced without copying; bytes of a row split across chunks
/// are gathered in `partial` (appended to, so a long row costs linear time).
pub(crate) struct RowDecoder {
    types: Arc<[Type]>,
    /// Unparsed bytes of the latest chunk, while `partial` is empty.
    pending: Bytes,
    /// Unparsed bytes gathered from several chunks.
    partial: BytesMut,
    /// Reused between attempts so an incomplete row allocates nothing.
    scratch: Vec<Option<Range<usize>>>,
    pub(crate) stage: Stage,
}

/// What [`parse_tuple`] found.
#[derive(Debug, PartialEq, Eq)]
enum Tuple {
    /// A row of this many bytes.
    Row(usize),
    /// The trailer.
    End,
}

impl RowDecoder {
    pub(crate) fn new(types: &[Type]) -> RowDecoder {
        RowDecoder {
            types: types.into(),
            pending: Bytes::new(),
            partial: BytesMut::new(),
            scratch: Vec::new(),
            stage: Stage::Header,
        }
    }

    /// Adds the next chunk of the stream.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        if self.partial.is_empty() && self.pending.is_empty() {
            self.pending = chunk;
        } else {
            self.partial.extend_from_slice(&self.pending);
            self.pending.clear();
            self.partial.extend_from_slice(&chunk);
        }
    }

    fn data(&self) -> &[u8] {
        if self.partial.is_empty() {
            &self.pending
        } else {
            &self.partial
        }
    }

    fn buffered(&self) -> usize {
        self.pending.len() + self.partial.len()
    }

    /// Takes the first `n` buffered bytes (`n <= self.data().len()`, as the parsers ensure).
    fn take(&mut self, n: usize) -> Bytes {
        if self.partial.is_empty() {
            self.pending.split_to(n.min(self.pending.len()))
        } else {
            self.partial.split_to(n.min(self.partial.len())).freeze()
        }
    }

    /// The next complete row, or `None` when more data is needed or the trailer was reached
    /// (then `stage` is [`Stage::Trailer`]).
    pub(crate) fn next_row(&mut self) -> Result<Option<BinaryRow>, ProtoError> {
        if self.stage == Stage::Header {
            let Some(len) = parse_header(self.data())? else {
                return Ok(None);
            };
            self.take(len);
            self.stage = Stage::Rows;
        }
        if self.stage != Stage::Rows {
            return Ok(None);
        }
        let mut ranges = std::mem::take(&mut self.scratch);
        match parse_tuple(self.data(), self.types.len(), &mut ranges)? {
            None => {
                self.scratch = ranges;
                Ok(None)
            }
            Some(Tuple::End) => {
                self.take(2);
                if self.buffered() > 0 {
                    return Err(after_trailer(self.buffered()));
                }
                self.stage = Stage::Trailer;
                Ok(None)
            }
            Some(Tuple::Row(len)) => Ok(Some(BinaryRow {
                types: self.types.clone(),
                body: self.take(len),
                ranges,
            })),
        }
    }

    /// The error for a stream that ended before its trailer.
    pub(crate) fn truncated(&self) -> ProtoError {
        let at = match self.stage {
            Stage::Header => "in the header",
            _ => "before the trailer",
        };
        ProtoError::malformed(
            STREAM,
            format!(
                "the stream ended {at}, with {} unparsed byte(s)",
                self.buffered()
            ),
        )
    }
}

fn after_trailer(len: usize) -> ProtoError {
    ProtoError::malformed(STREAM, format!("{len} byte(s) follow the trailer"))
}

fn be_i16(data: &[u8], at: usize) -> Option<i16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(i16::from_be_bytes(bytes.try_into().ok()?))
}

fn be_i32(data: &[u8], at: usize) -> Option<i32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes(bytes.try_into().ok()?))
}

/// Checks the header at the start of `data`: `Some(length)` once it is complete.
fn parse_header(data: &[u8]) -> Result<Option<usize>, ProtoError> {
    let seen = data.len().min(SIGNATURE.len());
    if data[..seen] != SIGNATURE[..seen] {
        return Err(ProtoError::malformed(
            STREAM,
            "the data does not start with the binary COPY signature",
        ));
    }
    let (Some(flags), Some(extension)) = (be_i32(data, 11), be_i32(data, 15)) else {
        return Ok(None);
    };
    if flags & FLAG_OIDS != 0 {
        return Err(ProtoError::malformed(
            STREAM,
            "the rows carry OIDs (the header's flag bit 16), which tusk does not read",
        ));
    }
    if flags & CRITICAL_FLAGS != 0 {
        return Err(ProtoError::malformed(
            STREAM,
            format!("the header has unknown critical flags {flags:#010x}"),
        ));
    }
    let extension = usize::try_from(extension).map_err(|_| {
        ProtoError::malformed(
            STREAM,
            format!("the header extension has negative length {extension}"),
        )
    })?;
    // The extension is skipped; its length only ever waits for bytes that really arrive.
    let len = HEADER_LEN.saturating_add(extension);
    Ok((data.len() >= len).then_some(len))
}

/// Parses the row (or trailer) at the start of `data`, filling `ranges` with each field's
/// position relative to it. `None` when `data` does not hold all of it yet.
fn parse_tuple(
    data: &[u8],
    columns: usize,
    ranges: &mut Vec<Option<Range<usize>>>,
) -> Result<Option<Tuple>, ProtoError> {
    let Some(count) = be_i16(data, 0) else {
        return Ok(None);
    };
    if count == -1 {
        return Ok(Some(Tuple::End));
    }
    if usize::try_from(count).ok() != Some(columns) {
        return Err(ProtoError::malformed(
            STREAM,
            format!("a row has {count} field(s) but {columns} column type(s) were given"),
        ));
    }
    ranges.clear();
    let mut pos = 2;
    for index in 0..columns {
        let Some(len) = be_i32(data, pos) else {
            return Ok(None);
        };
        pos += 4;
        if len == -1 {
            ranges.push(None);
            continue;
        }
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| pos.checked_add(len))
            .ok_or_else(|| {
                ProtoError::malformed(STREAM, format!("field {index} has invalid length {len}"))
            })?;
        if end > data.len() {
            return Ok(None);
        }
        ranges.push(Some(pos..end));
        pos = end;
    }
    Ok(Some(Tuple::Row(pos)))
}

/// A row read by [`BinaryCopyOut`]: values stay in the received bytes and are decoded on
/// access with [`FromSql`], like [`Row`](crate::Row).
#[derive(Clone)]
pub struct BinaryRow {
    types: Arc<[Type]>,
    body: Bytes,
    ranges: Vec<Option<Range<usize>>>,
}

impl BinaryRow {
    /// The column types given to [`BinaryCopyOut::new`].
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The value of column `index`, converted to `T`.
    ///
    /// # Panics
    /// If there is no such column or its value cannot be converted to `T` (a type mismatch,
    /// or NULL into a non-`Option`); the message names the column, the SQL type and the Rust
    /// type. [`BinaryRow::try_get`] returns that as an error instead.
    #[track_caller]
    pub fn get<'a, T: FromSql<'a>>(&'a self, index: usize) -> T {
        match self.try_get(index) {
            Ok(value) => value,
            Err(e) => panic!("{e}"),
        }
    }

    /// The value of column `index`, converted to `T`, or an error naming the column, the SQL
    /// type and the Rust type.
    pub fn try_get<'a, T: FromSql<'a>>(&'a self, index: usize) -> Result<T, Error> {
        let (Some(ty), Some(range)) = (self.types.get(index), self.ranges.get(index)) else {
            return Err(Error::usage(format!(
                "no column {index} in a binary COPY row of {} column(s)",
                self.ranges.len()
            )));
        };
        let detail = || {
            Conversion::new(
                ConvertedValue::Column { index, name: None },
                ty.name(),
                std::any::type_name::<T>(),
            )
        };
        if !T::accepts(ty) {
            return Err(Error::converting(detail(), true));
        }
        let raw = match range {
            None => None,
            // The ranges were checked against the body when the row was parsed.
            Some(r) => Some(self.body.get(r.clone()).ok_or_else(|| {
                Error::from(ProtoError::malformed(
                    STREAM,
                    "a field lies outside its row",
                ))
            })?),
        };
        T::from_sql_nullable(ty, raw).map_err(|e| Error::converting(detail(), false).with_source(e))
    }

    /// The raw binary value of column `index` (`None` for NULL or no such column).
    pub fn raw(&self, index: usize) -> Option<&[u8]> {
        let range = self.ranges.get(index)?.clone()?;
        self.body.get(range)
    }
}

impl fmt::Debug for BinaryRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (ty, range) in self.types.iter().zip(&self.ranges) {
            let value = range.clone().and_then(|r| self.body.get(r));
            list.entry(&(ty.name(), value));
        }
        list.finish()
    }
}

#[cfg(test)]
#[path = "binary_tests.rs"]
mod tests;
