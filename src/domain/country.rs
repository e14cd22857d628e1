//! Countries, as ISO 3166-1 alpha-2 codes. Optional.

use std::fmt;

use serde::{Serialize, Serializer};

use super::country_list::COUNTRIES;
use super::non_blank;

/// Why a country code was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CountryError {
    /// Not two ASCII letters.
    #[error("use a two-letter country code such as AU or NZ")]
    NotACode,
    /// Two letters, but not an officially assigned code (such as `XK` or `UK`).
    #[error("unknown country code; use one such as AU or NZ")]
    Unknown,
}

/// An officially assigned ISO 3166-1 alpha-2 code, stored upper-case, with its
/// English short name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country {
    code: &'static str,
    name: &'static str,
}

impl Country {
    /// Trims `raw` and looks it up, ignoring case.
    pub fn parse(raw: &str) -> Result<Self, CountryError> {
        let raw = raw.trim();
        if raw.len() != 2 || !raw.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(CountryError::NotACode);
        }
        COUNTRIES
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(raw))
            .map(|&(code, name)| Self { code, name })
            .ok_or(CountryError::Unknown)
    }

    /// The optional field: missing or blank is `Ok(None)`.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, CountryError> {
        non_blank(raw).map(Self::parse).transpose()
    }

    /// The upper-case code, e.g. `NZ`.
    pub fn as_str(&self) -> &'static str {
        self.code
    }

    /// The English short name, e.g. `New Zealand`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Every officially assigned code with its English short name, sorted by
    /// name (ignoring accents): `(code, name)`, ready for a dropdown.
    pub fn all() -> &'static [(&'static str, &'static str)] {
        &COUNTRIES
    }
}

impl AsRef<str> for Country {
    fn as_ref(&self) -> &str {
        self.code
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::strategies::any_text;
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn code(raw: &str) -> Result<&'static str, CountryError> {
        Country::parse(raw).map(|c| c.as_str())
    }

    #[test]
    fn parses_any_case_and_stores_upper_case() {
        assert_eq!(code("nz"), Ok("NZ"));
        assert_eq!(code(" Au "), Ok("AU"));
        assert_eq!(code("fJ"), Ok("FJ"));
        assert_eq!(Country::parse("nz").map(|c| c.name()), Ok("New Zealand"));
        assert_eq!(Country::parse("ci").map(|c| c.name()), Ok("Côte d'Ivoire"));
    }

    #[test]
    fn rejects_what_is_not_an_assigned_code() {
        for raw in ["N", "NZL", "N1", "ÑZ", "😀", "New Zealand"] {
            assert_eq!(code(raw), Err(CountryError::NotACode), "{raw:?}");
        }
        for raw in ["XK", "UK", "EU", "ZZ", "AA", "an"] {
            assert_eq!(code(raw), Err(CountryError::Unknown), "{raw:?}");
        }
    }

    #[test]
    fn blank_or_missing_is_absent() {
        assert_eq!(Country::parse_optional(None), Ok(None));
        assert_eq!(Country::parse_optional(Some("  ")), Ok(None));
        assert_eq!(
            Country::parse_optional(Some("to")).map(|c| c.map(|c| c.name())),
            Ok(Some("Tonga"))
        );
    }

    #[test]
    fn the_list_has_every_assigned_code_once() {
        let all = Country::all();
        assert_eq!(all.len(), 249);
        let codes: BTreeSet<_> = all.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes.len(), 249);
        for (code, name) in all {
            assert!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(!name.is_empty());
        }
        for oceania in [
            "AU", "NZ", "FJ", "PG", "WS", "TO", "VU", "SB", "KI", "NR", "TV", "CK", "NU",
        ] {
            assert!(codes.contains(oceania), "{oceania}");
        }
    }

    #[test]
    fn shows_and_serialises_as_the_code() {
        let Ok(nz) = Country::parse("nz") else {
            panic!("NZ is assigned")
        };
        assert_eq!(nz.to_string(), "NZ");
        assert_eq!(serde_json::to_string(&nz).ok().as_deref(), Some("\"NZ\""));
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any_text(10)) {
            let _ = Country::parse_optional(Some(&raw));
        }

        #[test]
        fn two_letters_parse_iff_listed(raw in "[a-zA-Z]{2}") {
            let listed = Country::all().iter().any(|(c, _)| c.eq_ignore_ascii_case(&raw));
            match Country::parse(&raw) {
                Ok(country) => {
                    prop_assert!(listed);
                    prop_assert_eq!(country.as_str(), raw.to_ascii_uppercase());
                    prop_assert_eq!(Country::parse(country.as_str()), Ok(country));
                }
                Err(e) => {
                    prop_assert!(!listed);
                    prop_assert_eq!(e, CountryError::Unknown);
                }
            }
        }

        #[test]
        fn every_listed_code_round_trips(i in 0usize..249) {
            let (code, name) = Country::all()[i];
            let parsed = Country::parse(&code.to_ascii_lowercase());
            prop_assert_eq!(parsed.map(|c| (c.as_str(), c.name())), Ok((code, name)));
        }
    }
}
