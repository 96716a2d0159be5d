//! Random tokens (sessions, API, CSRF) and the digests stored in their place; links signed
//! with a key of the site's (unsubscribing, stopping watching).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits from the thread-local CSPRNG (seeded from the OS), URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 digest of a token, as stored in the database.
pub fn digest(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Masks a token for one page: a fresh random pad, then the token XOR the pad. Every page shows
/// different bytes for the same token, so compressing a page next to reflected input reveals
/// nothing about it (the BREACH attack).
pub fn mask(token: &str) -> String {
    let Ok(raw) = URL_SAFE_NO_PAD.decode(token) else {
        return String::new();
    };
    let mut pad = vec![0u8; raw.len()];
    rand::rng().fill_bytes(&mut pad);
    let mut out = pad.clone();
    out.extend(raw.iter().zip(&pad).map(|(t, p)| t ^ p));
    URL_SAFE_NO_PAD.encode(out)
}

/// The token behind a masked value, if it is well formed.
pub fn unmask(masked: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(masked.trim()).ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (pad, xored) = bytes.split_at(bytes.len() / 2);
    let raw: Vec<u8> = xored.iter().zip(pad).map(|(x, p)| x ^ p).collect();
    Some(URL_SAFE_NO_PAD.encode(raw))
}

type HmacSha256 = hmac::Hmac<Sha256>;

fn mac(key: &[u8], text: &str) -> HmacSha256 {
    use hmac::Mac;
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(text.as_bytes());
    mac
}

/// A link token saying `purpose` for person `user` (and `subject`, a thread say) until `until`,
/// signed with `key` (HMAC-SHA256): `user.subject.until.signature`, URL-safe.
pub fn sign(
    key: &[u8],
    purpose: &str,
    user: i64,
    subject: i64,
    until: chrono::NaiveDateTime,
) -> String {
    use hmac::Mac;
    let body = format!("{user}.{subject}.{}", until.and_utc().timestamp());
    let tag = mac(key, &format!("{purpose}.{body}"))
        .finalize()
        .into_bytes();
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The person and subject of a token [`sign`] made for `purpose` with `key`, if its signature
/// checks out and it has not ended by `now`.
pub fn check(
    key: &[u8],
    purpose: &str,
    token: &str,
    now: chrono::NaiveDateTime,
) -> Option<(i64, i64)> {
    use hmac::Mac;
    let (body, tag) = token.trim().rsplit_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(key, &format!("{purpose}.{body}"))
        .verify_slice(&tag)
        .ok()?;
    let mut parts = body.split('.');
    let user = parts.next()?.parse().ok()?;
    let subject = parts.next()?.parse().ok()?;
    let until: i64 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && until > now.and_utc().timestamp()).then_some((user, subject))
}

/// Compares two secrets in time that depends only on their length.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_check_out_only_as_made_and_until_they_end() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let later = now + chrono::Duration::days(1);
        let token = sign(b"key", "unsubscribe", 7, 0, later);
        assert_eq!(check(b"key", "unsubscribe", &token, now), Some((7, 0)));
        // Another purpose, another key, a changed person, or past its end: no.
        assert_eq!(check(b"key", "unwatch", &token, now), None);
        assert_eq!(check(b"other", "unsubscribe", &token, now), None);
        assert_eq!(
            check(b"key", "unsubscribe", &token.replacen('7', "8", 1), now),
            None
        );
        assert_eq!(check(b"key", "unsubscribe", &token, later), None);
        assert_eq!(check(b"key", "unsubscribe", "7.0.1", now), None);
        assert_eq!(check(b"key", "unsubscribe", "", now), None);
    }

    #[test]
    fn tokens_are_long_random_and_digest_stably() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), a);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &new_token()));
        assert!(!constant_time_eq("ab", "abc"));
    }

    #[test]
    fn masked_tokens_differ_every_time_and_unmask_to_the_token() {
        let t = new_token();
        let (a, b) = (mask(&t), mask(&t));
        assert_ne!(a, b);
        assert_eq!(unmask(&a).as_deref(), Some(t.as_str()));
        assert_eq!(unmask(&b).as_deref(), Some(t.as_str()));
        assert_eq!(unmask("not base64!"), None);
        assert_eq!(unmask(""), None);
        assert_ne!(unmask(&mask(&new_token())).as_deref(), Some(t.as_str()));
    }
}
