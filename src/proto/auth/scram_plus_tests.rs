//! Tests of channel binding in the SCRAM client: the GS2 header of each
//! [`ChannelBindingChoice`], the `c=` attribute checked against a computation from the RFC's
//! definition, and whole exchanges against the independent test server in
//! `scram_test_server.rs`, including servers at the end of a different TLS connection.

use super::super::scram_test_server::TestServer;
use super::*;

const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const PASSWORD: &str = "pencil";

/// A tls-server-end-point value: 32 bytes, as for a certificate signed with SHA-256, with
/// bytes that are not ASCII (and one `,`), so no text handling can pass them through unchanged
/// by accident.
fn end_point() -> Vec<u8> {
    (0u8..32)
        .map(|i| i.wrapping_mul(37).wrapping_add(0x2c))
        .collect()
}

fn start(choice: ChannelBindingChoice) -> ScramSha256 {
    ScramSha256::with_channel_binding(PASSWORD.as_bytes(), NONCE, choice).unwrap()
}

#[test]
fn client_first_message_has_the_gs2_header_of_each_choice() {
    let cases = [
        (
            ChannelBindingChoice::NotSupported,
            "SCRAM-SHA-256",
            &b"n,,n=,r=rOprNGfwEbeRWgbNEkqO"[..],
            false,
        ),
        (
            ChannelBindingChoice::SupportedButNotUsed,
            "SCRAM-SHA-256",
            b"y,,n=,r=rOprNGfwEbeRWgbNEkqO",
            false,
        ),
        (
            ChannelBindingChoice::TlsServerEndPoint(end_point()),
            "SCRAM-SHA-256-PLUS",
            b"p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO",
            true,
        ),
    ];
    for (choice, mechanism, first, bound) in cases {
        assert_eq!(choice.mechanism(), mechanism);
        let scram = start(choice.clone());
        assert_eq!(scram.message(), first, "{choice:?}");
        assert_eq!(scram.mechanism(), mechanism, "{choice:?}");
        assert_eq!(scram.is_channel_bound(), bound, "{choice:?}");
    }
    // `new` is `NotSupported`.
    let plain = ScramSha256::new(PASSWORD.as_bytes(), NONCE).unwrap();
    assert_eq!(plain.message(), b"n,,n=,r=rOprNGfwEbeRWgbNEkqO");
    assert_eq!(plain.mechanism(), SCRAM_SHA_256);
    assert!(!plain.is_channel_bound());
}

/// The `c=` of the client-final-message for a given choice, after a server-first-message.
fn c_attribute_sent(choice: ChannelBindingChoice) -> String {
    let mut scram = start(choice);
    scram
        .update(b"r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1")
        .unwrap();
    let text = std::str::from_utf8(scram.message()).unwrap().to_owned();
    let c = text.strip_prefix("c=").unwrap();
    c[..c.find(',').unwrap()].to_owned()
}

#[test]
fn client_final_c_is_the_base64_of_the_header_and_the_binding_data() {
    // RFC 5802 section 7: c= is base64(gs2-header [ cbind-data ]).
    let data = end_point();
    let mut expected = b"p=tls-server-end-point,,".to_vec();
    expected.extend_from_slice(&data);
    assert_eq!(
        c_attribute_sent(ChannelBindingChoice::TlsServerEndPoint(data)),
        STANDARD.encode(&expected)
    );
    // Other data, other c=.
    assert_ne!(
        c_attribute_sent(ChannelBindingChoice::TlsServerEndPoint(vec![1; 32])),
        STANDARD.encode(&expected)
    );
    // base64("n,,") and base64("y,,"), the values every SCRAM client sends.
    assert_eq!(c_attribute_sent(ChannelBindingChoice::NotSupported), "biws");
    assert_eq!(
        c_attribute_sent(ChannelBindingChoice::SupportedButNotUsed),
        "eSws"
    );
}

#[test]
fn empty_binding_data_is_refused() {
    let err = ScramSha256::with_channel_binding(
        b"pencil",
        NONCE,
        ChannelBindingChoice::TlsServerEndPoint(vec![]),
    )
    .unwrap_err();
    assert_eq!(err, ScramError::EmptyChannelBindingData);
    assert!(err.to_string().contains("tls-server-end-point"), "{err}");
}

/// Runs a whole exchange of `choice` against `server`; the first error from either side.
fn exchange(choice: ChannelBindingChoice, server: &mut TestServer) -> Result<(), String> {
    let mut scram = start(choice);
    let server_first = server.first(scram.mechanism(), scram.message())?;
    scram.update(&server_first).map_err(|e| e.to_string())?;
    let server_final = server.last(scram.message())?;
    scram.finish(&server_final).map_err(|e| e.to_string())?;
    assert!(scram.message().is_empty());
    Ok(())
}

