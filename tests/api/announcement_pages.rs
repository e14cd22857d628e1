//! The organisers' announcement pages and the public archive, over HTTP:
//! who may post, body limits, field errors with what was typed, the preview,
//! the audience count, the transitions, schedules in a chosen zone, the
//! hourly cap on test sends, and what the archive shows.

use crate::helpers::{
    Backend, TestApp, extract_csrf, seed_registrations, spawn_app, spawn_app_with,
};
use crate::on_both_backends;
use chrono::Duration;
use rollcall::db::announcements::{self, DeliveryCounts};
use rollcall::email::render::Renderer;

on_both_backends!(
    every_admin_post_needs_a_session_and_the_csrf_token,
    admin_posts_may_be_larger_than_public_ones_up_to_their_limit,
    field_errors_are_a_422_keeping_what_was_typed,
    the_page_previews_the_members_mail_and_counts_who_it_reaches,
    only_drafts_are_edited_and_every_action_follows_the_table,
    a_schedule_typed_in_auckland_is_stored_as_utc_and_shown_in_both,
    test_sends_are_capped_per_organiser_per_hour,
    the_archive_shows_only_sent_archived_announcements_without_tokens,
    progress_shows_the_rate_the_finish_and_failed_deliveries_to_retry,
);

const ORGANISER: &str = "organiser@example.org";
const PASSWORD: &str = "correct horse battery staple";

/// An app with an organiser logged in on its client.
async fn organiser_app(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    app.add_organiser(ORGANISER, PASSWORD);
    assert_eq!(app.log_in(ORGANISER, PASSWORD).await.status(), 303);
    app
}

