//! A whole signup: raw text from the edge in, checked values (or every
//! problem, per field) out.

use std::fmt::Display;

use serde::Serialize;

use super::{
    Consent, Country, EmailAddress, FieldErrors, Interests, OrgType, Organisation, PersonName,
    TimeZoneName,
};

/// A signup as read from a form or JSON body: every field as optional text.
/// The edge decides what counts as consent (form `yes`, JSON `true`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSignup {
    /// `email`, required.
    pub email: Option<String>,
    /// `name`, required.
    pub name: Option<String>,
    /// `organisation`, optional.
    pub organisation: Option<String>,
    /// `org_type`, optional.
    pub org_type: Option<String>,
    /// `country`, optional.
    pub country: Option<String>,
    /// `timezone`, optional.
    pub timezone: Option<String>,
    /// `interests`, zero or more.
    pub interests: Vec<String>,
    /// `consent`, required to be `Some(true)`.
    pub consent: Option<bool>,
}

/// A checked signup. Consent is not stored here: a `SignupDetails` exists
/// only if consent was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignupDetails {
    /// The address, as typed; `email.key()` identifies the person.
    pub email: EmailAddress,
    /// The person's name.
    pub name: PersonName,
    /// Their organisation, if given.
    pub organisation: Option<Organisation>,
    /// The kind of organisation, if given.
    pub org_type: Option<OrgType>,
    /// Their country, if given.
    pub country: Option<Country>,
    /// Their time zone, if given.
    pub timezone: Option<TimeZoneName>,
    /// The interests chosen (possibly none), in configured order.
    pub interests: Interests,
}

impl SignupDetails {
    /// Checks every field of `raw` against the rules; `allowed_interests` is
    /// the configured list. On failure, every problem is reported.
    pub fn parse(raw: RawSignup, allowed_interests: &[String]) -> Result<Self, FieldErrors> {
        Self::parse_with(raw, allowed_interests, FieldErrors::default())
    }

    /// As [`SignupDetails::parse`], starting from errors the edge already found
    /// (such as `country: must be text`). A field that already has an error is
    /// not checked again; every other field is.
    pub fn parse_with(
        raw: RawSignup,
        allowed_interests: &[String],
        mut errors: FieldErrors,
    ) -> Result<Self, FieldErrors> {
        // A missing required field reads as empty text, which is "required".
        let e = &mut errors;
        let email = check(e, "email", || {
            EmailAddress::parse(raw.email.as_deref().unwrap_or_default())
        });
        let name = check(e, "name", || {
            PersonName::parse(raw.name.as_deref().unwrap_or_default())
        });
        let organisation = check(e, "organisation", || {
            Organisation::parse_optional(raw.organisation.as_deref())
        });
        let org_type = check(e, "org_type", || {
            OrgType::parse_optional(raw.org_type.as_deref())
        });
        let country = check(e, "country", || {
            Country::parse_optional(raw.country.as_deref())
        });
        let timezone = check(e, "timezone", || {
            TimeZoneName::parse_optional(raw.timezone.as_deref())
        });
        let interests = match Interests::parse(&raw.interests, allowed_interests) {
            _ if e.has("interests") => None,
            Ok(interests) => Some(interests),
            Err(err) => {
                for message in err.messages() {
                    e.add("interests", message);
                }
                None
            }
        };
        let consent = check(e, "consent", || Consent::parse(raw.consent));
        match (email, name, consent) {
            (Some(email), Some(name), Some(_)) if errors.is_empty() => Ok(Self {
                email,
                name,
                organisation: organisation.flatten(),
                org_type: org_type.flatten(),
                country: country.flatten(),
                timezone: timezone.flatten(),
                interests: interests.unwrap_or_default(),
            }),
            // A missing required value always left an error behind.
            _ => Err(errors),
        }
    }
}

/// Runs `parse` unless `field` already has an error, recording its error.
fn check<T, E: Display>(
    errors: &mut FieldErrors,
    field: &'static str,
    parse: impl FnOnce() -> Result<T, E>,
) -> Option<T> {
    if errors.has(field) {
        return None;
    }
    parse()
        .map_err(|err| errors.add(field, err.to_string()))
        .ok()
}

#[cfg(test)]
#[path = "signup_tests.rs"]
mod tests;
