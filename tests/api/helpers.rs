//! The test harness: spawn the app on either backend, fixtures, and the
//! SKIPPED / ROLLCALL_TEST_REQUIRE rule of the project's contract.

use crate::smtp_server::{ReceivedMail, SmtpServer};
use actix_web::web;
use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use rollcall::clock::{Clock, ManualClock, SharedClock};
use rollcall::configuration::{DatabaseUrl, Settings};
use rollcall::db::outbox::{OutboxRow, OutboxStatus};
use rollcall::db::{self, DbConnection};
use rollcall::email::worker::Worker;
use rollcall::startup::{self, Application};
use rollcall::web::state::AppState;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub const TEST_SECRET: &str = "test-secret-key-0123456789abcdef0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body on one backend, or prints why it is skipped.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::helpers::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_available(concat!(module_path!(), "::postgres")) {
                    super::$name(Backend::Postgres).await;
                }
            }
        }
    )*};
}

/// Writes a SKIPPED line straight to stderr: the test harness captures `println!`
/// of passing tests, and a skip must be visible in every `cargo test` run.
pub fn report_skip(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Whether the PostgreSQL variant can run; prints SKIPPED, or fails when required.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var("ROLLCALL_TEST_DATABASE_URL").is_ok() {
        return true;
    }
    assert!(
        !required("postgres"),
        "{test}: ROLLCALL_TEST_REQUIRE has postgres but ROLLCALL_TEST_DATABASE_URL is not set"
    );
    report_skip(&format!(
        "SKIPPED {test} [postgres]: ROLLCALL_TEST_DATABASE_URL is not set"
    ));
    false
}

/// Debian's Chromium and its WebDriver, the only browser the tests use.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser part can run (Debian's `chromium` and `chromium-driver`
/// are installed); prints SKIPPED, or fails when required.
pub fn browser_available(test: &str) -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!(
        "{} not found (apt-get install chromium chromium-driver)",
        missing.join(" and ")
    );
    assert!(
        !required("browser"),
        "{test}: ROLLCALL_TEST_REQUIRE has browser but {reason}"
    );
    report_skip(&format!("SKIPPED {test} [browser]: {reason}"));
    false
}

/// axe-core's `axe.min.js` from the folder in `ROLLCALL_TEST_AXE_DIR` (where
/// `.ci/run` installs the pinned npm package), or `None` after SKIPPED; part
/// of the `browser` part, so required with it.
pub fn axe_source(test: &str) -> Option<String> {
    let reason = match std::env::var("ROLLCALL_TEST_AXE_DIR") {
        Err(_) => {
            "ROLLCALL_TEST_AXE_DIR is not set (npm install axe-core into a folder and name it)"
                .to_owned()
        }
        Ok(dir) => {
            let file = Path::new(&dir).join("axe.min.js");
            match std::fs::read_to_string(&file) {
                Ok(source) => return Some(source),
                Err(error) => format!("{}: {error}", file.display()),
            }
        }
    };
    assert!(
        !required("browser"),
        "{test}: ROLLCALL_TEST_REQUIRE has browser but {reason}"
    );
    report_skip(&format!("SKIPPED {test} [browser]: {reason}"));
    None
}

/// Whether ROLLCALL_TEST_REQUIRE (comma-separated) names `part`.
pub fn required(part: &str) -> bool {
    std::env::var("ROLLCALL_TEST_REQUIRE")
        .unwrap_or_default()
        .split(',')
        .any(|p| p.trim() == part)
}

