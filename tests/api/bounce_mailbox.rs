//! The bounce mailbox read over IMAP from a real Dovecot: each report appended
//! gives its result once, the mail stays in the mailbox marked `\Seen`, a new
//! poller resumes where the last one stopped, two pollers never read the same
//! message, a new UIDVALIDITY makes no second event, and a mailbox that is
//! down is retried without disturbing delivery. Polls are driven one at a time
//! on the manual clock; the last test runs the pollers of `rollcall worker`
//! and `rollcall serve` processes side by side.

use crate::bounces::{fixture, ledger_events, member_with_message, status_and_reason};
use crate::dovecot::{Dovecot, dovecot_available};
use crate::helpers::{Backend, TestApp, spawn_app_with, wait_until};
use crate::on_both_backends;
use crate::processes::RollcallProcess;
use chrono::Duration;
use rollcall::bounces::imap::{PollOutcome, Poller};
use rollcall::clock::Clock;
use serde_json::json;

on_both_backends!(
    each_report_in_the_mailbox_gives_its_result_once_and_stays_there_seen,
    a_new_poller_resumes_after_the_last_message_and_after_a_crashed_one,
    two_pollers_at_once_never_read_the_same_message,
    a_new_uidvalidity_rereads_the_mailbox_without_a_second_event,
    a_mailbox_that_is_down_is_retried_and_delivery_goes_on,
    the_pollers_of_a_worker_and_a_server_process_read_each_message_once,
    a_tls_setting_the_server_does_not_speak_fails_at_the_tls_step,
);

/// Starts Dovecot and an app reading it; `None` (skipped) without Dovecot.
async fn app_with_mailbox(backend: Backend, test: &str) -> Option<(TestApp, Dovecot)> {
    if !dovecot_available(test) {
        return None;
    }
    let dovecot = Dovecot::start();
    let app = spawn_app_with(
        backend,
        json!({"email": {"bounce": {"address": "bounces@example.org", "imap": dovecot.settings()}}}),
    )
    .await;
    Some((app, dovecot))
}

fn poller(app: &TestApp) -> Poller {
    rollcall::startup::bounce_poller(&app.state).expect("imap is configured")
}

/// One poll once the next one is due (`poll_secs` later).
async fn poll(app: &TestApp, poller: &Poller) -> PollOutcome {
    app.clock.advance(Duration::seconds(60));
    poller.poll_once().await
}

fn polled(processed: usize) -> PollOutcome {
    PollOutcome::Polled { processed }
}

/// How many messages the pollers counted with `result` on `/metrics`.
async fn counted(app: &TestApp, result: &str) -> u64 {
    metric(
        app,
        &format!("rollcall_bounce_imap_messages_total{{result=\"{result}\"}}"),
    )
    .await
}

async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.get_text("/metrics").await;
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .map_or(0, |value| value.trim().parse().unwrap())
}

fn bounces_from_imap(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM bounces WHERE source = 'imap'")
}

