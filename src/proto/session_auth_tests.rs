//! Tests of the authentication policies [`Startup`] enforces: libpq 16's `require_auth` for
//! every kind of server request, `channel_binding` for every combination of setting, TLS and
//! server offer, whole SCRAM-SHA-256(-PLUS) exchanges against the independent test server of
//! `auth/scram_test_server.rs`, and AuthenticationOk arriving when it should not. Every refusal
//! is checked to have written nothing: no credential leaves the client.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::proto::auth::scram_test_server::TestServer;
use crate::proto::auth::ScramError;
use crate::proto::backend::{Authentication, Message, TransactionStatus};

const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const PASSWORD: &str = "pencil";

/// The tls-server-end-point data both ends see when nobody is in the middle.
fn end_point() -> Vec<u8> {
    (0u8..32).map(|i| i ^ 0xa5).collect()
}

fn options(require_auth: &str, channel_binding: ChannelBinding, tls: bool) -> AuthOptions {
    AuthOptions {
        require_auth: require_auth.parse().unwrap(),
        channel_binding,
        tls_server_end_point: tls.then(end_point),
    }
}

/// A startup with password "pencil" whose StartupMessage has been taken out of `out`.
fn startup(options: AuthOptions) -> (Startup, BytesMut) {
    let mut out = BytesMut::new();
    let s = Startup::with_options(
        &[("user", "alice")],
        "alice",
        Some(PASSWORD.as_bytes()),
        NONCE.into(),
        options,
        &mut out,
    )
    .unwrap();
    assert!(!out.is_empty());
    out.clear();
    (s, out)
}

fn auth(a: Authentication) -> Message {
    Message::Authentication(a)
}

fn sasl(mechanisms: &[&str]) -> Message {
    auth(Authentication::Sasl {
        mechanisms: mechanisms.iter().map(|m| m.to_string()).collect(),
    })
}

/// Splits a SASLInitialResponse into its mechanism and data.
fn initial_response(out: &[u8]) -> (String, Vec<u8>) {
    assert_eq!(out[0], b'p');
    assert_eq!(
        u32::from_be_bytes(out[1..5].try_into().unwrap()) as usize,
        out.len() - 1
    );
    let body = &out[5..];
    let nul = body.iter().position(|&b| b == 0).unwrap();
    let mechanism = String::from_utf8(body[..nul].to_vec()).unwrap();
    let len = i32::from_be_bytes(body[nul + 1..nul + 5].try_into().unwrap()) as usize;
    let data = body[nul + 5..].to_vec();
    assert_eq!(data.len(), len);
    (mechanism, data)
}

/// Plays `server` against `s` from the SASLInitialResponse in `out` to the client's handling of
/// the server-final-message (not AuthenticationOk).
fn run_scram(s: &mut Startup, out: &mut BytesMut, server: &mut TestServer) -> Result<(), String> {
    let (mechanism, data) = initial_response(out);
    out.clear();
    let server_first = server.first(&mechanism, &data)?;
    s.handle(
        auth(Authentication::SaslContinue(Bytes::from(server_first))),
        out,
    )
    .map_err(|e| e.to_string())?;
    assert_eq!(out[0], b'p');
    let server_final = server.last(&out[5..])?;
    out.clear();
    s.handle(
        auth(Authentication::SaslFinal(Bytes::from(server_final))),
        out,
    )
    .map_err(|e| e.to_string())?;
    assert!(out.is_empty());
    Ok(())
}

/// The server requests of the require_auth matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Request {
    Cleartext,
    Md5,
    /// AuthenticationSASL offering SCRAM-SHA-256 only.
    Scram,
    /// AuthenticationSASL offering SCRAM-SHA-256-PLUS only.
    PlusOnly,
    Gss,
    Sspi,
    /// AuthenticationOk straight away (`trust`).
    Trust,
}

use Request::*;

