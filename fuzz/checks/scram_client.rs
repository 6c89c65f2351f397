//! The checks of the `scram_client` fuzz target, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] drives the client side of a SASL authentication through the public startup path
//! ([`Startup::with_options`] and [`Startup::handle`], as a connection does) with server
//! messages built from the input: an AuthenticationSASL offering an arbitrary mechanism list,
//! an AuthenticationSASLContinue carrying a server-first-message (built field by field, or raw
//! bytes), an AuthenticationSASLFinal carrying a server-final-message (the right signature, the
//! right one with an extension, a wrong one, or raw bytes), then AuthenticationOk and
//! ReadyForQuery. The input is read as:
//!
//! | bytes       | meaning                                                                 |
//! | ----------- | ----------------------------------------------------------------------- |
//! | 1           | flags: bits 0-1 `channel_binding` (disable, prefer, require, prefer), bit 2 TLS, bits 3-4 `require_auth` (any, `scram-sha-256`, `password`, `!scram-sha-256`), bit 5 raw server-first, bits 6-7 server-final (right, right + extension, one bit wrong, raw) |
//! | chunk       | the password (each byte masked to ASCII)                                 |
//! | chunk       | the client nonce (lossy UTF-8; empty = a fixed valid nonce)              |
//! | chunk       | the `tls-server-end-point` data, when TLS (may be empty)                 |
//! | 1 + names   | how many mechanisms (`byte % 5`), each a byte: SCRAM-SHA-256, -PLUS, a lower-case spelling, or (3 and up) a chunk of raw bytes |
//! | ...         | server-first: raw = a 16-bit chunk; built = a nonce suffix chunk, a salt chunk (base64-encoded here), an iteration selector (2 bytes), an extensions chunk |
//! | the rest    | the raw server-final-message, in raw mode                               |
//!
//! (A chunk is a length byte and that many bytes.) Besides the absence of panics it checks:
//!
//! - the mechanism and GS2 header chosen (or the refusal) are libpq's for the offer, the
//!   `channel_binding` setting and TLS, as re-derived here, and a refusal writes nothing;
//! - a server-first-message is accepted exactly when an independent parser here accepts it
//!   (nonce extending ours, non-empty canonical base64 salt, iteration count in
//!   `1..=MAX_ITERATIONS`, well-formed extensions); a count above the limit is refused with
//!   `ScramError::IterationCount` before any work, whatever its size;
//! - the client-final-message is exactly `c=<base64 GS2 header and binding data>,r=<nonce>,
//!   p=<proof>`, with the proof computed here with `hmac` and `sha2` (RFC 5802 section 3);
//! - a server-final-message is accepted only when its `v=` is the signature computed here
//!   from the same password, salt and iteration count; the right signature is accepted, and a
//!   wrong one is refused with `ScramError::BadServerSignature`;
//! - AuthenticationOk is accepted exactly when the signature was verified (and with
//!   `channel_binding=require`, only after SCRAM-SHA-256-PLUS);
//! - every error is one of the typed variants that step can produce, and its text does not
//!   depend on the password: a run that fails is run again with every password byte's lowest
//!   bit flipped and must fail at the same step with the same text (`Display` and `Debug`).
//!
//! Iteration counts the input builds stay small (the fuzzer would spend its time in PBKDF2
//! otherwise): a raw server-first-message whose count this parser reads as above
//! [`FUZZ_ITERATION_CAP`] but within the client's limit is not sent.
//!
//! Only `tusk`, `bytes`, `hmac` and `sha2` are used here: the crates that include this file
//! depend on all four.

// Each fuzz target includes one check, so each check includes the reader itself; the test that
// replays every target's seeds then holds one copy per check.
#[allow(clippy::duplicate_mod)]
#[path = "input.rs"]
mod input;

use bytes::{Bytes, BytesMut};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tusk::proto::auth::scram::{ScramError, MAX_ITERATIONS, SCRAM_SHA_256, SCRAM_SHA_256_PLUS};
use tusk::proto::auth::{AuthRefusal, ChannelBinding, RequireAuth};
use tusk::proto::backend::{Message, TransactionStatus};
use tusk::proto::framing::Frame;
use tusk::proto::session::{AuthOptions, Startup, StartupEvent};
use tusk::proto::ProtoError;

use input::Input;

/// The largest iteration count a run computes (twice: by the client and here).
pub const FUZZ_ITERATION_CAP: u32 = 256;

/// The client nonce used when the input gives none.
const DEFAULT_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";

