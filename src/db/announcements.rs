//! Announcements and their deliveries. Every status change is one guarded
//! UPDATE (`… WHERE status IN (allowed)`), so a double click, a second worker
//! or a second instance changes nothing; starting one creates every delivery in
//! the same transaction with one `INSERT … SELECT`, unique per member.

use super::audience::{self, Bind, RawSql};
use super::outbox::{MessageKind, NoticeKind, OutboxStatus, QueuedRow};
use super::schema::{announcements, delivery_attempts, outbox};
use super::{Backend, DbConnection, DbError, notices, write_transaction};
use crate::crypto::{Keys, TokenPurpose};
use crate::domain::EmailAddress;
use crate::domain::announcement::{
    Action, AnnouncementDraft, AnnouncementStatus, Audience, MISSED_AFTER, MISSED_ITS_TIME,
};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

/// An announcement as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = announcements)]
pub struct AnnouncementRow {
    pub id: String,
    pub subject: String,
    pub body: String,
    pub audience: String,
    pub archive: bool,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub scheduled_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub resumed_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

impl AnnouncementRow {
    /// The stored status; only [`AnnouncementStatus`] values are ever written.
    pub fn status(&self) -> AnnouncementStatus {
        AnnouncementStatus::parse(&self.status).unwrap_or(AnnouncementStatus::Draft)
    }

    /// The stored audience; one that no longer parses reaches nobody new.
    pub fn audience(&self) -> Audience {
        Audience::from_json(&self.audience).unwrap_or_else(|_| Audience {
            countries: vec![String::new()],
            ..Audience::default()
        })
    }
}

/// What starting needs beyond the database: the key for members' unsubscribe
/// tokens and the domain of Message-IDs.
#[derive(Debug, Clone)]
pub struct SendRules {
    pub keys: Keys,
    pub mail_domain: String,
}

/// The answer to an organiser's action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Moved to this status.
    Done(AnnouncementStatus),
    /// `send` on something no longer a draft: nothing changed, and that is fine.
    Unchanged(AnnouncementStatus),
    /// Not in the table from this status (409; the CLI exits 1).
    NotAllowed(AnnouncementStatus),
    NotFound,
}

/// Stores a new draft; returns its id.
pub fn create(
    conn: &mut DbConnection,
    draft: &AnnouncementDraft,
    created_by: &str,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let id = super::new_id();
    diesel::insert_into(announcements::table)
        .values((
            announcements::id.eq(&id),
            announcements::subject.eq(draft.subject.as_str()),
            announcements::body.eq(draft.body.as_str()),
            announcements::audience.eq(draft.audience.to_json()),
            announcements::archive.eq(draft.archive),
            announcements::status.eq(AnnouncementStatus::Draft.as_str()),
            announcements::status_reason.eq(None::<String>),
            announcements::created_by.eq(created_by),
            announcements::created_at.eq(now),
            announcements::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Replaces a draft's fields; only a draft may be edited.
pub fn edit(
    conn: &mut DbConnection,
    id: &str,
    draft: &AnnouncementDraft,
    now: NaiveDateTime,
) -> Result<Transition, DbError> {
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            announcements::table
                .find(id)
                .filter(announcements::status.eq(AnnouncementStatus::Draft.as_str())),
        )
        .set((
            announcements::subject.eq(draft.subject.as_str()),
            announcements::body.eq(draft.body.as_str()),
            announcements::audience.eq(draft.audience.to_json()),
            announcements::archive.eq(draft.archive),
            announcements::status_reason.eq(None::<String>),
            announcements::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 1 {
            return Ok(Transition::Done(AnnouncementStatus::Draft));
        }
        Ok(match find(conn, id)? {
            Some(row) => Transition::NotAllowed(row.status()),
            None => Transition::NotFound,
        })
    })
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AnnouncementRow>, DbError> {
    Ok(announcements::table
        .find(id)
        .select(AnnouncementRow::as_select())
        .first(conn)
        .optional()?)
}

/// The announcements with these ids (one query; the worker's batch).
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<AnnouncementRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(announcements::table
        .filter(announcements::id.eq_any(ids))
        .select(AnnouncementRow::as_select())
        .load(conn)?)
}

/// The ids of the announcements now sending: the only ones whose deliveries
/// are claimed.
pub fn sending_ids(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(announcements::table
        .filter(announcements::status.eq(AnnouncementStatus::Sending.as_str()))
        .select(announcements::id)
        .load(conn)?)
}

/// Whether any announcement is scheduled for `now` or earlier (a read, so a
/// worker's pass costs no write when none is).
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        announcements::table
            .filter(announcements::status.eq(AnnouncementStatus::Scheduled.as_str()))
            .filter(announcements::scheduled_at.le(now)),
    ))
    .get_result(conn)?)
}

