use bytes::{Bytes, BytesMut};

use super::*;
use crate::proto::backend::{Authentication, Message, ParameterStatus, TransactionStatus};

fn startup(password: Option<&[u8]>) -> (Startup, BytesMut) {
    let mut out = BytesMut::new();
    let s = Startup::new(
        &[("user", "alice"), ("database", "db")],
        "alice",
        password,
        "rOprNGfwEbeRWgbNEkqO".into(),
        &mut out,
    )
    .unwrap();
    (s, out)
}

/// A startup with password "pencil" after the server asked for SCRAM-SHA-256.
fn scram_started() -> (Startup, BytesMut) {
    let (mut s, mut out) = startup(Some(b"pencil"));
    s.handle(
        Message::Authentication(Authentication::Sasl {
            mechanisms: vec!["SCRAM-SHA-256".into()],
        }),
        &mut out,
    )
    .unwrap();
    (s, out)
}

fn param(name: &str, value: &str) -> Message {
    Message::ParameterStatus(ParameterStatus {
        name: name.into(),
        value: value.into(),
    })
}

#[test]
fn trust_startup_collects_parameters_and_key() {
    let (mut s, mut out) = startup(None);
    out.clear();
    s.handle(Message::Authentication(Authentication::Ok), &mut out)
        .unwrap();
    s.handle(param("server_version", "15.4"), &mut out).unwrap();
    s.handle(param("server_version", "15.5"), &mut out).unwrap();
    s.handle(
        Message::BackendKeyData(crate::proto::backend::BackendKeyData {
            process_id: 7,
            secret_key: Bytes::from_static(&[0, 0, 0, 9]),
        }),
        &mut out,
    )
    .unwrap();
    let ev = s
        .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
        .unwrap();
    assert!(matches!(ev, StartupEvent::Ready));
    assert!(out.is_empty(), "trust sends nothing back");
    let session = s.into_session();
    assert_eq!(session.parameters().get("server_version"), Some("15.5"));
    assert_eq!(session.backend_key().unwrap().process_id, 7);
    assert_eq!(session.owed(), 0);
}

#[test]
fn cleartext_and_md5_answer_with_a_password_message() {
    let (mut s, mut out) = startup(Some(b"pw"));
    out.clear();
    s.handle(
        Message::Authentication(Authentication::CleartextPassword),
        &mut out,
    )
    .unwrap();
    assert_eq!(&out[..], b"p\x00\x00\x00\x07pw\x00");

    let (mut s, mut out) = startup(Some(b"pw"));
    out.clear();
    s.handle(
        Message::Authentication(Authentication::Md5Password { salt: [1, 2, 3, 4] }),
        &mut out,
    )
    .unwrap();
    let expected = crate::proto::auth::md5_password(b"alice", b"pw", [1, 2, 3, 4]);
    assert_eq!(&out[5..out.len() - 1], expected.as_bytes());
}

#[test]
fn missing_password_is_an_auth_error_naming_the_method() {
    let (mut s, mut out) = startup(None);
    let err = s
        .handle(
            Message::Authentication(Authentication::Md5Password { salt: [0; 4] }),
            &mut out,
        )
        .unwrap_err();
    assert!(
        matches!(&err, ProtoError::Auth(m) if m.starts_with(
            "the server requires md5 authentication for user \"alice\" but no password was given"
        )),
        "{err}"
    );
}

#[test]
fn ready_before_authentication_ok_is_refused() {
    let (mut s, mut out) = startup(None);
    let err = s
        .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
        .unwrap_err();
    assert_eq!(
        err,
        ProtoError::Unexpected {
            got: "ReadyForQuery",
            expected: "AuthenticationOk",
        }
    );
}

#[test]
fn authentication_ok_in_the_middle_of_scram_is_refused() {
    let (mut s, mut out) = scram_started();
    let err = s
        .handle(Message::Authentication(Authentication::Ok), &mut out)
        .unwrap_err();
    assert_eq!(
        err,
        ProtoError::Auth(
            "the server ended the SCRAM exchange without proving it knows the password".into()
        )
    );
}

#[test]
fn sasl_continue_without_sasl_is_unexpected() {
    let (mut s, mut out) = startup(Some(b"pw"));
    let err = s
        .handle(
            Message::Authentication(Authentication::SaslContinue(Bytes::from_static(b"r=x"))),
            &mut out,
        )
        .unwrap_err();
    assert_eq!(
        err,
        ProtoError::Unexpected {
            got: "AuthenticationSASLContinue",
            expected: "the next step of the authentication exchange",
        }
    );
}

