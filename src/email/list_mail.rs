//! Rendering the mail organisers send and receive: an announcement to a
//! member, its test send, and the notices. The member's own unsubscribe link
//! is derived here from the row's token id.

use super::plain_text::render_text;
use super::render::{AnnouncementBody, Related, RenderError, Rendered, Renderer};
use crate::configuration::GroupSettings;
use crate::crypto::TokenPurpose;
use crate::db::outbox::{NoticeKind, OutboxRow};
use askama::Template;

#[derive(Template)]
#[template(path = "email/announcement.txt")]
struct AnnouncementText<'a> {
    group: &'a GroupSettings,
    body_text: &'a str,
    unsubscribe_url: &'a str,
    test: bool,
}

#[derive(Template)]
#[template(path = "email/announcement.html")]
struct AnnouncementHtml<'a> {
    group: &'a GroupSettings,
    subject: &'a str,
    body_html: &'a str,
    unsubscribe_url: &'a str,
    test: bool,
}

#[derive(Template)]
#[template(path = "email/notice.txt")]
struct NoticeText<'a> {
    group: &'a GroupSettings,
    paragraphs: &'a [String],
    link: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/notice.html")]
struct NoticeHtml<'a> {
    group: &'a GroupSettings,
    subject: &'a str,
    paragraphs: &'a [String],
    link: Option<&'a str>,
}

/// The subject prefix of a test send.
pub const TEST_SUBJECT_PREFIX: &str = "[Test] ";

impl Renderer {
    /// An announcement to a member (`test` false) or to a typed address.
    pub(super) fn announcement(
        &self,
        row: &OutboxRow,
        related: &Related<'_>,
        test: bool,
    ) -> Result<Rendered, RenderError> {
        let announcement = related.announcement.ok_or(RenderError::BadRow)?;
        let unsubscribe_url = if test {
            self.test_unsubscribe_url(&row.id)
        } else {
            let id = row
                .unsubscribe_token_id
                .as_deref()
                .ok_or(RenderError::BadRow)?;
            format!(
                "{}/unsubscribe?token={}",
                self.base_url,
                self.keys.token(TokenPurpose::Unsubscribe, id)
            )
        };
        let subject = if test {
            format!("{TEST_SUBJECT_PREFIX}{}", announcement.subject)
        } else {
            announcement.subject.clone()
        };
        let rendered_here;
        let body = match related.announcement_body {
            Some(body) => body,
            None => {
                rendered_here = AnnouncementBody::of(&announcement.body);
                &rendered_here
            }
        };
        let (text, html) = self.announcement_layout(&subject, body, &unsubscribe_url, test)?;
        Ok(Rendered {
            subject,
            text,
            html,
            auto_submitted: false,
            unsubscribe_url: Some(unsubscribe_url),
            list_mail: true,
        })
    }

    /// The text and HTML parts of an announcement with the given unsubscribe
    /// link: what a member receives (the preview uses it with an inert link).
    pub fn announcement_parts(
        &self,
        subject: &str,
        body: &str,
        unsubscribe_url: &str,
        test: bool,
    ) -> Result<(String, String), RenderError> {
        self.announcement_layout(subject, &AnnouncementBody::of(body), unsubscribe_url, test)
    }

    /// The body, already rendered, in the email layout with the footer.
    fn announcement_layout(
        &self,
        subject: &str,
        body: &AnnouncementBody,
        unsubscribe_url: &str,
        test: bool,
    ) -> Result<(String, String), RenderError> {
        let group = &self.group;
        let text = render_text(&AnnouncementText {
            group,
            body_text: &body.text,
            unsubscribe_url,
            test,
        })?;
        let html = AnnouncementHtml {
            group,
            subject,
            body_html: &body.html,
            unsubscribe_url,
            test,
        }
        .render()?;
        Ok((text, html))
    }

    /// A test send's unsubscribe link: it answers, and unsubscribes nobody.
    pub fn test_unsubscribe_url(&self, outbox_id: &str) -> String {
        format!(
            "{}/unsubscribe?token={}",
            self.base_url,
            self.keys.test_unsubscribe_token(outbox_id)
        )
    }

    /// A notice to an organiser.
    pub(super) fn notice(
        &self,
        row: &OutboxRow,
        related: &Related<'_>,
    ) -> Result<Rendered, RenderError> {
        let kind = row
            .notice
            .as_deref()
            .and_then(NoticeKind::parse)
            .ok_or(RenderError::BadRow)?;
        let page = |id: &str| format!("{}/admin/announcements/{id}", self.base_url);
        let (subject, paragraphs, link) = match (kind, related.announcement) {
            (NoticeKind::AnnouncementSent, Some(a)) => (
                format!("Sent: {}", a.subject),
                vec![format!(
                    "The announcement \u{201c}{}\u{201d} has finished sending: every member in its audience has been sent it, or has been skipped or failed as its page shows.",
                    a.subject
                )],
                Some(page(&a.id)),
            ),
            (NoticeKind::AnnouncementPaused, Some(a)) => (
                format!("Paused: {}", a.subject),
                vec![
                    format!("The announcement \u{201c}{}\u{201d} paused itself.", a.subject),
                    format!(
                        "Why: {}.",
                        a.status_reason.as_deref().unwrap_or("a problem while sending")
                    ),
                    "Nothing more goes out until an organiser resumes it from its page.".to_owned(),
                ],
                Some(page(&a.id)),
            ),
            (NoticeKind::MissedItsTime, Some(a)) => (
                format!("Not sent: {}", a.subject),
                vec![
                    format!(
                        "The announcement \u{201c}{}\u{201d} was scheduled for {} UTC, but rollcall was not running then, so it missed its time.",
                        a.subject,
                        a.scheduled_at.map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
                    ),
                    "It is back in draft: nothing was sent. Schedule it again or send it from its page.".to_owned(),
                ],
                Some(page(&a.id)),
            ),
            (NoticeKind::RelayRefused, _) => (
                "The mail relay refused rollcall, and accepts again".to_owned(),
                vec![
                    format!(
                        "The SMTP relay refused rollcall's login or sender{}.",
                        related.relay_error.map(|e| format!(" (\u{201c}{e}\u{201d})")).unwrap_or_default()
                    ),
                    "It accepts mail again now. Messages waited while it refused; none was lost. Announcements that paused themselves stay paused until an organiser resumes them.".to_owned(),
                ],
                Some(format!("{}/admin", self.base_url)),
            ),
            _ => return Err(RenderError::BadRow),
        };
        let group = &self.group;
        let link = link.as_deref();
        let text = render_text(&NoticeText {
            group,
            paragraphs: &paragraphs,
            link,
        })?;
        let html = NoticeHtml {
            group,
            subject: &subject,
            paragraphs: &paragraphs,
            link,
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
