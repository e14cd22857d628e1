//! The organisation a person belongs to. Optional.

use std::fmt;

use serde::Serialize;

use super::non_blank;
use super::text::{TextError, bounded_text};

/// An organisation's name: 1 to [`Organisation::MAX_CHARS`] characters after
/// trimming, with no control (`Cc`) or format (`Cf`) characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Organisation(String);

impl Organisation {
    /// The most characters (not bytes) an organisation name may have.
    pub const MAX_CHARS: usize = 200;

    /// Trims `raw` and checks it. Blank input is [`TextError::Required`]; use
    /// [`Organisation::parse_optional`] for the form field, where blank means
    /// "not given".
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        bounded_text(raw, Self::MAX_CHARS).map(|s| Self(s.to_owned()))
    }

    /// The optional field: missing or blank is `Ok(None)`.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, TextError> {
        non_blank(raw).map(Self::parse).transpose()
    }

    /// The trimmed organisation name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Organisation {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::strategies::{any_text, cc_or_cf, plain_char};
    use super::*;
    use proptest::prelude::*;

    fn text(r: Result<Option<Organisation>, TextError>) -> Result<Option<String>, TextError> {
        r.map(|o| o.map(|o| o.0))
    }

    #[test]
    fn blank_or_missing_is_absent() {
        for raw in [None, Some(""), Some("   "), Some("\t\r\n")] {
            assert_eq!(Organisation::parse_optional(raw), Ok(None), "{raw:?}");
        }
        assert_eq!(Organisation::parse(" "), Err(TextError::Required));
    }

    #[test]
    fn accepts_and_trims() {
        assert_eq!(
            text(Organisation::parse_optional(Some("  Te Whatu Ora "))),
            Ok(Some("Te Whatu Ora".into()))
        );
        assert_eq!(
            Organisation::parse("CSIRO").map(|o| o.to_string()),
            Ok("CSIRO".into())
        );
    }

    #[test]
    fn length_boundary_is_200_characters() {
        assert!(Organisation::parse(&"o".repeat(200)).is_ok());
        assert_eq!(
            Organisation::parse(&"o".repeat(201)),
            Err(TextError::TooLong { max: 200 })
        );
        assert!(Organisation::parse(&"ö".repeat(200)).is_ok());
        assert!(Organisation::parse_optional(Some(&"ö".repeat(201))).is_err());
    }

    #[test]
    fn rejects_control_and_format_characters() {
        for raw in [
            "Acme\u{200B}Ltd",
            "Acme\u{0007}",
            "\u{0000}Acme",
            "Ac\u{2066}me",
        ] {
            assert_eq!(
                Organisation::parse_optional(Some(raw)),
                Err(TextError::ControlOrFormat),
                "{raw:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any_text(220)) {
            let _ = Organisation::parse_optional(Some(&raw));
        }

        #[test]
        fn parsed_organisation_round_trips(raw in any_text(220)) {
            if let Ok(Some(org)) = Organisation::parse_optional(Some(&raw)) {
                prop_assert_eq!(Organisation::parse(org.as_str()), Ok(org.clone()));
                prop_assert_eq!(org.as_str(), raw.trim());
            } else if raw.trim().is_empty() {
                prop_assert_eq!(Organisation::parse_optional(Some(&raw)), Ok(None));
            }
        }

        #[test]
        fn any_cc_or_cf_inside_is_rejected(
            before in any_text(100), bad in cc_or_cf(), after in any_text(100)
        ) {
            let raw = format!("a{before}{bad}{after}z");
            prop_assert_eq!(Organisation::parse(&raw), Err(TextError::ControlOrFormat));
        }

        #[test]
        fn accepted_iff_at_most_200_characters(c in plain_char(), n in 1usize..=400) {
            let raw: String = std::iter::repeat_n(c, n).collect();
            let parsed = text(Organisation::parse_optional(Some(&raw)));
            if n <= Organisation::MAX_CHARS {
                prop_assert_eq!(parsed, Ok(Some(raw)));
            } else {
                prop_assert_eq!(parsed, Err(TextError::TooLong { max: 200 }));
            }
        }
    }
}
