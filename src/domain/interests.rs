//! Interests: zero or more of the configured list (`signup.interests`).

use std::fmt;

use serde::Serialize;

use super::text::quote_safely;

/// The values that are not in the configured list, each once, quoted safely
/// (control characters replaced, long values shortened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestsError {
    unknown: Vec<String>,
}

impl InterestsError {
    /// The unknown values, in the order given.
    pub fn unknown(&self) -> &[String] {
        &self.unknown
    }

    /// One message per unknown value: `unknown interest: X`.
    pub fn messages(&self) -> Vec<String> {
        self.unknown
            .iter()
            .map(|v| format!("unknown interest: {v}"))
            .collect()
    }
}

impl fmt::Display for InterestsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages().join("; "))
    }
}

impl std::error::Error for InterestsError {}

/// A subset of the configured interests, without duplicates, in the
/// configured order. Values are matched exactly after trimming; blank values
/// are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Interests(Vec<String>);

impl Interests {
    /// Checks each value against `allowed`. Every unknown value is reported.
    pub fn parse(values: &[String], allowed: &[String]) -> Result<Self, InterestsError> {
        Self::parse_iter(values.iter().map(String::as_str), allowed)
    }

    /// Reads back a value stored by [`Interests::joined`]. An interest that
    /// has since left the configuration is an error, as in `parse`.
    pub fn from_joined(joined: &str, allowed: &[String]) -> Result<Self, InterestsError> {
        Self::parse_iter(joined.split(';'), allowed)
    }

    fn parse_iter<'a>(
        values: impl Iterator<Item = &'a str>,
        allowed: &[String],
    ) -> Result<Self, InterestsError> {
        let mut chosen = vec![false; allowed.len()];
        let mut unknown: Vec<String> = Vec::new();
        for value in values.map(str::trim).filter(|v| !v.is_empty()) {
            match allowed.iter().position(|a| a.trim() == value) {
                Some(i) => chosen[i] = true,
                None => {
                    let quoted = quote_safely(value);
                    if !unknown.contains(&quoted) {
                        unknown.push(quoted);
                    }
                }
            }
        }
        if !unknown.is_empty() {
            return Err(InterestsError { unknown });
        }
        let mut interests: Vec<String> = Vec::new();
        for (a, _) in allowed.iter().zip(chosen).filter(|(_, c)| *c) {
            // Two configured entries may trim to the same name: keep one.
            if !interests.iter().any(|i| i == a.trim()) {
                interests.push(a.trim().to_owned());
            }
        }
        Ok(Self(interests))
    }

    /// The chosen interests, in the configured order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The chosen interests joined with `;` in the configured order (the
    /// stored and exported form); empty when none were chosen.
    pub fn joined(&self) -> String {
        self.0.join(";")
    }

    /// Whether none were chosen.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `interest` was chosen.
    pub fn contains(&self, interest: &str) -> bool {
        self.0.iter().any(|i| i == interest)
    }
}

#[cfg(test)]
#[path = "interests_tests.rs"]
mod tests;
