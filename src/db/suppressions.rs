//! Keyed hashes of erased addresses, so an import cannot bring them back.

use super::schema::suppressions;
use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn insert(
    conn: &mut DbConnection,
    email_hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if !contains(conn, email_hash)? {
        diesel::insert_into(suppressions::table)
            .values((
                suppressions::email_hash.eq(email_hash),
                suppressions::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn contains(conn: &mut DbConnection, email_hash: &str) -> Result<bool, DbError> {
    Ok(
        diesel::select(diesel::dsl::exists(suppressions::table.find(email_hash)))
            .get_result(conn)?,
    )
}

/// A new signup by the person lifts their suppression.
pub fn remove(conn: &mut DbConnection, email_hash: &str) -> Result<(), DbError> {
    diesel::delete(suppressions::table.find(email_hash)).execute(conn)?;
    Ok(())
}

/// The same for a batch of signups, with one statement.
pub fn remove_all(conn: &mut DbConnection, email_hashes: &[String]) -> Result<(), DbError> {
    diesel::delete(suppressions::table.filter(suppressions::email_hash.eq_any(email_hashes)))
        .execute(conn)?;
    Ok(())
}
