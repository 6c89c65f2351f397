//! The connection state machine: the startup and authentication phase ([`Startup`]) and, once
//! the server is ready, the bookkeeping of a live session ([`Session`]): server parameters, the
//! backend key, the transaction status from every ReadyForQuery, and how many ReadyForQuery
//! messages are still owed for requests already written.
//!
//! [`Startup`] owns the client's side of authentication: it answers cleartext, MD5 and SASL
//! (SCRAM-SHA-256, and SCRAM-SHA-256-PLUS bound to the TLS channel) requests, and it enforces
//! the policies of [`AuthOptions`] the way libpq 16 does: `require_auth` (which methods the
//! server may ask for, including `none` for a server that asks for nothing) and
//! `channel_binding` (`disable`, `prefer`, `require`). Every request is checked before anything
//! is written in answer to it, so a refused request leaves the write buffer untouched and no
//! credential, nor anything derived from one, leaves the client; a refusal is a
//! [`ProtoError::AuthRefused`]. AuthenticationOk is checked too: it must end an exchange that
//! completed (or `none` must be allowed), a SCRAM exchange must have verified the server's
//! signature, and with `channel_binding=require` it must have been SCRAM-SHA-256-PLUS.
//!
//! Both are sans-IO: the caller feeds in decoded [`Message`]s and writes out whatever the state
//! machine appended to the write buffer. The IO layer supplies what needs IO: the SCRAM nonce
//! (random bytes) and, on TLS, the `tls-server-end-point` channel binding data (the hash of the
//! server's certificate, [`AuthOptions::tls_server_end_point`]).

use bytes::BytesMut;

use crate::proto::auth::scram::ChannelBindingChoice;
use crate::proto::auth::{
    md5_password, scram, AuthMethod, AuthRefusal, ChannelBinding, RequireAuth,
};
use crate::proto::backend::{
    Authentication, BackendKeyData, ErrorFields, Message, NegotiateProtocolVersion, Notification,
    ParameterStatus, TransactionStatus,
};
use crate::proto::exchange::{Exchange, Requests};
use crate::proto::{frontend, ProtoError, ProtocolVersion, VersionBounds};

/// The server parameters reported by ParameterStatus, in arrival order, updated in place.
#[derive(Debug, Clone, Default)]
pub struct Parameters(Vec<(String, String)>);

impl Parameters {
    /// The current value of a parameter, e.g. `"server_version"`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets or replaces a parameter.
    pub fn set(&mut self, name: String, value: String) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Every `(name, value)` pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// What a [`Startup`] step produced.
#[derive(Debug)]
pub enum StartupEvent {
    /// Keep reading; anything to send has been appended to the write buffer.
    Continue,
    /// The server sent its first ReadyForQuery: call [`Startup::into_session`].
    Ready,
    /// The server refused the connection (bad database, bad password, too many clients...).
    ServerError(ErrorFields),
    /// A notice arrived during startup.
    Notice(ErrorFields),
}

/// The client's authentication policy and the TLS channel's binding data, for
/// [`Startup::with_options`].
///
/// The default allows every method, prefers channel binding, and has no TLS: what
/// [`Startup::new`] uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthOptions {
    /// libpq's `require_auth`: the methods the server may ask for (default: any).
    pub require_auth: RequireAuth,
    /// libpq's `channel_binding`: whether SCRAM binds to the TLS channel (default: prefer).
    pub channel_binding: ChannelBinding,
    /// The `tls-server-end-point` channel binding data (RFC 5929 section 4.1): the hash of the
    /// server's TLS certificate, computed by the IO layer with the certificate's signature hash
    /// algorithm (SHA-256 when that is MD5 or SHA-1). `None` means the connection is not TLS.
    pub tls_server_end_point: Option<Vec<u8>>,
}