/// Every announcement, newest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<AnnouncementRow>, DbError> {
    Ok(announcements::table
        .order(announcements::created_at.desc())
        .then_order_by(announcements::id.desc())
        .select(AnnouncementRow::as_select())
        .load(conn)?)
}

/// Sent announcements marked for the public archive, newest first.
pub fn archived(conn: &mut DbConnection) -> Result<Vec<AnnouncementRow>, DbError> {
    Ok(announcements::table
        .filter(announcements::status.eq(AnnouncementStatus::Sent.as_str()))
        .filter(announcements::archive.eq(true))
        .order(announcements::finished_at.desc())
        .select(AnnouncementRow::as_select())
        .load(conn)?)
}

/// An announcement's deliveries by status. A leased delivery is still queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl DeliveryCounts {
    /// Every delivery that remains (an erased member's went with them).
    pub fn audience(&self) -> i64 {
        self.queued + self.sent + self.failed + self.cancelled
    }
}

pub fn delivery_counts(conn: &mut DbConnection, id: &str) -> Result<DeliveryCounts, DbError> {
    let rows: Vec<(String, i64)> = outbox::table
        .filter(outbox::announcement_id.eq(id))
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts = DeliveryCounts::default();
    for (status, n) in rows {
        match OutboxStatus::parse(&status) {
            Some(OutboxStatus::Queued) => counts.queued = n,
            Some(OutboxStatus::Sent) => counts.sent = n,
            Some(OutboxStatus::Failed) => counts.failed = n,
            Some(OutboxStatus::Cancelled) => counts.cancelled = n,
            None => {}
        }
    }
    Ok(counts)
}

/// Applies an organiser's action: one guarded UPDATE, and for `SendNow` the
/// deliveries, for `Cancel` the cancelling of queued ones, in the same
/// transaction. `schedule_at` is the checked time for `Schedule`.
pub fn apply(
    conn: &mut DbConnection,
    rules: &SendRules,
    id: &str,
    action: Action,
    schedule_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Transition, DbError> {
    write_transaction(conn, |conn| {
        // The one guarded UPDATE of each action: it matches only while the
        // announcement is in a status the action may start from.
        macro_rules! guarded {
            ($($set:expr),+ $(,)?) => {
                diesel::update(
                    announcements::table
                        .find(id)
                        .filter(announcements::status.eq_any(from_names(action))),
                )
                .set((announcements::status.eq(action.to().as_str()), announcements::updated_at.eq(now), $($set),+))
                .execute(conn)?
                    == 1
            };
        }
        let changed = match action {
            Action::SendNow => start(conn, rules, id, AnnouncementStatus::Draft, now)?,
            Action::Schedule => guarded!(
                announcements::scheduled_at.eq(schedule_at.unwrap_or(now)),
                announcements::status_reason.eq(None::<String>),
            ),
            Action::Unschedule => guarded!(announcements::scheduled_at.eq(None::<NaiveDateTime>)),
            Action::Pause => guarded!(announcements::status_reason.eq(None::<String>)),
            Action::Resume => guarded!(
                announcements::status_reason.eq(None::<String>),
                announcements::resumed_at.eq(now),
            ),
            Action::Cancel => {
                let changed = guarded!(announcements::finished_at.eq(now));
                if changed {
                    cancel_queued(conn, id, "the announcement was cancelled")?;
                }
                changed
            }
        };
        if changed {
            return Ok(Transition::Done(action.to()));
        }
        Ok(match find(conn, id)? {
            None => Transition::NotFound,
            Some(row) if action.repeats_harmlessly() => Transition::Unchanged(row.status()),
            Some(row) => Transition::NotAllowed(row.status()),
        })
    })
}

/// The stored names of the statuses `action` may start from.
fn from_names(action: Action) -> Vec<&'static str> {
    action.from().iter().map(|s| s.as_str()).collect()
}