/// A fresh, empty database for one test; PostgreSQL ones are dropped afterwards.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub raw_url: String,
    _dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("rollcall.db");
                TestDatabase {
                    url: DatabaseUrl::Sqlite(path.clone()),
                    raw_url: format!("sqlite://{}", path.display()),
                    _dir: dir,
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var("ROLLCALL_TEST_DATABASE_URL")
                    .expect("checked by postgres_available");
                let name = format!("rollcall_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn =
                    PgConnection::establish(&admin).expect("connect to ROLLCALL_TEST_DATABASE_URL");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = replace_database(&admin, &name);
                TestDatabase {
                    url: DatabaseUrl::Postgres(url.clone()),
                    raw_url: url,
                    _dir: dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    pub fn connect(&self) -> DbConnection {
        db::connect(&self.url).expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let (Some(name), Ok(admin)) = (
            &self.postgres_name,
            std::env::var("ROLLCALL_TEST_DATABASE_URL"),
        ) && let Ok(mut conn) = PgConnection::establish(&admin)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Settings for a test app: config/default.toml plus test overrides; mail goes
/// to the test SMTP server on `smtp_port`.
pub fn test_settings(database: &TestDatabase, port: u16, smtp_port: u16, extra: Value) -> Settings {
    let mut overrides = json!({
        "server": {"port": port, "secret_key": TEST_SECRET, "base_url": format!("http://127.0.0.1:{port}")},
        "database": {"url": database.raw_url, "max_connections": 4},
        "rate_limit": {"enabled": false},
        "email": {
            "worker_enabled": false,
            "transport": "smtp",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "tls": "none", "timeout_secs": 5, "pool_size": 4},
            "lease_secs": 60,
        },
        "log": {"level": "warn"},
    });
    merge(&mut overrides, extra);
    Settings::load_with(
        Path::new("config"),
        Some("test"),
        std::iter::empty(),
        overrides,
    )
    .expect("test settings")
}

fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (slot, value) => *slot = value,
    }
}

/// A running app on a real port with its own database and a manual clock.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub database: TestDatabase,
    pub settings: Settings,
    pub state: web::Data<AppState>,
    pub smtp: SmtpServer,
    /// Set by [`TestApp::deliver`]; with mail received, the harness checks the outbox on drop.
    delivered: AtomicBool,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, json!({})).await
}

pub async fn spawn_app_with(backend: Backend, extra: Value) -> TestApp {
    let database = TestDatabase::create(backend);
    let smtp = SmtpServer::start().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    let settings = test_settings(&database, port, smtp.port(), extra);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap());
    let shared: SharedClock = Arc::new(clock.clone());
    let app = Application::build_on(settings.clone(), shared, listener)
        .await
        .expect("build app");
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: client(),
        clock,
        database,
        settings,
        state,
        smtp,
        delivered: AtomicBool::new(false),
    }
}

/// A client that keeps cookies and does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client")
}

impl TestApp {
    /// A new email worker for this app (each has its own lease owner).
    pub fn worker(&self) -> Worker {
        startup::build_worker(&self.state).expect("build worker")
    }

    /// Delivers everything that is due, as the worker would, and returns how many.
    pub async fn deliver(&self) -> usize {
        self.delivered.store(true, Ordering::Relaxed);
        self.worker().run_until_idle().await.expect("worker run")
    }

    /// Queued outbox rows that are due now, by kind: what a test that delivers
    /// mail must not leave behind.
    pub fn due_outbox_kinds(&self) -> Vec<String> {
        let now = self.clock.now_naive();
        self.outbox()
            .into_iter()
            .filter(|row| row.status() == Some(OutboxStatus::Queued) && row.next_attempt_at <= now)
            .map(|row| row.kind)
            .collect()
    }

    /// Signs `email` up through the form and confirms it by the emailed link,
    /// as the person would; the welcome is delivered too.
    pub async fn confirmed_member(&self, email: &str) {
        assert_eq!(self.sign_up(email).await.status(), 303, "signup of {email}");
        self.confirm_by_link(email).await;
    }

    /// Delivers what is due, confirms `email`'s signup with the link in its
    /// newest message, and delivers the welcome.
    pub async fn confirm_by_link(&self, email: &str) {
        self.deliver().await;
        let token = token_of(&self.confirmation_link(email));
        let confirmed = self
            .post_form("/subscriptions/confirm", &[("token", &token)])
            .await;
        assert_eq!(confirmed.status(), 303, "confirmation of {email}");
        self.deliver().await;
    }

