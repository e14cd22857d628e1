//! "Send it again" and "email me a manage link": both answer the same whatever
//! the address's state, and both respect the per-address email cooldown.

use super::outbox::MessageKind;
use super::signups::{self, SignupRules};
use super::{DbConnection, DbError, registrations, write_transaction};
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
        let Some(registration) = registrations::find_by_email_key(conn, email_key)? else {
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
        signups::queue_if_cooled(conn, rules, &registration.id, kind, now)
    })
}

/// A manage link for a pending or confirmed registration.
pub fn request_manage_link(
    conn: &mut DbConnection,
    rules: &SignupRules,
    email_key: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        match registrations::find_by_email_key(conn, email_key)? {
            Some(r) if r.status() != Status::Unsubscribed => {
                signups::queue_if_cooled(conn, rules, &r.id, MessageKind::Manage, now)
            }
            _ => Ok(false),
        }
    })
}
