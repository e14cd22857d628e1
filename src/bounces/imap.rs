//! The bounce mailbox, read over IMAP.
//!
//! # Policy
//!
//! * One poller at a time across every worker and instance: each poll takes
//!   the lease in `imap_state` first (see [`crate::db::imap_state`]); a poller
//!   that finds it held, or finds the next poll not yet due, does nothing.
//! * A poll reads the messages whose UID is above the last one processed, in
//!   UID order. When UIDVALIDITY (or the configured mailbox) changed, it reads
//!   the whole mailbox again: the bounces table's `report_key` makes a report
//!   read twice a `duplicate`, never a second event.
//! * Each message is read without setting `\Seen` (`BODY.PEEK[]`), goes
//!   through [`intake::process`] as `imap`, is then marked `\Seen`, and the UID
//!   is stored: a restart resumes after it. A message that is not a message
//!   still moves the UID on (logged at warn, by UID only). Nothing is ever
//!   deleted or expunged.
//! * A failure (connect, TLS, login, select, a command, the database) ends
//!   the poll: logged at error, counted on `/metrics`, kept for the dashboard;
//!   the next poll waits `poll_secs`, doubling with each failure in a row (at
//!   most 15 minutes), and reconnects. Mail delivery never waits on it.

mod session;

use super::intake;
use crate::clock::SharedClock;
use crate::configuration::{ImapSettings, RetryBackoff};
use crate::crypto::Keys;
use crate::db::bounces::BounceSource;
use crate::db::imap_state::{self, Failure, ImapState, Progress};
use crate::db::{self, Pool};
use crate::ops::metrics::Metrics;
use chrono::{NaiveDateTime, TimeDelta};
use session::{Mailbox, StepError};
use std::sync::Arc;
use tokio::sync::watch;
use tokio_rustls::rustls;

/// How long a poll holds the lease without progress; each message renews it.
const LEASE: TimeDelta = TimeDelta::minutes(5);

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// Another poller holds the lease, or the next poll is not due yet.
    Skipped,
    /// Read the mailbox: how many new messages it processed.
    Polled { processed: usize },
    /// Failed at a step (the message kept for the dashboard).
    Failed { error: String },
}

/// Reads the bounce mailbox; one per worker process.
pub struct Poller {
    pool: Pool,
    keys: Keys,
    clock: SharedClock,
    settings: ImapSettings,
    /// `{username}@{host}:{port}/{mailbox}`: what the stored UIDs belong to.
    mailbox: String,
    owner: String,
    metrics: Option<Arc<Metrics>>,
    tls: Arc<rustls::ClientConfig>,
}

impl Poller {
    /// A poller for `settings`; `None` while `email.bounce.imap.host` is unset.
    pub fn new(
        pool: Pool,
        keys: Keys,
        clock: SharedClock,
        settings: &ImapSettings,
        metrics: Option<Arc<Metrics>>,
    ) -> Option<Poller> {
        let host = settings.host.as_deref()?;
        let mailbox = format!(
            "{}@{host}:{}/{}",
            settings.username.as_deref().unwrap_or_default(),
            settings.port,
            settings.mailbox
        );
        Some(Poller {
            pool,
            keys,
            clock,
            settings: settings.clone(),
            mailbox,
            owner: format!("imap-{}", uuid::Uuid::now_v7()),
            metrics,
            tls: Arc::new(crate::email::smtp_pool::tls_config()),
        })
    }

    /// Polls every `poll_secs` until `shutdown` turns true. A poll that is not
    /// due (another poller's turn, or the backoff after failures) is skipped.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, mailbox = %self.settings.mailbox, "bounce mailbox poller started");
        let pause = std::time::Duration::from_secs(u64::from(self.settings.poll_secs.get()));
        while !*shutdown.borrow() {
            self.poll_once().await;
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(owner = %self.owner, "bounce mailbox poller stopped");
    }

    /// One poll, if it is this poller's turn (tests drive the poller with this).
    pub async fn poll_once(&self) -> PollOutcome {
        let started = self.clock.now_naive();
        let (owner, until) = (self.owner.clone(), started + LEASE);
        let taken = db::blocking(&self.pool, move |c| {
            if !imap_state::take_lease(c, &owner, started, until)? {
                return Ok(None);
            }
            imap_state::find(c)
        })
        .await;
        let state = match taken {
            Ok(Some(state)) => state,
            Ok(None) => return PollOutcome::Skipped,
            Err(error) => {
                let error = StepError::new("database", error);
                self.count_error(&error);
                tracing::error!(%error, "could not take the bounce mailbox's lease");
                return PollOutcome::Failed {
                    error: error.to_string(),
                };
            }
        };
        let read = self.read_mailbox(&state).await;
        self.finish(&state, started, read).await
    }

