//! One-click unsubscribe (RFC 8058): the POST works whatever its body and
//! content type, without cookies, and answers 200 (also when already done),
//! with a button that asks for a manage link (`POST /unsubscribe/manage`).

use crate::db::{self, lifecycle};
use crate::web::error::AppError;
use crate::web::link_token::LinkToken;
use crate::web::pages::{MessagePage, UnsubscribePage};
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// `GET /unsubscribe?token=T`: a page with one button, or 404.
pub async fn show(
    LinkToken(token): LinkToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if state.keys.is_test_unsubscribe_token(&token) {
        return Ok(test_send(&state));
    }
    let lookup = token.clone();
    let target = db::blocking(&state.pool, move |c| {
        lifecycle::unsubscribe_target(c, &lookup)
    })
    .await?;
    Ok(match target {
        Some(_) => token_page(
            StatusCode::OK,
            &UnsubscribePage {
                group: state.settings.group.clone(),
                done: false,
                token,
            },
        ),
        None => unknown(&state),
    })
}

/// `POST /unsubscribe?token=T`: the body is never read.
pub async fn submit(
    LinkToken(token): LinkToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if state.keys.is_test_unsubscribe_token(&token) {
        return Ok(test_send(&state));
    }
    let (now, lookup) = (state.clock.now_naive(), token.clone());
    let result = db::blocking(&state.pool, move |c| {
        lifecycle::unsubscribe_with_token(c, &lookup, "subscriber", now)
    })
    .await?;
    Ok(match result {
        Some(_) => token_page(
            StatusCode::OK,
            &UnsubscribePage {
                group: state.settings.group.clone(),
                done: true,
                token,
            },
        ),
        None => unknown(&state),
    })
}

/// A test send's link, followed or posted: 200, and nobody is unsubscribed.
fn test_send(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.settings.group.clone(),
        "This link came in a test send",
        &[
            "It belongs to a test of an announcement, so it unsubscribes nobody.",
            "In the announcement members receive, this link unsubscribes them at once.",
        ],
    );
    token_page(StatusCode::OK, &page)
}

/// An unsubscribe token that names no registration: 404.
pub(super) fn unknown(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.settings.group.clone(),
        "This link is not valid",
        &["The link may have been copied incompletely, or the registration no longer exists."],
    );
    token_page(StatusCode::NOT_FOUND, &page)
}

fn token_page(status: StatusCode, page: &impl askama::Template) -> HttpResponse {
    let mut response = render::page(status, page);
    render::token_page_headers(&mut response);
    response
}
