use super::*;

fn interests() -> Vec<String> {
    vec!["training".to_owned(), "meetups".to_owned()]
}

fn raw(pairs: &[(&str, &str)]) -> RawMemberFilter {
    RawMemberFilter::from_fields(|name| {
        pairs
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .collect()
    })
}

#[test]
fn every_field_is_read_and_checked() {
    let filter = MemberFilter::parse(
        &raw(&[
            ("status", "pending"),
            ("since", "2026-01-01"),
            ("until", "2026-02-01"),
            ("q", "  Tupou "),
            ("source", "import"),
            ("country", "nz"),
            ("country", "FJ"),
            ("org_type", "university"),
            ("interest", "training"),
            ("timezone", "Pacific/Auckland"),
        ]),
        Some(Status::Confirmed),
        &interests(),
    )
    .unwrap();
    assert_eq!(filter.status, Some(Status::Pending));
    assert_eq!(filter.q.as_deref(), Some("Tupou"));
    assert_eq!(filter.audience.countries, ["NZ", "FJ"]);
    assert_eq!(
        filter.describe(),
        "status=pending since=2026-01-01 until=2026-02-01 q=(set) source=import \
         country=NZ,FJ org_type=university interest=training timezone=Pacific/Auckland"
    );
    // The pairs read back as the same filter.
    let pairs = filter.query_pairs();
    let again: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        MemberFilter::parse(&raw(&again), None, &interests()).unwrap(),
        filter
    );
}

#[test]
fn status_defaults_and_all_means_every_status() {
    let none = raw(&[]);
    assert_eq!(
        MemberFilter::parse(&none, Some(Status::Confirmed), &interests())
            .unwrap()
            .status,
        Some(Status::Confirmed)
    );
    assert_eq!(
        MemberFilter::parse(
            &raw(&[("status", "all")]),
            Some(Status::Confirmed),
            &interests()
        )
        .unwrap()
        .status,
        None
    );
    let all = MemberFilter::parse(&none, None, &interests()).unwrap();
    assert_eq!(all.query_pairs(), [("status", "all".to_owned())]);
    assert!(all.is_status_only());
}

#[test]
fn a_short_query_is_ignored_and_a_long_or_odd_one_refused() {
    let short = MemberFilter::parse(&raw(&[("q", " s ")]), None, &interests()).unwrap();
    assert_eq!(short.q, None);
    let two = MemberFilter::parse(&raw(&[("q", "si")]), None, &interests()).unwrap();
    assert_eq!(two.q.as_deref(), Some("si"));
    let long = "x".repeat(MAX_QUERY_CHARS + 1);
    let errors = MemberFilter::parse(&raw(&[("q", &long)]), None, &interests()).unwrap_err();
    assert!(errors.has("q"));
    let errors = MemberFilter::parse(&raw(&[("q", "a\u{7}b")]), None, &interests()).unwrap_err();
    assert!(errors.has("q"));
}

#[test]
fn bad_values_are_reported_under_their_names() {
    let errors = MemberFilter::parse(
        &raw(&[
            ("status", "gone"),
            ("since", "yesterday"),
            ("until", "99999-01-01"),
            ("country", "ZZ"),
            ("interest", "knitting"),
        ]),
        None,
        &interests(),
    )
    .unwrap_err();
    for field in ["status", "since", "until", "country", "interest"] {
        assert!(errors.has(field), "{field}: {errors}");
    }
}
