//! A logging proxy built on tusk's codec: it sits between a PostgreSQL client and server,
//! forwards every byte unchanged, and prints each message in both directions on one line,
//! decoded with the server side of the codec (`tusk::proto::server`, for what the client sends,
//! the startup packet included) and the client side (`tusk::proto::backend`, for what the
//! server sends).
//!
//! ```text
//! cargo run --example proxy -- [LISTEN [UPSTREAM]]     # defaults 127.0.0.1:6543, 127.0.0.1:5432
//! scripts/with-test-server cargo run --example proxy   # upstream: the test server (TUSK_PG_PORT)
//! psql "host=127.0.0.1 port=6543 user=tusk dbname=tusk"
//! ```
//!
//! What psql 15 against PostgreSQL 15 looks like (`-c "SELECT 1 AS one, 'x' AS two"
//! -c "SELECT * FROM nonexistent"`):
//!
//! ```text
//! C→S SSLRequest
//! S→C N (answered by the proxy: no TLS, the client goes on in plaintext)
//! C→S StartupMessage 3.0 user=tusk database=tusk application_name=psql
//! S→C AuthenticationSASL SCRAM-SHA-256
//! C→S SASLInitialResponse SCRAM-SHA-256 (32 bytes)
//! S→C AuthenticationSASLContinue (84 bytes)
//! C→S SASLResponse (104 bytes)
//! S→C AuthenticationSASLFinal (46 bytes)
//! S→C AuthenticationOk
//! S→C ParameterStatus application_name=psql
//! ...
//! S→C BackendKeyData pid 4526 (4-byte key)
//! S→C ReadyForQuery idle
//! C→S Query "SELECT 1 AS one, 'x' AS two"
//! S→C RowDescription 2 fields: one, two
//! S→C DataRow 2 columns
//! S→C CommandComplete "SELECT 1"
//! S→C ReadyForQuery idle
//! C→S Query "SELECT * FROM nonexistent"
//! S→C ErrorResponse ERROR 42P01 "relation \"nonexistent\" does not exist"
//! S→C ReadyForQuery idle
//! ```
//!
//! The proxy answers SSLRequest and GSSENCRequest with `N` itself, so the client continues in
//! plaintext and every message can be read (a client that requires TLS gives up instead).
//! Passwords and cancel keys are not printed, only their lengths. A message the codec cannot
//! decode is logged as such and still forwarded; a stream that cannot be framed any more is
//! forwarded without logging. It is a debugging tool for a trusted network, not a security
//! boundary.
//!
//! `protocol-tests/tests/live_proxy.rs` runs this file's [`serve`] against the real test
//! server and checks the lines it logs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tusk::proto::backend::{Authentication, Message, TransactionStatus};
use tusk::proto::framing::{split_frame, split_frontend_frame};
use tusk::proto::server::{
    split_startup_packet, FrontendMessage, StartupPacket, Target, MAX_STARTUP_PACKET_LEN,
};
use tusk::proto::{DEFAULT_MAX_MESSAGE_LEN, MAX_FRONTEND_MESSAGE_LEN};

/// Where the proxy writes its lines: `println!` in the example, a collector in the test.
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:6543".to_owned());
    let upstream = match args.next() {
        Some(addr) => addr,
        None => match std::env::var("TUSK_PG_PORT") {
            Ok(port) => format!("127.0.0.1:{port}"),
            Err(_) => "127.0.0.1:5432".to_owned(),
        },
    };
    let upstream: SocketAddr = upstream
        .parse()
        .map_err(|e| std::io::Error::other(format!("upstream {upstream}: {e}")))?;
    let listener = TcpListener::bind(&listen).await?;
    println!("proxy on {} → {upstream}", listener.local_addr()?);
    serve(listener, upstream, Arc::new(|line| println!("{line}"))).await
}

/// Accepts connections on `listener` and proxies each to `upstream` on a task of its own,
/// logging every message; runs until accepting fails.
pub async fn serve(listener: TcpListener, upstream: SocketAddr, log: Log) -> std::io::Result<()> {
    loop {
        let (client, _) = listener.accept().await?;
        let log = log.clone();
        tokio::spawn(async move {
            if let Err(e) = proxy_connection(client, upstream, log.clone()).await {
                log(format!("-- connection ended: {e}"));
            }
        });
    }
}

