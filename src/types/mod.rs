//! Conversions between Rust values and PostgreSQL values: the type table, the [`ToSql`] and
//! [`FromSql`] traits, and their implementations for the standard types.
//!
//! This module is sans-IO: it turns values into bytes and bytes into values, nothing more.
//!
//! # Formats
//!
//! PostgreSQL sends and accepts every value either as text or in a per-type binary format. tusk
//! uses the binary format for every type it has a codec for ([`Type::binary_supported`]) and text
//! for the rest (extension types without a codec, OIDs not looked up, and the built-in types
//! listed below as text-only). Types outside the built-in table (enums, composites, domains,
//! arrays and ranges of them, extension types) are read from the catalog by the connection
//! ([`Type::kind`], [`Type::enum_labels`], [`Type::fields`], [`Type::domain_base`]). The binary formats here follow the server's own `*_send` / `*_recv` functions
//! byte for byte; the tests in `src/types/tests/` hold bytes captured from a server.
//!
//! # Type matrix
//!
//! | SQL type | Rust types |
//! |---|---|
//! | `bool` | `bool` |
//! | `"char"` | `i8` |
//! | `int2`, `int4`, `int8` | `i16`, `i32`, `i64` (see *Widening*) |
//! | `oid`, `regclass`, `regtype`, `regproc`, ... , `xid`, `cid` | `u32` |
//! | `xid8` | `u64` |
//! | `float4`, `float8` | `f32`, `f64` |
//! | `numeric` | [`Decimal`], `rust_decimal::Decimal`¹, `bigdecimal::BigDecimal`¹ |
//! | `text`, `varchar`, `bpchar`, `name`, `unknown`, `citext`, `json`, `jsonb` | `&str`, `String`, `Box<str>`, `Cow<str>` |
//! | `bytea` | `&[u8]`, `Vec<u8>`, `Box<[u8]>` |
//! | `date` | `chrono::NaiveDate`, `time::Date`¹, `jiff::civil::Date`¹, [`Timestamp`]`<..>` |
//! | `time` | `chrono::NaiveTime`, `time::Time`¹, `jiff::civil::Time`¹ |
//! | `timetz` | [`TimeTz`] |
//! | `timestamp` | `chrono::NaiveDateTime`, `time::PrimitiveDateTime`¹, `jiff::civil::DateTime`¹, [`Timestamp`]`<..>` |
//! | `timestamptz` | `chrono::DateTime<Utc>`, `DateTime<FixedOffset>`, `DateTime<Local>`, `time::OffsetDateTime`¹, `time::UtcDateTime`¹, `jiff::Timestamp`¹, `jiff::ZonedDateTime`¹, [`Timestamp`]`<..>` |
//! | `interval` | [`Interval`], `jiff::Span`¹, `time::Duration`¹ and `jiff::SignedDuration`¹ (no months or days) |
//! | `json`, `jsonb` | `serde_json::Value`, [`Json`]`<T>` |
//! | `uuid` | [`Uuid`], `uuid::Uuid` (feature `uuid`) |
//! | `int4range`, `int8range`, `numrange`, `daterange`, `tsrange`, `tstzrange` | [`Range`]`<T>` of the subtype's Rust types |
//! | `int4multirange`, ... , `tstzmultirange` | [`Multirange`]`<T>` |
//! | `inet` | [`IpInet`], `std::net::IpAddr` (full prefix only), `ipnet::IpNet`/`Ipv4Net`/`Ipv6Net` (feature `ipnet`) |
//! | `cidr` | [`IpCidr`], `IpAddr` (full prefix only), `ipnet` types (feature `ipnet`); [`IpInet`] decodes it |
//! | `macaddr`, `macaddr8` | [`MacAddr`], [`MacAddr8`] |
//! | `bit`, `varbit` | [`BitString`], `bit_vec::BitVec` (feature `bit-vec`) |
//! | `money` | [`Money`] |
//! | `point`, `line`, `lseg`, `box`, `path`, `polygon`, `circle` | [`Point`], [`Line`], [`LineSegment`], [`Rect`], [`Path`], [`Polygon`], [`Circle`]; `geo_types::Point`, `Rect`, `LineString` (feature `geo-types`) for `point`, `box`, `path` |
//! | `hstore` (extension, by name) | `HashMap<String, Option<String>>`, `BTreeMap<String, Option<String>>` |
//! | `int2vector`, `oidvector` | `Vec<i16>`, `Vec<u32>` (arrays indexed from 0) |
//! | arrays of the above | `Vec<T>`, `&[T]` (encode), `[T; N]` (encode), [`Array`]`<T>` |
//! | enums (read from the catalog, binary: the label) | `&str`, `String`, `Box<str>`, `Cow<str>`, a `#[derive(ToSql, FromSql)]` enum |
//! | composites (read from the catalog, binary) | a `#[derive(ToSql, FromSql)]` struct |
//! | domains | what their base type converts to; a `#[derive(ToSql, FromSql)]` newtype |
//! | ranges and multiranges over any subtype (user-defined too) | [`Range`]`<T>`, [`Multirange`]`<T>` |
//! | `xml`, `tsvector`, `tsquery`, `pg_lsn`, any type without a binary codec (text format) | `&str`, `String`, `Box<str>`, `Cow<str>` |
//! | arrays of text-format types (`tsvector[]`, `xml[]`, ...) | `Vec<String>`, `Vec<Option<String>>`, [`Array`]`<String>` (parsed from the text form), or the whole text as a string |
//!
//! `Option<T>` is NULL when `None`; `&T` and `Box<T>` encode like `T`.
//!
//! ¹ With the cargo feature of the same name as the crate, off by default:
//!
//! | Feature | Crate | Types |
//! |---|---|---|
//! | `uuid` | `uuid` 1 | `uuid::Uuid` |
//! | `rust_decimal` | `rust_decimal` 1 | `Decimal` ↔ `numeric`, exactly: NaN, ±Infinity, and values beyond its 96-bit mantissa or 28 decimal places are errors (a scale above 28 is read when the further digits are zeros) |
//! | `bigdecimal` | `bigdecimal` 0.4 | `BigDecimal` ↔ `numeric`, exactly and with the display scale as its scale; NaN and ±Infinity are errors, as is a value beyond `numeric`'s range when sent |
//! | `time` | `time` 0.3 | `Date`, `Time`, `PrimitiveDateTime`, `OffsetDateTime` (read in UTC), `UtcDateTime`, `Duration` |
//! | `jiff` | `jiff` 1 | `civil::Date`, `civil::Time`, `civil::DateTime`, `Timestamp`, `ZonedDateTime` (read in UTC), `Span`, `SignedDuration` |
//!
//! The date and time types of `time` and `jiff` follow chrono's rules: `±infinity` is an error
//! unless read through [`Timestamp`]`<T>`, as are values outside the Rust type's range (years
//! -9999 to 9999 for both) and `24:00:00`; sub-microsecond precision is truncated when sending.
//! `jiff::Span` holds an `interval` losslessly (months, days and time kept apart) unless its
//! fields have mixed signs; `time::Duration` and `jiff::SignedDuration` are read only from an
//! interval without months or days, whose length is not fixed. Both decimal types also read
//! `int2`, `int4` and `int8` (see *Widening*).
//!
//! # Widening
//!
//! A value may be converted to a wider SQL type when no information can be lost, and never to a
//! narrower one: an `i16` or `i32` parameter is accepted for an `int8` column, an `f32` for
//! `float8`, any integer for `numeric`; an `i64` for an `int4` parameter is a [`WrongType`]
//! error rather than a silent truncation. Decoding widens likewise: an `i64` can be read from
//! `int2`, `int4` or `int8`, an `f64` from `float4` or `float8`.
//!
//! # Text-format types and strings
//!
//! Columns and parameters of a type without a binary codec travel as text. So the string types
//! (`&str`, `String`, `Box<str>`, `Cow<str>`) accept every type for which
//! [`Type::binary_supported`] is false: decoding yields the server's text output (e.g. the label
//! of an enum, `'a' 'cat'` for a `tsvector`), encoding sends the text for the server to parse.
//! `citext` has no fixed OID; it is text-format as an unknown type, and additionally accepted
//! by name when a [`Type::other`] carries the name `citext`. `xml` and `tsvector` stay text on
//! purpose: their binary forms are the same text (`xml`) or an internal layout with nothing to
//! gain over the text (`tsvector`).
//!
//! An array of a text-format element type is text-format too. `Vec<T>` and [`Array`]`<T>` parse
//! its text (`{a,"b c",NULL}`: quotes, backslash escapes, NULL, bounds like `[0:1]=`, several
//! dimensions into [`Array`]) and write it, each element converted by `T` as text; an element
//! that had escapes cannot be borrowed, so read `String` rather than `&str`
//! ([`FromSql::from_sql_unescaped`]).
//!
//! # Ranges and extension types
//!
//! [`Range`]`<T>` and [`Multirange`]`<T>` find the subtype through [`Type::range_subtype`] and
//! [`Type::multirange_range`]. `hstore` has no fixed OID: it is binary, and accepted by the map
//! types, when its [`Type`] carries the name `hstore` ([`Type::other`]); an unnamed OID is text.
//!
//! # Errors
//!
//! A Rust type that does not fit the SQL type is a [`WrongType`]; a NULL read into a non-`Option`
//! is [`WasNull`]; bytes that do not form a valid value, or a value outside the range of its
//! destination, is an [`InvalidValue`] naming what was wrong.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::BytesMut;