/// Moves `id` from `from` to `sending` and creates one delivery per member the
/// audience matches now; false if it was not in `from`.
fn start(
    conn: &mut DbConnection,
    rules: &SendRules,
    id: &str,
    from: AnnouncementStatus,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        announcements::table
            .find(id)
            .filter(announcements::status.eq(from.as_str())),
    )
    .set((
        announcements::status.eq(AnnouncementStatus::Sending.as_str()),
        announcements::status_reason.eq(None::<String>),
        announcements::started_at.eq(now),
        announcements::resumed_at.eq(now),
        announcements::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    let row = find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
    let audience = row.audience();
    give_unsubscribe_tokens(conn, &rules.keys, &audience, now)?;
    insert_deliveries(conn, id, &audience, &rules.mail_domain, now)?;
    Ok(true)
}

/// Members imported as confirmed may have no unsubscribe token yet; each
/// delivery names one, so those get theirs first (tokens are derived in Rust).
fn give_unsubscribe_tokens(
    conn: &mut DbConnection,
    keys: &Keys,
    audience: &Audience,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let mut sql = RawSql::default();
    sql.push("SELECT r.id AS id FROM registrations r WHERE ");
    audience::push_condition(&mut sql, audience, conn.backend());
    sql.push(
        " AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.registration_id = r.id \
         AND t.purpose = 'unsubscribe')",
    );
    let missing = sql.ids(conn)?;
    for chunk in missing.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|member| {
                super::tokens::NewToken::new(keys, member, TokenPurpose::Unsubscribe, now, None)
            })
            .collect();
        super::tokens::insert_all(conn, &rows)?;
    }
    Ok(())
}

/// One `INSERT … SELECT` of a delivery per matching member. Ids are UUIDv7
/// made in SQL: this millisecond's 48 bits (bound), then random bits; the
/// Message-ID is made from the same id (a materialised CTE computes it once).
fn insert_deliveries(
    conn: &mut DbConnection,
    announcement_id: &str,
    audience: &Audience,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let backend = conn.backend();
    let millis = u64::try_from(now.and_utc().timestamp_millis()).unwrap_or(0);
    let prefix = format!("{:08x}-{:04x}", millis >> 16, millis & 0xffff);
    let (random_hex, random_id) = match backend {
        Backend::Sqlite => (
            "lower(hex(randomblob(10)))",
            "substr(x, 1, 3) || '-' || substr('89ab', 1 + (unicode(substr(x, 4, 1)) % 4), 1) \
             || substr(x, 5, 3) || '-' || substr(x, 8, 12)",
        ),
        Backend::Postgres => (
            "replace(gen_random_uuid()::text, '-', '')",
            "substr(x, 1, 3) || '-' || substr(x, 17, 4) || '-' || substr(x, 21, 12)",
        ),
    };
    let mut sql = RawSql::default();
    sql.push("WITH picked AS MATERIALIZED (SELECT r.id AS rid, ")
        .push(random_hex)
        .push(" AS x FROM registrations r WHERE ");
    audience::push_condition(&mut sql, audience, backend);
    sql.push("), members AS MATERIALIZED (SELECT rid, ")
        .bind(Bind::Text(prefix))
        .push(" || '-7' || ")
        .push(random_id)
        .push(
            " AS oid FROM picked) \
             INSERT INTO outbox (id, registration_id, kind, token_id, unsubscribe_token_id, \
             message_id, status, attempts, next_attempt_at, created_at, announcement_id) \
             SELECT oid, rid, 'announcement', NULL, \
             (SELECT MIN(t.id) FROM tokens t WHERE t.registration_id = rid AND t.purpose = 'unsubscribe'), \
             '<' || oid || '@' || ",
        )
        .bind(Bind::Text(mail_domain.to_owned()))
        .push(" || '>', 'queued', 0, ")
        .bind(Bind::Time(now))
        .push(", ")
        .bind(Bind::Time(now))
        .push(", ")
        .bind(Bind::Text(announcement_id.to_owned()))
        .push(" FROM members");
    sql.execute(conn)
}

