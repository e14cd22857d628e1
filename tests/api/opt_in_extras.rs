//! Double opt-in, part 2: the 6-digit code, resend and the cooldown, manage my
//! registration, erasure and retention.

use crate::helpers::{Backend, TEST_SECRET, TestApp, link_in, spawn_app, text_columns_containing};
use crate::on_both_backends;
use chrono::Duration;
use futures_util::future::join_all;

on_both_backends!(
    resends_within_the_cooldown_send_one_message_however_many_arrive,
    an_address_already_on_the_list_gets_one_notice_per_cooldown,
    the_code_confirms_with_the_signup_cookie,
    the_code_does_nothing_without_the_cookie_or_with_another_registrations_cookie,
    wrong_codes_are_capped_across_resends_and_the_link_still_works,
    manage_answers_the_same_for_every_address_state,
    erasing_from_the_manage_page_leaves_no_trace_and_a_new_signup_works,
    erasing_from_the_command_line_leaves_no_trace,
    retention_erases_registrations_never_confirmed,
);

async fn fifty_resends(app: &TestApp, email: &str) {
    let token = app.csrf_token().await;
    let pairs = [("email", email), ("csrf_token", token.as_str())];
    let requests = (0..50).map(|_| app.post_form("/subscriptions/resend", &pairs));
    for response in join_all(requests).await {
        assert_eq!(response.status(), 303);
        assert_eq!(
            response.headers()["location"],
            "/subscriptions/check?resent=1"
        );
    }
}

async fn resends_within_the_cooldown_send_one_message_however_many_arrive(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("tui@example.org").await;
    fifty_resends(&app, "tui@example.org").await;
    app.deliver().await;
    assert_eq!(app.mail_to("tui@example.org").len(), 1);
    app.clock.advance(Duration::seconds(
        i64::from(app.settings.signup.resend_cooldown_secs) + 1,
    ));
    fifty_resends(&app, "tui@example.org").await;
    app.deliver().await;
    assert_eq!(app.mail_to("tui@example.org").len(), 2);
}

async fn an_address_already_on_the_list_gets_one_notice_per_cooldown(backend: Backend) {
    let app = spawn_app(backend).await;
    confirm_by_link(&app, "kea@example.org").await;
    app.clock.advance(Duration::days(1));
    fifty_resends(&app, "kea@example.org").await;
    app.deliver().await;
    app.clock.advance(Duration::seconds(
        i64::from(app.settings.signup.resend_cooldown_secs) + 1,
    ));
    fifty_resends(&app, "kea@example.org").await;
    app.deliver().await;
    let notices: Vec<_> = app
        .mail_to("kea@example.org")
        .into_iter()
        .filter(|m| m.subject().unwrap().contains("already on the"))
        .collect();
    assert_eq!(notices.len(), 2);
}

/// Signs up, delivers, confirms with the emailed link.
async fn confirm_by_link(app: &TestApp, email: &str) {
    app.sign_up(email).await;
    app.deliver().await;
    let link = app.confirmation_link(email);
    let token = link.split("token=").nth(1).unwrap();
    assert_eq!(
        app.post_form("/subscriptions/confirm", &[("token", token)])
            .await
            .status(),
        303
    );
    app.deliver().await;
}

fn code_in(app: &TestApp, email: &str) -> String {
    let body = app.mail_to(email).pop().unwrap().text_body().unwrap();
    let at = body.find("signed up: ").expect("code line") + "signed up: ".len();
    body[at..at + 6].to_owned()
}

async fn the_code_confirms_with_the_signup_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("moana@example.org").await;
    app.deliver().await;
    let code = code_in(&app, "moana@example.org");
    let response = app
        .post_form("/subscriptions/confirm", &[("code", &code)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/subscriptions/confirmed");
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed' AND confirmed_via = 'code'"), 1);
    assert_eq!(app.deliver().await, 1, "the welcome goes out");
}

async fn the_code_does_nothing_without_the_cookie_or_with_another_registrations_cookie(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.sign_up("first@example.org").await;
    app.deliver().await;
    let code = code_in(&app, "first@example.org");
    let stranger = crate::helpers::client();
    let no_cookie = stranger
        .post(app.url("/subscriptions/confirm"))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 422);
    // The same browser signs up a second address: its cookie now names that one.
    app.sign_up("second@example.org").await;
    let other = app
        .post_form("/subscriptions/confirm", &[("code", &code)])
        .await;
    assert_eq!(other.status(), 422);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        0
    );
    assert_eq!(
        app.deliver().await,
        1,
        "the second address is asked to confirm"
    );
}

