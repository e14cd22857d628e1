//! Abuse resistance: forwarded addresses cannot pick a fresh bucket, simultaneous
//! wrong logins are throttled before the hash and bounded in memory, limits hold
//! across instances on PostgreSQL, slow bodies are cut, hostile query values
//! answer without a 5xx, and every page carries the security headers.

use crate::helpers::{
    Backend, TestDatabase, extract_csrf, spawn_app, spawn_app_with, test_settings, valid_json,
};
use crate::on_both_backends;
use crate::processes::RollcallProcess;
use rollcall::clock::SharedClock;
use rollcall::startup::Application;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_backends!(
    forwarded_entries_with_ports_or_garbage_share_one_bucket,
    forty_simultaneous_wrong_logins_get_at_most_five_401s,
    a_next_with_a_control_character_is_ignored_without_a_5xx,
    dashboard_dates_beyond_a_hundred_years_are_refused_without_a_5xx,
    every_page_carries_the_security_headers_and_head_is_answered,
    a_slow_body_is_cut_with_408,
    full_buckets_are_forgotten_by_the_housekeeping,
    a_client_over_the_limit_is_refused_before_its_body_arrives,
);

const ORGANISER: &str = "organiser@example.org";
const PASSWORD: &str = "correct horse battery staple";

fn limited() -> serde_json::Value {
    json!({
        "rate_limit": {"enabled": true, "per_ip_per_minute": 10, "burst": 5},
        "server": {"trusted_proxies": ["127.0.0.1"]},
    })
}

async fn forwarded_entries_with_ports_or_garbage_share_one_bucket(backend: Backend) {
    let app = spawn_app_with(backend, limited()).await;
    let mut accepted = 0;
    for i in 0..8 {
        let response = app
            .client
            .post(app.url("/api/v1/subscriptions"))
            .header("x-forwarded-for", format!("10.8.8.{i}, 203.0.113.8:5000"))
            .json(&valid_json(&format!("port{i}@example.org")))
            .send()
            .await
            .unwrap();
        accepted += usize::from(response.status() == 202);
    }
    assert_eq!(
        accepted, 5,
        "one client, one bucket of 5, whatever the port"
    );
    for (i, header) in ["unknown", "203.0.113.1, unknown", "not-an-ip:80"]
        .iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        let response = app
            .client
            .post(app.url("/api/v1/subscriptions"))
            .header("x-forwarded-for", *header)
            .json(&valid_json(&format!("garbage{i}@example.org")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            if i < 5 { 202 } else { 429 },
            "request {i} with {header:?}"
        );
    }
    let v6 = |i: usize| format!("[2001:db8:1:2::{i:x}]:443");
    let mut accepted = 0;
    for i in 0..8 {
        let response = app
            .client
            .post(app.url("/api/v1/subscriptions"))
            .header("x-forwarded-for", v6(i + 1))
            .json(&valid_json(&format!("v6-{i}@example.org")))
            .send()
            .await
            .unwrap();
        accepted += usize::from(response.status() == 202);
    }
    assert_eq!(accepted, 5, "one IPv6 /64, one bucket");
}

