//! The relay's problems are not the message's: a relay that refuses the login
//! or the sender leaves every message queued (never `failed`, however long it
//! lasts), counts the failure in `/metrics`, and the messages go out once each
//! when it accepts again. A refusal of the recipient still fails the message.

use crate::helpers::{Backend, TestApp, spawn_app_with, valid_json};
use crate::on_both_backends;
use chrono::Duration;
use rollcall::clock::Clock;
use serde_json::{Value, json};

on_both_backends!(
    a_relay_refusing_the_login_leaves_messages_queued_until_it_accepts,
    a_relay_refusing_the_sender_leaves_messages_queued_until_it_accepts,
    a_550_to_rcpt_fails_only_that_message_and_the_others_go_out,
);

const ADDRESSES: [&str; 3] = [
    "relay0@example.org",
    "relay1@example.org",
    "relay2@example.org",
];

/// Few attempts, so that a relay failure counted against them would show.
fn settings() -> Value {
    json!({"email": {
        "max_attempts": 2,
        "retry_base_secs": 30,
        "retry_max_secs": 60,
        "smtp": {"username": "rollcall", "password": "secret"},
    }})
}

async fn sign_up_all(app: &TestApp) {
    for address in ADDRESSES {
        assert_eq!(app.post_json(&valid_json(address)).await.status(), 202);
    }
}

async fn metrics(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    response.text().await.unwrap()
}

/// Runs the worker through more relay failures than `max_attempts`, checking
/// that every message stays queued with the stage named in its last error.
async fn relay_keeps_failing(app: &TestApp, stage_text: &str) {
    for round in 0..4 {
        assert_eq!(
            app.deliver().await,
            3,
            "round {round}: every message claimed"
        );
        for row in app.outbox() {
            assert_eq!(row.status, "queued", "round {round}");
            assert_eq!(
                row.attempts, 0,
                "a relay failure is not the message's attempt"
            );
            assert!(row.leased_until.is_none(), "the lease is released");
            let error = row.last_error.unwrap_or_default();
            assert!(error.contains(stage_text), "{error}");
            assert!(row.next_attempt_at > app.clock.now_naive(), "backed off");
        }
        assert_eq!(app.deliver().await, 0, "nothing is due during the backoff");
        app.clock.advance(Duration::seconds(61));
    }
    assert!(app.smtp.messages().is_empty());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'failed'"),
        0
    );
}

async fn delivered_once_each_after_recovery(app: &TestApp) {
    app.smtp.clear_failures();
    assert_eq!(app.deliver().await, 3);
    for address in ADDRESSES {
        assert_eq!(app.mail_to(address).len(), 1, "{address}");
    }
    for row in app.outbox() {
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
    }
    assert_eq!(app.deliver().await, 0);
}

async fn a_relay_refusing_the_login_leaves_messages_queued_until_it_accepts(backend: Backend) {
    let app = spawn_app_with(backend, settings()).await;
    app.smtp
        .refuse_auth("535 5.7.8 Authentication credentials invalid");
    sign_up_all(&app).await;

    relay_keeps_failing(&app, "auth refused: SMTP 535").await;
    let text = metrics(&app).await;
    assert!(
        text.contains(r#"rollcall_smtp_relay_failures_total{stage="auth"}"#),
        "{text}"
    );
    delivered_once_each_after_recovery(&app).await;
}

async fn a_relay_refusing_the_sender_leaves_messages_queued_until_it_accepts(backend: Backend) {
    let app = spawn_app_with(backend, settings()).await;
    app.smtp.refuse_sender("550 5.7.1 Sender address rejected");
    sign_up_all(&app).await;

    relay_keeps_failing(&app, "mail_from refused: SMTP 550").await;
    let text = metrics(&app).await;
    assert!(
        text.contains(r#"rollcall_smtp_relay_failures_total{stage="mail_from"}"#),
        "{text}"
    );
    delivered_once_each_after_recovery(&app).await;
}

async fn a_550_to_rcpt_fails_only_that_message_and_the_others_go_out(backend: Backend) {
    let app = spawn_app_with(backend, settings()).await;
    app.smtp.reject_rcpt("relay1@", "550 5.1.1 no such user");
    sign_up_all(&app).await;

    assert_eq!(app.deliver().await, 3);
    for row in app.outbox() {
        let address = app.count(&format!(
            "SELECT COUNT(*) FROM registrations WHERE id = '{}' AND email = 'relay1@example.org'",
            row.registration_id
                .as_deref()
                .expect("signup mail has a registration")
        ));
        let expected = if address == 1 { "failed" } else { "sent" };
        assert_eq!((row.status.as_str(), row.attempts), (expected, 1));
    }
    assert_eq!(app.mail_to("relay0@example.org").len(), 1);
    assert_eq!(app.mail_to("relay2@example.org").len(), 1);
    assert!(app.mail_to("relay1@example.org").is_empty());
    assert!(
        !metrics(&app)
            .await
            .contains("rollcall_smtp_relay_failures_total{"),
        "a refused recipient is not the relay's failure"
    );
}
