//! Pacing through the shared counters: two workers on one manual clock,
//! stepped a second at a time, never start more than the rate in a clock
//! minute; a pause and resume release no burst; the daily cap holds across
//! the UTC day boundary (test sends count toward it); a confirmation queued
//! mid-send is not held behind the announcement.

use crate::announcing;
use crate::helpers::{Backend, TestApp, seed_registrations, spawn_app_with, valid_json};
use crate::on_both_backends;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rollcall::clock::Clock;
use rollcall::db::announcements::{self, TestSend};
use rollcall::db::pacing;
use rollcall::domain::EmailAddress;
use rollcall::domain::announcement::{Action, AnnouncementStatus};
use rollcall::email::worker::Worker;
use serde_json::json;

on_both_backends!(
    two_workers_never_start_more_than_the_rate_in_a_clock_minute,
    a_ten_minute_pause_then_resume_releases_no_burst,
    the_daily_cap_holds_across_the_utc_day_boundary,
    a_confirmation_queued_mid_send_goes_out_on_the_next_pass,
);

const RATE: usize = 5;

async fn paced_app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        json!({"email": {"announcement_rate_per_minute": RATE, "batch_size": 10}}),
    )
    .await
}

/// One second later, both workers make one pass each, at once.
async fn step(app: &TestApp, workers: &[Worker; 2]) -> usize {
    app.clock.advance(Duration::seconds(1));
    let (a, b) = tokio::join!(workers[0].run_once(), workers[1].run_once());
    a.unwrap() + b.unwrap()
}

/// Steps until the announcement is sent (at most `limit` seconds).
async fn step_until_sent(app: &TestApp, workers: &[Worker; 2], id: &str, limit: i64) {
    for _ in 0..limit {
        if announcing::status(app, id) == AnnouncementStatus::Sent {
            return;
        }
        step(app, workers).await;
    }
    panic!(
        "not sent after {limit} s: {:?}",
        announcing::counts(app, id)
    );
}

fn assert_paced(app: &TestApp) {
    for (what, times) in [
        ("attempts", announcing::delivery_attempt_times(app)),
        ("sends", announcing::sent_times(app)),
    ] {
        for (minute, n) in announcing::per_minute(&times) {
            assert!(n <= RATE, "{n} {what} in the minute {minute}");
        }
    }
}

async fn two_workers_never_start_more_than_the_rate_in_a_clock_minute(backend: Backend) {
    let app = paced_app(backend).await;
    seed_registrations(&mut app.db(), 30);
    let id = announcing::send_now(&app, "Paced");
    let workers = [app.worker(), app.worker()];
    step_until_sent(&app, &workers, &id, 8 * 60).await;

    assert_paced(&app);
    let minutes = announcing::per_minute(&announcing::sent_times(&app));
    assert_eq!(minutes.len(), 30 / RATE, "full minutes: {minutes:?}");
    assert!(minutes.values().all(|&n| n == RATE), "{minutes:?}");
    for address in announcing::seeded(30) {
        assert_eq!(app.mail_to(&address).len(), 1, "{address}");
    }
    assert!(
        app.outbox()
            .iter()
            .filter(|r| r.kind == "announcement")
            .all(|r| r.attempts == 1),
        "every delivery started once"
    );
}

