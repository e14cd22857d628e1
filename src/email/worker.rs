//! The outbox worker: claims due messages with a lease, renders and sends them
//! several at a time (up to the SMTP pool size), and records each outcome fenced
//! by its lease. Transient failures back off exponentially; 5xx replies and
//! exhausted attempts mark the message `failed`.

use super::render::Renderer;
use super::transport::{Mailer, SendError};
use crate::clock::SharedClock;
use crate::configuration::{EmailSettings, RetryBackoff};
use crate::db::outbox::{self, MessageKind, OutboxRow, Outcome};
use crate::db::registrations::Registration;
use crate::db::{self, DbError, Pool, registrations};
use crate::domain::Status;
use crate::ops::metrics::Metrics;
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::watch;

/// The worker's knobs, from `email.*`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub batch_size: i64,
    pub poll_interval: std::time::Duration,
    pub lease: Duration,
    pub retry: RetryBackoff,
    pub max_attempts: i32,
    pub concurrency: usize,
}

impl WorkerConfig {
    pub fn from_settings(email: &EmailSettings) -> Self {
        Self {
            batch_size: i64::from(email.batch_size),
            poll_interval: email.poll_interval(),
            lease: email.lease(),
            retry: email.retry_backoff(),
            max_attempts: i32::try_from(email.max_attempts).unwrap_or(i32::MAX),
            concurrency: email.smtp.pool_size.max(1) as usize,
        }
    }

    /// When to try again after `attempts` failed attempts (this one included).
    pub fn retry_at(&self, attempts: i32, now: NaiveDateTime) -> NaiveDateTime {
        now + self.retry.delay(u32::try_from(attempts).unwrap_or(0))
    }
}

/// Why a queued message should no longer go out, if it should not.
fn no_longer_wanted(row: &OutboxRow, registration: &Registration) -> Option<&'static str> {
    let status = registration.status();
    let wanted = match MessageKind::parse(&row.kind) {
        Some(MessageKind::Confirmation) => status == Status::Pending,
        Some(MessageKind::Welcome | MessageKind::AlreadyMember) => status == Status::Confirmed,
        Some(MessageKind::Manage) => status != Status::Unsubscribed,
        None => true,
    };
    (!wanted).then_some("the registration changed state before this message was sent")
}

/// One worker; run as many as you like, in one process or several.
pub struct Worker {
    pool: Pool,
    mailer: Mailer,
    renderer: Arc<Renderer>,
    clock: SharedClock,
    owner: String,
    config: WorkerConfig,
    metrics: Option<Arc<Metrics>>,
}

impl Worker {
    pub fn new(
        pool: Pool,
        mailer: Mailer,
        renderer: Renderer,
        clock: SharedClock,
        config: WorkerConfig,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Self {
            pool,
            mailer,
            renderer: Arc::new(renderer),
            clock,
            owner: format!("worker-{}", uuid::Uuid::now_v7()),
            config,
            metrics,
        }
    }

    /// Where this worker's messages go, for the log.
    pub fn destination(&self) -> String {
        self.mailer.describe()
    }

    /// Claims one batch and delivers it; returns how many messages it handled.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        let now = self.clock.now_naive();
        let (owner, until, limit) = (
            self.owner.clone(),
            now + self.config.lease,
            self.config.batch_size,
        );
        let rows = db::blocking(&self.pool, move |conn| {
            outbox::claim_due(conn, &owner, now, until, limit)
        })
        .await?;
        let handled = rows.len();
        futures_util::stream::iter(rows)
            .map(|row| self.deliver(row))
            .buffer_unordered(self.config.concurrency)
            .collect::<Vec<()>>()
            .await;
        Ok(handled)
    }

    /// Delivers until nothing is due (tests drive the worker with this).
    pub async fn run_until_idle(&self) -> Result<usize, DbError> {
        let mut total = 0;
        loop {
            match self.run_once().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Polls until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "email worker started");
        while !*shutdown.borrow() {
            let idle = match self.run_once().await {
                Ok(n) => (n as i64) < self.config.batch_size,
                Err(error) => {
                    tracing::warn!(%error, "email worker could not claim messages");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(owner = %self.owner, "email worker stopped");
    }

    async fn deliver(&self, row: OutboxRow) {
        let registration_id = row.registration_id.clone();
        let registration = match db::blocking(&self.pool, move |c| {
            registrations::find(c, &registration_id)
        })
        .await
        {
            Ok(Some(registration)) => registration,
            // Erased while queued: the row went with it.
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, outbox_id = %row.id, "cannot load recipient; the lease will expire and retry");
                return;
            }
        };
        if let Some(reason) = no_longer_wanted(&row, &registration) {
            let reason = reason.to_owned();
            return self.record(&row, Outcome::Cancelled { reason }).await;
        }
        let built = self.renderer.render(&row).and_then(|rendered| {
            self.renderer
                .message(rendered, &registration.email, &row.message_id)
        });
        let message = match built {
            Ok(message) => message,
            Err(error) => {
                let error = error.to_string();
                return self.record(&row, Outcome::Failed { error }).await;
            }
        };
        if !self.still_leased(&row).await {
            tracing::warn!(outbox_id = %row.id, "lease ran out before sending; another worker has the message");
            return;
        }
        let sent = self.mailer.send(&message, &row.message_id).await;
        self.record(&row, self.outcome_of(sent, row.attempts)).await;
    }

    /// Renews the lease right before a send, so a batch that outlived its lease
    /// never sends a message another worker has taken over.
    async fn still_leased(&self, row: &OutboxRow) -> bool {
        let now = self.clock.now_naive();
        let (id, owner, until) = (row.id.clone(), self.owner.clone(), now + self.config.lease);
        db::blocking(&self.pool, move |c| {
            outbox::renew_lease(c, &id, &owner, now, until)
        })
        .await
        .unwrap_or(false)
    }

    fn outcome_of(&self, sent: Result<(), SendError>, previous_attempts: i32) -> Outcome {
        let now = self.clock.now_naive();
        match sent {
            Ok(()) => Outcome::Sent,
            Err(SendError::Permanent(error)) => Outcome::Failed { error },
            Err(SendError::Transient(error))
                if previous_attempts + 1 >= self.config.max_attempts =>
            {
                Outcome::Failed { error }
            }
            Err(SendError::Transient(error)) => Outcome::Retry {
                at: self.config.retry_at(previous_attempts + 1, now),
                error,
            },
        }
    }

    async fn record(&self, row: &OutboxRow, outcome: Outcome) {
        let label = outcome.label();
        let (id, owner, now) = (row.id.clone(), self.owner.clone(), self.clock.now_naive());
        match db::blocking(&self.pool, move |c| {
            outbox::record_outcome(c, &id, &owner, &outcome, now)
        })
        .await
        {
            Ok(true) => {
                tracing::info!(outbox_id = %row.id, kind = %row.kind, result = label, "delivery attempt recorded");
                if let Some(metrics) = &self.metrics {
                    metrics.delivery(label);
                }
            }
            Ok(false) => {
                tracing::warn!(outbox_id = %row.id, "lease lost before the outcome was recorded")
            }
            Err(error) => {
                tracing::error!(%error, outbox_id = %row.id, "could not record a delivery outcome")
            }
        }
    }
}
