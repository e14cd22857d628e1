//! Finding one person: exact, case-insensitive search by address, with their
//! status, consent records, ledger and messages; erase, and retry a failed message.

use crate::db::bounces::{self, Reinstate};
use crate::db::{self, DbConnection, DbError, consents, erasure, ledger, outbox, registrations};
use crate::domain::EmailAddress;
use crate::web::admin_auth::SignedIn;
use crate::web::error::AppError;
use crate::web::pages::{EraseSubscriberPage, SubscriberPage, SubscriberView};
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, REFERER};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SearchQuery {
    email: Option<String>,
}

pub async fn search(
    query: web::Query<SearchQuery>,
    _: SignedIn,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let searched = query.into_inner().email.unwrap_or_default();
    let key = EmailAddress::parse(&searched)
        .ok()
        .map(|e| e.key().to_owned());
    let found = match key {
        Some(key) => db::blocking(&state.pool, move |c| subscriber(c, &key)).await?,
        None => None,
    };
    Ok(render::form_page(
        &req,
        &state,
        StatusCode::OK,
        |csrf_token| SubscriberPage {
            group: state.settings.group.clone(),
            csrf_token,
            searched,
            found,
        },
    ))
}

/// Everything the page shows about the registration with this address, if any.
fn subscriber(c: &mut DbConnection, email_key: &str) -> Result<Option<SubscriberView>, DbError> {
    let Some(registration) = registrations::find_by_email_key(c, email_key)? else {
        return Ok(None);
    };
    let id = registration.id.clone();
    Ok(Some(SubscriberView {
        consents: consents::for_registration(c, &id)?,
        ledger: ledger::for_registration(c, &id)?,
        messages: outbox::for_registration(c, &id)?,
        bounces: bounces::for_registration(c, &id)?,
        registration,
    }))
}

/// `GET /admin/subscribers/{id}/erase`: asks once more, with the Erase button.
pub async fn confirm_erase(
    _: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let lookup = id.clone();
    let Some(registration) =
        db::blocking(&state.pool, move |c| registrations::find(c, &lookup)).await?
    else {
        return Ok(HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("No such registration."));
    };
    Ok(render::form_page(
        &req,
        &state,
        StatusCode::OK,
        |csrf_token| EraseSubscriberPage {
            group: state.settings.group.clone(),
            csrf_token,
            id,
            email: registration.email,
        },
    ))
}

pub async fn erase(
    organiser: SignedIn,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, keys, now, actor) = (
        path.into_inner(),
        state.keys.clone(),
        state.clock.now_naive(),
        organiser.actor(),
    );
    db::blocking(&state.pool, move |c| {
        erasure::erase(c, &keys, &id, &actor, now)
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/admin/subscribers"))
        .finish())
}

/// `POST /admin/subscribers/{id}/reinstate`: confirmed again after a bounce → 303
/// back; anything else (a complaint, never confirmed) → 409.
pub async fn reinstate(
    organiser: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, now, actor) = (
        path.into_inner(),
        state.clock.now_naive(),
        organiser.actor(),
    );
    let done = db::blocking(&state.pool, move |c| {
        bounces::reinstate(c, &id, &actor, now)
    })
    .await?;
    Ok(match done {
        Reinstate::Done => HttpResponse::SeeOther()
            .insert_header((LOCATION, back(&req)))
            .finish(),
        Reinstate::NotAllowed => HttpResponse::Conflict()
            .content_type("text/plain; charset=utf-8")
            .body("Only a member unsubscribed because their address bounced, after confirming, can be reinstated."),
        Reinstate::NotFound => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("No such registration."),
    })
}

pub async fn retry(
    _: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (path.into_inner(), state.clock.now_naive());
    db::blocking(&state.pool, move |c| outbox::requeue_failed(c, &id, now)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, back(&req)))
        .finish())
}

/// Back to the admin page the form was on, when the Referer says so.
fn back(req: &HttpRequest) -> String {
    req.headers()
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/admin").map(|at| r[at..].to_owned()))
        .filter(|path| crate::web::admin_auth::safe_next(path))
        .unwrap_or_else(|| "/admin".to_owned())
}
