use super::*;
use proptest::prelude::*;

fn interests() -> Vec<String> {
    vec![
        "Training and workshops".to_owned(),
        "Meetups and talks".to_owned(),
    ]
}

#[test]
fn subjects_are_one_to_150_characters_without_control_characters() {
    assert_eq!(
        Subject::parse("  First meetup  ").unwrap().as_str(),
        "First meetup"
    );
    assert_eq!(Subject::parse(" ").unwrap_err(), TextError::Required);
    assert_eq!(
        Subject::parse(&"é".repeat(150))
            .unwrap()
            .as_str()
            .chars()
            .count(),
        150
    );
    assert_eq!(
        Subject::parse(&"é".repeat(151)).unwrap_err(),
        TextError::TooLong { max: 150 }
    );
    assert_eq!(
        Subject::parse("a\nBcc: x@example.org").unwrap_err(),
        TextError::ControlOrFormat
    );
    assert_eq!(
        Subject::parse("a\u{200B}b").unwrap_err(),
        TextError::ControlOrFormat
    );
}

#[test]
fn bodies_are_at_most_64_kib() {
    assert!(AnnouncementBody::parse(&"a".repeat(BODY_MAX_BYTES)).is_ok());
    assert_eq!(
        AnnouncementBody::parse(&"a".repeat(BODY_MAX_BYTES + 1)).unwrap_err(),
        BodyError::TooLong
    );
    assert_eq!(
        AnnouncementBody::parse(" \n ").unwrap_err(),
        BodyError::Required
    );
    assert_eq!(AnnouncementBody::parse("a\r\nb").unwrap().as_str(), "a\nb");
}

#[test]
fn audiences_keep_known_values_once_and_name_unknown_ones() {
    let raw = RawAudience {
        countries: vec!["nz".into(), "NZ".into(), " ".into(), "FJ".into()],
        org_types: vec!["university".into()],
        interests: vec!["Training and workshops".into()],
        timezones: vec!["Pacific/Auckland".into()],
    };
    let audience = Audience::parse(&raw, &interests()).unwrap();
    assert_eq!(audience.countries, ["NZ", "FJ"]);
    assert_eq!(audience.org_types, ["university"]);
    assert_eq!(Audience::from_json(&audience.to_json()).unwrap(), audience);
    assert!(!audience.is_everyone());
    assert!(
        Audience::parse(&RawAudience::default(), &interests())
            .unwrap()
            .is_everyone()
    );

    let bad = RawAudience {
        countries: vec!["XX".into()],
        org_types: vec!["club".into()],
        interests: vec!["Knitting".into()],
        timezones: vec!["Mars/Olympus".into()],
    };
    let errors = Audience::parse(&bad, &interests()).unwrap_err();
    for field in ["country", "org_type", "interest", "timezone"] {
        assert!(errors.has(field), "{field}: {errors:?}");
    }
    assert_eq!(errors.get("interest"), ["unknown interest: Knitting"]);
}

#[test]
fn a_draft_reports_every_problem() {
    let bad = RawAudience {
        countries: vec!["XX".into()],
        ..Default::default()
    };
    let errors = AnnouncementDraft::parse("", "", &bad, false, &interests()).unwrap_err();
    assert_eq!(
        errors.iter().map(|(field, _)| field).collect::<Vec<_>>(),
        ["body", "country", "subject"]
    );
    let draft = AnnouncementDraft::parse("Hi", "Body", &RawAudience::default(), true, &interests())
        .unwrap();
    assert!(draft.archive && draft.audience.is_everyone());
}

#[test]
fn every_action_names_its_statuses() {
    use AnnouncementStatus::*;
    assert_eq!(Action::SendNow.from(), [Draft]);
    assert_eq!(Action::Cancel.from(), [Draft, Scheduled, Sending, Paused]);
    assert_eq!(Action::Resume.to(), Sending);
    for status in AnnouncementStatus::ALL {
        assert_eq!(AnnouncementStatus::parse(status.as_str()), Some(status));
    }
    assert!(Action::SendNow.repeats_harmlessly() && !Action::Pause.repeats_harmlessly());
}

#[test]
fn schedules_must_be_in_the_future() {
    let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .naive_utc();
    let later = DateTime::parse_from_rfc3339("2026-12-01T11:00:00+00:00")
        .unwrap()
        .to_utc();
    let earlier = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(schedule_time(later, now).unwrap(), later.naive_utc());
    assert!(schedule_time(earlier, now).is_err());
}

#[test]
fn test_addresses_are_one_to_five() {
    let one = parse_test_addresses(["ana@example.org"]).unwrap();
    assert_eq!(one.len(), 1);
    let split = parse_test_addresses(["a@example.org, b@example.org\nc@example.org;A@EXAMPLE.org"])
        .unwrap();
    assert_eq!(split.len(), 3);
    assert_eq!(
        parse_test_addresses([" , "]).unwrap_err(),
        TestAddressesError::Required
    );
    let six: Vec<String> = (0..6).map(|i| format!("p{i}@example.org")).collect();
    assert_eq!(
        parse_test_addresses(six.iter().map(String::as_str)).unwrap_err(),
        TestAddressesError::TooMany
    );
    assert!(matches!(
        parse_test_addresses(["not an address"]).unwrap_err(),
        TestAddressesError::Invalid(_)
    ));
}

proptest! {
    /// A subject that parses never carries a line break or control character
    /// into a header, whatever was typed.
    #[test]
    fn parsed_subjects_are_header_safe(raw in "\\PC{0,20}[\\r\\n\\t\\u{0}]?\\PC{0,20}") {
        match Subject::parse(&raw) {
            Ok(subject) => prop_assert!(!subject.as_str().chars().any(char::is_control)),
            Err(error) => prop_assert!(
                raw.trim().is_empty() || raw.trim().chars().any(|c| c.is_control()) || matches!(error, TextError::ControlOrFormat),
                "{raw:?} refused with {error}"
            ),
        }
    }
}
