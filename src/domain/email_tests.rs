use super::*;
use crate::domain::text::strategies::any_text;
use proptest::prelude::*;

fn parse(raw: &str) -> Result<(String, String), EmailError> {
    EmailAddress::parse(raw).map(|e| (e.as_str().to_owned(), e.key().to_owned()))
}

/// An address of exactly `len` bytes (`len` ≥ 7): `x@` and a domain of
/// labels of at most 50 letters, ending in `.org`.
fn address_of_len(len: usize) -> String {
    let mut rest = len - "x@".len() - ".org".len();
    let mut domain = String::new();
    while rest > 50 {
        domain.push_str(&"a".repeat(49));
        domain.push('.');
        rest -= 50;
    }
    domain.push_str(&"a".repeat(rest));
    format!("x@{domain}.org")
}

#[test]
fn keeps_the_address_as_typed_and_keys_it_lower_cased() {
    assert_eq!(
        parse("  Jane.Doe+News@Example.ORG \n"),
        Ok((
            "Jane.Doe+News@Example.ORG".into(),
            "jane.doe+news@example.org".into()
        ))
    );
}

#[test]
fn blank_is_required() {
    for raw in ["", "   ", "\t\r\n"] {
        assert_eq!(parse(raw), Err(EmailError::Required), "{raw:?}");
    }
}

#[test]
fn the_key_has_the_domain_in_idna_ascii() {
    assert_eq!(
        parse("A@Bücher.Example"),
        Ok(("A@Bücher.Example".into(), "a@xn--bcher-kva.example".into()))
    );
    assert_eq!(
        parse("ab@xn--bcher-kva.example").map(|p| p.1),
        Ok("ab@xn--bcher-kva.example".into())
    );
}

#[test]
fn a_non_ascii_local_part_fails_validators_rule() {
    // validator's email rule (the HTML5 rule) allows only ASCII before the @.
    assert_eq!(parse("Ā@Bücher.Example"), Err(EmailError::Invalid));
}

#[test]
fn a_domain_that_fails_idna_conversion_is_rejected() {
    assert_eq!(parse("a@xn--zz.org"), Err(EmailError::Invalid));
}

#[test]
fn ip_literals_and_dotless_domains_are_rejected() {
    assert_eq!(parse("a@[127.0.0.1]"), Err(EmailError::IpLiteral));
    assert_eq!(parse("a@[IPv6:::1]"), Err(EmailError::IpLiteral));
    assert_eq!(parse("a@192.168.0.1"), Err(EmailError::IpLiteral));
    assert_eq!(parse("a@localhost"), Err(EmailError::NoDotInDomain));
    assert_eq!(parse("a@bücher"), Err(EmailError::NoDotInDomain));
}

#[test]
fn malformed_addresses_are_invalid() {
    for raw in [
        "plainaddress",
        "@example.org",
        "a@",
        "a@@example.org",
        "a b@example.org",
        "a@-example.org",
        "a@example.org.",
        "a@exa_mple.org",
        "a@.org",
        "<a@example.org>",
    ] {
        assert_eq!(parse(raw), Err(EmailError::Invalid), "{raw:?}");
    }
}

#[test]
fn total_length_boundary_is_254_bytes() {
    let ok = address_of_len(254);
    assert_eq!(ok.len(), 254);
    assert_eq!(parse(&ok).map(|p| p.0), Ok(ok));
    assert_eq!(parse(&address_of_len(255)), Err(EmailError::TooLong));
}

#[test]
fn local_part_boundary_is_64_bytes() {
    let ok = format!("{}@example.org", "l".repeat(64));
    assert!(parse(&ok).is_ok());
    let long = format!("{}@example.org", "l".repeat(65));
    assert_eq!(parse(&long), Err(EmailError::LocalPartTooLong));
}

