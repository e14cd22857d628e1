//! `GET /admin`: the organisers' overview.

use super::for_get;
use crate::db::{self, export, outbox, registrations};
use crate::pages::DashboardPage;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::{csrf, render};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if let Err(answer) = for_get(&req, &state).await? {
        return Ok(answer);
    }
    let (totals, deliveries, exports) = db::blocking(&state.pool, |c| {
        Ok((
            registrations::count_by_status(c)?,
            outbox::count_by_status(c)?,
            export::recent(c, 10)?,
        ))
    })
    .await?;
    let (seed, cookie) =
        csrf::for_form(&req, &state.keys, state.now_unix(), state.secure_cookies());
    let page = DashboardPage {
        group: state.group.clone(),
        csrf_token: seed.form_token(&state.keys),
        totals,
        deliveries,
        exports,
    };
    let mut response = HttpResponse::build(StatusCode::OK);
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    Ok(render::page_with(response, &page))
}
