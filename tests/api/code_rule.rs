//! The code rule: a right code confirms (303, also when already confirmed);
//! every other code, in every state, gets one and the same 422 page; the
//! attempt count cannot be outrun by concurrent guesses.

use crate::helpers::{
    Backend, TestApp, client, code_in, encode_form, extract_csrf, spawn_app, token_of, valid_form,
    without_csrf,
};
use crate::on_both_backends;
use chrono::Duration;
use futures_util::future::join_all;

on_both_backends!(
    a_right_code_confirms_and_still_answers_303_after_the_link_was_used,
    every_code_that_does_not_confirm_gets_the_same_422_in_every_state,
    concurrent_wrong_codes_never_pass_the_cap,
);

/// A browser that signs up `address` and keeps its own cookies.
async fn browser_signing_up(app: &TestApp, address: &str) -> reqwest::Client {
    let browser = client();
    let page = browser.get(app.url("/")).send().await.unwrap();
    let token = extract_csrf(&page.text().await.unwrap()).unwrap();
    let mut form = valid_form(address);
    form.push(("csrf_token", &token));
    let answer = browser
        .post(app.url("/subscriptions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    browser
}

async fn type_code(app: &TestApp, browser: &reqwest::Client, code: &str) -> (u16, String) {
    let answer = browser
        .post(app.url("/subscriptions/confirm"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&[("code", code)]))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, without_csrf(&answer.text().await.unwrap()))
}

fn newest_code(app: &TestApp, address: &str) -> String {
    code_in(&app.mail_to(address).pop().unwrap().text_body().unwrap())
}

fn other_code(code: &str) -> String {
    if code == "123456" { "654321" } else { "123456" }.to_owned()
}

async fn a_right_code_confirms_and_still_answers_303_after_the_link_was_used(backend: Backend) {
    let app = spawn_app(backend).await;
    let browser = browser_signing_up(&app, "tama@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "tama@example.org");
    let token = token_of(&app.confirmation_link("tama@example.org"));
    let by_link = app
        .post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    assert_eq!(by_link.status(), 303);
    // Typed with a space and a dash, as people do.
    let typed = format!("{} {}-{}", &code[..2], &code[2..4], &code[4..]);
    let answer = browser
        .post(app.url("/subscriptions/confirm"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&[("code", &typed)]))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/subscriptions/confirmed");

    // And a right code confirms a pending registration.
    let other = browser_signing_up(&app, "hine@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "hine@example.org");
    let (status, _) = type_code(&app, &other, &code).await;
    assert_eq!(status, 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed' AND confirmed_via = 'code'"),
        1
    );
    // What the requests queued goes out, as it would in service.
    app.deliver().await;
}

async fn every_code_that_does_not_confirm_gets_the_same_422_in_every_state(backend: Backend) {
    let app = spawn_app(backend).await;
    let max = app.settings.signup.code_max_attempts;
    let mut answers: Vec<(&str, (u16, String))> = Vec::new();

    // Wrong, for a pending registration.
    let pending = browser_signing_up(&app, "wrong@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "wrong@example.org");
    answers.push(("wrong", type_code(&app, &pending, &other_code(&code)).await));

    // Locked: the right code after the limit of wrong ones.
    let locked = browser_signing_up(&app, "locked@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "locked@example.org");
    for _ in 0..max {
        assert_eq!(type_code(&app, &locked, &other_code(&code)).await.0, 422);
    }
    answers.push(("locked", type_code(&app, &locked, &code).await));

    // For a member, wrong; and the member's cookie locks too.
    let member = browser_signing_up(&app, "member@example.org").await;
    app.deliver().await;
    let token = token_of(&app.confirmation_link("member@example.org"));
    app.post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    let code = newest_code(&app, "member@example.org");
    let stranger = browser_signing_up(&app, "member@example.org").await;
    for _ in 0..max {
        assert_eq!(type_code(&app, &stranger, &other_code(&code)).await.0, 422);
    }
    answers.push((
        "member's cookie, locked",
        type_code(&app, &stranger, &code).await,
    ));
    answers.push((
        "member, wrong",
        type_code(&app, &member, &other_code(&code)).await,
    ));

    // Bound to nothing: an unknown address, no cookie, a forged cookie, a malformed code.
    let nobody = browser_signing_up(&app, "nobody@example.org").await;
    answers.push(("unknown", type_code(&app, &nobody, "000000").await));
    answers.push(("no cookie", type_code(&app, &client(), "000000").await));
    let forged = client();
    let forged_answer = forged
        .post(app.url("/subscriptions/confirm"))
        .header("cookie", format!("rollcall_signup={}", "A".repeat(395)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code=000000")
        .send()
        .await
        .unwrap();
    let status = forged_answer.status().as_u16();
    answers.push((
        "forged",
        (status, without_csrf(&forged_answer.text().await.unwrap())),
    ));
    answers.push(("malformed", type_code(&app, &pending, "12ab").await));

    // Expired: the right code once its token has lapsed.
    let late = browser_signing_up(&app, "late@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "late@example.org");
    app.clock.advance(Duration::hours(
        i64::from(app.settings.signup.token_ttl_hours) + 1,
    ));
    answers.push(("expired", type_code(&app, &late, &code).await));

    let (_, first) = &answers[0];
    assert_eq!(first.0, 422);
    assert!(
        first
            .1
            .contains("A code works only in the browser where the form was sent"),
        "{}",
        first.1
    );
    assert!(first.1.contains("the link in the email works anywhere"));
    for (case, answer) in &answers {
        assert_eq!(answer, first, "{case}: answered differently");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        1,
        "only the member, by link"
    );
}

async fn concurrent_wrong_codes_never_pass_the_cap(backend: Backend) {
    let app = spawn_app(backend).await;
    let max = i64::from(app.settings.signup.code_max_attempts);
    let browser = browser_signing_up(&app, "rush@example.org").await;
    app.deliver().await;
    let code = newest_code(&app, "rush@example.org");
    let wrong = other_code(&code);
    let guesses = (0..40).map(|_| type_code(&app, &browser, &wrong));
    let answers = join_all(guesses).await;
    assert!(answers.iter().all(|(status, _)| *status == 422));
    assert_eq!(
        app.count("SELECT MAX(code_failures) FROM registrations"),
        max,
        "the registration's count stops at the cap"
    );
    assert_eq!(
        app.count("SELECT MAX(attempts) FROM code_attempts"),
        max,
        "so does the cookie's"
    );
    assert_eq!(type_code(&app, &browser, &code).await.0, 422, "locked");
    let token = token_of(&app.confirmation_link("rush@example.org"));
    assert_eq!(
        app.post_form("/subscriptions/confirm", &[("token", &token)])
            .await
            .status(),
        303,
        "the link still works"
    );
    // What the requests queued goes out, as it would in service.
    app.deliver().await;
}
