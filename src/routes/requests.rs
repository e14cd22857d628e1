//! `POST /subscriptions/resend` and `POST /subscriptions/manage`: both answer
//! 303 to the check page in every case, so they reveal nothing about an address.

use super::signup::signup_cookie;
use crate::db::requests;
use crate::db::signups::SignupRules;
use crate::db::{self, DbConnection, DbError};
use crate::domain::EmailAddress;
use crate::web::error::AppError;
use crate::web::forms::{CsrfForm, FormFields};
use crate::web::rate_limit::RateLimited;
use crate::web::state::AppState;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;

type Request = fn(&mut DbConnection, &SignupRules, &str, NaiveDateTime) -> Result<bool, DbError>;

pub async fn resend(
    RateLimited(CsrfForm(form)): RateLimited<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    handle(form, state, requests::resend, true).await
}

pub async fn manage(
    RateLimited(CsrfForm(form)): RateLimited<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    handle(form, state, requests::request_manage_link, false).await
}

async fn handle(
    form: FormFields,
    state: web::Data<AppState>,
    request: Request,
    sets_signup_cookie: bool,
) -> Result<HttpResponse, AppError> {
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
    let mut answer = HttpResponse::SeeOther();
    answer.insert_header((LOCATION, "/subscriptions/check"));
    if sets_signup_cookie {
        answer.cookie(signup_cookie(&state, &typed));
    }
    Ok(answer.finish())
}
