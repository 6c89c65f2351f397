//! Protocol versions: [`ProtocolVersion`] (major and minor, as a StartupMessage carries them)
//! and [`VersionBounds`], the range a client accepts (libpq 18's `min_protocol_version` and
//! `max_protocol_version`).
//!
//! Protocol 3.2 (PostgreSQL 18) differs from 3.0 in one thing a client sees: the BackendKeyData
//! secret, and so the CancelRequest key, is variable-length (4 to 256 bytes; PostgreSQL 18
//! sends 32). A client asks for a version in its StartupMessage; a server that speaks only an
//! older minor version answers NegotiateProtocolVersion with its newest one, and the session
//! then runs at that version ([`crate::proto::session::Startup`] checks the answer). There is
//! no protocol 3.1: PostgreSQL went from 3.0 to 3.2, and tusk speaks exactly those two.

use std::fmt;

use crate::proto::backend::NegotiateProtocolVersion;
use crate::proto::ProtoError;

/// A protocol version as a StartupMessage carries it: the major version in the high 16 bits of
/// the code, the minor in the low 16.
///
/// ```
/// use tusk::proto::ProtocolVersion;
///
/// assert_eq!(ProtocolVersion::V3_2.to_string(), "3.2");
/// assert_eq!(ProtocolVersion::V3_2.code(), 196_610);
/// assert_eq!(ProtocolVersion::from_code(196_608), ProtocolVersion::V3_0);
/// assert!(ProtocolVersion::V3_0 < ProtocolVersion::LATEST);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion {
    /// The major version: 3 for every protocol a current server speaks.
    pub major: u16,
    /// The minor version: 0, or 2 since PostgreSQL 18.
    pub minor: u16,
}

impl ProtocolVersion {
    /// Protocol 3.0 (PostgreSQL 7.4 to 17; [`crate::proto::PROTOCOL_VERSION`] is its code).
    pub const V3_0: ProtocolVersion = ProtocolVersion { major: 3, minor: 0 };
    /// Protocol 3.2 (PostgreSQL 18: variable-length cancel keys).
    pub const V3_2: ProtocolVersion = ProtocolVersion { major: 3, minor: 2 };
    /// The oldest version tusk speaks: 3.0.
    pub const EARLIEST: ProtocolVersion = ProtocolVersion::V3_0;
    /// The newest version tusk speaks: 3.2 (what the setting `latest` means).
    pub const LATEST: ProtocolVersion = ProtocolVersion::V3_2;

    /// The version from its 32-bit code, e.g. 196608 for 3.0.
    pub const fn from_code(code: i32) -> ProtocolVersion {
        // The two halves of the code's bits.
        let code = code as u32;
        ProtocolVersion {
            major: (code >> 16) as u16,
            minor: code as u16,
        }
    }

    /// The version's 32-bit code, e.g. 196608 for 3.0.
    pub const fn code(self) -> i32 {
        ((self.major as u32) << 16 | self.minor as u32) as i32
    }

    /// Whether tusk speaks this version (3.0 or 3.2).
    pub fn is_supported(self) -> bool {
        self == ProtocolVersion::V3_0 || self == ProtocolVersion::V3_2
    }

