//! Rendering outbox rows into messages. Tokens and codes are re-derived here
//! from the row's token ids; they are never stored.

use super::plain_text::render_text;
use crate::configuration::{GroupSettings, Settings};
use crate::crypto::{Keys, TokenPurpose};
use crate::db::announcements::AnnouncementRow;
use crate::db::digests::DigestCounts;
use crate::db::outbox::{MessageKind, OutboxRow};
use crate::email::headers::{
    AutoSubmitted, ListId, ListUnsubscribe, ListUnsubscribePost, Precedence,
};
use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

macro_rules! message_templates {
    ($text:ident = $text_path:literal, $html:ident = $html_path:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Template)]
        #[template(path = $text_path)]
        struct $text<'a> {
            group: &'a GroupSettings,
            #[allow(dead_code)]
            subject: &'a str,
            $($field: $ty),*
        }

        #[derive(Template)]
        #[template(path = $html_path)]
        struct $html<'a> {
            group: &'a GroupSettings,
            subject: &'a str,
            $($field: $ty),*
        }
    };
}

message_templates!(ConfirmationText = "email/confirmation.txt", ConfirmationHtml = "email/confirmation.html", {
    link: &'a str, code: Option<&'a str>, ttl_hours: u32,
});
message_templates!(AlreadyMemberText = "email/already_member.txt", AlreadyMemberHtml = "email/already_member.html", {
    base_url: &'a str, manage_link: Option<&'a str>,
});
message_templates!(WelcomeText = "email/welcome.txt", WelcomeHtml = "email/welcome.html", {
    unsubscribe_url: &'a str,
});
message_templates!(ManageText = "email/manage.txt", ManageHtml = "email/manage.html", {
    link: &'a str,
});

/// Why a row could not become a message. Both are permanent for that row.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("outbox row has an unknown kind or is missing its token")]
    BadRow,
    #[error("the recipient address is not accepted by the mail library")]
    BadAddress,
    #[error("template failed: {0}")]
    Template(#[from] askama::Error),
    #[error("message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
}

/// A rendered message before addressing.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Confirmation, "already on the list" and manage messages are automatic replies.
    pub auto_submitted: bool,
    /// The one-click unsubscribe URL for list mail.
    pub unsubscribe_url: Option<String>,
    /// Announcements carry `List-Id` and `Precedence: bulk`.
    pub list_mail: bool,
}

/// What a row names besides a registration, loaded by the worker for the
/// batch: the announcement of a delivery, test or notice; the relay's last
/// refusal for a relay notice; a digest's numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Related<'a> {
    pub announcement: Option<&'a AnnouncementRow>,
    /// The announcement's body already rendered (HTML, text), once per batch
    /// rather than once per member; rendered on the spot when absent.
    pub announcement_body: Option<&'a AnnouncementBody>,
    pub relay_error: Option<&'a str>,
    pub digest: Option<DigestRelated<'a>>,
}

/// An announcement's Markdown body as HTML and as plain text.
#[derive(Debug, Clone)]
pub struct AnnouncementBody {
    pub html: String,
    pub text: String,
}

impl AnnouncementBody {
    pub fn of(markdown: &str) -> Self {
        Self {
            html: crate::announcements::markdown::to_html(markdown),
            text: crate::announcements::markdown::to_text(markdown),
        }
    }
}

/// A digest's numbers, counted from the stored events of its window when its
/// batch was loaded, and its organiser's address (for how to stop digests).
#[derive(Debug, Clone, Copy)]
pub struct DigestRelated<'a> {
    pub counts: &'a DigestCounts,
    pub organiser_email: &'a str,
}

/// Everything needed to render any message.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub keys: Keys,
    pub group: GroupSettings,
    pub base_url: String,
    pub from: Mailbox,
    pub reply_to: Mailbox,
    pub token_ttl_hours: u32,
    /// `List-Id` of announcements: `"{group.name}" <{email.list_id}>`.
    pub list_id: String,
    /// `email.bounce.address`: when set, the VERP return path.
    pub bounce_address: Option<String>,
    /// Digests' days and weeks are local to this zone (`admin.digest_timezone`).
    pub digest_zone: chrono_tz::Tz,
}

impl Renderer {
    pub fn from_settings(settings: &Settings, keys: &Keys) -> Self {
        let name = settings.group.name.replace(['"', '\\'], "");
        Renderer {
            keys: keys.clone(),
            group: settings.group.clone(),
            base_url: settings.server.base_url.to_string(),
            from: settings.email.from.clone(),
            reply_to: settings.email.reply_to.clone(),
            token_ttl_hours: settings.signup.token_ttl_hours,
            bounce_address: settings.email.bounce.address.clone(),
            list_id: format!("\"{name}\" <{}>", settings.email.list_id()),
            digest_zone: settings.admin.digest_zone(&settings.dashboard),
        }
    }

