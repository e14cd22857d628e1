//! Rendering an organiser's digest: what happened in a day or a week, as a
//! plain-text table and an HTML one. Only numbers: no member's typed text.
//! The numbers are counted from the stored events of the row's window when
//! its batch is loaded (see `worker::batch`), not when it was queued.

use super::plain_text::render_text;
use super::render::{Related, RenderError, Rendered, Renderer};
use crate::configuration::GroupSettings;
use crate::db::digests::DigestCounts;
use crate::db::outbox::OutboxRow;
use crate::ops::digests::{self, Frequency};
use askama::Template;

/// One line of the table; `part` lines break down the line above them.
#[derive(Debug, Clone)]
pub struct Line {
    pub label: &'static str,
    pub value: i64,
    pub part: bool,
}

impl Line {
    /// The line as plain text: label, dots to a fixed column, the number.
    pub fn text(&self) -> String {
        let indent = if self.part { "    " } else { "" };
        let label = format!("{indent}{}", self.label);
        format!("{label:.<40} {:>6}", self.value)
    }
}

#[derive(Template)]
#[template(path = "email/digest.txt")]
struct DigestText<'a> {
    group: &'a GroupSettings,
    heading: &'a str,
    lines: &'a [Line],
    dashboard: &'a str,
    frequency: &'a str,
    organiser_email: &'a str,
}

#[derive(Template)]
#[template(path = "email/digest.html")]
struct DigestHtml<'a> {
    group: &'a GroupSettings,
    subject: &'a str,
    heading: &'a str,
    lines: &'a [Line],
    dashboard: &'a str,
    frequency: &'a str,
    organiser_email: &'a str,
}

/// The table's lines, in the order organisers read them.
pub fn lines(counts: &DigestCounts) -> Vec<Line> {
    let line = |label, value| Line {
        label,
        value,
        part: false,
    };
    let part = |label, value| Line {
        label,
        value,
        part: true,
    };
    let c = counts;
    vec![
        line("Signups", c.signups),
        line("Confirmations", c.confirmations),
        line(
            "Unsubscribes",
            c.unsubscribed_user + c.unsubscribed_bounced + c.unsubscribed_complaint,
        ),
        part("by the person or an organiser", c.unsubscribed_user),
        part("after a bounce", c.unsubscribed_bounced),
        part("after a complaint", c.unsubscribed_complaint),
        line(
            "Bounce reports",
            c.bounces_hard + c.bounces_soft + c.bounces_complaint + c.bounces_policy,
        ),
        part("hard", c.bounces_hard),
        part("soft", c.bounces_soft),
        part("complaint", c.bounces_complaint),
        part("policy (the receiver refused us)", c.bounces_policy),
        line("Failed deliveries", c.failed_deliveries),
        line("Announcements sent", c.announcements_sent),
    ]
}

impl Renderer {
    /// A digest to an organiser: "Oceania Pangeo: Thursday 26 November" or
    /// "Oceania Pangeo: the week of 23 November".
    pub(super) fn digest(
        &self,
        row: &OutboxRow,
        related: &Related<'_>,
    ) -> Result<Rendered, RenderError> {
        let digest = related.digest.ok_or(RenderError::BadRow)?;
        let (frequency, first_day) = row
            .digest_key
            .as_deref()
            .and_then(digests::parse_key)
            .ok_or(RenderError::BadRow)?;
        let group = &self.group;
        let subject = format!("{}: {}", group.name, digests::title(frequency, first_day));
        let zone = self.digest_zone.name();
        let heading = match frequency {
            Frequency::Weekly => {
                let sunday = first_day + chrono::Duration::days(6);
                format!(
                    "What happened in {} in the week from Monday {} to Sunday {} ({zone} time):",
                    group.name,
                    first_day.format("%-d %B"),
                    sunday.format("%-d %B %Y"),
                )
            }
            Frequency::Daily | Frequency::Off => format!(
                "What happened in {} on {} ({zone} time):",
                group.name,
                first_day.format("%A %-d %B %Y"),
            ),
        };
        let lines = lines(digest.counts);
        let dashboard = format!("{}/admin", self.base_url);
        let frequency = frequency.as_str();
        let organiser_email = digest.organiser_email;
        let text = render_text(&DigestText {
            group,
            heading: &heading,
            lines: &lines,
            dashboard: &dashboard,
            frequency,
            organiser_email,
        })?;
        let html = DigestHtml {
            group,
            subject: &subject,
            heading: &heading,
            lines: &lines,
            dashboard: &dashboard,
            frequency,
            organiser_email,
        }
        .render()?;
        Ok(Rendered {
            subject,
            text,
            html,
            auto_submitted: true,
            unsubscribe_url: None,
            list_mail: false,
        })
    }
}
