//! What every handler shares.

use crate::clock::SharedClock;
use crate::configuration::Settings;
use crate::crypto::Keys;
use crate::db::Pool;
use crate::db::signups::SignupRules;
use crate::db::writer::Writer;
use crate::limits::limiter::RateLimiter;
use crate::limits::throttle::LoginThrottle;
use crate::ops::metrics::Metrics;
use crate::ops::retention::Retention;
use crate::organisers::login::Login;
use crate::web::error::AppError;
use actix_web::HttpRequest;
use actix_web::web::Data;
use std::sync::Arc;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: Pool,
    pub writer: Writer,
    pub clock: SharedClock,
    pub keys: Keys,
    pub rules: SignupRules,
    /// What starting an announcement needs: the token key and the mail domain.
    pub send_rules: crate::db::announcements::SendRules,
    pub metrics: Arc<Metrics>,
    pub limiter: Arc<RateLimiter>,
    pub login_throttle: Arc<LoginThrottle>,
    /// Password hashes allowed to run at once.
    pub password_checks: tokio::sync::Semaphore,
    /// Exports allowed to run at once.
    pub export_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn now_unix(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Cookies are `Secure` when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.settings.server.base_url.is_https()
    }

    /// Organiser login over this state's storage and throttle.
    pub fn login(&self) -> Login<'_> {
        Login {
            pool: &self.pool,
            throttle: &self.login_throttle,
            password_checks: &self.password_checks,
            clock: &self.clock,
            session_ttl: self.settings.admin.session_ttl(),
        }
    }

    /// The housekeeping sweep over this state's storage, limiter and throttle.
    pub fn retention(&self) -> Retention {
        Retention {
            pool: self.pool.clone(),
            keys: self.keys.clone(),
            clock: self.clock.clone(),
            limiter: self.limiter.clone(),
            login_throttle: self.login_throttle.clone(),
            keep_pending: self.settings.signup.pending_retention(),
        }
    }
}

/// The shared state, for extractors.
pub fn from_request(req: &HttpRequest) -> Result<Data<AppState>, actix_web::Error> {
    req.app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state is missing")).into())
}
