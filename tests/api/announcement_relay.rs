//! The relay refusing us during a send: every message waits (no attempt
//! counted), sending announcements pause themselves on a refused login, the
//! dashboard says the relay fails; once it accepts again the organisers get
//! one `relay_refused` notice each, however many workers see it, and the
//! dashboard line goes.

use crate::announcing;
use crate::helpers::{Backend, TestApp, seed_registrations, spawn_app_with};
use crate::on_both_backends;
use chrono::Duration;
use rollcall::db::relay;
use rollcall::domain::announcement::{Action, AnnouncementStatus};
use serde_json::json;

on_both_backends!(
    a_refused_login_pauses_sending_and_organisers_hear_once_when_it_accepts,
    a_refused_sender_keeps_everything_queued_and_earns_one_notice,
);

const ORGANISERS: [&str; 2] = ["first@example.org", "second@example.org"];
const PASSWORD: &str = "a long enough password";

async fn app_with_login(backend: Backend) -> TestApp {
    let app = spawn_app_with(
        backend,
        json!({"email": {
            "batch_size": 10,
            "retry_base_secs": 30,
            "retry_max_secs": 60,
            "smtp": {"username": "rollcall", "password": "secret"},
        }}),
    )
    .await;
    for organiser in ORGANISERS {
        app.add_organiser(organiser, PASSWORD);
    }
    seed_registrations(&mut app.db(), 10);
    app
}

async fn dashboard(app: &TestApp) -> String {
    app.get_text("/admin").await
}

/// Every queued row has waited without an attempt counted, and none failed.
fn everything_waits(app: &TestApp) {
    for row in app.outbox() {
        assert_eq!(row.status, "queued", "{} {:?}", row.kind, row.last_error);
        assert_eq!(row.attempts, 0, "a refusal is not the message's attempt");
    }
}

/// Two workers at once until nothing is due, a minute at a time.
async fn two_workers_deliver(app: &TestApp) {
    let (a, b) = (app.worker(), app.worker());
    for _ in 0..3 {
        app.clock.advance(Duration::seconds(61));
        let (x, y) = tokio::join!(a.run_until_idle(), b.run_until_idle());
        x.unwrap();
        y.unwrap();
    }
}

async fn a_refused_login_pauses_sending_and_organisers_hear_once_when_it_accepts(backend: Backend) {
    let app = app_with_login(backend).await;
    assert_eq!(app.log_in(ORGANISERS[0], PASSWORD).await.status(), 303);
    assert!(!dashboard(&app).await.contains("Mail relay failing"));
    let id = announcing::send_now(&app, "Refused");
    app.smtp
        .refuse_auth("535 5.7.8 Authentication credentials invalid");

    app.deliver().await;
    let row = announcing::find(&app, &id);
    assert_eq!(row.status(), AnnouncementStatus::Paused);
    let reason = row.status_reason.unwrap();
    assert!(reason.contains("refused authentication"), "{reason}");
    assert_eq!(announcing::notices(&app, "announcement_paused").len(), 2);
    app.clock.advance(Duration::seconds(61));
    app.deliver().await;
    everything_waits(&app);
    assert!(app.smtp.messages().is_empty());

    let status = relay::find(&mut app.db()).unwrap().unwrap();
    assert!(status.failing_since.is_some() && status.refused_at.is_some());
    assert_eq!(status.stage.as_deref(), Some("auth"));
    let page = dashboard(&app).await;
    // The dashboard shows times in UTC with the organisers' zone beside them.
    let zone = app.settings.admin.digest_zone(&app.settings.dashboard);
    let since =
        rollcall::web::pages::OrganiserTimes::new(zone).show(&status.failing_since.unwrap());
    assert!(
        page.contains(&format!(
            "Mail relay failing since {since}: auth: auth refused: SMTP 535"
        )),
        "{page}"
    );

    app.smtp.clear_failures();
    two_workers_deliver(&app).await;
    let told = announcing::notices(&app, "relay_refused");
    assert_eq!(told.len(), 2, "one notice per organiser: {told:?}");
    for organiser in ORGANISERS {
        let subjects: Vec<String> = app
            .mail_to(organiser)
            .iter()
            .filter_map(|m| m.subject())
            .collect();
        assert_eq!(
            subjects,
            [
                "Paused: Refused",
                "The mail relay refused rollcall, and accepts again"
            ],
            "{organiser}"
        );
        let relay_notice = app.mail_to(organiser).pop().unwrap();
        assert!(relay_notice.flowed_text().unwrap().contains("SMTP 535"));
    }
    let status = relay::find(&mut app.db()).unwrap().unwrap();
    assert!(status.failing_since.is_none() && status.refused_at.is_none());
    assert!(!dashboard(&app).await.contains("Mail relay failing"));
    assert!(
        announcing::sent_times(&app).is_empty(),
        "paused until an organiser resumes"
    );

    announcing::act(&app, &id, Action::Resume);
    app.deliver().await;
    for address in announcing::seeded(10) {
        assert_eq!(app.mail_to(&address).len(), 1, "{address}");
    }
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
    assert_eq!(announcing::notices(&app, "relay_refused").len(), 2);
}

async fn a_refused_sender_keeps_everything_queued_and_earns_one_notice(backend: Backend) {
    let app = app_with_login(backend).await;
    let id = announcing::send_now(&app, "Sender refused");
    app.smtp.refuse_sender("550 5.7.1 Sender address rejected");
    app.deliver().await;
    everything_waits(&app);
    assert_eq!(
        announcing::status(&app, &id),
        AnnouncementStatus::Sending,
        "only a refused login pauses announcements"
    );
    let status = relay::find(&mut app.db()).unwrap().unwrap();
    assert_eq!(status.stage.as_deref(), Some("mail_from"));
    assert!(status.refused_at.is_some());

    app.smtp.clear_failures();
    two_workers_deliver(&app).await;
    assert_eq!(announcing::status(&app, &id), AnnouncementStatus::Sent);
    for address in announcing::seeded(10) {
        assert_eq!(app.mail_to(&address).len(), 1, "{address}");
    }
    assert_eq!(announcing::notices(&app, "relay_refused").len(), 2);
    for organiser in ORGANISERS {
        let subjects: Vec<String> = app
            .mail_to(organiser)
            .iter()
            .filter_map(|m| m.subject())
            .collect();
        assert!(
            subjects.contains(&"The mail relay refused rollcall, and accepts again".to_owned()),
            "{subjects:?}"
        );
    }
}
