//! The signup form and the JSON API. Both answer the same for every address
//! state (new, pending, confirmed, unsubscribed), so the answer reveals nothing.

use crate::db::consents::ConsentEvidence;
use crate::db::signups::NewSignup;
use crate::domain::{FieldErrors, RawSignup, SignupDetails};
use crate::ops::metrics::SignupResult;
use crate::web::body::{self, BodyError, SubmittedSignup};
use crate::web::client::{client_ip, user_agent};
use crate::web::error::AppError;
use crate::web::pages::{MessagePage, SignupPage};
use crate::web::state::AppState;
use crate::web::{cookies, csrf, render};
use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// Binds a 6-digit code to the address typed into the form (sealed).
pub const SIGNUP_COOKIE: &str = "rollcall_signup";

/// `GET /`: the signup form.
pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    form_page(
        &req,
        &state,
        StatusCode::OK,
        &RawSignup::default(),
        &FieldErrors::default(),
    )
}

fn form_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    raw: &RawSignup,
    errors: &FieldErrors,
) -> HttpResponse {
    render::form_page(req, state, status, |csrf_token| {
        SignupPage::new(
            state.group.clone(),
            &state.settings.signup,
            csrf_token,
            raw,
            errors,
        )
    })
}

/// `POST /subscriptions`: form submit → 303 to the check page, or 422 with the form.
pub async fn submit_form(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Err(wait) = rate_limit(&req, &state) {
        return Ok(too_many_requests(wait));
    }
    let submitted = match body::signup_from_form(&body) {
        Ok(submitted) => submitted,
        Err(error) => return Ok(bad_body(error)),
    };
    if !csrf::is_valid(
        &req,
        &state.keys,
        state.now_unix(),
        submitted.csrf_token.as_deref(),
    ) {
        return Ok(forbidden(&state));
    }
    match accept(&req, &state, submitted, "form").await? {
        Accepted::Signed(typed) => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, "/subscriptions/check"))
            .cookie(signup_cookie(&state, &typed))
            .finish()),
        Accepted::Invalid(raw, errors) => Ok(form_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &raw,
            &errors,
        )),
    }
}

/// `POST /api/v1/subscriptions`: JSON → 202 `{"status":"pending"}`, or 422 with field errors.
pub async fn submit_api(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Err(wait) = rate_limit(&req, &state) {
        return Ok(too_many_requests(wait));
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let submitted = match body::signup_from_json(content_type, &body) {
        Ok(submitted) => submitted,
        Err(error) => return Ok(bad_body(error)),
    };
    match accept(&req, &state, submitted, "api").await? {
        Accepted::Signed(typed) => Ok(HttpResponse::Accepted()
            .cookie(signup_cookie(&state, &typed))
            .json(json!({"status": "pending"}))),
        Accepted::Invalid(_, errors) => {
            Ok(HttpResponse::UnprocessableEntity().json(json!({"errors": errors})))
        }
    }
}

enum Accepted {
    /// Stored (or a bot, silently dropped): the address as typed, for the cookie.
    Signed(String),
    Invalid(RawSignup, FieldErrors),
}

/// Honeypot, then validation, then the writer. Every accepted outcome looks the same.
async fn accept(
    req: &HttpRequest,
    state: &AppState,
    submitted: SubmittedSignup,
    source: &str,
) -> Result<Accepted, AppError> {
    let SubmittedSignup {
        raw,
        type_errors,
        honeypot_filled,
        ..
    } = submitted;
    let typed = raw.email.clone().unwrap_or_default();
    if honeypot_filled {
        state.metrics.signup(SignupResult::honeypot);
        return Ok(Accepted::Signed(typed));
    }
    let details =
        match SignupDetails::parse_with(raw.clone(), &state.settings.signup.interests, type_errors)
        {
            Ok(details) => details,
            Err(errors) => {
                state.metrics.signup(SignupResult::invalid);
                return Ok(Accepted::Invalid(raw, errors));
            }
        };
    let signup = NewSignup {
        details,
        evidence: ConsentEvidence {
            ip: Some(client_ip(req, &state.settings.server.trusted_proxies).to_string()),
            user_agent: user_agent(req),
            text_version: state.settings.signup.consent_text_version.clone(),
            source: source.to_owned(),
        },
        actor: "subscriber".to_owned(),
    };
    // Whatever the outcome, the answer and its cookie are the same.
    state.writer.signup(signup).await?;
    state.metrics.signup(SignupResult::accepted);
    Ok(Accepted::Signed(typed))
}

/// The `rollcall_signup` cookie for an address as typed: sealed, one length
/// for every address, living as long as a confirmation token.
pub fn signup_cookie(state: &AppState, typed: &str) -> actix_web::cookie::Cookie<'static> {
    let value = state.keys.seal_signup(typed, state.now_unix());
    let max_age = state.settings.signup.token_ttl().num_seconds();
    cookies::build(
        SIGNUP_COOKIE,
        value,
        max_age,
        state.secure_cookies(),
        SameSite::Lax,
    )
}

fn rate_limit(req: &HttpRequest, state: &AppState) -> Result<(), u64> {
    let result = state
        .limiter
        .check(client_ip(req, &state.settings.server.trusted_proxies));
    if result.is_err() {
        state.metrics.signup(SignupResult::rate_limited);
    }
    result
}

/// 429 with `Retry-After`.
pub fn too_many_requests(wait_secs: u64) -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header((RETRY_AFTER, wait_secs.max(1).to_string()))
        .content_type("text/plain; charset=utf-8")
        .body("Too many requests from your address. Please wait a minute and try again.")
}

fn bad_body(error: BodyError) -> HttpResponse {
    let (status, text) = match error {
        BodyError::NotUrlencoded => (
            StatusCode::BAD_REQUEST,
            "The form could not be read. Please go back and try again.",
        ),
        BodyError::NotJsonObject => (
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object.",
        ),
        BodyError::NotJsonContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the request with Content-Type: application/json.",
        ),
    };
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

/// 403 for a missing or wrong CSRF token: the form was stale or forged.
pub fn forbidden(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.group.clone(),
        "This form has expired",
        &["For your security, forms are only valid for a day and only from this site. Please go back, reload the page and try again."],
    )
    .with_link("/", "Back to the form");
    render::page(StatusCode::FORBIDDEN, &page)
}
