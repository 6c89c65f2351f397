//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, client side.
//!
//! The exchange is three messages long, and [`ScramSha256`] is its state machine:
//!
//! 1. [`ScramSha256::new`] (or [`ScramSha256::with_channel_binding`]) builds the
//!    client-first-message (`n,,n=,r=<client nonce>`), sent in a SASLInitialResponse naming the
//!    mechanism [`ScramSha256::mechanism`] ([`SCRAM_SHA_256`], or [`SCRAM_SHA_256_PLUS`] when
//!    binding to the TLS channel);
//! 2. [`ScramSha256::update`] takes the server-first-message (the data of
//!    AuthenticationSASLContinue), checks it, and builds the client-final-message with the
//!    client proof, sent in a SASLResponse;
//! 3. [`ScramSha256::finish`] takes the server-final-message (the data of AuthenticationSASLFinal)
//!    and checks the server signature, which proves that the server knows the password too.
//!
//! PostgreSQL's dialect: the SCRAM user name is sent empty (the server uses the startup
//! message's user), and the password goes through SASLprep (RFC 4013) only when it is valid
//! UTF-8 and SASLprep succeeds; otherwise its raw bytes are used, exactly as the server did
//! when it stored the verifier (the private `saslprep` module has the details).
//!
//! Channel binding (RFC 5802 section 6, RFC 5929 section 4): the GS2 header that starts the
//! client-first-message says what the client does about it, as a [`ChannelBindingChoice`]
//! passed to [`ScramSha256::with_channel_binding`]:
//!
//! - `n,,` ([`ChannelBindingChoice::NotSupported`]): no TLS, or `channel_binding=disable`;
//! - `y,,` ([`ChannelBindingChoice::SupportedButNotUsed`]): the client is on TLS and could
//!   bind, but the server did not offer [`SCRAM_SHA_256_PLUS`]. A server that does support
//!   channel binding refuses this header, so a man-in-the-middle who stripped the `-PLUS`
//!   offer is detected;
//! - `p=tls-server-end-point,,` ([`ChannelBindingChoice::TlsServerEndPoint`]): mechanism
//!   [`SCRAM_SHA_256_PLUS`], bound to the hash of the server's TLS certificate. The
//!   client-final-message's `c=` is then the base64 of the GS2 header followed by that hash, and
//!   since `c=` is part of the AuthMessage both proofs cover it: a server on the other end of a
//!   different TLS connection (a man-in-the-middle with its own certificate) cannot produce a
//!   valid signature, and the real server refuses the client's proof.
//!
//! Computing the hash (RFC 5929 section 4.1: the certificate's signature hash, SHA-256 for MD5
//! and SHA-1) is the IO layer's job; this module only carries the bytes.
//!
//! Limits checked on the server-first-message: the nonce must extend ours, the salt must be
//! non-empty base64, and the iteration count must lie in `1..=`[`MAX_ITERATIONS`].
//!
//! Every failure is a [`ScramError`], an enum a caller can match on. It converts into
//! [`ProtoError::Scram`](crate::proto::ProtoError::Scram) (with `?`), and from there into a
//! [`tusk::Error`](crate::Error) of [`Kind::Auth`](crate::Kind::Auth).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::saslprep::prepare_password;
pub use super::scram_channel_binding::ChannelBindingChoice;
use super::scram_error::shown;
pub use super::scram_error::ScramError;

/// The SASL mechanism name of SCRAM-SHA-256, as offered by the server and named by the client in
/// its SASLInitialResponse.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";

/// The SASL mechanism name of SCRAM-SHA-256 with channel binding, offered by servers over TLS
/// and used with [`ChannelBindingChoice::TlsServerEndPoint`].
pub const SCRAM_SHA_256_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// The channel binding type PostgreSQL supports (RFC 5929 section 4), named in the GS2 header
/// `p=tls-server-end-point,,`.
pub const TLS_SERVER_END_POINT: &str = "tls-server-end-point";

