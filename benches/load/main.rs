//! `cargo bench --bench load -- --backend sqlite|postgres [--quick]`
//!
//! The load benchmark. The server is the release `rollcall` binary that cargo
//! builds for this bench (`target/release/rollcall`), run as a child process
//! with warn-level logs, no rate limit and no in-process email worker, on a
//! fresh database per run. The load comes from the bench's own HTTP/1.1
//! keep-alive client. Every figure is reported beside a limit measured in the
//! same run on the same machine, so that the ratios mean something on a busy
//! 2-core box. PostgreSQL comes from `ROLLCALL_TEST_DATABASE_URL`; the bench
//! creates and drops its own databases there.

// Test and benchmark code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod announce;
mod audience;
mod client;
mod email;
mod export;
mod raw;
mod server;
mod states;

#[allow(dead_code)]
#[path = "../../tests/api/helpers.rs"]
mod helpers;
#[path = "../../tests/api/smtp_server.rs"]
mod smtp_server;

use client::{LoadResult, Scenario};
use helpers::{Backend, TestDatabase};
use rollcall::configuration::Settings;
use serde_json::json;
use server::Rollcall;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long each part runs.
struct Plan {
    quick: bool,
    /// Run only this part (`--only`); the limits it needs are then missing.
    only: Option<String>,
    warmup: Duration,
    measure: Duration,
    raw: Duration,
    export_rows: i64,
    messages: usize,
    /// Members an announcement goes to.
    announcement_members: usize,
    /// Fresh addresses per state and endpoint in the state timing.
    state_samples: usize,
}

impl Plan {
    fn new(quick: bool, only: Option<String>) -> Plan {
        Plan {
            quick,
            only,
            warmup: Duration::from_secs(if quick { 1 } else { 2 }),
            measure: Duration::from_secs(if quick { 4 } else { 10 }),
            raw: Duration::from_secs(if quick { 3 } else { 8 }),
            export_rows: if quick { 100_000 } else { 1_000_000 },
            messages: 10_000,
            announcement_members: 20_000,
            state_samples: if quick { 1_000 } else { 3_000 },
        }
    }

    fn runs(&self, part: &str) -> bool {
        self.only.as_deref().is_none_or(|only| only == part)
    }
}

/// What a figure's ratio must be for its target to be met.
#[derive(Clone, Copy)]
enum Target {
    AtLeast(f64),
    Below(f64),
}

struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    limit: Option<f64>,
    target: Option<Target>,
}

impl Figure {
    fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Figure {
        Figure {
            name: name.into(),
            value,
            unit,
            limit: None,
            target: None,
        }
    }

    fn against(mut self, limit: f64, target: Option<Target>) -> Figure {
        self.limit = Some(limit);
        self.target = target;
        self
    }

    fn ratio(&self) -> Option<f64> {
        self.limit
            .filter(|l| *l > 0.0 && l.is_finite())
            .map(|l| self.value / l)
    }

    fn verdict(&self) -> &'static str {
        match (self.target, self.ratio()) {
            (Some(Target::AtLeast(t)), Some(r)) if r >= t => "met",
            (Some(Target::Below(t)), Some(r)) if r < t => "met",
            (Some(_), _) => "NOT MET",
            (None, _) => "",
        }
    }
}

struct Args {
    backend: Backend,
    quick: bool,
    only: Option<String>,
}

/// The parts `--only` can pick (for profiling one of them).
const PARTS: [&str; 8] = [
    "raw", "http", "startup", "states", "export", "audience", "email", "announce",
];

