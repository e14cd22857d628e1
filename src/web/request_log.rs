//! One span per request with a request id; route, status and latency go to
//! the log and to the metrics. The query string is never logged: it holds tokens.

use crate::web::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web;
use std::future::Future;
use std::time::Instant;
use tracing::Instrument;

pub fn observe<S, B>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let started = Instant::now();
    let request_id = uuid::Uuid::now_v7().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), route = %route);
    let response = service.call(req);
    async move {
        let mut response = response.await?;
        let status = response.status().as_u16();
        let seconds = started.elapsed().as_secs_f64();
        if let Some(metrics) = metrics {
            metrics.observe_request(&route, status, seconds);
        }
        tracing::info!(status, latency_ms = seconds * 1000.0, "request finished");
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
        Ok(response)
    }
    .instrument(span)
}
