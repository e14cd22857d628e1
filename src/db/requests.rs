//! "Send it again" and "email me a manage link": both answer the same whatever
//! the address's state, and both do the same work: each writes the address's
//! request row (keyed by a keyed hash, holding the requests' cooldown) before
//! anything depends on the state, and each respects the per-address email
//! cooldown and daily cap. A manage link goes to any registered address, so
//! an unsubscribed person can still erase themselves.

use super::outbox::MessageKind;
use super::signups::{self, SignupRules};
use super::{DbConnection, DbError, attempts, registrations, tokens, write_transaction};
use crate::crypto::TokenPurpose;
use crate::domain::Status;
use chrono::NaiveDateTime;

/// A resend: pending → a new confirmation (and the retention clock restarts);
/// confirmed → "already on the list"; unknown or unsubscribed → nothing.
/// Returns whether a message was queued.
pub fn resend(
    conn: &mut DbConnection,
    rules: &SignupRules,
    email_key: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        let registration = locked_registration(conn, email_key)?;
        let hash = rules.keys.request_hash(email_key);
        let cooled = attempts::record_request(conn, &hash, now, rules.resend_cooldown)?;
        let Some(registration) = registration else {
            return Ok(false);
        };
        let kind = match registration.status() {
            Status::Pending => MessageKind::Confirmation,
            Status::Confirmed => MessageKind::AlreadyMember,
            Status::Unsubscribed => return Ok(false),
        };
        if kind == MessageKind::Confirmation {
            registrations::record_resend(conn, &registration.id, now)?;
        }
        queue_request(conn, rules, &hash, cooled, &registration.id, kind, now)
    })
}

/// A manage link for a registration in any state (pending, confirmed or
/// unsubscribed: an unsubscribed person may still want their data erased).
pub fn request_manage_link(
    conn: &mut DbConnection,
    rules: &SignupRules,
    email_key: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| manage_request(conn, rules, email_key, now))
}

/// The unsubscribed page's button: a manage link to the address of the
/// unsubscribe token's registration, never to one the request names, under
/// the same request row and cooldowns as [`request_manage_link`]. `None` if
/// the token is unknown.
pub fn request_manage_link_by_unsubscribe_token(
    conn: &mut DbConnection,
    rules: &SignupRules,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<bool>, DbError> {
    write_transaction(conn, |conn| {
        let Some(row) = tokens::find(conn, TokenPurpose::Unsubscribe, token)? else {
            return Ok(None);
        };
        let Some(registration) = registrations::find(conn, &row.registration_id)? else {
            return Ok(None);
        };
        manage_request(conn, rules, &registration.email_key, now).map(Some)
    })
}

/// A manage request inside the caller's transaction: the request row first,
/// whatever the state, then the message if the address is registered.
fn manage_request(
    conn: &mut DbConnection,
    rules: &SignupRules,
    email_key: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let registration = locked_registration(conn, email_key)?;
    let hash = rules.keys.request_hash(email_key);
    let cooled = attempts::record_request(conn, &hash, now, rules.resend_cooldown)?;
    match registration {
        Some(r) => queue_request(conn, rules, &hash, cooled, &r.id, MessageKind::Manage, now),
        None => Ok(false),
    }
}

/// The address's registration, locked before the request row as erasure
/// locks them (registration, then request row), so a request and the
/// retention sweep never wait on each other in a cycle.
fn locked_registration(
    conn: &mut DbConnection,
    email_key: &str,
) -> Result<Option<registrations::Registration>, DbError> {
    Ok(registrations::lock_by_email_keys(conn, &[email_key])?
        .into_iter()
        .next())
}

/// Queues a request's message when both cooldowns (the request row's and the
/// registration's, shared with signups) and the daily cap allow it.
fn queue_request(
    conn: &mut DbConnection,
    rules: &SignupRules,
    email_hash: &str,
    request_cooled: bool,
    registration_id: &str,
    kind: MessageKind,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    if !request_cooled || !signups::queue_if_cooled(conn, rules, registration_id, kind, now)? {
        return Ok(false);
    }
    attempts::mark_request_emailed(conn, email_hash, now)?;
    Ok(true)
}
