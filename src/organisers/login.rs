//! Organiser login: one generic refusal for any wrong credentials, the same
//! work for an unknown address as for a wrong password, a throttle per client
//! address and per account (429, lifting by itself) whose slot is taken before
//! the hash runs, and at most `admin.max_concurrent_password_checks` hashes at
//! once (each holds about 19 MiB; others wait [`PASSWORD_CHECK_WAIT`], then 503).

use crate::clock::SharedClock;
use crate::crypto::{random_token, token_hash};
use crate::db::{self, DbError, Pool, organisers};
use crate::domain::EmailAddress;
use crate::limits::throttle::{AttemptKeys, LoginThrottle};
use crate::organisers::passwords;
use crate::web::client::ClientAddress;
use chrono::TimeDelta;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long an attempt waits for a free password-check slot before the 503.
pub const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(2);
/// `Retry-After` of that 503.
const BUSY_RETRY_SECS: u64 = 2;

/// What a login works with.
pub struct Login<'a> {
    pub pool: &'a Pool,
    pub throttle: &'a LoginThrottle,
    /// One permit per password hash allowed to run at once.
    pub password_checks: &'a Semaphore,
    pub clock: &'a SharedClock,
    /// `admin.session_ttl_hours`.
    pub session_ttl: TimeDelta,
}

/// How an attempt ended.
#[derive(Debug)]
pub enum LoginOutcome {
    /// A new session: the cookie value (only its hash is stored) and its lifetime.
    SignedIn { session: String, ttl: TimeDelta },
    /// Unknown address or wrong password; the failure is counted.
    WrongCredentials,
    /// Too many recent failures from this address or for this account.
    Throttled { wait_secs: u64 },
    /// Every password-check slot stayed busy: try again shortly (503).
    Busy { wait_secs: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("password check: {0}")]
    PasswordCheck(String),
}

impl Login<'_> {
    /// Takes the throttle slots, waits for a hash slot, checks the password,
    /// and opens a session when all allow.
    pub async fn attempt(
        &self,
        email: &str,
        password: String,
        client: ClientAddress,
    ) -> Result<LoginOutcome, LoginError> {
        let email_key = EmailAddress::parse(email).map(|e| e.key().to_owned()).ok();
        let account = email_key.clone().unwrap_or_else(|| email.to_lowercase());
        let throttle_keys = AttemptKeys::new(client, &account);
        let now_ms = self.clock.now().timestamp_millis();
        if let Err(wait_secs) = self.throttle.take(&throttle_keys, now_ms).await? {
            return Ok(LoginOutcome::Throttled { wait_secs });
        }
        let Ok(Ok(permit)) =
            tokio::time::timeout(PASSWORD_CHECK_WAIT, self.password_checks.acquire()).await
        else {
            return Ok(LoginOutcome::Busy {
                wait_secs: BUSY_RETRY_SECS,
            });
        };
        let organiser = db::blocking(self.pool, move |c| match email_key {
            Some(key) => organisers::find_by_email_key(c, &key),
            None => Ok(None),
        })
        .await?;
        let stored = organiser.as_ref().map(|o| o.password_hash.clone());
        let verified =
            tokio::task::spawn_blocking(move || passwords::verify(&password, stored.as_deref()))
                .await
                .map_err(|e| LoginError::PasswordCheck(e.to_string()))?;
        drop(permit);
        let Some(organiser) = organiser.filter(|_| verified) else {
            return Ok(LoginOutcome::WrongCredentials);
        };
        self.throttle.succeeded(&throttle_keys).await?;
        let session = random_token(32);
        let (hash, now, ttl) = (
            token_hash(&session),
            self.clock.now_naive(),
            self.session_ttl,
        );
        db::blocking(self.pool, move |c| {
            organisers::create_session(c, &hash, &organiser.id, now, now + ttl)
        })
        .await?;
        Ok(LoginOutcome::SignedIn { session, ttl })
    }
}
