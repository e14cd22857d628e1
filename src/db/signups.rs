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
use diesel::Connection;
use std::collections::{HashMap, HashSet};

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
    let existing = registrations::lock_by_email_keys(conn, &[email_key])?
        .into_iter()
        .next();
    record_for(conn, rules, signup, existing, now)
}

/// [`record`] once the address's suppression is lifted and its registration
/// (if any) read and locked.
fn record_for(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signup: &NewSignup,
    existing: Option<registrations::Registration>,
    now: NaiveDateTime,
) -> Result<SignupOutcome, DbError> {
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
    ledger::append(conn, signup_event(signup, registration_id, now))
}

fn signup_event<'a>(
    signup: &'a NewSignup,
    registration_id: &'a str,
    now: NaiveDateTime,
) -> NewEvent<'a> {
    NewEvent {
        registration_id,
        event: Event::Signup,
        at: now,
        actor: &signup.actor,
        consent_text_version: Some(&signup.evidence.text_version),
        source: Some(&signup.evidence.source),
    }
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
    let token = token_for(rules, registration_id, kind, now);
    if let Some(token) = &token {
        tokens::insert_all(conn, std::slice::from_ref(token))?;
    }
    let token_id = token.map(|t| t.id);
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

/// How long a manage link works.
const MANAGE_TOKEN_LIFETIME: Duration = Duration::hours(24);

/// The token a signup-caused message carries, if its kind carries one: the
/// "already on the list" notice carries a manage link, because the cooldown it
/// starts would hold back a manage link asked for next.
fn token_for<'a>(
    rules: &SignupRules,
    registration_id: &'a str,
    kind: MessageKind,
    now: NaiveDateTime,
) -> Option<tokens::NewToken<'a>> {
    let (purpose, lifetime) = match kind {
        MessageKind::Confirmation => (TokenPurpose::Confirm, rules.token_ttl),
        MessageKind::Manage | MessageKind::AlreadyMember => {
            (TokenPurpose::Manage, MANAGE_TOKEN_LIFETIME)
        }
        _ => return None,
    };
    Some(tokens::NewToken::new(
        &rules.keys,
        registration_id,
        purpose,
        now,
        Some(now + lifetime),
    ))
}

/// Records a batch of signups with a few statements per table, in the
/// caller's transaction: one delete lifts the batch's suppressions, one read
/// locks the batch's known registrations (in key order), then the first
/// signup of each new address is written by one multi-row insert per table.
/// The rest (known addresses, and an address's later signups in the batch)
/// go through [`record`] one by one, after the new rows, so each sees the
/// state the signups before it left. Answers come back in batch order.
///
/// An error fails the whole batch: the caller rolls it back and records each
/// signup on its own instead.
pub fn record_batch(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signups: &[&NewSignup],
    now: NaiveDateTime,
) -> Result<Vec<Result<SignupOutcome, DbError>>, DbError> {
    let keys: Vec<&str> = signups.iter().map(|s| s.details.email.key()).collect();
    let hashes: Vec<String> = keys
        .iter()
        .map(|k| rules.keys.suppression_hash(k))
        .collect();
    suppressions::remove_all(conn, &hashes)?;
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let mut known: HashMap<String, registrations::Registration> =
        registrations::lock_by_email_keys(conn, &distinct)?
            .into_iter()
            .map(|r| (r.email_key.clone(), r))
            .collect();
    let mut seen = HashSet::new();
    let (fresh, later): (Vec<usize>, Vec<usize>) =
        (0..signups.len()).partition(|&i| !known.contains_key(keys[i]) && seen.insert(keys[i]));
    let fresh_signups: Vec<&NewSignup> = fresh.iter().map(|&i| signups[i]).collect();
    let fresh_outcomes = insert_new(conn, rules, &fresh_signups, now)?;
    let mut outcomes: Vec<Option<Result<SignupOutcome, DbError>>> =
        (0..signups.len()).map(|_| None).collect();
    for (i, outcome) in fresh.into_iter().zip(fresh_outcomes) {
        outcomes[i] = Some(Ok(outcome));
    }
    for i in later {
        // The first signup of a known address uses the row just read; a
        // later one in the batch reads what the signup before it wrote.
        let first_read = known.remove(keys[i]);
        let outcome = conn.transaction(|conn| {
            let existing = match first_read {
                Some(row) => Some(row),
                None => registrations::find_by_email_key(conn, keys[i])?,
            };
            record_for(conn, rules, signups[i], existing, now)
        });
        outcomes[i] = Some(outcome);
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Err(DbError::WriterGone)))
        .collect())
}

/// New addresses' first signups: what [`record`] writes for an address it has
/// not seen, as one multi-row insert per table.
fn insert_new(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signups: &[&NewSignup],
    now: NaiveDateTime,
) -> Result<Vec<SignupOutcome>, DbError> {
    if signups.is_empty() {
        return Ok(Vec::new());
    }
    let new_registrations: Vec<_> = signups
        .iter()
        .map(|s| {
            registrations::NewRegistration::pending(&s.details, s.evidence.source.as_str(), now)
        })
        .collect();
    let new_consents: Vec<_> = signups
        .iter()
        .zip(&new_registrations)
        .map(|(s, r)| consents::NewConsent::new(&r.id, &s.evidence, now))
        .collect();
    let events: Vec<_> = signups
        .iter()
        .zip(&new_registrations)
        .map(|(s, r)| ledger::LedgerRow::from(signup_event(s, &r.id, now)))
        .collect();
    let new_tokens: Vec<_> = new_registrations
        .iter()
        .filter_map(|r| token_for(rules, &r.id, MessageKind::Confirmation, now))
        .collect();
    let messages: Vec<_> = new_registrations
        .iter()
        .zip(&new_tokens)
        .map(|(r, t)| {
            let message = NewMessage {
                registration_id: &r.id,
                kind: MessageKind::Confirmation,
                token_id: Some(&t.id),
                unsubscribe_token_id: None,
            };
            outbox::QueuedRow::new(message, &rules.mail_domain, now)
        })
        .collect();
    let bound: Vec<_> = signups
        .iter()
        .zip(&new_tokens)
        .zip(&new_consents)
        .map(|((s, t), c)| {
            bound_details::BoundRow::new(&t.id, &s.details, &s.evidence, Some(&c.id), now)
        })
        .collect();
    registrations::insert_all(conn, &new_registrations)?;
    consents::insert_all(conn, &new_consents)?;
    ledger::append_all(conn, &events)?;
    tokens::insert_all(conn, &new_tokens)?;
    outbox::enqueue_all(conn, &messages)?;
    bound_details::bind_all(conn, &bound)?;
    Ok(new_registrations
        .into_iter()
        .map(|r| SignupOutcome::Pending {
            registration_id: r.id,
            email_queued: true,
        })
        .collect())
}

/// One signup in its own savepoint. A unique-key race with another instance
/// (both inserting the same new address) is retried once as an existing address.
pub fn record_in_savepoint(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signup: &NewSignup,
    now: NaiveDateTime,
) -> Result<SignupOutcome, DbError> {
    let attempt =
        |conn: &mut DbConnection| conn.transaction(|conn| record(conn, rules, signup, now));
    match attempt(conn) {
        Err(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => attempt(conn),
        other => other,
    }
}
