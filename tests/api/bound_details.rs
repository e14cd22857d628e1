//! Details are bound to the confirming signup: a stranger who signs up again
//! with a pending person's address cannot change what the owner confirms, and
//! no automatic message carries the stranger's text.

use crate::helpers::{Backend, encode_form, extract_csrf, link_in, spawn_app_with, token_of};
use crate::on_both_backends;
use chrono::Duration;
use serde_json::json;

on_both_backends!(a_strangers_later_signup_changes_nothing_the_owner_confirms);

const SCAM: &str = "URGENT: verify your bank at http://evil.example";

/// A browser with its own user agent, seen from `ip` through the trusted proxy.
fn browser(agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent(agent)
        .build()
        .unwrap()
}

async fn sign_up_as(
    app: &crate::helpers::TestApp,
    browser: &reqwest::Client,
    ip: &str,
    pairs: &[(&str, &str)],
) {
    let page = browser
        .get(app.url("/"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    let token = extract_csrf(&page.text().await.unwrap()).unwrap();
    let mut form = pairs.to_vec();
    form.push(("csrf_token", &token));
    let answer = browser
        .post(app.url("/subscriptions"))
        .header("x-forwarded-for", ip)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
}

async fn a_strangers_later_signup_changes_nothing_the_owner_confirms(backend: Backend) {
    for confirm_by_code in [false, true] {
        let app = spawn_app_with(
            backend,
            json!({"server": {"trusted_proxies": ["127.0.0.1"]}}),
        )
        .await;
        let address = "ana@example.org";
        let owner = browser("owner-agent");
        let owner_form = [
            ("email", address),
            ("name", "Ana Folau"),
            ("organisation", "USP"),
            ("org_type", "university"),
            ("country", "to"),
            ("timezone", "Pacific/Tongatapu"),
            ("consent", "yes"),
        ];
        sign_up_as(&app, &owner, "198.51.100.7", &owner_form).await;
        app.deliver().await;
        let first = app.mail_to(address).pop().unwrap().text_body().unwrap();

        app.clock.advance(Duration::hours(1));
        let stranger = browser("stranger-agent");
        let stranger_form = [
            ("email", "ANA@example.org"),
            ("name", SCAM),
            ("organisation", "http://evil.example"),
            ("org_type", "industry"),
            ("country", "au"),
            ("timezone", "Australia/Sydney"),
            ("consent", "yes"),
        ];
        sign_up_as(&app, &stranger, "203.0.113.66", &stranger_form).await;
        assert_eq!(
            app.deliver().await,
            1,
            "the stranger's signup sent a confirmation"
        );

        if confirm_by_code {
            let code = crate::helpers::code_in(&first);
            let answer = owner
                .post(app.url("/subscriptions/confirm"))
                .header("x-forwarded-for", "198.51.100.7")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode_form(&[("code", &code)]))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 303);
        } else {
            let token = token_of(&link_in(&first, "/subscriptions/confirm?token="));
            let answer = owner
                .post(app.url("/subscriptions/confirm"))
                .header("x-forwarded-for", "198.51.100.7")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode_form(&[("token", &token)]))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 303);
        }
        assert_eq!(app.deliver().await, 1);
        let welcome = app.mail_to(address).pop().unwrap();
        assert!(welcome.subject().unwrap().starts_with("Welcome"));
        for part in [
            welcome.data.clone(),
            welcome.text_body().unwrap(),
            welcome.html_body().unwrap(),
        ] {
            assert!(
                !part.contains("URGENT") && !part.contains("evil.example"),
                "{part}"
            );
            assert!(!part.contains("Ana Folau"), "no typed text at all: {part}");
        }
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM registrations WHERE name = 'Ana Folau' AND organisation = 'USP' \
                 AND org_type = 'university' AND country = 'TO' AND email = 'ana@example.org' \
                 AND status = 'confirmed'"
            ),
            1,
            "the owner's details are what was confirmed"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM consents WHERE ip = '198.51.100.7' AND user_agent = 'owner-agent'"
            ),
            1
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM consents WHERE ip = '203.0.113.66' OR user_agent = 'stranger-agent'"
            ),
            0,
            "no consent evidence from the stranger"
        );
    }
}
