//! Reaching one server: the socket (TCP with keepalives and `TCP_USER_TIMEOUT`, or a
//! Unix-domain socket checked against `requirepeer`), and whether and how TLS starts on it.
//!
//! The order of attempts follows libpq's `sslmode`:
//!
//! | sslmode | first attempt | then |
//! |---|---|---|
//! | `disable` | plaintext | — |
//! | `allow` | plaintext | TLS on a new socket if the server refused the plaintext session |
//! | `prefer` | TLS | plaintext on the same socket if the server answers `N`; on a new socket if the handshake fails or the server refuses the TLS session |
//! | `require`, `verify-*` | TLS | — (`N` is an error) |
//!
//! `sslnegotiation=direct` starts TLS without an SSLRequest and requires the ALPN protocol
//! `postgresql` (PostgreSQL 17). As libpq documents, `sslmode` is ignored on Unix-domain
//! sockets: they are local and never encrypted.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::transport::Transport;
use crate::config::{Host, Resolved, SslMode, SslNegotiation, Target};
use crate::error::Error;
use crate::proto::frontend;
use crate::tls::{TlsConnector, TlsInfo};

/// How one attempt starts encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encryption {
    /// No TLS.
    Plain,
    /// An SSLRequest, then TLS if the server answers `S`.
    Requested,
    /// TLS at once (`sslnegotiation=direct`).
    Direct,
}

/// The attempts libpq makes for this sslmode on this kind of socket, in order. The second
/// attempt, if any, is made only after the first failed in a way that allows a fallback (see
/// [`fallback_allowed`]).
pub(crate) fn attempts(resolved: &Resolved, host: &Host) -> &'static [Encryption] {
    if matches!(host, Host::Unix(_)) {
        return &[Encryption::Plain];
    }
    match (resolved.tls.mode, resolved.tls.negotiation) {
        (SslMode::Disable, _) => &[Encryption::Plain],
        (SslMode::Allow, _) => &[Encryption::Plain, Encryption::Requested],
        (SslMode::Prefer, _) => &[Encryption::Requested, Encryption::Plain],
        (_, SslNegotiation::Direct) => &[Encryption::Direct],
        (_, SslNegotiation::Postgres) => &[Encryption::Requested],
    }
}

/// A socket with encryption settled: the stream to run the session on, and what TLS told us
/// if it is in use.
pub(crate) struct Secured {
    pub(crate) stream: Box<dyn Transport>,
    pub(crate) tls: Option<TlsInfo>,
}

/// Opens a socket to `target` and settles encryption as `encryption` says. With
/// [`Encryption::Requested`] and a server that answers `N`, the result is plaintext when the
/// sslmode allows it (`prefer`) and an error otherwise.
pub(crate) async fn open(
    resolved: &Resolved,
    target: &Target,
    connector: Option<&TlsConnector>,
    encryption: Encryption,
) -> Result<Secured, Error> {
    let stream = open_socket(resolved, target).await?;
    secure(resolved, target, connector, encryption, stream).await
}

/// Settles encryption on an open socket.
pub(crate) async fn secure(
    resolved: &Resolved,
    target: &Target,
    connector: Option<&TlsConnector>,
    encryption: Encryption,
    mut stream: Box<dyn Transport>,
) -> Result<Secured, Error> {
    let describe = || describe_target(target);
    let connector = match (encryption, connector) {
        (Encryption::Plain, _) => return Ok(Secured { stream, tls: None }),
        (_, Some(connector)) => connector,
        // The caller builds a connector whenever an attempt needs one.
        (_, None) => {
            return Err(Error::config(
                "internal error: a TLS attempt was made without TLS settings",
            ))
        }
    };
    if encryption == Encryption::Requested && !request_ssl(&mut stream, &describe()).await? {
        if resolved.tls.mode == SslMode::Prefer {
            return Ok(Secured { stream, tls: None });
        }
        return Err(Error::tls(format!(
            "{} does not support SSL, but sslmode={} requires it",
            describe(),
            resolved.tls.mode.as_str()
        )));
    }
    let name = tls_host_name(target);
    let (stream, info) = connector.handshake(stream, &name).await?;
    if encryption == Encryption::Direct && !info.alpn_is_postgresql() {
        // libpq refuses too: a server that does not confirm ALPN may not be PostgreSQL, and
        // direct TLS to an unrelated service must not carry a password.
        return Err(Error::tls(format!(
            "{} did not select the ALPN protocol \"postgresql\" for direct TLS \
             (sslnegotiation=direct needs PostgreSQL 17 or later)",
            describe()
        )));
    }
    Ok(Secured {
        stream,
        tls: Some(info),
    })
}

