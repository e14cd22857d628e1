//! `rollcall import` against what the list already holds: consent obtained
//! elsewhere (`--mode confirmed`), pending registrations it upgrades, and
//! people who unsubscribed or asked to be erased, whom it never touches.

use crate::helpers::{Backend, TestApp, spawn_app, token_of};
use crate::import::{
    GOOGLE_FORMS, MAILCHIMP, MAILCHIMP_REJECTED, Run, counts, exported, import, lines, row_of,
};
use crate::on_both_backends;

on_both_backends!(
    confirmed_mode_keeps_the_original_time_and_source,
    confirmed_mode_upgrades_pending_registrations_and_sends_nothing,
    confirmed_mode_without_a_source_exits_2,
    unsubscribed_and_erased_addresses_are_left_alone,
    an_erased_persons_address_in_a_later_import_is_reported_as_erased,
);

/// Signs `email` up, confirms by link and unsubscribes, all through the app.
async fn unsubscribed(app: &TestApp, email: &str) {
    app.sign_up(email).await;
    app.deliver().await;
    let token = token_of(&app.confirmation_link(email));
    app.post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    app.deliver().await;
    let unsubscribe = app.unsubscribe_link(email);
    let done = app.client.post(&unsubscribe).send().await.unwrap();
    assert_eq!(done.status(), 200);
}

/// The time an import run starts, in the export's format.
fn wall_clock() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

async fn confirmed_mode_keeps_the_original_time_and_source(backend: Backend) {
    let app = spawn_app(backend).await;
    let started = wall_clock();
    let run = import(
        &app,
        &[
            GOOGLE_FORMS,
            "--mode",
            "confirmed",
            "--source",
            "google-forms",
        ],
    );
    assert_eq!(
        run.stdout,
        "imported 4, already present 0, skipped 0, rejected 2\n"
    );
    assert_eq!(run.code, 2);
    let tane = row_of(&exported(&app), "tane.rawiri@example.org");
    assert_eq!(tane["status"], "confirmed");
    // 10:11:12 am at GMT+11 is 23:11:12 the day before in UTC.
    assert_eq!(tane["confirmed_at"], "2024-03-04T23:11:12Z");
    assert_eq!(tane["source"], "google-forms");
    assert_eq!(
        tane["consent_text_version"],
        app.settings.signup.consent_text_version
    );
    assert_eq!(tane["consent_ip"], "");
    // The row itself arrived now: created_at is the import's time.
    assert!(
        tane["created_at"] >= started,
        "{} >= {started}",
        tane["created_at"]
    );
    let isla = row_of(&exported(&app), "isla.mackenzie@example.org");
    assert_eq!(
        isla["confirmed_at"], "2024-03-09T09:45:42Z",
        "8:15:42 pm GMT+10:30"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE confirmed_via = 'import'"),
        4
    );
    // Each consent row keeps the original time, older than any row of the list.
    assert_eq!(app.count("SELECT COUNT(*) FROM consents WHERE source = 'google-forms' AND given_at < (SELECT MIN(created_at) FROM registrations)"), 4);
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger WHERE event = 'import' AND source = 'google-forms' AND actor = 'cli:kaitiaki'"), 4);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox"),
        0,
        "no email for consent obtained elsewhere"
    );
}

async fn confirmed_mode_upgrades_pending_registrations_and_sends_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("tevita.fifita@example.com").await;
    app.deliver().await;
    let link = app.confirmation_link("tevita.fifita@example.com");
    let run = import(
        &app,
        &[MAILCHIMP, "--mode", "confirmed", "--source", "mailchimp"],
    );
    assert_eq!(
        run,
        Run {
            code: 2,
            stdout: "imported 6, already present 1, skipped 0, rejected 3\n".into(),
            stderr: lines(&MAILCHIMP_REJECTED),
        }
    );
    let rows = exported(&app);
    let tevita = row_of(&rows, "tevita.fifita@example.com");
    assert_eq!(tevita["status"], "confirmed");
    // No CONFIRM_TIME on his line: OPTIN_TIME is the consent time.
    assert_eq!(tevita["confirmed_at"], "2024-04-11T22:01:09Z");
    assert_eq!(tevita["source"], "mailchimp");
    assert_eq!(
        row_of(&rows, "aroha.ngata@example.org")["confirmed_at"],
        "2024-03-05T10:14:40Z"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM tokens WHERE purpose = 'confirm' AND used_at IS NULL"),
        0,
        "his old link is spent"
    );
    let page = app.client.get(&link).send().await.unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("already confirmed")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox"),
        1,
        "only his own confirmation, from the form"
    );
    assert_eq!(
        import(
            &app,
            &[MAILCHIMP, "--mode", "confirmed", "--source", "mailchimp"]
        )
        .stdout,
        "imported 0, already present 7, skipped 0, rejected 3\n"
    );
}

