//! Wiring: settings → storage → writer → HTTP server (and, when enabled, the
//! email worker, the bounce mailbox's poller and the periodic tasks).

use crate::bounces::imap::Poller;
use crate::clock::SharedClock;
use crate::configuration::DatabaseUrl;
use crate::configuration::Settings;
use crate::crypto::Keys;
use crate::db::consents::{self, ConsentTextCheck};
use crate::db::signups::SignupRules;
use crate::db::writer::{BatchObserver, Writer, WriterConnections};
use crate::db::{self, Pool};
use crate::email::render::Renderer;
use crate::email::transport::Mailer;
use crate::email::worker::{Worker, WorkerConfig};
use crate::limits::buckets::{Buckets, Gcra};
use crate::limits::limiter::RateLimiter;
use crate::limits::throttle::LoginThrottle;
use crate::ops::metrics::Metrics;
use crate::ops::supervisor::Background;
use crate::routes;
use crate::web::state::AppState;
use crate::web::{error_pages, hardening, request_log};
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

/// How many signups may wait for the writer before the answer is 503.
const WRITE_QUEUE_CAPACITY: usize = 1024;
/// Exports that may stream at once; more get 503 with `Retry-After`.
const MAX_CONCURRENT_EXPORTS: usize = 2;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// Builds an email worker sharing the app's pool, clock, keys and metrics.
pub fn build_worker(state: &AppState) -> anyhow::Result<Worker> {
    let metrics = Some(state.metrics.clone());
    new_worker(
        &state.settings,
        &state.pool,
        &state.keys,
        &state.clock,
        metrics,
    )
}

fn new_worker(
    settings: &Settings,
    pool: &Pool,
    keys: &Keys,
    clock: &SharedClock,
    metrics: Option<Arc<Metrics>>,
) -> anyhow::Result<Worker> {
    let mailer = Mailer::from_settings(&settings.email, Path::new("data").join("mail"))?;
    let renderer = Renderer::from_settings(settings, keys);
    let config = WorkerConfig::from_settings(settings);
    Ok(Worker::new(
        pool.clone(),
        mailer,
        renderer,
        clock.clone(),
        config,
        send_rules(settings, keys),
        metrics,
    ))
}

/// The bounce mailbox's poller sharing the app's pool, clock, keys and
/// metrics; `None` while `email.bounce.imap.host` is unset.
pub fn bounce_poller(state: &AppState) -> Option<Poller> {
    let metrics = Some(state.metrics.clone());
    new_poller(
        &state.settings,
        &state.pool,
        &state.keys,
        &state.clock,
        metrics,
    )
}

fn new_poller(
    settings: &Settings,
    pool: &Pool,
    keys: &Keys,
    clock: &SharedClock,
    metrics: Option<Arc<Metrics>>,
) -> Option<Poller> {
    let imap = &settings.email.bounce.imap;
    Poller::new(pool.clone(), keys.clone(), clock.clone(), imap, metrics)
}

/// The `worker` command's worker and bounce mailbox poller: storage and keys,
/// but no HTTP state and no signup writer.
pub async fn standalone_worker(
    settings: &Settings,
    clock: SharedClock,
) -> anyhow::Result<(Worker, Option<Poller>)> {
    let keys = Keys::new(settings.secret_key(Path::new("data"))?.as_bytes());
    let pool = prepare_database(settings, &clock).await?;
    let worker = new_worker(settings, &pool, &keys, &clock, None)?;
    Ok((worker, new_poller(settings, &pool, &keys, &clock, None)))
}

impl Application {
    /// Opens storage, applies migrations, starts the writer and binds the port
    /// (`server.port = 0` picks a free one).
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Application> {
        let address = settings.server.bind_address();
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot listen on {address}"))?;
        Self::build_on(settings, clock, listener).await
    }

    /// The same on a listener the caller bound (tests bind first, so that
    /// `server.base_url` can name the real port).
    pub async fn build_on(
        settings: Settings,
        clock: SharedClock,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let state = build_state(settings, clock).await?;
        let port = listener.local_addr()?.port();
        let server = http_server(listener, state.clone())?;
        Ok(Application {
            port,
            server,
            state,
        })
    }