#[test]
fn mask_keeps_first_letters_and_the_tld() {
    let masked = |raw: &str| EmailAddress::parse(raw).map(|e| e.mask());
    assert_eq!(
        masked("john.smith@mail.example.org"),
        Ok("j***@m***.org".into())
    );
    assert_eq!(masked("Jo@Example.ORG"), Ok("j***@e***.org".into()));
    assert_eq!(masked("A@Bücher.Example"), Ok("a***@x***.example".into()));
}

#[test]
fn shows_and_serialises_as_typed() {
    let Ok(email) = EmailAddress::parse(" Jo@Example.org ") else {
        panic!("valid")
    };
    assert_eq!(email.to_string(), "Jo@Example.org");
    assert_eq!(email.as_ref(), "Jo@Example.org");
    assert_eq!(
        serde_json::to_string(&email).ok().as_deref(),
        Some("\"Jo@Example.org\"")
    );
}

#[test]
fn error_messages_are_human() {
    assert_eq!(EmailError::Required.to_string(), "required");
    assert_eq!(
        EmailError::Invalid.to_string(),
        "enter a valid email address, like name@example.org"
    );
}

fn valid_address() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@([a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?\\.){1,3}[a-zA-Z]{2,6}"
        .prop_filter("no punycode prefix", |s| !s.to_ascii_lowercase().contains("xn--"))
}

proptest! {
    #[test]
    fn parse_never_panics(raw in any_text(300)) {
        let _ = EmailAddress::parse(&raw);
    }

    #[test]
    fn parse_never_panics_on_address_shapes(local in any_text(70), domain in any_text(70)) {
        let _ = EmailAddress::parse(&format!("{local}@{domain}"));
        let _ = EmailAddress::parse(&format!("{local}@{domain}.org"));
    }

    #[test]
    fn valid_addresses_parse_and_round_trip(raw in valid_address()) {
        let email = EmailAddress::parse(&raw);
        prop_assert!(email.is_ok(), "{:?}", email);
        let Ok(email) = email else { return Ok(()) };
        prop_assert_eq!(email.as_str(), raw.as_str());
        prop_assert_eq!(email.key(), raw.to_ascii_lowercase());
        prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
        let from_key = EmailAddress::parse(email.key()).map(|k| k.key().to_owned());
        prop_assert_eq!(from_key.as_deref(), Ok(email.key()));
    }

    #[test]
    fn whatever_parses_keeps_the_invariants(local in any_text(70), domain in any_text(30)) {
        if let Ok(email) = EmailAddress::parse(&format!("{local}@{domain}.org")) {
            prop_assert!(email.as_str().len() <= EmailAddress::MAX_BYTES);
            prop_assert!(!email.as_str().contains(['[', ']']));
            prop_assert!(email.key().is_ascii());
            prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
            prop_assert!(email.mask().contains("***@"));
        }
    }

    #[test]
    fn accepted_iff_local_part_at_most_64(n in 1usize..=100) {
        let parsed = parse(&format!("{}@example.org", "k".repeat(n)));
        if n <= EmailAddress::MAX_LOCAL_BYTES {
            prop_assert!(parsed.is_ok());
        } else {
            prop_assert_eq!(parsed, Err(EmailError::LocalPartTooLong));
        }
    }

    #[test]
    fn accepted_iff_at_most_254_bytes(n in 7usize..=400) {
        let raw = address_of_len(n);
        prop_assert_eq!(raw.len(), n);
        let parsed = parse(&raw);
        if n <= EmailAddress::MAX_BYTES {
            prop_assert!(parsed.is_ok(), "{:?}", parsed);
        } else {
            prop_assert_eq!(parsed, Err(EmailError::TooLong));
        }
    }

    #[test]
    fn mask_never_shows_more_than_two_letters_of_the_address(raw in valid_address()) {
        let Ok(email) = EmailAddress::parse(&raw) else { return Ok(()) };
        let masked = email.mask();
        let (local, domain) = masked.split_once("***@").unwrap_or_default();
        prop_assert_eq!(local.chars().count(), 1);
        prop_assert!(domain.chars().nth(1) == Some('*'));
    }
}
