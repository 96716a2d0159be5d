//! Random tokens (sessions, API, CSRF) and the digests stored in their place.

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

/// Compares two secrets in time that depends only on their length.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

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
