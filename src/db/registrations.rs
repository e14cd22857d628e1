//! Queries on `registrations`: one row per address, keyed by `email_key`.

use super::schema::registrations::{self, dsl};
use super::{DbConnection, DbError};
use crate::domain::{SignupDetails, Status, TimeZoneName, UnsubscribeReason};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A registration as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registrations)]
pub struct Registration {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub name: String,
    pub organisation: Option<String>,
    pub org_type: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub interests: String,
    pub status: String,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_signup_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub confirmed_via: Option<String>,
    pub confirm_ip: Option<String>,
    pub confirm_user_agent: Option<String>,
    pub unsubscribed_at: Option<NaiveDateTime>,
    pub last_email_at: Option<NaiveDateTime>,
    pub code_failures: i32,
    pub unsubscribe_reason: Option<String>,
}

impl Registration {
    /// The stored status; the CHECK constraint guarantees one of the three.
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Pending)
    }

    /// The time zone under its canonical name: one stored under an alias
    /// before zones were kept canonical (`Pacific/Samoa`) shows as the zone
    /// it names (`Pacific/Pago_Pago`).
    pub fn timezone_shown(&self) -> Option<&str> {
        let stored = self.timezone.as_deref()?;
        Some(TimeZoneName::parse(stored).map_or(stored, |zone| zone.as_str()))
    }
}

/// The person-supplied columns, as written on signup or refresh.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = registrations, treat_none_as_null = true)]
struct DetailColumns<'a> {
    email: &'a str,
    name: &'a str,
    organisation: Option<&'a str>,
    org_type: Option<&'a str>,
    country: Option<&'a str>,
    timezone: Option<&'a str>,
    interests: String,
}

