//! `rollcall import`: hosted exports read line by line, rejected lines named by
//! their physical line, a second run that changes nothing, and people who
//! unsubscribed or were erased left alone.

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::on_both_backends;
use std::collections::HashMap;

on_both_backends!(
    a_mailchimp_export_imports_once_and_a_second_run_changes_nothing,
    a_campaign_monitor_export_imports_once_and_a_second_run_changes_nothing,
    a_google_forms_export_imports_once_and_a_second_run_changes_nothing,
    reconfirm_queues_one_confirmation_email_per_imported_address,
    a_clean_file_exits_0_and_headers_match_loosely,
    a_file_without_the_needed_columns_is_refused_with_exit_2,
);

pub const MAILCHIMP: &str = "tests/fixtures/mailchimp.csv";
pub const CAMPAIGN_MONITOR: &str = "tests/fixtures/campaign_monitor.csv";
pub const GOOGLE_FORMS: &str = "tests/fixtures/google_forms.csv";

pub const MAILCHIMP_REJECTED: [&str; 3] = [
    "line 6: email: enter a valid email address, like name@example.org",
    "line 7: name: required",
    "line 8: consent time: \"yesterday\" is not a time this import understands (use RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)",
];

/// What one run of the command printed and returned.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `rollcall import` as the user `kaitiaki`.
pub fn import(app: &TestApp, args: &[&str]) -> Run {
    let mut argv = vec!["import"];
    argv.extend_from_slice(args);
    let output = app.rollcall_with(&argv, &[("USER", "kaitiaki")], None);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Lines joined as the command prints them.
pub fn lines(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Row counts of every table an import may write.
pub fn counts(app: &TestApp) -> [i64; 6] {
    [
        "registrations",
        "consents",
        "ledger",
        "outbox",
        "tokens",
        "suppressions",
    ]
    .map(|table| app.count(&format!("SELECT COUNT(*) FROM {table}")))
}

/// `rollcall export --status all`, as rows keyed by column name.
pub fn exported(app: &TestApp) -> Vec<HashMap<String, String>> {
    let output = app.rollcall(&["export", "--status", "all"]);
    assert!(output.status.success());
    let mut reader = csv::Reader::from_reader(&output.stdout[..]);
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            header
                .iter()
                .map(String::from)
                .zip(row.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The exported row of one address.
pub fn row_of(rows: &[HashMap<String, String>], email: &str) -> HashMap<String, String> {
    rows.iter()
        .find(|r| r["email"] == email)
        .unwrap_or_else(|| panic!("{email} is exported"))
        .clone()
}

/// Imports `file` twice: the first run as `first`, the second imports
/// nothing, reports the same rejected lines, and leaves every table and the
/// whole export exactly as they were.
fn imports_twice(app: &TestApp, file: &str, rejected: &[&str], first: &str, second: &str) {
    let run = import(app, &[file]);
    let expected_code = if rejected.is_empty() { 0 } else { 2 };
    assert_eq!(
        run,
        Run {
            code: expected_code,
            stdout: format!("{first}\n"),
            stderr: lines(rejected)
        }
    );
    let (tables, export) = (counts(app), exported(app));
    let again = import(app, &[file]);
    assert_eq!(
        again,
        Run {
            code: expected_code,
            stdout: format!("{second}\n"),
            stderr: lines(rejected)
        }
    );
    assert_eq!(counts(app), tables, "the second run wrote nothing");
    assert_eq!(exported(app), export, "the second run changed no row");
}

async fn a_mailchimp_export_imports_once_and_a_second_run_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    imports_twice(
        &app,
        MAILCHIMP,
        &MAILCHIMP_REJECTED,
        "imported 6, already present 1, skipped 0, rejected 3",
        "imported 0, already present 7, skipped 0, rejected 3",
    );
    let rows = exported(&app);
    assert_eq!(rows.len(), 6, "the address given twice is one registration");
    let aroha = row_of(&rows, "aroha.ngata@example.org");
    assert_eq!(aroha["name"], "Aroha Ngāta", "first and last names joined");
    assert_eq!(aroha["status"], "pending");
    assert_eq!(aroha["source"], "import");
    assert_eq!(
        row_of(&rows, "hemi.potae@example.com")["name"],
        "Hēmi Pōtae"
    );
}

async fn a_campaign_monitor_export_imports_once_and_a_second_run_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    // CRLF line ends, and quoted line breaks in the postal address on lines 2–3 and 8–9.
    imports_twice(
        &app,
        CAMPAIGN_MONITOR,
        &[
            "line 5: email: enter a valid email address, like name@example.org",
            "line 6: 2 cells, but the header has 7",
            "line 7: name: at most 100 characters",
        ],
        "imported 4, already present 0, skipped 0, rejected 3",
        "imported 0, already present 4, skipped 0, rejected 3",
    );
    let rows = exported(&app);
    assert_eq!(
        row_of(&rows, "james.oconnor@example.com")["name"],
        "James O'Connor"
    );
}

async fn a_google_forms_export_imports_once_and_a_second_run_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    // A quoted line break in the comments on lines 3–4.
    imports_twice(
        &app,
        GOOGLE_FORMS,
        &[
            "line 5: consent time: \"05/03/2024 10:11:12\" could be day/month or month/day (use YYYY-MM-DD HH:MM:SS, UTC)",
            "line 6: email: use a domain name after the @, not an IP address",
        ],
        "imported 4, already present 0, skipped 0, rejected 2",
        "imported 0, already present 4, skipped 0, rejected 2",
    );
    let rows = exported(&app);
    assert_eq!(
        row_of(&rows, "salote.lolohea@example.com")["name"],
        "Sālote Lolohea"
    );
}

async fn reconfirm_queues_one_confirmation_email_per_imported_address(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(import(&app, &[MAILCHIMP, "--mode", "reconfirm"]).code, 2);
    assert_eq!(
        import(&app, &[MAILCHIMP]).code,
        2,
        "a second run queues nothing"
    );
    // The command runs on the wall clock; the app's worker catches up with it.
    app.clock.set(chrono::Utc::now());
    assert_eq!(app.deliver().await, 6);
    for address in [
        "aroha.ngata@example.org",
        "tevita.fifita@example.com",
        "mere.tuhoe@example.net",
        "losa.faamausili@example.org",
        "hemi.potae@example.com",
        "akenehi.turei@example.net",
    ] {
        let mail = app.mail_to(address);
        assert_eq!(mail.len(), 1, "one confirmation for {address}");
        assert!(
            mail[0]
                .subject()
                .unwrap()
                .starts_with("Confirm your registration")
        );
    }
    assert!(
        app.mail_to("kiri@example.org").is_empty(),
        "rejected lines get no mail"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM ledger WHERE event = 'import' AND actor = 'cli:kaitiaki' AND source = 'import'"), 6);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consents WHERE source = 'import' AND ip IS NULL"),
        6
    );
    // The link in an imported person's email confirms them like any other.
    let link = app.confirmation_link("losa.faamausili@example.org");
    let token = crate::helpers::token_of(&link);
    let confirmed = app
        .post_form("/subscriptions/confirm", &[("token", &token)])
        .await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(
        row_of(&exported(&app), "losa.faamausili@example.org")["status"],
        "confirmed"
    );
    assert_eq!(app.deliver().await, 1, "the welcome goes out");
}

