//! The signup form and the JSON API. Both answer the same for every address
//! state (new, pending, confirmed, unsubscribed), so the answer reveals nothing.

use crate::db::consents::ConsentEvidence;
use crate::db::signups::{NewSignup, SignupOutcome};
use crate::domain::{FieldErrors, RawSignup, SignupDetails};
use crate::ops::metrics::SignupResult;
use crate::web::body::SubmittedSignup;
use crate::web::client::{client_address, user_agent};
use crate::web::error::AppError;
use crate::web::forms::{SignupForm, SignupJson};
use crate::web::pages::SignupPage;
use crate::web::rate_limit::SignupRateLimited;
use crate::web::state::AppState;
use crate::web::{cookies, render};
use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// Binds a 6-digit code to the registration it was sent for.
pub const SIGNUP_COOKIE: &str = "rollcall_signup";
const SIGNUP_COOKIE_SECS: i64 = 72 * 3600;

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
            state.settings.group.clone(),
            &state.settings.signup,
            csrf_token,
            raw,
            errors,
        )
    })
}

/// `POST /subscriptions`: form submit → 303 to the check page, or 422 with the form.
pub async fn submit_form(
    SignupRateLimited(SignupForm(submitted)): SignupRateLimited<SignupForm>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(match accept(&req, &state, submitted, "form").await? {
        Accepted::Signed(cookie_value) => HttpResponse::SeeOther()
            .insert_header((LOCATION, "/subscriptions/check"))
            .cookie(signup_cookie(&state, cookie_value))
            .finish(),
        Accepted::Invalid(raw, errors) => form_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &raw,
            &errors,
        ),
    })
}

/// `POST /api/v1/subscriptions`: JSON → 202 `{"status":"pending"}`, or 422 with field errors.
pub async fn submit_api(
    SignupRateLimited(SignupJson(submitted)): SignupRateLimited<SignupJson>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(match accept(&req, &state, submitted, "api").await? {
        Accepted::Signed(cookie_value) => HttpResponse::Accepted()
            .cookie(signup_cookie(&state, cookie_value))
            .json(json!({"status": "pending"})),
        Accepted::Invalid(_, errors) => {
            HttpResponse::UnprocessableEntity().json(json!({"errors": errors}))
        }
    })
}

enum Accepted {
    /// Stored (or a bot, silently dropped): the signed `rollcall_signup` value.
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
    if honeypot_filled {
        state.metrics.signup(SignupResult::honeypot);
        return Ok(Accepted::Signed(dummy_cookie_value(state)));
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
    let outcome = state
        .writer
        .signup(new_signup(req, state, details, source))
        .await?;
    state.metrics.signup(SignupResult::accepted);
    Ok(Accepted::Signed(cookie_value(state, &outcome)))
}

/// The `rollcall_signup` value: bound to the registration when a code was sent.
fn cookie_value(state: &AppState, outcome: &SignupOutcome) -> String {
    match outcome {
        SignupOutcome::Pending {
            registration_id, ..
        } => cookies::signed_value(&state.keys, SIGNUP_COOKIE, registration_id),
        SignupOutcome::AlreadyMember { .. } => dummy_cookie_value(state),
    }
}

/// The writer's job, with the consent evidence: where the request came from and
/// the wording agreed to.
fn new_signup(
    req: &HttpRequest,
    state: &AppState,
    details: SignupDetails,
    source: &str,
) -> NewSignup {
    NewSignup {
        details,
        evidence: ConsentEvidence {
            ip: client_address(req, &state.settings.server.trusted_proxies)
                .ip()
                .map(|ip| ip.to_string()),
            user_agent: user_agent(req),
            text_version: state.settings.signup.consent_text_version.clone(),
            source: source.to_owned(),
        },
        actor: "subscriber".to_owned(),
    }
}

/// A cookie value shaped like a real one that binds to no registration.
fn dummy_cookie_value(state: &AppState) -> String {
    cookies::signed_value(&state.keys, SIGNUP_COOKIE, &crate::db::new_id())
}

fn signup_cookie(state: &AppState, value: String) -> actix_web::cookie::Cookie<'static> {
    cookies::build(
        SIGNUP_COOKIE,
        value,
        SIGNUP_COOKIE_SECS,
        state.secure_cookies(),
        SameSite::Lax,
    )
}
