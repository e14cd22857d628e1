//! Erasure erases: after `rollcall erase` and after the admin Erase button, no
//! live row mentions the address, and on SQLite its bytes (as typed and
//! lower-cased) are in neither the database file nor its WAL. Data files and
//! their folder are the owner's only.

use crate::helpers::{
    Backend, TestApp, extract_csrf, spawn_app, text_columns_containing, token_of,
};
use crate::on_both_backends;
use chrono::Duration;
use rollcall::configuration::DatabaseUrl;
use std::os::unix::fs::PermissionsExt;

on_both_backends!(
    rollcall_erase_leaves_no_bytes_of_the_address,
    the_admin_erase_button_leaves_no_bytes_of_the_address,
);

const TYPED: &str = "Erin.Eraseme@Example.org";
const PASSWORD: &str = "correct horse battery staple";

/// Leaves the address in as many rows as the public pages can: a registration
/// updated several times, consents, signup attempts, request rows, tokens and
/// their bound details, outbox rows and delivery attempts.
async fn a_busy_member(app: &TestApp) {
    app.sign_up(TYPED).await;
    app.deliver().await;
    app.clock.advance(Duration::hours(1));
    app.sign_up("erin.eraseme@example.org").await;
    app.deliver().await;
    let token = token_of(&app.confirmation_link("erin.eraseme@example.org"));
    app.post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    app.deliver().await;
    app.clock.advance(Duration::hours(1));
    app.sign_up(TYPED).await;
    app.post_email_form("/subscriptions/resend", TYPED).await;
    app.post_email_form("/subscriptions/manage", TYPED).await;
    app.deliver().await;
    // Someone else stays, so the pages the address used get reused.
    app.sign_up("someone.else@example.org").await;
    app.deliver().await;
    assert!(!text_columns_containing(&mut app.db(), TYPED).is_empty());
}

fn assert_erased(app: &TestApp) {
    assert_eq!(
        text_columns_containing(&mut app.db(), TYPED),
        Vec::<String>::new(),
        "a live row still mentions the address"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations"),
        1,
        "the other person stays"
    );
    // On PostgreSQL dead row versions remain until VACUUM (see the README).
    if let DatabaseUrl::Sqlite(path) = &app.database.url {
        assert_no_bytes_on_disk(path);
    }
}

fn assert_no_bytes_on_disk(path: &std::path::Path) {
    let path = path.to_path_buf();
    let wal = path.with_extension("db-wal");
    for file in [path.clone(), wal] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for needle in [TYPED, &TYPED.to_lowercase(), "Erin.Eraseme", "erin.eraseme"] {
            let hits = bytes
                .windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count();
            assert_eq!(hits, 0, "{needle} is still in {}", file.display());
        }
    }
    for file in [
        path.clone(),
        path.with_extension("db-wal"),
        path.with_extension("db-shm"),
    ] {
        if let Ok(meta) = std::fs::metadata(&file) {
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{} is readable by others",
                file.display()
            );
        }
    }
}

async fn rollcall_erase_leaves_no_bytes_of_the_address(backend: Backend) {
    let app = spawn_app(backend).await;
    a_busy_member(&app).await;
    let erased = app.rollcall(&["erase", TYPED]);
    assert!(erased.status.success(), "{erased:?}");
    assert_erased(&app);
}

async fn the_admin_erase_button_leaves_no_bytes_of_the_address(backend: Backend) {
    let app = spawn_app(backend).await;
    a_busy_member(&app).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    let id: String = {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .filter(dsl::email_key.eq("erin.eraseme@example.org"))
            .select(dsl::id)
            .get_result(&mut app.db())
            .unwrap()
    };
    let page = app
        .client
        .get(app.url(&format!("/admin/subscribers/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_csrf(&page).expect("a CSRF token on the page");
    let erased = app
        .post_form(
            &format!("/admin/subscribers/{id}/erase"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(erased.status(), 303);
    assert_erased(&app);
}

#[test]
fn a_new_database_and_its_folder_are_the_owners_only() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("data").join("rollcall.db");
    let mut conn = rollcall::db::connect(&DatabaseUrl::Sqlite(path.clone())).unwrap();
    rollcall::db::migrations::run_pending(&mut conn).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&path.with_extension("db-wal")), 0o600);
    assert_eq!(mode(&path.with_extension("db-shm")), 0o600);
}
