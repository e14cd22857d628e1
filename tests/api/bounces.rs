//! Bounces and complaints through the raw-message endpoint and the CLI: each
//! report read by structure gives its result, the same report twice is one
//! event, and the policy (hard, three soft days, complaint, reinstate) moves
//! the member as SPEC says.

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;
use chrono::Duration;
use rollcall::bounces::tag;
use rollcall::clock::Clock;
use rollcall::db::bounces::{self, Reinstate};
use serde_json::{Value, json};

const TOKEN: &str = "a-webhook-token-that-is-long-enough-0123";

on_both_backends!(each_report_gives_its_result_and_a_repeat_is_a_duplicate);
on_both_backends!(the_endpoint_refuses_bad_input_and_stores_nothing);
on_both_backends!(without_a_configured_token_the_endpoint_always_answers_401);
on_both_backends!(the_cli_reads_a_file_as_the_endpoint_does);
on_both_backends!(soft_bounces_on_three_days_within_thirty_unsubscribe);
on_both_backends!(soft_bounces_spread_beyond_thirty_days_do_not);
on_both_backends!(a_complaint_unsubscribes_and_cannot_be_reinstated);

async fn app_with_bounces(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        json!({"email": {"bounce": {"address": "bounces@example.org", "webhook_token": TOKEN}}}),
    )
    .await
}

/// A fixture with `{TAG}` naming `outbox_id`.
pub(crate) fn fixture(app: &TestApp, name: &str, outbox_id: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/bounces/{name}.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    let tag = tag::tag_for(&app.state.keys, outbox_id).unwrap();
    let forged = format!("{}aaaaaaaa", &tag[..26]);
    std::fs::read_to_string(path)
        .unwrap()
        .replace("{UPPER_TAG}", &tag.to_ascii_uppercase())
        .replace("{TAG}", &tag)
        .replace("{FORGED}", &forged)
}

async fn post_report(
    app: &TestApp,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/bounces"))
        .header("Content-Type", "message/rfc822")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn result_of(app: &TestApp, report: String) -> String {
    let answer = post_report(app, report, Some(TOKEN)).await;
    assert_eq!(answer.status(), 202);
    let body: Value = answer.json().await.unwrap();
    body["result"].as_str().unwrap().to_owned()
}

/// A confirmed member and the id of an outbox row sent to them.
pub(crate) async fn member_with_message(app: &TestApp, email: &str) -> (String, String) {
    app.confirmed_member(email).await;
    let row = app
        .outbox()
        .into_iter()
        .find(|row| {
            row.kind == "welcome"
                && registration_email(app, row.registration_id.as_deref()) == email
        })
        .unwrap();
    (row.registration_id.unwrap(), row.id)
}

fn registration_email(app: &TestApp, id: Option<&str>) -> String {
    let Some(id) = id else { return String::new() };
    let mut conn = app.db();
    rollcall::db::registrations::find(&mut conn, id)
        .unwrap()
        .map(|r| r.email)
        .unwrap_or_default()
}

pub(crate) fn status_and_reason(app: &TestApp, registration: &str) -> (String, Option<String>) {
    let mut conn = app.db();
    let row = rollcall::db::registrations::find(&mut conn, registration)
        .unwrap()
        .unwrap();
    (row.status, row.unsubscribe_reason)
}

pub(crate) fn ledger_events(app: &TestApp, registration: &str, event: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM ledger WHERE registration_id = '{registration}' AND event = '{event}'"
    ))
}

async fn each_report_gives_its_result_and_a_repeat_is_a_duplicate(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (ana, ana_message) = member_with_message(&app, "ana@example.org").await;
    let (_, ben_message) = member_with_message(&app, "ben@example.org").await;
    for (name, message, expected) in [
        ("gmail_soft", &ben_message, "soft"),
        ("microsoft_policy", &ben_message, "policy"),
        ("delayed", &ben_message, "ignored"),
        ("out_of_office", &ben_message, "ignored"),
        ("plain", &ben_message, "ignored"),
        ("forged", &ben_message, "unmatched"),
        ("postfix_hard", &ana_message, "hard"),
    ] {
        assert_eq!(
            result_of(&app, fixture(&app, name, message)).await,
            expected,
            "{name}"
        );
    }
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("bounced".to_owned()))
    );
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);

    // The same report again, or another report of the same class on the same
    // message (Exim's, matched by its Message-ID), is one event.
    assert_eq!(
        result_of(&app, fixture(&app, "postfix_hard", &ana_message)).await,
        "duplicate"
    );
    assert_eq!(
        result_of(&app, fixture(&app, "exim_hard", &ana_message)).await,
        "duplicate"
    );
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM bounces WHERE class = 'hard' AND registration_id IS NOT NULL"
        ),
        1
    );
    // An unmatched report keeps no address and no message.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bounces WHERE registration_id IS NULL AND outbox_id IS NULL AND status_code IS NULL"),
        1
    );
    assert_eq!(
        status_and_reason(&app, &member_of(&app, &ben_message)).0,
        "confirmed",
        "soft and policy leave the member"
    );
}