/// Which reading of the client's `'p'` message the server's last authentication request calls
/// for; the server-to-client side records it, the client-to-server side reads it.
#[derive(Clone, Copy)]
#[repr(u8)]
enum AuthKind {
    Unknown = 0,
    Password = 1,
    SaslInitial = 2,
    Sasl = 3,
    Gss = 4,
}

/// Proxies one connection: the startup packets (answering SSLRequest and GSSENCRequest `N`),
/// then both directions at once until both are closed.
async fn proxy_connection(
    mut client: TcpStream,
    upstream: SocketAddr,
    log: Log,
) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        let body = match split_startup_packet(&mut buf, MAX_STARTUP_PACKET_LEN) {
            Ok(Some(body)) => body,
            Ok(None) => {
                if client.read_buf(&mut buf).await? == 0 {
                    return Ok(());
                }
                continue;
            }
            Err(e) => {
                // Not framable: forward what came, unread.
                log(format!(
                    "C→S malformed startup packet: {e}; forwarding without logging"
                ));
                let server = TcpStream::connect(upstream).await?;
                return relay_both(client, server, &[], buf, false, log).await;
            }
        };
        let packet = StartupPacket::parse(body.clone());
        match &packet {
            Ok(packet) => log(format!("C→S {}", describe_startup(packet))),
            Err(e) => log(format!("C→S startup packet the codec refuses: {e}")),
        }
        if let Ok(StartupPacket::SslRequest | StartupPacket::GssEncRequest) = packet {
            client.write_all(b"N").await?;
            log("S→C N (answered by the proxy: no TLS, the client goes on in plaintext)".into());
            continue;
        }
        // The StartupMessage or a CancelRequest (or what the codec refused, for the server to
        // judge): forward it as it came (it was logged above), then everything else.
        let mut packet = Vec::with_capacity(4 + body.len());
        // The body is at most MAX_STARTUP_PACKET_LEN bytes: its length fits.
        packet.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        packet.extend_from_slice(&body);
        let server = TcpStream::connect(upstream).await?;
        return relay_both(client, server, &packet, buf, true, log).await;
    }
}

/// Relays both directions until both are closed: `preamble` goes to the server first, unlogged,
/// then the client's `pending` bytes and everything after them.
async fn relay_both(
    client: TcpStream,
    server: TcpStream,
    preamble: &[u8],
    pending: BytesMut,
    logging: bool,
    log: Log,
) -> std::io::Result<()> {
    let (server_read, mut server_write) = server.into_split();
    let (client_read, client_write) = client.into_split();
    server_write.write_all(preamble).await?;
    let auth = Arc::new(AtomicU8::new(AuthKind::Unknown as u8));
    let client_side = Side::Client(auth.clone());
    let up = relay(
        client_read,
        server_write,
        pending,
        client_side,
        logging,
        log.clone(),
    );
    let down = relay(
        server_read,
        client_write,
        BytesMut::new(),
        Side::Server(auth),
        logging,
        log,
    );
    let (up, down) = tokio::join!(up, down);
    up.and(down)
}

/// Which way a relay copies, and the authentication state the two ways share.
enum Side {
    Client(Arc<AtomicU8>),
    Server(Arc<AtomicU8>),
}

/// Copies `from` to `to` (starting with `pending`) until `from` ends, then shuts `to` down.
/// Each chunk is logged before it is forwarded, so that the server's authentication request is
/// recorded before the client can answer it.
async fn relay(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    pending: BytesMut,
    side: Side,
    mut logging: bool,
    log: Log,
) -> std::io::Result<()> {
    let arrow = match side {
        Side::Client(_) => "C→S",
        Side::Server(_) => "S→C",
    };
    let mut frames = BytesMut::new();
    if !pending.is_empty() {
        if logging {
            frames.extend_from_slice(&pending);
            logging = log_frames(&mut frames, &side, arrow, &log);
        }
        to.write_all(&pending).await?;
    }
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut chunk).await?;
        if n == 0 {
            log(format!("{arrow} (closed)"));
            return to.shutdown().await;
        }
        if logging {
            frames.extend_from_slice(&chunk[..n]);
            logging = log_frames(&mut frames, &side, arrow, &log);
        }
        to.write_all(&chunk[..n]).await?;
    }
}