async fn forty_simultaneous_wrong_logins_get_at_most_five_401s(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser(ORGANISER, PASSWORD);
    let token = app.login_form_token().await;
    let attempts = (0..40).map(|i| {
        let (client, url, token) = (app.client.clone(), app.url("/admin/login"), token.clone());
        tokio::spawn(async move {
            let form = [
                ("email", ORGANISER.to_owned()),
                ("password", format!("wrong guess {i}")),
                ("csrf_token", token),
            ];
            client.post(url).form(&form).send().await.unwrap().status()
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|s| s.unwrap().as_u16())
        .collect();
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(wrong <= 5, "{wrong} were checked: {statuses:?}");
    assert_eq!(wrong + throttled, 40, "{statuses:?}");
}

async fn a_next_with_a_control_character_is_ignored_without_a_5xx(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser(ORGANISER, PASSWORD);
    for byte in (0u8..0x20).chain([0x7f]) {
        let encoded = format!("/admin/%{byte:02X}");
        let form = app
            .client
            .get(app.url(&format!("/admin/login?next={encoded}")))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200, "login form with next={encoded}");
        let token = extract_csrf(&form.text().await.unwrap()).unwrap();
        let next = char::from(byte).to_string();
        let next = format!("/admin/{next}");
        let response = app
            .post_form(
                "/admin/login",
                &[
                    ("email", ORGANISER),
                    ("password", PASSWORD),
                    ("csrf_token", &token),
                    ("next", &next),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "login with next={encoded}");
        assert_eq!(response.headers()["location"], "/admin");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions"),
        33,
        "one session per login, none orphaned"
    );
}

async fn dashboard_dates_beyond_a_hundred_years_are_refused_without_a_5xx(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser(ORGANISER, PASSWORD);
    assert_eq!(app.log_in(ORGANISER, PASSWORD).await.status(), 303);
    for (date, expected) in [
        ("%2B262142-12-31", 422),
        ("-262143-01-01", 422),
        ("2127-11-27", 422),
        ("1925-01-01", 422),
        ("2126-11-25", 200),
        ("1927-01-01", 200),
        ("2026-02-30", 400),
        ("%2B999999999-01-01", 400),
        ("%FF", 400),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/admin?date={date}")))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        // Beyond chrono's own range a date cannot even be read: 400 is as good as 422.
        let readable_or_not = expected == 422 && status == 400 && date.starts_with('-');
        assert!(
            status == expected || readable_or_not,
            "date={date}: {status}"
        );
    }
}

async fn every_page_carries_the_security_headers_and_head_is_answered(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser(ORGANISER, PASSWORD);
    for path in [
        "/",
        "/subscriptions/check",
        "/subscriptions/manage/sent",
        "/privacy",
        "/admin/login",
        "/nowhere",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for part in [
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
            "script-src 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        let scripts = csp.split(';').find(|d| d.contains("script-src")).unwrap();
        assert!(!scripts.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "http: {path}"
        );
    }
    assert_eq!(app.log_in(ORGANISER, PASSWORD).await.status(), 303);
    for path in ["/admin", "/admin/export.csv", "/admin/login"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    let token_page = app
        .client
        .get(app.url("/unsubscribe?token=unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(token_page.headers()["referrer-policy"], "no-referrer");
    for path in ["/", "/health", "/privacy", "/admin"] {
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path}: no body"
        );
    }
}

async fn a_slow_body_is_cut_with_408(backend: Backend) {
    let app = spawn_app_with(backend, json!({"server": {"body_timeout_secs": 2}})).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /subscriptions HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 16000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        // One byte a second until the server stops listening.
        while writer.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buffer)).await;
        let n = read.expect("no answer within 30 s").unwrap();
        assert!(
            n > 0,
            "closed without an answer after {:?}",
            started.elapsed()
        );
        answer.extend_from_slice(&buffer[..n]);
    }
    let answered_after = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answered_after < Duration::from_secs(4),
        "408 after {answered_after:?}"
    );
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut rest)).await;
    trickle.abort();
    assert!(closed.is_ok(), "the connection stayed open after the 408");
    // An HTML page, as every error outside /api/.
    let whole = format!("{answer}{}", String::from_utf8_lossy(&rest)).to_lowercase();
    assert!(whole.contains("content-type: text/html"), "{whole}");
    assert!(whole.contains("<html lang=\"en\">"), "{whole}");
}

async fn a_client_over_the_limit_is_refused_before_its_body_arrives(backend: Backend) {
    let app = spawn_app_with(backend, limited()).await;
    for i in 0..5 {
        let response = app
            .post_json(&valid_json(&format!("early{i}@example.org")))
            .await;
        assert_eq!(response.status(), 202);
    }
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/subscriptions HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\nContent-Length: 16000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    let read = tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut answer)).await;
    assert!(read.is_ok(), "no answer while the body was outstanding");
    assert_eq!(&answer, b"HTTP/1.1 429");
}

