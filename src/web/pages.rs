//! Page view models for the askama templates: plain strings and flags, built
//! from settings and parsed values, so templates hold no logic.

use crate::configuration::{GroupSettings, SignupSettings};
use crate::domain::{Country, FIELD_NAMES, FieldErrors, OrgType, RawSignup};
use crate::web::assets;
use crate::web::timezone_menu::{ChoiceGroup, timezone_menu};
use askama::Template;
use chrono::{DateTime, Utc};

/// One `<option>` or checkbox. An empty value is a separator.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    fn new(value: &str, label: &str, current: Option<&str>) -> Self {
        Self {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: current.is_some_and(|c| c.eq_ignore_ascii_case(value)),
        }
    }

    fn separator() -> Self {
        Self {
            value: String::new(),
            label: String::new(),
            selected: false,
        }
    }
}

/// The configured interests as checkboxes, those in `ticked` ticked.
pub fn interest_choices(signup: &SignupSettings, ticked: &[String]) -> Vec<Choice> {
    signup
        .interests
        .iter()
        .map(|i| Choice {
            value: i.clone(),
            label: i.clone(),
            selected: ticked.contains(i),
        })
        .collect()
}

/// Field errors as a page shows them: one message per field, in the form's
/// order, written as sentences ("Enter your email address", not the API's
/// `required`), so a screen reader never hears "required, required".
#[derive(Debug, Default, Clone)]
pub struct PageErrors(Vec<(String, String)>);

impl PageErrors {
    pub fn message(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.message(field).is_some()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Each field with its message, in the form's order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, String)> {
        self.0.iter()
    }
    /// The field the page focuses: the first with a problem.
    pub fn is_first(&self, field: &str) -> bool {
        self.0.first().is_some_and(|(f, _)| f == field)
    }
}

impl From<&FieldErrors> for PageErrors {
    fn from(errors: &FieldErrors) -> Self {
        let position = |field: &str| {
            FIELD_NAMES
                .iter()
                .chain(OTHER_FIELD_ORDER.iter())
                .position(|f| *f == field)
                .unwrap_or(usize::MAX)
        };
        let mut fields: Vec<(String, String)> = errors
            .iter()
            .map(|(field, messages)| {
                let sentences: Vec<String> = messages.iter().map(|m| sentence(field, m)).collect();
                (field.to_string(), sentences.join("; "))
            })
            .collect();
        fields.sort_by_key(|(field, _)| position(field));
        Self(fields)
    }
}

/// Fields of the organiser forms, in the order they appear.
const OTHER_FIELD_ORDER: [&str; 9] = [
    "subject",
    "body",
    "country",
    "org_type",
    "interest",
    "timezone",
    "addresses",
    "scheduled_at",
    "zone",
];

/// A field's message on a page: a sentence for an empty required field (the
/// API keeps `required`), else the message as it is.
pub fn sentence(field: &str, message: &str) -> String {
    if message == "required" {
        return match field {
            "email" => "Enter your email address",
            "name" => "Enter your name",
            "consent" => "Tick the box to agree",
            "subject" => "Enter a subject",
            "body" => "Write the message",
            _ => "Fill this in",
        }
        .to_owned();
    }
    message.to_owned()
}

/// The values typed into the form, kept when it is shown again.
#[derive(Debug, Default, Clone)]
pub struct FormValues {
    pub email: String,
    pub name: String,
    pub organisation: String,
    pub consent: bool,
}

/// The signup form.
#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub consent_text: String,
    pub form: FormValues,
    pub errors: PageErrors,
    pub org_types: Vec<Choice>,
    pub countries: Vec<Choice>,
    pub timezones: Vec<ChoiceGroup>,
    /// The script that preselects the browser's zone: only on a fresh form,
    /// since a form shown again keeps what was sent, an empty zone too.
    pub zone_script: Option<&'static str>,
    pub interests: Vec<Choice>,
    /// Whether the archive of past announcements has any to link to.
    pub past_announcements: bool,
}

impl SignupPage {
    /// The form, blank or filled with what was submitted; time-zone offsets
    /// are those at `now`.
    pub fn new(
        group: GroupSettings,
        signup: &SignupSettings,
        csrf_token: String,
        raw: &RawSignup,
        errors: &FieldErrors,
        now: DateTime<Utc>,
    ) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            group,
            csrf_token,
            consent_text: signup.consent_text.clone(),
            form: FormValues {
                email: text(&raw.email),
                name: text(&raw.name),
                organisation: text(&raw.organisation),
                consent: raw.consent == Some(true),
            },
            errors: PageErrors::from(errors),
            org_types: OrgType::ALL
                .iter()
                .map(|t| Choice::new(t.as_str(), t.label(), raw.org_type.as_deref()))
                .collect(),
            countries: country_choices(
                &signup.featured_countries,
                is_current(raw.country.as_deref()),
            ),
            timezones: timezone_menu(&signup.featured_timezones, raw.timezone.as_deref(), now),
            zone_script: errors.is_empty().then(assets::timezone_script_url),
            interests: interest_choices(signup, &raw.interests),
            past_announcements: false,
        }
    }
}

