//! The organisers' dashboard: turns stored aggregates into panels, charts and
//! the meeting planner's suggestions.

use crate::db::aggregates::{self as queries, FailedMessage, Funnel, OutboxHealth};
use crate::db::bounces::{self, AnnouncementBounceRate, BounceCounts};
use crate::db::export_rows::{self as exports, ExportRecord};
use crate::db::imap_state::{self, ImapState};
use crate::db::people::{self, PersonRow, Sort};
use crate::db::relay::{self, RelayStatus};
use crate::db::{DbConnection, DbError, deliveries, registrations};
use crate::domain::member_filter::MemberFilter;
use crate::domain::{Country, OrgType, Status};
use crate::organisers::charts::BarChart;
use crate::organisers::planner::{self, Plan, Rules, ZoneMembers};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// Everything the dashboard reads, in one blocking call.
pub struct DashboardData {
    pub totals: Vec<(String, i64)>,
    pub per_day: Vec<(String, i64)>,
    pub by_country: Vec<(Option<String>, i64)>,
    pub by_org_type: Vec<(Option<String>, i64)>,
    pub by_timezone: Vec<(Option<String>, i64)>,
    pub funnel: Funnel,
    pub outbox: OutboxHealth,
    pub failed: Vec<FailedMessage>,
    pub exports: Vec<ExportRecord>,
    /// Announcement deliveries sent, counted apart from confirmations.
    pub announcement_mail_sent: i64,
    pub relay: Option<RelayStatus>,
    pub imap: Option<ImapState>,
    /// Bounces and complaints of the last 30 days.
    pub bounces: BounceCounts,
    pub last_announcement: Option<AnnouncementBounceRate>,
    /// The ten latest signups, of any status.
    pub latest: Vec<PersonRow>,
    /// People still pending who signed up before `stale_pending.0`.
    pub stale_pending: (NaiveDate, i64),
}

/// Pending for more than this many days: worth a nudge (a resend).
pub const STALE_PENDING_DAYS: i64 = 3;

/// People pending since before the day `STALE_PENDING_DAYS` ago, as the audience
/// page filters them (whole days: its `until` is a date).
pub fn stale_pending_filter(now: NaiveDateTime) -> MemberFilter {
    MemberFilter {
        status: Some(Status::Pending),
        until: Some((now - Duration::days(STALE_PENDING_DAYS)).date()),
        ..MemberFilter::default()
    }
}

impl DashboardData {
    pub fn load(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Self, DbError> {
        Ok(Self {
            totals: registrations::count_by_status(conn)?,
            per_day: queries::signups_per_day(conn)?,
            by_country: queries::members_by_country(conn)?,
            by_org_type: queries::members_by_org_type(conn)?,
            by_timezone: queries::members_by_timezone(conn)?,
            funnel: queries::funnel(conn)?,
            outbox: queries::outbox_health(conn, now)?,
            failed: queries::failed_messages(conn, 20)?,
            exports: exports::recent(conn, 10)?,
            announcement_mail_sent: deliveries::announcement_mail_sent(conn)?,
            relay: relay::find(conn)?,
            imap: imap_state::find(conn)?,
            bounces: bounces::counts_since(conn, now - Duration::days(30))?,
            last_announcement: bounces::last_announcement_rate(conn)?,
            latest: people::page(conn, &MemberFilter::default(), Sort::default(), None, 10)?.rows,
            stale_pending: {
                let filter = stale_pending_filter(now);
                (
                    filter.until.unwrap_or_default(),
                    people::count(conn, &filter)?,
                )
            },
        })
    }
}

/// The dashboard's line about the mail relay while it fails (nothing while
/// it is fine): since when, at which SMTP stage, and its last error.
pub fn relay_line(status: Option<&RelayStatus>) -> Option<String> {
    let status = status?;
    let since = status.failing_since.as_ref()?;
    Some(format!(
        "Mail relay failing since {}: {}: {}",
        crate::web::pages::show_time(since),
        status.stage.as_deref().unwrap_or("unknown stage"),
        status.last_error.as_deref().unwrap_or("no error recorded"),
    ))
}

/// The dashboard's line about the bounce mailbox while polls of it fail
/// (nothing while it is fine or not configured): since when, and the last
/// error with its time.
pub fn imap_line(state: Option<&ImapState>) -> Option<String> {
    let state = state?;
    let since = state.failing_since.as_ref()?;
    let show = crate::web::pages::show_time;
    Some(format!(
        "Bounce mailbox (IMAP) failing since {}: {} (last tried {})",
        show(since),
        state.last_error.as_deref().unwrap_or("no error recorded"),
        state
            .last_error_at
            .as_ref()
            .map_or_else(|| show(since), show),
    ))
}

/// Totals for every status, zeros included, in life-cycle order.
pub fn totals(data: &DashboardData) -> Vec<(String, i64)> {
    Status::ALL
        .iter()
        .map(|s| {
            let n = data
                .totals
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |(_, n)| *n);
            (s.as_str().to_owned(), n)
        })
        .collect()
}

/// Signups per ISO week (UTC), the last 26 weeks up to `today`, empty weeks included.
pub fn weekly_chart(per_day: &[(String, i64)], today: NaiveDate) -> BarChart {
    let mut weeks: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    let first_week = today - Duration::weeks(25);
    let mut day = first_week;
    while day <= today {
        let w = day.iso_week();
        weeks.entry((w.year(), w.week())).or_insert(0);
        day += Duration::days(7);
    }
    for (date, n) in per_day {
        if let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            let w = date.iso_week();
            if let Some(count) = weeks.get_mut(&(w.year(), w.week())) {
                *count += n;
            }
        }
    }
    let rows = weeks
        .into_iter()
        .map(|((y, w), n)| (format!("{y}-W{w:02}"), n))
        .collect();
    BarChart::new(
        "weekly",
        "Signups per week (UTC)",
        ("ISO week", "Signups"),
        rows,
    )
}

