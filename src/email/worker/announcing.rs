//! What a worker does for announcements around each pass: starts the
//! schedules that are due (one found more than 6 hours late goes back to
//! draft), marks `sent` those with nothing queued or leased, and pauses one
//! whose deliveries fail too often, or every sending one when the relay
//! refuses our login. Each is a guarded transition, so any number of workers
//! may do it at once. When no announcement is scheduled or sending, a pass
//! costs a read or two and writes nothing.

use super::Worker;
use crate::db::outbox::{MessageKind, OutboxRow, Outcome};
use crate::db::{self, DbError, announcements};
use std::collections::BTreeSet;

impl Worker {
    /// Starts every due schedule (or returns a late one to draft).
    pub(super) async fn start_due_schedules(&self) {
        let (rules, now) = (self.rules.clone(), self.clock.now_naive());
        let started = db::blocking(&self.pool, move |c| {
            if !announcements::any_due(c, now)? {
                return Ok(Default::default());
            }
            announcements::start_due(c, &rules, now)
        })
        .await;
        match started {
            Ok(due) => {
                for id in &due.started {
                    tracing::info!(announcement_id = %id, "scheduled announcement started");
                }
                for id in &due.missed {
                    tracing::warn!(announcement_id = %id, "scheduled announcement missed its time; back to draft");
                }
            }
            Err(error) => tracing::warn!(%error, "could not start scheduled announcements"),
        }
    }

    /// After a batch (or an empty pass): pauses the announcements whose
    /// deliveries in it failed, if they now fail too often, then finishes
    /// those with nothing left to send.
    pub(super) async fn finish_announcements(&self, outcomes: &[(OutboxRow, Outcome)]) {
        let failing: BTreeSet<String> = outcomes
            .iter()
            .filter(|(row, outcome)| {
                row.kind() == Some(MessageKind::Announcement)
                    && matches!(outcome, Outcome::Failed { .. } | Outcome::Bounced { .. })
            })
            .filter_map(|(row, _)| row.announcement_id.clone())
            .collect();
        let (domain, now) = (self.rules.mail_domain.clone(), self.clock.now_naive());
        let done = db::blocking(&self.pool, move |c| {
            for id in &failing {
                if let Some((failed, of)) = announcements::recent_failures(c, id)? {
                    let reason = format!("{failed} of the last {of} deliveries failed permanently");
                    if announcements::pause_itself(c, id, &reason, &domain, now)? {
                        tracing::warn!(announcement_id = %id, %reason, "announcement paused itself");
                    }
                }
            }
            announcements::finish_done(c, &domain, now)
        })
        .await;
        match done {
            Ok(finished) => {
                for id in finished {
                    tracing::info!(announcement_id = %id, "announcement sent");
                }
            }
            Err(error) => tracing::warn!(%error, "could not finish announcements"),
        }
    }

    /// The relay refused our login: every sending announcement pauses itself
    /// (organisers are told), to be resumed once the relay is fixed.
    pub(super) async fn pause_for_relay(&self, error: &str) {
        let reason = format!("the mail relay refused authentication ({error})");
        let (domain, now) = (self.rules.mail_domain.clone(), self.clock.now_naive());
        let paused = db::blocking(&self.pool, move |c| -> Result<Vec<String>, DbError> {
            let mut paused = Vec::new();
            for id in announcements::sending_ids(c)? {
                if announcements::pause_itself(c, &id, &reason, &domain, now)? {
                    paused.push(id);
                }
            }
            Ok(paused)
        })
        .await;
        match paused {
            Ok(ids) => {
                for id in ids {
                    tracing::warn!(announcement_id = %id, "announcement paused: the relay refused authentication");
                }
            }
            Err(error) => tracing::warn!(%error, "could not pause announcements for the relay"),
        }
    }
}
