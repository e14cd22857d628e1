//! The announcement engine's storage: a start creates one delivery per
//! matching member in one statement, and a second start creates nothing.

use crate::helpers::{Backend, seed_registrations, spawn_app};
use crate::on_both_backends;
use rollcall::clock::Clock;
use rollcall::db::announcements::{self, DeliveryCounts, Transition};
use rollcall::db::audience;
use rollcall::domain::announcement::{Action, AnnouncementDraft, AnnouncementStatus, RawAudience};
use rollcall::email::render::{Related, Renderer};

on_both_backends!(a_start_creates_one_delivery_per_matching_member_once);

async fn a_start_creates_one_delivery_per_matching_member_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut conn = app.db();
    seed_registrations(&mut conn, 40);
    let rules = rollcall::startup::send_rules(&app.settings, &app.state.keys);
    let interests = &app.settings.signup.interests;
    let raw = RawAudience {
        countries: vec!["NZ".into(), "FJ".into()],
        ..Default::default()
    };
    let draft =
        AnnouncementDraft::parse("First meetup", "Hello *all*", &raw, false, interests).unwrap();
    let now = app.clock.now_naive();
    let id = announcements::create(&mut conn, &draft, "cli:test", now).unwrap();
    let matching = audience::count(&mut conn, &draft.audience).unwrap();
    assert_eq!(matching, 20, "NZ and FJ are half of the seeded members");

    let first = announcements::apply(&mut conn, &rules, &id, Action::SendNow, None, now).unwrap();
    assert_eq!(first, Transition::Done(AnnouncementStatus::Sending));
    let again = announcements::apply(&mut conn, &rules, &id, Action::SendNow, None, now).unwrap();
    assert_eq!(again, Transition::Unchanged(AnnouncementStatus::Sending));
    let counts = announcements::delivery_counts(&mut conn, &id).unwrap();
    assert_eq!(
        counts,
        DeliveryCounts {
            queued: 20,
            ..Default::default()
        }
    );

    let rows: Vec<_> = app
        .outbox()
        .into_iter()
        .filter(|r| r.kind == "announcement")
        .collect();
    assert_eq!(rows.len(), 20);
    for row in &rows {
        let uuid = uuid::Uuid::parse_str(&row.id).expect("a UUID");
        assert_eq!(uuid.get_version_num(), 7, "{}", row.id);
        assert_eq!(row.message_id, format!("<{}@127.0.0.1>", row.id));
        assert!(
            row.unsubscribe_token_id.is_some(),
            "every delivery names an unsubscribe token"
        );
    }
    let ids: std::collections::HashSet<_> = rows.iter().map(|r| &r.id).collect();
    assert_eq!(ids.len(), 20);

    let pause =
        announcements::apply(&mut conn, &rules, &id, Action::Unschedule, None, now).unwrap();
    assert_eq!(pause, Transition::NotAllowed(AnnouncementStatus::Sending));
    let cancelled =
        announcements::apply(&mut conn, &rules, &id, Action::Cancel, None, now).unwrap();
    assert_eq!(cancelled, Transition::Done(AnnouncementStatus::Cancelled));
    let counts = announcements::delivery_counts(&mut conn, &id).unwrap();
    assert_eq!(
        counts,
        DeliveryCounts {
            cancelled: 20,
            ..Default::default()
        }
    );
}

on_both_backends!(a_delivery_renders_as_list_mail_with_the_members_own_unsubscribe_link);

