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

/// Inserts a consent row and returns its id.
pub fn insert(
    conn: &mut DbConnection,
    registration_id: &str,
    evidence: &ConsentEvidence,
    given_at: NaiveDateTime,
) -> Result<String, DbError> {
    let id = super::new_id();
    diesel::insert_into(consents::table)
        .values((
            consents::id.eq(&id),
            consents::registration_id.eq(registration_id),
            consents::given_at.eq(given_at),
            consents::ip.eq(evidence.ip.as_deref()),
            consents::user_agent.eq(evidence.user_agent.as_deref()),
            consents::text_version.eq(&evidence.text_version),
            consents::source.eq(&evidence.source),
        ))
        .execute(conn)?;
    Ok(id)
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
