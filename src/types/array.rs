//! Arrays: `Vec<T>`, `&[T]` and `[T; N]` for one-dimensional arrays, [`Array`] for any number
//! of dimensions and lower bounds.
//!
//! Binary format (`array_send` / `array_recv`): `i32` number of dimensions (0 to 6; 0 is the
//! empty array), `i32` flags (1 when some element is NULL), the element type's OID, then per
//! dimension its `i32` length and `i32` lower bound, then each element in row-major order as an
//! `i32` length (-1 for NULL) and that many bytes of the element's binary format.
//!
//! Arrays are binary only when their element type is ([`Type::binary_supported`]); an array of a
//! text-only element type (e.g. `inet[]`) is read as its text form into a string.

use bytes::{BufMut, BytesMut};

use super::{write_length_prefixed, FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

/// The most dimensions an array may have (the server's `MAXDIM`).
const MAX_DIMENSIONS: usize = 6;

/// One dimension of an [`Array`]: its length and the index of its first element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimension {
    /// The number of elements along this dimension.
    pub len: i32,
    /// The index of the first element (1 unless the array was built otherwise).
    pub lower_bound: i32,
}

/// An array of any number of dimensions (up to 6) with its lower bounds, elements stored in
/// row-major order. An empty array has no dimensions.
///
/// ```
/// use tusk::types::{Array, Dimension};
///
/// // '{{1,2,3},{4,5,6}}'
/// let dims = vec![Dimension { len: 2, lower_bound: 1 }, Dimension { len: 3, lower_bound: 1 }];
/// let a = Array::new(dims, vec![1, 2, 3, 4, 5, 6]).unwrap();
/// assert_eq!(a.get(&[2, 1]), Some(&4));
/// assert!(Array::new(vec![Dimension { len: 4, lower_bound: 1 }], vec![1]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Array<T> {
    dims: Vec<Dimension>,
    elements: Vec<T>,
}

/// Checks dimensions as `array_recv` does and returns the number of elements they describe.
fn element_count(dims: &[Dimension]) -> Result<usize, InvalidValue> {
    if dims.len() > MAX_DIMENSIONS {
        return Err(InvalidValue::new(
            "array",
            format!(
                "{} dimensions exceed the maximum of {MAX_DIMENSIONS}",
                dims.len()
            ),
        ));
    }
    let mut count: usize = 1;
    for (i, d) in dims.iter().enumerate() {
        let len = usize::try_from(d.len).map_err(|_| {
            InvalidValue::new("array", format!("dimension {} has length {}", i + 1, d.len))
        })?;
        if d.len != 0 && d.len.checked_add(d.lower_bound).is_none() {
            return Err(InvalidValue::new(
                "array",
                format!(
                    "dimension {} with lower bound {} and length {} overflows the index range",
                    i + 1,
                    d.lower_bound,
                    d.len
                ),
            ));
        }
        count = count
            .checked_mul(len)
            .ok_or_else(|| InvalidValue::new("array", "the dimensions' product overflows"))?;
    }
    Ok(if dims.is_empty() { 0 } else { count })
}

impl<T> Array<T> {
    /// An array of these dimensions holding `elements` in row-major order. Fails when the
    /// dimensions are invalid or their product is not the number of elements. Dimensions with
    /// no elements are normalized to the empty array, as the server does.
    pub fn new(dims: Vec<Dimension>, elements: Vec<T>) -> Result<Array<T>, InvalidValue> {
        let count = element_count(&dims)?;
        if count != elements.len() {
            return Err(InvalidValue::new(
                "array",
                format!(
                    "the dimensions hold {count} elements but {} were given",
                    elements.len()
                ),
            ));
        }
        let dims = if count == 0 { Vec::new() } else { dims };
        Ok(Array { dims, elements })
    }

    /// A one-dimensional array with lower bound 1 (the empty array when `elements` is).
    pub fn from_vec(elements: Vec<T>) -> Result<Array<T>, InvalidValue> {
        let dims = one_dimension(elements.len())?;
        Array::new(dims, elements)
    }

