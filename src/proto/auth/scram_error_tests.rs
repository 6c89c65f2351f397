//! Tests of the SCRAM-SHA-256 client's failures: every refusal of a server message (nonce,
//! salt, iteration count, attributes, signature, the server's own error), calls out of order,
//! invalid inputs, the text of every [`ScramError`] and that none shows the password, and the
//! conversion into `ProtoError` and `tusk::Error`. The exchanges that succeed, and the RFC 7677
//! fixtures used here, are in `scram_tests.rs`.

use super::tests::{
    finish_error, started, PASSWORD, RFC_NONCE, RFC_SERVER_FINAL, RFC_SERVER_FIRST,
};
use super::*;
use crate::proto::ProtoError;

/// The error `update` gives for `server_first`; checks the exchange is then dead.
fn update_error(server_first: &[u8]) -> ScramError {
    let mut scram = started();
    let err = scram.update(server_first).unwrap_err();
    assert!(
        scram.message().is_empty(),
        "a failed exchange has nothing to send"
    );
    assert_eq!(
        scram.finish(RFC_SERVER_FINAL),
        Err(ScramError::AlreadyFailed)
    );
    err
}

/// A [`ScramError::Malformed`] of `message` for `reason`.
fn malformed(message: &'static str, reason: &str) -> ScramError {
    ScramError::Malformed {
        message,
        reason: reason.to_owned(),
    }
}

fn malformed_first(reason: &str) -> ScramError {
    malformed("server-first-message", reason)
}

fn malformed_final(reason: &str) -> ScramError {
    malformed("server-final-message", reason)
}

fn iteration_count(count: &str) -> ScramError {
    ScramError::IterationCount {
        count: count.to_owned(),
    }
}

#[test]
fn wrong_server_signature_is_refused() {
    let mut forged = RFC_SERVER_FINAL.to_vec();
    // Flip one base64 character of the signature: still 32 bytes, one bit pattern off.
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let mut scram = ScramSha256::with_username(PASSWORD, RFC_NONCE, "user").unwrap();
    scram.update(RFC_SERVER_FIRST).unwrap();
    assert_eq!(scram.finish(&forged), Err(ScramError::BadServerSignature));
    // Dead afterwards, even for the right signature.
    assert_eq!(
        scram.finish(RFC_SERVER_FINAL),
        Err(ScramError::AlreadyFailed)
    );
    assert_eq!(
        scram.update(RFC_SERVER_FIRST),
        Err(ScramError::AlreadyFailed)
    );
}

/// A forged signature that differs from the RFC 7677 one in any single bit, at any of the 32
/// byte positions, is refused: the whole signature is compared, not a prefix of it.
#[test]
fn a_signature_differing_in_any_one_byte_is_refused() {
    let genuine = STANDARD.decode(&RFC_SERVER_FINAL[2..]).unwrap(); // The RFC's base64.
    assert_eq!(genuine.len(), KEY_LEN);
    for position in 0..KEY_LEN {
        for bit in [0x01u8, 0x80] {
            let mut forged = genuine.clone();
            forged[position] ^= bit;
            let server_final = format!("v={}", STANDARD.encode(&forged));
            let mut scram = ScramSha256::with_username(PASSWORD, RFC_NONCE, "user").unwrap();
            scram.update(RFC_SERVER_FIRST).unwrap();
            assert_eq!(
                scram.finish(server_final.as_bytes()),
                Err(ScramError::BadServerSignature),
                "byte {position}, bit {bit:#x}"
            );
        }
    }
}

#[test]
fn server_nonce_must_extend_ours() {
    for server_first in [
        // Another client's nonce.
        &b"r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"[..],
        // Ours, not extended.
        b"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        // A prefix of ours.
        b"r=rOprNGfwEbeRW,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        // Ours after something else.
        b"r=xrOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    ] {
        assert_eq!(
            update_error(server_first),
            ScramError::NonceMismatch,
            "{}",
            String::from_utf8_lossy(server_first)
        );
    }
}