    /// Confirms every pending signup by its emailed link, as each person would.
    pub async fn confirm_everyone(&self) {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations;
        self.deliver().await;
        let pending: Vec<String> = registrations::table
            .filter(registrations::status.eq(rollcall::domain::Status::Pending.as_str()))
            .select(registrations::email)
            .load(&mut self.db())
            .expect("pending registrations");
        for email in pending {
            self.confirm_by_link(&email).await;
        }
    }

    /// Makes `email` a member who then left by the one-click link in the welcome.
    pub async fn unsubscribed_member(&self, email: &str) {
        self.confirmed_member(email).await;
        let unsubscribed = reqwest::Client::new()
            .post(self.unsubscribe_link(email))
            .multipart(reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click"))
            .send()
            .await
            .unwrap();
        assert_eq!(unsubscribed.status(), 200, "unsubscribe of {email}");
    }

    /// Creates an organiser directly in the database (the CLI is tested on its own).
    pub fn add_organiser(&self, email: &str, password: &str) {
        let address = rollcall::domain::EmailAddress::parse(email).expect("organiser address");
        let hash = rollcall::organisers::passwords::hash(password).expect("hash");
        let now = self.clock.now_naive();
        rollcall::db::organisers::insert(
            &mut self.db(),
            address.as_str(),
            address.key(),
            &hash,
            now,
        )
        .expect("insert organiser")
        .expect("new organiser");
    }

    /// The body of `GET path` with this app's client.
    pub async fn get_text(&self, path: &str) -> String {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        response.text().await.unwrap()
    }

    /// The CSRF token of the login form, as a browser gets it.
    pub async fn login_form_token(&self) -> String {
        let page = self.get_text("/admin/login").await;
        extract_csrf(&page).expect("csrf token on the login form")
    }

    /// Logs this app's client in as an organiser; returns the response.
    pub async fn log_in(&self, email: &str, password: &str) -> reqwest::Response {
        let token = self.login_form_token().await;
        self.post_form(
            "/admin/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    /// Runs the `rollcall` binary against this app's database.
    pub fn rollcall(&self, args: &[&str]) -> std::process::Output {
        self.rollcall_with(args, &[], None)
    }

    pub fn rollcall_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> std::process::Output {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
            .args(args)
            .env("ROLLCALL__DATABASE__URL", &self.database.raw_url)
            .env("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET)
            .env("ROLLCALL__LOG__LEVEL", "warn")
            .env_remove("ROLLCALL_PASSWORD")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rollcall");
        if let Some(mut pipe) = child.stdin.take() {
            pipe.write_all(stdin.unwrap_or("").as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("rollcall output")
    }

    /// Submits a form that needs only `email` and the CSRF token.
    pub async fn post_email_form(&self, path: &str, email: &str) -> reqwest::Response {
        let token = self.csrf_token().await;
        self.post_form(path, &[("email", email), ("csrf_token", &token)])
            .await
    }

    /// Messages received by the SMTP server for one address.
    pub fn mail_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.smtp.messages_to(address)
    }

    /// The confirmation link in the newest message to `address`.
    pub fn confirmation_link(&self, address: &str) -> String {
        let mail = self
            .mail_to(address)
            .pop()
            .expect("a message to that address");
        let link = link_in(
            &mail.text_body().expect("text part"),
            "/subscriptions/confirm?token=",
        );
        assert!(
            link.starts_with(&self.address),
            "links point at this app: {link}"
        );
        link
    }

    /// The 6-digit code in the newest message to `address`.
    pub fn confirmation_code(&self, address: &str) -> String {
        let body = self
            .mail_to(address)
            .pop()
            .expect("a message to that address")
            .text_body()
            .expect("text part");
        let marker = "signed up: ";
        let at = body.find(marker).expect("code line") + marker.len();
        let code = body[at..].chars().take(6).collect::<String>();
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "a 6-digit code: {code:?}"
        );
        code
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GETs the form and returns its CSRF token (the client keeps the cookie).
    pub async fn csrf_token(&self) -> String {
        let page = self
            .client
            .get(self.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        extract_csrf(&page).expect("csrf token in the form")
    }

    /// Posts urlencoded pairs to a path.
    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let body = encode_form(pairs);
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Submits a valid signup through the form, with a fresh CSRF token.
    pub async fn sign_up(&self, email: &str) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut pairs = valid_form(email);
        pairs.push(("csrf_token", &token));
        self.post_form("/subscriptions", &pairs).await
    }

    pub async fn post_json(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/subscriptions"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub fn db(&self) -> DbConnection {
        self.database.connect()
    }

    /// Runs a SQL query returning one integer (works on both backends).
    pub fn count(&self, sql: &str) -> i64 {
        count(&mut self.db(), sql)
    }

    /// Every outbox row, oldest first.
    pub fn outbox(&self) -> Vec<OutboxRow> {
        use diesel::prelude::*;
        use rollcall::db::schema::outbox;
        outbox::table
            .order((outbox::created_at.asc(), outbox::id.asc()))
            .select(OutboxRow::as_select())
            .load(&mut self.db())
            .expect("outbox rows")
    }

    /// The unsubscribe link in the newest message to `address`.
    pub fn unsubscribe_link(&self, address: &str) -> String {
        let mail = self
            .mail_to(address)
            .pop()
            .expect("a message to that address");
        link_in(&mail.text_body().expect("text part"), "/unsubscribe?token=")
    }
}

/// The harness's check after every test that delivered mail: nothing due is
/// left in the outbox (a message the test forgot, or one the worker skipped).
impl Drop for TestApp {
    fn drop(&mut self) {
        let mail_went_out =
            self.delivered.load(Ordering::Relaxed) || !self.smtp.messages().is_empty();
        if std::thread::panicking() || !mail_went_out {
            return;
        }
        let due = self.due_outbox_kinds();
        assert!(
            due.is_empty(),
            "the test delivered mail but left due outbox rows: {due:?} \
             (deliver them before the test ends)"
        );
    }
}

/// The `token` parameter of a link.
pub fn token_of(link: &str) -> String {
    let (_, token) = link.split_once("token=").expect("a token in the link");
    assert_eq!(token.len(), 43, "tokens are 43 characters: {link}");
    token.to_owned()
}

/// The 6-digit code in a confirmation message's text.
pub fn code_in(text: &str) -> String {
    let after = &text[text.find("this code").expect("a code in the message")..];
    let start = after
        .find(|c: char| c.is_ascii_digit())
        .expect("code digits");
    let code: String = after[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "codes have 6 digits: {code}");
    code
}

/// Whether `code` occurs in `text` as a number of its own: not inside a longer
/// word or number, and not as the fraction after a decimal point (log
/// timestamps and latencies have 6-digit fractions; UUIDs and hashes are
/// longer runs of hex digits). A leaked code would stand on its own.
pub fn mentions_code(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Polls `check` every 25 ms until it holds, or panics after `timeout`. Only
/// for work done by another process, which the test cannot drive itself.
pub async fn wait_until(what: &str, timeout: std::time::Duration, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The first link in `text` that contains `marker`, checked to point at the app.
pub fn link_in(text: &str, marker: &str) -> String {
    let start = text.find(marker).expect("link in message");
    let begin = text[..start].rfind("http").expect("absolute link");
    let end = text[start..]
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .map_or(text.len(), |e| start + e);
    text[begin..end].to_owned()
}

/// Every `table.column` of text type whose value contains `needle`
/// (case-insensitive), found by enumerating the schema rather than a list of tables.
pub fn text_columns_containing(conn: &mut DbConnection, needle: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    let columns: Vec<Column> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND upper(p.type) IN ('TEXT', 'VARCHAR')",
        )
        .load(c),
        DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND data_type IN ('text', 'character varying')",
        )
        .load(c),
    }
    .expect("list text columns");
    assert!(
        columns.len() > 20,
        "schema enumeration found too few columns"
    );
    let pattern = needle.to_lowercase().replace('\'', "''");
    columns
        .into_iter()
        .filter(|col| {
            let sql = format!(
                "SELECT COUNT(*) FROM {} WHERE lower({}) LIKE '%{pattern}%'",
                col.table_name, col.column_name
            );
            count(conn, &sql) > 0
        })
        .map(|col| format!("{}.{}", col.table_name, col.column_name))
        .collect()
}

pub fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = format!("SELECT CAST(({sql}) AS BIGINT) AS n");
    let rows: Vec<Count> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(query).load(c),
        DbConnection::Postgres(c) => diesel::sql_query(query).load(c),
    }
    .expect("count query");
    rows[0].n
}

pub fn valid_form(email: &str) -> Vec<(&str, &str)> {
    vec![
        ("email", email),
        ("name", "Aroha Ngata"),
        ("organisation", "NIWA"),
        ("org_type", "government"),
        ("country", "nz"),
        ("timezone", "Pacific/Auckland"),
        ("consent", "yes"),
    ]
}

pub fn valid_json(email: &str) -> Value {
    json!({
        "email": email,
        "name": "Lachlan Smith",
        "organisation": "CSIRO",
        "org_type": "government",
        "country": "AU",
        "timezone": "Australia/Sydney",
        "interests": [],
        "consent": true
    })
}

pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn extract_csrf(page: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

/// Removes every CSRF token value from a page, for byte comparisons.
pub fn without_csrf(page: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Inserts `rows` confirmed registrations straight into the database, fast
/// enough for tens of thousands: the rows `rollcall import --mode confirmed`
/// makes (consent row, `confirmed_at`, `confirmed_via = 'import'`, an `import`
/// ledger event), which signing up through the app is too slow for. Ids are `seed-00000001`…;
/// countries, organisation types and time zones cycle through a few values.
pub fn seed_registrations(conn: &mut DbConnection, rows: i64) {
    use diesel::connection::SimpleConnection;
    let (numbers, from, id, email) = match conn {
        DbConnection::Sqlite(_) => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})"
            ),
            "FROM n".to_owned(),
            "printf('seed-%08d', i)",
            "printf('person%d@example.org', i)",
        ),
        DbConnection::Postgres(_) => (
            String::new(),
            format!("FROM generate_series(1, {rows}) AS i"),
            "'seed-' || lpad(i::text, 8, '0')",
            "'person' || i || '@example.org'",
        ),
    };
    let pick = |values: &[&str]| {
        let arms: String = values
            .iter()
            .enumerate()
            .map(|(k, v)| format!(" WHEN {k} THEN '{v}'"))
            .collect();
        format!("CASE i % {}{arms} END", values.len())
    };
    let country = pick(&["AU", "NZ", "FJ", "AU"]);
    let org_type = pick(&["government", "university", "industry", "nonprofit", "other"]);
    let zone = pick(&[
        "Australia/Perth",
        "Australia/Sydney",
        "Pacific/Auckland",
        "Pacific/Fiji",
        "Australia/Brisbane",
    ]);
    conn.batch_execute(&format!(
        "INSERT INTO consent_texts (version, body, first_used_at) VALUES ('seed', 'seeded', '2026-01-01 00:00:00');
         {numbers} INSERT INTO registrations (id, email, email_key, name, organisation, org_type, country, timezone,
             interests, status, source, created_at, updated_at, last_signup_at, confirmed_at, confirmed_via, code_failures)
         SELECT {id}, {email}, {email}, 'Person with a reasonably long name', 'Bureau of Meteorology', {org_type},
             {country}, {zone}, '', 'confirmed', 'import', '2026-01-01 00:00:00', '2026-01-01 00:00:00',
             '2026-01-01 00:00:00', '2026-01-02 00:00:00', 'import', 0 {from};
         {numbers} INSERT INTO consents (id, registration_id, given_at, ip, user_agent, text_version, source)
         SELECT {id}, {id}, '2026-01-01 00:00:00', '203.0.113.7', 'seed', 'seed', 'import' {from};
         {numbers} INSERT INTO ledger (id, registration_id, event, at, actor, consent_text_version, source)
         SELECT {id}, {id}, 'import', '2026-01-01 00:00:00', 'cli:seed', 'seed', 'import' {from};"
    ))
    .expect("seed registrations");
}
