//! The runner's own connection to the server under test: a plain TCP socket, the startup and
//! authentication exchange (trust, cleartext, MD5, SCRAM-SHA-256 through
//! `tusk::proto::session::Startup`), then raw frontend bytes out and decoded backend messages
//! in, one at a time, with nothing in between that could hide or reorder what the server sent.
//!
//! Blocking IO with a deadline per wait keeps it small: a scenario is one conversation, and a
//! wait that never ends (an expectation the server will not meet) is cut by the deadline.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tusk::proto::backend::{self, BackendKeyData, Message};
use tusk::proto::session::{Startup, StartupEvent};
use tusk::proto::{frontend, ProtoError, DEFAULT_MAX_MESSAGE_LEN};

/// Where and as whom the runner connects.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The role to log in as.
    pub user: String,
    /// Its password, for a server that asks for one.
    pub password: Option<String>,
    /// The database (the server's default, the user name, when `None`).
    pub dbname: Option<String>,
    /// Further startup parameters (`name`, `value`), e.g. `("TimeZone", "UTC")`.
    pub params: Vec<(String, String)>,
    /// The longest wait for the server in a step (`until`, `receive`, `let`, `cancel`).
    pub timeout: Duration,
    /// The longest wait for a connection: TCP connect plus the startup exchange (SCRAM's key
    /// derivation is slow on a loaded machine, so this is not the step timeout).
    pub connect_timeout: Duration,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the password.
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("has_password", &self.password.is_some())
            .field("dbname", &self.dbname)
            .field("params", &self.params)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Why the conversation with the server failed (as opposed to the server answering something
/// other than what a scenario expected, which is a mismatch, not an error).
#[derive(Debug)]
pub enum SessionError {
    /// Connecting, reading or writing failed.
    Io {
        /// What was being done.
        doing: String,
        /// The error.
        source: io::Error,
    },
    /// The server sent nothing more within the timeout.
    Timeout {
        /// What the runner was waiting for.
        waiting_for: String,
        /// The timeout.
        after: Duration,
    },
    /// The server closed the connection.
    Closed {
        /// What the runner was waiting for.
        waiting_for: String,
    },
    /// A message could not be framed or decoded, or an encoder refused its input.
    Protocol(ProtoError),
    /// The server refused the connection (an ErrorResponse during startup).
    Refused(String),
    /// `cancel` in a session whose server sent no BackendKeyData.
    NoBackendKey,
    /// The operating system gave no random bytes (for the SCRAM nonce).
    NoRandom(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Io { doing, source } => write!(f, "{doing}: {source}"),
            SessionError::Timeout { waiting_for, after } => write!(
                f,
                "timed out after {:.1} s waiting for {waiting_for}",
                after.as_secs_f64()
            ),
            SessionError::Closed { waiting_for } => {
                write!(
                    f,
                    "the server closed the connection while waiting for {waiting_for}"
                )
            }
            SessionError::Protocol(e) => write!(f, "protocol error: {e}"),
            SessionError::Refused(message) => {
                write!(f, "the server refused the connection: {message}")
            }
            SessionError::NoBackendKey => write!(
                f,
                "the server sent no BackendKeyData, so this session's queries cannot be cancelled"
            ),
            SessionError::NoRandom(e) => write!(f, "no random bytes for the SCRAM nonce: {e}"),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SessionError::Io { source, .. } => Some(source),
            SessionError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtoError> for SessionError {
    fn from(e: ProtoError) -> Self {
        SessionError::Protocol(e)
    }
}

fn io_error(doing: impl Into<String>) -> impl FnOnce(io::Error) -> SessionError {
    let doing = doing.into();
    move |source| SessionError::Io { doing, source }
}

/// An authenticated session with the server, ready for queries.
#[derive(Debug)]
pub struct Session {
    stream: TcpStream,
    read_buf: BytesMut,
    target: Target,
    /// The session's BackendKeyData, for `cancel`.
    pub backend_key: Option<BackendKeyData>,
    /// Whether the server reported `crdb_version` at startup (CockroachDB).
    pub is_cockroach: bool,
}

impl Session {
    /// Connects, authenticates and reads up to the first ReadyForQuery. The messages of the
    /// startup phase are not part of any scenario's output.
    pub fn connect(target: &Target) -> Result<Session, SessionError> {
        let stream = open(target)?;
        let mut session = Session {
            stream,
            read_buf: BytesMut::with_capacity(64 * 1024),
            target: target.clone(),
            backend_key: None,
            is_cockroach: false,
        };
        let mut params: Vec<(&str, &str)> = vec![("user", &target.user)];
        if let Some(dbname) = &target.dbname {
            params.push(("database", dbname));
        }
        params.extend(target.params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let mut nonce = [0u8; 18];
        getrandom::fill(&mut nonce).map_err(|e| SessionError::NoRandom(e.to_string()))?;
        let mut out = BytesMut::new();
        let mut startup = Startup::new(
            &params,
            &target.user,
            target.password.as_deref().map(str::as_bytes),
            tusk::proto::auth::scram::client_nonce_from_bytes(&nonce),
            &mut out,
        )?;
        let deadline = Deadline::after(target.connect_timeout);
        loop {
            session.write(&out)?;
            out.clear();
            let msg = session.next_message(deadline, "the startup exchange")?;
            match startup.handle(msg, &mut out)? {
                StartupEvent::Continue | StartupEvent::Notice(_) => {}
                StartupEvent::Ready => break,
                StartupEvent::ServerError(fields) => {
                    let text = |code| String::from_utf8_lossy(fields.get(code).unwrap_or(b""));
                    return Err(SessionError::Refused(format!(
                        "{} {}: {}",
                        text(b'S'),
                        text(b'C'),
                        text(b'M')
                    )));
                }
            }
        }
        let state = startup.into_session();
        session.backend_key = state.backend_key().cloned();
        session.is_cockroach = state.parameters().get("crdb_version").is_some();
        Ok(session)
    }

    /// The deadline of a step starting now (the target's step timeout).
    pub fn step_deadline(&self) -> Deadline {
        Deadline::after(self.target.timeout)
    }

    /// Writes bytes to the server.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream
            .write_all(bytes)
            .map_err(io_error("writing to the server"))
    }

    /// The next backend message, waiting until `deadline`. `waiting_for` names what the caller
    /// waits for, for the error when nothing comes.
    pub fn next_message(
        &mut self,
        deadline: Deadline,
        waiting_for: &str,
    ) -> Result<Message, SessionError> {
        loop {
            if let Some(msg) = backend::decode(&mut self.read_buf, DEFAULT_MAX_MESSAGE_LEN)? {
                return Ok(msg);
            }
            let left = deadline.left();
            if left.is_zero() {
                return Err(SessionError::Timeout {
                    waiting_for: waiting_for.to_owned(),
                    after: deadline.length,
                });
            }
            match self.fill(left) {
                Ok(0) => {
                    return Err(SessionError::Closed {
                        waiting_for: waiting_for.to_owned(),
                    })
                }
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(io_error("reading from the server")(e)),
            }
        }
    }

    /// Reads what the server sent within `wait` into the read buffer: the byte count, 0 at
    /// end of stream, a timeout error when nothing came.
    fn fill(&mut self, wait: Duration) -> io::Result<usize> {
        // A zero timeout would mean "block forever" to set_read_timeout.
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.read_buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The `cancel` directive: sends a CancelRequest with this session's key on a connection
    /// of its own, then waits for the session to receive something. A cancel that reaches the
    /// backend before it started the statement is ignored by the server, so while nothing
    /// arrives the request is repeated every 100 ms, up to the timeout.
    pub fn cancel(&mut self) -> Result<(), SessionError> {
        let Some(key) = self.backend_key.clone() else {
            return Err(SessionError::NoBackendKey);
        };
        let mut request = BytesMut::new();
        frontend::cancel_request(key.process_id, &key.secret_key, &mut request)?;
        let deadline = self.step_deadline();
        loop {
            let mut side = open(&self.target)?;
            side.write_all(&request)
                .map_err(io_error("sending the CancelRequest"))?;
            // The server answers a CancelRequest by closing the connection; wait for that (so
            // the request was read), discarding anything sent, within bounds of size and time.
            side.set_read_timeout(Some(deadline.left().max(Duration::from_millis(1))))
                .map_err(io_error("waiting for the cancel connection to close"))?;
            let _ = io::copy(&mut (&side).take(64 * 1024), &mut io::sink());
            let _ = side.shutdown(Shutdown::Both);
            let left = deadline.left();
            if left.is_zero() {
                return Err(SessionError::Timeout {
                    waiting_for: "an answer after the CancelRequest".into(),
                    after: deadline.length,
                });
            }
            match self.fill(left.min(Duration::from_millis(100))) {
                Ok(0) => {
                    return Err(SessionError::Closed {
                        waiting_for: "an answer after the CancelRequest".into(),
                    })
                }
                Ok(_) => return Ok(()),
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(io_error("reading from the server")(e)),
            }
        }
    }

    /// Sends Terminate and closes the socket.
    pub fn terminate(mut self) {
        let mut buf = BytesMut::new();
        frontend::terminate(&mut buf);
        // The session is over either way; a server that already left is not an error here.
        let _ = self.stream.write_all(&buf);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// When a wait ends, and how long it was (for the error).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    length: Duration,
}

impl Deadline {
    /// The deadline `length` from now.
    pub fn after(length: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + length,
            length,
        }
    }

    /// The time left (zero once passed).
    pub fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A TCP connection to the target, within its timeout.
fn open(target: &Target) -> Result<TcpStream, SessionError> {
    let what = format!("connecting to {}:{}", target.host, target.port);
    let addrs = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(io_error(what.clone()))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, target.connect_timeout) {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(io_error(what.clone()))?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(io_error(what)(last))
}
