//! What the messages say: each kind compared with a snapshot under
//! `tests/snapshots/` (tokens, codes, the test port, boundaries and Message-IDs
//! redacted), and a hostile name escaped in HTML and never relayed by the
//! confirmation.
//!
//! A missing or different snapshot fails the test. To accept the current
//! messages, regenerate the snapshots on purpose and review the diff:
//! `ROLLCALL_UPDATE_SNAPSHOTS=1 cargo test --test api emails`.

use crate::helpers::{Backend, TestApp, code_in, spawn_app, spawn_app_with, token_of, valid_form};
use crate::on_both_backends;
use crate::smtp_server::ReceivedMail;
use chrono::Duration;
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// The headers a snapshot keeps, in this order.
const SNAPSHOT_HEADERS: [&str; 11] = [
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Auto-Submitted",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Date",
];

/// SQLite only: the messages do not depend on the backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_email_matches_its_snapshot() {
    let app = spawn_app(Backend::Sqlite).await;
    let address = "snapshot@example.org";
    let cooldown = Duration::seconds(i64::from(app.settings.signup.resend_cooldown_secs) + 1);

    assert_eq!(app.sign_up(address).await.status(), 303);
    let confirmation = delivered_one(&app, address).await;
    let code = code_in(&confirmation.text_body().unwrap());
    assert_snapshot(
        "email_confirmation",
        &snapshot(&app, &confirmation, Some(&code)),
    );

    let token = token_of(&app.confirmation_link(address));
    let confirmed = app
        .post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    assert_eq!(confirmed.status(), 303);
    let welcome = delivered_one(&app, address).await;
    assert_snapshot("email_welcome", &snapshot(&app, &welcome, None));

    app.clock.advance(cooldown);
    assert_eq!(app.sign_up(address).await.status(), 303);
    let already = delivered_one(&app, address).await;
    assert_snapshot("email_already_member", &snapshot(&app, &already, None));

    app.clock.advance(cooldown);
    let csrf = app.csrf_token().await;
    let manage = app
        .post_form(
            "/subscriptions/manage",
            &[("email", address), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(manage.status(), 303);
    let manage = delivered_one(&app, address).await;
    assert_snapshot("email_manage", &snapshot(&app, &manage, None));
}

/// Runs the worker, expects exactly one new message, and returns it.
async fn delivered_one(app: &TestApp, address: &str) -> ReceivedMail {
    let before = app.mail_to(address).len();
    assert_eq!(app.deliver().await, 1);
    let mut mails = app.mail_to(address);
    assert_eq!(mails.len(), before + 1);
    mails.pop().unwrap()
}

/// Key headers and both decoded bodies, with everything that changes from run
/// to run redacted.
fn snapshot(app: &TestApp, mail: &ReceivedMail, code: Option<&str>) -> String {
    let mut out = String::new();
    for name in SNAPSHOT_HEADERS {
        let value = match (name, mail.decoded_header(name)) {
            (_, None) => "(absent)".to_owned(),
            ("Date", Some(_)) => "{date}".to_owned(),
            (_, Some(value)) => value,
        };
        writeln!(out, "{name}: {value}").unwrap();
    }
    let text = mail.text_body().expect("a text/plain part");
    let html = mail.html_body().expect("a text/html part");
    write!(
        out,
        "\n--- text/plain ---\n{text}\n--- text/html ---\n{html}\n"
    )
    .unwrap();
    let mut out = out
        .replace("\r\n", "\n")
        .replace(&app.address, "{base_url}");
    if let Some(code) = code {
        out = out.replace(code, "{code}");
    }
    let out = redact_after(&out, "token=", |c| {
        c.is_ascii_alphanumeric() || c == '-' || c == '_'
    });
    let out = redact_after(&out, "boundary=\"", |c| c != '"');
    redact_after(&out, "Message-ID: <", |c| c != '@')
}

/// Replaces the run of characters matching `keep` after each `marker` with
/// `{redacted}`.
fn redact_after(text: &str, marker: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let start = at + marker.len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        out.push_str("{redacted}");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Compares `actual` with `tests/snapshots/<name>.snap`; writes it instead
/// only when `ROLLCALL_UPDATE_SNAPSHOTS=1`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("snapshots")
        .join(format!("{name}.snap"));
    if std::env::var("ROLLCALL_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        println!("wrote snapshot {}", path.display());
        return;
    }
    let Ok(expected) = std::fs::read_to_string(&path) else {
        panic!(
            "{name}: no snapshot at {}; run with ROLLCALL_UPDATE_SNAPSHOTS=1 to write it, then review it.\n\
             --- actual ---\n{actual}",
            path.display()
        );
    };
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from {} at line {}; rerun with ROLLCALL_UPDATE_SNAPSHOTS=1 to accept it.\n\
             --- actual ---\n{actual}",
            path.display(),
            line + 1
        );
    }
}