/// The largest iteration count accepted from a server: 10 million, 2,441 times PostgreSQL's
/// default of 4096.
///
/// The client pays for every iteration (about 0.12 s per million in an optimized build on a
/// current CPU, so about a second at this limit), and the server chooses the count: an
/// unbounded count would let a hostile or misconfigured server (`i=4294967295`) keep a client
/// busy for minutes per connection attempt. PostgreSQL 16's `scram_iterations` setting can go
/// higher, but nothing legitimate needs to. Counts below PostgreSQL's default are accepted
/// (down to 1, as PostgreSQL itself allows): the server owns that trade-off.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// The length in bytes of SHA-256 output, and so of every SCRAM-SHA-256 key and signature.
const KEY_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// The client side of one SCRAM-SHA-256 exchange.
///
/// Every error is a [`ScramError`] naming what was wrong, and ends the exchange: later calls
/// fail too ([`ScramError::AlreadyFailed`]). Calls out of order (`finish` before `update`,
/// `update` twice) are errors ([`ScramError::OutOfOrder`]), never panics. Error texts never
/// contain the password.
///
/// ```
/// use tusk::proto::auth::scram::{ScramError, ScramSha256};
///
/// // The IO layer draws the nonce from a secure random source; see `client_nonce_from_bytes`.
/// let mut scram = ScramSha256::new(b"pencil", "rOprNGfwEbeRWgbNEkqO")?;
/// assert_eq!(scram.message(), b"n,,n=,r=rOprNGfwEbeRWgbNEkqO");
///
/// // The server-first-message, from AuthenticationSASLContinue:
/// scram.update(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
///                s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")?;
/// let client_final = scram.message(); // sent in a SASLResponse
/// assert!(client_final.starts_with(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTC"));
///
/// // A server-final-message with the wrong signature is refused:
/// let forged = b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/// assert_eq!(scram.finish(forged), Err(ScramError::BadServerSignature));
/// # Ok::<(), ScramError>(())
/// ```
pub struct ScramSha256 {
    state: State,
    /// The SASL mechanism this exchange speaks, from its [`ChannelBindingChoice`].
    mechanism: &'static str,
}

/// Where the exchange stands, with the data the next step needs.
enum State {
    /// The client-first-message is ready; the server-first-message is awaited.
    AwaitingServerFirst {
        /// The password as the caller gave it (SASLprep happens in [`salted_password`]).
        password: Vec<u8>,
        client_nonce: String,
        /// The GS2 header followed by the client-first-message-bare.
        client_first: String,
        /// The length of the GS2 header at the start of `client_first`.
        gs2_len: usize,
        /// The `c=` value of the client-final-message (base64 of GS2 header and binding data).
        c_attribute: String,
    },
    /// The client-final-message is ready; the server-final-message is awaited.
    AwaitingServerFinal {
        client_final: String,
        /// HMAC(SaltedPassword, "Server Key"): the key of the signature the server must show.
        server_key: [u8; KEY_LEN],
        /// client-first-message-bare "," server-first-message "," client-final-without-proof.
        auth_message: Vec<u8>,
    },
    /// The server proved it knows the password.
    Done,
    /// An error ended the exchange.
    Failed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::AwaitingServerFirst { .. } => "AwaitingServerFirst",
            State::AwaitingServerFinal { .. } => "AwaitingServerFinal",
            State::Done => "Done",
            State::Failed => "Failed",
        }
    }
}

impl fmt::Debug for ScramSha256 {
    // Only the state's name: the password and keys stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramSha256")
            .field("state", &self.state.name())
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

impl ScramSha256 {
    /// Starts an exchange the way PostgreSQL expects it: empty SCRAM user name, no channel
    /// binding (GS2 header `n,,`, mechanism [`SCRAM_SHA_256`]).
    ///
    /// `client_nonce` must be non-empty printable ASCII without `,` (RFC 5802's `printable`);
    /// build it from secure random bytes with [`client_nonce_from_bytes`]. `password` may be any
    /// bytes: SASLprep is applied when the password is valid UTF-8 and SASLprep succeeds, as
    /// the server does when it stores the verifier.
    pub fn new(password: &[u8], client_nonce: &str) -> Result<ScramSha256, ScramError> {
        ScramSha256::start(
            password,
            client_nonce,
            "",
            ChannelBindingChoice::NotSupported,
        )
    }

