//! [`ChangeTuple`]: a row of an Insert, Update or Delete, read like a [`Row`](crate::Row).

use std::fmt;
use std::sync::Arc;

use crate::error::{Conversion, ConvertedValue, Error};
use crate::proto::replication::pgoutput::{ColumnKind, ColumnValue, TupleData};
use crate::types::{FromSql, Type};
use crate::BoxError;

use super::{Relation, RelationColumn};

/// Which column of a [`ChangeTuple`]: its position (`usize`) or its name (`&str`).
pub trait TupleIndex: fmt::Display {
    /// The position of this column among `columns`, if there is one.
    fn position(&self, columns: &[RelationColumn]) -> Option<usize>;
}

impl TupleIndex for usize {
    fn position(&self, columns: &[RelationColumn]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl TupleIndex for str {
    fn position(&self, columns: &[RelationColumn]) -> Option<usize> {
        columns.iter().position(|c| c.name() == self)
    }
}

impl<T: TupleIndex + ?Sized> TupleIndex for &T {
    fn position(&self, columns: &[RelationColumn]) -> Option<usize> {
        (**self).position(columns)
    }
}

/// The values of one row in a change, with its [`Relation`]: read them with
/// [`get`](ChangeTuple::get) / [`try_get`](ChangeTuple::try_get) as from a
/// [`Row`](crate::Row). The bytes stay in the replication message's buffer.
///
/// A value is NULL, an *unchanged TOAST* value (a large value an Update did not touch, which
/// the server does not send: [`is_unchanged_toast`](ChangeTuple::is_unchanged_toast); reading
/// it is an error, not NULL), or the value in binary format (a stream started with the pgoutput
/// option `binary 'true'`) or in text format. Binary values decode through [`FromSql`] like a
/// query's; a text value can be read as a string (`String`, `&str`, ...) only, except for the
/// types tusk reads as text anyway (`xml`, `tsvector`, extension types, ...). So start the
/// stream with `binary 'true'` to read typed values. Old keys (`Change::Update`'s `old` with
/// `old_is_key_only`, a `Change::Delete` with `key_only`) hold NULL outside the key's columns.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::replication::Lsn;
/// use tusk::replication::{Change, LogicalDecoder};
///
/// let mut decoder = LogicalDecoder::new(1)?;
/// // Relation 16385 "public"."t" (id int4 key, name text), then an Insert of (7, 'seven')
/// // in binary format.
/// let relation = b"R\0\0\x40\x01public\0t\0d\0\x02\
///     \x01id\0\0\0\0\x17\xff\xff\xff\xff\0name\0\0\0\0\x19\xff\xff\xff\xff";
/// decoder.decode(Lsn(0), Bytes::from_static(relation))?;
/// let insert = b"I\0\0\x40\x01N\0\x02b\0\0\0\x04\0\0\0\x07b\0\0\0\x05seven";
/// let Change::Insert { relation, new, .. } = decoder.decode(Lsn(0), Bytes::from_static(insert))?
/// else { unreachable!() };
/// assert_eq!(relation.name(), "t");
/// let id: i32 = new.get("id");
/// let name: &str = new.get(1);
/// assert_eq!((id, name), (7, "seven"));
/// assert!(!new.is_null(0) && !new.is_unchanged_toast(0));
/// # Ok::<(), tusk::Error>(())
/// ```
#[derive(Clone)]
pub struct ChangeTuple {
    relation: Arc<Relation>,
    data: TupleData,
}

impl ChangeTuple {
    /// `data` has one value per column of `relation` (checked by the caller).
    pub(super) fn new(relation: Arc<Relation>, data: TupleData) -> ChangeTuple {
        ChangeTuple { relation, data }
    }

    /// The relation the row belongs to.
    pub fn relation(&self) -> &Arc<Relation> {
        &self.relation
    }

    /// The relation's columns.
    pub fn columns(&self) -> &[RelationColumn] {
        self.relation.columns()
    }

    /// The number of values (the relation's column count).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// How the value of a column was sent; `None` if there is no such column.
    pub fn kind(&self, index: impl TupleIndex) -> Option<ColumnKind> {
        self.data.kind(index.position(self.columns())?)
    }

    /// Whether the value of a column is NULL (false for a column that does not exist).
    pub fn is_null(&self, index: impl TupleIndex) -> bool {
        self.kind(index) == Some(ColumnKind::Null)
    }

    /// Whether a column holds an unchanged TOAST value: the server did not send it, and the
    /// row keeps the value it had (false for a column that does not exist).
    pub fn is_unchanged_toast(&self, index: impl TupleIndex) -> bool {
        self.kind(index) == Some(ColumnKind::UnchangedToast)
    }

    /// The bytes of a column's value as sent (in its [`kind`](ChangeTuple::kind)'s format);
    /// `None` for NULL, unchanged TOAST, or no such column.
    pub fn raw(&self, index: impl TupleIndex) -> Option<&[u8]> {
        self.data
            .value(index.position(self.columns())?)
            .and_then(|v| v.bytes())
    }

    /// The values as pgoutput sent them.
    pub fn data(&self) -> &TupleData {
        &self.data
    }

    /// The value of a column, converted to `T`.
    ///
    /// # Panics
    /// If the column does not exist or its value cannot be converted to `T`; the message names
    /// the column, the SQL type and the Rust type. [`ChangeTuple::try_get`] returns that as an
    /// error instead.
    #[track_caller]
    pub fn get<'a, I, T>(&'a self, index: I) -> T
    where
        I: TupleIndex,
        T: FromSql<'a>,
    {
        match self.try_get(index) {
            Ok(value) => value,
            Err(e) => panic!("{e}"),
        }
    }

    /// The value of a column, converted to `T`, or an error naming the column, the SQL type and
    /// the Rust type (and saying why: a type mismatch, NULL into a non-`Option`, an unchanged
    /// TOAST value, a text value for a non-string type).
    pub fn try_get<'a, I, T>(&'a self, index: I) -> Result<T, Error>
    where
        I: TupleIndex,
        T: FromSql<'a>,
    {
        let columns = self.columns();
        let Some(pos) = index.position(columns) else {
            return Err(self.no_column(&index));
        };
        let column = &columns[pos];
        let ty = column.type_();
        let value = self.data.value(pos).unwrap_or(ColumnValue::Null);
        let raw =
            match value {
                ColumnValue::UnchangedToast => return Err(failed::<T>(
                    &self.relation,
                    pos,
                    Some(
                        "the value is an unchanged TOAST value, which the server does not send \
                         (check is_unchanged_toast: the row keeps its earlier value)"
                            .into(),
                    ),
                )),
                // A text-format stream reads every column as a string, its NULLs too.
                ColumnValue::Null
                    if ty.binary_supported()
                        && crate::types::codec_type(ty, T::accepts).is_none()
                        && T::accepts(&Type::TEXT) =>
                {
                    return T::from_sql_null(&Type::TEXT)
                        .map_err(|e| failed::<T>(&self.relation, pos, Some(e)));
                }
                ColumnValue::Null => None,
                ColumnValue::Binary(_) if !ty.binary_supported() => {
                    return Err(failed::<T>(
                        &self.relation,
                        pos,
                        Some(
                            format!(
                            "the value came in binary format, and tusk reads SQL type {ty} only \
                             as text (read its bytes with raw())"
                        )
                            .into(),
                        ),
                    ))
                }
                ColumnValue::Text(raw) if ty.binary_supported() => {
                    // A text value of a type tusk reads in binary: only strings can take it.
                    if !T::accepts(&Type::TEXT) {
                        return Err(failed::<T>(
                        &self.relation,
                        pos,
                        Some(
                            "the value came in text format, which tusk reads only into strings: \
                             start the replication stream with the pgoutput option \
                             binary 'true' to read typed values"
                                .into(),
                        ),
                    ));
                    }
                    return T::from_sql(&Type::TEXT, raw)
                        .map_err(|e| failed::<T>(&self.relation, pos, Some(e)));
                }
                ColumnValue::Binary(raw) | ColumnValue::Text(raw) => Some(raw),
            };
        // A domain is read as its base type.
        let Some(codec) = crate::types::codec_type(ty, T::accepts) else {
            return Err(failed::<T>(&self.relation, pos, None));
        };
        T::from_sql_nullable(codec, raw).map_err(|e| failed::<T>(&self.relation, pos, Some(e)))
    }

    #[cold]
    fn no_column(&self, index: &dyn fmt::Display) -> Error {
        let names: Vec<&str> = self.columns().iter().map(RelationColumn::name).collect();
        Error::usage(format!(
            "no column {index} in relation {} with columns {names:?}",
            self.relation.qualified_name()
        ))
    }
}

/// The error for column `pos` of `relation` that could not be read as `T`: the types do not
/// match (`None`), or `source` says why.
#[cold]
fn failed<T>(relation: &Relation, pos: usize, source: Option<BoxError>) -> Error {
    let column = &relation.columns()[pos];
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

impl fmt::Debug for ChangeTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (column, value) in self.columns().iter().zip(self.data.values()) {
            match value {
                ColumnValue::Null => map.entry(&column.name(), &format_args!("NULL")),
                ColumnValue::UnchangedToast => {
                    map.entry(&column.name(), &format_args!("unchanged TOAST"))
                }
                ColumnValue::Text(t) => map.entry(&column.name(), &String::from_utf8_lossy(t)),
                ColumnValue::Binary(b) => map.entry(&column.name(), &BinaryValue(b)),
            };
        }
        map.finish()
    }
}

struct BinaryValue<'a>(&'a [u8]);

impl fmt::Debug for BinaryValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}
