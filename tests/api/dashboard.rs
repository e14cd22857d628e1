//! The organisers' dashboard: every panel renders, with no data and with many
//! registrations; charts carry a name, a summary and a table, with their text
//! in HTML; the weeks, the interests and the funnel match what members did;
//! the planner matches a hand check; times show the organisers' zone beside UTC.

use crate::chromium::{Browser, DESKTOP_WIDTH};
use crate::helpers::{
    Backend, TestApp, browser_available, seed_registrations, spawn_app, spawn_app_with, valid_form,
    valid_json,
};
use crate::on_both_backends;
use chrono::Duration;
use serde_json::json;

on_both_backends!(
    the_dashboard_renders_with_no_data,
    the_dashboard_renders_with_ten_thousand_registrations,
    the_planner_suggests_the_slots_a_person_would_pick,
    offsets_follow_daylight_saving_on_the_chosen_date,
    bad_dashboard_parameters_are_a_400,
    metrics_report_the_outbox,
    the_dashboard_lists_the_latest_signups_and_links_to_people_still_pending,
    a_young_list_draws_eight_weeks_with_what_members_did,
    a_list_older_than_forty_weeks_draws_the_last_twenty_six,
    the_interests_chart_counts_each_members_ticked_interests_in_the_configured_order,
    the_funnel_shows_each_step_as_a_share_of_the_emails_sent,
    times_show_the_organisers_zone_beside_utc,
    no_table_has_an_empty_header_cell,
    the_dashboard_reads_well_at_360_px_and_uses_a_desktops_width,
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

/// Each chart is a `<figure>` named by its title and described by its summary,
/// followed by its table (or saying it has no data yet); its words and numbers
/// are HTML text, never SVG `<text>`, which would shrink with the drawing.
fn assert_every_chart_is_accessible(page: &str) {
    let figures: Vec<&str> = page
        .split("<figure class=\"chart\" id=\"")
        .skip(1)
        .collect();
    assert!(figures.len() >= 7, "{} charts", figures.len());
    for figure in &figures {
        let id = figure.split('"').next().unwrap();
        let (chart, after) = figure.split_once("</figure>").expect("a closed figure");
        assert!(
            chart.contains(&format!(
                r#"aria-labelledby="{id}-title" aria-describedby="{id}-desc""#
            )),
            "{id} is named and described"
        );
        let named = |suffix: &str| page.matches(&format!(r#"id="{id}-{suffix}""#)).count();
        assert_eq!((named("title"), named("desc")), (1, 1), "{id}");
        let summary = chart_summary(chart, id);
        assert!(summary.len() > 20, "{id} has a summary: {summary:?}");
        let has_table = after.trim_start().starts_with("<details><summary>")
            && after
                .split_once("</details>")
                .unwrap()
                .0
                .contains("<table id=");
        assert!(
            has_table || summary == "There is no data yet.",
            "{id} has a table: {}",
            after.chars().take(300).collect::<String>()
        );
    }
    assert!(!page.contains("<text"), "chart text is HTML, not SVG text");
    assert!(!page.contains("<script"), "no JavaScript");
    assert!(!page.contains("src=\"http"), "no third-party requests");
}

/// The rows after the header of the table whose opening tag contains
/// `marker`, each as its cells' text (plain-text cells only).
fn table_rows(page: &str, marker: &str) -> Vec<Vec<String>> {
    let table = page
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once("</table>"))
        .map(|(table, _)| table)
        .unwrap_or_else(|| panic!("no table {marker}"));
    table
        .split("<tr>")
        .skip(2)
        .map(|row| {
            row.match_indices("<t")
                .filter_map(|(at, _)| {
                    let cell = &row[at..];
                    let text = &cell[cell.find('>')? + 1..];
                    Some(text[..text.find("</t")?].to_owned())
                })
                .collect()
        })
        .collect()
}

/// The summary's caption of the chart `id`.
fn chart_summary<'a>(page: &'a str, id: &str) -> &'a str {
    page.split_once(&format!(r#"id="{id}-desc">"#))
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(text, _)| text)
        .unwrap_or_else(|| panic!("no chart {id}"))
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
        "Members by interest",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    assert!(page.contains("no data yet") || page.contains("0 in all"));
    assert!(page.contains("No start time suits anyone"));
    assert!(page.contains(r#"<p id="no-exports">No exports yet.</p>"#));
    assert!(
        !page.contains("recent-exports"),
        "no empty table of exports"
    );
    assert_eq!(
        table_rows(&page, r#"id="weekly-table">"#).len(),
        8,
        "a list with no signups yet still shows eight weeks"
    );
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
        "<th scope=\"row\" class=\"wrap\">Available (of 11)</th><td>10</td><td>10</td><td>10</td>",
    ] {
        assert!(suggestions.contains(row), "{row} in {suggestions}");
    }
    assert!(
        suggestions.contains("The best start, 01:00 UTC, suits 10 of 11 members."),
        "{suggestions}"
    );
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

/// Signs `email` up through the form with `interests` ticked, and confirms
/// it by the emailed link, as the person would.
async fn member_interested_in(app: &TestApp, email: &str, interests: &[&str]) {
    let token = app.csrf_token().await;
    let mut pairs = valid_form(email);
    pairs.extend(interests.iter().map(|i| ("interests", *i)));
    pairs.push(("csrf_token", &token));
    let signed_up = app.post_form("/subscriptions", &pairs).await;
    assert_eq!(signed_up.status(), 303, "signup of {email}");
    app.confirm_by_link(email).await;
}

/// The weekly table's rows as numbers: signups, confirmations, members who
/// left and members at the week's end, under each week's name.
fn weeks(page: &str) -> Vec<(String, [i64; 4])> {
    table_rows(page, r#"id="weekly-table">"#)
        .into_iter()
        .map(|cells| {
            let n = |i: usize| cells[i].parse::<i64>().unwrap();
            (cells[0].clone(), [n(1), n(2), n(3), n(4)])
        })
        .collect()
}

fn drawn_weeks(page: &str) -> usize {
    page.matches(r#"<g class="week">"#).count()
}

async fn a_young_list_draws_eight_weeks_with_what_members_did(backend: Backend) {
    let app = organiser(backend).await;
    app.confirmed_member("aroha@example.org").await;
    app.confirmed_member("sione@example.org").await;
    app.unsubscribed_member("mele@example.org").await;
    app.sign_up("still.waiting@example.org").await;
    app.deliver().await;
    let page = dashboard(&app, "").await;
    let weeks = weeks(&page);
    assert!((8..=26).contains(&weeks.len()), "{} weeks", weeks.len());
    assert_eq!(weeks.len(), 8, "one week of data shows the last eight");
    assert_eq!(drawn_weeks(&page), weeks.len(), "a column per week");
    // The test clock is Thursday 26 November 2026: ISO week 48.
    let (this_week, numbers) = weeks.last().unwrap();
    assert_eq!(this_week, "2026-W48, from 23 Nov 2026");
    assert_eq!(
        *numbers,
        [4, 3, 1, 2],
        "signups, confirmations, left, members"
    );
    assert!(weeks[..7].iter().all(|(_, n)| *n == [0, 0, 0, 0]));
    assert!(
        page.contains("<td>confirmed</td><td>2</td>"),
        "the members now"
    );
    assert!(
        chart_summary(&page, "weekly")
            .contains("4 signups, 3 confirmations and 1 member left; 2 members now")
    );
}

async fn a_list_older_than_forty_weeks_draws_the_last_twenty_six(backend: Backend) {
    let app = organiser(backend).await;
    app.confirmed_member("founder@example.org").await;
    app.clock.advance(Duration::weeks(40));
    app.confirmed_member("newcomer@example.org").await;
    app.unsubscribed_member("brief.visit@example.org").await;
    app.log_in("organiser@example.org", PASSWORD).await;
    let page = dashboard(&app, "").await;
    let weeks = weeks(&page);
    assert_eq!(weeks.len(), 26);
    assert_eq!(drawn_weeks(&page), 26);
    // The founder joined before the weeks shown and still counts as a member.
    assert_eq!(weeks[0].1, [0, 0, 0, 1]);
    assert_eq!(weeks[25].1, [2, 2, 1, 2]);
    let members: Vec<i64> = weeks.iter().map(|(_, n)| n[3]).collect();
    assert!(members[..25].iter().all(|m| *m == 1), "{members:?}");
}

async fn the_interests_chart_counts_each_members_ticked_interests_in_the_configured_order(
    backend: Backend,
) {
    let app = organiser(backend).await;
    let offered = app.settings.signup.interests.clone();
    let (meetups, training, xarray) = (&offered[0], &offered[1], &offered[5]);
    member_interested_in(&app, "ana@example.org", &[xarray, meetups]).await;
    member_interested_in(&app, "ben@example.org", &[xarray]).await;
    member_interested_in(&app, "cat@example.org", &[xarray, training, meetups]).await;
    member_interested_in(&app, "dan@example.org", &[]).await;
    // Not members: one still pending, one who left.
    let token = app.csrf_token().await;
    let mut pairs = valid_form("eve@example.org");
    pairs.extend([("interests", meetups.as_str()), ("csrf_token", &token)]);
    assert_eq!(app.post_form("/subscriptions", &pairs).await.status(), 303);
    app.unsubscribed_member("fay@example.org").await;
    app.deliver().await;

    let page = dashboard(&app, "").await;
    let rows = table_rows(&page, r#"id="interests-table">"#);
    let labels: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        labels, offered,
        "every interest offered, in the configured order"
    );
    let counts: Vec<i64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    // What the members' stored interests say, read from the database.
    use diesel::prelude::*;
    use rollcall::db::schema::registrations;
    let stored: Vec<String> = registrations::table
        .filter(registrations::status.eq("confirmed"))
        .select(registrations::interests)
        .load(&mut app.db())
        .unwrap();
    let expected: Vec<i64> = offered
        .iter()
        .map(|i| {
            stored
                .iter()
                .filter(|s| s.split(';').any(|t| t == i))
                .count() as i64
        })
        .collect();
    assert_eq!(counts, expected);
    assert_eq!((counts[0], counts[1], counts[5]), (2, 1, 3), "by hand");
    assert_eq!(counts.iter().sum::<i64>(), 6);
    assert_eq!(rows[5][2], "75 %", "three of four members");
    assert_eq!(
        chart_summary(&page, "interests"),
        format!("Of 4 members, the most ticked is {xarray} with 3; 1 ticked none.")
    );
}

async fn the_funnel_shows_each_step_as_a_share_of_the_emails_sent(backend: Backend) {
    let app = organiser(backend).await;
    app.confirmed_member("link.one@example.org").await;
    app.confirmed_member("link.two@example.org").await;
    app.sign_up("by.code@example.org").await;
    app.deliver().await;
    let code = app.confirmation_code("by.code@example.org");
    let confirmed = app
        .post_form("/subscriptions/confirm", &[("code", &code)])
        .await;
    assert_eq!(confirmed.status(), 303);
    app.sign_up("never.confirms@example.org").await;
    app.deliver().await;

    let page = dashboard(&app, "").await;
    let funnel = table_rows(&page, r#"id="funnel-table">"#);
    assert_eq!(
        funnel,
        [
            ["Confirmation emails sent", "4", "100 %"],
            ["Confirmed by link", "2", "50 %"],
            ["Confirmed by code", "1", "25 %"],
        ]
    );
    // Beside each bar too, where the label has its own room.
    assert!(page.contains(r#"<span class="label">Confirmed by code</span>"#));
    assert!(page.contains(r#"<span class="value">1 (25 %)</span>"#));
    assert_eq!(
        chart_summary(&page, "funnel"),
        "4 confirmation emails sent; 2 confirmed by link (50 %) and 1 by code (25 %)."
    );
}

async fn times_show_the_organisers_zone_beside_utc(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({"admin": {"digest_timezone": "Australia/Sydney"}}),
    )
    .await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    // The test clock says Thursday 26 November 2026, 09:00 UTC: 20:00 in Sydney.
    app.confirmed_member("aroha@example.org").await;
    let export = app
        .client
        .get(app.url("/admin/export.csv?status=confirmed"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    export.text().await.unwrap();
    let page = dashboard(&app, "").await;
    let latest = table_rows(&page, r#"<table id="latest-signups">"#);
    assert_eq!(latest[0][3], "2026-11-26 09:00 UTC (20:00 Sydney)");
    let exports = table_rows(&page, r#"<table id="recent-exports">"#);
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0][0], "2026-11-26 09:00 UTC (20:00 Sydney)");
    assert!(!page.contains("No exports yet"));
}

/// Header cells with no text in them (after their markup is removed).
fn empty_header_cells(page: &str) -> Vec<String> {
    page.match_indices("<th")
        .filter(|(at, _)| !page[at + 3..].starts_with('e'))
        .filter_map(|(at, _)| {
            let cell = &page[at..];
            let end = cell.find("</th>")?;
            let inside = &cell[cell.find('>')? + 1..end];
            let mut text = String::new();
            let mut in_tag = false;
            for c in inside.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().is_empty().then(|| cell[..end + 5].to_owned())
        })
        .collect()
}

async fn no_table_has_an_empty_header_cell(backend: Backend) {
    let app = organiser(backend).await;
    app.smtp.reject_rcpt("bounce@", "550 5.1.1 no such user");
    app.sign_up("bounce@example.org").await;
    app.confirmed_member("aroha@example.org").await;
    app.deliver().await;
    let page = dashboard(&app, "?date=2026-11-26").await;
    assert!(
        page.contains(r#"<table id="failed-messages">"#),
        "a failed message to retry"
    );
    assert_eq!(empty_header_cells(&page), Vec::<String>::new());
    assert!(page.contains(r#"<th scope="col">Action</th>"#));

    let person = page
        .split_once(r#"<a href="/admin/subscribers/"#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(id, _)| id)
        .unwrap();
    let person_page = app.get_text(&format!("/admin/subscribers/{person}")).await;
    assert!(person_page.contains("<h2>Messages</h2>"), "{person_page}");
    assert_eq!(empty_header_cells(&person_page), Vec::<String>::new());
    assert!(person_page.contains("<th>Action</th>"));
}

/// In Chromium at 360 px and at 1280 px: every word of the charts is at least
/// 12 CSS pixels, no label overlaps its bar or number, nothing scrolls
/// sideways, and on a desktop the dashboard uses the width.
async fn the_dashboard_reads_well_at_360_px_and_uses_a_desktops_width(backend: Backend) {
    let name = format!("{backend:?}").to_lowercase();
    let test = "the_dashboard_reads_well_at_360_px_and_uses_a_desktops_width";
    if !browser_available(&format!("{}::{test}::{name}", module_path!())) {
        return;
    }
    let app = organiser(backend).await;
    seed_registrations(&mut app.db(), 200);
    let offered = app.settings.signup.interests.clone();
    member_interested_in(&app, "ana@example.org", &[&offered[0], &offered[8]]).await;
    app.confirmed_member("ben@example.org").await;
    let browser = Browser::start(&format!("dashboard-{name}")).await;
    browser.open(&app.url("/admin/login")).await;
    browser.type_into("#email", "organiser@example.org").await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/admin/login'] button[type='submit']")
        .await;
    browser.wait_for_url(&app.url("/admin")).await;

    for (width, label) in [
        (crate::chromium::WIDTH, "narrow"),
        (DESKTOP_WIDTH, "desktop"),
    ] {
        browser.set_width(width).await;
        browser.find("figure.chart").await;
        let smallest = browser
            .number(
                "let sizes = [...document.querySelectorAll('figure.chart *, .suggestions *')]
                   .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
                   .filter(e => e.getClientRects().length > 0)
                   .map(e => parseFloat(getComputedStyle(e).fontSize));
                 return sizes.length ? Math.min(...sizes) : 0;",
            )
            .await;
        assert!(smallest >= 12.0, "{label}: chart text of {smallest} px");
        let overlaps = browser
            .number(
                "const meets = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5
                   && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
                 let n = 0;
                 for (const row of document.querySelectorAll('.bars li')) {
                   if (!row.getClientRects().length) continue;
                   const [label, bar, value] = [...row.children].map(e => e.getBoundingClientRect());
                   if (meets(label, bar) || meets(label, value) || meets(bar, value)) n++;
                   if (label.width < 1) n++;
                 }
                 return n;",
            )
            .await;
        assert_eq!(overlaps, 0.0, "{label}: labels, bars and numbers overlap");
        browser.assert_no_horizontal_scroll().await;
        browser.screenshot(label).await;
    }
    let main = browser
        .number("return document.querySelector('main').getBoundingClientRect().width")
        .await;
    assert!(main > 1000.0, "at 1280 px the dashboard is {main} px wide");
    browser.close().await;
}