    /// Starts an exchange the way PostgreSQL expects it (empty SCRAM user name) with the GS2
    /// header of `channel_binding`; send [`message`](Self::message) in a SASLInitialResponse
    /// naming [`mechanism`](Self::mechanism).
    ///
    /// With [`ChannelBindingChoice::TlsServerEndPoint`], the binding data enters the `c=`
    /// attribute of the client-final-message and so both proofs; empty binding data is
    /// [`ScramError::EmptyChannelBindingData`]. Otherwise as [`ScramSha256::new`].
    ///
    /// ```
    /// use tusk::proto::auth::scram::{ChannelBindingChoice, ScramSha256};
    ///
    /// let scram = ScramSha256::with_channel_binding(
    ///     b"pencil",
    ///     "rOprNGfwEbeRWgbNEkqO",
    ///     ChannelBindingChoice::SupportedButNotUsed,
    /// )?;
    /// assert_eq!(scram.mechanism(), "SCRAM-SHA-256");
    /// assert_eq!(scram.message(), b"y,,n=,r=rOprNGfwEbeRWgbNEkqO");
    /// # Ok::<(), tusk::proto::auth::ScramError>(())
    /// ```
    pub fn with_channel_binding(
        password: &[u8],
        client_nonce: &str,
        channel_binding: ChannelBindingChoice,
    ) -> Result<ScramSha256, ScramError> {
        ScramSha256::start(password, client_nonce, "", channel_binding)
    }

    /// Starts an exchange that names `username` in the client-first-message (no channel
    /// binding).
    ///
    /// PostgreSQL ignores the SCRAM user name (it authenticates the startup message's user), so
    /// a PostgreSQL client uses [`ScramSha256::new`]. This constructor exists for other SCRAM
    /// servers and for the RFC 7677 test vector, whose proofs cover the name. The name is sent
    /// as given, with `=` and `,` escaped as `=3D` and `=2C`; it must not contain NUL.
    pub fn with_username(
        password: &[u8],
        client_nonce: &str,
        username: &str,
    ) -> Result<ScramSha256, ScramError> {
        ScramSha256::start(
            password,
            client_nonce,
            username,
            ChannelBindingChoice::NotSupported,
        )
    }

    fn start(
        password: &[u8],
        client_nonce: &str,
        username: &str,
        channel_binding: ChannelBindingChoice,
    ) -> Result<ScramSha256, ScramError> {
        validate_client_nonce(client_nonce)?;
        if username.contains('\0') {
            return Err(ScramError::NulInUsername);
        }
        if channel_binding == ChannelBindingChoice::TlsServerEndPoint(Vec::new()) {
            return Err(ScramError::EmptyChannelBindingData);
        }
        let gs2_header = channel_binding.gs2_header();
        let mut client_first =
            String::with_capacity(gs2_header.len() + 5 + username.len() + client_nonce.len());
        client_first.push_str(gs2_header);
        client_first.push_str("n=");
        for c in username.chars() {
            match c {
                '=' => client_first.push_str("=3D"),
                ',' => client_first.push_str("=2C"),
                other => client_first.push(other),
            }
        }
        client_first.push_str(",r=");
        client_first.push_str(client_nonce);
        Ok(ScramSha256 {
            state: State::AwaitingServerFirst {
                password: password.to_vec(),
                client_nonce: client_nonce.to_owned(),
                client_first,
                gs2_len: gs2_header.len(),
                c_attribute: channel_binding.c_attribute(),
            },
            mechanism: channel_binding.mechanism(),
        })
    }

    /// The SASL mechanism of this exchange, to name in the SASLInitialResponse:
    /// [`SCRAM_SHA_256_PLUS`] when it binds to the TLS channel, [`SCRAM_SHA_256`] otherwise.
    pub fn mechanism(&self) -> &'static str {
        self.mechanism
    }

    /// Whether this exchange binds to the TLS channel (SCRAM-SHA-256-PLUS). Once
    /// [`finish`](Self::finish) succeeded, the server has then proved it is the end of this
    /// TLS connection that knows the password.
    pub fn is_channel_bound(&self) -> bool {
        self.mechanism == SCRAM_SHA_256_PLUS
    }

    /// The message to send now: the client-first-message after [`new`](Self::new), the
    /// client-final-message after [`update`](Self::update); empty once the exchange is over
    /// (finished or failed).
    pub fn message(&self) -> &[u8] {
        match &self.state {
            State::AwaitingServerFirst { client_first, .. } => client_first.as_bytes(),
            State::AwaitingServerFinal { client_final, .. } => client_final.as_bytes(),
            State::Done | State::Failed => &[],
        }
    }