enum AuthState {
    /// No authentication request seen yet.
    Waiting,
    /// A cleartext or MD5 password was sent; AuthenticationOk (or an error) must follow.
    PasswordSent,
    /// A SCRAM exchange is under way.
    Scram(Box<scram::ScramSha256>),
    /// SCRAM finished and the server's signature checked; AuthenticationOk must follow.
    ScramVerified {
        /// Whether the exchange was SCRAM-SHA-256-PLUS (bound to the TLS channel).
        channel_bound: bool,
    },
    /// AuthenticationOk received.
    Done,
}

/// The startup phase: StartupMessage, authentication, ParameterStatus and BackendKeyData, up to
/// the first ReadyForQuery.
///
/// ```
/// use bytes::BytesMut;
/// use tusk::proto::session::{Startup, StartupEvent};
/// use tusk::proto::backend::{Message, Authentication, TransactionStatus};
///
/// let mut out = BytesMut::new();
/// let mut startup = Startup::new(
///     &[("user", "alice"), ("database", "db")],
///     "alice",
///     None,
///     "rOprNGfwEbeRWgbNEkqO".into(),
///     &mut out,
/// )?;
/// assert!(!out.is_empty()); // the StartupMessage, to be written to the socket
/// startup.handle(Message::Authentication(Authentication::Ok), &mut out)?;
/// let ev = startup.handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)?;
/// assert!(matches!(ev, StartupEvent::Ready));
/// let session = startup.into_session();
/// assert_eq!(session.transaction_status(), TransactionStatus::Idle);
/// # Ok::<(), tusk::proto::ProtoError>(())
/// ```
pub struct Startup {
    user: String,
    password: Option<Vec<u8>>,
    client_nonce: String,
    options: AuthOptions,
    auth: AuthState,
    params: Parameters,
    backend_key: Option<BackendKeyData>,
    status: Option<TransactionStatus>,
    /// The versions accepted; `bounds.max` was asked for.
    bounds: VersionBounds,
    /// The session's version: `bounds.max` until a NegotiateProtocolVersion lowers it.
    version: ProtocolVersion,
    /// Whether a NegotiateProtocolVersion arrived (a second one is an error).
    negotiated: bool,
}

impl std::fmt::Debug for Startup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("Startup")
            .field("user", &self.user)
            .field("has_password", &self.password.is_some())
            .field("require_auth", &self.options.require_auth.to_string())
            .field("channel_binding", &self.options.channel_binding)
            .field("tls", &self.options.tls_server_end_point.is_some())
            .field("version", &self.version.to_string())
            .finish_non_exhaustive()
    }
}

impl Startup {
    /// Begins a connection with the default [`AuthOptions`] (any method, channel binding
    /// preferred, no TLS): appends the StartupMessage with `params` (which must include `user`)
    /// to `out`. `password` is used if the server asks for one; `client_nonce` is the SCRAM
    /// nonce (random, printable, supplied by the IO layer).
    pub fn new(
        params: &[(&str, &str)],
        user: &str,
        password: Option<&[u8]>,
        client_nonce: String,
        out: &mut BytesMut,
    ) -> Result<Startup, ProtoError> {
        Startup::with_options(
            params,
            user,
            password,
            client_nonce,
            AuthOptions::default(),
            out,
        )
    }

