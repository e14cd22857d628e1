//! Periodic housekeeping: registrations never confirmed are erased
//! `signup.pending_retention_days` after their last signup or resend (ledger
//! actor `retention`) and VACUUM runs on PostgreSQL after erasing, the
//! counters of expired signup cookies go, and the rate limiter forgets idle
//! addresses.

use crate::db::{self, DbError, attempts, erasure};
use crate::web::state::AppState;
use actix_web::web;
use std::time::Duration;
use tokio::sync::watch;

const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// One sweep; returns how many registrations were erased.
pub async fn sweep(state: &AppState) -> Result<usize, DbError> {
    let now = state.clock.now_naive();
    let cutoff = now - state.settings.signup.pending_retention();
    let keys = state.keys.clone();
    let erased = db::blocking(&state.pool, move |c| {
        let erased = erasure::erase_stale_pending(c, &keys, cutoff, now)?;
        if erased > 0 {
            erasure::vacuum_erased_tables(c)?;
        }
        attempts::delete_expired_cookie_counters(c, now)?;
        Ok(erased)
    })
    .await?;
    if erased > 0 {
        tracing::info!(erased, "erased registrations never confirmed");
    }
    state.limiter.shrink();
    Ok(erased)
}

/// Sweeps at start and then hourly until `shutdown` turns true.
pub async fn run(state: web::Data<AppState>, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(error) = sweep(&state).await {
            tracing::warn!(%error, "retention sweep failed; will try again");
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = shutdown.changed() => {}
        }
    }
}
