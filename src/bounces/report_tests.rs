use super::*;

const OUTBOX_ID: &str = "0192f0a1-7c3e-7b10-8a55-0123456789ab";

fn keys() -> Keys {
    Keys::new(b"a test secret that is long enough for tags")
}

/// A fixture with `{TAG}` (and its upper-case and forged forms) filled in.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/bounces/{name}.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let tag = tag::tag_for(&keys(), OUTBOX_ID).unwrap();
    let forged = format!("{}{}", &tag[..26], "aaaaaaaa");
    text.replace("{UPPER_TAG}", &tag.to_ascii_uppercase())
        .replace("{TAG}", &tag)
        .replace("{FORGED}", &forged)
        .replace('\n', "\r\n")
        .into_bytes()
}

fn reading(name: &str) -> (Option<BounceClass>, Option<String>, Option<String>) {
    match read(&keys(), &fixture(name)).unwrap() {
        Reading::Report {
            class,
            status,
            outbox_id,
            ..
        } => (Some(class), status, outbox_id),
        Reading::Ignored => (None, None, None),
    }
}

fn matched(
    class: BounceClass,
    status: Option<&str>,
) -> (Option<BounceClass>, Option<String>, Option<String>) {
    (
        Some(class),
        status.map(str::to_owned),
        Some(OUTBOX_ID.to_owned()),
    )
}

#[test]
fn postfix_reports_with_rfc822_headers_are_hard_bounces() {
    assert_eq!(
        reading("postfix_hard"),
        matched(BounceClass::Hard, Some("5.1.1"))
    );
}

#[test]
fn exim_reports_are_matched_by_the_original_message_id() {
    assert_eq!(
        reading("exim_hard"),
        matched(BounceClass::Hard, Some("5.0.0"))
    );
}

#[test]
fn a_full_mailbox_is_soft() {
    assert_eq!(
        reading("gmail_soft"),
        matched(BounceClass::Soft, Some("5.2.2"))
    );
}

#[test]
fn a_policy_refusal_is_policy_and_upper_case_tags_match() {
    assert_eq!(
        reading("microsoft_policy"),
        matched(BounceClass::Policy, Some("5.7.1"))
    );
}

#[test]
fn complaints_are_matched_by_the_embedded_return_path() {
    assert_eq!(
        reading("arf_complaint"),
        matched(BounceClass::Complaint, None)
    );
}

#[test]
fn delays_auto_replies_and_plain_messages_are_ignored() {
    for name in ["delayed", "out_of_office", "plain"] {
        assert_eq!(
            read(&keys(), &fixture(name)),
            Some(Reading::Ignored),
            "{name}"
        );
    }
}

#[test]
fn a_forged_tag_matches_nothing() {
    assert_eq!(
        reading("forged"),
        (Some(BounceClass::Hard), Some("5.1.1".to_owned()), None)
    );
}

#[test]
fn a_body_without_a_header_field_is_not_a_message() {
    assert!(read(&keys(), b"just some text\r\n\r\nmore").is_none());
    assert!(read(&keys(), b"\r\nSubject: after the blank line").is_none());
    assert!(read(&keys(), b"").is_none());
    assert!(is_message(b"Subject: hi\r\n\r\nbody"));
    assert!(is_message(b"X-Folded: a\r\n b\r\n"));
}

#[test]
fn status_codes_are_classed_as_spec_says() {
    for (status, class) in [
        ("4.4.1", Some(BounceClass::Soft)),
        ("5.2.2", Some(BounceClass::Soft)),
        ("5.3.4", Some(BounceClass::Soft)),
        ("5.7.1", Some(BounceClass::Policy)),
        ("5.1.1", Some(BounceClass::Hard)),
        ("5.2.1", Some(BounceClass::Hard)),
        ("5.0.0", Some(BounceClass::Hard)),
        ("2.0.0", None),
        ("5.1", None),
        ("five", None),
    ] {
        assert_eq!(BounceClass::of_status(status), class, "{status}");
    }
}

#[test]
fn a_tag_only_in_rfc822_headers_matches() {
    let tag = tag::tag_for(&keys(), OUTBOX_ID).unwrap();
    let text = String::from_utf8(fixture("postfix_hard")).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let head = head.replace(&format!("bounces+{tag}@"), "bounces@");
    let report = format!("{head}\r\n\r\n{rest}");
    assert!(!head.contains(&tag));
    match read(&keys(), report.as_bytes()).unwrap() {
        Reading::Report { outbox_id, .. } => assert_eq!(outbox_id.as_deref(), Some(OUTBOX_ID)),
        Reading::Ignored => panic!("a hard bounce was ignored"),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

    /// Whatever arrives, reading it never panics, and only bytes with a header
    /// field before the first empty line are read as a message.
    #[test]
    fn any_bytes_are_read_without_a_panic(
        head in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        report in proptest::sample::select(vec!["postfix_hard", "arf_complaint", "gmail_soft"]),
        cut in 0usize..4000,
    ) {
        let raw = read(&keys(), &head);
        proptest::prop_assert!(raw.is_none() || is_message(&head));
        // A real report cut anywhere still reads or is refused, never panics.
        let whole = fixture(report);
        let cut = &whole[..cut.min(whole.len())];
        let reading = read(&keys(), cut);
        proptest::prop_assert_eq!(reading.is_some(), is_message(cut));
    }
}