/// Logs every complete message in `frames`; returns false (and logs why) once the stream cannot
/// be framed any more.
fn log_frames(frames: &mut BytesMut, side: &Side, arrow: &str, log: &Log) -> bool {
    loop {
        let split = match side {
            Side::Client(_) => split_frontend_frame(frames, MAX_FRONTEND_MESSAGE_LEN),
            Side::Server(_) => split_frame(frames, DEFAULT_MAX_MESSAGE_LEN),
        };
        let frame = match split {
            Ok(Some(frame)) => frame,
            Ok(None) => return true,
            Err(e) => {
                log(format!(
                    "{arrow} {e}; the rest is forwarded without logging"
                ));
                frames.clear();
                return false;
            }
        };
        let tag = frame.tag;
        let line = match side {
            Side::Client(auth) => match FrontendMessage::parse(frame) {
                Ok(message) => describe_frontend(&message, auth),
                Err(e) => format!("message {:?} the codec refuses: {e}", char::from(tag)),
            },
            Side::Server(auth) => match Message::parse(frame) {
                Ok(message) => {
                    if let Message::Authentication(request) = &message {
                        auth.store(auth_kind(request) as u8, Ordering::SeqCst);
                    }
                    describe_backend(&message)
                }
                Err(e) => format!("message {:?} the codec refuses: {e}", char::from(tag)),
            },
        };
        log(format!("{arrow} {line}"));
    }
}

/// The reading of the client's next `'p'` that an authentication request calls for.
fn auth_kind(request: &Authentication) -> AuthKind {
    match request {
        Authentication::CleartextPassword | Authentication::Md5Password { .. } => {
            AuthKind::Password
        }
        Authentication::Sasl { .. } => AuthKind::SaslInitial,
        Authentication::SaslContinue(_) => AuthKind::Sasl,
        Authentication::Gss | Authentication::Sspi | Authentication::GssContinue(_) => {
            AuthKind::Gss
        }
        _ => AuthKind::Unknown,
    }
}

/// Text shown quoted and cut to a readable length.
fn quote(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{:?}…", &text[..end]),
        None => format!("{text:?}"),
    }
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

fn describe_startup(packet: &StartupPacket) -> String {
    match packet {
        StartupPacket::Startup {
            version,
            parameters,
        } => {
            let params: Vec<String> = parameters.iter().map(|(n, v)| format!("{n}={v}")).collect();
            format!("StartupMessage {version} {}", params.join(" "))
        }
        StartupPacket::SslRequest => "SSLRequest".into(),
        StartupPacket::GssEncRequest => "GSSENCRequest".into(),
        StartupPacket::CancelRequest {
            process_id,
            secret_key,
        } => format!(
            "CancelRequest pid {process_id} ({}-byte key)",
            secret_key.len()
        ),
    }
}

fn target(target: &Target) -> String {
    match target {
        Target::Statement(name) => format!("statement {}", quote(name)),
        Target::Portal(name) => format!("portal {}", quote(name)),
    }
}

fn describe_frontend(message: &FrontendMessage, auth: &AtomicU8) -> String {
    let name = message.name();
    match message {
        FrontendMessage::Bind(bind) => format!(
            "Bind portal {} statement {} {}, {}",
            quote(bind.portal()),
            quote(bind.statement()),
            count(usize::from(bind.param_count()), "param"),
            count(bind.result_formats().len(), "result format")
        ),
        FrontendMessage::Close(t) | FrontendMessage::Describe(t) => format!("{name} {}", target(t)),
        FrontendMessage::CopyData(data) => format!("CopyData {}", count(data.len(), "byte")),
        FrontendMessage::CopyFail(reason) => format!("CopyFail {}", quote(reason)),
        FrontendMessage::Execute(execute) => format!(
            "Execute portal {} {}",
            quote(&execute.portal),
            match execute.max_rows {
                n if n > 0 => format!("max {}", count(n as usize, "row")),
                _ => "all rows".into(),
            }
        ),
        FrontendMessage::FunctionCall(call) => format!(
            "FunctionCall oid {} {}",
            call.function_oid(),
            count(usize::from(call.arg_count()), "arg")
        ),
        FrontendMessage::AuthResponse(response) => {
            let len = response.body().len();
            match auth.load(Ordering::SeqCst) {
                x if x == AuthKind::Password as u8 => format!("PasswordMessage ({len} bytes)"),
                x if x == AuthKind::SaslInitial as u8 => {
                    match response.as_sasl_initial_response() {
                        Ok(initial) => format!(
                            "SASLInitialResponse {} ({})",
                            initial.mechanism,
                            count(initial.data.map_or(0, <[u8]>::len), "byte")
                        ),
                        Err(e) => format!("SASLInitialResponse the codec refuses: {e}"),
                    }
                }
                x if x == AuthKind::Sasl as u8 => format!("SASLResponse ({len} bytes)"),
                x if x == AuthKind::Gss as u8 => format!("GSSResponse ({len} bytes)"),
                _ => format!("PasswordMessage ({len} bytes, no request seen)"),
            }
        }
        FrontendMessage::Parse(parse) => format!(
            "Parse statement {} {} {}",
            quote(parse.name()),
            quote(parse.sql()),
            count(parse.param_types().len(), "param type")
        ),
        FrontendMessage::Query(sql) => format!("Query {}", quote(sql)),
        FrontendMessage::CopyDone
        | FrontendMessage::Flush
        | FrontendMessage::Sync
        | FrontendMessage::Terminate => name.into(),
    }
}