fn label_or_unknown(value: &Option<String>, name: impl Fn(&str) -> String) -> String {
    value
        .as_deref()
        .map_or_else(|| "Not given".to_owned(), name)
}

pub fn country_chart(rows: &[(Option<String>, i64)]) -> BarChart {
    let name = |code: &str| {
        Country::parse(code).map_or_else(|_| code.to_owned(), |c| format!("{} ({code})", c.name()))
    };
    let rows = rows
        .iter()
        .map(|(c, n)| (label_or_unknown(c, name), *n))
        .collect();
    BarChart::new(
        "countries",
        "Members by country",
        ("Country", "Members"),
        rows,
    )
}

pub fn org_type_chart(rows: &[(Option<String>, i64)]) -> BarChart {
    let name = |t: &str| OrgType::parse(t).map_or_else(|_| t.to_owned(), |t| t.label().to_owned());
    let rows = rows
        .iter()
        .map(|(t, n)| (label_or_unknown(t, name), *n))
        .collect();
    BarChart::new(
        "org-types",
        "Members by type of organisation",
        ("Type", "Members"),
        rows,
    )
}

/// Members per zone, unknown names counted as no zone.
pub fn zone_members(rows: &[(Option<String>, i64)]) -> Vec<ZoneMembers> {
    rows.iter()
        .map(|(zone, n)| ZoneMembers {
            zone: zone.as_deref().and_then(|z| z.parse::<Tz>().ok()),
            members: u64::try_from(*n).unwrap_or(0),
        })
        .collect()
}

/// Members by UTC offset on `date` (DST differs across the region).
pub fn offset_chart(members: &[ZoneMembers], date: NaiveDate) -> BarChart {
    let mut by_offset: BTreeMap<i32, i64> = BTreeMap::new();
    let mut unknown = 0i64;
    for m in members {
        let n = i64::try_from(m.members).unwrap_or(i64::MAX);
        match m.zone {
            Some(zone) => {
                *by_offset
                    .entry(planner::offset_minutes(zone, date))
                    .or_insert(0) += n
            }
            None => unknown += n,
        }
    }
    let mut rows: Vec<(String, i64)> = by_offset
        .into_iter()
        .map(|(o, n)| (planner::format_offset(o), n))
        .collect();
    if unknown > 0 {
        rows.push(("Unknown".to_owned(), unknown));
    }
    BarChart::new(
        "offsets",
        &format!("Members by UTC offset on {date}"),
        ("Offset", "Members"),
        rows,
    )
}

/// The planner for the chosen date and meeting length.
pub fn plan(members: &[ZoneMembers], date: NaiveDate, rules: &Rules<'_>) -> Plan {
    planner::plan(date, members, rules)
}

pub fn availability_chart(plan: &Plan) -> BarChart {
    let rows = plan
        .slots
        .iter()
        .map(|s| {
            (
                s.start.format("%H:%M UTC").to_string(),
                i64::try_from(s.available).unwrap_or(0),
            )
        })
        .collect();
    BarChart::new(
        "availability",
        "Members inside working hours, by meeting start",
        ("Start", "Members"),
        rows,
    )
}

/// The best starts as a table that stays narrow: one row per zone (UTC first),
/// one column per suggested start, and the members available last.
pub struct Suggestions {
    pub starts: usize,
    pub rows: Vec<(String, Vec<String>)>,
    pub available: Vec<u64>,
}

pub fn suggestions(plan: &Plan, zones: &[Tz], date: NaiveDate) -> Suggestions {
    // The weekday is shown only where the local day is not the chosen date.
    let show = |local_date: NaiveDate, time: String, weekday: String| {
        if local_date == date {
            time
        } else {
            format!("{time} {weekday}")
        }
    };
    let time_in = |zone: Option<&Tz>| -> Vec<String> {
        plan.best
            .iter()
            .map(|slot| match zone {
                Some(zone) => {
                    let local = slot.start.with_timezone(zone);
                    show(
                        local.date_naive(),
                        local.format("%H:%M").to_string(),
                        local.format("%a").to_string(),
                    )
                }
                None => show(
                    slot.start.date_naive(),
                    slot.start.format("%H:%M").to_string(),
                    slot.start.format("%a").to_string(),
                ),
            })
            .collect()
    };
    let mut rows = vec![("UTC".to_owned(), time_in(None))];
    rows.extend(
        zones
            .iter()
            .map(|zone| (place_name(zone), time_in(Some(zone)))),
    );
    Suggestions {
        starts: plan.best.len(),
        rows,
        available: plan.best.iter().map(|s| s.available).collect(),
    }
}

/// `Australia/Perth` → `Perth`.
fn place_name(zone: &Tz) -> String {
    zone.name()
        .rsplit('/')
        .next()
        .unwrap_or(zone.name())
        .replace('_', " ")
}

pub fn funnel_chart(funnel: &Funnel) -> BarChart {
    let rows = vec![
        (
            "Confirmation emails sent".to_owned(),
            funnel.confirmations_sent,
        ),
        ("Confirmed by link".to_owned(), funnel.by_link),
        ("Confirmed by code".to_owned(), funnel.by_code),
    ];
    BarChart::new("funnel", "Confirmation funnel", ("Step", "Count"), rows)
}