const ALL_REQUESTS: [Request; 7] = [Cleartext, Md5, Scram, PlusOnly, Gss, Sspi, Trust];

impl Request {
    fn message(self) -> Message {
        match self {
            Cleartext => auth(Authentication::CleartextPassword),
            Md5 => auth(Authentication::Md5Password { salt: [1, 2, 3, 4] }),
            Scram => sasl(&["SCRAM-SHA-256"]),
            PlusOnly => sasl(&["SCRAM-SHA-256-PLUS"]),
            Gss => auth(Authentication::Gss),
            Sspi => auth(Authentication::Sspi),
            Trust => auth(Authentication::Ok),
        }
    }

    /// The method require_auth sees, and libpq's description of the request (written out
    /// here, not taken from the code under test).
    fn method(self) -> (AuthMethod, &'static str) {
        match self {
            Cleartext => (
                AuthMethod::Password,
                "server requested a cleartext password",
            ),
            Md5 => (AuthMethod::Md5, "server requested a hashed password"),
            Scram | PlusOnly => (
                AuthMethod::ScramSha256,
                "server requested SASL authentication",
            ),
            Gss => (AuthMethod::Gss, "server requested GSSAPI authentication"),
            Sspi => (AuthMethod::Sspi, "server requested SSPI authentication"),
            Trust => (AuthMethod::None, "server did not complete authentication"),
        }
    }
}

/// Every server request against a set of policies, with the requests each one allows written
/// out by hand. Refused: a `RequireAuth` refusal naming the request and the policy, and nothing
/// written. Allowed: the usual answer (a password, an MD5 hash, a SASLInitialResponse), an
/// unsupported-method error for GSSAPI and SSPI, or readiness for trust.
#[test]
fn require_auth_matrix() {
    let policies: [(&str, &[Request]); 10] = [
        ("password,md5,scram-sha-256,gss,sspi,none", &ALL_REQUESTS), // the default
        ("password", &[Cleartext]),
        ("md5", &[Md5]),
        ("scram-sha-256", &[Scram, PlusOnly]),
        ("gss", &[Gss]),
        ("sspi", &[Sspi]),
        ("none", &[Trust]),
        ("!password", &[Md5, Scram, PlusOnly, Gss, Sspi, Trust]),
        ("!none", &[Cleartext, Md5, Scram, PlusOnly, Gss, Sspi]),
        ("password,md5", &[Cleartext, Md5]),
    ];
    assert!(policies[0].0.parse::<RequireAuth>().unwrap().is_any());
    let (mut refusals, mut accepted) = (0, 0);
    for (policy, allowed) in policies {
        for request in ALL_REQUESTS {
            // On TLS, so that a PLUS-only offer is usable when allowed.
            let (mut s, mut out) = startup(options(policy, ChannelBinding::Prefer, true));
            let result = s.handle(request.message(), &mut out);
            let case = format!("require_auth={policy}, {request:?}");
            let (method, description) = request.method();
            if !allowed.contains(&request) {
                refusals += 1;
                let err = result.unwrap_err();
                assert_eq!(
                    err,
                    ProtoError::AuthRefused(AuthRefusal::RequireAuth {
                        requested: method,
                        require_auth: policy.parse().unwrap(),
                    }),
                    "{case}"
                );
                assert_eq!(
                    err.to_string(),
                    format!("authentication method requirement \"{policy}\" failed: {description}"),
                    "{case}"
                );
                assert!(out.is_empty(), "{case}: nothing may be sent on refusal");
                continue;
            }
            accepted += 1;
            match request {
                Cleartext | Md5 => {
                    result.unwrap();
                    assert_eq!(out[0], b'p', "{case}");
                    if request == Cleartext {
                        assert_eq!(&out[5..], b"pencil\0", "{case}");
                    } else {
                        // "md5" and 32 hex digits (the hash itself: the next test).
                        assert!(
                            out[5..].starts_with(b"md5") && out.len() == 5 + 36,
                            "{case}"
                        );
                    }
                    // The exchange completed: AuthenticationOk is accepted even where `none`
                    // is not allowed.
                    s.handle(auth(Authentication::Ok), &mut out).unwrap();
                }
                Scram | PlusOnly => {
                    result.unwrap();
                    let (mechanism, _) = initial_response(&out);
                    let plus = request == PlusOnly;
                    assert_eq!(mechanism == "SCRAM-SHA-256-PLUS", plus, "{case}");
                }
                Gss | Sspi => {
                    assert!(
                        matches!(result, Err(ProtoError::UnsupportedAuth(_))),
                        "{case}: {result:?}"
                    );
                    assert!(out.is_empty(), "{case}");
                }
                Trust => {
                    result.unwrap();
                    assert!(out.is_empty(), "{case}");
                    let ev = s
                        .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
                        .unwrap();
                    assert!(matches!(ev, StartupEvent::Ready), "{case}");
                }
            }
        }
    }
    assert_eq!((refusals, accepted), (42, 28));
}

