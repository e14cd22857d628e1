//! Embedded migrations, one folder per backend with the same names. On PostgreSQL
//! they run under an advisory lock so several instances can start at once.

use super::{DbConnection, DbError};
use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// An arbitrary constant naming rollcall's migration lock.
const MIGRATION_LOCK_KEY: i64 = 0x726f_6c6c_6361_6c6c;

/// Applies every pending migration; returns how many ran.
pub fn run_pending(conn: &mut DbConnection) -> Result<usize, DbError> {
    match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE)
            .map(|applied| applied.len())
            .map_err(|e| DbError::Migration(e.to_string())),
        DbConnection::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|applied| applied.len())
                .map_err(|e| DbError::Migration(e.to_string()));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            result
        }
    }
}

/// Reverts every applied migration (used by tests: up → down → up).
pub fn revert_all(conn: &mut DbConnection) -> Result<(), DbError> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()),
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map(|_| ()),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}
