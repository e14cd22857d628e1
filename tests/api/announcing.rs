//! Helpers for the announcement tests: compose and act on announcements as
//! the CLI and the pages do (through `db::announcements`), and read what the
//! workers did.

use crate::helpers::TestApp;
use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use rollcall::clock::Clock;
use rollcall::db::announcements::{self, AnnouncementRow, DeliveryCounts, Transition};
use rollcall::domain::announcement::{Action, AnnouncementDraft, AnnouncementStatus, RawAudience};
use std::collections::BTreeMap;

pub const BODY: &str = "Hello **all**, the first meetup is on. See [the site](https://pangeo.io).";

/// A new draft to everyone; returns its id.
pub fn draft(app: &TestApp, subject: &str) -> String {
    let parsed = AnnouncementDraft::parse(
        subject,
        BODY,
        &RawAudience::default(),
        false,
        &app.settings.signup.interests,
    )
    .unwrap();
    let now = app.clock.now_naive();
    announcements::create(&mut app.db(), &parsed, "cli:test", now).unwrap()
}

/// Applies an organiser's action now.
pub fn act(app: &TestApp, id: &str, action: Action) -> Transition {
    act_at(app, id, action, None)
}

pub fn act_at(
    app: &TestApp,
    id: &str,
    action: Action,
    schedule_at: Option<NaiveDateTime>,
) -> Transition {
    let rules = rollcall::startup::send_rules(&app.settings, &app.state.keys);
    let now = app.clock.now_naive();
    announcements::apply(&mut app.db(), &rules, id, action, schedule_at, now).unwrap()
}

/// A new announcement to everyone, sent now; returns its id.
pub fn send_now(app: &TestApp, subject: &str) -> String {
    let id = draft(app, subject);
    assert_eq!(
        act(app, &id, Action::SendNow),
        Transition::Done(AnnouncementStatus::Sending)
    );
    id
}

pub fn find(app: &TestApp, id: &str) -> AnnouncementRow {
    announcements::find(&mut app.db(), id).unwrap().unwrap()
}

pub fn status(app: &TestApp, id: &str) -> AnnouncementStatus {
    find(app, id).status()
}

pub fn counts(app: &TestApp, id: &str) -> DeliveryCounts {
    announcements::delivery_counts(&mut app.db(), id).unwrap()
}

/// The attempts at announcement deliveries (any result), as times.
pub fn delivery_attempt_times(app: &TestApp) -> Vec<NaiveDateTime> {
    use rollcall::db::schema::{delivery_attempts, outbox};
    delivery_attempts::table
        .inner_join(outbox::table)
        .filter(outbox::kind.eq("announcement"))
        .select(delivery_attempts::attempted_at)
        .load(&mut app.db())
        .unwrap()
}

/// How many of `times` fall in each clock minute.
pub fn per_minute(times: &[NaiveDateTime]) -> BTreeMap<NaiveDateTime, usize> {
    let mut minutes = BTreeMap::new();
    for t in times {
        let minute = t.with_second(0).unwrap().with_nanosecond(0).unwrap();
        *minutes.entry(minute).or_default() += 1;
    }
    minutes
}

/// The sent times of announcement deliveries.
pub fn sent_times(app: &TestApp) -> Vec<NaiveDateTime> {
    app.outbox()
        .into_iter()
        .filter(|row| row.kind == "announcement")
        .filter_map(|row| row.sent_at)
        .collect()
}

/// The seeded members' addresses (see `seed_registrations`).
pub fn seeded(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("person{i}@example.org")).collect()
}

/// Outbox rows of kind `notice` about `notice`, as (organiser id, status).
pub fn notices(app: &TestApp, notice: &str) -> Vec<(String, String)> {
    app.outbox()
        .into_iter()
        .filter(|row| row.kind == "notice" && row.notice.as_deref() == Some(notice))
        .map(|row| (row.organiser_id.unwrap_or_default(), row.status))
        .collect()
}
