//! Liveness, readiness and metrics.

use crate::db;
use crate::web::client::is_direct_loopback;
use crate::web::state::AppState;
use actix_web::http::header::{AUTHORIZATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq;

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// 200 when the database answers a query, else 503.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match db::blocking(&state.pool, db::ping).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            HttpResponse::ServiceUnavailable()
                .insert_header((RETRY_AFTER, "5"))
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

/// Prometheus text, for the bearer of `server.metrics_token`; while that key is
/// unset, only for a direct loopback peer with no forwarding header. Anyone else gets a 404, as if nothing were here.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed = match &state.settings.server.metrics_token {
        Some(token) => req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))),
        None => is_direct_loopback(&req),
    };
    if !allowed {
        return super::not_found();
    }
    refresh_outbox_gauges(&state).await;
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

/// Outbox depth, failures and the age of the oldest due message, read at scrape
/// time. If the database does not answer, the gauges keep their last values.
async fn refresh_outbox_gauges(state: &AppState) {
    let now = state.clock.now_naive();
    match db::blocking(&state.pool, move |c| db::aggregates::outbox_health(c, now)).await {
        Ok(health) => {
            let metrics = &state.metrics;
            metrics.outbox_queued.set(health.queued);
            metrics.outbox_failed.set(health.failed);
            let age = health
                .oldest_due
                .map_or(0.0, |due| (now - due).num_seconds().max(0) as f64);
            metrics.outbox_oldest_due_seconds.set(age);
        }
        Err(error) => tracing::warn!(%error, "could not read the outbox for metrics"),
    }
}
