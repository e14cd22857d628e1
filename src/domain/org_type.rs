//! The kind of organisation a person belongs to. Optional.

use std::fmt;

use serde::Serialize;

use super::non_blank;

/// Why an organisation type was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrgTypeError {
    /// Not one of [`OrgType::ALL`].
    #[error("choose one of the listed options")]
    Unknown,
}

/// One of a fixed list of organisation kinds. Input is matched ignoring ASCII
/// case after trimming; the value is always the lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgType {
    /// `government`
    Government,
    /// `university`: universities and research institutes.
    University,
    /// `industry`
    Industry,
    /// `nonprofit`
    Nonprofit,
    /// `other`
    Other,
}

impl OrgType {
    /// Every kind, in the order a form lists them.
    pub const ALL: [OrgType; 5] = [
        OrgType::Government,
        OrgType::University,
        OrgType::Industry,
        OrgType::Nonprofit,
        OrgType::Other,
    ];

    /// Trims `raw` and matches it, ignoring ASCII case, against the names.
    pub fn parse(raw: &str) -> Result<Self, OrgTypeError> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(raw))
            .ok_or(OrgTypeError::Unknown)
    }

    /// The optional field: missing or blank is `Ok(None)`.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, OrgTypeError> {
        non_blank(raw).map(Self::parse).transpose()
    }

    /// The stored, lower-case name, e.g. `nonprofit`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::Government => "government",
            OrgType::University => "university",
            OrgType::Industry => "industry",
            OrgType::Nonprofit => "nonprofit",
            OrgType::Other => "other",
        }
    }

    /// The label to show a person, e.g. `Non-profit`.
    pub fn label(self) -> &'static str {
        match self {
            OrgType::Government => "Government",
            OrgType::University => "University or research",
            OrgType::Industry => "Industry",
            OrgType::Nonprofit => "Non-profit",
            OrgType::Other => "Other",
        }
    }
}

impl AsRef<str> for OrgType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for OrgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::strategies::{any_text, plain_char};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_name_in_any_case() {
        for t in OrgType::ALL {
            assert_eq!(OrgType::parse(t.as_str()), Ok(t));
            assert_eq!(OrgType::parse(&t.as_str().to_uppercase()), Ok(t));
        }
        assert_eq!(OrgType::parse("  University\n"), Ok(OrgType::University));
        assert_eq!(OrgType::parse("NonProfit"), Ok(OrgType::Nonprofit));
    }

    #[test]
    fn rejects_anything_else() {
        for raw in [
            "",
            "gov",
            "non-profit",
            "Non-profit",
            "university or research",
            "öther",
        ] {
            assert_eq!(OrgType::parse(raw), Err(OrgTypeError::Unknown), "{raw:?}");
        }
        assert_eq!(
            OrgTypeError::Unknown.to_string(),
            "choose one of the listed options"
        );
    }

    #[test]
    fn blank_or_missing_is_absent() {
        assert_eq!(OrgType::parse_optional(None), Ok(None));
        assert_eq!(OrgType::parse_optional(Some(" ")), Ok(None));
        assert_eq!(
            OrgType::parse_optional(Some("other")),
            Ok(Some(OrgType::Other))
        );
        assert_eq!(
            OrgType::parse_optional(Some("x")),
            Err(OrgTypeError::Unknown)
        );
    }

    #[test]
    fn names_and_labels() {
        let names: Vec<_> = OrgType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            names,
            ["government", "university", "industry", "nonprofit", "other"]
        );
        let labels: Vec<_> = OrgType::ALL.iter().map(|t| t.label()).collect();
        assert_eq!(
            labels,
            [
                "Government",
                "University or research",
                "Industry",
                "Non-profit",
                "Other"
            ]
        );
        assert_eq!(OrgType::Nonprofit.to_string(), "nonprofit");
        assert_eq!(
            serde_json::to_string(&OrgType::Nonprofit).ok().as_deref(),
            Some("\"nonprofit\"")
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any_text(40)) {
            let _ = OrgType::parse_optional(Some(&raw));
        }

        #[test]
        fn any_ascii_casing_parses_and_round_trips(
            t in proptest::sample::select(OrgType::ALL.to_vec()),
            upper in proptest::collection::vec(any::<bool>(), 10),
            pad in "[ \t]{0,2}",
        ) {
            let cased: String = t
                .as_str()
                .chars()
                .zip(upper)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            let parsed = OrgType::parse(&format!("{pad}{cased}{pad}"));
            prop_assert_eq!(parsed, Ok(t));
            prop_assert_eq!(OrgType::parse(t.as_str()), Ok(t));
        }

        /// One character more or less than a name is not a name.
        #[test]
        fn a_name_with_a_character_added_or_removed_is_rejected(
            t in proptest::sample::select(OrgType::ALL.to_vec()),
            at in any::<proptest::sample::Index>(),
            extra in plain_char(),
        ) {
            let name = t.as_str();
            let i = at.index(name.len());
            let added = format!("{}{extra}{}", &name[..i], &name[i..]);
            let removed = format!("{}{}", &name[..i], &name[i + 1..]);
            prop_assert_eq!(OrgType::parse(&added), Err(OrgTypeError::Unknown), "{}", added);
            prop_assert_eq!(OrgType::parse(&removed), Err(OrgTypeError::Unknown), "{}", removed);
        }

        #[test]
        fn arbitrary_text_parses_only_if_it_is_a_name(raw in any_text(12)) {
            match OrgType::parse(&raw) {
                Ok(t) => prop_assert!(raw.trim().eq_ignore_ascii_case(t.as_str())),
                Err(_) => prop_assert!(
                    OrgType::ALL.iter().all(|t| !raw.trim().eq_ignore_ascii_case(t.as_str()))
                ),
            }
        }
    }
}