    /// [`Startup::new`] with an authentication policy and, on TLS, the channel binding data.
    ///
    /// Each authentication request is checked against `options` before anything is written in
    /// answer; a refusal is [`ProtoError::AuthRefused`] and leaves `out` untouched. On
    /// AuthenticationSASL the mechanism follows libpq: SCRAM-SHA-256-PLUS when the connection is
    /// TLS, the server offers it and `channel_binding` is not `disable`; otherwise
    /// SCRAM-SHA-256 with GS2 flag `y` on TLS (unless `disable`) or `n` without.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use tusk::proto::auth::{AuthMethod, AuthRefusal};
    /// use tusk::proto::backend::{Authentication, Message};
    /// use tusk::proto::session::{AuthOptions, Startup};
    /// use tusk::proto::ProtoError;
    ///
    /// let mut out = BytesMut::new();
    /// let options = AuthOptions {
    ///     require_auth: "scram-sha-256".parse()?,
    ///     ..AuthOptions::default()
    /// };
    /// let mut startup = Startup::with_options(
    ///     &[("user", "alice")],
    ///     "alice",
    ///     Some(b"secret"),
    ///     "rOprNGfwEbeRWgbNEkqO".into(),
    ///     options,
    ///     &mut out,
    /// )?;
    /// out.clear(); // the StartupMessage went out
    ///
    /// // The server asks for the password in cleartext: refused, and nothing is sent.
    /// let err = startup
    ///     .handle(Message::Authentication(Authentication::CleartextPassword), &mut out)
    ///     .unwrap_err();
    /// assert!(out.is_empty());
    /// assert!(matches!(
    ///     &err,
    ///     ProtoError::AuthRefused(AuthRefusal::RequireAuth { requested: AuthMethod::Password, .. })
    /// ));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "authentication method requirement \"scram-sha-256\" failed: \
    ///      server requested a cleartext password"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_options(
        params: &[(&str, &str)],
        user: &str,
        password: Option<&[u8]>,
        client_nonce: String,
        options: AuthOptions,
        out: &mut BytesMut,
    ) -> Result<Startup, ProtoError> {
        Startup::with_versions(
            params,
            user,
            password,
            client_nonce,
            options,
            VersionBounds::default(),
            out,
        )
    }

    /// [`Startup::with_options`] asking for protocol `versions.max` and accepting down to
    /// `versions.min` (libpq 18's `max_protocol_version` and `min_protocol_version`).
    ///
    /// A server that speaks only an older minor version answers NegotiateProtocolVersion
    /// before authentication; the session then runs at that version
    /// ([`VersionBounds::negotiate`] says what is refused), visible as
    /// [`Session::protocol_version`]. Bounds that tusk cannot speak (3.1, 4.0) or with `min`
    /// above `max` are refused before anything is written.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use tusk::proto::backend::{Authentication, Message, NegotiateProtocolVersion};
    /// use tusk::proto::backend::TransactionStatus;
    /// use tusk::proto::session::{AuthOptions, Startup};
    /// use tusk::proto::{ProtocolVersion, VersionBounds};
    ///
    /// let mut out = BytesMut::new();
    /// let latest = VersionBounds { min: ProtocolVersion::V3_0, max: ProtocolVersion::LATEST };
    /// let mut startup = Startup::with_versions(
    ///     &[("user", "alice")], "alice", None, "rOprNGfwEbeRWgbNEkqO".into(),
    ///     AuthOptions::default(), latest, &mut out,
    /// )?;
    /// assert_eq!(&out[4..8], &[0, 3, 0, 2]); // asks for 3.2
    /// // A PostgreSQL 17 or older server: "3.0 is my newest".
    /// let answer = NegotiateProtocolVersion { newest_minor: 196_608, unrecognized: vec![] };
    /// startup.handle(Message::NegotiateProtocolVersion(answer), &mut out)?;
    /// startup.handle(Message::Authentication(Authentication::Ok), &mut out)?;
    /// startup.handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)?;
    /// assert_eq!(startup.into_session().protocol_version(), ProtocolVersion::V3_0);
    /// # Ok::<(), tusk::proto::ProtoError>(())
    /// ```
    pub fn with_versions(
        params: &[(&str, &str)],
        user: &str,
        password: Option<&[u8]>,
        client_nonce: String,
        options: AuthOptions,
        versions: VersionBounds,
        out: &mut BytesMut,
    ) -> Result<Startup, ProtoError> {
        for version in [versions.min, versions.max] {
            if !version.is_supported() {
                return Err(ProtoError::Negotiation(format!(
                    "protocol version {version} is not one tusk speaks (3.0 and 3.2)"
                )));
            }
        }
        if versions.min > versions.max {
            return Err(ProtoError::Negotiation(
                "\"min_protocol_version\" is greater than \"max_protocol_version\"".into(),
            ));
        }
        frontend::startup_message_version(versions.max, params.iter().copied(), out)?;
        Ok(Startup {
            user: user.to_owned(),
            password: password.map(<[u8]>::to_vec),
            client_nonce,
            options,
            auth: AuthState::Waiting,
            params: Parameters::default(),
            backend_key: None,
            status: None,
            bounds: versions,
            version: versions.max,
            negotiated: false,
        })
    }

    /// The protocol version of the session being started: the one asked for, or the one a
    /// NegotiateProtocolVersion settled on.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// NegotiateProtocolVersion: only once, and only before any authentication request (the
    /// server sends it as its first answer to the StartupMessage).
    fn negotiate(&mut self, answer: &NegotiateProtocolVersion) -> Result<(), ProtoError> {
        if self.negotiated {
            return Err(ProtoError::Negotiation(
                "received duplicate protocol negotiation message".into(),
            ));
        }
        if !matches!(self.auth, AuthState::Waiting) {
            return Err(ProtoError::Unexpected {
                got: "NegotiateProtocolVersion",
                expected: "the next step of the authentication exchange (protocol negotiation \
                           comes before authentication)",
            });
        }
        self.version = self.bounds.negotiate(answer)?;
        self.negotiated = true;
        Ok(())
    }

    /// BackendKeyData: its secret must fit the session's version (exactly 4 bytes in 3.0; the
    /// decoder already bounded it to 4..=256).
    fn backend_key_data(&mut self, key: BackendKeyData) -> Result<(), ProtoError> {
        let len = key.secret_key.len();
        if !self.version.allows_key_len(len) {
            return Err(ProtoError::Negotiation(format!(
                "received invalid BackendKeyData message: cancel key with length {len} not \
                 allowed in protocol version {} (must be 4 bytes)",
                self.version
            )));
        }
        self.backend_key = Some(key);
        Ok(())
    }

    fn password(&self, method: &str) -> Result<&[u8], ProtoError> {
        self.password.as_deref().ok_or_else(|| {
            ProtoError::Auth(format!(
                "the server requires {method} authentication for user {:?} but no password was \
                 given (set one in the connection string, PGPASSWORD or ~/.pgpass)",
                self.user
            ))
        })
    }

    /// Feeds one message from the server; anything to send is appended to `out`.
    pub fn handle(&mut self, msg: Message, out: &mut BytesMut) -> Result<StartupEvent, ProtoError> {
        match msg {
            Message::Authentication(auth) => self.handle_auth(auth, out)?,
            Message::ParameterStatus(p) => self.params.set(p.name, p.value),
            Message::BackendKeyData(key) => self.backend_key_data(key)?,
            Message::NoticeResponse(fields) => return Ok(StartupEvent::Notice(fields)),
            Message::ErrorResponse(fields) => return Ok(StartupEvent::ServerError(fields)),
            Message::NegotiateProtocolVersion(answer) => self.negotiate(&answer)?,
            Message::ReadyForQuery(status) => {
                if !matches!(self.auth, AuthState::Done) {
                    return Err(ProtoError::Unexpected {
                        got: "ReadyForQuery",
                        expected: "AuthenticationOk",
                    });
                }
                self.status = Some(status);
                return Ok(StartupEvent::Ready);
            }
            other => {
                return Err(ProtoError::Unexpected {
                    got: other.name(),
                    expected: "an authentication or startup message",
                })
            }
        }
        Ok(StartupEvent::Continue)
    }

    fn handle_auth(&mut self, auth: Authentication, out: &mut BytesMut) -> Result<(), ProtoError> {
        match auth {
            Authentication::Ok => self.authentication_ok()?,
            Authentication::CleartextPassword => {
                self.check_request(AuthMethod::Password)?;
                self.expect_waiting("AuthenticationCleartextPassword")?;
                let password = self.password("password")?;
                frontend::password_message(password, out)?;
                self.auth = AuthState::PasswordSent;
            }
            Authentication::Md5Password { salt } => {
                self.check_request(AuthMethod::Md5)?;
                self.expect_waiting("AuthenticationMD5Password")?;
                let password = self.password("md5")?;
                let hashed = md5_password(self.user.as_bytes(), password, salt);
                frontend::password_message(hashed.as_bytes(), out)?;
                self.auth = AuthState::PasswordSent;
            }
            Authentication::Sasl { mechanisms } => {
                self.check_request(AuthMethod::ScramSha256)?;
                self.expect_waiting("AuthenticationSASL")?;
                let choice = self.choose_mechanism(&mechanisms)?;
                let password = self.password("SCRAM-SHA-256")?;
                let exchange =
                    scram::ScramSha256::with_channel_binding(password, &self.client_nonce, choice)?;
                frontend::sasl_initial_response(exchange.mechanism(), exchange.message(), out)?;
                self.auth = AuthState::Scram(Box::new(exchange));
            }
            Authentication::SaslContinue(data) => match &mut self.auth {
                AuthState::Scram(exchange) => {
                    exchange.update(&data)?;
                    frontend::sasl_response(exchange.message(), out)?;
                }
                _ => return Err(unexpected_auth("AuthenticationSASLContinue")),
            },
            Authentication::SaslFinal(data) => match &mut self.auth {
                AuthState::Scram(exchange) => {
                    exchange.finish(&data)?;
                    self.auth = AuthState::ScramVerified {
                        channel_bound: exchange.is_channel_bound(),
                    };
                }
                _ => return Err(unexpected_auth("AuthenticationSASLFinal")),
            },
            Authentication::KerberosV5 => return Err(unsupported("Kerberos V5")),
            Authentication::ScmCredential => return Err(unsupported("SCM credentials")),
            Authentication::Gss | Authentication::GssContinue(_) => {
                self.check_request(AuthMethod::Gss)?;
                return Err(unsupported("GSSAPI"));
            }
            Authentication::Sspi => {
                self.check_request(AuthMethod::Sspi)?;
                return Err(unsupported("SSPI"));
            }
        }
        Ok(())
    }

    /// AuthenticationOk: accepted only after a completed exchange (or with `none` allowed when
    /// there was none), never in the middle of SCRAM, and with `channel_binding=require` only
    /// after SCRAM-SHA-256-PLUS.
    fn authentication_ok(&mut self) -> Result<(), ProtoError> {
        let (completed, channel_bound) = match self.auth {
            AuthState::Waiting => (false, false),
            AuthState::PasswordSent => (true, false),
            AuthState::ScramVerified { channel_bound } => (true, channel_bound),
            AuthState::Scram(_) => {
                // A server that skips SCRAM's final message has not proved it knows the
                // password: refuse it rather than trust it.
                return Err(ProtoError::Auth(
                    "the server ended the SCRAM exchange without proving it knows the password"
                        .into(),
                ));
            }
            AuthState::Done => return Err(unexpected_auth("AuthenticationOk")),
        };
        let require_auth = self.options.require_auth;
        if !completed && !require_auth.allows(AuthMethod::None) {
            return Err(refused(AuthRefusal::RequireAuth {
                requested: AuthMethod::None,
                require_auth,
            }));
        }
        if self.options.channel_binding == ChannelBinding::Require && !channel_bound {
            return Err(refused(AuthRefusal::ChannelBindingNotUsed));
        }
        self.auth = AuthState::Done;
        Ok(())
    }

    /// Checks a request for `method` against `require_auth`, then against
    /// `channel_binding=require`, which only SASL can satisfy (its mechanism is checked in
    /// [`Startup::choose_mechanism`]).
    fn check_request(&self, method: AuthMethod) -> Result<(), ProtoError> {
        let require_auth = self.options.require_auth;
        if !require_auth.allows(method) {
            return Err(refused(AuthRefusal::RequireAuth {
                requested: method,
                require_auth,
            }));
        }
        if self.options.channel_binding == ChannelBinding::Require
            && method != AuthMethod::ScramSha256
        {
            return Err(refused(AuthRefusal::ChannelBindingUnsupportedMethod {
                requested: method,
            }));
        }
        Ok(())
    }

    /// Picks the SASL mechanism and GS2 channel binding flag from the server's offer, the
    /// `channel_binding` setting and whether the connection is TLS, as libpq does.
    fn choose_mechanism(&self, offered: &[String]) -> Result<ChannelBindingChoice, ProtoError> {
        let plus = offered.iter().any(|m| m == scram::SCRAM_SHA_256_PLUS);
        let plain = offered.iter().any(|m| m == scram::SCRAM_SHA_256);
        let tls = self.options.tls_server_end_point.as_ref();
        let choice = match (self.options.channel_binding, tls) {
            (ChannelBinding::Require, None) => {
                return Err(refused(AuthRefusal::ChannelBindingWithoutTls))
            }
            (ChannelBinding::Require, Some(_)) if !plus => {
                return Err(refused(AuthRefusal::ChannelBindingNotOffered {
                    offered: offered.to_vec(),
                }))
            }
            (ChannelBinding::Require | ChannelBinding::Prefer, Some(data)) if plus => {
                ChannelBindingChoice::TlsServerEndPoint(data.clone())
            }
            (ChannelBinding::Prefer, Some(_)) if plain => ChannelBindingChoice::SupportedButNotUsed,
            (ChannelBinding::Prefer | ChannelBinding::Disable, _) if plain => {
                ChannelBindingChoice::NotSupported
            }
            (disable_or_prefer, _) if plus => {
                return Err(refused(AuthRefusal::PlusOnlyUnusable {
                    disabled: disable_or_prefer == ChannelBinding::Disable,
                }))
            }
            _ => {
                return Err(ProtoError::UnsupportedAuth(format!(
                    "SASL with mechanisms {offered:?} (tusk supports {} and {})",
                    scram::SCRAM_SHA_256,
                    scram::SCRAM_SHA_256_PLUS
                )))
            }
        };
        Ok(choice)
    }

    fn expect_waiting(&self, message: &'static str) -> Result<(), ProtoError> {
        match self.auth {
            AuthState::Waiting => Ok(()),
            _ => Err(unexpected_auth(message)),
        }
    }

    /// The live session, once [`StartupEvent::Ready`] was returned.
    pub fn into_session(self) -> Session {
        Session {
            params: self.params,
            version: self.version,
            backend_key: self.backend_key,
            status: self.status.unwrap_or(TransactionStatus::Idle),
            exchange: Exchange::default(),
        }
    }
}

