//! Confirmation by 6-digit code. The `rollcall_signup` cookie names the address
//! as typed; codes are re-derived from that registration's confirmation token
//! ids and compared in constant time. Every attempt is counted under the
//! cookie (whatever the address's state) and against a pending registration
//! (across resends); past the limit only the link works. The answer depends on
//! the code alone: it confirms, or it does not.

use super::registrations::{self, ConfirmEvidence};
use super::signups::SignupRules;
use super::{DbConnection, DbError, attempts, lifecycle, tokens, write_transaction};
use crate::crypto::SignupSeal;
use crate::domain::{EmailAddress, Status};
use chrono::{DateTime, NaiveDateTime};

/// The result of typing a code.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeResult {
    Confirmed,
    /// A right code for a registration already confirmed.
    AlreadyConfirmed,
    /// Wrong, expired, locked, or for a cookie that binds to nothing pending:
    /// one answer for all, so it tells nothing about the address.
    NotConfirmed,
}

/// A typed code without the spaces and dashes people put in it (a phone or a
/// mail client may turn `-` into a typographic dash, and a space into a
/// no-break space).
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && !is_dash(*c))
        .collect()
}

/// The hyphen-minus, the Unicode hyphens and dashes (U+2010–U+2015) and the minus sign.
fn is_dash(c: char) -> bool {
    c == '-' || ('\u{2010}'..='\u{2015}').contains(&c) || c == '\u{2212}'
}

/// Checks a typed code for the registration the cookie names.
pub fn confirm_with_code(
    conn: &mut DbConnection,
    rules: &SignupRules,
    seal: &SignupSeal,
    code: &str,
    max_attempts: i32,
    evidence: &ConfirmEvidence,
    now: NaiveDateTime,
) -> Result<CodeResult, DbError> {
    let issued_at = DateTime::from_timestamp(seal.issued_at, 0).map(|t| t.naive_utc());
    let Some(expires_at) = issued_at.map(|at| at + rules.token_ttl) else {
        return Ok(CodeResult::NotConfirmed);
    };
    if expires_at <= now {
        return Ok(CodeResult::NotConfirmed);
    }
    let cookie_hash = seal.counter_key(&rules.keys);
    write_transaction(conn, |conn| {
        if !attempts::claim_cookie_attempt(conn, &cookie_hash, max_attempts, expires_at)? {
            return Ok(CodeResult::NotConfirmed);
        }
        let Ok(address) = EmailAddress::parse(&seal.address) else {
            return Ok(CodeResult::NotConfirmed);
        };
        let Some(registration) = registrations::find_by_email_key(conn, address.key())? else {
            return Ok(CodeResult::NotConfirmed);
        };
        match registration.status() {
            Status::Unsubscribed => Ok(CodeResult::NotConfirmed),
            Status::Confirmed => {
                let ids = tokens::unexpired_confirm_ids(conn, &registration.id, now)?;
                Ok(match matching_token(rules, &ids, code) {
                    Some(_) => CodeResult::AlreadyConfirmed,
                    None => CodeResult::NotConfirmed,
                })
            }
            Status::Pending => {
                if !registrations::claim_code_attempt(conn, &registration.id, max_attempts)? {
                    return Ok(CodeResult::NotConfirmed);
                }
                let live = tokens::live_confirm_ids(conn, &registration.id, now)?;
                let Some(token_id) = matching_token(rules, &live, code) else {
                    return Ok(CodeResult::NotConfirmed);
                };
                lifecycle::confirm_registration(
                    conn,
                    rules,
                    &registration.id,
                    token_id,
                    evidence,
                    now,
                )?;
                Ok(CodeResult::Confirmed)
            }
        }
    })
}

/// The token whose code was typed. Every code is checked, so the time taken
/// does not depend on which one matched.
fn matching_token<'a>(rules: &SignupRules, ids: &'a [String], code: &str) -> Option<&'a str> {
    ids.iter().fold(None, |found, id| {
        let matches = rules.keys.code_matches(id, code);
        found.or(matches.then_some(id.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::normalise_code;

    #[test]
    fn spaces_and_dashes_in_a_typed_code_are_ignored() {
        for typed in [
            "171243",
            "171 243",
            "171-243",
            " 171\u{a0}243\t",
            "171\u{2013}243",
            "1-7 1-2 4-3",
        ] {
            assert_eq!(normalise_code(typed), "171243", "{typed:?}");
        }
        assert_eq!(
            normalise_code("171.243"),
            "171.243",
            "other characters stay, and fail"
        );
    }
}