fn member_of(app: &TestApp, outbox_id: &str) -> String {
    app.outbox()
        .into_iter()
        .find(|r| r.id == outbox_id)
        .unwrap()
        .registration_id
        .unwrap()
}

async fn the_endpoint_refuses_bad_input_and_stores_nothing(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (_, message) = member_with_message(&app, "ana@example.org").await;
    let report = fixture(&app, "postfix_hard", &message);
    assert_eq!(post_report(&app, report.clone(), None).await.status(), 401);
    let wrong = post_report(
        &app,
        report.clone(),
        Some("a-wrong-token-that-is-long-enough-99999"),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");
    let huge = format!("Subject: big\r\n\r\n{}", "x".repeat(2 * 1024 * 1024));
    assert_eq!(post_report(&app, huge, Some(TOKEN)).await.status(), 413);
    let not_a_message = post_report(&app, "just words, no header\r\n\r\nbody", Some(TOKEN)).await;
    assert_eq!(not_a_message.status(), 400);
    let body: Value = not_a_message.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not a message"));
    assert_eq!(app.count("SELECT COUNT(*) FROM bounces"), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        1
    );
}

async fn without_a_configured_token_the_endpoint_always_answers_401(backend: Backend) {
    let app = spawn_app_with(backend, json!({})).await;
    let answer = post_report(&app, "Subject: x\r\n\r\nbody", Some(TOKEN)).await;
    assert_eq!(answer.status(), 401);
    let body: Value = answer.json().await.unwrap();
    assert!(body["error"].is_string());
}

async fn the_cli_reads_a_file_as_the_endpoint_does(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (ana, message) = member_with_message(&app, "ana@example.org").await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.eml");
    std::fs::write(&report, fixture(&app, "arf_complaint", &message)).unwrap();
    let path = report.to_str().unwrap();
    let bounce_env = [("ROLLCALL__EMAIL__BOUNCE__ADDRESS", "bounces@example.org")];
    let first = app.rollcall_with(&["bounce", path], &bounce_env, None);
    assert_eq!(String::from_utf8_lossy(&first.stdout), "complaint\n");
    assert!(first.status.success());
    let again = app.rollcall_with(&["bounce", path], &bounce_env, None);
    assert_eq!(String::from_utf8_lossy(&again.stdout), "duplicate\n");
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("complaint".to_owned()))
    );
    assert_eq!(ledger_events(&app, &ana, "complaint"), 1);

    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "no headers at all\n\nbody").unwrap();
    let refused = app.rollcall_with(&["bounce", junk.to_str().unwrap()], &bounce_env, None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
}

/// `n` more messages to the registration (announcement deliveries, cancelled
/// so nothing is left to send); their ids.
fn more_messages(app: &TestApp, n: usize) -> Vec<String> {
    use rollcall::db::announcements;
    use rollcall::domain::announcement::{Action, AnnouncementDraft, RawAudience};
    let mut conn = app.db();
    let rules = rollcall::startup::send_rules(&app.settings, &app.state.keys);
    let now = app.clock.now_naive();
    (0..n)
        .map(|i| {
            let draft = AnnouncementDraft::parse(
                &format!("News {i}"),
                "Body",
                &RawAudience::default(),
                false,
                &[],
            )
            .unwrap();
            let id = announcements::create(&mut conn, &draft, "cli:test", now).unwrap();
            announcements::apply(&mut conn, &rules, &id, Action::SendNow, None, now).unwrap();
            let delivery = app
                .outbox()
                .into_iter()
                .find(|r| r.announcement_id.as_deref() == Some(id.as_str()))
                .unwrap()
                .id;
            announcements::apply(&mut conn, &rules, &id, Action::Cancel, None, now).unwrap();
            delivery
        })
        .collect()
}

