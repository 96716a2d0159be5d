//! What an inbox request must show before anything is fetched for it: a JSON content type and an
//! HTTP signature (draft-cavage-http-signatures-12, as the fediverse uses it) that is well formed,
//! signs what matters and is fresh. The cryptographic check itself is the
//! `activitypub_federation` crate's, against the key of the activity's actor; this module only
//! refuses, cheaply and with a stable code, what could never pass it, so that an unsigned or
//! garbled request costs us no fetch of the actor it names.
//!
//! Each refusal is a 401 (415 for the content type) with its own code:
//! `signature_missing`, `signature_malformed`, `signature_headers` (a required header is not
//! signed, or a signed one is absent), `signature_date` (no usable `Date`, or one outside the
//! window) and `invalid_signature` (the crate's verdict, see [`super::handlers::inbox`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use activitypub_federation::error::Error as ApError;

use actix_web::http::header::{HeaderMap, CONTENT_TYPE, DATE};
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};

use super::error::FederationError;

/// How old a request's `Date` may be. The cavage draft leaves the window to the receiver; the
/// `activitypub_federation` verifier behind this check refuses a `Date` more than an hour old
/// (its `EXPIRES_AFTER`), so this says the same, with a code of its own and before any fetch.
/// Senders sign each attempt afresh, so a retry is never refused for its age.
pub const MAX_AGE: TimeDelta = TimeDelta::hours(1);
/// How far ahead of our clock a request's `Date` may be.
pub const MAX_AHEAD: TimeDelta = TimeDelta::hours(1);

/// What every inbox signature must cover: the method and path, the host, the date and, since
/// an inbox request always has a body, the body's digest.
const REQUIRED: [&str; 4] = ["(request-target)", "host", "date", "digest"];

/// The media types an inbox takes (ActivityPub §7 names the first two; many servers send the
/// third).
const ACCEPTED_TYPES: [&str; 3] = [
    "application/activity+json",
    "application/ld+json",
    "application/json",
];

fn unauthorized(code: &'static str, message: impl Into<String>) -> FederationError {
    FederationError::Refused {
        status: 401,
        code,
        message: message.into(),
    }
}

/// Refuses a body that is not JSON of the ActivityPub kinds (415).
pub fn check_content_type(headers: &HeaderMap) -> Result<(), FederationError> {
    let given = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = given
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ACCEPTED_TYPES.contains(&essence.as_str()) {
        Ok(())
    } else {
        Err(FederationError::Refused {
            status: 415,
            code: "unsupported_media_type",
            message: format!(
                "an inbox takes application/activity+json, application/ld+json or \
                 application/json, not {:?}",
                given
            ),
        })
    }
}

/// The parameters of a `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// `keyId`: the URL of the signing key.
    pub key_id: String,
    /// `headers`, lowercased, in order (the draft's default is `date` alone).
    pub headers: Vec<String>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Reads a `Signature` header: comma-separated `name="value"` pairs (numbers may be bare).
pub fn parse(header: &str) -> Result<SignatureHeader, String> {
    let mut params = BTreeMap::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("expected name=value at {rest:?}"))?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("{name:?} is not a parameter name"));
        }
        let after = after.trim_start();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| format!("the value of {name} is not closed"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            let value = after[..end].trim();
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(format!("the value of {name} must be quoted"));
            }
            (value, &after[end..])
        };
        if params.insert(name.to_ascii_lowercase(), value).is_some() {
            return Err(format!("{name} is given twice"));
        }
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if after.is_empty() => after,
            None => return Err(format!("expected a comma at {after:?}")),
        };
    }
    let key_id = params
        .get("keyid")
        .filter(|k| !k.is_empty())
        .ok_or("keyId is missing")?;
    url::Url::parse(key_id).map_err(|e| format!("keyId is not a URL: {e}"))?;
    let encoded = params.get("signature").ok_or("signature is missing")?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("signature is not base64: {e}"))?;
    // RSA keys in use are 1024 to 8192 bits; anything else cannot verify.
    if !(128..=1024).contains(&signature.len()) {
        return Err(format!(
            "a signature of {} bytes cannot be an RSA signature",
            signature.len()
        ));
    }
    let headers = params
        .get("headers")
        .map_or("date", |h| h)
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    Ok(SignatureHeader {
        key_id: key_id.to_string(),
        headers,
        signature,
    })
}

