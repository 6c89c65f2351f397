//! Results of the simple query protocol: rows whose values arrive as text.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::Error;
use crate::proto::backend::{DataRow, RowDescription};
use crate::proto::ProtoError;

/// One item of a [`simple_query`](crate::Connection::simple_query) result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SimpleQueryMessage {
    /// A row, values in text format.
    Row(SimpleRow),
    /// A statement finished.
    CommandComplete {
        /// The command tag, e.g. `"INSERT 0 3"` or `"CREATE TABLE"`.
        tag: String,
        /// Rows returned or affected, for the commands that report it.
        rows: Option<u64>,
    },
}

/// The column names of a simple-query result, shared by its rows.
#[derive(Debug, Clone)]
pub(crate) struct SimpleColumns(Arc<[String]>);

impl SimpleColumns {
    pub(crate) fn from_description(desc: &RowDescription) -> Result<SimpleColumns, ProtoError> {
        let names = desc
            .fields()
            .map(|f| f.map(|f| f.name.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SimpleColumns(names.into()))
    }
}

/// A row of a simple-query result: every value is text (or NULL).
#[derive(Debug, Clone)]
pub struct SimpleRow {
    columns: SimpleColumns,
    body: Bytes,
    ranges: Vec<Option<Range<usize>>>,
}

/// Which column of a [`SimpleRow`]: its position or its name.
pub trait SimpleColumnIndex: std::fmt::Display {
    /// The position of this column among `names`.
    fn position(&self, names: &[String]) -> Option<usize>;
}

impl SimpleColumnIndex for usize {
    fn position(&self, names: &[String]) -> Option<usize> {
        (*self < names.len()).then_some(*self)
    }
}

impl SimpleColumnIndex for &str {
    fn position(&self, names: &[String]) -> Option<usize> {
        names.iter().position(|n| n == self)
    }
}

impl SimpleRow {
    pub(crate) fn new(columns: SimpleColumns, row: DataRow) -> Result<SimpleRow, ProtoError> {
        let ranges = row.ranges().collect::<Result<Vec<_>, _>>()?;
        if ranges.len() != columns.0.len() {
            return Err(ProtoError::malformed(
                "DataRow",
                format!(
                    "{} values for {} columns described",
                    ranges.len(),
                    columns.0.len()
                ),
            ));
        }
        let body = row.buffer().clone();
        for range in ranges.iter().flatten() {
            if std::str::from_utf8(&body[range.clone()]).is_err() {
                return Err(ProtoError::malformed(
                    "DataRow",
                    "a text value is not valid UTF-8",
                ));
            }
        }
        Ok(SimpleRow {
            columns,
            body,
            ranges,
        })
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns.0
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The text of a column (`None` for NULL).
    ///
    /// # Panics
    /// If there is no such column; [`SimpleRow::try_get`] returns an error instead.
    pub fn get<I: SimpleColumnIndex>(&self, index: I) -> Option<&str> {
        match self.try_get(index) {
            Ok(value) => value,
            Err(e) => panic!("{e}"),
        }
    }

    /// The text of a column (`None` for NULL), or an error naming a column that does not exist.
    pub fn try_get<I: SimpleColumnIndex>(&self, index: I) -> Result<Option<&str>, Error> {
        let pos = index.position(&self.columns.0).ok_or_else(|| {
            Error::usage(format!(
                "no column {index} in a row with columns {:?}",
                self.columns.0
            ))
        })?;
        Ok(match &self.ranges[pos] {
            None => None,
            // Validated as UTF-8 in `new`.
            Some(range) => Some(std::str::from_utf8(&self.body[range.clone()]).map_err(|_| {
                Error::from(ProtoError::malformed(
                    "DataRow",
                    "a text value is not valid UTF-8",
                ))
            })?),
        })
    }
}
