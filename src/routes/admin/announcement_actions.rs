//! What an organiser does to an announcement from its page: test sends,
//! send now or at a time, pause, resume, cancel, unschedule; and the answers
//! every announcement route shares (303 to the page, 409, 404, 429).

use super::announcements::{UNPROCESSABLE, page};
use crate::announcements::schedule;
use crate::db;
use crate::db::announcements::{self, TestSend, Transition};
use crate::domain::announcement::{Action, AnnouncementStatus, parse_test_addresses};
use crate::domain::{FieldErrors, TimeZoneName};
use crate::web::admin_auth::{SignedIn, SignedInForm};
use crate::web::announcement_pages::Kept;
use crate::web::error::AppError;
use crate::web::pages::MessagePage;
use crate::web::state::AppState;
use crate::web::{cookies, render};
use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};

/// Remembers the zone an organiser last scheduled in, to show times in it.
const ZONE_COOKIE: &str = "rollcall_zone";
const ZONE_COOKIE_SECS: i64 = 365 * 24 * 3600;

/// `POST /admin/announcements/{id}/test`: 1–5 addresses → 303; over the
/// organiser's hourly cap → 429 with `Retry-After`; invalid → 422.
pub(super) async fn test(
    SignedInForm(organiser, form): SignedInForm,
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let typed = form.text("addresses");
    let addresses = match parse_test_addresses([typed.as_str()]) {
        Ok(addresses) => addresses,
        Err(why) => {
            let mut errors = FieldErrors::new();
            errors.add("addresses", why.to_string());
            let kept = Kept {
                test: Some((typed, errors)),
                ..Kept::default()
            };
            return page(&req, &state, &organiser, &id, UNPROCESSABLE, kept).await;
        }
    };
    let (key, actor, now) = (id.clone(), organiser.actor(), state.clock.now_naive());
    let per_hour = state.settings.email.test_sends_per_hour;
    let domain = state.send_rules.mail_domain.clone();
    let queued = db::blocking(&state.pool, move |c| {
        announcements::queue_tests(c, &key, &addresses, &actor, per_hour, &domain, now)
    })
    .await?;
    Ok(match queued {
        TestSend::Queued(_) => to_page(&id),
        TestSend::OverCap { retry_after } => over_cap(&state, &id, retry_after.num_seconds()),
        TestSend::NotFound => not_found(&state),
    })
}

/// `POST /admin/announcements/{id}/send`: now, or at `scheduled_at` in
/// `timezone`; a non-draft is a 303 that changes nothing.
pub(super) async fn send(
    SignedInForm(organiser, form): SignedInForm,
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (path.into_inner(), state.clock.now_naive());
    // The schedule form always sends `scheduled_at`; the Send-now button never does.
    let (action, at, zone) = match form.get("scheduled_at") {
        None => (Action::SendNow, None, None),
        Some(local) => match schedule::parse(&local, &form.text("timezone"), now) {
            Ok(chosen) => (Action::Schedule, Some(chosen.at_utc), Some(chosen.zone)),
            Err(errors) => {
                let kept = Kept {
                    schedule: Some((local, form.text("timezone"), errors)),
                    ..Kept::default()
                };
                return page(&req, &state, &organiser, &id, UNPROCESSABLE, kept).await;
            }
        },
    };
    let (key, rules) = (id.clone(), state.send_rules.clone());
    let done = db::blocking(&state.pool, move |c| {
        announcements::apply(c, &rules, &key, action, at, now)
    })
    .await?;
    let mut response = answer(&state, &id, done);
    if let Some(zone) = zone.filter(|_| response.status() == StatusCode::SEE_OTHER) {
        let cookie = zone_cookie(&state, zone);
        response
            .add_cookie(&cookie)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(response)
}

/// `POST /admin/announcements/{id}/{pause|resume|cancel|unschedule}` → 303, or 409.
pub(super) async fn act(
    _: SignedIn,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let actions = [
        Action::Pause,
        Action::Resume,
        Action::Cancel,
        Action::Unschedule,
    ];
    let Some(action) = actions.into_iter().find(|a| a.as_str() == name) else {
        return Ok(not_found(&state));
    };
    let (key, rules, now) = (
        id.clone(),
        state.send_rules.clone(),
        state.clock.now_naive(),
    );
    let done = db::blocking(&state.pool, move |c| {
        announcements::apply(c, &rules, &key, action, None, now)
    })
    .await?;
    Ok(answer(&state, &id, done))
}

/// The HTTP answer to a transition.
pub(super) fn answer(state: &AppState, id: &str, transition: Transition) -> HttpResponse {
    match transition {
        Transition::Done(_) | Transition::Unchanged(_) => to_page(id),
        Transition::NotAllowed(status) => conflict(state, id, status),
        Transition::NotFound => not_found(state),
    }
}

pub(super) fn to_page(id: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, format!("/admin/announcements/{id}")))
        .finish()
}

pub(super) fn conflict(state: &AppState, id: &str, status: AnnouncementStatus) -> HttpResponse {
    let why = format!(
        "The announcement is {status} now, so that cannot be done. Its page shows what can."
    );
    let page = MessagePage::new(state.settings.group.clone(), "Not possible now", &[&why])
        .with_link(
            &format!("/admin/announcements/{id}"),
            "Back to the announcement",
        );
    render::page(StatusCode::CONFLICT, &page)
}

pub(super) fn not_found(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.settings.group.clone(),
        "No such announcement",
        &["It may have been mistyped in the address."],
    )
    .with_link("/admin/announcements", "All announcements");
    render::page(StatusCode::NOT_FOUND, &page)
}

fn over_cap(state: &AppState, id: &str, wait_secs: i64) -> HttpResponse {
    let per_hour = state.settings.email.test_sends_per_hour;
    let why = format!(
        "Each organiser may send tests to at most {per_hour} recipients an hour. Try again in {} minutes.",
        (wait_secs + 59) / 60
    );
    let page = MessagePage::new(state.settings.group.clone(), "Too many test sends", &[&why])
        .with_link(
            &format!("/admin/announcements/{id}"),
            "Back to the announcement",
        );
    let mut response = render::page(StatusCode::TOO_MANY_REQUESTS, &page);
    let wait = wait_secs.max(1).to_string();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&wait) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// The zone the organiser last scheduled in, else the first of `dashboard.zones`.
pub(super) fn shown_zone(req: &HttpRequest, state: &AppState) -> TimeZoneName {
    req.cookie(ZONE_COOKIE)
        .and_then(|c| TimeZoneName::parse(c.value()).ok())
        .or_else(|| {
            state
                .settings
                .dashboard
                .zones
                .first()
                .copied()
                .map(TimeZoneName::from)
        })
        .unwrap_or_else(|| TimeZoneName::from(chrono_tz::UTC))
}

fn zone_cookie(state: &AppState, zone: TimeZoneName) -> actix_web::cookie::Cookie<'static> {
    let value = zone.as_str().to_owned();
    cookies::build(
        ZONE_COOKIE,
        value,
        ZONE_COOKIE_SECS,
        state.secure_cookies(),
        SameSite::Strict,
    )
}