use crate::BoxError;

pub mod __derive;
mod array;
mod bits;
pub(crate) mod custom;
mod datetime;
mod errors;
mod ext;
mod geometry;
mod hstore;
mod interval;
mod json;
mod net;
mod numeric;
// Generated by scripts/gen-types.py; kept exactly as generated.
#[rustfmt::skip]
mod oids;
mod primitive;
mod range;
mod reader;
mod text;
mod text_array;
mod uuid;
mod wrappers;

#[cfg(test)]
mod tests;

pub use self::array::{Array, Dimension};
pub use self::bits::{BitString, Money, ParseBitStringError};
pub(crate) use self::custom::codec_type;
pub use self::custom::{Field, TypeKind};
pub use self::datetime::{TimeTz, Timestamp};
pub use self::errors::{InvalidValue, WasNull, WrongType};
pub use self::geometry::{Circle, Line, LineSegment, Path, Point, Polygon, Rect};
pub use self::interval::Interval;
pub use self::json::Json;
pub use self::net::{IpCidr, IpInet, MacAddr, MacAddr8, ParseMacAddrError, ParseNetError};
pub use self::numeric::{Decimal, DecimalError};
pub use self::range::{Multirange, Range};
pub(crate) use self::reader::{fixed, write_length_prefixed, Reader};
pub use self::uuid::{ParseUuidError, Uuid};
pub use crate::proto::IsNull;
/// A [`Range`]'s bound: `Included`, `Excluded` or `Unbounded` (std's, re-exported).
pub use std::ops::Bound;
/// The derive macros, beside the traits of the same names (as serde does): `use
/// tusk::types::{FromSql, ToSql};` brings both. See `docs/derive.md`.
#[cfg(feature = "derive")]
pub use tusk_derive::{FromSql, ToSql};