async fn each_report_in_the_mailbox_gives_its_result_once_and_stays_there_seen(backend: Backend) {
    let Some((app, dovecot)) = app_with_mailbox(backend, concat!(module_path!(), "::each")).await
    else {
        return;
    };
    let (ana, ana_message) = member_with_message(&app, "ana@example.org").await;
    let (ben, ben_message) = member_with_message(&app, "ben@example.org").await;
    let (cai, cai_message) = member_with_message(&app, "cai@example.org").await;
    let reports = [
        ("gmail_soft", &ben_message),
        ("microsoft_policy", &ben_message),
        ("delayed", &ben_message),
        ("out_of_office", &ben_message),
        ("plain", &ben_message),
        ("forged", &ben_message),
        ("postfix_hard", &ana_message),
        ("exim_hard", &ana_message),
        ("arf_complaint", &cai_message),
    ];
    for (name, message) in reports {
        dovecot
            .append(fixture(&app, name, message).as_bytes())
            .await;
    }
    dovecot
        .append(b"just words, no header\r\n\r\nbody\r\n")
        .await;

    let poller = poller(&app);
    assert_eq!(poll(&app, &poller).await, polled(reports.len() + 1));
    for (result, n) in [
        ("soft", 1),
        ("policy", 1),
        ("ignored", 3),
        ("unmatched", 1),
        ("hard", 1),
        ("duplicate", 1),
        ("complaint", 1),
        ("not_a_message", 1),
    ] {
        assert_eq!(counted(&app, result).await, n, "{result}");
    }
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("bounced".to_owned()))
    );
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);
    assert_eq!(
        status_and_reason(&app, &cai),
        ("unsubscribed".to_owned(), Some("complaint".to_owned()))
    );
    assert_eq!(status_and_reason(&app, &ben).0, "confirmed");
    // soft, policy, unmatched, hard, complaint: one row each, all from IMAP.
    assert_eq!(bounces_from_imap(&app), 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM bounces"), 5);

    // Nothing deleted, everything read marked \Seen.
    let messages = dovecot.messages().await;
    assert_eq!(messages.len(), reports.len() + 1);
    assert!(messages.iter().all(|(_, seen)| *seen), "{messages:?}");

    // The next poll finds nothing new and records nothing.
    assert_eq!(poll(&app, &poller).await, polled(0));
    assert_eq!(counted(&app, "duplicate").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM bounces"), 5);
}

async fn a_new_poller_resumes_after_the_last_message_and_after_a_crashed_one(backend: Backend) {
    let Some((app, dovecot)) = app_with_mailbox(backend, concat!(module_path!(), "::resume")).await
    else {
        return;
    };
    let (ana, ana_message) = member_with_message(&app, "ana@example.org").await;
    let (_, ben_message) = member_with_message(&app, "ben@example.org").await;
    let (cai, cai_message) = member_with_message(&app, "cai@example.org").await;
    dovecot
        .append(fixture(&app, "postfix_hard", &ana_message).as_bytes())
        .await;
    dovecot
        .append(fixture(&app, "gmail_soft", &ben_message).as_bytes())
        .await;
    assert_eq!(poll(&app, &poller(&app)).await, polled(2));

    // A restarted process: a new poller, with a new lease owner.
    dovecot
        .append(fixture(&app, "arf_complaint", &cai_message).as_bytes())
        .await;
    let restarted = poller(&app);
    assert_eq!(poll(&app, &restarted).await, polled(1));
    assert_eq!(counted(&app, "duplicate").await, 0, "nothing read twice");
    assert_eq!(bounces_from_imap(&app), 3);
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);
    assert_eq!(ledger_events(&app, &cai, "complaint"), 1);

    // A poller that took the lease and died holds it until it runs out.
    {
        let mut conn = app.db();
        let now = app.clock.now_naive() + Duration::seconds(60);
        let until = now + Duration::minutes(5);
        assert!(rollcall::db::imap_state::take_lease(&mut conn, "crashed", now, until).unwrap());
    }
    dovecot
        .append(fixture(&app, "microsoft_policy", &ben_message).as_bytes())
        .await;
    let after_crash = poller(&app);
    assert_eq!(poll(&app, &after_crash).await, PollOutcome::Skipped);
    app.clock.advance(Duration::minutes(5));
    assert_eq!(after_crash.poll_once().await, polled(1));
    assert_eq!(bounces_from_imap(&app), 4);
    assert!(dovecot.messages().await.iter().all(|(_, seen)| *seen));
}

async fn two_pollers_at_once_never_read_the_same_message(backend: Backend) {
    let Some((app, dovecot)) = app_with_mailbox(backend, concat!(module_path!(), "::two")).await
    else {
        return;
    };
    let mut messages = Vec::new();
    for name in ["ana", "ben", "cai", "dee"] {
        let (_, message) = member_with_message(&app, &format!("{name}@example.org")).await;
        messages.push(message);
    }
    let (first, second) = (poller(&app), poller(&app));
    let mut appended = 0;
    for round in messages.chunks(2) {
        for message in round {
            dovecot
                .append(fixture(&app, "postfix_hard", message).as_bytes())
                .await;
            dovecot
                .append(fixture(&app, "arf_complaint", message).as_bytes())
                .await;
            appended += 2;
        }
        app.clock.advance(Duration::seconds(60));
        let (a, b) = tokio::join!(first.poll_once(), second.poll_once());
        let mut outcomes = [a, b];
        outcomes.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(outcomes, [polled(round.len() * 2), PollOutcome::Skipped]);
    }
    assert_eq!(counted(&app, "hard").await, 4);
    assert_eq!(counted(&app, "duplicate").await, 0);
    assert_eq!(
        counted(&app, "complaint").await,
        4,
        "a complaint about a message that also bounced is an event of its own"
    );
    assert_eq!(bounces_from_imap(&app), appended);
    assert_eq!(dovecot.messages().await.len(), appended as usize);
}

