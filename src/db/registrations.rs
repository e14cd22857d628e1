//! Queries on `registrations`: one row per address, keyed by `email_key`.

use super::schema::registrations::{self, dsl};
use super::{DbConnection, DbError};
use crate::domain::{SignupDetails, Status};
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
}

impl Registration {
    /// The stored status; the CHECK constraint guarantees one of the three.
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Pending)
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

/// Inserts a new pending registration and returns its id. Its first email
/// slot is claimed by the insert itself (`last_email_at = now`): the caller
/// queues that email in the same transaction.
pub fn insert_pending(
    conn: &mut DbConnection,
    details: &SignupDetails,
    source: &str,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let id = super::new_id();
    let columns = DetailColumns::from(details);
    diesel::insert_into(dsl::registrations)
        .values((
            dsl::id.eq(&id),
            dsl::email.eq(columns.email),
            dsl::email_key.eq(details.email.key()),
            dsl::name.eq(columns.name),
            dsl::organisation.eq(columns.organisation),
            dsl::org_type.eq(columns.org_type),
            dsl::country.eq(columns.country),
            dsl::timezone.eq(columns.timezone),
            dsl::interests.eq(&columns.interests),
            dsl::status.eq(Status::Pending.as_str()),
            dsl::source.eq(source),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
            dsl::last_signup_at.eq(now),
            dsl::last_email_at.eq(now),
            dsl::code_failures.eq(0),
        ))
        .execute(conn)?;
    Ok(id)
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
        ))
        .execute(conn)?;
    Ok(())
}

/// A pending registration's signup that sends a confirmation: only the
/// retention clock moves; its details wait, bound to that confirmation.
pub fn touch_signup(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(dsl::registrations.find(id))
        .set((dsl::updated_at.eq(now), dsl::last_signup_at.eq(now)))
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

/// Marks a confirmed registration unsubscribed; false if it was not confirmed.
pub fn unsubscribe(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let changed = diesel::update(
        dsl::registrations
            .find(id)
            .filter(dsl::status.ne(Status::Unsubscribed.as_str())),
    )
    .set((
        dsl::status.eq(Status::Unsubscribed.as_str()),
        dsl::unsubscribed_at.eq(now),
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
