//! Everything derived from `server.secret_key`: link tokens, 6-digit codes, signed
//! cookie values, CSRF tokens and suppression hashes. Tokens are never stored: a
//! token row keeps only SHA-256(token), and codes are re-derived to be checked.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
        let mut mac = HmacSha256::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!());
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The link token for a token row: HMAC(secret, purpose ‖ id), base64url, 43 chars.
    pub fn token(&self, purpose: TokenPurpose, token_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(&[purpose.as_str().as_bytes(), token_id.as_bytes()]))
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
