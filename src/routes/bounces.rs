//! `POST /api/v1/bounces`: a mail server pipes a bounce or complaint here.

use crate::bounces::intake;
use crate::db::{self, bounces::BounceSource};
use crate::web::error::AppError;
use crate::web::raw_message::AuthorisedRawMessage;
use crate::web::responses::ErrorBody;
use crate::web::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// What the report was taken as.
#[derive(Serialize, ToSchema)]
pub struct BounceAccepted {
    /// `hard`, `soft`, `complaint`, `policy`, `ignored`, `unmatched` or `duplicate`.
    #[schema(example = "hard")]
    pub result: &'static str,
}

#[utoipa::path(
    post,
    path = "/api/v1/bounces",
    operation_id = "bounce",
    request_body(content = String, content_type = "text/plain", description = "A raw RFC 5322 message; any Content-Type is accepted (message/rfc822, text/plain, none)"),
    responses(
        (status = 202, description = "Read and recorded", body = BounceAccepted),
        (status = 400, description = "The body is not a message", body = ErrorBody),
        (status = 401, description = "No valid bearer token (always, while none is configured)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Bearer"))),
        (status = 413, description = "The body is over 1 MiB", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn receive(
    AuthorisedRawMessage(raw): AuthorisedRawMessage,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (keys, now) = (state.keys.clone(), state.clock.now_naive());
    let result = db::blocking(&state.pool, move |c| {
        intake::process(c, &keys, &raw, BounceSource::Webhook, now)
    })
    .await?;
    Ok(match result {
        Some(result) => HttpResponse::Accepted().json(BounceAccepted { result }),
        None => HttpResponse::BadRequest().json(ErrorBody {
            error: "The body is not a message: no header field before the first empty line."
                .to_owned(),
        }),
    })
}
