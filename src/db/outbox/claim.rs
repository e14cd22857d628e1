//! Claiming: transactional messages first, then announcement deliveries as
//! the pacing counters admit, each claim one write transaction.

use super::{MessageKind, OutboxRow, OutboxStatus};
use crate::db::schema::outbox;
use crate::db::{DbConnection, DbError, announcements, pacing};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Claims up to `limit` due messages for `owner` until `leased_until`:
/// transactional kinds first (never paced), then deliveries of announcements
/// now `sending`, as many as [`pacing::admit`] lets start in this minute and
/// day (the admission is counted in the same transaction, so exactly the
/// deliveries claimed are counted). Test sends count toward the day. Runs in a
/// write transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the `BEGIN
/// IMMEDIATE` lock on SQLite. A lease that ran out (a crashed worker) is due again.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    leased_until: NaiveDateTime,
    limit: i64,
    pacing: pacing::Limits,
) -> Result<Vec<OutboxRow>, DbError> {
    crate::db::write_transaction(conn, |conn| {
        let transactional = due_ids(conn, now, limit, Lane::Transactional, &[])?;
        let mut ids: Vec<String> = transactional.iter().map(|(id, _)| id.clone()).collect();
        let tests = transactional
            .iter()
            .filter(|(_, kind)| kind == MessageKind::AnnouncementTest.as_str())
            .count();
        pacing::count_tests(conn, pacing, tests, now)?;
        let room = limit - i64::try_from(ids.len()).unwrap_or(limit);
        if room > 0 {
            let sending = announcements::sending_ids(conn)?;
            if !sending.is_empty() {
                let candidates = due_ids(conn, now, room, Lane::Announcements, &sending)?;
                let admitted = pacing::admit(conn, pacing, candidates.len(), now)?;
                ids.extend(candidates.into_iter().take(admitted).map(|(id, _)| id));
            }
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((
                outbox::leased_until.eq(leased_until),
                outbox::lease_owner.eq(owner),
            ))
            .execute(conn)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .select(OutboxRow::as_select())
            .load(conn)?)
    })
}

/// Which of the claim's two queries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    Transactional,
    Announcements,
}

/// Up to `limit` due, unleased rows of one lane (ids and kinds), oldest due
/// first, locked on PostgreSQL (rows another claim holds are skipped).
/// `announcements` names the sending announcements for that lane.
fn due_ids(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
    lane: Lane,
    announcements: &[String],
) -> Result<Vec<(String, String)>, DbError> {
    macro_rules! load_locked {
        ($query:expr) => {{
            let query = $query
                .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::leased_until
                        .is_null()
                        .or(outbox::leased_until.le(now)),
                )
                .order(outbox::next_attempt_at.asc())
                .limit(limit)
                .select((outbox::id, outbox::kind));
            match conn {
                DbConnection::Postgres(c) => query.for_update().skip_locked().load(c)?,
                DbConnection::Sqlite(c) => query.load(c)?,
            }
        }};
    }
    let announcement = MessageKind::Announcement.as_str();
    Ok(match lane {
        Lane::Transactional => {
            load_locked!(outbox::table.filter(outbox::kind.eq_any(transactional_kinds())))
        }
        Lane::Announcements => load_locked!(
            outbox::table
                .filter(outbox::kind.eq(announcement))
                .filter(outbox::announcement_id.eq_any(announcements))
        ),
    })
}

/// The kinds [`MessageKind::is_transactional`] claims first (named, so an
/// index on the kind can serve the query).
fn transactional_kinds() -> Vec<&'static str> {
    MessageKind::ALL
        .into_iter()
        .filter(|kind| kind.is_transactional())
        .map(MessageKind::as_str)
        .collect()
}
