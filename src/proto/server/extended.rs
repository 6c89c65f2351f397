//! The frontend messages with counted sections: Parse (parameter types), Bind (format codes and
//! parameter values) and FunctionCall (the same for a function's arguments).
//!
//! Each is checked completely when decoded, without allocating: every count is read and then
//! the bytes it announces are taken through the bounds-checked reader, so a count larger than
//! what follows fails at once with [`ProtoError::Malformed`]. The checked sections stay slices
//! of the message body, walked on demand by [`Formats`], [`Values`] and [`ParamTypes`].

use bytes::Bytes;

use super::text::Text;
use crate::proto::backend::reader::Reader;
use crate::proto::ProtoError;

/// Reads a 16-bit count of format codes (`count_what` names it in errors) and takes the codes
/// (`what`).
fn formats(r: &mut Reader<'_>, count_what: &str, what: &str) -> Result<Bytes, ProtoError> {
    let count = usize::from(r.u16(count_what)?);
    r.bytes(2 * count, what)
}

/// Reads a 16-bit count of length-prefixed values (-1 for NULL) and checks each against what
/// remains; returns the count and the bytes of the values, length words included. `item`
/// names one value in errors, e.g. `"parameter"`, and `count_what` the count.
fn values(
    r: &mut Reader<'_>,
    body: &Bytes,
    count_what: &str,
    item: &str,
) -> Result<(u16, Bytes), ProtoError> {
    let count = r.u16(count_what)?;
    let start = r.position();
    for index in 0..count {
        let Ok(len) = r.i32("a value length") else {
            return Err(r.error(format!(
                "the message ends inside the length of {item} {index} ({count} announced)"
            )));
        };
        match usize::try_from(len) {
            Ok(len) => {
                if r.take(len, "a value").is_err() {
                    return Err(r.error(format!(
                        "{item} {index} is {len} bytes long but only {} bytes are left",
                        r.remaining()
                    )));
                }
            }
            Err(_) if len == -1 => {}
            Err(_) => return Err(r.error(format!("{item} {index} has invalid length {len}"))),
        }
    }
    Ok((count, body.slice(start..r.position())))
}

/// Bind (`'B'`): bind parameter values to a prepared statement, creating a portal.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::framing::Frame;
/// use tusk::proto::server::FrontendMessage;
///
/// // Portal "", statement "s1", one format code (binary), two values (4 bytes, NULL), and no
/// // result format codes.
/// let body = Bytes::from_static(
///     b"\0s1\0\x00\x01\x00\x01\x00\x02\x00\x00\x00\x04\x00\x00\x00\x2a\xff\xff\xff\xff\x00\x00",
/// );
/// let FrontendMessage::Bind(bind) = FrontendMessage::parse(Frame { tag: b'B', body })? else {
///     unreachable!()
/// };
/// assert_eq!((bind.portal().as_str(), bind.statement().as_str()), ("", "s1"));
/// let values: Vec<Option<&[u8]>> = bind.params().collect();
/// assert_eq!(values, [Some(&[0, 0, 0, 42][..]), None]);
/// assert_eq!(bind.param_format(1), Some(1)); // one code applies to every parameter
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    portal: Text,
    statement: Text,
    param_formats: Bytes,
    param_count: u16,
    params: Bytes,
    result_formats: Bytes,
}

impl Bind {
    pub(super) fn from_body(body: Bytes) -> Result<Bind, ProtoError> {
        let mut r = Reader::new("Bind", &body);
        let portal = Text::read(&mut r, &body, "the portal name")?;
        let statement = Text::read(&mut r, &body, "the statement name")?;
        let param_formats = formats(
            &mut r,
            "the number of parameter format codes",
            "the parameter format codes",
        )?;
        let (param_count, params) = values(&mut r, &body, "the number of parameters", "parameter")?;
        let result_formats = formats(
            &mut r,
            "the number of result format codes",
            "the result format codes",
        )?;
        r.finish()?;
        Ok(Bind {
            portal,
            statement,
            param_formats,
            param_count,
            params,
            result_formats,
        })
    }

