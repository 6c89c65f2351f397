//! What the client accepts from the server during authentication: libpq's `require_auth`
//! ([`RequireAuth`], which methods the server may ask for) and `channel_binding`
//! ([`ChannelBinding`], whether SCRAM must be bound to the TLS channel).
//!
//! These are policies, not exchanges: [`Startup`](crate::proto::session::Startup) consults them
//! before any credential is sent, so a server asking for something the user did not allow is
//! refused before the password (or anything derived from it) leaves the client. A refusal is an
//! [`AuthRefusal`], carried by
//! [`ProtoError::AuthRefused`](crate::proto::ProtoError::AuthRefused).

use std::fmt;

/// An authentication method a server can ask for, as `require_auth` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `password`: the password sent in cleartext (AuthenticationCleartextPassword).
    Password,
    /// `md5`: the MD5 challenge (AuthenticationMD5Password).
    Md5,
    /// `scram-sha-256`: SASL with SCRAM-SHA-256 or SCRAM-SHA-256-PLUS.
    ScramSha256,
    /// `gss`: GSSAPI (Kerberos). Recognised; tusk does not implement it.
    Gss,
    /// `sspi`: Windows SSPI. Recognised; tusk does not implement it.
    Sspi,
    /// `none`: the server asks for no authentication at all (`trust`, or a client certificate
    /// alone with `cert`).
    None,
}

impl AuthMethod {
    /// Every method, in the order `require_auth` lists them in errors.
    pub const ALL: [AuthMethod; 6] = [
        AuthMethod::Password,
        AuthMethod::Md5,
        AuthMethod::ScramSha256,
        AuthMethod::Gss,
        AuthMethod::Sspi,
        AuthMethod::None,
    ];

    /// The `require_auth` spelling: `password`, `md5`, `scram-sha-256`, `gss`, `sspi`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::Md5 => "md5",
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::Gss => "gss",
            AuthMethod::Sspi => "sspi",
            AuthMethod::None => "none",
        }
    }

    fn from_setting(name: &str) -> Option<AuthMethod> {
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl AuthMethod {
    /// What the server did, in libpq's words, for a refusal: "server requested a cleartext
    /// password", ..., and for [`AuthMethod::None`] "server did not complete authentication".
    pub fn server_request(self) -> &'static str {
        match self {
            AuthMethod::Password => "server requested a cleartext password",
            AuthMethod::Md5 => "server requested a hashed password",
            AuthMethod::ScramSha256 => "server requested SASL authentication",
            AuthMethod::Gss => "server requested GSSAPI authentication",
            AuthMethod::Sspi => "server requested SSPI authentication",
            AuthMethod::None => "server did not complete authentication",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// libpq's `require_auth` (version 16): which authentication methods the server may use.
///
/// The setting is a comma-separated list of [`AuthMethod`] names. A plain list allows exactly
/// those methods; a list where every name starts with `!` allows every method but those. The
/// two forms cannot be mixed, and a name may not repeat. The default allows everything.
///
/// ```
/// use tusk::proto::auth::{AuthMethod, RequireAuth};
///
/// let scram_only: RequireAuth = "scram-sha-256".parse()?;
/// assert!(scram_only.allows(AuthMethod::ScramSha256));
/// assert!(!scram_only.allows(AuthMethod::Password));
/// assert!(!scram_only.allows(AuthMethod::None)); // trust is refused too
///
/// let no_cleartext: RequireAuth = "!password".parse()?;
/// assert!(no_cleartext.allows(AuthMethod::Md5));
/// assert!(!no_cleartext.allows(AuthMethod::Password));
/// assert!("md5,!password".parse::<RequireAuth>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequireAuth {
    /// One bit per [`AuthMethod`] (by discriminant) that the server may use.
    allowed: u8,
}

impl Default for RequireAuth {
    fn default() -> RequireAuth {
        RequireAuth::ANY
    }
}

impl RequireAuth {
    /// Every method allowed: libpq's default.
    pub const ANY: RequireAuth = RequireAuth { allowed: 0b11_1111 };

    /// Whether the server may use `method`.
    pub fn allows(self, method: AuthMethod) -> bool {
        self.allowed & method.bit() != 0
    }

    /// Whether this is the default (everything allowed).
    pub fn is_any(self) -> bool {
        self == RequireAuth::ANY
    }

    /// The allowed methods, in [`AuthMethod::ALL`] order.
    pub fn allowed(self) -> impl Iterator<Item = AuthMethod> {
        AuthMethod::ALL.into_iter().filter(move |m| self.allows(*m))
    }
}

impl std::str::FromStr for RequireAuth {
    type Err = String;

    /// Parses libpq's syntax. The error names the offending element.
    fn from_str(value: &str) -> Result<RequireAuth, String> {
        let mut listed = 0u8;
        let mut negated = None;
        for element in value.split(',') {
            let (negative, name) = match element.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, element),
            };
            let method = AuthMethod::from_setting(name).ok_or_else(|| {
                format!(
                    "invalid require_auth value \"{element}\": expected a comma-separated list \
                     of password, md5, scram-sha-256, gss, sspi or none, each optionally \
                     prefixed with '!'"
                )
            })?;
            match negated {
                Some(previous) if previous != negative => {
                    return Err(format!(
                        "require_auth method \"{element}\" cannot be mixed with {} methods",
                        if previous { "negative" } else { "non-negative" }
                    ))
                }
                _ => negated = Some(negative),
            }
            if listed & method.bit() != 0 {
                return Err(format!(
                    "require_auth method \"{name}\" is specified more than once"
                ));
            }
            listed |= method.bit();
        }
        let allowed = if negated == Some(true) {
            RequireAuth::ANY.allowed & !listed
        } else {
            listed
        };
        Ok(RequireAuth { allowed })
    }
}

