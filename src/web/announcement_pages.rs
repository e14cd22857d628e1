//! View models of the organisers' announcement pages: the list and an
//! announcement's page (preview, audience, progress, test send, schedule,
//! actions, edit form). Plain strings, flags and choices; no logic left for
//! the templates.

use crate::announcements::progress::{Overview, started};
use crate::announcements::schedule;
use crate::configuration::{GroupSettings, Settings};
use crate::crypto::Keys;
use crate::db::announcements::{AnnouncementRow, DeliveryCounts};
use crate::domain::announcement::{Action, AnnouncementStatus};
use crate::domain::{Country, FieldErrors, OrgType, TimeZoneName};
use crate::email::render::{RenderError, Renderer};
use crate::web::announcement_form::{AnnouncementForm, SubmittedAnnouncement};
use crate::web::pages::{PageErrors, show_optional_time, show_time};
use crate::web::timezone_menu::{ChoiceGroup, timezone_menu};
use askama::Template;

/// Where the preview's unsubscribe link goes: nowhere (a member's own link
/// would carry a working token).
pub const INERT_LINK: &str = "#";

/// One line of the list.
pub struct ListRow {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub when: String,
    pub counts: DeliveryCounts,
}

/// `GET /admin/announcements`.
#[derive(Template)]
#[template(path = "admin/announcements.html")]
pub struct ListPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub rows: Vec<ListRow>,
}

impl ListPage {
    pub fn new(
        group: GroupSettings,
        csrf_token: String,
        rows: Vec<(AnnouncementRow, DeliveryCounts)>,
    ) -> Self {
        let rows = rows
            .into_iter()
            .map(|(row, counts)| ListRow {
                when: show_time(&row.finished_at.or(row.started_at).unwrap_or(row.created_at)),
                status: row.status.clone(),
                id: row.id,
                subject: row.subject,
                counts,
            })
            .collect();
        Self {
            group,
            csrf_token,
            rows,
        }
    }
}

/// What the organiser typed into one of the page's forms, kept for a 422.
#[derive(Debug, Default)]
pub struct Kept {
    pub edit: Option<(SubmittedAnnouncement, FieldErrors)>,
    /// The addresses typed.
    pub test: Option<(String, FieldErrors)>,
    /// The local time and zone typed.
    pub schedule: Option<(String, String, FieldErrors)>,
}

/// Which buttons the status allows.
pub struct Actions {
    pub send: bool,
    pub pause: bool,
    pub resume: bool,
    pub cancel: bool,
    pub unschedule: bool,
    /// Failed deliveries can be requeued while the worker still sends the
    /// announcement's deliveries: while it is sending or paused.
    pub retry: bool,
}

impl Actions {
    fn for_status(status: AnnouncementStatus) -> Self {
        let can = |action: Action| action.from().contains(&status);
        Self {
            send: can(Action::SendNow),
            pause: can(Action::Pause),
            resume: can(Action::Resume),
            cancel: can(Action::Cancel),
            unschedule: can(Action::Unschedule),
            retry: matches!(
                status,
                AnnouncementStatus::Sending | AnnouncementStatus::Paused
            ),
        }
    }
}

/// A scheduled time in the zone chosen and in UTC.
pub struct ScheduledAt {
    pub local: String,
    pub zone: String,
    pub utc: String,
}

pub struct TestForm {
    pub addresses: String,
    pub errors: PageErrors,
    pub used: i64,
    pub per_hour: u32,
}

pub struct ScheduleForm {
    pub local: String,
    pub zones: Vec<ChoiceGroup>,
    pub errors: PageErrors,
}

pub struct FailedRow {
    pub id: String,
    pub email: String,
    pub attempts: i32,
    pub last_error: String,
    pub queued: String,
}

pub struct TestRow {
    pub address: String,
    pub by: String,
    pub status: String,
    pub when: String,
}

/// `GET /admin/announcements/{id}`, and its 422s.
#[derive(Template)]
#[template(path = "admin/announcement.html")]
pub struct AnnouncementPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub id: String,
    pub subject: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub created: String,
    pub archive: bool,
    pub started: bool,
    pub audience: i64,
    pub audience_filters: Vec<(String, String)>,
    /// The member's HTML, for `<iframe srcdoc>` (escaped by the template).
    pub preview_html: String,
    pub counts: DeliveryCounts,
    pub per_minute: i64,
    pub finish: String,
    pub scheduled: Option<ScheduledAt>,
    pub actions: Actions,
    pub edit: Option<AnnouncementForm>,
    pub test: TestForm,
    pub schedule: ScheduleForm,
    pub failed: Vec<FailedRow>,
    pub tests: Vec<TestRow>,
}

