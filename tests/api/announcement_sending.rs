//! Sending announcements through the worker: every member one copy, the
//! announcement `sent` only when nothing is left; an SMTP outage and 4xx
//! replies delay but lose nothing; permanent failures pause it; members who
//! leave or are erased after the start get nothing; schedules start once
//! however many workers race, and a late one is held; a pause stops the sends
//! of a batch already claimed.

use crate::announcing::{self, BODY};
use crate::helpers::{Backend, TestApp, seed_registrations, spawn_app_with, token_of, valid_json};
use crate::leases::GatedRelay;
use crate::on_both_backends;
use crate::smtp_server::SmtpServer;
use chrono::Duration;
use rollcall::clock::Clock;
use rollcall::db::announcements::{self, DeliveryCounts, TestSend, Transition};
use rollcall::domain::EmailAddress;
use rollcall::domain::announcement::{Action, AnnouncementStatus, MISSED_ITS_TIME};
use serde_json::json;
use std::collections::HashSet;

on_both_backends!(
    every_member_gets_one_copy_and_the_announcement_is_sent_only_at_the_end,
    smtp_down_for_part_of_the_send_then_everything_arrives_once,
    permanent_failures_pause_the_announcement_and_organisers_are_told,
    members_who_leave_or_are_erased_after_the_start_get_nothing,
    two_workers_racing_a_due_schedule_create_one_set_of_deliveries,
    a_schedule_found_seven_hours_late_returns_to_draft_and_organisers_are_told,
    a_pause_stops_the_sends_of_a_batch_already_claimed,
);

async fn app_with(backend: Backend, email: serde_json::Value) -> TestApp {
    spawn_app_with(backend, json!({ "email": email })).await
}

async fn every_member_gets_one_copy_and_the_announcement_is_sent_only_at_the_end(backend: Backend) {
    let app = app_with(backend, json!({"batch_size": 10})).await;
    seed_registrations(&mut app.db(), 30);
    app.add_organiser("organiser@example.org", "a long enough password");
    let id = announcing::draft(&app, "First meetup");
    let tests = [
        EmailAddress::parse("me@example.net").unwrap(),
        EmailAddress::parse("colleague@example.net").unwrap(),
    ];
    let now = app.clock.now_naive();
    let queued =
        announcements::queue_tests(&mut app.db(), &id, &tests, "cli:test", 20, "127.0.0.1", now)
            .unwrap();
    assert_eq!(queued, TestSend::Queued(2));
    assert_eq!(
        announcing::act(&app, &id, Action::SendNow),
        Transition::Done(AnnouncementStatus::Sending)
    );

    let worker = app.worker();
    let mut passes = 0;
    while announcing::counts(&app, &id).queued > 0 {
        assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sending);
        worker.run_once().await.unwrap();
        passes += 1;
        assert!(passes < 10, "30 deliveries in batches of 10");
    }
    assert!(passes >= 3, "the send took several batches");
    app.deliver().await;
    let row = announcing::find(&app, &id);
    assert_eq!(row.status(), AnnouncementStatus::Sent);
    assert!(row.finished_at.is_some());
    assert_eq!(
        announcing::counts(&app, &id),
        DeliveryCounts {
            sent: 30,
            ..Default::default()
        }
    );

    let mut unsubscribe_links = HashSet::new();
    for address in announcing::seeded(30) {
        let mails = app.mail_to(&address);
        assert_eq!(mails.len(), 1, "{address}");
        let mail = &mails[0];
        assert_eq!(mail.subject().as_deref(), Some("First meetup"));
        assert_eq!(mail.header("Precedence").as_deref(), Some("bulk"));
        assert!(mail.header("List-Id").is_some());
        let text = mail.text_body().unwrap();
        assert!(text.contains("the site <https://pangeo.io>"), "{text}");
        let link = crate::helpers::link_in(&text, "/unsubscribe?token=");
        assert_eq!(
            mail.header("List-Unsubscribe"),
            Some(format!("<{link}>")),
            "the header and the body name the member's own link"
        );
        unsubscribe_links.insert(token_of(&link));
    }
    assert_eq!(unsubscribe_links.len(), 30, "each member's own link");
    for address in ["me@example.net", "colleague@example.net"] {
        let mails = app.mail_to(address);
        assert_eq!(mails.len(), 1, "{address}");
        assert_eq!(mails[0].subject().as_deref(), Some("[Test] First meetup"));
    }
    let notice = app.mail_to("organiser@example.org");
    assert_eq!(notice.len(), 1, "the organiser is told it was sent");
    assert_eq!(notice[0].subject().as_deref(), Some("Sent: First meetup"));
    assert!(!notice[0].text_body().unwrap().contains(BODY));
}

