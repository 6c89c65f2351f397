//! The untagged first packet a client sends: splitting it off the read buffer
//! ([`split_startup_packet`]) and decoding it ([`StartupPacket`]): a StartupMessage, an
//! SSLRequest, a GSSENCRequest or a CancelRequest.
//!
//! A startup packet has no tag: a big-endian `i32` length that counts itself, then an `i32`
//! code (a protocol version, or one of the three request codes), then the body. PostgreSQL
//! refuses a length below 8 or above 10000 bytes (`MAX_STARTUP_PACKET_LENGTH`) before reading
//! the rest, and so does [`split_startup_packet`].

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use super::text::Text;
use crate::proto::backend::reader::Reader;
use crate::proto::frontend::{
    CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, MAX_CANCEL_KEY_LEN, MIN_CANCEL_KEY_LEN,
    SSL_REQUEST_CODE,
};
use crate::proto::{ProtoError, ProtocolVersion};

/// The longest startup packet PostgreSQL accepts (its `MAX_STARTUP_PACKET_LENGTH`), length
/// field included: the default bound for [`split_startup_packet`].
pub const MAX_STARTUP_PACKET_LEN: usize = 10_000;

/// The shortest startup packet: the length and the code.
const MIN_STARTUP_PACKET_LEN: usize = 8;

/// Splits one complete startup packet off the front of `buf` and returns its body: everything
/// after the length field, starting with the code.
///
/// `Ok(None)` while the packet is incomplete, and then nothing is consumed. A declared length
/// below 8 or above `max_len` (PostgreSQL's is [`MAX_STARTUP_PACKET_LEN`]) is
/// [`ProtoError::InvalidStartupLength`] as soon as the 4 length bytes are present, before the
/// body is waited for; `buf` is left untouched then too. The body shares `buf`'s allocation.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::server::{split_startup_packet, MAX_STARTUP_PACKET_LEN};
///
/// // An SSLRequest, then the first bytes of whatever follows.
/// let mut buf = BytesMut::from(&b"\x00\x00\x00\x08\x04\xd2\x16\x2f\x00\x00"[..]);
/// let body = split_startup_packet(&mut buf, MAX_STARTUP_PACKET_LEN)?.unwrap();
/// assert_eq!(&body[..], b"\x04\xd2\x16\x2f");
/// assert_eq!(split_startup_packet(&mut buf, MAX_STARTUP_PACKET_LEN)?, None);
/// assert_eq!(&buf[..], b"\x00\x00");
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn split_startup_packet(
    buf: &mut BytesMut,
    max_len: usize,
) -> Result<Option<Bytes>, ProtoError> {
    let Some(&[a, b, c, d]) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let declared = i32::from_be_bytes([a, b, c, d]);
    let len = match usize::try_from(declared) {
        Ok(len) if len >= MIN_STARTUP_PACKET_LEN && len <= max_len => len,
        _ => {
            return Err(ProtoError::InvalidStartupLength {
                len: i64::from(declared),
                max: max_len,
            })
        }
    };
    if buf.len() < len {
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len - 4).freeze()))
}

/// Splits one startup packet off `buf` ([`split_startup_packet`]) and decodes it
/// ([`StartupPacket::parse`]). `Ok(None)` means the packet is incomplete and nothing was
/// consumed; after a decoding error the packet has been consumed.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::server::{decode_startup, StartupPacket, MAX_STARTUP_PACKET_LEN};
///
/// let mut buf = BytesMut::from(&b"\x00\x00\x00\x14\x00\x03\x00\x00user\x00alice\x00\x00"[..]);
/// let Some(StartupPacket::Startup { version, parameters }) =
///     decode_startup(&mut buf, MAX_STARTUP_PACKET_LEN)?
/// else {
///     panic!("not a StartupMessage")
/// };
/// assert_eq!(version.to_string(), "3.0");
/// assert_eq!(parameters.get("user"), Some("alice"));
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub fn decode_startup(
    buf: &mut BytesMut,
    max_len: usize,
) -> Result<Option<StartupPacket>, ProtoError> {
    match split_startup_packet(buf, max_len)? {
        Some(body) => StartupPacket::parse(body).map(Some),
        None => Ok(None),
    }
}

/// A decoded startup packet: the first thing a client sends on a connection (an SSLRequest or
/// GSSENCRequest may come first and the StartupMessage after the server's answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupPacket {
    /// StartupMessage: a protocol 3.x version and the session's parameters.
    Startup {
        /// The requested protocol version; any 3.x is decoded (a server answers a newer minor
        /// version with NegotiateProtocolVersion).
        version: ProtocolVersion,
        /// The `name=value` parameters (`user`, `database`, run-time settings).
        parameters: StartupParameters,
    },
    /// SSLRequest (code 80877103): the client asks for TLS; the server answers one byte, `S`
    /// or `N`.
    SslRequest,
    /// GSSENCRequest (code 80877104): the client asks for GSSAPI encryption; the server answers
    /// one byte, `G` or `N`.
    GssEncRequest,
    /// CancelRequest (code 80877102): cancel the query running on another connection.
    CancelRequest {
        /// The target backend's process ID, from its BackendKeyData.
        process_id: i32,
        /// The target backend's secret key: 4 bytes in protocol 3.0, up to 256 in 3.2.
        secret_key: Bytes,
    },
}