fn unexpected_auth(message: &'static str) -> ProtoError {
    ProtoError::Unexpected {
        got: message,
        expected: "the next step of the authentication exchange",
    }
}

fn refused(refusal: AuthRefusal) -> ProtoError {
    ProtoError::AuthRefused(refusal)
}

fn unsupported(method: &str) -> ProtoError {
    ProtoError::UnsupportedAuth(format!(
        "{method} (tusk supports trust, password, md5 and scram-sha-256)"
    ))
}

/// What a message received in a live session is, after the session has absorbed what it
/// tracks itself.
#[derive(Debug)]
pub enum Incoming {
    /// A response to a request: pass it to whoever is waiting for it.
    Response(Message),
    /// A ReadyForQuery that settled one owed response; the status is recorded already.
    Ready(TransactionStatus),
    /// An asynchronous notice (warnings, `RAISE NOTICE`): for the notice handler.
    Notice(ErrorFields),
    /// An asynchronous LISTEN/NOTIFY notification: for the notification queue.
    Notification(Notification),
    /// A ParameterStatus that has been applied to [`Session::parameters`].
    ParameterChanged,
}

/// A live session: what the server told us at startup and since, and the [`Exchange`] of
/// replies it still owes.
///
/// Requests are written through [`Session::requests`], which records what each is owed the
/// moment its bytes enter the write buffer; every reply is checked by [`Session::handle`]. So a
/// caller that was interrupted half-way knows exactly how much to drain before the next request,
/// and a reply that has no place is refused in one place.
#[derive(Debug)]
pub struct Session {
    params: Parameters,
    version: ProtocolVersion,
    backend_key: Option<BackendKeyData>,
    status: TransactionStatus,
    exchange: Exchange,
}

