//! Organisers' digests through the worker, on the manual clock and the real
//! SMTP server: one per organiser and period however many workers run, none
//! for a period with nothing in it, none late after a day without a worker,
//! numbers equal to the stored events of the window, windows that follow
//! summer time in Australia/Sydney, weekly keys that are ISO weeks, and
//! `rollcall organiser digest`.

use crate::announcing;
use crate::helpers::{Backend, TestApp, seed_registrations, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::smtp_server::ReceivedMail;
use chrono::{NaiveDateTime, TimeZone, Utc};
use rollcall::bounces::report::BounceClass;
use rollcall::clock::Clock;
use rollcall::db::bounces::{self, BounceSource, NewBounce};
use rollcall::db::digests::{self, Due};
use rollcall::db::outbox::OutboxRow;
use serde_json::json;

on_both_backends!(
    the_numbers_in_a_digest_are_the_events_of_its_window,
    two_workers_at_once_queue_one_digest_per_organiser_and_period,
    a_period_with_nothing_in_it_sends_no_digest,
    a_worker_down_over_the_whole_send_day_sends_no_late_digest,
    windows_follow_summer_time_in_sydney,
    weekly_digests_are_iso_weeks,
    the_cli_turns_digests_on_and_off,
);

/// An organiser who gets `frequency` digests.
fn organiser_with_digest(app: &TestApp, email: &str, frequency: &str) {
    app.add_organiser(email, "a long enough password");
    let mut conn = app.db();
    let organiser = rollcall::db::organisers::find_by_email_key(&mut conn, email)
        .unwrap()
        .unwrap();
    let now = app.clock.now_naive();
    rollcall::db::organisers::set_digest(&mut conn, &organiser.id, frequency, now).unwrap();
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

fn naive(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    at(y, m, d, h, min, s).naive_utc()
}

/// The digest rows in the outbox, oldest first.
fn digest_rows(app: &TestApp) -> Vec<OutboxRow> {
    app.outbox()
        .into_iter()
        .filter(|row| row.kind == "digest")
        .collect()
}

fn digest_keys(app: &TestApp) -> Vec<String> {
    digest_rows(app)
        .into_iter()
        .map(|row| row.digest_key.unwrap())
        .collect()
}

/// The digests `organiser` received, in order.
fn digests_to(app: &TestApp, organiser: &str) -> Vec<ReceivedMail> {
    let prefix = format!("{}: ", app.settings.group.name);
    app.mail_to(organiser)
        .into_iter()
        .filter(|mail| mail.subject().is_some_and(|s| s.starts_with(&prefix)))
        .collect()
}

/// The one digest `organiser` received with `subject`.
fn digest_titled(app: &TestApp, organiser: &str, title: &str) -> ReceivedMail {
    let subject = format!("{}: {title}", app.settings.group.name);
    let mut found: Vec<ReceivedMail> = digests_to(app, organiser)
        .into_iter()
        .filter(|mail| mail.subject().as_deref() == Some(subject.as_str()))
        .collect();
    assert_eq!(found.len(), 1, "one digest \"{subject}\" to {organiser}");
    found.remove(0)
}

/// The number on the table line `label` of a digest's text.
fn number(mail: &ReceivedMail, label: &str) -> i64 {
    let text = mail.text_body().unwrap();
    let line = text
        .lines()
        .find(|line| {
            line.trim_start()
                .strip_prefix(label)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .unwrap_or_else(|| panic!("a line {label:?} in\n{text}"));
    line.split_whitespace().last().unwrap().parse().unwrap()
}

/// Signs `email` up at `when`, and delivers its confirmation then.
async fn sign_up_at(app: &TestApp, email: &str, when: chrono::DateTime<Utc>) {
    app.clock.set(when);
    assert_eq!(app.sign_up(email).await.status(), 303, "signup of {email}");
    app.deliver().await;
}

/// The outbox id of the welcome sent to `email`.
fn welcome_of(app: &TestApp, email: &str) -> String {
    let registration = rollcall::db::registrations::find_by_email_key(&mut app.db(), email)
        .unwrap()
        .unwrap();
    app.outbox()
        .into_iter()
        .find(|row| row.kind == "welcome" && row.registration_id.as_ref() == Some(&registration.id))
        .unwrap()
        .id
}

/// Counts rows with a time column in `[from, to)`.
fn in_window(app: &TestApp, table_and_filter: &str, column: &str, from: &str, to: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM {table_and_filter} AND {column} >= '{from}' AND {column} < '{to}'"
    ))
}

async fn the_numbers_in_a_digest_are_the_events_of_its_window(backend: Backend) {
    let app = spawn_app(backend).await;
    let organiser = "daily@example.org";
    organiser_with_digest(&app, organiser, "daily");
    // Perth (the first dashboard zone) is UTC+8: Thursday 26 November there is
    // [Wed 16:00, Thu 16:00) UTC.
    sign_up_at(&app, "wednesday@example.org", at(2026, 11, 25, 15, 59, 59)).await;
    sign_up_at(&app, "midnight@example.org", at(2026, 11, 25, 16, 0, 0)).await;

    app.clock.set(at(2026, 11, 26, 9, 0, 0));
    app.confirmed_member("ana@example.org").await;
    app.confirmed_member("ben@example.org").await;
    app.unsubscribed_member("cat@example.org").await;
    app.confirmed_member("dan@example.org").await;
    let dan_welcome = welcome_of(&app, "dan@example.org");
    let hard = NewBounce {
        class: BounceClass::Hard,
        status_code: Some("5.1.1"),
        outbox_id: Some(&dan_welcome),
        report_part: b"",
        source: BounceSource::Cli,
    };
    let now = app.clock.now_naive();
    assert_eq!(
        bounces::record(&mut app.db(), &hard, now).unwrap().as_str(),
        "hard"
    );
    let policy = NewBounce {
        class: BounceClass::Policy,
        status_code: Some("5.7.1"),
        outbox_id: None,
        report_part: b"a report matching nobody",
        source: BounceSource::Cli,
    };
    assert_eq!(
        bounces::record(&mut app.db(), &policy, now)
            .unwrap()
            .as_str(),
        "unmatched"
    );
    // Refused at RCPT without a 5.1.x status: failed, never a bounce.
    app.smtp.reject_rcpt("eve@", "550 5.7.1 not from you");
    assert_eq!(app.sign_up("eve@example.org").await.status(), 303);
    app.deliver().await;
    seed_registrations(&mut app.db(), 3);
    let announcement = announcing::send_now(&app, "December meetup");
    app.deliver().await;
    assert_eq!(announcing::status(&app, &announcement).as_str(), "sent");

    // Friday 00:00 in Perth: the next day's.
    sign_up_at(&app, "friday@example.org", at(2026, 11, 26, 16, 0, 0)).await;
    // 08:00 Friday in Perth: Thursday's digest.
    app.clock.set(at(2026, 11, 27, 0, 0, 0));
    app.deliver().await;

    // Wednesday's went out on Thursday afternoon, with the one signup before midnight.
    let wednesday = digest_titled(&app, organiser, "Wednesday 25 November");
    assert_eq!(number(&wednesday, "Signups"), 1);
    let mail = digest_titled(&app, organiser, "Thursday 26 November");
    let expected = [
        // midnight, ana, ben, cat, dan, eve
        ("Signups", 6),
        ("Confirmations", 4),
        ("Unsubscribes", 2),
        ("by the person or an organiser", 1),
        ("after a bounce", 1),
        ("after a complaint", 0),
        ("Bounce reports", 2),
        ("hard", 1),
        ("soft", 0),
        ("complaint", 0),
        ("policy (the receiver refused us)", 1),
        ("Failed deliveries", 1),
        ("Announcements sent", 1),
    ];
    for (label, value) in expected {
        assert_eq!(number(&mail, label), value, "{label}");
    }
    // The same numbers, straight from the stored events of the window.
    let (from, to) = ("2026-11-25 16:00:00", "2026-11-26 16:00:00");
    let ledger = |event: &str| {
        in_window(
            &app,
            &format!("ledger WHERE event = '{event}'"),
            "at",
            from,
            to,
        )
    };
    assert_eq!(ledger("signup"), 6);
    assert_eq!(ledger("confirm"), 4);
    assert_eq!(ledger("unsubscribe") + ledger("bounce"), 2);
    assert_eq!(
        in_window(&app, "bounces WHERE 1 = 1", "received_at", from, to),
        2
    );
    assert_eq!(
        in_window(
            &app,
            "delivery_attempts WHERE result = 'failed'",
            "attempted_at",
            from,
            to
        ),
        1
    );
    let row = digest_rows(&app)
        .into_iter()
        .find(|row| row.digest_key.as_deref() == Some("daily:2026-11-26"))
        .unwrap();
    assert_eq!(row.window_from, Some(naive(2026, 11, 25, 16, 0, 0)));
    assert_eq!(row.window_to, Some(naive(2026, 11, 26, 16, 0, 0)));
    assert!(row.organiser_id.is_some());

    // An automatic message with only numbers: no unsubscribe link, no member's
    // address or typed text, and how to stop digests.
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(mail.header("List-Unsubscribe"), None);
    let text = mail.flowed_text().unwrap();
    let html = mail.html_body().unwrap();
    assert!(
        text.contains("rollcall organiser digest daily@example.org off"),
        "{text}"
    );
    assert!(
        text.contains("Thursday 26 November 2026 (Australia/Perth time)"),
        "{text}"
    );
    assert!(
        html.contains("<table") && html.contains("<th scope=\"row\""),
        "{html}"
    );
    assert!(
        html.contains("rollcall organiser digest daily@example.org off"),
        "{html}"
    );
    for body in [&text, &html] {
        for typed in ["Aroha", "NIWA", "ana@", "dan@", "eve@", "December meetup"] {
            assert!(!body.contains(typed), "{typed} in\n{body}");
        }
    }
}

async fn two_workers_at_once_queue_one_digest_per_organiser_and_period(backend: Backend) {
    let app = spawn_app(backend).await;
    let organisers = [
        "ana-org@example.org",
        "ben-org@example.org",
        "cat-org@example.org",
    ];
    for organiser in organisers {
        organiser_with_digest(&app, organiser, "daily");
    }
    organiser_with_digest(&app, "weekly@example.org", "weekly");
    app.confirmed_member("member@example.org").await;

    // 08:00 Friday and 08:00 Monday in Perth, and an hour after each.
    for (hour, key) in [
        (at(2026, 11, 27, 0, 0, 0), "daily:2026-11-26"),
        (at(2026, 11, 27, 1, 0, 0), "daily:2026-11-26"),
        (at(2026, 11, 30, 0, 0, 0), "weekly:2026-W48"),
        (at(2026, 11, 30, 1, 0, 0), "weekly:2026-W48"),
    ] {
        app.clock.set(hour);
        let (one, two) = (app.worker(), app.worker());
        let (a, b) = tokio::join!(one.run_until_idle(), two.run_until_idle());
        a.unwrap();
        b.unwrap();
        assert!(
            digest_keys(&app).iter().any(|k| k == key),
            "{key} at {hour}"
        );
    }
    app.deliver().await;
    // A worker that read "owed" just before another queued it inserts nothing.
    let row = digest_rows(&app).remove(0);
    let again = Due {
        organiser_id: row.organiser_id.clone().unwrap(),
        key: row.digest_key.clone().unwrap(),
        from: row.window_from.unwrap(),
        to: row.window_to.unwrap(),
    };
    let now = app.clock.now_naive();
    let queued = digests::queue(&mut app.db(), &[again], "127.0.0.1", now).unwrap();
    assert_eq!(queued, 0);

    let keys = digest_keys(&app);
    assert_eq!(keys.iter().filter(|k| *k == "daily:2026-11-26").count(), 3);
    assert_eq!(keys.iter().filter(|k| *k == "weekly:2026-W48").count(), 1);
    // Nothing happened from Friday to Sunday: no daily digest for those days.
    assert_eq!(keys.len(), 4, "{keys:?}");
    for organiser in organisers {
        let mails = digests_to(&app, organiser);
        assert_eq!(mails.len(), 1, "{organiser}");
        assert_eq!(number(&mails[0], "Signups"), 1);
    }
    let weekly = digests_to(&app, "weekly@example.org");
    assert_eq!(weekly.len(), 1);
    assert_eq!(
        weekly[0].subject().unwrap(),
        "Oceania Pangeo: the week of 23 November"
    );
    assert_eq!(number(&weekly[0], "Confirmations"), 1);
}

async fn a_period_with_nothing_in_it_sends_no_digest(backend: Backend) {
    let app = spawn_app(backend).await;
    organiser_with_digest(&app, "daily@example.org", "daily");
    organiser_with_digest(&app, "weekly@example.org", "weekly");
    // Every third hour from Thursday to the Tuesday after: nothing happened.
    for step in 0..40 {
        app.clock
            .set(at(2026, 11, 26, 9, 0, 0) + chrono::Duration::hours(3 * step));
        app.deliver().await;
    }
    assert_eq!(digest_rows(&app).len(), 0);
    assert!(app.smtp.messages().is_empty());

    // Something happens on Tuesday 1 December: Wednesday's pass sends its digest.
    app.confirmed_member("member@example.org").await;
    app.clock.set(at(2026, 12, 2, 0, 0, 0));
    app.deliver().await;
    assert_eq!(digest_keys(&app), ["daily:2026-12-01"]);
    let mail = digest_titled(&app, "daily@example.org", "Tuesday 1 December");
    assert_eq!(number(&mail, "Signups"), 1);
    assert!(digests_to(&app, "weekly@example.org").is_empty());
}

async fn a_worker_down_over_the_whole_send_day_sends_no_late_digest(backend: Backend) {
    let app = spawn_app(backend).await;
    organiser_with_digest(&app, "daily@example.org", "daily");
    organiser_with_digest(&app, "weekly@example.org", "weekly");
    app.confirmed_member("thursday@example.org").await;
    // Friday in Perth, with no worker: a signup is stored, its mail waits.
    app.clock.set(at(2026, 11, 27, 2, 0, 0));
    assert_eq!(app.sign_up("friday@example.org").await.status(), 303);

    // The first pass is on Saturday morning: Friday's digest, not Thursday's.
    app.clock.set(at(2026, 11, 28, 1, 0, 0));
    app.deliver().await;
    assert_eq!(digest_keys(&app), ["daily:2026-11-27"]);
    let friday = digest_titled(&app, "daily@example.org", "Friday 27 November");
    assert_eq!(number(&friday, "Signups"), 1);
    assert_eq!(number(&friday, "Confirmations"), 0);

    // Down all of Monday 30 November: no weekly digest on Tuesday, nor later for that week.
    app.clock.set(at(2026, 12, 1, 1, 0, 0));
    assert_eq!(app.sign_up("tuesday@example.org").await.status(), 303);
    app.deliver().await;
    app.clock.set(at(2026, 12, 6, 12, 0, 0));
    app.deliver().await;
    assert!(digests_to(&app, "weekly@example.org").is_empty());
    // The next Monday has the next week's.
    app.clock.set(at(2026, 12, 7, 0, 30, 0));
    app.deliver().await;
    let weekly = digests_to(&app, "weekly@example.org");
    assert_eq!(weekly.len(), 1);
    assert_eq!(
        weekly[0].subject().unwrap(),
        "Oceania Pangeo: the week of 30 November"
    );
    assert_eq!(number(&weekly[0], "Signups"), 1);
    assert_eq!(digest_keys(&app), ["daily:2026-11-27", "weekly:2026-W49"]);
}

async fn windows_follow_summer_time_in_sydney(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({"admin": {"digest_timezone": "Australia/Sydney"}}),
    )
    .await;
    organiser_with_digest(&app, "daily@example.org", "daily");
    organiser_with_digest(&app, "weekly@example.org", "weekly");

    // Summer time starts at 02:00 on Sunday 4 October 2026 (+10 → +11).
    sign_up_at(&app, "sat-last@example.org", at(2026, 10, 3, 13, 59, 59)).await;
    sign_up_at(&app, "sun-first@example.org", at(2026, 10, 3, 14, 0, 0)).await;
    sign_up_at(&app, "sun-last@example.org", at(2026, 10, 4, 12, 59, 59)).await;
    sign_up_at(&app, "mon-first@example.org", at(2026, 10, 4, 13, 0, 0)).await;
    // 08:00 on Monday 5 October in Sydney is 21:00 UTC on the Sunday.
    app.clock.set(at(2026, 10, 4, 20, 59, 59));
    app.deliver().await;
    assert!(!digest_keys(&app).iter().any(|k| k == "daily:2026-10-04"));
    app.clock.set(at(2026, 10, 4, 21, 0, 0));
    app.deliver().await;

    // Summer time ends at 03:00 on Sunday 4 April 2027 (+11 → +10).
    sign_up_at(&app, "apr-sat-last@example.org", at(2027, 4, 3, 12, 59, 59)).await;
    sign_up_at(&app, "apr-sun-first@example.org", at(2027, 4, 3, 13, 0, 0)).await;
    sign_up_at(&app, "apr-sun-last@example.org", at(2027, 4, 4, 13, 59, 59)).await;
    sign_up_at(&app, "apr-mon-first@example.org", at(2027, 4, 4, 14, 0, 0)).await;
    // 08:00 on Monday 5 April in Sydney is 22:00 UTC on the Sunday.
    app.clock.set(at(2027, 4, 4, 21, 59, 59));
    app.deliver().await;
    assert!(!digest_keys(&app).iter().any(|k| k == "daily:2027-04-04"));
    app.clock.set(at(2027, 4, 4, 22, 0, 0));
    app.deliver().await;

    let windows: Vec<(String, NaiveDateTime, NaiveDateTime)> = digest_rows(&app)
        .into_iter()
        .map(|row| {
            (
                row.digest_key.unwrap(),
                row.window_from.unwrap(),
                row.window_to.unwrap(),
            )
        })
        .collect();
    let expected = [
        // Saturday's, sent late on the Sunday (its 08:00 came before the last signup).
        (
            "daily:2026-10-03",
            naive(2026, 10, 2, 14, 0, 0),
            naive(2026, 10, 3, 14, 0, 0),
        ),
        // 23 hours.
        (
            "daily:2026-10-04",
            naive(2026, 10, 3, 14, 0, 0),
            naive(2026, 10, 4, 13, 0, 0),
        ),
        (
            "weekly:2026-W40",
            naive(2026, 9, 27, 14, 0, 0),
            naive(2026, 10, 4, 13, 0, 0),
        ),
        (
            "daily:2027-04-03",
            naive(2027, 4, 2, 13, 0, 0),
            naive(2027, 4, 3, 13, 0, 0),
        ),
        // 25 hours.
        (
            "daily:2027-04-04",
            naive(2027, 4, 3, 13, 0, 0),
            naive(2027, 4, 4, 14, 0, 0),
        ),
        (
            "weekly:2027-W13",
            naive(2027, 3, 28, 13, 0, 0),
            naive(2027, 4, 4, 14, 0, 0),
        ),
    ];
    let mut sorted = windows.clone();
    sorted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut wanted: Vec<_> = expected
        .iter()
        .map(|(k, f, t)| ((*k).to_owned(), *f, *t))
        .collect();
    wanted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    assert_eq!(sorted, wanted);

    let daily = "daily@example.org";
    for (title, signups) in [
        ("Saturday 3 October", 1),
        ("Sunday 4 October", 2),
        ("Saturday 3 April", 1),
        ("Sunday 4 April", 2),
    ] {
        let mail = digest_titled(&app, daily, title);
        assert_eq!(number(&mail, "Signups"), signups, "{title}");
        assert!(
            mail.flowed_text()
                .unwrap()
                .contains("(Australia/Sydney time)")
        );
    }
    let weekly = "weekly@example.org";
    for title in ["the week of 28 September", "the week of 29 March"] {
        assert_eq!(
            number(&digest_titled(&app, weekly, title), "Signups"),
            3,
            "{title}"
        );
    }
}

async fn weekly_digests_are_iso_weeks(backend: Backend) {
    let app = spawn_app(backend).await;
    organiser_with_digest(&app, "weekly@example.org", "weekly");
    // Sunday 29 November, 23:59 in Perth: still week 48.
    sign_up_at(&app, "sunday@example.org", at(2026, 11, 29, 15, 59, 0)).await;
    app.clock.set(at(2026, 11, 30, 0, 0, 0));
    app.deliver().await;
    // 2026 has 53 ISO weeks: the last runs from 28 December to 3 January.
    sign_up_at(&app, "new-year@example.org", at(2026, 12, 31, 12, 0, 0)).await;
    sign_up_at(&app, "january@example.org", at(2027, 1, 3, 12, 0, 0)).await;
    app.clock.set(at(2027, 1, 4, 0, 0, 0));
    app.deliver().await;

    assert_eq!(digest_keys(&app), ["weekly:2026-W48", "weekly:2026-W53"]);
    let rows = digest_rows(&app);
    assert_eq!(rows[1].window_from, Some(naive(2026, 12, 27, 16, 0, 0)));
    assert_eq!(rows[1].window_to, Some(naive(2027, 1, 3, 16, 0, 0)));
    let organiser = "weekly@example.org";
    assert_eq!(
        number(
            &digest_titled(&app, organiser, "the week of 23 November"),
            "Signups"
        ),
        1
    );
    let last = digest_titled(&app, organiser, "the week of 28 December");
    assert_eq!(number(&last, "Signups"), 2);
    assert!(
        last.flowed_text()
            .unwrap()
            .contains("in the week from Monday 28 December to Sunday 3 January 2027"),
        "{}",
        last.text_body().unwrap()
    );
}

async fn the_cli_turns_digests_on_and_off(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_organiser("ana@example.org", "a long enough password");
    let digest = |args: &[&str]| {
        let mut all = vec!["organiser", "digest"];
        all.extend_from_slice(args);
        app.rollcall(&all)
    };
    let stored = || app.count("SELECT COUNT(*) FROM organisers WHERE digest = 'weekly'");
    let list = || String::from_utf8(app.rollcall(&["organiser", "list"]).stdout).unwrap();
    assert!(
        list().contains("\tdigest off"),
        "off by default: {}",
        list()
    );

    let on = digest(&["ANA@example.org", "weekly"]);
    assert_eq!(on.status.code(), Some(0), "{on:?}");
    assert!(on.stdout.is_empty());
    assert_eq!(stored(), 1);
    assert!(list().contains("\tdigest weekly"), "{}", list());

    let unknown = digest(&["nobody@example.org", "daily"]);
    assert_eq!(unknown.status.code(), Some(1));
    let bad = digest(&["ana@example.org", "monthly"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stored(), 1, "a refused command changes nothing");

    let off = digest(&["ana@example.org", "off"]);
    assert_eq!(off.status.code(), Some(0));
    assert_eq!(stored(), 0);
    assert!(list().contains("\tdigest off"));
    // Off: a busy week and a Monday morning send nothing.
    app.confirmed_member("member@example.org").await;
    app.clock.set(at(2026, 11, 30, 0, 0, 0));
    app.deliver().await;
    assert!(digest_rows(&app).is_empty());
}
