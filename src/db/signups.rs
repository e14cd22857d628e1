//! The signup transaction: registration, consent row, ledger event, token and
//! outbox row, written together. Uniqueness and the email cooldown are decided
//! here, inside the transaction, so concurrency cannot break them.

use super::consents::{self, ConsentEvidence};
use super::ledger::{self, Event, NewEvent};
use super::outbox::{self, MessageKind, NewMessage};
use super::{DbConnection, DbError, registrations, suppressions, tokens};
use crate::crypto::{Keys, TokenPurpose};
use crate::domain::{SignupDetails, Status};
use chrono::{Duration, NaiveDateTime};

/// One signup to record.
#[derive(Debug, Clone)]
pub struct NewSignup {
    pub details: SignupDetails,
    pub evidence: ConsentEvidence,
    /// The ledger actor: `subscriber` for the public endpoints.
    pub actor: String,
}

/// The fixed parameters of the signup rules.
#[derive(Debug, Clone)]
pub struct SignupRules {
    pub keys: Keys,
    pub token_ttl: Duration,
    pub resend_cooldown: Duration,
    pub mail_domain: String,
}

/// What a signup did. Every variant gets the same HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupOutcome {
    /// A pending registration (new, refreshed or restarted after unsubscribing).
    Pending {
        registration_id: String,
        email_queued: bool,
    },
    /// Already a member: nothing changed.
    AlreadyMember { email_queued: bool },
}

/// Records one signup. Call inside a write transaction (or a savepoint of one).
pub fn record(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signup: &NewSignup,
    now: NaiveDateTime,
) -> Result<SignupOutcome, DbError> {
    let email_key = signup.details.email.key();
    suppressions::remove(conn, &rules.keys.suppression_hash(email_key))?;
    let existing = registrations::find_by_email_key(conn, email_key)?;
    // A new registration's insert claims its first email slot; a known one
    // must win the cooldown's guarded UPDATE.
    let (registration_id, slot_claimed) = match existing {
        Some(row) if row.status() == Status::Confirmed => {
            let email_queued =
                queue_if_cooled(conn, rules, &row.id, MessageKind::AlreadyMember, now)?;
            return Ok(SignupOutcome::AlreadyMember { email_queued });
        }
        Some(row) => {
            let source = signup.evidence.source.as_str();
            registrations::refresh_pending(conn, &row.id, &signup.details, source, now)?;
            (row.id, false)
        }
        None => {
            let source = signup.evidence.source.as_str();
            let id = registrations::insert_pending(conn, &signup.details, source, now)?;
            (id, true)
        }
    };
    consents::insert(conn, &registration_id, &signup.evidence, now)?;
    ledger::append(
        conn,
        NewEvent {
            registration_id: &registration_id,
            event: Event::Signup,
            at: now,
            actor: &signup.actor,
            consent_text_version: Some(&signup.evidence.text_version),
            source: Some(&signup.evidence.source),
        },
    )?;
    let kind = MessageKind::Confirmation;
    let email_queued = if slot_claimed {
        queue_claimed(conn, rules, &registration_id, kind, now)?;
        true
    } else {
        queue_if_cooled(conn, rules, &registration_id, kind, now)?
    };
    Ok(SignupOutcome::Pending {
        registration_id,
        email_queued,
    })
}

/// Queues a signup-caused message unless this address got one within the cooldown.
pub fn queue_if_cooled(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    kind: MessageKind,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    if !registrations::claim_email_slot(conn, registration_id, now, rules.resend_cooldown)? {
        return Ok(false);
    }
    queue_claimed(conn, rules, registration_id, kind, now)?;
    Ok(true)
}

/// Queues a signup-caused message whose email slot is already claimed.
pub fn queue_claimed(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    kind: MessageKind,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let token_id = match kind {
        MessageKind::Confirmation => Some(tokens::create(
            conn,
            &rules.keys,
            registration_id,
            TokenPurpose::Confirm,
            now,
            Some(now + rules.token_ttl),
        )?),
        MessageKind::Manage => Some(tokens::create(
            conn,
            &rules.keys,
            registration_id,
            TokenPurpose::Manage,
            now,
            Some(now + Duration::hours(24)),
        )?),
        MessageKind::AlreadyMember | MessageKind::Welcome => None,
    };
    outbox::enqueue(
        conn,
        NewMessage {
            registration_id,
            kind,
            token_id: token_id.as_deref(),
            unsubscribe_token_id: None,
        },
        &rules.mail_domain,
        now,
    )?;
    Ok(())
}
