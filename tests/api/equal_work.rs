//! Every accepted signup, resend and manage request writes a row, whatever the
//! address's state; a member's signup writes a signup attempt, never a consent
//! row; and however the requests arrive, an address gets at most 3
//! signup-caused emails in 24 hours.

use crate::helpers::{Backend, TestApp, spawn_app, token_of};
use crate::on_both_backends;
use chrono::Duration;

on_both_backends!(
    a_members_signup_writes_an_attempt_and_no_consent_row,
    resend_and_manage_write_a_request_row_for_every_address,
    twenty_requests_in_a_day_give_at_most_three_emails,
);

async fn become_member(app: &TestApp, address: &str) {
    app.sign_up(address).await;
    app.deliver().await;
    let token = token_of(&app.confirmation_link(address));
    let answer = app
        .post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    assert_eq!(answer.status(), 303);
    app.deliver().await;
}

fn past_cooldown(app: &TestApp) -> Duration {
    Duration::seconds(i64::from(app.settings.signup.resend_cooldown_secs) + 1)
}

async fn a_members_signup_writes_an_attempt_and_no_consent_row(backend: Backend) {
    let app = spawn_app(backend).await;
    become_member(&app, "manu@example.org").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM consents"), 1);
    for _ in 0..3 {
        app.clock.advance(past_cooldown(&app));
        assert_eq!(app.sign_up("manu@example.org").await.status(), 303);
        let api = app
            .post_json(&crate::helpers::valid_json("manu@example.org"))
            .await;
        assert_eq!(api.status(), 202);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consents"),
        1,
        "strangers cannot write consent records onto a member"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM signup_attempts"), 6);

    // A pending registration's signup inside the cooldown changes nothing but
    // still writes its row.
    app.sign_up("pending@example.org").await;
    app.sign_up("pending@example.org").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM signup_attempts"), 7);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM consents c JOIN registrations r ON r.id = c.registration_id \
             WHERE r.email_key = 'pending@example.org'"
        ),
        1
    );
    // The harness checks nothing due is left behind.
    app.deliver().await;
}

async fn resend_and_manage_write_a_request_row_for_every_address(backend: Backend) {
    let app = spawn_app(backend).await;
    become_member(&app, "member@example.org").await;
    for address in ["member@example.org", "nobody@example.org"] {
        for path in ["/subscriptions/resend", "/subscriptions/manage"] {
            let answer = app.post_email_form(path, address).await;
            assert_eq!(answer.status(), 303);
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM address_requests"),
        2,
        "one row per address, known or not"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM address_requests WHERE email_hash LIKE '%@%' OR email_hash LIKE '%example%'"
        ),
        0,
        "keyed by a hash, never the address"
    );
}

async fn twenty_requests_in_a_day_give_at_most_three_emails(backend: Backend) {
    let app = spawn_app(backend).await;
    become_member(&app, "member@example.org").await;
    app.clock.advance(Duration::days(2));
    let before_member = app.mail_to("member@example.org").len();
    for address in ["pending@example.org", "member@example.org"] {
        for i in 0..20 {
            app.clock.advance(past_cooldown(&app));
            let answer = match i % 3 {
                0 => app.sign_up(address).await,
                1 => app.post_email_form("/subscriptions/resend", address).await,
                _ => app.post_email_form("/subscriptions/manage", address).await,
            };
            assert_eq!(answer.status(), 303);
        }
        app.deliver().await;
    }
    assert_eq!(app.mail_to("pending@example.org").len(), 3);
    assert_eq!(app.mail_to("member@example.org").len() - before_member, 3);
    // A new day, a new allowance.
    app.clock.advance(Duration::days(1));
    app.post_email_form("/subscriptions/resend", "pending@example.org")
        .await;
    app.deliver().await;
    assert_eq!(app.mail_to("pending@example.org").len(), 4);
}
