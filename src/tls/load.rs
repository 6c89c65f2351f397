//! Reading the PEM files the TLS settings name (`sslrootcert`, `sslcert`, `sslkey`, `sslcrl`,
//! `sslcrldir`) and the system trust store, with errors that name the setting and the path.
//!
//! Files are read whole with a size limit (a wrong path pointing at a huge file must not eat
//! memory) and parsed with rustls-pki-types' PEM reader.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::RootCertStore;

use crate::error::Error;

/// The largest certificate or key file read. Real ones are a few kilobytes; a CA bundle a few
/// hundred.
const MAX_PEM_FILE: u64 = 16 * 1024 * 1024;

/// The largest CRL file read: revocation lists of large CAs reach tens of megabytes.
const MAX_CRL_FILE: u64 = 256 * 1024 * 1024;

/// Reads a whole file of at most `limit` bytes. `setting` names the libpq setting in errors.
pub(crate) fn read_file(setting: &str, path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let fail =
        |e: std::io::Error| Error::tls_caused(format!("{setting} \"{}\": {e}", path.display()), e);
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file at the limit from a larger one.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() as u64 > limit {
        return Err(Error::tls(format!(
            "{setting} \"{}\": the file is larger than {limit} bytes; it is not a PEM file",
            path.display()
        )));
    }
    Ok(bytes)
}

/// A PEM parse error, with the setting and path.
fn pem_error(setting: &str, path: &Path, e: pem::Error) -> Error {
    Error::tls(format!(
        "{setting} \"{}\": not a valid PEM file: {e:?}",
        path.display()
    ))
}

/// Every certificate in a PEM file; none at all is an error.
pub(crate) fn certificates(
    setting: &str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = read_file(setting, path, MAX_PEM_FILE)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(setting, path, e))?;
    if certs.is_empty() {
        return Err(Error::tls(format!(
            "{setting} \"{}\": no certificates in the file (expected PEM \"-----BEGIN \
             CERTIFICATE-----\" sections)",
            path.display()
        )));
    }
    Ok(certs)
}

/// The trusted roots from a PEM file. A certificate webpki cannot use as a trust anchor is
/// skipped with a warning, as long as one usable remains (a CA bundle may carry odd ones).
pub(crate) fn root_file(path: &Path) -> Result<RootCertStore, Error> {
    let certs = certificates("sslrootcert", path)?;
    let mut store = RootCertStore::empty();
    let (added, ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(Error::tls(format!(
            "sslrootcert \"{}\": none of its {ignored} certificates can be used as a trusted root",
            path.display()
        )));
    }
    if ignored > 0 {
        log::warn!(
            "sslrootcert \"{}\": {ignored} certificates skipped (not usable as trusted roots)",
            path.display()
        );
    }
    Ok(store)
}

/// The system trust store (`sslrootcert=system`), loaded at most once per process: reading
/// and parsing a few hundred certificates per connection attempt would be waste, and the store
/// changes only with system updates.
pub(crate) fn system_roots() -> Result<Arc<RootCertStore>, Error> {
    static SYSTEM: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added > 0 {
                for e in &found.errors {
                    log::warn!("sslrootcert=system: {e}");
                }
                return Ok(Arc::new(store));
            }
            let mut message = String::from(
                "sslrootcert=system: no trusted root certificates found in the system store",
            );
            for e in &found.errors {
                let _ = write!(message, "; {e}");
            }
            Err(message)
        })
        .clone()
        .map_err(Error::tls)
}

/// The client's private key. PKCS#8, PKCS#1 and SEC1 PEM keys are read; an encrypted key is
/// refused with how to decrypt it, since tusk does not implement the key encryption schemes
/// (`sslpassword` is not supported).
pub(crate) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let bytes = read_file("sslkey", path, MAX_PEM_FILE)?;
    // Checked before parsing: a legacy encrypted PEM ("Proc-Type: 4,ENCRYPTED" headers) is not
    // even valid base64 to the PEM reader, and "ENCRYPTED PRIVATE KEY" is a section it skips.
    if contains(&bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || contains(&bytes, b"Proc-Type: 4,ENCRYPTED")
    {
        return Err(Error::tls(format!(
            "sslkey \"{}\": the private key is encrypted, and tusk cannot decrypt keys \
             (sslpassword is not supported); store it decrypted, readable only by its owner: \
             openssl pkey -in {0} -out {0}.plain",
            path.display()
        )));
    }
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        let (kind, der) = section.map_err(|e| pem_error("sslkey", path, e))?;
        let key = match kind {
            SectionKind::PrivateKey => PrivateKeyDer::Pkcs8(der.into()),
            SectionKind::RsaPrivateKey => PrivateKeyDer::Pkcs1(der.into()),
            SectionKind::EcPrivateKey => PrivateKeyDer::Sec1(der.into()),
            _ => continue,
        };
        return Ok(key);
    }
    Err(Error::tls(format!(
        "sslkey \"{}\": no private key in the file (expected a PEM \"PRIVATE KEY\", \"RSA \
         PRIVATE KEY\" or \"EC PRIVATE KEY\" section)",
        path.display()
    )))
}

/// The CRLs of `sslcrl` (one PEM file) and `sslcrldir` (every PEM file in a directory, as
/// OpenSSL's hashed-directory lookup would find them; files without CRLs are skipped).
pub(crate) fn crls(
    file: Option<&Path>,
    dir: Option<&Path>,
) -> Result<Vec<CertificateRevocationListDer<'static>>, Error> {
    let mut all = Vec::new();
    if let Some(path) = file {
        let found = crl_file("sslcrl", path)?;
        if found.is_empty() {
            return Err(Error::tls(format!(
                "sslcrl \"{}\": no CRLs in the file (expected PEM \"-----BEGIN X509 CRL-----\" \
                 sections)",
                path.display()
            )));
        }
        all.extend(found);
    }
    if let Some(dir) = dir {
        for path in crl_dir_files(dir)? {
            all.extend(crl_file("sslcrldir", &path)?);
        }
    }
    Ok(all)
}

/// The regular files in an `sslcrldir` directory, sorted so the result does not depend on
/// the directory's order.
pub(crate) fn crl_dir_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let fail =
        |e: std::io::Error| Error::tls_caused(format!("sslcrldir \"{}\": {e}", dir.display()), e);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The CRLs in one PEM file (possibly none).
fn crl_file(
    setting: &str,
    path: &Path,
) -> Result<Vec<CertificateRevocationListDer<'static>>, Error> {
    let bytes = read_file(setting, path, MAX_CRL_FILE)?;
    CertificateRevocationListDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(setting, path, e))
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