/// GETs an organiser page (200) and returns its text.
async fn admin_page(app: &TestApp, path: &str) -> String {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// The CSRF token of the organiser pages, as the browser has it.
async fn admin_token(app: &TestApp) -> String {
    extract_csrf(&admin_page(app, "/admin/announcements").await).expect("a csrf token")
}

/// Posts a form with the CSRF token added.
async fn post_with_token(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    let token = admin_token(app).await;
    let mut pairs = pairs.to_vec();
    pairs.push(("csrf_token", &token));
    app.post_form(path, &pairs).await
}

/// Composes a draft through the form; returns its id.
async fn compose(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    let created = post_with_token(app, "/admin/announcements", pairs).await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix("/admin/announcements/")
        .expect("303 to the announcement's page")
        .to_owned();
    assert!(!id.is_empty() && !id.contains('/'), "{location}");
    id
}

async fn simple_draft(app: &TestApp, subject: &str) -> String {
    compose(app, &[("subject", subject), ("body", "Hello *all*.")]).await
}

/// The status an announcement has in the database.
fn status_of(app: &TestApp, id: &str) -> String {
    announcements::find(&mut app.db(), id)
        .unwrap()
        .expect("the announcement")
        .status
}

fn deliveries(app: &TestApp, id: &str) -> DeliveryCounts {
    announcements::delivery_counts(&mut app.db(), id).unwrap()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in the page"))
        + start.len();
    let to = page[from..].find(end).expect("the end marker") + from;
    &page[from..to]
}

/// Undoes askama's HTML escaping of an attribute value.
fn unescape(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

fn audience_count(page: &str) -> i64 {
    between(page, r#"<strong id="audience-count">"#, "<")
        .parse()
        .expect("a count")
}

async fn every_admin_post_needs_a_session_and_the_csrf_token(backend: Backend) {
    let app = organiser_app(backend).await;
    let id = simple_draft(&app, "Guarded").await;
    let posts = [
        "/admin/announcements".to_owned(),
        format!("/admin/announcements/{id}"),
        format!("/admin/announcements/{id}/test"),
        format!("/admin/announcements/{id}/send"),
        format!("/admin/announcements/{id}/pause"),
        format!("/admin/announcements/{id}/resume"),
        format!("/admin/announcements/{id}/cancel"),
        format!("/admin/announcements/{id}/unschedule"),
    ];
    let fields = [
        ("subject", "Changed"),
        ("body", "Changed"),
        ("addresses", "someone@example.org"),
    ];
    for path in &posts {
        assert_eq!(app.post_form(path, &fields).await.status(), 403, "{path}");
        let mut forged = fields.to_vec();
        forged.push(("csrf_token", "forged"));
        assert_eq!(app.post_form(path, &forged).await.status(), 403, "{path}");
    }

    let output = app.rollcall(&["organiser", "token", ORGANISER]);
    assert!(output.status.success());
    let bearer = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let api = reqwest::Client::new();
    for path in [
        "/admin/announcements".to_owned(),
        format!("/admin/announcements/{id}"),
    ] {
        let got = api
            .get(app.url(&path))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "a bearer token reads {path}");
    }
    let token = admin_token(&app).await;
    for path in &posts {
        let mut pairs = fields.to_vec();
        pairs.push(("csrf_token", &token));
        let posted = api
            .post(app.url(path))
            .bearer_auth(&bearer)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::helpers::encode_form(&pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 401, "a bearer token cannot POST {path}");
    }

    assert_eq!(app.count("SELECT COUNT(*) FROM announcements"), 1);
    assert_eq!(status_of(&app, &id), "draft");
    let row = announcements::find(&mut app.db(), &id).unwrap().unwrap();
    assert_eq!(row.subject, "Guarded", "nothing was edited");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox"),
        0,
        "nothing was sent"
    );
}

async fn admin_posts_may_be_larger_than_public_ones_up_to_their_limit(backend: Backend) {
    let app = organiser_app(backend).await;
    assert_eq!(app.settings.admin.max_body_bytes, 262_144);
    let token = admin_token(&app).await;
    let body_of = |kib: usize| "x".repeat(kib * 1024);

    let huge = body_of(300);
    let over = app
        .post_form(
            "/admin/announcements",
            &[("subject", "Big"), ("body", &huge), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(over.status(), 413, "300 KiB is over admin.max_body_bytes");

    let large = body_of(200);
    let within = app
        .post_form(
            "/admin/announcements",
            &[("subject", "Big"), ("body", &large), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(
        within.status(),
        422,
        "200 KiB is read: only the Markdown's own 64 KiB limit refuses it"
    );
    assert!(within.text().await.unwrap().contains("at most 64 KiB"));

    let public = app
        .post_form(
            "/subscriptions",
            &[("email", "a@example.org"), ("name", &body_of(20))],
        )
        .await;
    assert_eq!(
        public.status(),
        413,
        "public routes keep server.max_body_bytes"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM announcements"), 0);
}

async fn field_errors_are_a_422_keeping_what_was_typed(backend: Backend) {
    let app = organiser_app(backend).await;
    let refused = post_with_token(
        &app,
        "/admin/announcements",
        &[
            ("subject", "  "),
            ("body", "Dear all,\n\nthe **meetup** is <on> & \"soon\"."),
            ("country", "NZ"),
            ("country", "XX"),
            ("org_type", "university"),
            ("interest", "Not an interest"),
            ("timezone", "Pacific/Auckland"),
            ("archive", "yes"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    for field in ["subject", "country", "interest"] {
        assert!(
            page.contains(&format!(r#"<p class="field-error" id="{field}-error">"#)),
            "{field} error in\n{page}"
        );
        assert!(
            page.contains(&format!(
                r#"aria-invalid="true" aria-describedby="{field}-error""#
            )),
            "{field} marked invalid"
        );
    }
    assert!(!page.contains(r#"id="body-error""#));
    assert!(
        page.contains(
            "\nDear all,\n\nthe **meetup** is &#60;on&#62; &#38; &#34;soon&#34;.</textarea>"
        ),
        "the body is kept, escaped"
    );
    assert!(page.contains(r#"<option value="NZ" selected>"#));
    assert!(page.contains(r#"value="university" checked"#));
    assert!(page.contains(r#"<option value="Pacific/Auckland" selected>"#));
    assert!(page.contains(r#"name="archive" value="yes" checked"#));
    assert_eq!(app.count("SELECT COUNT(*) FROM announcements"), 0);

    // The edit form keeps what was typed the same way.
    let id = simple_draft(&app, "A draft").await;
    let edited = post_with_token(
        &app,
        &format!("/admin/announcements/{id}"),
        &[("subject", "Kept subject"), ("body", "")],
    )
    .await;
    assert_eq!(edited.status(), 422);
    let page = edited.text().await.unwrap();
    assert!(page.contains(r#"<p class="field-error" id="body-error">"#));
    assert!(page.contains(r#"value="Kept subject""#));
    let row = announcements::find(&mut app.db(), &id).unwrap().unwrap();
    assert_eq!(row.subject, "A draft", "nothing changed");
}

async fn the_page_previews_the_members_mail_and_counts_who_it_reaches(backend: Backend) {
    let app = organiser_app(backend).await;
    seed_registrations(&mut app.db(), 40);
    let (subject, body) = (
        "Meetup in Wellington",
        "Kia ora **all**,\n\n[Register](https://pangeo.io) <script>alert(1)</script>",
    );
    let id = compose(
        &app,
        &[
            ("subject", subject),
            ("body", body),
            ("country", "NZ"),
            ("country", "FJ"),
        ],
    )
    .await;
    let page = admin_page(&app, &format!("/admin/announcements/{id}")).await;
    assert_eq!(audience_count(&page), 20, "NZ or FJ: half the members");
    let iframe = between(&page, "<iframe", ">");
    assert!(iframe.contains(" sandbox "), "{iframe}");
    let srcdoc = unescape(between(iframe, r#"srcdoc=""#, "\""));
    let renderer = Renderer::from_settings(&app.settings, &app.state.keys);
    let (_, member_html) = renderer
        .announcement_parts(subject, body, "#", false)
        .unwrap();
    assert_eq!(srcdoc, member_html, "the member's exact HTML, inert link");
    assert!(srcdoc.contains(r##"<a href="#">Unsubscribe</a>"##));
    assert!(
        !page.contains("token="),
        "no working token anywhere on the page"
    );
    assert!(!srcdoc.contains("<script"), "raw HTML is shown as text");
    assert!(page.contains("Countries: New Zealand or Fiji"));

    let listed = admin_page(&app, "/admin/announcements").await;
    assert!(listed.contains(&format!(
        r#"<a href="/admin/announcements/{id}">{subject}</a>"#
    )));
    assert!(listed.contains(">draft<"));

    let sent = post_with_token(&app, &format!("/admin/announcements/{id}/send"), &[]).await;
    assert_eq!(sent.status(), 303);
    assert_eq!(
        sent.headers()["location"],
        format!("/admin/announcements/{id}")
    );
    assert_eq!(
        deliveries(&app, &id).queued,
        20,
        "the count shown is the deliveries the send creates"
    );
    let page = admin_page(&app, &format!("/admin/announcements/{id}")).await;
    assert_eq!(audience_count(&page), 20);
    assert!(page.contains(r#"<span class="status" id="status">sending</span>"#));
    assert!(page.contains(r#"<table id="progress">"#));
    assert!(page.contains("<th scope=\"row\">Queued</th><td>20</td>"));
    assert!(!page.contains("token="));

    // What a member received is the preview, but for their own unsubscribe link.
    app.deliver().await;
    assert_eq!(status_of(&app, &id), "sent");
    let mail = app
        .mail_to("person1@example.org")
        .pop()
        .expect("person1 is in NZ");
    let own_link = mail.header("List-Unsubscribe").unwrap();
    let own_link = own_link.trim_start_matches('<').trim_end_matches('>');
    assert!(own_link.contains("/unsubscribe?token="), "{own_link}");
    let received = mail.html_body().unwrap().replace("\r\n", "\n");
    assert!(received.contains(own_link));
    assert_eq!(received.replace(own_link, "#"), srcdoc);
}

async fn only_drafts_are_edited_and_every_action_follows_the_table(backend: Backend) {
    let app = organiser_app(backend).await;
    seed_registrations(&mut app.db(), 6);
    let id = simple_draft(&app, "First words").await;
    let path = |action: &str| format!("/admin/announcements/{id}{action}");
    let edit = [("subject", "Better words"), ("body", "Hello again.")];

    let edited = post_with_token(&app, &path(""), &edit).await;
    assert_eq!(edited.status(), 303);
    assert_eq!(edited.headers()["location"], path(""));
    let row = announcements::find(&mut app.db(), &id).unwrap().unwrap();
    assert_eq!(
        (row.subject.as_str(), row.body.as_str()),
        ("Better words", "Hello again.")
    );

    for action in ["/pause", "/resume", "/unschedule"] {
        let refused = post_with_token(&app, &path(action), &[]).await;
        assert_eq!(refused.status(), 409, "{action} on a draft");
    }
    assert_eq!(status_of(&app, &id), "draft");

    for _ in 0..2 {
        let sent = post_with_token(&app, &path("/send"), &[]).await;
        assert_eq!(sent.status(), 303, "send, and send again");
        assert_eq!(sent.headers()["location"], path(""));
    }
    assert_eq!(
        deliveries(&app, &id),
        DeliveryCounts {
            queued: 6,
            ..Default::default()
        },
        "one set of deliveries"
    );
    assert_eq!(
        post_with_token(&app, &path(""), &edit).await.status(),
        409,
        "edit a non-draft"
    );
    let invalid = post_with_token(&app, &path(""), &[("subject", "")]).await;
    assert_eq!(
        invalid.status(),
        409,
        "a non-draft is not edited, valid or not"
    );
    assert_eq!(
        post_with_token(&app, &path("/unschedule"), &[])
            .await
            .status(),
        409
    );
    assert_eq!(
        post_with_token(&app, &path("/resume"), &[]).await.status(),
        409
    );

    for (action, status) in [
        ("/pause", "paused"),
        ("/resume", "sending"),
        ("/cancel", "cancelled"),
    ] {
        let done = post_with_token(&app, &path(action), &[]).await;
        assert_eq!(done.status(), 303, "{action}");
        assert_eq!(done.headers()["location"], path(""));
        assert_eq!(status_of(&app, &id), status);
    }
    assert_eq!(
        deliveries(&app, &id).cancelled,
        6,
        "cancel cancels what was queued"
    );
    assert_eq!(
        post_with_token(&app, &path("/cancel"), &[]).await.status(),
        409
    );
    let resent = post_with_token(&app, &path("/send"), &[]).await;
    assert_eq!(
        resent.status(),
        303,
        "send on a cancelled one changes nothing"
    );
    assert_eq!(status_of(&app, &id), "cancelled");

    assert_eq!(
        post_with_token(&app, &path("/explode"), &[]).await.status(),
        404
    );
    let unknown = "/admin/announcements/no-such-id";
    assert_eq!(
        app.client
            .get(app.url(unknown))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post_with_token(&app, &format!("{unknown}/pause"), &[])
            .await
            .status(),
        404
    );
    assert_eq!(
        post_with_token(&app, &format!("{unknown}/send"), &[])
            .await
            .status(),
        404
    );
}

async fn a_schedule_typed_in_auckland_is_stored_as_utc_and_shown_in_both(backend: Backend) {
    let app = organiser_app(backend).await;
    seed_registrations(&mut app.db(), 3);
    let id = simple_draft(&app, "Later").await;
    let send = format!("/admin/announcements/{id}/send");

    let past = post_with_token(
        &app,
        &send,
        &[("scheduled_at", "2026-11-26T08:00"), ("timezone", "UTC")],
    )
    .await;
    assert_eq!(past.status(), 422, "the clock says 09:00 UTC");
    let page = past.text().await.unwrap();
    assert!(
        page.contains(
            r#"<p class="field-error" id="scheduled_at-error">must be in the future</p>"#
        )
    );
    assert!(
        page.contains(r#"value="2026-11-26T08:00""#),
        "the typed time is kept"
    );
    let no_zone = post_with_token(
        &app,
        &send,
        &[
            ("scheduled_at", "2026-12-01T09:00"),
            ("timezone", "Middle/Earth"),
        ],
    )
    .await;
    assert_eq!(no_zone.status(), 422);
    assert!(
        no_zone
            .text()
            .await
            .unwrap()
            .contains(r#"id="timezone-error""#)
    );
    let empty = post_with_token(&app, &send, &[("scheduled_at", ""), ("timezone", "UTC")]).await;
    assert_eq!(empty.status(), 422, "an empty schedule is not a send now");
    assert_eq!(status_of(&app, &id), "draft");

    let scheduled = post_with_token(
        &app,
        &send,
        &[
            ("scheduled_at", "2026-12-01T09:00"),
            ("timezone", "Pacific/Auckland"),
        ],
    )
    .await;
    assert_eq!(scheduled.status(), 303);
    let row = announcements::find(&mut app.db(), &id).unwrap().unwrap();
    assert_eq!(row.status, "scheduled");
    assert_eq!(
        row.scheduled_at.unwrap().to_string(),
        "2026-11-30 20:00:00",
        "09:00 in Auckland's summer is 20:00 UTC the day before"
    );
    let page = admin_page(&app, &format!("/admin/announcements/{id}")).await;
    let shown = between(&page, r#"<p class="notice" id="scheduled">"#, "</p>");
    assert!(
        shown.contains("2026-12-01 09:00") && shown.contains("Pacific/Auckland"),
        "{shown}"
    );
    assert!(shown.contains("2026-11-30 20:00 UTC"), "{shown}");
    assert_eq!(
        deliveries(&app, &id).audience(),
        0,
        "nothing starts before its time"
    );

    let again = post_with_token(&app, &send, &[("scheduled_at", "bad"), ("timezone", "UTC")]).await;
    assert_eq!(again.status(), 303, "send on a non-draft changes nothing");
    assert_eq!(status_of(&app, &id), "scheduled");
    let unscheduled =
        post_with_token(&app, &format!("/admin/announcements/{id}/unschedule"), &[]).await;
    assert_eq!(unscheduled.status(), 303);
    assert_eq!(status_of(&app, &id), "draft");
}

async fn test_sends_are_capped_per_organiser_per_hour(backend: Backend) {
    let app = organiser_app(backend).await;
    let id = simple_draft(&app, "Testing").await;
    let test = format!("/admin/announcements/{id}/test");
    let five = "a1@example.org, a2@example.org\na3@example.org,a4@example.org\r\na5@example.org";

    let invalid = post_with_token(
        &app,
        &test,
        &[("addresses", "friend@example.org, not an address")],
    )
    .await;
    assert_eq!(invalid.status(), 422);
    let page = invalid.text().await.unwrap();
    assert!(page.contains(r#"<p class="field-error" id="addresses-error">"#));
    assert!(
        page.contains("\nfriend@example.org, not an address</textarea>"),
        "kept"
    );
    let six = format!("{five}, a6@example.org");
    assert_eq!(
        post_with_token(&app, &test, &[("addresses", &six)])
            .await
            .status(),
        422
    );
    assert_eq!(
        post_with_token(&app, &test, &[("addresses", "")])
            .await
            .status(),
        422
    );

    for round in 0..4 {
        let queued = post_with_token(&app, &test, &[("addresses", five)]).await;
        assert_eq!(queued.status(), 303, "round {round}");
        assert_eq!(
            queued.headers()["location"],
            format!("/admin/announcements/{id}")
        );
        app.clock.advance(Duration::minutes(1));
    }
    let actor = format!("organiser:{ORGANISER}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'announcement_test' AND requested_by = '{actor}' \
             AND announcement_id = '{id}' AND test_address IS NOT NULL AND registration_id IS NULL"
        )),
        20
    );
    let page = admin_page(&app, &format!("/admin/announcements/{id}")).await;
    assert!(page.contains("20 of 20 test recipients used this hour"));

    let over = post_with_token(&app, &test, &[("addresses", "one.more@example.org")]).await;
    assert_eq!(over.status(), 429, "the 21st recipient in an hour");
    let wait: i64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'announcement_test'"),
        20
    );

    app.clock.advance(Duration::seconds(wait));
    let later = post_with_token(&app, &test, &[("addresses", "one.more@example.org")]).await;
    assert_eq!(
        later.status(),
        303,
        "after Retry-After the hour has room again"
    );
}

async fn the_archive_shows_only_sent_archived_announcements_without_tokens(backend: Backend) {
    let app = organiser_app(backend).await;
    seed_registrations(&mut app.db(), 4);
    let signup_form = app.get_text("/").await;
    assert!(
        !signup_form.contains("Past announcements"),
        "nothing archived yet"
    );

    let body = "Thanks for coming to **the meetup**.";
    let archived = compose(
        &app,
        &[
            ("subject", "Meetup notes"),
            ("body", body),
            ("archive", "yes"),
        ],
    )
    .await;
    let draft = compose(
        &app,
        &[
            ("subject", "Draft notes"),
            ("body", body),
            ("archive", "yes"),
        ],
    )
    .await;
    let private = compose(&app, &[("subject", "Members only"), ("body", body)]).await;
    let cancelled = compose(
        &app,
        &[
            ("subject", "Called off"),
            ("body", body),
            ("archive", "yes"),
        ],
    )
    .await;
    for id in [&archived, &private, &cancelled] {
        let sent = post_with_token(&app, &format!("/admin/announcements/{id}/send"), &[]).await;
        assert_eq!(sent.status(), 303);
    }
    assert_eq!(
        post_with_token(
            &app,
            &format!("/admin/announcements/{cancelled}/cancel"),
            &[]
        )
        .await
        .status(),
        303
    );
    app.deliver().await;
    assert_eq!(status_of(&app, &archived), "sent");
    assert_eq!(status_of(&app, &private), "sent");
    assert_eq!(deliveries(&app, &archived).sent, 4);

    let list = app
        .client
        .get(app.url("/announcements"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert!(list.headers().contains_key("content-security-policy"));
    let list = list.text().await.unwrap();
    assert!(list.contains(&format!(
        r#"<a href="/announcements/{archived}">Meetup notes</a>"#
    )));
    for other in ["Draft notes", "Members only", "Called off"] {
        assert!(!list.contains(other), "{other} is not in the archive");
    }

    let shown = app
        .client
        .get(app.url(&format!("/announcements/{archived}")))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["referrer-policy"], "same-origin");
    let shown = shown.text().await.unwrap();
    assert!(shown.contains("<h1>Meetup notes</h1>"));
    assert!(shown.contains("<strong>the meetup</strong>"));
    assert!(!shown.contains("token="), "no token in the archive");
    assert!(
        !shown.to_lowercase().contains("unsubscribe"),
        "no member's link"
    );
    for member in 1..=4 {
        assert!(
            !shown.contains(&format!("person{member}@")),
            "no member data"
        );
    }
    for id in [&draft, &private, &cancelled] {
        let hidden = app
            .client
            .get(app.url(&format!("/announcements/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(hidden.status(), 404, "{id}");
    }
    let unknown = app
        .client
        .get(app.url("/announcements/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let signup_form = app.get_text("/").await;
    assert!(signup_form.contains(r#"<a href="/announcements">Past announcements</a>"#));
    let dashboard = admin_page(&app, "/admin").await;
    assert!(dashboard.contains(r#"<a href="/admin/announcements">"#));
    assert!(
        dashboard.contains(
            r#"Announcement emails sent: <strong id="announcement-mail-sent">8</strong>"#
        ),
        "four members, two announcements sent"
    );
}

async fn progress_shows_the_rate_the_finish_and_failed_deliveries_to_retry(backend: Backend) {
    let app = spawn_app_with(
        backend,
        serde_json::json!({"email": {"announcement_rate_per_minute": 4}}),
    )
    .await;
    app.add_organiser(ORGANISER, PASSWORD);
    assert_eq!(app.log_in(ORGANISER, PASSWORD).await.status(), 303);
    seed_registrations(&mut app.db(), 10);
    let id = simple_draft(&app, "Paced").await;
    let page_path = format!("/admin/announcements/{id}");
    let act = |action: &str| format!("{page_path}/{action}");
    assert_eq!(post_with_token(&app, &act("send"), &[]).await.status(), 303);

    // Four a minute: the first minute sends four; six wait.
    app.deliver().await;
    let progress = progress_of(&admin_page(&app, &page_path).await);
    for (label, value) in [
        ("Queued", "6"),
        ("Sent", "4"),
        ("Failed", "0"),
        ("Current rate", "4 a minute"),
        ("Estimated finish", "2026-11-26 09:02 UTC"),
    ] {
        assert_row(&progress, label, value);
    }

    // The relay refuses the next minute's four for good.
    app.smtp
        .reject_rcpt("@example.org", "554 5.7.1 message refused");
    app.clock.advance(Duration::minutes(1));
    app.deliver().await;
    assert_eq!(
        post_with_token(&app, &act("pause"), &[]).await.status(),
        303
    );
    let page = admin_page(&app, &page_path).await;
    let progress = progress_of(&page);
    assert_row(&progress, "Queued", "2");
    assert_row(&progress, "Failed", "4");
    assert_row(&progress, "Current rate", "0 a minute");
    assert_row(&progress, "Estimated finish", "—");
    let failed = between(&page, r#"<table id="failed">"#, "</table>");
    assert_eq!(
        failed.matches(r#"action="/admin/outbox/"#).count(),
        4,
        "a Retry button each"
    );
    assert!(
        failed.contains(r#"<th scope="col">Action</th>"#),
        "the Retry column has a heading"
    );
    assert!(
        failed.contains("rcpt refused: SMTP 554"),
        "the last error: {failed}"
    );
    let retried_id = between(failed, r#"action="/admin/outbox/"#, "/retry").to_owned();

    app.smtp.clear_failures();
    let token = admin_token(&app).await;
    let retried = app
        .client
        .post(app.url(&format!("/admin/outbox/{retried_id}/retry")))
        .header("referer", app.url(&page_path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 303);
    assert_eq!(
        retried.headers()["location"],
        page_path.as_str(),
        "back to the page"
    );
    assert_eq!(
        deliveries(&app, &id).queued,
        3,
        "the retried delivery is queued again"
    );

    assert_eq!(
        post_with_token(&app, &act("resume"), &[]).await.status(),
        303
    );
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(1));
        app.deliver().await;
    }
    assert_eq!(status_of(&app, &id), "sent");
    assert_eq!(
        deliveries(&app, &id),
        DeliveryCounts {
            sent: 7,
            failed: 3,
            ..Default::default()
        }
    );
    let page = admin_page(&app, &page_path).await;
    let failed = between(&page, r#"<table id="failed">"#, "</table>");
    assert!(
        !failed.contains("/retry"),
        "no Retry once sent: the worker sends no more of it"
    );
}

fn progress_of(page: &str) -> String {
    between(page, r#"<table id="progress">"#, "</table>").to_owned()
}

fn assert_row(table: &str, label: &str, value: &str) {
    assert!(
        table.contains(&format!(r#"<th scope="row">{label}</th><td>{value}</td>"#)),
        "{label} {value} in {table}"
    );
}
