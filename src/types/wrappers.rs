//! Conversions that wrap another: `Option<T>` (NULL), `&T` and `Box<T>`.

use bytes::BytesMut;

use super::{Format, FromSql, IsNull, ToSql, Type};
use crate::BoxError;

/// `None` is NULL.
impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Some(v) => v.to_sql(ty, out),
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }

    fn encode_format(&self, ty: &Type) -> Format {
        match self {
            Some(v) => v.encode_format(ty),
            // The server still looks up the type's binary input function for a NULL sent in
            // binary, so NULL follows the type's format too.
            None if ty.binary_supported() => Format::Binary,
            None => Format::Text,
        }
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }

    crate::to_sql_checked!();
}

/// NULL is `None`.
impl<'a, T: FromSql<'a>> FromSql<'a> for Option<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Option<T>, BoxError> {
        T::from_sql(ty, raw).map(Some)
    }

    fn from_sql_unescaped(ty: &Type, raw: &[u8]) -> Result<Option<T>, BoxError> {
        T::from_sql_unescaped(ty, raw).map(Some)
    }

    fn from_sql_null(_ty: &Type) -> Result<Option<T>, BoxError> {
        Ok(None)
    }

    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }
}

impl<T: ToSql> ToSql for &T {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        (**self).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }

    fn encode_format(&self, ty: &Type) -> Format {
        (**self).encode_format(ty)
    }

    fn type_name(&self) -> &'static str {
        (**self).type_name()
    }

    crate::to_sql_checked!();
}

impl<T: ToSql> ToSql for Box<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        (**self).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }

    fn encode_format(&self, ty: &Type) -> Format {
        (**self).encode_format(ty)
    }

    fn type_name(&self) -> &'static str {
        (**self).type_name()
    }

    crate::to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Box<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Box<T>, BoxError> {
        T::from_sql(ty, raw).map(Box::new)
    }

    fn from_sql_unescaped(ty: &Type, raw: &[u8]) -> Result<Box<T>, BoxError> {
        T::from_sql_unescaped(ty, raw).map(Box::new)
    }

    fn from_sql_null(ty: &Type) -> Result<Box<T>, BoxError> {
        T::from_sql_null(ty).map(Box::new)
    }

    fn accepts(ty: &Type) -> bool {
        T::accepts(ty)
    }
}
