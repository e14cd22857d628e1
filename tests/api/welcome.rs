//! The welcome page and the welcome email: their way on is the group's
//! website, they say how often the group writes when `group.mail_frequency`
//! is set (and nothing about it otherwise), and they carry nothing typed
//! into the form.

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;
use serde_json::json;

const WEBSITE: &str = "https://oceania.pangeo.example.net/events";
const FREQUENCY: &str = "about once a month";

/// What the person reads after confirming: the page's `<main>` and the
/// welcome email's text and HTML parts before their footers (the footers
/// name the website anyway).
struct Welcome {
    page: String,
    text: String,
    html: String,
}

async fn welcome_of(app: &TestApp, address: &str) -> Welcome {
    app.confirmed_member(address).await;
    let response = app
        .client
        .get(app.url("/subscriptions/confirmed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let main = page
        .split_once("<main id=\"main\" tabindex=\"-1\">")
        .and_then(|(_, rest)| rest.split_once("</main>"))
        .expect("the page has a <main>")
        .0
        .to_owned();
    let mail = app.mail_to(address).pop().expect("the welcome email");
    assert!(mail.subject().unwrap().starts_with("Welcome to "));
    let text = mail.text_body().unwrap().replace("\r\n", "\n");
    let html = mail.html_body().unwrap();
    let before = |part: &str, footer: &str| {
        part.split_once(footer)
            .unwrap_or_else(|| panic!("no footer {footer:?} in {part}"))
            .0
            .to_owned()
    };
    Welcome {
        page: main,
        text: before(&text, "\n-- \n"),
        html: before(&html, "<hr"),
    }
}

/// The words of `text` joined by single spaces: wrapping undone.
fn flowed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

on_both_backends!(the_welcome_page_and_email_lead_to_the_website_and_say_how_often_we_write);

async fn the_welcome_page_and_email_lead_to_the_website_and_say_how_often_we_write(
    backend: Backend,
) {
    let group = json!({"group": {"website": WEBSITE, "mail_frequency": FREQUENCY}});
    let app = spawn_app_with(backend, group).await;
    let welcome = welcome_of(&app, "mere@example.org").await;
    let said = format!("How often we write: {FREQUENCY}.");

    assert!(
        welcome.page.contains(&format!(
            r#"<a href="{WEBSITE}">Oceania Pangeo website</a>"#
        )),
        "{}",
        welcome.page
    );
    assert!(!welcome.page.contains("Back to the start"));
    let text = flowed(&welcome.text);
    assert!(
        text.contains(&format!("see what is on and how to join in: {WEBSITE}")),
        "{}",
        welcome.text
    );
    assert!(
        welcome.html.contains(&format!(r#"<a href="{WEBSITE}">"#)),
        "{}",
        welcome.html
    );
    for part in [&welcome.page, &welcome.text, &welcome.html] {
        assert!(flowed(part).contains(&said), "{part}");
        // The form's typed details (helpers::valid_form) are nowhere.
        for typed in ["Aroha", "Ngata", "NIWA"] {
            assert!(!part.contains(typed), "{typed} in {part}");
        }
    }
}

on_both_backends!(without_a_mail_frequency_nothing_is_said_about_how_often);

async fn without_a_mail_frequency_nothing_is_said_about_how_often(backend: Backend) {
    let app = spawn_app_with(backend, json!({"group": {"website": WEBSITE}})).await;
    assert_eq!(app.settings.group.mail_frequency, None);
    let welcome = welcome_of(&app, "tane@example.org").await;
    for part in [&welcome.page, &welcome.text, &welcome.html] {
        assert!(!part.contains("How often"), "{part}");
        assert!(!part.contains(FREQUENCY), "{part}");
        assert!(
            part.contains(WEBSITE),
            "the website is still the way on: {part}"
        );
    }
}
