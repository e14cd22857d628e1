//! Manage my registration: a 24-hour link with Unsubscribe and Erase-my-data.

use super::confirm::TokenQuery;
use crate::crypto::TokenPurpose;
use crate::db::tokens::{self, TokenRow};
use crate::db::{self, DbError, erasure, lifecycle};
use crate::web::error::AppError;
use crate::web::pages::{ManagePage, MessagePage};
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// The manage token's row if it is known and unexpired.
async fn live_token(
    state: &AppState,
    token: String,
) -> Result<Result<TokenRow, StatusCode>, AppError> {
    let now = state.clock.now_naive();
    let row = db::blocking(&state.pool, move |c| {
        tokens::find(c, TokenPurpose::Manage, &token)
    })
    .await?;
    Ok(match row {
        None => Err(StatusCode::NOT_FOUND),
        Some(row) if row.is_expired(now) => Err(StatusCode::GONE),
        Some(row) => Ok(row),
    })
}

/// `GET /manage?token=T`.
pub async fn show(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token.unwrap_or_default();
    Ok(match live_token(&state, token.clone()).await? {
        Ok(_) => token_page(
            StatusCode::OK,
            &ManagePage {
                group: state.settings.group.clone(),
                token,
            },
        ),
        Err(status) => invalid(&state, status),
    })
}

/// `POST /manage/unsubscribe?token=T`.
pub async fn unsubscribe(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token.unwrap_or_default();
    let row = match live_token(&state, token).await? {
        Ok(row) => row,
        Err(status) => return Ok(invalid(&state, status)),
    };
    let now = state.clock.now_naive();
    db::blocking(&state.pool, move |c| {
        db::write_transaction(c, |c| {
            lifecycle::unsubscribe(c, &row.registration_id, "subscriber", now)
        })
    })
    .await?;
    let page = MessagePage::new(
        state.settings.group.clone(),
        "You are unsubscribed",
        &["You will get no more mail from the list."],
    )
    .with_link("/", "Sign up again");
    Ok(token_page(StatusCode::OK, &page))
}

/// `POST /manage/erase?token=T`: everything about the person goes.
pub async fn erase(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token.unwrap_or_default();
    let row = match live_token(&state, token).await? {
        Ok(row) => row,
        Err(status) => return Ok(invalid(&state, status)),
    };
    let (keys, now) = (state.keys.clone(), state.clock.now_naive());
    db::blocking(&state.pool, move |c| -> Result<bool, DbError> {
        erasure::erase(c, &keys, &row.registration_id, "subscriber", now)
    })
    .await?;
    let page = MessagePage::new(
        state.settings.group.clone(),
        "Your data has been erased",
        &["We have deleted your registration, your consent records and every message queued for you. We keep only a one-way fingerprint of the address, so that an import cannot add it back, and a note that an erasure happened."],
    )
    .with_link("/", "Back to the start");
    Ok(token_page(StatusCode::OK, &page))
}

fn invalid(state: &AppState, status: StatusCode) -> HttpResponse {
    let text = if status == StatusCode::GONE {
        "This link has expired. Manage links work for 24 hours; ask for a new one on the check page."
    } else {
        "The link may have been copied incompletely, or the registration no longer exists."
    };
    let page = MessagePage::new(
        state.settings.group.clone(),
        "This link is not valid",
        &[text],
    )
    .with_link("/subscriptions/check", "Ask for a new link");
    token_page(status, &page)
}

fn token_page(status: StatusCode, page: &impl askama::Template) -> HttpResponse {
    let mut response = render::page(status, page);
    render::token_page_headers(&mut response);
    response
}
