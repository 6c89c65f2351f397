//! Building the rustls `ClientConfig` from [`TlsSettings`], and the process-wide cache of built
//! configurations.
//!
//! A pool opens many connections with the same settings, so the certificates, keys and CRLs
//! the settings name are read and parsed once: a built configuration is kept with the
//! modification time and length of every file it was built from, and rebuilt when any of them
//! changes (certificate rotation) or a file appears or disappears.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};

use super::load;
use super::verify::{ChainOnly, FixedClientCert, NoCertificateCheck};
use crate::config::{RootCert, TlsSettings};
use crate::config::{SslCertMode, SslMode, SslProtocolVersion};
use crate::error::Error;

/// The ALPN protocol of PostgreSQL (libpq 17 sends it on every TLS connection; a server with
/// direct negotiation requires it).
pub(crate) const ALPN_POSTGRESQL: &[u8] = b"postgresql";

/// How many built configurations are kept: one per distinct group of settings in the process.
const CACHE_ENTRIES: usize = 32;

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Not at all (sslmode `require`, and the TLS attempts of `allow` / `prefer`).
    None,
    /// The chain (sslmode `verify-ca`).
    Chain,
    /// The chain and the host name (sslmode `verify-full`).
    Full,
}

impl Verification {
    /// The check an sslmode asks for.
    pub(crate) fn of(mode: SslMode) -> Verification {
        match mode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => {
                Verification::None
            }
            SslMode::VerifyCa => Verification::Chain,
            SslMode::VerifyFull => Verification::Full,
        }
    }
}

/// The rustls protocol versions for the libpq settings, and the range as the settings spell
/// it (for error messages). rustls has only TLS 1.2 and 1.3: a lower minimum means 1.2.
pub(crate) fn versions(
    min: SslProtocolVersion,
    max: Option<SslProtocolVersion>,
) -> Result<
    (
        &'static [&'static SupportedProtocolVersion],
        (SslProtocolVersion, SslProtocolVersion),
    ),
    Error,
> {
    use SslProtocolVersion::{Tls1_2, Tls1_3};
    static BOTH: [&SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static ONLY_13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static ONLY_12: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    let max = max.unwrap_or(Tls1_3);
    if min > max {
        return Err(Error::config(format!(
            "ssl_min_protocol_version ({min}) is above ssl_max_protocol_version ({max})"
        )));
    }
    if max < Tls1_2 {
        return Err(Error::config(format!(
            "ssl_max_protocol_version={max} is not supported: tusk's TLS (rustls) speaks only \
             TLSv1.2 and TLSv1.3"
        )));
    }
    let min = min.max(Tls1_2);
    let list: &'static [&'static SupportedProtocolVersion] = match (min, max) {
        (Tls1_3, _) => &ONLY_13,
        (_, Tls1_2) => &ONLY_12,
        _ => &BOTH,
    };
    Ok((list, (min, max)))
}

/// The `ClientConfig` for the settings (not a custom one), from the cache when none of its
/// files changed.
pub(crate) fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, Error> {
    static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
    let key = Key::of(settings);
    let stamps = stamps(&key)?;
    {
        let cache = CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = cache.iter().find(|e| e.key == key && e.stamps == stamps) {
            return Ok(entry.config.clone());
        }
    }
    // Built outside the lock: reading files must not hold up other connects.
    let config = build(settings)?;
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.retain(|e| e.key != key);
    if cache.len() >= CACHE_ENTRIES {
        cache.remove(0);
    }
    cache.push(Entry {
        key,
        stamps,
        config: config.clone(),
    });
    Ok(config)
}

/// The settings a built configuration depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    verification: Verification,
    root_cert: Option<RootCert>,
    client: Option<(Option<PathBuf>, Option<PathBuf>)>,
    crl: Option<PathBuf>,
    crl_dir: Option<PathBuf>,
    sni: bool,
    min: SslProtocolVersion,
    max: Option<SslProtocolVersion>,
}

impl Key {
    /// The key of `settings`: files a mode does not use are left out, so they are not
    /// watched either.
    fn of(settings: &TlsSettings) -> Key {
        let verification = Verification::of(settings.mode);
        let verifies = verification != Verification::None;
        Key {
            verification,
            root_cert: settings.root_cert.clone().filter(|_| verifies),
            client: (settings.cert_mode != SslCertMode::Disable)
                .then(|| (settings.cert.clone(), settings.key.clone())),
            crl: settings.crl.clone().filter(|_| verifies),
            crl_dir: settings.crl_dir.clone().filter(|_| verifies),
            sni: settings.sni,
            min: settings.min_version,
            max: settings.max_version,
        }
    }
}

