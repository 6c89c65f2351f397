//! The server side of the protocol: decoding what a client sends and encoding what a server
//! sends, for fake servers, proxies and conformance tools. Sans-IO like the rest of
//! [`crate::proto`]: bytes in, values out, values in, bytes out.
//!
//! A server reads, in order:
//!
//! 1. **The startup packet**, which has no tag: [`split_startup_packet`] splits it off the read
//!    buffer (its length bounded by [`MAX_STARTUP_PACKET_LEN`] as PostgreSQL bounds it) and
//!    [`StartupPacket::parse`] decodes it: a StartupMessage with its protocol version and
//!    parameters, or an SSLRequest, GSSENCRequest or CancelRequest. [`decode_startup`] does
//!    both. After an SSLRequest or GSSENCRequest answered `N`, the next startup packet follows.
//! 2. **Tagged frontend messages**: [`split_frontend_frame`] frames them (the same rules as the
//!    client's [`framing`](crate::proto::framing)), [`FrontendMessage::parse`] decodes them,
//!    [`decode`] does both. Bodies stay as [`Bytes`](bytes::Bytes) shared with the read buffer;
//!    strings are [`Text`], UTF-8 checked once; Bind's values, Parse's types and FunctionCall's
//!    arguments are checked completely at decoding time and then walked without copying. The
//!    `'p'` message is an [`AuthResponse`], read as the password, SASL or GSS response the
//!    server's last authentication request called for.
//!
//! It writes with the [`backend`] encoders, one function per message (AuthenticationOk to
//! RowDescription), under the same checks as the client's
//! [`frontend`](crate::proto::frontend) encoders.
//!
//! Text fields are decoded as UTF-8, the encoding tusk and nearly every current client use: a
//! field in another encoding is [`ProtoError::Malformed`] naming it (a proxy for such clients
//! forwards the raw frames). Layout errors never panic and always name the message and field.
//!
//! ```
//! use bytes::BytesMut;
//! use tusk::proto::backend::TransactionStatus;
//! use tusk::proto::server::{self, backend, FrontendMessage, StartupPacket};
//! use tusk::proto::{frontend, MAX_FRONTEND_MESSAGE_LEN};
//!
//! // What a client wrote.
//! let mut read = BytesMut::new();
//! frontend::startup_message([("user", "alice")], &mut read)?;
//! frontend::query("SELECT 1", &mut read)?;
//!
//! // The server's side.
//! let Some(StartupPacket::Startup { parameters, .. }) =
//!     server::decode_startup(&mut read, server::MAX_STARTUP_PACKET_LEN)?
//! else {
//!     panic!("expected a StartupMessage")
//! };
//! assert_eq!(parameters.get("user"), Some("alice"));
//! let mut write = BytesMut::new();
//! backend::authentication_ok(&mut write);
//! backend::ready_for_query(TransactionStatus::Idle, &mut write);
//!
//! let Some(FrontendMessage::Query(sql)) = server::decode(&mut read, MAX_FRONTEND_MESSAGE_LEN)?
//! else {
//!     panic!("expected a Query")
//! };
//! assert_eq!(sql, "SELECT 1");
//! # Ok::<(), tusk::proto::ProtoError>(())
//! ```

mod auth_response;
pub mod backend;
mod extended;
mod messages;
mod startup;
mod text;

use bytes::BytesMut;

pub use self::auth_response::{AuthResponse, SaslInitialResponse};
pub use self::extended::{Bind, Formats, FunctionCall, ParamTypes, Parse, Values};
pub use self::messages::{Execute, FrontendMessage, Target};
pub use self::startup::{
    decode_startup, split_startup_packet, StartupPacket, StartupParameterIter, StartupParameters,
    MAX_STARTUP_PACKET_LEN,
};
pub use self::text::Text;
pub use crate::proto::framing::split_frontend_frame;
use crate::proto::ProtoError;
/// Re-exported from [`crate::proto`], where it lives since the client negotiates versions too.
pub use crate::proto::ProtocolVersion;

/// Splits one complete frontend message off `buf` ([`split_frontend_frame`]) and decodes it
/// ([`FrontendMessage::parse`]). `Ok(None)` means the message is incomplete and nothing was
/// consumed. After a framing error nothing is consumed either; after a decoding error the
/// faulty frame has been consumed.
pub fn decode(buf: &mut BytesMut, max_len: usize) -> Result<Option<FrontendMessage>, ProtoError> {
    match split_frontend_frame(buf, max_len)? {
        Some(frame) => FrontendMessage::parse(frame).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod backend_tests;
#[cfg(test)]
mod tests;
