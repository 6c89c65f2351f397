//! Ranges and multiranges: [`Range`] for `int4range`, `int8range`, `numrange`, `daterange`,
//! `tsrange` and `tstzrange`, [`Multirange`] for their multiranges.
//!
//! Binary format of a range (`range_send` / `range_recv`): one flags byte, then the lower bound
//! unless the range is empty or unbounded below, then the upper bound likewise, each bound as an
//! `i32` length and the subtype's binary value. A multirange (`multirange_send`) is an `i32`
//! number of ranges, then each range's binary form behind an `i32` length.
//!
//! The server canonicalises what it receives: a discrete range (integers, dates) becomes
//! `[lower, upper)` (`[1,10]` reads back as `[1,11)`), a range whose bounds meet without covering
//! a value becomes empty, and a multirange is sorted with its overlapping and adjacent ranges
//! merged. tusk sends values as they are and lets the server do that, so a value read back may
//! be another spelling of the one sent.

use std::fmt;
use std::ops::Bound;

use bytes::{BufMut, BytesMut};

use super::{FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

/// The range is empty; no bounds follow.
const EMPTY: u8 = 0x01;
/// The lower bound is inclusive.
const LB_INC: u8 = 0x02;
/// The upper bound is inclusive.
const UB_INC: u8 = 0x04;
/// There is no lower bound (minus infinity); no value follows for it.
const LB_INF: u8 = 0x08;
/// There is no upper bound.
const UB_INF: u8 = 0x10;
/// Set only on GiST index keys ("contains an empty range"); meaningless in a value and ignored,
/// as `range_recv` would refuse it but `range_send` passes the stored flags through.
const CONTAIN_EMPTY: u8 = 0x80;

impl Type {
    /// The subtype (element type) of a range type: `int4` for `int4range`, or the subtype the
    /// catalog gave for a user-defined range. `None` for any other type.
    ///
    /// ```
    /// use tusk::types::Type;
    ///
    /// assert_eq!(Type::DATERANGE.range_subtype(), Some(Type::DATE));
    /// assert_eq!(Type::INT4.range_subtype(), None);
    /// ```
    pub fn range_subtype(&self) -> Option<Type> {
        if let Some(subtype) = self.custom_range_subtype() {
            return Some(subtype.clone());
        }
        Some(match self.oid() {
            oid if oid == super::oid_of!(INT4RANGE) => Type::INT4,
            oid if oid == super::oid_of!(INT8RANGE) => Type::INT8,
            oid if oid == super::oid_of!(NUMRANGE) => Type::NUMERIC,
            oid if oid == super::oid_of!(DATERANGE) => Type::DATE,
            oid if oid == super::oid_of!(TSRANGE) => Type::TIMESTAMP,
            oid if oid == super::oid_of!(TSTZRANGE) => Type::TIMESTAMPTZ,
            _ => return None,
        })
    }

    /// The range type of a multirange type: `int4range` for `int4multirange`, or the range the
    /// catalog gave for a user-defined multirange. `None` for any other type.
    ///
    /// ```
    /// use tusk::types::Type;
    ///
    /// assert_eq!(Type::INT8MULTIRANGE.multirange_range(), Some(Type::INT8RANGE));
    /// assert_eq!(Type::INT8RANGE.multirange_range(), None);
    /// ```
    pub fn multirange_range(&self) -> Option<Type> {
        if let Some(range) = self.custom_multirange_range() {
            return Some(range.clone());
        }
        Some(match self.oid() {
            oid if oid == super::oid_of!(INT4MULTIRANGE) => Type::INT4RANGE,
            oid if oid == super::oid_of!(INT8MULTIRANGE) => Type::INT8RANGE,
            oid if oid == super::oid_of!(NUMMULTIRANGE) => Type::NUMRANGE,
            oid if oid == super::oid_of!(DATEMULTIRANGE) => Type::DATERANGE,
            oid if oid == super::oid_of!(TSMULTIRANGE) => Type::TSRANGE,
            oid if oid == super::oid_of!(TSTZMULTIRANGE) => Type::TSTZRANGE,
            _ => return None,
        })
    }
}

/// A PostgreSQL range: empty, or a lower and an upper [`Bound`] (std's, re-exported from
/// `tusk::types`), each inclusive, exclusive or unbounded (infinite).
///
/// Bounds are kept as given; the server canonicalises what it stores (see the module
/// documentation), so `[1,10]` sent as an `int4range` reads back as `[1,11)`.
///
/// ```
/// use std::ops::Bound;
/// use tusk::types::Range;
///
/// let r = Range::new(Bound::Included(1), Bound::Excluded(10));
/// assert_eq!(r, Range::from(1..10));
/// assert!(r.contains(&9) && !r.contains(&10));
/// assert_eq!(r.to_string(), "[1,10)");
/// assert_eq!(Range::from(5..).to_string(), "[5,)");
/// assert!(Range::<i32>::empty().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range<T> {
    /// `None` for the empty range.
    bounds: Option<(Bound<T>, Bound<T>)>,
}