/// Whether `ty` is one of the listed built-in types (named as [`Type`]'s constants), compared by
/// OID. It runs for every value read or written, so it builds no `Type` values (a temporary
/// array of them would also have to be dropped).
macro_rules! type_in {
    ($ty:expr, $($name:ident),+ $(,)?) => {{
        let oid = $ty.oid();
        false $(|| oid == $crate::types::oid_of!($name))+
    }};
}
pub(crate) use type_in;

/// The OID of one of [`Type`]'s constants, as a compile-time constant.
macro_rules! oid_of {
    ($name:ident) => {
        const {
            let ty = $crate::types::Type::$name;
            let oid = ty.oid();
            // `Type` has drop glue (a named type holds an `Arc`), which a constant cannot run;
            // a built-in type owns nothing, so forgetting it leaks nothing.
            ::std::mem::forget(ty);
            oid
        }
    };
}
pub(crate) use oid_of;

/// Re-exports the `to_sql_checked!` macro expansion needs, so user crates need no `bytes` line.
#[doc(hidden)]
pub mod __private {
    pub use bytes::BytesMut;
}

/// One row of the generated type table (see `scripts/gen-types.py`).
#[derive(Debug)]
pub(crate) struct TypeInfo {
    oid: u32,
    name: &'static str,
    /// `pg_type.typtype`: `b` base, `c` composite, `d` domain, `e` enum, `p` pseudo, `r` range,
    /// `m` multirange.
    kind: u8,
    /// `pg_type.typcategory`: `A` array, `N` numeric, `S` string, ...
    #[allow(dead_code)]
    category: u8,
    /// `pg_type.typelem`: the element type of an array (0 when none).
    element: u32,
    /// `pg_type.typarray`: the array type of this type (0 when none in the table).
    array: u32,
    /// Whether this is an array in the array binary format (it subscripts through
    /// `array_subscript_handler`), with elements of type `element`.
    is_array: bool,
}

