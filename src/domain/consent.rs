//! Consent to be contacted: required, and must be given.

/// Why consent was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// Not given, or explicitly refused.
    #[error("required")]
    Required,
}

/// Proof that the person ticked the consent box (form: `yes`; JSON: `true`).
/// The edge decides what counts as `true`; a `Consent` exists only if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Consent(());

impl Consent {
    /// `Some(true)` is consent; `None` and `Some(false)` are
    /// [`ConsentError::Required`].
    pub fn parse(given: Option<bool>) -> Result<Self, ConsentError> {
        match given {
            Some(true) => Ok(Self(())),
            Some(false) | None => Err(ConsentError::Required),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_true_is_consent() {
        assert!(Consent::parse(Some(true)).is_ok());
        assert_eq!(Consent::parse(Some(false)), Err(ConsentError::Required));
        assert_eq!(Consent::parse(None), Err(ConsentError::Required));
        assert_eq!(ConsentError::Required.to_string(), "required");
    }
}