async fn smtp_down_for_part_of_the_send_then_everything_arrives_once(backend: Backend) {
    let app = app_with(
        backend,
        json!({"batch_size": 10, "retry_base_secs": 30, "retry_max_secs": 60}),
    )
    .await;
    seed_registrations(&mut app.db(), 30);
    app.add_organiser("organiser@example.org", "a long enough password");
    let id = announcing::send_now(&app, "While the relay naps");
    let worker = app.worker();
    assert_eq!(worker.run_once().await.unwrap(), 10);
    assert_eq!(app.smtp.messages().len(), 10);

    app.smtp.stop().await;
    assert_eq!(
        worker.run_once().await.unwrap(),
        10,
        "claimed, then deferred"
    );
    let relay = rollcall::db::relay::find(&mut app.db()).unwrap().unwrap();
    assert!(relay.failing_since.is_some(), "{relay:?}");
    assert_eq!(relay.stage.as_deref(), Some("connect"));
    assert!(
        relay.refused_at.is_none(),
        "a refused connection is no refusal"
    );
    let counts = announcing::counts(&app, &id);
    assert_eq!((counts.sent, counts.queued), (10, 20));
    for row in app.outbox().iter().filter(|r| r.status == "queued") {
        assert_eq!(
            row.attempts, 0,
            "the relay's outage is not the message's attempt"
        );
    }
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sending);

    app.smtp.restart().await;
    app.smtp.fail_next_data(3, "451 4.3.0 try again later");
    for _ in 0..6 {
        app.clock.advance(Duration::seconds(61));
        app.deliver().await;
    }
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
    for address in announcing::seeded(30) {
        assert_eq!(app.mail_to(&address).len(), 1, "{address}");
    }
    let retried = app
        .outbox()
        .into_iter()
        .filter(|r| r.kind == "announcement" && r.attempts == 2)
        .count();
    assert_eq!(retried, 3, "each 451 was retried once");
    let relay = rollcall::db::relay::find(&mut app.db()).unwrap().unwrap();
    assert!(relay.failing_since.is_none(), "{relay:?}");
    assert!(
        announcing::notices(&app, "relay_refused").is_empty(),
        "an outage earns no relay notice"
    );
    assert_eq!(announcing::notices(&app, "announcement_sent").len(), 1);
}

async fn permanent_failures_pause_the_announcement_and_organisers_are_told(backend: Backend) {
    let app = app_with(backend, json!({"batch_size": 10})).await;
    seed_registrations(&mut app.db(), 60);
    app.add_organiser("first@example.org", "a long enough password");
    app.add_organiser("second@example.org", "a long enough password");
    // 44 of the 60: person1, person10–19, … person4, person40–49.
    for prefix in ["person1", "person2", "person3", "person4"] {
        app.smtp.reject_rcpt(prefix, "550 5.1.1 no such user");
    }
    let id = announcing::send_now(&app, "Doomed");
    app.deliver().await;

    let row = announcing::find(&app, &id);
    assert_eq!(row.status(), AnnouncementStatus::Paused);
    let reason = row.status_reason.clone().unwrap();
    let (failed, rest) = reason.split_once(" of the last ").unwrap();
    let failed: usize = failed.parse().unwrap();
    assert!(failed >= 25, "{reason}");
    assert!(rest.ends_with(" deliveries failed permanently"), "{reason}");
    let counts = announcing::counts(&app, &id);
    assert!(counts.queued > 0, "it stopped before the end: {counts:?}");
    assert_eq!(counts.failed, i64::try_from(failed).unwrap());

    let told = announcing::notices(&app, "announcement_paused");
    assert_eq!(told.len(), 2, "one notice per organiser");
    assert!(told.iter().all(|(_, status)| status == "sent"));
    for organiser in ["first@example.org", "second@example.org"] {
        let mails = app.mail_to(organiser);
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject().as_deref(), Some("Paused: Doomed"));
        assert!(mails[0].text_body().unwrap().contains(&reason));
    }
    assert_eq!(
        app.deliver().await,
        0,
        "a paused announcement sends nothing"
    );
    assert_eq!(
        announcing::act(&app, &id, Action::Cancel),
        Transition::Done(AnnouncementStatus::Cancelled)
    );
}

async fn members_who_leave_or_are_erased_after_the_start_get_nothing(backend: Backend) {
    let app = app_with(backend, json!({})).await;
    for address in [
        "stays@example.org",
        "leaves@example.org",
        "erased@example.org",
    ] {
        app.confirmed_member(address).await;
    }
    let leave = app.unsubscribe_link("leaves@example.org");
    let address = EmailAddress::parse("erased@example.org").unwrap();
    let erased = rollcall::db::registrations::find_by_email_key(&mut app.db(), address.key())
        .unwrap()
        .unwrap()
        .id;
    let id = announcing::send_now(&app, "After the start");
    assert_eq!(announcing::counts(&app, &id).queued, 3);

    let unsubscribed = reqwest::Client::new()
        .post(&leave)
        .multipart(reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsubscribed.status(), 200);
    let now = app.clock.now_naive();
    assert!(
        rollcall::db::erasure::erase(&mut app.db(), &app.state.keys, &erased, "cli:test", now)
            .unwrap()
    );
    app.smtp.clear();
    app.deliver().await;

    assert_eq!(app.mail_to("stays@example.org").len(), 1);
    assert!(app.mail_to("leaves@example.org").is_empty());
    assert!(app.mail_to("erased@example.org").is_empty());
    let counts = announcing::counts(&app, &id);
    assert_eq!(
        counts,
        DeliveryCounts {
            sent: 1,
            cancelled: 1,
            ..Default::default()
        }
    );
    assert_eq!(counts.audience(), 2, "the erased member's delivery is gone");
    assert!(
        app.outbox()
            .iter()
            .all(|r| r.registration_id.as_deref() != Some(erased.as_str())),
        "every row of the erased member is gone"
    );
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
}