async fn soft_bounces_on_three_days_within_thirty_unsubscribe(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (ana, _) = member_with_message(&app, "ana@example.org").await;
    let messages = more_messages(&app, 3);
    assert_eq!(
        result_of(&app, fixture(&app, "gmail_soft", &messages[0])).await,
        "soft"
    );
    app.clock.advance(Duration::days(1));
    assert_eq!(
        result_of(&app, fixture(&app, "gmail_soft", &messages[1])).await,
        "soft"
    );
    assert_eq!(
        status_and_reason(&app, &ana).0,
        "confirmed",
        "two days are not enough"
    );
    app.clock.advance(Duration::days(10));
    assert_eq!(
        result_of(&app, fixture(&app, "gmail_soft", &messages[2])).await,
        "soft"
    );
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("bounced".to_owned()))
    );
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);

    // Bounced after confirming: an organiser may reinstate; a second time is 409.
    let mut conn = app.db();
    let now = app.clock.now_naive();
    assert_eq!(
        bounces::reinstate(&mut conn, &ana, "organiser:o@example.org", now).unwrap(),
        Reinstate::Done
    );
    assert_eq!(
        status_and_reason(&app, &ana),
        ("confirmed".to_owned(), None)
    );
    assert_eq!(ledger_events(&app, &ana, "reinstate"), 1);
    assert_eq!(
        bounces::reinstate(&mut conn, &ana, "organiser:o@example.org", now).unwrap(),
        Reinstate::NotAllowed
    );
    assert_eq!(
        bounces::reinstate(&mut conn, "no-such-id", "organiser:o@example.org", now).unwrap(),
        Reinstate::NotFound
    );
}

async fn soft_bounces_spread_beyond_thirty_days_do_not(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (ana, _) = member_with_message(&app, "ana@example.org").await;
    let messages = more_messages(&app, 4);
    // Days 1, 29 and 58: never three within 30 days.
    for (message, wait) in messages.iter().take(3).zip([0, 28, 29]) {
        app.clock.advance(Duration::days(wait));
        assert_eq!(
            result_of(&app, fixture(&app, "gmail_soft", message)).await,
            "soft"
        );
    }
    assert_eq!(status_and_reason(&app, &ana).0, "confirmed");
    // Two reports about one message on two days count once.
    app.clock.advance(Duration::days(1));
    let report = fixture(&app, "gmail_soft", &messages[2]).replace("5.2.2", "4.2.2");
    assert_eq!(
        result_of(&app, report).await,
        "duplicate",
        "one message, one soft bounce"
    );
    assert_eq!(status_and_reason(&app, &ana).0, "confirmed");
}

async fn a_complaint_unsubscribes_and_cannot_be_reinstated(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (ana, message) = member_with_message(&app, "ana@example.org").await;
    assert_eq!(
        result_of(&app, fixture(&app, "arf_complaint", &message)).await,
        "complaint"
    );
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("complaint".to_owned()))
    );
    let mut conn = app.db();
    let now = app.clock.now_naive();
    assert_eq!(
        bounces::reinstate(&mut conn, &ana, "organiser:o@example.org", now).unwrap(),
        Reinstate::NotAllowed
    );
    // Erasure removes the bounce rows with the person.
    rollcall::db::erasure::erase(&mut conn, &app.state.keys, &ana, "cli:test", now).unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM bounces"), 0);
}

on_both_backends!(the_export_names_why_people_left);

async fn the_export_names_why_people_left(backend: Backend) {
    let app = app_with_bounces(backend).await;
    let (_, bounced) = member_with_message(&app, "ana@example.org").await;
    let (_, complained) = member_with_message(&app, "ben@example.org").await;
    app.unsubscribed_member("cai@example.org").await;
    app.confirmed_member("dee@example.org").await;
    assert_eq!(
        result_of(&app, fixture(&app, "postfix_hard", &bounced)).await,
        "hard"
    );
    assert_eq!(
        result_of(&app, fixture(&app, "arf_complaint", &complained)).await,
        "complaint"
    );
    let output = app.rollcall(&["export", "--status", "all"]);
    assert!(output.status.success());
    let csv = String::from_utf8(output.stdout).unwrap();
    let reason_of = |address: &str| -> String {
        let line = csv.lines().find(|l| l.contains(address)).unwrap();
        line.rsplit(',').next().unwrap().to_owned()
    };
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",source,unsubscribe_reason")
    );
    assert_eq!(reason_of("ana@example.org"), "bounced");
    assert_eq!(reason_of("ben@example.org"), "complaint");
    assert_eq!(reason_of("cai@example.org"), "user");
    assert_eq!(reason_of("dee@example.org"), "");
}

