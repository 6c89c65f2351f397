//! Fixed-size scalars: `bool`, `"char"`, the integers, the OID-like types and the floats.
//!
//! Integers and floats widen losslessly (an `i32` is sent as `int8` when the parameter is
//! `int8`; an `i64` is read from an `int4` column) and never narrow.

use bytes::{BufMut, BytesMut};

use super::{fixed, Decimal, FromSql, InvalidValue, IsNull, ToSql, Type};
use crate::BoxError;

impl ToSql for bool {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_u8(u8::from(*self));
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BOOL
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for bool {
    /// Like the server's `boolrecv`, any nonzero byte is true.
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<bool, BoxError> {
        let [b] = fixed::<1>("bool", raw)?;
        Ok(b != 0)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BOOL
    }
}

/// `"char"` (OID 18), PostgreSQL's internal one-byte type (not `char(n)`, which is `bpchar`).
impl ToSql for i8 {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i8(*self);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::CHAR
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for i8 {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<i8, BoxError> {
        Ok(i8::from_be_bytes(fixed::<1>("\"char\"", raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::CHAR
    }
}

/// Writes `v` as the integer type `ty` (or as `numeric`); an error if it does not fit, which
/// `accepts` rules out for the callers below. One switch on the OID: this runs for every
/// integer parameter.
#[inline]
fn encode_integer(v: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    const INT2: u32 = super::oid_of!(INT2);
    const INT4: u32 = super::oid_of!(INT4);
    const INT8: u32 = super::oid_of!(INT8);
    const NUMERIC: u32 = super::oid_of!(NUMERIC);
    match ty.oid() {
        INT8 => out.put_i64(v),
        INT4 => match i32::try_from(v) {
            Ok(v) => out.put_i32(v),
            Err(_) => return Err(integer_too_big(v, ty)),
        },
        INT2 => match i16::try_from(v) {
            Ok(v) => out.put_i16(v),
            Err(_) => return Err(integer_too_big(v, ty)),
        },
        NUMERIC => return Decimal::from(v).to_sql(ty, out),
        _ => {
            return Err(InvalidValue::boxed(
                "integer",
                format!("{ty} is not an integer type"),
            ))
        }
    }
    Ok(IsNull::No)
}

#[cold]
fn integer_too_big(v: i64, ty: &Type) -> BoxError {
    InvalidValue::boxed("integer", format!("{v} does not fit in {ty}"))
}

/// Reads an `int2`, `int4` or `int8` value, checking its length against its type.
fn decode_integer(ty: &Type, raw: &[u8]) -> Result<i64, BoxError> {
    if *ty == Type::INT2 {
        Ok(i16::from_be_bytes(fixed("int2", raw)?).into())
    } else if *ty == Type::INT4 {
        Ok(i32::from_be_bytes(fixed("int4", raw)?).into())
    } else if *ty == Type::INT8 {
        Ok(i64::from_be_bytes(fixed("int8", raw)?))
    } else {
        Err(InvalidValue::boxed(
            "integer",
            format!("{ty} is not an integer type"),
        ))
    }
}

macro_rules! integer {
    ($rust:ty, encode: [$($enc:ident),*], decode: [$($dec:ident),*]) => {
        impl ToSql for $rust {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                encode_integer(i64::from(*self), ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                super::type_in!(ty, $($enc),*)
            }

            crate::to_sql_checked!();
        }

        impl FromSql<'_> for $rust {
            fn from_sql(ty: &Type, raw: &[u8]) -> Result<$rust, BoxError> {
                let v = decode_integer(ty, raw)?;
                <$rust>::try_from(v).map_err(|_| {
                    InvalidValue::boxed(
                        "integer",
                        format!("{ty} value {v} does not fit in {}", stringify!($rust)),
                    )
                })
            }

            fn accepts(ty: &Type) -> bool {
                super::type_in!(ty, $($dec),*)
            }
        }
    };
}

integer!(i16, encode: [INT2, INT4, INT8, NUMERIC], decode: [INT2]);
integer!(i32, encode: [INT4, INT8, NUMERIC], decode: [INT2, INT4]);
integer!(i64, encode: [INT8, NUMERIC], decode: [INT2, INT4, INT8]);

/// The OIDs of the 4-byte unsigned types `u32` maps to: `oid`, the `reg*` OID aliases, `xid`
/// and `cid` (OIDs, so that checking one is a scan of integers).
pub(super) const OID_LIKE: &[u32] = &[
    super::oid_of!(OID),
    super::oid_of!(REGPROC),
    super::oid_of!(REGPROCEDURE),
    super::oid_of!(REGOPER),
    super::oid_of!(REGOPERATOR),
    super::oid_of!(REGCLASS),
    super::oid_of!(REGTYPE),
    super::oid_of!(REGCONFIG),
    super::oid_of!(REGDICTIONARY),
    super::oid_of!(REGNAMESPACE),
    super::oid_of!(REGROLE),
    super::oid_of!(REGCOLLATION),
    super::oid_of!(XID),
    super::oid_of!(CID),
];

/// `oid`, the `reg*` aliases of `oid` (`regclass`, `regtype`, ...), `xid` and `cid`: all four
/// unsigned bytes on the wire.
impl ToSql for u32 {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_u32(*self);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        OID_LIKE.contains(&ty.oid())
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for u32 {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<u32, BoxError> {
        let what = if *ty == Type::XID { "xid" } else { "oid" };
        Ok(u32::from_be_bytes(fixed(what, raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        OID_LIKE.contains(&ty.oid())
    }
}

/// `xid8`, the 64-bit transaction ID.
impl ToSql for u64 {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_u64(*self);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::XID8
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for u64 {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<u64, BoxError> {
        Ok(u64::from_be_bytes(fixed("xid8", raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::XID8
    }
}

/// `float4`, or `float8` (widened exactly).
impl ToSql for f32 {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if *ty == Type::FLOAT8 {
            out.put_f64(f64::from(*self));
        } else {
            out.put_f32(*self);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::FLOAT4 || *ty == Type::FLOAT8
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for f32 {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<f32, BoxError> {
        Ok(f32::from_be_bytes(fixed("float4", raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::FLOAT4
    }
}

impl ToSql for f64 {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_f64(*self);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::FLOAT8
    }

    crate::to_sql_checked!();
}

/// `float8`, or `float4` (widened exactly).
impl FromSql<'_> for f64 {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<f64, BoxError> {
        if *ty == Type::FLOAT4 {
            Ok(f32::from_be_bytes(fixed("float4", raw)?).into())
        } else {
            Ok(f64::from_be_bytes(fixed("float8", raw)?))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::FLOAT4 || *ty == Type::FLOAT8
    }
}
