//! What an inbox request must show before anything is fetched for it: a JSON content type and an
//! HTTP signature (draft-cavage-http-signatures-12, as the fediverse uses it) that is well formed,
//! signs what matters and is fresh. The cryptographic check itself is the
//! [`super::verification`]'s, against the key of the activity's actor; this module only
//! refuses, cheaply and with a stable code, what could never pass it, so that an unsigned or
//! garbled request costs us no fetch of the actor it names.
//!
//! Each refusal is a 401 (415 for the content type) with its own code:
//! `signature_missing`, `signature_malformed`, `signature_headers` (a required header is not
//! signed, or a signed one is absent), `signature_date` (no usable `Date`, or one outside the
//! window) and `invalid_signature` (the crate's verdict, see [`super::handlers::inbox`]).

use std::collections::BTreeMap;

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