impl Session {
    /// The writer for the next requests, into `out`.
    pub fn requests<'a>(&'a mut self, out: &'a mut BytesMut) -> Requests<'a> {
        Requests::new(&mut self.exchange, out)
    }

    /// What the server still owes.
    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }

    /// How many ReadyForQuery messages are still owed.
    pub fn owed(&self) -> usize {
        self.exchange.owed()
    }

    /// The transaction status from the most recent ReadyForQuery.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.status
    }

    /// The server parameters reported so far.
    pub fn parameters(&self) -> &Parameters {
        &self.params
    }

    /// The protocol version the session runs at: the one the StartupMessage asked for
    /// (`max_protocol_version`), or the older one the server's NegotiateProtocolVersion
    /// settled on (a PostgreSQL 17 or older server asked for 3.2 gives 3.0).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// The backend's process ID and cancel key, if the server sent them.
    pub fn backend_key(&self) -> Option<&BackendKeyData> {
        self.backend_key.as_ref()
    }

    /// Feeds one message from the server. Asynchronous messages are absorbed here; every other
    /// one is checked against what is owed ([`Exchange::handle`]), which may write into `out`
    /// (the refusal of a COPY nobody asked for): the caller flushes `out` before it waits for
    /// more input.
    pub fn handle(&mut self, msg: Message, out: &mut BytesMut) -> Result<Incoming, ProtoError> {
        Ok(match msg {
            Message::NoticeResponse(fields) => Incoming::Notice(fields),
            Message::NotificationResponse(n) => Incoming::Notification(n),
            Message::ParameterStatus(p) => {
                self.set_parameter(p);
                Incoming::ParameterChanged
            }
            msg => {
                self.accept(&msg, out)?;
                match msg {
                    Message::ReadyForQuery(status) => Incoming::Ready(status),
                    other => Incoming::Response(other),
                }
            }
        })
    }

    /// Applies a ParameterStatus the server sent.
    pub fn set_parameter(&mut self, p: ParameterStatus) {
        self.params.set(p.name, p.value);
    }

    /// [`Session::handle`] for a message that is not asynchronous (not a NoticeResponse,
    /// NotificationResponse or ParameterStatus): checks it against what is owed and records a
    /// ReadyForQuery's transaction status. The caller keeps the message (no move on the hot
    /// path).
    #[inline]
    pub fn accept(&mut self, msg: &Message, out: &mut BytesMut) -> Result<(), ProtoError> {
        self.exchange.handle(msg, out)?;
        if let Message::ReadyForQuery(status) = msg {
            self.status = *status;
        }
        Ok(())
    }

    /// Whether `sql` may be sent in the current transaction status. In a failed transaction
    /// only statements that end it by rolling back are allowed; everything else would be
    /// refused by the server anyway, so it is refused here without a round trip.
    pub fn allows(&self, sql: &str) -> bool {
        self.status != TransactionStatus::Failed || is_rollback(sql)
    }
}

/// Whether `sql` starts with ROLLBACK or ABORT (after white space and comments): the statements
/// that may run in an aborted transaction. `ROLLBACK TO SAVEPOINT` and `ROLLBACK PREPARED` are
/// included; the server decides whether they succeed.
pub fn is_rollback(sql: &str) -> bool {
    let word = first_keyword(sql);
    word.eq_ignore_ascii_case("rollback") || word.eq_ignore_ascii_case("abort")
}

/// The first word of `sql`, skipping white space, `--` comments and (nested) `/* */` comments.
fn first_keyword(sql: &str) -> &str {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.find('\n').map_or("", |i| &after[i + 1..]);
        } else if rest.starts_with("/*") {
            let mut depth = 0usize;
            let bytes = rest.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            // `i` stops on an ASCII byte boundary or at the end, so the slice is on a char
            // boundary.
            rest = rest.get(i..).unwrap_or("");
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "session_auth_tests.rs"]
mod auth_tests;

#[cfg(test)]
#[path = "session_version_tests.rs"]
mod version_tests;
