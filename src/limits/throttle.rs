//! Login throttling: at most `admin.login_max_failures` failures per 15 minutes
//! per client address and per account. Over it, the answer is 429 with
//! `Retry-After` (a throttle, not a lockout: it lifts by itself).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

pub struct LoginThrottle {
    max_failures: usize,
    window_secs: i64,
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        Self {
            max_failures: max_failures.max(1) as usize,
            window_secs,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` if any of `keys` is over the limit at `now` (unix seconds).
    pub fn check(&self, keys: &[String], now: i64) -> Result<(), u64> {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait = 0i64;
        for key in keys {
            if let Some(times) = failures.get_mut(key) {
                times.retain(|t| now - t < self.window_secs);
                if times.len() >= self.max_failures
                    && let Some(oldest) = times.front()
                {
                    wait = wait.max(oldest + self.window_secs - now);
                }
            }
        }
        failures.retain(|_, times| !times.is_empty());
        if wait > 0 { Err(wait as u64) } else { Ok(()) }
    }

    pub fn record_failure(&self, keys: &[String], now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            failures.entry(key.clone()).or_default().push_back(now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_per_key_and_lifts_after_the_window() {
        let throttle = LoginThrottle::new(2, 900);
        let keys = ["ip:1".to_owned(), "account:a".to_owned()];
        throttle.record_failure(&keys, 0);
        assert!(throttle.check(&keys, 10).is_ok());
        throttle.record_failure(&keys, 10);
        assert_eq!(throttle.check(&keys, 20), Err(880));
        assert!(throttle.check(&["ip:2".to_owned()], 20).is_ok());
        assert!(throttle.check(&keys, 911).is_ok());
    }
}