/// Sends an SSLRequest and reads the one-byte answer: `true` for `S` (start TLS now), `false`
/// for `N`. Exactly one byte is read: anything the server (or a man in the middle) sent after
/// it must go through the TLS handshake, never be taken as plaintext (CVE-2021-23222).
async fn request_ssl(stream: &mut Box<dyn Transport>, target: &str) -> Result<bool, Error> {
    let mut request = bytes::BytesMut::with_capacity(8);
    frontend::ssl_request(&mut request);
    stream
        .write_all(&request)
        .await
        .map_err(|e| Error::io(e).with_message(format!("could not send SSLRequest to {target}")))?;
    stream.flush().await.map_err(Error::io)?;
    let mut answer = [0u8; 1];
    stream.read_exact(&mut answer).await.map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::closed().with_message(format!(
                "{target} closed the connection in answer to SSLRequest"
            ))
        } else {
            Error::io(e).with_message(format!(
                "could not read the SSLRequest answer from {target}"
            ))
        }
    })?;
    match answer[0] {
        b'S' => Ok(true),
        b'N' => Ok(false),
        // Servers before 7.0 answered with an ErrorResponse; anything else is not PostgreSQL.
        b'E' => Err(Error::tls(format!(
            "{target} answered SSLRequest with an error: it does not support SSL"
        ))),
        other => Err(Error::tls(format!(
            "{target} answered SSLRequest with byte 0x{other:02x} instead of 'S' or 'N': it \
             may not be a PostgreSQL server"
        ))),
    }
}

/// The name TLS checks the certificate against and sends as SNI: the host name, or the
/// address when only `hostaddr` was given (libpq's rule).
fn tls_host_name(target: &Target) -> String {
    match &target.host {
        Host::Tcp(name) => name.clone(),
        Host::Unix(dir) => dir.display().to_string(),
    }
}

/// Opens the socket: TCP to `hostaddr` when given, else to the host name (every address it
/// resolves to, in turn), with Nagle off, keepalives and `TCP_USER_TIMEOUT` as configured; or
/// the server's Unix-domain socket, whose owner is checked against `requirepeer`.
pub(crate) async fn open_socket(
    resolved: &Resolved,
    target: &Target,
) -> Result<Box<dyn Transport>, Error> {
    let connect_error = |e: io::Error| {
        Error::io(e).with_message(format!("could not connect to {}", describe_target(target)))
    };
    match &target.host {
        Host::Tcp(name) => {
            let stream = match target.hostaddr {
                Some(addr) => TcpStream::connect((addr, target.port)).await,
                None => TcpStream::connect((name.as_str(), target.port)).await,
            }
            .map_err(connect_error)?;
            stream.set_nodelay(true).map_err(connect_error)?;
            set_liveness(&stream, resolved).map_err(|e| {
                Error::io(e).with_message("could not set TCP keepalives / tcp_user_timeout")
            })?;
            Ok(Box::new(stream))
        }
        #[cfg(unix)]
        Host::Unix(dir) => {
            let path = dir.join(format!(".s.PGSQL.{}", target.port));
            let stream = tokio::net::UnixStream::connect(path)
                .await
                .map_err(connect_error)?;
            if let Some(expected) = &resolved.requirepeer {
                check_peer(&stream, expected)?;
            }
            Ok(Box::new(stream))
        }
        #[cfg(not(unix))]
        Host::Unix(_) => Err(connect_error(io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix-domain sockets are not available on this platform",
        ))),
    }
}

