//! The audience (`GET /admin/subscribers`: filter, sort, keyset pages) and one
//! person's page with what can be done for them: resend a confirmation,
//! reinstate after a bounce, erase (asked once more), retry a failed message.

use crate::db::bounces::{self, Reinstate};
use crate::db::people::{self, Cursor, PAGE_SIZE, Sort};
use crate::db::requests;
use crate::db::{self, DbConnection, DbError, consents, erasure, ledger, outbox, registrations};
use crate::domain::member_filter::MemberFilter;
use crate::domain::{EmailAddress, Status};
use crate::web::admin_auth::SignedIn;
use crate::web::audience_pages::{AudiencePage, AudienceRow, FilterForm};
use crate::web::error::AppError;
use crate::web::forms::FormFields;
use crate::web::pages::{EraseSubscriberPage, SubscriberPage, SubscriberView};
use crate::web::render;
use crate::web::responses::unreadable_query;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, REFERER};
use actix_web::{HttpRequest, HttpResponse, web};

/// `GET /admin/subscribers`. An exact `email` (the old search) goes straight
/// to that person's page.
pub async fn list(
    _: SignedIn,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(query) = FormFields::from_query(&req) else {
        return Ok(unreadable_query());
    };
    if let Some(key) = query
        .get("email")
        .and_then(|typed| EmailAddress::parse(&typed).ok())
        .map(|e| e.key().to_owned())
    {
        let found = db::blocking(&state.pool, move |c| {
            registrations::find_by_email_key(c, &key)
        })
        .await?;
        if let Some(found) = found {
            return Ok(see_other(&format!("/admin/subscribers/{}", found.id)));
        }
    }
    let raw = query.member_filter();
    let form = FilterForm::from(&raw, &state.settings.signup, state.clock.now());
    let asked = MemberFilter::parse(&raw, None, &state.settings.signup.interests)
        .map_err(|e| e.to_string())
        .and_then(|filter| {
            let sort = Sort::parse(query.get("sort").as_deref(), query.get("dir").as_deref())?;
            let after = crate::domain::non_blank(query.get("after").as_deref())
                .map(|text| Cursor::decode(text, sort.key))
                .transpose()?;
            Ok((filter, sort, after))
        });
    let (filter, sort, after) = match asked {
        Ok(asked) => asked,
        Err(problems) => {
            return Ok(render::form_page(
                &req,
                &state,
                StatusCode::BAD_REQUEST,
                |csrf_token| AudiencePage {
                    group: state.settings.group.clone(),
                    csrf_token,
                    form,
                    problems: Some(problems),
                    rows: Vec::new(),
                    matching: 0,
                    tabs: Vec::new(),
                    sort_links: Vec::new(),
                    next_href: None,
                    first_href: None,
                    export_href: "/admin/export.csv".to_owned(),
                },
            ));
        }
    };
    let started_after = after.is_some();
    let (page, status_counts, matching) = {
        let filter = filter.clone();
        db::blocking(&state.pool, move |c| {
            let page = people::page(c, &filter, sort, after.as_ref(), PAGE_SIZE)?;
            let every_status = MemberFilter {
                status: None,
                ..filter.clone()
            };
            let counts = people::count_by_status(c, &every_status)?;
            Ok::<_, DbError>((page, counts, filter.status))
        })
        .await?
    };
    let matching = status_counts
        .iter()
        .filter(|(status, _)| matching.is_none_or(|s: Status| s.as_str() == status))
        .map(|(_, n)| n)
        .sum();
    let (tabs, sort_links, export_href) = AudiencePage::links(&filter, sort, &status_counts);
    Ok(render::form_page(
        &req,
        &state,
        StatusCode::OK,
        |csrf_token| AudiencePage {
            group: state.settings.group.clone(),
            csrf_token,
            form,
            problems: None,
            rows: page.rows.iter().map(AudienceRow::from).collect(),
            matching,
            tabs,
            sort_links,
            next_href: page
                .next
                .as_deref()
                .map(|cursor| AudiencePage::next_link(&filter, sort, cursor)),
            first_href: started_after.then(|| AudiencePage::first_link(&filter, sort)),
            export_href,
        },
    ))
}

#[derive(serde::Deserialize)]
pub struct PersonQuery {
    resent: Option<String>,
}

