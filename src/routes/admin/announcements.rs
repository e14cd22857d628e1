//! The organisers' announcement pages (SPEC: Announcements, the routes
//! table): the list, compose, an announcement's page and its edit. Every
//! change goes through `db::announcements` (`apply` for the transitions,
//! `queue_tests` for test sends; see `announcement_actions`); every 303 goes
//! to the announcement's page; invalid input is a 422 with the page and what
//! was typed.

use super::announcement_actions::{self as actions, answer, conflict, not_found, shown_zone};
use crate::announcements::progress::{self, Overview};
use crate::db;
use crate::db::announcements;
use crate::domain::FieldErrors;
use crate::domain::announcement::AnnouncementStatus;
use crate::web::admin_auth::{SignedIn, SignedInForm};
use crate::web::announcement_form::{AnnouncementForm, ComposePage, SubmittedAnnouncement};
use crate::web::announcement_pages::{AnnouncementPage, Kept, ListPage, PageParts, preview_html};
use crate::web::error::AppError;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

/// The routes, inside the `/admin` scope. `new` comes before `{id}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/announcements", web::get().to(list))
        .route("/announcements", web::post().to(create))
        .route("/announcements/new", web::get().to(compose))
        .route("/announcements/{id}", web::get().to(show))
        .route("/announcements/{id}", web::post().to(edit))
        .route("/announcements/{id}/test", web::post().to(actions::test))
        .route("/announcements/{id}/send", web::post().to(actions::send))
        .route("/announcements/{id}/{action}", web::post().to(actions::act));
}

async fn list(
    _: SignedIn,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let rows = db::blocking(&state.pool, progress::list).await?;
    let group = state.settings.group.clone();
    Ok(render::form_page(&req, &state, StatusCode::OK, |csrf| {
        ListPage::new(group, csrf, rows)
    }))
}

async fn compose(_: SignedIn, req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let blank = SubmittedAnnouncement::default();
    compose_page(&req, &state, StatusCode::OK, &blank, &FieldErrors::new())
}

fn compose_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    sent: &SubmittedAnnouncement,
    errors: &FieldErrors,
) -> HttpResponse {
    let action = ("/admin/announcements".to_owned(), "Save the draft");
    let now = state.clock.now();
    let form = AnnouncementForm::new(action, &state.settings.signup, sent, errors, now);
    render::form_page(req, state, status, |csrf_token| ComposePage {
        group: state.settings.group.clone(),
        csrf_token,
        form,
    })
}

/// `POST /admin/announcements`: a new draft → 303 to its page; invalid → 422.
async fn create(
    SignedInForm(organiser, form): SignedInForm,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let sent = SubmittedAnnouncement::from_form(&form);
    let draft = match sent.parse(&state.settings.signup.interests) {
        Ok(draft) => draft,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(compose_page(&req, &state, status, &sent, &errors));
        }
    };
    let (actor, now) = (organiser.actor(), state.clock.now_naive());
    let id = db::blocking(&state.pool, move |c| {
        announcements::create(c, &draft, &actor, now)
    })
    .await?;
    Ok(actions::to_page(&id))
}

async fn show(
    organiser: SignedIn,
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let kept = Kept::default();
    page(&req, &state, &organiser, &path, StatusCode::OK, kept).await
}

/// The announcement's page; a 422 of a form its status no longer shows is
/// answered as that form's route would answer the status (edit 409, send 303).
pub(super) async fn page(
    req: &HttpRequest,
    state: &AppState,
    organiser: &SignedIn,
    id: &str,
    status: StatusCode,
    kept: Kept,
) -> Result<HttpResponse, AppError> {
    let (key, actor, now) = (id.to_owned(), organiser.actor(), state.clock.now_naive());
    let found = db::blocking(&state.pool, move |c| Overview::load(c, &key, &actor, now)).await?;
    let Some(overview) = found else {
        return Ok(not_found(state));
    };
    let current = overview.row.status();
    if current != AnnouncementStatus::Draft {
        if kept.edit.is_some() {
            return Ok(conflict(state, id, current));
        }
        if kept.schedule.is_some() {
            return Ok(actions::to_page(id));
        }
    }
    let preview_html = preview_html(&state.settings, &state.keys, &overview.row)
        .map_err(|e| AppError::Internal(e.into()))?;
    let zone = shown_zone(req, state);
    Ok(render::form_page(req, state, status, |csrf_token| {
        let parts = PageParts {
            csrf_token,
            preview_html,
            kept,
            zone,
            now: state.clock.now(),
        };
        AnnouncementPage::new(&state.settings, overview, parts)
    }))
}

/// `POST /admin/announcements/{id}`: edit a draft → 303; not a draft → 409.
async fn edit(
    SignedInForm(organiser, form): SignedInForm,
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let sent = SubmittedAnnouncement::from_form(&form);
    let draft = match sent.parse(&state.settings.signup.interests) {
        Ok(draft) => draft,
        Err(errors) => {
            let kept = Kept {
                edit: Some((sent, errors)),
                ..Kept::default()
            };
            return page(&req, &state, &organiser, &id, UNPROCESSABLE, kept).await;
        }
    };
    let (key, now) = (id.clone(), state.clock.now_naive());
    let done = db::blocking(&state.pool, move |c| {
        announcements::edit(c, &key, &draft, now)
    })
    .await?;
    Ok(answer(&state, &id, done))
}

pub(super) const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
