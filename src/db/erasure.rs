//! Erasure: the person's rows go (registration, consents, tokens, outbox rows and
//! attempts, by cascade), an `erase` event stays in the ledger, and a keyed hash
//! of the address is kept so an import cannot bring them back.

use super::ledger::{self, Event, NewEvent};
use super::schema::registrations::dsl;
use super::{DbConnection, DbError, registrations, suppressions, write_transaction};
use crate::crypto::Keys;
use crate::domain::Status;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Erases one registration; false if it was already gone.
pub fn erase(
    conn: &mut DbConnection,
    keys: &Keys,
    registration_id: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        erase_in_transaction(conn, keys, registration_id, actor, now)
    })
}

fn erase_in_transaction(
    conn: &mut DbConnection,
    keys: &Keys,
    registration_id: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let Some(registration) = registrations::find(conn, registration_id)? else {
        return Ok(false);
    };
    registrations::delete(conn, registration_id)?;
    ledger::append(
        conn,
        NewEvent {
            registration_id,
            event: Event::Erase,
            at: now,
            actor,
            consent_text_version: None,
            source: None,
        },
    )?;
    suppressions::insert(conn, &keys.suppression_hash(&registration.email_key), now)?;
    Ok(true)
}

/// Erases the registration of an address, if there is one.
pub fn erase_address(
    conn: &mut DbConnection,
    keys: &Keys,
    email_key: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        match registrations::find_by_email_key(conn, email_key)? {
            Some(registration) => erase_in_transaction(conn, keys, &registration.id, actor, now),
            None => Ok(false),
        }
    })
}

/// Erases registrations never confirmed whose last signup or resend is older
/// than `cutoff`, in small transactions; returns how many went.
pub fn erase_stale_pending(
    conn: &mut DbConnection,
    keys: &Keys,
    cutoff: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let mut erased = 0;
    loop {
        let stale: Vec<String> = dsl::registrations
            .filter(dsl::status.eq(Status::Pending.as_str()))
            .filter(dsl::last_signup_at.lt(cutoff))
            .order(dsl::id.asc())
            .limit(200)
            .select(dsl::id)
            .load(conn)?;
        if stale.is_empty() {
            return Ok(erased);
        }
        write_transaction(conn, |conn| {
            for id in &stale {
                // Re-checked inside the transaction: a signup may have refreshed it.
                let still_stale = registrations::find(conn, id)?
                    .is_some_and(|r| r.status() == Status::Pending && r.last_signup_at < cutoff);
                if still_stale && erase_in_transaction(conn, keys, id, "retention", now)? {
                    erased += 1;
                }
            }
            Ok::<_, DbError>(())
        })?;
    }
}
