//! Token rows. A row holds SHA-256(token) and never the token itself: the token
//! is re-derived from the row id and the secret key when a message is rendered.

use super::schema::tokens::{self, dsl};
use super::{DbConnection, DbError};
use crate::crypto::{Keys, TokenPurpose, token_hash};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A token row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    pub id: String,
    pub registration_id: String,
    pub purpose: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub used_at: Option<NaiveDateTime>,
}

impl TokenRow {
    pub fn is_expired(&self, now: NaiveDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A token row to insert: the hash of a token derived from its id.
#[derive(Debug, Insertable)]
#[diesel(table_name = tokens, treat_none_as_default_value = false)]
pub struct NewToken<'a> {
    pub id: String,
    registration_id: &'a str,
    purpose: &'static str,
    token_hash: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

impl<'a> NewToken<'a> {
    pub fn new(
        keys: &Keys,
        registration_id: &'a str,
        purpose: TokenPurpose,
        now: NaiveDateTime,
        expires_at: Option<NaiveDateTime>,
    ) -> Self {
        let id = super::new_id();
        let token_hash = token_hash(&keys.token(purpose, &id));
        NewToken {
            id,
            registration_id,
            purpose: purpose.as_str(),
            token_hash,
            created_at: now,
            expires_at,
        }
    }
}

/// Inserts token rows with one statement.
pub fn insert_all(conn: &mut DbConnection, rows: &[NewToken<'_>]) -> Result<(), DbError> {
    super::insert_rows!(conn, dsl::tokens, rows)?;
    Ok(())
}

/// Creates a token row and returns its id.
pub fn create(
    conn: &mut DbConnection,
    keys: &Keys,
    registration_id: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
) -> Result<String, DbError> {
    let row = NewToken::new(keys, registration_id, purpose, now, expires_at);
    insert_all(conn, std::slice::from_ref(&row))?;
    Ok(row.id)
}

/// Finds the row for a presented token of the given purpose.
pub fn find(
    conn: &mut DbConnection,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Option<TokenRow>, DbError> {
    Ok(dsl::tokens
        .filter(dsl::token_hash.eq(token_hash(token)))
        .filter(dsl::purpose.eq(purpose.as_str()))
        .select(TokenRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Confirmation tokens of a registration that are unused and unexpired.
pub fn live_confirm_ids(
    conn: &mut DbConnection,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, DbError> {
    Ok(dsl::tokens
        .filter(dsl::registration_id.eq(registration_id))
        .filter(dsl::purpose.eq(TokenPurpose::Confirm.as_str()))
        .filter(dsl::used_at.is_null())
        .filter(dsl::expires_at.gt(now))
        .select(dsl::id)
        .load(conn)?)
}

/// Confirmation tokens of a registration that have not expired, used or not:
/// a right code still answers "confirmed" after the link was used.
pub fn unexpired_confirm_ids(
    conn: &mut DbConnection,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, DbError> {
    Ok(dsl::tokens
        .filter(dsl::registration_id.eq(registration_id))
        .filter(dsl::purpose.eq(TokenPurpose::Confirm.as_str()))
        .filter(dsl::expires_at.gt(now))
        .select(dsl::id)
        .load(conn)?)
}

/// Spends every unused token of a purpose for a registration.
pub fn spend_all(
    conn: &mut DbConnection,
    registration_id: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        dsl::tokens
            .filter(dsl::registration_id.eq(registration_id))
            .filter(dsl::purpose.eq(purpose.as_str()))
            .filter(dsl::used_at.is_null()),
    )
    .set(dsl::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// The registration's unsubscribe token id, created on first need (they never expire).
pub fn unsubscribe_token_id(
    conn: &mut DbConnection,
    keys: &Keys,
    registration_id: &str,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let existing: Option<String> = dsl::tokens
        .filter(dsl::registration_id.eq(registration_id))
        .filter(dsl::purpose.eq(TokenPurpose::Unsubscribe.as_str()))
        .select(dsl::id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => Ok(id),
        None => create(
            conn,
            keys,
            registration_id,
            TokenPurpose::Unsubscribe,
            now,
            None,
        ),
    }
}
