//! The outbox worker: claims due messages with a lease, renders and sends them
//! several at a time (up to the SMTP pool size), and records the batch's
//! outcomes in one transaction, fenced by the lease. The lease is checked right
//! before each send (a read) and renewed only when it runs low, so a worker
//! never sends a message it no longer holds, and a killed worker re-sends at
//! most one batch. Transient failures back off exponentially; 5xx replies to
//! RCPT or DATA and exhausted attempts mark the message `failed`; a failure of
//! the relay itself (up to MAIL FROM) defers every message, backs the worker
//! off and is kept in `relay_status`.
//!
//! Announcement deliveries are claimed after every transactional message and
//! only as the shared pacing counters admit (see `db::pacing`); each pass also
//! starts due schedules and finishes, or pauses, announcements (see
//! [`super::announcing`]). Right before each send the worker reads the row's
//! lease with its member's and announcement's status, so an unsubscribe
//! cancels the delivery and a pause stops new sends within one poll.

use super::render::Renderer;
use super::smtp_pool::Stage;
use super::transport::{Mailer, Refusal, SendError};
use crate::clock::SharedClock;
use crate::configuration::{EmailSettings, RetryBackoff};
use crate::db::announcements::SendRules;
use crate::db::outbox::{self, OutboxRow, Outcome, SendCheck};
use crate::db::relay::RelaySeen;
use crate::db::{self, DbError, Pool, pacing};
use crate::ops::metrics::Metrics;
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

mod announcing;
mod batch;

use batch::{Batch, no_longer_wanted, waits_for_resume};

/// The worker's knobs, from `email.*`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub batch_size: i64,
    pub poll_interval: std::time::Duration,
    pub lease: Duration,
    pub retry: RetryBackoff,
    pub max_attempts: i32,
    pub concurrency: usize,
    /// Announcement deliveries per clock minute and per UTC day.
    pub pacing: pacing::Limits,
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
            pacing: pacing::Limits {
                per_minute: email.announcement_rate(),
                per_day: email.announcement_daily_cap(),
            },
        }
    }

    /// When to try again after `attempts` failed attempts (this one included).
    pub fn retry_at(&self, attempts: i32, now: NaiveDateTime) -> NaiveDateTime {
        now + self.retry.delay(u32::try_from(attempts).unwrap_or(0))
    }
}

/// One worker; run as many as you like, in one process or several.
pub struct Worker {
    pool: Pool,
    mailer: Mailer,
    renderer: Arc<Renderer>,
    clock: SharedClock,
    owner: String,
    config: WorkerConfig,
    /// For starting schedules and queueing notices.
    rules: SendRules,
    metrics: Option<Arc<Metrics>>,
    /// Batches in a row that the relay failed; the worker's backoff.
    relay_failures: AtomicU32,
}

/// A relay failure as a batch first met it.
#[derive(Debug, Clone)]
struct RelayFailure {
    stage: Stage,
    text: String,
    /// Whether the relay refused the login or the sender.
    refusal: Option<Refusal>,
}

/// What one batch learned about the relay.
#[derive(Default)]
struct BatchRelay {
    /// The first relay failure; once set, the batch's other messages wait.
    failure: Mutex<Option<RelayFailure>>,
    sessions_failed: AtomicU32,
    sent: AtomicU32,
}

