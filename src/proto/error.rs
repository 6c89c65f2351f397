//! The one error type of the sans-IO core.

use std::fmt;

/// An error raised by the protocol core: a malformed or unexpected message, a value that cannot
/// be encoded, or a failed authentication exchange.
///
/// Every variant names what was wrong so that the message reaching a user says which message,
/// field or value is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtoError {
    /// A backend frame declared a length below 4 or above the configured maximum.
    InvalidLength {
        /// The message tag byte.
        tag: u8,
        /// The declared length (including the 4 length bytes).
        len: i64,
        /// The configured maximum.
        max: usize,
    },
    /// A backend frame carried a tag this crate does not know.
    UnknownTag(u8),
    /// A frontend frame (read by a server, see [`crate::proto::server`]) declared a length below
    /// 4 or above the configured maximum.
    InvalidFrontendLength {
        /// The message tag byte.
        tag: u8,
        /// The declared length (including the 4 length bytes).
        len: i64,
        /// The configured maximum.
        max: usize,
    },
    /// A frontend frame carried a tag no client sends in protocol 3.0 or 3.2.
    UnknownFrontendTag(u8),
    /// A startup packet (the untagged first message a client sends) declared a length below 8
    /// or above the configured maximum.
    InvalidStartupLength {
        /// The declared length (including the 4 length bytes).
        len: i64,
        /// The configured maximum.
        max: usize,
    },
    /// A startup packet's code is neither a protocol 3.x version nor one of the request codes
    /// (SSLRequest, GSSENCRequest, CancelRequest).
    UnknownStartupCode(i32),
    /// A message body does not match its documented layout.
    Malformed {
        /// The message being decoded, e.g. `"DataRow"`.
        message: &'static str,
        /// What was wrong, e.g. `"column length runs past the end of the message"`.
        reason: String,
    },
    /// A value is too large to be described by the protocol's signed 32-bit length.
    TooLarge {
        /// What was being encoded, e.g. `"Bind parameter 3"`.
        what: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A whole message is longer than the server accepts from a client
    /// ([`MAX_FRONTEND_MESSAGE_LEN`](crate::proto::MAX_FRONTEND_MESSAGE_LEN)).
    MessageTooLarge {
        /// The message, e.g. `"Bind"`.
        message: &'static str,
        /// Its length as its length field would count it.
        len: usize,
    },
    /// A string contains a NUL byte where the protocol needs a NUL-terminated string.
    NulInString {
        /// What was being encoded, e.g. `"Query text"`.
        what: &'static str,
    },
    /// Too many items for the protocol's 16-bit count (parameters, format codes, columns).
    TooMany {
        /// What was being counted.
        what: &'static str,
        /// How many there were.
        count: usize,
    },
    /// The server asked for an authentication method this crate does not implement.
    UnsupportedAuth(String),
    /// An authentication step failed on the client side outside SCRAM itself (no password
    /// for a method that needs one, a server that skipped SCRAM's proof, ...).
    Auth(String),
    /// A SCRAM-SHA-256 exchange failed on the client side: match the [`ScramError`] for why.
    ///
    /// [`ScramError`]: crate::proto::auth::ScramError
    Scram(crate::proto::auth::ScramError),
    /// The client refused the server's authentication request before answering it: its
    /// `require_auth` or `channel_binding` policy does not allow it, or the server's SASL offer
    /// cannot be used on this connection. Match the [`AuthRefusal`] for why.
    ///
    /// [`AuthRefusal`]: crate::proto::auth::AuthRefusal
    AuthRefused(crate::proto::auth::AuthRefusal),
    /// The protocol version could not be agreed on: the server's NegotiateProtocolVersion is
    /// below `min_protocol_version`, raises the version, names options tusk never asked for,
    /// or came twice; or a BackendKeyData does not fit the negotiated version. The text says
    /// which, in libpq 18's words.
    Negotiation(String),
    /// A `pgoutput` protocol version this crate cannot decode (it decodes 1 to 4).
    UnsupportedPgoutputVersion(u32),
    /// A well-formed message arrived where the protocol does not allow it.
    Unexpected {
        /// What the exchange was waiting for, e.g. `"BindComplete"`.
        expected: &'static str,
        /// The name of the message that came instead, e.g. `"RowDescription"`.
        got: &'static str,
    },
}

