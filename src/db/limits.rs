//! The buckets of `web::buckets` in the database (`limit_buckets`), so that every
//! instance on one PostgreSQL enforces one limit. Each take is one statement:
//! an upsert that applies GCRA (the same rule as `web::buckets::Gcra::take`) to
//! the row under its lock and returns the answer, so concurrent takes queue on
//! the row instead of racing.

use super::{DbConnection, DbError};
use crate::limits::buckets::Gcra;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = BigInt)]
    tat: i64,
    #[diesel(sql_type = Bool)]
    taken: bool,
}

/// Takes one from each bucket (`keys` are already hashed): per key `Ok(())`,
/// or `Err(ms)` until a take would succeed.
pub fn take(
    conn: &mut DbConnection,
    keys: &[String],
    now_ms: i64,
    rule: Gcra,
) -> Result<Vec<Result<(), i64>>, DbError> {
    let greatest = match conn {
        DbConnection::Postgres(_) => "GREATEST",
        DbConnection::Sqlite(_) => "MAX",
    };
    let sql = format!(
        "INSERT INTO limit_buckets AS b (key, tat, taken) VALUES ($1, $2 + $3, TRUE) \
         ON CONFLICT (key) DO UPDATE SET \
           taken = {greatest}(b.tat, $2) - $2 <= $4, \
           tat = CASE WHEN {greatest}(b.tat, $2) - $2 <= $4 THEN {greatest}(b.tat, $2) + $3 ELSE b.tat END \
         RETURNING tat, taken"
    );
    keys.iter()
        .map(|key| {
            let query = diesel::sql_query(&sql)
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(now_ms)
                .bind::<BigInt, _>(rule.interval_ms)
                .bind::<BigInt, _>(rule.tolerance_ms);
            let row: Taken = match conn {
                DbConnection::Postgres(c) => query.get_result(c),
                DbConnection::Sqlite(c) => query.get_result(c),
            }?;
            Ok(if row.taken {
                Ok(())
            } else {
                Err((row.tat - rule.tolerance_ms - now_ms).max(1))
            })
        })
        .collect()
}

/// Undoes one take (by one interval).
pub fn give_back(conn: &mut DbConnection, key: &str, interval_ms: i64) -> Result<(), DbError> {
    let query = diesel::sql_query("UPDATE limit_buckets SET tat = tat - $1 WHERE key = $2")
        .bind::<BigInt, _>(interval_ms)
        .bind::<Text, _>(key);
    match conn {
        DbConnection::Postgres(c) => query.execute(c),
        DbConnection::Sqlite(c) => query.execute(c),
    }?;
    Ok(())
}

/// Deletes one bucket (full again).
pub fn forget(conn: &mut DbConnection, key: &str) -> Result<(), DbError> {
    let query = diesel::sql_query("DELETE FROM limit_buckets WHERE key = $1").bind::<Text, _>(key);
    match conn {
        DbConnection::Postgres(c) => query.execute(c),
        DbConnection::Sqlite(c) => query.execute(c),
    }?;
    Ok(())
}

/// Deletes every bucket that is full again; returns how many.
pub fn forget_full(conn: &mut DbConnection, now_ms: i64) -> Result<usize, DbError> {
    let query =
        diesel::sql_query("DELETE FROM limit_buckets WHERE tat <= $1").bind::<BigInt, _>(now_ms);
    Ok(match conn {
        DbConnection::Postgres(c) => query.execute(c),
        DbConnection::Sqlite(c) => query.execute(c),
    }?)
}
