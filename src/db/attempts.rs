//! Rows that make every answer the same work and that count what an attacker
//! could repeat: a member's signup attempts, resend and manage requests (keyed
//! by a keyed hash of the address, holding their cooldown), the signup
//! cookie's wrong-code counters, and the cap of signup-caused mail per day.

use super::schema::{address_requests, code_attempts, outbox, signup_attempts};
use super::{DbConnection, DbError};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// At most this many signup-caused emails go to one address in [`DAILY_WINDOW`].
pub const MAX_SIGNUP_EMAILS_PER_DAY: i64 = 3;
const DAILY_WINDOW: Duration = Duration::hours(24);
/// The message kinds a signup, resend or manage request causes.
const SIGNUP_CAUSED_KINDS: [&str; 3] = ["confirmation", "already_member", "manage"];

/// Records a signup that changes nothing (a member's, or one inside the cooldown).
pub fn record_signup_attempt(
    conn: &mut DbConnection,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(signup_attempts::table)
        .values((
            signup_attempts::id.eq(super::new_id()),
            signup_attempts::registration_id.eq(registration_id),
            signup_attempts::at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether the address may get another signup-caused email today. Call after
/// winning the registration's cooldown slot: that row lock orders the callers.
pub fn under_daily_cap(
    conn: &mut DbConnection,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let sent: i64 = outbox::table
        .filter(outbox::registration_id.eq(registration_id))
        .filter(outbox::kind.eq_any(SIGNUP_CAUSED_KINDS))
        .filter(outbox::created_at.gt(now - DAILY_WINDOW))
        .count()
        .get_result(conn)?;
    Ok(sent < MAX_SIGNUP_EMAILS_PER_DAY)
}

/// Records a resend or manage request for the address's keyed hash, whatever
/// its state, and says whether the requests' email cooldown has passed. The
/// upsert locks the row, so the answer holds until the transaction ends.
pub fn record_request(
    conn: &mut DbConnection,
    email_hash: &str,
    now: NaiveDateTime,
    cooldown: Duration,
) -> Result<bool, DbError> {
    let upsert = diesel::insert_into(address_requests::table)
        .values((
            address_requests::email_hash.eq(email_hash),
            address_requests::last_request_at.eq(now),
        ))
        .on_conflict(address_requests::email_hash)
        .do_update()
        .set(address_requests::last_request_at.eq(now));
    match conn {
        DbConnection::Sqlite(c) => upsert.execute(c)?,
        DbConnection::Postgres(c) => upsert.execute(c)?,
    };
    let last_email: Option<NaiveDateTime> = address_requests::table
        .find(email_hash)
        .select(address_requests::last_email_at)
        .get_result(conn)?;
    Ok(last_email.is_none_or(|at| at <= now - cooldown))
}

/// Starts the requests' cooldown: a request's email was queued.
pub fn mark_request_emailed(
    conn: &mut DbConnection,
    email_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(address_requests::table.find(email_hash))
        .set(address_requests::last_email_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Forgets an address's request row (erasure).
pub fn delete_request_row(conn: &mut DbConnection, email_hash: &str) -> Result<(), DbError> {
    diesel::delete(address_requests::table.find(email_hash)).execute(conn)?;
    Ok(())
}

/// Counts one code attempt for a signup cookie; false once it has had `max`.
/// The guard is in the UPDATE, so concurrent guesses cannot pass the cap.
pub fn claim_cookie_attempt(
    conn: &mut DbConnection,
    cookie_hash: &str,
    max: i32,
    expires_at: NaiveDateTime,
) -> Result<bool, DbError> {
    let insert = diesel::insert_into(code_attempts::table)
        .values((
            code_attempts::cookie_hash.eq(cookie_hash),
            code_attempts::attempts.eq(0),
            code_attempts::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing();
    match conn {
        DbConnection::Sqlite(c) => insert.execute(c)?,
        DbConnection::Postgres(c) => insert.execute(c)?,
    };
    let claimed = diesel::update(
        code_attempts::table
            .find(cookie_hash)
            .filter(code_attempts::attempts.lt(max)),
    )
    .set(code_attempts::attempts.eq(code_attempts::attempts + 1))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Drops the counters of cookies that have expired.
pub fn delete_expired_cookie_counters(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(code_attempts::table.filter(code_attempts::expires_at.le(now)))
            .execute(conn)?,
    )
}
