//! Recording bounces and complaints, and the policy that follows from them.
//!
//! # Policy
//!
//! * Each report is one row keyed by `report_key` (`{outbox id}:{class}` when
//!   matched, else SHA-256 of the report part): the same report twice is a
//!   `duplicate` and changes nothing.
//! * Hard → unsubscribed `bounced`; complaint → unsubscribed `complaint`; soft
//!   bounces on 3 distinct UTC days within 30 days, each message counted once,
//!   act as a hard bounce; `policy` is the sender's problem and touches nobody.
//! * A confirmed member who bounces is unsubscribed and a ledger event written;
//!   a pending registration's queued mail is cancelled and the reason kept (it
//!   is left to retention; a new signup asks again); nothing else changes state.
//! * An unmatched report keeps only its time, class, source and key.

use super::ledger::{self, Event, NewEvent};
use super::outbox::OutboxStatus;
use super::schema::{bounces, outbox, registrations};
use super::{DbConnection, DbError, write_transaction};
use crate::bounces::report::BounceClass;
use crate::domain::{Status, UnsubscribeReason};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// Where a report came from (`bounces.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BounceSource {
    Imap,
    Webhook,
    Cli,
    /// A refusal at RCPT during the send.
    Smtp,
}

impl BounceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            BounceSource::Imap => "imap",
            BounceSource::Webhook => "webhook",
            BounceSource::Cli => "cli",
            BounceSource::Smtp => "smtp",
        }
    }
}

/// A report to record.
#[derive(Debug, Clone)]
pub struct NewBounce<'a> {
    pub class: BounceClass,
    pub status_code: Option<&'a str>,
    /// The outbox row a valid tag names.
    pub outbox_id: Option<&'a str>,
    /// The report part, hashed into the key of an unmatched report.
    pub report_part: &'a [u8],
    pub source: BounceSource,
}

/// What recording a report did: SPEC's result words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BounceResult {
    Recorded(BounceClass),
    Unmatched,
    Duplicate,
}

impl BounceResult {
    pub fn as_str(self) -> &'static str {
        match self {
            BounceResult::Recorded(class) => class.as_str(),
            BounceResult::Unmatched => "unmatched",
            BounceResult::Duplicate => "duplicate",
        }
    }
}

/// The days of soft bounces that make a hard one, and the window they fall in.
pub const SOFT_DAYS: usize = 3;
pub const SOFT_WINDOW: TimeDelta = TimeDelta::days(30);

/// The actor of the ledger events a bounce causes.
const ACTOR: &str = "bounce";

/// Records a report and applies the policy, in one write transaction.
pub fn record(
    conn: &mut DbConnection,
    report: &NewBounce<'_>,
    now: NaiveDateTime,
) -> Result<BounceResult, DbError> {
    write_transaction(conn, |conn| record_in(conn, report, now))
}

/// [`record`] inside the caller's write transaction (a refusal at send time is
/// recorded with the delivery's outcome).
pub fn record_in(
    conn: &mut DbConnection,
    report: &NewBounce<'_>,
    now: NaiveDateTime,
) -> Result<BounceResult, DbError> {
    {
        // A tag that holds but whose row is gone (erased since) matches nobody.
        let registration: Option<String> = match report.outbox_id {
            Some(id) => outbox::table
                .find(id)
                .select(outbox::registration_id)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten(),
            None => None,
        };
        let matched = report.outbox_id.filter(|_| registration.is_some());
        let key = match matched {
            Some(id) => format!("{id}:{}", report.class.as_str()),
            None => crate::crypto::hex(&Sha256::digest(report.report_part)),
        };
        let exists: i64 = bounces::table
            .filter(bounces::report_key.eq(&key))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(BounceResult::Duplicate);
        }
        diesel::insert_into(bounces::table)
            .values((
                bounces::id.eq(super::new_id()),
                bounces::registration_id.eq(&registration),
                bounces::outbox_id.eq(matched),
                bounces::class.eq(report.class.as_str()),
                bounces::status_code.eq(report.status_code.filter(|_| matched.is_some())),
                bounces::source.eq(report.source.as_str()),
                bounces::report_key.eq(&key),
                bounces::received_at.eq(now),
            ))
            .execute(conn)?;
        let Some(registration) = registration else {
            return Ok(BounceResult::Unmatched);
        };
        let reason = match report.class {
            BounceClass::Hard => Some(UnsubscribeReason::Bounced),
            BounceClass::Complaint => Some(UnsubscribeReason::Complaint),
            BounceClass::Soft if soft_days(conn, &registration, now)? >= SOFT_DAYS => {
                Some(UnsubscribeReason::Bounced)
            }
            BounceClass::Soft | BounceClass::Policy => None,
        };
        if let Some(reason) = reason {
            stop_mail(conn, &registration, reason, now)?;
        }
        Ok(BounceResult::Recorded(report.class))
    }
}