/// Iteration counts written as text, chosen by the high values of the selector: the edges of
/// the client's limit and of `u32`, and texts that are not plain decimal numbers.
const SPECIAL_COUNTS: [&str; 14] = [
    "0",
    "00",
    "10000001",
    "4294967295",
    "4294967296",
    "99999999999999999999999999",
    "-1",
    "+5",
    " 5",
    "5 ",
    "",
    "0x10",
    "1e3",
    "0000000000000000000000000007",
];

/// How the client is expected to answer AuthenticationSASL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    /// SCRAM-SHA-256 with GS2 header `n,,` or `y,,`.
    Plain(&'static str),
    /// SCRAM-SHA-256-PLUS bound to this data.
    Plus(Vec<u8>),
}

impl Choice {
    fn gs2_header(&self) -> &'static str {
        match self {
            Choice::Plain(header) => header,
            Choice::Plus(_) => "p=tls-server-end-point,,",
        }
    }

    fn mechanism(&self) -> &'static str {
        match self {
            Choice::Plain(_) => SCRAM_SHA_256,
            Choice::Plus(_) => SCRAM_SHA_256_PLUS,
        }
    }

    /// The `c=` value: base64 of the GS2 header and the binding data.
    fn c_attribute(&self) -> String {
        let mut input = self.gs2_header().as_bytes().to_vec();
        if let Choice::Plus(data) = self {
            input.extend_from_slice(data);
        }
        base64_encode(&input)
    }
}

/// The answer expected to AuthenticationSASL.
#[derive(Debug)]
enum Expected {
    Choice(Choice),
    RequireAuth,
    ChannelBindingWithoutTls,
    ChannelBindingNotOffered,
    PlusOnlyUnusable,
    Unsupported,
    InvalidNonce,
    EmptyBindingData,
}

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    run(data);
}

/// [`check`], telling whether the exchange ran to its end: the server's signature verified,
/// AuthenticationOk and ReadyForQuery accepted.
///
/// A run that ends in an error is run again with another password of the same length (every
/// byte with its lowest bit flipped): it must end at the same step with exactly the same error
/// text, so no error shows the password or anything derived from it.
pub fn run(data: &[u8]) -> bool {
    match run_with_password(data, 0) {
        Ok(()) => true,
        Err(text) => {
            let twin = run_with_password(data, 1);
            assert_eq!(
                twin,
                Err(text),
                "the error depends on the password (a byte flipped in it)"
            );
            false
        }
    }
}

