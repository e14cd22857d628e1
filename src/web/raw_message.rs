//! The body of `POST /api/v1/bounces`: a raw message, taken only from a
//! caller holding `email.bounce.webhook_token`. Others take from the per-IP
//! bucket and get 401 (always, while no token is configured); the body, up
//! to 1 MiB, is read only once the token holds.

use crate::bounces::intake::MAX_MESSAGE_BYTES;
use crate::web::admin_auth::bearer;
use crate::web::hardening::is_body_timeout;
use crate::web::rate_limit;
use crate::web::responses::{payload_too_large, refusal};
use crate::web::state::{self, AppState};
use actix_web::dev::Payload;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

/// A raw message from the webhook's authorised caller.
pub struct AuthorisedRawMessage(pub Bytes);

/// Whether the request carries the configured webhook token (constant time).
fn authorised(req: &HttpRequest, state: &AppState) -> bool {
    let (Some(expected), Some(given)) = (&state.settings.email.bounce.webhook_token, bearer(req))
    else {
        return false;
    };
    let expected = expected.expose().as_bytes();
    expected.len() == given.len() && bool::from(expected.ct_eq(given.as_bytes()))
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((WWW_AUTHENTICATE, "Bearer"))
        .json(serde_json::json!({"error": "A valid bearer token is required."}))
}

/// The body, at most [`MAX_MESSAGE_BYTES`] (else 413).
async fn read_capped(mut payload: Payload) -> Result<Bytes, Error> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            if is_body_timeout(&error) {
                refusal(
                    HttpResponse::RequestTimeout()
                        .force_close()
                        .json(serde_json::json!({"error": "The request took too long to arrive."})),
                )
            } else {
                Error::from(error)
            }
        })?;
        if body.len() + chunk.len() > MAX_MESSAGE_BYTES {
            return Err(refusal(payload_too_large()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl FromRequest for AuthorisedRawMessage {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let state = state::from_request(&req)?;
            if !authorised(&req, &state) {
                if let Some(answer) = rate_limit::refused(&req, &state).await {
                    return Err(refusal(answer));
                }
                return Err(refusal(unauthorized()));
            }
            read_capped(payload).await.map(AuthorisedRawMessage)
        })
    }
}
