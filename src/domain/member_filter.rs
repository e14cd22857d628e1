//! Which registrations an organiser means: the one parser behind the audience
//! page, the CSV export (its query and the CLI's flags) and, through
//! [`Audience`], an announcement's audience.
//!
//! Different kinds combine with AND, repeated values of one kind with OR; a
//! person without a value does not match a non-empty list.

use super::announcement::{Audience, RawAudience};
use super::{FieldErrors, Status, quote_safely};
use chrono::NaiveDate;

/// A `q` shorter than this (in characters, after trimming) is ignored: it
/// would match nearly everyone and no index helps it.
pub const MIN_QUERY_CHARS: usize = 2;
/// A longer `q` is refused: no address, name or organisation is longer.
pub const MAX_QUERY_CHARS: usize = 200;
const MAX_SOURCE_CHARS: usize = 100;

/// A filter as typed: the query's or the command line's values, unchecked.
#[derive(Debug, Clone, Default)]
pub struct RawMemberFilter {
    pub status: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub q: Option<String>,
    pub sources: Vec<String>,
    pub audience: RawAudience,
}

impl RawMemberFilter {
    /// Reads the fields `status`, `since`, `until`, `q`, and the repeated
    /// `source`, `country`, `org_type`, `interest` and `timezone` from
    /// `values`, which gives every value sent under a name.
    pub fn from_fields(values: impl Fn(&str) -> Vec<String>) -> Self {
        let first = |name: &str| values(name).into_iter().next();
        Self {
            status: first("status"),
            since: first("since"),
            until: first("until"),
            q: first("q"),
            sources: values("source"),
            audience: RawAudience {
                countries: values("country"),
                org_types: values("org_type"),
                interests: values("interest"),
                timezones: values("timezone"),
            },
        }
    }
}

/// A checked filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// `None` is every status.
    pub status: Option<Status>,
    /// Created on or after this date, 00:00 UTC.
    pub since: Option<NaiveDate>,
    /// Created before this date, 00:00 UTC (exclusive).
    pub until: Option<NaiveDate>,
    /// Part of the email, name or organisation, matched ignoring case.
    pub q: Option<String>,
    pub sources: Vec<String>,
    pub audience: Audience,
}

impl MemberFilter {
    /// Confirmed members narrowed by `audience`: whom an announcement reaches.
    pub fn members(audience: Audience) -> Self {
        Self {
            status: Some(Status::Confirmed),
            audience,
            ..Self::default()
        }
    }

    /// Checks every value. A missing `status` is `default_status`; `all` is
    /// every status. Problems are reported under the field's name.
    pub fn parse(
        raw: &RawMemberFilter,
        default_status: Option<Status>,
        allowed_interests: &[String],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let status = match super::non_blank(raw.status.as_deref()) {
            None => default_status,
            Some("all") => None,
            Some(text) => Status::parse(text).or_else(|| {
                errors.add(
                    "status",
                    format!(
                        "use confirmed, pending, unsubscribed or all, not {}",
                        quote_safely(text)
                    ),
                );
                None
            }),
        };
        let since = parse_date(raw.since.as_deref(), "since", &mut errors);
        let until = parse_date(raw.until.as_deref(), "until", &mut errors);
        let q = parse_query(raw.q.as_deref(), &mut errors);
        let mut sources = Vec::new();
        for source in raw
            .sources
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            if source.chars().count() > MAX_SOURCE_CHARS || source.chars().any(char::is_control) {
                errors.add("source", format!("not a source: {}", quote_safely(source)));
            } else if !sources.iter().any(|s| s == source) {
                sources.push(source.to_owned());
            }
        }
        let audience =
            Audience::parse(&raw.audience, allowed_interests).map_err(|e| errors.merge(e));
        match audience {
            Ok(audience) if errors.is_empty() => Ok(Self {
                status,
                since,
                until,
                q,
                sources,
                audience,
            }),
            _ => Err(errors),
        }
    }

    /// The filter as the export log records it: never the searched text,
    /// which may be part of a person's address (`q=(set)`).
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("status={}", self.status_text())];
        if let Some(date) = self.since {
            parts.push(format!("since={date}"));
        }
        if let Some(date) = self.until {
            parts.push(format!("until={date}"));
        }
        if self.q.is_some() {
            parts.push("q=(set)".to_owned());
        }
        for (name, values) in self.lists() {
            if !values.is_empty() {
                parts.push(format!("{name}={}", values.join(",")));
            }
        }
        parts.join(" ")
    }

    /// The filter as query pairs, `status` always included (as `all` for
    /// every status), so a link carries exactly this filter to another page.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("status", self.status_text().to_owned())];
        if let Some(date) = self.since {
            pairs.push(("since", date.to_string()));
        }
        if let Some(date) = self.until {
            pairs.push(("until", date.to_string()));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        for (name, values) in self.lists() {
            pairs.extend(values.iter().map(|v| (name, v.clone())));
        }
        pairs
    }

    /// `confirmed`, `pending`, `unsubscribed` or `all`.
    pub fn status_text(&self) -> &'static str {
        self.status.map_or("all", Status::as_str)
    }

    /// Nothing narrows it but its status.
    pub fn is_status_only(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.q.is_none()
            && self.sources.is_empty()
            && self.audience.is_everyone()
    }

    fn lists(&self) -> [(&'static str, &[String]); 5] {
        [
            ("source", &self.sources),
            ("country", &self.audience.countries),
            ("org_type", &self.audience.org_types),
            ("interest", &self.audience.interests),
            ("timezone", &self.audience.timezones),
        ]
    }
}

fn parse_date(
    raw: Option<&str>,
    field: &'static str,
    errors: &mut FieldErrors,
) -> Option<NaiveDate> {
    let text = super::non_blank(raw)?;
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        // Dates beyond ±100 years of the epoch's century are typing slips.
        Ok(date) if (1900..=2200).contains(&chrono::Datelike::year(&date)) => Some(date),
        _ => {
            errors.add(
                field,
                format!("use a date like 2026-01-31, not {}", quote_safely(text)),
            );
            None
        }
    }
}

fn parse_query(raw: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let text = super::non_blank(raw)?;
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        errors.add("q", format!("at most {MAX_QUERY_CHARS} characters"));
        return None;
    }
    if text.chars().any(char::is_control) {
        errors.add("q", "no control characters");
        return None;
    }
    (chars >= MIN_QUERY_CHARS).then(|| text.to_owned())
}

#[cfg(test)]
#[path = "member_filter_tests.rs"]
mod tests;
