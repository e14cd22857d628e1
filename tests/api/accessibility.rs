//! Pages everyone can use, in headless Chromium: axe-core (WCAG 2.2 A and AA
//! and best practices) finds no violation on any page a member or an
//! organiser sees, at 360 px and on a desktop; a keyboard finds the skip link;
//! a failed submit says so in the title, focuses the first problem, and its
//! summary's links lead to the fields. The pages do not depend on the
//! backend, so this runs on SQLite.

use crate::chromium::{Browser, DESKTOP_WIDTH, WIDTH};
use crate::helpers::{Backend, TestApp, axe_source, browser_available, link_in, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_violation_on_any_page_at_either_width() {
    let test = concat!(
        module_path!(),
        "::axe_finds_no_violation_on_any_page_at_either_width"
    );
    if !browser_available(test) {
        return;
    }
    let Some(axe) = axe_source(test) else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.confirmed_member("member@example.org").await;
    let member = registration_id(&app, "member@example.org");
    let announcement = draft(&app);
    let browser = Browser::start("axe").await;
    log_in(&app, &browser).await;
    let mut failures = Vec::new();
    for width in [WIDTH, DESKTOP_WIDTH] {
        browser.set_width(width).await;
        let mut check = async |name: &str, browser: &Browser| {
            for violation in browser.axe_violations(&axe).await {
                failures.push(format!("{width} px, {name}: {violation}"));
            }
        };
        // The member's pages, in the order a person meets them.
        let person = format!("person{width}@example.org");
        browser.open(&app.url("/")).await;
        check("the form, empty", &browser).await;
        browser
            .click("form[action='/subscriptions'] button[type=submit]")
            .await;
        browser.find(".error-summary").await;
        check("the form with its errors", &browser).await;
        browser.type_into("#email", &person).await;
        browser.type_into("#name", "Mele Fifita").await;
        check("the form, filled", &browser).await;
        browser.click("#consent").await;
        browser
            .click("form[action='/subscriptions'] button[type=submit]")
            .await;
        browser.wait_for_url(&app.url("/subscriptions/check")).await;
        check("the check page", &browser).await;
        browser.type_into("#code", "000000").await;
        browser
            .click("form[action='/subscriptions/confirm'] button")
            .await;
        browser.find(".error-summary").await;
        check("the check page with a wrong code", &browser).await;
        app.deliver().await;
        let link = app.confirmation_link(&person);
        browser.open(&link).await;
        check("confirm", &browser).await;
        browser
            .click("form[action='/subscriptions/confirm'] button")
            .await;
        browser
            .wait_for_url(&app.url("/subscriptions/confirmed"))
            .await;
        check("the welcome page", &browser).await;
        app.deliver().await;
        browser.open(&app.unsubscribe_link(&person)).await;
        check("unsubscribe", &browser).await;
        browser.click("main form button").await;
        browser
            .find("form[action^='/unsubscribe/manage?token=']")
            .await;
        check("unsubscribed", &browser).await;
        // Past the cooldown that the signup's email started.
        app.clock.advance(chrono::Duration::minutes(11));
        browser
            .click("form[action^='/unsubscribe/manage?token='] button")
            .await;
        browser
            .wait_for_url(&app.url("/subscriptions/manage/sent"))
            .await;
        check("manage link sent", &browser).await;
        app.deliver().await;
        let mail = app.mail_to(&person).pop().unwrap().text_body().unwrap();
        browser.open(&link_in(&mail, "/manage?token=")).await;
        check("manage", &browser).await;
        browser.click("main a[href^='/manage/erase?token=']").await;
        browser.find("main button.danger").await;
        check("erase, asked once more", &browser).await;
        browser.open(&app.url("/no-such-page")).await;
        check("a 404", &browser).await;
        browser.open(&app.url("/privacy")).await;
        check("the privacy notice", &browser).await;

        // The organiser's pages.
        for (name, path) in [
            ("the dashboard", "/admin".to_owned()),
            ("the audience", "/admin/subscribers".to_owned()),
            ("the person page", format!("/admin/subscribers/{member}")),
            (
                "erase a person",
                format!("/admin/subscribers/{member}/erase"),
            ),
            ("announcements", "/admin/announcements".to_owned()),
            ("a new announcement", "/admin/announcements/new".to_owned()),
            (
                "an announcement",
                format!("/admin/announcements/{announcement}"),
            ),
        ] {
            browser.open(&app.url(&path)).await;
            browser.find("main h1").await;
            check(name, &browser).await;
        }
    }
    // The login form, signed out.
    let signed_out = Browser::start("axe-login").await;
    for width in [WIDTH, DESKTOP_WIDTH] {
        signed_out.set_width(width).await;
        signed_out.open(&app.url("/admin/login")).await;
        for violation in signed_out.axe_violations(&axe).await {
            failures.push(format!("{width} px, the login form: {violation}"));
        }
    }
    signed_out.close().await;
    browser.close().await;
    assert!(
        failures.is_empty(),
        "axe-core found:\n{}",
        failures.join("\n")
    );
    app.deliver().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_skips_to_the_content_and_a_failed_submit_leads_to_its_fields() {
    let test = concat!(
        module_path!(),
        "::a_keyboard_skips_to_the_content_and_a_failed_submit_leads_to_its_fields"
    );
    if !browser_available(test) {
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start("keyboard").await;
    browser.open(&app.url("/")).await;
    assert!(!browser.title().await.starts_with("Error"));
    // The first Tab lands on the skip link; Enter moves focus to the content.
    browser.press("\u{e004}").await;
    assert_eq!(browser.focused().await, "a.skip-link");
    browser.press("\u{e007}").await;
    assert_eq!(browser.focused().await, "main#main");
    // An empty submit: the title says so, focus is on the first problem, and
    // the summary counts the problems and links to each field.
    browser
        .click("form[action='/subscriptions'] button[type=submit]")
        .await;
    browser.find(".error-summary").await;
    assert!(
        browser.title().await.starts_with("Error: "),
        "{}",
        browser.title().await
    );
    assert_eq!(browser.focused().await, "input#email");
    let summary = browser.find(".error-summary").await.text().await.unwrap();
    for sentence in [
        "There are 3 problems with the form",
        "Enter your email address",
        "Enter your name",
        "Tick the box to agree",
    ] {
        assert!(summary.contains(sentence), "{summary}");
    }
    browser.click(".error-summary a[href='#name']").await;
    assert_eq!(browser.focused().await, "input#name");
    browser.click(".error-summary a[href='#consent']").await;
    assert_eq!(browser.focused().await, "input#consent");
    // Each field says its own sentence, tied to it for screen readers.
    let described = browser
        .find("#name")
        .await
        .attr("aria-describedby")
        .await
        .unwrap();
    assert_eq!(described.as_deref(), Some("name-error"));
    assert_eq!(
        browser.find("#name-error").await.text().await.unwrap(),
        "Enter your name"
    );
    browser.close().await;
}

fn registration_id(app: &TestApp, email: &str) -> String {
    use diesel::prelude::*;
    use rollcall::db::schema::registrations::dsl;
    dsl::registrations
        .filter(dsl::email_key.eq(email))
        .select(dsl::id)
        .get_result(&mut app.db())
        .unwrap()
}

/// A draft announcement made by the CLI; its id.
fn draft(app: &TestApp) -> String {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.md");
    std::fs::write(
        &body,
        "Kia ora koutou,\n\nThe **next meetup** is on [our site](https://example.org).\n",
    )
    .unwrap();
    let out = app.rollcall(&[
        "announce",
        "create",
        "--subject",
        "December meetup",
        "--body",
        body.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn log_in(app: &TestApp, browser: &Browser) {
    browser.open(&app.url("/admin/login")).await;
    browser.type_into("#email", "organiser@example.org").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/admin/login'] button").await;
    browser.wait_for_url(&app.url("/admin")).await;
}
