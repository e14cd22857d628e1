//! Storage. All SQL and every backend difference live in this module: nothing
//! outside it names a diesel table. The backend is chosen from the URL scheme by
//! our own code; SQLite connections get their pragmas on acquire, and every write
//! transaction on SQLite is `BEGIN IMMEDIATE`.
//!
//! Lookups by a unique key use `get_result`, not `first`: `first` binds
//! `LIMIT ?`, and SQLite (3.53, bundled) re-prepares a statement whose LIMIT is
//! a bound parameter every time it is bound, which defeats diesel's statement
//! cache (it was a quarter of a signup's time in the writer).

pub mod aggregates;
pub mod announcements;
pub mod attempts;
pub mod audience;
pub mod bounces;
pub mod bound_details;
pub mod codes;
mod connection;
pub mod consents;
pub mod deliveries;
pub mod digests;
pub mod erasure;
pub mod export_rows;
pub mod imap_state;
pub mod imports;
pub mod ledger;
pub mod lifecycle;
pub mod limits;
pub mod migrations;
pub mod notices;
pub mod organisers;
pub mod outbox;
pub mod pacing;
pub mod people;
pub mod registrations;
pub mod relay;
pub mod requests;
pub mod schema;
pub mod signups;
pub mod suppressions;
pub mod tokens;
pub mod writer;

pub use connection::{Backend, DbConnection, Pool, PooledConnection, connect, open_pool};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error as QueryError;

/// Errors from the storage layer. Expected outcomes are values, not errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed")]
    Query(#[from] QueryError),
    #[error("no database connection available")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("could not connect to the database: {0}")]
    Connect(String),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("the database writer is not running")]
    WriterGone,
    #[error("the write queue is full")]
    QueueFull,
    #[error("a blocking database task failed")]
    Join,
}

impl DbError {
    /// Whether this failure means "try again later" (503) rather than a fault (500).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DbError::Pool(_) | DbError::Connect(_) | DbError::QueueFull | DbError::WriterGone
        ) || matches!(
            self,
            DbError::Query(QueryError::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection
                    | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                _
            ))
        ) || matches!(
            // SQLite answers "database is locked" once busy_timeout has passed.
            self,
            DbError::Query(QueryError::DatabaseError(_, info)) if info.message().contains("database is locked")
        )
    }
}

/// Runs `work` as one write transaction: `BEGIN IMMEDIATE` on SQLite (so writers
/// queue on the lock instead of failing with SQLITE_BUSY mid-transaction), a plain
/// `BEGIN` on PostgreSQL. Nested `conn.transaction` calls inside become savepoints.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<QueryError>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match work(conn) {
        Ok(value) => match commit(conn) {
            Ok(()) => Ok(value),
            Err(error) => {
                // The transaction may still be open after a failed COMMIT.
                let _ = rollback(conn);
                Err(error.into())
            }
        },
        Err(error) => {
            let _ = rollback(conn);
            Err(error)
        }
    }
}

fn commit(conn: &mut DbConnection) -> Result<(), QueryError> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
        DbConnection::Postgres(c) => AnsiTransactionManager::commit_transaction(c),
    }
}

fn rollback(conn: &mut DbConnection) -> Result<(), QueryError> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConnection::Postgres(c) => AnsiTransactionManager::rollback_transaction(c),
    }
}

/// Runs blocking database work off the async threads.
pub async fn blocking<T, F>(pool: &Pool, work: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await
    .map_err(|_| DbError::Join)?
}

/// Whether the database answers a query: `/ready`'s check.
pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    Ok(conn.batch_execute("SELECT 1")?)
}

/// Inserts a slice of `Insertable` rows as one multi-row statement on either
/// backend (a one-row slice is the ordinary single insert).
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let statement = diesel::insert_into($table).values($rows);
        match $conn {
            $crate::db::DbConnection::Sqlite(c) => diesel::RunQueryDsl::execute(statement, c),
            $crate::db::DbConnection::Postgres(c) => diesel::RunQueryDsl::execute(statement, c),
        }
    }};
}
pub(crate) use insert_rows;

/// A new random row id (UUIDv7: time-ordered, so keyset pages follow insertion).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