    /// Serves until SIGINT/SIGTERM with the email worker (and the bounce
    /// mailbox's poller, when configured) running beside the server (unless
    /// `email.worker_enabled = false`); all stop gracefully.
    pub async fn run_with_worker(self) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut background = Background::default();
        if self.state.settings.email.worker_enabled {
            let worker = build_worker(&self.state)?;
            // Said once, so a first run knows where to find its `.eml` files.
            tracing::info!(destination = %worker.destination(), "email worker enabled");
            background.spawn("email worker", worker.run(stopped));
            if let Some(poller) = bounce_poller(&self.state) {
                background.spawn("bounce mailbox", poller.run(stop.subscribe()));
            }
        }
        background.spawn("housekeeping", self.state.retention().run(stop.subscribe()));
        let mut server = self.server;
        let handle = server.handle();
        tokio::select! {
            served = &mut server => {
                let _ = stop.send(true);
                background.finish().await?;
                Ok(served?)
            }
            ended = background.first_ended() => {
                let _ = stop.send(true);
                let _ = tokio::join!(handle.stop(true), server);
                Err(ended)
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Storage, writer and shared state, without binding a port.
pub async fn build_state(
    settings: Settings,
    clock: SharedClock,
) -> anyhow::Result<web::Data<AppState>> {
    let settings = Arc::new(settings);
    let keys = Keys::new(settings.secret_key(Path::new("data"))?.as_bytes());
    let pool = prepare_database(&settings, &clock).await?;
    let metrics = Arc::new(Metrics::new());
    let writer = start_writer(&settings, &keys, &clock, &metrics).await?;
    let buckets = |name: &'static str, rule: Gcra| match &settings.database.url {
        DatabaseUrl::Postgres(_) => Buckets::shared(name, rule, pool.clone(), keys.clone()),
        DatabaseUrl::Sqlite(_) => Buckets::local(name, rule),
    };
    let login_rule = Gcra::new(
        settings.admin.login_refill_interval_ms(),
        settings.admin.login_max_failures,
    );
    Ok(web::Data::new(AppState {
        rules: signup_rules(&settings, &keys),
        send_rules: send_rules(&settings, &keys),
        login_throttle: Arc::new(LoginThrottle::new(buckets("login", login_rule))),
        password_checks: tokio::sync::Semaphore::new(settings.admin.password_check_slots()),
        export_slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_EXPORTS)),
        limiter: Arc::new(RateLimiter::new(&settings.rate_limit, |rule| {
            buckets("signup", rule)
        })),
        settings: settings.clone(),
        pool,
        writer,
        clock,
        keys,
        metrics,
    }))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// How long a closing connection may take to say goodbye.
const CLIENT_DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

fn http_server(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let server = &state.settings.server;
    let max_body = server.max_body_bytes;
    let admin_max_body = state.settings.admin.max_body_bytes;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max_connections = server.max_connections_per_worker(workers);
    let request_timeout = server.body_timeout();
    Ok(HttpServer::new(move || {
        App::new()
            .wrap_fn(error_pages::html)
            .wrap_fn(hardening::harden)
            .wrap_fn(request_log::observe)
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .configure(|cfg| routes::configure(cfg, admin_max_body))
            .default_service(web::to(routes::unmatched))
    })
    .workers(workers)
    .max_connections(max_connections)
    .client_request_timeout(request_timeout)
    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
    .listen(listener)?
    .shutdown_timeout(10)
    .run())
}

/// Opens the pool, applies migrations and records the consent text version.
pub async fn prepare_database(settings: &Settings, clock: &SharedClock) -> anyhow::Result<Pool> {
    let url = settings.database.url.clone();
    let (version, text) = (
        settings.signup.consent_text_version.clone(),
        settings.signup.consent_text.clone(),
    );
    let now = clock.now_naive();
    let pool = db::open_pool(&url, settings.database.max_connections);
    let check = tokio::task::spawn_blocking(move || -> anyhow::Result<ConsentTextCheck> {
        let mut conn = db::connect(&url)?;
        db::migrations::run_pending(&mut conn)?;
        Ok(consents::register_text(&mut conn, &version, &text, now)?)
    })
    .await??;
    if check == ConsentTextCheck::ChangedUnderOldVersion {
        anyhow::bail!(
            "signup.consent_text: the text changed but signup.consent_text_version did not; give the new text a new version"
        );
    }
    Ok(pool)
}

struct MetricsObserver(Arc<Metrics>);

impl BatchObserver for MetricsObserver {
    fn batch_committed(&self, size: usize) {
        self.0.write_batch(size);
    }
}

async fn start_writer(
    settings: &Settings,
    keys: &Keys,
    clock: &SharedClock,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Writer> {
    let url = settings.database.url.clone();
    let connections = tokio::task::spawn_blocking(move || WriterConnections::open(&url)).await??;
    let rules = signup_rules(settings, keys);
    Ok(Writer::start(
        connections,
        rules,
        clock.clone(),
        WRITE_QUEUE_CAPACITY,
        Arc::new(MetricsObserver(metrics.clone())),
    )?)
}

/// What starting an announcement needs from settings.
pub fn send_rules(settings: &Settings, keys: &Keys) -> crate::db::announcements::SendRules {
    crate::db::announcements::SendRules {
        keys: keys.clone(),
        mail_domain: settings.server.base_url.host().to_owned(),
    }
}

/// The signup rules from settings.
pub fn signup_rules(settings: &Settings, keys: &Keys) -> SignupRules {
    SignupRules {
        keys: keys.clone(),
        token_ttl: settings.signup.token_ttl(),
        resend_cooldown: settings.signup.resend_cooldown(),
        mail_domain: settings.server.base_url.host().to_owned(),
    }
}
