//! A person with a phone: the signup form, the check page, the emailed link and
//! the welcome page, and leaving, asking for a manage link and erasing, in
//! headless Chromium at 360 px wide, on both backends.
//! Screenshots of every page go to `tests/output/browser/`.

use crate::chromium::{Browser, TIME_ZONE};
use crate::helpers::{Backend, TestApp, browser_available, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_visitor_confirms_with_the_emailed_code_on_a_narrow_screen,
    a_visitor_confirms_with_the_emailed_link_on_a_narrow_screen,
    a_member_leaves_asks_for_a_manage_link_and_erases_on_a_narrow_screen,
);

const SIGNUP_FORM: &str = "form[action='/subscriptions']";
const CODE_FORM: &str = "form[action='/subscriptions/confirm']";

/// The browser for one test, its screenshots named `{run}-{backend}-…`, or
/// `None` (after SKIPPED) without Chromium.
async fn browser_for(test: &str, run: &str, backend: Backend) -> Option<Browser> {
    let backend = format!("{backend:?}").to_lowercase();
    if !browser_available(&format!("{}::{test}::{backend}", module_path!())) {
        return None;
    }
    Some(Browser::start(&format!("{run}-{backend}")).await)
}

/// Opens the form, fills every visible field as a person would, ticks consent,
/// and submits; the browser lands on the check page.
async fn sign_up_in_the_browser(app: &TestApp, browser: &Browser, email: &str, shot: bool) {
    browser.open(&app.url("/")).await;
    assert!(
        browser
            .heading()
            .await
            .starts_with("Register your interest")
    );
    browser
        .type_into(&format!("{SIGNUP_FORM} #email"), email)
        .await;
    browser.type_into("#name", "Tūī Parata").await;
    browser.type_into("#organisation", "NIWA").await;
    browser.choose("#org_type", "government").await;
    browser.choose("#country", "NZ").await;
    let zone = browser.find("#timezone").await.prop("value").await.unwrap();
    assert_eq!(
        zone.as_deref(),
        Some(TIME_ZONE),
        "static/timezone.js chose the browser's own zone"
    );
    for interest in ["Xarray, Dask and Zarr", "Meetups and talks"] {
        browser
            .click(&format!("input[name='interests'][value='{interest}']"))
            .await;
    }
    browser.click("#consent").await;
    browser.assert_no_horizontal_scroll().await;
    if shot {
        browser.screenshot("1-form").await;
    }
    browser
        .click(&format!("{SIGNUP_FORM} button[type='submit']"))
        .await;
    browser.wait_for_url(&app.url("/subscriptions/check")).await;
    assert_eq!(browser.heading().await, "Check your inbox");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM registrations WHERE email = '{email}' AND status = 'pending' \
             AND name = 'Tūī Parata' AND organisation = 'NIWA' AND org_type = 'government' \
             AND country = 'NZ' AND timezone = 'Pacific/Auckland' AND interests = 'Meetups and talks;Xarray, Dask and Zarr'"
        )),
        1,
        "the registration holds what was typed and chosen"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consents WHERE source = 'form' AND user_agent LIKE '%HeadlessChrome%'"),
        1,
        "consent recorded with the browser's user agent"
    );
}

/// The browser shows the welcome page; the registration is confirmed `via`;
/// the welcome mail goes out.
async fn assert_welcomed(app: &TestApp, browser: &Browser, email: &str, via: &str) {
    browser
        .wait_for_url(&app.url("/subscriptions/confirmed"))
        .await;
    assert_eq!(browser.heading().await, "Welcome!");
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot("3-welcome").await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM registrations WHERE email = '{email}' AND status = 'confirmed' \
             AND confirmed_via = '{via}' AND confirm_user_agent LIKE '%HeadlessChrome%'"
        )),
        1
    );
    assert_eq!(app.deliver().await, 1, "the welcome mail");
    let welcome = app.mail_to(email).pop().expect("a welcome mail");
    assert!(
        welcome.subject().unwrap_or_default().starts_with("Welcome"),
        "{:?}",
        welcome.subject()
    );
}