on_both_backends!(a_hostile_name_is_stored_as_typed_and_absent_from_every_email);

async fn a_hostile_name_is_stored_as_typed_and_absent_from_every_email(backend: Backend) {
    const NAME: &str = "<script>alert(1)</script>";
    let app = spawn_app(backend).await;
    let address = "mallory@example.org";
    let csrf = app.csrf_token().await;
    let mut pairs: Vec<(&str, &str)> = valid_form(address)
        .into_iter()
        .filter(|(key, _)| *key != "name")
        .collect();
    pairs.extend([("name", NAME), ("csrf_token", &csrf)]);
    assert_eq!(app.post_form("/subscriptions", &pairs).await.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE name = '<script>alert(1)</script>'"),
        1,
        "the name is stored as typed"
    );

    assert_eq!(app.deliver().await, 1);
    let confirmation = app.mail_to(address).pop().unwrap();
    for part in [
        confirmation.data.clone(),
        confirmation.text_body().unwrap(),
        confirmation.html_body().unwrap(),
        confirmation.decoded_header("To").unwrap(),
    ] {
        assert!(
            !part.contains("alert(1)"),
            "the name is not relayed: {part}"
        );
        for form in ["<script", "&lt;script", "&#60;script"] {
            assert!(!part.contains(form), "{part}");
        }
    }

    let token = token_of(&app.confirmation_link(address));
    app.post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    assert_eq!(app.deliver().await, 1);
    let welcome = app.mail_to(address).pop().unwrap();
    for part in [
        welcome.data.clone(),
        welcome.text_body().unwrap(),
        welcome.html_body().unwrap(),
        welcome.decoded_header("To").unwrap(),
    ] {
        assert!(
            !part.contains("alert(1)"),
            "the welcome relays no typed text: {part}"
        );
        for form in ["<script", "&lt;script", "&#60;script"] {
            assert!(!part.contains(form), "{part}");
        }
    }
}

on_both_backends!(a_name_with_macrons_survives_the_transfer_encoding);

/// Non-ASCII text makes lettre pick a transfer encoding; both parts must
/// decode back to the text as configured. (No automatic mail carries typed
/// text, so the group's own name is what carries the macrons.)
async fn a_name_with_macrons_survives_the_transfer_encoding(backend: Backend) {
    const NAME: &str = "Tūī Pōmare-Ngāti";
    let app = spawn_app_with(backend, json!({"group": {"name": NAME}})).await;
    let address = "tui@example.org";
    app.confirmed_member(address).await;
    let welcome = app.mail_to(address).pop().unwrap();
    assert!(
        !welcome.data.contains(NAME),
        "the raw message carries the name encoded, not as UTF-8 bytes"
    );
    let greeting = format!("Welcome to {NAME}!");
    assert!(welcome.text_body().unwrap().contains(&greeting));
    assert!(welcome.html_body().unwrap().contains(NAME));
}
