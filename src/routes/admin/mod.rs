//! The organiser pages. Each handler starts with `SignedIn`: GETs accept a
//! session or a bearer token; POSTs need a session and the CSRF token.

mod dashboard;
mod export;
mod login;
mod subscribers;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/login", web::get().to(login::form))
        .route("/admin/login", web::post().to(login::submit))
        .route("/admin/logout", web::post().to(login::logout))
        .route("/admin", web::get().to(dashboard::show))
        .route("/admin/export.csv", web::get().to(export::download))
        .route("/admin/subscribers", web::get().to(subscribers::search))
        .route(
            "/admin/subscribers/{id}/erase",
            web::post().to(subscribers::erase),
        )
        .route(
            "/admin/subscribers/{id}/reinstate",
            web::post().to(subscribers::reinstate),
        )
        .route(
            "/admin/outbox/{id}/retry",
            web::post().to(subscribers::retry),
        );
}