async fn a_visitor_confirms_with_the_emailed_code_on_a_narrow_screen(backend: Backend) {
    let test = "a_visitor_confirms_with_the_emailed_code_on_a_narrow_screen";
    let Some(browser) = browser_for(test, "code", backend).await else {
        return;
    };
    let app = spawn_app(backend).await;
    sign_up_in_the_browser(&app, &browser, "tui.code@example.org", true).await;
    assert_eq!(app.deliver().await, 1, "the confirmation mail");
    let code = app.confirmation_code("tui.code@example.org");

    // Typed as the mail groups it for reading ("171 243"): the box keeps all of it.
    let grouped = format!("{} {}", &code[..3], &code[3..]);
    browser.type_into("#code", &grouped).await;
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot("2-check").await;
    browser
        .click(&format!("{CODE_FORM} button[type='submit']"))
        .await;
    assert_welcomed(&app, &browser, "tui.code@example.org", "code").await;
    browser.close().await;
}

async fn a_visitor_confirms_with_the_emailed_link_on_a_narrow_screen(backend: Backend) {
    let test = "a_visitor_confirms_with_the_emailed_link_on_a_narrow_screen";
    let Some(browser) = browser_for(test, "link", backend).await else {
        return;
    };
    let app = spawn_app(backend).await;
    sign_up_in_the_browser(&app, &browser, "tui.link@example.org", false).await;
    assert_eq!(app.deliver().await, 1, "the confirmation mail");
    let link = app.confirmation_link("tui.link@example.org");

    browser.open(&link).await;
    assert_eq!(browser.heading().await, "Confirm your registration");
    let buttons = browser.find_all("main button").await;
    assert_eq!(buttons.len(), 1, "one button on the confirm page");
    assert_eq!(buttons[0].text().await.expect("button text"), "Confirm");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending'"),
        1,
        "opening the link changes nothing"
    );
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot("2-confirm").await;
    buttons[0].click().await.expect("press Confirm");
    assert_welcomed(&app, &browser, "tui.link@example.org", "link").await;
    browser.close().await;
}

async fn a_member_leaves_asks_for_a_manage_link_and_erases_on_a_narrow_screen(backend: Backend) {
    let test = "a_member_leaves_asks_for_a_manage_link_and_erases_on_a_narrow_screen";
    let Some(browser) = browser_for(test, "leave", backend).await else {
        return;
    };
    let app = spawn_app(backend).await;
    // A long address must wrap on the check page, not push it sideways.
    let email = "aroha.te-whatu-ngata.long-address-for-phones@research.example.org";
    sign_up_in_the_browser(&app, &browser, email, false).await;
    assert_eq!(
        browser.find("main .address").await.text().await.unwrap(),
        email
    );
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot("2-check").await;
    assert_eq!(app.deliver().await, 1, "the confirmation mail");
    browser.open(&app.confirmation_link(email)).await;
    browser.click("main button").await;
    assert_welcomed(&app, &browser, email, "link").await;

    // Past the cooldown the welcome's unsubscribe link started, they leave.
    app.clock.advance(chrono::Duration::hours(1));
    browser.open(&app.unsubscribe_link(email)).await;
    browser.click("main button").await;
    let button = "form[action^='/unsubscribe/manage?token='] button";
    browser.find(button).await;
    assert_eq!(browser.heading().await, "You are unsubscribed");
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot("4-unsubscribed").await;
    browser.click(button).await;
    browser
        .wait_for_url(&app.url("/subscriptions/manage/sent"))
        .await;
    assert_eq!(browser.heading().await, "Check your inbox");
    browser.assert_no_horizontal_scroll().await;
    browser.screenshot("5-manage-sent").await;

    assert_eq!(app.deliver().await, 1, "the manage link");
    let mail = app.mail_to(email).pop().unwrap().text_body().unwrap();
    browser
        .open(&crate::helpers::link_in(&mail, "/manage?token="))
        .await;
    assert_eq!(browser.heading().await, "Manage your registration");
    browser.assert_no_horizontal_scroll().await;
    browser.click("main a[href^='/manage/erase?token=']").await;
    // Each page is waited for by what only it has.
    browser.find("main button.danger").await;
    assert_eq!(browser.heading().await, "Erase my data?");
    browser.click("main button.danger").await;
    browser.find("main a[href='/']").await;
    assert_eq!(browser.heading().await, "Your data has been erased");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
    browser.close().await;
}
