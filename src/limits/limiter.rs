//! The per-client rate limit of the public write routes (`rate_limit.*`): one
//! bucket per client address (see `web::client`), in the database on
//! PostgreSQL so every instance shares it, else in the process.

use crate::configuration::RateLimitSettings;
use crate::db::DbError;
use crate::limits::buckets::{Buckets, Gcra, wait_secs};
use crate::web::client::ClientAddress;

/// The signup buckets, or none when `rate_limit.enabled = false`.
pub struct RateLimiter {
    buckets: Option<Buckets>,
}

impl RateLimiter {
    /// `make` builds the buckets (local or shared) for the rule from settings.
    pub fn new(settings: &RateLimitSettings, make: impl FnOnce(Gcra) -> Buckets) -> Self {
        let rule = Gcra::new(settings.interval_ms(), settings.burst.get());
        Self {
            buckets: settings.enabled.then(|| make(rule)),
        }
    }

    /// `Ok(())` if the request may go ahead, else the seconds to wait (for `Retry-After`).
    pub async fn check(
        &self,
        client: ClientAddress,
        now_ms: i64,
    ) -> Result<Result<(), u64>, DbError> {
        let Some(buckets) = &self.buckets else {
            return Ok(Ok(()));
        };
        let taken = buckets.take(&[client.limit_key()], now_ms).await?;
        Ok(taken.map_err(wait_secs))
    }

    /// Forgets clients whose budget is full again, so memory and rows stay bounded.
    pub async fn forget_full(&self, now_ms: i64) -> Result<(), DbError> {
        match &self.buckets {
            Some(buckets) => buckets.forget_full(now_ms).await,
            None => Ok(()),
        }
    }
}
