use super::*;
use crate::domain::FIELD_NAMES;
use crate::domain::text::strategies::any_text;
use proptest::prelude::*;

fn allowed() -> Vec<String> {
    vec!["Newsletter".into(), "Meetups".into(), "Hack days".into()]
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

fn full() -> RawSignup {
    RawSignup {
        email: some(" Kiri@Example.NZ "),
        name: some(" Kiri Te Ao "),
        organisation: some("NIWA"),
        org_type: some("Government"),
        country: some("nz"),
        timezone: some("Pacific/Auckland"),
        interests: vec!["Meetups".into(), "Newsletter".into(), "Meetups".into()],
        consent: Some(true),
    }
}

fn fields(errors: &FieldErrors) -> Vec<&'static str> {
    errors.iter().map(|(field, _)| field).collect()
}

#[test]
fn a_complete_signup_parses_into_checked_values() {
    let parsed = SignupDetails::parse(full(), &allowed());
    let Ok(details) = parsed else {
        panic!("{parsed:?}")
    };
    assert_eq!(details.email.as_str(), "Kiri@Example.NZ");
    assert_eq!(details.email.key(), "kiri@example.nz");
    assert_eq!(details.name.as_str(), "Kiri Te Ao");
    assert_eq!(
        details.organisation.as_ref().map(|o| o.as_str()),
        Some("NIWA")
    );
    assert_eq!(details.org_type, Some(OrgType::Government));
    assert_eq!(details.country.map(|c| c.as_str()), Some("NZ"));
    assert_eq!(
        details.timezone.map(|t| t.as_str()),
        Some("Pacific/Auckland")
    );
    assert_eq!(details.interests.joined(), "Newsletter;Meetups");
}

#[test]
fn blank_optional_fields_are_absent() {
    let raw = RawSignup {
        organisation: some("  "),
        org_type: some(""),
        country: None,
        timezone: some("\t"),
        interests: vec![],
        ..full()
    };
    let parsed = SignupDetails::parse(raw, &allowed());
    let Ok(details) = parsed else {
        panic!("{parsed:?}")
    };
    assert_eq!(details.organisation, None);
    assert_eq!(details.org_type, None);
    assert_eq!(details.country, None);
    assert_eq!(details.timezone, None);
    assert!(details.interests.is_empty());
}

#[test]
fn an_empty_signup_lacks_the_three_required_fields() {
    let Err(errors) = SignupDetails::parse(RawSignup::default(), &allowed()) else {
        panic!("an empty signup is invalid")
    };
    assert_eq!(fields(&errors), ["consent", "email", "name"]);
    for field in ["consent", "email", "name"] {
        assert_eq!(errors.get(field), ["required"]);
    }
}

#[test]
fn refused_consent_is_required() {
    let raw = RawSignup {
        consent: Some(false),
        ..full()
    };
    let Err(errors) = SignupDetails::parse(raw, &allowed()) else {
        panic!("no consent")
    };
    assert_eq!(fields(&errors), ["consent"]);
    assert_eq!(errors.get("consent"), ["required"]);
}

#[test]
fn every_problem_is_reported_under_its_field() {
    let raw = RawSignup {
        email: some("a@localhost"),
        name: some(&"n".repeat(101)),
        organisation: some("Acme\u{200B}"),
        org_type: some("charity"),
        country: some("UK"),
        timezone: some("Middle Earth"),
        interests: vec!["Poker".into(), "Golf".into()],
        consent: None,
    };
    let Err(errors) = SignupDetails::parse(raw, &allowed()) else {
        panic!("all invalid")
    };
    assert_eq!(errors.len(), FIELD_NAMES.len());
    assert_eq!(errors.get("name"), ["at most 100 characters"]);
    assert_eq!(
        errors.get("organisation"),
        ["must not contain control or formatting characters"]
    );
    assert_eq!(errors.get("org_type"), ["choose one of the listed options"]);
    assert_eq!(
        errors.get("timezone"),
        ["choose a time zone such as Pacific/Auckland"]
    );
    assert_eq!(
        errors.get("interests"),
        ["unknown interest: Poker", "unknown interest: Golf"]
    );
    assert_eq!(errors.get("consent"), ["required"]);
}

#[test]
fn edge_errors_are_kept_and_the_other_fields_still_checked() {
    let mut edge = FieldErrors::new();
    edge.add("email", "must be text");
    edge.add("interests", "must be a list of text values");
    let raw = RawSignup {
        email: None,
        interests: vec![],
        country: some("ZZ"),
        ..full()
    };
    let Err(errors) = SignupDetails::parse_with(raw, &allowed(), edge) else {
        panic!("invalid")
    };
    assert_eq!(fields(&errors), ["country", "email", "interests"]);
    assert_eq!(errors.get("email"), ["must be text"]);
    assert_eq!(errors.get("interests"), ["must be a list of text values"]);
}

#[test]
fn an_edge_error_alone_fails_the_signup() {
    let mut edge = FieldErrors::new();
    edge.add("country", "must be text");
    let raw = RawSignup {
        country: None,
        ..full()
    };
    let Err(errors) = SignupDetails::parse_with(raw, &allowed(), edge) else {
        panic!("invalid")
    };
    assert_eq!(fields(&errors), ["country"]);
}

#[test]
fn errors_serialise_as_the_api_shape() {
    let Err(errors) = SignupDetails::parse(RawSignup::default(), &allowed()) else {
        panic!("invalid")
    };
    let json = serde_json::to_string(&errors).ok();
    let expected = r#"{"consent":["required"],"email":["required"],"name":["required"]}"#;
    assert_eq!(json.as_deref(), Some(expected));
}

fn raw_signup() -> impl Strategy<Value = RawSignup> {
    let text = || proptest::option::of(any_text(30));
    let field = || prop_oneof![text(), proptest::option::of("[a-zA-Z/ @._]{0,20}")];
    (
        (field(), field(), field(), field()),
        (
            field(),
            field(),
            proptest::collection::vec(any_text(12), 0..3),
        ),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |((email, name, organisation, org_type), (country, timezone, interests), consent)| {
                RawSignup {
                    email,
                    name,
                    organisation,
                    org_type,
                    country,
                    timezone,
                    interests,
                    consent,
                }
            },
        )
}

proptest! {
    #[test]
    fn parse_never_panics_and_only_uses_known_field_names(raw in raw_signup()) {
        if let Err(errors) = SignupDetails::parse(raw, &allowed()) {
            prop_assert!(!errors.is_empty());
            for (field, messages) in errors.iter() {
                prop_assert!(FIELD_NAMES.contains(&field));
                prop_assert!(!messages.is_empty());
            }
        }
    }

    #[test]
    fn parsed_details_parse_back_to_themselves(name in "\\PC{1,20}", org in "\\PC{0,20}") {
        let raw = RawSignup { name: Some(name), organisation: Some(org), ..full() };
        if let Ok(details) = SignupDetails::parse(raw, &allowed()) {
            let again = RawSignup {
                email: Some(details.email.as_str().to_owned()),
                name: Some(details.name.as_str().to_owned()),
                organisation: details.organisation.as_ref().map(|o| o.as_str().to_owned()),
                org_type: details.org_type.map(|t| t.as_str().to_owned()),
                country: details.country.map(|c| c.as_str().to_owned()),
                timezone: details.timezone.map(|t| t.as_str().to_owned()),
                interests: details.interests.as_slice().to_vec(),
                consent: Some(true),
            };
            prop_assert_eq!(SignupDetails::parse(again, &allowed()), Ok(details));
        }
    }
}