impl fmt::Display for RequireAuth {
    /// The canonical setting: the allowed methods, or `!`-prefixed the refused ones when that
    /// is shorter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refused: Vec<AuthMethod> = AuthMethod::ALL
            .into_iter()
            .filter(|m| !self.allows(*m))
            .collect();
        let allowed: Vec<AuthMethod> = self.allowed().collect();
        let text: Vec<String> = if !refused.is_empty() && refused.len() < allowed.len() {
            refused.iter().map(|m| format!("!{m}")).collect()
        } else {
            allowed.iter().map(|m| m.to_string()).collect()
        };
        f.write_str(&text.join(","))
    }
}

/// libpq's `channel_binding`: whether SCRAM authentication is bound to the TLS channel
/// (SCRAM-SHA-256-PLUS with `tls-server-end-point`), which proves that the server holding the
/// password verifier is the one at the other end of the TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChannelBinding {
    /// Never use channel binding.
    Disable,
    /// Use it when the connection is TLS and the server offers SCRAM-SHA-256-PLUS (the
    /// default).
    #[default]
    Prefer,
    /// Require it: the connection fails without TLS, when the server does not offer
    /// SCRAM-SHA-256-PLUS, or when it authenticates the client any other way.
    Require,
}

impl ChannelBinding {
    /// The setting's spelling: `disable`, `prefer` or `require`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelBinding::Disable => "disable",
            ChannelBinding::Prefer => "prefer",
            ChannelBinding::Require => "require",
        }
    }
}

impl std::str::FromStr for ChannelBinding {
    type Err = String;

    fn from_str(value: &str) -> Result<ChannelBinding, String> {
        Ok(match value {
            "disable" => ChannelBinding::Disable,
            "prefer" => ChannelBinding::Prefer,
            "require" => ChannelBinding::Require,
            _ => {
                return Err(format!(
                    "invalid channel_binding value \"{value}\"; expected disable, prefer or \
                     require"
                ))
            }
        })
    }
}

impl fmt::Display for ChannelBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the client refused the server's authentication request, on the client's own policy
/// ([`RequireAuth`], [`ChannelBinding`]) or because the server's SASL offer cannot be used
/// over this connection. Raised before anything is written in answer to the request, so no
/// credential (nor anything derived from one) reached the server.
///
/// Carried by [`ProtoError::AuthRefused`](crate::proto::ProtoError::AuthRefused), which a
/// [`tusk::Error`](crate::Error) reports as [`Kind::Auth`](crate::Kind::Auth): a caller tells
/// it from a wrong password (a server ErrorResponse, SQLSTATE 28P01) or a failed SCRAM proof
/// ([`ProtoError::Scram`](crate::proto::ProtoError::Scram)) by the variant. The texts follow
/// libpq's:
///
/// ```
/// use tusk::proto::auth::{AuthMethod, AuthRefusal};
///
/// let refusal = AuthRefusal::RequireAuth {
///     requested: AuthMethod::Password,
///     require_auth: "scram-sha-256".parse()?,
/// };
/// assert_eq!(
///     refusal.to_string(),
///     "authentication method requirement \"scram-sha-256\" failed: \
///      server requested a cleartext password"
/// );
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthRefusal {
    /// `require_auth` does not allow what the server asked for. `requested` is
    /// [`AuthMethod::None`] when the server sent AuthenticationOk without any authentication
    /// exchange having completed (`trust`) and `none` is not allowed.
    RequireAuth {
        /// The method of the server's request.
        requested: AuthMethod,
        /// The policy that refused it (its `Display` is the setting).
        require_auth: RequireAuth,
    },
    /// `channel_binding=require`, but the connection is not using TLS (no channel binding data
    /// was given), so SCRAM-SHA-256-PLUS is impossible.
    ChannelBindingWithoutTls,
    /// `channel_binding=require`, but the server's AuthenticationSASL does not offer
    /// SCRAM-SHA-256-PLUS.
    ChannelBindingNotOffered {
        /// The mechanisms the server offered.
        offered: Vec<String>,
    },
    /// `channel_binding=require`, but the server asked for a method that cannot bind to the
    /// channel (cleartext, MD5, GSSAPI, SSPI): refused before answering, as libpq does.
    ChannelBindingUnsupportedMethod {
        /// The method of the server's request.
        requested: AuthMethod,
    },
    /// `channel_binding=require`, and the server sent AuthenticationOk without a completed
    /// SCRAM-SHA-256-PLUS exchange (trust, a password, MD5, or SCRAM without binding).
    ChannelBindingNotUsed,
    /// The server offers only SCRAM-SHA-256-PLUS, which this client cannot use: the
    /// connection is not TLS, or `channel_binding=disable`.
    PlusOnlyUnusable {
        /// True when `channel_binding=disable` is the reason, false when it is the lack of TLS.
        disabled: bool,
    },
}

