//! Time zones, as IANA zone names. Optional.
//!
//! A zone is kept under its canonical name, the one tzdata defines it by. A
//! link (an alias) is accepted and read as the zone it names: `Pacific/Samoa`
//! is `Pacific/Pago_Pago` (UTC−11, not Apia's UTC+13), `US/Pacific` is
//! `America/Los_Angeles`, `Europe/Oslo` is `Europe/Berlin`. The clocks are the
//! same either way (a link is only another name), so nothing a person meant is
//! lost, and one zone has one stored spelling. A value stored under an alias
//! before is still matched through [`TimeZoneName::names`].

use std::fmt;
use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};
use serde::{Serialize, Serializer};

use super::non_blank;
use super::timezone_links::{LINKS, LinkKind};

/// Why a time zone was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    /// Not a zone name `chrono_tz` knows (names are case-sensitive).
    #[error("choose a time zone such as Pacific/Auckland")]
    Unknown,
}

/// A canonical IANA time zone known to `chrono_tz`, such as `Pacific/Auckland`.
/// Made from a link, it holds the zone the link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    /// Trims `raw` and looks it up, exactly (zone names are case-sensitive);
    /// an alias gives the zone it names.
    pub fn parse(raw: &str) -> Result<Self, TimeZoneError> {
        Tz::from_str(raw.trim())
            .map(Self::from)
            .map_err(|_| TimeZoneError::Unknown)
    }

    /// The optional field: missing or blank is `Ok(None)`.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, TimeZoneError> {
        non_blank(raw).map(Self::parse).transpose()
    }

    /// The canonical zone name, e.g. `Pacific/Auckland`.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The zone, for converting times.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// Whether the zone is a place's, not one of tzdata's fixed offsets
    /// (`Etc/UTC`, `Etc/GMT+10`, whose sign is the reverse of what it reads).
    pub fn is_place(&self) -> bool {
        !self.as_str().starts_with("Etc/")
    }

    /// Every canonical zone (no aliases), alphabetical.
    pub fn all() -> impl Iterator<Item = TimeZoneName> {
        TZ_VARIANTS
            .iter()
            .filter(|tz| link(tz.name()).is_none())
            .map(|tz| Self(*tz))
    }

    /// Every name this zone goes by, its own first, then its aliases: what a
    /// value stored before it was read as canonical may hold.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.as_str()).chain(self.links().map(|(alias, _)| alias))
    }

    /// The places tzdata merged into this zone (`Europe/Oslo`, `Europe/Stockholm`
    /// into `Europe/Berlin`), as zone names.
    pub fn merged_places(self) -> impl Iterator<Item = &'static str> {
        self.links()
            .filter(|(_, kind)| *kind == LinkKind::Place)
            .map(|(alias, _)| alias)
    }

    fn links(self) -> impl Iterator<Item = (&'static str, LinkKind)> {
        LINKS
            .iter()
            .filter(move |(_, zone, _)| *zone == self.as_str())
            .map(|(alias, _, kind)| (*alias, *kind))
    }
}

/// The zone `name` is an alias of, if it is one.
fn link(name: &str) -> Option<&'static str> {
    LINKS
        .binary_search_by(|(alias, _, _)| (*alias).cmp(name))
        .ok()
        .map(|i| LINKS[i].1)
}

impl From<Tz> for TimeZoneName {
    /// The canonical zone of `tz` (itself unless it is an alias).
    fn from(tz: Tz) -> Self {
        // Every link names a zone chrono-tz knows (tested below), so the
        // fallback to the alias itself is never taken.
        let canonical = link(tz.name()).and_then(|zone| Tz::from_str(zone).ok());
        Self(canonical.unwrap_or(tz))
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
    use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
    use chrono_tz::OffsetName;
    use proptest::prelude::*;

    fn name(raw: &str) -> Result<&'static str, TimeZoneError> {
        TimeZoneName::parse(raw).map(|z| z.as_str())
    }

    fn is_listed(raw: &str) -> bool {
        TZ_VARIANTS.iter().any(|tz| tz.name() == raw)
    }

    #[test]
    fn parses_canonical_names_and_keeps_them() {
        assert_eq!(name("Pacific/Auckland"), Ok("Pacific/Auckland"));
        assert_eq!(name("  Australia/Sydney "), Ok("Australia/Sydney"));
        assert_eq!(name("Pacific/Apia"), Ok("Pacific/Apia"));
        assert_eq!(
            TimeZoneName::parse("Pacific/Auckland").map(|z| z.tz()),
            Ok(chrono_tz::Pacific::Auckland)
        );
    }

