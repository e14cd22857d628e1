//! `GET /admin?meeting_minutes=60&date=YYYY-MM-DD`: the organisers' overview.

use crate::db;
use crate::organisers::dashboard::{self, DashboardData};
use crate::organisers::planner::{self, Rules};
use crate::web::admin_auth::SignedIn;
use crate::web::audience_pages::AudienceRow;
use crate::web::body::encode_form;
use crate::web::error::AppError;
use crate::web::pages::{DashboardPage, OrganiserTimes};
use crate::web::render;
use crate::web::responses::bad_request;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DashboardQuery {
    meeting_minutes: Option<String>,
    date: Option<String>,
}

/// Meetings from a quarter of an hour to a working day.
const MEETING_MINUTES: std::ops::RangeInclusive<i64> = 15..=480;

/// A query the dashboard cannot answer: unreadable (400) or out of range (422).
enum QueryRefusal {
    Malformed(&'static str),
    OutOfRange(&'static str),
}

fn parse_query(query: &DashboardQuery, today: NaiveDate) -> Result<(i64, NaiveDate), QueryRefusal> {
    let minutes = match query.meeting_minutes.as_deref().filter(|m| !m.is_empty()) {
        None => 60,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|m| MEETING_MINUTES.contains(m))
            .ok_or(QueryRefusal::Malformed(
                "meeting_minutes: a whole number of minutes from 15 to 480",
            ))?,
    };
    let date = match query.date.as_deref().filter(|d| !d.is_empty()) {
        None => today,
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| QueryRefusal::Malformed("date: use YYYY-MM-DD"))?,
    };
    if !planner::date_in_range(date, today) {
        return Err(QueryRefusal::OutOfRange(
            "date: choose a day within 100 years of today",
        ));
    }
    Ok((minutes, date))
}

#[cfg(test)]
#[path = "dashboard_props.rs"]
mod props;

pub async fn show(
    query: web::Query<DashboardQuery>,
    _: SignedIn,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let (minutes, date) = match parse_query(&query, now.date_naive()) {
        Ok(parsed) => parsed,
        Err(QueryRefusal::Malformed(message)) => return Ok(bad_request(message)),
        Err(QueryRefusal::OutOfRange(message)) => {
            return Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/plain; charset=utf-8")
                .body(message));
        }
    };
    let naive_now = now.naive_utc();
    let data = db::blocking(&state.pool, move |c| DashboardData::load(c, naive_now)).await?;
    Ok(render::form_page(
        &req,
        &state,
        StatusCode::OK,
        |csrf_token| page(&state, data, csrf_token, minutes, date, naive_now),
    ))
}

/// The page for the chosen meeting length and day.
fn page(
    state: &AppState,
    data: DashboardData,
    csrf_token: String,
    minutes: i64,
    date: NaiveDate,
    now_naive: chrono::NaiveDateTime,
) -> DashboardPage {
    let today = now_naive.date();
    let settings = &state.settings.dashboard;
    let members = dashboard::zone_members(&data.by_timezone);
    let rules = Rules {
        meeting: Duration::minutes(minutes),
        hours: settings.working_hours,
        days: &settings.working_days,
    };
    let plan = dashboard::plan(&members, date, &rules);
    let times = OrganiserTimes::new(state.settings.admin.digest_zone(settings));
    DashboardPage {
        group: state.settings.group.clone(),
        csrf_token,
        totals: dashboard::totals(&data),
        weekly: dashboard::weekly_chart(&data, today),
        interests: dashboard::interest_chart(&data.by_interests, &state.settings.signup.interests),
        countries: dashboard::country_chart(&data.by_country),
        org_types: dashboard::org_type_chart(&data.by_org_type),
        offsets: dashboard::offset_chart(&members, date),
        availability: dashboard::availability_chart(&plan),
        suggestions: dashboard::suggestions(&plan, &settings.zones, date),
        unknown_zone: plan.unknown,
        meeting_minutes: minutes,
        date: date.to_string(),
        working_hours: settings.working_hours.to_string(),
        funnel: dashboard::funnel_chart(&data.funnel),
        queued: data.outbox.queued,
        failed_count: data.outbox.failed,
        oldest_due: times.show_optional(&data.outbox.oldest_due),
        relay: dashboard::relay_line(data.relay.as_ref(), &times),
        imap: dashboard::imap_line(data.imap.as_ref(), &times)
            .filter(|_| state.settings.email.bounce.imap.is_enabled()),
        failed: data.failed,
        exports: data.exports,
        announcement_mail_sent: data.announcement_mail_sent,
        bounces: data.bounces,
        last_announcement: data.last_announcement,
        latest: data
            .latest
            .iter()
            .map(|row| AudienceRow {
                created: times.show(&row.created_at),
                ..AudienceRow::from(row)
            })
            .collect(),
        stale_pending: {
            let (before, n) = data.stale_pending;
            let filter = dashboard::stale_pending_filter(now_naive);
            let href = format!(
                "/admin/subscribers?{}",
                encode_form(filter.query_pairs().iter().map(|(k, v)| (*k, v.as_str())))
            );
            (before.format("%-d %B %Y").to_string(), n, href)
        },
        times,
    }
}
