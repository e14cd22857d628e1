//! The public archive's pages: sent announcements marked `archive`, with
//! their subject, date and body only.

use crate::announcements::markdown;
use crate::configuration::GroupSettings;
use crate::db::announcements::AnnouncementRow;
use askama::Template;

/// One announcement in the public archive's list.
pub struct ArchiveItem {
    pub id: String,
    pub subject: String,
    pub date: String,
}

/// `GET /announcements`.
#[derive(Template)]
#[template(path = "archive.html")]
pub struct ArchivePage {
    pub group: GroupSettings,
    pub items: Vec<ArchiveItem>,
}

impl ArchivePage {
    pub fn new(group: GroupSettings, rows: Vec<AnnouncementRow>) -> Self {
        let items = rows
            .into_iter()
            .map(|row| ArchiveItem {
                date: sent_date(&row),
                id: row.id,
                subject: row.subject,
            })
            .collect();
        Self { group, items }
    }
}

/// `GET /announcements/{id}`: the subject, the date and the body, nothing else.
#[derive(Template)]
#[template(path = "archived.html")]
pub struct ArchivedPage {
    pub group: GroupSettings,
    pub subject: String,
    pub date: String,
    pub body_html: String,
}

impl ArchivedPage {
    pub fn new(group: GroupSettings, row: &AnnouncementRow) -> Self {
        Self {
            group,
            subject: row.subject.clone(),
            date: sent_date(row),
            body_html: markdown::to_html(&row.body),
        }
    }
}

/// The day an announcement finished sending (UTC).
fn sent_date(row: &AnnouncementRow) -> String {
    row.finished_at
        .or(row.started_at)
        .unwrap_or(row.created_at)
        .format("%-d %B %Y")
        .to_string()
}
