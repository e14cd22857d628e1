//! Nobody can learn whether an address is on the list: for a new, a pending,
//! a confirmed and an unsubscribed address, every answer (signup by form and
//! API, resend, manage, the check page after them, the manage/sent page, six
//! wrong codes, a signup again) has the same status, `Location`, body once
//! CSRF tokens (and the address the prober typed) are removed, cookie names and
//! cookie value lengths and shapes; the unsubscribed page's button answers
//! alike for a registration in every state it can be in; and the signup
//! cookie, decoded as an attacker would, carries no id, time or address.

use crate::helpers::{
    Backend, TestApp, client, code_in, encode_form, extract_csrf, link_in, spawn_app, valid_form,
    valid_json, without_csrf,
};
use crate::on_both_backends;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rollcall::clock::Clock;

on_both_backends!(
    every_answer_is_the_same_for_new_pending_confirmed_and_unsubscribed_addresses,
    the_unsubscribed_pages_button_answers_alike_in_every_state_of_the_registration,
    the_signup_cookie_reveals_nothing_and_shares_nothing_between_two_signups,
);

const STATES: [&str; 4] = [
    "new.person@example.org",
    "pending.person@example.org",
    "confirmed.person@example.org",
    "unsubscribed.person@example.org",
];

/// What an observer sees of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    status: u16,
    location: Option<String>,
    /// `(name, value length)` of every cookie set, sorted.
    cookies: Vec<(String, usize)>,
    body: String,
}

async fn seen(response: reqwest::Response) -> (Seen, Vec<(String, String)>) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut cookies: Vec<(String, String)> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            let text = v.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    cookies.sort();
    let body = without_csrf(&response.text().await.unwrap());
    let shape = cookies
        .iter()
        .map(|(name, value)| (name.clone(), value.len()))
        .collect();
    (
        Seen {
            status,
            location,
            cookies: shape,
            body,
        },
        cookies,
    )
}

/// Brings the four addresses into their states.
async fn four_states(app: &TestApp) {
    app.sign_up(STATES[1]).await;
    for address in [STATES[2], STATES[3]] {
        app.sign_up(address).await;
        app.deliver().await;
        let token = crate::helpers::token_of(&app.confirmation_link(address));
        let confirmed = app
            .post_form("/subscriptions/confirm", &[("token", &token)])
            .await;
        assert_eq!(confirmed.status(), 303);
    }
    app.deliver().await;
    let welcome = app.mail_to(STATES[3]).pop().unwrap();
    let unsubscribe = link_in(&welcome.text_body().unwrap(), "/unsubscribe?token=");
    assert_eq!(
        reqwest::Client::new()
            .post(&unsubscribe)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.deliver().await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM registrations WHERE status = 'pending' OR status = 'confirmed' OR status = 'unsubscribed'"
        ),
        3
    );
}

/// A 6-digit code that no message so far has carried.
fn a_code_never_sent(app: &TestApp) -> String {
    let sent: Vec<String> = STATES
        .iter()
        .flat_map(|address| app.mail_to(address))
        .filter_map(|mail| {
            let text = mail.text_body()?;
            text.contains("this code").then(|| code_in(&text))
        })
        .collect();
    ["314159", "271828", "161803", "141421", "173205"]
        .into_iter()
        .find(|code| !sent.iter().any(|s| s == code))
        .unwrap()
        .to_owned()
}

