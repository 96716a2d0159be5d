//! The cryptographic check of an inbox request: its body against the `Digest` header, and its
//! HTTP signature (draft-cavage-http-signatures-12) against the signer's public key, with
//! `ring`. What can be refused before any key is fetched is [`super::signature`]'s.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use activitypub_federation::error::Error as ApError;
use actix_web::http::header::HeaderMap;
use base64::Engine;

use super::signature::MAX_AGE;

/// Checks the body against the request's `Digest` header: every `algorithm=value` pair in it
/// must be the base64 SHA-256 of the body (as the protocol crate checks it; every server in use
/// sends `SHA-256=` alone).
pub fn verify_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), ApError> {
    let header = headers
        .get("digest")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApError::ActivityBodyDigestInvalid)?;
    let ours = base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, body));
    let mut parts = header
        .split(';')
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|part| part.split_once('=').map(|(_, value)| value))
        .peekable();
    if parts.peek().is_none() || parts.any(|given| given != ours) {
        return Err(ApError::ActivityBodyDigestInvalid);
    }
    Ok(())
}

/// An actor's public key, parsed once: ring verifies keys of 2,048 to 8,192 bits (about ten
/// times faster than the pure-Rust `rsa` crate, which checked every inbox signature before,
/// and was a fifth of the server's time under a flood of replies); smaller keys, which some old
/// servers still have, are checked by the `rsa` crate as before.
enum VerifyingKey {
    Ring(ring::signature::RsaPublicKeyComponents<Vec<u8>>),
    Small(rsa::RsaPublicKey),
}

impl VerifyingKey {
    fn from_pem(pem: &str) -> Result<VerifyingKey, ApError> {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_public_key_pem(pem)
            .map_err(|e| ApError::Other(format!("the actor's key cannot be read: {e}")))?;
        Ok(if key.n().bits() >= 2048 {
            VerifyingKey::Ring(ring::signature::RsaPublicKeyComponents {
                n: key.n().to_bytes_be(),
                e: key.e().to_bytes_be(),
            })
        } else {
            VerifyingKey::Small(key)
        })
    }

    /// Whether `signature` is this key's PKCS#1 v1.5 SHA-256 signature of `message`.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            VerifyingKey::Ring(key) => key
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    message,
                    signature,
                )
                .is_ok(),
            VerifyingKey::Small(key) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, message);
                key.verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    digest.as_ref(),
                    signature,
                )
                .is_ok()
            }
        }
    }
}

/// Keys parsed lately, by their PEM: a busy peer signs every activity with the same key.
static KEYS: LazyLock<Mutex<HashMap<String, Arc<VerifyingKey>>>> = LazyLock::new(Mutex::default);
/// Keys kept at most; the map starts again when full (parsing one is a few microseconds).
const KEYS_KEPT: usize = 4096;

fn verifying_key(pem: &str) -> Result<Arc<VerifyingKey>, ApError> {
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = keys.get(pem) {
        return Ok(key.clone());
    }
    let key = Arc::new(VerifyingKey::from_pem(pem)?);
    if keys.len() >= KEYS_KEPT {
        keys.clear();
    }
    keys.insert(pem.to_string(), key.clone());
    Ok(key)
}

/// Verifies the request's HTTP signature against the signer's `public_key_pem`: the signing
/// string is built by `http-signature-normalization` (the crate and configuration the protocol
/// crate verified with: a digest required, signatures an hour old refused), and the RSA check
/// is [`VerifyingKey`]'s. `domain` stands in for a `Host` header a proxy dropped. A signature
/// that does not verify is `ActivitySignatureInvalid`; one that cannot be checked, `Other`.
pub fn verify(
    request: &actix_web::HttpRequest,
    public_key_pem: &str,
    domain: &str,
) -> Result<(), ApError> {
    static CONFIG: LazyLock<http_signature_normalization::Config> = LazyLock::new(|| {
        http_signature_normalization::Config::new()
            .set_expiration(
                MAX_AGE
                    .to_std()
                    .unwrap_or(std::time::Duration::from_secs(3600)),
            )
            .require_digest()
    });
    let mut headers = BTreeMap::new();
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            headers.insert(name.to_string(), value.to_string());
        }
    }
    headers
        .entry("host".to_string())
        .or_insert_with(|| domain.to_string());
    let path_and_query = request.uri().path_and_query().map_or("", |p| p.as_str());
    let unverified = CONFIG
        .begin_verify(request.method().as_str(), path_and_query, headers)
        .map_err(|e| ApError::Other(e.to_string()))?;
    let key = verifying_key(public_key_pem)?;
    let verified = unverified.verify(|signature, signing_string| {
        base64::engine::general_purpose::STANDARD
            .decode(signature)
            .is_ok_and(|signature| key.verifies(signing_string.as_bytes(), &signature))
    });
    if verified {
        Ok(())
    } else {
        Err(ApError::ActivitySignatureInvalid)
    }
}

/// The RSA check itself, for both kinds of key, and the digest check.
#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};

    /// A key pair of `bits`, its public half as PEM, and a PKCS#1 v1.5 SHA-256 signer.
    fn pair(bits: usize) -> (String, impl Fn(&[u8]) -> Vec<u8>) {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).unwrap();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let sign = move |message: &[u8]| {
            let digest = ring::digest::digest(&ring::digest::SHA256, message);
            private
                .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest.as_ref())
                .unwrap()
        };
        (pem, sign)
    }

    #[test]
    fn keys_of_2048_bits_and_more_are_checked_by_ring_smaller_ones_as_before() {
        for (bits, by_ring) in [(2048, true), (1024, false)] {
            let (pem, sign) = pair(bits);
            let key = VerifyingKey::from_pem(&pem).unwrap();
            assert_eq!(matches!(key, VerifyingKey::Ring(_)), by_ring, "{bits}");
            let message = b"(request-target): post /inbox\nhost: a.example";
            let signature = sign(message);
            assert!(key.verifies(message, &signature), "{bits}");
            assert!(
                !key.verifies(b"(request-target): post /other", &signature),
                "{bits}"
            );
            let mut forged = signature.clone();
            forged[10] ^= 1;
            assert!(!key.verifies(message, &forged), "{bits}");
        }
        // Another key's signature never verifies.
        let (pem, _) = pair(2048);
        let (_, other) = pair(2048);
        let key = verifying_key(&pem).unwrap();
        assert!(!key.verifies(b"date", &other(b"date")));
        assert!(matches!(
            VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            Err(ApError::Other(_))
        ));
    }

    #[test]
    fn the_digest_must_be_the_bodys() {
        let body = br#"{"type":"Create"}"#;
        let ours = base64::engine::general_purpose::STANDARD
            .encode(ring::digest::digest(&ring::digest::SHA256, body));
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                actix_web::http::header::HeaderName::from_static("digest"),
                actix_web::http::header::HeaderValue::from_str(value).unwrap(),
            );
            headers
        };
        assert!(verify_digest(&with(&format!("SHA-256={ours}")), body).is_ok());
        for wrong in [
            format!("SHA-256={ours}x"),
            format!("SHA-256={ours},SHA-256=AAAA"),
            "SHA-256".to_string(),
            String::new(),
        ] {
            assert!(
                matches!(
                    verify_digest(&with(&wrong), body),
                    Err(ApError::ActivityBodyDigestInvalid)
                ),
                "{wrong}"
            );
        }
        assert!(matches!(
            verify_digest(&HeaderMap::new(), body),
            Err(ApError::ActivityBodyDigestInvalid)
        ));
        assert!(verify_digest(&with(&format!("SHA-256={ours}")), b"{}").is_err());
    }
}
