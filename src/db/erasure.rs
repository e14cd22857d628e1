//! Erasure: the person's rows go (registration, consents, signup attempts,
//! tokens and the details bound to them, outbox rows and attempts, bounce rows
//! and announcement deliveries, by cascade; the request row by its keyed hash;
//! test sends to the address by its key), an `erase` event stays in the ledger,
//! and a keyed hash of the address is kept so an import cannot bring them back.
//!
//! On SQLite no copy survives on disk: every connection has `secure_delete=ON`
//! (freed space is zeroed) and each erasure is followed by a checkpoint that
//! truncates the WAL. PostgreSQL keeps dead row versions until VACUUM, which
//! the retention sweep runs on the tables it erased from.

use super::ledger::{self, Event, NewEvent};
use super::schema::registrations::dsl;
use super::{DbConnection, DbError, attempts, registrations, suppressions, write_transaction};
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
    let erased = write_transaction(conn, |conn| {
        erase_in_transaction(conn, keys, registration_id, actor, now)
    })?;
    if erased {
        after_erasure(conn)?;
    }
    Ok(erased)
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
    attempts::delete_request_row(conn, &keys.request_hash(&registration.email_key))?;
    delete_test_sends_to(conn, &registration.email_key)?;
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

/// Test sends of announcements to the address, and their attempt records
/// (by cascade). Addresses are stored as typed, so each is keyed in Rust;
/// test sends are few (an hourly cap per organiser, kept 30 days).
fn delete_test_sends_to(conn: &mut DbConnection, email_key: &str) -> Result<usize, DbError> {
    use super::outbox::MessageKind;
    use super::schema::outbox;
    let tests: Vec<(String, Option<String>)> = outbox::table
        .filter(outbox::kind.eq(MessageKind::AnnouncementTest.as_str()))
        .select((outbox::id, outbox::test_address))
        .load(conn)?;
    let theirs: Vec<String> = tests
        .into_iter()
        .filter(|(_, address)| {
            address
                .as_deref()
                .and_then(|a| crate::domain::EmailAddress::parse(a).ok())
                .is_some_and(|a| a.key() == email_key)
        })
        .map(|(id, _)| id)
        .collect();
    Ok(diesel::delete(outbox::table.filter(outbox::id.eq_any(&theirs))).execute(conn)?)
}

/// Erases the registration of an address, if there is one.
pub fn erase_address(
    conn: &mut DbConnection,
    keys: &Keys,
    email_key: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let erased = write_transaction(conn, |conn| {
        match registrations::find_by_email_key(conn, email_key)? {
            Some(registration) => erase_in_transaction(conn, keys, &registration.id, actor, now),
            None => Ok(false),
        }
    })?;
    if erased {
        after_erasure(conn)?;
    }
    Ok(erased)
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
            if erased > 0 {
                after_erasure(conn)?;
            }
            return Ok(erased);
        }
        write_transaction(conn, |conn| {
            // Re-checked under the rows' locks: a signup or resend may have
            // refreshed one since, and none can refresh or reference one now.
            for id in registrations::lock_stale_pending(conn, &stale, cutoff)? {
                if erase_in_transaction(conn, keys, &id, "retention", now)? {
                    erased += 1;
                }
            }
            Ok::<_, DbError>(())
        })?;
    }
}

/// The tables erasure deletes from (directly or by cascade).
const ERASED_TABLES: &str = "registrations, consents, signup_attempts, address_requests, \
    tokens, confirmation_details, outbox, delivery_attempts";
/// How often a checkpoint blocked by a reader is tried again.
const CHECKPOINT_TRIES: u32 = 50;

#[derive(QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

/// After an erasure has committed: on SQLite, copy the zeroed pages into the
/// database file and truncate the WAL, so the old bytes are in neither.
fn after_erasure(conn: &mut DbConnection) -> Result<(), DbError> {
    let DbConnection::Sqlite(c) = conn else {
        return Ok(());
    };
    for _ in 0..CHECKPOINT_TRIES {
        let result: CheckpointResult =
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(c)?;
        if result.busy == 0 {
            return Ok(());
        }
        // A reader still uses the log; it finishes within milliseconds.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    tracing::warn!("the WAL could not be truncated after an erasure; the next checkpoint will");
    Ok(())
}

/// On PostgreSQL, lets VACUUM reclaim the dead row versions an erasure left
/// (they hold the erased bytes until their space is reused). Runs outside a
/// transaction; a no-op on SQLite, where [`after_erasure`] did the work.
pub fn vacuum_erased_tables(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Postgres(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&format!("VACUUM {ERASED_TABLES}"))?;
    }
    Ok(())
}
