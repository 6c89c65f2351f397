//! The `tls-server-end-point` channel binding data (RFC 5929 §4.1) that SCRAM-SHA-256-PLUS
//! binds to: a hash of the server's leaf certificate, with the hash chosen by the certificate's
//! signature algorithm.
//!
//! Finding the algorithm needs only the outer layers of the certificate, so this module walks
//! the DER itself (Certificate SEQUENCE → skip tbsCertificate → signatureAlgorithm → OID)
//! instead of parsing the whole certificate: the walker is small, checks every length against
//! what is left, never panics and allocates nothing whose size the input declares.

use std::fmt;

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// Why no `tls-server-end-point` data could be computed from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndPointError {
    /// The certificate is signed with an algorithm that has no single hash function (RSASSA-PSS,
    /// Ed25519, Ed448): RFC 5929 does not define the binding for it, and PostgreSQL's server
    /// fails the same way.
    NoHash(&'static str),
    /// A signature algorithm this module does not know, as its dotted OID.
    UnknownAlgorithm(String),
    /// The bytes are not a DER certificate; the text says where the walk stopped.
    Malformed(&'static str),
}

impl fmt::Display for EndPointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndPointError::NoHash(name) => write!(
                f,
                "tls-server-end-point channel binding is not defined for a server certificate \
                 signed with {name} (the algorithm names no single hash function)"
            ),
            EndPointError::UnknownAlgorithm(oid) => write!(
                f,
                "tls-server-end-point channel binding: unknown signature algorithm {oid} in the \
                 server certificate"
            ),
            EndPointError::Malformed(what) => write!(
                f,
                "tls-server-end-point channel binding: the server certificate is not valid DER \
                 ({what})"
            ),
        }
    }
}

impl std::error::Error for EndPointError {}

/// The hash function a certificate's signature algorithm implies for the binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The signature algorithms, by the DER content bytes of their OID, and what each one means
/// for the binding. MD5 and SHA-1 based ones map to SHA-256, as RFC 5929 §4.1 requires.
const ALGORITHMS: &[(&[u8], Result<Hash, &str>)] = &[
    // 1.2.840.113549.1.1.x: PKCS #1.
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
        Ok(Hash::Sha256),
    ), // md5WithRSA
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        Ok(Hash::Sha256),
    ), // sha1WithRSA
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
        Err("RSASSA-PSS"),
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        Ok(Hash::Sha256),
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        Ok(Hash::Sha384),
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        Ok(Hash::Sha512),
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e],
        Ok(Hash::Sha224),
    ),
    // 1.3.14.3.2.29: the old OIW sha1WithRSASignature.
    (&[0x2b, 0x0e, 0x03, 0x02, 0x1d], Ok(Hash::Sha256)),
    // 1.2.840.10045.4.1 and 1.2.840.10045.4.3.x: ecdsa-with-SHA1/224/256/384/512.
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
        Ok(Hash::Sha256),
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01],
        Ok(Hash::Sha224),
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        Ok(Hash::Sha256),
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        Ok(Hash::Sha384),
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        Ok(Hash::Sha512),
    ),
    // 1.2.840.10040.4.3: dsa-with-sha1; 2.16.840.1.101.3.4.3.1/2: dsa-with-sha224/256.
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03],
        Ok(Hash::Sha256),
    ),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x01],
        Ok(Hash::Sha224),
    ),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x02],
        Ok(Hash::Sha256),
    ),
    // 1.3.101.112 / 113: the EdDSA curves hash internally.
    (&[0x2b, 0x65, 0x70], Err("Ed25519")),
    (&[0x2b, 0x65, 0x71], Err("Ed448")),
];

/// The DER tags the walk expects.
const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;

/// Computes the `tls-server-end-point` channel binding data of a DER certificate.
pub(crate) fn server_end_point(cert_der: &[u8]) -> Result<Vec<u8>, EndPointError> {
    let oid = signature_algorithm_oid(cert_der)?;
    let hash = match ALGORITHMS.iter().find(|(known, _)| *known == oid) {
        Some((_, Ok(hash))) => *hash,
        Some((_, Err(name))) => return Err(EndPointError::NoHash(name)),
        None => return Err(EndPointError::UnknownAlgorithm(dotted(oid))),
    };
    Ok(match hash {
        Hash::Sha224 => Sha224::digest(cert_der).to_vec(),
        Hash::Sha256 => Sha256::digest(cert_der).to_vec(),
        Hash::Sha384 => Sha384::digest(cert_der).to_vec(),
        Hash::Sha512 => Sha512::digest(cert_der).to_vec(),
    })
}