/// `GET /admin/subscribers/{id}`: one person.
pub async fn show(
    _: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<PersonQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let Some(person) = db::blocking(&state.pool, move |c| subscriber(c, &id)).await? else {
        return Ok(no_such_registration());
    };
    let resent = query.resent.as_deref() == Some("1");
    Ok(render::form_page(
        &req,
        &state,
        StatusCode::OK,
        |csrf_token| SubscriberPage {
            group: state.settings.group.clone(),
            csrf_token,
            person,
            resent,
            cooldown_minutes: state.settings.signup.resend_cooldown_secs.div_ceil(60),
        },
    ))
}

/// Everything the page shows about the registration `id`, if it exists.
fn subscriber(c: &mut DbConnection, id: &str) -> Result<Option<SubscriberView>, DbError> {
    let Some(registration) = registrations::find(c, id)? else {
        return Ok(None);
    };
    Ok(Some(SubscriberView {
        consents: consents::for_registration(c, id)?,
        ledger: ledger::for_registration(c, id)?,
        messages: outbox::for_registration(c, id)?,
        bounces: bounces::for_registration(c, id)?,
        registration,
    }))
}

/// `POST /admin/subscribers/{id}/resend`: a new confirmation for a pending
/// person, as their own resend would queue it (the cooldown and the daily cap
/// apply) → 303 to their page; anyone else → 409.
pub async fn resend(
    _: SignedIn,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (lookup, rules, now) = (id.clone(), state.rules.clone(), state.clock.now_naive());
    let found = db::blocking(&state.pool, move |c| {
        let Some(registration) = registrations::find(c, &lookup)? else {
            return Ok::<_, DbError>(None);
        };
        if registration.status() != Status::Pending {
            return Ok(Some(false));
        }
        requests::resend(c, &rules, &registration.email_key, now)?;
        Ok(Some(true))
    })
    .await?;
    Ok(match found {
        None => no_such_registration(),
        Some(false) => HttpResponse::Conflict()
            .content_type("text/plain; charset=utf-8")
            .body("Only a pending person can be sent a new confirmation."),
        Some(true) => see_other(&format!("/admin/subscribers/{id}?resent=1")),
    })
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

fn no_such_registration() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("No such registration.")
}

/// `GET /admin/subscribers/{id}/erase`: asks once more, with the Erase button.
pub async fn confirm_erase(
    _: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let lookup = id.clone();
    let Some(registration) =
        db::blocking(&state.pool, move |c| registrations::find(c, &lookup)).await?
    else {
        return Ok(no_such_registration());
    };
    Ok(render::form_page(
        &req,
        &state,
        StatusCode::OK,
        |csrf_token| EraseSubscriberPage {
            group: state.settings.group.clone(),
            csrf_token,
            id,
            email: registration.email,
        },
    ))
}

pub async fn erase(
    organiser: SignedIn,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, keys, now, actor) = (
        path.into_inner(),
        state.keys.clone(),
        state.clock.now_naive(),
        organiser.actor(),
    );
    db::blocking(&state.pool, move |c| {
        erasure::erase(c, &keys, &id, &actor, now)
    })
    .await?;
    Ok(see_other("/admin/subscribers"))
}

/// `POST /admin/subscribers/{id}/reinstate`: confirmed again after a bounce → 303
/// back; anything else (a complaint, never confirmed) → 409.
pub async fn reinstate(
    organiser: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, now, actor) = (
        path.into_inner(),
        state.clock.now_naive(),
        organiser.actor(),
    );
    let done = db::blocking(&state.pool, move |c| {
        bounces::reinstate(c, &id, &actor, now)
    })
    .await?;
    Ok(match done {
        Reinstate::Done => HttpResponse::SeeOther()
            .insert_header((LOCATION, back(&req)))
            .finish(),
        Reinstate::NotAllowed => HttpResponse::Conflict()
            .content_type("text/plain; charset=utf-8")
            .body("Only a member unsubscribed because their address bounced, after confirming, can be reinstated."),
        Reinstate::NotFound => no_such_registration(),
    })
}

pub async fn retry(
    _: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (path.into_inner(), state.clock.now_naive());
    db::blocking(&state.pool, move |c| outbox::requeue_failed(c, &id, now)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, back(&req)))
        .finish())
}

/// Back to the admin page the form was on, when the Referer says so.
fn back(req: &HttpRequest) -> String {
    req.headers()
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/admin").map(|at| r[at..].to_owned()))
        .filter(|path| crate::web::admin_auth::safe_next(path))
        .unwrap_or_else(|| "/admin".to_owned())
}
