//! Result rows of the extended protocol: values stay in the DataRow's own buffer and are
//! decoded on access with [`FromSql`].

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::client::row_ranges::RowRanges;
use crate::client::statement::{Column, SharedColumns};
use crate::error::{Conversion, ConvertedValue, Error};
use crate::proto::backend::{data_row_body, DataRow, DataRows};
use crate::proto::ProtoError;
use crate::types::FromSql;

/// Which column of a row: its position (`usize`) or its name (`&str`).
pub trait RowIndex: fmt::Display {
    /// The position of this column among `columns`, if there is one.
    fn position(&self, columns: &[Column]) -> Option<usize>;
}

impl RowIndex for usize {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl RowIndex for str {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name() == self)
    }
}

impl<T: RowIndex + ?Sized> RowIndex for &T {
    fn position(&self, columns: &[Column]) -> Option<usize> {
        (**self).position(columns)
    }
}

/// A result row.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// let row = conn.query_one("SELECT 1::int4 AS a, 'x'::text AS b, NULL::int8 AS c", &[]).await?;
/// let a: i32 = row.get(0);
/// let b: &str = row.get("b");
/// let c: Option<i64> = row.try_get("c")?;
/// assert_eq!((a, b, c), (1, "x", None));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Row {
    /// The columns, and the buffer the row's body lies in: one per socket read, shared by the
    /// rows read from it. So a row costs one reference count (not one for the columns and one
    /// for the buffer), and `Row` is 40 bytes: a large result is millions of rows in one
    /// `Vec<Row>`, whose size is the result's memory and page faults.
    source: Arc<RowSource>,
    /// Where the row's DataRow body lies in `source.bytes`.
    start: u32,
    len: u32,
    ranges: RowRanges,
}

#[derive(Debug)]
struct RowSource {
    columns: SharedColumns,
    bytes: Bytes,
}

impl Row {
    pub(crate) fn new(columns: SharedColumns, row: DataRow) -> Result<Row, ProtoError> {
        let ranges = RowRanges::of(&row, columns.len())?;
        Ok(Row::alone(columns, row.into_buffer(), ranges))
    }

    /// A row with a source of its own holding just `body`.
    fn alone(columns: SharedColumns, body: Bytes, ranges: RowRanges) -> Row {
        // A DataRow body is at most `i32::MAX` bytes (its length is an i32 on the wire).
        let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        Row {
            source: Arc::new(RowSource {
                columns,
                bytes: body,
            }),
            start: 0,
            len,
            ranges,
        }
    }

    /// Passes to `push` a row of `columns` for each DataRow of `run`, a run of whole DataRow
    /// messages as [`split_data_rows`](crate::proto::framing::split_data_rows) splits them off
    /// the read buffer: the loop a large result spends its time in. Each body is validated as
    /// [`Row::new`] does, then shared with the run (no copy). On a malformed row the rows
    /// before it have been pushed.
    pub(crate) fn push_run(
        columns: &SharedColumns,
        run: Bytes,
        mut push: impl FnMut(Row),
    ) -> Result<(), ProtoError> {
        let source = Arc::new(RowSource {
            columns: columns.clone(),
            bytes: run,
        });
        let run = &source.bytes;
        let mut pos = 0;
        while pos < run.len() {
            let Some(body) = data_row_body(run, pos) else {
                return Err(run_error(run.slice(pos..), columns.len()));
            };
            let Some(ranges) = RowRanges::of_body(&run[body.clone()], columns.len()) else {
                return Err(run_error(run.slice(pos..), columns.len()));
            };
            pos = body.end;
            push(
                match (u32::try_from(body.start), u32::try_from(body.len())) {
                    (Ok(start), Ok(len)) => Row {
                        source: source.clone(),
                        start,
                        len,
                        ranges,
                    },
                    // A run past 4 GiB (never seen: it is one socket read's worth of rows).
                    _ => Row::alone(columns.clone(), run.slice(body), ranges),
                },
            );
        }
        Ok(())
    }

    /// The row's DataRow body.
    fn body(&self) -> &[u8] {
        let start = self.start as usize;
        // `push_run` and `alone` made the range from the bytes themselves.
        self.source
            .bytes
            .get(start..start + self.len as usize)
            .unwrap_or_default()
    }

    /// The result columns.
    pub fn columns(&self) -> &[Column] {
        &self.source.columns
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        // `RowRanges::of` checked that the row has a value for every column.
        self.columns().len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns().is_empty()
    }