async fn a_new_uidvalidity_rereads_the_mailbox_without_a_second_event(backend: Backend) {
    let Some((app, dovecot)) =
        app_with_mailbox(backend, concat!(module_path!(), "::uidvalidity")).await
    else {
        return;
    };
    let (ana, ana_message) = member_with_message(&app, "ana@example.org").await;
    let (_, ben_message) = member_with_message(&app, "ben@example.org").await;
    dovecot
        .append(fixture(&app, "postfix_hard", &ana_message).as_bytes())
        .await;
    let poller = poller(&app);
    assert_eq!(poll(&app, &poller).await, polled(1));

    dovecot.set_uid_validity(424_242);
    dovecot
        .append(fixture(&app, "gmail_soft", &ben_message).as_bytes())
        .await;
    assert_eq!(
        poll(&app, &poller).await,
        polled(2),
        "the whole mailbox again"
    );
    assert_eq!(counted(&app, "duplicate").await, 1);
    assert_eq!(counted(&app, "soft").await, 1);
    assert_eq!(bounces_from_imap(&app), 2);
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);
    let state = rollcall::db::imap_state::find(&mut app.db())
        .unwrap()
        .unwrap();
    assert_eq!((state.uid_validity, state.last_uid), (Some(424_242), 2));
    assert_eq!(poll(&app, &poller).await, polled(0));
}

async fn a_mailbox_that_is_down_is_retried_and_delivery_goes_on(backend: Backend) {
    let Some((app, mut dovecot)) =
        app_with_mailbox(backend, concat!(module_path!(), "::down")).await
    else {
        return;
    };
    app.add_organiser("organiser@example.org", "correct horse battery staple");
    let (ana, ana_message) = member_with_message(&app, "ana@example.org").await;
    dovecot
        .append(fixture(&app, "postfix_hard", &ana_message).as_bytes())
        .await;
    dovecot.stop();

    let poller = poller(&app);
    let PollOutcome::Failed { error } = poll(&app, &poller).await else {
        panic!("a poll of a stopped mailbox must fail");
    };
    assert!(error.starts_with("connect: "), "{error}");
    // Mail goes out as ever.
    assert_eq!(app.sign_up("ben@example.org").await.status(), 303);
    app.deliver().await;
    assert_eq!(app.mail_to("ben@example.org").len(), 1);
    assert_eq!(
        metric(&app, "rollcall_bounce_imap_errors_total{stage=\"connect\"}").await,
        1
    );
    app.log_in("organiser@example.org", "correct horse battery staple")
        .await;
    let dashboard = app.get_text("/admin").await;
    assert!(
        dashboard.contains("<p id=\"imap-status\">Bounce mailbox (IMAP) failing since ")
            // UTC, then the time in the organisers' zone (the first of dashboard.zones).
            && dashboard.contains(" Perth): connect: "),
        "{dashboard}"
    );

    // Still down: the wait doubles (60 s, then 120 s).
    assert!(matches!(
        poll(&app, &poller).await,
        PollOutcome::Failed { .. }
    ));
    assert_eq!(poll(&app, &poller).await, PollOutcome::Skipped);
    dovecot.start_again();
    assert_eq!(poll(&app, &poller).await, polled(1));
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("bounced".to_owned()))
    );
    assert!(
        !app.get_text("/admin").await.contains("imap-status"),
        "the line goes once the mailbox answers"
    );
    assert_eq!(dovecot.messages().await, vec![(1, true)]);
}

