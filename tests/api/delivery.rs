//! The durable outbox against a real SMTP server: an outage is retried with
//! backoff (not counted against the messages' attempts: it is the relay's) and
//! every message arrives once; a permanent rejection is final; a
//! retry carries the Message-ID fixed when the message was queued.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with, valid_json};
use crate::on_both_backends;
use chrono::Duration;
use rollcall::clock::Clock;
use rollcall::db::outbox::OutboxStatus;
use serde_json::json;
use std::collections::HashMap;

on_both_backends!(
    messages_queued_while_smtp_is_down_arrive_once_each_after_it_returns,
    a_550_at_rcpt_fails_the_message_at_once_and_it_is_never_retried,
    a_retried_message_carries_the_message_id_fixed_when_it_was_queued,
    transient_failures_back_off_exponentially_up_to_the_cap_then_fail_at_max_attempts,
    one_long_running_worker_recovers_its_pooled_connections_after_an_smtp_restart,
);

async fn api_signups(app: &TestApp, addresses: &[String]) {
    for address in addresses {
        assert_eq!(app.post_json(&valid_json(address)).await.status(), 202);
    }
}

fn retry_base(app: &TestApp) -> Duration {
    Duration::seconds(i64::from(app.settings.email.retry_base_secs))
}

async fn messages_queued_while_smtp_is_down_arrive_once_each_after_it_returns(backend: Backend) {
    let app = spawn_app(backend).await;
    let addresses: Vec<String> = (0..20).map(|i| format!("outage{i}@example.org")).collect();
    app.smtp.stop().await;
    api_signups(&app, &addresses).await;

    assert_eq!(app.deliver().await, 20, "every message was attempted");
    let now = app.clock.now_naive();
    for row in app.outbox() {
        assert_eq!(row.status(), Some(OutboxStatus::Queued));
        assert_eq!(
            row.attempts, 0,
            "a refused connection is the relay's problem"
        );
        assert_eq!(row.next_attempt_at, now + retry_base(&app), "backoff");
        assert!(row.leased_until.is_none(), "the lease is released");
        assert!(row.last_error.is_some());
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM delivery_attempts WHERE result = 'retry'"),
        20
    );

    app.smtp.restart().await;
    assert_eq!(app.deliver().await, 0, "nothing is due before the backoff");
    assert!(app.smtp.messages().is_empty());

    app.clock.advance(retry_base(&app) + Duration::seconds(1));
    assert_eq!(app.deliver().await, 20);
    assert_eq!(app.deliver().await, 0);

    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for mail in app.smtp.messages() {
        for rcpt in mail.rcpt_to {
            *per_recipient.entry(rcpt).or_default() += 1;
        }
    }
    for address in &addresses {
        assert_eq!(per_recipient.get(address), Some(&1), "{address}");
    }
    assert_eq!(per_recipient.len(), 20);
    assert!(
        app.outbox()
            .iter()
            .all(|row| row.status() == Some(OutboxStatus::Sent)
                && row.attempts == 1
                && row.sent_at.is_some())
    );
}

async fn a_550_at_rcpt_fails_the_message_at_once_and_it_is_never_retried(backend: Backend) {
    let app = spawn_app(backend).await;
    app.smtp.reject_rcpt("bounce@", "550 5.1.1 no such user");
    api_signups(&app, &["bounce@example.org".to_owned()]).await;

    assert_eq!(app.deliver().await, 1);
    let [row] = app.outbox().try_into().expect("one outbox row");
    assert_eq!(row.status(), Some(OutboxStatus::Failed));
    assert_eq!(row.attempts, 1);
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{:?}",
        row.last_error
    );

    app.clock.advance(Duration::days(1));
    assert_eq!(app.deliver().await, 0, "a failed message is never claimed");
    let [row] = app.outbox().try_into().expect("one outbox row");
    assert_eq!(
        (row.status(), row.attempts),
        (Some(OutboxStatus::Failed), 1)
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM delivery_attempts WHERE result = 'failed'"),
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM delivery_attempts"), 1);
    assert!(app.smtp.messages().is_empty());
}

