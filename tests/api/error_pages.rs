//! Errors outside `/api/` are pages a person can read (and a screen reader
//! can name): `lang`, a title, a viewport, the group's layout, the status and
//! its headers kept. Under `/api/` they stay JSON.

use crate::helpers::{Backend, spawn_app, spawn_app_with, valid_form};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(every_error_outside_the_api_is_a_page_and_inside_it_json);

fn assert_page(what: &str, status: u16, response: (u16, String, String), title: &str) {
    let (got, content_type, body) = response;
    assert_eq!(got, status, "{what}: {body}");
    assert!(
        content_type.starts_with("text/html"),
        "{what}: {content_type}"
    );
    assert!(
        body.starts_with("<!doctype html>\n<html lang=\"en\">"),
        "{what}: {body}"
    );
    assert!(body.contains("<meta name=\"viewport\""), "{what}");
    assert!(body.contains(&format!("<title>{title}")), "{what}: {body}");
    assert!(body.contains("<main id=\"main\""), "{what}");
}

async fn answer(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn every_error_outside_the_api_is_a_page_and_inside_it_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let get = |path: &str| app.client.get(app.url(path));
    assert_page(
        "an unknown page",
        404,
        answer(get("/no-such-page").send().await.unwrap()).await,
        "Page not found",
    );
    assert_page(
        "an unknown confirmation link's neighbour",
        404,
        answer(get("/subscriptions/nothing-here").send().await.unwrap()).await,
        "Page not found",
    );
    let put = app
        .client
        .put(app.url("/subscriptions"))
        .send()
        .await
        .unwrap();
    assert_page(
        "a method the route does not take",
        405,
        answer(put).await,
        "That cannot be done here",
    );
    let unreadable = app
        .client
        .post(app.url("/subscriptions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=%FF%FE")
        .send()
        .await
        .unwrap();
    assert_page(
        "an unreadable form",
        400,
        answer(unreadable).await,
        "The request could not be read",
    );
    let no_csrf = app
        .post_form("/subscriptions", &valid_form("a@example.org"))
        .await;
    let no_csrf = answer(no_csrf).await;
    assert!(no_csrf.2.contains("<h1>This form has expired</h1>"));
    assert_page(
        "a form without its CSRF token",
        403,
        no_csrf,
        "This form has expired",
    );
    let big = app
        .client
        .post(app.url("/subscriptions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={}", "a".repeat(20_000)))
        .send()
        .await
        .unwrap();
    assert_page(
        "a body over the limit",
        413,
        answer(big).await,
        "That was too much to send",
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations"),
        0,
        "nothing stored"
    );

    // Under /api/ the same failures are JSON.
    let api_missing = answer(get("/api/v1/no-such-thing").send().await.unwrap()).await;
    assert_eq!(api_missing.0, 404);
    assert!(
        api_missing.1.starts_with("application/json"),
        "{}",
        api_missing.1
    );
    // An organiser's 401 still follows Accept.
    let unauthorised = get("/admin")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    assert!(
        unauthorised.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // Over the rate limit: a page, and its Retry-After kept.
    let limited = spawn_app_with(
        backend,
        json!({"rate_limit": {"enabled": true, "per_ip_per_minute": 1, "burst": 1}}),
    )
    .await;
    let mut last = None;
    for i in 0..4 {
        last = Some(limited.sign_up(&format!("p{i}@example.org")).await);
    }
    let refused = last.unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    assert_page(
        "over the rate limit",
        429,
        answer(refused).await,
        "Too many requests",
    );
    limited.deliver().await;
}