#[test]
fn md5_answer_in_the_matrix_is_the_real_hash() {
    let (mut s, mut out) = startup(options("md5", ChannelBinding::Prefer, false));
    s.handle(Md5.message(), &mut out).unwrap();
    let expected = md5_password(b"alice", b"pencil", [1, 2, 3, 4]);
    assert_eq!(&out[5..out.len() - 1], expected.as_bytes());
}

/// A refusal comes before the missing-password error: the server learns nothing, and the user
/// learns the real reason.
#[test]
fn require_auth_refuses_before_looking_for_a_password() {
    let mut out = BytesMut::new();
    let mut s = Startup::with_options(
        &[("user", "alice")],
        "alice",
        None,
        NONCE.into(),
        options("scram-sha-256", ChannelBinding::Prefer, false),
        &mut out,
    )
    .unwrap();
    out.clear();
    let err = s.handle(Cleartext.message(), &mut out).unwrap_err();
    assert!(matches!(err, ProtoError::AuthRefused(_)), "{err}");
    assert!(out.is_empty());
}

/// A full SCRAM exchange satisfies `!none` and `scram-sha-256`: AuthenticationOk after the
/// verified server-final-message is accepted, and the session becomes ready.
#[test]
fn a_completed_scram_exchange_satisfies_require_auth() {
    for policy in ["scram-sha-256", "!none", "!password"] {
        let (mut s, mut out) = startup(options(policy, ChannelBinding::Prefer, false));
        let mut server = TestServer::new(PASSWORD, None);
        s.handle(sasl(&["SCRAM-SHA-256"]), &mut out).unwrap();
        run_scram(&mut s, &mut out, &mut server).unwrap();
        s.handle(auth(Authentication::Ok), &mut out).unwrap();
        let ev = s
            .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
            .unwrap();
        assert!(matches!(ev, StartupEvent::Ready), "{policy}");
    }
}