    /// Takes the server-first-message (the data of AuthenticationSASLContinue), checks it and
    /// computes the client-final-message, then available from [`message`](Self::message).
    ///
    /// Refused: a nonce that does not extend ours, a salt that is empty or not base64, an
    /// iteration count outside `1..=`[`MAX_ITERATIONS`], attributes missing or out of order, and
    /// the mandatory-extension attribute `m=`. Extensions after `i=` are ignored, as RFC 5802
    /// requires.
    pub fn update(&mut self, server_first: &[u8]) -> Result<(), ScramError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitingServerFirst {
                password,
                client_nonce,
                client_first,
                gs2_len,
                c_attribute,
            } => {
                let parsed = ServerFirst::parse(server_first, &client_nonce)?;
                let salted = cached_salted_password(&password, &parsed.salt, parsed.iterations);
                // In bounds: `start` puts the GS2 header at the start of `client_first`.
                let client_first_bare = &client_first[gs2_len..];
                self.state = client_final_state(
                    client_first_bare,
                    &c_attribute,
                    server_first,
                    &parsed,
                    &salted,
                );
                Ok(())
            }
            state @ (State::AwaitingServerFinal { .. } | State::Done) => {
                Err(out_of_order("update", &state))
            }
            State::Failed => Err(ScramError::AlreadyFailed),
        }
    }

    /// Takes the server-final-message (the data of AuthenticationSASLFinal) and verifies, in
    /// constant time, the server signature in it.
    ///
    /// A server-final-message carrying `e=<error>` is an error quoting the server's text.
    pub fn finish(&mut self, server_final: &[u8]) -> Result<(), ScramError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitingServerFinal {
                server_key,
                auth_message,
                ..
            } => {
                let signature = parse_server_final(server_final)?;
                // HMAC takes keys of any length (longer ones are hashed): this cannot fail.
                let mac = HmacSha256::new_from_slice(&server_key)
                    .expect("HMAC accepts keys of any length");
                // `verify_slice` compares in constant time.
                mac.chain_update(&auth_message)
                    .verify_slice(&signature)
                    .map_err(|_| ScramError::BadServerSignature)?;
                self.state = State::Done;
                Ok(())
            }
            state @ (State::AwaitingServerFirst { .. } | State::Done) => {
                Err(out_of_order("finish", &state))
            }
            State::Failed => Err(ScramError::AlreadyFailed),
        }
    }
}

/// Turns 18 random bytes into a client nonce: their base64 form, 24 printable characters
/// without `,` (the length libpq uses).
///
/// The bytes must come from a cryptographically secure source; this function only encodes them.
///
/// ```
/// use tusk::proto::auth::scram::{client_nonce_from_bytes, ScramSha256};
///
/// let nonce = client_nonce_from_bytes(&[0xfb; 18]);
/// assert_eq!(nonce, "+/v7+/v7+/v7+/v7+/v7+/v7");
/// assert!(ScramSha256::new(b"secret", &nonce).is_ok());
/// ```
pub fn client_nonce_from_bytes(random: &[u8; 18]) -> String {
    STANDARD.encode(random)
}

/// Computes the SCRAM-SHA-256 verifier PostgreSQL stores for a password:
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64 fields).
///
/// This is what `CREATE ROLE ... PASSWORD` stores with `password_encryption = 'scram-sha-256'`,
/// and what a client can send in place of the password so that the cleartext never reaches the
/// server. `salt` should be 16 secure random bytes (PostgreSQL's choice) and `iterations`
/// 4096 or more. The password gets the same SASLprep treatment as in [`ScramSha256::new`].
///
/// ```
/// use tusk::proto::auth::scram::scram_verifier;
///
/// let verifier = scram_verifier(b"pencil", &[7; 16], 4096)?;
/// assert!(verifier.starts_with("SCRAM-SHA-256$4096:BwcHBwcHBwcHBwcHBwcHBw==$"));
/// # Ok::<(), tusk::proto::auth::ScramError>(())
/// ```
pub fn scram_verifier(password: &[u8], salt: &[u8], iterations: u32) -> Result<String, ScramError> {
    if salt.is_empty() {
        return Err(ScramError::InvalidVerifierInput {
            reason: "a SCRAM verifier needs a non-empty salt",
        });
    }
    if iterations == 0 {
        return Err(ScramError::InvalidVerifierInput {
            reason: "a SCRAM verifier needs at least one iteration",
        });
    }
    let salted = salted_password(password, salt, iterations);
    let keys = Keys::derive(&salted);
    Ok(format!(
        "{SCRAM_SHA_256}${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(keys.stored),
        STANDARD.encode(keys.server)
    ))
}

