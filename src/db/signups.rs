//! The signup transaction: registration, consent row, ledger event, token,
//! the details bound to it, and outbox row, written together. Uniqueness and the email cooldown are decided
//! here, inside the transaction, so concurrency cannot break them.

use super::consents::{self, ConsentEvidence};
use super::ledger::{self, Event, NewEvent};
use super::outbox::{self, MessageKind, NewMessage};
use super::{DbConnection, DbError, attempts, bound_details, registrations, suppressions, tokens};
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
///
/// Every state writes at least one row. A new address, or one coming back after
/// unsubscribing, gets its details and consent written. A pending address's
/// signup that sends a confirmation binds its details to that confirmation
/// only; one inside the cooldown, or a member's, leaves a `signup_attempt` row.
pub fn record(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signup: &NewSignup,
    now: NaiveDateTime,
) -> Result<SignupOutcome, DbError> {
    let email_key = signup.details.email.key();
    suppressions::remove(conn, &rules.keys.suppression_hash(email_key))?;
    let existing = registrations::find_by_email_key(conn, email_key)?;
    let source = signup.evidence.source.as_str();
    // A new registration's insert claims its first email slot; a known one
    // must win the cooldown's guarded UPDATE.
    let (registration_id, consent_id) = match existing {
        Some(row) if row.status() == Status::Confirmed => {
            attempts::record_signup_attempt(conn, &row.id, now)?;
            let email_queued =
                queue_if_cooled(conn, rules, &row.id, MessageKind::AlreadyMember, now)?;
            return Ok(SignupOutcome::AlreadyMember { email_queued });
        }
        Some(row) if row.status() == Status::Pending => {
            if !claim_email(conn, rules, &row.id, now)? {
                attempts::record_signup_attempt(conn, &row.id, now)?;
                return Ok(SignupOutcome::Pending {
                    registration_id: row.id,
                    email_queued: false,
                });
            }
            registrations::touch_signup(conn, &row.id, now)?;
            (row.id, None)
        }
        Some(row) => {
            registrations::refresh_pending(conn, &row.id, &signup.details, source, now)?;
            let consent_id = consents::insert(conn, &row.id, &signup.evidence, now)?;
            if !claim_email(conn, rules, &row.id, now)? {
                append_signup_event(conn, signup, &row.id, now)?;
                return Ok(SignupOutcome::Pending {
                    registration_id: row.id,
                    email_queued: false,
                });
            }
            (row.id, Some(consent_id))
        }
        None => {
            let id = registrations::insert_pending(conn, &signup.details, source, now)?;
            let consent_id = consents::insert(conn, &id, &signup.evidence, now)?;
            (id, Some(consent_id))
        }
    };
    append_signup_event(conn, signup, &registration_id, now)?;
    let token_id = queue_claimed(
        conn,
        rules,
        &registration_id,
        MessageKind::Confirmation,
        now,
    )?;
    if let Some(token_id) = token_id {
        bound_details::bind(
            conn,
            &token_id,
            &signup.details,
            &signup.evidence,
            consent_id.as_deref(),
            now,
        )?;
    }
    Ok(SignupOutcome::Pending {
        registration_id,
        email_queued: true,
    })
}

fn append_signup_event(
    conn: &mut DbConnection,
    signup: &NewSignup,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    ledger::append(
        conn,
        NewEvent {
            registration_id,
            event: Event::Signup,
            at: now,
            actor: &signup.actor,
            consent_text_version: Some(&signup.evidence.text_version),
            source: Some(&signup.evidence.source),
        },
    )
}

/// Claims the right to send this address a signup-caused email now: once per
/// cooldown, and at most [`attempts::MAX_SIGNUP_EMAILS_PER_DAY`] a day.
pub fn claim_email(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    Ok(
        registrations::claim_email_slot(conn, registration_id, now, rules.resend_cooldown)?
            && attempts::under_daily_cap(conn, registration_id, now)?,
    )
}

/// Queues a signup-caused message unless [`claim_email`] refuses.
pub fn queue_if_cooled(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    kind: MessageKind,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    if !claim_email(conn, rules, registration_id, now)? {
        return Ok(false);
    }
    queue_claimed(conn, rules, registration_id, kind, now)?;
    Ok(true)
}

/// Queues a signup-caused message whose email slot is already claimed;
/// returns the id of the token it carries, if any.
pub fn queue_claimed(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    kind: MessageKind,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
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
    Ok(token_id)
}
