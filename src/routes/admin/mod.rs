//! The organiser pages. Each handler starts with `SignedIn`: GETs accept a
//! session or a bearer token; POSTs need a session and the CSRF token.
//! Everything under `/admin` is one scope, whose bodies may be up to
//! `admin.max_body_bytes` (an announcement is composed here).

mod announcement_actions;
mod announcements;
mod dashboard;
mod export;
mod login;
mod subscribers;

use actix_web::web;

pub fn scope(max_body_bytes: usize) -> actix_web::Scope {
    web::scope("/admin")
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .route("/login", web::get().to(login::form))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("", web::get().to(dashboard::show))
        .route("/export.csv", web::get().to(export::download))
        .route("/subscribers", web::get().to(subscribers::list))
        .route("/subscribers/{id}", web::get().to(subscribers::show))
        .route(
            "/subscribers/{id}/resend",
            web::post().to(subscribers::resend),
        )
        .route(
            "/subscribers/{id}/erase",
            web::get().to(subscribers::confirm_erase),
        )
        .route(
            "/subscribers/{id}/erase",
            web::post().to(subscribers::erase),
        )
        .route(
            "/subscribers/{id}/reinstate",
            web::post().to(subscribers::reinstate),
        )
        .route("/outbox/{id}/retry", web::post().to(subscribers::retry))
        .configure(announcements::routes)
}