/// How many (password, salt, iterations) results [`cached_salted_password`] keeps.
const SALTED_CACHE_LEN: usize = 8;

/// Recent SaltedPassword results, keyed by a SHA-256 digest of (iterations, salt, password):
/// a reconnect to the same server with the same password (the server keeps its salt and
/// iteration count) skips PBKDF2, which is most of a SCRAM login's client CPU. A memo of a pure
/// function: no IO and no clock, so the core stays sans-IO. The password itself is not kept.
static SALTED_CACHE: std::sync::Mutex<Vec<([u8; 32], [u8; KEY_LEN])>> =
    std::sync::Mutex::new(Vec::new());

/// [`salted_password`] through [`SALTED_CACHE`].
fn cached_salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let key: [u8; 32] = Sha256::new()
        .chain_update(iterations.to_be_bytes())
        .chain_update((salt.len() as u64).to_be_bytes())
        .chain_update(salt)
        .chain_update(password)
        .finalize()
        .into();
    // A poisoned lock only means a panic elsewhere while holding it; the Vec is still valid.
    let lookup = |cache: &Vec<([u8; 32], [u8; KEY_LEN])>| {
        cache
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, salted)| *salted)
    };
    if let Some(salted) = lookup(&SALTED_CACHE.lock().unwrap_or_else(|e| e.into_inner())) {
        return salted;
    }
    // Computed outside the lock: PBKDF2 must not serialise concurrent logins.
    let salted = salted_password(password, salt, iterations);
    let mut cache = SALTED_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if lookup(&cache).is_none() {
        if cache.len() >= SALTED_CACHE_LEN {
            cache.remove(0);
        }
        cache.push((key, salted));
    }
    salted
}

/// SaltedPassword = Hi(SASLprep(password), salt, iterations), PBKDF2 with HMAC-SHA-256 and one
/// output block (RFC 5802 section 2.2).
///
/// `password` is the password as the user gave it: SASLprep is applied here, the way PostgreSQL
/// applies it. This is the expensive step of the exchange (one HMAC per iteration), and its
/// result depends only on the arguments, so it can be cached per (password, salt, iterations).
/// An `iterations` of 0 is computed as 1 (callers reject 0 before getting here).
pub(crate) fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let password = prepare_password(password);
    // Key the HMAC once and clone the keyed state for every iteration, rather than hashing the
    // key again 4096 times.
    let keyed = HmacSha256::new_from_slice(&password).expect("HMAC accepts keys of any length");

    // U1 = HMAC(password, salt || INT(1))
    let mut u: [u8; KEY_LEN] = keyed
        .clone()
        .chain_update(salt)
        .chain_update(1u32.to_be_bytes())
        .finalize()
        .into_bytes()
        .into();
    let mut result = u;
    for _ in 1..iterations {
        // Ui = HMAC(password, U(i-1)); result = U1 ^ U2 ^ ... ^ Ui
        u = keyed.clone().chain_update(u).finalize().into_bytes().into();
        for (r, x) in result.iter_mut().zip(u.iter()) {
            *r ^= x;
        }
    }
    result
}

/// The keys derived from a SaltedPassword (RFC 5802 section 3).
pub(crate) struct Keys {
    /// ClientKey = HMAC(SaltedPassword, "Client Key")
    pub(crate) client: [u8; KEY_LEN],
    /// StoredKey = H(ClientKey)
    pub(crate) stored: [u8; KEY_LEN],
    /// ServerKey = HMAC(SaltedPassword, "Server Key")
    pub(crate) server: [u8; KEY_LEN],
}

impl Keys {
    pub(crate) fn derive(salted: &[u8; KEY_LEN]) -> Keys {
        let client = hmac(salted, b"Client Key");
        let stored = Sha256::digest(client).into();
        let server = hmac(salted, b"Server Key");
        Keys {
            client,
            stored,
            server,
        }
    }
}

