//! Storage: migrations up → down → up, and a non-loopback client for /metrics.

use crate::helpers::{Backend, TestDatabase, count};
use crate::on_both_backends;
use rollcall::db::migrations;

on_both_backends!(migrations_go_up_down_and_up_again);

async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let database = TestDatabase::create(backend);
    let mut conn = database.connect();
    assert!(migrations::run_pending(&mut conn).unwrap() >= 1);
    let tables = table_count(&mut conn, backend);
    assert!(tables >= 8, "{tables} tables after up");
    migrations::revert_all(&mut conn).unwrap();
    assert_eq!(table_count(&mut conn, backend), 0);
    assert!(migrations::run_pending(&mut conn).unwrap() >= 1);
    assert_eq!(table_count(&mut conn, backend), tables);
}

/// Our tables, not counting diesel's own bookkeeping table.
fn table_count(conn: &mut rollcall::db::DbConnection, backend: Backend) -> i64 {
    match backend {
        Backend::Sqlite => count(
            conn,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
        ),
        Backend::Postgres => count(
            conn,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        ),
    }
}