/// What the client does with an AuthenticationSASL, per channel_binding, TLS and offer: the
/// mechanism and client-first-message sent, or the refusal (and nothing sent).
#[test]
fn channel_binding_matrix() {
    use ChannelBinding::{Disable, Prefer, Require};
    const BOTH: &[&str] = &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"];
    const PLAIN: &[&str] = &["SCRAM-SHA-256"];
    const PLUS: &[&str] = &["SCRAM-SHA-256-PLUS"];
    let n = Ok(("SCRAM-SHA-256", "n,,"));
    let y = Ok(("SCRAM-SHA-256", "y,,"));
    let p = Ok(("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,"));
    let no_tls = Err(AuthRefusal::ChannelBindingWithoutTls);
    /// (setting, on TLS, offered, the mechanism and GS2 header sent, or the refusal)
    type Case = (
        ChannelBinding,
        bool,
        &'static [&'static str],
        Result<(&'static str, &'static str), AuthRefusal>,
    );
    let cases: [Case; 18] = [
        (Disable, true, BOTH, n.clone()),
        (Disable, true, PLAIN, n.clone()),
        (
            Disable,
            true,
            PLUS,
            Err(AuthRefusal::PlusOnlyUnusable { disabled: true }),
        ),
        (Disable, false, BOTH, n.clone()),
        (Disable, false, PLAIN, n.clone()),
        (
            Disable,
            false,
            PLUS,
            Err(AuthRefusal::PlusOnlyUnusable { disabled: true }),
        ),
        (Prefer, true, BOTH, p.clone()),
        (Prefer, true, PLAIN, y.clone()),
        (Prefer, true, PLUS, p.clone()),
        (Prefer, false, BOTH, n.clone()),
        (Prefer, false, PLAIN, n.clone()),
        (
            Prefer,
            false,
            PLUS,
            Err(AuthRefusal::PlusOnlyUnusable { disabled: false }),
        ),
        (Require, true, BOTH, p.clone()),
        (
            Require,
            true,
            PLAIN,
            Err(AuthRefusal::ChannelBindingNotOffered {
                offered: vec!["SCRAM-SHA-256".into()],
            }),
        ),
        (Require, true, PLUS, p.clone()),
        (Require, false, BOTH, no_tls.clone()),
        (Require, false, PLAIN, no_tls.clone()),
        (Require, false, PLUS, no_tls.clone()),
    ];
    for (channel_binding, tls, offered, expected) in cases {
        let case = format!("channel_binding={channel_binding}, tls={tls}, offered={offered:?}");
        let (mut s, mut out) = startup(options(
            "password,md5,scram-sha-256,gss,sspi,none",
            channel_binding,
            tls,
        ));
        let result = s.handle(sasl(offered), &mut out);
        match expected {
            Ok((mechanism, header)) => {
                result.unwrap();
                let (sent_mechanism, data) = initial_response(&out);
                assert_eq!(sent_mechanism, mechanism, "{case}");
                assert_eq!(data, format!("{header}n=,r={NONCE}").into_bytes(), "{case}");
            }
            Err(refusal) => {
                assert_eq!(
                    result.unwrap_err(),
                    ProtoError::AuthRefused(refusal),
                    "{case}"
                );
                assert!(out.is_empty(), "{case}: nothing may be sent on refusal");
            }
        }
    }
}

#[test]
fn channel_binding_refusals_say_why() {
    let text = |refusal: AuthRefusal| ProtoError::AuthRefused(refusal).to_string();
    assert_eq!(
        text(AuthRefusal::ChannelBindingWithoutTls),
        "channel binding is required, but the connection is not using TLS"
    );
    assert_eq!(
        text(AuthRefusal::ChannelBindingNotOffered {
            offered: vec!["SCRAM-SHA-256".into()]
        }),
        "channel binding is required, but the server does not offer SCRAM-SHA-256-PLUS (it \
         offered: SCRAM-SHA-256)"
    );
    assert_eq!(
        text(AuthRefusal::ChannelBindingNotUsed),
        "channel binding required, but server authenticated client without channel binding"
    );
    assert_eq!(
        text(AuthRefusal::ChannelBindingUnsupportedMethod {
            requested: AuthMethod::Md5
        }),
        "channel binding is required, but the server requested a hashed password (only \
         SCRAM-SHA-256-PLUS can bind to the channel)"
    );
    assert!(text(AuthRefusal::PlusOnlyUnusable { disabled: false }).contains("not using TLS"));
    assert!(text(AuthRefusal::PlusOnlyUnusable { disabled: true })
        .contains("channel_binding is disable"));
}

