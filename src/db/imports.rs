//! Storing imported lines: a write transaction per batch of lines, a savepoint
//! per line, so a database fault stops the import between batches and a
//! second run picks up exactly what is missing.
//!
//! # What a line does
//!
//! | the address | `reconfirm` | `confirmed` |
//! |---|---|---|
//! | erased (suppressed) | rejected | rejected |
//! | unknown | **imported**: pending, confirmation queued | **imported**: confirmed, no email |
//! | pending | already present | **imported**: upgraded to confirmed |
//! | confirmed | already present | already present |
//! | unsubscribed | skipped | skipped |
//!
//! *Imported* means the line changed the list, and only then is an `import`
//! ledger event written. *Already present* means the list already holds what
//! the line asks for (a pending address is already being asked to confirm;
//! a member needs no second consent row), so running an import twice changes
//! nothing. *Skipped* means the person is known but must not be touched: they
//! unsubscribed, and an import is not their request to come back.
//!
//! Consent obtained elsewhere (`confirmed`) sends no welcome email: these
//! people are members already, and a migration should not mail the whole list.
//! Imported rows are created now (`created_at`, `last_signup_at`: the
//! retention clock for pending rows starts at the import, and `export --since`
//! finds them by the day they arrived); the original time is kept where it
//! means something: the consent row and, in `confirmed` mode, `confirmed_at`.

use super::consents::{self, ConsentEvidence};
use super::ledger::{self, Event, NewEvent};
use super::outbox::MessageKind;
use super::registrations::{self, Registration};
use super::signups::{self, SignupRules};
use super::{DbConnection, DbError, suppressions, tokens, write_transaction};
use crate::crypto::TokenPurpose;
use crate::domain::{SignupDetails, Status};
use crate::import::ImportRecord;
use chrono::NaiveDateTime;
use diesel::Connection;
use diesel::result::{DatabaseErrorKind, Error as QueryError};

/// How the lines of one import are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Pending registrations and confirmation emails.
    Reconfirm,
    /// Consent obtained elsewhere: confirmed registrations.
    Confirmed,
}

/// Everything that is the same for every line of one import.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub mode: ImportMode,
    /// `import`, or the text given to `--source`.
    pub source: String,
    /// `cli:<user>`.
    pub actor: String,
    /// `signup.consent_text_version` (see [`evidence`] for why).
    pub text_version: String,
    pub rules: SignupRules,
}

/// What became of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    Imported,
    AlreadyPresent,
    Skipped,
    /// The person asked to be erased: reported as a rejected line.
    Erased,
}

/// Stores a batch of lines in one write transaction; one outcome per line.
pub fn apply_batch(
    conn: &mut DbConnection,
    plan: &ImportPlan,
    records: &[ImportRecord],
    now: NaiveDateTime,
) -> Result<Vec<LineOutcome>, DbError> {
    write_transaction(conn, |conn| {
        records
            .iter()
            .map(|record| apply_in_savepoint(conn, plan, record, now))
            .collect()
    })
}

