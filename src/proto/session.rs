//! The connection state machine: the startup and authentication phase ([`Startup`]) and, once
//! the server is ready, the bookkeeping of a live session ([`Session`]): server parameters, the
//! backend key, the transaction status from every ReadyForQuery, and how many ReadyForQuery
//! messages are still owed for requests already written.
//!
//! Both are sans-IO: the caller feeds in decoded [`Message`]s and writes out whatever the state
//! machine appended to the write buffer.

use bytes::BytesMut;

use crate::proto::auth::{md5_password, scram};
use crate::proto::backend::{
    Authentication, BackendKeyData, ErrorFields, Message, Notification, ParameterStatus,
    TransactionStatus,
};
use crate::proto::exchange::{Exchange, Requests};
use crate::proto::{frontend, ProtoError};

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

enum AuthState {
    /// No authentication request seen yet.
    Waiting,
    /// A SCRAM exchange is under way.
    Scram(Box<scram::ScramSha256>),
    /// SCRAM finished and the server's signature checked; AuthenticationOk must follow.
    ScramVerified,
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
    auth: AuthState,
    params: Parameters,
    backend_key: Option<BackendKeyData>,
    status: Option<TransactionStatus>,
}

impl std::fmt::Debug for Startup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("Startup")
            .field("user", &self.user)
            .field("has_password", &self.password.is_some())
            .finish_non_exhaustive()
    }
}

impl Startup {
    /// Begins a connection: appends the StartupMessage with `params` (which must include
    /// `user`) to `out`. `password` is used if the server asks for one; `client_nonce` is the
    /// SCRAM nonce (random, printable, supplied by the IO layer).
    pub fn new(
        params: &[(&str, &str)],
        user: &str,
        password: Option<&[u8]>,
        client_nonce: String,
        out: &mut BytesMut,
    ) -> Result<Startup, ProtoError> {
        frontend::startup_message(params.iter().copied(), out)?;
        Ok(Startup {
            user: user.to_owned(),
            password: password.map(<[u8]>::to_vec),
            client_nonce,
            auth: AuthState::Waiting,
            params: Parameters::default(),
            backend_key: None,
            status: None,
        })
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
            Message::BackendKeyData(key) => self.backend_key = Some(key),
            Message::NoticeResponse(fields) => return Ok(StartupEvent::Notice(fields)),
            Message::ErrorResponse(fields) => return Ok(StartupEvent::ServerError(fields)),
            // The server accepted the connection with an older minor version or without some
            // `_pq_.` options; we ask for 3.0 with none, so there is nothing to adapt.
            Message::NegotiateProtocolVersion(_) => {}
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
        let auth_ok_expected =
            |state: &AuthState| matches!(state, AuthState::Waiting | AuthState::ScramVerified);
        match auth {
            Authentication::Ok => {
                if !auth_ok_expected(&self.auth) {
                    // A server that skips SCRAM's final message has not proved it knows the
                    // password: refuse it rather than trust it.
                    return Err(ProtoError::Auth(
                        "the server ended the SCRAM exchange without proving it knows the password"
                            .into(),
                    ));
                }
                self.auth = AuthState::Done;
            }
            Authentication::CleartextPassword => {
                self.expect_waiting("AuthenticationCleartextPassword")?;
                let password = self.password("password")?;
                frontend::password_message(password, out)?;
            }
            Authentication::Md5Password { salt } => {
                self.expect_waiting("AuthenticationMD5Password")?;
                let password = self.password("md5")?;
                let hashed = md5_password(self.user.as_bytes(), password, salt);
                frontend::password_message(hashed.as_bytes(), out)?;
            }
            Authentication::Sasl { mechanisms } => {
                self.expect_waiting("AuthenticationSASL")?;
                if !mechanisms.iter().any(|m| m == scram::SCRAM_SHA_256) {
                    return Err(ProtoError::UnsupportedAuth(format!(
                        "SASL with mechanisms {mechanisms:?} (tusk supports {})",
                        scram::SCRAM_SHA_256
                    )));
                }
                let password = self.password("SCRAM-SHA-256")?;
                let exchange = scram::ScramSha256::new(password, &self.client_nonce)?;
                frontend::sasl_initial_response(scram::SCRAM_SHA_256, exchange.message(), out)?;
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
                    self.auth = AuthState::ScramVerified;
                }
                _ => return Err(unexpected_auth("AuthenticationSASLFinal")),
            },
            Authentication::KerberosV5 => return Err(unsupported("Kerberos V5")),
            Authentication::ScmCredential => return Err(unsupported("SCM credentials")),
            Authentication::Gss | Authentication::GssContinue(_) => {
                return Err(unsupported("GSSAPI"))
            }
            Authentication::Sspi => return Err(unsupported("SSPI")),
        }
        Ok(())
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
