//! `GET /admin/export.csv`: the CSV streams from a blocking reader over a bounded
//! channel. A client that goes away stops the export (recorded as partial); an
//! error after the headers truncates the body and is logged.

use crate::domain::member_filter::MemberFilter;
use crate::organisers::csv_export::{self, CHANNEL_CHUNKS, Chunk, ExportJob};
use crate::web::admin_auth::SignedIn;
use crate::web::error::AppError;
use crate::web::forms::FormFields;
use crate::web::responses::bad_request;
use crate::web::responses::unreadable_query;
use crate::web::state::AppState;
use actix_web::http::header::{CONTENT_DISPOSITION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::Stream;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

/// The query: the audience page's filter (default status `confirmed`) and `bom`.
pub async fn download(
    req: HttpRequest,
    organiser: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(query) = FormFields::from_query(&req) else {
        return Ok(unreadable_query());
    };
    let interests = &state.settings.signup.interests;
    let filter = match csv_export::parse_filter(&query.member_filter(), interests) {
        Ok(filter) => filter,
        Err(message) => return Ok(bad_request(message)),
    };
    let Ok(permit) = state.export_slots.clone().try_acquire_owned() else {
        return Ok(exports_busy());
    };
    let file_name = file_name(&state, &filter);
    let job = ExportJob {
        pool: state.pool.clone(),
        clock: state.clock.clone(),
        filter,
        bom: query.get("bom").as_deref() == Some("1"),
        interests: state.settings.signup.interests.clone(),
        actor: organiser.actor(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .streaming(stream(job, permit)))
}

/// 503 while every export slot is taken.
fn exports_busy() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((RETRY_AFTER, "30"))
        .content_type("text/plain; charset=utf-8")
        .body("Other exports are running. Please try again in a moment.")
}

/// `rollcall-{status or all}-{today}.csv`.
fn file_name(state: &AppState, filter: &MemberFilter) -> String {
    format!(
        "rollcall-{}-{}.csv",
        filter.status_text(),
        state.clock.now().format("%Y-%m-%d")
    )
}

/// Runs the export on a blocking thread (holding its slot) and streams its chunks.
fn stream(job: ExportJob, permit: OwnedSemaphorePermit) -> impl Stream<Item = Chunk> {
    let (chunks, received) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        csv_export::run(job, chunks)
    });
    futures_util::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|chunk| (chunk, received))
    })
}