/// One line in its own savepoint. A signup of the same new address racing
/// the import (a unique-key violation) is retried once as a known address.
fn apply_in_savepoint(
    conn: &mut DbConnection,
    plan: &ImportPlan,
    record: &ImportRecord,
    now: NaiveDateTime,
) -> Result<LineOutcome, DbError> {
    let attempt = |conn: &mut DbConnection| conn.transaction(|c| apply(c, plan, record, now));
    match attempt(conn) {
        Err(DbError::Query(QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => {
            attempt(conn)
        }
        other => other,
    }
}

/// Decides and does what one line asks (the table in the module docs). Call
/// inside a write transaction.
pub fn apply(
    conn: &mut DbConnection,
    plan: &ImportPlan,
    record: &ImportRecord,
    now: NaiveDateTime,
) -> Result<LineOutcome, DbError> {
    let key = record.email.key();
    if record.left {
        return Ok(LineOutcome::Skipped);
    }
    if suppressions::contains(conn, &plan.rules.keys.suppression_hash(key))? {
        return Ok(LineOutcome::Erased);
    }
    let existing = registrations::find_by_email_key(conn, key)?;
    match (existing, plan.mode) {
        (None, _) => insert(conn, plan, record, now),
        (Some(row), ImportMode::Confirmed) if row.status() == Status::Pending => {
            upgrade(conn, plan, &row, record, now)
        }
        (Some(row), _) if row.status() == Status::Unsubscribed => Ok(LineOutcome::Skipped),
        (Some(_), _) => Ok(LineOutcome::AlreadyPresent),
    }
}

/// A new registration: pending with a confirmation queued, or confirmed.
fn insert(
    conn: &mut DbConnection,
    plan: &ImportPlan,
    record: &ImportRecord,
    now: NaiveDateTime,
) -> Result<LineOutcome, DbError> {
    let details = SignupDetails {
        email: record.email.clone(),
        name: record.name.clone(),
        organisation: record.organisation.clone(),
        org_type: None,
        country: record.country,
        timezone: record.timezone,
        interests: Default::default(),
    };
    let id = registrations::insert_pending(conn, &details, &plan.source, now)?;
    let given_at = record_consent(conn, plan, &id, record, now)?;
    match plan.mode {
        ImportMode::Reconfirm => {
            // The insert claimed the new row's first email slot.
            let rules = &plan.rules;
            signups::queue_claimed(conn, rules, &id, MessageKind::Confirmation, now)?;
        }
        ImportMode::Confirmed => {
            registrations::confirm_imported(conn, &id, given_at, &plan.source, now)?;
        }
    }
    Ok(LineOutcome::Imported)
}

/// A pending registration confirmed on consent obtained elsewhere. Its
/// confirmation links are spent, so they now say "already confirmed"; any
/// confirmation still queued is cancelled by the worker (the row moved on).
fn upgrade(
    conn: &mut DbConnection,
    plan: &ImportPlan,
    row: &Registration,
    record: &ImportRecord,
    now: NaiveDateTime,
) -> Result<LineOutcome, DbError> {
    let given_at = record.consent_at.unwrap_or(now);
    if !registrations::confirm_imported(conn, &row.id, given_at, &plan.source, now)? {
        return Ok(LineOutcome::AlreadyPresent);
    }
    tokens::spend_all(conn, &row.id, TokenPurpose::Confirm, now)?;
    record_consent(conn, plan, &row.id, record, now)?;
    Ok(LineOutcome::Imported)
}

/// The consent row (at the original time when the export has one, else the
/// import's) and the `import` ledger event (at the import's time). Returns
/// the consent time.
fn record_consent(
    conn: &mut DbConnection,
    plan: &ImportPlan,
    registration_id: &str,
    record: &ImportRecord,
    now: NaiveDateTime,
) -> Result<NaiveDateTime, DbError> {
    // `--mode confirmed` lines always have a time: the reader rejects the rest.
    let given_at = record.consent_at.unwrap_or(now);
    consents::insert(conn, registration_id, &evidence(plan), given_at)?;
    ledger::append(
        conn,
        NewEvent {
            registration_id,
            event: Event::Import,
            at: now,
            actor: &plan.actor,
            consent_text_version: Some(&plan.text_version),
            source: Some(&plan.source),
        },
    )?;
    Ok(given_at)
}

/// Consent from an export has no IP or user agent. Its text version is the
/// configured one: we never had the other service's wording (and a consent
/// row must name a text we keep), while the configured version is the one the
/// person is on the list under from now on. With `confirmed`, the organiser
/// vouches that the consent given elsewhere covers it; with `reconfirm`, the
/// row is the basis for writing to the person once, and their own
/// confirmation is what makes them a member. The source (`--source`) says
/// where the consent really came from.
fn evidence(plan: &ImportPlan) -> ConsentEvidence {
    ConsentEvidence {
        ip: None,
        user_agent: None,
        text_version: plan.text_version.clone(),
        source: plan.source.clone(),
    }
}
