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
use crate::organisers::charts::{BarChart, WeeklyChart, percent};
use crate::organisers::planner::{self, Plan, Rules, ZoneMembers};
use crate::organisers::weeks::{self, DailyCounts};
use crate::web::pages::OrganiserTimes;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// Everything the dashboard reads, in one blocking call.
pub struct DashboardData {
    pub totals: Vec<(String, i64)>,
    /// Registrations created per UTC day.
    pub per_day: Vec<(String, i64)>,
    /// Current and former members by the UTC day they confirmed.
    pub confirmed_per_day: Vec<(String, i64)>,
    /// Former members by the UTC day they left.
    pub departed_per_day: Vec<(String, i64)>,
    /// Members by their stored interests cell.
    pub by_interests: Vec<(String, i64)>,
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
            confirmed_per_day: queries::confirmations_per_day(conn)?,
            departed_per_day: queries::departures_per_day(conn)?,
            by_interests: queries::members_by_interests(conn)?,
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
pub fn relay_line(status: Option<&RelayStatus>, times: &OrganiserTimes) -> Option<String> {
    let status = status?;
    let since = status.failing_since.as_ref()?;
    Some(format!(
        "Mail relay failing since {}: {}: {}",
        times.show(since),
        status.stage.as_deref().unwrap_or("unknown stage"),
        status.last_error.as_deref().unwrap_or("no error recorded"),
    ))
}

/// The dashboard's line about the bounce mailbox while polls of it fail
/// (nothing while it is fine or not configured): since when, and the last
/// error with its time.
pub fn imap_line(state: Option<&ImapState>, times: &OrganiserTimes) -> Option<String> {
    let state = state?;
    let since = state.failing_since.as_ref()?;
    let show = |t: &NaiveDateTime| times.show(t);
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

/// Signups, confirmations and departures per ISO week (UTC), with members at
/// each week's end: the weeks [`weeks::weekly_counts`] chooses, up to `today`.
pub fn weekly_chart(data: &DashboardData, today: NaiveDate) -> WeeklyChart {
    let daily = DailyCounts {
        signups: &data.per_day,
        confirmations: &data.confirmed_per_day,
        departures: &data.departed_per_day,
    };
    WeeklyChart::new(
        "weekly",
        "Signups, confirmations and members who left, per week (UTC)",
        weeks::weekly_counts(daily, today),
    )
}

/// Members per interest, in `signup.interests` order, then any stored
/// interest the configuration no longer offers; a member counts once under
/// each interest they ticked.
pub fn interest_chart(rows: &[(String, i64)], offered: &[String]) -> BarChart {
    let mut counts: Vec<(String, i64)> = offered.iter().map(|i| (i.clone(), 0)).collect();
    let mut members = 0;
    let mut none = 0;
    for (cell, n) in rows {
        members += n;
        let mut ticked = cell.split(';').filter(|i| !i.is_empty()).peekable();
        if ticked.peek().is_none() {
            none += n;
        }
        for interest in ticked {
            match counts.iter_mut().find(|(name, _)| name == interest) {
                Some((_, count)) => *count += n,
                None => counts.push((interest.to_owned(), *n)),
            }
        }
    }
    let retired = counts.len() - offered.len();
    for (name, _) in counts.iter_mut().skip(offered.len()) {
        name.push_str(" (no longer offered)");
    }
    let summary = match counts.iter().rev().max_by_key(|(_, n)| *n) {
        Some((top, most)) if *most > 0 => format!(
            "Of {members} members, the most ticked is {top} with {most}; {none} ticked none.{}",
            if retired > 0 {
                " Interests no longer offered come last."
            } else {
                ""
            }
        ),
        _ => "No member has ticked an interest yet.".to_owned(),
    };
    BarChart::new(
        "interests",
        "Members by interest",
        ("Interest", "Members"),
        counts,
    )
    .with_shares("Of members", members)
    .with_summary(summary)
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
    let title = "Members inside working hours, by meeting start";
    let summary = match plan.best.first() {
        Some(best) if best.available > 0 => format!(
            "At most {} of {} members, first at {}.",
            best.available,
            plan.with_zone + plan.unknown,
            best.start.format("%H:%M UTC")
        ),
        _ => "No start suits anyone.".to_owned(),
    };
    BarChart::new("availability", title, ("Start", "Members"), rows).with_summary(summary)
}

/// The best starts as a table that stays narrow: one row per zone (UTC first),
/// one column per suggested start, and the members available last.
pub struct Suggestions {
    pub starts: usize,
    /// Every member, with a zone or without: "41 of 46 members".
    pub members: u64,
    /// The best start in UTC, "01:00 UTC" (empty when nothing suits anyone).
    pub best_utc: String,
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
        members: plan.with_zone + plan.unknown,
        best_utc: plan
            .best
            .first()
            .map(|slot| slot.start.format("%H:%M UTC").to_string())
            .unwrap_or_default(),
        rows,
        available: plan.best.iter().map(|s| s.available).collect(),
    }
}

/// `Australia/Perth` → `Perth`.
pub fn place_name(zone: &Tz) -> String {
    zone.name()
        .rsplit('/')
        .next()
        .unwrap_or(zone.name())
        .replace('_', " ")
}

/// Each step as a share of the confirmation emails sent.
pub fn funnel_chart(funnel: &Funnel) -> BarChart {
    let sent = funnel.confirmations_sent;
    let rows = vec![
        ("Confirmation emails sent".to_owned(), sent),
        ("Confirmed by link".to_owned(), funnel.by_link),
        ("Confirmed by code".to_owned(), funnel.by_code),
    ];
    let title = "Confirmation funnel";
    let summary = if sent > 0 {
        format!(
            "{sent} confirmation emails sent; {} confirmed by link ({}) and {} by code ({}).",
            funnel.by_link,
            percent(funnel.by_link, sent),
            funnel.by_code,
            percent(funnel.by_code, sent),
        )
    } else {
        "No confirmation email sent yet.".to_owned()
    };
    BarChart::new("funnel", title, ("Step", "Count"), rows)
        .with_shares("Of emails sent", sent)
        .with_summary(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interests_count_each_member_once_per_ticked_interest_in_the_offered_order() {
        let offered = vec![
            "Talks".to_owned(),
            "Training".to_owned(),
            "Sprints".to_owned(),
        ];
        let rows = vec![
            ("Training;Talks".to_owned(), 2),
            ("Talks".to_owned(), 1),
            (String::new(), 3),
            ("Talks;Knitting".to_owned(), 1),
        ];
        let chart = interest_chart(&rows, &offered);
        let counts: Vec<(&str, i64)> = chart
            .bars
            .iter()
            .map(|b| (b.label.as_str(), b.value))
            .collect();
        assert_eq!(
            counts,
            [
                ("Talks", 4),
                ("Training", 2),
                ("Sprints", 0),
                ("Knitting (no longer offered)", 1)
            ]
        );
        assert_eq!(
            chart.bars[0].share.as_deref(),
            Some("57 %"),
            "4 of 7 members"
        );
        assert_eq!(
            chart.summary,
            "Of 7 members, the most ticked is Talks with 4; 3 ticked none. \
             Interests no longer offered come last."
        );
    }
}
