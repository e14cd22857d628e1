//! The signup form and API: validation, storage, CSRF, honeypot, the same-answer rule.

use crate::helpers::{
    Backend, TestApp, spawn_app, spawn_app_with, valid_form, valid_json, without_csrf,
};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    the_form_renders_every_field,
    a_valid_form_signup_is_stored_as_pending_with_consent_and_ledger,
    a_valid_api_signup_answers_202_and_is_stored,
    each_invalid_field_gives_422_naming_it_and_stores_nothing,
    the_api_reports_every_invalid_field,
    api_wrong_types_bodies_and_content_types,
    a_body_over_the_limit_is_413,
    missing_or_wrong_csrf_is_403,
    a_filled_honeypot_looks_like_success_and_stores_nothing,
    the_answer_is_the_same_for_every_address_state,
    a_client_over_the_rate_limit_gets_429_with_retry_after,
    a_form_error_keeps_the_values_typed,
);

async fn the_form_renders_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    for field in [
        "email",
        "name",
        "organisation",
        "org_type",
        "country",
        "timezone",
        "consent",
    ] {
        assert!(
            page.contains(&format!(r#"name="{field}""#)),
            "field {field} missing"
        );
        assert!(
            page.contains(&format!(r#"<label for="{field}""#))
                || page.contains(&format!(r#"for="{field}""#)),
            "label for {field} missing"
        );
    }
    assert!(page.contains(r#"name="interests""#));
    assert!(page.contains(r#"<input type="checkbox" id="consent" name="consent" value="yes""#));
    assert!(page.contains(r#"name="website""#), "honeypot");
    assert!(page.contains(r#"<input type="hidden" name="csrf_token" value=""#));
    assert!(
        page.contains(&app.settings.signup.consent_text.replace('\'', "&#39;"))
            || page.contains(&app.settings.signup.consent_text)
    );
    assert!(page.contains(&app.settings.group.name));
    // Featured countries come first: Australia before any other country.
    let au = page.find(r#"value="AU""#).unwrap();
    let af = page.find(r#"value="AF""#).unwrap();
    assert!(au < af, "featured countries first");
    assert!(page.contains(r#"name="viewport""#));
}

async fn a_valid_form_signup_is_stored_as_pending_with_consent_and_ledger(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.sign_up("aroha@example.org").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/subscriptions/check");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending' AND email = 'aroha@example.org' AND country = 'NZ' AND source = 'form'"), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM consents WHERE source = 'form' AND ip = '127.0.0.1' AND text_version IS NOT NULL"), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'signup' AND source = 'form'"),
        1
    );
}

async fn a_valid_api_signup_answers_202_and_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.post_json(&valid_json("Lachlan@Example.ORG")).await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "pending"})
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations WHERE email = 'Lachlan@Example.ORG' AND email_key = 'lachlan@example.org' AND source = 'api'"), 1);
}

/// Each case: the field, a bad value (None removes the field).
fn invalid_cases() -> Vec<(&'static str, Option<&'static str>)> {
    vec![
        ("email", None),
        ("email", Some("not-an-address")),
        ("email", Some("a@localhost")),
        ("email", Some("a@[127.0.0.1]")),
        ("name", None),
        ("name", Some("   ")),
        ("name", Some("Bell\u{7}")),
        ("organisation", Some("Zero\u{200B}Width")),
        ("org_type", Some("company")),
        ("country", Some("ZZ")),
        ("country", Some("Australia")),
        ("timezone", Some("Mars/Olympus")),
        ("interests", Some("Knitting")),
        ("consent", None),
        ("consent", Some("no")),
    ]
}

async fn each_invalid_field_gives_422_naming_it_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.csrf_token().await;
    for (field, bad) in invalid_cases() {
        let mut pairs: Vec<(&str, &str)> = valid_form("case@example.org")
            .into_iter()
            .filter(|(k, _)| *k != field)
            .collect();
        if let Some(value) = bad {
            pairs.push((field, value));
        }
        pairs.push(("csrf_token", &token));
        let response = app.post_form("/subscriptions", &pairs).await;
        assert_eq!(response.status(), 422, "{field}={bad:?}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(&format!(r#"<p class="field-error" id="{field}-error">"#)),
            "{field}={bad:?} not named"
        );
        assert!(
            page.contains(&format!(
                r#"aria-invalid="true" aria-describedby="{field}-error""#
            )),
            "{field} not marked"
        );
        assert_eq!(
            page.matches(r#"class="field-error""#).count(),
            1,
            "{field}={bad:?}: only that field is wrong"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger"), 0);
}

async fn the_api_reports_every_invalid_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_json(&json!({"email": "nope", "name": "", "country": "XX", "consent": false}))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    for field in ["email", "name", "country", "consent"] {
        assert!(
            body["errors"][field]
                .as_array()
                .is_some_and(|m| !m.is_empty()),
            "{field} in {body}"
        );
    }
    assert!(body["errors"].get("organisation").is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
}

async fn api_wrong_types_bodies_and_content_types(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut wrong = valid_json("types@example.org");
    wrong["country"] = json!(61);
    wrong["interests"] = json!("Xarray");
    wrong["consent"] = json!("yes");
    let response = app.post_json(&wrong).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    for field in ["country", "interests", "consent"] {
        assert!(body["errors"][field].is_array(), "{field} in {body}");
    }
    let endpoint = app.url("/api/v1/subscriptions");
    for body in ["[1,2]", "\"text\"", "{not json", ""] {
        let response = app
            .client
            .post(&endpoint)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "body {body:?}");
    }
    let response = app
        .client
        .post(&endpoint)
        .header("content-type", "text/plain")
        .body(valid_json("x@example.org").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = app
        .client
        .post(app.url("/subscriptions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'e', b'=', 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Unknown fields are ignored.
    let mut extra = valid_json("extra@example.org");
    extra["favourite_colour"] = json!("teal");
    assert_eq!(app.post_json(&extra).await.status(), 202);
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 1);
}

async fn a_body_over_the_limit_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut big = valid_json("big@example.org");
    big["organisation"] = json!("x".repeat(20_000));
    assert_eq!(app.post_json(&big).await.status(), 413);
    let token = app.csrf_token().await;
    let padding = "y".repeat(20_000);
    let mut pairs = valid_form("big@example.org");
    pairs.push(("csrf_token", &token));
    pairs.push(("organisation", &padding));
    assert_eq!(app.post_form("/subscriptions", &pairs).await.status(), 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
}

async fn missing_or_wrong_csrf_is_403(backend: Backend) {
    let app = spawn_app(backend).await;
    let pairs = valid_form("csrf@example.org");
    assert_eq!(app.post_form("/subscriptions", &pairs).await.status(), 403);
    let _ = app.csrf_token().await;
    let mut wrong = pairs.clone();
    wrong.push(("csrf_token", "forged"));
    assert_eq!(app.post_form("/subscriptions", &wrong).await.status(), 403);
    // A token from another browser's cookie does not fit this one.
    let other = TestApp::fresh_client_token(&app).await;
    let mut foreign = pairs.clone();
    foreign.push(("csrf_token", &other));
    assert_eq!(
        app.post_form("/subscriptions", &foreign).await.status(),
        403
    );
    // A day later the cookie has expired.
    let token = app.csrf_token().await;
    app.clock.advance(chrono::Duration::hours(25));
    let mut stale = pairs.clone();
    stale.push(("csrf_token", &token));
    assert_eq!(app.post_form("/subscriptions", &stale).await.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
}

impl TestApp {
    async fn fresh_client_token(app: &TestApp) -> String {
        let client = crate::helpers::client();
        let page = client
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        crate::helpers::extract_csrf(&page).unwrap()
    }
}

async fn a_filled_honeypot_looks_like_success_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.csrf_token().await;
    let mut pairs = valid_form("bot@example.org");
    pairs.push(("csrf_token", &token));
    pairs.push(("website", "http://spam.example"));
    let bot = app.post_form("/subscriptions", &pairs).await;
    let human = app.sign_up("human@example.org").await;
    assert_eq!(bot.status(), human.status());
    assert_eq!(bot.headers()["location"], human.headers()["location"]);
    let mut api = valid_json("apibot@example.org");
    api["website"] = json!("x");
    assert_eq!(app.post_json(&api).await.status(), 202);
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 1);
}

/// A response reduced to what the same-answer rule compares.
async fn answer_shape(response: reqwest::Response) -> (u16, Option<String>, Vec<String>, String) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut cookies: Vec<String> = response.cookies().map(|c| c.name().to_owned()).collect();
    cookies.sort();
    let body = without_csrf(&response.text().await.unwrap());
    (status, location, cookies, body)
}

async fn the_answer_is_the_same_for_every_address_state(backend: Backend) {
    let app = spawn_app(backend).await;
    // Prepare: one pending, one confirmed, one unsubscribed address.
    app.sign_up("pending@example.org").await;
    app.confirmed_member("confirmed@example.org").await;
    app.unsubscribed_member("left@example.org").await;
    let mut form_answers = Vec::new();
    let mut api_answers = Vec::new();
    for email in [
        "new@example.org",
        "pending@example.org",
        "confirmed@example.org",
        "left@example.org",
    ] {
        form_answers.push(answer_shape(app.sign_up(email).await).await);
        api_answers.push(answer_shape(app.post_json(&valid_json(email)).await).await);
    }
    for answers in [&form_answers, &api_answers] {
        assert!(
            answers.iter().all(|a| a == &answers[0]),
            "answers differ: {answers:#?}"
        );
        assert!(answers[0].2.contains(&"rollcall_signup".to_owned()));
    }
    app.deliver().await;
}

async fn a_client_over_the_rate_limit_gets_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({"rate_limit": {"enabled": true, "per_ip_per_minute": 10, "burst": 5}}),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let response = app
            .post_json(&valid_json(&format!("burst{i}@example.org")))
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry));
        }
    }
    assert_eq!(&statuses[..5], &[202; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 5);
}

async fn a_form_error_keeps_the_values_typed(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.csrf_token().await;
    let response = app
        .post_form(
            "/subscriptions",
            &[
                ("email", "keep@example.org"),
                ("name", "Mele <Tonga>"),
                ("country", "TO"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"value="keep@example.org""#));
    assert!(
        page.contains("Mele &#60;Tonga&#62;") || page.contains("Mele &lt;Tonga&gt;"),
        "name kept and escaped"
    );
    assert!(page.contains(r#"<option value="TO" selected>"#));
    assert!(page.contains(r#"id="consent-error""#));
}
