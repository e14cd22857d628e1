//! Consent records and the consent texts they point at.

use super::schema::{consent_texts, consents};
use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Who agreed, when, from where, to which text.
#[derive(Debug, Clone)]
pub struct ConsentEvidence {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub text_version: String,
    pub source: String,
}

/// A consent row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct Consent {
    pub id: String,
    pub registration_id: String,
    pub given_at: NaiveDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub text_version: String,
    pub source: String,
}

/// A consent row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = consents, treat_none_as_default_value = false)]
pub struct NewConsent<'a> {
    pub id: String,
    registration_id: &'a str,
    given_at: NaiveDateTime,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    text_version: &'a str,
    source: &'a str,
}

impl<'a> NewConsent<'a> {
    pub fn new(
        registration_id: &'a str,
        evidence: &'a ConsentEvidence,
        given_at: NaiveDateTime,
    ) -> Self {
        NewConsent {
            id: super::new_id(),
            registration_id,
            given_at,
            ip: evidence.ip.as_deref(),
            user_agent: evidence.user_agent.as_deref(),
            text_version: &evidence.text_version,
            source: &evidence.source,
        }
    }
}

/// Inserts consent rows with one statement.
pub fn insert_all(conn: &mut DbConnection, rows: &[NewConsent<'_>]) -> Result<(), DbError> {
    super::insert_rows!(conn, consents::table, rows)?;
    Ok(())
}

/// Inserts a consent row and returns its id.
pub fn insert(
    conn: &mut DbConnection,
    registration_id: &str,
    evidence: &ConsentEvidence,
    given_at: NaiveDateTime,
) -> Result<String, DbError> {
    let row = NewConsent::new(registration_id, evidence, given_at);
    insert_all(conn, std::slice::from_ref(&row))?;
    Ok(row.id)
}

pub fn for_registration(
    conn: &mut DbConnection,
    registration_id: &str,
) -> Result<Vec<Consent>, DbError> {
    Ok(consents::table
        .filter(consents::registration_id.eq(registration_id))
        .order(consents::given_at.asc())
        .select(Consent::as_select())
        .load(conn)?)
}

/// What happened when the configured consent text was registered.
#[derive(Debug, PartialEq, Eq)]
pub enum ConsentTextCheck {
    Recorded,
    Unchanged,
    /// The version exists with other words: refuse to start.
    ChangedUnderOldVersion,
}

/// Keeps each version's text; a changed text must come with a new version.
pub fn register_text(
    conn: &mut DbConnection,
    version: &str,
    body: &str,
    now: NaiveDateTime,
) -> Result<ConsentTextCheck, DbError> {
    let stored: Option<String> = consent_texts::table
        .find(version)
        .select(consent_texts::body)
        .first(conn)
        .optional()?;
    match stored {
        Some(existing) if existing == body => Ok(ConsentTextCheck::Unchanged),
        Some(_) => Ok(ConsentTextCheck::ChangedUnderOldVersion),
        None => {
            diesel::insert_into(consent_texts::table)
                .values((
                    consent_texts::version.eq(version),
                    consent_texts::body.eq(body),
                    consent_texts::first_used_at.eq(now),
                ))
                .execute(conn)?;
            Ok(ConsentTextCheck::Recorded)
        }
    }
}