/// One run, with each password byte XORed with `flip`: `Err` with the text of the error that
/// ended it, or `Err("")` when it ended early without one (a skipped run).
fn run_with_password(data: &[u8], flip: u8) -> Result<(), String> {
    let mut input = Input::new(data);
    let flags = input.byte();
    let channel_binding = match flags & 3 {
        0 => ChannelBinding::Disable,
        2 => ChannelBinding::Require,
        _ => ChannelBinding::Prefer,
    };
    let tls = flags & 4 != 0;
    let require_auth_text =
        ["", "scram-sha-256", "password", "!scram-sha-256"][usize::from(flags >> 3 & 3)];
    let require_auth = if require_auth_text.is_empty() {
        RequireAuth::ANY
    } else {
        require_auth_text
            .parse()
            .expect("a valid require_auth list")
    };
    let raw_server_first = flags & 0x20 != 0;
    let final_mode = flags >> 6;

    let password: Vec<u8> = input.chunk().iter().map(|b| (b & 0x7f) ^ flip).collect();
    let nonce = match input.chunk() {
        [] => DEFAULT_NONCE.to_owned(),
        bytes => String::from_utf8_lossy(bytes).into_owned(),
    };
    let binding = tls.then(|| input.chunk().to_vec());

    let mut mechanisms: Vec<Vec<u8>> = Vec::new();
    for _ in 0..input.byte() % 5 {
        mechanisms.push(match input.byte() {
            0 => SCRAM_SHA_256.as_bytes().to_vec(),
            1 => SCRAM_SHA_256_PLUS.as_bytes().to_vec(),
            2 => b"scram-sha-256".to_vec(),
            // NUL ends a name on the wire: a raw name is what comes before its first NUL.
            _ => input
                .chunk()
                .iter()
                .copied()
                .take_while(|&b| b != 0)
                .collect(),
        });
    }
    // The list ends at its first empty name, as on the wire.
    if let Some(end) = mechanisms.iter().position(Vec::is_empty) {
        mechanisms.truncate(end);
    }

    let mut out = BytesMut::new();
    let options = AuthOptions {
        require_auth,
        channel_binding,
        tls_server_end_point: binding.clone(),
    };
    let mut startup = Startup::with_options(
        &[("user", "fuzz")],
        "fuzz",
        Some(&password),
        nonce.clone(),
        options,
        &mut out,
    )
    .expect("a StartupMessage with a fixed user always encodes");
    out.clear();

    // AuthenticationSASL, through the decoder.
    let mut body = 10u32.to_be_bytes().to_vec();
    for name in &mechanisms {
        body.extend_from_slice(name);
        body.push(0);
    }
    body.push(0);
    let sasl = match Message::parse(Frame {
        tag: b'R',
        body: Bytes::from(body),
    }) {
        Ok(message) => message,
        Err(e) => {
            assert!(
                mechanisms.iter().any(|m| std::str::from_utf8(m).is_err()),
                "a SASL offer of UTF-8 names did not decode: {e}"
            );
            return Err(error_text(&e));
        }
    };
    let offered: Vec<String> = mechanisms
        .iter()
        .map(|m| String::from_utf8(m.clone()).expect("decoded, so UTF-8"))
        .collect();
    let scram_allowed = matches!(require_auth_text, "" | "scram-sha-256");
    let expected = expected_choice(&offered, scram_allowed, channel_binding, &binding, &nonce);
    let outcome = startup.handle(sasl, &mut out);
    let choice = match (&expected, outcome) {
        (Expected::Choice(choice), Ok(StartupEvent::Continue)) => {
            let (mechanism, client_first) = sasl_initial_response(&out);
            assert_eq!(mechanism, choice.mechanism());
            assert_eq!(
                client_first,
                format!("{}n=,r={nonce}", choice.gs2_header()).as_bytes()
            );
            choice.clone()
        }
        (expected, Err(e)) => {
            assert!(out.is_empty(), "a refused SASL request wrote {out:?}");
            assert_refusal(expected, &e);
            return Err(error_text(&e));
        }
        (expected, got) => panic!("expected {expected:?} for {offered:?}, got {got:?}"),
    };
    out.clear();

    // The server-first-message.
    let server_first = if raw_server_first {
        input.chunk16().to_vec()
    } else {
        build_server_first(&mut input, &nonce)
    };
    let parsed = parse_server_first(&server_first, &nonce);
    if let Ok(first) = &parsed {
        if first.iterations > FUZZ_ITERATION_CAP {
            return Err(String::new()); // Valid, but too slow to be worth a run.
        }
    }
    let outcome = startup.handle(sasl_message(11, &server_first), &mut out);
    let first = match (parsed, outcome) {
        (Ok(first), Ok(StartupEvent::Continue)) => first,
        (Err(refusal), Err(e)) => {
            assert!(
                out.is_empty(),
                "a refused server-first-message wrote {out:?}"
            );
            match (&refusal, &e) {
                (
                    FirstRefusal::IterationCount,
                    ProtoError::Scram(ScramError::IterationCount { .. }),
                )
                | (FirstRefusal::Nonce, ProtoError::Scram(ScramError::NonceMismatch))
                | (FirstRefusal::Mandatory, ProtoError::Scram(ScramError::MandatoryExtension))
                | (FirstRefusal::Malformed, ProtoError::Scram(ScramError::Malformed { .. })) => {}
                _ => panic!("server-first {server_first:?}: expected {refusal:?}, got {e:?}"),
            }
            return Err(error_text(&e));
        }
        (Ok(first), got) => {
            panic!("a valid server-first {server_first:?} ({first:?}) was refused: {got:?}")
        }
        (Err(refusal), got) => {
            panic!("server-first {server_first:?} ({refusal:?}) was accepted: {got:?}")
        }
    };

    // The client-final-message and the signature the server must show, computed here.
    let salted = pbkdf2(&password, &first.salt, first.iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac(&salted, b"Server Key");
    let without_proof = format!("c={},r={}", choice.c_attribute(), first.nonce);
    let mut auth_message = format!("n=,r={nonce},").into_bytes();
    auth_message.extend_from_slice(&server_first);
    auth_message.push(b',');
    auth_message.extend_from_slice(without_proof.as_bytes());
    let mut proof = hmac(&stored_key, &auth_message);
    for (p, k) in proof.iter_mut().zip(client_key) {
        *p ^= k;
    }
    let client_final = sasl_response(&out);
    assert_eq!(
        String::from_utf8_lossy(&client_final),
        format!("{without_proof},p={}", base64_encode(&proof))
    );
    out.clear();
    let signature = hmac(&server_key, &auth_message);

    // The server-final-message.
    let server_final = match final_mode {
        0 => format!("v={}", base64_encode(&signature)).into_bytes(),
        1 => format!("v={},x=ext", base64_encode(&signature)).into_bytes(),
        2 => {
            let mut wrong = signature;
            let bit = input.byte();
            wrong[usize::from(bit >> 3) % 32] ^= 1 << (bit & 7);
            format!("v={}", base64_encode(&wrong)).into_bytes()
        }
        _ => input.rest().to_vec(),
    };
    let outcome = startup.handle(sasl_message(12, &server_final), &mut out);
    assert!(
        out.is_empty(),
        "the server-final-message made the client write {out:?}"
    );
    match (final_mode, &outcome) {
        (0 | 1, Ok(StartupEvent::Continue)) => {}
        (0 | 1, _) => panic!("the right signature was refused: {outcome:?}"),
        (2, Err(ProtoError::Scram(ScramError::BadServerSignature))) => {}
        (2, _) => panic!("a wrong signature was not refused as such: {outcome:?}"),
        (_, Ok(_)) => assert_eq!(
            signature_of(&server_final),
            Some(signature.to_vec()),
            "a server-final-message without the right signature was accepted"
        ),
        (
            _,
            Err(ProtoError::Scram(
                ScramError::BadServerSignature
                | ScramError::Malformed { .. }
                | ScramError::ServerError(_),
            )),
        ) => {}
        (_, Err(e)) => panic!("server-final {server_final:?}: untyped refusal {e:?}"),
    }
    if let Err(e) = &outcome {
        return Err(error_text(e));
    }

    // AuthenticationOk, then ReadyForQuery.
    let ok = startup.handle(sasl_message(0, b""), &mut out);
    let bound = matches!(choice, Choice::Plus(_));
    if channel_binding == ChannelBinding::Require && !bound {
        assert!(
            matches!(
                ok,
                Err(ProtoError::AuthRefused(AuthRefusal::ChannelBindingNotUsed))
            ),
            "AuthenticationOk accepted without channel binding: {ok:?}"
        );
        return Err(format!("{ok:?}"));
    }
    assert!(
        matches!(ok, Ok(StartupEvent::Continue)),
        "AuthenticationOk refused: {ok:?}"
    );
    let ready = startup.handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out);
    assert!(
        matches!(ready, Ok(StartupEvent::Ready)),
        "ReadyForQuery refused: {ready:?}"
    );
    assert!(out.is_empty());
    Ok(())
}

