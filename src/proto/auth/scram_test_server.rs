//! The server side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS, for tests only: written from
//! RFC 5802 (sections 3, 5 and 7) and RFC 5929 with `hmac` and `sha2` directly, sharing no code
//! with the client in [`scram`](super::scram), so the client's proofs and GS2 headers are checked
//! against an independent computation. It behaves like PostgreSQL's `auth-scram.c` where the
//! tests need it: the GS2 flag must match the mechanism, and a server on TLS refuses flag `y`
//! (the client thinks the server cannot bind: an offer was stripped).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

const PLUS: &str = "SCRAM-SHA-256-PLUS";
const PLAIN: &str = "SCRAM-SHA-256";

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Hi(password, salt, i) of RFC 5802 section 2.2 (PBKDF2-HMAC-SHA-256, one block), spelled out.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut u = hmac(password, &[salt, &1u32.to_be_bytes()].concat());
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        out.iter_mut().zip(u).for_each(|(o, x)| *o ^= x);
    }
    out
}

/// One SCRAM exchange, server side.
pub(crate) struct TestServer {
    stored_key: [u8; 32],
    server_key: [u8; 32],
    salt: Vec<u8>,
    iterations: u32,
    /// The `tls-server-end-point` data of the server's end of its TLS connection; `None`: the
    /// server is not on TLS (and does not offer PLUS).
    end_point: Option<Vec<u8>>,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
}

impl TestServer {
    /// A server whose verifier is for `password` (ASCII: no SASLprep needed), salt `[7; 16]`,
    /// 4096 iterations.
    pub(crate) fn new(password: &str, end_point: Option<Vec<u8>>) -> TestServer {
        let salt = vec![7u8; 16];
        let iterations = 4096;
        let salted = hi(password.as_bytes(), &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        TestServer {
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, b"Server Key"),
            salt,
            iterations,
            end_point,
            gs2_header: String::new(),
            client_first_bare: String::new(),
            server_first: String::new(),
        }
    }

    /// What PostgreSQL offers in AuthenticationSASL: PLUS first when on TLS.
    pub(crate) fn mechanisms(&self) -> Vec<String> {
        match self.end_point {
            Some(_) => vec![PLUS.into(), PLAIN.into()],
            None => vec![PLAIN.into()],
        }
    }

    /// Takes the SASLInitialResponse (mechanism and client-first-message) and answers with the
    /// server-first-message, or refuses like PostgreSQL.
    pub(crate) fn first(
        &mut self,
        mechanism: &str,
        client_first: &[u8],
    ) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(client_first).map_err(|e| e.to_string())?;
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let mut parts = text.splitn(3, ',');
        let flag = parts.next().ok_or("no GS2 flag")?;
        let authzid = parts.next().ok_or("no authzid field")?;
        let bare = parts.next().ok_or("no client-first-message-bare")?;
        if !authzid.is_empty() {
            return Err("authzid is not supported".into());
        }
        match (flag, mechanism) {
            ("p=tls-server-end-point", PLUS) if self.end_point.is_some() => {}
            ("p=tls-server-end-point", _) => return Err("binding without PLUS".into()),
            ("y", PLAIN) if self.end_point.is_some() => {
                return Err("the client thinks the server cannot bind, but it can".into())
            }
            ("y" | "n", PLAIN) => {}
            _ => return Err(format!("GS2 flag {flag:?} with mechanism {mechanism}")),
        }
        let nonce = bare.strip_prefix("n=,r=").ok_or("not n=,r=<nonce>")?;
        self.gs2_header = format!("{flag},,");
        self.client_first_bare = bare.to_owned();
        self.server_first = format!(
            "r={nonce}srvNONCE,s={},i={}",
            STANDARD.encode(&self.salt),
            self.iterations
        );
        Ok(self.server_first.clone().into_bytes())
    }

    /// The `c=` value this server expects: base64 of the GS2 header and, with `p`, its own
    /// end point data.
    pub(crate) fn expected_c(&self) -> String {
        let mut input = self.gs2_header.clone().into_bytes();
        if self.gs2_header.starts_with("p=") {
            input.extend_from_slice(self.end_point.as_deref().unwrap_or_default());
        }
        STANDARD.encode(input)
    }

    /// Takes the client-final-message: checks `c=`, the nonce and the proof, and answers with
    /// the server-final-message.
    pub(crate) fn last(&self, client_final: &[u8]) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(client_final).map_err(|e| e.to_string())?;
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or("no proof")?;
        let c = without_proof
            .strip_prefix("c=")
            .and_then(|rest| rest.split(',').next())
            .ok_or("no c=")?;
        if c != self.expected_c() {
            return Err(format!("channel binding mismatch: c={c}"));
        }
        let nonce = self.server_first.split(',').next().unwrap();
        if !without_proof.ends_with(&format!(",{nonce}")) {
            return Err("nonce mismatch".into());
        }
        let auth_message = self.auth_message(without_proof);
        let proof = STANDARD.decode(proof).map_err(|e| e.to_string())?;
        let signature = hmac(&self.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
        if Sha256::digest(&client_key)[..] != self.stored_key[..] {
            return Err("invalid-proof".into());
        }
        Ok(self.server_final_over(without_proof))
    }

    /// A server-final-message signed over the given client-final-message-without-proof, which
    /// need not be the one the client sent (a server at the end of another TLS connection).
    pub(crate) fn server_final_over(&self, client_final_without_proof: &str) -> Vec<u8> {
        let auth_message = self.auth_message(client_final_without_proof);
        let signature = hmac(&self.server_key, auth_message.as_bytes());
        format!("v={}", STANDARD.encode(signature)).into_bytes()
    }

    fn auth_message(&self, client_final_without_proof: &str) -> String {
        format!(
            "{},{},{client_final_without_proof}",
            self.client_first_bare, self.server_first
        )
    }

    /// The combined nonce of the server-first-message (its `r=` value).
    pub(crate) fn nonce(&self) -> &str {
        &self.server_first.split(',').next().unwrap()[2..]
    }
}
