//! Periodic housekeeping: registrations never confirmed are erased
//! `signup.pending_retention_days` after their last signup or resend (ledger
//! actor `retention`) and VACUUM runs on PostgreSQL after erasing, the
//! counters of expired signup cookies go, announcement pacing counters older
//! than two days go, and the rate limiter and login throttle forget buckets
//! that are full again.

use crate::clock::SharedClock;
use crate::crypto::Keys;
use crate::db::{self, DbError, Pool, attempts, erasure, pacing};
use crate::limits::limiter::RateLimiter;
use crate::limits::throttle::LoginThrottle;
use chrono::TimeDelta;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// How long a pacing counter is kept after its minute or day (it matters only
/// while its period lasts).
const KEEP_PACING_COUNTERS: TimeDelta = TimeDelta::days(2);

/// What a sweep works on.
pub struct Retention {
    pub pool: Pool,
    pub keys: Keys,
    pub clock: SharedClock,
    pub limiter: Arc<RateLimiter>,
    pub login_throttle: Arc<LoginThrottle>,
    /// How long a registration may stay pending (`signup.pending_retention_days`).
    pub keep_pending: TimeDelta,
}

impl Retention {
    /// One sweep; returns how many registrations were erased.
    pub async fn sweep(&self) -> Result<usize, DbError> {
        let now = self.clock.now_naive();
        let cutoff = now - self.keep_pending;
        let keys = self.keys.clone();
        let erased = db::blocking(&self.pool, move |c| {
            let erased = erasure::erase_stale_pending(c, &keys, cutoff, now)?;
            if erased > 0 {
                erasure::vacuum_erased_tables(c)?;
            }
            attempts::delete_expired_cookie_counters(c, now)?;
            pacing::delete_before(c, now - KEEP_PACING_COUNTERS)?;
            Ok(erased)
        })
        .await?;
        if erased > 0 {
            tracing::info!(erased, "erased registrations never confirmed");
        }
        let now_ms = self.clock.now().timestamp_millis();
        self.limiter.forget_full(now_ms).await?;
        self.login_throttle.forget_full(now_ms).await?;
        Ok(erased)
    }

    /// Sweeps at start and then hourly until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(error) = self.sweep().await {
                tracing::warn!(%error, "retention sweep failed; will try again");
            }
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
