//! The command line: `rollcall` alone is `rollcall serve`.

mod announce;
mod bounce;
mod export;
mod import;
mod organisers;
mod people;

use crate::clock::{SharedClock, SystemClock};
use crate::configuration::Settings;
use crate::ops::supervisor::Background;
use crate::startup::{self, Application};
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "rollcall",
    version,
    about = "Interest registration and a double-opt-in mailing list"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (and the email worker unless email.worker_enabled = false).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Run the email worker alone; run as many as you like.
    Worker,
    /// GET /health on the configured port; exit 0 if it answers 200, else 1.
    Healthcheck,
    /// Erase a person: their rows go, a keyed hash stops imports bringing them back.
    Erase { email: String },
    /// Print the ledger of one registration.
    Audit { email: String },
    /// Process one raw bounce or complaint as the intake does; prints its result word.
    Bounce { file: std::path::PathBuf },
    /// Export registrations as CSV (the same bytes as /admin/export.csv).
    Export(export::ExportArgs),
    /// Import a CSV exported from a hosted list or form service.
    Import(import::ImportArgs),
    /// Manage organiser accounts and API tokens.
    Organiser {
        #[command(subcommand)]
        command: organisers::OrganiserCommand,
    },
    /// Write, test, send and steer announcements to members.
    #[command(after_help = announce::AFTER_HELP)]
    Announce {
        #[command(subcommand)]
        command: announce::AnnounceCommand,
    },
}

/// What the data commands share: settings, a pool, the keys and the clock.
pub struct Context {
    pub settings: Arc<Settings>,
    pub pool: crate::db::Pool,
    pub keys: crate::crypto::Keys,
    pub clock: SharedClock,
}

impl Context {
    pub async fn open(settings: Settings) -> anyhow::Result<Context> {
        let clock: SharedClock = Arc::new(SystemClock);
        let keys = crate::crypto::Keys::new(settings.secret_key(Path::new("data"))?.as_bytes());
        let pool = startup::prepare_database(&settings, &clock).await?;
        Ok(Context {
            settings: Arc::new(settings),
            pool,
            keys,
            clock,
        })
    }

    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now_naive()
    }

    /// The ledger actor for commands: `cli:<user>`.
    pub fn actor(&self) -> String {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        format!("cli:{user}")
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate the configuration and exit.
    Check,
}

/// Runs a parsed command; returns the process exit code.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<i32> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await.map(|()| 0),
        Command::Worker => worker(settings).await.map(|()| 0),
        Command::Migrate => migrate(&settings).await.map(|()| 0),
        Command::Config {
            action: ConfigAction::Check,
        } => {
            settings.secret_key(Path::new("data"))?;
            // Warnings do not fail the check: a first run works with the placeholders.
            for warning in settings.warnings() {
                eprintln!("warning: {warning}");
            }
            println!("configuration ok");
            Ok(0)
        }
        Command::Healthcheck => Ok(if healthcheck(&settings) { 0 } else { 1 }),
        Command::Erase { email } => people::erase(&Context::open(settings).await?, &email).await,
        Command::Audit { email } => people::audit(&Context::open(settings).await?, &email).await,
        Command::Bounce { file } => bounce::run(&Context::open(settings).await?, &file).await,
        Command::Export(args) => export::run(&Context::open(settings).await?, args).await,
        Command::Import(args) => import::run(&Context::open(settings).await?, args).await,
        Command::Organiser { command } => {
            organisers::run(&Context::open(settings).await?, command).await
        }
        Command::Announce { command } => {
            announce::run(&Context::open(settings).await?, command).await
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let clock: SharedClock = Arc::new(SystemClock);
    let app = Application::build(settings, clock).await?;
    let state = app.state();
    let server = &state.settings.server;
    tracing::info!(address = %format!("{}:{}", server.host, app.port()), base_url = %server.base_url, "listening");
    app.run_with_worker().await
}

async fn worker(settings: Settings) -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    let (worker, poller) = startup::standalone_worker(&settings, clock).await?;
    tracing::info!(destination = %worker.destination(), "email worker starting");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut background = Background::default();
    if let Some(poller) = poller {
        background.spawn("bounce mailbox", poller.run(stop.subscribe()));
    }
    background.spawn("email worker", worker.run(stopped));
    tokio::select! {
        () = startup::shutdown_signal() => {
            let _ = stop.send(true);
            background.finish().await
        }
        ended = background.first_ended() => Err(ended),
    }
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    startup::prepare_database(settings, &clock).await?;
    println!("migrations applied");
    Ok(())
}

/// A plain HTTP/1.1 GET so the container check needs no client library.
fn healthcheck(settings: &Settings) -> bool {
    let host = match settings.server.host.as_str() {
        "0.0.0.0" => "127.0.0.1",
        "::" | "[::]" => "::1",
        other => other,
    };
    let probe = || -> anyhow::Result<bool> {
        let mut stream = TcpStream::connect((host, settings.server.port)).context("connect")?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
    };
    probe().unwrap_or(false)
}
