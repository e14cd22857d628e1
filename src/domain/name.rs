//! A person's name, as they want to be addressed.

use std::fmt;

use serde::Serialize;

use super::text::{TextError, bounded_text};

/// A person's name: 1 to [`PersonName::MAX_CHARS`] characters after trimming,
/// with no control (`Cc`) or format (`Cf`) characters. Required.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    /// The most characters (not bytes) a name may have.
    pub const MAX_CHARS: usize = 100;

    /// Trims `raw` and checks it. Blank input is [`TextError::Required`].
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        bounded_text(raw, Self::MAX_CHARS).map(|s| Self(s.to_owned()))
    }

    /// The trimmed name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::strategies::{any_text, cc_or_cf, plain_char};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_names_and_trims() {
        assert_eq!(
            PersonName::parse("Ada Lovelace").map(|n| n.0),
            Ok("Ada Lovelace".into())
        );
        assert_eq!(
            PersonName::parse("  Māui \n").map(|n| n.0),
            Ok("Māui".into())
        );
        assert_eq!(
            PersonName::parse("李小龍").map(|n| n.0),
            Ok("李小龍".into())
        );
        assert_eq!(PersonName::parse("X").map(|n| n.0), Ok("X".into()));
    }

    #[test]
    fn blank_is_required() {
        for raw in ["", " ", "\t\n", "\u{3000}"] {
            assert_eq!(PersonName::parse(raw), Err(TextError::Required), "{raw:?}");
        }
    }

    #[test]
    fn length_boundary_is_100_characters() {
        assert!(PersonName::parse(&"a".repeat(100)).is_ok());
        assert_eq!(
            PersonName::parse(&"a".repeat(101)),
            Err(TextError::TooLong { max: 100 })
        );
        // Counted in characters: 100 two-byte characters are fine.
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert!(PersonName::parse(&"é".repeat(101)).is_err());
        // Surrounding white space does not count.
        assert!(PersonName::parse(&format!("  {}  ", "a".repeat(100))).is_ok());
    }

    #[test]
    fn rejects_control_and_format_characters() {
        for raw in [
            "Ada\u{200B}Lovelace",
            "Ada\u{0007}",
            "\u{202E}Ada",
            "A\u{feff}da",
        ] {
            assert_eq!(
                PersonName::parse(raw),
                Err(TextError::ControlOrFormat),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn shows_and_serialises_as_the_trimmed_text() {
        let name = PersonName::parse(" Ada ").map_err(|e| e.to_string());
        let Ok(name) = name else { panic!("{name:?}") };
        assert_eq!(name.to_string(), "Ada");
        assert_eq!(name.as_ref(), "Ada");
        assert_eq!(
            serde_json::to_string(&name).ok().as_deref(),
            Some("\"Ada\"")
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any_text(120)) {
            let _ = PersonName::parse(&raw);
        }

        #[test]
        fn parsed_name_round_trips(raw in any_text(120)) {
            if let Ok(name) = PersonName::parse(&raw) {
                prop_assert_eq!(PersonName::parse(name.as_str()), Ok(name.clone()));
                prop_assert_eq!(name.as_str(), raw.trim());
            }
        }

        #[test]
        fn any_cc_or_cf_inside_is_rejected(
            before in any_text(60), bad in cc_or_cf(), after in any_text(60)
        ) {
            let raw = format!("a{before}{bad}{after}z");
            prop_assert_eq!(PersonName::parse(&raw), Err(TextError::ControlOrFormat));
        }

        #[test]
        fn accepted_iff_at_most_100_characters(c in plain_char(), n in 1usize..=200) {
            let raw: String = std::iter::repeat_n(c, n).collect();
            let parsed = PersonName::parse(&raw);
            if n <= PersonName::MAX_CHARS {
                prop_assert_eq!(parsed.map(|p| p.0), Ok(raw));
            } else {
                prop_assert_eq!(parsed, Err(TextError::TooLong { max: 100 }));
            }
        }
    }
}