/// libpq's answer to AuthenticationSASL (`fe-auth.c`, `pg_SASL_init`), re-derived: the
/// `require_auth` check, then the mechanism, then the exchange's own arguments.
fn expected_choice(
    offered: &[String],
    scram_allowed: bool,
    cb: ChannelBinding,
    binding: &Option<Vec<u8>>,
    nonce: &str,
) -> Expected {
    if !scram_allowed {
        return Expected::RequireAuth;
    }
    let plus = offered.iter().any(|m| m == SCRAM_SHA_256_PLUS);
    let plain = offered.iter().any(|m| m == SCRAM_SHA_256);
    let choice = match binding {
        None if cb == ChannelBinding::Require => return Expected::ChannelBindingWithoutTls,
        Some(_) if cb == ChannelBinding::Require && !plus => {
            return Expected::ChannelBindingNotOffered
        }
        Some(data) if cb != ChannelBinding::Disable && plus => Choice::Plus(data.clone()),
        Some(_) if plain && cb == ChannelBinding::Prefer => Choice::Plain("y,,"),
        _ if plain => Choice::Plain("n,,"),
        _ if plus => return Expected::PlusOnlyUnusable,
        _ => return Expected::Unsupported,
    };
    if nonce.is_empty() || !nonce.bytes().all(is_printable) {
        return Expected::InvalidNonce;
    }
    if choice == Choice::Plus(Vec::new()) {
        return Expected::EmptyBindingData;
    }
    Expected::Choice(choice)
}