/// Marks an announcement's queued deliveries `cancelled`.
fn cancel_queued(conn: &mut DbConnection, id: &str, reason: &str) -> Result<usize, DbError> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::announcement_id.eq(id))
            .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
            .filter(outbox::status.eq(OutboxStatus::Queued.as_str())),
    )
    .set((
        outbox::status.eq(OutboxStatus::Cancelled.as_str()),
        outbox::leased_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(reason),
    ))
    .execute(conn)?)
}

/// What a worker's look at the schedules did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueSchedules {
    pub started: Vec<String>,
    pub missed: Vec<String>,
}

/// Starts every schedule that is due; one found more than six hours late goes
/// back to draft, "missed its time", and organisers are told. Each is its own
/// guarded transition, so workers racing here start each once.
pub fn start_due(
    conn: &mut DbConnection,
    rules: &SendRules,
    now: NaiveDateTime,
) -> Result<DueSchedules, DbError> {
    let due: Vec<(String, Option<NaiveDateTime>)> = announcements::table
        .filter(announcements::status.eq(AnnouncementStatus::Scheduled.as_str()))
        .filter(announcements::scheduled_at.le(now))
        .select((announcements::id, announcements::scheduled_at))
        .load(conn)?;
    let mut outcome = DueSchedules::default();
    for (id, at) in due {
        let late = at.is_some_and(|at| now - at > MISSED_AFTER);
        write_transaction(conn, |conn| -> Result<(), DbError> {
            if late {
                let changed = diesel::update(
                    announcements::table
                        .find(&id)
                        .filter(announcements::status.eq(AnnouncementStatus::Scheduled.as_str())),
                )
                .set((
                    announcements::status.eq(AnnouncementStatus::Draft.as_str()),
                    announcements::status_reason.eq(MISSED_ITS_TIME),
                    announcements::updated_at.eq(now),
                ))
                .execute(conn)?;
                if changed == 1 {
                    notices::queue_for_organisers(
                        conn,
                        NoticeKind::MissedItsTime,
                        Some(&id),
                        &rules.mail_domain,
                        now,
                    )?;
                    outcome.missed.push(id.clone());
                }
            } else if start(conn, rules, &id, AnnouncementStatus::Scheduled, now)? {
                outcome.started.push(id.clone());
            }
            Ok(())
        })?;
    }
    Ok(outcome)
}

/// Marks `sent` every sending announcement with nothing queued or leased, and
/// tells organisers; returns their ids.
pub fn finish_done(
    conn: &mut DbConnection,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, DbError> {
    // A read first: a pass that finishes nothing writes nothing.
    let queued = outbox::table
        .filter(outbox::announcement_id.eq(announcements::id.nullable()))
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()));
    let sending: Vec<String> = announcements::table
        .filter(announcements::status.eq(AnnouncementStatus::Sending.as_str()))
        .filter(diesel::dsl::not(diesel::dsl::exists(queued)))
        .select(announcements::id)
        .load(conn)?;
    let mut finished = Vec::new();
    for id in sending {
        let done = write_transaction(conn, |conn| -> Result<bool, DbError> {
            let queued = outbox::table
                .filter(outbox::announcement_id.eq(&id))
                .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
                .filter(outbox::status.eq(OutboxStatus::Queued.as_str()));
            let changed = diesel::update(
                announcements::table
                    .find(&id)
                    .filter(announcements::status.eq(AnnouncementStatus::Sending.as_str()))
                    .filter(diesel::dsl::not(diesel::dsl::exists(queued))),
            )
            .set((
                announcements::status.eq(AnnouncementStatus::Sent.as_str()),
                announcements::finished_at.eq(now),
                announcements::updated_at.eq(now),
            ))
            .execute(conn)?;
            if changed == 1 {
                notices::queue_for_organisers(
                    conn,
                    NoticeKind::AnnouncementSent,
                    Some(&id),
                    mail_domain,
                    now,
                )?;
            }
            Ok(changed == 1)
        })?;
        if done {
            finished.push(id);
        }
    }
    Ok(finished)
}