#[test]
fn server_nonce_must_be_printable() {
    let expected = malformed_first("the nonce holds characters outside printable ASCII");
    assert_eq!(
        update_error(b"r=rOprNGfwEbeRWgbNEkqO\x01x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        expected
    );
    assert_eq!(
        update_error("r=rOprNGfwEbeRWgbNEkqO\u{e9},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".as_bytes()),
        expected
    );
}

#[test]
fn salt_must_be_non_empty_base64() {
    assert_eq!(
        update_error(b"r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096"),
        malformed_first("the salt is empty")
    );
    for salt in [
        "W22Z!J0S",
        "W22ZaJ0SNY7soEsUEjb6gQ",
        "W22ZaJ0SNY7soEsUEjb6gQ=",
        "====",
    ] {
        let message = format!("r=rOprNGfwEbeRWgbNEkqOxyz,s={salt},i=4096");
        assert_eq!(
            update_error(message.as_bytes()),
            malformed_first("the salt is not valid base64"),
            "{salt}"
        );
    }
}

#[test]
fn iteration_count_must_be_a_positive_integer_within_the_limit() {
    let with_count = |count: &str| {
        format!("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i={count}").into_bytes()
    };
    // The variant keeps the count as sent; its text tells the three cases apart.
    for zero in ["0", "000"] {
        let err = update_error(&with_count(zero));
        assert_eq!(err, iteration_count(zero));
        assert!(err.to_string().contains("is 0"), "{zero}: {err}");
    }
    for bad in [
        "", "-1", "+4096", " 4096", "4096 ", "4k", "0x10", "1e3", "\u{0664}",
    ] {
        let err = update_error(&with_count(bad));
        assert_eq!(err, iteration_count(bad));
        assert!(
            err.to_string().contains("not a positive integer"),
            "{bad:?}: {err}"
        );
    }
    for huge in [
        "10000001",
        "4294967295",
        "4294967296",
        "99999999999999999999999999",
    ] {
        let err = update_error(&with_count(huge));
        assert_eq!(err, iteration_count(huge));
        assert!(
            err.to_string().contains("exceeds this client's limit"),
            "{huge}: {err}"
        );
    }
    // The bounds themselves, and leading zeros, are accepted.
    for good in ["1", "04096", "10000000"] {
        let mut scram = started();
        let server_first = with_count(good);
        if good == "10000000" {
            // Parsing only: computing 10 million iterations would slow the suite down.
            assert_eq!(parse_iterations(good).unwrap(), MAX_ITERATIONS);
            continue;
        }
        scram.update(&server_first).unwrap();
    }
}

#[test]
fn attributes_must_be_present_and_in_order() {
    let not_an_attribute =
        |quoted: &str| format!("{quoted} is not an attribute of the form <letter>=<value>");
    let cases: &[(&[u8], ScramError)] = &[
        (b"", malformed_first(&not_an_attribute("\"\""))),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz",
            malformed_first("the message ends before attribute s="),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
            malformed_first("the message ends before attribute i="),
        ),
        (
            b"s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
            malformed_first("expected attribute r= (the nonce), found s="),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
            malformed_first("expected attribute s= (the salt), found i="),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,n=4096",
            malformed_first("expected attribute i= (the iteration count), found n="),
        ),
        (
            b"m=must-understand,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            ScramError::MandatoryExtension,
        ),
        (
            b"rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            malformed_first(&not_an_attribute("\"rOprNGfwEbeRWgbNEkqOxyz\"")),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,",
            malformed_first(&not_an_attribute("\"\"")),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=",
            malformed_first("malformed extension attribute \"x=\""),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,1=x",
            malformed_first(&not_an_attribute("\"1=x\"")),
        ),
        (
            b"r=rOprNGfwEbeRWgbNEkqO\xffxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            malformed_first("the message is not valid UTF-8"),
        ),
    ];
    for (server_first, expected) in cases {
        assert_eq!(
            &update_error(server_first),
            expected,
            "{:?}",
            String::from_utf8_lossy(server_first)
        );
    }
}