    #[test]
    fn reads_an_alias_as_the_zone_it_names() {
        for (alias, zone) in [
            ("Pacific/Samoa", "Pacific/Pago_Pago"),
            ("US/Samoa", "Pacific/Pago_Pago"),
            ("Australia/ACT", "Australia/Sydney"),
            ("Australia/Canberra", "Australia/Sydney"),
            ("NZ", "Pacific/Auckland"),
            ("Pacific/Majuro", "Pacific/Tarawa"),
            ("US/Pacific", "America/Los_Angeles"),
            ("US/Eastern", "America/New_York"),
            ("Asia/Calcutta", "Asia/Kolkata"),
            ("Europe/Oslo", "Europe/Berlin"),
            ("UTC", "Etc/UTC"),
            ("GMT0", "Etc/GMT"),
        ] {
            assert_eq!(name(alias), Ok(zone), "{alias}");
        }
        assert_eq!(
            TimeZoneName::from(chrono_tz::US::Pacific).as_str(),
            "America/Los_Angeles"
        );
        assert_eq!(
            TimeZoneName::from(chrono_tz::Pacific::Fiji).as_str(),
            "Pacific/Fiji"
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
    fn all_lists_each_canonical_zone_once_and_no_alias() {
        let all: Vec<&str> = TimeZoneName::all().map(|z| z.as_str()).collect();
        assert_eq!(all.len() + LINKS.len(), TZ_VARIANTS.len());
        assert!(
            all.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, once each"
        );
        assert!(all.iter().all(|zone| link(zone).is_none()));
        assert!(all.contains(&"Pacific/Auckland") && all.contains(&"Pacific/Pago_Pago"));
        for alias in [
            "Pacific/Samoa",
            "US/Eastern",
            "GMT0",
            "UTC",
            "Pacific/Majuro",
        ] {
            assert!(!all.contains(&alias), "{alias}");
        }
    }

    #[test]
    fn a_zone_goes_by_its_aliases_and_names_its_merged_places() {
        let Ok(pago_pago) = TimeZoneName::parse("Pacific/Pago_Pago") else {
            panic!("a zone")
        };
        let names: Vec<_> = pago_pago.names().collect();
        assert_eq!(
            names,
            [
                "Pacific/Pago_Pago",
                "Pacific/Midway",
                "Pacific/Samoa",
                "US/Samoa"
            ]
        );
        let Ok(tarawa) = TimeZoneName::parse("Pacific/Tarawa") else {
            panic!("a zone")
        };
        let places: Vec<_> = tarawa.merged_places().collect();
        assert_eq!(
            places,
            [
                "Pacific/Funafuti",
                "Pacific/Majuro",
                "Pacific/Wake",
                "Pacific/Wallis"
            ]
        );
        assert_eq!(pago_pago.merged_places().count(), 1, "Midway, not Samoa");
    }

    #[test]
    fn fixed_offsets_are_not_places() {
        for (raw, place) in [
            ("Etc/GMT+10", false),
            ("UTC", false),
            ("Pacific/Apia", true),
        ] {
            assert_eq!(
                TimeZoneName::parse(raw).map(|z| z.is_place()),
                Ok(place),
                "{raw}"
            );
        }
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

    /// The table was generated from the tzdata chrono-tz carries; a chrono-tz
    /// with newer data may have renamed or merged zones.
    #[test]
    fn the_links_table_is_from_the_tzdata_chrono_tz_carries() {
        assert_eq!(
            chrono_tz::IANA_TZDB_VERSION,
            "2025b",
            "generate src/domain/timezone_links.rs again from the new chrono-tz's tz/ folder \
             (the command is at its top), then update this version"
        );
    }

    #[test]
    fn links_are_sorted_and_name_canonical_zones_chrono_tz_knows() {
        assert!(LINKS.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for (alias, zone, _) in LINKS {
            assert!(Tz::from_str(alias).is_ok(), "{alias}");
            assert!(Tz::from_str(zone).is_ok(), "{zone}");
            assert_eq!(link(zone), None, "{alias} names an alias, {zone}");
        }
    }

    /// The offset and abbreviation every week from 1900 to 2040.
    fn clocks(tz: Tz) -> Vec<(i32, Option<String>)> {
        let start: DateTime<Utc> = Utc.with_ymd_and_hms(1900, 1, 1, 5, 0, 0).unwrap();
        (0..140 * 52)
            .map(|week| {
                let at = (start + Duration::hours(week * (7 * 24 + 1))).naive_utc();
                let offset = tz.offset_from_utc_datetime(&at);
                let abbreviation = offset.abbreviation().map(str::to_owned);
                (offset.fix().local_minus_utc(), abbreviation)
            })
            .collect()
    }

    #[test]
    fn an_alias_keeps_the_clocks_of_its_zone() {
        for (alias, zone, _) in LINKS {
            let (Ok(alias_tz), Ok(zone_tz)) = (Tz::from_str(alias), Tz::from_str(zone)) else {
                panic!("{alias} or {zone} unknown")
            };
            assert!(clocks(alias_tz) == clocks(zone_tz), "{alias} is not {zone}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any_text(40)) {
            let _ = TimeZoneName::parse_optional(Some(&raw));
        }

        #[test]
        fn every_listed_name_parses_to_itself_or_the_zone_it_names(i in 0..TZ_VARIANTS.len()) {
            let listed = TZ_VARIANTS[i];
            let Ok(zone) = TimeZoneName::parse(listed.name()) else {
                return Err(TestCaseError::fail(listed.name()));
            };
            prop_assert_eq!(zone.as_str(), link(listed.name()).unwrap_or(listed.name()));
            prop_assert!(zone.names().any(|n| n == listed.name()));
            prop_assert_eq!(TimeZoneName::from(listed), zone);
        }

        #[test]
        fn a_listed_zone_with_padding_parses_as_without(
            zone in proptest::sample::select(TZ_VARIANTS.to_vec()),
            before in "[ \t]{0,2}",
            after in "[ \t]{0,2}",
        ) {
            let parsed = TimeZoneName::parse(&format!("{before}{}{after}", zone.name()));
            prop_assert_eq!(parsed, Ok(TimeZoneName::from(zone)));
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
            prop_assert_eq!(TimeZoneName::parse(&recased).is_ok(), is_listed(&recased), "{}", recased);
        }

        #[test]
        fn arbitrary_text_parses_only_if_it_is_a_listed_name(raw in any_text(40)) {
            match TimeZoneName::parse(&raw) {
                Ok(zone) => prop_assert!(zone.names().any(|n| n == raw.trim())),
                Err(_) => prop_assert!(!is_listed(raw.trim())),
            }
        }
    }
}
