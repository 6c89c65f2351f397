//! The server certificate verifiers for each sslmode, and the client certificate resolver
//! that records whether the server asked for a certificate (`sslcertmode=require`).
//!
//! - `require` (and the TLS attempts of `allow` / `prefer`): [`NoCertificateCheck`], libpq's
//!   meaning of these modes: any certificate is accepted, but the handshake signatures are
//!   still checked, so the server must hold the key of the certificate it shows.
//! - `verify-ca`: [`ChainOnly`], webpki's verifier with the name check taken out.
//! - `verify-full`: webpki's verifier as it is.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Accepts every server certificate (sslmode `require`), checking only the handshake
/// signatures with the provider's algorithms.
#[derive(Debug)]
pub(crate) struct NoCertificateCheck {
    /// Where the signature algorithms come from.
    provider: Arc<CryptoProvider>,
}

impl NoCertificateCheck {
    /// A verifier using `provider`'s signature algorithms.
    pub(crate) fn new(provider: Arc<CryptoProvider>) -> NoCertificateCheck {
        NoCertificateCheck { provider }
    }
}

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// sslmode `verify-ca`: the chain must lead to a trusted root (dates and CRLs included), the
/// host name is not checked.
///
/// rustls' `WebPkiServerVerifier::verify_server_cert` checks the chain (signatures, dates,
/// revocation, key usage) first and the name last, returning on the first failure. So a
/// `NotValidForName` error means the chain passed, and only then is it turned into success.
/// `verify_ca_ignores_only_the_name` in the tests holds rustls to this order: an untrusted
/// certificate for a different name must still be refused as untrusted.
#[derive(Debug)]
pub(crate) struct ChainOnly {
    /// The full verifier whose name check is ignored.
    inner: Arc<WebPkiServerVerifier>,
}

impl ChainOnly {
    /// Wraps a webpki verifier built with the roots and CRLs.
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>) -> ChainOnly {
        ChainOnly { inner }
    }
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// What happened with the client certificate in one handshake.
#[derive(Debug, Default)]
pub(crate) struct ClientCertUse {
    /// The server sent a CertificateRequest.
    pub(crate) requested: AtomicBool,
    /// A certificate was handed to rustls to send.
    pub(crate) sent: AtomicBool,
}

/// The client certificate resolver of one handshake: answers with the configured certificate
/// (if any, and unless `sslcertmode=disable`) and records that the server asked.
///
/// rustls calls the resolver only when the server sends a CertificateRequest, which makes it
/// the one place that learns about the request. A `ClientConfig` is shared by the handshakes
/// of a connector, so each handshake gets a copy of the config with its own recorder.
pub(crate) struct RecordingResolver {
    /// The resolver of the configuration (tusk's own, or a custom config's).
    pub(crate) inner: Arc<dyn ResolvesClientCert>,
    /// Where the request is recorded.
    pub(crate) usage: Arc<ClientCertUse>,
}

impl fmt::Debug for RecordingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingResolver")
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.usage.requested.store(true, Ordering::Relaxed);
        let key = self.inner.resolve(root_hint_subjects, sigschemes);
        // rustls sends the certificate only if its key can sign with one of the server's
        // schemes (it asks the key the same question), otherwise an empty certificate list.
        if key
            .as_ref()
            .is_some_and(|k| k.key.choose_scheme(sigschemes).is_some())
        {
            self.usage.sent.store(true, Ordering::Relaxed);
        }
        key
    }

    fn has_certs(&self) -> bool {
        // rustls 0.23 calls `resolve` on every CertificateRequest regardless (this is only
        // consulted for ECH), so the request is recorded even with nothing configured.
        self.inner.has_certs()
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }
}

/// The configured client certificate: `Some` key only for `sslcertmode` allow/require with
/// `sslcert`/`sslkey` set. It does not look at the server's hints, as libpq sends its one
/// certificate whatever the server names.
#[derive(Debug)]
pub(crate) struct FixedClientCert(pub(crate) Option<Arc<CertifiedKey>>);

impl ResolvesClientCert for FixedClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.0.clone()
    }

    fn has_certs(&self) -> bool {
        self.0.is_some()
    }
}