#[test]
fn plus_exchange_against_an_independent_server() {
    let mut server = TestServer::new(PASSWORD, Some(end_point()));
    exchange(
        ChannelBindingChoice::TlsServerEndPoint(end_point()),
        &mut server,
    )
    .unwrap();
}

#[test]
fn plain_exchanges_against_an_independent_server() {
    // No TLS: flag n.
    let mut server = TestServer::new(PASSWORD, None);
    exchange(ChannelBindingChoice::NotSupported, &mut server).unwrap();
    // The client is on TLS but the server (as far as it knows) is not: flag y is accepted.
    let mut server = TestServer::new(PASSWORD, None);
    exchange(ChannelBindingChoice::SupportedButNotUsed, &mut server).unwrap();
    // A server that can bind refuses y: the downgrade is detected.
    let mut server = TestServer::new(PASSWORD, Some(end_point()));
    let err = exchange(ChannelBindingChoice::SupportedButNotUsed, &mut server).unwrap_err();
    assert!(err.contains("thinks the server cannot bind"), "{err}");
}

#[test]
fn a_wrong_password_fails_the_server_check() {
    let mut server = TestServer::new("not pencil", Some(end_point()));
    let err = exchange(
        ChannelBindingChoice::TlsServerEndPoint(end_point()),
        &mut server,
    )
    .unwrap_err();
    assert_eq!(err, "invalid-proof");
}

/// A man-in-the-middle terminates the client's TLS with its own certificate: the client binds
/// to the hash of that certificate, the real server sees another one. The server refuses the
/// client's c=, and the proof cannot be reused.
#[test]
fn binding_data_that_differs_from_the_servers_is_refused_by_the_server() {
    let mut server = TestServer::new(PASSWORD, Some(end_point()));
    let err = exchange(
        ChannelBindingChoice::TlsServerEndPoint(vec![0xee; 32]),
        &mut server,
    )
    .unwrap_err();
    assert!(err.starts_with("channel binding mismatch"), "{err}");
}

/// The other direction: a server that knows the password but signs over a different `c=` (the
/// channel binding data of its own, different TLS connection, or no binding at all) is refused
/// by the client, because the client's AuthMessage holds its own `c=`.
#[test]
fn a_server_signature_over_a_different_c_is_refused() {
    for other_c in [
        // Binding data of another TLS connection.
        {
            let mut input = b"p=tls-server-end-point,,".to_vec();
            input.extend_from_slice(&[0xee; 32]);
            STANDARD.encode(input)
        },
        // The binding stripped.
        "biws".to_owned(),
        "eSws".to_owned(),
    ] {
        let mut server = TestServer::new(PASSWORD, Some(end_point()));
        let mut scram = start(ChannelBindingChoice::TlsServerEndPoint(end_point()));
        let server_first = server.first(scram.mechanism(), scram.message()).unwrap();
        scram.update(&server_first).unwrap();
        // The genuine server accepts the proof and would sign over the client's own c=...
        let genuine = server.last(scram.message()).unwrap();
        // ... but a signature over another c= does not verify.
        let forged = server.server_final_over(&format!("c={other_c},r={}", server.nonce()));
        assert_ne!(forged, genuine);
        assert_eq!(
            scram.finish(&forged),
            Err(ScramError::BadServerSignature),
            "c={other_c}"
        );
    }
    // Control: the signature over the client's own c=, built the same way, is accepted.
    let mut server = TestServer::new(PASSWORD, Some(end_point()));
    let mut scram = start(ChannelBindingChoice::TlsServerEndPoint(end_point()));
    let server_first = server.first(scram.mechanism(), scram.message()).unwrap();
    scram.update(&server_first).unwrap();
    let own = server.server_final_over(&format!("c={},r={}", server.expected_c(), server.nonce()));
    scram.finish(&own).unwrap();
}

/// The proof covers c=: the same exchange bound to other data yields another proof, so a
/// proof captured on one TLS connection is useless on another.
#[test]
fn the_client_proof_covers_the_binding_data() {
    let proof_for = |choice: ChannelBindingChoice| {
        let mut scram = start(choice);
        scram
            .update(b"r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1")
            .unwrap();
        let text = std::str::from_utf8(scram.message()).unwrap().to_owned();
        text.rsplit_once(",p=").unwrap().1.to_owned()
    };
    let a = proof_for(ChannelBindingChoice::TlsServerEndPoint(end_point()));
    let b = proof_for(ChannelBindingChoice::TlsServerEndPoint(vec![0xee; 32]));
    let n = proof_for(ChannelBindingChoice::NotSupported);
    assert_ne!(a, b);
    assert_ne!(a, n);
}

#[test]
fn debug_names_the_mechanism_but_not_the_binding_data() {
    let scram = start(ChannelBindingChoice::TlsServerEndPoint(end_point()));
    assert_eq!(
        format!("{scram:?}"),
        "ScramSha256 { state: \"AwaitingServerFirst\", mechanism: \"SCRAM-SHA-256-PLUS\", .. }"
    );
}