/// The member's HTML of `row` with the inert unsubscribe link.
pub fn preview_html(
    settings: &Settings,
    keys: &Keys,
    row: &AnnouncementRow,
) -> Result<String, RenderError> {
    let renderer = Renderer::from_settings(settings, keys);
    let (_, html) = renderer.announcement_parts(&row.subject, &row.body, INERT_LINK, false)?;
    Ok(html)
}

/// What the page is built from besides the overview.
pub struct PageParts {
    pub csrf_token: String,
    pub preview_html: String,
    pub kept: Kept,
    /// The zone the schedule is shown and chosen in.
    pub zone: TimeZoneName,
    /// When the page is made: the time-zone menus' offsets are those now.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl AnnouncementPage {
    pub fn new(settings: &Settings, overview: Overview, parts: PageParts) -> Self {
        let PageParts {
            csrf_token,
            preview_html,
            kept,
            zone,
            now,
        } = parts;
        let row = &overview.row;
        let status = row.status();
        let edit = (status == AnnouncementStatus::Draft).then(|| {
            let (sent, errors) = kept
                .edit
                .unwrap_or_else(|| (SubmittedAnnouncement::from_row(row), FieldErrors::new()));
            let action = format!("/admin/announcements/{}", row.id);
            let submit = (action, "Save changes");
            AnnouncementForm::new(submit, &settings.signup, &sent, &errors, now)
        });
        let (addresses, test_errors) = kept.test.unwrap_or_default();
        let (local, zone_typed, schedule_errors) = kept.schedule.unwrap_or_else(|| {
            let local = row
                .scheduled_at
                .map(|at| schedule::input_value(at, zone))
                .unwrap_or_default();
            (local, zone.as_str().to_owned(), FieldErrors::new())
        });
        Self {
            group: settings.group.clone(),
            csrf_token,
            id: row.id.clone(),
            subject: row.subject.clone(),
            status: status.as_str().to_owned(),
            status_reason: row.status_reason.clone(),
            created: format!("{} by {}", show_time(&row.created_at), row.created_by),
            archive: row.archive,
            started: started(status),
            audience: overview.audience,
            audience_filters: audience_filters(row),
            preview_html,
            counts: overview.counts,
            per_minute: overview.per_minute,
            finish: show_optional_time(&overview.finish),
            scheduled: row.scheduled_at.map(|at| ScheduledAt {
                local: schedule::wall_clock(at, zone),
                zone: zone.as_str().to_owned(),
                utc: show_time(&at),
            }),
            actions: Actions::for_status(status),
            edit,
            test: TestForm {
                addresses,
                errors: PageErrors::from(&test_errors),
                used: overview.tests_this_hour,
                per_hour: settings.email.test_sends_per_hour,
            },
            schedule: ScheduleForm {
                local,
                zones: timezone_menu(
                    &settings.signup.featured_timezones,
                    [zone_typed.as_str()],
                    now,
                ),
                errors: PageErrors::from(&schedule_errors),
            },
            failed: overview.failed.into_iter().map(failed_row).collect(),
            tests: overview.tests.into_iter().map(test_row).collect(),
        }
    }
}

fn failed_row(f: crate::db::deliveries::FailedDelivery) -> FailedRow {
    FailedRow {
        queued: show_time(&f.created_at),
        id: f.id,
        email: f.email,
        attempts: f.attempts,
        last_error: f.last_error.unwrap_or_default(),
    }
}

fn test_row(t: crate::db::deliveries::TestSendRow) -> TestRow {
    TestRow {
        address: t.address.unwrap_or_default(),
        by: t.requested_by.unwrap_or_default(),
        status: t.status,
        when: show_time(&t.created_at),
    }
}

/// The audience's filters in words: each kind with its values.
fn audience_filters(row: &AnnouncementRow) -> Vec<(String, String)> {
    let audience = row.audience();
    let country_names: Vec<String> = audience
        .countries
        .iter()
        .map(|code| Country::parse(code).map_or_else(|_| code.clone(), |c| c.name().to_owned()))
        .collect();
    let org_types: Vec<String> = audience
        .org_types
        .iter()
        .map(|t| OrgType::parse(t).map_or_else(|_| t.clone(), |t| t.label().to_owned()))
        .collect();
    [
        ("Countries", country_names),
        ("Types of organisation", org_types),
        ("Interests", audience.interests),
        ("Time zones", audience.timezones),
    ]
    .into_iter()
    .filter(|(_, values)| !values.is_empty())
    .map(|(kind, values)| (kind.to_owned(), values.join(" or ")))
    .collect()
}