on_both_backends!(an_organiser_reinstates_a_bounced_member_from_their_page);

async fn an_organiser_reinstates_a_bounced_member_from_their_page(backend: Backend) {
    let app = app_with_bounces(backend).await;
    app.add_organiser("organiser@example.org", "correct horse battery staple");
    let (ana, bounced) = member_with_message(&app, "ana@example.org").await;
    let (ben, complained) = member_with_message(&app, "ben@example.org").await;
    assert_eq!(
        result_of(&app, fixture(&app, "postfix_hard", &bounced)).await,
        "hard"
    );
    assert_eq!(
        result_of(&app, fixture(&app, "arf_complaint", &complained)).await,
        "complaint"
    );
    app.log_in("organiser@example.org", "correct horse battery staple")
        .await;
    let page = app.get_text(&format!("/admin/subscribers/{ana}")).await;
    assert!(
        page.contains("5.1.1") && page.contains("Reinstate"),
        "{page}"
    );
    let token = crate::helpers::extract_csrf(&page).unwrap();
    let path = format!("/admin/subscribers/{ana}/reinstate");
    assert_eq!(
        app.post_form(&path, &[]).await.status(),
        403,
        "no CSRF token"
    );
    assert_eq!(
        app.post_form(&path, &[("csrf_token", &token)])
            .await
            .status(),
        303
    );
    assert_eq!(
        status_and_reason(&app, &ana),
        ("confirmed".to_owned(), None)
    );
    assert_eq!(
        app.post_form(&path, &[("csrf_token", &token)])
            .await
            .status(),
        409,
        "already reinstated"
    );
    let complaint = format!("/admin/subscribers/{ben}/reinstate");
    assert_eq!(
        app.post_form(&complaint, &[("csrf_token", &token)])
            .await
            .status(),
        409
    );
    assert!(
        !app.get_text(&format!("/admin/subscribers/{ben}"))
            .await
            .contains(">Reinstate<")
    );
    assert_eq!(status_and_reason(&app, &ben).0, "unsubscribed");
}

on_both_backends!(mail_sent_with_bounces_on_carries_the_signed_return_path);
on_both_backends!(a_5_1_1_at_rcpt_is_a_hard_bounce_and_a_554_at_data_is_not);

async fn mail_sent_with_bounces_on_carries_the_signed_return_path(backend: Backend) {
    let app = app_with_bounces(backend).await;
    assert_eq!(app.sign_up("ana@example.org").await.status(), 303);
    app.deliver().await;
    let mail = app.mail_to("ana@example.org").pop().unwrap();
    let row = app
        .outbox()
        .into_iter()
        .find(|r| r.kind == "confirmation")
        .unwrap();
    let tag = tag::tag_for(&app.state.keys, &row.id).unwrap();
    assert_eq!(mail.mail_from, format!("bounces+{tag}@example.org"));
    assert_eq!(mail.message_id().unwrap(), format!("<{tag}@example.org>"));
    assert!(
        mail.header("From")
            .unwrap()
            .contains(&app.settings.email.from.email.to_string())
    );
    assert_eq!(
        tag::verify(&app.state.keys, &tag).as_deref(),
        Some(row.id.as_str())
    );

    // Without a bounce address, the envelope sender is From's address.
    let plain = spawn_app_with(backend, json!({})).await;
    plain.sign_up("ben@example.org").await;
    plain.deliver().await;
    let mail = plain.mail_to("ben@example.org").pop().unwrap();
    assert_eq!(mail.mail_from, plain.settings.email.from.email.to_string());
}

async fn a_5_1_1_at_rcpt_is_a_hard_bounce_and_a_554_at_data_is_not(backend: Backend) {
    let app = app_with_bounces(backend).await;
    app.confirmed_member("ana@example.org").await;
    app.confirmed_member("ben@example.org").await;
    let ana = member_id(&app, "ana@example.org");
    let ben = member_id(&app, "ben@example.org");
    let messages = more_messages_queued(&app);
    app.smtp
        .reject_rcpt("ana@", "550 5.1.1 <ana@example.org>: no such user");
    app.smtp.fail_next_data(1, "554 5.6.0 message refused");
    app.deliver().await;
    assert_eq!(
        status_and_reason(&app, &ana),
        ("unsubscribed".to_owned(), Some("bounced".to_owned()))
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM bounces WHERE registration_id = '{ana}' AND source = 'smtp' AND class = 'hard' AND status_code = '5.1.1'")),
        1
    );
    assert_eq!(ledger_events(&app, &ana, "bounce"), 1);
    // The DATA refusal failed one message and is no bounce.
    assert_eq!(status_and_reason(&app, &ben).0, "confirmed");
    assert_eq!(app.count("SELECT COUNT(*) FROM bounces"), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND id IN ({messages})"
        )),
        2
    );
}