impl StartupPacket {
    /// Decodes a startup packet's body as [`split_startup_packet`] returns it (the code, then
    /// the rest).
    ///
    /// A code that is neither a 3.x protocol version nor a request code is
    /// [`ProtoError::UnknownStartupCode`]; a body that does not match its layout (an SSLRequest
    /// with extra bytes, a cancel key outside 4..=256 bytes, parameters without their final NUL,
    /// text that is not UTF-8) is [`ProtoError::Malformed`] naming the packet.
    pub fn parse(body: Bytes) -> Result<StartupPacket, ProtoError> {
        let mut r = Reader::new("startup packet", &body);
        let code = r.i32("the protocol version or request code")?;
        match code {
            SSL_REQUEST_CODE => {
                r.set_message("SSLRequest");
                r.finish()?;
                Ok(StartupPacket::SslRequest)
            }
            GSSENC_REQUEST_CODE => {
                r.set_message("GSSENCRequest");
                r.finish()?;
                Ok(StartupPacket::GssEncRequest)
            }
            CANCEL_REQUEST_CODE => {
                r.set_message("CancelRequest");
                let process_id = r.i32("the process ID")?;
                let secret_key = r.rest();
                // The same 4..=256 as the client's (see MIN_CANCEL_KEY_LEN for why not 1..).
                if !(MIN_CANCEL_KEY_LEN..=MAX_CANCEL_KEY_LEN).contains(&secret_key.len()) {
                    return Err(r.error(format!(
                        "the secret key is {} bytes, outside \
                         {MIN_CANCEL_KEY_LEN}..={MAX_CANCEL_KEY_LEN}",
                        secret_key.len()
                    )));
                }
                Ok(StartupPacket::CancelRequest {
                    process_id,
                    secret_key,
                })
            }
            code if ProtocolVersion::from_code(code).major == 3 => {
                r.set_message("StartupMessage");
                let start = r.position();
                let count = StartupParameters::check(&mut r, &body)?;
                Ok(StartupPacket::Startup {
                    version: ProtocolVersion::from_code(code),
                    parameters: StartupParameters {
                        pairs: body.slice(start..body.len() - 1),
                        count,
                    },
                })
            }
            code => Err(ProtoError::UnknownStartupCode(code)),
        }
    }

    /// The packet's name in the protocol documentation, e.g. `"SSLRequest"`.
    pub fn name(&self) -> &'static str {
        match self {
            StartupPacket::Startup { .. } => "StartupMessage",
            StartupPacket::SslRequest => "SSLRequest",
            StartupPacket::GssEncRequest => "GSSENCRequest",
            StartupPacket::CancelRequest { .. } => "CancelRequest",
        }
    }
}

/// The parameters of a StartupMessage, in the order the client sent them, still in the read
/// buffer. Names and values were checked to be NUL-terminated UTF-8 when decoded, and the list
/// to end with the final NUL exactly at the end of the packet.
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::server::StartupPacket;
///
/// let body = Bytes::from_static(b"\x00\x03\x00\x00user\x00bob\x00database\x00shop\x00\x00");
/// let StartupPacket::Startup { parameters, .. } = StartupPacket::parse(body)? else {
///     panic!("not a StartupMessage")
/// };
/// let pairs: Vec<(&str, &str)> = parameters.iter().collect();
/// assert_eq!(pairs, [("user", "bob"), ("database", "shop")]);
/// assert_eq!(parameters.get("database"), Some("shop"));
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StartupParameters {
    /// `name\0value\0` pairs, without the final NUL.
    pairs: Bytes,
    count: usize,
}

impl StartupParameters {
    /// Checks the pairs that follow the version in `r` and the final NUL that must be the last
    /// byte of `body`; returns how many pairs there are.
    fn check(r: &mut Reader<'_>, body: &Bytes) -> Result<usize, ProtoError> {
        let mut count = 0;
        loop {
            if r.remaining() == 0 {
                return Err(r.error("the parameter list does not end with a NUL"));
            }
            let name = Text::read(r, body, "a parameter name")?;
            if name.is_empty() {
                return match r.remaining() {
                    0 => Ok(count),
                    n => Err(r.error(format!(
                        "{n} bytes follow the NUL that ends the parameter list"
                    ))),
                };
            }
            Text::read(r, body, "a parameter value")?;
            count += 1;
        }
    }

    /// The `(name, value)` pairs in the order the client sent them.
    pub fn iter(&self) -> StartupParameterIter<'_> {
        StartupParameterIter {
            rest: &self.pairs,
            left: self.count,
        }
    }

    /// The value of the first parameter called `name`, e.g. `get("user")`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find_map(|(n, value)| (n == name).then_some(value))
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none (PostgreSQL then refuses the session: `user` is required).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl fmt::Debug for StartupParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a StartupParameters {
    type Item = (&'a str, &'a str);
    type IntoIter = StartupParameterIter<'a>;

    fn into_iter(self) -> StartupParameterIter<'a> {
        self.iter()
    }
}

/// The iterator of [`StartupParameters::iter`].
#[derive(Debug, Clone)]
pub struct StartupParameterIter<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> StartupParameterIter<'a> {
    /// The next NUL-terminated string of `rest`; `None` if there is none (which the check at
    /// decoding time rules out).
    fn next_str(&mut self) -> Option<&'a str> {
        let nul = self.rest.iter().position(|&b| b == 0)?;
        let s = std::str::from_utf8(&self.rest[..nul]).ok()?;
        self.rest = &self.rest[nul + 1..];
        Some(s)
    }
}

impl<'a> Iterator for StartupParameterIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        match (self.next_str(), self.next_str()) {
            (Some(name), Some(value)) => Some((name, value)),
            // Unreachable for checked pairs; ends the iteration rather than panicking.
            _ => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for StartupParameterIter<'_> {}