async fn a_delivery_renders_as_list_mail_with_the_members_own_unsubscribe_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut conn = app.db();
    seed_registrations(&mut conn, 2);
    let rules = rollcall::startup::send_rules(&app.settings, &app.state.keys);
    let body = "Hello **all**.\n\nSee <script>alert(1)</script> [x](javascript:alert(1)) \
                ![pixel](https://tracker.example/p.png) [site](https://pangeo.io)\n";
    let draft = AnnouncementDraft::parse("First meetup", body, &RawAudience::default(), false, &[])
        .unwrap();
    let now = app.clock.now_naive();
    let id = announcements::create(&mut conn, &draft, "cli:test", now).unwrap();
    announcements::apply(&mut conn, &rules, &id, Action::SendNow, None, now).unwrap();
    let row = app
        .outbox()
        .into_iter()
        .find(|r| r.kind == "announcement")
        .unwrap();
    let announcement = announcements::find(&mut conn, &id).unwrap().unwrap();

    let renderer = Renderer::from_settings(&app.settings, &app.state.keys);
    let related = Related {
        announcement: Some(&announcement),
        relay_error: None,
    };
    let rendered = renderer.render(&row, &related).unwrap();
    assert_eq!(rendered.subject, "First meetup");
    assert!(!rendered.html.contains("<script") && !rendered.html.contains("href=\"javascript"));
    assert!(!rendered.html.contains("<img"), "no remote image loads");
    assert!(
        rendered
            .html
            .contains(r#"<a href="https://pangeo.io">site</a>"#)
    );
    assert!(
        rendered.text.contains("site <https://pangeo.io>"),
        "{}",
        rendered.text
    );
    let unsubscribe = rendered.unsubscribe_url.clone().unwrap();
    assert!(rendered.text.contains(&unsubscribe) && rendered.html.contains(&unsubscribe));

    let message = renderer
        .message(rendered, "person1@example.org", &row.message_id)
        .unwrap();
    let raw = String::from_utf8(message.formatted()).unwrap();
    for header in [
        "List-Id: \"Oceania Pangeo\" <announcements.example.org>",
        "Precedence: bulk",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        &format!("List-Unsubscribe: <{unsubscribe}>"),
        &format!("Message-ID: {}", row.message_id),
    ] {
        assert!(raw.contains(header), "{header} missing in\n{raw}");
    }
    assert!(
        !raw.contains("Auto-Submitted"),
        "an announcement is not an automatic reply"
    );

    // The member's own link names that member's registration.
    let token = crate::helpers::token_of(&unsubscribe);
    let target = rollcall::db::lifecycle::unsubscribe_target(&mut conn, &token)
        .unwrap()
        .unwrap();
    assert_eq!(Some(target.id), row.registration_id);
    announcements::apply(&mut conn, &rules, &id, Action::Cancel, None, now).unwrap();
}

on_both_backends!(erasing_a_person_removes_test_sends_to_their_address);

async fn erasing_a_person_removes_test_sends_to_their_address(backend: Backend) {
    let app = spawn_app(backend).await;
    app.confirmed_member("ana@example.org").await;
    let mut conn = app.db();
    let draft =
        AnnouncementDraft::parse("Hi", "Body", &RawAudience::default(), false, &[]).unwrap();
    let now = app.clock.now_naive();
    let id = announcements::create(&mut conn, &draft, "cli:test", now).unwrap();
    let addresses = rollcall::domain::announcement::parse_test_addresses([
        "ANA@example.org, other@example.org",
    ])
    .unwrap();
    let queued =
        announcements::queue_tests(&mut conn, &id, &addresses, "cli:test", 20, "127.0.0.1", now)
            .unwrap();
    assert_eq!(queued, announcements::TestSend::Queued(2));
    let erased = app.rollcall(&["erase", "ana@example.org"]);
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    let left: Vec<_> = app
        .outbox()
        .into_iter()
        .filter_map(|r| r.test_address)
        .collect();
    assert_eq!(left, ["other@example.org"]);
    app.deliver().await;
}

on_both_backends!(a_members_one_click_unsubscribes_only_them_and_a_test_link_nobody);

async fn a_members_one_click_unsubscribes_only_them_and_a_test_link_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    for who in ["ana", "ben", "cai"] {
        app.confirmed_member(&format!("{who}@example.org")).await;
    }
    let mut conn = app.db();
    let rules = rollcall::startup::send_rules(&app.settings, &app.state.keys);
    let now = app.clock.now_naive();
    let draft =
        AnnouncementDraft::parse("News", "Hello", &RawAudience::default(), false, &[]).unwrap();
    let id = announcements::create(&mut conn, &draft, "cli:test", now).unwrap();
    let to = rollcall::domain::announcement::parse_test_addresses(["ben@example.org"]).unwrap();
    announcements::queue_tests(&mut conn, &id, &to, "cli:test", 20, "127.0.0.1", now).unwrap();
    app.deliver().await;
    let test_mail = app.mail_to("ben@example.org").pop().unwrap();
    assert_eq!(test_mail.subject().as_deref(), Some("[Test] News"));
    let test_link = crate::helpers::link_in(&test_mail.text_body().unwrap(), "/unsubscribe?token=");
    announcements::apply(&mut conn, &rules, &id, Action::SendNow, None, now).unwrap();
    app.deliver().await;

    // The test send's link: it answers 200 and unsubscribes nobody.
    let client = reqwest::Client::new();
    let page = client.get(&test_link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("test send"));
    let posted = client
        .post(&test_link)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'"),
        3
    );

    // Ana's own link, one click: Ana alone leaves.
    let ana_link = app.unsubscribe_link("ana@example.org");
    let left = client
        .post(&ana_link)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), 200);
    let statuses: Vec<(String, String)> = {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .select((dsl::email, dsl::status))
            .order(dsl::email)
            .load(&mut app.db())
            .unwrap()
    };
    assert_eq!(
        statuses,
        [
            ("ana@example.org".to_owned(), "unsubscribed".to_owned()),
            ("ben@example.org".to_owned(), "confirmed".to_owned()),
            ("cai@example.org".to_owned(), "confirmed".to_owned()),
        ]
    );
}
