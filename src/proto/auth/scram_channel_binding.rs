//! [`ChannelBindingChoice`], what a SCRAM client says about channel binding in its GS2 header
//! (RFC 5802 sections 6 and 7) and the `tls-server-end-point` data it binds to (RFC 5929
//! section 4). The exchange itself is in [`scram`](super::scram), which re-exports the type.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::scram::{SCRAM_SHA_256, SCRAM_SHA_256_PLUS};

/// What the client says about channel binding in its GS2 header (RFC 5802 sections 6 and 7),
/// and the binding data when it binds.
///
/// ```
/// use tusk::proto::auth::scram::{ChannelBindingChoice, ScramSha256};
///
/// let hash = vec![0xab; 32]; // from the IO layer: the hash of the server's certificate
/// let plus = ChannelBindingChoice::TlsServerEndPoint(hash);
/// assert_eq!(plus.mechanism(), "SCRAM-SHA-256-PLUS");
/// assert_eq!(plus.gs2_header(), "p=tls-server-end-point,,");
/// let scram = ScramSha256::with_channel_binding(b"pencil", "rOprNGfwEbeRWgbNEkqO", plus)?;
/// assert_eq!(scram.message(), b"p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO");
/// # Ok::<(), tusk::proto::auth::ScramError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelBindingChoice {
    /// GS2 flag `n`: the client does not support channel binding (no TLS, or
    /// `channel_binding=disable`). Mechanism [`SCRAM_SHA_256`].
    NotSupported,
    /// GS2 flag `y`: the client could bind (it is on TLS) but the server did not offer
    /// [`SCRAM_SHA_256_PLUS`]; a server that supports channel binding refuses this, which
    /// detects a stripped offer. Mechanism [`SCRAM_SHA_256`].
    SupportedButNotUsed,
    /// GS2 flag `p=tls-server-end-point`: bind to the TLS channel with these bytes, the hash of
    /// the server's certificate (RFC 5929 section 4.1). Mechanism [`SCRAM_SHA_256_PLUS`]. The
    /// bytes must not be empty.
    TlsServerEndPoint(Vec<u8>),
}

impl ChannelBindingChoice {
    /// The SASL mechanism to name in the SASLInitialResponse: [`SCRAM_SHA_256_PLUS`] when
    /// binding, [`SCRAM_SHA_256`] otherwise.
    pub fn mechanism(&self) -> &'static str {
        match self {
            ChannelBindingChoice::TlsServerEndPoint(_) => SCRAM_SHA_256_PLUS,
            _ => SCRAM_SHA_256,
        }
    }

    /// The GS2 header (with an empty authzid): `n,,`, `y,,` or `p=tls-server-end-point,,`.
    pub fn gs2_header(&self) -> &'static str {
        match self {
            ChannelBindingChoice::NotSupported => "n,,",
            ChannelBindingChoice::SupportedButNotUsed => "y,,",
            ChannelBindingChoice::TlsServerEndPoint(_) => "p=tls-server-end-point,,",
        }
    }

    /// The `c=` value of the client-final-message: base64 of the GS2 header followed by the
    /// binding data (none unless binding).
    pub(super) fn c_attribute(&self) -> String {
        let mut input = self.gs2_header().as_bytes().to_vec();
        if let ChannelBindingChoice::TlsServerEndPoint(data) = self {
            input.extend_from_slice(data);
        }
        STANDARD.encode(input)
    }
}
