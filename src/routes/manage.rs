//! Manage my registration: a 24-hour link with Unsubscribe and Erase-my-data.

use crate::crypto::TokenPurpose;
use crate::db::tokens::{self, TokenRow};
use crate::db::{self, DbError, erasure, lifecycle};
use crate::web::error::AppError;
use crate::web::link_token::LinkToken;
use crate::web::pages::{ManageErasePage, ManagePage, MessagePage};
use crate::web::render;
use crate::web::responses::refusal;
use crate::web::state::{self, AppState};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{Error, FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;

/// A manage link whose token is known and unexpired; otherwise the request is
/// answered with the "not valid" page (404, or 410 when expired).
pub struct LiveManageLink {
    token: String,
    row: TokenRow,
}

impl LiveManageLink {
    async fn extract(req: HttpRequest, mut payload: Payload) -> Result<Self, Error> {
        let LinkToken(token) = LinkToken::from_request(&req, &mut payload).await?;
        let state = state::from_request(&req)?;
        let (lookup, now) = (token.clone(), state.clock.now_naive());
        let row = db::blocking(&state.pool, move |c| {
            tokens::find(c, TokenPurpose::Manage, &lookup)
        })
        .await
        .map_err(AppError::from)?;
        match row {
            None => Err(refusal(invalid(&state, StatusCode::NOT_FOUND))),
            Some(row) if row.is_expired(now) => Err(refusal(invalid(&state, StatusCode::GONE))),
            Some(row) => Ok(Self { token, row }),
        }
    }
}

impl FromRequest for LiveManageLink {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        Box::pin(Self::extract(req.clone(), payload.take()))
    }
}

/// `GET /manage?token=T`: the address and what is kept, Unsubscribe while
/// subscribed, and a link to the erase step.
pub async fn show(
    link: LiveManageLink,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(registration) = registration_of(&link, &state).await? else {
        return Ok(invalid(&state, StatusCode::NOT_FOUND));
    };
    let page = ManagePage {
        group: state.settings.group.clone(),
        token: link.token,
        registration,
    };
    Ok(token_page(StatusCode::OK, &page))
}

/// `GET /manage/erase?token=T`: asks once more, with the Erase button.
pub async fn confirm_erase(
    link: LiveManageLink,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(registration) = registration_of(&link, &state).await? else {
        return Ok(invalid(&state, StatusCode::NOT_FOUND));
    };
    let page = ManageErasePage {
        group: state.settings.group.clone(),
        token: link.token,
        email: registration.email,
    };
    Ok(token_page(StatusCode::OK, &page))
}

async fn registration_of(
    link: &LiveManageLink,
    state: &AppState,
) -> Result<Option<crate::db::registrations::Registration>, AppError> {
    let id = link.row.registration_id.clone();
    Ok(db::blocking(&state.pool, move |c| crate::db::registrations::find(c, &id)).await?)
}

/// `POST /manage/unsubscribe?token=T`.
pub async fn unsubscribe(
    link: LiveManageLink,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (link.row.registration_id, state.clock.now_naive());
    db::blocking(&state.pool, move |c| {
        db::write_transaction(c, |c| lifecycle::unsubscribe(c, &id, "subscriber", now))
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
    link: LiveManageLink,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, keys, now) = (
        link.row.registration_id,
        state.keys.clone(),
        state.clock.now_naive(),
    );
    db::blocking(&state.pool, move |c| -> Result<bool, DbError> {
        erasure::erase(c, &keys, &id, "subscriber", now)
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