    /// The length a BackendKeyData secret (and so a CancelRequest key) may have at this
    /// version: exactly 4 bytes in 3.0; 4 to [`MAX_CANCEL_KEY_LEN`] in 3.2.
    ///
    /// [`MAX_CANCEL_KEY_LEN`]: crate::proto::frontend::MAX_CANCEL_KEY_LEN
    pub fn allows_key_len(self, len: usize) -> bool {
        use crate::proto::frontend::{MAX_CANCEL_KEY_LEN, MIN_CANCEL_KEY_LEN};
        if self == ProtocolVersion::V3_0 {
            len == MIN_CANCEL_KEY_LEN
        } else {
            (MIN_CANCEL_KEY_LEN..=MAX_CANCEL_KEY_LEN).contains(&len)
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The protocol versions a client accepts: it asks for `max` in its StartupMessage and refuses
/// a server that can only go below `min` (libpq 18's `min_protocol_version` and
/// `max_protocol_version`). The default is libpq 18's: 3.0 to 3.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionBounds {
    /// The oldest version the client accepts.
    pub min: ProtocolVersion,
    /// The version the client asks for, the newest it accepts.
    pub max: ProtocolVersion,
}

impl Default for VersionBounds {
    fn default() -> Self {
        VersionBounds {
            min: ProtocolVersion::V3_0,
            max: ProtocolVersion::V3_0,
        }
    }
}

impl VersionBounds {
    /// The version a session runs at after the server answered a StartupMessage that asked for
    /// `self.max` with `answer`, checked as libpq 18 checks it: the server's newest version
    /// (the field holds the whole version code) becomes the session's, which must be below what was asked for (a server that
    /// "downgrades" to a higher version, or negotiates without changing anything, is wrong),
    /// one tusk speaks, and not below `self.min`. Every option the server lists as
    /// unrecognized is an error naming it, since tusk requests none.
    ///
    /// ```
    /// use tusk::proto::backend::NegotiateProtocolVersion;
    /// use tusk::proto::{ProtocolVersion, VersionBounds};
    ///
    /// // What PostgreSQL 15 answers to a 3.2 request: 196608, protocol 3.0's code.
    /// let pg15 = NegotiateProtocolVersion { newest_minor: 196_608, unrecognized: vec![] };
    /// let latest = VersionBounds { min: ProtocolVersion::V3_0, max: ProtocolVersion::V3_2 };
    /// assert_eq!(latest.negotiate(&pg15)?, ProtocolVersion::V3_0);
    ///
    /// let only_32 = VersionBounds { min: ProtocolVersion::V3_2, max: ProtocolVersion::V3_2 };
    /// assert_eq!(
    ///     only_32.negotiate(&pg15).unwrap_err().to_string(),
    ///     "server only supports protocol version 3.0, but \"min_protocol_version\" was set to 3.2"
    /// );
    /// # Ok::<(), tusk::proto::ProtoError>(())
    /// ```
    pub fn negotiate(
        &self,
        answer: &NegotiateProtocolVersion,
    ) -> Result<ProtocolVersion, ProtoError> {
        let invalid = |reason: String| {
            ProtoError::Negotiation(format!(
                "received invalid protocol negotiation message: {reason}"
            ))
        };
        let requested = self.max;
        // The whole version code, as PostgreSQL sends it and libpq reads it (3.0 is 196608),
        // though the protocol documentation calls the field the newest minor version.
        let offered = ProtocolVersion::from_code(answer.newest_minor);
        if offered > requested {
            return Err(invalid(
                "server requested downgrade to a higher-numbered version".into(),
            ));
        }
        if offered == requested && answer.unrecognized.is_empty() {
            return Err(invalid("server negotiated but asks for no changes".into()));
        }
        if offered < self.min {
            return Err(ProtoError::Negotiation(format!(
                "server only supports protocol version {offered}, but \"min_protocol_version\" \
                 was set to {}",
                self.min
            )));
        }
        if !offered.is_supported() {
            return Err(invalid(format!(
                "server offered protocol version {offered}, which tusk does not speak (it speaks \
                 3.0 and 3.2)"
            )));
        }
        // tusk requests no protocol options, so any the server lists is one it never asked for.
        if let Some(option) = answer.unrecognized.first() {
            return Err(invalid(if option.starts_with("_pq_.") {
                format!(
                    "server reported an unsupported parameter that was not requested ({option:?})"
                )
            } else {
                format!(
                    "server reported unsupported parameter name without a \"_pq_.\" prefix \
                     ({option:?})"
                )
            }));
        }
        Ok(offered)
    }
}
