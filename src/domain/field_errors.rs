//! Problems with a submitted signup, gathered per field.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The signup fields, as used for error keys and form names.
pub const FIELD_NAMES: [&str; 8] = [
    "email",
    "name",
    "organisation",
    "org_type",
    "country",
    "timezone",
    "interests",
    "consent",
];

/// Every problem found, as short messages under each field's name. Serialises
/// as a plain map: `{"email": ["required"], "country": ["…"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<&'static str, Vec<String>>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `message` under `field` (an identical message is kept once).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        let message = message.into();
        let messages = self.0.entry(field).or_default();
        if !messages.contains(&message) {
            messages.push(message);
        }
    }

    /// Adds every error of `other`.
    pub fn merge(&mut self, other: FieldErrors) {
        for (field, messages) in other.0 {
            for message in messages {
                self.add(field, message);
            }
        }
    }

    /// Whether there are no errors at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields have errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `field` has any error.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// The messages for `field`, empty if it has none.
    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map_or(&[], Vec::as_slice)
    }

    /// Each field with errors and its messages, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &[String])> {
        self.0
            .iter()
            .map(|(field, messages)| (*field, messages.as_slice()))
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, messages) in self.iter() {
            for message in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {message}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_messages_per_field() {
        let mut errors = FieldErrors::new();
        assert!(errors.is_empty());
        errors.add("name", "required");
        errors.add("email", "must be text");
        errors.add("email", String::from("required"));
        errors.add("email", "required");
        assert_eq!(errors.len(), 2);
        assert!(errors.has("email") && !errors.has("country"));
        assert_eq!(errors.get("email"), ["must be text", "required"]);
        assert!(errors.get("country").is_empty());
        let fields: Vec<_> = errors.iter().map(|(f, m)| (f, m.len())).collect();
        assert_eq!(fields, [("email", 2), ("name", 1)]);
    }

    #[test]
    fn merges_without_duplicates() {
        let mut a = FieldErrors::new();
        a.add("email", "required");
        let mut b = FieldErrors::new();
        b.add("email", "required");
        b.add("consent", "required");
        a.merge(b);
        assert_eq!(a.get("email"), ["required"]);
        assert_eq!(a.get("consent"), ["required"]);
    }

    #[test]
    fn serialises_as_a_plain_map_and_displays_as_a_line() {
        let mut errors = FieldErrors::new();
        errors.add("name", "required");
        errors.add("country", "must be text");
        let json = serde_json::to_string(&errors).ok();
        assert_eq!(
            json.as_deref(),
            Some(r#"{"country":["must be text"],"name":["required"]}"#)
        );
        assert_eq!(errors.to_string(), "country: must be text; name: required");
        assert_eq!(
            serde_json::to_string(&FieldErrors::new()).ok().as_deref(),
            Some("{}")
        );
    }
}