impl<T> Range<T> {
    /// The range between these bounds.
    pub fn new(lower: Bound<T>, upper: Bound<T>) -> Range<T> {
        Range {
            bounds: Some((lower, upper)),
        }
    }

    /// The empty range (`'empty'`), which contains nothing.
    pub fn empty() -> Range<T> {
        Range { bounds: None }
    }

    /// Whether this is the empty range. A range whose bounds exclude every value but that was
    /// not built as empty (`[5,5)`) is not: the server makes it empty when it receives it.
    pub fn is_empty(&self) -> bool {
        self.bounds.is_none()
    }

    /// The lower bound; `None` for the empty range.
    pub fn lower(&self) -> Option<&Bound<T>> {
        self.bounds.as_ref().map(|(lower, _)| lower)
    }

    /// The upper bound; `None` for the empty range.
    pub fn upper(&self) -> Option<&Bound<T>> {
        self.bounds.as_ref().map(|(_, upper)| upper)
    }

    /// The lower and upper bounds; `None` for the empty range.
    pub fn into_bounds(self) -> Option<(Bound<T>, Bound<T>)> {
        self.bounds
    }

    /// The range with `f` applied to its bound values.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Range<U> {
        Range {
            bounds: self.bounds.map(|(l, u)| (l.map(&mut f), u.map(&mut f))),
        }
    }
}

impl<T: PartialOrd> Range<T> {
    /// Whether `value` lies within the bounds (never, for the empty range).
    pub fn contains(&self, value: &T) -> bool {
        let Some((lower, upper)) = &self.bounds else {
            return false;
        };
        let above = match lower {
            Bound::Included(l) => value >= l,
            Bound::Excluded(l) => value > l,
            Bound::Unbounded => true,
        };
        let below = match upper {
            Bound::Included(u) => value <= u,
            Bound::Excluded(u) => value < u,
            Bound::Unbounded => true,
        };
        above && below
    }
}

/// `a..b` is `[a,b)`.
impl<T> From<std::ops::Range<T>> for Range<T> {
    fn from(r: std::ops::Range<T>) -> Range<T> {
        Range::new(Bound::Included(r.start), Bound::Excluded(r.end))
    }
}

/// `a..=b` is `[a,b]`.
impl<T> From<std::ops::RangeInclusive<T>> for Range<T> {
    fn from(r: std::ops::RangeInclusive<T>) -> Range<T> {
        let (start, end) = r.into_inner();
        Range::new(Bound::Included(start), Bound::Included(end))
    }
}

/// `a..` is `[a,)`.
impl<T> From<std::ops::RangeFrom<T>> for Range<T> {
    fn from(r: std::ops::RangeFrom<T>) -> Range<T> {
        Range::new(Bound::Included(r.start), Bound::Unbounded)
    }
}

/// `..b` is `(,b)`.
impl<T> From<std::ops::RangeTo<T>> for Range<T> {
    fn from(r: std::ops::RangeTo<T>) -> Range<T> {
        Range::new(Bound::Unbounded, Bound::Excluded(r.end))
    }
}

/// `..=b` is `(,b]`.
impl<T> From<std::ops::RangeToInclusive<T>> for Range<T> {
    fn from(r: std::ops::RangeToInclusive<T>) -> Range<T> {
        Range::new(Bound::Unbounded, Bound::Included(r.end))
    }
}

