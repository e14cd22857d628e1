//! Self-service without dead ends: the code message sends people from another
//! browser to the link; unsubscribed people get manage links too, from the
//! manage form or from the unsubscribed page's button (to their own address
//! only); the "already on the list" notice carries a manage link, so its
//! cooldown never blocks managing; manage requests land on a "link on its way"
//! page; and the check page shows the address typed and acknowledges a resend.

use crate::helpers::{
    Backend, TestApp, client, code_in, encode_form, extract_csrf, link_in, spawn_app,
    spawn_app_with, text_columns_containing, token_of, valid_form, without_csrf,
};
use crate::on_both_backends;
use chrono::Duration;
use serde_json::json;

on_both_backends!(
    a_right_code_from_another_browser_is_told_to_use_the_link,
    a_typed_code_may_carry_spaces_and_dashes_and_the_box_cuts_no_paste,
    an_unsubscribed_person_asking_for_a_manage_link_gets_one_and_can_erase,
    the_unsubscribed_page_mails_a_manage_link_to_the_registrations_own_address,
    the_unsubscribed_pages_button_takes_from_the_manage_bucket,
    the_already_on_the_list_email_carries_a_manage_link_past_its_own_cooldown,
    a_notice_queued_before_notices_carried_a_manage_link_still_goes_out,
    a_manage_request_lands_on_the_link_on_its_way_page,
    the_check_page_shows_the_typed_address_and_acknowledges_a_resend,
);

/// The code message of SPEC ("Tokens and codes"), in two parts.
const SAME_BROWSER: &str = "A code works only in the browser where the form was sent";
const LINK_ANYWHERE: &str = "the link in the email works anywhere";

fn past_cooldown(app: &TestApp) -> Duration {
    Duration::seconds(i64::from(app.settings.signup.resend_cooldown_secs) + 1)
}

/// A browser of its own that has signed `address` up through the form.
async fn browser_signing_up(app: &TestApp, address: &str) -> reqwest::Client {
    let browser = client();
    let page = browser.get(app.url("/")).send().await.unwrap();
    let token = extract_csrf(&page.text().await.unwrap()).unwrap();
    let mut form = valid_form(address);
    form.push(("csrf_token", &token));
    let answer = post(app, &browser, "/subscriptions", &form).await;
    assert_eq!(answer.status(), 303);
    browser
}

async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(pairs))
        .send()
        .await
        .unwrap()
}

async fn type_code(app: &TestApp, browser: &reqwest::Client, code: &str) -> (u16, String) {
    let answer = post(app, browser, "/subscriptions/confirm", &[("code", code)]).await;
    let status = answer.status().as_u16();
    (status, without_csrf(&answer.text().await.unwrap()))
}

fn newest_code(app: &TestApp, address: &str) -> String {
    code_in(&app.mail_to(address).pop().unwrap().text_body().unwrap())
}

fn status_of(app: &TestApp, address: &str) -> String {
    use diesel::prelude::*;
    use rollcall::db::schema::registrations::dsl;
    dsl::registrations
        .filter(dsl::email_key.eq(address))
        .select(dsl::status)
        .get_result(&mut app.db())
        .unwrap()
}

/// Manage messages received by `address` so far.
fn manage_mail(app: &TestApp, address: &str) -> Vec<String> {
    app.mail_to(address)
        .into_iter()
        .filter(|m| m.subject().unwrap().starts_with("Manage your"))
        .map(|m| m.text_body().unwrap())
        .collect()
}

async fn a_right_code_from_another_browser_is_told_to_use_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let laptop = browser_signing_up(&app, "mele@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "mele@example.org");

    // The phone where the email was opened has no signup cookie; another
    // browser has one for somebody else.
    let (phone, phone_page) = type_code(&app, &client(), &code).await;
    let elsewhere = browser_signing_up(&app, "someone.else@example.org").await;
    let (other, other_page) = type_code(&app, &elsewhere, &code).await;
    assert_eq!((phone, other), (422, 422));
    assert!(phone_page.contains(SAME_BROWSER), "{phone_page}");
    assert!(phone_page.contains(LINK_ANYWHERE));
    assert!(!phone_page.contains("not right"));
    assert_eq!(other_page, phone_page, "one page for every code that fails");
    assert_eq!(status_of(&app, "mele@example.org"), "pending");

    // The page names no address, not even the cookie's own.
    assert!(!other_page.contains("someone.else@example.org"));

    // Where the form was sent, the same code confirms.
    assert_eq!(type_code(&app, &laptop, &code).await.0, 303);
    assert_eq!(status_of(&app, "mele@example.org"), "confirmed");
    app.deliver().await;
}

