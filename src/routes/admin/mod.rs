//! The organiser pages. GETs accept a session or a bearer token; POSTs need a
//! session and the CSRF token.

mod dashboard;
mod export;
mod login;
mod subscribers;

use crate::db::organisers::Organiser;
use crate::web::admin_auth::{self, Allow};
use crate::web::body::{decode_form, form_value};
use crate::web::csrf;
use crate::web::error::AppError;
use crate::web::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/login", web::get().to(login::form))
        .route("/admin/login", web::post().to(login::submit))
        .route("/admin/logout", web::post().to(login::logout))
        .route("/admin", web::get().to(dashboard::show))
        .route("/admin/export.csv", web::get().to(export::download))
        .route("/admin/subscribers", web::get().to(subscribers::search))
        .route(
            "/admin/subscribers/{id}/erase",
            web::post().to(subscribers::erase),
        )
        .route(
            "/admin/outbox/{id}/retry",
            web::post().to(subscribers::retry),
        );
}

/// The organiser for a GET, or the 401 answer to give.
async fn for_get(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Result<Organiser, HttpResponse>, AppError> {
    Ok(admin_auth::organiser(req, state, Allow::SessionOrBearer)
        .await?
        .ok_or_else(|| admin_auth::unauthorized(req, state)))
}

/// The organiser for a form POST (session and CSRF), or the answer to give.
async fn for_post(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<Result<Organiser, HttpResponse>, AppError> {
    let Some(organiser) = admin_auth::organiser(req, state, Allow::SessionOnly).await? else {
        return Ok(Err(admin_auth::unauthorized(req, state)));
    };
    let token = decode_form(body)
        .ok()
        .and_then(|pairs| form_value(&pairs, "csrf_token"));
    if !csrf::is_valid(req, &state.keys, state.now_unix(), token.as_deref()) {
        return Ok(Err(super::signup::forbidden(state)));
    }
    Ok(Ok(organiser))
}

/// The ledger actor for an organiser's actions.
fn actor(organiser: &Organiser) -> String {
    format!("organiser:{}", organiser.email)
}
