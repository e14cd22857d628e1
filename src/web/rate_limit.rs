//! The per-client rate limit as an extractor around the body extractor:
//! `RateLimited<CsrfForm>` takes from the client's bucket first and only then
//! reads the body, so an over-limit client's body is never read (actix polls a
//! handler's extractors side by side, so a separate guard would not be enough).

use crate::ops::metrics::SignupResult;
use crate::web::client::client_address;
use crate::web::error::AppError;
use crate::web::responses::{refusal, too_many_requests};
use crate::web::state::{self, AppState};
use actix_web::ResponseError;
use actix_web::dev::Payload;
use actix_web::{Error, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;

/// Takes one request from the client's bucket; over the limit, the 429 to
/// answer (a 503 or 500 when the shared buckets cannot be read).
pub async fn refused(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    let client = client_address(req, &state.settings.server.trusted_proxies);
    let now_ms = state.clock.now().timestamp_millis();
    match state.limiter.check(client, now_ms).await {
        Ok(Ok(())) => None,
        Ok(Err(wait_secs)) => Some(too_many_requests(wait_secs)),
        Err(error) => Some(AppError::from(error).error_response()),
    }
}

/// `T`, extracted only after the client's bucket allowed the request.
pub struct RateLimited<T>(pub T);

/// The same limit on the signup routes, where a refusal is also counted in the metrics.
pub struct SignupRateLimited<T>(pub T);

async fn limited<T: FromRequest>(
    req: HttpRequest,
    mut payload: Payload,
    count_refusal: bool,
) -> Result<T, Error> {
    let state = state::from_request(&req)?;
    if let Some(answer) = refused(&req, &state).await {
        if count_refusal && answer.status().as_u16() == 429 {
            state.metrics.signup(SignupResult::rate_limited);
        }
        return Err(refusal(answer));
    }
    T::from_request(&req, &mut payload)
        .await
        .map_err(Into::into)
}

impl<T: FromRequest + 'static> FromRequest for RateLimited<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move { limited(req, payload, false).await.map(RateLimited) })
    }
}

impl<T: FromRequest + 'static> FromRequest for SignupRateLimited<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move { limited(req, payload, true).await.map(SignupRateLimited) })
    }
}
