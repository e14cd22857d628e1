//! The compose and edit form of an announcement: what it sends, and its
//! fields filled with what was sent (choices ticked, errors beside them).

use crate::configuration::{GroupSettings, SignupSettings};
use crate::db::announcements::AnnouncementRow;
use crate::domain::announcement::{AnnouncementDraft, RawAudience};
use crate::domain::{FieldErrors, OrgType};
use crate::web::forms::FormFields;
use crate::web::pages::{Choice, PageErrors, country_choices};
use crate::web::timezone_menu::{ChoiceGroup, timezone_menu};
use askama::Template;
use chrono::{DateTime, Utc};

/// An announcement as the compose and edit forms send it.
#[derive(Debug, Clone, Default)]
pub struct SubmittedAnnouncement {
    pub subject: String,
    pub body: String,
    pub audience: RawAudience,
    pub archive: bool,
}

impl SubmittedAnnouncement {
    /// The fields `subject`, `body`, `archive` and the repeated `country`,
    /// `org_type`, `interest` and `timezone`.
    pub fn from_form(form: &FormFields) -> Self {
        Self {
            subject: form.text("subject"),
            body: form.text("body"),
            audience: RawAudience {
                countries: form.all("country"),
                org_types: form.all("org_type"),
                interests: form.all("interest"),
                timezones: form.all("timezone"),
            },
            archive: form.get("archive").is_some_and(|v| !v.is_empty()),
        }
    }

    /// A stored announcement, to fill the edit form with.
    pub fn from_row(row: &AnnouncementRow) -> Self {
        let audience = row.audience();
        Self {
            subject: row.subject.clone(),
            body: row.body.clone(),
            audience: RawAudience {
                countries: audience.countries,
                org_types: audience.org_types,
                interests: audience.interests,
                timezones: audience.timezones,
            },
            archive: row.archive,
        }
    }

    pub fn parse(&self, interests: &[String]) -> Result<AnnouncementDraft, FieldErrors> {
        AnnouncementDraft::parse(
            &self.subject,
            &self.body,
            &self.audience,
            self.archive,
            interests,
        )
    }
}

/// The compose and edit form's fields, filled with what was sent.
pub struct AnnouncementForm {
    /// Where the form posts, and its button's words.
    pub action: String,
    pub submit: &'static str,
    pub subject: String,
    pub body: String,
    pub archive: bool,
    pub countries: Vec<Choice>,
    pub org_types: Vec<Choice>,
    pub interests: Vec<Choice>,
    pub timezones: Vec<ChoiceGroup>,
    pub errors: PageErrors,
}

impl AnnouncementForm {
    pub fn new(
        (action, submit): (String, &'static str),
        signup: &SignupSettings,
        sent: &SubmittedAnnouncement,
        errors: &FieldErrors,
        now: DateTime<Utc>,
    ) -> Self {
        let raw = &sent.audience;
        let among = |values: &[String], value: &str| values.iter().any(|v| v.trim() == value);
        let upper = |values: &[String]| -> Vec<String> {
            values
                .iter()
                .map(|v| v.trim().to_ascii_uppercase())
                .collect()
        };
        let countries = upper(&raw.countries);
        Self {
            action,
            submit,
            subject: sent.subject.clone(),
            body: sent.body.clone(),
            archive: sent.archive,
            countries: country_choices(&signup.featured_countries, |v| among(&countries, v)),
            org_types: OrgType::ALL
                .iter()
                .map(|t| choice(t.as_str(), t.label(), among(&raw.org_types, t.as_str())))
                .collect(),
            interests: signup
                .interests
                .iter()
                .map(|i| choice(i, i, among(&raw.interests, i)))
                .collect(),
            timezones: timezone_menu(
                &signup.featured_timezones,
                raw.timezones.iter().map(String::as_str),
                now,
            ),
            errors: PageErrors::from(errors),
        }
    }
}

fn choice(value: &str, label: &str, selected: bool) -> Choice {
    Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected,
    }
}

/// `GET /admin/announcements/new`, and its 422.
#[derive(Template)]
#[template(path = "admin/announcement_new.html")]
pub struct ComposePage {
    pub group: GroupSettings,
    pub csrf_token: String,
    pub form: AnnouncementForm,
}