/// The countries, `featured` first, then a separator, then the rest by name;
/// `selected` says which are chosen.
pub fn country_choices(featured: &[Country], selected: impl Fn(&str) -> bool) -> Vec<Choice> {
    let choice = |value: &str, label: &str| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: selected(value),
    };
    let mut choices: Vec<Choice> = featured
        .iter()
        .map(|country| choice(country.as_str(), country.name()))
        .collect();
    choices.push(Choice::separator());
    let mut rest: Vec<&(&str, &str)> = Country::all()
        .iter()
        .filter(|(code, _)| !featured.iter().any(|f| f.as_str() == *code))
        .collect();
    rest.sort_by_key(|(_, name)| *name);
    choices.extend(rest.into_iter().map(|(code, name)| choice(code, name)));
    choices
}

/// Whether `value` is the one submitted (ignoring case and spaces around it).
fn is_current(current: Option<&str>) -> impl Fn(&str) -> bool + '_ {
    move |value| current.is_some_and(|c| c.trim().eq_ignore_ascii_case(value))
}

/// A simple page: a heading, some paragraphs and an optional link.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub group: GroupSettings,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

impl MessagePage {
    pub fn new(group: GroupSettings, title: &str, paragraphs: &[&str]) -> Self {
        Self {
            group,
            title: title.to_owned(),
            paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
            link: None,
        }
    }

    pub fn with_link(mut self, href: &str, text: &str) -> Self {
        self.link = Some((href.to_owned(), text.to_owned()));
        self
    }
}

/// "Check your inbox": the code form, the resend form and the manage form.
#[derive(Template)]
#[template(path = "check.html")]
pub struct CheckPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub code_error: Option<String>,
    /// The address as typed, from the sealed signup cookie: the person's own
    /// words, shown back whether or not the address is known.
    pub typed_address: Option<String>,
    /// Arrived from a resend (`?resent=1`).
    pub resent: bool,
}

/// `GET /subscriptions/manage/sent`: a link is on its way if the address is registered.
#[derive(Template)]
#[template(path = "manage_sent.html")]
pub struct ManageSentPage {
    pub group: GroupSettings,
    pub csrf_token: String,
}

/// What the confirmation page offers.
pub enum ConfirmState {
    /// A usable link: one Confirm button that POSTs the token.
    Ready(String),
    Done,
    /// Expired or unknown: a resend form.
    Resend,
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub group: GroupSettings,
    pub title: String,
    pub explanation: String,
    pub state: ConfirmState,
    pub csrf_token: String,
}

/// `GET /subscriptions/confirmed`: the registration is done; the way on is
/// the group's website, and how often the group writes when it is set.
/// Everything on it comes from the settings, none from the form.
#[derive(Template)]
#[template(path = "welcome.html")]
pub struct WelcomePage {
    pub group: GroupSettings,
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub struct UnsubscribePage {
    pub group: GroupSettings,
    pub done: bool,
    pub token: String,
}

#[derive(Template)]
#[template(path = "manage.html")]
pub struct ManagePage {
    pub group: GroupSettings,
    pub token: String,
    /// Whose registration the link manages, and what is kept.
    pub registration: crate::db::registrations::Registration,
}

impl ManagePage {
    pub fn is_unsubscribed(&self) -> bool {
        self.registration.status() == crate::domain::Status::Unsubscribed
    }
}

/// `GET /manage/erase?token=T`: the question asked once more.
#[derive(Template)]
#[template(path = "manage_erase.html")]
pub struct ManageErasePage {
    pub group: GroupSettings,
    pub token: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub error: Option<String>,
    pub next: String,
}

/// One person as the organisers see them.
pub struct SubscriberView {
    pub registration: crate::db::registrations::Registration,
    pub consents: Vec<crate::db::consents::Consent>,
    pub ledger: Vec<crate::db::ledger::LedgerEntry>,
    pub messages: Vec<crate::db::outbox::OutboxRow>,
    pub bounces: Vec<crate::db::bounces::BounceEntry>,
}

impl SubscriberView {
    /// Unsubscribed because the address bounced, after confirming: an
    /// organiser may reinstate (a complaint is the person's own word).
    pub fn can_reinstate(&self) -> bool {
        let r = &self.registration;
        r.status() == crate::domain::Status::Unsubscribed
            && r.unsubscribe_reason.as_deref() == Some("bounced")
            && r.confirmed_at.is_some()
    }
}

#[derive(Template)]
#[template(path = "admin/subscriber.html")]
pub struct SubscriberPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub person: SubscriberView,
    /// Just back from Resend confirmation.
    pub resent: bool,
    pub cooldown_minutes: u32,
}