fn assert_refusal(expected: &Expected, e: &ProtoError) {
    let matched = match expected {
        Expected::Choice(_) => false,
        Expected::RequireAuth => {
            matches!(e, ProtoError::AuthRefused(AuthRefusal::RequireAuth { .. }))
        }
        Expected::ChannelBindingWithoutTls => {
            matches!(
                e,
                ProtoError::AuthRefused(AuthRefusal::ChannelBindingWithoutTls)
            )
        }
        Expected::ChannelBindingNotOffered => {
            matches!(
                e,
                ProtoError::AuthRefused(AuthRefusal::ChannelBindingNotOffered { .. })
            )
        }
        Expected::PlusOnlyUnusable => {
            matches!(
                e,
                ProtoError::AuthRefused(AuthRefusal::PlusOnlyUnusable { .. })
            )
        }
        Expected::Unsupported => matches!(e, ProtoError::UnsupportedAuth(_)),
        Expected::InvalidNonce => matches!(e, ProtoError::Scram(ScramError::InvalidClientNonce)),
        Expected::EmptyBindingData => {
            matches!(e, ProtoError::Scram(ScramError::EmptyChannelBindingData))
        }
    };
    assert!(matched, "expected {expected:?}, got {e:?}");
}

/// An error as the caller could show it: its message and its `Debug` form.
fn error_text(e: &ProtoError) -> String {
    format!("{e} | {e:?}")
}

/// A message of the Authentication family with this code and data, through the decoder.
fn sasl_message(code: u32, data: &[u8]) -> Message {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(data);
    Message::parse(Frame {
        tag: b'R',
        body: Bytes::from(body),
    })
    .expect("an Authentication message with a known code decodes")
}

/// The mechanism and data of the one SASLInitialResponse in `out`.
fn sasl_initial_response(out: &[u8]) -> (String, Vec<u8>) {
    let body = frontend_body(out);
    let nul = body
        .iter()
        .position(|&b| b == 0)
        .expect("a NUL after the mechanism");
    let mechanism = String::from_utf8(body[..nul].to_vec()).expect("a UTF-8 mechanism");
    let rest = &body[nul + 1..];
    let len = i32::from_be_bytes(rest[..4].try_into().expect("4 bytes"));
    let data = &rest[4..];
    assert_eq!(
        usize::try_from(len).ok(),
        Some(data.len()),
        "SASLInitialResponse data length"
    );
    (mechanism, data.to_vec())
}

/// The data of the one SASLResponse in `out`.
fn sasl_response(out: &[u8]) -> Vec<u8> {
    frontend_body(out).to_vec()
}

/// The body of the one `p` message that must be all of `out`.
fn frontend_body(out: &[u8]) -> &[u8] {
    assert!(
        out.len() >= 5 && out[0] == b'p',
        "expected one 'p' message, got {out:?}"
    );
    let len = i32::from_be_bytes(out[1..5].try_into().expect("4 bytes"));
    assert_eq!(
        usize::try_from(len).ok(),
        Some(out.len() - 1),
        "'p' message length"
    );
    &out[5..]
}

/// A server-first-message built from the input: a valid skeleton around fuzzed values.
fn build_server_first(input: &mut Input<'_>, nonce: &str) -> Vec<u8> {
    let mut message = b"r=".to_vec();
    message.extend_from_slice(nonce.as_bytes());
    message.extend_from_slice(input.chunk());
    message.extend_from_slice(b",s=");
    message.extend_from_slice(base64_encode(input.chunk()).as_bytes());
    message.extend_from_slice(b",i=");
    let selector = input.u16();
    match usize::from(selector).checked_sub(0xff00) {
        Some(special) => {
            let text = SPECIAL_COUNTS[special % SPECIAL_COUNTS.len()];
            message.extend_from_slice(text.as_bytes());
        }
        None => {
            let count = u32::from(selector) % (FUZZ_ITERATION_CAP + 1);
            message.extend_from_slice(count.to_string().as_bytes());
        }
    }
    let extensions = input.chunk();
    if !extensions.is_empty() {
        message.push(b',');
        message.extend_from_slice(extensions);
    }
    message
}

/// What this parser found in a valid server-first-message.
#[derive(Debug)]
struct ServerFirst {
    nonce: String,
    salt: Vec<u8>,
    iterations: u32,
}

/// Why this parser refuses a server-first-message.
#[derive(Debug, PartialEq, Eq)]
enum FirstRefusal {
    Malformed,
    Nonce,
    Mandatory,
    IterationCount,
}

