use super::*;
use crate::domain::text::strategies::any_text;
use proptest::prelude::*;

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn allowed() -> Vec<String> {
    strings(&["Newsletter", "Meetups", "Hack days", "Training"])
}

fn chosen(values: &[&str]) -> Result<Vec<String>, Vec<String>> {
    Interests::parse(&strings(values), &allowed())
        .map(|i| i.as_slice().to_vec())
        .map_err(|e| e.unknown().to_vec())
}

#[test]
fn keeps_config_order_and_collapses_duplicates() {
    assert_eq!(
        chosen(&["Training", "Newsletter", "Training", " Newsletter "]),
        Ok(strings(&["Newsletter", "Training"]))
    );
}

#[test]
fn none_or_blank_values_are_an_empty_set() {
    assert_eq!(chosen(&[]), Ok(vec![]));
    assert_eq!(chosen(&["", "  "]), Ok(vec![]));
}

#[test]
fn every_unknown_value_is_reported_once() {
    assert_eq!(
        chosen(&["Newsletter", "Poker", "newsletter", "Poker"]),
        Err(strings(&["Poker", "newsletter"]))
    );
    let Err(err) = Interests::parse(&strings(&["Poker", "Golf"]), &allowed()) else {
        panic!("unknown values")
    };
    assert_eq!(
        err.messages(),
        ["unknown interest: Poker", "unknown interest: Golf"]
    );
    assert_eq!(
        err.to_string(),
        "unknown interest: Poker; unknown interest: Golf"
    );
}

#[test]
fn unknown_values_are_quoted_safely() {
    let Err(err) = Interests::parse(&strings(&["a\u{1b}[2J"]), &allowed()) else {
        panic!("unknown value")
    };
    assert_eq!(err.unknown(), ["a\u{fffd}[2J"]);
}

#[test]
fn joined_and_back() {
    let Ok(interests) = Interests::parse(&strings(&["Training", "Meetups"]), &allowed()) else {
        panic!("known values")
    };
    assert_eq!(interests.joined(), "Meetups;Training");
    assert_eq!(
        Interests::from_joined("Meetups;Training", &allowed()),
        Ok(interests.clone())
    );
    assert!(interests.contains("Meetups") && !interests.contains("Newsletter"));
    assert_eq!(
        serde_json::to_string(&interests).ok().as_deref(),
        Some(r#"["Meetups","Training"]"#)
    );
    assert_eq!(
        Interests::from_joined("", &allowed()),
        Ok(Interests::default())
    );
    assert_eq!(Interests::default().joined(), "");
    assert!(Interests::from_joined("Meetups;Gone", &allowed()).is_err());
}

/// A configured list: distinct, trimmed, non-empty names without `;`.
fn config() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set("[A-Za-z][A-Za-z -]{0,10}[a-z]", 0..8)
        .prop_map(|set| set.into_iter().collect())
        .prop_shuffle()
}

proptest! {
    #[test]
    fn parse_never_panics(
        values in proptest::collection::vec(any_text(20), 0..6),
        allowed in proptest::collection::vec(any_text(20), 0..6),
    ) {
        let _ = Interests::parse(&values, &allowed);
        let _ = Interests::from_joined(&values.join(";"), &allowed);
    }

    #[test]
    fn result_is_a_subset_in_config_order(
        allowed in config(),
        picks in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
    ) {
        let values: Vec<String> = if allowed.is_empty() {
            Vec::new()
        } else {
            picks.iter().map(|i| i.get(&allowed).clone()).collect()
        };
        let parsed = Interests::parse(&values, &allowed);
        prop_assert!(parsed.is_ok());
        let Ok(interests) = parsed else { return Ok(()) };
        let positions: Vec<usize> = interests
            .as_slice()
            .iter()
            .filter_map(|i| allowed.iter().position(|a| a == i))
            .collect();
        prop_assert_eq!(positions.len(), interests.as_slice().len());
        prop_assert!(positions.windows(2).all(|w| w[0] < w[1]));
        for v in &values {
            prop_assert!(interests.contains(v));
        }
        prop_assert_eq!(Interests::parse(interests.as_slice(), &allowed), Ok(interests.clone()));
        prop_assert_eq!(Interests::from_joined(&interests.joined(), &allowed), Ok(interests.clone()));
    }

    #[test]
    fn any_unknown_value_is_an_error(allowed in config(), stranger in "[0-9]{1,5}") {
        let values = vec![stranger.clone()];
        let parsed = Interests::parse(&values, &allowed).map_err(|e| e.unknown().to_vec());
        prop_assert_eq!(parsed, Err(vec![stranger]));
    }
}