/// `GET /admin/subscribers/{id}/erase`: the question asked once more.
#[derive(Template)]
#[template(path = "admin/erase.html")]
pub struct EraseSubscriberPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub id: String,
    pub email: String,
}

/// A time as the organiser pages show it.
pub fn show_time(t: &chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn show_optional_time(t: &Option<chrono::NaiveDateTime>) -> String {
    t.as_ref().map(show_time).unwrap_or_else(|| "—".to_owned())
}

/// Times on the dashboard: UTC, and beside it the time in the organisers' own
/// zone (`admin.digest_timezone`, unset: the first of `dashboard.zones`), as
/// "2026-12-01 09:00 UTC (20:00 Sydney)"; the local weekday and date are added
/// when that day is not the UTC one.
#[derive(Debug, Clone, Copy)]
pub struct OrganiserTimes {
    zone: chrono_tz::Tz,
}

impl OrganiserTimes {
    pub fn new(zone: chrono_tz::Tz) -> Self {
        Self { zone }
    }

    pub fn show(&self, t: &chrono::NaiveDateTime) -> String {
        let utc = show_time(t);
        if self.zone == chrono_tz::Tz::UTC {
            return utc;
        }
        let local = t.and_utc().with_timezone(&self.zone);
        let place = crate::organisers::dashboard::place_name(&self.zone);
        let when = if local.date_naive() == t.date() {
            local.format("%H:%M").to_string()
        } else {
            local.format("%a %-d %b %H:%M").to_string()
        };
        format!("{utc} ({when} {place})")
    }

    pub fn show_optional(&self, t: &Option<chrono::NaiveDateTime>) -> String {
        t.as_ref()
            .map(|t| self.show(t))
            .unwrap_or_else(|| "—".to_owned())
    }
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub totals: Vec<(String, i64)>,
    pub weekly: crate::organisers::charts::WeeklyChart,
    pub interests: crate::organisers::charts::BarChart,
    pub countries: crate::organisers::charts::BarChart,
    pub org_types: crate::organisers::charts::BarChart,
    pub offsets: crate::organisers::charts::BarChart,
    pub availability: crate::organisers::charts::BarChart,
    pub suggestions: crate::organisers::dashboard::Suggestions,
    pub unknown_zone: u64,
    pub meeting_minutes: i64,
    pub date: String,
    pub working_hours: String,
    pub funnel: crate::organisers::charts::BarChart,
    pub queued: i64,
    pub failed_count: i64,
    pub oldest_due: String,
    /// "Mail relay failing since …" while it fails.
    pub relay: Option<String>,
    /// "Bounce mailbox (IMAP) failing since …" while its polls fail.
    pub imap: Option<String>,
    pub failed: Vec<crate::db::aggregates::FailedMessage>,
    pub exports: Vec<crate::db::export_rows::ExportRecord>,
    pub announcement_mail_sent: i64,
    pub bounces: crate::db::bounces::BounceCounts,
    pub last_announcement: Option<crate::db::bounces::AnnouncementBounceRate>,
    pub latest: Vec<crate::web::audience_pages::AudienceRow>,
    /// "N people signed up before D and have not confirmed", and its link.
    pub stale_pending: (String, i64, String),
    /// UTC with the organisers' zone beside it.
    pub times: OrganiserTimes,
}

#[cfg(test)]
mod tests {
    use super::OrganiserTimes;
    use chrono::NaiveDate;

    fn at(day: u32, hour: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn times_show_the_local_time_beside_utc_and_the_local_day_when_it_differs() {
        let sydney = OrganiserTimes::new(chrono_tz::Australia::Sydney);
        assert_eq!(
            sydney.show(&at(1, 9)),
            "2026-12-01 09:00 UTC (20:00 Sydney)"
        );
        assert_eq!(
            sydney.show(&at(1, 15)),
            "2026-12-01 15:00 UTC (Wed 2 Dec 02:00 Sydney)"
        );
        let honolulu = OrganiserTimes::new(chrono_tz::Pacific::Honolulu);
        assert_eq!(
            honolulu.show(&at(1, 3)),
            "2026-12-01 03:00 UTC (Mon 30 Nov 17:00 Honolulu)"
        );
        let utc = OrganiserTimes::new(chrono_tz::Tz::UTC);
        assert_eq!(utc.show(&at(1, 9)), "2026-12-01 09:00 UTC");
        assert_eq!(utc.show_optional(&None), "—");
    }
}