/// The server's text form for values whose `Display` is theirs: `[1,10)`, `(,5]`, `empty`.
/// Bound values are not quoted.
impl<T: fmt::Display> fmt::Display for Range<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((lower, upper)) = &self.bounds else {
            return f.write_str("empty");
        };
        match lower {
            Bound::Included(v) => write!(f, "[{v},")?,
            Bound::Excluded(v) => write!(f, "({v},")?,
            Bound::Unbounded => f.write_str("(,")?,
        }
        match upper {
            Bound::Included(v) => write!(f, "{v}]"),
            Bound::Excluded(v) => write!(f, "{v})"),
            Bound::Unbounded => f.write_str(")"),
        }
    }
}

/// Writes one bound's value behind its `i32` length. A bound value cannot be NULL in a range
/// (an `Option` bound holding `None`): that is what [`Bound::Unbounded`] is for.
fn write_bound<T: ToSql>(
    value: &T,
    subtype: &Type,
    range: &Type,
    out: &mut BytesMut,
) -> Result<(), BoxError> {
    let start = out.len();
    out.put_i32(0);
    if value.to_sql(subtype, out)? == IsNull::Yes {
        return Err(InvalidValue::boxed(
            "range",
            format!("a {range} bound cannot be NULL; use Bound::Unbounded for an infinite bound"),
        ));
    }
    let len = out.len() - start - 4;
    let len = i32::try_from(len).map_err(|_| {
        InvalidValue::boxed(
            "range",
            format!("a bound of {len} bytes exceeds the protocol's 2 GiB limit"),
        )
    })?;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes()); // `start + 4 <= out.len()`.
    Ok(())
}

fn subtype_of(ty: &Type) -> Result<Type, BoxError> {
    ty.range_subtype()
        .ok_or_else(|| InvalidValue::boxed("range", format!("{ty} is not a range type")))
}

fn encode_range<T: ToSql>(
    range: &Range<T>,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let subtype = subtype_of(ty)?;
    let Some((lower, upper)) = &range.bounds else {
        out.put_u8(EMPTY);
        return Ok(IsNull::No);
    };
    let flags = match lower {
        Bound::Included(_) => LB_INC,
        Bound::Excluded(_) => 0,
        Bound::Unbounded => LB_INF,
    } | match upper {
        Bound::Included(_) => UB_INC,
        Bound::Excluded(_) => 0,
        Bound::Unbounded => UB_INF,
    };
    out.put_u8(flags);
    for bound in [lower, upper] {
        if let Bound::Included(v) | Bound::Excluded(v) = bound {
            write_bound(v, &subtype, ty, out)?;
        }
    }
    Ok(IsNull::No)
}

/// Reads one bound's value: an `i32` length (never -1: a range bound is not NULL) and the
/// subtype's binary value.
fn read_bound<'a, T: FromSql<'a>>(
    r: &mut Reader<'a>,
    subtype: &Type,
    which: &str,
) -> Result<T, BoxError> {
    let len = r.i32(which)?;
    let len = usize::try_from(len).map_err(|_| {
        InvalidValue::boxed("range", format!("the {which} has invalid length {len}"))
    })?;
    T::from_sql(subtype, r.take(len, which)?)
}

fn decode_range<'a, T: FromSql<'a>>(ty: &Type, raw: &'a [u8]) -> Result<Range<T>, BoxError> {
    let subtype = subtype_of(ty)?;
    let mut r = Reader::new("range", raw);
    let flags = r.take(1, "flags")?[0]; // `take` returned one byte.
    let known = EMPTY | LB_INC | UB_INC | LB_INF | UB_INF | CONTAIN_EMPTY;
    if flags & !known != 0 {
        return Err(InvalidValue::boxed(
            "range",
            format!("invalid flags {flags:#04x} in a {ty} value"),
        ));
    }
    if flags & EMPTY != 0 {
        r.finish()?;
        return Ok(Range::empty());
    }
    let bound = |r: &mut Reader<'a>, inf: u8, inc: u8, which: &str| -> Result<_, BoxError> {
        if flags & inf != 0 {
            return Ok(Bound::Unbounded);
        }
        let v = read_bound(r, &subtype, which)?;
        Ok(if flags & inc != 0 {
            Bound::Included(v)
        } else {
            Bound::Excluded(v)
        })
    };
    let lower = bound(&mut r, LB_INF, LB_INC, "lower bound")?;
    let upper = bound(&mut r, UB_INF, UB_INC, "upper bound")?;
    r.finish()?;
    Ok(Range::new(lower, upper))
}

