//! What the code `tusk-derive` generates calls: reading a struct's fields from a row, and the
//! binary forms of enums and composites checked against the catalog's description of the
//! type. Not public API: the generated code and this module change together.

use std::fmt;

use bytes::BufMut;
pub use bytes::BytesMut;

use super::custom::codec_type;
use super::{FromSql, InvalidValue, IsNull, Reader, ToSql, Type, TypeKind, WrongType};
use crate::{BoxError, Error, Row};

/// The value of the column named `column`.
pub fn get<'a, T: FromSql<'a>>(row: &'a Row, column: &str) -> Result<T, Error> {
    row.try_get(column)
}

/// The value of the column at `index` (tuple structs).
pub fn get_at<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, Error> {
    row.try_get(index)
}

/// The value of the column named `column`, or `T::default()` when the row has no such column
/// (a NULL is still a NULL: read an `Option` for that).
pub fn get_or_default<'a, T: FromSql<'a> + Default>(
    row: &'a Row,
    column: &str,
) -> Result<T, Error> {
    if row.columns().iter().any(|c| c.name() == column) {
        row.try_get(column)
    } else {
        Ok(T::default())
    }
}

/// A `json` or `jsonb` column deserialised into `T`. A NULL is deserialised as JSON `null`,
/// so an `Option<T>` field reads it as `None` (and any other type says it cannot).
pub fn get_json<T: serde::de::DeserializeOwned>(row: &Row, column: &str) -> Result<T, Error> {
    match row.try_get::<_, Option<super::Json<T>>>(column)? {
        Some(json) => Ok(json.0),
        None => T::deserialize(serde_json::Value::Null).map_err(|e| {
            row.conversion_error::<T>(column, format!("the column is NULL: {e}").into())
        }),
    }
}

/// The column read as `S`, then converted with `TryFrom`; a failed conversion names the
/// column, its SQL type and the Rust type.
pub fn get_try_from<'a, S, T>(row: &'a Row, column: &str) -> Result<T, Error>
where
    S: FromSql<'a>,
    T: TryFrom<S>,
    T::Error: fmt::Display,
{
    let value: S = row.try_get(column)?;
    T::try_from(value).map_err(|e| {
        let source: BoxError = format!(
            "`{}` read from the column does not convert to `{}`: {e}",
            std::any::type_name::<S>(),
            std::any::type_name::<T>()
        )
        .into();
        row.conversion_error::<T>(column, source)
    })
}

/// Whether `ty` is the enum named `name` (bare, or `schema.name`).
///
/// Its labels are not compared with `labels`: a label added to the type (a common
/// migration) must not break code that does not know it yet. Reading a label the Rust enum has
/// no variant for is an error naming it ([`unknown_label`]); writing a variant the type has no
/// label for is refused by the server (`invalid input value for enum`).
pub fn enum_accepts(ty: &Type, name: &str, labels: &[&str]) -> bool {
    let _ = labels;
    ty.kind() == TypeKind::Enum && ty.is_named(name)
}

/// An enum value's label (`enum_send` writes it as UTF-8 text).
pub fn enum_label<'a>(ty: &Type, raw: &'a [u8]) -> Result<&'a str, BoxError> {
    std::str::from_utf8(raw)
        .map_err(|_| InvalidValue::boxed("enum", format!("a label of {ty} is not valid UTF-8")))
}

/// The error for a label of `ty` that the Rust type has no variant for.
pub fn unknown_label(ty: &Type, label: &str, rust_type: &'static str) -> BoxError {
    InvalidValue::boxed(
        "enum",
        format!("{ty} has the label {label:?}, which `{rust_type}` has no variant for"),
    )
}

/// Writes an enum label.
pub fn write_label(label: &str, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    out.put_slice(label.as_bytes());
    Ok(IsNull::No)
}

/// A Rust type's `accepts`: `<T as ToSql>::accepts` or `<T as FromSql>::accepts`.
pub type Accepts = fn(&Type) -> bool;

/// Whether `ty` is the composite named `name` whose fields are exactly `fields` (by name, in
/// any order), each field's type accepted by its function (through domains).
pub fn composite_accepts(ty: &Type, name: &str, fields: &[(&str, Accepts)]) -> bool {
    let Some(catalog) = ty.fields() else {
        return false;
    };
    ty.is_named(name)
        && catalog.len() == fields.len()
        && catalog.iter().all(|field| {
            fields.iter().any(|(rust_name, accepts)| {
                *rust_name == field.name() && codec_type(field.type_(), accepts).is_some()
            })
        })
}

/// Whether `ty` is the domain named `name` over a type `inner` accepts.
pub fn domain_accepts(ty: &Type, name: &str, inner: Accepts) -> bool {
    match ty.domain_base() {
        Some(base) => ty.is_named(name) && codec_type(base, inner).is_some(),
        None => false,
    }
}

/// The type under a domain's domains: what its values are bound and read as.
pub fn domain_base(ty: &Type) -> &Type {
    ty.without_domains()
}

/// The fields of a composite's binary form (`record_send`), read by name. Values may borrow
/// from the bytes (`'a`), which outlive the type they are read with (`'t`).
pub struct CompositeReader<'t, 'a> {
    ty: &'t Type,
    values: Vec<Option<&'a [u8]>>,
}

