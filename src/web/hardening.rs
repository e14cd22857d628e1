//! What every response and every request body gets (SPEC: Headers, Bad input):
//! the security headers, `HEAD` answered wherever `GET` is, and a deadline on
//! request bodies (`server.body_timeout_secs`; [`read_body`] turns it into 408).
//!
//! [`read_body`]: crate::web::forms::read_body

use crate::web::state::AppState;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderMap, HeaderValue, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::web::{self, Bytes};
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Scripts only from our own origin (`/static/timezone.js`, never inline), no
/// framing, forms only to us.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; \
    base-uri 'none'";
const HSTS: &str = "max-age=31536000";

/// The wrapper: HEAD is served as GET (the HTTP layer drops the body of a
/// HEAD answer itself), the body gets its deadline, the answer its headers.
pub fn harden<S, B>(
    mut req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let settings = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.clone());
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let is_admin = req.path() == "/admin" || req.path().starts_with("/admin/");
    if let Some(settings) = &settings {
        let payload = std::mem::replace(req.parts_mut().1, Payload::None);
        let limited: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(with_deadline(payload, settings.server.body_timeout()));
        req.set_payload(Payload::from(limited));
    }
    let https = settings.is_some_and(|s| s.server.base_url.is_https());
    let response = service.call(req);
    async move {
        let mut response = response.await?;
        add_headers(response.headers_mut(), is_admin, https);
        Ok(response)
    }
}

/// The headers SPEC asks of every page; ones a route set itself are kept
/// (token pages send `Referrer-Policy: no-referrer`).
pub fn add_headers(headers: &mut HeaderMap, is_admin: bool, https: bool) {
    let mut set_default = |name, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set_default(CONTENT_SECURITY_POLICY, CSP);
    set_default(X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(REFERRER_POLICY, "same-origin");
    if https {
        set_default(STRICT_TRANSPORT_SECURITY, HSTS);
    }
    if is_admin {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The error a body past its deadline ends with.
pub fn is_body_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// `payload`, ending in a timed-out error if it has not all arrived within `limit`.
fn with_deadline(
    payload: Payload,
    limit: Duration,
) -> impl Stream<Item = Result<Bytes, PayloadError>> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + limit;
    futures_util::stream::unfold(Some(payload), move |state| async move {
        let mut payload = state?;
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => {
                let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "body too slow");
                Some((Err(PayloadError::Io(late)), None))
            }
        }
    })
}