async fn a_ten_minute_pause_then_resume_releases_no_burst(backend: Backend) {
    let app = paced_app(backend).await;
    seed_registrations(&mut app.db(), 30);
    let id = announcing::send_now(&app, "Interrupted");
    let workers = [app.worker(), app.worker()];
    // 09:00:01 to 09:01:59: two minutes.
    for _ in 0..119 {
        step(&app, &workers).await;
    }
    assert_eq!(announcing::counts(&app, &id).sent, 2 * RATE as i64);

    assert_eq!(
        announcing::act(&app, &id, Action::Pause),
        rollcall::db::announcements::Transition::Done(AnnouncementStatus::Paused)
    );
    let before = announcing::delivery_attempt_times(&app).len();
    for _ in 0..600 {
        assert_eq!(step(&app, &workers).await, 0, "nothing starts while paused");
    }
    assert_eq!(announcing::delivery_attempt_times(&app).len(), before);

    announcing::act(&app, &id, Action::Resume);
    let resumed = app.clock.now_naive();
    step_until_sent(&app, &workers, &id, 8 * 60).await;
    assert_paced(&app);
    let after: Vec<_> = announcing::sent_times(&app)
        .into_iter()
        .filter(|t| *t > resumed)
        .collect();
    assert_eq!(after.len(), 30 - 2 * RATE);
    let first_minute = announcing::per_minute(&after).into_values().next().unwrap();
    assert!(first_minute <= RATE, "no burst on resume: {first_minute}");
}

async fn the_daily_cap_holds_across_the_utc_day_boundary(backend: Backend) {
    const CAP: i64 = 10;
    let app = spawn_app_with(
        backend,
        json!({"email": {"announcement_rate_per_minute": 0, "announcement_daily_cap": CAP}}),
    )
    .await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 26, 23, 50, 0).unwrap());
    seed_registrations(&mut app.db(), 25);
    let id = announcing::draft(&app, "Capped");
    let tests = [
        EmailAddress::parse("me@example.net").unwrap(),
        EmailAddress::parse("you@example.net").unwrap(),
    ];
    let now = app.clock.now_naive();
    assert_eq!(
        announcements::queue_tests(&mut app.db(), &id, &tests, "cli:test", 20, "127.0.0.1", now)
            .unwrap(),
        TestSend::Queued(2)
    );
    announcing::act(&app, &id, Action::SendNow);

    app.deliver().await;
    assert_eq!(app.mail_to("me@example.net").len(), 1, "tests are not held");
    assert_eq!(announcing::counts(&app, &id).sent, CAP - 2, "tests count");
    app.clock.advance(Duration::minutes(9));
    assert_eq!(app.deliver().await, 0, "23:59: the day's cap is used up");

    app.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));
    app.deliver().await;
    assert_eq!(
        announcing::counts(&app, &id).sent,
        2 * CAP - 2,
        "a new UTC day"
    );
    app.clock.advance(Duration::hours(23));
    assert_eq!(app.deliver().await, 0, "still the 27th");

    app.clock.advance(Duration::hours(1));
    app.deliver().await;
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
    let mut per_day = std::collections::BTreeMap::<NaiveDate, i64>::new();
    for row in app.outbox() {
        if let Some(at) = row.sent_at.filter(|_| row.kind != "notice") {
            *per_day.entry(at.date()).or_default() += 1;
        }
    }
    assert_eq!(per_day.values().copied().collect::<Vec<_>>(), [10, 10, 7]);
    assert_eq!(
        pacing::admitted(&mut app.db(), "day:2026-11-26").unwrap(),
        CAP
    );

    // The retention sweep forgets counters two days old.
    app.clock.advance(Duration::days(3));
    app.state.retention().sweep().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM send_counters"), 0);
}

async fn a_confirmation_queued_mid_send_goes_out_on_the_next_pass(backend: Backend) {
    let app = paced_app(backend).await;
    seed_registrations(&mut app.db(), 30);
    let id = announcing::send_now(&app, "Busy minute");
    let workers = [app.worker(), app.worker()];
    step(&app, &workers).await;
    assert_eq!(announcing::counts(&app, &id).sent, RATE as i64);

    assert_eq!(
        app.post_json(&valid_json("newcomer@example.org"))
            .await
            .status(),
        202
    );
    step(&app, &workers).await;
    assert_eq!(
        app.mail_to("newcomer@example.org").len(),
        1,
        "the confirmation does not wait for the announcement"
    );
    assert_eq!(announcing::counts(&app, &id).sent, RATE as i64);
    step_until_sent(&app, &workers, &id, 8 * 60).await;
    assert_paced(&app);
}