fn accepts_range(ty: &Type, subtype_accepts: impl Fn(&Type) -> bool) -> bool {
    ty.range_subtype().is_some_and(|s| subtype_accepts(&s))
}

impl<T: ToSql> ToSql for Range<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_range(self, ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_range(ty, T::accepts)
    }

    crate::to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Range<T>, BoxError> {
        decode_range(ty, raw)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_range(ty, T::accepts)
    }
}

/// A PostgreSQL multirange (`int4multirange`, `datemultirange`, ...): a list of [`Range`]s.
///
/// The server sorts the ranges it receives, drops empty ones and merges those that overlap or
/// touch, so `{[5,7), [1,3), [2,4)}` reads back as `{[1,4), [5,7)}`.
///
/// ```
/// use tusk::types::{Multirange, Range};
///
/// let m = Multirange::from(vec![Range::from(1..3), Range::from(5..7)]);
/// assert_eq!(m.ranges().len(), 2);
/// assert!(Multirange::<i32>::default().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Multirange<T>(pub Vec<Range<T>>);

impl<T> Multirange<T> {
    /// The ranges.
    pub fn ranges(&self) -> &[Range<T>] {
        &self.0
    }

    /// The ranges, owned.
    pub fn into_ranges(self) -> Vec<Range<T>> {
        self.0
    }

    /// Whether there are no ranges (`'{}'`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> Default for Multirange<T> {
    fn default() -> Multirange<T> {
        Multirange(Vec::new())
    }
}

impl<T> From<Vec<Range<T>>> for Multirange<T> {
    fn from(ranges: Vec<Range<T>>) -> Multirange<T> {
        Multirange(ranges)
    }
}

impl<T> FromIterator<Range<T>> for Multirange<T> {
    fn from_iter<I: IntoIterator<Item = Range<T>>>(iter: I) -> Multirange<T> {
        Multirange(iter.into_iter().collect())
    }
}

fn range_type_of(ty: &Type) -> Result<Type, BoxError> {
    ty.multirange_range()
        .ok_or_else(|| InvalidValue::boxed("multirange", format!("{ty} is not a multirange type")))
}

fn accepts_multirange(ty: &Type, subtype_accepts: impl Fn(&Type) -> bool) -> bool {
    ty.multirange_range()
        .is_some_and(|range| accepts_range(&range, subtype_accepts))
}

impl<T: ToSql> ToSql for Multirange<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let range_type = range_type_of(ty)?;
        let count = i32::try_from(self.0.len()).map_err(|_| {
            InvalidValue::boxed(
                "multirange",
                format!("{} ranges exceed the 32-bit count", self.0.len()),
            )
        })?;
        out.put_i32(count);
        for range in &self.0 {
            let start = out.len();
            out.put_i32(0);
            encode_range(range, &range_type, out)?;
            let len = out.len() - start - 4;
            let len = i32::try_from(len).map_err(|_| {
                InvalidValue::boxed(
                    "multirange",
                    format!("a range of {len} bytes exceeds the protocol's 2 GiB limit"),
                )
            })?;
            out[start..start + 4].copy_from_slice(&len.to_be_bytes()); // Written above.
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_multirange(ty, T::accepts)
    }

    crate::to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Multirange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Multirange<T>, BoxError> {
        let range_type = range_type_of(ty)?;
        let mut r = Reader::new("multirange", raw);
        let count = r.i32("range count")?;
        // Each range takes at least its 4-byte length and a flags byte: bound the count by
        // the bytes present before allocating for it.
        let count = usize::try_from(count)
            .ok()
            .filter(|&n| n <= r.remaining() / 5)
            .ok_or_else(|| {
                InvalidValue::boxed(
                    "multirange",
                    format!(
                        "invalid range count {count} for {} remaining bytes",
                        r.remaining()
                    ),
                )
            })?;
        let mut ranges = Vec::with_capacity(count);
        for i in 0..count {
            let len = r.i32("range length")?;
            let len = usize::try_from(len).map_err(|_| {
                InvalidValue::boxed(
                    "multirange",
                    format!("range {} has invalid length {len}", i + 1),
                )
            })?;
            ranges.push(decode_range(&range_type, r.take(len, "range")?)?);
        }
        r.finish()?;
        Ok(Multirange(ranges))
    }

    fn accepts(ty: &Type) -> bool {
        accepts_multirange(ty, T::accepts)
    }
}
