//! Generated signup bodies: decoding never panics, and every field comes out
//! as the body said (text as text, a wrong type as that field's error).

use super::*;
use crate::domain::text::strategies::any_text;
use proptest::prelude::*;
use serde_json::{Map, json};

const TEXT_FIELDS: [&str; 6] = [
    "email",
    "name",
    "organisation",
    "org_type",
    "country",
    "timezone",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any_text(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(any_text(4), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of the signup's fields (any values) and some others.
fn signup_object() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop_oneof![
        proptest::sample::select(TEXT_FIELDS.to_vec()).prop_map(str::to_owned),
        Just("interests".to_owned()),
        Just("consent".to_owned()),
        Just("website".to_owned()),
        any_text(6),
    ];
    proptest::collection::btree_map(names, json_value(), 0..10)
        .prop_map(|m| m.into_iter().collect())
}

fn form_key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec!["email", "name", "consent", "interests", "website"])
            .prop_map(str::to_owned),
        any_text(10),
    ]
}

fn encode(pairs: &[(String, String)]) -> String {
    super::encode_form(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_bytes_are_read_or_refused_without_panicking(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        content_type in prop_oneof![
            Just("application/json".to_owned()),
            Just("text/plain".to_owned()),
            any_text(20),
        ],
    ) {
        let _ = signup_from_form(&body);
        match signup_from_json(Some(&content_type), &body) {
            Err(BodyError::NotJsonContentType) => prop_assert!(!is_json_content_type(Some(&content_type))),
            Err(BodyError::NotJsonObject) => prop_assert!(
                !matches!(serde_json::from_slice::<Value>(&body), Ok(Value::Object(_)))
            ),
            Err(BodyError::NotUrlencoded) => prop_assert!(false, "not a form"),
            Ok(_) => prop_assert!(matches!(serde_json::from_slice::<Value>(&body), Ok(Value::Object(_)))),
        }
    }

    #[test]
    fn every_json_field_is_text_absent_or_its_own_error(object in signup_object()) {
        let body = serde_json::to_vec(&Value::Object(object.clone())).unwrap();
        let read = signup_from_json(Some("application/json; charset=utf-8"), &body).unwrap();
        let fields = [
            read.raw.email, read.raw.name, read.raw.organisation,
            read.raw.org_type, read.raw.country, read.raw.timezone,
        ];
        for (name, value) in TEXT_FIELDS.iter().zip(fields) {
            match object.get(*name) {
                None | Some(Value::Null) => {
                    prop_assert_eq!(value, None);
                    prop_assert!(read.type_errors.get(name).is_empty());
                }
                Some(Value::String(s)) => {
                    prop_assert_eq!(value.as_deref(), Some(s.as_str()));
                    prop_assert!(read.type_errors.get(name).is_empty());
                }
                Some(_) => {
                    prop_assert_eq!(value, None);
                    prop_assert!(!read.type_errors.get(name).is_empty(), "{} wrong type", name);
                }
            }
        }
        match object.get("consent") {
            None | Some(Value::Null) => prop_assert_eq!(read.raw.consent, None),
            Some(Value::Bool(b)) => prop_assert_eq!(read.raw.consent, Some(*b)),
            Some(_) => prop_assert!(!read.type_errors.get("consent").is_empty()),
        }
        match object.get("interests") {
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                prop_assert_eq!(read.raw.interests.len(), items.len());
            }
            None | Some(Value::Null) => prop_assert!(read.raw.interests.is_empty()),
            Some(_) => prop_assert!(!read.type_errors.get("interests").is_empty()),
        }
    }

    #[test]
    fn an_encoded_form_decodes_to_its_pairs(
        pairs in proptest::collection::vec((form_key(), any_text(20)), 0..8),
    ) {
        let body = encode(&pairs);
        prop_assert_eq!(decode_form(body.as_bytes()).unwrap(), pairs.clone());
        let read = signup_from_form(body.as_bytes()).unwrap();
        let first = |field: &str| pairs.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone());
        prop_assert_eq!(read.raw.email, first("email"));
        prop_assert_eq!(read.raw.name, first("name"));
        prop_assert_eq!(read.raw.consent, first("consent").map(|v| v == "yes"));
        prop_assert_eq!(
            read.raw.interests.len(),
            pairs.iter().filter(|(k, _)| k == "interests").count()
        );
    }
}