/// A PostgreSQL type, identified by its OID.
///
/// The built-in types (those with a fixed OID) are constants named after `pg_type.typname`,
/// uppercased, with arrays as `<ELEMENT>_ARRAY`: [`Type::INT4`], [`Type::TEXT_ARRAY`]. Any other
/// OID (an extension type, an enum, a domain) is an "other" type, optionally carrying its name.
///
/// Two types are equal when their OIDs are.
///
/// ```
/// use tusk::types::Type;
///
/// let t = Type::from_oid(23);
/// assert_eq!(t, Type::INT4);
/// assert_eq!(t.name(), "int4");
/// assert_eq!(Type::INT4_ARRAY.array_element(), Some(Type::INT4));
/// assert!(!Type::from_oid(16_500).is_known());
/// ```
#[derive(Clone)]
pub struct Type {
    /// The OID, outside the variants: `oid()` runs in every type check of every value read or
    /// written, and is one load this way whatever the variant.
    oid: u32,
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// A built-in type: its row of the generated table.
    Known(&'static TypeInfo),
    /// An OID outside the table whose name we were not told.
    Unknown,
    /// An OID outside the table with its name (e.g. learned from `pg_type`).
    Named(Arc<str>),
    /// An OID outside the table, described by the catalog (`custom.rs`).
    Custom(Arc<custom::CustomType>),
}

impl Type {
    const fn known(info: &'static TypeInfo) -> Type {
        Type {
            oid: info.oid,
            inner: Inner::Known(info),
        }
    }

    /// The type with this OID: a built-in type, or an "other" type without a name.
    pub fn from_oid(oid: u32) -> Type {
        let found = oids::BY_OID
            .binary_search_by_key(&oid, |info| info.oid)
            .ok()
            .and_then(|i| oids::BY_OID.get(i));
        match found {
            Some(info) => Type::known(info),
            None => Type {
                oid,
                inner: Inner::Unknown,
            },
        }
    }

    /// The type with this OID, named `name` unless the OID is a built-in type (whose own name
    /// wins). Use it for extension and user types whose names were looked up, e.g. `citext`.
    ///
    /// ```
    /// use tusk::types::Type;
    ///
    /// let citext = Type::other(16_401, "citext");
    /// assert_eq!(citext.name(), "citext");
    /// assert_eq!(Type::other(25, "whatever"), Type::TEXT);
    /// ```
    pub fn other(oid: u32, name: &str) -> Type {
        let ty = Type::from_oid(oid);
        match ty.inner {
            Inner::Unknown => Type {
                oid,
                inner: Inner::Named(Arc::from(name)),
            },
            _ => ty,
        }
    }

    /// The type's OID.
    pub const fn oid(&self) -> u32 {
        self.oid
    }

    /// The type's name as in `pg_type.typname` (`int4`, `_text` for `text[]`); the empty string
    /// for an "other" type created without a name.
    pub fn name(&self) -> &str {
        match &self.inner {
            Inner::Known(info) => info.name,
            Inner::Unknown => "",
            Inner::Named(name) => name,
            Inner::Custom(custom) => &custom.name,
        }
    }

    /// Whether this is a built-in type from the generated table.
    pub fn is_known(&self) -> bool {
        matches!(self.inner, Inner::Known(_))
    }

    /// The element type when this is an array type: a built-in one (every `typcategory = 'A'`
    /// type, `int2vector` and `oidvector` included, and `record[]`) or one read from the
    /// catalog (an array of an enum, a composite, a domain, ...); `None` otherwise. Types like
    /// `name` and `point` have an element type in `pg_type` but are not arrays.
    pub fn array_element(&self) -> Option<Type> {
        match &self.inner {
            Inner::Known(info) if info.is_array && info.element != 0 => {
                Some(Type::from_oid(info.element))
            }
            Inner::Custom(_) => self.custom_array_element().cloned(),
            _ => None,
        }
    }

    /// The array type whose elements are of this type, when it is a built-in one.
    pub fn array_type(&self) -> Option<Type> {
        match &self.inner {
            Inner::Known(info) if info.array != 0 => Some(Type::from_oid(info.array)),
            _ => None,
        }
    }

