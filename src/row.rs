//! Result rows of the extended protocol: values stay in the DataRow's own buffer and are
//! decoded on access with [`FromSql`].

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::Error;
use crate::proto::backend::DataRow;
use crate::proto::ProtoError;
use crate::row_ranges::RowRanges;
use crate::statement::Column;
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
/// ```no_run
/// # async fn demo(conn: &mut tusk::Connection) -> Result<(), tusk::Error> {
/// let row = conn.query_one("SELECT 1::int4 AS a, 'x'::text AS b, NULL::int8 AS c", &[]).await?;
/// let a: i32 = row.get(0);
/// let b: &str = row.get("b");
/// let c: Option<i64> = row.try_get("c")?;
/// assert_eq!((a, b, c), (1, "x", None));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Row {
    columns: Arc<[Column]>,
    body: Bytes,
    ranges: RowRanges,
}

impl Row {
    #[inline]
    pub(crate) fn new(columns: Arc<[Column]>, row: DataRow) -> Result<Row, ProtoError> {
        let ranges = RowRanges::of(&row, columns.len())?;
        Ok(Row {
            columns,
            body: row.into_buffer(),
            ranges,
        })
    }

    /// The result columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        // `RowRanges::of` checked that the row has a value for every column.
        self.columns.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
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
            Err(e) => panic!("{e}"),
        }
    }

    /// The value of a column, converted to `T`, or an error naming the column, the SQL type
    /// and the Rust type.
    pub fn try_get<'a, I, T>(&'a self, index: I) -> Result<T, Error>
    where
        I: RowIndex,
        T: FromSql<'a>,
    {
        let pos = index.position(&self.columns).ok_or_else(|| {
            let names: Vec<&str> = self.columns.iter().map(Column::name).collect();
            Error::usage(format!("no column {index} in a row with columns {names:?}"))
        })?;
        let column = &self.columns[pos];
        let ty = column.type_();
        let describe = || {
            format!(
                "column {pos} ({:?}) of SQL type {ty} into Rust type {}",
                column.name(),
                std::any::type_name::<T>()
            )
        };
        if !T::accepts(ty) {
            return Err(Error::conversion(format!(
                "cannot convert {}: the types do not match",
                describe()
            )));
        }
        let raw = self.ranges.value(&self.body, pos);
        T::from_sql_nullable(ty, raw)
            .map_err(|e| Error::conversion(format!("cannot convert {}", describe())).with_source(e))
    }

    /// The raw bytes of a column as the server sent them (`None` for NULL), in the column's
    /// [`format`](Column::format).
    pub fn raw(&self, index: impl RowIndex) -> Option<&[u8]> {
        let pos = index.position(&self.columns)?;
        self.ranges.value(&self.body, pos)
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (i, column) in self.columns.iter().enumerate() {
            let raw = self.ranges.value(&self.body, i);
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
