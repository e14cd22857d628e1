//! `POST /subscriptions/resend` (→ the check page, `?resent=1`),
//! `POST /subscriptions/manage` (→ `/subscriptions/manage/sent`) and the
//! unsubscribed page's `POST /unsubscribe/manage?token=T` (→ the same): each
//! answers one way in every case, so it reveals nothing about an address.

use super::signup::signup_cookie;
use crate::db::requests;
use crate::db::signups::SignupRules;
use crate::db::{self, DbConnection, DbError};
use crate::domain::EmailAddress;
use crate::web::error::AppError;
use crate::web::forms::{CsrfForm, FormFields};
use crate::web::link_token::LinkToken;
use crate::web::pages::ManageSentPage;
use crate::web::rate_limit::RateLimited;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;

const RESENT: &str = "/subscriptions/check?resent=1";
const MANAGE_SENT: &str = "/subscriptions/manage/sent";

type Request = fn(&mut DbConnection, &SignupRules, &str, NaiveDateTime) -> Result<bool, DbError>;

pub async fn resend(
    RateLimited(CsrfForm(form)): RateLimited<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let typed = request_for_typed_address(&form, &state, requests::resend).await?;
    // A resend sends a new code, which the cookie binds to this browser.
    Ok(see_other(RESENT)
        .cookie(signup_cookie(&state, &typed))
        .finish())
}

pub async fn manage(
    RateLimited(CsrfForm(form)): RateLimited<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    request_for_typed_address(&form, &state, requests::request_manage_link).await?;
    Ok(see_other(MANAGE_SENT).finish())
}

/// Runs `request` for the form's address; returns the address as typed.
async fn request_for_typed_address(
    form: &FormFields,
    state: &AppState,
    request: Request,
) -> Result<String, AppError> {
    let typed = form.text("email");
    // A malformed address is answered like any other: nothing to send.
    if let Ok(email) = EmailAddress::parse(&typed) {
        let (rules, now, key) = (
            state.rules.clone(),
            state.clock.now_naive(),
            email.key().to_owned(),
        );
        db::blocking(&state.pool, move |c| request(c, &rules, &key, now)).await?;
    }
    Ok(typed)
}

/// `POST /unsubscribe/manage?token=T`: a manage link to the address of the
/// token's registration; the body is never read. An unknown token → 404.
pub async fn manage_from_unsubscribe(
    RateLimited(LinkToken(token)): RateLimited<LinkToken>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (rules, now) = (state.rules.clone(), state.clock.now_naive());
    let found = db::blocking(&state.pool, move |c| {
        requests::request_manage_link_by_unsubscribe_token(c, &rules, &token, now)
    })
    .await?;
    Ok(match found {
        Some(_) => {
            let mut answer = see_other(MANAGE_SENT).finish();
            render::token_page_headers(&mut answer);
            answer
        }
        None => super::unsubscribe::unknown(&state),
    })
}

/// `GET /subscriptions/manage/sent`: a link is on its way if the address is
/// registered, and what to do if nothing arrives.
pub async fn manage_sent(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render::form_page(&req, &state, StatusCode::OK, |csrf_token| ManageSentPage {
        group: state.settings.group.clone(),
        csrf_token,
    })
}

fn see_other(location: &'static str) -> actix_web::HttpResponseBuilder {
    let mut answer = HttpResponse::SeeOther();
    answer.insert_header((LOCATION, location));
    answer
}