async fn wrong_codes_are_capped_across_resends_and_the_link_still_works(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("rangi@example.org").await;
    app.deliver().await;
    let code = code_in(&app, "rangi@example.org");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..2 {
        assert_eq!(
            app.post_form("/subscriptions/confirm", &[("code", wrong)])
                .await
                .status(),
            422
        );
    }
    app.clock.advance(Duration::seconds(
        i64::from(app.settings.signup.resend_cooldown_secs) + 1,
    ));
    app.post_email_form("/subscriptions/resend", "rangi@example.org")
        .await;
    app.deliver().await;
    let new_code = code_in(&app, "rangi@example.org");
    let wrong = if new_code == "000000" || code == "000000" {
        "999999"
    } else {
        "000000"
    };
    for _ in 0..3 {
        assert_eq!(
            app.post_form("/subscriptions/confirm", &[("code", wrong)])
                .await
                .status(),
            422
        );
    }
    let sixth = app
        .post_form("/subscriptions/confirm", &[("code", &new_code)])
        .await;
    assert_eq!(
        sixth.status(),
        422,
        "the right code after five wrong ones is refused"
    );
    assert!(
        sixth
            .text()
            .await
            .unwrap()
            .contains("A code works only in the browser where the form was sent"),
        "the same answer as a wrong code"
    );
    let link = app.confirmation_link("rangi@example.org");
    let token = link.split("token=").nth(1).unwrap();
    assert_eq!(
        app.post_form("/subscriptions/confirm", &[("token", token)])
            .await
            .status(),
        303
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        1
    );
    assert_eq!(app.deliver().await, 1, "the welcome goes out");
}

async fn manage_answers_the_same_for_every_address_state(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("pending@example.org").await;
    confirm_by_link(&app, "member@example.org").await;
    confirm_by_link(&app, "gone@example.org").await;
    let welcome = app.mail_to("gone@example.org").pop().unwrap();
    let unsubscribe = link_in(&welcome.text_body().unwrap(), "/unsubscribe?token=");
    reqwest::Client::new()
        .post(&unsubscribe)
        .send()
        .await
        .unwrap();
    app.clock.advance(Duration::days(1));
    let mut answers = Vec::new();
    for email in [
        "nobody@example.org",
        "pending@example.org",
        "member@example.org",
        "gone@example.org",
    ] {
        let response = app.post_email_form("/subscriptions/manage", email).await;
        let status = response.status();
        let location = response.headers().get("location").cloned();
        let cookies: Vec<String> = response.cookies().map(|c| c.name().to_owned()).collect();
        answers.push((status, location, cookies, response.text().await.unwrap()));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    app.deliver().await;
    let manage_mail = |email: &str| {
        app.mail_to(email)
            .iter()
            .filter(|m| m.subject().unwrap().contains("Manage"))
            .count()
    };
    assert_eq!(
        (
            manage_mail("pending@example.org"),
            manage_mail("member@example.org"),
            manage_mail("gone@example.org"),
        ),
        (1, 1, 1),
        "every registered address, unsubscribed too, gets its link"
    );
    assert_eq!(manage_mail("nobody@example.org"), 0);
}

async fn erasing_from_the_manage_page_leaves_no_trace_and_a_new_signup_works(backend: Backend) {
    let app = spawn_app(backend).await;
    confirm_by_link(&app, "Hemi.Erased@Example.org").await;
    app.clock.advance(Duration::days(1));
    app.post_email_form("/subscriptions/manage", "hemi.erased@example.org")
        .await;
    app.deliver().await;
    let mail = app.mail_to("Hemi.Erased@Example.org").pop().unwrap();
    let link = link_in(&mail.text_body().unwrap(), "/manage?token=");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(page.text().await.unwrap().contains("Erase my data"));
    let erase = link.replace("/manage?", "/manage/erase?");
    assert_eq!(app.client.post(&erase).send().await.unwrap().status(), 200);
    let mut conn = app.db();
    assert_eq!(
        text_columns_containing(&mut conn, "hemi.erased"),
        Vec::<String>::new()
    );
    assert_eq!(
        text_columns_containing(&mut conn, "Aroha Ngata"),
        Vec::<String>::new()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'erase' AND actor = 'subscriber'"),
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM suppressions"), 1);
    assert_eq!(
        app.client.get(&link).send().await.unwrap().status(),
        404,
        "the manage link died with the data"
    );
    // Coming back is allowed, and lifts the suppression.
    assert_eq!(app.sign_up("hemi.erased@example.org").await.status(), 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM suppressions"), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending'"),
        1
    );
    assert_eq!(app.deliver().await, 1, "the new signup is asked to confirm");
}

async fn erasing_from_the_command_line_leaves_no_trace(backend: Backend) {
    let app = spawn_app(backend).await;
    confirm_by_link(&app, "cli.erase@example.org").await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["erase", "CLI.Erase@example.org"])
        .env("ROLLCALL__DATABASE__URL", &app.database.raw_url)
        .env("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET)
        .env("ROLLCALL__LOG__LEVEL", "warn")
        .output()
        .expect("run rollcall erase");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        text_columns_containing(&mut app.db(), "cli.erase"),
        Vec::<String>::new()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'erase' AND actor LIKE 'cli:%'"),
        1
    );
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["audit", "cli.erase@example.org"])
        .env("ROLLCALL__DATABASE__URL", &app.database.raw_url)
        .env("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&audit.stdout).contains("erased at the person's request"));
}

