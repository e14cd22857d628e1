//! Announcements as organisers write them: subject, Markdown body, audience,
//! and the life cycle of statuses and the actions that move between them.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::{TextError, bounded_text};
use super::{Country, EmailAddress, FieldErrors, OrgType, TimeZoneName, quote_safely};

/// The longest subject, in characters.
pub const SUBJECT_MAX_CHARS: usize = 150;
/// The longest body, in bytes of Markdown.
pub const BODY_MAX_BYTES: usize = 64 * 1024;
/// Test sends go to one to this many typed addresses at a time.
pub const TEST_ADDRESSES_MAX: usize = 5;

/// A subject: 1–150 characters, no control or formatting characters (so no
/// line break can reach the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        bounded_text(raw, SUBJECT_MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("required")]
    Required,
    #[error("at most 64 KiB")]
    TooLong,
}

/// The Markdown body, at most 64 KiB, kept as typed (line ends normalised to `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementBody(String);

impl AnnouncementBody {
    pub fn parse(raw: &str) -> Result<Self, BodyError> {
        let text = raw.replace("\r\n", "\n");
        if text.trim().is_empty() {
            return Err(BodyError::Required);
        }
        if text.len() > BODY_MAX_BYTES {
            return Err(BodyError::TooLong);
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who an announcement goes to: confirmed members, narrowed by each non-empty
/// list. Kinds combine with AND, values of one kind with OR; a member without
/// a value does not match a non-empty list. Stored as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub org_types: Vec<String>,
    #[serde(default)]
    pub interests: Vec<String>,
    #[serde(default)]
    pub timezones: Vec<String>,
}

/// An audience as typed: the values of the repeated `country`, `org_type`,
/// `interest` and `timezone` fields.
#[derive(Debug, Clone, Default)]
pub struct RawAudience {
    pub countries: Vec<String>,
    pub org_types: Vec<String>,
    pub interests: Vec<String>,
    pub timezones: Vec<String>,
}

impl Audience {
    /// Checks every value against what members can have: country codes, org
    /// types, the configured interests, IANA zones. Unknown values are errors
    /// under the field's name; blank values are dropped, repeats kept once.
    pub fn parse(raw: &RawAudience, allowed_interests: &[String]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut audience = Audience::default();
        for value in blank_free(&raw.countries) {
            match Country::parse(value) {
                Ok(country) => push_once(&mut audience.countries, country.as_str()),
                Err(_) => errors.add("country", unknown("country", value)),
            }
        }
        for value in blank_free(&raw.org_types) {
            match OrgType::parse(value) {
                Ok(kind) => push_once(&mut audience.org_types, kind.as_str()),
                Err(_) => errors.add("org_type", unknown("organisation type", value)),
            }
        }
        for value in blank_free(&raw.interests) {
            match allowed_interests.iter().find(|known| *known == value) {
                Some(known) => push_once(&mut audience.interests, known),
                None => errors.add("interest", unknown("interest", value)),
            }
        }
        for value in blank_free(&raw.timezones) {
            match TimeZoneName::parse(value) {
                Ok(zone) => push_once(&mut audience.timezones, zone.as_str()),
                Err(_) => errors.add("timezone", unknown("time zone", value)),
            }
        }
        if errors.is_empty() {
            Ok(audience)
        } else {
            Err(errors)
        }
    }

    /// Everyone confirmed: no list narrows it.
    pub fn is_everyone(&self) -> bool {
        self.countries.is_empty()
            && self.org_types.is_empty()
            && self.interests.is_empty()
            && self.timezones.is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({
            "countries": self.countries,
            "org_types": self.org_types,
            "interests": self.interests,
            "timezones": self.timezones,
        })
        .to_string()
    }

    /// The stored form; values are not re-checked against today's settings
    /// (an interest removed from the form since still names the same members).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

fn blank_free(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn push_once(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

fn unknown(what: &str, value: &str) -> String {
    format!("unknown {what}: {}", quote_safely(value))
}

/// A checked announcement, ready to store as a draft.
#[derive(Debug, Clone)]
pub struct AnnouncementDraft {
    pub subject: Subject,
    pub body: AnnouncementBody,
    pub audience: Audience,
    pub archive: bool,
}

impl AnnouncementDraft {
    /// Checks every field, reporting every problem under `subject`, `body`,
    /// `country`, `org_type`, `interest` and `timezone`.
    pub fn parse(
        subject: &str,
        body: &str,
        audience: &RawAudience,
        archive: bool,
        allowed_interests: &[String],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let subject = Subject::parse(subject).map_err(|e| errors.add("subject", e.to_string()));
        let body = AnnouncementBody::parse(body).map_err(|e| errors.add("body", e.to_string()));
        let audience = Audience::parse(audience, allowed_interests).map_err(|e| errors.merge(e));
        match (subject, body, audience) {
            (Ok(subject), Ok(body), Ok(audience)) => Ok(Self {
                subject,
                body,
                audience,
                archive,
            }),
            _ => Err(errors),
        }
    }
}

/// `announcements.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnouncementStatus {
    Draft,
    Scheduled,
    Sending,
    Paused,
    Sent,
    Cancelled,
}

impl AnnouncementStatus {
    pub const ALL: [AnnouncementStatus; 6] = [
        AnnouncementStatus::Draft,
        AnnouncementStatus::Scheduled,
        AnnouncementStatus::Sending,
        AnnouncementStatus::Paused,
        AnnouncementStatus::Sent,
        AnnouncementStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementStatus::Draft => "draft",
            AnnouncementStatus::Scheduled => "scheduled",
            AnnouncementStatus::Sending => "sending",
            AnnouncementStatus::Paused => "paused",
            AnnouncementStatus::Sent => "sent",
            AnnouncementStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for AnnouncementStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an organiser (or a worker) does to an announcement. Each is one
/// guarded transition of SPEC's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send now: draft → sending, creating the deliveries.
    SendNow,
    /// Send at a time: draft → scheduled.
    Schedule,
    /// scheduled → draft, to edit.
    Unschedule,
    /// sending → paused.
    Pause,
    /// paused → sending.
    Resume,
    /// draft, scheduled, sending, paused → cancelled.
    Cancel,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SendNow | Action::Schedule => "send",
            Action::Unschedule => "unschedule",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
        }
    }

    /// The statuses this action may start from.
    pub fn from(self) -> &'static [AnnouncementStatus] {
        use AnnouncementStatus::*;
        match self {
            Action::SendNow | Action::Schedule => &[Draft],
            Action::Unschedule => &[Scheduled],
            Action::Pause => &[Sending],
            Action::Resume => &[Paused],
            Action::Cancel => &[Draft, Scheduled, Sending, Paused],
        }
    }

    /// The status it moves to.
    pub fn to(self) -> AnnouncementStatus {
        match self {
            Action::SendNow | Action::Resume => AnnouncementStatus::Sending,
            Action::Schedule => AnnouncementStatus::Scheduled,
            Action::Unschedule => AnnouncementStatus::Draft,
            Action::Pause => AnnouncementStatus::Paused,
            Action::Cancel => AnnouncementStatus::Cancelled,
        }
    }

    /// Sending something that is no longer a draft is a harmless repeat (a
    /// double click), not a conflict.
    pub fn repeats_harmlessly(self) -> bool {
        matches!(self, Action::SendNow | Action::Schedule)
    }
}

/// A schedule more than this late when a worker finds it is not sent.
pub const MISSED_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(6);
/// The `status_reason` of a schedule found too late.
pub const MISSED_ITS_TIME: &str = "missed its time";

/// Checks a requested send time: it must be in the future.
pub fn schedule_time(at: DateTime<Utc>, now: NaiveDateTime) -> Result<NaiveDateTime, &'static str> {
    let at = at.naive_utc();
    if at <= now {
        return Err("must be in the future");
    }
    Ok(at)
}

/// Why a list of test addresses was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestAddressesError {
    #[error("required")]
    Required,
    #[error("at most 5 addresses")]
    TooMany,
    #[error("not an email address: {0}")]
    Invalid(String),
}

/// One to five addresses, separated by commas, semicolons or line breaks (or
/// given one per argument), each checked, repeats kept once.
pub fn parse_test_addresses<'a>(
    raw: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<EmailAddress>, TestAddressesError> {
    let mut addresses: Vec<EmailAddress> = Vec::new();
    for part in raw
        .into_iter()
        .flat_map(|r| r.split([',', ';', '\n', '\r']))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let address = EmailAddress::parse(part)
            .map_err(|_| TestAddressesError::Invalid(quote_safely(part)))?;
        if !addresses.iter().any(|a| a.key() == address.key()) {
            addresses.push(address);
        }
    }
    match addresses.len() {
        0 => Err(TestAddressesError::Required),
        n if n > TEST_ADDRESSES_MAX => Err(TestAddressesError::TooMany),
        _ => Ok(addresses),
    }
}

#[cfg(test)]
#[path = "announcement_tests.rs"]
mod tests;
