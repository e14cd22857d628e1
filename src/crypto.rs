//! Everything derived from `server.secret_key`: link tokens, 6-digit codes, signed
//! cookie values, CSRF tokens and suppression hashes. Tokens are never stored: a
//! token row keeps only SHA-256(token), and codes are re-derived to be checked.
//! The `rollcall_signup` cookie is sealed (XChaCha20-Poly1305, key derived from
//! the secret): a random nonce and the typed address padded to a fixed length,
//! so its value has one length and shape whatever the address's state.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::KeyInit as _;
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// What a link token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Confirm,
    Unsubscribe,
    Manage,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Confirm => "confirm",
            TokenPurpose::Unsubscribe => "unsubscribe",
            TokenPurpose::Manage => "manage",
        }
    }
}

/// Test sends' unsubscribe tokens start with this (a real token never does:
/// it is base64url without dots).
const TEST_TOKEN_PREFIX: &str = "test.";

/// The HMAC key and everything derived from it.
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!());
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The link token for a token row: HMAC(secret, purpose ‖ id), base64url, 43 chars.
    pub fn token(&self, purpose: TokenPurpose, token_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(&[purpose.as_str().as_bytes(), token_id.as_bytes()]))
    }

    /// The unsubscribe token of a test send (outbox row `id`): it names no
    /// registration, so its link and one-click POST unsubscribe nobody.
    pub fn test_unsubscribe_token(&self, outbox_id: &str) -> String {
        let mac = self.mac(&[b"test-unsubscribe", outbox_id.as_bytes()]);
        format!(
            "{TEST_TOKEN_PREFIX}{outbox_id}.{}",
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// Whether `token` is a test send's unsubscribe token made with this key.
    pub fn is_test_unsubscribe_token(&self, token: &str) -> bool {
        let Some((outbox_id, _)) = token
            .strip_prefix(TEST_TOKEN_PREFIX)
            .and_then(|rest| rest.split_once('.'))
        else {
            return false;
        };
        let expected = self.test_unsubscribe_token(outbox_id);
        expected.len() == token.len() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    /// The MAC that signs a bounce tag's outbox id.
    pub fn bounce_tag_mac(&self, outbox_id: &[u8]) -> [u8; 32] {
        self.mac(&[b"bounce-tag", outbox_id])
    }

    /// The 6-digit code that goes with a confirmation token row.
    pub fn code(&self, token_id: &str) -> String {
        let mac = self.mac(&[b"code", token_id.as_bytes()]);
        let mut head = [0u8; 8];
        head.copy_from_slice(&mac[..8]);
        format!("{:06}", u64::from_be_bytes(head) % 1_000_000)
    }

    /// Compares a typed code with the derived one in constant time.
    pub fn code_matches(&self, token_id: &str, typed: &str) -> bool {
        let expected = self.code(token_id);
        typed.len() == expected.len() && bool::from(expected.as_bytes().ct_eq(typed.as_bytes()))
    }

    /// The keyed hash kept for an erased person, so import can skip them.
    pub fn suppression_hash(&self, email_key: &str) -> String {
        hex(&self.mac(&[b"suppress", email_key.as_bytes()]))
    }

    /// A MAC over a labelled value, for cookies and CSRF tokens.
    pub fn sign(&self, label: &str, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(&[label.as_bytes(), b"\0", value.as_bytes()]))
    }

    /// Checks a signature made by [`Keys::sign`] in constant time.
    pub fn verify(&self, label: &str, value: &str, signature: &str) -> bool {
        let expected = self.sign(label, value);
        expected.len() == signature.len()
            && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    }
}

/// The longest address a signup cookie holds: an email address's maximum.
pub const SEALED_ADDRESS_BYTES: usize = 254;
const SEAL_NONCE_BYTES: usize = 24;

/// What a `rollcall_signup` cookie holds once opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupSeal {
    /// The random AEAD nonce: it names this cookie (its wrong-code counter).
    pub nonce: [u8; SEAL_NONCE_BYTES],
    /// When it was issued (Unix seconds), so a kept cookie still expires.
    pub issued_at: i64,
    /// The address as typed (cut to [`SEALED_ADDRESS_BYTES`] on a char boundary).
    pub address: String,
}

impl SignupSeal {
    /// A stable, unreadable name for this cookie's server-side counter.
    pub fn counter_key(&self, keys: &Keys) -> String {
        hex(&keys.mac(&[b"code-attempts", &self.nonce]))
    }
}

impl Keys {
    fn seal_cipher(&self) -> XChaCha20Poly1305 {
        let key = self.mac(&[b"signup-cookie-seal"]);
        XChaCha20Poly1305::new(&key.into())
    }

