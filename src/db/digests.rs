//! Digests in storage: which organisers are owed one for a period, the
//! numbers of a window counted from the stored events, and the digest's
//! outbox row. A unique index on `(organiser_id, digest_key)` keeps it to one
//! per organiser and period however many workers queue it at once.

use super::ledger::Event;
use super::outbox::{OutboxStatus, QueuedRow};
use super::schema::{announcements, bounces, delivery_attempts, ledger, organisers, outbox};
use super::{DbConnection, DbError};
use crate::domain::announcement::AnnouncementStatus;
use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use std::collections::HashMap;

/// What happened in a window `[from, to)`, counted from the stored events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestCounts {
    /// `signup` events in the ledger (new and repeated signups that sent mail).
    pub signups: i64,
    /// `confirm` events.
    pub confirmations: i64,
    /// Unsubscribes by reason: by the person or an organiser (`unsubscribe`
    /// events), after a bounce (`bounce`), after a complaint (`complaint`).
    pub unsubscribed_user: i64,
    pub unsubscribed_bounced: i64,
    pub unsubscribed_complaint: i64,
    /// Bounce reports received, by class.
    pub bounces_hard: i64,
    pub bounces_soft: i64,
    pub bounces_complaint: i64,
    pub bounces_policy: i64,
    /// Messages marked failed (a permanent refusal, or out of attempts).
    pub failed_deliveries: i64,
    /// Announcements that finished sending.
    pub announcements_sent: i64,
}

impl DigestCounts {
    /// Whether nothing at all happened: no digest is sent for such a window.
    pub fn is_empty(&self) -> bool {
        *self == DigestCounts::default()
    }
}

/// Counts the events of `[from, to)`: four grouped or counted reads.
pub fn counts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<DigestCounts, DbError> {
    let events: HashMap<String, i64> = ledger::table
        .filter(ledger::at.ge(from))
        .filter(ledger::at.lt(to))
        .group_by(ledger::event)
        .select((ledger::event, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let classes: HashMap<String, i64> = bounces::table
        .filter(bounces::received_at.ge(from))
        .filter(bounces::received_at.lt(to))
        .group_by(bounces::class)
        .select((bounces::class, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let failed_deliveries = delivery_attempts::table
        .filter(delivery_attempts::result.eq(OutboxStatus::Failed.as_str()))
        .filter(delivery_attempts::attempted_at.ge(from))
        .filter(delivery_attempts::attempted_at.lt(to))
        .count()
        .get_result(conn)?;
    let announcements_sent = announcements::table
        .filter(announcements::status.eq(AnnouncementStatus::Sent.as_str()))
        .filter(announcements::finished_at.ge(from))
        .filter(announcements::finished_at.lt(to))
        .count()
        .get_result(conn)?;
    let event = |e: Event| events.get(e.as_str()).copied().unwrap_or(0);
    let class = |c: &str| classes.get(c).copied().unwrap_or(0);
    Ok(DigestCounts {
        signups: event(Event::Signup),
        confirmations: event(Event::Confirm),
        unsubscribed_user: event(Event::Unsubscribe),
        unsubscribed_bounced: event(Event::Bounce),
        unsubscribed_complaint: event(Event::Complaint),
        bounces_hard: class("hard"),
        bounces_soft: class("soft"),
        bounces_complaint: class("complaint"),
        bounces_policy: class("policy"),
        failed_deliveries,
        announcements_sent,
    })
}

/// The key of each frequency's period that is due now (`None`: not due).
#[derive(Debug, Clone, Copy, Default)]
pub struct DueKeys<'a> {
    pub daily: Option<&'a str>,
    pub weekly: Option<&'a str>,
}

/// The organisers (id and frequency) whose digest is due and not yet queued:
/// one read, through the unique index.
pub fn owed(conn: &mut DbConnection, due: DueKeys<'_>) -> Result<Vec<(String, String)>, DbError> {
    // A frequency that is not due matches no organiser: "" is no frequency.
    let (daily, daily_key) = due.daily.map_or(("", ""), |key| ("daily", key));
    let (weekly, weekly_key) = due.weekly.map_or(("", ""), |key| ("weekly", key));
    if daily.is_empty() && weekly.is_empty() {
        return Ok(Vec::new());
    }
    let queued = outbox::organiser_id.eq(organisers::id.nullable()).and(
        (organisers::digest
            .eq(daily)
            .and(outbox::digest_key.eq(daily_key)))
        .or(organisers::digest
            .eq(weekly)
            .and(outbox::digest_key.eq(weekly_key))),
    );
    Ok(organisers::table
        .left_join(outbox::table.on(queued))
        .filter(organisers::digest.eq_any([daily, weekly]))
        .filter(outbox::id.is_null())
        .select((organisers::id, organisers::digest))
        .load(conn)?)
}

/// A digest found due for one organiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub organiser_id: String,
    pub key: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// Queues the digests in `due` whose window has anything to count, in one
/// write transaction; one that another worker queued first is left as it is
/// (the unique index). Returns how many this call queued.
pub fn queue(
    conn: &mut DbConnection,
    due: &[Due],
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    super::write_transaction(conn, |conn| {
        let mut windows: HashMap<(NaiveDateTime, NaiveDateTime), DigestCounts> = HashMap::new();
        let mut queued = 0;
        for digest in due {
            let window = (digest.from, digest.to);
            let numbers = match windows.get(&window) {
                Some(numbers) => *numbers,
                None => {
                    let numbers = counts(conn, digest.from, digest.to)?;
                    windows.insert(window, numbers);
                    numbers
                }
            };
            if numbers.is_empty() {
                continue;
            }
            let row =
                QueuedRow::digest(&digest.organiser_id, &digest.key, window, mail_domain, now);
            let insert = diesel::insert_into(outbox::table)
                .values(&row)
                .on_conflict((outbox::organiser_id, outbox::digest_key))
                .do_nothing();
            queued += match conn {
                DbConnection::Sqlite(c) => insert.execute(c)?,
                DbConnection::Postgres(c) => insert.execute(c)?,
            };
        }
        Ok(queued)
    })
}