/// Everything a stranger can do with one address, from a browser of their own.
async fn probe(app: &TestApp, address: &str, wrong_code: &str) -> Vec<Seen> {
    let browser = client();
    let post_form = |path: &str, pairs: Vec<(&str, &str)>| {
        browser
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(&pairs))
            .send()
    };
    let csrf = async || {
        let page = browser.get(app.url("/")).send().await.unwrap();
        extract_csrf(&page.text().await.unwrap()).unwrap()
    };
    let mut answers = Vec::new();

    let token = csrf().await;
    let mut form = valid_form(address);
    form.push(("csrf_token", &token));
    answers.push(
        seen(post_form("/subscriptions", form.clone()).await.unwrap())
            .await
            .0,
    );

    let api = browser
        .post(app.url("/api/v1/subscriptions"))
        .json(&valid_json(address))
        .send()
        .await
        .unwrap();
    answers.push(seen(api).await.0);

    // The resend is typed in capitals: the check page then shows what was
    // typed, and a page that showed the stored address instead would differ.
    let typed = address.to_uppercase();
    for (path, email) in [
        ("/subscriptions/resend", typed.as_str()),
        ("/subscriptions/manage", address),
    ] {
        let token = csrf().await;
        let pairs = vec![("email", email), ("csrf_token", &token)];
        answers.push(seen(post_form(path, pairs).await.unwrap()).await.0);
    }
    for path in [
        "/subscriptions/check",
        "/subscriptions/check?resent=1",
        "/subscriptions/manage/sent",
    ] {
        let page = browser.get(app.url(path)).send().await.unwrap();
        let mut page = seen(page).await.0;
        page.body = page.body.replace(&typed, "{typed}");
        answers.push(page);
    }

    for _ in 0..6 {
        let answer = post_form("/subscriptions/confirm", vec![("code", wrong_code)])
            .await
            .unwrap();
        answers.push(seen(answer).await.0);
    }

    let token = csrf().await;
    let mut again = valid_form(address);
    again.push(("csrf_token", &token));
    answers.push(
        seen(post_form("/subscriptions", again).await.unwrap())
            .await
            .0,
    );
    answers
}

async fn every_answer_is_the_same_for_new_pending_confirmed_and_unsubscribed_addresses(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    four_states(&app).await;
    // Past the cooldown, so every state could be sent something.
    app.clock.advance(Duration::hours(1));
    let wrong = a_code_never_sent(&app);

    let mut per_state = Vec::new();
    for address in STATES {
        per_state.push(probe(&app, address, &wrong).await);
    }
    let steps = [
        "form signup",
        "API signup",
        "resend",
        "manage",
        "check page",
        "check page after a resend",
        "manage sent page",
        "wrong code 1",
        "wrong code 2",
        "wrong code 3",
        "wrong code 4",
        "wrong code 5",
        "wrong code 6",
        "signup again",
    ];
    assert_eq!(per_state[0].len(), steps.len());
    for (step, name) in steps.iter().enumerate() {
        for (state, address) in STATES.iter().enumerate().skip(1) {
            assert_eq!(
                per_state[state][step], per_state[0][step],
                "{name}: {address} is told apart from a new address"
            );
        }
    }
    let first = &per_state[0];
    assert_eq!(first[0].status, 303);
    assert_eq!(first[0].location.as_deref(), Some("/subscriptions/check"));
    assert_eq!(first[1].status, 202);
    assert_eq!(
        first[2].location.as_deref(),
        Some("/subscriptions/check?resent=1")
    );
    assert_eq!(
        first[3].location.as_deref(),
        Some("/subscriptions/manage/sent")
    );
    for page in &first[4..7] {
        assert_eq!(page.status, 200);
    }
    assert!(
        first[4].body.contains("{typed}") && first[5].body.contains("{typed}"),
        "the check page shows the address typed"
    );
    assert!(first[5].body.contains("You asked for another email"));
    assert!(
        first[0]
            .cookies
            .iter()
            .any(|(name, _)| name == "rollcall_signup"),
        "the signup answer sets the code cookie"
    );
    assert!(
        first[2]
            .cookies
            .iter()
            .any(|(name, _)| name == "rollcall_signup"),
        "so does the resend answer"
    );
    for wrong in &first[7..13] {
        assert_eq!(wrong.status, 422);
        assert_eq!(wrong.body, first[7].body, "six wrong codes, one answer");
    }
    // Every cookie for every state has one length.
    let lengths: Vec<usize> = per_state
        .iter()
        .flatten()
        .flat_map(|seen| seen.cookies.iter())
        .filter(|(name, _)| name == "rollcall_signup")
        .map(|(_, len)| *len)
        .collect();
    assert!(lengths.len() >= 12);
    assert!(lengths.iter().all(|len| *len == lengths[0]), "{lengths:?}");
    // What the requests queued goes out, as it would in service.
    app.deliver().await;
}

