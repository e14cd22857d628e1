//! The email figures, all into Postfix's `smtp-sink` (package postfix, its
//! daemon not started): the limit is Postfix's own `smtp-source` sending N
//! messages of the same size over `email.smtp.pool_size` parallel sessions; the
//! figure is `rollcall worker` (a child process) delivering N queued
//! confirmations; lettre's own pooled transport sending the same N rendered
//! messages with the same pool size is a second line. Without the tools the
//! part says SKIPPED.

use crate::helpers::{self, TEST_SECRET, TestDatabase};
use crate::raw;
use crate::server;
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
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";
const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";

pub struct EmailFigures {
    pub worker_per_second: f64,
    pub worker_sent: i64,
    pub lettre_per_second: f64,
    /// `smtp-source`, a new session per message (its default): the limit.
    pub source_per_second: f64,
    /// `smtp-source -d`: one session per connection, as rollcall reuses them.
    pub source_reuse_per_second: f64,
    pub message_bytes: usize,
}

/// Why the email part cannot run here, if it cannot.
pub fn missing_tools() -> Option<String> {
    [SMTP_SINK, SMTP_SOURCE]
        .into_iter()
        .find(|tool| !Path::new(tool).exists())
        .map(|tool| format!("{tool} not found (Debian package postfix)"))
}

/// `smtp-sink` on a free port, killed when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
}

impl Sink {
    pub fn start() -> Sink {
        let port = server::free_port();
        let mut command = Command::new(SMTP_SINK);
        // As root, smtp-sink refuses to run without dropping privileges.
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        if root {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .args([&format!("127.0.0.1:{port}"), "256"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {SMTP_SINK}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "smtp-sink did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sink { child, port }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `smtp-source` sending `messages` of `bytes` each over `sessions` parallel
/// sessions: messages per second.
pub fn source_rate(port: u16, sessions: u32, messages: usize, bytes: usize, reuse: bool) -> f64 {
    let mut command = Command::new(SMTP_SOURCE);
    if reuse {
        command.arg("-d");
    }
    command.args([
        "-s",
        &sessions.to_string(),
        "-m",
        &messages.to_string(),
        "-l",
        &bytes.to_string(),
        "-M",
        "localhost",
        "-f",
        "bench@example.org",
        "-t",
        "sink@example.org",
        &format!("127.0.0.1:{port}"),
    ]);
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {SMTP_SOURCE}: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "{SMTP_SOURCE} failed: {status}");
    messages as f64 / seconds
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
    let sink = Sink::start();
    let pool_size = settings.email.smtp.pool_size;
    let prebuilt = render_all(database, settings);
    assert_eq!(prebuilt.len(), messages, "every queued message rendered");
    let message_bytes = prebuilt.iter().map(|m| m.formatted().len()).sum::<usize>() / messages;
    let source_per_second = source_rate(sink.port, pool_size, messages, message_bytes, false);
    let source_reuse_per_second = source_rate(sink.port, pool_size, messages, message_bytes, true);
    let lettre_per_second = lettre_send_rate(sink.port, pool_size, prebuilt).await;
    let (worker_sent, seconds) = worker_run(database, sink.port, messages, log).await;
    EmailFigures {
        worker_per_second: worker_sent as f64 / seconds,
        worker_sent,
        lettre_per_second,
        source_per_second,
        source_reuse_per_second,
        message_bytes,
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
    let mut renderer = Renderer::from_settings(settings, &Keys::new(TEST_SECRET.as_bytes()));
    renderer.base_url = "http://127.0.0.1:8080".to_owned();
    rows.iter()
        .map(|row| {
            let person = &people[row
                .registration_id
                .as_deref()
                .expect("bench rows are registration mail")];
            let rendered = renderer.render(row, &Default::default()).expect("render");
            renderer
                .message(rendered, &person.email, &row.message_id)
                .expect("message")
        })
        .collect()
}

/// lettre's pooled transport, `pool_size` sends in flight: messages per second.
async fn lettre_send_rate(port: u16, pool_size: u32, messages: Vec<Message>) -> f64 {
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

/// The size of one delivery of the announcement, rendered as the worker does.
pub fn stored_message_bytes(database: &TestDatabase, announcement_id: &str) -> usize {
    use rollcall::db::schema::{outbox, registrations};
    let mut conn = database.connect();
    let row: OutboxRow = outbox::table
        .filter(outbox::announcement_id.eq(announcement_id))
        .filter(outbox::kind.eq("announcement"))
        .select(OutboxRow::as_select())
        .first(&mut conn)
        .expect("a delivery");
    let person: Registration = registrations::table
        .find(row.registration_id.clone().expect("a member"))
        .select(Registration::as_select())
        .first(&mut conn)
        .expect("its member");
    let announcement = rollcall::db::announcements::find(&mut conn, announcement_id)
        .expect("announcement")
        .expect("announcement row");
    let renderer = Renderer::from_settings(&crate::settings(), &Keys::new(TEST_SECRET.as_bytes()));
    let related = rollcall::email::render::Related {
        announcement: Some(&announcement),
        ..Default::default()
    };
    let rendered = renderer.render(&row, &related).expect("render");
    renderer
        .message(rendered, &person.email, &row.message_id)
        .expect("message")
        .formatted()
        .len()
}
