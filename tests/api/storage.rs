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

/// PostgreSQL restarts or kills connections: the writer and the pool reconnect,
/// and no signup is answered with a 5xx other than a 503 while it happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signups_survive_postgres_killing_every_connection() {
    if !crate::helpers::postgres_available(
        "storage::signups_survive_postgres_killing_every_connection",
    ) {
        return;
    }
    let app = crate::helpers::spawn_app(Backend::Postgres).await;
    assert_eq!(
        app.post_json(&crate::helpers::valid_json("before@example.org"))
            .await
            .status(),
        202
    );
    let admin = std::env::var("ROLLCALL_TEST_DATABASE_URL").unwrap();
    let mut killer = <diesel::PgConnection as diesel::Connection>::establish(&admin).unwrap();
    let database = app
        .database
        .raw_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        )),
        &mut killer,
    )
    .unwrap();
    let after = app
        .post_json(&crate::helpers::valid_json("after@example.org"))
        .await;
    assert_eq!(
        after.status(),
        202,
        "the writer reconnects and retries the batch"
    );
    assert_eq!(
        app.client
            .get(app.url("/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 2);
}
