//! The whole double opt-in: signup → email → link → GET (still pending) → POST →
//! confirmed → welcome → one-click unsubscribe.

use crate::helpers::{Backend, link_in, spawn_app};
use crate::on_both_backends;
use rollcall::clock::Clock;

on_both_backends!(a_person_signs_up_confirms_by_link_and_unsubscribes_in_one_click);

async fn a_person_signs_up_confirms_by_link_and_unsubscribes_in_one_click(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.sign_up("kiri@example.org").await.status(), 303);
    assert_eq!(app.deliver().await, 1);
    let confirmation = &app.mail_to("kiri@example.org")[0];
    assert!(
        confirmation
            .subject()
            .unwrap()
            .starts_with("Confirm your registration")
    );
    assert_eq!(
        confirmation.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(
        !confirmation.text_body().unwrap().contains("Aroha"),
        "the typed name is not relayed"
    );
    let link = app.confirmation_link("kiri@example.org");

    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let body = page.text().await.unwrap();
    assert!(body.contains(r#"<form method="post" action="/subscriptions/confirm">"#));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending'"),
        1,
        "GET changes nothing"
    );

    let token = link.split("token=").nth(1).unwrap().to_owned();
    let confirmed = app
        .post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(confirmed.headers()["location"], "/subscriptions/confirmed");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed' AND confirmed_via = 'link' AND confirm_ip = '127.0.0.1'"), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'confirm'"),
        1
    );
    assert_eq!(
        app.client.get(&link).send().await.unwrap().status(),
        200,
        "used link: already confirmed"
    );

    assert_eq!(app.deliver().await, 1);
    let welcome = app.mail_to("kiri@example.org").pop().unwrap();
    assert!(welcome.subject().unwrap().starts_with("Welcome"));
    assert!(welcome.header("Auto-Submitted").is_none());
    assert_eq!(
        welcome.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = link_in(&welcome.text_body().unwrap(), "/unsubscribe?token=");
    assert_eq!(
        welcome.header("List-Unsubscribe").unwrap(),
        format!("<{unsubscribe}>")
    );

    // RFC 8058: a mail client posts multipart, without cookies.
    let one_click = reqwest::Client::new()
        .post(&unsubscribe)
        .multipart(reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click"))
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    assert!(
        one_click
            .text()
            .await
            .unwrap()
            .contains("You are unsubscribed")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations WHERE status = 'unsubscribed' AND unsubscribed_at IS NOT NULL"), 1);
    let again = reqwest::Client::new()
        .post(&unsubscribe)
        .body("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "already unsubscribed is still 200");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'unsubscribe'"),
        1
    );
}

on_both_backends!(a_welcome_queued_before_an_unsubscribe_is_cancelled_not_sent);

/// Someone confirms by code and unsubscribes through a manage link before the
/// worker runs: the welcome (and its list headers) must not go out any more.
async fn a_welcome_queued_before_an_unsubscribe_is_cancelled_not_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("brief@example.org").await;
    app.deliver().await;
    let link = app.confirmation_link("brief@example.org");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    app.post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    let id: String = {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .select(dsl::id)
            .first(&mut app.db())
            .unwrap()
    };
    let now = app.clock.now_naive();
    rollcall::db::write_transaction(&mut app.db(), |c| {
        rollcall::db::lifecycle::unsubscribe(c, &id, "subscriber", now)
    })
    .unwrap();
    app.deliver().await;
    assert_eq!(
        app.mail_to("brief@example.org").len(),
        1,
        "only the confirmation went out"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'welcome' AND status = 'cancelled'"),
        1
    );
}
