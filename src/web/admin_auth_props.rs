//! Generated `next` values: whatever is followed after login is a valid
//! `Location` value under `/admin`.

use super::safe_next;
use crate::domain::text::strategies::any_text;
use actix_web::http::header::HeaderValue;
use proptest::prelude::*;

fn next() -> impl Strategy<Value = String> {
    prop_oneof![
        any_text(40),
        any_text(30).prop_map(|rest| format!("/admin{rest}")),
        any_text(30).prop_map(|rest| format!("/admin/{rest}")),
        any_text(30).prop_map(|rest| format!("/admin?{rest}")),
        "(/admin)?[/\\\\?#%.:@a-z\\x00-\\x1f\\x7f\\u{80}-\\u{9f}]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_followed_next_is_a_header_value_under_admin(next in next()) {
        if safe_next(&next) {
            prop_assert!(HeaderValue::from_str(&next).is_ok(), "{next:?}");
            prop_assert!(next.starts_with("/admin"));
            prop_assert!(!next.starts_with("/admin//") && !next.contains('\\'));
            let rest = &next["/admin".len()..];
            prop_assert!(rest.is_empty() || rest.starts_with(['/', '?']), "{next:?}");
        }
    }
}