fn parse_args() -> Result<Args, String> {
    let mut backend = Backend::Sqlite;
    let mut quick = false;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => {
                backend = match args.next().as_deref() {
                    Some("sqlite") => Backend::Sqlite,
                    Some("postgres") => Backend::Postgres,
                    other => return Err(format!("--backend sqlite|postgres, not {other:?}")),
                }
            }
            "--quick" => quick = true,
            "--only" => match args.next() {
                Some(part) if PARTS.contains(&part.as_str()) => only = Some(part),
                other => return Err(format!("--only {}, not {other:?}", PARTS.join("|"))),
            },
            // cargo passes --bench to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        backend,
        quick,
        only,
    })
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!(
                "load: {message}\nusage: cargo bench --bench load -- --backend sqlite|postgres [--quick]"
            );
            return std::process::ExitCode::from(2);
        }
    };
    if args.backend == Backend::Postgres && std::env::var("ROLLCALL_TEST_DATABASE_URL").is_err() {
        eprintln!(
            "load: --backend postgres needs ROLLCALL_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)"
        );
        return std::process::ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let plan = Plan::new(args.quick, args.only);
    let figures = runtime.block_on(run(args.backend, &plan));
    print_report(backend_name(args.backend), &figures);
    std::process::ExitCode::SUCCESS
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn settings() -> Settings {
    Settings::load_with(
        Path::new("config"),
        None,
        std::iter::empty(),
        json!({"server": {"secret_key": helpers::TEST_SECRET}}),
    )
    .expect("config/default.toml")
}

fn step(what: &str) {
    eprintln!("load: {what}");
}

/// Where the parts write their server logs.
struct Logs(tempfile::TempDir);

impl Logs {
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(format!("{name}.log"))
    }
}

async fn run(backend: Backend, plan: &Plan) -> Vec<Figure> {
    step(&format!(
        "server binary {} ({} run)",
        server::BINARY,
        if plan.quick { "quick" } else { "full" }
    ));
    if !server::BINARY.contains("/release/") {
        eprintln!("load: warning: the server binary is not a release build");
    }
    let settings = settings();
    let logs = Logs(tempfile::tempdir().expect("log dir"));
    let mut figures = Vec::new();
    let mut one = f64::NAN;
    if plan.runs("raw") {
        step("raw inserts");
        one = raw_rate(backend, &settings, 1, plan.raw);
        let batch = raw_rate(backend, &settings, 500, plan.raw);
        figures.push(Figure::new("raw_insert_1tx", one, "signups/s"));
        figures.push(Figure::new("raw_insert_batch", batch, "signups/s"));
    }
    let mut last_database = None;
    if plan.runs("http") {
        last_database = Some(http_part(backend, plan, &logs, one, &mut figures).await);
    }
    if plan.runs("startup") {
        step("start-up and idle RSS on an existing database");
        let database = last_database
            .take()
            .unwrap_or_else(|| migrated(backend, &logs));
        let (startup_ms, idle_mib) = startup_and_idle(&database, &logs.path("startup"));
        figures.push(
            Figure::new("startup", startup_ms, "ms").against(300.0, Some(Target::Below(1.0))),
        );
        figures
            .push(Figure::new("idle_rss", idle_mib, "MiB").against(30.0, Some(Target::Below(1.0))));
    }
    drop(last_database);
    if plan.runs("states") {
        states_part(backend, plan, &logs, &mut figures).await;
    }
    if plan.runs("export") {
        export_part(backend, plan, &logs, &mut figures).await;
    }
    if plan.runs("audience") {
        audience_part(backend, &logs, &mut figures).await;
    }
    if plan.runs("email") {
        email_part(backend, plan, &settings, &logs, &mut figures).await;
    }
    if plan.runs("announce") {
        announce_part(backend, plan, &settings, &logs, &mut figures).await;
    }
    figures
}

/// A fresh database that a server has started on once (so it is migrated).
fn migrated(backend: Backend, logs: &Logs) -> TestDatabase {
    let database = TestDatabase::create(backend);
    let mut server = Rollcall::serve(&database.raw_url, &logs.path("migrate"));
    server.wait_ready();
    server.stop();
    database
}

