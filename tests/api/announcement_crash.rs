//! Crash safety of a send: 2,000 members, two `rollcall worker` processes,
//! one killed with SIGKILL mid-send and started again. Every member ends with
//! exactly one delivered message (a retransmit across the crash carries the
//! same Message-ID, so a member may see one twice, never two different ones),
//! at most `email.batch_size` messages go out twice, and the announcement is
//! `sent` only once every delivery is.

use crate::announcing;
use crate::helpers::{Backend, seed_registrations, spawn_app, wait_until};
use crate::on_both_backends;
use crate::processes::RollcallProcess;
use chrono::Utc;
use rollcall::domain::announcement::AnnouncementStatus;
use std::collections::{HashMap, HashSet};

on_both_backends!(a_worker_killed_mid_send_leaves_every_member_exactly_one_message);

const MEMBERS: usize = 2000;
const BATCH: usize = 50;

async fn a_worker_killed_mid_send_leaves_every_member_exactly_one_message(backend: Backend) {
    let app = spawn_app(backend).await;
    // The children run on the system clock: queue at the real time.
    app.clock.set(Utc::now());
    seed_registrations(&mut app.db(), MEMBERS as i64);
    let id = announcing::send_now(&app, "Crash safe");
    let settings = [
        (
            "ROLLCALL__EMAIL__ANNOUNCEMENT_RATE_PER_MINUTE",
            "0".to_owned(),
        ),
        ("ROLLCALL__EMAIL__BATCH_SIZE", BATCH.to_string()),
        ("ROLLCALL__EMAIL__LEASE_SECS", "10".to_owned()),
        ("ROLLCALL__EMAIL__SMTP__TIMEOUT_SECS", "5".to_owned()),
    ];
    let start = || {
        RollcallProcess::worker(
            &app.database.raw_url,
            &app.address,
            app.smtp.port(),
            &settings,
        )
    };
    let sent =
        || app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'announcement' AND status = 'sent'");
    let (mut first, mut second) = (start(), start());
    wait_until(
        "some of the list is sent",
        std::time::Duration::from_secs(120),
        || {
            first.assert_running();
            second.assert_running();
            sent() >= 300 || app.smtp.messages().len() >= 300
        },
    )
    .await;
    first.kill();
    assert!(sent() < MEMBERS as i64, "killed mid-send");
    assert_eq!(
        announcing::status(&app, &id),
        AnnouncementStatus::Sending,
        "not sent while deliveries remain"
    );
    let mut restarted = start();
    wait_until(
        "the announcement is sent",
        std::time::Duration::from_secs(240),
        || {
            second.assert_running();
            restarted.assert_running();
            announcing::status(&app, &id) == AnnouncementStatus::Sent
        },
    )
    .await;
    second.kill();
    restarted.kill();

    let rows: HashMap<String, String> = app
        .outbox()
        .into_iter()
        .filter(|r| r.kind == "announcement")
        .map(|r| {
            assert_eq!(r.status, "sent");
            let person = r.registration_id.unwrap();
            (person, r.message_id)
        })
        .collect();
    assert_eq!(rows.len(), MEMBERS);
    let mut ids_per_member: HashMap<String, HashSet<String>> = HashMap::new();
    let mails = app.smtp.messages();
    for mail in &mails {
        let message_id = mail.message_id().unwrap();
        for rcpt in &mail.rcpt_to {
            ids_per_member
                .entry(rcpt.clone())
                .or_default()
                .insert(message_id.clone());
        }
    }
    for (i, address) in announcing::seeded(MEMBERS).iter().enumerate() {
        let ids = ids_per_member.get(address).cloned().unwrap_or_default();
        assert_eq!(ids.len(), 1, "{address}: {ids:?}");
        let person = format!("seed-{:08}", i + 1);
        assert!(
            ids.contains(&rows[&person]),
            "{address}: its row's Message-ID"
        );
    }
    let twice = mails.len() - MEMBERS;
    assert!(
        twice <= BATCH,
        "at most one batch of the killed worker goes out again: {twice}"
    );
    let row = announcing::find(&app, &id);
    let last_sent = announcing::sent_times(&app).into_iter().max().unwrap();
    assert!(
        row.finished_at.unwrap() >= last_sent,
        "sent only at the end"
    );
}
