//! The details and consent evidence of the signup whose email carried a
//! confirmation token. Confirming with that token (its link or its code)
//! applies them, so a stranger's later signup cannot rewrite what the owner
//! confirms.

use super::consents::{self, ConsentEvidence};
use super::schema::{confirmation_details as bound, registrations};
use super::{DbConnection, DbError};
use crate::domain::SignupDetails;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored signup, bound to its confirmation token.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bound)]
struct BoundSignup {
    email: String,
    name: String,
    organisation: Option<String>,
    org_type: Option<String>,
    country: Option<String>,
    timezone: Option<String>,
    interests: String,
    source: String,
    signed_up_at: NaiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
    text_version: String,
    consent_id: Option<String>,
}

/// A signup's details and consent evidence, bound to the confirmation token
/// its email carries. `consent_id` names the consent row already written for
/// it, if any.
#[derive(Debug, Insertable)]
#[diesel(table_name = bound, treat_none_as_default_value = false)]
pub struct BoundRow<'a> {
    token_id: &'a str,
    email: &'a str,
    name: &'a str,
    organisation: Option<&'a str>,
    org_type: Option<&'static str>,
    country: Option<&'static str>,
    timezone: Option<&'static str>,
    interests: String,
    source: &'a str,
    signed_up_at: NaiveDateTime,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    text_version: &'a str,
    consent_id: Option<&'a str>,
}

impl<'a> BoundRow<'a> {
    pub fn new(
        token_id: &'a str,
        details: &'a SignupDetails,
        evidence: &'a ConsentEvidence,
        consent_id: Option<&'a str>,
        now: NaiveDateTime,
    ) -> Self {
        BoundRow {
            token_id,
            email: details.email.as_str(),
            name: details.name.as_str(),
            organisation: details.organisation.as_ref().map(|o| o.as_str()),
            org_type: details.org_type.map(|t| t.as_str()),
            country: details.country.as_ref().map(|c| c.as_str()),
            timezone: details.timezone.as_ref().map(|t| t.as_str()),
            interests: details.interests.joined(),
            source: &evidence.source,
            signed_up_at: now,
            ip: evidence.ip.as_deref(),
            user_agent: evidence.user_agent.as_deref(),
            text_version: &evidence.text_version,
            consent_id,
        }
    }
}

/// Binds signups with one statement.
pub fn bind_all(conn: &mut DbConnection, rows: &[BoundRow<'_>]) -> Result<(), DbError> {
    super::insert_rows!(conn, bound::table, rows)?;
    Ok(())
}

/// Binds a signup's details to the confirmation token its email carries.
pub fn bind(
    conn: &mut DbConnection,
    token_id: &str,
    details: &SignupDetails,
    evidence: &ConsentEvidence,
    consent_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    bind_all(
        conn,
        &[BoundRow::new(token_id, details, evidence, consent_id, now)],
    )
}

/// Applies the signup bound to `token_id` to its registration: its details,
/// and its consent row if none was written when it signed up. A token with
/// nothing bound (a resend's) leaves the registration as it is.
pub fn apply(
    conn: &mut DbConnection,
    token_id: &str,
    registration_id: &str,
) -> Result<(), DbError> {
    let Some(signup) = bound::table
        .find(token_id)
        .select(BoundSignup::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(());
    };
    diesel::update(registrations::table.find(registration_id))
        .set((
            registrations::email.eq(&signup.email),
            registrations::name.eq(&signup.name),
            registrations::organisation.eq(&signup.organisation),
            registrations::org_type.eq(&signup.org_type),
            registrations::country.eq(&signup.country),
            registrations::timezone.eq(&signup.timezone),
            registrations::interests.eq(&signup.interests),
            registrations::source.eq(&signup.source),
        ))
        .execute(conn)?;
    if signup.consent_id.is_none() {
        let evidence = ConsentEvidence {
            ip: signup.ip,
            user_agent: signup.user_agent,
            text_version: signup.text_version,
            source: signup.source,
        };
        consents::insert(conn, registration_id, &evidence, signup.signed_up_at)?;
    }
    Ok(())
}
