//! Static files: the time-zone script.

use crate::web::assets;
use actix_web::HttpResponse;
use actix_web::http::header::CACHE_CONTROL;

/// `GET /static/timezone.js`: a year's cache, since pages link it by a URL
/// that changes with its text.
pub async fn timezone_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(assets::timezone_script())
}