fn member_id(app: &TestApp, email: &str) -> String {
    let mut conn = app.db();
    let key = rollcall::domain::EmailAddress::parse(email).unwrap();
    rollcall::db::registrations::find_by_email_key(&mut conn, key.key())
        .unwrap()
        .unwrap()
        .id
}

/// One announcement to everyone, queued: the quoted ids of its deliveries.
fn more_messages_queued(app: &TestApp) -> String {
    use rollcall::db::announcements;
    use rollcall::domain::announcement::{Action, AnnouncementDraft, RawAudience};
    let mut conn = app.db();
    let rules = rollcall::startup::send_rules(&app.settings, &app.state.keys);
    let now = app.clock.now_naive();
    let draft =
        AnnouncementDraft::parse("News", "Body", &RawAudience::default(), false, &[]).unwrap();
    let id = announcements::create(&mut conn, &draft, "cli:test", now).unwrap();
    announcements::apply(&mut conn, &rules, &id, Action::SendNow, None, now).unwrap();
    app.outbox()
        .into_iter()
        .filter(|r| r.announcement_id.as_deref() == Some(id.as_str()))
        .map(|r| format!("'{}'", r.id))
        .collect::<Vec<_>>()
        .join(", ")
}

on_both_backends!(the_dashboard_counts_bounces_and_the_last_announcements_rate);

async fn the_dashboard_counts_bounces_and_the_last_announcements_rate(backend: Backend) {
    let app = app_with_bounces(backend).await;
    app.add_organiser("organiser@example.org", "correct horse battery staple");
    for who in ["ana", "ben", "cai", "dee"] {
        app.confirmed_member(&format!("{who}@example.org")).await;
    }
    more_messages_queued(&app);
    app.smtp.reject_rcpt("ana@", "550 5.1.1 no such user");
    app.deliver().await;
    let complained = app
        .outbox()
        .into_iter()
        .find(|r| r.kind == "announcement" && r.status == "sent")
        .unwrap()
        .id;
    assert_eq!(
        result_of(&app, fixture(&app, "arf_complaint", &complained)).await,
        "complaint"
    );
    assert_eq!(
        result_of(&app, fixture(&app, "forged", &complained)).await,
        "unmatched"
    );
    app.log_in("organiser@example.org", "correct horse battery staple")
        .await;
    let page = app.get_text("/admin").await;
    let counts = page.split("id=\"bounce-counts\"").nth(1).unwrap();
    let cells: Vec<&str> = counts
        .split("<td>")
        .skip(1)
        .take(5)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(
        cells,
        ["1", "0", "1", "0", "1"],
        "hard, soft, complaints, policy, unmatched"
    );
    assert!(
        page.contains("1 of 4 deliveries bounced (25.0 %)"),
        "{}",
        page.split("id=\"last-bounce-rate\"")
            .nth(1)
            .unwrap_or("no rate line")
    );
}

on_both_backends!(the_token_skips_the_per_ip_bucket_and_strangers_take_from_it);

async fn the_token_skips_the_per_ip_bucket_and_strangers_take_from_it(backend: Backend) {
    let app = spawn_app_with(
        backend,
        json!({
            "email": {"bounce": {"address": "bounces@example.org", "webhook_token": TOKEN}},
            "rate_limit": {"enabled": true, "per_ip_per_minute": 1, "burst": 2},
        }),
    )
    .await;
    for _ in 0..6 {
        let answer = post_report(&app, "Subject: hello\r\n\r\nbody", Some(TOKEN)).await;
        assert_eq!(answer.status(), 202, "the token's holder is never limited");
    }
    let strangers: Vec<u16> = {
        let mut codes = Vec::new();
        for _ in 0..4 {
            codes.push(
                post_report(&app, "Subject: hello\r\n\r\nbody", None)
                    .await
                    .status()
                    .as_u16(),
            );
        }
        codes
    };
    assert_eq!(strangers.first(), Some(&401));
    assert_eq!(strangers.last(), Some(&429), "{strangers:?}");
}
