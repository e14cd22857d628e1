//! Confirmation: GET shows one button and never changes state; POST confirms
//! with the link's token, or with the 6-digit code and the `rollcall_signup` cookie.

use super::signup::SIGNUP_COOKIE;
use crate::db::codes::{self, CodeResult};
use crate::db::lifecycle::{self, ConfirmLink, Confirmation};
use crate::db::registrations::ConfirmEvidence;
use crate::db::{self};
use crate::web::client::{client_address, user_agent};
use crate::web::error::AppError;
use crate::web::forms::FormFields;
use crate::web::link_token::LinkToken;
use crate::web::pages::{CheckPage, ConfirmPage, ConfirmState, WelcomePage};
use crate::web::rate_limit;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
struct CheckQuery {
    resent: Option<String>,
}

/// `GET /subscriptions/check[?resent=1]`: shows the address typed, from the
/// sealed signup cookie (so the page is the same for every address state).
pub async fn check(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let typed_address = req
        .cookie(SIGNUP_COOKIE)
        .and_then(|c| state.keys.open_signup(c.value()))
        .map(|seal| seal.address)
        .filter(|address| !address.trim().is_empty());
    // A malformed query is not worth a 400 here: it only drops the acknowledgement.
    let resent = web::Query::<CheckQuery>::from_query(req.query_string())
        .is_ok_and(|q| q.resent.as_deref() == Some("1"));
    render::form_page(&req, &state, StatusCode::OK, |csrf_token| CheckPage {
        group: state.settings.group.clone(),
        csrf_token,
        code_error: None,
        typed_address,
        resent,
    })
}

/// `GET /subscriptions/confirm?token=T`.
pub async fn show(
    req: HttpRequest,
    LinkToken(token): LinkToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now_naive();
    let lookup = token.clone();
    let link = db::blocking(&state.pool, move |c| {
        lifecycle::inspect_confirm(c, &lookup, now)
    })
    .await?;
    let (status, state_view) = match link {
        ConfirmLink::Usable(_) => (StatusCode::OK, ConfirmState::Ready(token)),
        ConfirmLink::AlreadyConfirmed => (StatusCode::OK, ConfirmState::Done),
        ConfirmLink::Expired => (StatusCode::GONE, ConfirmState::Resend),
        ConfirmLink::Unknown => (StatusCode::NOT_FOUND, ConfirmState::Resend),
    };
    Ok(confirm_page(&req, &state, status, state_view))
}

fn confirm_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    view: ConfirmState,
) -> HttpResponse {
    let (title, explanation) = match (&view, status) {
        (ConfirmState::Ready(_), _) => ("Confirm your registration", ""),
        (ConfirmState::Done, _) => ("You are already confirmed", ""),
        (ConfirmState::Resend, StatusCode::GONE) => (
            "This link has expired",
            "Confirmation links work for a limited time, and each works only until the registration is confirmed.",
        ),
        (ConfirmState::Resend, _) => (
            "This link is not valid",
            "The link may have been copied incompletely, or it belongs to a registration that no longer exists.",
        ),
    };
    let mut response = render::form_page(req, state, status, |csrf_token| ConfirmPage {
        group: state.settings.group.clone(),
        title: title.to_owned(),
        explanation: explanation.to_owned(),
        state: view,
        csrf_token,
    });
    render::token_page_headers(&mut response);
    response
}

/// `POST /subscriptions/confirm`: `token`, or `code` with the signup cookie.
/// The body is read before the rate limit, so that only code attempts take from the bucket.
pub async fn submit(
    form: FormFields,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    match form.get("token").filter(|t| !t.is_empty()) {
        Some(token) => confirm_by_token(&req, &state, token).await,
        None => confirm_by_code(&req, &state, form.text("code")).await,
    }
}

fn evidence(req: &HttpRequest, state: &AppState, via: &'static str) -> ConfirmEvidence {
    ConfirmEvidence {
        via,
        ip: client_address(req, &state.settings.server.trusted_proxies)
            .ip()
            .map(|ip| ip.to_string()),
        user_agent: user_agent(req),
    }
}

async fn confirm_by_token(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    token: String,
) -> Result<HttpResponse, AppError> {
    let (rules, evidence, now) = (
        state.rules.clone(),
        evidence(req, state, "link"),
        state.clock.now_naive(),
    );
    let result = db::blocking(&state.pool, move |c| {
        lifecycle::confirm_with_token(c, &rules, &token, &evidence, now)
    })
    .await?;
    Ok(match result {
        Confirmation::Confirmed | Confirmation::AlreadyConfirmed => to_welcome(),
        Confirmation::Expired => confirm_page(req, state, StatusCode::GONE, ConfirmState::Resend),
        Confirmation::Unknown => {
            confirm_page(req, state, StatusCode::NOT_FOUND, ConfirmState::Resend)
        }
    })
}

/// The one answer to every code that does not confirm, whatever the reason.
const CODE_NOT_ACCEPTED: &str = "That code did not work. A code works only in the browser where the form was sent; the link in the email works anywhere.";

/// Codes count against the per-IP limit, and work only with the signup cookie.
async fn confirm_by_code(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    code: String,
) -> Result<HttpResponse, AppError> {
    if let Some(refused) = rate_limit::refused(req, state).await {
        return Ok(refused);
    }
    let seal = req
        .cookie(SIGNUP_COOKIE)
        .and_then(|c| state.keys.open_signup(c.value()));
    let code = codes::normalise_code(&code);
    let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let Some(seal) = seal.filter(|_| well_formed) else {
        return Ok(code_not_accepted(req, state));
    };
    let (rules, evidence, now) = (
        state.rules.clone(),
        evidence(req, state, "code"),
        state.clock.now_naive(),
    );
    let max = i32::try_from(state.settings.signup.code_max_attempts).unwrap_or(i32::MAX);
    let result = db::blocking(&state.pool, move |c| {
        codes::confirm_with_code(c, &rules, &seal, &code, max, &evidence, now)
    })
    .await?;
    Ok(match result {
        CodeResult::Confirmed | CodeResult::AlreadyConfirmed => to_welcome(),
        CodeResult::NotConfirmed => code_not_accepted(req, state),
    })
}

/// The check page again with [`CODE_NOT_ACCEPTED`]. It leaves out the typed
/// address, so that this answer is one page byte for byte, whatever the cookie.
fn code_not_accepted(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render::form_page(req, state, status, |csrf_token| CheckPage {
        group: state.settings.group.clone(),
        csrf_token,
        code_error: Some(CODE_NOT_ACCEPTED.to_owned()),
        typed_address: None,
        resent: false,
    })
}

fn to_welcome() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/subscriptions/confirmed"))
        .finish()
}

/// `GET /subscriptions/confirmed`.
pub async fn confirmed(state: web::Data<AppState>) -> HttpResponse {
    let page = WelcomePage {
        group: state.settings.group.clone(),
    };
    render::page(StatusCode::OK, &page)
}