async fn confirmed_mode_without_a_source_exits_2(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        import(&app, &[MAILCHIMP, "--mode", "confirmed"]),
        Run {
            code: 2,
            stdout: String::new(),
            stderr: "--mode confirmed needs --source: say where the consent was given (for example --source mailchimp)\n".into(),
        }
    );
    let form = import(
        &app,
        &[MAILCHIMP, "--mode", "confirmed", "--source", "form"],
    );
    assert_eq!((form.code, form.stdout.as_str()), (2, ""));
    assert_eq!(
        form.stderr,
        "--source: form is rollcall's own; name the service the consent came from\n"
    );
    assert_eq!(counts(&app), [0; 6]);
}

async fn unsubscribed_and_erased_addresses_are_left_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    unsubscribed(&app, "mere.tuhoe@example.net").await;
    app.sign_up("hemi.potae@example.com").await;
    assert!(
        app.rollcall(&["erase", "hemi.potae@example.com"])
            .status
            .success()
    );
    let mere_before = row_of(&exported(&app), "mere.tuhoe@example.net");
    let mere_rows = |app: &TestApp| {
        ["consents", "ledger", "outbox", "tokens"].map(|table| {
            app.count(&format!("SELECT COUNT(*) FROM {table} WHERE registration_id = (SELECT id FROM registrations WHERE email = 'mere.tuhoe@example.net')"))
        })
    };
    let mere_tables = mere_rows(&app);
    let mut rejected = MAILCHIMP_REJECTED.to_vec();
    rejected.push("line 10: erased at the person's request");
    for (mode, source) in [("reconfirm", "import"), ("confirmed", "mailchimp")] {
        let run = import(&app, &[MAILCHIMP, "--mode", mode, "--source", source]);
        assert_eq!(
            run,
            Run {
                code: 2,
                stdout: "imported 4, already present 1, skipped 1, rejected 4\n".into(),
                stderr: lines(&rejected),
            },
            "{mode}"
        );
        assert_eq!(
            row_of(&exported(&app), "mere.tuhoe@example.net"),
            mere_before
        );
        assert_eq!(
            mere_rows(&app),
            mere_tables,
            "{mode}: nothing added for her"
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM registrations WHERE email_key = 'hemi.potae@example.com'"
            ),
            0
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM suppressions"), 1);
}

/// The project's issue 4: someone erased after an import stays erased.
async fn an_erased_persons_address_in_a_later_import_is_reported_as_erased(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        import(&app, &[GOOGLE_FORMS]).stdout,
        "imported 4, already present 0, skipped 0, rejected 2\n"
    );
    let erase = app.rollcall(&["erase", "salote.lolohea@example.com"]);
    assert!(
        erase.status.success(),
        "{}",
        String::from_utf8_lossy(&erase.stderr)
    );
    let tables = counts(&app);
    let run = import(&app, &[GOOGLE_FORMS]);
    assert_eq!(
        run,
        Run {
            code: 2,
            stdout: "imported 0, already present 3, skipped 0, rejected 3\n".into(),
            stderr: lines(&[
                "line 3: erased at the person's request",
                "line 5: consent time: \"05/03/2024 10:11:12\" could be day/month or month/day (use YYYY-MM-DD HH:MM:SS, UTC)",
                "line 6: email: use a domain name after the @, not an IP address",
            ]),
        }
    );
    assert_eq!(counts(&app), tables, "the erased person did not come back");
    let audit = app.rollcall(&["audit", "salote.lolohea@example.com"]);
    assert!(String::from_utf8_lossy(&audit.stdout).contains("erased at the person's request"));
}