async fn a_typed_code_may_carry_spaces_and_dashes_and_the_box_cuts_no_paste(backend: Backend) {
    let app = spawn_app(backend).await;
    let grouped = |code: &str, separator: &str| format!("{}{separator}{}", &code[..3], &code[3..]);
    for (address, separator) in [
        ("space@example.org", " "),
        ("dash@example.org", "-"),
        ("en.dash@example.org", "\u{2013}"),
        ("padded@example.org", " \u{a0}- "),
    ] {
        let browser = browser_signing_up(&app, address).await;
        app.deliver().await;
        let typed = grouped(&newest_code(&app, address), separator);
        let (status, _) = type_code(&app, &browser, &typed).await;
        assert_eq!(status, 303, "{typed:?} confirms");
        assert_eq!(status_of(&app, address), "confirmed");
    }
    app.deliver().await;

    let page = app.get_text("/subscriptions/check").await;
    let start = page.find(r#"id="code""#).expect("the code box");
    let input = &page[page[..start].rfind('<').unwrap()..];
    let input = &input[..input.find('>').unwrap()];
    assert!(input.starts_with("<input"), "{input}");
    assert!(
        !input.contains("maxlength"),
        "a paste is never cut: {input}"
    );
    // The box must take a pasted "171 243", so no pattern may refuse it either.
    assert!(!input.contains("pattern=\"[0-9]{6}\""), "{input}");
    assert!(page.contains(r#"<label for="code">"#));
}

async fn an_unsubscribed_person_asking_for_a_manage_link_gets_one_and_can_erase(backend: Backend) {
    let app = spawn_app(backend).await;
    app.unsubscribed_member("sefa@example.org").await;
    app.clock.advance(past_cooldown(&app));
    let answer = app
        .post_email_form("/subscriptions/manage", "sefa@example.org")
        .await;
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/subscriptions/manage/sent");
    app.deliver().await;
    let mail = manage_mail(&app, "sefa@example.org");
    assert_eq!(mail.len(), 1, "an unsubscribed person gets a manage link");
    let link = link_in(&mail[0], "/manage?token=");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("sefa@example.org") && page.contains("You are unsubscribed"));

    let erase = link.replace("/manage?", "/manage/erase?");
    assert_eq!(app.client.post(&erase).send().await.unwrap().status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 0);
    assert_eq!(
        text_columns_containing(&mut app.db(), "sefa@example.org"),
        Vec::<String>::new()
    );
}

async fn the_unsubscribed_page_mails_a_manage_link_to_the_registrations_own_address(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.confirmed_member("losa@example.org").await;
    let unsubscribe = app.unsubscribe_link("losa@example.org");
    let token = token_of(&unsubscribe);
    app.clock.advance(past_cooldown(&app));

    // One click, as a mail client does it: no cookies, any body.
    let page = reqwest::Client::new()
        .post(&unsubscribe)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("You are unsubscribed"));
    assert!(
        page.contains(r#"<a href="/">Sign up again</a>"#),
        "it offers signing up again"
    );
    let action = format!(r#"<form method="post" action="/unsubscribe/manage?token={token}">"#);
    assert!(page.contains(&action), "and the button: {page}");

    // The button, pressed from a browser with no cookies and no CSRF token; an
    // address in the body is ignored: the link goes to the registration's own.
    let button = app.url(&format!("/unsubscribe/manage?token={token}"));
    let pressed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&button)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=intruder%40example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 303);
    assert_eq!(pressed.headers()["location"], "/subscriptions/manage/sent");
    assert_eq!(pressed.headers()["referrer-policy"], "no-referrer");
    assert_eq!(pressed.headers()["cache-control"], "no-store");
    assert_eq!(app.deliver().await, 1);
    assert!(app.mail_to("intruder@example.net").is_empty());
    let mail = manage_mail(&app, "losa@example.org");
    assert_eq!(mail.len(), 1);
    let manage = link_in(&mail[0], "/manage?token=");
    assert_eq!(app.client.get(&manage).send().await.unwrap().status(), 200);

    // The cooldown applies: pressed again at once, nothing more is sent.
    assert_eq!(app.client.post(&button).send().await.unwrap().status(), 303);
    assert_eq!(app.deliver().await, 0);

    // The unsubscribe token itself never erases, nor opens the manage page.
    for erase_with_it in [
        app.client
            .post(app.url(&format!("/manage/erase?token={token}"))),
        app.client
            .get(app.url(&format!("/manage/erase?token={token}"))),
        app.client.get(app.url(&format!("/manage?token={token}"))),
    ] {
        assert_eq!(erase_with_it.send().await.unwrap().status(), 404);
    }
    assert_eq!(status_of(&app, "losa@example.org"), "unsubscribed");

    // An unknown token is a 404 page, and sends nothing.
    let unknown = app
        .client
        .post(app.url("/unsubscribe/manage?token=not-a-real-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["cache-control"], "no-store");
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("<h1>This link is not valid</h1>")
    );
    let missing = app.client.post(app.url("/unsubscribe/manage")).send().await;
    assert_eq!(missing.unwrap().status(), 404);
    assert_eq!(app.deliver().await, 0);
}

async fn the_unsubscribed_pages_button_takes_from_the_manage_bucket(backend: Backend) {
    let limited = json!({"rate_limit": {"enabled": true, "per_ip_per_minute": 1, "burst": 2}});
    let app = spawn_app_with(backend, limited).await;
    app.unsubscribed_member("tavita@example.org").await;
    let button = format!(
        "/unsubscribe/manage?token={}",
        token_of(&app.unsubscribe_link("tavita@example.org"))
    );
    // A full bucket again, then one manage request and one press of the button.
    app.clock.advance(Duration::hours(1));
    let manage = app
        .post_email_form("/subscriptions/manage", "tavita@example.org")
        .await;
    assert_eq!(manage.status(), 303);
    let first = app.client.post(app.url(&button)).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let refused = app.client.post(app.url(&button)).send().await.unwrap();
    assert_eq!(refused.status(), 429, "one bucket for both");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(
        app.deliver().await,
        1,
        "one manage link, the cooldown holds the rest"
    );
    assert_eq!(manage_mail(&app, "tavita@example.org").len(), 1);
}

async fn the_already_on_the_list_email_carries_a_manage_link_past_its_own_cooldown(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.confirmed_member("ioane@example.org").await;
    app.clock.advance(past_cooldown(&app));
    assert_eq!(app.sign_up("ioane@example.org").await.status(), 303);
    assert_eq!(app.deliver().await, 1);
    let notice = app.mail_to("ioane@example.org").pop().unwrap();
    assert!(notice.subject().unwrap().contains("already on the"));
    let text = notice.text_body().unwrap();
    let link = link_in(&text, "/manage?token=");
    assert!(link.starts_with(&app.address), "{link}");
    assert!(
        notice.html_body().unwrap().contains(&link),
        "both parts carry it"
    );

    // The outbox holds the manage token's id, never the token.
    let token = token_of(&link);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox o JOIN tokens t ON t.id = o.token_id \
             WHERE o.kind = 'already_member' AND t.purpose = 'manage'"
        ),
        1
    );
    assert_eq!(
        text_columns_containing(&mut app.db(), &token),
        Vec::<String>::new()
    );

    // The notice started the cooldown: a manage link asked for now is held
    // back, and the notice's own link does the job.
    app.post_email_form("/subscriptions/manage", "ioane@example.org")
        .await;
    assert_eq!(app.deliver().await, 0, "held back by the cooldown");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("ioane@example.org"));
    let unsubscribe = link.replace("/manage?", "/manage/unsubscribe?");
    assert_eq!(
        app.client.post(&unsubscribe).send().await.unwrap().status(),
        200
    );
    assert_eq!(status_of(&app, "ioane@example.org"), "unsubscribed");
}