/// Checks an inbox request's signature header and date, before anything is fetched for it.
pub fn check(headers: &HeaderMap, now: DateTime<Utc>) -> Result<SignatureHeader, FederationError> {
    let raw = headers
        .get("signature")
        .ok_or_else(|| unauthorized("signature_missing", "the request is not signed"))?;
    let raw = raw
        .to_str()
        .map_err(|_| unauthorized("signature_malformed", "the Signature header is not text"))?;
    let signature = parse(raw).map_err(|why| {
        unauthorized(
            "signature_malformed",
            format!("the Signature header cannot be read: {why}"),
        )
    })?;
    if let Some(missing) = REQUIRED
        .iter()
        .find(|r| !signature.headers.iter().any(|h| h == *r))
    {
        return Err(unauthorized(
            "signature_headers",
            format!(
                "the signature must cover (request-target), host, date and digest; {missing} is \
                 not signed"
            ),
        ));
    }
    for name in &signature.headers {
        // Pseudo-headers come from the request line or the signature itself; `host` may be
        // supplied from our own domain when a proxy drops it.
        if name.starts_with('(') || name == "host" {
            continue;
        }
        if !headers.contains_key(name.as_str()) {
            return Err(unauthorized(
                "signature_headers",
                format!("the signed header {name} is not in the request"),
            ));
        }
    }
    let date = headers
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok())
        .ok_or_else(|| unauthorized("signature_date", "the Date header is missing or unreadable"))?
        .with_timezone(&Utc);
    if date < now - MAX_AGE {
        return Err(unauthorized(
            "signature_date",
            format!("the request is dated {date}, more than an hour ago"),
        ));
    }
    if date > now + MAX_AHEAD {
        return Err(unauthorized(
            "signature_date",
            format!("the request is dated {date}, more than an hour ahead of our clock"),
        ));
    }
    Ok(signature)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn sig(bytes: usize) -> String {
        base64::engine::general_purpose::STANDARD.encode(vec![7u8; bytes])
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn code(e: FederationError) -> (u16, &'static str) {
        let (status, code, _) = e.parts();
        (status, code)
    }

    #[test]
    fn mastodon_style_headers_parse() {
        let header = format!(
            "keyId=\"https://a.example/users/x#main-key\",algorithm=\"rsa-sha256\",\
             headers=\"(request-target) host date digest content-type\",signature=\"{}\"",
            sig(256)
        );
        let parsed = parse(&header).unwrap();
        assert_eq!(parsed.key_id, "https://a.example/users/x#main-key");
        assert_eq!(
            parsed.headers,
            ["(request-target)", "host", "date", "digest", "content-type"]
        );
        assert_eq!(parsed.signature.len(), 256);
        // hs2019 with (created) as a bare number, spaces after commas.
        let header = format!(
            "keyId=\"https://a.example/k\", algorithm=\"hs2019\", created=1700000000, \
             headers=\"(request-target) host date digest\", signature=\"{}\"",
            sig(512)
        );
        assert!(parse(&header).is_ok());
    }

    #[test]
    fn garbled_headers_are_refused() {
        for bad in [
            String::new(),
            "garbage".into(),
            "keyId=\"https://a.example/k\"".into(),
            format!("signature=\"{}\"", sig(256)),
            format!("keyId=\"not a url\",signature=\"{}\"", sig(256)),
            "keyId=\"https://a.example/k\",signature=\"!!!not base64!!!\"".into(),
            format!("keyId=\"https://a.example/k\",signature=\"{}\"", sig(20)),
            format!("keyId=\"https://a.example/k\",signature=\"{}", sig(256)),
            format!("keyId=https://a.example/k,signature=\"{}\"", sig(256)),
            format!(
                "keyId=\"https://a.example/k\",keyId=\"https://b.example/k\",signature=\"{}\"",
                sig(256)
            ),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_must_sign_what_matters_and_be_fresh() {
        let now = Utc::now();
        let date = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let full = format!(
            "keyId=\"https://a.example/k\",headers=\"(request-target) host date digest\",signature=\"{}\"",
            sig(256)
        );
        let ok = headers(&[
            ("signature", &full),
            ("date", &date),
            ("digest", "SHA-256=x"),
        ]);
        assert!(check(&ok, now).is_ok());

        assert_eq!(
            code(check(&headers(&[("date", &date)]), now).unwrap_err()),
            (401, "signature_missing")
        );
        let without_digest = format!(
            "keyId=\"https://a.example/k\",headers=\"(request-target) host date\",signature=\"{}\"",
            sig(256)
        );
        assert_eq!(
            code(
                check(
                    &headers(&[("signature", &without_digest), ("date", &date)]),
                    now
                )
                .unwrap_err()
            ),
            (401, "signature_headers")
        );
        let default_headers = format!("keyId=\"https://a.example/k\",signature=\"{}\"", sig(256));
        assert_eq!(
            code(
                check(
                    &headers(&[("signature", &default_headers), ("date", &date)]),
                    now
                )
                .unwrap_err()
            ),
            (401, "signature_headers")
        );
        // Signed but absent.
        assert_eq!(
            code(check(&headers(&[("signature", &full), ("date", &date)]), now).unwrap_err()),
            (401, "signature_headers")
        );
        for (offset, fresh) in [
            (TimeDelta::minutes(-50), true),
            (TimeDelta::minutes(-70), false),
            (TimeDelta::minutes(50), true),
            (TimeDelta::minutes(70), false),
            (TimeDelta::days(365), false),
        ] {
            let date = (now + offset)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            let result = check(
                &headers(&[
                    ("signature", &full),
                    ("date", &date),
                    ("digest", "SHA-256=x"),
                ]),
                now,
            );
            assert_eq!(result.is_ok(), fresh, "{offset}");
            if let Err(e) = result {
                assert_eq!(code(e), (401, "signature_date"));
            }
        }
        assert_eq!(
            code(
                check(
                    &headers(&[("signature", &full), ("date", "yesterday"), ("digest", "x")]),
                    now
                )
                .unwrap_err()
            ),
            (401, "signature_date")
        );
    }

    #[test]
    fn inboxes_take_the_three_json_types_only() {
        for ok in [
            "application/activity+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "application/json; charset=utf-8",
            "Application/Activity+JSON",
        ] {
            assert!(
                check_content_type(&headers(&[("content-type", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            let e = check_content_type(&headers(&[("content-type", bad)])).unwrap_err();
            assert_eq!(code(e), (415, "unsupported_media_type"));
        }
        let e = check_content_type(&HeaderMap::new()).unwrap_err();
        assert_eq!(code(e), (415, "unsupported_media_type"));
    }
}

/// The RSA check itself, for both kinds of key, and the digest check.
#[cfg(test)]
mod verifying {
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

#[cfg(test)]
mod properties {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    /// Signature headers made of the pieces real ones have, in any order and amount.
    fn header_like() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("keyId=\"https://a.example/u/x#main-key\"".to_string()),
                Just("algorithm=\"rsa-sha256\"".to_string()),
                Just("algorithm=\"hs2019\"".to_string()),
                Just("headers=\"(request-target) host date digest\"".to_string()),
                Just("headers=\"\"".to_string()),
                Just("created=1700000000".to_string()),
                "signature=\"[A-Za-z0-9+/=]{0,400}\"",
                "[a-zA-Z]{1,8}=\"[^\"]{0,20}\"",
                Just(",".to_string()),
                Just("=".to_string()),
                Just("\"".to_string()),
                Just(" ".to_string()),
                "\\PC{0,10}",
            ],
            0..10,
        )
        .prop_map(|parts| parts.join(","))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(500),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_signature_header_is_read_or_refused_with_401(header in header_like(), date in "\\PC{0,40}") {
            let _ = parse(&header);
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&header) {
                headers.insert(HeaderName::from_static("signature"), value);
            }
            if let Ok(value) = HeaderValue::from_str(&date) {
                headers.insert(DATE, value);
            }
            if let Err(e) = check(&headers, Utc::now()) {
                let (status, code, _) = e.parts();
                prop_assert_eq!(status, 401);
                prop_assert!(code.starts_with("signature_"));
            }
        }

        #[test]
        fn well_formed_headers_read_back(bytes in 128usize..=1024, key in "[a-z]{1,12}") {
            let signature = base64::engine::general_purpose::STANDARD.encode(vec![1u8; bytes]);
            let header = format!(
                "keyId=\"https://{key}.example/actor#main-key\",headers=\"(request-target) host date digest\",signature=\"{signature}\""
            );
            let parsed = parse(&header).unwrap();
            prop_assert_eq!(parsed.signature.len(), bytes);
            prop_assert_eq!(parsed.headers.len(), 4);
        }
    }
}
