//! Per-IP rate limiting for the public write endpoints (governor's GCRA, per process).

use crate::configuration::RateLimitSettings;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::sync::Arc;

/// A per-IP limiter, or none when `rate_limit.enabled = false`.
#[derive(Clone)]
pub struct IpLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl IpLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let quota = Quota::per_minute(settings.per_ip_per_minute).allow_burst(settings.burst);
        let limiter = settings
            .enabled
            .then(|| Arc::new(RateLimiter::keyed(quota)));
        Self { limiter }
    }

    /// `Ok` if the request may go ahead, else the seconds to wait (for `Retry-After`).
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets addresses whose budget is full again, so memory stays bounded.
    pub fn shrink(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
