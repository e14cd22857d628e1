//! Organiser accounts, their bearer tokens and their browser sessions.

use super::schema::{organiser_tokens, organisers, sessions};
use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisers)]
pub struct Organiser {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Adds an organiser; `None` if the address already has an account.
pub fn insert(
    conn: &mut DbConnection,
    email: &str,
    email_key: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, DbError> {
    if find_by_email_key(conn, email_key)?.is_some() {
        return Ok(None);
    }
    let id = super::new_id();
    diesel::insert_into(organisers::table)
        .values((
            organisers::id.eq(&id),
            organisers::email.eq(email),
            organisers::email_key.eq(email_key),
            organisers::password_hash.eq(password_hash),
            organisers::created_at.eq(now),
            organisers::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(Some(id))
}

pub fn find_by_email_key(
    conn: &mut DbConnection,
    email_key: &str,
) -> Result<Option<Organiser>, DbError> {
    Ok(organisers::table
        .filter(organisers::email_key.eq(email_key))
        .select(Organiser::as_select())
        .get_result(conn)
        .optional()?)
}

/// The organisers with these ids (one query; the worker's batch).
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<Organiser>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(organisers::table
        .filter(organisers::id.eq_any(ids))
        .select(Organiser::as_select())
        .load(conn)?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Organiser>, DbError> {
    Ok(organisers::table
        .order(organisers::email_key.asc())
        .select(Organiser::as_select())
        .load(conn)?)
}

/// Sets a new password and ends every session of the account.
pub fn set_password(
    conn: &mut DbConnection,
    id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(organisers::table.find(id))
        .set((
            organisers::password_hash.eq(password_hash),
            organisers::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::organiser_id.eq(id))).execute(conn)?;
    Ok(())
}

/// Removes an account; its tokens and sessions go with it.
pub fn remove(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(organisers::table.find(id)).execute(conn)? == 1)
}

pub fn add_token(
    conn: &mut DbConnection,
    organiser_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(organiser_tokens::table)
        .values((
            organiser_tokens::id.eq(super::new_id()),
            organiser_tokens::organiser_id.eq(organiser_id),
            organiser_tokens::token_hash.eq(token_hash),
            organiser_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Revokes every live token of an account; returns how many.
pub fn revoke_tokens(
    conn: &mut DbConnection,
    organiser_id: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        organiser_tokens::table
            .filter(organiser_tokens::organiser_id.eq(organiser_id))
            .filter(organiser_tokens::revoked_at.is_null()),
    )
    .set(organiser_tokens::revoked_at.eq(now))
    .execute(conn)?)
}

/// How many live tokens an account has.
pub fn live_token_count(conn: &mut DbConnection, organiser_id: &str) -> Result<i64, DbError> {
    Ok(organiser_tokens::table
        .filter(organiser_tokens::organiser_id.eq(organiser_id))
        .filter(organiser_tokens::revoked_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The organiser a live bearer token belongs to.
pub fn by_token(conn: &mut DbConnection, token_hash: &str) -> Result<Option<Organiser>, DbError> {
    Ok(organiser_tokens::table
        .inner_join(organisers::table)
        .filter(organiser_tokens::token_hash.eq(token_hash))
        .filter(organiser_tokens::revoked_at.is_null())
        .select(Organiser::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn create_session(
    conn: &mut DbConnection,
    id_hash: &str,
    organiser_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(id_hash),
            sessions::organiser_id.eq(organiser_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The organiser of an unexpired session.
pub fn by_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Organiser>, DbError> {
    Ok(sessions::table
        .inner_join(organisers::table)
        .filter(sessions::id_hash.eq(id_hash))
        .filter(sessions::expires_at.gt(now))
        .select(Organiser::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}