    /// Seals the typed address with a fresh random nonce: base64url of
    /// nonce ‖ ciphertext(issue time ‖ length byte ‖ address padded with zeros
    /// to 254 bytes) ‖ tag.
    pub fn seal_signup(&self, typed_address: &str, issued_at: i64) -> String {
        let address = cut_at_char_boundary(typed_address, SEALED_ADDRESS_BYTES);
        let mut plain = [0u8; 8 + 1 + SEALED_ADDRESS_BYTES];
        plain[..8].copy_from_slice(&issued_at.to_be_bytes());
        // `address` is at most 254 bytes, so its length fits the byte.
        plain[8] = u8::try_from(address.len()).unwrap_or(u8::MAX);
        plain[9..9 + address.len()].copy_from_slice(address.as_bytes());
        let mut nonce = [0u8; SEAL_NONCE_BYTES];
        getrandom::fill(&mut nonce).unwrap_or_else(|e| panic!("no OS randomness: {e}"));
        // Encrypting a buffer in memory cannot fail for this cipher and length.
        let sealed = self
            .seal_cipher()
            .encrypt(XNonce::from_slice(&nonce), plain.as_slice())
            .unwrap_or_else(|_| unreachable!());
        let mut value = nonce.to_vec();
        value.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(value)
    }

    /// Opens a value made by [`Keys::seal_signup`]; `None` if it was not made with this key.
    pub fn open_signup(&self, value: &str) -> Option<SignupSeal> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() <= SEAL_NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(SEAL_NONCE_BYTES);
        let plain = self
            .seal_cipher()
            .decrypt(XNonce::from_slice(nonce), sealed)
            .ok()?;
        let issued_at = i64::from_be_bytes(plain.get(..8)?.try_into().ok()?);
        let length = usize::from(*plain.get(8)?);
        let address = String::from_utf8(plain.get(9..9 + length)?.to_vec()).ok()?;
        Some(SignupSeal {
            nonce: nonce.try_into().ok()?,
            issued_at,
            address,
        })
    }

    /// The keyed hash that names an address's request row (resend, manage).
    pub fn request_hash(&self, email_key: &str) -> String {
        hex(&self.mac(&[b"request", email_key.as_bytes()]))
    }
}

fn cut_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What the database keeps of a token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Random bytes, base64url-encoded, for session ids and CSRF seeds.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // getrandom only fails when the OS has no entropy source at all; without
    // one no secret in this process could be trusted, so stopping is right.
    getrandom::fill(&mut buf).unwrap_or_else(|e| panic!("no OS randomness: {e}"));
    URL_SAFE_NO_PAD.encode(buf)
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ_by_purpose() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let confirm = keys.token(TokenPurpose::Confirm, "id-1");
        assert_eq!(confirm.len(), 43);
        assert!(
            confirm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(confirm, keys.token(TokenPurpose::Unsubscribe, "id-1"));
        assert_ne!(confirm, keys.token(TokenPurpose::Confirm, "id-2"));
    }

    #[test]
    fn codes_are_six_digits_and_checked() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let code = keys.code("id-1");
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert!(keys.code_matches("id-1", &code));
        assert!(!keys.code_matches("id-2", &code) || keys.code("id-2") == code);
        assert!(!keys.code_matches("id-1", "12345"));
    }

    #[test]
    fn sealed_signup_values_have_one_length_and_open_only_with_their_key() {
        let keys = Keys::new(b"0123456789abcdef0123456789abcdef");
        let short = keys.seal_signup("a@b.nz", 1_800_000_000);
        let long = keys.seal_signup(&format!("{}@example.org", "x".repeat(60)), 7);
        assert_eq!(short.len(), long.len());
        assert_ne!(
            keys.seal_signup("a@b.nz", 1_800_000_000),
            short,
            "a fresh nonce every time"
        );
        let opened = keys.open_signup(&short).expect("opens");
        assert_eq!(opened.address, "a@b.nz");
        assert_eq!(opened.issued_at, 1_800_000_000);
        let other = Keys::new(b"fedcba9876543210fedcba9876543210");
        assert_eq!(other.open_signup(&short), None);
        let mut tampered = short.clone().into_bytes();
        tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            keys.open_signup(&String::from_utf8(tampered).unwrap()),
            None
        );
        assert_eq!(keys.open_signup("not-a-seal"), None);
        let too_long = "é".repeat(200);
        let cut = keys.open_signup(&keys.seal_signup(&too_long, 0)).unwrap();
        assert_eq!(cut.address.len(), 254);
    }

    #[test]
    fn test_send_tokens_are_recognised_only_with_their_key() {
        let keys = Keys::new(b"test-secret-key-that-is-long-enough");
        let token = keys.test_unsubscribe_token("0190-row");
        assert!(token.starts_with("test.0190-row."));
        assert!(keys.is_test_unsubscribe_token(&token));
        assert!(!keys.is_test_unsubscribe_token(&format!("{token}x")));
        assert!(!keys.is_test_unsubscribe_token("test.0190-row.forged"));
        let other = Keys::new(b"another-secret-key-that-is-long-enough");
        assert!(!other.is_test_unsubscribe_token(&token));
        assert!(
            !keys.is_test_unsubscribe_token(&keys.token(TokenPurpose::Unsubscribe, "0190-row"))
        );
    }

    #[test]
    fn another_secret_gives_other_tokens() {
        let a = Keys::new(b"0123456789abcdef0123456789abcdef");
        let b = Keys::new(b"fedcba9876543210fedcba9876543210");
        assert_ne!(
            a.token(TokenPurpose::Confirm, "x"),
            b.token(TokenPurpose::Confirm, "x")
        );
        assert!(a.verify("l", "v", &a.sign("l", "v")));
        assert!(!b.verify("l", "v", &a.sign("l", "v")));
    }
}