impl<'t, 'a> CompositeReader<'t, 'a> {
    /// Splits `raw` into its fields, checking their number and types against the catalog's
    /// description of `ty`. A mismatch means the type changed under DDL since it was read: it
    /// is marked to be read again before the connection's next statement.
    pub fn new(ty: &'t Type, raw: &'a [u8]) -> Result<CompositeReader<'t, 'a>, BoxError> {
        let Some(fields) = ty.fields() else {
            return Err(InvalidValue::boxed(
                "composite",
                format!("{ty} is not a composite type read from the catalog"),
            ));
        };
        let mut r = Reader::new("composite", raw);
        let count = r.i32("field count")?;
        if usize::try_from(count).ok() != Some(fields.len()) {
            return Err(changed(ty, format!("{count} fields, not {}", fields.len())));
        }
        let mut values = Vec::with_capacity(fields.len());
        for field in fields {
            let oid = r.u32("field type")?;
            if oid != field.type_().oid() {
                return Err(changed(
                    ty,
                    format!(
                        "field {} of type oid {oid}, not {}",
                        field.name(),
                        field.type_()
                    ),
                ));
            }
            let len = r.i32("field length")?;
            values.push(match len {
                -1 => None,
                len => {
                    let len = usize::try_from(len).map_err(|_| {
                        InvalidValue::boxed(
                            "composite",
                            format!("field {} has invalid length {len}", field.name()),
                        )
                    })?;
                    Some(r.take(len, "field")?)
                }
            });
        }
        r.finish()?;
        Ok(CompositeReader { ty, values })
    }

    /// The field named `field`, decoded as `T` (a domain as its base type).
    pub fn read<T: FromSql<'a>>(&mut self, field: &str) -> Result<T, BoxError> {
        let fields = self.ty.fields().unwrap_or_default();
        let Some(pos) = fields.iter().position(|f| f.name() == field) else {
            return Err(InvalidValue::boxed(
                "composite",
                format!("{} has no field {field:?}", self.ty),
            ));
        };
        let declared = fields[pos].type_(); // `pos` is an index into `fields`.
        let Some(ty) = codec_type(declared, T::accepts) else {
            return Err(Box::new(WrongType::new(
                std::any::type_name::<T>(),
                declared.clone(),
            )));
        };
        let value = self.values.get(pos).copied().flatten();
        T::from_sql_nullable(ty, value).map_err(|e| {
            InvalidValue::boxed("composite", format!("field {field:?} of {}: {e}", self.ty))
        })
    }

    /// Ends the reading (every field was checked in [`CompositeReader::new`]).
    pub fn finish(self) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A composite type that changed since the catalog was read.
#[cold]
fn changed(ty: &Type, what: String) -> BoxError {
    ty.mark_stale();
    InvalidValue::boxed(
        "composite",
        format!(
            "the server sent {what}: {ty} changed since its fields were read from the catalog; \
             it is read again before the connection's next statement"
        ),
    )
}

/// Writes a composite's binary form (`record_recv`), fields given by name in any order and
/// written in the catalog's order.
pub struct CompositeWriter<'o> {
    ty: Type,
    out: &'o mut BytesMut,
    values: Vec<Option<Option<BytesMut>>>,
}

impl<'o> CompositeWriter<'o> {
    /// Starts a value of the composite `ty`.
    pub fn new(ty: &Type, out: &'o mut BytesMut) -> Result<CompositeWriter<'o>, BoxError> {
        let Some(fields) = ty.fields() else {
            return Err(InvalidValue::boxed(
                "composite",
                format!("{ty} is not a composite type read from the catalog"),
            ));
        };
        Ok(CompositeWriter {
            values: vec![None; fields.len()],
            ty: ty.clone(),
            out,
        })
    }

    /// Encodes the field named `field`.
    pub fn write(&mut self, field: &str, value: &dyn ToSql) -> Result<(), BoxError> {
        let fields = self.ty.fields().unwrap_or_default();
        let Some(pos) = fields.iter().position(|f| f.name() == field) else {
            return Err(InvalidValue::boxed(
                "composite",
                format!("{} has no field {field:?}", self.ty),
            ));
        };
        let mut buf = BytesMut::new();
        let encoded = match value.to_sql_checked(fields[pos].type_(), &mut buf) {
            Ok(IsNull::No) => Some(buf),
            Ok(IsNull::Yes) => None,
            Err(e) => {
                return Err(InvalidValue::boxed(
                    "composite",
                    format!("field {field:?} of {}: {e}", self.ty),
                ))
            }
        };
        self.values[pos] = Some(encoded); // `pos` is an index into the fields, as `values`.
        Ok(())
    }

    /// Writes the value; every field must have been given.
    pub fn finish(self) -> Result<IsNull, BoxError> {
        let fields = self.ty.fields().unwrap_or_default();
        let count = i32::try_from(fields.len())
            .map_err(|_| InvalidValue::boxed("composite", "too many fields"))?;
        self.out.put_i32(count);
        for (field, value) in fields.iter().zip(self.values) {
            let Some(value) = value else {
                return Err(InvalidValue::boxed(
                    "composite",
                    format!(
                        "no value was given for field {:?} of {}",
                        field.name(),
                        self.ty
                    ),
                ));
            };
            self.out.put_u32(field.type_().oid());
            match value {
                None => self.out.put_i32(-1),
                Some(bytes) => {
                    let len = i32::try_from(bytes.len()).map_err(|_| {
                        InvalidValue::boxed(
                            "composite",
                            format!(
                                "field {:?} of {} bytes exceeds the protocol's 2 GiB limit",
                                field.name(),
                                bytes.len()
                            ),
                        )
                    })?;
                    self.out.put_i32(len);
                    self.out.put_slice(&bytes);
                }
            }
        }
        Ok(IsNull::No)
    }
}