    /// The portal to create; the empty name is the unnamed portal.
    pub fn portal(&self) -> &Text {
        &self.portal
    }

    /// The prepared statement to bind; the empty name is the unnamed statement.
    pub fn statement(&self) -> &Text {
        &self.statement
    }

    /// The parameter format codes as sent: none (all text), one (for every parameter) or one
    /// per parameter. 0 is text, 1 binary; other values are passed through for the server to
    /// refuse.
    pub fn param_formats(&self) -> Formats<'_> {
        Formats::new(&self.param_formats)
    }

    /// How many parameter values there are.
    pub fn param_count(&self) -> u16 {
        self.param_count
    }

    /// The parameter values in order, each a slice of the message (`None` is SQL NULL).
    pub fn params(&self) -> Values<'_> {
        Values {
            rest: &self.params,
            left: self.param_count,
        }
    }

    /// The format code that applies to parameter `index` (0-based) by the protocol's rule: text
    /// when no code was sent, the one code when one was, else the parameter's own. `None` for
    /// an index past the values, or when the number of codes (neither 0, 1 nor the number of
    /// values) makes the message invalid (PostgreSQL refuses it with SQLSTATE 08P01).
    pub fn param_format(&self, index: usize) -> Option<i16> {
        if index >= usize::from(self.param_count) {
            return None;
        }
        let formats = self.param_formats();
        match formats.len() {
            0 => Some(0),
            1 => formats.clone().next(),
            n if n == usize::from(self.param_count) => formats.clone().nth(index),
            _ => None,
        }
    }

    /// The result-column format codes as sent: none (all text), one (for every column) or one
    /// per result column.
    pub fn result_formats(&self) -> Formats<'_> {
        Formats::new(&self.result_formats)
    }

    /// The format code that applies to result column `column` (0-based): text when no code was
    /// sent, the one code when one was, else the column's own; `None` when several codes were
    /// sent and none is this column's.
    pub fn result_format(&self, column: usize) -> Option<i16> {
        let formats = self.result_formats();
        match formats.len() {
            0 => Some(0),
            1 => formats.clone().next(),
            _ => formats.clone().nth(column),
        }
    }
}

/// Parse (`'P'`): prepare a statement.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::framing::Frame;
/// use tusk::proto::server::FrontendMessage;
///
/// let body = Bytes::from_static(b"\0SELECT $1\0\x00\x01\x00\x00\x00\x17");
/// let FrontendMessage::Parse(parse) = FrontendMessage::parse(Frame { tag: b'P', body })? else {
///     unreachable!()
/// };
/// assert_eq!((parse.name().as_str(), parse.sql().as_str()), ("", "SELECT $1"));
/// assert_eq!(parse.param_types().collect::<Vec<_>>(), [23]); // int4
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parse {
    name: Text,
    sql: Text,
    param_types: Bytes,
}

impl Parse {
    pub(super) fn from_body(body: Bytes) -> Result<Parse, ProtoError> {
        let mut r = Reader::new("Parse", &body);
        let name = Text::read(&mut r, &body, "the statement name")?;
        let sql = Text::read(&mut r, &body, "the query text")?;
        let count = usize::from(r.u16("the number of parameter types")?);
        let param_types = r.bytes(4 * count, "the parameter types")?;
        r.finish()?;
        Ok(Parse {
            name,
            sql,
            param_types,
        })
    }

    /// The statement's name; the empty name is the unnamed statement.
    pub fn name(&self) -> &Text {
        &self.name
    }

    /// The SQL text.
    pub fn sql(&self) -> &Text {
        &self.sql
    }

    /// The parameter type OIDs the client specified (0 leaves a type to the server); there may
    /// be fewer than the statement's parameters.
    pub fn param_types(&self) -> ParamTypes<'_> {
        ParamTypes(self.param_types.chunks_exact(4))
    }
}

