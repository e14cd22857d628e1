//! Organiser login: one generic refusal for any wrong credentials, the same
//! work for an unknown address as for a wrong password, and a throttle per
//! client address and per account (429, lifting by itself).

use crate::clock::SharedClock;
use crate::crypto::{random_token, token_hash};
use crate::db::{self, DbError, Pool, organisers};
use crate::domain::EmailAddress;
use crate::limits::throttle::LoginThrottle;
use crate::organisers::passwords;
use chrono::TimeDelta;
use std::net::IpAddr;

/// What a login works with.
pub struct Login<'a> {
    pub pool: &'a Pool,
    pub throttle: &'a LoginThrottle,
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
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("password check: {0}")]
    PasswordCheck(String),
}

impl Login<'_> {
    /// Checks the throttle, then the password, and opens a session when both allow.
    pub async fn attempt(
        &self,
        email: &str,
        password: String,
        client: IpAddr,
    ) -> Result<LoginOutcome, LoginError> {
        let email_key = EmailAddress::parse(email).map(|e| e.key().to_owned()).ok();
        let account = email_key.clone().unwrap_or_else(|| email.to_lowercase());
        let throttle_keys = [format!("ip:{client}"), format!("account:{account}")];
        let now_unix = self.clock.now().timestamp();
        if let Err(wait_secs) = self.throttle.check(&throttle_keys, now_unix) {
            return Ok(LoginOutcome::Throttled { wait_secs });
        }
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
        let Some(organiser) = organiser.filter(|_| verified) else {
            self.throttle.record_failure(&throttle_keys, now_unix);
            return Ok(LoginOutcome::WrongCredentials);
        };
        self.throttle.clear(&throttle_keys[1]);
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