/// channel_binding=require refuses every request that cannot bind before answering it, even
/// when require_auth allows it, as libpq does.
#[test]
fn channel_binding_require_refuses_methods_that_cannot_bind() {
    for request in [Cleartext, Md5, Gss, Sspi] {
        let (mut s, mut out) = startup(options(
            "password,md5,scram-sha-256,gss,sspi,none",
            ChannelBinding::Require,
            true,
        ));
        let err = s.handle(request.message(), &mut out).unwrap_err();
        assert_eq!(
            err,
            ProtoError::AuthRefused(AuthRefusal::ChannelBindingUnsupportedMethod {
                requested: request.method().0
            }),
            "{request:?}"
        );
        assert!(out.is_empty(), "{request:?}");
    }
    // Without the setting, the same requests are answered (or unsupported, for GSSAPI/SSPI).
    let (mut s, mut out) = startup(options("password", ChannelBinding::Prefer, true));
    s.handle(Cleartext.message(), &mut out).unwrap();
    assert!(!out.is_empty());
}

/// channel_binding=require and a server that lets the client in without any exchange (trust):
/// refused at AuthenticationOk.
#[test]
fn channel_binding_require_refuses_trust() {
    let (mut s, mut out) = startup(options(
        "password,md5,scram-sha-256,gss,sspi,none",
        ChannelBinding::Require,
        true,
    ));
    let err = s.handle(Trust.message(), &mut out).unwrap_err();
    assert_eq!(
        err,
        ProtoError::AuthRefused(AuthRefusal::ChannelBindingNotUsed)
    );
    // With `prefer`, trust is fine.
    let (mut s, mut out) = startup(options("none", ChannelBinding::Prefer, true));
    s.handle(Trust.message(), &mut out).unwrap();
}

/// A whole SCRAM-SHA-256-PLUS exchange through `Startup` with channel_binding=require, against
/// the independent test server; AuthenticationOk after it is accepted.
#[test]
fn plus_exchange_through_startup_satisfies_require() {
    let (mut s, mut out) = startup(options("scram-sha-256", ChannelBinding::Require, true));
    let mut server = TestServer::new(PASSWORD, Some(end_point()));
    let offer = Authentication::Sasl {
        mechanisms: server.mechanisms(),
    };
    s.handle(auth(offer), &mut out).unwrap();
    run_scram(&mut s, &mut out, &mut server).unwrap();
    s.handle(auth(Authentication::Ok), &mut out).unwrap();
    let ev = s
        .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
        .unwrap();
    assert!(matches!(ev, StartupEvent::Ready));
}

/// The prefer + TLS + no-PLUS case end to end: flag y, accepted by a server without TLS of its
/// own (a TLS-terminating proxy in between, say), refused by a server that can bind.
#[test]
fn flag_y_exchange_through_startup() {
    let (mut s, mut out) = startup(options("scram-sha-256", ChannelBinding::Prefer, true));
    let mut server = TestServer::new(PASSWORD, None);
    s.handle(sasl(&["SCRAM-SHA-256"]), &mut out).unwrap();
    run_scram(&mut s, &mut out, &mut server).unwrap();
    s.handle(auth(Authentication::Ok), &mut out).unwrap();

    let (mut s, mut out) = startup(options("scram-sha-256", ChannelBinding::Prefer, true));
    let mut server = TestServer::new(PASSWORD, Some(end_point()));
    s.handle(sasl(&["SCRAM-SHA-256"]), &mut out).unwrap(); // PLUS stripped from the offer
    let err = run_scram(&mut s, &mut out, &mut server).unwrap_err();
    assert!(err.contains("thinks the server cannot bind"), "{err}");
}