#[test]
fn server_error_is_reported_with_its_text() {
    let err = finish_error(b"e=invalid-proof");
    assert_eq!(err, ScramError::ServerError("invalid-proof".into()));
    assert_eq!(
        err.to_string(),
        "the server reported a SCRAM error: invalid-proof"
    );
    // Only the error's value; extensions after it are dropped.
    assert_eq!(
        finish_error(b"e=other-error,x=ext"),
        ScramError::ServerError("other-error".into())
    );
    // Not UTF-8: decoded lossily, still an error.
    assert_eq!(
        finish_error(b"e=bad\xff"),
        ScramError::ServerError("bad\u{FFFD}".into())
    );
}

#[test]
fn malformed_server_final_is_refused() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "\"\" is not an attribute of the form <letter>=<value>"),
        (
            b"x=abc",
            "expected attribute v= (the server signature), found x=",
        ),
        (b"v=not base64!", "the server signature is not valid base64"),
        (b"v=AAAA", "the server signature is 3 bytes long, not 32"),
        (
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,",
            "\"\" is not an attribute of the form <letter>=<value>",
        ),
        (b"v=\xff", "the message is not valid UTF-8"),
    ];
    for (server_final, reason) in cases {
        assert_eq!(
            finish_error(server_final),
            malformed_final(reason),
            "{:?}",
            String::from_utf8_lossy(server_final)
        );
    }
}

#[test]
fn calls_out_of_order_are_errors() {
    let out_of_order = |call, state| ScramError::OutOfOrder { call, state };

    // finish() before update().
    let mut scram = started();
    let err = scram.finish(RFC_SERVER_FINAL).unwrap_err();
    assert_eq!(err, out_of_order("finish", "AwaitingServerFirst"));
    assert!(err.to_string().contains("before update()"), "{err}");
    assert_eq!(
        scram.update(RFC_SERVER_FIRST),
        Err(ScramError::AlreadyFailed)
    );

    // update() twice.
    let mut scram = started();
    scram.update(RFC_SERVER_FIRST).unwrap();
    let err = scram.update(RFC_SERVER_FIRST).unwrap_err();
    assert_eq!(err, out_of_order("update", "AwaitingServerFinal"));
    assert!(err.to_string().contains("update() called twice"), "{err}");

    // finish() and update() after completion.
    let mut scram = ScramSha256::with_username(PASSWORD, RFC_NONCE, "user").unwrap();
    scram.update(RFC_SERVER_FIRST).unwrap();
    scram.finish(RFC_SERVER_FINAL).unwrap();
    let err = scram.finish(RFC_SERVER_FINAL).unwrap_err();
    assert_eq!(err, out_of_order("finish", "Done"));
    assert!(err.to_string().contains("finish() called twice"), "{err}");
    let mut scram = ScramSha256::with_username(PASSWORD, RFC_NONCE, "user").unwrap();
    scram.update(RFC_SERVER_FIRST).unwrap();
    scram.finish(RFC_SERVER_FINAL).unwrap();
    let err = scram.update(RFC_SERVER_FIRST).unwrap_err();
    assert_eq!(err, out_of_order("update", "Done"));
    assert!(
        err.to_string()
            .contains("after the SCRAM exchange completed"),
        "{err}"
    );
}

#[test]
fn client_nonce_is_validated() {
    for bad in ["", "a,b", "a b", "caf\u{e9}", "tab\there", "nul\0"] {
        assert_eq!(
            ScramSha256::new(PASSWORD, bad).unwrap_err(),
            ScramError::InvalidClientNonce,
            "{bad:?}"
        );
    }
    // Every printable character but ',' is allowed.
    let all: String = (0x21u8..=0x7e)
        .filter(|&b| b != b',')
        .map(char::from)
        .collect();
    assert!(ScramSha256::new(PASSWORD, &all).is_ok());
}

