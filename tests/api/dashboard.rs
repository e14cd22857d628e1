//! The organisers' dashboard: every panel renders, with no data and with many
//! registrations; charts carry a title and a table; the planner matches a hand check.

use crate::helpers::{Backend, TestApp, seed_registrations, spawn_app, valid_json};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    the_dashboard_renders_with_no_data,
    the_dashboard_renders_with_ten_thousand_registrations,
    the_planner_suggests_the_slots_a_person_would_pick,
    offsets_follow_daylight_saving_on_the_chosen_date,
    bad_dashboard_parameters_are_a_400,
    metrics_report_the_outbox,
    the_dashboard_lists_the_latest_signups_and_links_to_people_still_pending,
);

const PASSWORD: &str = "correct horse battery staple";

async fn organiser(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    app
}

async fn dashboard(app: &TestApp, query: &str) -> String {
    let response = app
        .client
        .get(app.url(&format!("/admin{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn assert_every_chart_is_accessible(page: &str) {
    let charts = page.matches(r#"<svg class="chart" role="img""#).count();
    assert!(charts >= 6, "{charts} charts");
    assert_eq!(
        page.matches("<title id=").count(),
        charts,
        "each chart has a title"
    );
    assert_eq!(
        page.matches("<desc id=").count(),
        charts,
        "each chart has a text alternative"
    );
    assert_eq!(
        page.matches("as a table</summary>").count(),
        charts,
        "each chart has a table"
    );
    assert!(!page.contains("<script"), "no JavaScript");
    assert!(!page.contains("src=\"http"), "no third-party requests");
}

async fn the_dashboard_renders_with_no_data(backend: Backend) {
    let app = organiser(backend).await;
    let page = dashboard(&app, "").await;
    for heading in [
        "Registrations by status",
        "Signups per week",
        "Members by country",
        "Members by type of organisation",
        "meeting planner",
        "Confirmation funnel",
        "Deliveries",
        "Recent exports",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    assert!(page.contains("no data yet") || page.contains("0 in all"));
    assert!(page.contains("No start time suits anyone"));
    assert_every_chart_is_accessible(&page);
}

async fn the_dashboard_renders_with_ten_thousand_registrations(backend: Backend) {
    let app = organiser(backend).await;
    seed_registrations(&mut app.db(), 10_000);
    let page = dashboard(&app, "?date=2026-11-26").await;
    assert!(page.contains("<td>confirmed</td><td>10000</td>"));
    assert!(page.contains("Australia (AU)"));
    assert!(page.contains("University or research"));
    assert_every_chart_is_accessible(&page);
}

/// Perth 2, Sydney 3, Auckland 4, Suva 1 members; Thursday 26 November 2026.
/// By hand: 01:00–03:00 UTC is 09:00–11:00 in Perth, 12:00–14:00 in Sydney,
/// 14:00–16:00 in Auckland and 13:00–15:00 in Suva, so all ten can meet for an
/// hour from 01:00, 01:30 or 02:00 UTC (ties go to the earliest).
async fn the_planner_suggests_the_slots_a_person_would_pick(backend: Backend) {
    let app = organiser(backend).await;
    let mut n = 0;
    for (zone, count) in [
        ("Australia/Perth", 2),
        ("Australia/Sydney", 3),
        ("Pacific/Auckland", 4),
        ("Pacific/Fiji", 1),
    ] {
        for _ in 0..count {
            let mut person = valid_json(&format!("member{n}@example.org"));
            person["timezone"] = json!(zone);
            app.post_json(&person).await;
            n += 1;
        }
    }
    let mut no_zone = valid_json("nozone@example.org");
    no_zone.as_object_mut().unwrap().remove("timezone");
    app.post_json(&no_zone).await;
    app.confirm_everyone().await;
    let page = dashboard(&app, "?date=2026-11-26&meeting_minutes=60").await;
    // Times are on the chosen date (Thursday) everywhere, so no weekday is shown.
    let suggestions =
        &page[page.find("Best start times").unwrap()..page.find("Every half-hour start").unwrap()];
    for row in [
        "<th scope=\"row\">UTC</th><td>01:00</td><td>01:30</td><td>02:00</td>",
        "<th scope=\"row\">Perth</th><td>09:00</td><td>09:30</td><td>10:00</td>",
        "<th scope=\"row\">Sydney</th><td>12:00</td><td>12:30</td><td>13:00</td>",
        "<th scope=\"row\">Auckland</th><td>14:00</td><td>14:30</td><td>15:00</td>",
        "<th scope=\"row\">Fiji</th><td>13:00</td><td>13:30</td><td>14:00</td>",
        "<th scope=\"row\">Available</th><td>10</td><td>10</td><td>10</td>",
    ] {
        assert!(suggestions.contains(row), "{row} in {suggestions}");
    }
    assert!(suggestions.contains("1 member(s) gave no time zone"));
}

async fn offsets_follow_daylight_saving_on_the_chosen_date(backend: Backend) {
    let app = organiser(backend).await;
    for (i, zone) in ["Australia/Sydney", "Pacific/Auckland"].iter().enumerate() {
        let mut person = valid_json(&format!("dst{i}@example.org"));
        person["timezone"] = json!(zone);
        app.post_json(&person).await;
    }
    app.confirm_everyone().await;
    let three_hours = dashboard(&app, "?date=2026-09-30").await;
    assert!(
        three_hours.contains("<tr><td>UTC+10</td><td>1</td></tr>")
            && three_hours.contains("<tr><td>UTC+13</td><td>1</td></tr>")
    );
    let two_hours = dashboard(&app, "?date=2026-11-26").await;
    assert!(
        two_hours.contains("<tr><td>UTC+11</td><td>1</td></tr>")
            && two_hours.contains("<tr><td>UTC+13</td><td>1</td></tr>")
    );
}

async fn bad_dashboard_parameters_are_a_400(backend: Backend) {
    let app = organiser(backend).await;
    for query in [
        "?meeting_minutes=0",
        "?meeting_minutes=abc",
        "?meeting_minutes=100000",
        "?date=26/11/2026",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/admin{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
}

async fn metrics_report_the_outbox(backend: Backend) {
    let app = spawn_app(backend).await;
    app.smtp.reject_rcpt("bounce@", "550 5.1.1 no such user");
    app.post_json(&valid_json("bounce@example.org")).await;
    app.deliver().await;
    app.post_json(&valid_json("waiting@example.org")).await;
    app.clock.advance(chrono::Duration::seconds(90));
    let text = app.get_text("/metrics").await;
    assert!(text.contains("rollcall_outbox_queued 1"), "{text}");
    assert!(text.contains("rollcall_outbox_failed 1"), "{text}");
    assert!(
        text.contains("rollcall_outbox_oldest_due_seconds 90"),
        "{text}"
    );
    assert!(
        text.contains(r#"rollcall_delivery_attempts_total{result="failed"} 1"#),
        "{text}"
    );
    assert_eq!(app.deliver().await, 1, "the waiting message goes out");
}

async fn the_dashboard_lists_the_latest_signups_and_links_to_people_still_pending(
    backend: Backend,
) {
    let app = organiser(backend).await;
    assert!(dashboard(&app, "").await.contains("No signups yet."));
    // One person signs up and waits; four days later eleven more sign up.
    app.sign_up("still.waiting@example.org").await;
    app.clock.advance(chrono::Duration::days(4));
    for i in 0..11 {
        app.confirmed_member(&format!("member{i:02}@example.org"))
            .await;
    }
    // The session has expired meanwhile.
    app.log_in("organiser@example.org", PASSWORD).await;
    let page = dashboard(&app, "").await;
    let latest = page
        .split_once("<table id=\"latest-signups\">")
        .and_then(|(_, rest)| rest.split_once("</table>"))
        .map(|(table, _)| table)
        .expect("the latest signups");
    assert_eq!(latest.matches("<a href=\"/admin/subscribers/").count(), 10);
    assert!(latest.contains("member10@example.org") && !latest.contains("still.waiting"));
    let stale = page
        .split_once("<p id=\"stale-pending\"><a href=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(href, _)| href.replace("&amp;", "&"))
        .expect("the pending line");
    assert!(page.contains("1 person signed up before"), "{page}");
    let filtered = app.get_text(&stale).await;
    assert!(filtered.contains("still.waiting@example.org"), "{stale}");
    assert!(filtered.contains("<p id=\"matching\">1 person matches"));
    app.deliver().await;
}