    /// Whether tusk has a binary codec for this type, so values of it are requested and sent in
    /// binary format; otherwise they travel as text (see the module documentation).
    ///
    /// An array type is binary when its element type is.
    pub fn binary_supported(&self) -> bool {
        if let Inner::Custom(custom) = &self.inner {
            return custom.binary;
        }
        if let Some(element) = self.array_element() {
            return element.binary_supported();
        }
        let oid = self.oid();
        if BINARY_TYPES.contains(&oid) || primitive::OID_LIKE.contains(&oid) {
            return true;
        }
        // Ranges and multiranges through their subtype, so that a range over a type without a
        // binary codec stays text; the extension types tusk has a codec for, by name.
        if let Some(subtype) = self.range_subtype() {
            return subtype.binary_supported();
        }
        if let Some(range) = self.multirange_range() {
            return range.binary_supported();
        }
        hstore::is_hstore(self)
    }
}

/// The OIDs of the non-array types with a binary codec in this module, besides the OID-like
/// ones (`primitive::OID_LIKE`). OIDs rather than `Type`s: every parameter's format is decided
/// by a scan of this list.
const BINARY_TYPES: &[u32] = &[
    oid_of!(BOOL),
    oid_of!(CHAR),
    oid_of!(INT2),
    oid_of!(INT4),
    oid_of!(INT8),
    oid_of!(XID8),
    oid_of!(FLOAT4),
    oid_of!(FLOAT8),
    oid_of!(NUMERIC),
    oid_of!(TEXT),
    oid_of!(VARCHAR),
    oid_of!(BPCHAR),
    oid_of!(NAME),
    oid_of!(UNKNOWN),
    oid_of!(BYTEA),
    oid_of!(DATE),
    oid_of!(TIME),
    oid_of!(TIMETZ),
    oid_of!(TIMESTAMP),
    oid_of!(TIMESTAMPTZ),
    oid_of!(INTERVAL),
    oid_of!(JSON),
    oid_of!(JSONB),
    oid_of!(UUID),
    oid_of!(INET),
    oid_of!(CIDR),
    oid_of!(MACADDR),
    oid_of!(MACADDR8),
    oid_of!(BIT),
    oid_of!(VARBIT),
    oid_of!(MONEY),
    oid_of!(POINT),
    oid_of!(LINE),
    oid_of!(LSEG),
    oid_of!(BOX),
    oid_of!(PATH),
    oid_of!(POLYGON),
    oid_of!(CIRCLE),
];

impl PartialEq for Type {
    fn eq(&self, other: &Type) -> bool {
        self.oid() == other.oid()
    }
}

impl Eq for Type {}

impl Hash for Type {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.oid().hash(state);
    }
}

impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Type({}, oid {})", self, self.oid())
    }
}

/// The type's name; `oid <n>` for an "other" type without one.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "" => write!(f, "oid {}", self.oid()),
            name => f.write_str(name),
        }
    }
}

/// The format of a value on the wire, as in Bind and RowDescription format codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The type's text form (its output function).
    Text = 0,
    /// The type's binary form (its send function).
    Binary = 1,
}

impl Format {
    /// The protocol's format code: 0 for text, 1 for binary.
    pub fn code(self) -> i16 {
        self as i16
    }
}

/// A Rust value that can be sent to PostgreSQL as a parameter.
///
/// Implement [`ToSql::to_sql`] and [`ToSql::accepts`], and let the
/// [`to_sql_checked!`](crate::to_sql_checked) macro write [`ToSql::to_sql_checked`]:
///
/// ```
/// use tusk::types::{IsNull, ToSql, Type};
/// use tusk::BoxError;
///
/// #[derive(Debug)]
/// struct Celsius(f64);
///
/// impl ToSql for Celsius {
///     fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
///         self.0.to_sql(ty, out)
///     }
///     fn accepts(ty: &Type) -> bool {
///         *ty == Type::FLOAT8
///     }
///     tusk::to_sql_checked!();
/// }
/// ```
pub trait ToSql: fmt::Debug {
    /// Writes the value in `ty`'s format (see [`ToSql::encode_format`]) to `out`, or returns
    /// [`IsNull::Yes`] and writes nothing for NULL. The caller has checked [`ToSql::accepts`].
    ///
    /// On error `out` may hold part of the value; the caller truncates it.
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError>
    where
        Self: Sized;

    /// Whether values of this Rust type can be sent as `ty`.
    fn accepts(ty: &Type) -> bool
    where
        Self: Sized;

    /// The object-safe entry point the driver calls: checks [`ToSql::accepts`], then encodes.
    /// A mismatch is a [`WrongType`] error. Write it with
    /// [`to_sql_checked!`](crate::to_sql_checked).
    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError>;