/// A man-in-the-middle with its own certificate: the client binds to the middle's certificate
/// hash, and a server-final-message signed over the real server's c= is refused; AuthOk after
/// it is refused too.
#[test]
fn a_server_signature_over_another_channel_is_refused_through_startup() {
    let (mut s, mut out) = startup(options("scram-sha-256", ChannelBinding::Require, true));
    // The server's view of the channel differs from the client's.
    let mut server = TestServer::new(PASSWORD, Some(vec![0x11; 32]));
    s.handle(sasl(&["SCRAM-SHA-256-PLUS"]), &mut out).unwrap();
    let (mechanism, data) = initial_response(&out);
    let server_first = server.first(&mechanism, &data).unwrap();
    out.clear();
    s.handle(
        auth(Authentication::SaslContinue(Bytes::from(server_first))),
        &mut out,
    )
    .unwrap();
    // The real server refuses the proof; a server that knows the password signs over its own c=.
    assert!(server.last(&out[5..]).is_err());
    let forged =
        server.server_final_over(&format!("c={},r={}", server.expected_c(), server.nonce()));
    out.clear();
    let err = s
        .handle(
            auth(Authentication::SaslFinal(Bytes::from(forged))),
            &mut out,
        )
        .unwrap_err();
    assert_eq!(err, ProtoError::Scram(ScramError::BadServerSignature));
    let err = s.handle(auth(Authentication::Ok), &mut out).unwrap_err();
    assert!(matches!(err, ProtoError::Auth(_)), "{err}");
    assert!(out.is_empty());
}

/// An absurd iteration count is refused before any work is done or anything sent.
#[test]
fn an_absurd_iteration_count_is_refused_through_startup() {
    let (mut s, mut out) = startup(AuthOptions::default());
    s.handle(sasl(&["SCRAM-SHA-256"]), &mut out).unwrap();
    out.clear();
    let err = s
        .handle(
            auth(Authentication::SaslContinue(Bytes::from(format!(
                "r={NONCE}xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967295"
            )))),
            &mut out,
        )
        .unwrap_err();
    assert_eq!(
        err,
        ProtoError::Scram(ScramError::IterationCount {
            count: "4294967295".into()
        })
    );
    assert!(out.is_empty());
}

/// AuthenticationOk is accepted once; a second request after a password was sent is not
/// answered (a server switching to cleartext after MD5 gets nothing).
#[test]
fn authentication_messages_after_completion_are_unexpected() {
    let (mut s, mut out) = startup(AuthOptions::default());
    s.handle(Md5.message(), &mut out).unwrap();
    out.clear();
    let err = s.handle(Cleartext.message(), &mut out).unwrap_err();
    assert_eq!(
        err,
        ProtoError::Unexpected {
            got: "AuthenticationCleartextPassword",
            expected: "the next step of the authentication exchange",
        }
    );
    assert!(out.is_empty());
    s.handle(auth(Authentication::Ok), &mut out).unwrap();
    let err = s.handle(auth(Authentication::Ok), &mut out).unwrap_err();
    assert_eq!(
        err,
        ProtoError::Unexpected {
            got: "AuthenticationOk",
            expected: "the next step of the authentication exchange",
        }
    );
}

/// A policy refusal reaches the user as `Kind::Auth`, with the refusal as the source, and the
/// password nowhere in the text.
#[test]
fn refusals_are_auth_errors_without_the_password() {
    let (mut s, mut out) = startup(options("scram-sha-256", ChannelBinding::Prefer, false));
    let err = s.handle(Cleartext.message(), &mut out).unwrap_err();
    let err = crate::Error::from(err);
    assert_eq!(err.kind(), crate::Kind::Auth);
    let text = err.to_string();
    assert_eq!(
        text,
        "authentication error: authentication method requirement \"scram-sha-256\" failed: \
         server requested a cleartext password"
    );
    assert!(!text.contains(PASSWORD));
    let proto = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<ProtoError>())
        .unwrap();
    assert!(matches!(
        proto,
        ProtoError::AuthRefused(AuthRefusal::RequireAuth { .. })
    ));
    assert!(!format!("{s:?}").contains(PASSWORD));
}

#[test]
fn default_options_are_any_prefer_no_tls() {
    let o = AuthOptions::default();
    assert!(o.require_auth.is_any());
    assert_eq!(o.channel_binding, ChannelBinding::Prefer);
    assert_eq!(o.tls_server_end_point, None);
}
