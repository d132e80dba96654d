//! Random tokens, password hashing and hashes of secrets; constant-time comparison.

mod argon2_memory;

use std::sync::LazyLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// `bytes` random bytes, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    hex(&(0..bytes)
        .map(|_| rand::random::<u8>())
        .collect::<Vec<u8>>())
}

/// SHA-256 of a secret, hex-encoded: what the store keeps instead of tokens.
pub fn sha256_hex(secret: &str) -> String {
    sha256_hex_bytes(secret.as_bytes())
}

/// SHA-256 of raw bytes, hex-encoded.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Whether `signature_hex` is the HMAC-SHA256 of `message` under `key`, compared in constant
/// time. Hex case is ignored; anything that is not 64 hex digits is simply a mismatch.
pub fn verify_hmac_sha256_hex(key: &[u8], message: &[u8], signature_hex: &str) -> bool {
    let Some(expected) = decode_hex(signature_hex) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

/// HMAC-SHA256 under one key, keyed once and reused for many messages.
#[derive(Clone)]
pub struct Keyed(Hmac<Sha256>);

impl Keyed {
    pub fn new(key: &[u8]) -> Keyed {
        Keyed(Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    /// The first `bytes` bytes of the MAC of `message`, hex-encoded.
    pub fn hex_prefix(&self, message: &[u8], bytes: usize) -> String {
        let mut mac = self.0.clone();
        mac.update(message);
        let tag = mac.finalize().into_bytes();
        hex(&tag[..bytes.min(tag.len())])
    }
}

/// HMAC-SHA256 of `message` under `key`, hex-encoded (what providers put in signature headers).
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// Whether two byte strings are equal, compared in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Whether `secret` hashes to `expected_sha256`, compared in constant time.
pub fn matches_sha256(secret: &str, expected_sha256: &str) -> bool {
    bool::from(
        sha256_hex(secret)
            .as_bytes()
            .ct_eq(expected_sha256.as_bytes()),
    )
}

/// The password hash: argon2id with m = 19 MiB, t = 2, p = 1, the first of the parameter sets
/// OWASP's Password Storage Cheat Sheet recommends (equivalent in strength to its others, such
/// as 46 MiB with t = 1 or 7 MiB with t = 5). It takes about 30 ms of one core here, costly for
/// an offline guesser yet cheap for the host's few logins; its 19 MiB per run is why logins
/// run a few at a time (`admin.login_concurrency`) with the memory mapped per run and given
/// back after it. Stored hashes carry their own parameters, so changing these later still
/// verifies older hashes.
fn argon2_params() -> argon2::Params {
    argon2::Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

/// An argon2id PHC hash of `password`.
pub fn hash_password(password: &str) -> String {
    argon2_memory::hash(password.as_bytes(), argon2_params())
        .expect("argon2 hashes any password when 19 MiB can be mapped")
}

/// A hash no password matches, with the same parameters as real ones: unknown users are
/// checked against it, so they take the same time and memory as known ones.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password(&random_hex(32)));

/// Computes the dummy hash now (at start), so the first unknown login is not slower.
pub fn prepare_dummy_hash() {
    LazyLock::force(&DUMMY_HASH);
}

/// Verifies `password` against a PHC hash, or against a dummy one when there is no user.
/// Slow by design (one argon2 run, 19 MiB): call it off the async runtime, a few at a time.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let phc = hash.unwrap_or(&DUMMY_HASH);
    let ok = argon2_memory::verify(password.as_bytes(), phc);
    ok && hash.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_keyed_macs_match_the_one_shot_forms() {
        assert_eq!(hex(&[0x00, 0xab, 0xff, 0x10]), "00abff10");
        let keyed = Keyed::new(b"key");
        let full = hmac_sha256_hex(b"key", b"RES123");
        assert_eq!(keyed.hex_prefix(b"RES123", 32), full);
        assert_eq!(keyed.hex_prefix(b"RES123", 16), full[..32]);
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse");
        assert!(verify_password("correct horse", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("correct horse", None));
    }

    #[test]
    fn tokens_are_random_and_hashes_compare() {
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(random_hex(16).len(), 32);
        assert!(matches_sha256("abc", &sha256_hex("abc")));
        assert!(!matches_sha256("abd", &sha256_hex("abc")));
    }

    #[test]
    fn hmac_matches_rfc4231_and_rejects_malformed_hex() {
        let key = [0x0b_u8; 20];
        let expected = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
        assert_eq!(hmac_sha256_hex(&key, b"Hi There"), expected);
        assert!(verify_hmac_sha256_hex(&key, b"Hi There", expected));
        assert!(verify_hmac_sha256_hex(
            &key,
            b"Hi There",
            &expected.to_uppercase()
        ));
        assert!(!verify_hmac_sha256_hex(&key, b"Hi there", expected));
        assert!(!verify_hmac_sha256_hex(&key, b"Hi There", &expected[..63]));
        assert!(!verify_hmac_sha256_hex(&key, b"Hi There", "zz"));
        assert!(!verify_hmac_sha256_hex(&key, b"Hi There", "ñ"));
    }
}
