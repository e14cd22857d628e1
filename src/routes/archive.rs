//! The public archive: sent announcements marked `archive`, their subject,
//! date and body only (no member data, no token); 404 for any other.

use crate::db::{self, announcements, deliveries};
use crate::web::archive_pages::{ArchivePage, ArchivedPage};
use crate::web::error::AppError;
use crate::web::pages::MessagePage;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// `GET /announcements`.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = db::blocking(&state.pool, announcements::archived).await?;
    let page = ArchivePage::new(state.settings.group.clone(), rows);
    Ok(render::page(StatusCode::OK, &page))
}

/// `GET /announcements/{id}`.
pub async fn show(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let found = db::blocking(&state.pool, move |c| deliveries::find_archived(c, &id)).await?;
    let group = state.settings.group.clone();
    Ok(match found {
        Some(row) => render::page(StatusCode::OK, &ArchivedPage::new(group, &row)),
        None => {
            let page = MessagePage::new(
                group,
                "Not in the archive",
                &["There is no past announcement at this address."],
            )
            .with_link("/announcements", "Past announcements");
            render::page(StatusCode::NOT_FOUND, &page)
        }
    })
}