async fn retention_erases_registrations_never_confirmed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("stale@example.org").await;
    confirm_by_link(&app, "kept@example.org").await;
    app.clock.advance(
        Duration::days(i64::from(app.settings.signup.pending_retention_days)) - Duration::hours(1),
    );
    assert_eq!(app.state.retention().sweep().await.unwrap(), 0, "not yet");
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.state.retention().sweep().await.unwrap(), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM registrations"), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger WHERE event = 'erase' AND actor = 'retention'"),
        1
    );
    assert_eq!(
        text_columns_containing(&mut app.db(), "stale@"),
        Vec::<String>::new()
    );
}

/// The retention sweep erasing a pending registration while its address
/// signs up again: the signup waits for the sweep's lock, then finds the row
/// gone and starts afresh (before, it read the doomed row, and its insert
/// referencing it failed with a 500). PostgreSQL only: SQLite's writers
/// never overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signup_racing_the_retention_sweep_starts_afresh() {
    use diesel::connection::SimpleConnection;
    use rollcall::clock::Clock;
    if !crate::helpers::postgres_available("a_signup_racing_the_retention_sweep_starts_afresh") {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(app.sign_up("racing@example.org").await.status(), 303);
    let retention = Duration::days(i64::from(app.settings.signup.pending_retention_days));
    app.clock.advance(retention + Duration::hours(1));
    let cutoff = app.clock.now_naive() - retention;
    let stale = app.count("SELECT COUNT(*) FROM registrations");
    assert_eq!(stale, 1);
    let id: String = {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .select(dsl::id)
            .first(&mut app.db())
            .unwrap()
    };
    // The sweep's transaction, stopped between locking the row and committing.
    let mut sweep = app.db();
    sweep.batch_execute("BEGIN").unwrap();
    let locked = rollcall::db::registrations::lock_stale_pending(
        &mut sweep,
        std::slice::from_ref(&id),
        cutoff,
    )
    .unwrap();
    assert_eq!(locked, vec![id.clone()]);
    sweep
        .batch_execute(&format!("DELETE FROM registrations WHERE id = '{id}'"))
        .unwrap();
    let signup = tokio::spawn({
        let (client, url) = (reqwest::Client::new(), app.url("/api/v1/subscriptions"));
        async move {
            let body = crate::helpers::valid_json("racing@example.org");
            client.post(url).json(&body).send().await.unwrap().status()
        }
    });
    crate::helpers::wait_until(
        "the signup waits for the sweep's lock",
        std::time::Duration::from_secs(10),
        || {
            app.count(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND datname = current_database()",
            ) == 1
        },
    )
    .await;
    sweep.batch_execute("COMMIT").unwrap();
    assert_eq!(signup.await.unwrap(), 202);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'pending'"),
        1
    );
    assert_ne!(
        app.count(&format!(
            "SELECT COUNT(*) FROM registrations WHERE id = '{id}'"
        )),
        1,
        "a new registration, not the erased one"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation'"),
        1,
        "the erased registration's confirmation went with it; the new one has its own"
    );
}
