//! The per-IP rate limit as a guard. Put the guard before any body extractor
//! in a handler's parameters: actix polls extractors in that order and answers
//! with the first refusal, so an over-limit body is never read.

use crate::ops::metrics::SignupResult;
use crate::web::client::client_ip;
use crate::web::responses::{refusal, too_many_requests};
use crate::web::state::AppState;
use actix_web::dev::Payload;
use actix_web::{Error, FromRequest, HttpRequest, HttpResponse};
use std::future::{Ready, ready};

/// Takes one request from the client's bucket; over the limit, the 429 to answer.
pub fn refused(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    state
        .limiter
        .check(client_ip(req, &state.settings.server.trusted_proxies))
        .err()
        .map(too_many_requests)
}

/// The rate limit for the public write routes.
pub struct RateLimited;

impl FromRequest for RateLimited {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            super::state::from_request(req).and_then(|state| match refused(req, &state) {
                Some(answer) => Err(refusal(answer)),
                None => Ok(RateLimited),
            }),
        )
    }
}

/// The same limit on the signup routes, where a refusal is also counted in the metrics.
pub struct SignupRateLimited;

impl FromRequest for SignupRateLimited {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            super::state::from_request(req).and_then(|state| match refused(req, &state) {
                Some(answer) => {
                    state.metrics.signup(SignupResult::rate_limited);
                    Err(refusal(answer))
                }
                None => Ok(SignupRateLimited),
            }),
        )
    }
}