/// The content bytes of the certificate's outer signatureAlgorithm OID.
fn signature_algorithm_oid(der: &[u8]) -> Result<&[u8], EndPointError> {
    let (certificate, _trailing) = expect(der, SEQUENCE, "Certificate")?;
    let (_tbs, rest) = expect(certificate, SEQUENCE, "tbsCertificate")?;
    let (algorithm, _signature) = expect(rest, SEQUENCE, "signatureAlgorithm")?;
    let (oid, _parameters) = expect(algorithm, OID, "signature algorithm OID")?;
    if oid.is_empty() {
        return Err(EndPointError::Malformed("empty signature algorithm OID"));
    }
    Ok(oid)
}

/// Reads one TLV with the given tag from the front of `input`: its content and what follows.
fn expect<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), EndPointError> {
    let (&found, rest) = input.split_first().ok_or(EndPointError::Malformed(what))?;
    if found != tag {
        return Err(EndPointError::Malformed(what));
    }
    let (&first, mut rest) = rest.split_first().ok_or(EndPointError::Malformed(what))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        // Long form: the low bits count the length bytes. 0x80 (indefinite) is not DER, and
        // more than four bytes would declare a certificate over 4 GiB.
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(EndPointError::Malformed(what));
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b))
    };
    if len > rest.len() {
        return Err(EndPointError::Malformed(what));
    }
    Ok(rest.split_at(len))
}

