//! What a worker does for organisers' digests: at the first pass of each
//! local hour (in `admin.digest_timezone`) it asks [`digests::due`] which
//! daily and weekly periods are due; if any is, it reads which organisers
//! want one and have none queued for it (one read), then counts each window
//! and queues the digests with anything to say, in one transaction. The
//! unique key keeps any number of workers to one digest per organiser and
//! period. Other passes cost nothing; before `admin.digest_hour`, no read.

use super::Worker;
use crate::db::digests::{Due, DueKeys};
use crate::db::{self, DbError};
use crate::ops::digests::{self, Frequency, Period};
use std::sync::PoisonError;

impl Worker {
    /// Queues the digests that are due and not yet queued (see the module).
    pub(super) async fn queue_due_digests(&self) {
        let now = self.clock.now_naive();
        let schedule = self.config.digests;
        let hour = schedule.local_hour(now);
        {
            let mut checked = self
                .digests_checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *checked == Some(hour) {
                return;
            }
            *checked = Some(hour);
        }
        let daily = digests::due(Frequency::Daily, &schedule, now);
        let weekly = digests::due(Frequency::Weekly, &schedule, now);
        if daily.is_none() && weekly.is_none() {
            return;
        }
        let domain = self.rules.mail_domain.clone();
        let queued = db::blocking(&self.pool, move |c| -> Result<usize, DbError> {
            let (daily_key, weekly_key) = (
                daily.as_ref().map(Period::key),
                weekly.as_ref().map(Period::key),
            );
            let keys = DueKeys {
                daily: daily_key.as_deref(),
                weekly: weekly_key.as_deref(),
            };
            let owed: Vec<Due> = db::digests::owed(c, keys)?
                .into_iter()
                .filter_map(|(organiser_id, frequency)| {
                    let period = match Frequency::parse(&frequency)? {
                        Frequency::Daily => daily.as_ref(),
                        Frequency::Weekly => weekly.as_ref(),
                        Frequency::Off => None,
                    }?;
                    Some(Due {
                        organiser_id,
                        key: period.key(),
                        from: period.from,
                        to: period.to,
                    })
                })
                .collect();
            if owed.is_empty() {
                return Ok(0);
            }
            db::digests::queue(c, &owed, &domain, now)
        })
        .await;
        match queued {
            Ok(0) => {}
            Ok(n) => tracing::info!(digests = n, "organisers' digests queued"),
            Err(error) => {
                // Try again at the next pass.
                *self
                    .digests_checked
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                tracing::warn!(%error, "could not queue organisers' digests");
            }
        }
    }
}