#[test]
fn session_counts_owed_ready_for_query_and_tracks_status() {
    let (mut s, mut out) = startup(None);
    s.handle(Message::Authentication(Authentication::Ok), &mut out)
        .unwrap();
    s.handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
        .unwrap();
    let mut session = s.into_session();
    out.clear();
    // An unsolicited ReadyForQuery is a protocol violation.
    assert_eq!(
        session
            .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
            .unwrap_err(),
        ProtoError::Unexpected {
            got: "ReadyForQuery",
            expected: "nothing (no request is outstanding)",
        }
    );
    let mut requests = session.requests(&mut out);
    requests
        .bind_with_parameter_section("", "", &[0, 0], &[])
        .unwrap();
    requests.sync();
    requests.sync();
    assert_eq!(session.owed(), 2);
    assert!(matches!(
        session.handle(Message::BindComplete, &mut out).unwrap(),
        Incoming::Response(Message::BindComplete)
    ));
    assert!(matches!(
        session
            .handle(
                Message::ReadyForQuery(TransactionStatus::InTransaction),
                &mut out
            )
            .unwrap(),
        Incoming::Ready(TransactionStatus::InTransaction)
    ));
    assert_eq!(session.owed(), 1);
    assert!(matches!(
        session
            .handle(param("TimeZone", "Europe/Rome"), &mut out)
            .unwrap(),
        Incoming::ParameterChanged
    ));
    assert_eq!(session.parameters().get("TimeZone"), Some("Europe/Rome"));
    session
        .handle(Message::ReadyForQuery(TransactionStatus::Failed), &mut out)
        .unwrap();
    assert_eq!(session.owed(), 0);
    assert_eq!(session.transaction_status(), TransactionStatus::Failed);
    assert!(!session.allows("SELECT 1"));
    assert!(!session.allows("COMMIT"));
    assert!(session.allows("ROLLBACK"));
    assert!(session.allows("  -- why\n /* a /* nested */ comment */ rollback to savepoint a"));
    assert!(session.allows("ABORT"));
}

#[test]
fn first_keyword_skips_space_and_comments() {
    assert_eq!(first_keyword("  select 1"), "select");
    assert_eq!(first_keyword("--x\nROLLBACK"), "ROLLBACK");
    assert_eq!(first_keyword("/* a /* b */ c */Abort;"), "Abort");
    assert_eq!(first_keyword("/* unterminated"), "");
    assert_eq!(first_keyword("-- only a comment"), "");
    assert_eq!(first_keyword("rollbacks"), "rollbacks");
    assert!(!is_rollback("rollbacks"));
    assert!(!is_rollback("/* rollback */ select"));
    assert!(!is_rollback("é rollback"));
}

/// A whole SCRAM-SHA-256 exchange through `Startup`, with the RFC 7677 nonce, salt and
/// iteration count in PostgreSQL's form (empty user name); the client-final-message and the
/// server signature were computed independently in Python (see auth/scram_tests.rs).
#[test]
fn scram_exchange_through_startup() {
    let (mut s, mut out) = startup(Some(b"pencil"));
    out.clear();
    s.handle(
        Message::Authentication(Authentication::Sasl {
            mechanisms: vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-256".into()],
        }),
        &mut out,
    )
    .unwrap();
    // SASLInitialResponse: 'p', length, mechanism, data length, client-first-message.
    let first = b"n,,n=,r=rOprNGfwEbeRWgbNEkqO";
    let mut expected = b"p\0\0\0\x32SCRAM-SHA-256\0\0\0\0\x1c".to_vec();
    expected.extend_from_slice(first);
    assert_eq!(&out[..], &expected[..]);

    out.clear();
    let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    s.handle(
        Message::Authentication(Authentication::SaslContinue(Bytes::from_static(
            server_first,
        ))),
        &mut out,
    )
    .unwrap();
    let client_final = &b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k="[..];
    assert_eq!(out[0], b'p');
    assert_eq!(&out[1..5], &(4 + client_final.len() as u32).to_be_bytes());
    assert_eq!(&out[5..], client_final);

    out.clear();
    s.handle(
        Message::Authentication(Authentication::SaslFinal(Bytes::from_static(
            b"v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=",
        ))),
        &mut out,
    )
    .unwrap();
    s.handle(Message::Authentication(Authentication::Ok), &mut out)
        .unwrap();
    let ev = s
        .handle(Message::ReadyForQuery(TransactionStatus::Idle), &mut out)
        .unwrap();
    assert!(matches!(ev, StartupEvent::Ready));
    assert!(
        out.is_empty(),
        "nothing is sent after the client-final-message"
    );
}

#[test]
fn a_second_authentication_request_mid_exchange_is_refused() {
    for second in [
        Authentication::CleartextPassword,
        Authentication::Md5Password { salt: [0; 4] },
        Authentication::Sasl {
            mechanisms: vec!["SCRAM-SHA-256".into()],
        },
    ] {
        let (mut s, mut out) = scram_started();
        let name = match &second {
            Authentication::CleartextPassword => "AuthenticationCleartextPassword",
            Authentication::Md5Password { .. } => "AuthenticationMD5Password",
            _ => "AuthenticationSASL",
        };
        let err = s
            .handle(Message::Authentication(second), &mut out)
            .unwrap_err();
        assert_eq!(
            err,
            ProtoError::Unexpected {
                got: name,
                expected: "the next step of the authentication exchange",
            }
        );
    }
}

#[test]
fn parameters_iterate_in_arrival_order_with_replacements_in_place() {
    let mut params = Parameters::default();
    params.set("server_version".into(), "15.4".into());
    params.set("TimeZone".into(), "UTC".into());
    params.set("server_version".into(), "15.5".into());
    let all: Vec<(&str, &str)> = params.iter().collect();
    assert_eq!(all, [("server_version", "15.5"), ("TimeZone", "UTC")]);
}

#[test]
fn startup_debug_shows_the_user_but_never_the_password() {
    let (s, _) = startup(Some(b"s3cret-pw"));
    let shown = format!("{s:?}");
    assert!(shown.starts_with("Startup {"), "{shown}");
    assert!(shown.contains("\"alice\""), "{shown}");
    assert!(shown.contains("has_password: true"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
}