/// `GET /health`, then both signup endpoints, at 8 and 64 connections; each
/// signup run on a fresh database and server. Returns the last run's database.
async fn http_part(
    backend: Backend,
    plan: &Plan,
    logs: &Logs,
    raw_one: f64,
    figures: &mut Vec<Figure>,
) -> TestDatabase {
    step("http ceiling");
    let mut ceilings = Vec::new();
    {
        let database = TestDatabase::create(backend);
        let mut server = Rollcall::serve(&database.raw_url, &logs.path("ceiling"));
        server.wait_ready();
        for connections in [8, 64] {
            let result = load(&mut server, Scenario::Health, connections, plan, "h").await;
            ceilings.push(result.per_second());
            figures.push(Figure::new(
                format!("http_ceiling_{connections}"),
                result.per_second(),
                "req/s",
            ));
        }
    }
    let signup_target = match backend {
        Backend::Sqlite => 3.0,
        Backend::Postgres => 2.0,
    };
    let mut last_database = None;
    let mut api_wide = f64::NAN;
    for (label, scenario) in [("api", Scenario::Api), ("form", Scenario::Form)] {
        for (connections, ceiling) in [8, 64].into_iter().zip(ceilings.iter().copied()) {
            step(&format!("signup {label} at {connections} connections"));
            let database = TestDatabase::create(backend);
            let log = logs.path(&format!("{label}{connections}"));
            let mut server = Rollcall::serve(&database.raw_url, &log);
            server.wait_ready();
            let result = load(&mut server, scenario.clone(), connections, plan, label).await;
            server.stop();
            let name = format!("signup_{label}_{connections}");
            let wide = connections == 64;
            figures.push(
                Figure::new(&name, result.per_second(), "req/s")
                    .against(raw_one, wide.then_some(Target::AtLeast(signup_target))),
            );
            figures.push(
                Figure::new(format!("{name}_vs_ceiling"), result.per_second(), "req/s").against(
                    ceiling,
                    (wide && backend == Backend::Sqlite).then_some(Target::AtLeast(0.3)),
                ),
            );
            figures.push(Figure::new(format!("{name}_p50"), result.p50_ms, "ms"));
            figures.push(
                Figure::new(format!("{name}_p99"), result.p99_ms, "ms")
                    .against(50.0, wide.then_some(Target::Below(1.0))),
            );
            let errors = result.errors as f64;
            figures.push(Figure::new(format!("{name}_errors"), errors, "count"));
            if label == "api" && wide {
                api_wide = result.per_second();
            }
            last_database = Some(database);
        }
    }
    step("signup api at 64 connections with the rate limit on (never reached)");
    let database = TestDatabase::create(backend);
    let mut server = Rollcall::serve_rate_limited(&database.raw_url, &logs.path("limited"));
    server.wait_ready();
    let result = load(&mut server, Scenario::Api, 64, plan, "api").await;
    server.stop();
    figures.push(
        Figure::new("signup_api_64_rate_limited", result.per_second(), "req/s")
            .against(api_wide, None),
    );
    let errors = result.errors as f64;
    figures.push(Figure::new(
        "signup_api_64_rate_limited_errors",
        errors,
        "count",
    ));
    {
        step("signup api, every address twice at once, at 64 connections");
        let database = TestDatabase::create(backend);
        let mut server = Rollcall::serve(&database.raw_url, &logs.path("twice64"));
        server.wait_ready();
        let result = load(&mut server, Scenario::ApiTwice, 64, plan, "twice").await;
        server.stop();
        figures.push(Figure::new(
            "signup_api_twice_64",
            result.per_second(),
            "req/s",
        ));
        figures.push(
            Figure::new("signup_api_twice_64_p99", result.p99_ms, "ms")
                .against(50.0, Some(Target::Below(1.0))),
        );
        figures.push(Figure::new(
            "signup_api_twice_64_errors",
            result.errors as f64,
            "count",
        ));
    }
    last_database.expect("a signup run")
}

