//! Aggregates for the organisers' dashboard and the operational metrics.

use super::outbox::OutboxStatus;
use super::schema::{outbox, registrations};
use super::{DbConnection, DbError};
use crate::domain::Status;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Registrations counted by the UTC day (`YYYY-MM-DD`) of a timestamp column,
/// oldest first. `column` and `condition` are constants of this module, never input.
fn per_day(
    conn: &mut DbConnection,
    column: &'static str,
    condition: &'static str,
) -> Result<Vec<(String, i64)>, DbError> {
    let rows: Vec<DayCount> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT date({column}) AS day, COUNT(*) AS n FROM registrations \
             WHERE {condition} GROUP BY day ORDER BY day"
        ))
        .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(format!(
            "SELECT to_char({column}, 'YYYY-MM-DD') AS day, COUNT(*) AS n FROM registrations \
             WHERE {condition} GROUP BY day ORDER BY day"
        ))
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}

/// Registrations created per UTC day (`YYYY-MM-DD`), oldest first.
pub fn signups_per_day(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    per_day(conn, "created_at", "1 = 1")
}

/// Members and former members by the UTC day they confirmed. A signup again
/// after leaving clears `confirmed_at`, so each row counts its current membership once.
pub fn confirmations_per_day(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    per_day(conn, "confirmed_at", "confirmed_at IS NOT NULL")
}

/// Former members (unsubscribed, bounced or complained after confirming) by
/// the UTC day they left; a pending signup that was stopped was never a member.
pub fn departures_per_day(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    per_day(
        conn,
        "unsubscribed_at",
        "status = 'unsubscribed' AND confirmed_at IS NOT NULL AND unsubscribed_at IS NOT NULL",
    )
}

/// Members (confirmed registrations) grouped by a nullable column.
macro_rules! members_by {
    ($name:ident, $column:ident) => {
        pub fn $name(conn: &mut DbConnection) -> Result<Vec<(Option<String>, i64)>, DbError> {
            Ok(registrations::table
                .filter(registrations::status.eq(Status::Confirmed.as_str()))
                .group_by(registrations::$column)
                .select((registrations::$column, diesel::dsl::count_star()))
                .order(diesel::dsl::count_star().desc())
                .load(conn)?)
        }
    };
}

members_by!(members_by_country, country);
members_by!(members_by_org_type, org_type);
members_by!(members_by_timezone, timezone);

/// Members grouped by their stored interests (the `;`-joined cell): one row
/// per distinct combination, which the dashboard splits and counts.
pub fn members_by_interests(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    Ok(registrations::table
        .filter(registrations::status.eq(Status::Confirmed.as_str()))
        .group_by(registrations::interests)
        .select((registrations::interests, diesel::dsl::count_star()))
        .load(conn)?)
}

/// The confirmation funnel: confirmation emails sent, then confirmations by
/// link and by code (whatever the registration's status is now).
#[derive(Debug, Clone, Default)]
pub struct Funnel {
    pub confirmations_sent: i64,
    pub by_link: i64,
    pub by_code: i64,
}

pub fn funnel(conn: &mut DbConnection) -> Result<Funnel, DbError> {
    let confirmations_sent = outbox::table
        .filter(outbox::kind.eq("confirmation"))
        .filter(outbox::status.eq(OutboxStatus::Sent.as_str()))
        .count()
        .get_result(conn)?;
    let via: Vec<(Option<String>, i64)> = registrations::table
        .filter(registrations::confirmed_via.is_not_null())
        .group_by(registrations::confirmed_via)
        .select((registrations::confirmed_via, diesel::dsl::count_star()))
        .load(conn)?;
    let by = |name: &str| {
        via.iter()
            .find(|(v, _)| v.as_deref() == Some(name))
            .map_or(0, |(_, n)| *n)
    };
    Ok(Funnel {
        confirmations_sent,
        by_link: by("link"),
        by_code: by("code"),
    })
}

/// The state of the outbox.
#[derive(Debug, Clone, Default)]
pub struct OutboxHealth {
    pub queued: i64,
    pub failed: i64,
    pub oldest_due: Option<NaiveDateTime>,
}

pub fn outbox_health(conn: &mut DbConnection, now: NaiveDateTime) -> Result<OutboxHealth, DbError> {
    let count_status = |conn: &mut DbConnection, status: OutboxStatus| -> Result<i64, DbError> {
        Ok(outbox::table
            .filter(outbox::status.eq(status.as_str()))
            .count()
            .get_result(conn)?)
    };
    let oldest_due = outbox::table
        .filter(outbox::status.eq(OutboxStatus::Queued.as_str()))
        .filter(outbox::next_attempt_at.le(now))
        .select(diesel::dsl::min(outbox::next_attempt_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok(OutboxHealth {
        queued: count_status(conn, OutboxStatus::Queued)?,
        failed: count_status(conn, OutboxStatus::Failed)?,
        oldest_due,
    })
}

/// A failed message, for the retry list.
#[derive(Debug, Clone, Queryable)]
pub struct FailedMessage {
    pub id: String,
    pub kind: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn failed_messages(conn: &mut DbConnection, limit: i64) -> Result<Vec<FailedMessage>, DbError> {
    Ok(outbox::table
        .filter(outbox::status.eq(OutboxStatus::Failed.as_str()))
        .order(outbox::created_at.desc())
        .limit(limit)
        .select((
            outbox::id,
            outbox::kind,
            outbox::attempts,
            outbox::last_error,
            outbox::created_at,
        ))
        .load(conn)?)
}
