//! Confirm and unsubscribe: a token from a link → its hash → one guarded UPDATE
//! → a ledger event (and, on confirmation, the welcome message).

use super::ledger::{self, Event, NewEvent};
use super::outbox::{self, MessageKind, NewMessage};
use super::registrations::{self, ConfirmEvidence, Registration};
use super::signups::SignupRules;
use super::tokens::{self, TokenRow};
use super::{DbConnection, DbError, bound_details, write_transaction};
use crate::crypto::TokenPurpose;
use crate::domain::{Status, UnsubscribeReason};
use chrono::NaiveDateTime;

/// What a confirmation link is worth right now.
#[derive(Debug)]
pub enum ConfirmLink {
    Usable(TokenRow),
    AlreadyConfirmed,
    Expired,
    Unknown,
}

/// Looks at a confirmation token without changing anything (for GET).
pub fn inspect_confirm(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<ConfirmLink, DbError> {
    let Some(row) = tokens::find(conn, TokenPurpose::Confirm, token)? else {
        return Ok(ConfirmLink::Unknown);
    };
    let registration = registrations::find(conn, &row.registration_id)?;
    let confirmed = registration
        .as_ref()
        .is_some_and(|r| r.status() == Status::Confirmed);
    Ok(match (row.used_at.is_some(), confirmed) {
        (true, true) => ConfirmLink::AlreadyConfirmed,
        (true, false) => ConfirmLink::Expired,
        (false, _) if row.is_expired(now) => ConfirmLink::Expired,
        (false, true) => ConfirmLink::AlreadyConfirmed,
        (false, false) => ConfirmLink::Usable(row),
    })
}

/// The result of a confirmation attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmation {
    Confirmed,
    AlreadyConfirmed,
    Expired,
    Unknown,
}

/// Confirms with a link token: confirms the registration and spends all its links.
pub fn confirm_with_token(
    conn: &mut DbConnection,
    rules: &SignupRules,
    token: &str,
    evidence: &ConfirmEvidence,
    now: NaiveDateTime,
) -> Result<Confirmation, DbError> {
    write_transaction(conn, |conn| match inspect_confirm(conn, token, now)? {
        ConfirmLink::Usable(row) => {
            confirm_registration(conn, rules, &row.registration_id, &row.id, evidence, now)?;
            Ok(Confirmation::Confirmed)
        }
        ConfirmLink::AlreadyConfirmed => Ok(Confirmation::AlreadyConfirmed),
        ConfirmLink::Expired => Ok(Confirmation::Expired),
        ConfirmLink::Unknown => Ok(Confirmation::Unknown),
    })
}

/// Pending → confirmed with the details of the signup bound to `token_id`,
/// every confirmation link spent, a ledger event, and the welcome message
/// (with its never-expiring unsubscribe link) queued.
pub fn confirm_registration(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    token_id: &str,
    evidence: &ConfirmEvidence,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    if !registrations::confirm(conn, registration_id, evidence, now)? {
        return Ok(false);
    }
    bound_details::apply(conn, token_id, registration_id)?;
    tokens::spend_all(conn, registration_id, TokenPurpose::Confirm, now)?;
    ledger::append(
        conn,
        NewEvent {
            registration_id,
            event: Event::Confirm,
            at: now,
            actor: "subscriber",
            consent_text_version: None,
            source: Some(evidence.via),
        },
    )?;
    let unsubscribe_id = tokens::unsubscribe_token_id(conn, &rules.keys, registration_id, now)?;
    outbox::enqueue(
        conn,
        NewMessage {
            registration_id,
            kind: MessageKind::Welcome,
            token_id: None,
            unsubscribe_token_id: Some(&unsubscribe_id),
        },
        &rules.mail_domain,
        now,
    )?;
    Ok(true)
}

/// The registration an unsubscribe token belongs to, if the token is known.
pub fn unsubscribe_target(
    conn: &mut DbConnection,
    token: &str,
) -> Result<Option<Registration>, DbError> {
    match tokens::find(conn, TokenPurpose::Unsubscribe, token)? {
        Some(row) => registrations::find(conn, &row.registration_id),
        None => Ok(None),
    }
}

/// Unsubscribes the token's registration. `None` if the token is unknown;
/// `Some(false)` if it was already unsubscribed (the answer is the same).
pub fn unsubscribe_with_token(
    conn: &mut DbConnection,
    token: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<Option<bool>, DbError> {
    write_transaction(conn, |conn| {
        let Some(registration) = unsubscribe_target(conn, token)? else {
            return Ok(None);
        };
        unsubscribe(conn, &registration.id, actor, now).map(Some)
    })
}

/// Unsubscribes a registration and records it; false if it already was.
pub fn unsubscribe(
    conn: &mut DbConnection,
    registration_id: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = registrations::unsubscribe(conn, registration_id, UnsubscribeReason::User, now)?;
    if changed {
        tokens::spend_all(conn, registration_id, TokenPurpose::Confirm, now)?;
        ledger::append(
            conn,
            NewEvent {
                registration_id,
                event: Event::Unsubscribe,
                at: now,
                actor,
                consent_text_version: None,
                source: None,
            },
        )?;
    }
    Ok(changed)
}
