//! The export streams: the `rollcall` binary, as a child process with its own
//! RSS, exports 200,000 registrations and its peak memory (VmHWM) grows by less
//! than 32 MiB; a client that goes away stops the export, recorded as partial.
//! A memory test, not a timing test.

use crate::helpers::{Backend, TestDatabase, count, seed_registrations};
use crate::on_both_backends;
use crate::processes::RollcallProcess;
use rollcall::db::{self, DbConnection};
use std::time::{Duration, Instant};

on_both_backends!(exporting_200_000_registrations_keeps_memory_flat_and_a_dropped_client_stops_it);

const ROWS: i64 = 200_000;
const TOKEN: &str = "rc_memory-test-token";

fn seed(conn: &mut DbConnection) {
    db::migrations::run_pending(conn).unwrap();
    seed_registrations(conn, ROWS);
    let hash = rollcall::organisers::passwords::hash("a long organiser password").unwrap();
    let now = chrono::Utc::now().naive_utc();
    let id = db::organisers::insert(
        conn,
        "organiser@example.org",
        "organiser@example.org",
        &hash,
        now,
    )
    .unwrap()
    .unwrap();
    db::organisers::add_token(conn, &id, &rollcall::crypto::token_hash(TOKEN), now).unwrap();
}

async fn exporting_200_000_registrations_keeps_memory_flat_and_a_dropped_client_stops_it(
    backend: Backend,
) {
    let database = TestDatabase::create(backend);
    seed(&mut database.connect());
    let (server, base) = RollcallProcess::server(&database.raw_url, &[]).await;
    let client = reqwest::Client::new();
    let export = |query: &str| {
        client
            .get(format!("{base}/admin/export.csv{query}"))
            .bearer_auth(TOKEN)
            .send()
    };
    // Warm up every code path on an empty result first.
    export("?status=all&since=2100-01-01")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let before = server.peak_rss_kib();

    let mut response = export("?status=all").await.unwrap();
    assert_eq!(response.status(), 200);
    let mut lines = 0usize;
    while let Some(chunk) = response.chunk().await.unwrap() {
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(lines as i64, ROWS + 1, "header and every row");
    let growth_mib = (server.peak_rss_kib().saturating_sub(before)) as f64 / 1024.0;
    println!("export of {ROWS} rows: peak RSS grew by {growth_mib:.1} MiB");
    assert!(growth_mib < 32.0, "peak RSS grew by {growth_mib:.1} MiB");

    // A client that reads one chunk and leaves.
    let mut response = export("?status=all").await.unwrap();
    response.chunk().await.unwrap();
    drop(response);
    let mut conn = database.connect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(
        &mut conn,
        "SELECT COUNT(*) FROM exports WHERE outcome = 'partial'",
    ) == 0
    {
        assert!(
            Instant::now() < deadline,
            "the abandoned export was not recorded as partial"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) FROM exports WHERE outcome = 'partial' AND row_count < {ROWS}"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) FROM exports WHERE outcome = 'complete'"
        ),
        2
    );
}