async fn a_clean_file_exits_0_and_headers_match_loosely(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clean.csv");
    std::fs::write(
        &file,
        "Phone,EMAIL_ADDRESS, full name ,date_added\n\
         021 555 0101,rangi@example.org,Rangi Pōmare,2025-01-02 03:04:05\n\
         021 555 0102,sione.lolo@example.net,'-Sione Lolo,\n",
    )
    .unwrap();
    let run = import(&app, &[file.to_str().unwrap()]);
    assert_eq!(
        run,
        Run {
            code: 0,
            stdout: "imported 2, already present 0, skipped 0, rejected 0\n".into(),
            stderr: String::new()
        }
    );
    let rows = exported(&app);
    assert_eq!(row_of(&rows, "rangi@example.org")["name"], "Rangi Pōmare");
    // The export's formula guard is undone on the way in and redone on the way out.
    assert_eq!(
        row_of(&rows, "sione.lolo@example.net")["name"],
        "'-Sione Lolo"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE name = '-Sione Lolo'"),
        1
    );
}

async fn a_file_without_the_needed_columns_is_refused_with_exit_2(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let no_email = dir.path().join("no_email.csv");
    std::fs::write(&no_email, "Name,Mobile\nAroha,021 555 0101\n").unwrap();
    let path = no_email.to_str().unwrap();
    assert_eq!(
        import(&app, &[path]),
        Run {
            code: 2,
            stdout: String::new(),
            stderr: format!(
                "{path}: the header has no email column (Email, Email Address or EmailAddress)\n"
            ),
        }
    );
    let no_time = dir.path().join("no_time.csv");
    std::fs::write(&no_time, "Email,Name\naroha@example.org,Aroha\n").unwrap();
    let path = no_time.to_str().unwrap();
    let run = import(
        &app,
        &[path, "--mode", "confirmed", "--source", "mailchimp"],
    );
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(
        run.stderr,
        format!(
            "{path}: --mode confirmed needs the original consent time, but the header has no time column (CONFIRM_TIME, OPTIN_TIME, Date Added, Date Subscribed or Timestamp)\n"
        )
    );
    let missing = import(&app, &["tests/fixtures/no-such-file.csv"]);
    assert_eq!((missing.code, missing.stdout.as_str()), (2, ""));
    assert_eq!(counts(&app)[0], 0);
}