    /// The dimensions, outermost first; empty for the empty array.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dims
    }

    /// The elements in row-major order.
    pub fn elements(&self) -> &[T] {
        &self.elements
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// An iterator over the elements in row-major order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.elements.iter()
    }

    /// The element at these SQL subscripts (one per dimension, counted from each dimension's
    /// lower bound), or `None` when out of bounds.
    pub fn get(&self, subscripts: &[i32]) -> Option<&T> {
        if subscripts.len() != self.dims.len() || self.dims.is_empty() {
            return None;
        }
        let mut index: usize = 0;
        for (&s, d) in subscripts.iter().zip(&self.dims) {
            let offset = i64::from(s) - i64::from(d.lower_bound);
            if offset < 0 || offset >= i64::from(d.len) {
                return None;
            }
            // Both fit: offset < len <= i32::MAX, and the product is the element count.
            index = index * d.len as usize + offset as usize;
        }
        self.elements.get(index)
    }

    /// The elements, dropping the dimensions.
    pub fn into_elements(self) -> Vec<T> {
        self.elements
    }

    /// The dimensions and the elements.
    pub fn into_parts(self) -> (Vec<Dimension>, Vec<T>) {
        (self.dims, self.elements)
    }
}

impl<T> IntoIterator for Array<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.elements.into_iter()
    }
}

impl<'s, T> IntoIterator for &'s Array<T> {
    type Item = &'s T;
    type IntoIter = std::slice::Iter<'s, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.elements.iter()
    }
}

/// The dimensions of a one-dimensional array of `len` elements starting at index 1.
fn one_dimension(len: usize) -> Result<Vec<Dimension>, InvalidValue> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let len = i32::try_from(len).map_err(|_| {
        InvalidValue::new("array", format!("{len} elements exceed the 32-bit length"))
    })?;
    Ok(vec![Dimension {
        len,
        lower_bound: 1,
    }])
}

/// The dimensions a one-dimensional `Vec`, slice or fixed-size array of `len` elements is sent
/// with as `ty`: indexed from 1 like the server's own arrays, except `int2vector` and
/// `oidvector`, whose input functions take only arrays indexed from 0. (An empty vector cannot
/// be sent in binary at all: `array_recv` makes it zero-dimensional, which they refuse too.)
fn dimensions_for(ty: &Type, len: usize) -> Result<Vec<Dimension>, InvalidValue> {
    let mut dims = one_dimension(len)?;
    if *ty == Type::INT2VECTOR || *ty == Type::OIDVECTOR {
        for d in &mut dims {
            d.lower_bound = 0;
        }
    }
    Ok(dims)
}

/// Whether an array of `T` converts to and from the array type `ty`.
fn accepts_array<F: Fn(&Type) -> bool>(ty: &Type, element_accepts: F) -> bool {
    match ty.array_element() {
        Some(element) => {
            element.binary_supported()
                && super::custom::codec_type(&element, element_accepts).is_some()
        }
        None => false,
    }
}

fn element_type(ty: &Type) -> Result<Type, BoxError> {
    ty.array_element()
        .ok_or_else(|| InvalidValue::boxed("array", format!("{ty} is not an array type")))
}

fn encode_array<'e, T: ToSql + 'e>(
    ty: &Type,
    dims: &[Dimension],
    elements: impl IntoIterator<Item = &'e T>,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let element = element_type(ty)?;
    let ndim = i32::try_from(dims.len()).unwrap_or(i32::MAX); // At most 6, checked by callers.
    out.put_i32(ndim);
    let flags_at = out.len();
    out.put_i32(0);
    out.put_u32(element.oid());
    for d in dims {
        out.put_i32(d.len);
        out.put_i32(d.lower_bound);
    }
    // Elements of a domain are written as its base type; the header keeps the domain's OID,
    // which the server checks against the array's element type.
    let codec = super::custom::codec_type(&element, T::accepts).unwrap_or(&element);
    let mut has_null = false;
    for value in elements {
        let is_null = write_length_prefixed(out, |out| value.to_sql(codec, out))?;
        has_null |= is_null == IsNull::Yes;
    }
    if has_null {
        // `flags_at + 4 <= out.len()`: the flags were written above.
        out[flags_at..flags_at + 4].copy_from_slice(&1i32.to_be_bytes());
    }
    Ok(IsNull::No)
}

