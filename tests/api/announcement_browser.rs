//! An organiser in headless Chromium: logs in, composes an announcement,
//! previews it, sends a test to themselves, sends it to its audience and sees
//! it sent once the worker has delivered it, at 360 px and at desktop width,
//! on both backends. Screenshots of every step go
//! to `tests/output/browser/announce-{backend}-{width}-….png`.

use crate::chromium::{Browser, DESKTOP_WIDTH};
use crate::helpers::{Backend, TestApp, browser_available, seed_registrations, spawn_app};
use crate::on_both_backends;
use diesel::prelude::*;
use rollcall::db::schema::announcements;

on_both_backends!(an_organiser_composes_previews_tests_and_sends_in_the_browser);

const ORGANISER: &str = "organiser@example.org";
const PASSWORD: &str = "correct horse battery staple";

async fn an_organiser_composes_previews_tests_and_sends_in_the_browser(backend: Backend) {
    let test = "an_organiser_composes_previews_tests_and_sends_in_the_browser";
    let name = format!("{backend:?}").to_lowercase();
    if !browser_available(&format!("{}::{test}::{name}", module_path!())) {
        return;
    }
    let browser = Browser::start(&format!("announce-{name}")).await;
    let app = spawn_app(backend).await;
    // Ten members; the seeded countries cycle AU, NZ, FJ, AU, so three are in New Zealand.
    seed_registrations(&mut app.db(), 10);
    app.add_organiser(ORGANISER, PASSWORD);
    log_in(&app, &browser).await;

    compose_test_and_send(&app, &browser, "narrow", "Meetup in Wellington").await;
    browser.set_width(DESKTOP_WIDTH).await;
    compose_test_and_send(&app, &browser, "desktop", "Meetup in Auckland").await;
    browser.close().await;
}

async fn log_in(app: &TestApp, browser: &Browser) {
    browser.open(&app.url("/admin/login")).await;
    browser.type_into("#email", ORGANISER).await;
    browser.type_into("#password", PASSWORD).await;
    browser
        .click("form[action='/admin/login'] button[type='submit']")
        .await;
    browser.wait_for_url(&app.url("/admin")).await;
}

/// One pass through the pages at the window's current width.
async fn compose_test_and_send(app: &TestApp, browser: &Browser, width: &str, subject: &str) {
    let shot = |step: &str| format!("{width}-{step}");
    browser.click("nav a[href='/admin/announcements']").await;
    browser.wait_for_url(&app.url("/admin/announcements")).await;
    assert_eq!(browser.heading().await, "Announcements");
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot(&shot("1-list")).await;

    browser.click("a[href='/admin/announcements/new']").await;
    browser
        .wait_for_url(&app.url("/admin/announcements/new"))
        .await;
    browser.type_into("#subject", subject).await;
    browser
        .type_into(
            "#body",
            "Kia ora **everyone**,\n\nSee [the programme](https://pangeo.io).",
        )
        .await;
    browser.choose("#country", "NZ").await;
    browser.click("#archive").await;
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot(&shot("2-compose")).await;
    browser
        .click("form[action='/admin/announcements'] button[type='submit']")
        .await;

    let count = browser.find("#audience-count").await.text().await.unwrap();
    let id: String = announcements::table
        .filter(announcements::subject.eq(subject))
        .select(announcements::id)
        .first(&mut app.db())
        .expect("the draft is stored");
    let page = app.url(&format!("/admin/announcements/{id}"));
    browser.wait_for_url(&page).await;
    assert_eq!(browser.heading().await, subject);
    assert_eq!(count, "3", "the members in New Zealand");
    assert_eq!(browser.find("#status").await.text().await.unwrap(), "draft");
    let preview = browser.find("iframe.preview").await;
    assert_eq!(preview.attr("sandbox").await.unwrap().as_deref(), Some(""));
    let srcdoc = preview.attr("srcdoc").await.unwrap().expect("srcdoc");
    assert!(srcdoc.contains("<strong>everyone</strong>") && !srcdoc.contains("token="));
    browser.enter_frame("iframe.preview").await;
    let greeting = browser.find("strong").await.text().await.unwrap();
    assert_eq!(greeting, "everyone", "the preview is rendered");
    let unsubscribe = browser.find("a[href='#']").await.text().await.unwrap();
    assert_eq!(unsubscribe, "Unsubscribe", "with an inert unsubscribe link");
    browser.leave_frame().await;
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot(&shot("3-preview")).await;

    browser.type_into("#addresses", ORGANISER).await;
    browser
        .click("form[action$='/test'] button[type='submit']")
        .await;
    let tested = browser.find("#tests-sent td").await.text().await.unwrap();
    assert_eq!(tested, ORGANISER, "the test went to the organiser");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'announcement_test' AND announcement_id = '{id}' \
             AND test_address = '{ORGANISER}'"
        )),
        1
    );

    browser.click("#send-now").await;
    let progress = browser.find("#progress").await.text().await.unwrap();
    let progress = progress.split_whitespace().collect::<Vec<_>>().join(" ");
    browser.wait_for_url(&page).await;
    assert_eq!(
        browser.find("#status").await.text().await.unwrap(),
        "sending"
    );
    assert!(progress.contains("Queued 3"), "{progress}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'announcement' AND announcement_id = '{id}'"
        )),
        3,
        "one delivery per member the page counted"
    );
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot(&shot("4-sending")).await;

    app.deliver().await;
    let test_mail = app
        .mail_to(ORGANISER)
        .into_iter()
        .find(|mail| mail.subject().as_deref() == Some(&format!("[Test] {subject}")));
    assert!(test_mail.is_some(), "the organiser got the test");
    browser.open(&page).await;
    assert_eq!(browser.find("#status").await.text().await.unwrap(), "sent");
    let progress = browser.find("#progress").await.text().await.unwrap();
    let progress = progress.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(progress.contains("Queued 0 Sent 3"), "{progress}");
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot(&shot("5-sent")).await;
}
