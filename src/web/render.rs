//! Rendering askama pages into responses.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, REFERRER_POLICY};
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

/// Renders `page` with `status`; a template failure is a logged 500.
pub fn page(status: StatusCode, page: &impl Template) -> HttpResponse {
    page_with(HttpResponse::build(status), page)
}

/// Renders `page` into a response the caller has already started (cookies, headers).
pub fn page_with(mut response: HttpResponseBuilder, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => response
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(body),
        Err(error) => {
            tracing::error!(%error, "page template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong on our side. Please try again later.")
        }
    }
}

/// Headers every page reached by a token link sends: the token must not leak
/// through the Referer header or a shared cache.
pub fn token_page_headers(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A page with a form: `page` gets the CSRF token to embed, and the response
/// carries a fresh `rollcall_csrf` cookie when the browser needs one.
pub fn form_page<T: Template>(
    req: &actix_web::HttpRequest,
    state: &crate::web::state::AppState,
    status: StatusCode,
    page: impl FnOnce(String) -> T,
) -> HttpResponse {
    let (seed, cookie) =
        super::csrf::for_form(req, &state.keys, state.now_unix(), state.secure_cookies());
    let page = page(seed.form_token(&state.keys));
    let mut response = HttpResponse::build(status);
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    page_with(response, &page)
}
