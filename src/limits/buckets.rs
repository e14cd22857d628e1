//! Buckets shared by the signup rate limit and the login throttle (SPEC: Limits
//! across instances). The rule is GCRA ([`Gcra::take`]): `burst` at once, then
//! one every `interval`. A bucket is one number, its theoretical arrival time
//! (TAT); a bucket whose TAT has passed is full again and is forgotten. On
//! PostgreSQL the buckets live in the database, so every instance enforces the
//! same limit (keys stored as keyed hashes); on SQLite they stay in the process.

use crate::crypto::Keys;
use crate::db::{self, DbError, Pool};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The limit rule, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gcra {
    pub interval_ms: i64,
    pub tolerance_ms: i64,
}

impl Gcra {
    /// `burst` takes at once, then one per `interval_ms`.
    pub fn new(interval_ms: i64, burst: u32) -> Self {
        Self {
            interval_ms: interval_ms.max(1),
            tolerance_ms: interval_ms.max(1) * i64::from(burst.max(1) - 1),
        }
    }

    /// One take from a bucket with `tat` (none: full) at `now`: the new TAT, or
    /// the milliseconds until a take would succeed.
    pub fn take(&self, tat: Option<i64>, now: i64) -> Result<i64, i64> {
        let start = tat.unwrap_or(now).max(now);
        if start - now > self.tolerance_ms {
            Err(start - self.tolerance_ms - now)
        } else {
            Ok(start + self.interval_ms)
        }
    }
}

/// Whole seconds for `Retry-After`, rounded up, at least 1.
pub fn wait_secs(wait_ms: i64) -> u64 {
    u64::try_from((wait_ms + 999) / 1000).unwrap_or(0).max(1)
}

/// Local buckets are pruned when there are more than this many.
const LOCAL_PRUNE_ABOVE: usize = 4096;

enum Store {
    Local(Mutex<HashMap<String, i64>>),
    Shared { pool: Pool, keys: Keys },
}

/// A named set of buckets (`signup`, `login`) under one rule.
pub struct Buckets {
    name: &'static str,
    rule: Gcra,
    store: Store,
}

impl Buckets {
    /// Buckets kept in this process.
    pub fn local(name: &'static str, rule: Gcra) -> Self {
        let store = Store::Local(Mutex::new(HashMap::new()));
        Self { name, rule, store }
    }

    /// Buckets kept in the database, shared by every instance on it.
    pub fn shared(name: &'static str, rule: Gcra, pool: Pool, keys: Keys) -> Self {
        let store = Store::Shared { pool, keys };
        Self { name, rule, store }
    }

    /// Takes one from each of `keys`' buckets at once: `Ok(Err(ms))` with the
    /// longest wait if any of them is empty (the others are still taken from).
    pub async fn take(&self, keys: &[String], now_ms: i64) -> Result<Result<(), i64>, DbError> {
        let taken = match &self.store {
            Store::Local(buckets) => {
                let mut buckets = buckets.lock().unwrap_or_else(PoisonError::into_inner);
                if buckets.len() > LOCAL_PRUNE_ABOVE {
                    buckets.retain(|_, tat| *tat > now_ms);
                }
                keys.iter()
                    .map(|key| {
                        let taken = self.rule.take(buckets.get(key).copied(), now_ms);
                        if let Ok(tat) = taken {
                            buckets.insert(key.clone(), tat);
                        }
                        taken.map(|_| ())
                    })
                    .collect::<Vec<_>>()
            }
            Store::Shared { pool, keys: secret } => {
                let hashed = self.hashed(secret, keys);
                let rule = self.rule;
                db::blocking(pool, move |c| db::limits::take(c, &hashed, now_ms, rule)).await?
            }
        };
        let wait = taken.iter().filter_map(|t| t.err()).max();
        Ok(wait.map_or(Ok(()), Err))
    }

    /// Undoes one take from `key` (a login that succeeded).
    pub async fn give_back(&self, key: &str) -> Result<(), DbError> {
        let interval = self.rule.interval_ms;
        match &self.store {
            Store::Local(buckets) => {
                let mut buckets = buckets.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(tat) = buckets.get_mut(key) {
                    *tat -= interval;
                }
                Ok(())
            }
            Store::Shared { pool, keys } => {
                let hashed = self.hashed(keys, &[key.to_owned()]);
                db::blocking(pool, move |c| {
                    db::limits::give_back(c, &hashed[0], interval)
                })
                .await
            }
        }
    }

    /// Empties `key`'s bucket record (a full bucket again).
    pub async fn forget(&self, key: &str) -> Result<(), DbError> {
        match &self.store {
            Store::Local(buckets) => {
                buckets
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(key);
                Ok(())
            }
            Store::Shared { pool, keys } => {
                let hashed = self.hashed(keys, &[key.to_owned()]);
                db::blocking(pool, move |c| db::limits::forget(c, &hashed[0])).await
            }
        }
    }

    /// Forgets every bucket that is full again, so memory and rows stay bounded.
    pub async fn forget_full(&self, now_ms: i64) -> Result<(), DbError> {
        match &self.store {
            Store::Local(buckets) => {
                let mut buckets = buckets.lock().unwrap_or_else(PoisonError::into_inner);
                buckets.retain(|_, tat| *tat > now_ms);
                buckets.shrink_to_fit();
                Ok(())
            }
            Store::Shared { pool, .. } => {
                db::blocking(pool, move |c| db::limits::forget_full(c, now_ms))
                    .await
                    .map(|_| ())
            }
        }
    }

    /// How many buckets this process holds (0 when they are in the database).
    pub fn local_len(&self) -> usize {
        match &self.store {
            Store::Local(buckets) => buckets.lock().unwrap_or_else(PoisonError::into_inner).len(),
            Store::Shared { .. } => 0,
        }
    }

    fn hashed(&self, secret: &Keys, keys: &[String]) -> Vec<String> {
        keys.iter()
            .map(|key| secret.sign("limit", &format!("{}:{key}", self.name)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_one_per_interval() {
        let rule = Gcra::new(6_000, 5);
        let mut tat = None;
        for _ in 0..5 {
            tat = Some(rule.take(tat, 0).unwrap());
        }
        assert_eq!(rule.take(tat, 0), Err(6_000));
        assert_eq!(rule.take(tat, 5_999), Err(1));
        let next = rule.take(tat, 6_000).unwrap();
        assert_eq!(rule.take(Some(next), 6_000), Err(6_000));
        assert_eq!(rule.take(tat, 30_000), Ok(36_000), "a full bucket again");
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(wait_secs(1), 1);
        assert_eq!(wait_secs(6_000), 6);
        assert_eq!(wait_secs(6_001), 7);
        assert_eq!(wait_secs(0), 1);
    }

    #[tokio::test]
    async fn local_buckets_expire_once_full_again() {
        let buckets = Buckets::local("test", Gcra::new(1_000, 2));
        let keys = ["ip:a".to_owned()];
        assert_eq!(buckets.take(&keys, 0).await.unwrap(), Ok(()));
        assert_eq!(buckets.take(&keys, 0).await.unwrap(), Ok(()));
        assert_eq!(buckets.take(&keys, 0).await.unwrap(), Err(1_000));
        buckets.give_back("ip:a").await.unwrap();
        assert_eq!(buckets.take(&keys, 0).await.unwrap(), Ok(()));
        buckets.forget_full(1_000).await.unwrap();
        assert_eq!(buckets.local_len(), 1);
        buckets.forget_full(2_000).await.unwrap();
        assert_eq!(buckets.local_len(), 0);
    }
}
