//! What the worker reads for a batch and decides right before each send: the
//! rows' recipients and announcements (one query per table), the numbers of
//! each digest's window (counted now, from the stored events), and whether a
//! message is still wanted given its member's and announcement's status now.

use crate::db::announcements::AnnouncementRow;
use crate::db::digests::{self, DigestCounts};
use crate::db::organisers::Organiser;
use crate::db::outbox::{MessageKind, NoticeKind, OutboxRow, SendCheck};
use crate::db::registrations::Registration;
use crate::db::{self, DbError, announcements, organisers, registrations, relay};
use crate::domain::Status;
use crate::domain::announcement::AnnouncementStatus;
use crate::email::render::{AnnouncementBody, DigestRelated, Related};
use std::collections::HashMap;

/// Why a queued message should no longer go out, if it should not, from the
/// statuses read right before its send.
pub(super) fn no_longer_wanted(row: &OutboxRow, check: &SendCheck) -> Option<&'static str> {
    let kind = MessageKind::parse(&row.kind);
    if let Some(status) = check.registration_status.as_deref() {
        let status = Status::parse(status).unwrap_or(Status::Pending);
        let wanted = match kind {
            Some(MessageKind::Confirmation) => status == Status::Pending,
            Some(MessageKind::Welcome | MessageKind::AlreadyMember) => status == Status::Confirmed,
            Some(MessageKind::Announcement) => status == Status::Confirmed,
            Some(_) | None => true,
        };
        if !wanted {
            return Some(match kind {
                Some(MessageKind::Announcement) => "no longer a member when the delivery was due",
                _ => "the registration changed state before this message was sent",
            });
        }
    }
    if kind == Some(MessageKind::Announcement) {
        let status = check.announcement_status.as_deref();
        return match status.and_then(AnnouncementStatus::parse) {
            Some(AnnouncementStatus::Sending | AnnouncementStatus::Paused) => None,
            Some(AnnouncementStatus::Cancelled) => Some("the announcement was cancelled"),
            _ => Some("the announcement is no longer sending"),
        };
    }
    None
}

/// Whether a delivery waits for its announcement's resume (it was paused
/// after the claim): put back, not sent, no attempt counted.
pub(super) fn waits_for_resume(row: &OutboxRow, check: &SendCheck) -> bool {
    row.kind() == Some(MessageKind::Announcement)
        && check.announcement_status.as_deref() == Some(AnnouncementStatus::Paused.as_str())
}

/// What a batch's rows name, loaded with one query per table.
#[derive(Default)]
pub(super) struct Batch {
    people: HashMap<String, Registration>,
    organisers: HashMap<String, Organiser>,
    announcements: HashMap<String, AnnouncementRow>,
    /// Each announcement's body rendered once for the batch.
    bodies: HashMap<String, AnnouncementBody>,
    /// The relay's last refusal, for `relay_refused` notices.
    relay_error: Option<String>,
    /// Each digest row's numbers, by row id.
    digests: HashMap<String, DigestCounts>,
}

impl Batch {
    pub(super) fn load(conn: &mut db::DbConnection, rows: &[OutboxRow]) -> Result<Batch, DbError> {
        let ids = |pick: fn(&OutboxRow) -> Option<&String>| -> Vec<String> {
            let mut ids: Vec<String> = rows.iter().filter_map(pick).cloned().collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let people = registrations::find_many(conn, &ids(|r| r.registration_id.as_ref()))?;
        let organisers = organisers::find_many(conn, &ids(|r| r.organiser_id.as_ref()))?;
        let announced = announcements::find_many(conn, &ids(|r| r.announcement_id.as_ref()))?;
        let relay_notice = Some(NoticeKind::RelayRefused.as_str());
        let relay_error = if rows.iter().any(|r| r.notice.as_deref() == relay_notice) {
            relay::find(conn)?.and_then(|status| status.last_error)
        } else {
            None
        };
        let mut digests = HashMap::new();
        let mut windows = HashMap::new();
        for row in rows
            .iter()
            .filter(|r| r.kind() == Some(MessageKind::Digest))
        {
            if let (Some(from), Some(to)) = (row.window_from, row.window_to) {
                let counts = match windows.get(&(from, to)) {
                    Some(counts) => *counts,
                    None => *windows
                        .entry((from, to))
                        .or_insert(digests::counts(conn, from, to)?),
                };
                digests.insert(row.id.clone(), counts);
            }
        }
        let bodies = announced
            .iter()
            .map(|a| (a.id.clone(), AnnouncementBody::of(&a.body)))
            .collect();
        Ok(Batch {
            bodies,
            digests,
            people: people.into_iter().map(|p| (p.id.clone(), p)).collect(),
            organisers: organisers.into_iter().map(|o| (o.id.clone(), o)).collect(),
            announcements: announced.into_iter().map(|a| (a.id.clone(), a)).collect(),
            relay_error,
        })
    }

    /// The row's one recipient: its registration's address, its organiser's,
    /// or the typed test address. `None` when the person or organiser is gone
    /// (erased or removed while queued: the row went with them).
    pub(super) fn address<'a>(&'a self, row: &'a OutboxRow) -> Option<&'a str> {
        if let Some(id) = &row.registration_id {
            return self.people.get(id).map(|p| p.email.as_str());
        }
        if let Some(id) = &row.organiser_id {
            return self.organisers.get(id).map(|o| o.email.as_str());
        }
        row.test_address.as_deref()
    }

    pub(super) fn related<'a>(&'a self, row: &OutboxRow) -> Related<'a> {
        Related {
            announcement: row
                .announcement_id
                .as_ref()
                .and_then(|id| self.announcements.get(id)),
            announcement_body: row
                .announcement_id
                .as_ref()
                .and_then(|id| self.bodies.get(id)),
            relay_error: self.relay_error.as_deref(),
            digest: self.digests.get(&row.id).and_then(|counts| {
                let organiser = self.organisers.get(row.organiser_id.as_ref()?)?;
                Some(DigestRelated {
                    counts,
                    organiser_email: &organiser.email,
                })
            }),
        }
    }
}
