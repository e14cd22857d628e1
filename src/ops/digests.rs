//! Organiser digests: which period a daily or weekly summary covers, its key,
//! its window in UTC, and when it is due. One pure rule, [`due`], that the
//! worker calls on each pass and the tests test.
//!
//! A period is a local day, or an ISO week Monday to Sunday, in
//! `admin.digest_timezone`; its key is `daily:2026-11-26` or `weekly:2026-W48`.
//! Its window `[from, to)` runs from the local midnight that starts it to the
//! one after it ends, in UTC, so a day of a change to or from summer time is
//! 23 or 25 hours long. The digest is due from `admin.digest_hour` local time
//! on the day after the period ends until that day ends: a worker that first
//! runs a day later finds the next period due instead, so a service that was
//! down sends no pile of late digests.

use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono::{Weekday, offset::Offset};
use chrono_tz::Tz;

/// How often an organiser hears; stored in `organisers.digest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
    Off,
}

impl Frequency {
    pub const ALL: [Frequency; 3] = [Frequency::Daily, Frequency::Weekly, Frequency::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// When digests go out: `admin.digest_hour` in `admin.digest_timezone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub zone: Tz,
    /// 0–23, local time.
    pub hour: u32,
}

impl Schedule {
    /// The local date and hour at `now` (UTC): a worker checks for due
    /// digests at most once for each.
    pub fn local_hour(&self, now: NaiveDateTime) -> (NaiveDate, u32) {
        let local = self.zone.from_utc_datetime(&now);
        (local.date_naive(), local.hour())
    }
}

/// One digest's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub frequency: Frequency,
    /// The first local day (a Monday for a week).
    pub first_day: NaiveDate,
    /// Where the window starts and ends, in UTC: `[from, to)`.
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Period {
    /// The local day `day` in `zone`.
    pub fn day(day: NaiveDate, zone: Tz) -> Option<Period> {
        Period::spanning(Frequency::Daily, day, 1, zone)
    }

    /// The ISO week (Monday to Sunday) that contains `day`, in `zone`.
    pub fn week_of(day: NaiveDate, zone: Tz) -> Option<Period> {
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        Period::spanning(Frequency::Weekly, monday, 7, zone)
    }

    fn spanning(frequency: Frequency, first_day: NaiveDate, days: i64, zone: Tz) -> Option<Period> {
        let end = first_day.checked_add_signed(Duration::days(days))?;
        Some(Period {
            frequency,
            first_day,
            from: local_midnight(zone, first_day)?,
            to: local_midnight(zone, end)?,
        })
    }

    /// `daily:2026-11-26` or `weekly:2026-W48` (the ISO year and week).
    pub fn key(&self) -> String {
        key_of(self.frequency, self.first_day)
    }
}

/// The key of the period of `frequency` that starts on `first_day`.
fn key_of(frequency: Frequency, first_day: NaiveDate) -> String {
    match frequency {
        Frequency::Weekly => {
            let week = first_day.iso_week();
            format!("weekly:{}-W{:02}", week.year(), week.week())
        }
        Frequency::Daily | Frequency::Off => format!("daily:{}", first_day.format("%Y-%m-%d")),
    }
}

/// The frequency and first local day a key names, as [`Period::key`] wrote it.
pub fn parse_key(key: &str) -> Option<(Frequency, NaiveDate)> {
    if let Some(day) = key.strip_prefix("daily:") {
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        return (key_of(Frequency::Daily, day) == key).then_some((Frequency::Daily, day));
    }
    let (year, week) = key.strip_prefix("weekly:")?.split_once("-W")?;
    let monday = NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)?;
    (key_of(Frequency::Weekly, monday) == key).then_some((Frequency::Weekly, monday))
}

/// How a digest names its period: "Thursday 26 November" or "the week of 23
/// November".
pub fn title(frequency: Frequency, first_day: NaiveDate) -> String {
    match frequency {
        Frequency::Weekly => format!("the week of {}", first_day.format("%-d %B")),
        Frequency::Daily | Frequency::Off => first_day.format("%A %-d %B").to_string(),
    }
}

/// The period whose `frequency` digest is due at `now` (UTC), if one is: on
/// the local day after a period ends, from `schedule.hour` to midnight. The
/// day after a day is every day; the day after a week is a Monday.
pub fn due(frequency: Frequency, schedule: &Schedule, now: NaiveDateTime) -> Option<Period> {
    let local = schedule.zone.from_utc_datetime(&now);
    if local.hour() < schedule.hour {
        return None;
    }
    let yesterday = local.date_naive().pred_opt()?;
    match frequency {
        Frequency::Daily => Period::day(yesterday, schedule.zone),
        Frequency::Weekly if local.weekday() == Weekday::Mon => {
            Period::week_of(yesterday, schedule.zone)
        }
        Frequency::Weekly | Frequency::Off => None,
    }
}

/// When `day` begins in `zone`, in UTC. Where a change of offset skips
/// midnight, the day begins at the first local time that exists; where it
/// repeats midnight, at the first of the two.
fn local_midnight(zone: Tz, day: NaiveDate) -> Option<NaiveDateTime> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    match zone.from_local_datetime(&midnight) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.naive_utc()),
        LocalResult::None => {
            // Skipped: the day begins where the change happens, which is
            // midnight read with the offset in force just before it.
            let before = zone.from_utc_datetime(&(midnight - Duration::days(1)));
            let offset = before.offset().fix().local_minus_utc();
            Some(midnight - Duration::seconds(i64::from(offset)))
        }
    }
}

#[cfg(test)]
#[path = "digests_tests.rs"]
mod tests;
