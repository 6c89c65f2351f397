//! A Bind's parameter section on its own: encoded once, then sent under whichever statement
//! name a connection gave the SQL.
//!
//! A pool encodes a query's parameters in the caller's task, before it knows which connection
//! (and so which server-side statement name) will run it. The parameter section of a Bind (the
//! format codes, the count and the values) does not depend on the names, so it is cut out of a
//! Bind encoded with empty names and no result formats, and later framed again with the real
//! names and the result formats the running connection's statement asks for.

use bytes::{BufMut, BytesMut};

use super::{message, put_cstr, put_formats};
use crate::proto::ProtoError;

/// Where the parameter section lies in a Bind message that [`super::bind`] wrote with an empty
/// portal name, an empty statement name and no result format codes: the range to slice the
/// message with. The message is checked to have exactly that shape.
///
/// ```
/// # use bytes::BytesMut;
/// # use tusk::proto::{frontend, IsNull};
/// let mut bind = BytesMut::new();
/// frontend::bind("", "", &[1], [7i32], |v, out| {
///     out.extend_from_slice(&v.to_be_bytes());
///     Ok::<_, std::convert::Infallible>(IsNull::No)
/// }, &[], &mut bind).unwrap();
/// let section = frontend::bind_parameter_section(&bind)?;
/// let mut out = BytesMut::new();
/// frontend::bind_with_parameter_section("", "s1", &bind[section], &[1], &mut out)?;
/// assert_eq!(&out[..], b"B\x00\x00\x00\x1a\x00s1\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07\x00\x01\x00\x01");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn bind_parameter_section(unnamed_bind: &[u8]) -> Result<std::ops::Range<usize>, ProtoError> {
    // 'B', the length, two empty names, the section, then a zero count of result formats.
    const HEAD: usize = 1 + 4 + 1 + 1;
    const TAIL: usize = 2;
    // The shortest section: a zero count of parameter formats and a zero count of values.
    const SECTION_MIN: usize = 2 + 2;
    let malformed = |why: &str| ProtoError::malformed("Bind", why.to_string());
    if unnamed_bind.len() < HEAD + SECTION_MIN + TAIL || unnamed_bind[0] != b'B' {
        return Err(malformed("not a whole Bind message"));
    }
    let declared = i32::from_be_bytes([
        unnamed_bind[1],
        unnamed_bind[2],
        unnamed_bind[3],
        unnamed_bind[4],
    ]);
    if usize::try_from(declared).ok() != Some(unnamed_bind.len() - 1) {
        return Err(malformed("the length field does not match the message"));
    }
    if unnamed_bind[5] != 0 || unnamed_bind[6] != 0 {
        return Err(malformed("the portal and statement names are not empty"));
    }
    if unnamed_bind[unnamed_bind.len() - TAIL..] != [0, 0] {
        return Err(malformed("the message asks for result formats"));
    }
    Ok(HEAD..unnamed_bind.len() - TAIL)
}

/// Appends a Bind of portal `portal` to statement `statement` whose parameter section (format
/// codes, count, values) is `section`, as cut out by [`bind_parameter_section`], followed by
/// `result_formats`. The buffer is left as it was on an error.
pub fn bind_with_parameter_section(
    portal: &str,
    statement: &str,
    section: &[u8],
    result_formats: &[i16],
    buf: &mut BytesMut,
) -> Result<(), ProtoError> {
    message(buf, Some(b'B'), "Bind", |buf| {
        put_cstr(buf, "Bind portal name", portal.as_bytes())?;
        put_cstr(buf, "Bind statement name", statement.as_bytes())?;
        buf.put_slice(section);
        put_formats(buf, "Bind result format codes", result_formats)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::frontend::bind;
    use crate::proto::IsNull;

    fn encode(
        portal: &str,
        statement: &str,
        values: &[Option<&[u8]>],
        results: &[i16],
    ) -> BytesMut {
        let mut buf = BytesMut::new();
        bind(
            portal,
            statement,
            &[0, 1],
            values.iter(),
            |v, out| match v {
                Some(bytes) => {
                    out.extend_from_slice(bytes);
                    Ok::<_, std::convert::Infallible>(IsNull::No)
                }
                None => Ok(IsNull::Yes),
            },
            results,
            &mut buf,
        )
        .unwrap();
        buf
    }

    #[test]
    fn reframed_bind_equals_a_bind_encoded_with_the_names() {
        let values: &[Option<&[u8]>] = &[Some(b"abc"), None];
        let unnamed = encode("", "", values, &[]);
        let section = bind_parameter_section(&unnamed).unwrap();
        let mut reframed = BytesMut::from(&b"prefix"[..]);
        bind_with_parameter_section("p1", "tusk_s7", &unnamed[section], &[1, 0], &mut reframed)
            .unwrap();
        assert_eq!(&reframed[..6], b"prefix");
        assert_eq!(
            &reframed[6..],
            &encode("p1", "tusk_s7", values, &[1, 0])[..]
        );
    }

    #[test]
    fn anything_but_an_unnamed_bind_without_result_formats_is_refused() {
        let values: &[Option<&[u8]>] = &[Some(b"x")];
        let refused = |bytes: &[u8], why: &str, what: &str| {
            assert_eq!(
                bind_parameter_section(bytes),
                Err(ProtoError::malformed("Bind", why)),
                "{what}"
            );
        };
        let named = "the portal and statement names are not empty";
        refused(&encode("", "s", values, &[]), named, "named statement");
        refused(&encode("p", "", values, &[]), named, "named portal");
        let formats = "the message asks for result formats";
        refused(&encode("", "", values, &[1]), formats, "result formats");
        let good = encode("", "", values, &[]);
        let length = "the length field does not match the message";
        refused(&good[..good.len() - 1], length, "cut short");
        let mut wrong_tag = good.clone();
        wrong_tag[0] = b'P';
        let not_bind = "not a whole Bind message";
        refused(&wrong_tag, not_bind, "not a Bind");
        refused(b"B", not_bind, "a tag alone");
        // Shorter than the smallest Bind, though its length field and names are right.
        refused(
            b"B\0\0\0\x06\0\0",
            not_bind,
            "no section and no result count",
        );
        refused(b"B\0\0\0\x08\0\0\0\0", not_bind, "no parameter counts");
        refused(b"B\0\0\0\x0b\0\0\0\0\0\0", not_bind, "one byte short");
        refused(b"", not_bind, "nothing");
    }

    /// The smallest Bind (no formats, no values; 13 bytes by the protocol documentation) has
    /// the section of two zero counts.
    #[test]
    fn the_smallest_bind_has_a_four_byte_section() {
        let smallest = b"B\0\0\0\x0c\0\0\0\0\0\0\0\0";
        assert_eq!(bind_parameter_section(smallest), Ok(7..11));
    }

    #[test]
    fn a_nul_in_a_name_leaves_the_buffer_as_it_was() {
        let unnamed = encode("", "", &[], &[]);
        let section = bind_parameter_section(&unnamed).unwrap();
        let mut buf = BytesMut::from(&b"kept"[..]);
        assert_eq!(
            bind_with_parameter_section("", "bad\0name", &unnamed[section], &[], &mut buf),
            Err(ProtoError::NulInString {
                what: "Bind statement name"
            })
        );
        assert_eq!(&buf[..], b"kept");
    }
}