async fn the_pollers_of_a_worker_and_a_server_process_read_each_message_once(backend: Backend) {
    let Some((app, dovecot)) =
        app_with_mailbox(backend, concat!(module_path!(), "::processes")).await
    else {
        return;
    };
    let mut messages = Vec::new();
    for name in ["ana", "ben", "cai", "dee", "eve", "fay"] {
        let (_, message) = member_with_message(&app, &format!("{name}@example.org")).await;
        messages.push(message);
    }
    let env = [
        (
            "ROLLCALL__EMAIL__BOUNCE__ADDRESS",
            "bounces@example.org".to_owned(),
        ),
        (
            "ROLLCALL__EMAIL__BOUNCE__IMAP__HOST",
            "127.0.0.1".to_owned(),
        ),
        (
            "ROLLCALL__EMAIL__BOUNCE__IMAP__PORT",
            dovecot.port.to_string(),
        ),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__TLS", "none".to_owned()),
        (
            "ROLLCALL__EMAIL__BOUNCE__IMAP__USERNAME",
            crate::dovecot::USER.to_owned(),
        ),
        (
            "ROLLCALL__EMAIL__BOUNCE__IMAP__PASSWORD",
            crate::dovecot::PASSWORD.to_owned(),
        ),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__POLL_SECS", "1".to_owned()),
        ("ROLLCALL__LOG__LEVEL", "info".to_owned()),
    ];
    // `rollcall worker`, and `rollcall serve` with its worker on.
    let worker =
        RollcallProcess::worker(&app.database.raw_url, &app.address, app.smtp.port(), &env);
    let mut serve_env = env.to_vec();
    serve_env.extend([
        ("ROLLCALL__EMAIL__WORKER_ENABLED", "true".to_owned()),
        ("ROLLCALL__EMAIL__TRANSPORT", "smtp".to_owned()),
        ("ROLLCALL__EMAIL__SMTP__HOST", "127.0.0.1".to_owned()),
        ("ROLLCALL__EMAIL__SMTP__PORT", app.smtp.port().to_string()),
        ("ROLLCALL__EMAIL__SMTP__TLS", "none".to_owned()),
    ]);
    let (server, _) = RollcallProcess::server(&app.database.raw_url, &serve_env).await;
    let workers = [worker, server];
    for message in &messages {
        dovecot
            .append(fixture(&app, "postfix_hard", message).as_bytes())
            .await;
    }
    let timeout = std::time::Duration::from_secs(30);
    wait_until("every report is recorded", timeout, || {
        bounces_from_imap(&app) == messages.len() as i64
    })
    .await;
    let deadline = std::time::Instant::now() + timeout;
    while dovecot.messages().await.iter().any(|(_, seen)| !seen) {
        assert!(
            std::time::Instant::now() < deadline,
            "not all marked \\Seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut processed = 0;
    for mut worker in workers {
        worker.assert_running();
        worker.terminate();
        let log = worker.output();
        assert!(log.contains("bounce mailbox poller started"), "{log}");
        processed += log.matches("bounce mailbox message processed").count();
    }
    assert_eq!(
        processed,
        messages.len(),
        "each message read by one process once"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'unsubscribed'"),
        messages.len() as i64
    );
}

async fn a_tls_setting_the_server_does_not_speak_fails_at_the_tls_step(backend: Backend) {
    if !dovecot_available(concat!(module_path!(), "::tls")) {
        return;
    }
    // This Dovecot has no TLS at all: TLS from the first byte meets its plain
    // greeting, and STARTTLS is refused.
    let dovecot = Dovecot::start();
    for tls in ["tls", "starttls"] {
        let mut imap = dovecot.settings();
        imap["tls"] = json!(tls);
        let app = spawn_app_with(
            backend,
            json!({"email": {"bounce": {"address": "bounces@example.org", "imap": imap}}}),
        )
        .await;
        let PollOutcome::Failed { error } = poll(&app, &poller(&app)).await else {
            panic!("{tls} against a server without TLS must fail");
        };
        assert!(error.starts_with("tls: "), "{tls}: {error}");
        assert_eq!(
            metric(&app, "rollcall_bounce_imap_errors_total{stage=\"tls\"}").await,
            1
        );
    }
}