/// A row queued by an earlier version has no token: it is sent with the
/// way to the manage form it always had, not failed.
async fn a_notice_queued_before_notices_carried_a_manage_link_still_goes_out(backend: Backend) {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(backend).await;
    app.confirmed_member("old.row@example.org").await;
    app.clock.advance(past_cooldown(&app));
    assert_eq!(app.sign_up("old.row@example.org").await.status(), 303);
    app.db()
        .batch_execute("UPDATE outbox SET token_id = NULL WHERE kind = 'already_member'")
        .unwrap();
    assert_eq!(app.deliver().await, 1);
    let notice = app.mail_to("old.row@example.org").pop().unwrap();
    assert!(notice.subject().unwrap().contains("already on the"));
    let text = notice.text_body().unwrap();
    assert!(
        text.contains(&format!("{}/subscriptions/check", app.address)),
        "{text}"
    );
    assert!(!text.contains("/manage?token="));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND kind = 'already_member'"),
        1
    );
}

async fn a_manage_request_lands_on_the_link_on_its_way_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.confirmed_member("ana@example.org").await;
    app.clock.advance(past_cooldown(&app));
    for address in ["ana@example.org", "nobody@example.org", "not an address"] {
        let answer = app.post_email_form("/subscriptions/manage", address).await;
        assert_eq!(answer.status(), 303, "{address}");
        assert_eq!(answer.headers()["location"], "/subscriptions/manage/sent");
        assert!(answer.text().await.unwrap().is_empty());
    }
    let page = app
        .client
        .get(app.url("/subscriptions/manage/sent"))
        .send()
        .await;
    let page = page.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(page.contains("<h1>Check your inbox</h1>"));
    assert!(page.contains("If the address is registered with"));
    assert!(page.contains("a link to manage its registration is on its way"));
    assert!(page.contains("<h2>Nothing arrived?</h2>"));
    assert!(page.contains("spam"));
    // Asking again is one form away, with its label.
    assert!(page.contains(r#"action="/subscriptions/manage""#));
    assert!(page.contains(r#"<label for="manage-email">"#));
    assert!(extract_csrf(&page).is_some());
    app.deliver().await;
    assert_eq!(manage_mail(&app, "ana@example.org").len(), 1);
}

async fn the_check_page_shows_the_typed_address_and_acknowledges_a_resend(backend: Backend) {
    let app = spawn_app(backend).await;
    let browser = browser_signing_up(&app, "Sione.Tupou@Example.ORG").await;
    let check = browser.get(app.url("/subscriptions/check")).send().await;
    let check = check.unwrap().text().await.unwrap();
    assert!(
        check.contains("<strong class=\"address\">Sione.Tupou@Example.ORG</strong>"),
        "the address as typed: {check}"
    );
    assert!(!check.contains("You asked for another email"));

    // A resend comes back to the page with `?resent=1`, which says so.
    let page = browser.get(app.url("/")).send().await.unwrap();
    let csrf = extract_csrf(&page.text().await.unwrap()).unwrap();
    let typed = "<b>Sione</b>@example.org";
    let pairs = [("email", typed), ("csrf_token", csrf.as_str())];
    let resent = post(&app, &browser, "/subscriptions/resend", &pairs).await;
    assert_eq!(resent.status(), 303);
    assert_eq!(
        resent.headers()["location"],
        "/subscriptions/check?resent=1"
    );
    let check = browser
        .get(app.url("/subscriptions/check?resent=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(check.contains("You asked for another email to <strong class=\"address\">"));
    assert!(
        !check.contains("<b>Sione"),
        "what was typed is shown as text"
    );
    let escaped = ["&lt;b&gt;Sione&lt;/b&gt;", "&#60;b&#62;Sione&#60;/b&#62;"]
        .map(|name| format!("{name}@example.org"))
        .into_iter()
        .find(|text| check.contains(text))
        .expect("the typed text, escaped");
    assert!(
        check.contains(&format!("<strong class=\"address\">{escaped}</strong>")),
        "{check}"
    );
    assert!(
        check.contains(&format!(r#"value="{escaped}""#)),
        "and fills the resend form"
    );

    // A browser with no signup cookie gets the page without an address.
    let stranger = client()
        .get(app.url("/subscriptions/check?resent=yes"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stranger.contains("If the address you gave can join"));
    assert!(!stranger.contains("class=\"address\"") && !stranger.contains("another email"));
    app.deliver().await;
}
