//! Connections and the pool. The backend is picked from the parsed URL, never by
//! trying each driver in turn (which would hide the real connection error).

use super::DbError;
use crate::configuration::DatabaseUrl;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use std::time::Duration;

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Pragmas every SQLite connection gets when it is opened: durability (a 2xx
/// survives a power cut), foreign keys, waiting rather than failing on a lock,
/// and zeroing deleted content so an erased address leaves no bytes behind.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
    PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;";

/// Opens one connection to the database the URL names.
pub fn connect(url: &DatabaseUrl) -> Result<DbConnection, DbError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            create_private_file(path)?;
            let path = path.to_string_lossy();
            let mut conn =
                SqliteConnection::establish(&path).map_err(|e| DbError::Connect(e.to_string()))?;
            conn.batch_execute(SQLITE_PRAGMAS)?;
            Ok(DbConnection::Sqlite(conn))
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn =
                PgConnection::establish(url).map_err(|e| DbError::Connect(e.to_string()))?;
            conn.batch_execute("SET synchronous_commit = on; SET TIME ZONE 'UTC';")?;
            Ok(DbConnection::Postgres(conn))
        }
    }
}

/// Creates the database file (and its folder) readable by the owner only,
/// before SQLite does; SQLite gives its WAL and shared-memory files the
/// database file's permissions.
fn create_private_file(path: &std::path::Path) -> Result<(), DbError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let failed = |what: &std::path::Path, e: std::io::Error| {
        DbError::Connect(format!("cannot create {}: {e}", what.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| failed(parent, e))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(failed(path, e)),
    }
}

/// r2d2 manager that opens connections with [`connect`].
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        connect(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Builds the pool without opening connections up front; the first use connects.
pub fn open_pool(url: &DatabaseUrl, max_connections: u32) -> Pool {
    r2d2::Pool::builder()
        .max_size(max_connections.max(1))
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        // A PostgreSQL connection can die with its server; SQLite's cannot.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
        .build_unchecked(Manager { url: url.clone() })
}
