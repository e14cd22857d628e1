//! Organiser accounts, login, sessions, tokens and the 401 rules.

use crate::helpers::{Backend, TestApp, extract_csrf, spawn_app};
use crate::on_both_backends;
use chrono::Duration;
use serde_json::Value;

on_both_backends!(
    without_credentials_browsers_get_the_login_form_and_api_clients_json,
    an_organiser_logs_in_reaches_the_dashboard_and_logs_out,
    wrong_password_and_unknown_user_get_the_same_401,
    login_goes_to_a_safe_next_page_only,
    failed_logins_are_throttled_per_account_and_per_address,
    a_session_expires_after_its_ttl,
    tokens_work_for_gets_until_revoked_or_the_organiser_is_removed,
    admin_posts_need_a_session_and_the_csrf_token,
    the_organiser_commands_manage_accounts,
);

const PASSWORD: &str = "correct horse battery staple";

async fn without_credentials_browsers_get_the_login_form_and_api_clients_json(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/admin",
        "/admin/export.csv",
        "/admin/subscribers?email=a@example.org",
    ] {
        let html = app
            .client
            .get(app.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(html.status(), 401, "{path}");
        assert!(
            html.text()
                .await
                .unwrap()
                .contains(r#"<form method="post" action="/admin/login">"#)
        );
        let api = app
            .client
            .get(app.url(path))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 401);
        assert_eq!(api.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            api.json::<Value>().await.unwrap(),
            serde_json::json!({"error": "unauthorized"})
        );
    }
}