/// HMAC-SHA-256. `new_from_slice` cannot fail for HMAC, which takes keys of any length.
fn hmac(key: &[u8], data: &[u8]) -> [u8; KEY_LEN] {
    HmacSha256::new_from_slice(key)
        .expect("HMAC accepts keys of any length")
        .chain_update(data)
        .finalize()
        .into_bytes()
        .into()
}

/// Builds the client-final-message and the state that awaits the server-final-message.
fn client_final_state(
    client_first_bare: &str,
    c_attribute: &str,
    server_first: &[u8],
    parsed: &ServerFirst<'_>,
    salted: &[u8; KEY_LEN],
) -> State {
    let keys = Keys::derive(salted);
    let without_proof = format!("c={c_attribute},r={}", parsed.nonce);

    // AuthMessage = client-first-message-bare "," server-first-message ","
    //               client-final-message-without-proof
    let client_first_bare = client_first_bare.as_bytes();
    let mut auth_message =
        Vec::with_capacity(client_first_bare.len() + server_first.len() + without_proof.len() + 2);
    auth_message.extend_from_slice(client_first_bare);
    auth_message.push(b',');
    auth_message.extend_from_slice(server_first);
    auth_message.push(b',');
    auth_message.extend_from_slice(without_proof.as_bytes());

    // ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)
    let mut proof = hmac(&keys.stored, &auth_message);
    for (p, k) in proof.iter_mut().zip(keys.client.iter()) {
        *p ^= k;
    }
    let client_final = format!("{without_proof},p={}", STANDARD.encode(proof));
    State::AwaitingServerFinal {
        client_final,
        server_key: keys.server,
        auth_message,
    }
}

/// The fields of a server-first-message that the client uses.
struct ServerFirst<'a> {
    /// The combined nonce: the client's, then the server's part.
    nonce: &'a str,
    salt: Vec<u8>,
    iterations: u32,
}

impl<'a> ServerFirst<'a> {
    /// Parses and checks `r=<nonce>,s=<salt>,i=<count>[,<extensions>]`.
    fn parse(message: &'a [u8], client_nonce: &str) -> Result<ServerFirst<'a>, ScramError> {
        const WHAT: &str = "server-first-message";
        let text = std::str::from_utf8(message)
            .map_err(|_| malformed(WHAT, "the message is not valid UTF-8"))?;
        let mut attributes = text.split(',');

        let (name, nonce) = next_attribute(&mut attributes, WHAT, "r")?;
        if name == 'm' {
            return Err(ScramError::MandatoryExtension);
        }
        expect_name(name, 'r', "the nonce", WHAT)?;
        if !nonce.bytes().all(is_printable) {
            return Err(malformed(
                WHAT,
                "the nonce holds characters outside printable ASCII",
            ));
        }
        if !nonce.starts_with(client_nonce) || nonce.len() <= client_nonce.len() {
            return Err(ScramError::NonceMismatch);
        }

        let (name, salt) = next_attribute(&mut attributes, WHAT, "s")?;
        expect_name(name, 's', "the salt", WHAT)?;
        if salt.is_empty() {
            return Err(malformed(WHAT, "the salt is empty"));
        }
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| malformed(WHAT, "the salt is not valid base64"))?;

        let (name, count) = next_attribute(&mut attributes, WHAT, "i")?;
        expect_name(name, 'i', "the iteration count", WHAT)?;
        let iterations = parse_iterations(count)?;

        check_extensions(attributes, WHAT)?;
        Ok(ServerFirst {
            nonce,
            salt,
            iterations,
        })
    }
}