/// The unsubscribe link of a member's welcome stays valid whatever happens
/// next; its page's button is pressed by someone holding only that link.
async fn the_unsubscribed_pages_button_answers_alike_in_every_state_of_the_registration(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (member, left, came_back) = (
        "still.member@example.org",
        "left@example.org",
        "came.back@example.org",
    );
    let mut buttons = Vec::new();
    for address in [member, left, came_back] {
        app.confirmed_member(address).await;
        let token = crate::helpers::token_of(&app.unsubscribe_link(address));
        buttons.push((address, format!("/unsubscribe/manage?token={token}")));
    }
    for address in [left, came_back] {
        let one_click = app.unsubscribe_link(address);
        let answer = reqwest::Client::new().post(&one_click).send().await;
        assert_eq!(answer.unwrap().status(), 200);
    }
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.sign_up(came_back).await.status(), 303);
    app.deliver().await;
    let states: Vec<String> = [member, left, came_back]
        .iter()
        .map(|address| {
            use diesel::prelude::*;
            use rollcall::db::schema::registrations::dsl;
            dsl::registrations
                .filter(dsl::email_key.eq(address))
                .select(dsl::status)
                .get_result(&mut app.db())
                .unwrap()
        })
        .collect();
    assert_eq!(states, ["confirmed", "unsubscribed", "pending"]);

    app.clock.advance(Duration::hours(1));
    let requests_before = app.count("SELECT COUNT(*) FROM address_requests");
    let mut answers = Vec::new();
    for (address, button) in &buttons {
        let answer = client().post(app.url(button)).send().await.unwrap();
        answers.push((address, seen(answer).await.0));
    }
    let (_, first) = &answers[0];
    assert_eq!(first.status, 303);
    assert_eq!(
        first.location.as_deref(),
        Some("/subscriptions/manage/sent")
    );
    for (address, answer) in &answers {
        assert_eq!(answer, first, "{address}: told apart by the button");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM address_requests") - requests_before,
        3,
        "each press writes its request row"
    );
    assert_eq!(
        app.deliver().await,
        3,
        "and each state gets its manage link"
    );
    for (address, _) in &buttons {
        let mail = app.mail_to(address).pop().unwrap();
        assert!(
            mail.subject().unwrap().starts_with("Manage your"),
            "{address}"
        );
    }
}

async fn the_signup_cookie_reveals_nothing_and_shares_nothing_between_two_signups(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    four_states(&app).await;
    let ids: Vec<String> = {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .select(dsl::id)
            .load(&mut app.db())
            .unwrap()
    };
    assert_eq!(ids.len(), 3);
    let now = app.clock.now().timestamp();

    let mut values_by_state = Vec::new();
    for address in STATES {
        let mut values = Vec::new();
        for _ in 0..2 {
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
            let (_, cookies) = seen(answer).await;
            let (_, value) = cookies
                .into_iter()
                .find(|(name, _)| name == "rollcall_signup")
                .expect("a rollcall_signup cookie");
            values.push(value);
        }
        values_by_state.push(values);
    }

    let all: Vec<&String> = values_by_state.iter().flatten().collect();
    for value in &all {
        assert_eq!(value.len(), all[0].len(), "one length for every state");
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "one shape (base64url, no separators): {value}"
        );
        assert!(!value.contains('.'), "no readable part before a signature");
        let bytes = URL_SAFE_NO_PAD.decode(value).expect("base64url");
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for id in &ids {
            assert!(!value.contains(id.as_str()) && !text.contains(id.as_str()));
            let simple = id.replace('-', "");
            assert!(!text.contains(&simple));
            assert!(
                !bytes
                    .windows(16)
                    .any(|w| uuid::Uuid::from_slice(w).is_ok_and(|u| u.to_string() == *id)),
                "no registration id in binary"
            );
        }
        for address in STATES {
            assert!(!text.contains(address) && !text.contains(&address[..8]));
        }
        assert!(
            !text.contains("@example"),
            "no address readable in the cookie"
        );
        // No readable time: neither seconds nor milliseconds near now, in
        // either byte order.
        for window in 0..=bytes.len().saturating_sub(8) {
            let w: [u8; 8] = bytes[window..window + 8].try_into().unwrap();
            for n in [i64::from_be_bytes(w), i64::from_le_bytes(w)] {
                assert!((n - now).abs() > 86_400 * 365, "a time in the cookie");
                assert!((n - now * 1000).abs() > 86_400_000 * 365);
            }
        }
    }
    // Two signups of one address share no stable part of the value.
    for values in &values_by_state {
        let a = URL_SAFE_NO_PAD.decode(&values[0]).unwrap();
        let b = URL_SAFE_NO_PAD.decode(&values[1]).unwrap();
        assert_eq!(a.len(), b.len());
        let shared = a.chunks(4).zip(b.chunks(4)).filter(|(x, y)| x == y).count();
        assert_eq!(shared, 0, "two cookies for one address share a part");
    }
    // What the requests queued goes out, as it would in service.
    app.deliver().await;
}
