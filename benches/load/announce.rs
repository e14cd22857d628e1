//! `announcement_send`: 20,000 confirmed members (imported by `rollcall
//! import --mode confirmed`, the app's own path), one announcement (`rollcall
//! announce create`), sent by an organiser's POST to `rollcall serve`, delivered
//! by one `rollcall worker` (pacing off) into Postfix's `smtp-sink`. The limit
//! is `smtp-source` with the same number of sessions and the same message
//! size. Also: each process's RSS growth during the send, and the time from
//! the POST to the first recorded delivery.

use crate::email::{Sink, source_rate};
use crate::helpers::{self, TestDatabase};
use crate::server::{self, BINARY, Rollcall};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct AnnouncementFigures {
    pub members: i64,
    pub sent: i64,
    pub per_second: f64,
    pub source_per_second: f64,
    pub first_delivery_secs: f64,
    pub server_rss_growth_mib: f64,
    pub worker_rss_growth_mib: f64,
    pub message_bytes: usize,
}

const ORGANISER: &str = "bench-organiser@example.org";
const PASSWORD: &str = "a bench password, long enough";

/// Runs a `rollcall` command to completion with the bench's environment.
fn cli(database_url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("ROLLCALL_ENV")
        .env("ROLLCALL__DATABASE__URL", database_url)
        .env("ROLLCALL__SERVER__SECRET_KEY", helpers::TEST_SECRET)
        .env("ROLLCALL__LOG__LEVEL", "warn")
        .env("ROLLCALL_PASSWORD", PASSWORD)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("rollcall command");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("stdin");
    }
    let output = child.wait_with_output().expect("rollcall command output");
    assert!(
        output.status.success(),
        "rollcall {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// 20,000 members, an organiser and a draft; returns the draft's id.
fn prepare(database: &TestDatabase, members: usize, dir: &Path) -> String {
    let csv = dir.join("members.csv");
    let mut file = std::fs::File::create(&csv).expect("members.csv");
    writeln!(file, "Email Address,First Name,Last Name,CONFIRM_TIME").expect("csv");
    for i in 0..members {
        writeln!(
            file,
            "member{i}@example.org,Member,Number {i},2026-01-02 03:04:05"
        )
        .expect("csv");
    }
    drop(file);
    let csv = csv.to_string_lossy().into_owned();
    let url = &database.raw_url;
    cli(
        url,
        &["import", &csv, "--mode", "confirmed", "--source", "bench"],
        None,
    );
    cli(url, &["organiser", "add", ORGANISER], None);
    let body = dir.join("body.md");
    std::fs::write(
        &body,
        "Kia ora koutou,\n\nOur **first meetup** is on Thursday 10 December at the \
         [Bureau](https://bom.gov.au), 5:30 pm. Bring a laptop.\n\n- talks\n- pizza\n- Xarray help desk\n",
    )
    .expect("body.md");
    let body = body.to_string_lossy().into_owned();
    cli(
        url,
        &[
            "announce",
            "create",
            "--subject",
            "Our first meetup",
            "--body",
            &body,
        ],
        None,
    )
}

/// Logs in as the organiser and posts the send form; returns when the POST
/// was answered (a 303).
async fn post_send(port: u16, id: &str) {
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let login = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .expect("login page");
    let page = login.text().await.expect("login page body");
    let token = helpers::extract_csrf(&page).expect("csrf token on the login page");
    let answer = client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("email", ORGANISER),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(answer.status(), 303, "login");
    let page = client
        .get(format!("{base}/admin/announcements/{id}"))
        .send()
        .await
        .expect("announcement page")
        .text()
        .await
        .expect("announcement page body");
    let token = helpers::extract_csrf(&page).expect("csrf token on the announcement page");
    let sent = client
        .post(format!("{base}/admin/announcements/{id}/send"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(sent.status(), 303, "send");
}

pub async fn measure(
    database: &TestDatabase,
    members: usize,
    pool_size: u32,
    logs: &Path,
) -> AnnouncementFigures {
    let id = prepare(database, members, logs);
    let sink = Sink::start();
    let mut conn = database.connect();
    let mut server = Rollcall::serve(&database.raw_url, &logs.join("announce-server.log"));
    server.wait_ready();
    let worker = server::spawn(
        "worker",
        &database.raw_url,
        &logs.join("announce-worker.log"),
        &[
            ("ROLLCALL__EMAIL__TRANSPORT", "smtp".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__HOST", "127.0.0.1".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__PORT", sink.port.to_string()),
            ("ROLLCALL__EMAIL__SMTP__TLS", "none".to_owned()),
            ("ROLLCALL__EMAIL__SMTP__POOL_SIZE", pool_size.to_string()),
            (
                "ROLLCALL__EMAIL__ANNOUNCEMENT_RATE_PER_MINUTE",
                "0".to_owned(),
            ),
        ],
    );
    // Let the worker start and find an empty queue first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (server_before, worker_before) = (server.rss_kib(), worker.rss_kib());
    let posted = Instant::now();
    post_send(server.port, &id).await;
    let sent_query = format!(
        "SELECT COUNT(*) FROM outbox WHERE announcement_id = '{id}' AND kind = 'announcement' AND status = 'sent'"
    );
    let mut first = None;
    let mut sent = 0;
    let deadline = posted + Duration::from_secs(300);
    while Instant::now() < deadline {
        sent = helpers::count(&mut conn, &sent_query);
        if sent > 0 && first.is_none() {
            first = Some(posted.elapsed());
        }
        if sent >= members as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = posted.elapsed().as_secs_f64();
    let growth = |peak: u64, before: u64| peak.saturating_sub(before) as f64 / 1024.0;
    let server_rss_growth_mib = growth(server.peak_rss_kib(), server_before);
    let worker_rss_growth_mib = growth(worker.peak_rss_kib(), worker_before);
    if sent < members as i64 {
        eprintln!(
            "worker sent only {sent} of {members}; its log:\n{}",
            worker.output()
        );
    }
    worker.stop();
    server.stop();
    let message_bytes = crate::email::stored_message_bytes(database, &id);
    let source_per_second = source_rate(sink.port, pool_size, members, message_bytes, false);
    AnnouncementFigures {
        members: members as i64,
        sent,
        per_second: sent as f64 / seconds,
        source_per_second,
        first_delivery_secs: first.map_or(f64::NAN, |d| d.as_secs_f64()),
        server_rss_growth_mib,
        worker_rss_growth_mib,
        message_bytes,
    }
}