/// Distinct UTC days with a soft bounce in the 30 days up to `now`, each
/// message counted once (on its first day).
fn soft_days(
    conn: &mut DbConnection,
    registration: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let rows: Vec<(Option<String>, NaiveDateTime)> = bounces::table
        .filter(bounces::registration_id.eq(registration))
        .filter(bounces::class.eq(BounceClass::Soft.as_str()))
        .filter(bounces::received_at.gt(now - SOFT_WINDOW))
        .order(bounces::received_at.asc())
        .select((bounces::outbox_id, bounces::received_at))
        .load(conn)?;
    let mut messages = std::collections::HashSet::new();
    let mut days = std::collections::HashSet::new();
    for (message, at) in rows {
        if messages.insert(message) {
            days.insert(at.date());
        }
    }
    Ok(days.len())
}

/// Unsubscribes a member for `reason` (with its ledger event), or stops a
/// pending registration's mail.
fn stop_mail(
    conn: &mut DbConnection,
    registration: &str,
    reason: UnsubscribeReason,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let status: Option<String> = registrations::table
        .find(registration)
        .select(registrations::status)
        .first(conn)
        .optional()?;
    match status.as_deref().and_then(Status::parse) {
        Some(Status::Confirmed) => {
            if super::registrations::unsubscribe(conn, registration, reason, now)? {
                let event = match reason {
                    UnsubscribeReason::Complaint => Event::Complaint,
                    _ => Event::Bounce,
                };
                ledger::append(
                    conn,
                    NewEvent {
                        registration_id: registration,
                        event,
                        at: now,
                        actor: ACTOR,
                        consent_text_version: None,
                        source: None,
                    },
                )?;
            }
            cancel_queued(conn, registration, "the address bounced or complained")?;
        }
        Some(Status::Pending) => {
            diesel::update(registrations::table.find(registration))
                .set(registrations::unsubscribe_reason.eq(reason.as_str()))
                .execute(conn)?;
            cancel_queued(conn, registration, "the address bounced or complained")?;
        }
        Some(Status::Unsubscribed) | None => {}
    }
    Ok(())
}

fn cancel_queued(conn: &mut DbConnection, registration: &str, why: &str) -> Result<usize, DbError> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::registration_id.eq(registration))
            .filter(outbox::status.eq(OutboxStatus::Queued.as_str())),
    )
    .set((
        outbox::status.eq(OutboxStatus::Cancelled.as_str()),
        outbox::leased_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(why),
    ))
    .execute(conn)?)
}

/// The answer to an organiser's reinstate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reinstate {
    Done,
    /// Not unsubscribed for a bounce after confirming (a complaint is the
    /// person's own word): 409.
    NotAllowed,
    NotFound,
}

/// Confirms again a member unsubscribed because their address bounced.
pub fn reinstate(
    conn: &mut DbConnection,
    registration: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<Reinstate, DbError> {
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            registrations::table
                .find(registration)
                .filter(registrations::status.eq(Status::Unsubscribed.as_str()))
                .filter(registrations::unsubscribe_reason.eq(UnsubscribeReason::Bounced.as_str()))
                .filter(registrations::confirmed_at.is_not_null()),
        )
        .set((
            registrations::status.eq(Status::Confirmed.as_str()),
            registrations::unsubscribed_at.eq(None::<NaiveDateTime>),
            registrations::unsubscribe_reason.eq(None::<String>),
            registrations::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 0 {
            let known: i64 = registrations::table
                .find(registration)
                .count()
                .get_result(conn)?;
            return Ok(if known == 0 {
                Reinstate::NotFound
            } else {
                Reinstate::NotAllowed
            });
        }
        ledger::append(
            conn,
            NewEvent {
                registration_id: registration,
                event: Event::Reinstate,
                at: now,
                actor,
                consent_text_version: None,
                source: None,
            },
        )?;
        Ok(Reinstate::Done)
    })
}