async fn an_organiser_logs_in_reaches_the_dashboard_and_logs_out(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    let login = app.log_in("Organiser@Example.org", PASSWORD).await;
    assert_eq!(login.status(), 303);
    assert_eq!(login.headers()["location"], "/admin");
    let cookie = login
        .cookies()
        .find(|c| c.name() == "rollcall_session")
        .expect("session cookie");
    assert!(cookie.http_only());
    assert!(cookie.same_site_strict());
    let dashboard = app.client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    let page = dashboard.text().await.unwrap();
    let token = extract_csrf(&page).unwrap();
    let logout = app
        .post_form("/admin/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(logout.status(), 303);
    assert_eq!(logout.headers()["location"], "/admin/login");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions"),
        0,
        "the server-side session is gone"
    );
    assert_eq!(
        app.client
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn wrong_password_and_unknown_user_get_the_same_401(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    let wrong = app
        .log_in("organiser@example.org", "not the password at all")
        .await;
    let unknown = app.log_in("nobody@example.org", PASSWORD).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let strip = |page: String| crate::helpers::without_csrf(&page);
    assert_eq!(
        strip(wrong.text().await.unwrap()),
        strip(unknown.text().await.unwrap())
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions"), 0);
}

async fn login_goes_to_a_safe_next_page_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    let token = app.login_form_token().await;
    for (next, expected) in [
        (
            "/admin/subscribers?email=x%40example.org",
            "/admin/subscribers?email=x%40example.org",
        ),
        ("https://evil.example/admin", "/admin"),
        ("//evil.example", "/admin"),
    ] {
        let response = app
            .post_form(
                "/admin/login",
                &[
                    ("email", "organiser@example.org"),
                    ("password", PASSWORD),
                    ("csrf_token", &token),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], expected, "next={next}");
    }
}

async fn failed_logins_are_throttled_per_account_and_per_address(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    for _ in 0..5 {
        assert_eq!(
            app.log_in("organiser@example.org", "wrong password guess")
                .await
                .status(),
            401
        );
    }
    let throttled = app.log_in("organiser@example.org", PASSWORD).await;
    assert_eq!(throttled.status(), 429, "even the right password waits");
    assert!(
        throttled.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    app.clock.advance(Duration::minutes(16));
    assert_eq!(
        app.log_in("organiser@example.org", PASSWORD).await.status(),
        303,
        "a throttle, not a lockout"
    );
}

async fn a_session_expires_after_its_ttl(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    assert_eq!(
        app.client
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.clock.advance(
        Duration::hours(i64::from(app.settings.admin.session_ttl_hours)) + Duration::seconds(1),
    );
    assert_eq!(
        app.client
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

fn token_for(app: &TestApp, email: &str) -> String {
    let output = app.rollcall(&["organiser", "token", email]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "only the token on stdout"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("shown once"));
    stdout.trim_end().to_owned()
}

async fn tokens_work_for_gets_until_revoked_or_the_organiser_is_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    let token = token_for(&app, "organiser@example.org");
    assert!(token.starts_with("rc_"));
    let api = reqwest::Client::new();
    let get = |t: String| api.get(app.url("/admin/export.csv")).bearer_auth(t).send();
    assert_eq!(get(token.clone()).await.unwrap().status(), 200);
    assert_eq!(get("rc_wrong".into()).await.unwrap().status(), 401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM organiser_tokens WHERE token_hash LIKE 'rc_%'"),
        0,
        "stored hashed"
    );
    assert!(
        app.rollcall(&["organiser", "revoke-tokens", "organiser@example.org"])
            .status
            .success()
    );
    assert_eq!(get(token).await.unwrap().status(), 401, "revoked");
    let second = token_for(&app, "organiser@example.org");
    assert_eq!(get(second.clone()).await.unwrap().status(), 200);
    assert!(
        app.rollcall(&["organiser", "remove", "organiser@example.org"])
            .status
            .success()
    );
    assert_eq!(
        get(second).await.unwrap().status(),
        401,
        "removed organiser"
    );
    // A bearer token does not authorise a POST.
    let post = api
        .post(app.url("/admin/logout"))
        .bearer_auth("rc_x")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 401);
}

async fn admin_posts_need_a_session_and_the_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.sign_up("member@example.org").await;
    let id: String = {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .select(dsl::id)
            .first(&mut app.db())
            .unwrap()
    };
    app.log_in("organiser@example.org", PASSWORD).await;
    let path = format!("/admin/subscribers/{id}/erase");
    assert_eq!(app.post_form(&path, &[]).await.status(), 403);
    assert_eq!(
        app.post_form(&path, &[("csrf_token", "forged")])
            .await
            .status(),
        403
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 1);
    let page = app
        .client
        .get(app.url(&format!("/admin/subscribers/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("member@example.org") && page.contains("pending"));
    assert!(
        !page.contains(&format!("action=\"{path}\"")),
        "the person page has no one-click erase"
    );
    let question = app.get_text(&path).await;
    assert!(
        question.contains("Erase member@example.org?")
            && question.contains(&format!("action=\"{path}\""))
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations"),
        1,
        "asking erases nothing"
    );
    let token = extract_csrf(&question).unwrap();
    let erased = app.post_form(&path, &[("csrf_token", &token)]).await;
    assert_eq!(erased.status(), 303);
    assert_eq!(erased.headers()["location"], "/admin/subscribers");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger WHERE event = 'erase' AND actor = 'organiser:organiser@example.org'"), 1);
}

async fn the_organiser_commands_manage_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let added = app.rollcall_with(
        &["organiser", "add", "ana@example.org"],
        &[("ROLLCALL_PASSWORD", PASSWORD)],
        None,
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let again = app.rollcall_with(
        &["organiser", "add", "ana@example.org"],
        &[("ROLLCALL_PASSWORD", PASSWORD)],
        None,
    );
    assert_eq!(again.status.code(), Some(1), "existing organiser");
    let short = app.rollcall_with(
        &["organiser", "add", "ben@example.org"],
        &[],
        Some("too short\n"),
    );
    assert!(
        !short.status.success(),
        "passwords under 12 bytes are refused"
    );
    let from_stdin = app.rollcall_with(
        &["organiser", "add", "ben@example.org"],
        &[],
        Some("a long enough password\nignored\n"),
    );
    assert!(from_stdin.status.success());
    assert_eq!(
        app.log_in("ben@example.org", "a long enough password")
            .await
            .status(),
        303
    );
    let list = String::from_utf8(app.rollcall(&["organiser", "list"]).stdout).unwrap();
    assert!(list.contains("ana@example.org") && list.contains("ben@example.org"));
    let changed = app.rollcall_with(
        &["organiser", "password", "ben@example.org"],
        &[("ROLLCALL_PASSWORD", "another long password")],
        None,
    );
    assert!(changed.status.success());
    assert_eq!(
        app.client
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "a new password ends sessions"
    );
    assert_eq!(
        app.log_in("ben@example.org", "another long password")
            .await
            .status(),
        303
    );
}