async fn a_retried_message_carries_the_message_id_fixed_when_it_was_queued(backend: Backend) {
    let app = spawn_app(backend).await;
    api_signups(&app, &["retry@example.org".to_owned()]).await;
    let [queued] = app.outbox().try_into().expect("one outbox row");
    assert!(
        queued.message_id.starts_with('<') && queued.message_id.ends_with('>'),
        "{}",
        queued.message_id
    );

    app.smtp.fail_next_data(1, "451 4.3.0 try later");
    assert_eq!(app.deliver().await, 1);
    let [retrying] = app.outbox().try_into().expect("one outbox row");
    assert_eq!(
        (retrying.status(), retrying.attempts),
        (Some(OutboxStatus::Queued), 1)
    );
    assert!(app.smtp.messages().is_empty());

    app.clock.advance(retry_base(&app));
    assert_eq!(app.deliver().await, 1);
    let [sent] = app.outbox().try_into().expect("one outbox row");
    assert_eq!(
        (sent.status(), sent.attempts),
        (Some(OutboxStatus::Sent), 2)
    );
    assert_eq!(
        sent.message_id, queued.message_id,
        "the row's Message-ID never changes"
    );
    let mails = app.mail_to("retry@example.org");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].message_id(), Some(queued.message_id));
}

async fn transient_failures_back_off_exponentially_up_to_the_cap_then_fail_at_max_attempts(
    backend: Backend,
) {
    let app = spawn_app_with(
        backend,
        json!({"email": {"retry_base_secs": 30, "retry_max_secs": 100, "max_attempts": 4}}),
    )
    .await;
    api_signups(&app, &["flaky@example.org".to_owned()]).await;
    app.smtp.fail_next_data(4, "451 4.3.0 try later");

    let mut waits = Vec::new();
    for attempt in 1..=3 {
        assert_eq!(app.deliver().await, 1);
        let [row] = app.outbox().try_into().expect("one outbox row");
        assert_eq!(
            (row.status(), row.attempts),
            (Some(OutboxStatus::Queued), attempt)
        );
        waits.push((row.next_attempt_at - app.clock.now_naive()).num_seconds());
        app.clock.set(row.next_attempt_at.and_utc());
    }
    assert_eq!(waits, [30, 60, 100], "doubling from the base, capped");

    assert_eq!(app.deliver().await, 1);
    let [row] = app.outbox().try_into().expect("one outbox row");
    assert_eq!(
        (row.status(), row.attempts),
        (Some(OutboxStatus::Failed), 4)
    );
    app.clock.advance(Duration::days(1));
    assert_eq!(app.deliver().await, 0, "given up for good");
    assert!(app.smtp.messages().is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM delivery_attempts"), 4);
}

/// `serve` keeps one worker (and its SMTP connection pool) for its lifetime;
/// connections pooled before an outage are dead afterwards.
async fn one_long_running_worker_recovers_its_pooled_connections_after_an_smtp_restart(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let worker = app.worker();
    api_signups(&app, &["before@example.org".to_owned()]).await;
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(app.mail_to("before@example.org").len(), 1);

    app.smtp.stop().await;
    api_signups(&app, &["during@example.org".to_owned()]).await;
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND attempts = 0"),
        1
    );

    app.smtp.restart().await;
    api_signups(&app, &["after@example.org".to_owned()]).await;
    app.clock.advance(retry_base(&app));
    assert_eq!(worker.run_until_idle().await.unwrap(), 2);
    for address in [
        "before@example.org",
        "during@example.org",
        "after@example.org",
    ] {
        assert_eq!(app.mail_to(address).len(), 1, "{address}");
    }
    assert!(
        app.outbox()
            .iter()
            .all(|row| row.status() == Some(OutboxStatus::Sent))
    );
}