/// A bounce row as the subscriber page shows it.
#[derive(Debug, Clone, Queryable)]
pub struct BounceEntry {
    pub received_at: NaiveDateTime,
    pub class: String,
    pub status_code: Option<String>,
    pub source: String,
}

pub fn for_registration(
    conn: &mut DbConnection,
    registration: &str,
) -> Result<Vec<BounceEntry>, DbError> {
    Ok(bounces::table
        .filter(bounces::registration_id.eq(registration))
        .order(bounces::received_at.desc())
        .select((
            bounces::received_at,
            bounces::class,
            bounces::status_code,
            bounces::source,
        ))
        .load(conn)?)
}

/// Counts over the last 30 days for the dashboard: by class, and unmatched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BounceCounts {
    pub hard: i64,
    pub soft: i64,
    pub complaint: i64,
    pub policy: i64,
    pub unmatched: i64,
}

pub fn counts_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<BounceCounts, DbError> {
    let recent = bounces::table.filter(bounces::received_at.ge(since));
    let rows: Vec<(String, i64)> = recent
        .filter(bounces::registration_id.is_not_null())
        .group_by(bounces::class)
        .select((bounces::class, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts = BounceCounts {
        unmatched: recent
            .filter(bounces::registration_id.is_null())
            .count()
            .get_result(conn)?,
        ..BounceCounts::default()
    };
    for (class, n) in rows {
        match BounceClass::parse(&class) {
            Some(BounceClass::Hard) => counts.hard = n,
            Some(BounceClass::Soft) => counts.soft = n,
            Some(BounceClass::Complaint) => counts.complaint = n,
            Some(BounceClass::Policy) => counts.policy = n,
            None => {}
        }
    }
    Ok(counts)
}

/// The bounce rate of the most recently sent announcement: its subject, the
/// deliveries that bounced (hard or soft, each once, at send time or by a
/// report) and those that went out or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementBounceRate {
    pub subject: String,
    pub bounced: i64,
    pub sent: i64,
}

impl AnnouncementBounceRate {
    /// Percent, one decimal.
    pub fn percent(&self) -> String {
        if self.sent == 0 {
            return "0.0".to_owned();
        }
        format!("{:.1}", self.bounced as f64 * 100.0 / self.sent as f64)
    }
}

pub fn last_announcement_rate(
    conn: &mut DbConnection,
) -> Result<Option<AnnouncementBounceRate>, DbError> {
    use super::schema::announcements;
    let last: Option<(String, String)> = announcements::table
        .filter(announcements::status.eq("sent"))
        .order(announcements::finished_at.desc())
        .select((announcements::id, announcements::subject))
        .first(conn)
        .optional()?;
    let Some((id, subject)) = last else {
        return Ok(None);
    };
    let deliveries = outbox::table
        .filter(outbox::announcement_id.eq(&id))
        .filter(outbox::kind.eq(super::outbox::MessageKind::Announcement.as_str()));
    let sent: i64 = deliveries
        .filter(outbox::status.eq_any([OutboxStatus::Sent.as_str(), OutboxStatus::Failed.as_str()]))
        .count()
        .get_result(conn)?;
    let bounced: Vec<Option<String>> = bounces::table
        .inner_join(outbox::table.on(bounces::outbox_id.eq(outbox::id.nullable())))
        .filter(outbox::announcement_id.eq(&id))
        .filter(bounces::class.eq_any([BounceClass::Hard.as_str(), BounceClass::Soft.as_str()]))
        .select(bounces::outbox_id)
        .distinct()
        .load(conn)?;
    Ok(Some(AnnouncementBounceRate {
        subject,
        bounced: bounced.len() as i64,
        sent,
    }))
}
