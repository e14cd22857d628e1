//! Organiser passwords: argon2id with the crate's recommended parameters.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;

/// Accepted password lengths, in bytes.
pub const MIN_BYTES: usize = 12;
pub const MAX_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be {MIN_BYTES} to {MAX_BYTES} bytes long")]
    Length,
    #[error("the password could not be hashed")]
    Hash,
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    if !(MIN_BYTES..=MAX_BYTES).contains(&password.len()) {
        return Err(PasswordError::Length);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| PasswordError::Hash)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Checks a password against a stored hash. With no account (`None`) it checks
/// against a fixed hash anyway, so an unknown address takes as long as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let hash = stored.unwrap_or_else(|| dummy_hash());
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matched = password.len() <= MAX_BYTES
        && Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
    matched && stored.is_some()
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("no account has this password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_others_do_not() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("wrong horse battery", Some(&stored)));
        assert!(!verify("correct horse battery", None));
    }

    #[test]
    fn lengths_are_checked_in_bytes() {
        assert!(matches!(hash("short"), Err(PasswordError::Length)));
        assert!(hash(&"x".repeat(12)).is_ok());
        assert!(matches!(
            hash(&"x".repeat(1025)),
            Err(PasswordError::Length)
        ));
    }
}
