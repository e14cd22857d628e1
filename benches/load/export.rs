//! The export figure: N seeded registrations through `/admin/export.csv`,
//! beside the same SELECT through the database's own CLI.

use crate::client::Client;
use crate::helpers::{self, Backend, TestDatabase};
use crate::server::Rollcall;
use rollcall::db::{self, DbConnection};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

pub const TOKEN: &str = "rc_bench-export-token";

pub struct ExportFigures {
    pub rows: u64,
    pub rows_per_second: f64,
    pub rss_growth_mib: f64,
    /// The CLI's rows per second, or why it was skipped.
    pub dump: Result<f64, String>,
}

/// Seeds `rows` confirmed registrations with consents and an organiser token.
pub fn seed(conn: &mut DbConnection, rows: i64) {
    db::migrations::run_pending(conn).expect("migrations");
    helpers::seed_registrations(conn, rows);
    let hash = rollcall::organisers::passwords::hash("a long organiser password").expect("hash");
    let now = chrono::Utc::now().naive_utc();
    let id = db::organisers::insert(conn, "bench@example.org", "bench@example.org", &hash, now)
        .expect("insert organiser")
        .expect("a new organiser");
    db::organisers::add_token(conn, &id, &rollcall::crypto::token_hash(TOKEN), now)
        .expect("organiser token");
}

/// Exports every registration (`status=all`) and counts the records; the
/// server's peak RSS is read after a warm-up export of nothing and at the end.
pub async fn measure(
    backend: Backend,
    database: &TestDatabase,
    rows: i64,
    log: &std::path::Path,
) -> ExportFigures {
    let mut server = Rollcall::serve(&database.raw_url, log);
    server.wait_ready();
    let mut client = Client::connect(server.port).await.expect("connect");
    let request = |query: &str| {
        format!(
            "GET /admin/export.csv?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        )
    };
    let warm = client
        .request(
            request("status=all&since=2100-01-01").as_bytes(),
            false,
            |_| {},
        )
        .await
        .expect("warm-up export");
    assert_eq!(warm.status, 200, "warm-up export");
    let before = server.peak_rss_kib();
    let mut lines = 0u64;
    let started = Instant::now();
    let response = client
        .request(request("status=all").as_bytes(), false, |bytes| {
            lines += bytes.iter().filter(|b| **b == b'\n').count() as u64;
        })
        .await
        .expect("export");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(response.status, 200, "export status");
    eprintln!(
        "load:   {} MiB of CSV in {seconds:.2} s",
        response.body_len / (1024 * 1024)
    );
    let exported = lines.saturating_sub(1);
    assert_eq!(exported, rows as u64, "every row exported");
    let growth = server.peak_rss_kib().saturating_sub(before) as f64 / 1024.0;
    server.stop();
    ExportFigures {
        rows: exported,
        rows_per_second: exported as f64 / seconds,
        rss_growth_mib: growth,
        dump: dump_rate(backend, database, rows),
    }
}

/// The export's SELECT (every registration with its latest consent, by id,
/// times formatted as the CSV has them) through `sqlite3 -csv` or `psql \copy`.
fn dump_rate(backend: Backend, database: &TestDatabase, rows: i64) -> Result<f64, String> {
    let mut command = match backend {
        Backend::Sqlite => {
            let path = database
                .raw_url
                .strip_prefix("sqlite://")
                .unwrap_or(&database.raw_url);
            let mut c = Command::new("sqlite3");
            c.args(["-csv", path, &select(backend)]);
            c
        }
        Backend::Postgres => {
            let mut c = Command::new("psql");
            c.args([
                "-X",
                "-q",
                &database.raw_url,
                "-c",
                &format!("\\copy ({}) to stdout csv", select(backend)),
            ]);
            c
        }
    };
    let program = format!("{:?}", command.get_program());
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{program} not available: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::with_capacity(256 * 1024, stdout);
    let mut lines = 0u64;
    loop {
        let buf = reader.fill_buf().map_err(|e| e.to_string())?;
        if buf.is_empty() {
            break;
        }
        lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
        let n = buf.len();
        reader.consume(n);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() || lines != rows as u64 {
        return Err(format!("{program} failed ({status}, {lines} lines)"));
    }
    Ok(lines as f64 / seconds)
}

fn select(backend: Backend) -> String {
    let time = |column: &str| match backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%SZ', {column})"),
        Backend::Postgres => format!("to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
    };
    format!(
        "SELECT r.id, r.email, r.name, r.organisation, r.org_type, r.country, r.timezone, \
         r.interests, r.status, {}, {}, {}, c.text_version, c.ip, r.source \
         FROM registrations r LEFT JOIN consents c ON c.id = (SELECT c2.id FROM consents c2 \
         WHERE c2.registration_id = r.id ORDER BY c2.given_at DESC, c2.id DESC LIMIT 1) \
         ORDER BY r.id",
        time("r.created_at"),
        time("r.confirmed_at"),
        time("r.unsubscribed_at"),
    )
}
