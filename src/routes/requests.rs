//! `POST /subscriptions/resend` and `POST /subscriptions/manage`: both answer
//! 303 to the check page in every case, so they reveal nothing about an address.

use super::signup::{forbidden, signup_cookie, too_many_requests};
use crate::db::requests;
use crate::db::signups::SignupRules;
use crate::db::{self, DbConnection, DbError};
use crate::domain::EmailAddress;
use crate::web::body::{decode_form, form_value};
use crate::web::client::client_ip;
use crate::web::csrf;
use crate::web::error::AppError;
use crate::web::state::AppState;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;

type Request = fn(&mut DbConnection, &SignupRules, &str, NaiveDateTime) -> Result<bool, DbError>;

pub async fn resend(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    handle(req, body, state, requests::resend, true).await
}

pub async fn manage(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    handle(req, body, state, requests::request_manage_link, false).await
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    request: Request,
    sets_signup_cookie: bool,
) -> Result<HttpResponse, AppError> {
    if let Err(wait) = state
        .limiter
        .check(client_ip(&req, &state.settings.server.trusted_proxies))
    {
        return Ok(too_many_requests(wait));
    }
    let Ok(pairs) = decode_form(&body) else {
        return Ok(HttpResponse::BadRequest()
            .content_type("text/plain; charset=utf-8")
            .body("The form could not be read."));
    };
    let token = form_value(&pairs, "csrf_token");
    if !csrf::is_valid(&req, &state.keys, state.now_unix(), token.as_deref()) {
        return Ok(forbidden(&state));
    }
    let typed = form_value(&pairs, "email").unwrap_or_default();
    // A malformed address is answered like any other: nothing to send.
    if let Ok(email) = EmailAddress::parse(&typed) {
        let (rules, now, key) = (
            state.rules.clone(),
            state.clock.now_naive(),
            email.key().to_owned(),
        );
        db::blocking(&state.pool, move |c| request(c, &rules, &key, now)).await?;
    }
    let mut answer = HttpResponse::SeeOther();
    answer.insert_header((LOCATION, "/subscriptions/check"));
    if sets_signup_cookie {
        answer.cookie(signup_cookie(&state, &typed));
    }
    Ok(answer.finish())
}
