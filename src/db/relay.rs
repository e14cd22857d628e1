//! The relay as the workers last saw it (`relay_status`, one row, id 1): when
//! it started failing and how, for the dashboard; and whether it refused our
//! login or sender, which earns the organisers one notice once it accepts
//! again. Written in the transaction that records a batch's outcomes.

use super::outbox::NoticeKind;
use super::schema::relay_status;
use super::{DbConnection, DbError, notices};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

/// The stored row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = relay_status)]
pub struct RelayStatus {
    pub id: i32,
    /// Set while the relay fails: the first failure since it last accepted.
    pub failing_since: Option<NaiveDateTime>,
    pub last_failure_at: Option<NaiveDateTime>,
    /// The SMTP stage of the last failure (`connect`, `tls`, `auth`, `mail_from`).
    pub stage: Option<String>,
    pub last_error: Option<String>,
    /// Set when the relay refused the login or the sender, until the notice
    /// for it is queued.
    pub refused_at: Option<NaiveDateTime>,
}

impl RelayStatus {
    pub fn is_failing(&self) -> bool {
        self.failing_since.is_some()
    }
}

pub fn find(conn: &mut DbConnection) -> Result<Option<RelayStatus>, DbError> {
    Ok(relay_status::table
        .find(1)
        .select(RelayStatus::as_select())
        .get_result(conn)
        .optional()?)
}

/// What a batch saw of the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelaySeen<'a> {
    /// Nothing was sent or tried.
    Nothing,
    /// It accepted at least one message and did not fail.
    Accepted,
    /// It failed before accepting a message (`refused`: see [`record_failure`]).
    Failed {
        stage: &'a str,
        error: &'a str,
        refused: bool,
    },
}

/// Records what a batch saw; returns whether the `relay_refused` notice was
/// queued (see [`record_accepted`]).
pub fn record_seen(
    conn: &mut DbConnection,
    seen: RelaySeen<'_>,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    match seen {
        RelaySeen::Nothing => Ok(false),
        RelaySeen::Accepted => record_accepted(conn, mail_domain, now),
        RelaySeen::Failed {
            stage,
            error,
            refused,
        } => record_failure(conn, stage, error, refused, now).map(|()| false),
    }
}

/// Records a relay failure at `now`: failing since the first one, and refused
/// if this was a refusal of the login or the sender.
pub fn record_failure(
    conn: &mut DbConnection,
    stage: &str,
    error: &str,
    refused: bool,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let upsert = diesel::sql_query(
        "INSERT INTO relay_status (id, failing_since, last_failure_at, stage, last_error, refused_at) \
         VALUES (1, $1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
         failing_since = COALESCE(relay_status.failing_since, excluded.failing_since), \
         last_failure_at = excluded.last_failure_at, stage = excluded.stage, \
         last_error = excluded.last_error, \
         refused_at = COALESCE(relay_status.refused_at, excluded.refused_at)",
    )
    .bind::<Timestamp, _>(now)
    .bind::<Text, _>(stage)
    .bind::<Text, _>(error)
    .bind::<Nullable<Timestamp>, _>(refused.then_some(now));
    match conn {
        DbConnection::Postgres(c) => upsert.execute(c),
        DbConnection::Sqlite(c) => upsert.execute(c),
    }?;
    Ok(())
}

/// Records that the relay accepted a message: no longer failing; and if it
/// had refused us, clears that with one guarded UPDATE and queues the one
/// `relay_refused` notice to every organiser (however many workers see the
/// relay accept at once). Returns whether it queued the notice. Changes
/// nothing, and so writes nothing, while the relay is fine.
pub fn record_accepted(
    conn: &mut DbConnection,
    mail_domain: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    diesel::update(
        relay_status::table
            .find(1)
            .filter(relay_status::failing_since.is_not_null()),
    )
    .set(relay_status::failing_since.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    let cleared = diesel::update(
        relay_status::table
            .find(1)
            .filter(relay_status::refused_at.is_not_null()),
    )
    .set(relay_status::refused_at.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    if cleared == 1 {
        notices::queue_for_organisers(conn, NoticeKind::RelayRefused, None, mail_domain, now)?;
    }
    Ok(cleared == 1)
}
