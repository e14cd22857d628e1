//! The audience page (`GET /admin/subscribers`): its filter form filled with
//! what was asked, the matching people in keyset pages, sort links, counts,
//! and links that carry the same filter to the next page and to the export.

use crate::configuration::{GroupSettings, SignupSettings};
use crate::db::people::{Direction, PersonRow, Sort, SortKey};
use crate::domain::member_filter::{MemberFilter, RawMemberFilter};
use crate::domain::{OrgType, Status};
use crate::web::body::encode_form;
use crate::web::pages::{Choice, country_choices, interest_choices, show_optional_time, show_time};
use crate::web::timezone_menu::{ChoiceGroup, timezone_menu};
use askama::Template;
use chrono::{DateTime, Utc};

/// The page's link to `path` with `filter`, then `extra`.
fn link(path: &str, filter: &MemberFilter, extra: &[(&str, &str)]) -> String {
    let pairs = filter.query_pairs();
    let all = pairs
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(extra.iter().copied());
    format!("{path}?{}", encode_form(all))
}

/// One row of the list.
pub struct AudienceRow {
    pub href: String,
    pub email: String,
    pub name: String,
    pub organisation: String,
    pub country: String,
    pub status: String,
    pub created: String,
    pub confirmed: String,
}

impl AudienceRow {
    pub fn from(row: &PersonRow) -> Self {
        let status = match &row.unsubscribe_reason {
            Some(reason) if row.status == Status::Unsubscribed.as_str() => {
                format!("unsubscribed ({reason})")
            }
            _ => row.status.clone(),
        };
        Self {
            href: format!("/admin/subscribers/{}", row.id),
            email: row.email.clone(),
            name: row.name.clone(),
            organisation: row.organisation.clone().unwrap_or_default(),
            country: row.country.clone().unwrap_or_default(),
            status,
            created: show_time(&row.created_at),
            confirmed: show_optional_time(&row.confirmed_at),
        }
    }
}

/// A column heading that sorts: its link and, when it is the current sort,
/// the `aria-sort` value.
pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    pub aria_sort: Option<&'static str>,
}

/// One status with its count under the rest of the filter.
pub struct StatusTab {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// What was asked, as the form shows it (values kept even when refused).
pub struct FilterForm {
    pub q: String,
    pub since: String,
    pub until: String,
    pub source: String,
    pub status: Vec<Choice>,
    pub countries: Vec<Choice>,
    pub org_types: Vec<Choice>,
    pub interests: Vec<Choice>,
    pub timezones: Vec<ChoiceGroup>,
}

impl FilterForm {
    /// Time-zone offsets are those at `now`.
    pub fn from(raw: &RawMemberFilter, signup: &SignupSettings, now: DateTime<Utc>) -> Self {
        let first = |value: &Option<String>| value.clone().unwrap_or_default();
        let status_now = raw.status.as_deref().unwrap_or("all");
        let status = ["all", "confirmed", "pending", "unsubscribed"]
            .into_iter()
            .map(|value| Choice {
                value: value.to_owned(),
                label: value.to_owned(),
                selected: value == status_now,
            })
            .collect();
        let audience = &raw.audience;
        let has = |list: &[String], value: &str| list.iter().any(|v| v.eq_ignore_ascii_case(value));
        Self {
            q: first(&raw.q),
            since: first(&raw.since),
            until: first(&raw.until),
            source: raw.sources.first().cloned().unwrap_or_default(),
            status,
            countries: country_choices(&signup.featured_countries, |v| has(&audience.countries, v)),
            org_types: OrgType::ALL
                .iter()
                .map(|t| Choice {
                    value: t.as_str().to_owned(),
                    label: t.label().to_owned(),
                    selected: has(&audience.org_types, t.as_str()),
                })
                .collect(),
            interests: interest_choices(signup, &audience.interests),
            timezones: timezone_menu(
                &signup.featured_timezones,
                audience.timezones.iter().map(String::as_str),
                now,
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/subscribers.html")]
pub struct AudiencePage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub form: FilterForm,
    /// The filter's problems; the list is not shown while there are any.
    pub problems: Option<String>,
    pub rows: Vec<AudienceRow>,
    /// How many match the whole filter.
    pub matching: i64,
    pub tabs: Vec<StatusTab>,
    pub sort_links: Vec<SortLink>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub export_href: String,
}

impl AudiencePage {
    /// The links and counts for a checked filter.
    pub fn links(
        filter: &MemberFilter,
        sort: Sort,
        status_counts: &[(String, i64)],
    ) -> (Vec<StatusTab>, Vec<SortLink>, String) {
        let count_of = |status: &str| {
            status_counts
                .iter()
                .filter(|(s, _)| status == "all" || s == status)
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        let sort_pairs = [
            ("sort", sort.key.as_str()),
            ("dir", sort.direction.as_str()),
        ];
        let tabs = ["all", "confirmed", "pending", "unsubscribed"]
            .into_iter()
            .map(|status| {
                let mut this = filter.clone();
                this.status = Status::parse(status);
                StatusTab {
                    label: format!("{status} ({})", count_of(status)),
                    href: link("/admin/subscribers", &this, &sort_pairs),
                    current: filter.status_text() == status,
                }
            })
            .collect();
        let sort_links = [
            (SortKey::Email, "Email"),
            (SortKey::Name, "Name"),
            (SortKey::Created, "Signed up"),
            (SortKey::Confirmed, "Confirmed"),
        ]
        .into_iter()
        .map(|(key, label)| {
            let current = sort.key == key;
            let direction = if current {
                sort.direction.reversed()
            } else {
                key.default_direction()
            };
            SortLink {
                label,
                href: link(
                    "/admin/subscribers",
                    filter,
                    &[("sort", key.as_str()), ("dir", direction.as_str())],
                ),
                aria_sort: current.then_some(match sort.direction {
                    Direction::Asc => "ascending",
                    Direction::Desc => "descending",
                }),
            }
        })
        .collect();
        let export = link("/admin/export.csv", filter, &[]);
        (tabs, sort_links, export)
    }

    /// The link to the page after `cursor`.
    pub fn next_link(filter: &MemberFilter, sort: Sort, cursor: &str) -> String {
        link(
            "/admin/subscribers",
            filter,
            &[
                ("sort", sort.key.as_str()),
                ("dir", sort.direction.as_str()),
                ("after", cursor),
            ],
        )
    }

    /// The link to the first page of the same list.
    pub fn first_link(filter: &MemberFilter, sort: Sort) -> String {
        link(
            "/admin/subscribers",
            filter,
            &[
                ("sort", sort.key.as_str()),
                ("dir", sort.direction.as_str()),
            ],
        )
    }
}
