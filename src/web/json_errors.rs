//! Under `/api/` every refusal is JSON. The extractors and error types shared
//! with the HTML routes answer in text; this middleware, wrapped around the
//! `/api` scope, turns any 4xx or 5xx that is not already JSON into
//! `{"error": "…"}`, keeping the status and headers (`Retry-After`).

use crate::web::responses::ErrorBody;
use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// The longest text body reused as the error's sentence; ours are one line.
const MAX_REUSED_TEXT: usize = 1024;

pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Handlers' and extractors' errors arrive here as responses already.
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let is_text = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    let (head, body) = response.into_parts();
    let text = if is_text {
        to_bytes(body).await.ok()
    } else {
        None
    };
    let sentence = text
        .as_deref()
        .filter(|bytes| bytes.len() <= MAX_REUSED_TEXT)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map_or_else(|| reason(status), str::to_owned);
    let json = serde_json::to_vec(&ErrorBody { error: sentence }).unwrap_or_default();
    let mut response: HttpResponse = head.set_body(BoxBody::new(json));
    let headers = response.headers_mut();
    headers.remove(CONTENT_LENGTH);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(ServiceResponse::new(request, response))
}

fn is_json(response: &ServiceResponse<BoxBody>) -> bool {
    crate::web::body::is_json_content_type(
        response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// "not found", "method not allowed": the status's own words.
fn reason(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase()
}
