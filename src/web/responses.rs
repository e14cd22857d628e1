//! The refusals every route family shares: 400 (a body or query that cannot be
//! read), 403 (a stale or forged form), 413 (a body over the limit) and 429 (over
//! the rate limit). Extractors answer with them through [`refusal`].

use crate::configuration::GroupSettings;
use crate::web::body::BodyError;
use crate::web::pages::MessagePage;
use crate::web::render;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{Error, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// Every refusal under `/api/` has this body (field errors aside).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What was wrong, in a sentence.
    #[schema(example = "The request body must be a JSON object.")]
    pub error: String,
}

/// Turns a finished answer into an extractor's error, so actix sends it as it is.
pub fn refusal(response: HttpResponse) -> Error {
    let status = response.status();
    InternalError::from_response(status, response).into()
}

/// 400 with a plain-text reason.
pub fn bad_request(text: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/plain; charset=utf-8")
        .body(text.into())
}

/// 400: a query string that is not percent-encoded UTF-8.
pub fn unreadable_query() -> HttpResponse {
    bad_request("The query could not be read.")
}

/// 400: a form body that is not urlencoded UTF-8.
pub fn unreadable_form() -> HttpResponse {
    bad_request("The form could not be read.")
}

/// 400 or 415: a signup body (form or JSON) that could not be read at all.
pub fn unreadable_signup(error: BodyError) -> HttpResponse {
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
pub fn forbidden(group: &GroupSettings) -> HttpResponse {
    let page = MessagePage::new(
        group.clone(),
        "This form has expired",
        &["For your security, forms are only valid for a day and only from this site. Please go back, reload the page and try again."],
    )
    .with_link("/", "Back to the form");
    render::page(StatusCode::FORBIDDEN, &page)
}

/// 413: a body over `server.max_body_bytes`.
pub fn payload_too_large() -> HttpResponse {
    HttpResponse::PayloadTooLarge()
        .content_type("text/plain; charset=utf-8")
        .body("payload reached size limit")
}

/// 429 with `Retry-After`.
pub fn too_many_requests(wait_secs: u64) -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header((RETRY_AFTER, wait_secs.max(1).to_string()))
        .content_type("text/plain; charset=utf-8")
        .body("Too many requests from your address. Please wait a minute and try again.")
}