/// A built configuration and the state of the files it came from.
struct Entry {
    key: Key,
    stamps: Vec<Stamp>,
    config: Arc<ClientConfig>,
}

/// A file's identity for the cache: path, and modification time and length (`None` when it
/// cannot be read, which building will report).
type Stamp = (PathBuf, Option<(SystemTime, u64)>);

/// The stamps of every file `key` names, including each file in `sslcrldir`.
fn stamps(key: &Key) -> Result<Vec<Stamp>, Error> {
    let stamp = |path: &Path| -> Stamp {
        let meta = std::fs::metadata(path).ok();
        let state = meta.and_then(|m| Some((m.modified().ok()?, m.len())));
        (path.to_path_buf(), state)
    };
    let mut out = Vec::new();
    if let Some(RootCert::File(path)) = &key.root_cert {
        out.push(stamp(path));
    }
    if let Some((cert, k)) = &key.client {
        out.extend(cert.iter().chain(k.iter()).map(|p| stamp(p)));
    }
    if let Some(path) = &key.crl {
        out.push(stamp(path));
    }
    if let Some(dir) = &key.crl_dir {
        out.push(stamp(dir));
        for path in load::crl_dir_files(dir)? {
            out.push(stamp(&path));
        }
    }
    Ok(out)
}

/// Builds the configuration from the files (no cache).
fn build(settings: &TlsSettings) -> Result<Arc<ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (versions, _) = versions(settings.min_version, settings.max_version)?;
    let verifier = verifier(settings, &provider)?;
    let client_cert = client_cert(settings, &provider)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| Error::tls_caused("the TLS protocol versions cannot be used", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(FixedClientCert(client_cert)));
    config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
    config.enable_sni = settings.sni;
    // No session resumption, as libpq (and PostgreSQL's server, which issues no tickets): a
    // resumed session skips the certificate checks and the client certificate request, which
    // `sslcertmode=require` and CRL updates rely on.
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// The server certificate verifier for the settings' mode.
fn verifier(
    settings: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    let verification = Verification::of(settings.mode);
    if verification == Verification::None {
        return Ok(Arc::new(NoCertificateCheck::new(provider.clone())));
    }
    let roots: Arc<RootCertStore> = match &settings.root_cert {
        Some(RootCert::File(path)) => Arc::new(load::root_file(path)?),
        Some(RootCert::System) => load::system_roots()?,
        None => {
            return Err(Error::tls(format!(
                "sslmode={} needs trusted root certificates: set sslrootcert to a CA file or \
                 to \"system\" (the default ~/.postgresql/root.crt does not exist)",
                settings.mode.as_str()
            )))
        }
    };
    let crls = load::crls(settings.crl.as_deref(), settings.crl_dir.as_deref())?;
    // With CRLs, rustls checks every certificate in the chain below the root and refuses one
    // whose issuer has no CRL, as OpenSSL does with libpq's CRL_CHECK | CRL_CHECK_ALL.
    let full = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .with_crls(crls)
        .build()
        .map_err(|e| Error::tls_caused("the trusted roots or CRLs cannot be used", e))?;
    Ok(match verification {
        Verification::Chain => Arc::new(ChainOnly::new(full)),
        _ => full,
    })
}

/// The client certificate and key to offer, if any: none with `sslcertmode=disable`; both
/// `sslcert` and `sslkey` or neither otherwise.
fn client_cert(
    settings: &TlsSettings,
    provider: &CryptoProvider,
) -> Result<Option<Arc<CertifiedKey>>, Error> {
    if settings.cert_mode == SslCertMode::Disable {
        return Ok(None);
    }
    let (cert, key) = match (&settings.cert, &settings.key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(cert), None) => {
            return Err(Error::tls(format!(
                "sslcert \"{}\" is set but there is no private key for it: set sslkey",
                cert.display()
            )))
        }
        (None, Some(key)) => {
            return Err(Error::tls(format!(
                "sslkey \"{}\" is set but there is no certificate for it: set sslcert",
                key.display()
            )))
        }
    };
    let chain = load::certificates("sslcert", cert)?;
    let der = load::private_key(key)?;
    let certified = CertifiedKey::from_der(chain, der, provider).map_err(|e| {
        Error::tls_caused(
            format!(
                "sslkey \"{}\" cannot be used with sslcert \"{}\"",
                key.display(),
                cert.display()
            ),
            e,
        )
    })?;
    Ok(Some(Arc::new(certified)))
}
