//! The durable outbox. Enqueueing is an insert inside the caller's transaction;
//! workers claim due rows with a lease and record outcomes fenced by `lease_owner`,
//! so any number of workers may run on either backend.

use super::schema::{announcements, delivery_attempts, outbox, registrations};
use super::{DbConnection, DbError};

mod claim;

use chrono::NaiveDateTime;
pub use claim::claim_due;
use diesel::prelude::*;

/// Which message an outbox row will render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Confirmation,
    AlreadyMember,
    Welcome,
    Manage,
    /// One announcement to one member (a delivery).
    Announcement,
    /// An announcement to a typed address, asked for by an organiser.
    AnnouncementTest,
    /// A notice to one organiser (see [`NoticeKind`]).
    Notice,
    /// A summary of a period for one organiser.
    Digest,
}

impl MessageKind {
    pub const ALL: [MessageKind; 8] = [
        MessageKind::Confirmation,
        MessageKind::AlreadyMember,
        MessageKind::Welcome,
        MessageKind::Manage,
        MessageKind::Announcement,
        MessageKind::AnnouncementTest,
        MessageKind::Notice,
        MessageKind::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Confirmation => "confirmation",
            MessageKind::AlreadyMember => "already_member",
            MessageKind::Welcome => "welcome",
            MessageKind::Manage => "manage",
            MessageKind::Announcement => "announcement",
            MessageKind::AnnouncementTest => "announcement_test",
            MessageKind::Notice => "notice",
            MessageKind::Digest => "digest",
        }
    }

    /// Transactional kinds are claimed before announcement deliveries, and are
    /// not paced.
    pub fn is_transactional(self) -> bool {
        !matches!(self, MessageKind::Announcement)
    }

    pub fn parse(text: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What a notice to organisers is about. Stored in `outbox.notice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// An announcement finished sending.
    AnnouncementSent,
    /// An announcement paused itself (its `status_reason` says why).
    AnnouncementPaused,
    /// A schedule found more than 6 hours late went back to draft.
    MissedItsTime,
    /// The relay refused authentication or the sender, and now accepts again.
    RelayRefused,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::AnnouncementSent,
        NoticeKind::AnnouncementPaused,
        NoticeKind::MissedItsTime,
        NoticeKind::RelayRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::AnnouncementSent => "announcement_sent",
            NoticeKind::AnnouncementPaused => "announcement_paused",
            NoticeKind::MissedItsTime => "missed_its_time",
            NoticeKind::RelayRefused => "relay_refused",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where an outbox row is: `queued` (due at `next_attempt_at`, perhaps leased) →
/// `sent`, `failed` (an organiser may requeue it) or `cancelled`. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Queued,
    Sent,
    Failed,
    Cancelled,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Queued,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An outbox row as stored: a token id, never a token or a rendered body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    /// Exactly one of `registration_id`, `organiser_id` and `test_address` is set.
    pub registration_id: Option<String>,
    pub kind: String,
    pub token_id: Option<String>,
    pub unsubscribe_token_id: Option<String>,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub leased_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub organiser_id: Option<String>,
    pub test_address: Option<String>,
    pub announcement_id: Option<String>,
    pub notice: Option<String>,
    pub requested_by: Option<String>,
}

impl OutboxRow {
    pub fn kind(&self) -> Option<MessageKind> {
        MessageKind::parse(&self.kind)
    }

    /// The stored status; only `OutboxStatus` values are ever written.
    pub fn status(&self) -> Option<OutboxStatus> {
        OutboxStatus::parse(&self.status)
    }
}

/// A message to queue.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub registration_id: &'a str,
    pub kind: MessageKind,
    pub token_id: Option<&'a str>,
    pub unsubscribe_token_id: Option<&'a str>,
}

/// An outbox row to insert; its Message-ID is fixed now so every retry
/// carries the same.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct QueuedRow<'a> {
    pub id: String,
    registration_id: Option<&'a str>,
    kind: &'static str,
    token_id: Option<&'a str>,
    unsubscribe_token_id: Option<&'a str>,
    message_id: String,
    status: &'static str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    organiser_id: Option<&'a str>,
    test_address: Option<&'a str>,
    announcement_id: Option<&'a str>,
    notice: Option<&'static str>,
    requested_by: Option<&'a str>,
}

impl<'a> QueuedRow<'a> {
    pub fn new(message: NewMessage<'a>, mail_domain: &str, now: NaiveDateTime) -> Self {
        let mut row = Self::bare(message.kind, mail_domain, now);
        row.registration_id = Some(message.registration_id);
        row.token_id = message.token_id;
        row.unsubscribe_token_id = message.unsubscribe_token_id;
        row
    }

    /// A notice to one organiser, perhaps about an announcement.
    pub fn notice(
        organiser_id: &'a str,
        notice: NoticeKind,
        announcement_id: Option<&'a str>,
        mail_domain: &str,
        now: NaiveDateTime,
    ) -> Self {
        let mut row = Self::bare(MessageKind::Notice, mail_domain, now);
        row.organiser_id = Some(organiser_id);
        row.notice = Some(notice.as_str());
        row.announcement_id = announcement_id;
        row
    }

    /// A test send of an announcement to a typed address.
    pub fn announcement_test(
        announcement_id: &'a str,
        address: &'a str,
        requested_by: &'a str,
        mail_domain: &str,
        now: NaiveDateTime,
    ) -> Self {
        let mut row = Self::bare(MessageKind::AnnouncementTest, mail_domain, now);
        row.announcement_id = Some(announcement_id);
        row.test_address = Some(address);
        row.requested_by = Some(requested_by);
        row
    }

    fn bare(kind: MessageKind, mail_domain: &str, now: NaiveDateTime) -> Self {
        let id = super::new_id();
        QueuedRow {
            message_id: message_id_for(&id, mail_domain),
            id,
            registration_id: None,
            kind: kind.as_str(),
            token_id: None,
            unsubscribe_token_id: None,
            status: OutboxStatus::Queued.as_str(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            organiser_id: None,
            test_address: None,
            announcement_id: None,
            notice: None,
            requested_by: None,
        }
    }
}

/// The Message-ID of the outbox row `id`, fixed when it is queued.
pub fn message_id_for(id: &str, mail_domain: &str) -> String {
    format!("<{id}@{mail_domain}>")
}

/// Queues messages with one statement.
pub fn enqueue_all(conn: &mut DbConnection, rows: &[QueuedRow<'_>]) -> Result<(), DbError> {
    super::insert_rows!(conn, outbox::table, rows)?;
    Ok(())
}

/// Queues a message (see [`QueuedRow`]) and returns its id.
pub fn enqueue(
    conn: &mut DbConnection,
    message: NewMessage<'_>,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let row = QueuedRow::new(message, mail_domain, now);
    enqueue_all(conn, std::slice::from_ref(&row))?;
    Ok(row.id)
}

/// The result of one delivery attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    Retry {
        at: NaiveDateTime,
        error: String,
    },
    Failed {
        error: String,
    },
    /// Refused at RCPT with 5.1.x: failed, and recorded as a hard bounce.
    Bounced {
        error: String,
        status: String,
    },
    /// Not attempted, or stopped by the relay before the message was its
    /// concern: due again at `at`, and not counted against `max_attempts`.
    Deferred {
        at: NaiveDateTime,
        error: String,
    },
    /// No longer wanted: the registration moved on (e.g. a welcome for someone
    /// who has since unsubscribed).
    Cancelled {
        reason: String,
    },
    /// Not attempted and not this worker's to send now (its announcement was
    /// paused): back in the queue as it was, with no attempt counted or
    /// recorded.
    Released,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retry { .. } | Outcome::Deferred { .. } => "retry",
            Outcome::Failed { .. } | Outcome::Bounced { .. } => "failed",
            Outcome::Cancelled { .. } => "cancelled",
            Outcome::Released => "released",
        }
    }
}

/// Records an attempt's outcome if `owner` still holds the lease; returns whether
/// it did (a worker whose lease ran out and was taken over records nothing).
pub fn record_outcome(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    super::write_transaction(conn, |conn| record_one(conn, id, owner, outcome, now))
}

/// Records a batch's outcomes in one transaction (one durable commit); returns,
/// for each, whether it was recorded (see [`record_outcome`]). The sent ones,
/// nearly all of a batch, take three statements together.
pub fn record_outcomes(
    conn: &mut DbConnection,
    owner: &str,
    outcomes: &[(String, Outcome)],
    now: NaiveDateTime,
) -> Result<Vec<bool>, DbError> {
    super::write_transaction(conn, |conn| record_all(conn, owner, outcomes, now))
}

/// A batch as the worker records it: its outcomes and what it saw of the
/// relay, in one transaction. Returns whether each outcome was recorded and
/// whether the relay's `relay_refused` notice was queued.
pub fn record_batch(
    conn: &mut DbConnection,
    owner: &str,
    outcomes: &[(String, Outcome)],
    relay: super::relay::RelaySeen<'_>,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<(Vec<bool>, bool), DbError> {
    super::write_transaction(conn, |conn| {
        let recorded = record_all(conn, owner, outcomes, now)?;
        let noticed = super::relay::record_seen(conn, relay, mail_domain, now)?;
        Ok((recorded, noticed))
    })
}

fn record_all(
    conn: &mut DbConnection,
    owner: &str,
    outcomes: &[(String, Outcome)],
    now: NaiveDateTime,
) -> Result<Vec<bool>, DbError> {
    let sent: Vec<&str> = outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Sent))
        .map(|(id, _)| id.as_str())
        .collect();
    let held = record_sent(conn, owner, &sent, now)?;
    outcomes
        .iter()
        .map(|(id, outcome)| match outcome {
            Outcome::Sent => Ok(held.contains(id)),
            _ => record_one(conn, id, owner, outcome, now),
        })
        .collect()
}

/// Marks the messages in `ids` that `owner` still holds as sent, with one
/// attempt row each; returns those ids.
fn record_sent(
    conn: &mut DbConnection,
    owner: &str,
    ids: &[&str],
    now: NaiveDateTime,
) -> Result<std::collections::HashSet<String>, DbError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let held_query = outbox::table
        .filter(outbox::id.eq_any(ids))
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
        .select(outbox::id);
    let held: Vec<String> = match conn {
        DbConnection::Postgres(c) => held_query.for_update().load(c)?,
        DbConnection::Sqlite(c) => held_query.load(c)?,
    };
    diesel::update(outbox::table.filter(outbox::id.eq_any(&held)))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::leased_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    let attempts: Vec<_> = held
        .iter()
        .map(|id| {
            (
                delivery_attempts::id.eq(super::new_id()),
                delivery_attempts::outbox_id.eq(id),
                delivery_attempts::attempted_at.eq(now),
                delivery_attempts::worker.eq(owner),
                delivery_attempts::result.eq(Outcome::Sent.label()),
                delivery_attempts::detail.eq(None::<String>),
            )
        })
        .collect();
    let insert = diesel::insert_into(delivery_attempts::table).values(attempts);
    match conn {
        DbConnection::Postgres(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(held.into_iter().collect())
}

fn record_one(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let held = outbox::table
        .find(id)
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()));
    let base = diesel::update(held);
    let changed = match outcome {
        Outcome::Sent => base
            .set((
                outbox::status.eq(OutboxStatus::Sent.as_str()),
                outbox::sent_at.eq(now),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::leased_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Outcome::Retry { at, error } => base
            .set((
                outbox::next_attempt_at.eq(at),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::leased_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
        Outcome::Deferred { at, error } => base
            .set((
                outbox::next_attempt_at.eq(at),
                outbox::leased_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
        Outcome::Released => {
            return Ok(base
                .set(outbox::leased_until.eq(None::<NaiveDateTime>))
                .execute(conn)?
                == 1);
        }
        Outcome::Failed { error: reason }
        | Outcome::Bounced { error: reason, .. }
        | Outcome::Cancelled { reason } => base
            .set((
                outbox::status.eq(if !matches!(outcome, Outcome::Cancelled { .. }) {
                    OutboxStatus::Failed.as_str()
                } else {
                    OutboxStatus::Cancelled.as_str()
                }),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::leased_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(reason),
            ))
            .execute(conn)?,
    };
    if changed == 1 {
        let detail = match outcome {
            Outcome::Sent | Outcome::Released => None,
            Outcome::Retry { error, .. }
            | Outcome::Deferred { error, .. }
            | Outcome::Failed { error }
            | Outcome::Bounced { error, .. } => Some(error.as_str()),
            Outcome::Cancelled { reason } => Some(reason.as_str()),
        };
        let result = outcome.label();
        diesel::insert_into(delivery_attempts::table)
            .values((
                delivery_attempts::id.eq(super::new_id()),
                delivery_attempts::outbox_id.eq(id),
                delivery_attempts::attempted_at.eq(now),
                delivery_attempts::worker.eq(owner),
                delivery_attempts::result.eq(result),
                delivery_attempts::detail.eq(detail),
            ))
            .execute(conn)?;
        if let Outcome::Bounced { status, .. } = outcome {
            let bounce = super::bounces::NewBounce {
                class: crate::bounces::report::BounceClass::Hard,
                status_code: Some(status),
                outbox_id: Some(id),
                report_part: &[],
                source: super::bounces::BounceSource::Smtp,
            };
            super::bounces::record_in(conn, &bounce, now)?;
        }
    }
    Ok(changed == 1)
}

/// Extends the lease just before a send. False means the lease ran out and
/// another worker may have the message: the caller must not send it.
pub fn renew_lease(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    now: NaiveDateTime,
    leased_until: NaiveDateTime,
) -> Result<bool, DbError> {
    super::write_transaction(conn, |conn| {
        let renewed = diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::lease_owner.eq(owner))
                .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
                .filter(outbox::leased_until.gt(now)),
        )
        .set(outbox::leased_until.eq(leased_until))
        .execute(conn)?;
        Ok(renewed == 1)
    })
}

/// What a worker reads right before a send (one query): when its lease
/// ends, and the current status of the row's registration and announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCheck {
    pub leased_until: Option<NaiveDateTime>,
    pub registration_status: Option<String>,
    pub announcement_status: Option<String>,
}

/// [`SendCheck`] of a queued message `owner` still holds; `None` if it does
/// not (another worker has it, or it was cancelled or erased meanwhile).
pub fn send_check(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
) -> Result<Option<SendCheck>, DbError> {
    let found: Option<(Option<NaiveDateTime>, Option<String>, Option<String>)> = outbox::table
        .left_join(registrations::table)
        .left_join(announcements::table)
        .filter(outbox::id.eq(id))
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
        .select((
            outbox::leased_until,
            registrations::status.nullable(),
            announcements::status.nullable(),
        ))
        .get_result(conn)
        .optional()?;
    Ok(found.map(
        |(leased_until, registration_status, announcement_status)| SendCheck {
            leased_until,
            registration_status,
            announcement_status,
        },
    ))
}

/// When `owner`'s lease on a queued message ends, if it still holds it (a read:
/// the lease is checked per send, renewed only when it runs low).
pub fn lease_end(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(outbox::table
        .find(id)
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
        .select(outbox::leased_until)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}

/// Puts a failed message back in the queue, due now.
pub fn requeue_failed(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    // A delivery goes out only while its announcement sends (or is paused, to
    // go out on resume); one of a sent or cancelled announcement would wait
    // for ever, so it stays failed.
    use super::schema::announcements;
    let live = announcements::table
        .filter(announcements::status.eq_any(["sending", "paused"]))
        .select(announcements::id);
    let changed = diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::status.eq(OutboxStatus::Failed.as_str()))
            .filter(
                outbox::kind
                    .ne(MessageKind::Announcement.as_str())
                    .or(outbox::announcement_id.eq_any(live.nullable())),
            ),
    )
    .set((
        outbox::status.eq(OutboxStatus::Queued.as_str()),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::leased_until.eq(None::<NaiveDateTime>),
        outbox::lease_owner.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The messages queued for one registration, newest first.
pub fn for_registration(
    conn: &mut DbConnection,
    registration_id: &str,
) -> Result<Vec<OutboxRow>, DbError> {
    Ok(outbox::table
        .filter(outbox::registration_id.eq(registration_id))
        .order(outbox::created_at.desc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}