    /// The format this value is sent in for `ty`: binary unless the type has no binary codec
    /// (an enum, an unknown type), in which case the value is its text form.
    fn encode_format(&self, ty: &Type) -> Format {
        if ty.binary_supported() {
            Format::Binary
        } else {
            Format::Text
        }
    }

    /// The Rust type's name, for error messages.
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

/// Writes [`ToSql::to_sql_checked`] inside an `impl ToSql` block: checks
/// [`ToSql::accepts`], returning a [`WrongType`](crate::types::WrongType) error on a
/// mismatch, then calls [`ToSql::to_sql`].
#[macro_export]
macro_rules! to_sql_checked {
    () => {
        fn to_sql_checked(
            &self,
            ty: &$crate::types::Type,
            out: &mut $crate::types::__private::BytesMut,
        ) -> ::std::result::Result<$crate::types::IsNull, $crate::BoxError> {
            $crate::types::__to_sql_checked(self, ty, out)
        }
    };
}

/// The body of [`to_sql_checked!`].
#[doc(hidden)]
#[inline]
pub fn __to_sql_checked<T: ToSql>(
    value: &T,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    if T::accepts(ty) {
        return value.to_sql(ty, out);
    }
    // A domain is bound as its base type.
    match custom::codec_type(ty, T::accepts) {
        Some(base) => value.to_sql(base, out),
        None => Err(wrong_type(value.type_name(), ty)),
    }
}

/// The [`WrongType`] error of `__to_sql_checked`, out of line: every parameter passes that
/// check, and building the error inline would weigh on each of them.
#[cold]
fn wrong_type(rust_type: &'static str, ty: &Type) -> BoxError {
    Box::new(WrongType::new(rust_type, ty.clone()))
}

/// A Rust value that can be read from a PostgreSQL value, possibly borrowing from its bytes.
pub trait FromSql<'a>: Sized {
    /// Decodes a non-NULL value of type `ty` from its bytes (binary format when
    /// [`Type::binary_supported`], text otherwise). The caller has checked [`FromSql::accepts`].
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError>;

    /// Decodes a non-NULL value of type `ty` from bytes that do not live for `'a`: an element of
    /// a text-format array that unescaping changed (`{"a \"quoted\" word"}`). Types that own
    /// their value implement it as [`FromSql::from_sql`]; the default, for types that borrow
    /// (`&str`), is an error saying to read an owning type instead.
    fn from_sql_unescaped(ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let _ = raw;
        Err(InvalidValue::boxed(
            "array",
            format!(
                "an element of type {ty} had escapes, so {} cannot borrow it; read it as String",
                std::any::type_name::<Self>()
            ),
        ))
    }

    /// Decodes a NULL of type `ty`: a [`WasNull`] error unless the type can hold NULL
    /// (`Option<T>`).
    fn from_sql_null(ty: &Type) -> Result<Self, BoxError> {
        let _ = ty;
        Err(Box::new(WasNull))
    }

    /// Decodes a value that may be NULL (`None`): dispatches to [`FromSql::from_sql`] or
    /// [`FromSql::from_sql_null`].
    fn from_sql_nullable(ty: &Type, raw: Option<&'a [u8]>) -> Result<Self, BoxError> {
        match raw {
            Some(raw) => Self::from_sql(ty, raw),
            None => Self::from_sql_null(ty),
        }
    }

    /// Whether values of `ty` can be read into this Rust type.
    fn accepts(ty: &Type) -> bool;
}

/// A [`FromSql`] type that borrows nothing from the bytes it is decoded from.
pub trait FromSqlOwned: for<'a> FromSql<'a> {}

impl<T> FromSqlOwned for T where T: for<'a> FromSql<'a> {}

/// Checks [`FromSql::accepts`], then decodes a value that may be NULL: the checked decoding a
/// row accessor performs.
///
/// ```
/// use tusk::types::{decode, Type};
///
/// let n: i64 = decode(&Type::INT4, Some(&[0, 0, 1, 0])).unwrap();
/// assert_eq!(n, 256);
/// assert!(decode::<i32>(&Type::TEXT, Some(b"x")).is_err());
/// ```
pub fn decode<'a, T: FromSql<'a>>(ty: &Type, raw: Option<&'a [u8]>) -> Result<T, BoxError> {
    // A domain is read as its base type.
    match custom::codec_type(ty, T::accepts) {
        Some(ty) => T::from_sql_nullable(ty, raw),
        None => Err(Box::new(WrongType::new(
            std::any::type_name::<T>(),
            ty.clone(),
        ))),
    }
}