impl<'a> DetailColumns<'a> {
    fn from(details: &'a SignupDetails) -> Self {
        Self {
            email: details.email.as_str(),
            name: details.name.as_str(),
            organisation: details.organisation.as_ref().map(|o| o.as_str()),
            org_type: details.org_type.map(|t| t.as_str()),
            country: details.country.as_ref().map(|c| c.as_str()),
            timezone: details.timezone.as_ref().map(|t| t.as_str()),
            interests: details.interests.joined(),
        }
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Registration>, DbError> {
    Ok(dsl::registrations
        .find(id)
        .select(Registration::as_select())
        .get_result(conn)
        .optional()?)
}

/// The registrations with these ids (those that still exist), in one query.
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<Registration>, DbError> {
    Ok(dsl::registrations
        .filter(dsl::id.eq_any(ids))
        .select(Registration::as_select())
        .load(conn)?)
}

pub fn find_by_email_key(
    conn: &mut DbConnection,
    email_key: &str,
) -> Result<Option<Registration>, DbError> {
    Ok(dsl::registrations
        .filter(dsl::email_key.eq(email_key))
        .select(Registration::as_select())
        .get_result(conn)
        .optional()?)
}

/// A new pending registration row. Its first email slot is claimed by the
/// insert itself (`last_email_at = now`): the caller queues that email in the
/// same transaction.
#[derive(Debug, Insertable)]
#[diesel(table_name = registrations, treat_none_as_default_value = false)]
pub struct NewRegistration<'a> {
    pub id: String,
    email: &'a str,
    email_key: &'a str,
    name: &'a str,
    organisation: Option<&'a str>,
    org_type: Option<&'a str>,
    country: Option<&'a str>,
    timezone: Option<&'a str>,
    interests: String,
    status: &'static str,
    source: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    last_signup_at: NaiveDateTime,
    last_email_at: Option<NaiveDateTime>,
    code_failures: i32,
}

impl<'a> NewRegistration<'a> {
    pub fn pending(details: &'a SignupDetails, source: &'a str, now: NaiveDateTime) -> Self {
        let columns = DetailColumns::from(details);
        NewRegistration {
            id: super::new_id(),
            email: columns.email,
            email_key: details.email.key(),
            name: columns.name,
            organisation: columns.organisation,
            org_type: columns.org_type,
            country: columns.country,
            timezone: columns.timezone,
            interests: columns.interests,
            status: Status::Pending.as_str(),
            source,
            created_at: now,
            updated_at: now,
            last_signup_at: now,
            last_email_at: Some(now),
            code_failures: 0,
        }
    }
}

/// Inserts new registrations with one statement.
pub fn insert_all(conn: &mut DbConnection, rows: &[NewRegistration<'_>]) -> Result<(), DbError> {
    super::insert_rows!(conn, dsl::registrations, rows)?;
    Ok(())
}

/// Inserts a new pending registration (see [`NewRegistration`]) and returns its id.
pub fn insert_pending(
    conn: &mut DbConnection,
    details: &SignupDetails,
    source: &str,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let row = NewRegistration::pending(details, source, now);
    insert_all(conn, std::slice::from_ref(&row))?;
    Ok(row.id)
}

/// The registrations of these addresses. On PostgreSQL they stay locked until
/// the transaction ends, so the retention sweep cannot erase one between this
/// read and a row that references it; the locks are taken in key order, as
/// the sweep takes them, so two lockers never wait on each other in a cycle.
/// SQLite's `BEGIN IMMEDIATE` already holds the whole database.
pub fn lock_by_email_keys(
    conn: &mut DbConnection,
    email_keys: &[&str],
) -> Result<Vec<Registration>, DbError> {
    let query = dsl::registrations
        .filter(dsl::email_key.eq_any(email_keys.iter().copied()))
        .order(dsl::email_key.asc());
    Ok(match conn {
        DbConnection::Postgres(c) => query
            .select(Registration::as_select())
            .for_update()
            .load(c)?,
        DbConnection::Sqlite(c) => query.select(Registration::as_select()).load(c)?,
    })
}

/// Of these registrations, the ones still pending with no signup or resend
/// since `cutoff`, locked as [`lock_by_email_keys`] locks them. A lock that
/// had to wait re-reads the row, so one a signup just refreshed is left out.
pub fn lock_stale_pending(
    conn: &mut DbConnection,
    ids: &[String],
    cutoff: NaiveDateTime,
) -> Result<Vec<String>, DbError> {
    let query = dsl::registrations
        .filter(dsl::id.eq_any(ids))
        .filter(dsl::status.eq(Status::Pending.as_str()))
        .filter(dsl::last_signup_at.lt(cutoff))
        .order(dsl::email_key.asc())
        .select(dsl::id);
    Ok(match conn {
        DbConnection::Postgres(c) => query.for_update().load(c)?,
        DbConnection::Sqlite(c) => query.load(c)?,
    })
}

/// A new signup for an unsubscribed address: the details are replaced and the
/// row is pending again. Coming back after unsubscribing clears the old dates.
pub fn refresh_pending(
    conn: &mut DbConnection,
    id: &str,
    details: &SignupDetails,
    source: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(dsl::registrations.find(id))
        .set((
            DetailColumns::from(details),
            dsl::status.eq(Status::Pending.as_str()),
            dsl::source.eq(source),
            dsl::updated_at.eq(now),
            dsl::last_signup_at.eq(now),
            dsl::confirmed_at.eq(None::<NaiveDateTime>),
            dsl::confirmed_via.eq(None::<String>),
            dsl::confirm_ip.eq(None::<String>),
            dsl::confirm_user_agent.eq(None::<String>),
            dsl::unsubscribed_at.eq(None::<NaiveDateTime>),
            dsl::unsubscribe_reason.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A pending registration's signup that sends a confirmation: only the
/// retention clock moves; its details wait, bound to that confirmation.
pub fn touch_signup(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(dsl::registrations.find(id))
        .set((
            dsl::updated_at.eq(now),
            dsl::last_signup_at.eq(now),
            // A bounce stopped this pending address's mail; a new signup asks again.
            dsl::unsubscribe_reason.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Claims the right to email this address now: succeeds for at most one caller
/// per cooldown, whatever the concurrency, because the guard is in the UPDATE.
pub fn claim_email_slot(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    cooldown: chrono::Duration,
) -> Result<bool, DbError> {
    let last_allowed = now - cooldown;
    let claimed = diesel::update(
        dsl::registrations.find(id).filter(
            dsl::last_email_at
                .is_null()
                .or(dsl::last_email_at.le(last_allowed)),
        ),
    )
    .set(dsl::last_email_at.eq(now))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// A resend for a pending registration: its retention clock starts again.
pub fn record_resend(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(dsl::registrations.find(id))
        .set(dsl::last_signup_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Counts one code attempt against a pending registration (across resends and
/// cookies); false if it is not pending or has had `max`.
pub fn claim_code_attempt(
    conn: &mut DbConnection,
    registration_id: &str,
    max: i32,
) -> Result<bool, DbError> {
    let claimed = diesel::update(
        dsl::registrations
            .find(registration_id)
            .filter(dsl::status.eq(Status::Pending.as_str()))
            .filter(dsl::code_failures.lt(max)),
    )
    .set(dsl::code_failures.eq(dsl::code_failures + 1))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// How a confirmation arrived: link or code, from where.
#[derive(Debug, Clone)]
pub struct ConfirmEvidence {
    pub via: &'static str,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Marks a pending registration confirmed; false if it was not pending.
pub fn confirm(
    conn: &mut DbConnection,
    id: &str,
    evidence: &ConfirmEvidence,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        dsl::registrations
            .find(id)
            .filter(dsl::status.eq(Status::Pending.as_str())),
    )
    .set((
        dsl::status.eq(Status::Confirmed.as_str()),
        dsl::confirmed_at.eq(now),
        dsl::confirmed_via.eq(evidence.via),
        dsl::confirm_ip.eq(evidence.ip.as_deref()),
        dsl::confirm_user_agent.eq(evidence.user_agent.as_deref()),
        dsl::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Confirms a pending registration on consent obtained elsewhere (an
/// import): `confirmed_at` is when that consent was given, not now, and the
/// source becomes the import's. False if it was not pending.
pub fn confirm_imported(
    conn: &mut DbConnection,
    id: &str,
    confirmed_at: NaiveDateTime,
    source: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        dsl::registrations
            .find(id)
            .filter(dsl::status.eq(Status::Pending.as_str())),
    )
    .set((
        dsl::status.eq(Status::Confirmed.as_str()),
        dsl::confirmed_at.eq(confirmed_at),
        dsl::confirmed_via.eq("import"),
        dsl::source.eq(source),
        dsl::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Marks a registration unsubscribed for `reason`; false if it already was.
pub fn unsubscribe(
    conn: &mut DbConnection,
    id: &str,
    reason: UnsubscribeReason,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        dsl::registrations
            .find(id)
            .filter(dsl::status.ne(Status::Unsubscribed.as_str())),
    )
    .set((
        dsl::status.eq(Status::Unsubscribed.as_str()),
        dsl::unsubscribed_at.eq(now),
        dsl::unsubscribe_reason.eq(reason.as_str()),
        dsl::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the row; consents, tokens, outbox rows and attempts go with it (cascade).
pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(dsl::registrations.find(id)).execute(conn)? == 1)
}

/// How many registrations have each status.
pub fn count_by_status(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    Ok(dsl::registrations
        .group_by(dsl::status)
        .select((dsl::status, diesel::dsl::count_star()))
        .load(conn)?)
}