    /// Reads what is new in the mailbox; how many messages it processed.
    async fn read_mailbox(&self, state: &ImapState) -> Result<usize, StepError> {
        let mut mailbox = Mailbox::open(&self.settings, &self.tls).await?;
        let uid_validity = mailbox.uid_validity;
        let after = state.resume_after(&self.mailbox, uid_validity);
        if state.uid_validity.is_some() && !state.is_where_it_stopped(&self.mailbox, uid_validity) {
            tracing::info!(
                uid_validity,
                "the bounce mailbox's UIDVALIDITY (or the mailbox) changed; reading it all again"
            );
        }
        let uids = mailbox.uids_after(after).await?;
        let mut processed = 0;
        for uid in uids {
            let raw = mailbox.message(uid).await?;
            self.process(uid, raw).await?;
            mailbox.mark_seen(uid).await?;
            if !self.save(uid_validity, uid).await? {
                tracing::warn!(uid, "lost the bounce mailbox's lease; stopping this poll");
                break;
            }
            processed += 1;
        }
        mailbox.close().await;
        Ok(processed)
    }

    /// One message through the intake.
    async fn process(&self, uid: i64, raw: Option<Vec<u8>>) -> Result<(), StepError> {
        let (keys, now) = (self.keys.clone(), self.clock.now_naive());
        let Some(raw) = raw else {
            tracing::warn!(
                uid,
                "bounce mailbox message gone before it was read; skipped"
            );
            return Ok(());
        };
        let result = db::blocking(&self.pool, move |c| {
            intake::process(c, &keys, &raw, BounceSource::Imap, now)
        })
        .await
        .map_err(|e| StepError::new("database", e))?;
        match result {
            Some(result) => tracing::info!(uid, result, "bounce mailbox message processed"),
            None => tracing::warn!(uid, "bounce mailbox message is not a message; skipped"),
        }
        if let Some(metrics) = &self.metrics {
            metrics.imap_message(result.unwrap_or("not_a_message"));
        }
        Ok(())
    }

    /// Stores progress after `uid`; false when the lease was lost.
    async fn save(&self, uid_validity: i64, uid: i64) -> Result<bool, StepError> {
        let (owner, mailbox, now) = (
            self.owner.clone(),
            self.mailbox.clone(),
            self.clock.now_naive(),
        );
        db::blocking(&self.pool, move |c| {
            let progress = Progress {
                mailbox: &mailbox,
                uid_validity,
                last_uid: uid,
            };
            imap_state::save_progress(c, &owner, progress, now, now + LEASE)
        })
        .await
        .map_err(|e| StepError::new("database", e))
    }

    /// Releases the lease with the outcome and sets when the next poll is due.
    async fn finish(
        &self,
        state: &ImapState,
        started: NaiveDateTime,
        read: Result<usize, StepError>,
    ) -> PollOutcome {
        let (outcome, recorded) = match read {
            Ok(processed) => {
                if processed > 0 || state.failing_since.is_some() {
                    tracing::info!(processed, "bounce mailbox read");
                }
                let next = started + self.settings.poll_interval();
                let recorded = self
                    .release(move |c, owner, now| imap_state::finish_polled(c, owner, now, next));
                (PollOutcome::Polled { processed }, recorded.await)
            }
            Err(error) => {
                self.count_error(&error);
                let failures = state.failures.saturating_add(1);
                let wait = backoff(&self.settings.retry_backoff(), failures);
                tracing::error!(%error, failures_in_a_row = failures, retry_in_secs = wait.num_seconds(), "could not read the bounce mailbox");
                let (text, since) = (error.to_string(), state.failing_since);
                let recorded = self.release(move |c, owner, now| {
                    let failure = Failure {
                        error: &text,
                        failures,
                        failing_since: since.unwrap_or(now),
                    };
                    imap_state::finish_failed(c, owner, failure, now, now + wait)
                });
                let error = error.to_string();
                (PollOutcome::Failed { error }, recorded.await)
            }
        };
        if let Err(error) = recorded {
            // The lease runs out by itself; the next poll goes ahead then.
            tracing::error!(%error, "could not record the bounce mailbox poll");
        }
        outcome
    }

    /// Runs `end` (one of `imap_state::finish_*`) with this poller's owner and
    /// the time now.
    async fn release(
        &self,
        end: impl FnOnce(&mut db::DbConnection, &str, NaiveDateTime) -> Result<(), db::DbError>
        + Send
        + 'static,
    ) -> Result<(), db::DbError> {
        let (owner, now) = (self.owner.clone(), self.clock.now_naive());
        db::blocking(&self.pool, move |c| end(c, &owner, now)).await
    }

    fn count_error(&self, error: &StepError) {
        if let Some(metrics) = &self.metrics {
            metrics.imap_error(error.stage);
        }
    }
}

/// The wait before the next poll after `failures` failed polls in a row.
fn backoff(rule: &RetryBackoff, failures: i32) -> TimeDelta {
    rule.delay(u32::try_from(failures).unwrap_or(1))
}
