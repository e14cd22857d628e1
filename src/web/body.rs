//! Reading signup bodies. Every field is read as optional text first; a value of
//! the wrong type is a field error, not a rejected request. Only a body that is
//! not urlencoded text (form) or not a JSON object (API) is a 400.

use crate::domain::{FieldErrors, RawSignup};
use percent_encoding::percent_decode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Why a body could not be read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// 400: not `application/x-www-form-urlencoded` text.
    NotUrlencoded,
    /// 400: not a JSON object.
    NotJsonObject,
    /// 415: an API request that does not say `application/json`.
    NotJsonContentType,
}

/// A signup body read into optional text fields.
#[derive(Debug, Default)]
pub struct SubmittedSignup {
    pub raw: RawSignup,
    pub type_errors: FieldErrors,
    pub csrf_token: Option<String>,
    /// The honeypot field: anything in it means a bot.
    pub honeypot_filled: bool,
}

/// Decodes urlencoded pairs; invalid UTF-8 or percent escapes make it a 400.
/// `name=value&…`, each part percent-encoded: what [`decode_form`] reads back.
pub fn encode_form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    pairs
        .into_iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|_| BodyError::NotUrlencoded)?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(key)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(text: &str) -> Result<String, BodyError> {
    let spaced = text.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| BodyError::NotUrlencoded)
}

/// The first value of a field in a decoded form.
pub fn form_value(pairs: &[(String, String)], field: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == field)
        .map(|(_, v)| v.clone())
}

/// A signup from the HTML form.
pub fn signup_from_form(body: &[u8]) -> Result<SubmittedSignup, BodyError> {
    let pairs = decode_form(body)?;
    let text = |field: &str| form_value(&pairs, field);
    Ok(SubmittedSignup {
        raw: RawSignup {
            email: text("email"),
            name: text("name"),
            organisation: text("organisation"),
            org_type: text("org_type"),
            country: text("country"),
            timezone: text("timezone"),
            interests: pairs
                .iter()
                .filter(|(k, _)| k == "interests")
                .map(|(_, v)| v.clone())
                .collect(),
            consent: text("consent").map(|v| v == "yes"),
        },
        type_errors: FieldErrors::default(),
        csrf_token: text("csrf_token"),
        honeypot_filled: text("website").is_some_and(|v| !v.trim().is_empty()),
    })
}

/// Whether a Content-Type header names JSON.
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The signup API's body as the handler reads it: a JSON object whose fields are
/// all optional and may hold any JSON value, so that a value of the wrong type
/// is a 422 on that field rather than a rejected request. The schema documents
/// the type each field takes; `null` counts as absent; unknown fields are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({
    "email": "ana@example.org", "name": "Ana Tupou", "organisation": "University of Auckland",
    "org_type": "university", "country": "NZ", "timezone": "Pacific/Auckland",
    "interests": [], "consent": true
}))]
pub struct SignupRequest {
    /// Required: an email address (at most 254 bytes).
    #[schema(value_type = Option<String>)]
    pub email: Option<Value>,
    /// Required: 1 to 100 characters.
    #[schema(value_type = Option<String>)]
    pub name: Option<Value>,
    /// At most 200 characters.
    #[schema(value_type = Option<String>)]
    pub organisation: Option<Value>,
    /// `government`, `university`, `industry`, `nonprofit` or `other`.
    #[schema(value_type = Option<String>)]
    pub org_type: Option<Value>,
    /// An ISO 3166-1 alpha-2 code, any case.
    #[schema(value_type = Option<String>)]
    pub country: Option<Value>,
    /// An IANA time zone name.
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Value>,
    /// Zero or more of the group's interests.
    #[schema(value_type = Option<Vec<String>>)]
    pub interests: Option<Value>,
    /// Required: `true`.
    #[schema(value_type = Option<bool>)]
    pub consent: Option<Value>,
    /// Leave out or empty: a filled value is answered as a success and stored nowhere.
    #[schema(value_type = Option<String>)]
    pub website: Option<Value>,
}

/// A signup from the JSON API.
pub fn signup_from_json(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<SubmittedSignup, BodyError> {
    if !is_json_content_type(content_type) {
        return Err(BodyError::NotJsonContentType);
    }
    // Read as a map first: a repeated key keeps its last value, as a JSON object does.
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(object @ Value::Object(_)) => object,
        _ => return Err(BodyError::NotJsonObject),
    };
    let request: SignupRequest =
        serde_json::from_value(object).map_err(|_| BodyError::NotJsonObject)?;
    let mut errors = FieldErrors::default();
    let mut text = |field: &'static str, value: Option<Value>| json_text(field, value, &mut errors);
    let raw = RawSignup {
        email: text("email", request.email),
        name: text("name", request.name),
        organisation: text("organisation", request.organisation),
        org_type: text("org_type", request.org_type),
        country: text("country", request.country),
        timezone: text("timezone", request.timezone),
        interests: json_interests(request.interests, &mut errors),
        consent: json_consent(request.consent, &mut errors),
    };
    let honeypot_filled = match request.website {
        None => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    };
    Ok(SubmittedSignup {
        raw,
        type_errors: errors,
        csrf_token: None,
        honeypot_filled,
    })
}

fn json_text(
    field: &'static str,
    value: Option<Value>,
    errors: &mut FieldErrors,
) -> Option<String> {
    match value {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.add(field, "must be text");
            None
        }
    }
}

fn json_interests(value: Option<Value>, errors: &mut FieldErrors) -> Vec<String> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        Some(_) => {
            errors.add("interests", "must be a list of text values");
            Vec::new()
        }
    }
}

fn json_consent(value: Option<Value>, errors: &mut FieldErrors) -> Option<bool> {
    match value {
        None => None,
        Some(Value::Bool(b)) => Some(b),
        Some(_) => {
            errors.add("consent", "must be true or false");
            None
        }
    }
}

#[cfg(test)]
#[path = "body_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_keeps_repeated_interests_and_decodes_plus_and_percent() {
        let s =
            signup_from_form(b"name=Ana+Mar%C3%ADa&interests=a&interests=b&consent=yes").unwrap();
        assert_eq!(s.raw.name.as_deref(), Some("Ana María"));
        assert_eq!(s.raw.interests, vec!["a", "b"]);
        assert_eq!(s.raw.consent, Some(true));
    }

    #[test]
    fn form_rejects_invalid_utf8() {
        assert_eq!(
            signup_from_form(b"name=%FF").unwrap_err(),
            BodyError::NotUrlencoded
        );
        assert_eq!(
            signup_from_form(&[0xff, 0xfe]).unwrap_err(),
            BodyError::NotUrlencoded
        );
    }

    #[test]
    fn json_wrong_types_are_field_errors() {
        let s = signup_from_json(
            Some("application/json"),
            br#"{"email":5,"interests":"x","consent":"yes"}"#,
        )
        .unwrap();
        assert!(!s.type_errors.get("email").is_empty());
        assert!(!s.type_errors.get("interests").is_empty());
        assert!(!s.type_errors.get("consent").is_empty());
    }

    #[test]
    fn json_body_must_be_an_object_with_json_content_type() {
        assert_eq!(
            signup_from_json(Some("text/plain"), b"{}").unwrap_err(),
            BodyError::NotJsonContentType
        );
        assert_eq!(
            signup_from_json(Some("application/json"), b"[1]").unwrap_err(),
            BodyError::NotJsonObject
        );
        assert_eq!(
            signup_from_json(Some("application/json; charset=utf-8"), b"nope").unwrap_err(),
            BodyError::NotJsonObject
        );
    }
}
