//! The email figure: `rollcall worker` (a child process) delivering N queued
//! confirmation messages to the tests' in-process SMTP server, beside lettre's
//! own pooled transport sending the same N messages, rendered by the crate's
//! renderer, to the same server with the same pool size and concurrency.

use crate::helpers::{self, TEST_SECRET, TestDatabase};
use crate::raw;
use crate::server;
use crate::smtp_server::SmtpServer;
use diesel::prelude::*;
use futures_util::StreamExt;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rollcall::configuration::Settings;
use rollcall::crypto::Keys;
use rollcall::db::outbox::OutboxRow;
use rollcall::db::registrations::Registration;
use rollcall::email::render::Renderer;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct EmailFigures {
    pub worker_per_second: f64,
    pub worker_sent: i64,
    pub raw_per_second: f64,
}

/// Queues `messages` confirmations (one signup each, 500 per transaction).
pub fn seed(database: &TestDatabase, settings: &Settings, messages: usize) {
    let (mut conn, rules) = raw::prepare(database, settings);
    for start in (0..messages).step_by(500) {
        let batch: Vec<_> = (start..messages.min(start + 500))
            .map(|i| raw::signup(settings, &format!("mail{i}@example.org")))
            .collect();
        raw::record_batch(&mut conn, &rules, &batch);
    }
}

pub async fn measure(
    database: &TestDatabase,
    settings: &Settings,
    messages: usize,
    log: &Path,
) -> EmailFigures {
    let sink = SmtpServer::start().await;
    let pool_size = settings.email.smtp.pool_size;
    let prebuilt = render_all(database, settings);
    assert_eq!(prebuilt.len(), messages, "every queued message rendered");
    let raw_per_second = raw_send_rate(sink.port(), pool_size, prebuilt).await;
    sink.clear();
    let (worker_sent, seconds) = worker_run(database, sink.port(), messages, log).await;
    EmailFigures {
        worker_per_second: worker_sent as f64 / seconds,
        worker_sent,
        raw_per_second,
    }
}

/// Every queued message, rendered and addressed as the worker would.
fn render_all(database: &TestDatabase, settings: &Settings) -> Vec<Message> {
    use rollcall::db::schema::{outbox, registrations};
    let mut conn = database.connect();
    let rows: Vec<OutboxRow> = outbox::table
        .select(OutboxRow::as_select())
        .load(&mut conn)
        .expect("outbox rows");
    let people: HashMap<String, Registration> = registrations::table
        .select(Registration::as_select())
        .load(&mut conn)
        .expect("registrations")
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let renderer = Renderer {
        keys: Keys::new(TEST_SECRET.as_bytes()),
        group: settings.group.clone(),
        base_url: "http://127.0.0.1:8080".to_owned(),
        from: settings.email.from.clone(),
        reply_to: settings.email.reply_to.clone(),
        token_ttl_hours: settings.signup.token_ttl_hours,
    };
    rows.iter()
        .map(|row| {
            let person = &people[&row.registration_id];
            let rendered = renderer.render(row).expect("render");
            renderer
                .message(rendered, &person.email, &row.message_id)
                .expect("message")
        })
        .collect()
}

/// lettre's pooled transport, `pool_size` sends in flight: messages per second.
async fn raw_send_rate(port: u16, pool_size: u32, messages: Vec<Message>) -> f64 {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .timeout(Some(Duration::from_secs(30)))
        .pool_config(PoolConfig::new().max_size(pool_size))
        .build();
    let count = messages.len();
    let started = Instant::now();
    let failures = futures_util::stream::iter(messages)
        .map(|message| {
            let transport = transport.clone();
            async move { transport.send(message).await.is_err() }
        })
        .buffer_unordered(pool_size as usize)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(failures, 0, "lettre sends to the sink failed");
    count as f64 / seconds
}

/// Starts `rollcall worker` and waits until `messages` are sent (at most
/// 5 minutes); the number sent and the seconds from start to the last.
async fn worker_run(database: &TestDatabase, port: u16, messages: usize, log: &Path) -> (i64, f64) {
    let mut conn = database.connect();
    let started = Instant::now();
    let mut worker = server::spawn(
        "worker",
        &database.raw_url,
        log,
        &[
            ("ROLLCALL__EMAIL__TRANSPORT", "smtp".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__HOST", "127.0.0.1".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__PORT", port.to_string()),
            ("ROLLCALL__EMAIL__SMTP__TLS", "none".to_owned()),
        ],
    );
    let deadline = started + Duration::from_secs(300);
    let target = messages as i64;
    let mut sent = 0;
    while Instant::now() < deadline {
        sent = helpers::count(
            &mut conn,
            "SELECT COUNT(*) FROM outbox WHERE status = 'sent'",
        );
        if sent >= target || worker.exited() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    if sent < target {
        eprintln!(
            "worker sent only {sent} of {target}; its log:\n{}",
            worker.output()
        );
    }
    worker.stop();
    (sent, seconds)
}