/// Pauses a sending announcement with `reason` and tells organisers; false if
/// it was not sending.
pub fn pause_itself(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            announcements::table
                .find(id)
                .filter(announcements::status.eq(AnnouncementStatus::Sending.as_str())),
        )
        .set((
            announcements::status.eq(AnnouncementStatus::Paused.as_str()),
            announcements::status_reason.eq(reason),
            announcements::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 1 {
            notices::queue_for_organisers(
                conn,
                NoticeKind::AnnouncementPaused,
                Some(id),
                mail_domain,
                now,
            )?;
        }
        Ok(changed == 1)
    })
}

/// The attempts the auto-pause rule looks at.
pub const PAUSE_WINDOW: i64 = 50;
/// Permanent failures among them that pause an announcement.
pub const PAUSE_FAILURES: usize = 25;

/// Whether, of the announcement's last 50 attempts since it last started or
/// resumed, 25 or more failed permanently.
pub fn failing_too_often(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    Ok(recent_failures(conn, id)?.is_some())
}

/// When the announcement is failing too often (see [`failing_too_often`]):
/// how many of how many recent attempts failed permanently, for its reason.
pub fn recent_failures(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(usize, usize)>, DbError> {
    let since: Option<NaiveDateTime> = announcements::table
        .find(id)
        .select(announcements::resumed_at)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten();
    let Some(since) = since else {
        return Ok(None);
    };
    let results: Vec<String> = delivery_attempts::table
        .inner_join(outbox::table)
        .filter(outbox::announcement_id.eq(id))
        .filter(outbox::kind.eq(MessageKind::Announcement.as_str()))
        .filter(delivery_attempts::attempted_at.ge(since))
        .order(delivery_attempts::attempted_at.desc())
        .limit(PAUSE_WINDOW)
        .select(delivery_attempts::result)
        .load(conn)?;
    let failed = results.iter().filter(|r| r.as_str() == "failed").count();
    Ok((failed >= PAUSE_FAILURES).then_some((failed, results.len())))
}

/// The answer to a test send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSend {
    Queued(usize),
    /// Over the hourly cap: try again after this long.
    OverCap {
        retry_after: TimeDelta,
    },
    NotFound,
}

/// Queues a test of the announcement to each address, if `requested_by` stays
/// within `per_hour` test recipients in the last hour.
pub fn queue_tests(
    conn: &mut DbConnection,
    id: &str,
    addresses: &[EmailAddress],
    requested_by: &str,
    per_hour: u32,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<TestSend, DbError> {
    write_transaction(conn, |conn| {
        if find(conn, id)?.is_none() {
            return Ok(TestSend::NotFound);
        }
        let hour_ago = now - TimeDelta::hours(1);
        let recent: Vec<NaiveDateTime> = outbox::table
            .filter(outbox::requested_by.eq(requested_by))
            .filter(outbox::kind.eq(MessageKind::AnnouncementTest.as_str()))
            .filter(outbox::created_at.gt(hour_ago))
            .order(outbox::created_at.asc())
            .select(outbox::created_at)
            .load(conn)?;
        let allowed = usize::try_from(per_hour).unwrap_or(usize::MAX);
        if recent.len() + addresses.len() > allowed {
            // The hour frees up as the oldest of the recent sends ages out.
            let frees_at = recent
                .get((recent.len() + addresses.len()).saturating_sub(allowed + 1))
                .map_or(now, |&at| at + TimeDelta::hours(1));
            let retry_after = (frees_at - now).max(TimeDelta::seconds(1));
            return Ok(TestSend::OverCap { retry_after });
        }
        let rows: Vec<QueuedRow<'_>> = addresses
            .iter()
            .map(|address| {
                QueuedRow::announcement_test(id, address.as_str(), requested_by, mail_domain, now)
            })
            .collect();
        super::outbox::enqueue_all(conn, &rows)?;
        Ok(TestSend::Queued(rows.len()))
    })
}