/// RFC 5802's server-first-message, `r=<nonce>,s=<salt>,i=<count>[,<ext>...]`, checked the way
/// a careful client must: the nonce extends the client's (printable, longer), the salt is
/// non-empty canonical base64, the count is decimal digits in `1..=MAX_ITERATIONS`, and every
/// extension is `<letter>=<non-empty value without NUL>`.
fn parse_server_first(message: &[u8], client_nonce: &str) -> Result<ServerFirst, FirstRefusal> {
    let text = std::str::from_utf8(message).map_err(|_| FirstRefusal::Malformed)?;
    let mut parts = text.split(',');
    let nonce_attr = parts.next().unwrap_or_default();
    if nonce_attr.starts_with("m=") {
        return Err(FirstRefusal::Mandatory);
    }
    let nonce = nonce_attr
        .strip_prefix("r=")
        .ok_or(FirstRefusal::Malformed)?;
    if !nonce.bytes().all(is_printable) {
        return Err(FirstRefusal::Malformed);
    }
    if !nonce.starts_with(client_nonce) || nonce.len() == client_nonce.len() {
        return Err(FirstRefusal::Nonce);
    }
    let salt = parts
        .next()
        .and_then(|a| a.strip_prefix("s="))
        .filter(|s| !s.is_empty())
        .ok_or(FirstRefusal::Malformed)?;
    let salt = base64_decode(salt).ok_or(FirstRefusal::Malformed)?;
    let count = parts
        .next()
        .and_then(|a| a.strip_prefix("i="))
        .ok_or(FirstRefusal::Malformed)?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FirstRefusal::IterationCount);
    }
    // Compared as text so that no size of number can overflow: no leading zeros, then length,
    // then digits.
    let digits = count.trim_start_matches('0');
    let limit = MAX_ITERATIONS.to_string();
    let too_big = digits.len() > limit.len() || (digits.len() == limit.len() && *digits > *limit);
    if digits.is_empty() || too_big {
        return Err(FirstRefusal::IterationCount);
    }
    let iterations: u32 = digits.parse().map_err(|_| FirstRefusal::IterationCount)?;
    for extension in parts {
        check_extension(extension).ok_or(FirstRefusal::Malformed)?;
    }
    Ok(ServerFirst {
        nonce: nonce.to_owned(),
        salt,
        iterations,
    })
}

/// `<letter>=<non-empty value without NUL>`.
fn check_extension(attribute: &str) -> Option<()> {
    let mut chars = attribute.chars();
    let name = chars.next()?;
    let value = chars.as_str().strip_prefix('=')?;
    (name.is_ascii_alphabetic() && !value.is_empty() && !value.contains('\0')).then_some(())
}

/// The signature a server-final-message `v=<base64>[,<ext>...]` carries, if it is well formed.
fn signature_of(message: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(message).ok()?;
    let mut parts = text.split(',');
    let signature = base64_decode(parts.next()?.strip_prefix("v=")?)?;
    for extension in parts {
        check_extension(extension)?;
    }
    (signature.len() == 32).then_some(signature)
}

/// RFC 5802's `printable`: 0x21..=0x7E except `,`.
fn is_printable(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b','
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Hi(password, salt, i) of RFC 5802 section 2.2: PBKDF2-HMAC-SHA-256, one block. The password
/// is ASCII here, which SASLprep leaves as it is (or, with control characters, refuses, and
/// PostgreSQL then uses the raw bytes): the same bytes either way.
fn pbkdf2(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password, &block);
    let mut result = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        for (r, x) in result.iter_mut().zip(u) {
            *r ^= x;
        }
    }
    result
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for k in 0..=group.len() {
            out.push(char::from(BASE64[(n >> (18 - 6 * k) & 63) as usize]));
        }
        for _ in group.len()..3 {
            out.push('=');
        }
    }
    out
}

/// Strict standard base64: padded to a multiple of 4, padding only at the end, and the unused
/// low bits of the last symbol zero (so each byte string has exactly one encoding).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for (g, group) in bytes.chunks(4).enumerate() {
        let last = g + 1 == bytes.len() / 4;
        let pad = group.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &b in &group[..4 - pad] {
            let v = BASE64.iter().position(|&c| c == b)?;
            n = n << 6 | v as u32;
        }
        n <<= 6 * pad as u32;
        let kept = 3 - pad;
        // The bits below the kept bytes must be zero.
        if n & ((1 << (8 * pad)) - 1) != 0 {
            return None;
        }
        for k in 0..kept {
            out.push((n >> (16 - 8 * k)) as u8);
        }
    }
    Some(out)
}