/// FunctionCall (`'F'`): call a function by OID with arguments (the protocol's legacy fast
/// path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCall {
    function_oid: u32,
    arg_formats: Bytes,
    arg_count: u16,
    args: Bytes,
    result_format: i16,
}

impl FunctionCall {
    pub(super) fn from_body(body: Bytes) -> Result<FunctionCall, ProtoError> {
        let mut r = Reader::new("FunctionCall", &body);
        let function_oid = r.u32("the function OID")?;
        let arg_formats = formats(
            &mut r,
            "the number of argument format codes",
            "the argument format codes",
        )?;
        let (arg_count, args) = values(&mut r, &body, "the number of arguments", "argument")?;
        let result_format = r.i16("the result format code")?;
        r.finish()?;
        Ok(FunctionCall {
            function_oid,
            arg_formats,
            arg_count,
            args,
            result_format,
        })
    }

    /// The OID of the function to call.
    pub fn function_oid(&self) -> u32 {
        self.function_oid
    }

    /// The argument format codes as sent (the same rule as Bind's parameter formats).
    pub fn arg_formats(&self) -> Formats<'_> {
        Formats::new(&self.arg_formats)
    }

    /// How many arguments there are.
    pub fn arg_count(&self) -> u16 {
        self.arg_count
    }

    /// The arguments in order, each a slice of the message (`None` is SQL NULL).
    pub fn args(&self) -> Values<'_> {
        Values {
            rest: &self.args,
            left: self.arg_count,
        }
    }

    /// The format code asked for the result: 0 text, 1 binary.
    pub fn result_format(&self) -> i16 {
        self.result_format
    }
}

/// Format codes (0 text, 1 binary) of a [`Bind`] or [`FunctionCall`], in order.
#[derive(Debug, Clone)]
pub struct Formats<'a>(std::slice::ChunksExact<'a, u8>);

impl<'a> Formats<'a> {
    fn new(bytes: &'a [u8]) -> Formats<'a> {
        Formats(bytes.chunks_exact(2))
    }
}

impl Iterator for Formats<'_> {
    type Item = i16;

    fn next(&mut self) -> Option<i16> {
        self.0.next().map(|c| i16::from_be_bytes([c[0], c[1]]))
    }

    fn nth(&mut self, n: usize) -> Option<i16> {
        self.0.nth(n).map(|c| i16::from_be_bytes([c[0], c[1]]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Formats<'_> {}

/// The parameter type OIDs of a [`Parse`], in order.
#[derive(Debug, Clone)]
pub struct ParamTypes<'a>(std::slice::ChunksExact<'a, u8>);

impl Iterator for ParamTypes<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        self.0
            .next()
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for ParamTypes<'_> {}

/// The values of a [`Bind`] or the arguments of a [`FunctionCall`], in order: each a slice of
/// the message, `None` for SQL NULL.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    /// The values not yet returned, length words included (checked when decoded).
    rest: &'a [u8],
    left: u16,
}

impl<'a> Iterator for Values<'a> {
    type Item = Option<&'a [u8]>;

    fn next(&mut self) -> Option<Option<&'a [u8]>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let value = next_value(&mut self.rest);
        if value.is_none() {
            // Ruled out by the check at decoding time; ends the iteration rather than panicking.
            self.left = 0;
        }
        value
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.left);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Values<'_> {}

/// Takes one length-prefixed value off `rest`: `Some(None)` for NULL, `None` when `rest` does
/// not hold a whole value.
fn next_value<'a>(rest: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    let (len, after) = rest.split_first_chunk::<4>()?;
    let len = i32::from_be_bytes(*len);
    match usize::try_from(len) {
        Ok(len) => {
            let value = after.get(..len)?;
            *rest = &after[len..];
            Some(Some(value))
        }
        Err(_) => {
            *rest = after;
            Some(None)
        }
    }
}