impl fmt::Display for AuthRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthRefusal::RequireAuth {
                requested,
                require_auth,
            } => write!(
                f,
                "authentication method requirement \"{require_auth}\" failed: {}",
                requested.server_request()
            ),
            AuthRefusal::ChannelBindingWithoutTls => {
                f.write_str("channel binding is required, but the connection is not using TLS")
            }
            AuthRefusal::ChannelBindingNotOffered { offered } => write!(
                f,
                "channel binding is required, but the server does not offer \
                 SCRAM-SHA-256-PLUS (it offered: {})",
                if offered.is_empty() {
                    "nothing".to_owned()
                } else {
                    offered.join(", ")
                }
            ),
            AuthRefusal::ChannelBindingUnsupportedMethod { requested } => write!(
                f,
                "channel binding is required, but the {} (only SCRAM-SHA-256-PLUS can bind to \
                 the channel)",
                requested.server_request()
            ),
            AuthRefusal::ChannelBindingNotUsed => f.write_str(
                "channel binding required, but server authenticated client without channel \
                 binding",
            ),
            AuthRefusal::PlusOnlyUnusable { disabled: true } => f.write_str(
                "the server offers only SCRAM-SHA-256-PLUS, but channel_binding is disable",
            ),
            AuthRefusal::PlusOnlyUnusable { disabled: false } => f.write_str(
                "the server offers only SCRAM-SHA-256-PLUS, which needs channel binding data \
                 from a TLS connection, but the connection is not using TLS",
            ),
        }
    }
}

impl std::error::Error for AuthRefusal {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> RequireAuth {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn positive_lists_allow_exactly_their_methods() {
        let r = parse("md5,scram-sha-256");
        let allowed: Vec<_> = r.allowed().collect();
        assert_eq!(allowed, [AuthMethod::Md5, AuthMethod::ScramSha256]);
        assert_eq!(r.to_string(), "md5,scram-sha-256");
        assert_eq!(
            parse("none").allowed().collect::<Vec<_>>(),
            [AuthMethod::None]
        );
    }

    #[test]
    fn negative_lists_allow_everything_else() {
        let r = parse("!password,!none");
        assert!(!r.allows(AuthMethod::Password));
        assert!(!r.allows(AuthMethod::None));
        for m in [
            AuthMethod::Md5,
            AuthMethod::ScramSha256,
            AuthMethod::Gss,
            AuthMethod::Sspi,
        ] {
            assert!(r.allows(m), "{m}");
        }
        assert_eq!(r.to_string(), "!password,!none");
        // Three refused, three allowed: the positive list is printed.
        assert_eq!(
            parse("!password,!md5,!gss").to_string(),
            "scram-sha-256,sspi,none"
        );
        assert_eq!(r.to_string().parse::<RequireAuth>(), Ok(r));
    }

    #[test]
    fn the_default_allows_everything() {
        assert!(RequireAuth::default().is_any());
        assert!(AuthMethod::ALL.iter().all(|m| RequireAuth::ANY.allows(*m)));
        assert!(!parse("!gss").is_any());
    }

    #[test]
    fn bad_lists_are_refused_naming_the_element() {
        let err = "md5,!password".parse::<RequireAuth>().unwrap_err();
        assert!(
            err.contains("\"!password\"") && err.contains("non-negative"),
            "{err}"
        );
        let err = "!md5,password".parse::<RequireAuth>().unwrap_err();
        assert!(
            err.contains("\"password\"") && err.contains("negative"),
            "{err}"
        );
        let err = "md5,md5".parse::<RequireAuth>().unwrap_err();
        assert!(err.contains("more than once"), "{err}");
        let err = "kerberos".parse::<RequireAuth>().unwrap_err();
        assert!(err.contains("\"kerberos\""), "{err}");
        assert!("".parse::<RequireAuth>().is_err());
        assert!("md5,".parse::<RequireAuth>().is_err());
        assert!(
            "MD5".parse::<RequireAuth>().is_err(),
            "libpq is case-sensitive here"
        );
    }

    #[test]
    fn channel_binding_spellings() {
        for cb in [
            ChannelBinding::Disable,
            ChannelBinding::Prefer,
            ChannelBinding::Require,
        ] {
            assert_eq!(cb.as_str().parse::<ChannelBinding>(), Ok(cb));
            assert_eq!(cb.to_string(), cb.as_str());
        }
        assert_eq!(ChannelBinding::default(), ChannelBinding::Prefer);
        assert!("on"
            .parse::<ChannelBinding>()
            .unwrap_err()
            .contains("\"on\""));
    }
}
