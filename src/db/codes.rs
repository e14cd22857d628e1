//! Confirmation by 6-digit code. Codes are re-derived from the live confirmation
//! token ids and compared in constant time; wrong codes are counted per
//! registration across resends, and past the limit only the link works.

use super::registrations::{self, ConfirmEvidence};
use super::signups::SignupRules;
use super::{DbConnection, DbError, lifecycle, tokens, write_transaction};
use crate::domain::Status;
use chrono::NaiveDateTime;

/// The result of typing a code.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeResult {
    Confirmed,
    AlreadyConfirmed,
    Wrong,
    /// Too many wrong codes: only the link works now.
    Locked,
}

pub fn confirm_with_code(
    conn: &mut DbConnection,
    rules: &SignupRules,
    registration_id: &str,
    code: &str,
    max_failures: i32,
    evidence: &ConfirmEvidence,
    now: NaiveDateTime,
) -> Result<CodeResult, DbError> {
    write_transaction(conn, |conn| {
        let Some(registration) = registrations::find(conn, registration_id)? else {
            return Ok(CodeResult::Wrong);
        };
        match registration.status() {
            Status::Confirmed => return Ok(CodeResult::AlreadyConfirmed),
            Status::Unsubscribed => return Ok(CodeResult::Wrong),
            Status::Pending => {}
        }
        if registration.code_failures >= max_failures {
            return Ok(CodeResult::Locked);
        }
        let live = tokens::live_confirm_ids(conn, registration_id, now)?;
        // Check every live code so the time taken does not depend on which matched.
        let matched = live
            .iter()
            .fold(false, |found, id| rules.keys.code_matches(id, code) | found);
        if matched {
            lifecycle::confirm_registration(conn, rules, registration_id, evidence, now)?;
            return Ok(CodeResult::Confirmed);
        }
        registrations::record_code_failure(conn, registration_id)?;
        Ok(if registration.code_failures + 1 >= max_failures {
            CodeResult::Locked
        } else {
            CodeResult::Wrong
        })
    })
}