impl BatchRelay {
    fn failure(&self) -> Option<String> {
        self.lock().as_ref().map(|f| f.text.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<RelayFailure>> {
        self.failure.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Batches a running worker keeps in flight (see [`Worker::run`]).
const LANES: i64 = 2;

/// Why a delivery was not attempted after a database error.
const DATABASE_ERROR: &str = "database error while checking the lease; retried later";

impl Worker {
    pub fn new(
        pool: Pool,
        mailer: Mailer,
        renderer: Renderer,
        clock: SharedClock,
        config: WorkerConfig,
        rules: SendRules,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Self {
            pool,
            mailer,
            renderer: Arc::new(renderer),
            clock,
            owner: format!("worker-{}", uuid::Uuid::now_v7()),
            config,
            rules,
            metrics,
            relay_failures: AtomicU32::new(0),
        }
    }

    /// Where this worker's messages go, for the log.
    pub fn destination(&self) -> String {
        self.mailer.describe()
    }

    /// Claims one batch, delivers it and records its outcomes; returns how many
    /// messages it handled.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        self.run_batch(self.config.batch_size).await
    }

    async fn run_batch(&self, limit: i64) -> Result<usize, DbError> {
        self.start_due_schedules().await;
        let now = self.clock.now_naive();
        let (owner, until) = (self.owner.clone(), now + self.config.lease);
        let pacing = self.config.pacing;
        let (rows, batch) = db::blocking(&self.pool, move |conn| {
            let rows = outbox::claim_due(conn, &owner, now, until, limit, pacing)?;
            let batch = Batch::load(conn, &rows)?;
            Ok((rows, batch))
        })
        .await?;
        let handled = rows.len();
        if handled == 0 {
            self.finish_announcements(&[]).await;
            return Ok(0);
        }
        let relay = BatchRelay::default();
        let outcomes: Vec<(OutboxRow, Outcome)> = futures_util::stream::iter(rows)
            // One person may have several messages in a batch.
            .map(|row| self.deliver(row, &batch, &relay))
            .buffer_unordered(self.config.concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        let failure = relay.lock().clone();
        self.record(&outcomes, &relay, failure.as_ref()).await;
        self.note_relay(&relay);
        if let Some(failure) = failure.filter(|f| f.refusal == Some(Refusal::Auth)) {
            self.pause_for_relay(&failure.text).await;
        }
        self.finish_announcements(&outcomes).await;
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

    /// Polls until `shutdown` turns true; while the relay fails, waits as long
    /// as the messages it deferred. Two lanes of half a batch each share the
    /// SMTP pool, so one records and claims while the other sends, and a killed
    /// worker still holds at most `email.batch_size` unrecorded messages.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "email worker started");
        let lanes = LANES.min(self.config.batch_size).max(1);
        let limit = (self.config.batch_size / lanes).max(1);
        let lanes = (0..lanes).map(|_| self.lane(limit, shutdown.clone()));
        futures_util::future::join_all(lanes).await;
        tracing::info!(owner = %self.owner, "email worker stopped");
    }

    async fn lane(&self, limit: i64, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let idle = match self.run_batch(limit).await {
                Ok(n) => (n as i64) < limit,
                Err(error) => {
                    tracing::warn!(%error, "email worker could not claim messages");
                    true
                }
            };
            let pause = match self.relay_failures.load(Ordering::Relaxed) {
                0 if idle => Some(self.config.poll_interval),
                0 => None,
                failures => Some(self.relay_backoff(failures)),
            };
            if let Some(pause) = pause {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// How long messages (and the worker) wait after `failures` relay failures in a row.
    fn relay_backoff(&self, failures: u32) -> std::time::Duration {
        self.config
            .retry
            .delay(failures)
            .to_std()
            .unwrap_or(self.config.poll_interval)
    }

    /// Renders and sends one message; `None` when nothing is to be recorded
    /// (the row is gone, or the lease went to another worker).
    async fn deliver(
        &self,
        row: OutboxRow,
        batch: &Batch,
        relay: &BatchRelay,
    ) -> Option<(OutboxRow, Outcome)> {
        // Erased (or an organiser removed) while queued: the row went with them.
        let to = batch.address(&row)?.to_owned();
        let now = self.clock.now_naive();
        let check = match self.send_check(&row, now).await {
            Ok(Some(check)) => check,
            Ok(None) => {
                tracing::warn!(outbox_id = %row.id, "lease ran out before sending, or the message was withdrawn");
                return None;
            }
            Err(error) => {
                tracing::error!(%error, outbox_id = %row.id, "database error while checking the lease; the message will be retried later");
                let at = self.config.retry_at(1, now);
                let error = DATABASE_ERROR.to_owned();
                return Some((row, Outcome::Deferred { at, error }));
            }
        };
        if let Some(reason) = no_longer_wanted(&row, &check) {
            let reason = reason.to_owned();
            return Some((row, Outcome::Cancelled { reason }));
        }
        if waits_for_resume(&row, &check) {
            return Some((row, Outcome::Released));
        }
        let built = self
            .renderer
            .render(&row, &batch.related(&row))
            .and_then(|rendered| self.renderer.message_for(rendered, &to, &row));
        let message = match built {
            Ok(message) => message,
            Err(error) => {
                let error = error.to_string();
                return Some((row, Outcome::Failed { error }));
            }
        };
        if let Some(error) = relay.failure() {
            let at = self.relay_retry_at();
            return Some((row, Outcome::Deferred { at, error }));
        }
        let sent = self.mailer.send(&message, &row.message_id).await;
        let outcome = self.outcome_of(sent, row.attempts, relay);
        Some((row, outcome))
    }

    /// Whether this worker still holds the message's lease, right before its
    /// send, with the member's and announcement's current status (a read);
    /// the lease is renewed only when less than half of it is left.
    async fn send_check(
        &self,
        row: &OutboxRow,
        now: NaiveDateTime,
    ) -> Result<Option<SendCheck>, DbError> {
        let (id, owner) = (row.id.clone(), self.owner.clone());
        let (lease, renew_by) = (self.config.lease, now + self.config.lease / 2);
        db::blocking(&self.pool, move |c| {
            let Some(check) = outbox::send_check(c, &id, &owner)? else {
                return Ok(None);
            };
            Ok(match check.leased_until {
                Some(end) if end > renew_by => Some(check),
                Some(end) if end > now => {
                    outbox::renew_lease(c, &id, &owner, now, now + lease)?.then_some(check)
                }
                _ => None,
            })
        })
        .await
    }

    /// When messages the relay stopped are due again: the worker's own backoff.
    fn relay_retry_at(&self) -> NaiveDateTime {
        let failures = self.relay_failures.load(Ordering::Relaxed) + 1;
        self.clock.now_naive()
            + Duration::from_std(self.relay_backoff(failures)).unwrap_or(Duration::zero())
    }

    fn outcome_of(
        &self,
        sent: Result<(), SendError>,
        previous_attempts: i32,
        relay: &BatchRelay,
    ) -> Outcome {
        let now = self.clock.now_naive();
        match sent {
            Ok(()) => {
                relay.sent.fetch_add(1, Ordering::Relaxed);
                Outcome::Sent
            }
            Err(SendError::Relay { stage, reply, text }) => {
                let refusal = Refusal::of(stage, reply);
                relay.sessions_failed.fetch_add(1, Ordering::Relaxed);
                if let Some(metrics) = &self.metrics {
                    metrics.relay_failure(stage.as_str());
                }
                relay.lock().get_or_insert(RelayFailure {
                    stage,
                    text: text.clone(),
                    refusal,
                });
                Outcome::Deferred {
                    at: self.relay_retry_at(),
                    error: text,
                }
            }
            Err(SendError::Permanent(error)) => Outcome::Failed { error },
            Err(SendError::Bounced { status, text }) => Outcome::Bounced {
                error: text,
                status,
            },
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

    /// Logs what the batch learned about the relay and moves the backoff.
    fn note_relay(&self, relay: &BatchRelay) {
        if let Some(RelayFailure { stage, text, .. }) = relay.lock().take() {
            let failures = self.relay_failures.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(
                stage = stage.as_str(),
                error = %text,
                failures_in_a_row = failures,
                retry_in_secs = self.relay_backoff(failures).as_secs(),
                "the SMTP relay failed before accepting any message; every message waits"
            );
        } else if relay.sent.load(Ordering::Relaxed) > 0
            && self.relay_failures.swap(0, Ordering::Relaxed) > 0
        {
            tracing::info!("the SMTP relay accepts messages again");
        }
    }

    /// Records a batch's outcomes in one transaction, each fenced by the lease,
    /// with what the batch saw of the relay. Tried a few times: a sent message
    /// that stays unrecorded goes out again once its lease runs out.
    async fn record(
        &self,
        outcomes: &[(OutboxRow, Outcome)],
        relay: &BatchRelay,
        failure: Option<&RelayFailure>,
    ) {
        if outcomes.is_empty() {
            return;
        }
        let batch: Arc<Vec<(String, Outcome)>> = Arc::new(
            outcomes
                .iter()
                .map(|(row, outcome)| (row.id.clone(), outcome.clone()))
                .collect(),
        );
        let seen: Arc<Option<(&'static str, String, bool)>> =
            Arc::new(failure.map(|f| (f.stage.as_str(), f.text.clone(), f.refusal.is_some())));
        let accepted = relay.sent.load(Ordering::Relaxed) > 0;
        let mut tries = 0;
        let recorded = loop {
            tries += 1;
            let (owner, now, shared) = (self.owner.clone(), self.clock.now_naive(), batch.clone());
            let (seen, domain) = (seen.clone(), self.rules.mail_domain.clone());
            match db::blocking(&self.pool, move |c| {
                let relay = match seen.as_ref() {
                    Some((stage, error, refused)) => RelaySeen::Failed {
                        stage,
                        error,
                        refused: *refused,
                    },
                    None if accepted => RelaySeen::Accepted,
                    None => RelaySeen::Nothing,
                };
                outbox::record_batch(c, &owner, &shared, relay, &domain, now)
            })
            .await
            {
                Ok((recorded, noticed)) => {
                    if noticed {
                        tracing::info!(
                            "the SMTP relay accepts us again; organisers are told it had refused"
                        );
                    }
                    break recorded;
                }
                Err(error) if tries < 3 => {
                    tracing::warn!(%error, "could not record a batch of delivery outcomes; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(error) => {
                    tracing::error!(%error, messages = batch.len(), "could not record a batch of delivery outcomes");
                    return;
                }
            }
        };
        for ((row, outcome), recorded) in outcomes.iter().zip(recorded) {
            let label = outcome.label();
            if matches!(outcome, Outcome::Released) {
                continue;
            }
            if recorded {
                tracing::info!(outbox_id = %row.id, kind = %row.kind, result = label, "delivery attempt recorded");
                if let Some(metrics) = &self.metrics {
                    metrics.delivery(label);
                }
            } else {
                tracing::warn!(outbox_id = %row.id, "lease lost before the outcome was recorded");
            }
        }
    }
}