    /// The value of a column, converted to `T`.
    ///
    /// # Panics
    /// If the column does not exist or its value cannot be converted to `T` (a type mismatch,
    /// or NULL into a non-`Option`); the message names the column, the SQL type and the Rust
    /// type. [`Row::try_get`] returns that as an error instead.
    #[track_caller]
    pub fn get<'a, I, T>(&'a self, index: I) -> T
    where
        I: RowIndex,
        T: FromSql<'a>,
    {
        match self.try_get(index) {
            Ok(value) => value,
            Err(e) => get_failed(e),
        }
    }

    /// The value of a column, converted to `T`, or an error naming the column, the SQL type
    /// and the Rust type.
    ///
    /// The errors are built out of line: reading a large result calls this for every value,
    /// and the formatting would otherwise weigh on every call.
    pub fn try_get<'a, I, T>(&'a self, index: I) -> Result<T, Error>
    where
        I: RowIndex,
        T: FromSql<'a>,
    {
        let columns = self.columns();
        let Some(pos) = index.position(columns) else {
            return Err(self.no_column(&index));
        };
        let column = &columns[pos];
        // A domain is read as its base type (RowDescription names the base type already; a
        // binary COPY's or a composite's columns may not).
        let Some(ty) = crate::types::codec_type(column.type_(), T::accepts) else {
            return Err(conversion_failed::<T>(pos, column, None));
        };
        let raw = self.ranges.value(self.body(), pos);
        match T::from_sql_nullable(ty, raw) {
            Ok(value) => Ok(value),
            Err(e) => Err(conversion_failed::<T>(pos, column, Some(e))),
        }
    }

    /// A conversion error for the value of `column` into `T`, caused by `source` (for the
    /// conversions the derives make after reading a value).
    #[cold]
    pub(crate) fn conversion_error<T>(&self, column: &str, source: crate::BoxError) -> Error {
        match column.position(self.columns()) {
            Some(pos) => conversion_failed::<T>(pos, &self.columns()[pos], Some(source)),
            None => self.no_column(&column),
        }
    }

    #[cold]
    fn no_column(&self, index: &dyn fmt::Display) -> Error {
        let names: Vec<&str> = self.columns().iter().map(Column::name).collect();
        Error::usage(format!("no column {index} in a row with columns {names:?}"))
    }

    /// The raw bytes of a column as the server sent them (`None` for NULL), in the column's
    /// [`format`](Column::format).
    pub fn raw(&self, index: impl RowIndex) -> Option<&[u8]> {
        let pos = index.position(self.columns())?;
        self.ranges.value(self.body(), pos)
    }
}

/// The panic of [`Row::get`], out of line.
#[cold]
#[track_caller]
fn get_failed(e: Error) -> ! {
    panic!("{e}")
}

/// The error for column `pos` whose value could not be read as `T`: the types do not match
/// (`None`), or decoding failed with `source`.
#[cold]
fn conversion_failed<T>(pos: usize, column: &Column, source: Option<crate::BoxError>) -> Error {
    let detail = Conversion::new(
        ConvertedValue::Column {
            index: pos,
            name: Some(column.name().to_owned()),
        },
        column.type_(),
        std::any::type_name::<T>(),
    );
    match source {
        None => Error::converting(detail, true),
        Some(e) => Error::converting(detail, false).with_source(e),
    }
}

/// Why [`Row::push_run`] stopped at the start of `rest`: a message that is not a whole DataRow,
/// or a row that does not fit `columns`.
#[cold]
fn run_error(rest: Bytes, columns: usize) -> ProtoError {
    for row in DataRows::new(rest) {
        match row {
            Ok(row) => {
                if let Err(e) = RowRanges::of(&row, columns) {
                    return e;
                }
            }
            Err(e) => return e,
        }
    }
    ProtoError::malformed("DataRow", "a run of rows ended unexpectedly")
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (i, column) in self.columns().iter().enumerate() {
            let raw = self.ranges.value(self.body(), i);
            map.entry(&column.name(), &DebugValue(column, raw));
        }
        map.finish()
    }
}

/// A column value shown readably in `Row`'s `Debug`: decoded when tusk knows the type, text
/// for text-format columns, hex otherwise.
struct DebugValue<'a>(&'a Column, Option<&'a [u8]>);