fn describe_backend(message: &Message) -> String {
    let name = message.name();
    match message {
        Message::Authentication(auth) => match auth {
            Authentication::Sasl { mechanisms } => format!("{name} {}", mechanisms.join(" ")),
            Authentication::GssContinue(data)
            | Authentication::SaslContinue(data)
            | Authentication::SaslFinal(data) => format!("{name} ({})", count(data.len(), "byte")),
            _ => name.into(),
        },
        Message::BackendKeyData(key) => format!(
            "BackendKeyData pid {} ({}-byte key)",
            key.process_id,
            key.secret_key.len()
        ),
        Message::CommandComplete(done) => format!("CommandComplete {}", quote(done.tag())),
        Message::CopyInResponse(c) | Message::CopyOutResponse(c) | Message::CopyBothResponse(c) => {
            format!(
                "{name} {}, {}",
                if c.format == 0 { "text" } else { "binary" },
                count(c.column_formats().len(), "column")
            )
        }
        Message::CopyData(data) => format!("CopyData {}", count(data.len(), "byte")),
        Message::DataRow(row) => format!(
            "DataRow {}",
            count(usize::from(row.column_count()), "column")
        ),
        Message::ErrorResponse(fields) | Message::NoticeResponse(fields) => {
            let field =
                |code| String::from_utf8_lossy(fields.get(code).unwrap_or_default()).into_owned();
            format!(
                "{name} {} {} {}",
                field(b'S'),
                field(b'C'),
                quote(&field(b'M'))
            )
        }
        Message::FunctionCallResponse(result) => match result {
            Some(value) => format!("{name} {}", count(value.len(), "byte")),
            None => format!("{name} NULL"),
        },
        Message::NegotiateProtocolVersion(n) => format!(
            "{name} newest {}.{}, unrecognized: {}",
            n.newest_minor >> 16,
            n.newest_minor & 0xffff,
            n.unrecognized.join(" ")
        ),
        Message::NotificationResponse(n) => format!(
            "{name} channel {} payload {} from pid {}",
            quote(&n.channel),
            quote(&n.payload),
            n.process_id
        ),
        Message::ParameterDescription(d) => format!("{name} {:?}", d.types),
        Message::ParameterStatus(p) => format!("{name} {}={}", p.name, p.value),
        Message::ReadyForQuery(status) => format!(
            "{name} {}",
            match status {
                TransactionStatus::Idle => "idle",
                TransactionStatus::InTransaction => "in transaction",
                TransactionStatus::Failed => "failed transaction",
            }
        ),
        Message::RowDescription(d) => {
            let names: Vec<String> = d
                .fields()
                .map(|f| f.map_or_else(|e| format!("<{e}>"), |f| f.name.to_owned()))
                .collect();
            format!(
                "{name} {}: {}",
                count(names.len(), "field"),
                names.join(", ")
            )
        }
        Message::BindComplete
        | Message::CloseComplete
        | Message::CopyDone
        | Message::EmptyQueryResponse
        | Message::NoData
        | Message::ParseComplete
        | Message::PortalSuspended => name.into(),
    }
}