impl ProtoError {
    /// Shorthand for [`ProtoError::Malformed`].
    pub fn malformed(message: &'static str, reason: impl Into<String>) -> Self {
        ProtoError::Malformed {
            message,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::InvalidLength { tag, len, max } => write!(
                f,
                "backend message {} declares length {len}, outside 4..={max}",
                tag_name(*tag)
            ),
            ProtoError::UnknownTag(tag) => {
                write!(f, "unknown backend message tag {}", tag_name(*tag))
            }
            ProtoError::InvalidFrontendLength { tag, len, max } => write!(
                f,
                "frontend message {} declares length {len}, outside 4..={max}",
                tag_name(*tag)
            ),
            ProtoError::UnknownFrontendTag(tag) => {
                write!(f, "unknown frontend message tag {}", tag_name(*tag))
            }
            ProtoError::InvalidStartupLength { len, max } => {
                write!(f, "startup packet declares length {len}, outside 8..={max}")
            }
            ProtoError::UnknownStartupCode(code) => write!(
                f,
                "startup packet with unknown protocol version or request code {}.{} ({code})",
                // The code's two 16-bit halves, as PostgreSQL prints a protocol version.
                (*code as u32) >> 16,
                (*code as u32) & 0xffff
            ),
            ProtoError::Malformed { message, reason } => {
                write!(f, "malformed {message} message: {reason}")
            }
            ProtoError::TooLarge { what, len } => write!(
                f,
                "{what} is {len} bytes, more than the protocol's limit of {} bytes",
                i32::MAX
            ),
            ProtoError::MessageTooLarge { message, len } => write!(
                f,
                "the {message} message would be {len} bytes, more than the server accepts from a \
                 client ({} bytes, 1 GiB less 2): nothing was sent",
                crate::proto::MAX_FRONTEND_MESSAGE_LEN
            ),
            ProtoError::NulInString { what } => {
                write!(
                    f,
                    "{what} contains a NUL byte, which the protocol cannot carry"
                )
            }
            ProtoError::TooMany { what, count } => {
                write!(f, "{count} {what}, more than the protocol's limit of 65535")
            }
            ProtoError::UnsupportedAuth(method) => {
                write!(
                    f,
                    "the server requested unsupported authentication method {method}"
                )
            }
            ProtoError::Auth(reason) => write!(f, "authentication failed: {reason}"),
            ProtoError::Scram(err) => write!(f, "authentication failed: {err}"),
            ProtoError::AuthRefused(refusal) => refusal.fmt(f),
            ProtoError::Negotiation(reason) => f.write_str(reason),
            ProtoError::UnsupportedPgoutputVersion(v) => write!(
                f,
                "pgoutput protocol version {v} is not supported (tusk decodes versions 1 to 4)"
            ),
            ProtoError::Unexpected { got, expected } => {
                write!(f, "unexpected {got} message while waiting for {expected}")
            }
        }
    }
}

impl std::error::Error for ProtoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProtoError::Scram(err) => Some(err),
            ProtoError::AuthRefused(refusal) => Some(refusal),
            _ => None,
        }
    }
}

/// Renders a tag byte readably: `'D'` for printable ASCII, `0x00` otherwise.
fn tag_name(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}'", tag as char)
    } else {
        format!("0x{tag:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_named_readably() {
        assert_eq!(
            ProtoError::UnknownTag(b'Q').to_string(),
            "unknown backend message tag 'Q'"
        );
        assert_eq!(
            ProtoError::UnknownTag(0).to_string(),
            "unknown backend message tag 0x00"
        );
        // A space is printable but not graphic: shown as a number, not as ' '.
        assert_eq!(
            ProtoError::UnknownTag(b' ').to_string(),
            "unknown backend message tag 0x20"
        );
        assert_eq!(
            ProtoError::InvalidLength {
                tag: b'D',
                len: 3,
                max: 1024
            }
            .to_string(),
            "backend message 'D' declares length 3, outside 4..=1024"
        );
    }

    #[test]
    fn frontend_and_startup_errors_name_their_side() {
        assert_eq!(
            ProtoError::UnknownFrontendTag(b'Z').to_string(),
            "unknown frontend message tag 'Z'"
        );
        assert_eq!(
            ProtoError::InvalidFrontendLength {
                tag: b'Q',
                len: -1,
                max: 10
            }
            .to_string(),
            "frontend message 'Q' declares length -1, outside 4..=10"
        );
        assert_eq!(
            ProtoError::InvalidStartupLength { len: 7, max: 10000 }.to_string(),
            "startup packet declares length 7, outside 8..=10000"
        );
        // 1234.5681: one past GSSENCRequest's code.
        assert_eq!(
            ProtoError::UnknownStartupCode(80_877_105).to_string(),
            "startup packet with unknown protocol version or request code 1234.5681 (80877105)"
        );
        assert_eq!(
            ProtoError::UnknownStartupCode(-1).to_string(),
            "startup packet with unknown protocol version or request code 65535.65535 (-1)"
        );
    }
}