impl fmt::Debug for DebugValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::types::{decode, Decimal, Interval, TimeTz, Uuid};
        use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

        let Some(raw) = self.1 else {
            return f.write_str("NULL");
        };
        let ty = self.0.type_();
        if self.0.format() == crate::types::Format::Text {
            return fmt::Debug::fmt(&String::from_utf8_lossy(raw), f);
        }
        macro_rules! try_show {
            ($($t:ty),*) => {$(
                if <$t as FromSql>::accepts(ty) {
                    if let Ok(v) = decode::<$t>(ty, Some(raw)) {
                        return fmt::Debug::fmt(&v, f);
                    }
                }
            )*};
        }
        macro_rules! try_display {
            ($($t:ty),*) => {$(
                if <$t as FromSql>::accepts(ty) {
                    if let Ok(v) = decode::<$t>(ty, Some(raw)) {
                        return fmt::Display::fmt(&v, f);
                    }
                }
            )*};
        }
        try_show!(bool, i64, f64, &str, u32);
        try_display!(
            Decimal,
            NaiveDate,
            NaiveTime,
            NaiveDateTime,
            DateTime<Utc>,
            Interval,
            TimeTz,
            Uuid,
            serde_json::Value
        );
        f.write_str("0x")?;
        for byte in raw {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::{Bytes, BytesMut};

    use super::Row;
    use crate::client::statement::{columns_from, SharedColumns};
    use crate::proto::backend::{Message, RowDescription};
    use crate::proto::framing::{split_data_rows, Frame};

    /// Two columns, int8 `id` and text `name`, binary format.
    fn columns() -> SharedColumns {
        let mut body = 2u16.to_be_bytes().to_vec();
        for (name, oid) in [("id", 20u32), ("name", 25)] {
            body.extend_from_slice(name.as_bytes());
            body.push(0);
            body.extend_from_slice(&[0; 6]); // table OID, column number
            body.extend_from_slice(&oid.to_be_bytes());
            body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1]);
        }
        let Ok(Message::RowDescription(desc)) = Message::parse(Frame {
            tag: b'T',
            body: Bytes::from(body),
        }) else {
            panic!("not a RowDescription");
        };
        let desc: RowDescription = desc;
        Arc::new(columns_from(&desc, &Default::default()).unwrap())
    }

    /// A DataRow message (tag and length included) of `values`.
    fn data_row(values: &[Option<&[u8]>]) -> Vec<u8> {
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
        let mut message = vec![b'D'];
        message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(&body);
        message
    }

    fn run(messages: &[Vec<u8>]) -> Bytes {
        let mut buf = BytesMut::from(&messages.concat()[..]);
        split_data_rows(&mut buf, 1 << 20).unwrap()
    }

    /// A large result is millions of rows in one `Vec<Row>`: its size is the memory (and the
    /// page faults) of the result.
    #[test]
    fn a_row_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 40);
    }

    #[test]
    fn push_run_reads_every_row() {
        let columns = columns();
        let rows_in: Vec<Vec<u8>> = (0..100i64)
            .map(|i| {
                let name = format!("row {i}");
                let name = (i % 7 != 0).then_some(name.as_bytes());
                data_row(&[Some(&i.to_be_bytes()), name])
            })
            .collect();
        let mut rows = Vec::new();
        Row::push_run(&columns, run(&rows_in), |row| rows.push(row)).unwrap();
        assert_eq!(rows.len(), 100);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.get::<_, i64>(0), i as i64);
            let name: Option<&str> = row.get("name");
            assert_eq!(
                name.map(str::to_owned),
                (i % 7 != 0).then(|| format!("row {i}"))
            );
        }
    }

    #[test]
    fn push_run_stops_at_a_malformed_row() {
        let columns = columns();
        let good = data_row(&[Some(&1i64.to_be_bytes()), Some(b"x")]);
        for (bad, why) in [
            (
                data_row(&[Some(&2i64.to_be_bytes())]),
                "1 values for 2 columns",
            ),
            (
                data_row(&[Some(&2i64.to_be_bytes()), Some(b"x"), Some(b"y")]),
                "3 values for 2 columns",
            ),
            // The second value claims 9 bytes where 1 is left.
            (
                [
                    &data_row(&[Some(&2i64.to_be_bytes()), Some(b"x")])[..19],
                    &[0, 0, 0, 9, b'x'],
                ]
                .concat(),
                "column 1 is 9 bytes long",
            ),
        ] {
            let mut rows = Vec::new();
            let run = run(&[good.clone(), bad, good.clone()]);
            let err = Row::push_run(&columns, run, |row| rows.push(row))
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{err}");
            assert_eq!(rows.len(), 1, "the row before the bad one is kept");
        }
        // A run that is not whole DataRows (push_run is only given what split_data_rows
        // returns, but must not trust it).
        let mut rows = Vec::new();
        let cut = Bytes::copy_from_slice(&good[..good.len() - 1]);
        let err = Row::push_run(&columns, cut, |row| rows.push(row)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed DataRow message: a run of DataRow messages is cut short or holds another \
             message"
        );
        assert!(rows.is_empty());
    }
}
