//! The Authentication message (tag `'R'`): which method the server asks for, and the data of
//! each step of a GSSAPI, SSPI or SASL exchange.

use bytes::Bytes;

use super::reader::Reader;
use crate::proto::ProtoError;

/// An authentication request or result from the server.
///
/// The SASL data is kept as bytes: the SCRAM state machine in [`crate::proto::auth`] parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// AuthenticationOk (code 0): authentication succeeded.
    Ok,
    /// AuthenticationKerberosV5 (code 2), no longer sent by supported servers.
    KerberosV5,
    /// AuthenticationCleartextPassword (code 3): send the password as is.
    CleartextPassword,
    /// AuthenticationMD5Password (code 5): send the password hashed with this salt.
    Md5Password {
        /// The 4 random bytes to hash in.
        salt: [u8; 4],
    },
    /// AuthenticationSCMCredential (code 6), no longer sent by supported servers.
    ScmCredential,
    /// AuthenticationGSS (code 7): start a GSSAPI exchange.
    Gss,
    /// AuthenticationGSSContinue (code 8): the next GSSAPI or SSPI token.
    GssContinue(Bytes),
    /// AuthenticationSSPI (code 9): start an SSPI exchange.
    Sspi,
    /// AuthenticationSASL (code 10): the SASL mechanisms the server offers, in its order of
    /// preference.
    Sasl {
        /// Mechanism names such as `"SCRAM-SHA-256"`.
        mechanisms: Vec<String>,
    },
    /// AuthenticationSASLContinue (code 11): a server challenge (the SCRAM server-first-message).
    SaslContinue(Bytes),
    /// AuthenticationSASLFinal (code 12): the outcome data (the SCRAM server-final-message).
    SaslFinal(Bytes),
}

impl Authentication {
    /// Decodes the body of an `'R'` message. An unknown code is
    /// [`ProtoError::UnsupportedAuth`] naming it.
    pub(super) fn parse(body: Bytes) -> Result<Authentication, ProtoError> {
        let mut r = Reader::new("Authentication", &body);
        let code = r.i32("the authentication code")?;
        let name =
            code_name(code).ok_or_else(|| ProtoError::UnsupportedAuth(format!("code {code}")))?;
        r.set_message(name);
        let auth = match code {
            0 => Authentication::Ok,
            2 => Authentication::KerberosV5,
            3 => Authentication::CleartextPassword,
            5 => Authentication::Md5Password {
                salt: r.array("the salt")?,
            },
            6 => Authentication::ScmCredential,
            7 => Authentication::Gss,
            8 => Authentication::GssContinue(r.rest()),
            9 => Authentication::Sspi,
            10 => Authentication::Sasl {
                mechanisms: parse_mechanisms(&mut r)?,
            },
            11 => Authentication::SaslContinue(r.rest()),
            12 => Authentication::SaslFinal(r.rest()),
            // `code_name` knows exactly the codes above.
            _ => return Err(ProtoError::UnsupportedAuth(format!("code {code}"))),
        };
        r.finish()?;
        Ok(auth)
    }

    /// The authentication code on the wire, e.g. 10 for [`Authentication::Sasl`].
    pub fn code(&self) -> i32 {
        match self {
            Authentication::Ok => 0,
            Authentication::KerberosV5 => 2,
            Authentication::CleartextPassword => 3,
            Authentication::Md5Password { .. } => 5,
            Authentication::ScmCredential => 6,
            Authentication::Gss => 7,
            Authentication::GssContinue(_) => 8,
            Authentication::Sspi => 9,
            Authentication::Sasl { .. } => 10,
            Authentication::SaslContinue(_) => 11,
            Authentication::SaslFinal(_) => 12,
        }
    }

    /// The message's name in the protocol documentation, e.g. `"AuthenticationSASL"`.
    pub fn name(&self) -> &'static str {
        // Every variant's code is in the table.
        code_name(self.code()).unwrap_or("Authentication")
    }
}

/// The documented name of each authentication code this crate knows.
fn code_name(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "AuthenticationOk",
        2 => "AuthenticationKerberosV5",
        3 => "AuthenticationCleartextPassword",
        5 => "AuthenticationMD5Password",
        6 => "AuthenticationSCMCredential",
        7 => "AuthenticationGSS",
        8 => "AuthenticationGSSContinue",
        9 => "AuthenticationSSPI",
        10 => "AuthenticationSASL",
        11 => "AuthenticationSASLContinue",
        12 => "AuthenticationSASLFinal",
        _ => return None,
    })
}

/// Reads AuthenticationSASL's list of NUL-terminated names, which ends with an empty name.
fn parse_mechanisms(r: &mut Reader<'_>) -> Result<Vec<String>, ProtoError> {
    let mut mechanisms = Vec::new();
    loop {
        let name = r.cstr("a SASL mechanism name")?;
        if name.is_empty() {
            return Ok(mechanisms);
        }
        // The Vec grows by one per name actually present in the body, so its size is bounded
        // by the (already length-checked) message, not by anything the server declared.
        mechanisms.push(name.to_owned());
    }
}
