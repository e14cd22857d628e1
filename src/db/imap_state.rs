//! The bounce mailbox's poller state (`imap_state`, one row, id 1).
//!
//! # Policy
//!
//! * One poller at a time across every worker and instance: a poll starts by
//!   taking the lease (`owner`, `leased_until`) with one guarded UPDATE, which
//!   succeeds only while the lease is free or has run out (a crashed poller's
//!   lease expires) and a poll is due (`next_poll_at`).
//! * Progress (`uid_validity`, `last_uid`) is written after each message,
//!   fenced by the lease, and renews it; a poller that lost its lease stops.
//! * A poll ends by releasing the lease and setting the next one's time:
//!   `poll_secs` after the last one started, or, while the mailbox fails, the
//!   backoff for the failures in a row (kept here, so every instance backs off).

use super::schema::imap_state;
use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The stored row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = imap_state)]
pub struct ImapState {
    pub owner: Option<String>,
    pub leased_until: Option<NaiveDateTime>,
    /// `{username}@{host}:{port}/{mailbox}`: the mailbox the UIDs belong to.
    pub mailbox: Option<String>,
    pub uid_validity: Option<i64>,
    /// The highest UID processed (0: none yet).
    pub last_uid: i64,
    pub next_poll_at: Option<NaiveDateTime>,
    /// Failed polls in a row.
    pub failures: i32,
    /// When a poll last succeeded.
    pub polled_at: Option<NaiveDateTime>,
    /// Set while polls fail: the first failure since the last success.
    pub failing_since: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_error_at: Option<NaiveDateTime>,
}

impl ImapState {
    /// The UID after which to read `mailbox` whose UIDVALIDITY is
    /// `uid_validity`: where the last poll stopped, or 0 (the whole mailbox)
    /// when the mailbox or its UIDVALIDITY changed.
    pub fn resume_after(&self, mailbox: &str, uid_validity: i64) -> i64 {
        if self.is_where_it_stopped(mailbox, uid_validity) {
            self.last_uid
        } else {
            0
        }
    }

    /// Whether the stored UIDs belong to `mailbox` with this UIDVALIDITY.
    pub fn is_where_it_stopped(&self, mailbox: &str, uid_validity: i64) -> bool {
        self.mailbox.as_deref() == Some(mailbox) && self.uid_validity == Some(uid_validity)
    }
}

pub fn find(conn: &mut DbConnection) -> Result<Option<ImapState>, DbError> {
    Ok(imap_state::table
        .find(1)
        .select(ImapState::as_select())
        .get_result(conn)
        .optional()?)
}

/// Takes the lease for `owner` until `until` if it is free (or ran out) and a
/// poll is due at `now`; whether it did.
pub fn take_lease(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, DbError> {
    let taken = diesel::update(
        imap_state::table
            .find(1)
            .filter(
                imap_state::leased_until
                    .is_null()
                    .or(imap_state::leased_until.le(now)),
            )
            .filter(
                imap_state::next_poll_at
                    .is_null()
                    .or(imap_state::next_poll_at.le(now)),
            ),
    )
    .set((
        imap_state::owner.eq(owner),
        imap_state::leased_until.eq(until),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// How far a poll has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    pub mailbox: &'a str,
    pub uid_validity: i64,
    pub last_uid: i64,
}

/// Records progress and renews the lease to `until`, if `owner` still holds
/// it at `now`; whether it did.
pub fn save_progress(
    conn: &mut DbConnection,
    owner: &str,
    progress: Progress<'_>,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, DbError> {
    let held = imap_state::table
        .find(1)
        .filter(imap_state::owner.eq(owner))
        .filter(imap_state::leased_until.gt(now));
    let saved = diesel::update(held)
        .set((
            imap_state::mailbox.eq(progress.mailbox),
            imap_state::uid_validity.eq(progress.uid_validity),
            imap_state::last_uid.eq(progress.last_uid),
            imap_state::leased_until.eq(until),
        ))
        .execute(conn)?;
    Ok(saved == 1)
}

/// Ends a successful poll: lease released, not failing, the next poll due
/// at `next_poll_at`.
pub fn finish_polled(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    next_poll_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        imap_state::table
            .find(1)
            .filter(imap_state::owner.eq(owner)),
    )
    .set((
        imap_state::owner.eq(None::<String>),
        imap_state::leased_until.eq(None::<NaiveDateTime>),
        imap_state::next_poll_at.eq(next_poll_at),
        imap_state::failures.eq(0),
        imap_state::polled_at.eq(now),
        imap_state::failing_since.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// How a failed poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure<'a> {
    pub error: &'a str,
    /// Failed polls in a row, this one included.
    pub failures: i32,
    /// The first of them.
    pub failing_since: NaiveDateTime,
}

/// Ends a failed poll: lease released, the error kept, the next poll due at
/// `next_poll_at` (the backoff for the failures in a row).
pub fn finish_failed(
    conn: &mut DbConnection,
    owner: &str,
    failure: Failure<'_>,
    now: NaiveDateTime,
    next_poll_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        imap_state::table
            .find(1)
            .filter(imap_state::owner.eq(owner)),
    )
    .set((
        imap_state::owner.eq(None::<String>),
        imap_state::leased_until.eq(None::<NaiveDateTime>),
        imap_state::next_poll_at.eq(next_poll_at),
        imap_state::failures.eq(failure.failures),
        imap_state::failing_since.eq(failure.failing_since),
        imap_state::last_error.eq(failure.error),
        imap_state::last_error_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}
