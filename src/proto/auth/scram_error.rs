//! [`ScramError`], every way a SCRAM-SHA-256 exchange (or [`scram_verifier`]) can fail: the
//! enum a caller matches on, its texts (which quote server values cut to a readable length and
//! never show the password), and its conversion into
//! [`ProtoError::Scram`](crate::proto::ProtoError::Scram). The exchange itself is in
//! [`scram`](super::scram), which re-exports the type (as does [`auth`](super)).

use std::fmt;

use super::scram::MAX_ITERATIONS;
#[cfg(doc)]
use super::scram::{scram_verifier, ChannelBindingChoice, ScramSha256};

/// Why a SCRAM-SHA-256 exchange (or [`scram_verifier`]) failed.
///
/// Converts into [`ProtoError::Scram`](crate::proto::ProtoError::Scram), and from there into a
/// [`tusk::Error`](crate::Error) of [`Kind::Auth`](crate::Kind::Auth), whose
/// [`source`](std::error::Error::source) is that `ProtoError`:
///
/// ```
/// use std::error::Error as _;
/// use tusk::proto::{auth::ScramError, ProtoError};
///
/// # fn check(err: &tusk::Error) {
/// let scram = err
///     .source()
///     .and_then(|s| s.downcast_ref::<ProtoError>())
///     .and_then(|p| match p {
///         ProtoError::Scram(e) => Some(e),
///         _ => None,
///     });
/// if scram == Some(&ScramError::BadServerSignature) {
///     // the server does not know the password: possibly an impostor
/// }
/// # }
/// ```
///
/// No variant carries the password, and the texts never show it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScramError {
    /// The nonce of the server-first-message does not extend the client's nonce (a replayed or
    /// tampered exchange).
    NonceMismatch,
    /// The signature of the server-final-message does not verify: the server does not know the
    /// password (or the exchange was tampered with).
    BadServerSignature,
    /// The iteration count of the server-first-message is not a decimal number in
    /// `1..=`[`MAX_ITERATIONS`]: zero, above the limit, or not a number at all.
    IterationCount {
        /// The count as the server sent it (the `i=` value), e.g. `"0"`, `"4294967295"`, `"4k"`.
        count: String,
    },
    /// A server message does not have the form RFC 5802 gives it: an attribute missing, out of
    /// order or garbled, bad base64, an empty salt, a signature of the wrong length, text that
    /// is not UTF-8, ...
    Malformed {
        /// The SCRAM message at fault: `"server-first-message"` or `"server-final-message"`.
        message: &'static str,
        /// What was wrong with it, e.g. `"the salt is not valid base64"`.
        reason: String,
    },
    /// The server-first-message starts with the mandatory-extension attribute `m=`, which this
    /// client does not support (RFC 5802 requires refusing it).
    MandatoryExtension,
    /// The server-final-message carries `e=<error>`: the server's own verdict, e.g.
    /// `"invalid-proof"` (decoded lossily if not UTF-8).
    ServerError(String),
    /// The client nonce passed to [`ScramSha256::new`] is empty, or not printable ASCII without
    /// `,`.
    InvalidClientNonce,
    /// The user name passed to [`ScramSha256::with_username`] contains a NUL character.
    NulInUsername,
    /// [`ChannelBindingChoice::TlsServerEndPoint`] was given no bytes: the IO layer failed to
    /// compute the hash of the server's certificate.
    EmptyChannelBindingData,
    /// [`scram_verifier`] was given an empty salt or zero iterations.
    InvalidVerifierInput {
        /// What was wrong, e.g. `"a SCRAM verifier needs a non-empty salt"`.
        reason: &'static str,
    },
    /// [`ScramSha256::update`] or [`ScramSha256::finish`] was called when the exchange was not
    /// waiting for it: `finish` before `update`, either one twice or after completion.
    OutOfOrder {
        /// The method called: `"update"` or `"finish"`.
        call: &'static str,
        /// The state the exchange was in: `"AwaitingServerFirst"`, `"AwaitingServerFinal"` or
        /// `"Done"` (the names `Debug` shows for [`ScramSha256`]).
        state: &'static str,
    },
    /// A method was called after an earlier error had ended the exchange; start a new one.
    AlreadyFailed,
}

impl fmt::Display for ScramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScramError::NonceMismatch => f.write_str(
                "server-first-message: the server nonce does not extend the client nonce \
                 (a replayed or tampered exchange)",
            ),
            ScramError::BadServerSignature => f.write_str(
                "the server's SCRAM signature is wrong: the server does not know the password \
                 (or the exchange was tampered with)",
            ),
            ScramError::IterationCount { count } => {
                let digits = !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit());
                if !digits {
                    write!(
                        f,
                        "server-first-message: the iteration count {} is not a positive integer",
                        shown(count)
                    )
                } else if count.bytes().all(|b| b == b'0') {
                    f.write_str(
                        "server-first-message: the iteration count is 0; it must be at least 1",
                    )
                } else {
                    write!(
                        f,
                        "server-first-message: the iteration count {} exceeds this client's \
                         limit of {MAX_ITERATIONS}",
                        shown(count)
                    )
                }
            }
            ScramError::Malformed { message, reason } => write!(f, "{message}: {reason}"),
            ScramError::MandatoryExtension => f.write_str(
                "server-first-message carries a mandatory extension (m=), which this client \
                 does not support",
            ),
            ScramError::ServerError(error) => {
                write!(f, "the server reported a SCRAM error: {error}")
            }
            ScramError::InvalidClientNonce => {
                f.write_str("the SCRAM client nonce must be non-empty printable ASCII without ','")
            }
            ScramError::NulInUsername => {
                f.write_str("the SCRAM user name contains a NUL character")
            }
            ScramError::EmptyChannelBindingData => f.write_str(
                "the tls-server-end-point channel binding data is empty (the hash of the \
                 server's certificate is missing)",
            ),
            ScramError::InvalidVerifierInput { reason } => f.write_str(reason),
            ScramError::OutOfOrder { call, state } => match (*call, *state) {
                ("update", "AwaitingServerFinal") => f.write_str(
                    "update() called twice: the server-first-message was already processed",
                ),
                ("update", "Done") => {
                    f.write_str("update() called after the SCRAM exchange completed")
                }
                ("finish", "AwaitingServerFirst") => f.write_str(
                    "finish() called before update(): the server-final-message arrived before \
                     the server-first-message",
                ),
                ("finish", "Done") => {
                    f.write_str("finish() called twice: the SCRAM exchange already completed")
                }
                _ => write!(f, "{call}() called in SCRAM state {state}"),
            },
            ScramError::AlreadyFailed => {
                f.write_str("the SCRAM exchange already failed; start a new one")
            }
        }
    }
}

impl std::error::Error for ScramError {}

impl From<ScramError> for crate::proto::ProtoError {
    fn from(err: ScramError) -> Self {
        crate::proto::ProtoError::Scram(err)
    }
}

/// A server-sent value quoted in an error, cut to a readable length.
pub(super) fn shown(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut quoted: String = value.chars().take(MAX_CHARS).collect();
    if value.chars().nth(MAX_CHARS).is_some() {
        quoted.push_str("...");
    }
    format!("{quoted:?}")
}