async fn two_workers_racing_a_due_schedule_create_one_set_of_deliveries(backend: Backend) {
    let app = app_with(backend, json!({})).await;
    seed_registrations(&mut app.db(), 20);
    let id = announcing::draft(&app, "On time");
    let at = app.clock.now_naive() + Duration::hours(1);
    assert_eq!(
        announcing::act_at(&app, &id, Action::Schedule, Some(at)),
        Transition::Done(AnnouncementStatus::Scheduled)
    );
    let (first, second) = (app.worker(), app.worker());
    let (a, b) = tokio::join!(first.run_once(), second.run_once());
    assert_eq!((a.unwrap(), b.unwrap()), (0, 0), "not due yet");
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Scheduled);
    assert_eq!(announcing::counts(&app, &id).audience(), 0);

    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let (a, b) = tokio::join!(first.run_once(), second.run_once());
    a.unwrap();
    b.unwrap();
    assert_eq!(announcing::counts(&app, &id).audience(), 20, "one set");
    app.deliver().await;
    for address in announcing::seeded(20) {
        assert_eq!(app.mail_to(&address).len(), 1, "{address}");
    }
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
}

async fn a_schedule_found_seven_hours_late_returns_to_draft_and_organisers_are_told(
    backend: Backend,
) {
    let app = app_with(backend, json!({})).await;
    seed_registrations(&mut app.db(), 5);
    app.add_organiser("organiser@example.org", "a long enough password");
    let id = announcing::draft(&app, "Too late");
    let at = app.clock.now_naive() + Duration::hours(1);
    announcing::act_at(&app, &id, Action::Schedule, Some(at));
    app.clock.advance(Duration::hours(8));
    app.deliver().await;

    let row = announcing::find(&app, &id);
    assert_eq!(row.status(), AnnouncementStatus::Draft);
    assert_eq!(row.status_reason.as_deref(), Some(MISSED_ITS_TIME));
    assert_eq!(announcing::counts(&app, &id).audience(), 0, "nothing sent");
    assert_eq!(announcing::notices(&app, "missed_its_time").len(), 1);
    let mails = app.mail_to("organiser@example.org");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject().as_deref(), Some("Not sent: Too late"));
    assert!(app.mail_to("person1@example.org").is_empty());
}

/// Worker A claims all three deliveries and starts the first; the relay holds
/// it. The announcement is paused; then the relay lets A go on. The send in
/// flight completes; the other two are put back, unsent and uncounted, and go
/// out once it is resumed.
async fn a_pause_stops_the_sends_of_a_batch_already_claimed(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let mut relay = GatedRelay::start(smtp.addr()).await;
    let app = app_with(
        backend,
        json!({"smtp": {"port": relay.port, "pool_size": 1}, "batch_size": 3}),
    )
    .await;
    seed_registrations(&mut app.db(), 3);
    let id = announcing::send_now(&app, "Hold on");
    let worker = app.worker();
    let busy = tokio::spawn(async move { worker.run_once().await.unwrap() });
    relay.first_connection().await;
    assert_eq!(
        announcing::act(&app, &id, Action::Pause),
        Transition::Done(AnnouncementStatus::Paused)
    );
    relay.open();
    assert_eq!(busy.await.unwrap(), 3);

    assert_eq!(smtp.messages().len(), 1, "only the send already under way");
    let counts = announcing::counts(&app, &id);
    assert_eq!((counts.sent, counts.queued), (1, 2));
    for row in app.outbox().iter().filter(|r| r.status == "queued") {
        assert_eq!(row.attempts, 0);
        assert!(row.leased_until.is_none(), "put back");
        assert!(
            row.next_attempt_at <= app.clock.now_naive(),
            "due on resume"
        );
    }
    assert_eq!(
        announcing::delivery_attempt_times(&app).len(),
        1,
        "no attempt recorded for the two put back"
    );
    assert_eq!(app.deliver().await, 0, "paused: nothing is claimed");

    assert_eq!(
        announcing::act(&app, &id, Action::Resume),
        Transition::Done(AnnouncementStatus::Sending)
    );
    app.deliver().await;
    let mut arrived: Vec<String> = smtp
        .messages()
        .into_iter()
        .flat_map(|m| m.rcpt_to)
        .collect();
    arrived.sort();
    assert_eq!(arrived, announcing::seeded(3));
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
    // A signup afterwards still goes through the same worker.
    assert_eq!(
        app.post_json(&valid_json("later@example.org"))
            .await
            .status(),
        202
    );
    app.deliver().await;
    assert_eq!(smtp.messages_to("later@example.org").len(), 1);
}
