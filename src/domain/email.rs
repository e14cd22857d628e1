//! Email addresses: kept as typed for sending, keyed for identity.

use std::fmt;

use serde::{Serialize, Serializer};
use validator::ValidateEmail;

/// Why an email address was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but white space was given.
    #[error("required")]
    Required,
    /// The address is longer than [`EmailAddress::MAX_BYTES`].
    #[error("an email address can be at most 254 characters long")]
    TooLong,
    /// The part before the `@` is longer than [`EmailAddress::MAX_LOCAL_BYTES`].
    #[error("the part before the @ can be at most 64 characters long")]
    LocalPartTooLong,
    /// The domain is an IP literal such as `[127.0.0.1]`, or a dotted IP
    /// address such as `1.2.3.4` (a numeric top-level label).
    #[error("use a domain name after the @, not an IP address")]
    IpLiteral,
    /// The domain has no dot, such as `localhost`.
    #[error("the part after the @ needs a dot, like example.org")]
    NoDotInDomain,
    /// Anything else `validator`'s email rule or IDNA conversion rejects.
    #[error("enter a valid email address, like name@example.org")]
    Invalid,
}

/// A checked email address, kept as typed (trimmed) for sending mail, with
/// its key: trimmed, lower-cased, the domain in IDNA ASCII form. Two addresses
/// with the same key reach the same person, so the key is what to look up,
/// store uniquely and de-duplicate on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    address: String,
    key: String,
}

impl EmailAddress {
    /// The most bytes a whole address may have.
    pub const MAX_BYTES: usize = 254;
    /// The most bytes the part before the `@` may have.
    pub const MAX_LOCAL_BYTES: usize = 64;

    /// Trims `raw` and checks it: `validator`'s email rule, at most 254 bytes,
    /// a local part of at most 64 bytes, a domain with a dot that is not an IP
    /// address (bracketed or dotted) and that converts to IDNA ASCII. The
    /// first problem found is returned.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let address = raw.trim();
        if address.is_empty() {
            return Err(EmailError::Required);
        }
        if address.len() > Self::MAX_BYTES {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err(EmailError::Invalid);
        };
        if local.len() > Self::MAX_LOCAL_BYTES {
            return Err(EmailError::LocalPartTooLong);
        }
        if domain.contains(['[', ']']) {
            return Err(EmailError::IpLiteral);
        }
        if !address.validate_email() {
            return Err(EmailError::Invalid);
        }
        let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| EmailError::Invalid)?;
        if !domain.contains('.') || !ascii_domain.contains('.') {
            return Err(EmailError::NoDotInDomain);
        }
        // A numeric top-level label means a dotted IP address such as 1.2.3.4.
        let tld = ascii_domain.rsplit('.').next().unwrap_or_default();
        if tld.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EmailError::IpLiteral);
        }
        let key = format!("{}@{}", local.to_lowercase(), ascii_domain.to_lowercase());
        Ok(Self {
            address: address.to_owned(),
            key,
        })
    }

    /// The address as typed (trimmed): use it to send mail.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The identity of this address, e.g. `a@xn--bcher-kva.example` for
    /// `A@Bücher.Example`: the `email_key` column.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A form safe to log, like `j***@e***.org`: the first character of the
    /// local part and of the first domain label, and the top-level domain,
    /// taken from the key (so the domain part is ASCII).
    pub fn mask(&self) -> String {
        let (local, domain) = self.key.rsplit_once('@').unwrap_or(("", &self.key));
        let first_local = local.chars().next().unwrap_or('*');
        let first_domain = domain.chars().next().unwrap_or('*');
        let tld = domain.rsplit('.').next().unwrap_or("");
        format!("{first_local}***@{first_domain}***.{tld}")
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.address
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.address)
    }
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
