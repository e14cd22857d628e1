//! `rollcall announce`: the real binary against the test app's database. The
//! command only queues; the app's worker delivers. The command runs on the
//! wall clock, so each test sets the app's manual clock to the real time
//! before the worker delivers what the command queued.

use crate::helpers::{Backend, TestApp, seed_registrations, spawn_app};
use crate::import::Run;
use crate::on_both_backends;
use chrono::Utc;
use rollcall::clock::Clock;
use std::io::Write;

on_both_backends!(
    a_sent_announcement_reaches_each_matching_member_once,
    each_allowed_transition_works_and_every_other_exits_1,
    bad_input_exits_2_and_stores_nothing,
    test_sends_reach_only_the_typed_addresses_within_the_hourly_cap,
    a_test_send_arrives_marked_as_a_test_and_no_member_gets_it,
);

/// The user the commands run as: the organiser `cli:kaitiaki`.
const USER: &str = "kaitiaki";

fn announce(app: &TestApp, args: &[&str]) -> Run {
    announce_as(app, USER, args)
}

fn announce_as(app: &TestApp, user: &str, args: &[&str]) -> Run {
    let mut argv = vec!["announce"];
    argv.extend_from_slice(args);
    let output = app.rollcall_with(&argv, &[("USER", user)], None);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A file holding `bytes`, removed when dropped.
fn body_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    file
}

fn path_of(file: &tempfile::NamedTempFile) -> &str {
    file.path().to_str().unwrap()
}

/// Creates a draft with `extra` options; returns its id (the only thing printed).
fn create(app: &TestApp, subject: &str, body: &str, extra: &[&str]) -> String {
    let file = body_file(body.as_bytes());
    let mut args = vec!["create", "--subject", subject, "--body", path_of(&file)];
    args.extend_from_slice(extra);
    let run = announce(app, &args);
    assert_eq!(run.code, 0, "create: {}", run.stderr);
    let id = run.stdout.strip_suffix('\n').expect("the id and a newline");
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "only the id on stdout: {:?}",
        run.stdout
    );
    id.to_owned()
}

/// The `status` line, without its newline.
fn status(app: &TestApp, id: &str) -> String {
    let run = announce(app, &["status", id]);
    assert_eq!(run.code, 0, "status: {}", run.stderr);
    let line = run.stdout.strip_suffix('\n').expect("one line");
    assert!(!line.contains('\n'), "exactly one line: {:?}", run.stdout);
    line.to_owned()
}

fn line(id: &str, status: &str, counts: [i64; 5]) -> String {
    let [audience, queued, sent, failed, cancelled] = counts;
    format!(
        "{id} {status} audience={audience} queued={queued} sent={sent} failed={failed} cancelled={cancelled}"
    )
}

/// Messages with this subject received for `address`.
fn received(app: &TestApp, address: &str, subject: &str) -> usize {
    app.mail_to(address)
        .iter()
        .filter(|mail| mail.subject().as_deref() == Some(subject))
        .count()
}

/// Runs an action the announcement's status does not allow: exit 1, the
/// status named on stderr, nothing on stdout, nothing changed.
fn assert_refused(app: &TestApp, id: &str, action: &str, now: &str) {
    let before = status(app, id);
    let run = announce(app, &[action, id]);
    assert_eq!(run.code, 1, "{action} from {now}: {}", run.stderr);
    assert_eq!(run.stdout, "", "{action} prints nothing on stdout");
    assert!(
        run.stderr.contains(&format!("it is {now}")),
        "{action}: says from which status: {}",
        run.stderr
    );
    assert_eq!(
        status(app, id),
        before,
        "{action} from {now} changed nothing"
    );
}

