//! Confirmation links that were used, expired, never existed, or were
//! superseded by a second signup: each gets the page the contract names.

use crate::helpers::{Backend, TestApp, spawn_app, token_of};
use crate::on_both_backends;
use chrono::Duration;

on_both_backends!(
    a_used_link_on_a_confirmed_registration_says_already_confirmed,
    an_expired_link_gives_410_with_a_resend_form_and_changes_nothing,
    an_unknown_link_gives_404_with_a_resend_form,
    both_links_of_a_repeated_signup_work_and_confirming_with_one_spends_both,
);

const RESEND_FORM: &str = r#"action="/subscriptions/resend""#;

/// Signs `address` up and delivers the confirmation; returns its link.
async fn signed_up(app: &TestApp, address: &str) -> String {
    assert_eq!(app.sign_up(address).await.status(), 303);
    assert_eq!(app.deliver().await, 1);
    app.confirmation_link(address)
}

async fn get(app: &TestApp, link: &str) -> (u16, String) {
    let response = app.client.get(link).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn post_token(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_form("/subscriptions/confirm", &[("token", token)])
        .await
}

fn shows_confirm_button(page: &str) -> bool {
    page.contains(r#"<form method="post" action="/subscriptions/confirm">"#)
}

fn says_already_confirmed(page: &str) -> bool {
    page.contains("already confirmed")
}

async fn a_used_link_on_a_confirmed_registration_says_already_confirmed(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = signed_up(&app, "used@example.org").await;
    let token = token_of(&link);
    assert_eq!(post_token(&app, &token).await.status(), 303);

    let (status, page) = get(&app, &link).await;
    assert_eq!(status, 200);
    assert!(says_already_confirmed(&page), "{page}");
    assert!(!shows_confirm_button(&page));

    let again = post_token(&app, &token).await;
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers()["location"], "/subscriptions/confirmed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'confirm'"),
        1,
        "confirming twice records one confirmation"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'welcome'"),
        1,
        "and queues one welcome"
    );
    assert_eq!(app.deliver().await, 1, "the one welcome goes out");
}

async fn an_expired_link_gives_410_with_a_resend_form_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = signed_up(&app, "late@example.org").await;
    let ttl = Duration::hours(i64::from(app.settings.signup.token_ttl_hours));

    app.clock.advance(ttl - Duration::seconds(1));
    let (status, page) = get(&app, &link).await;
    assert_eq!(status, 200, "still valid a second before the end");
    assert!(shows_confirm_button(&page));

    app.clock.advance(Duration::seconds(2));
    let (status, page) = get(&app, &link).await;
    assert_eq!(status, 410);
    assert!(page.contains(RESEND_FORM), "{page}");
    assert!(!shows_confirm_button(&page));

    let posted = post_token(&app, &token_of(&link)).await;
    assert_eq!(posted.status(), 410);
    assert!(posted.text().await.unwrap().contains(RESEND_FORM));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending'"),
        1,
        "an expired link confirms nothing"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'confirm'"),
        0
    );
}

async fn an_unknown_link_gives_404_with_a_resend_form(backend: Backend) {
    let app = spawn_app(backend).await;
    // A real registration exists, so "unknown" is not just an empty table.
    let real = signed_up(&app, "known@example.org").await;
    let unknown = "A".repeat(43);
    let link = real.replace(&token_of(&real), &unknown);

    let (status, page) = get(&app, &link).await;
    assert_eq!(status, 404);
    assert!(page.contains(RESEND_FORM), "{page}");

    let (status, page) = get(&app, &app.url("/subscriptions/confirm")).await;
    assert_eq!(status, 404, "no token at all is unknown too");
    assert!(page.contains(RESEND_FORM));

    let posted = post_token(&app, &unknown).await;
    assert_eq!(posted.status(), 404);
    assert!(posted.text().await.unwrap().contains(RESEND_FORM));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending'"),
        1
    );
}

async fn both_links_of_a_repeated_signup_work_and_confirming_with_one_spends_both(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let first = signed_up(&app, "twice@example.org").await;
    let cooldown = i64::from(app.settings.signup.resend_cooldown_secs);
    app.clock.advance(Duration::seconds(cooldown + 1));
    let second = signed_up(&app, "twice@example.org").await;
    assert_ne!(first, second, "each email has its own link");
    assert_eq!(app.mail_to("twice@example.org").len(), 2);

    for link in [&first, &second] {
        let (status, page) = get(&app, link).await;
        assert_eq!(status, 200);
        assert!(shows_confirm_button(&page), "both links are valid");
    }

    assert_eq!(post_token(&app, &token_of(&first)).await.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        1
    );
    let (status, page) = get(&app, &second).await;
    assert_eq!(status, 200);
    assert!(
        says_already_confirmed(&page),
        "the second link is spent: {page}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM tokens WHERE purpose = 'confirm' AND used_at IS NULL"),
        0,
        "confirming spends every confirmation link"
    );
    let again = post_token(&app, &token_of(&second)).await;
    assert_eq!(again.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'confirm'"),
        1
    );
    assert_eq!(app.deliver().await, 1, "the one welcome goes out");
}