#[test]
fn errors_and_debug_never_show_the_password() {
    let secret = b"hunter2-Secret";
    let mut texts = vec![format!("{:?}", ScramSha256::new(secret, "n").unwrap())];
    let mut scram = ScramSha256::new(secret, "n").unwrap();
    let err = scram.finish(b"v=AAAA").unwrap_err();
    assert_eq!(
        err,
        ScramError::OutOfOrder {
            call: "finish",
            state: "AwaitingServerFirst"
        }
    );
    texts.push(format!("{err} {err:?}"));
    let mut scram = ScramSha256::new(secret, "n").unwrap();
    let err = scram.update(b"r=nX,s=AAAA,i=0").unwrap_err();
    assert_eq!(err, iteration_count("0"));
    texts.push(format!("{err} {err:?}"));
    let mut scram = ScramSha256::new(secret, "n").unwrap();
    scram.update(b"r=nX,s=AAAA,i=1").unwrap();
    texts.push(format!("{scram:?}"));
    let err = scram.finish(b"v=A").unwrap_err();
    assert_eq!(
        err,
        malformed_final("the server signature is not valid base64")
    );
    texts.push(format!("{err} {err:?}"));
    let mut scram = ScramSha256::new(secret, "n").unwrap();
    scram.update(b"r=nX,s=AAAA,i=1").unwrap();
    let err = scram.finish(RFC_SERVER_FINAL).unwrap_err();
    assert_eq!(err, ScramError::BadServerSignature);
    texts.push(format!("{err} {err:?}"));
    let err = ProtoError::from(err);
    texts.push(format!("{err} {err:?}"));
    for text in texts {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn scram_verifier_refuses_degenerate_parameters() {
    assert_eq!(
        scram_verifier(b"p", b"", 4096),
        Err(ScramError::InvalidVerifierInput {
            reason: "a SCRAM verifier needs a non-empty salt"
        })
    );
    assert_eq!(
        scram_verifier(b"p", b"salt", 0),
        Err(ScramError::InvalidVerifierInput {
            reason: "a SCRAM verifier needs at least one iteration"
        })
    );
}

/// A server value quoted in an error is shown quoted, and cut after 40 characters.
#[test]
fn quoted_server_values_are_cut_to_a_readable_length() {
    let reason = update_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=AAAA,i=12a").to_string();
    assert!(
        reason.ends_with("the iteration count \"12a\" is not a positive integer"),
        "{reason}"
    );
    // The variant keeps the whole count; only the text cuts it.
    let long = format!("r=rOprNGfwEbeRWgbNEkqOx,s=AAAA,i={}", "9".repeat(50));
    let err = update_error(long.as_bytes());
    assert_eq!(err, iteration_count(&"9".repeat(50)));
    let reason = err.to_string();
    let expected = format!(
        "the iteration count \"{}...\" exceeds this client's limit",
        "9".repeat(40)
    );
    assert!(reason.contains(&expected), "{reason}");
    let exact = format!("r=rOprNGfwEbeRWgbNEkqOx,s=AAAA,i={}", "9".repeat(40));
    let reason = update_error(exact.as_bytes()).to_string();
    let expected = format!("the iteration count \"{}\" exceeds", "9".repeat(40));
    assert!(reason.contains(&expected), "{reason}");
}

/// The text of every variant. The nonce and signature texts are quoted by the fake-backend
/// tests in `protocol-tests`: keep them.
#[test]
fn every_error_has_a_clear_text() {
    let cases: &[(ScramError, &str)] = &[
        (
            ScramError::NonceMismatch,
            "server-first-message: the server nonce does not extend the client nonce \
             (a replayed or tampered exchange)",
        ),
        (
            ScramError::BadServerSignature,
            "the server's SCRAM signature is wrong: the server does not know the password \
             (or the exchange was tampered with)",
        ),
        (
            iteration_count("0"),
            "server-first-message: the iteration count is 0; it must be at least 1",
        ),
        (
            iteration_count("4k"),
            "server-first-message: the iteration count \"4k\" is not a positive integer",
        ),
        (
            iteration_count(""),
            "server-first-message: the iteration count \"\" is not a positive integer",
        ),
        (
            iteration_count("10000001"),
            "server-first-message: the iteration count \"10000001\" exceeds this client's \
             limit of 10000000",
        ),
        (
            malformed_first("the salt is empty"),
            "server-first-message: the salt is empty",
        ),
        (
            ScramError::MandatoryExtension,
            "server-first-message carries a mandatory extension (m=), which this client does \
             not support",
        ),
        (
            ScramError::ServerError("invalid-proof".into()),
            "the server reported a SCRAM error: invalid-proof",
        ),
        (
            ScramError::InvalidClientNonce,
            "the SCRAM client nonce must be non-empty printable ASCII without ','",
        ),
        (
            ScramError::NulInUsername,
            "the SCRAM user name contains a NUL character",
        ),
        (
            ScramError::InvalidVerifierInput {
                reason: "a SCRAM verifier needs a non-empty salt",
            },
            "a SCRAM verifier needs a non-empty salt",
        ),
        (
            ScramError::OutOfOrder {
                call: "update",
                state: "AwaitingServerFinal",
            },
            "update() called twice: the server-first-message was already processed",
        ),
        (
            ScramError::OutOfOrder {
                call: "update",
                state: "Done",
            },
            "update() called after the SCRAM exchange completed",
        ),
        (
            ScramError::OutOfOrder {
                call: "finish",
                state: "AwaitingServerFirst",
            },
            "finish() called before update(): the server-final-message arrived before the \
             server-first-message",
        ),
        (
            ScramError::OutOfOrder {
                call: "finish",
                state: "Done",
            },
            "finish() called twice: the SCRAM exchange already completed",
        ),
        (
            ScramError::AlreadyFailed,
            "the SCRAM exchange already failed; start a new one",
        ),
    ];
    for (err, text) in cases {
        assert_eq!(err.to_string(), *text, "{err:?}");
    }
}

/// `?` turns a `ScramError` into `ProtoError::Scram`, which becomes a `tusk::Error` of
/// `Kind::Auth` whose source leads back to the `ScramError`.
#[test]
fn errors_convert_to_an_auth_error_a_caller_can_match() {
    use std::error::Error as _;

    fn through_question_mark() -> Result<(), ProtoError> {
        let mut scram = started();
        scram.update(b"r=someone-else,s=AAAA,i=1")?;
        Ok(())
    }
    let proto = through_question_mark().unwrap_err();
    assert_eq!(
        proto,
        ProtoError::Scram(crate::proto::auth::ScramError::NonceMismatch)
    );
    assert_eq!(
        proto.to_string(),
        "authentication failed: server-first-message: the server nonce does not extend the \
         client nonce (a replayed or tampered exchange)"
    );

    let err = crate::Error::from(ProtoError::from(ScramError::BadServerSignature));
    assert_eq!(err.kind(), crate::Kind::Auth);
    assert!(
        err.to_string().contains(
            "the server's SCRAM signature is wrong: the server does not know the password"
        ),
        "{err}"
    );
    let scram = err
        .source()
        .and_then(|s| s.downcast_ref::<ProtoError>())
        .and_then(|p| match p {
            ProtoError::Scram(e) => Some(e),
            _ => None,
        });
    assert_eq!(scram, Some(&ScramError::BadServerSignature));

    // A std error in its own right.
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(ScramError::AlreadyFailed);
    assert!(boxed.source().is_none());
}