    /// Renders the body of an outbox row. Nothing typed into the form goes in.
    pub fn render(&self, row: &OutboxRow, related: &Related<'_>) -> Result<Rendered, RenderError> {
        let kind = MessageKind::parse(&row.kind).ok_or(RenderError::BadRow)?;
        let group = &self.group;
        let link_for = |purpose: TokenPurpose, path: &str| -> Result<String, RenderError> {
            let id = row.token_id.as_deref().ok_or(RenderError::BadRow)?;
            Ok(format!(
                "{}{path}?token={}",
                self.base_url,
                self.keys.token(purpose, id)
            ))
        };
        Ok(match kind {
            MessageKind::Confirmation => {
                let link = link_for(TokenPurpose::Confirm, "/subscriptions/confirm")?;
                let code = row.token_id.as_deref().map(|id| self.keys.code(id));
                let subject = format!("Confirm your registration with {}", group.name);
                let (code, ttl_hours) = (code.as_deref(), self.token_ttl_hours);
                let text = render_text(&ConfirmationText {
                    group,
                    subject: &subject,
                    link: &link,
                    code,
                    ttl_hours,
                })?;
                let html = ConfirmationHtml {
                    group,
                    subject: &subject,
                    link: &link,
                    code,
                    ttl_hours,
                }
                .render()?;
                Rendered {
                    subject,
                    text,
                    html,
                    auto_submitted: true,
                    unsubscribe_url: None,
                    list_mail: false,
                }
            }
            MessageKind::AlreadyMember => {
                let subject = format!("You are already on the {} list", group.name);
                let base_url = self.base_url.as_str();
                // Rows queued before notices carried a manage token point
                // at the manage form instead.
                let manage_link = row
                    .token_id
                    .is_some()
                    .then(|| link_for(TokenPurpose::Manage, "/manage"))
                    .transpose()?;
                let manage_link = manage_link.as_deref();
                let text = render_text(&AlreadyMemberText {
                    group,
                    subject: &subject,
                    base_url,
                    manage_link,
                })?;
                let html = AlreadyMemberHtml {
                    group,
                    subject: &subject,
                    base_url,
                    manage_link,
                }
                .render()?;
                Rendered {
                    subject,
                    text,
                    html,
                    auto_submitted: true,
                    unsubscribe_url: None,
                    list_mail: false,
                }
            }
            MessageKind::Manage => {
                let link = link_for(TokenPurpose::Manage, "/manage")?;
                let subject = format!("Manage your {} registration", group.name);
                let text = render_text(&ManageText {
                    group,
                    subject: &subject,
                    link: &link,
                })?;
                let html = ManageHtml {
                    group,
                    subject: &subject,
                    link: &link,
                }
                .render()?;
                Rendered {
                    subject,
                    text,
                    html,
                    auto_submitted: true,
                    unsubscribe_url: None,
                    list_mail: false,
                }
            }
            MessageKind::Welcome => {
                let id = row
                    .unsubscribe_token_id
                    .as_deref()
                    .ok_or(RenderError::BadRow)?;
                let url = format!(
                    "{}/unsubscribe?token={}",
                    self.base_url,
                    self.keys.token(TokenPurpose::Unsubscribe, id)
                );
                let subject = format!("Welcome to {}", group.name);
                // No typed text: the name was typed into a form, maybe by a stranger.
                let text = render_text(&WelcomeText {
                    group,
                    subject: &subject,
                    unsubscribe_url: &url,
                })?;
                let html = WelcomeHtml {
                    group,
                    subject: &subject,
                    unsubscribe_url: &url,
                }
                .render()?;
                Rendered {
                    subject,
                    text,
                    html,
                    auto_submitted: false,
                    unsubscribe_url: Some(url),
                    list_mail: false,
                }
            }
            MessageKind::Announcement => return self.announcement(row, related, false),
            MessageKind::AnnouncementTest => return self.announcement(row, related, true),
            MessageKind::Notice => return self.notice(row, related),
            MessageKind::Digest => return self.digest(row, related),
        })
    }

    /// Addresses a rendered message to the registration. The typed name is not
    /// used in the To header, so the form cannot relay text to a stranger.
    pub fn message(
        &self,
        rendered: Rendered,
        to: &str,
        message_id: &str,
    ) -> Result<Message, RenderError> {
        self.build(rendered, to, message_id, None)
    }

    /// Addresses an outbox row's rendered message. With bounces on, the
    /// envelope sender is `bounces+{tag}@…` and the Message-ID `<{tag}@…>`,
    /// both derived from the row id (so every retry carries the same);
    /// otherwise the Message-ID fixed when the row was queued.
    pub fn message_for(
        &self,
        rendered: Rendered,
        to: &str,
        row: &OutboxRow,
    ) -> Result<Message, RenderError> {
        let tagged = self.bounce_address.as_deref().and_then(|address| {
            let tag = crate::bounces::tag::tag_for(&self.keys, &row.id)?;
            Some((
                crate::bounces::tag::message_id(address, &tag)?,
                crate::bounces::tag::return_path(address, &tag)?,
            ))
        });
        match tagged {
            Some((message_id, return_path)) => {
                self.build(rendered, to, &message_id, Some(&return_path))
            }
            None => self.build(rendered, to, &row.message_id, None),
        }
    }

    fn build(
        &self,
        rendered: Rendered,
        to: &str,
        message_id: &str,
        return_path: Option<&str>,
    ) -> Result<Message, RenderError> {
        let to: Mailbox = to.parse().map_err(|_| RenderError::BadAddress)?;
        let envelope = match return_path {
            Some(path) => {
                let from: lettre::Address = path.parse().map_err(|_| RenderError::BadAddress)?;
                Some(lettre::address::Envelope::new(
                    Some(from),
                    vec![to.email.clone()],
                )?)
            }
            None => None,
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .reply_to(self.reply_to.clone())
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(message_id.to_owned()));
        if rendered.auto_submitted {
            builder = builder.header(AutoSubmitted("auto-generated".to_owned()));
        }
        if rendered.list_mail {
            builder = builder
                .header(ListId(self.list_id.clone()))
                .header(Precedence("bulk".to_owned()));
        }
        if let Some(url) = rendered.unsubscribe_url {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost("List-Unsubscribe=One-Click".to_owned()));
        }
        if let Some(envelope) = envelope {
            builder = builder.envelope(envelope);
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))?)
    }
}