/// Throttle and rate-limit entries expire: a bucket that is full again is
/// deleted by the sweep (rows on PostgreSQL; SQLite keeps none in the database).
async fn full_buckets_are_forgotten_by_the_housekeeping(backend: Backend) {
    let app = spawn_app_with(backend, limited()).await;
    app.add_organiser(ORGANISER, PASSWORD);
    assert_eq!(
        app.post_json(&valid_json("one@example.org")).await.status(),
        202
    );
    assert_eq!(app.log_in(ORGANISER, "a wrong guess").await.status(), 401);
    let stored = app.count("SELECT COUNT(*) FROM limit_buckets");
    match backend {
        Backend::Postgres => assert_eq!(stored, 3, "signup, login address, login account"),
        Backend::Sqlite => assert_eq!(stored, 0, "in the process on SQLite"),
    }
    app.clock.advance(chrono::Duration::minutes(2));
    app.state.retention().sweep().await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM limit_buckets"),
        if backend == Backend::Postgres { 2 } else { 0 },
        "the signup bucket is full again; the login ones are not yet"
    );
    app.clock.advance(chrono::Duration::minutes(4));
    app.state.retention().sweep().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM limit_buckets"), 0);
    assert_eq!(
        app.log_in(ORGANISER, PASSWORD).await.status(),
        303,
        "and the limits start afresh"
    );
}

/// Two instances on one PostgreSQL share the client's bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_share_one_rate_limit() {
    if !crate::helpers::postgres_available("abuse::two_instances_on_postgres_share_one_rate_limit")
    {
        return;
    }
    let first = spawn_app_with(Backend::Postgres, limited()).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = test_settings(&first.database, port, first.smtp.port(), limited());
    let clock: SharedClock = Arc::new(first.clock.clone());
    let second = Application::build_on(settings, clock, listener)
        .await
        .unwrap();
    tokio::spawn(second.run_until_stopped());
    let instances = [first.address.clone(), format!("http://127.0.0.1:{port}")];
    let mut accepted = 0;
    for i in 0..20 {
        let response = first
            .client
            .post(format!("{}/api/v1/subscriptions", instances[i % 2]))
            .json(&valid_json(&format!("shared{i}@example.org")))
            .send()
            .await
            .unwrap();
        accepted += usize::from(response.status() == 202);
    }
    assert!(
        accepted <= 6,
        "{accepted} of 20 accepted across two instances"
    );
    assert!(accepted >= 5, "the burst itself is allowed: {accepted}");
    let stored = first
        .count("SELECT COUNT(*) FROM limit_buckets WHERE key LIKE '%203.0%' OR key LIKE '%127.0%'");
    assert_eq!(stored, 0, "bucket keys are keyed hashes, not addresses");
}

on_both_backends!(simultaneous_logins_keep_the_servers_memory_bounded);

/// The real binary, with two password checks at once: 40 simultaneous wrong
/// logins grow its peak RSS by less than 100 MiB.
async fn simultaneous_logins_keep_the_servers_memory_bounded(backend: Backend) {
    let database = TestDatabase::create(backend);
    {
        let mut conn = database.connect();
        rollcall::db::migrations::run_pending(&mut conn).unwrap();
        let hash = rollcall::organisers::passwords::hash(PASSWORD).unwrap();
        let now = chrono::Utc::now().naive_utc();
        rollcall::db::organisers::insert(&mut conn, ORGANISER, ORGANISER, &hash, now)
            .unwrap()
            .unwrap();
    }
    let checks = [(
        "ROLLCALL__ADMIN__MAX_CONCURRENT_PASSWORD_CHECKS",
        "2".to_owned(),
    )];
    let (server, base) = RollcallProcess::server(&database.raw_url, &checks).await;
    let client = crate::helpers::client();
    let page = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = extract_csrf(&page).unwrap();
    let before = server.peak_rss_kib();
    let attempts = (0..40).map(|i| {
        let (client, url, token) = (client.clone(), format!("{base}/admin/login"), token.clone());
        tokio::spawn(async move {
            let form = [
                ("email", ORGANISER.to_owned()),
                ("password", format!("wrong guess {i}")),
                ("csrf_token", token),
            ];
            client
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 401).count() <= 5,
        "{statuses:?}"
    );
    let growth_mib = (server.peak_rss_kib().saturating_sub(before)) as f64 / 1024.0;
    println!("40 simultaneous logins: peak RSS grew by {growth_mib:.1} MiB");
    assert!(growth_mib < 100.0, "peak RSS grew by {growth_mib:.1} MiB");
}