/// Runs an allowed action: exit 0, nothing on stdout, a confirmation on stderr.
fn assert_done(app: &TestApp, args: &[&str]) {
    let run = announce(app, args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    assert_eq!(run.stdout, "", "{args:?} prints nothing on stdout");
    assert!(!run.stderr.is_empty(), "{args:?} confirms on stderr");
}

async fn a_sent_announcement_reaches_each_matching_member_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    // person1…8: NZ 1 and 5, FJ 2 and 6, AU the rest.
    seed_registrations(&mut app.db(), 8);
    app.confirmed_member("aroha@example.org").await;
    app.unsubscribed_member("left@example.org").await;
    assert_eq!(app.sign_up("pending@example.org").await.status(), 303);
    app.deliver().await;

    let subject = "First meetup in Wellington";
    let id = create(
        &app,
        subject,
        "Hello **everyone**.\n\nSee you there.",
        &["--country", "NZ", "--country", "fj", "--archive"],
    );
    assert_eq!(status(&app, &id), line(&id, "draft", [0; 5]));

    let sent = announce(&app, &["send", &id]);
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (0, ""),
        "{}",
        sent.stderr
    );
    assert!(
        sent.stderr.contains("5 deliveries queued"),
        "{}",
        sent.stderr
    );
    assert_eq!(status(&app, &id), line(&id, "sending", [5, 5, 0, 0, 0]));

    // An erased member's delivery goes with them: audience counts what remains.
    assert_eq!(
        app.rollcall(&["erase", "person5@example.org"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(status(&app, &id), line(&id, "sending", [4, 4, 0, 0, 0]));

    app.clock.set(Utc::now());
    app.deliver().await;
    assert_eq!(status(&app, &id), line(&id, "sent", [4, 0, 4, 0, 0]));
    let matching = [
        "person1@example.org",
        "person2@example.org",
        "person6@example.org",
        "aroha@example.org",
    ];
    for address in matching {
        assert_eq!(received(&app, address, subject), 1, "{address}");
    }
    for address in [
        "person3@example.org",
        "person4@example.org",
        "person5@example.org",
        "person7@example.org",
        "person8@example.org",
        "left@example.org",
        "pending@example.org",
    ] {
        assert_eq!(received(&app, address, subject), 0, "{address}");
    }

    // Sending again is harmless: exit 0, nothing new.
    let again = announce(&app, &["send", &id]);
    assert_eq!((again.code, again.stdout.as_str()), (0, ""));
    assert!(again.stderr.contains("nothing changed"), "{}", again.stderr);
    app.clock.set(Utc::now());
    app.deliver().await;
    assert_eq!(status(&app, &id), line(&id, "sent", [4, 0, 4, 0, 0]));
    let total: usize = matching.iter().map(|a| received(&app, a, subject)).sum();
    assert_eq!(total, 4, "nobody got a second copy");

    for action in ["pause", "resume", "unschedule", "cancel"] {
        assert_refused(&app, &id, action, "sent");
    }

    let list = announce(&app, &["list"]);
    assert_eq!(list.code, 0);
    assert_eq!(
        list.stdout,
        format!("{id}\tsent\taudience=4\tqueued=0\tsent=4\tfailed=0\tcancelled=0\t{subject}\n")
    );
}

async fn each_allowed_transition_works_and_every_other_exits_1(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_registrations(&mut app.db(), 4);
    let tomorrow = (Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();

    // draft → scheduled → draft → scheduled → cancelled
    let id = create(&app, "Scheduled meetup", "Soon.", &[]);
    for action in ["pause", "resume", "unschedule"] {
        assert_refused(&app, &id, action, "draft");
    }
    assert_done(&app, &["send", &id, "--at", &tomorrow]);
    assert_eq!(status(&app, &id), line(&id, "scheduled", [0; 5]));
    for action in ["pause", "resume"] {
        assert_refused(&app, &id, action, "scheduled");
    }
    let resend = announce(&app, &["send", &id]);
    assert_eq!((resend.code, resend.stdout.as_str()), (0, ""));
    assert!(
        resend.stderr.contains("nothing changed"),
        "{}",
        resend.stderr
    );
    assert_eq!(status(&app, &id), line(&id, "scheduled", [0; 5]));
    assert_done(&app, &["unschedule", &id]);
    assert_eq!(status(&app, &id), line(&id, "draft", [0; 5]));
    assert_done(&app, &["send", &id, "--at", &tomorrow]);
    assert_done(&app, &["cancel", &id]);
    assert_eq!(status(&app, &id), line(&id, "cancelled", [0; 5]));
    for action in ["pause", "resume", "unschedule", "cancel"] {
        assert_refused(&app, &id, action, "cancelled");
    }
    let late_send = announce(&app, &["send", &id]);
    assert_eq!(late_send.code, 0, "send on a non-draft is harmless");
    assert_eq!(status(&app, &id), line(&id, "cancelled", [0; 5]));

    // draft → sending → paused → sending → cancelled; a draft cancels too.
    let id = create(&app, "Now", "Now.", &[]);
    assert_done(&app, &["send", &id]);
    assert_eq!(status(&app, &id), line(&id, "sending", [4, 4, 0, 0, 0]));
    for action in ["resume", "unschedule"] {
        assert_refused(&app, &id, action, "sending");
    }
    assert_done(&app, &["pause", &id]);
    assert_eq!(status(&app, &id), line(&id, "paused", [4, 4, 0, 0, 0]));
    for action in ["pause", "unschedule"] {
        assert_refused(&app, &id, action, "paused");
    }
    assert_done(&app, &["resume", &id]);
    assert_eq!(status(&app, &id), line(&id, "sending", [4, 4, 0, 0, 0]));
    assert_done(&app, &["cancel", &id]);
    assert_eq!(status(&app, &id), line(&id, "cancelled", [4, 0, 0, 0, 4]));

    let paused = create(&app, "Paused then cancelled", "Later.", &[]);
    assert_done(&app, &["send", &paused]);
    assert_done(&app, &["pause", &paused]);
    assert_done(&app, &["cancel", &paused]);
    assert_eq!(
        status(&app, &paused),
        line(&paused, "cancelled", [4, 0, 0, 0, 4])
    );
    let draft = create(&app, "Never sent", "No.", &[]);
    assert_done(&app, &["cancel", &draft]);
    assert_eq!(status(&app, &draft), line(&draft, "cancelled", [0; 5]));

    let unknown = announce(&app, &["pause", "no-such-id"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no announcement"),
        "{}",
        unknown.stderr
    );
}

/// Rows an invalid command must not add to.
fn stored(app: &TestApp) -> [i64; 2] {
    ["announcements", "outbox"].map(|t| app.count(&format!("SELECT COUNT(*) FROM {t}")))
}

/// Runs a command that must be refused as invalid input, with `message` on
/// stderr, nothing on stdout and nothing stored.
fn assert_invalid(app: &TestApp, args: &[&str], message: &str) {
    let before = stored(app);
    let run = announce(app, args);
    assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    assert_eq!(run.stdout, "", "{args:?}");
    assert!(
        run.stderr.contains(message),
        "{args:?}: expected {message:?} in {:?}",
        run.stderr
    );
    assert_eq!(stored(app), before, "{args:?} stored nothing");
}

async fn bad_input_exits_2_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_registrations(&mut app.db(), 4);
    let body = body_file(b"Hello.");
    let body = path_of(&body);
    let create_with = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["create", "--subject", "Meetup", "--body", body]
            .map(String::from)
            .to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let cases: [(&[&str], &str); 5] = [
        (&["--country", "XX"], "--country: unknown country: XX"),
        (
            &["--interest", "Knitting"],
            "--interest: unknown interest: Knitting",
        ),
        (
            &["--timezone", "Mars/Olympus"],
            "--timezone: unknown time zone: Mars/Olympus",
        ),
        (
            &["--org-type", "club"],
            "--org-type: unknown organisation type: club",
        ),
        (
            &["--country", "NZ", "--country", "XX"],
            "--country: unknown country",
        ),
    ];
    for (extra, message) in cases {
        let args = create_with(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_invalid(&app, &args, message);
    }

    let long = "a".repeat(151);
    for (subject, message) in [
        ("", "--subject: required"),
        ("   ", "--subject: required"),
        (long.as_str(), "--subject: at most 150 characters"),
        ("Meetup\ttonight", "--subject: must not contain control"),
        (
            "Meetup\r\nBcc: everyone@example.org",
            "--subject: must not contain control",
        ),
    ] {
        assert_invalid(
            &app,
            &["create", "--subject", subject, "--body", body],
            message,
        );
    }
    let at_limit = create(&app, &"a".repeat(150), "Hello.", &[]);

    let big = body_file(&vec![b'a'; 64 * 1024 + 1]);
    let huge = body_file(&vec![b'a'; 1024 * 1024]);
    let latin1 = body_file(b"Caf\xe9 at six");
    let blank = body_file(b" \n\n");
    for (file, message) in [
        (path_of(&big), "--body: at most 64 KiB"),
        (path_of(&huge), "at most 64 KiB"),
        (path_of(&latin1), "not UTF-8"),
        (path_of(&blank), "--body: required"),
        ("/nonexistent/body.md", "/nonexistent/body.md"),
    ] {
        assert_invalid(
            &app,
            &["create", "--subject", "Meetup", "--body", file],
            message,
        );
    }
    let exactly = create(&app, "Long body", &"a".repeat(64 * 1024), &[]);
    assert_eq!(status(&app, &exactly), line(&exactly, "draft", [0; 5]));

    let id = at_limit;
    for (at, message) in [
        ("2020-01-01T00:00:00Z", "must be in the future"),
        ("next tuesday", "not an RFC 3339 time"),
        ("2026-12-24 09:00", "not an RFC 3339 time"),
    ] {
        assert_invalid(&app, &["send", &id, "--at", at], message);
    }
    let past = (Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339();
    assert_invalid(&app, &["send", &id, "--at", &past], "must be in the future");
    assert_eq!(status(&app, &id), line(&id, "draft", [0; 5]));

    let six: Vec<String> = (1..=6).map(|i| format!("t{i}@example.org")).collect();
    let mut args = vec!["test", id.as_str()];
    args.extend(six.iter().map(String::as_str));
    assert_invalid(&app, &args, "at most 5 addresses");
    assert_invalid(
        &app,
        &[
            "test",
            &id,
            "t1@example.org, t2@example.org, t3@example.org, t4@example.org, t5@example.org, t6@example.org",
        ],
        "at most 5 addresses",
    );
    assert_invalid(
        &app,
        &["test", &id, "not an address"],
        "not an email address",
    );
    assert_invalid(&app, &["test", &id, " , "], "required");

    for args in [
        &["status", "no-such-id"][..],
        &["send", "no-such-id"],
        &["cancel", "no-such-id"],
        &["test", "no-such-id", "t1@example.org"],
    ] {
        assert_invalid(&app, args, "no announcement no-such-id");
    }
}

/// The test messages queued to `address` for announcement `id`.
fn tests_queued(app: &TestApp, id: &str) -> Vec<String> {
    app.outbox()
        .into_iter()
        .filter(|row| row.kind == "announcement_test" && row.announcement_id.as_deref() == Some(id))
        .map(|row| {
            assert_eq!(row.registration_id, None, "a test names no member");
            row.test_address.expect("a typed address")
        })
        .collect()
}

async fn test_sends_reach_only_the_typed_addresses_within_the_hourly_cap(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_registrations(&mut app.db(), 2);
    let id = create(&app, "Test me", "Is this *readable*?", &[]);

    let one = announce(&app, &["test", &id, "me@example.org"]);
    assert_eq!((one.code, one.stdout.as_str()), (0, ""), "{}", one.stderr);
    let five = announce(
        &app,
        &[
            "test",
            &id,
            "a@example.org,b@example.org",
            "c@example.org",
            "d@example.org; e@example.org",
            "A@example.org",
        ],
    );
    assert_eq!(
        (five.code, five.stdout.as_str()),
        (0, ""),
        "{}",
        five.stderr
    );
    let mut queued = tests_queued(&app, &id);
    queued.sort();
    assert_eq!(
        queued,
        [
            "a@example.org",
            "b@example.org",
            "c@example.org",
            "d@example.org",
            "e@example.org",
            "me@example.org"
        ]
        .map(String::from)
    );
    let rows = app.outbox();
    assert!(
        rows.iter().all(|row| row.kind == "announcement_test"),
        "a test creates no delivery for any member: {:?}",
        rows.iter().map(|r| &r.kind).collect::<Vec<_>>()
    );
    for row in &rows {
        assert_eq!(row.requested_by.as_deref(), Some("cli:kaitiaki"));
    }
    assert_eq!(status(&app, &id), line(&id, "draft", [0; 5]));

    // What the worker will send: the subject marked as a test.
    let announcement = rollcall::db::announcements::find(&mut app.db(), &id)
        .unwrap()
        .unwrap();
    let renderer = rollcall::email::render::Renderer::from_settings(&app.settings, &app.state.keys);
    let related = rollcall::email::render::Related {
        announcement: Some(&announcement),
        relay_error: None,
    };
    let rendered = renderer.render(&rows[0], &related).unwrap();
    assert_eq!(rendered.subject, "[Test] Test me");

    // 6 so far; 14 more make the hour's 20, and the 21st is refused.
    let addresses: Vec<String> = (1..=14).map(|i| format!("more{i}@example.org")).collect();
    for chunk in addresses.chunks(5) {
        let mut args = vec!["test", id.as_str()];
        args.extend(chunk.iter().map(String::as_str));
        assert_eq!(announce(&app, &args).code, 0);
    }
    assert_eq!(tests_queued(&app, &id).len(), 20);
    let over = announce(&app, &["test", &id, "one-too-many@example.org"]);
    assert_eq!((over.code, over.stdout.as_str()), (2, ""));
    assert!(
        over.stderr.contains("try again in 60 minute(s)"),
        "says when to try again: {}",
        over.stderr
    );
    assert_eq!(tests_queued(&app, &id).len(), 20, "nothing stored");

    // The cap is per organiser: another user is their own.
    let other = announce_as(&app, "tevita", &["test", &id, "tevita@example.org"]);
    assert_eq!(other.code, 0, "{}", other.stderr);

    // An hour on, the same organiser may send again. The command runs on the
    // wall clock, so the hour passes for the rule it calls, on the app's clock.
    let cap = app.settings.email.test_sends_per_hour;
    let mail_domain = rollcall::startup::send_rules(&app.settings, &app.state.keys).mail_domain;
    let retry =
        rollcall::domain::announcement::parse_test_addresses(["retry@example.org"]).unwrap();
    let queue_at = |at: chrono::DateTime<Utc>| {
        rollcall::db::announcements::queue_tests(
            &mut app.db(),
            &id,
            &retry,
            "cli:kaitiaki",
            cap,
            &mail_domain,
            at.naive_utc(),
        )
        .unwrap()
    };
    app.clock.set(Utc::now());
    assert!(matches!(
        queue_at(app.clock.now()),
        rollcall::db::announcements::TestSend::OverCap { .. }
    ));
    app.clock.advance(chrono::TimeDelta::hours(1));
    assert_eq!(
        queue_at(app.clock.now()),
        rollcall::db::announcements::TestSend::Queued(1)
    );
}

async fn a_test_send_arrives_marked_as_a_test_and_no_member_gets_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.set(Utc::now());
    app.confirmed_member("aroha@example.org").await;
    let before = app.mail_to("aroha@example.org").len();
    let id = create(&app, "Test me", "Is this *readable*?", &[]);
    let run = announce(&app, &["test", &id, "me@example.org", "you@example.org"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    app.clock.set(Utc::now());
    app.deliver().await;
    for address in ["me@example.org", "you@example.org"] {
        let mail = app.mail_to(address);
        assert_eq!(mail.len(), 1, "one test message to {address}");
        assert_eq!(mail[0].subject().as_deref(), Some("[Test] Test me"));
    }
    assert_eq!(
        app.mail_to("aroha@example.org").len(),
        before,
        "no member got the test"
    );
    assert_eq!(status(&app, &id), line(&id, "draft", [0; 5]));
}
