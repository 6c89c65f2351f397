//! [`AuthResponse`]: the `'p'` message, which PasswordMessage, SASLInitialResponse,
//! SASLResponse and GSSResponse share. Only the authentication request the server sent says
//! which one arrived, so the body is kept whole and read as the one the server expects.

use bytes::Bytes;

use crate::proto::backend::reader::Reader;
use crate::proto::ProtoError;

/// An authentication response (`'p'`), to be read as the kind the server's last
/// authentication request called for:
///
/// | the server sent                                   | read the response with              |
/// |---------------------------------------------------|-------------------------------------|
/// | AuthenticationCleartextPassword, MD5Password      | [`as_password`](Self::as_password)  |
/// | AuthenticationSASL                                | [`as_sasl_initial_response`](Self::as_sasl_initial_response) |
/// | AuthenticationSASLContinue                        | [`as_sasl_response`](Self::as_sasl_response) |
/// | AuthenticationGSS, SSPI, GSSContinue              | [`as_gss_response`](Self::as_gss_response) |
///
/// ```
/// use bytes::Bytes;
/// use tusk::proto::framing::Frame;
/// use tusk::proto::server::FrontendMessage;
///
/// let body = Bytes::from_static(b"SCRAM-SHA-256\0\x00\x00\x00\x03n,,");
/// let FrontendMessage::AuthResponse(response) =
///     FrontendMessage::parse(Frame { tag: b'p', body })?
/// else {
///     unreachable!()
/// };
/// let initial = response.as_sasl_initial_response()?;
/// assert_eq!((initial.mechanism, initial.data), ("SCRAM-SHA-256", Some(&b"n,,"[..])));
/// // The same bytes are not a password: a password is one C string.
/// assert!(response.as_password().is_err());
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthResponse(Bytes);

/// A SASLInitialResponse: the mechanism the client chose and its first message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaslInitialResponse<'a> {
    /// The SASL mechanism, e.g. `"SCRAM-SHA-256"`.
    pub mechanism: &'a str,
    /// The mechanism's initial client response; `None` when the client sent none (length -1).
    pub data: Option<&'a [u8]>,
}

impl AuthResponse {
    pub(super) fn new(body: Bytes) -> AuthResponse {
        AuthResponse(body)
    }

    /// The message body, whatever kind it is.
    pub fn body(&self) -> &Bytes {
        &self.0
    }

    /// Reads it as a PasswordMessage: the password (cleartext, or the `md5...` hash) without its
    /// terminating NUL. The body must be exactly one NUL-terminated string. The password is
    /// bytes, not necessarily UTF-8.
    pub fn as_password(&self) -> Result<&[u8], ProtoError> {
        let mut r = Reader::new("PasswordMessage", &self.0);
        let password = r.cstr_bytes("the password")?;
        r.finish()?;
        Ok(password)
    }

    /// Reads it as a SASLInitialResponse: the mechanism's name, then the length of the initial
    /// response (-1 for none) and that many bytes, with nothing after them.
    pub fn as_sasl_initial_response(&self) -> Result<SaslInitialResponse<'_>, ProtoError> {
        let mut r = Reader::new("SASLInitialResponse", &self.0);
        let mechanism = r.cstr("the mechanism name")?;
        let len = r.i32("the length of the initial response")?;
        let data = match usize::try_from(len) {
            Ok(len) => Some(r.take(len, "the end of the initial response")?),
            Err(_) if len == -1 => None,
            Err(_) => return Err(r.error(format!("invalid initial response length {len}"))),
        };
        r.finish()?;
        Ok(SaslInitialResponse { mechanism, data })
    }

    /// Reads it as a SASLResponse: the whole body is the mechanism's data.
    pub fn as_sasl_response(&self) -> &Bytes {
        &self.0
    }

    /// Reads it as a GSSResponse: the whole body is GSSAPI or SSPI data.
    pub fn as_gss_response(&self) -> &Bytes {
        &self.0
    }
}
