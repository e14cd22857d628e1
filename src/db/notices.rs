//! Notices to organisers: one outbox row per organiser, queued in the
//! transaction of the event they tell of, so an event is told once.

use super::outbox::{self, NoticeKind, QueuedRow};
use super::schema::organisers;
use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Queues `notice` (perhaps about an announcement) to every organiser; returns
/// how many were queued.
pub fn queue_for_organisers(
    conn: &mut DbConnection,
    notice: NoticeKind,
    announcement_id: Option<&str>,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let ids: Vec<String> = organisers::table.select(organisers::id).load(conn)?;
    let rows: Vec<QueuedRow<'_>> = ids
        .iter()
        .map(|id| QueuedRow::notice(id, notice, announcement_id, mail_domain, now))
        .collect();
    if !rows.is_empty() {
        outbox::enqueue_all(conn, &rows)?;
    }
    Ok(rows.len())
}