/// An OID's content bytes in dotted form, for the error message. Arcs too large for a `u64`
/// (no real signature OID has them) are shown as `?`.
fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<Option<u64>> = Vec::new();
    let mut value: Option<u64> = Some(0);
    for &b in oid {
        value = value
            .and_then(|v| v.checked_mul(128))
            .map(|v| v | u64::from(b & 0x7f));
        if b & 0x80 == 0 {
            arcs.push(value);
            value = Some(0);
        }
    }
    let mut out = String::new();
    for (i, arc) in arcs.iter().enumerate() {
        let text = arc.map_or_else(|| "?".to_string(), |a| a.to_string());
        if i == 0 {
            // The first encoded arc packs the first two: 40 * X + Y.
            match arc {
                Some(a) => {
                    let x = (*a / 40).min(2);
                    out.push_str(&format!("{x}.{}", a - 40 * x));
                }
                None => out.push_str(&text),
            }
        } else {
            out.push('.');
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    /// DER length forms at their boundaries, built by hand (X.690 §8.1.3): short form up to
    /// 0x7f, long form with 1 to 4 length bytes, and the forms DER forbids.
    #[test]
    fn der_length_forms_at_their_boundaries() {
        let ok = |input: &[u8], content: &[u8], rest: &[u8]| {
            assert_eq!(
                expect(input, 0x30, "t"),
                Ok((content, rest)),
                "{input:02x?}"
            );
        };
        let bad = |input: &[u8]| {
            assert!(expect(input, 0x30, "t").is_err(), "{input:02x?}");
        };
        ok(&[0x30, 0x00, 0xaa], &[], &[0xaa]);
        let long = [0x5a; 0x80];
        let mut short_max = vec![0x30, 0x7f];
        short_max.extend_from_slice(&long[..0x7f]);
        ok(&short_max, &long[..0x7f], &[]);
        let mut one_byte = vec![0x30, 0x81, 0x80];
        one_byte.extend_from_slice(&long);
        ok(&one_byte, &long, &[]);
        // 0x82 0x00 0x02: two length bytes, both used (0x0002), then 2 bytes and 1 left over.
        ok(&[0x30, 0x82, 0x00, 0x02, 1, 2, 3], &[1, 2], &[3]);
        ok(&[0x30, 0x84, 0, 0, 0, 1, 9], &[9], &[]);
        // A length byte that uses every byte left, and no content.
        ok(&[0x30, 0x81, 0x00], &[], &[]);
        bad(&[0x30, 0x80, 0x00]); // indefinite length
                                  // Indefinite length even with 128 bytes after it: 0x80 is never a short-form length.
        let mut indefinite = vec![0x30, 0x80];
        indefinite.extend_from_slice(&long);
        bad(&indefinite);
        bad(&[0x30, 0x85, 0, 0, 0, 0, 1, 9]); // five length bytes
        bad(&[0x30, 0x82, 0x00]); // length bytes cut short
        bad(&[0x30, 0x02, 0x00]); // content cut short
        bad(&[0x31, 0x00]); // another tag
        bad(&[]);
    }

    /// A fixture certificate's DER.
    fn der(name: &str) -> Vec<u8> {
        let path = format!("{}/src/tls/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
        CertificateDer::from_pem_file(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .to_vec()
    }

    /// `openssl x509 -noout -fingerprint -sha256` output, as bytes.
    fn fingerprint(text: &str) -> Vec<u8> {
        text.split(':')
            .map(|h| u8::from_str_radix(h, 16).expect("hex"))
            .collect()
    }

    #[test]
    fn rsa_sha256_hashes_with_sha256() {
        assert_eq!(
            server_end_point(&der("server.crt")).expect("hash"),
            fingerprint(
                "24:29:CB:E4:CB:4A:6F:E5:FF:98:A3:F6:95:25:A1:DB:\
                 12:71:09:14:90:87:4C:F3:0D:60:72:57:71:2B:99:51"
            )
        );
    }

    #[test]
    fn rsa_sha384_hashes_with_sha384() {
        assert_eq!(
            server_end_point(&der("rsa-sha384.crt")).expect("hash"),
            fingerprint(
                "63:B2:8E:CF:39:C9:98:66:FF:BD:3A:51:98:67:D6:10:61:44:21:39:3B:BB:28:B9:\
                 D5:76:33:9B:C9:6B:F4:85:05:29:FD:43:AD:42:03:50:36:B8:9C:25:B8:AE:9C:33"
            )
        );
    }

    #[test]
    fn rsa_sha1_hashes_with_sha256() {
        assert_eq!(
            server_end_point(&der("rsa-sha1.crt")).expect("hash"),
            fingerprint(
                "85:9B:F7:76:B8:0E:82:7D:3D:14:B3:D9:27:FF:29:FA:\
                 B8:EF:41:1C:83:5D:C2:11:35:22:84:52:C3:EB:50:1A"
            )
        );
    }

    #[test]
    fn ecdsa_sha384_hashes_with_sha384() {
        assert_eq!(
            server_end_point(&der("ec-p384-sha384.crt")).expect("hash"),
            fingerprint(
                "D1:B0:DF:B8:9F:3D:EA:58:30:B4:CD:B3:D4:95:F7:D1:D9:A6:BE:21:BD:01:AA:BD:\
                 D6:07:32:D5:F6:60:C6:04:C1:3F:1E:80:F0:56:E1:E2:BC:8D:1F:3A:C2:C9:3D:FF"
            )
        );
    }

    #[test]
    fn ed25519_has_no_binding() {
        let err = server_end_point(&der("ed25519.crt")).expect_err("no hash");
        assert_eq!(err, EndPointError::NoHash("Ed25519"));
        assert!(err.to_string().contains("signed with Ed25519"), "{err}");
    }

    #[test]
    fn unknown_algorithm_is_named_by_oid() {
        // SEQUENCE { SEQUENCE {}, SEQUENCE { OID 1.2.3.4 } }
        let cert = [
            0x30, 0x09, 0x30, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04,
        ];
        assert_eq!(
            server_end_point(&cert),
            Err(EndPointError::UnknownAlgorithm("1.2.3.4".into()))
        );
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
        assert_eq!(dotted(&[0x88, 0x37]), "2.999");
    }

    #[test]
    fn long_form_lengths_are_bounded() {
        // Indefinite length, five length bytes, and a length past the end.
        for bad in [
            &[0x30, 0x80, 0x00, 0x00][..],
            &[0x30, 0x85, 0, 0, 0, 0, 1, 0],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x82, 0x01],
        ] {
            assert!(
                matches!(server_end_point(bad), Err(EndPointError::Malformed(_))),
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn truncated_or_corrupted_der_never_panics() {
        let cert = der("server.crt");
        for len in 0..cert.len() {
            // Every prefix is too short for the outer length, so it is refused.
            assert!(server_end_point(&cert[..len]).is_err(), "prefix {len}");
        }
        let mut corrupt = cert.clone();
        for i in 0..cert.len() {
            for flip in [0x01, 0x80, 0xff] {
                corrupt[i] ^= flip;
                // Any answer is fine; it must not panic.
                let _ = server_end_point(&corrupt);
                corrupt[i] ^= flip;
            }
        }
        assert_eq!(corrupt, cert);
    }
}
