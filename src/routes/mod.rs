//! HTTP only: extract → parse → call → respond. The route table is here, in one place.

mod admin;
pub mod api;
mod archive;
mod assets;
mod bounces;
mod confirm;
mod health;
mod manage;
mod privacy;
mod requests;
pub mod signup;
mod unsubscribe;

use actix_web::{HttpResponse, web};

/// Every route; POST bodies under `/admin` may be up to `admin_max_body_bytes`.
pub fn configure(cfg: &mut web::ServiceConfig, admin_max_body_bytes: usize) {
    cfg.service(admin::scope(admin_max_body_bytes));
    // Everything under `/api` goes to this scope (JSON errors, a JSON 404), so a
    // JSON route mounted anywhere but `api`'s one table would be unreachable.
    cfg.service(api::scope());
    cfg.route("/", web::get().to(signup::form))
        .route("/subscriptions", web::post().to(signup::submit_form))
        .route("/subscriptions/check", web::get().to(confirm::check))
        .route("/subscriptions/confirm", web::get().to(confirm::show))
        .route("/subscriptions/confirm", web::post().to(confirm::submit))
        .route(
            "/subscriptions/confirmed",
            web::get().to(confirm::confirmed),
        )
        .route("/subscriptions/resend", web::post().to(requests::resend))
        .route("/subscriptions/manage", web::post().to(requests::manage))
        .route(
            "/subscriptions/manage/sent",
            web::get().to(requests::manage_sent),
        )
        .route("/manage", web::get().to(manage::show))
        .route("/manage/unsubscribe", web::post().to(manage::unsubscribe))
        .route("/manage/erase", web::get().to(manage::confirm_erase))
        .route("/manage/erase", web::post().to(manage::erase))
        .route("/privacy", web::get().to(privacy::privacy))
        .route("/announcements", web::get().to(archive::list))
        .route("/announcements/{id}", web::get().to(archive::show))
        .route("/unsubscribe", web::get().to(unsubscribe::show))
        .route("/unsubscribe", web::post().to(unsubscribe::submit))
        .route(
            "/unsubscribe/manage",
            web::post().to(requests::manage_from_unsubscribe),
        )
        .route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(health::metrics))
        .route(
            crate::web::assets::TIMEZONE_SCRIPT_PATH,
            web::get().to(assets::timezone_js),
        );
}

/// What no route answers: 405 when the path is a route's but the method is
/// not (actix hands those to the default service too), else 404. Outside
/// `/api/` both become pages (`web::error_pages`).
pub async fn unmatched(req: actix_web::HttpRequest) -> HttpResponse {
    if req.match_pattern().is_some() {
        return HttpResponse::MethodNotAllowed()
            .content_type("text/plain; charset=utf-8")
            .body("This address does not accept that kind of request.");
    }
    not_found()
}

/// 404 for a path that is not here (or not for this caller).
pub fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("Not found")
}