/// Keepalives (on by default, as in libpq) and `TCP_USER_TIMEOUT`: the second line of defence
/// against a peer that vanished without closing, after the per-call deadlines.
fn set_liveness(stream: &TcpStream, resolved: &Resolved) -> io::Result<()> {
    let socket = socket2::SockRef::from(stream);
    let keepalives = &resolved.keepalives;
    if keepalives.enabled {
        let mut params = socket2::TcpKeepalive::new();
        if let Some(idle) = keepalives.idle {
            params = params.with_time(idle);
        }
        #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
        if let Some(interval) = keepalives.interval {
            params = params.with_interval(interval);
        }
        #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
        if let Some(count) = keepalives.count {
            params = params.with_retries(count);
        }
        socket.set_tcp_keepalive(&params)?;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(limit) = resolved.tcp_user_timeout {
        socket.set_tcp_user_timeout(Some(limit))?;
    }
    Ok(())
}

/// libpq's `requirepeer`: the server process must run as this operating-system user.
#[cfg(unix)]
fn check_peer(stream: &tokio::net::UnixStream, expected: &str) -> Result<(), Error> {
    let uid = stream
        .peer_cred()
        .map_err(|e| Error::io(e).with_message("could not get the peer credentials of the socket"))?
        .uid();
    let name = user_name(uid).ok_or_else(|| {
        Error::auth(format!(
            "requirepeer specifies \"{expected}\", but the server runs as user ID {uid}, which \
             has no name in /etc/passwd"
        ))
    })?;
    if name != expected {
        return Err(Error::auth(format!(
            "requirepeer specifies \"{expected}\", but the actual peer user name is \"{name}\""
        )));
    }
    Ok(())
}

/// The name of user `uid` in `/etc/passwd` (tusk links no C library for `getpwuid`; users
/// known only to other NSS sources are not found, and the check then fails closed).
#[cfg(unix)]
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd_lookup(&passwd, uid)
}

/// The user name of `uid` in the text of a passwd file.
#[cfg(unix)]
fn passwd_lookup(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id: u32 = fields.next()?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

/// `host:port` for messages, with IPv6 in brackets and the socket file for a directory; the
/// address dialled is added when `hostaddr` differs from the host.
pub(crate) fn describe_target(target: &Target) -> String {
    let base = super::connect::describe_host(&target.host, target.port);
    match target.hostaddr {
        Some(addr) if Host::Tcp(addr.to_string()) != target.host => {
            format!("{base} (address {addr})")
        }
        _ => base,
    }
}

/// Whether a failed first attempt may be followed by the second one, as libpq decides:
/// - `allow` (plaintext first) retries with TLS after the server refused the session (an
///   ErrorResponse during startup);
/// - `prefer` (TLS first) retries in plaintext after a failed TLS handshake, or after the
///   server refused a session that was encrypted (`encrypted`); a server that answered `N` has
///   already been talked to in plaintext, so its refusal stands.
///
/// A timeout or a refused TCP connection is never retried: the other encryption would meet
/// the same network.
pub(crate) fn fallback_allowed(first: Encryption, error: &Error, encrypted: bool) -> bool {
    use crate::error::Kind;
    match first {
        Encryption::Plain => error.kind() == Kind::Db,
        Encryption::Requested => match error.kind() {
            Kind::Tls => true,
            Kind::Db => encrypted,
            _ => false,
        },
        Encryption::Direct => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The socket options are read back from the kernel: what libpq's keepalive settings ask
    /// for is what the socket has.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn keepalives_and_user_timeout_reach_the_socket() {
        use std::time::Duration;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let resolve = |extra: &str| {
            format!("host=127.0.0.1 port={port} user=u {extra}")
                .parse::<crate::Config>()
                .unwrap()
                .resolve()
                .unwrap()
        };

        let tuned = resolve(
            "keepalives_idle=7 keepalives_interval=3 keepalives_count=4 tcp_user_timeout=9000",
        );
        let stream = open_socket(&tuned, &tuned.targets[0]).await.unwrap();
        drop(stream);
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        set_liveness(&stream, &tuned).unwrap();
        let socket = socket2::SockRef::from(&stream);
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), Duration::from_secs(7));
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(3)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 4);
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(Duration::from_millis(9000))
        );

        // On by default, as in libpq; off when asked.
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        set_liveness(&stream, &resolve("")).unwrap();
        assert!(socket2::SockRef::from(&stream).keepalive().unwrap());
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        set_liveness(&stream, &resolve("keepalives=0")).unwrap();
        assert!(!socket2::SockRef::from(&stream).keepalive().unwrap());
    }

    #[test]
    fn describe_host_brackets_ipv6() {
        use super::super::connect::describe_host;
        assert_eq!(describe_host(&Host::Tcp("::1".into()), 5432), "[::1]:5432");
        assert_eq!(describe_host(&Host::Tcp("db".into()), 5433), "db:5433");
    }

    #[test]
    fn passwd_lookup_finds_the_user_by_id() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # comment\n\
                      postgres:x:104:110:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n\
                      broken line\n";
        assert_eq!(passwd_lookup(passwd, 104).as_deref(), Some("postgres"));
        assert_eq!(passwd_lookup(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_lookup(passwd, 105), None);
    }
}