fn decode_array<'a, T: FromSql<'a>>(
    ty: &Type,
    raw: &'a [u8],
) -> Result<(Vec<Dimension>, Vec<T>), BoxError> {
    let element = element_type(ty)?;
    let mut r = Reader::new("array", raw);
    let ndim = r.i32("number of dimensions")?;
    let ndim = usize::try_from(ndim)
        .ok()
        .filter(|&n| n <= MAX_DIMENSIONS)
        .ok_or_else(|| {
            InvalidValue::boxed(
                "array",
                format!("invalid number of dimensions {ndim} (0 to {MAX_DIMENSIONS} allowed)"),
            )
        })?;
    let flags = r.i32("flags")?;
    if flags != 0 && flags != 1 {
        return Err(InvalidValue::boxed(
            "array",
            format!("invalid flags {flags}"),
        ));
    }
    let element_oid = r.u32("element type")?;
    if element_oid != element.oid() {
        return Err(InvalidValue::boxed(
            "array",
            format!(
                "element type is {} but {ty} holds {element}",
                Type::from_oid(element_oid)
            ),
        ));
    }
    let mut dims = Vec::with_capacity(ndim); // At most 6.
    for _ in 0..ndim {
        let len = r.i32("dimension length")?;
        let lower_bound = r.i32("lower bound")?;
        dims.push(Dimension { len, lower_bound });
    }
    let count = element_count(&dims)?;
    // Every element takes at least its 4-byte length: bound the count by the bytes present
    // before allocating for it.
    if count > r.remaining() / 4 {
        return Err(InvalidValue::boxed(
            "array",
            format!(
                "the dimensions declare {count} elements but only {} bytes follow",
                r.remaining()
            ),
        ));
    }
    let codec = super::custom::codec_type(&element, T::accepts).unwrap_or(&element);
    let mut elements = Vec::with_capacity(count);
    for i in 0..count {
        let len = r.i32("element length")?;
        let value = match len {
            -1 => T::from_sql_null(codec)?,
            len if len < 0 => {
                return Err(InvalidValue::boxed(
                    "array",
                    format!("element {} has invalid length {len}", i + 1),
                ))
            }
            len => T::from_sql(codec, r.take(len as usize, "element")?)?, // len >= 0.
        };
        elements.push(value);
    }
    r.finish()?;
    if count == 0 {
        dims.clear();
    }
    Ok((dims, elements))
}

impl<T: ToSql> ToSql for Array<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_array(ty, &self.dims, &self.elements, out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_array(ty, T::accepts)
    }

    crate::to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Array<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Array<T>, BoxError> {
        let (dims, elements) = decode_array(ty, raw)?;
        Ok(Array { dims, elements })
    }

    fn accepts(ty: &Type) -> bool {
        accepts_array(ty, T::accepts)
    }
}

impl<T: ToSql> ToSql for &[T] {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_array(ty, &dimensions_for(ty, self.len())?, self.iter(), out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_array(ty, T::accepts)
    }

    crate::to_sql_checked!();
}

impl<T: ToSql> ToSql for Vec<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_array(ty, &dimensions_for(ty, self.len())?, self.iter(), out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_array(ty, T::accepts)
    }

    crate::to_sql_checked!();
}

impl<T: ToSql, const N: usize> ToSql for [T; N] {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_array(ty, &dimensions_for(ty, N)?, self.iter(), out)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_array(ty, T::accepts)
    }

    crate::to_sql_checked!();
}

/// A one-dimensional array (any lower bound) or the empty array; read a multi-dimensional one
/// into [`Array`].
impl<'a, T: FromSql<'a>> FromSql<'a> for Vec<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Vec<T>, BoxError> {
        let (dims, elements) = decode_array(ty, raw)?;
        if dims.len() > 1 {
            return Err(InvalidValue::boxed(
                "array",
                format!(
                    "a Vec takes a one-dimensional array but this one has {} dimensions; \
                     read it as tusk::types::Array",
                    dims.len()
                ),
            ));
        }
        Ok(elements)
    }

    fn accepts(ty: &Type) -> bool {
        accepts_array(ty, T::accepts)
    }
}
