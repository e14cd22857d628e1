//! Time zones, as IANA zone names. Optional.

use std::fmt;
use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};
use serde::{Serialize, Serializer};

use super::non_blank;

/// Why a time zone was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    /// Not a zone name `chrono_tz` knows (names are case-sensitive).
    #[error("choose a time zone such as Pacific/Auckland")]
    Unknown,
}

/// An IANA time zone name known to `chrono_tz`, such as `Pacific/Auckland`.
/// Links (aliases such as `US/Eastern`) are kept under the name given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    /// Trims `raw` and looks it up, exactly (zone names are case-sensitive).
    pub fn parse(raw: &str) -> Result<Self, TimeZoneError> {
        Tz::from_str(raw.trim())
            .map(Self)
            .map_err(|_| TimeZoneError::Unknown)
    }

    /// The optional field: missing or blank is `Ok(None)`.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, TimeZoneError> {
        non_blank(raw).map(Self::parse).transpose()
    }

    /// The zone name, e.g. `Pacific/Auckland`.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The zone, for converting times.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// Every zone name `chrono_tz` knows, in its order (alphabetical), for a
    /// dropdown.
    pub fn all() -> impl Iterator<Item = &'static str> {
        TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

impl From<Tz> for TimeZoneName {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

impl AsRef<str> for TimeZoneName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TimeZoneName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::strategies::any_text;
    use super::*;
    use proptest::prelude::*;

    fn name(raw: &str) -> Result<&'static str, TimeZoneError> {
        TimeZoneName::parse(raw).map(|z| z.as_str())
    }

    #[test]
    fn parses_iana_names_and_keeps_them() {
        assert_eq!(name("Pacific/Auckland"), Ok("Pacific/Auckland"));
        assert_eq!(name("  Australia/Sydney "), Ok("Australia/Sydney"));
        assert_eq!(name("UTC"), Ok("UTC"));
        assert_eq!(name("US/Eastern"), Ok("US/Eastern"));
        assert_eq!(
            TimeZoneName::parse("Pacific/Auckland").map(|z| z.tz()),
            Ok(chrono_tz::Pacific::Auckland)
        );
    }

    #[test]
    fn rejects_unknown_names() {
        for raw in [
            "pacific/auckland",
            "Auckland",
            "Pacific/Atlantis",
            "+12:00",
            "NZST",
            "/",
        ] {
            assert_eq!(name(raw), Err(TimeZoneError::Unknown), "{raw:?}");
        }
        assert_eq!(
            TimeZoneError::Unknown.to_string(),
            "choose a time zone such as Pacific/Auckland"
        );
    }

    #[test]
    fn blank_or_missing_is_absent() {
        assert_eq!(TimeZoneName::parse_optional(None), Ok(None));
        assert_eq!(TimeZoneName::parse_optional(Some(" \t")), Ok(None));
        assert!(matches!(
            TimeZoneName::parse_optional(Some("Pacific/Fiji")),
            Ok(Some(_))
        ));
    }

    #[test]
    fn all_lists_every_zone() {
        let all: Vec<_> = TimeZoneName::all().collect();
        assert_eq!(all.len(), TZ_VARIANTS.len());
        assert!(all.contains(&"Pacific/Auckland"));
        assert!(all.contains(&"Australia/Perth"));
    }

    #[test]
    fn shows_and_serialises_as_the_name() {
        let Ok(zone) = TimeZoneName::parse("Pacific/Tongatapu") else {
            panic!("a zone")
        };
        assert_eq!(zone.to_string(), "Pacific/Tongatapu");
        assert_eq!(
            serde_json::to_string(&zone).ok().as_deref(),
            Some("\"Pacific/Tongatapu\"")
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any_text(40)) {
            let _ = TimeZoneName::parse_optional(Some(&raw));
        }

        #[test]
        fn every_listed_zone_round_trips(i in 0..TZ_VARIANTS.len()) {
            let listed = TZ_VARIANTS[i].name();
            let zone = TimeZoneName::parse(listed);
            prop_assert_eq!(zone.map(|z| z.as_str()), Ok(listed));
            prop_assert_eq!(zone.map(|z| z.tz()), Ok(TZ_VARIANTS[i]));
        }

        #[test]
        fn a_listed_zone_with_padding_parses_to_itself(
            zone in proptest::sample::select(TZ_VARIANTS.to_vec()),
            before in "[ \t]{0,2}",
            after in "[ \t]{0,2}",
        ) {
            let parsed = TimeZoneName::parse(&format!("{before}{}{after}", zone.name()));
            prop_assert_eq!(parsed.map(|z| z.as_str()), Ok(zone.name()));
            prop_assert_eq!(parsed.map(|z| z.tz()), Ok(zone));
        }

        /// Names are case-sensitive: a listed name with one letter's case
        /// flipped parses only if that spelling is itself listed.
        #[test]
        fn a_recased_name_parses_only_if_listed(
            zone in proptest::sample::select(TZ_VARIANTS.to_vec()),
            at in any::<proptest::sample::Index>(),
        ) {
            let name = zone.name();
            let letters: Vec<usize> = name
                .char_indices()
                .filter(|(_, c)| c.is_ascii_alphabetic())
                .map(|(i, _)| i)
                .collect();
            let i = letters[at.index(letters.len())];
            let flipped = name.as_bytes()[i] ^ 0x20;
            let recased = format!("{}{}{}", &name[..i], flipped as char, &name[i + 1..]);
            let listed = TimeZoneName::all().any(|n| n == recased);
            prop_assert_eq!(TimeZoneName::parse(&recased).is_ok(), listed, "{}", recased);
        }

        #[test]
        fn arbitrary_text_parses_only_if_it_is_a_listed_name(raw in any_text(40)) {
            match TimeZoneName::parse(&raw) {
                Ok(zone) => prop_assert_eq!(zone.as_str(), raw.trim()),
                Err(_) => prop_assert!(TimeZoneName::all().all(|n| n != raw.trim())),
            }
        }
    }
}
