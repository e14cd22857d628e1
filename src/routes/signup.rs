//! The signup form and the JSON API. Both answer the same for every address
//! state (new, pending, confirmed, unsubscribed), so the answer reveals nothing.

use crate::db::consents::ConsentEvidence;
use crate::db::signups::NewSignup;
use crate::db::{self, deliveries};
use crate::domain::{FieldErrors, RawSignup, SignupDetails};
use crate::ops::metrics::SignupResult;
use crate::web::body::{SignupRequest, SubmittedSignup};
use crate::web::client::{client_address, user_agent};
use crate::web::error::AppError;
use crate::web::forms::{SignupForm, SignupJson};
use crate::web::pages::SignupPage;
use crate::web::rate_limit::SignupRateLimited;
use crate::web::responses::ErrorBody;
use crate::web::state::AppState;
use crate::web::{cookies, render};
use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// Binds a 6-digit code to the address typed into the form (sealed).
pub const SIGNUP_COOKIE: &str = "rollcall_signup";

/// `GET /`: the signup form.
pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (raw, errors) = (RawSignup::default(), FieldErrors::default());
    form_page(&req, &state, StatusCode::OK, &raw, &errors).await
}

/// The form, linking the archive of past announcements when there is one.
async fn form_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    raw: &RawSignup,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    let past_announcements = db::blocking(&state.pool, deliveries::any_archived).await?;
    Ok(render::form_page(req, state, status, |csrf_token| {
        let mut page = SignupPage::new(
            state.settings.group.clone(),
            &state.settings.signup,
            csrf_token,
            raw,
            errors,
            state.clock.now(),
        );
        page.past_announcements = past_announcements;
        page
    }))
}

/// `POST /subscriptions`: form submit → 303 to the check page, or 422 with the form.
pub async fn submit_form(
    SignupRateLimited(SignupForm(submitted)): SignupRateLimited<SignupForm>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(match accept(&req, &state, submitted, "form").await? {
        Accepted::Signed(typed) => HttpResponse::SeeOther()
            .insert_header((LOCATION, "/subscriptions/check"))
            .cookie(signup_cookie(&state, &typed))
            .finish(),
        Accepted::Invalid(raw, errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form_page(&req, &state, status, &raw, &errors).await?
        }
    })
}

/// The signup API's 202 body: the same for every address state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupAccepted {
    pub status: SignupStatus,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignupStatus {
    /// A confirmation is on its way (or nothing changes: the answer does not say).
    Pending,
}

/// The signup API's 422 body: every problem, as messages under each field's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidSignup {
    #[schema(value_type = HashMap<String, Vec<String>>, example = json!({"email": ["required"]}))]
    pub errors: FieldErrors,
}

/// `POST /api/v1/subscriptions`: JSON → 202 `{"status":"pending"}`, or 422 with field errors.
#[utoipa::path(
    post,
    path = "/api/v1/subscriptions",
    operation_id = "subscribe",
    request_body(content = SignupRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: a confirmation mail is on its way (the answer is the same for every address)", body = SignupAccepted),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 413, description = "The body is over the size limit", body = ErrorBody),
        (status = 415, description = "The Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Some fields are missing or invalid", body = InvalidSignup),
        (status = 429, description = "Too many requests from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Busy or the database is unreachable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn submit_api(
    SignupRateLimited(SignupJson(submitted)): SignupRateLimited<SignupJson>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(match accept(&req, &state, submitted, "api").await? {
        Accepted::Signed(typed) => HttpResponse::Accepted()
            .cookie(signup_cookie(&state, &typed))
            .json(SignupAccepted {
                status: SignupStatus::Pending,
            }),
        Accepted::Invalid(_, errors) => {
            HttpResponse::UnprocessableEntity().json(InvalidSignup { errors })
        }
    })
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
    // Whatever the outcome, the answer and its cookie are the same.
    state
        .writer
        .signup(new_signup(req, state, details, source))
        .await?;
    state.metrics.signup(SignupResult::accepted);
    Ok(Accepted::Signed(typed))
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
