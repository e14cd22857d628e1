//! Login and logout. The rules (throttle, password check, session) are in
//! `organisers::login`; here is only what travels over HTTP.

use crate::crypto::token_hash;
use crate::db::{self, organisers};
use crate::organisers::login::LoginOutcome;
use crate::web::admin_auth::{self, SESSION_COOKIE, SignedIn, safe_next};
use crate::web::client::client_address;
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;
use crate::web::responses::too_many_requests;
use crate::web::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};

const WRONG: &str = "That email address and password do not match an organiser account.";

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let next =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("next").cloned());
    admin_auth::login_page(&req, &state, StatusCode::OK, None, next)
}

pub async fn submit(
    req: HttpRequest,
    CsrfForm(form): CsrfForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let client = client_address(&req, &state.settings.server.trusted_proxies);
    let (email, password) = (form.text("email"), form.text("password"));
    Ok(
        match state.login().attempt(&email, password, client).await? {
            LoginOutcome::Throttled { wait_secs } => too_many_requests(wait_secs),
            LoginOutcome::Busy { wait_secs } => busy(wait_secs),
            LoginOutcome::WrongCredentials => {
                let next = Some(form.text("next"));
                admin_auth::login_page(&req, &state, StatusCode::UNAUTHORIZED, Some(WRONG), next)
            }
            LoginOutcome::SignedIn { session, ttl } => {
                let next = Some(form.text("next")).filter(|n| safe_next(n));
                HttpResponse::SeeOther()
                    .insert_header((LOCATION, next.unwrap_or_else(|| "/admin".to_owned())))
                    .cookie(session_cookie(&state, session, ttl.num_seconds()))
                    .finish()
            }
        },
    )
}

/// 503: every password-check slot stayed busy.
fn busy(wait_secs: u64) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((RETRY_AFTER, wait_secs.to_string()))
        .content_type("text/plain; charset=utf-8")
        .body("The service is busy. Please try again in a few seconds.")
}

fn session_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    crate::web::cookies::build(
        SESSION_COOKIE,
        value,
        max_age,
        state.secure_cookies(),
        SameSite::Strict,
    )
}

/// Ends the server-side session and clears the cookie.
pub async fn logout(
    _: SignedIn,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let hash = token_hash(cookie.value());
        db::blocking(&state.pool, move |c| organisers::delete_session(c, &hash)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/admin/login"))
        .cookie(session_cookie(&state, String::new(), 0))
        .finish())
}