/// Signup, resend and manage for new, pending, confirmed and unsubscribed
/// addresses, interleaved: the largest state median over the smallest.
async fn states_part(backend: Backend, plan: &Plan, logs: &Logs, figures: &mut Vec<Figure>) {
    let samples = plan.state_samples;
    step(&format!(
        "state timing: {samples} fresh addresses per state and endpoint"
    ));
    let database = migrated(backend, logs);
    states::seed(&database, samples);
    let mut server = Rollcall::serve(&database.raw_url, &logs.path("states"));
    server.wait_ready();
    let medians = states::measure(server.port, samples).await;
    server.stop();
    for (e, endpoint) in states::ENDPOINTS.iter().enumerate() {
        let row = medians.medians_ms[e];
        eprintln!(
            "load:   {endpoint}: median ms {}",
            states::STATES
                .iter()
                .zip(row)
                .map(|(state, ms)| format!("{state} {ms:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let max = row.iter().copied().fold(f64::MIN, f64::max);
        let min = row.iter().copied().fold(f64::MAX, f64::min);
        figures.push(
            Figure::new(format!("state_timing_{endpoint}"), max, "ms")
                .against(min, Some(Target::Below(1.15))),
        );
    }
}

async fn export_part(backend: Backend, plan: &Plan, logs: &Logs, figures: &mut Vec<Figure>) {
    step(&format!("export of {} registrations", plan.export_rows));
    let database = TestDatabase::create(backend);
    export::seed(&mut database.connect(), plan.export_rows);
    let exported =
        export::measure(backend, &database, plan.export_rows, &logs.path("export")).await;
    eprintln!("load:   {} rows exported", exported.rows);
    match exported.dump {
        Ok(dump) => {
            figures.push(Figure::new("db_dump", dump, "rows/s"));
            figures.push(
                Figure::new("export", exported.rows_per_second, "rows/s")
                    .against(dump, Some(Target::AtLeast(0.5))),
            );
        }
        Err(reason) => {
            eprintln!("load: db_dump skipped: {reason}");
            figures.push(Figure::new("export", exported.rows_per_second, "rows/s"));
        }
    }
    // The RSS target is stated for a million rows, i.e. the full run.
    figures.push(
        Figure::new("export_rss_growth", exported.rss_growth_mib, "MiB")
            .against(32.0, (!plan.quick).then_some(Target::Below(1.0))),
    );
}

/// The audience page at 100,000 registrations, each shape against 100 ms.
async fn audience_part(backend: Backend, logs: &Logs, figures: &mut Vec<Figure>) {
    step(&format!(
        "audience page at {} registrations",
        audience::ROWS
    ));
    let database = TestDatabase::create(backend);
    audience::seed(&database);
    for (name, ms) in audience::measure(&database, &logs.path("audience")).await {
        figures.push(
            Figure::new(format!("audience_{name}"), ms, "ms")
                .against(100.0, Some(Target::Below(1.0))),
        );
    }
}

/// `announcement_send`: 20,000 members, one announcement, one worker.
async fn announce_part(
    backend: Backend,
    plan: &Plan,
    settings: &Settings,
    logs: &Logs,
    figures: &mut Vec<Figure>,
) {
    if let Some(reason) = email::missing_tools() {
        eprintln!("SKIPPED load announce [postfix]: {reason}");
        return;
    }
    step(&format!(
        "announcement: {} members into smtp-sink",
        plan.announcement_members
    ));
    let database = TestDatabase::create(backend);
    let pool_size = settings.email.smtp.pool_size;
    let sent = announce::measure(
        &database,
        plan.announcement_members,
        pool_size,
        logs.0.path(),
    )
    .await;
    eprintln!(
        "load:   {} bytes per message, {} sessions, {} of {} sent",
        sent.message_bytes, pool_size, sent.sent, sent.members
    );
    let limit = sent.source_per_second;
    figures.push(Figure::new("smtp_source_announce", limit, "msg/s"));
    figures.push(
        Figure::new("announcement_send", sent.per_second, "msg/s")
            .against(limit, Some(Target::AtLeast(0.5))),
    );
    figures.push(
        Figure::new("announce_first_delivery", sent.first_delivery_secs, "s")
            .against(1.0, Some(Target::Below(1.0))),
    );
    figures.push(
        Figure::new(
            "announce_server_rss_growth",
            sent.server_rss_growth_mib,
            "MiB",
        )
        .against(32.0, Some(Target::Below(1.0))),
    );
    figures.push(
        Figure::new(
            "announce_worker_rss_growth",
            sent.worker_rss_growth_mib,
            "MiB",
        )
        .against(32.0, Some(Target::Below(1.0))),
    );
}

async fn email_part(
    backend: Backend,
    plan: &Plan,
    settings: &Settings,
    logs: &Logs,
    figures: &mut Vec<Figure>,
) {
    if let Some(reason) = email::missing_tools() {
        eprintln!("SKIPPED load email [postfix]: {reason}");
        return;
    }
    step(&format!("email: {} messages into smtp-sink", plan.messages));
    let database = TestDatabase::create(backend);
    email::seed(&database, settings, plan.messages);
    let mail = email::measure(&database, settings, plan.messages, &logs.path("worker")).await;
    eprintln!(
        "load:   {} bytes per message, {} sessions",
        mail.message_bytes, settings.email.smtp.pool_size
    );
    let limit = mail.source_per_second;
    figures.push(Figure::new("smtp_source", limit, "msg/s"));
    figures.push(
        Figure::new("smtp_source_reuse", mail.source_reuse_per_second, "msg/s")
            .against(limit, None),
    );
    figures.push(
        Figure::new("email_worker", mail.worker_per_second, "msg/s")
            .against(limit, Some(Target::AtLeast(0.5))),
    );
    figures
        .push(Figure::new("lettre_pooled", mail.lettre_per_second, "msg/s").against(limit, None));
    if mail.worker_sent < plan.messages as i64 {
        eprintln!(
            "load: the worker sent {} of {}",
            mail.worker_sent, plan.messages
        );
    }
}

/// Signups per second on a fresh database, one connection.
fn raw_rate(
    backend: Backend,
    settings: &Settings,
    per_transaction: usize,
    duration: Duration,
) -> f64 {
    let database = TestDatabase::create(backend);
    let (mut conn, rules) = raw::prepare(&database, settings);
    let rate = raw::insert_rate(
        &mut conn,
        settings,
        &rules,
        per_transaction,
        duration,
        10_000_000,
        &format!("raw{per_transaction}n"),
    );
    eprintln!(
        "load:   {} per transaction: {} signups in {:.2} s",
        per_transaction, rate.signups, rate.seconds
    );
    rate.per_second()
}

async fn load(
    server: &mut Rollcall,
    scenario: Scenario,
    connections: usize,
    plan: &Plan,
    tag: &str,
) -> LoadResult {
    let result = client::run_load(
        server.port,
        scenario,
        connections,
        plan.warmup,
        plan.measure,
        &format!("{tag}{connections}"),
    )
    .await;
    eprintln!(
        "load:   {connections} connections: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors{}",
        result.per_second(),
        result.p50_ms,
        result.p99_ms,
        result.errors,
        result
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    if server.exited() {
        panic!("the server exited during the run:\n{}", server.output());
    }
    result
}

/// Median of three start-ups to a ready `/health` on an existing database,
/// and the RSS a second after the last one.
fn startup_and_idle(database: &TestDatabase, log: &Path) -> (f64, f64) {
    let mut times = Vec::new();
    let mut idle_kib = 0;
    for _ in 0..3 {
        let mut server = Rollcall::serve(&database.raw_url, log);
        times.push(server.wait_ready().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_secs(1));
        idle_kib = server.rss_kib();
        server.stop();
    }
    times.sort_by(f64::total_cmp);
    (times[1], idle_kib as f64 / 1024.0)
}

fn print_report(backend: &str, figures: &[Figure]) {
    let fmt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
    let target = |t: Option<Target>| match t {
        Some(Target::AtLeast(x)) => format!(">= {x}"),
        Some(Target::Below(x)) => format!("< {x}"),
        None => String::new(),
    };
    println!();
    println!(
        "{:<28} {:>8} {:>12} {:<9} {:>12} {:>7} {:>7} verdict",
        "figure", "backend", "value", "unit", "limit", "ratio", "target"
    );
    for f in figures {
        println!(
            "{:<28} {:>8} {:>12.2} {:<9} {:>12} {:>7} {:>7} {}",
            f.name,
            backend,
            f.value,
            f.unit,
            fmt(f.limit),
            fmt(f.ratio()),
            target(f.target),
            f.verdict()
        );
    }
    println!();
    for f in figures {
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        println!(
            "{}",
            json!({
                "name": f.name,
                "backend": backend,
                "value": round(f.value),
                "unit": f.unit,
                "limit": f.limit.map(round),
                "ratio": f.ratio().map(round),
            })
        );
    }
}
