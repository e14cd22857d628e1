//! Error answers outside `/api/` as pages: a 4xx or 5xx that a route or
//! actix answered in plain text (or with no body) becomes an HTML page with
//! `lang`, a title and a viewport, keeping its status and headers
//! (`Retry-After`, `Allow`). Under `/api/` errors stay JSON; `/admin`'s 401
//! follows `Accept`; a page a route rendered itself is left alone.

use crate::web::pages::MessagePage;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, web};
use std::future::Future;

/// Plain-text bodies longer than this are not ours: they are not shown.
const MESSAGE_LIMIT: usize = 2048;

pub fn html<S, B>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    // Handlers' and extractors' errors arrive here as responses; an error of
    // a middleware further in passes on (the request cannot be kept to
    // answer it: routing needs the only reference).
    let response = service.call(req);
    async move {
        let response = response.await?.map_into_boxed_body();
        if !wants_page(&response) {
            return Ok(response);
        }
        let (request, response) = response.into_parts();
        let status = response.status();
        let (head, body) = response.into_parts();
        let text = actix_web::body::to_bytes_limited(body, MESSAGE_LIMIT)
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok());
        let Some(state) = request.app_data::<web::Data<AppState>>() else {
            return Ok(ServiceResponse::new(
                request,
                head.set_body(BoxBody::new(())),
            ));
        };
        let page = page_for(state, status, request.path(), text.as_deref());
        let mut html = render::page_with(HttpResponse::build(status), &page);
        for (name, value) in head.headers() {
            if name != CONTENT_TYPE && name != CONTENT_LENGTH {
                html.headers_mut().append(name.clone(), value.clone());
            }
        }
        html.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        Ok(ServiceResponse::new(request, html))
    }
}

/// An error outside `/api/` answered in plain text or with nothing.
fn wants_page(response: &ServiceResponse<BoxBody>) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || status == StatusCode::UNAUTHORIZED
    {
        return false;
    }
    let path = response.request().path();
    if path == "/api" || path.starts_with("/api/") {
        return false;
    }
    match response.headers().get(CONTENT_TYPE) {
        None => true,
        Some(kind) => kind.as_bytes().starts_with(b"text/plain"),
    }
}

/// The page for `status`: its own title, the route's message for a 4xx (our
/// plain-text messages are written for people), a fixed sentence for a 5xx.
fn page_for(state: &AppState, status: StatusCode, path: &str, text: Option<&str>) -> MessagePage {
    let (title, fallback) = match status.as_u16() {
        400 => (
            "The request could not be read",
            "Please go back and try again.",
        ),
        403 => (
            "This form has expired",
            "Please go back, reload the page and send the form again.",
        ),
        404 => (
            "Page not found",
            "If you typed the address, check it; if you followed a link, it may be out of date.",
        ),
        405 => (
            "That cannot be done here",
            "This address does not accept that kind of request.",
        ),
        408 => (
            "The request took too long",
            "The form did not arrive in time. Please try again.",
        ),
        413 => (
            "That was too much to send",
            "Please send less and try again.",
        ),
        422 => (
            "Please check what you sent",
            "Please go back and try again.",
        ),
        429 => ("Too many requests", "Please wait a minute and try again."),
        409 => (
            "That cannot be done now",
            "Please go back and reload the page.",
        ),
        _ if status.is_server_error() => (
            "Something went wrong on our side",
            "Please try again in a moment. If it keeps happening, write to us.",
        ),
        _ => ("That did not work", "Please go back and try again."),
    };
    let message = text
        .map(str::trim)
        .filter(|t| !t.is_empty() && !status.is_server_error() && status != StatusCode::NOT_FOUND)
        .unwrap_or(fallback);
    let mut page = MessagePage::new(state.settings.group.clone(), title, &[message]);
    if status.is_server_error() {
        let contact = format!("Contact: {}", state.settings.group.contact_email);
        page.paragraphs.push(contact);
    }
    let is_admin = path == "/admin" || path.starts_with("/admin/");
    page.link = Some(if is_admin {
        ("/admin".to_owned(), "Back to the dashboard".to_owned())
    } else {
        ("/".to_owned(), "Back to the start".to_owned())
    });
    page
}
