//! Announcements' deliveries and test sends as the organisers' pages and the
//! public archive read them: counts for the list, the rate of the last minute,
//! failed deliveries to retry, recent test sends.

use super::announcements::{AnnouncementRow, DeliveryCounts};
use super::outbox::{MessageKind, OutboxStatus};
use super::schema::{announcements, outbox, registrations};
use super::{DbConnection, DbError};
use crate::domain::announcement::AnnouncementStatus;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use std::collections::HashMap;

/// Every announcement's deliveries by status, keyed by announcement id (one
/// grouped query for the list page). Announcements without any are absent.
pub fn counts_by_announcement(
    conn: &mut DbConnection,
) -> Result<HashMap<String, DeliveryCounts>, DbError> {
    let rows: Vec<(Option<String>, String, i64)> = outbox::table
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .group_by((outbox::announcement_id, outbox::status))
        .select((
            outbox::announcement_id,
            outbox::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut counts: HashMap<String, DeliveryCounts> = HashMap::new();
    for (id, status, n) in rows {
        let Some(id) = id else { continue };
        let entry = counts.entry(id).or_default();
        match OutboxStatus::parse(&status) {
            Some(OutboxStatus::Queued) => entry.queued = n,
            Some(OutboxStatus::Sent) => entry.sent = n,
            Some(OutboxStatus::Failed) => entry.failed = n,
            Some(OutboxStatus::Cancelled) => entry.cancelled = n,
            None => {}
        }
    }
    Ok(counts)
}

/// The announcement's deliveries sent in the minute before `now`: its current rate.
pub fn sent_in_last_minute(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(outbox::table
        .filter(outbox::announcement_id.eq(id))
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .filter(outbox::sent_at.gt(now - TimeDelta::minutes(1)))
        .filter(outbox::sent_at.le(now))
        .count()
        .get_result(conn)?)
}

/// A delivery that failed, for the Retry list.
#[derive(Debug, Clone, Queryable)]
pub struct FailedDelivery {
    pub id: String,
    pub email: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Up to `limit` of the announcement's failed deliveries, newest first.
pub fn failed(
    conn: &mut DbConnection,
    id: &str,
    limit: i64,
) -> Result<Vec<FailedDelivery>, DbError> {
    Ok(outbox::table
        .inner_join(
            registrations::table.on(outbox::registration_id.eq(registrations::id.nullable())),
        )
        .filter(outbox::announcement_id.eq(id))
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .filter(outbox::status.eq(OutboxStatus::Failed.as_str()))
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .select((
            outbox::id,
            registrations::email,
            outbox::attempts,
            outbox::last_error,
            outbox::created_at,
        ))
        .load(conn)?)
}

/// One test send of an announcement.
#[derive(Debug, Clone, Queryable)]
pub struct TestSendRow {
    pub address: Option<String>,
    pub requested_by: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
}

/// The announcement's test sends, newest first (at most `limit`).
pub fn test_sends(
    conn: &mut DbConnection,
    id: &str,
    limit: i64,
) -> Result<Vec<TestSendRow>, DbError> {
    Ok(outbox::table
        .filter(outbox::announcement_id.eq(id))
        .filter(outbox::kind.eq(MessageKind::AnnouncementTest.as_str()))
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .select((
            outbox::test_address,
            outbox::requested_by,
            outbox::status,
            outbox::created_at,
        ))
        .load(conn)?)
}

/// Test recipients `requested_by` has used in the hour before `now` (the
/// window `announcements::queue_tests` caps).
pub fn tests_in_last_hour(
    conn: &mut DbConnection,
    requested_by: &str,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(outbox::table
        .filter(outbox::requested_by.eq(requested_by))
        .filter(outbox::kind.eq(MessageKind::AnnouncementTest.as_str()))
        .filter(outbox::created_at.gt(now - TimeDelta::hours(1)))
        .count()
        .get_result(conn)?)
}

/// Announcement deliveries sent so far, all announcements together (the
/// dashboard counts them apart from confirmations).
pub fn announcement_mail_sent(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(outbox::table
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .filter(outbox::status.eq(OutboxStatus::Sent.as_str()))
        .count()
        .get_result(conn)?)
}

/// Whether any announcement is in the public archive (sent and marked).
pub fn any_archived(conn: &mut DbConnection) -> Result<bool, DbError> {
    let archived = announcements::table
        .filter(announcements::status.eq(AnnouncementStatus::Sent.as_str()))
        .filter(announcements::archive.eq(true));
    Ok(diesel::select(diesel::dsl::exists(archived)).get_result(conn)?)
}

/// One announcement of the public archive; `None` for anything not sent and marked.
pub fn find_archived(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<AnnouncementRow>, DbError> {
    Ok(announcements::table
        .find(id)
        .filter(announcements::status.eq(AnnouncementStatus::Sent.as_str()))
        .filter(announcements::archive.eq(true))
        .select(AnnouncementRow::as_select())
        .first(conn)
        .optional()?)
}
