//! Login throttling: at most `admin.login_max_failures` attempts per 15 minutes
//! per client address and per account (a bucket of that many, refilling one
//! every window / max). A slot is taken when the attempt is checked, before the
//! password hash runs, so simultaneous guesses cannot all pass; a successful
//! login gives its address slot back and clears the account. Over the limit
//! the answer is 429 with `Retry-After` (a throttle, not a lockout).

use crate::db::DbError;
use crate::limits::buckets::{Buckets, wait_secs};
use crate::web::client::ClientAddress;

pub struct LoginThrottle {
    buckets: Buckets,
}

/// The buckets one attempt takes from: its address and its account.
pub struct AttemptKeys([String; 2]);

impl AttemptKeys {
    pub fn new(client: ClientAddress, account: &str) -> Self {
        Self([client.limit_key(), format!("account:{account}")])
    }
}

impl LoginThrottle {
    pub fn new(buckets: Buckets) -> Self {
        Self { buckets }
    }

    /// Takes the attempt's slots: `Ok(Err(seconds))` if either is used up.
    pub async fn take(&self, keys: &AttemptKeys, now_ms: i64) -> Result<Result<(), u64>, DbError> {
        Ok(self.buckets.take(&keys.0, now_ms).await?.map_err(wait_secs))
    }

    /// A successful login: the address gets its slot back, the account is cleared.
    pub async fn succeeded(&self, keys: &AttemptKeys) -> Result<(), DbError> {
        self.buckets.give_back(&keys.0[0]).await?;
        self.buckets.forget(&keys.0[1]).await
    }

    /// Forgets entries that are full again.
    pub async fn forget_full(&self, now_ms: i64) -> Result<(), DbError> {
        self.buckets.forget_full(now_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::buckets::Gcra;

    fn client(last: u8) -> ClientAddress {
        ClientAddress::Ip(std::net::IpAddr::from([203, 0, 113, last]))
    }

    #[tokio::test]
    async fn the_limit_applies_per_key_and_lifts_after_the_window() {
        // 2 per 900 s: one slot back every 450 s.
        let throttle = LoginThrottle::new(Buckets::local("login", Gcra::new(450_000, 2)));
        let keys = AttemptKeys::new(client(1), "a");
        assert_eq!(throttle.take(&keys, 0).await.unwrap(), Ok(()));
        assert_eq!(throttle.take(&keys, 10_000).await.unwrap(), Ok(()));
        assert_eq!(throttle.take(&keys, 20_000).await.unwrap(), Err(430));
        let elsewhere = AttemptKeys::new(client(2), "b");
        assert_eq!(throttle.take(&elsewhere, 20_000).await.unwrap(), Ok(()));
        assert_eq!(throttle.take(&keys, 911_000).await.unwrap(), Ok(()));
    }
}