/// Parses the iteration count: decimal digits only, in `1..=MAX_ITERATIONS`.
/// Anything else is [`ScramError::IterationCount`], whose `Display` tells the three cases apart
/// (not a number, zero, above the limit) from the text kept in it.
fn parse_iterations(count: &str) -> Result<u32, ScramError> {
    let refused = || ScramError::IterationCount {
        count: count.to_owned(),
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    // On digits only, `parse` fails only above u32::MAX, which is above the limit too.
    match count.trim_start_matches('0').parse::<u32>() {
        Ok(n) if (1..=MAX_ITERATIONS).contains(&n) => Ok(n),
        // All zeros leave an empty string, which does not parse either.
        _ => Err(refused()),
    }
}

/// Parses a server-final-message, `v=<signature>[,<extensions>]` or `e=<error>[,...]`, into
/// the 32 signature bytes.
fn parse_server_final(message: &[u8]) -> Result<Vec<u8>, ScramError> {
    const WHAT: &str = "server-final-message";
    if let Some(error) = message.strip_prefix(b"e=") {
        let error = error.split(|&b| b == b',').next().unwrap_or_default();
        return Err(ScramError::ServerError(
            String::from_utf8_lossy(error).into_owned(),
        ));
    }
    let text = std::str::from_utf8(message)
        .map_err(|_| malformed(WHAT, "the message is not valid UTF-8"))?;
    let mut attributes = text.split(',');
    let (name, signature) = next_attribute(&mut attributes, WHAT, "v")?;
    expect_name(name, 'v', "the server signature", WHAT)?;
    let signature = STANDARD
        .decode(signature)
        .map_err(|_| malformed(WHAT, "the server signature is not valid base64"))?;
    if signature.len() != KEY_LEN {
        return Err(malformed(
            WHAT,
            format!(
                "the server signature is {} bytes long, not {KEY_LEN}",
                signature.len()
            ),
        ));
    }
    check_extensions(attributes, WHAT)?;
    Ok(signature)
}

/// Reads the next `<letter>=<value>` attribute; `expected` names the attribute wanted there,
/// for the error when the message ends early.
fn next_attribute<'a>(
    attributes: &mut std::str::Split<'a, char>,
    what: &'static str,
    expected: &str,
) -> Result<(char, &'a str), ScramError> {
    let Some(attribute) = attributes.next() else {
        return Err(malformed(
            what,
            format!("the message ends before attribute {expected}="),
        ));
    };
    split_attribute(attribute, what)
}

/// Splits `<letter>=<value>`; the value may be empty here (callers decide).
fn split_attribute<'a>(
    attribute: &'a str,
    what: &'static str,
) -> Result<(char, &'a str), ScramError> {
    let mut chars = attribute.chars();
    match (chars.next(), chars.next()) {
        (Some(name), Some('=')) if name.is_ascii_alphabetic() => Ok((name, chars.as_str())),
        _ => Err(malformed(
            what,
            format!(
                "{} is not an attribute of the form <letter>=<value>",
                shown(attribute)
            ),
        )),
    }
}

fn expect_name(
    found: char,
    expected: char,
    meaning: &str,
    what: &'static str,
) -> Result<(), ScramError> {
    if found == expected {
        Ok(())
    } else {
        Err(malformed(
            what,
            format!("expected attribute {expected}= ({meaning}), found {found}="),
        ))
    }
}

/// Checks the optional extensions ending a server message: well-formed, non-empty, not NUL.
/// Their meaning is ignored, as RFC 5802 requires of unknown extensions.
fn check_extensions<'a>(
    attributes: impl Iterator<Item = &'a str>,
    what: &'static str,
) -> Result<(), ScramError> {
    for attribute in attributes {
        let (_, value) = split_attribute(attribute, what)?;
        if value.is_empty() || value.contains('\0') {
            return Err(malformed(
                what,
                format!("malformed extension attribute {}", shown(attribute)),
            ));
        }
    }
    Ok(())
}

/// RFC 5802's `printable`: ASCII 0x21..=0x7E except `,`.
fn is_printable(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b','
}

fn validate_client_nonce(nonce: &str) -> Result<(), ScramError> {
    if nonce.is_empty() || !nonce.bytes().all(is_printable) {
        return Err(ScramError::InvalidClientNonce);
    }
    Ok(())
}

fn malformed(message: &'static str, reason: impl Into<String>) -> ScramError {
    ScramError::Malformed {
        message,
        reason: reason.into(),
    }
}

fn out_of_order(call: &'static str, state: &State) -> ScramError {
    ScramError::OutOfOrder {
        call,
        state: state.name(),
    }
}

#[cfg(test)]
#[path = "scram_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "scram_error_tests.rs"]
mod error_tests;

#[cfg(test)]
#[path = "scram_plus_tests.rs"]
mod plus_tests;
