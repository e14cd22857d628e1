//! The meeting planner: for each half-hour start on a date (UTC), how many
//! members would be inside their own working hours for the whole meeting,
//! on one of their working days. Members without a time zone count as unknown.

use crate::configuration::WorkingHours;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Members in one zone (`None`: no or unknown time zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneMembers {
    pub zone: Option<Tz>,
    pub members: u64,
}

/// One possible start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub available: u64,
}

/// How far from today the planner looks, either way.
const PLANNER_YEARS: i32 = 100;

/// Whether `date` is within [`PLANNER_YEARS`] of `today` (beyond it, time-zone
/// arithmetic leaves the range chrono can represent).
pub fn date_in_range(date: NaiveDate, today: NaiveDate) -> bool {
    let span = chrono::Months::new(12 * PLANNER_YEARS as u32);
    match (
        today.checked_sub_months(span),
        today.checked_add_months(span),
    ) {
        (Some(earliest), Some(latest)) => (earliest..=latest).contains(&date),
        _ => false,
    }
}

/// The planner's answer for one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// 48 half-hour starts from 00:00 UTC.
    pub slots: Vec<Slot>,
    /// The three best starts: most members, then earliest.
    pub best: Vec<Slot>,
    pub with_zone: u64,
    pub unknown: u64,
}

/// What counts as a workable meeting.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub meeting: Duration,
    pub hours: WorkingHours,
    pub days: &'a [Weekday],
}

pub fn plan(date: NaiveDate, members: &[ZoneMembers], rules: &Rules<'_>) -> Plan {
    let midnight = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
    let slots: Vec<Slot> = (0..48)
        .map(|half_hours| {
            let start = midnight + Duration::minutes(30 * half_hours);
            let available = members
                .iter()
                .filter_map(|m| m.zone.map(|zone| (zone, m.members)))
                .filter(|(zone, _)| fits(*zone, start, rules))
                .map(|(_, n)| n)
                .sum();
            Slot { start, available }
        })
        .collect();
    let mut best: Vec<Slot> = slots.iter().copied().filter(|s| s.available > 0).collect();
    best.sort_by(|a, b| b.available.cmp(&a.available).then(a.start.cmp(&b.start)));
    best.truncate(3);
    let count = |known: bool| {
        members
            .iter()
            .filter(|m| m.zone.is_some() == known)
            .map(|m| m.members)
            .sum()
    };
    Plan {
        slots,
        best,
        with_zone: count(true),
        unknown: count(false),
    }
}

/// Whether a meeting starting at `start` lies within working hours in `zone`.
fn fits(zone: Tz, start: DateTime<Utc>, rules: &Rules<'_>) -> bool {
    let local_start = start.with_timezone(&zone);
    let local_end = (start + rules.meeting).with_timezone(&zone);
    let end_time = local_end.time();
    let ends_same_day = local_end.date_naive() == local_start.date_naive();
    rules.days.contains(&local_start.weekday())
        && rules.hours.start <= local_start.time()
        && ends_same_day
        && end_time <= rules.hours.end
        && end_time > local_start.time()
}

/// A zone's offset from UTC at noon UTC on `date`, in minutes.
pub fn offset_minutes(zone: Tz, date: NaiveDate) -> i32 {
    let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
    zone.offset_from_utc_datetime(&noon).fix().local_minus_utc() / 60
}

/// `UTC+10`, `UTC+5:30`, `UTC−3`.
pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '−' } else { '+' };
    let (hours, mins) = (minutes.abs() / 60, minutes.abs() % 60);
    if mins == 0 {
        format!("UTC{sign}{hours}")
    } else {
        format!("UTC{sign}{hours}:{mins:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    const WEEKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    fn rules() -> Rules<'static> {
        Rules {
            meeting: Duration::minutes(60),
            hours: WorkingHours {
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            },
            days: &WEEKDAYS,
        }
    }

    fn members() -> Vec<ZoneMembers> {
        vec![
            ZoneMembers {
                zone: Some(Tz::Australia__Perth),
                members: 2,
            },
            ZoneMembers {
                zone: Some(Tz::Australia__Sydney),
                members: 3,
            },
            ZoneMembers {
                zone: Some(Tz::Pacific__Auckland),
                members: 4,
            },
            ZoneMembers {
                zone: Some(Tz::Pacific__Fiji),
                members: 1,
            },
            ZoneMembers {
                zone: None,
                members: 5,
            },
        ]
    }

    fn at(date: &str, time: &str) -> DateTime<Utc> {
        let naive =
            chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
                .unwrap();
        Utc.from_utc_datetime(&naive)
    }

    /// Thursday 26 November 2026, summer time in Sydney (UTC+11) and Auckland
    /// (UTC+13); Perth UTC+8, Suva UTC+12. By hand: 01:00–03:00 UTC is
    /// 09:00–11:00 in Perth, 12:00–14:00 in Sydney, 14:00–16:00 in Auckland and
    /// 13:00–15:00 in Suva, so a one-hour meeting starting 01:00, 01:30, 02:00,
    /// 02:30 or 03:00 UTC suits all ten; the best three are the earliest.
    #[test]
    fn the_best_slots_are_the_ones_a_person_would_pick() {
        let plan = plan(
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            &members(),
            &rules(),
        );
        let best: Vec<(DateTime<Utc>, u64)> =
            plan.best.iter().map(|s| (s.start, s.available)).collect();
        assert_eq!(
            best,
            vec![
                (at("2026-11-26", "01:00"), 10),
                (at("2026-11-26", "01:30"), 10),
                (at("2026-11-26", "02:00"), 10)
            ]
        );
        let count_at = |time: &str| {
            plan.slots
                .iter()
                .find(|s| s.start == at("2026-11-26", time))
                .unwrap()
                .available
        };
        assert_eq!(count_at("00:00"), 8, "Perth is not at work yet");
        assert_eq!(
            count_at("03:00"),
            10,
            "Auckland's meeting ends at 17:00 exactly"
        );
        assert_eq!(count_at("03:30"), 6, "Auckland would finish after 17:00");
        assert_eq!(count_at("08:00"), 2, "only Perth, 16:00–17:00");
        assert_eq!(count_at("12:00"), 0, "night everywhere");
        // 21:00 UTC is Friday 09:00 in Suva and 10:00 in Auckland; Sydney starts at 22:00.
        assert_eq!(count_at("21:00"), 5);
        assert_eq!(count_at("22:00"), 8);
        assert_eq!((plan.with_zone, plan.unknown), (10, 5));
    }

    #[test]
    fn sydney_and_auckland_differ_by_two_or_three_hours_depending_on_the_date() {
        let both_summer = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let only_nz_summer = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        let gap = |date| {
            offset_minutes(Tz::Pacific__Auckland, date)
                - offset_minutes(Tz::Australia__Sydney, date)
        };
        assert_eq!(gap(both_summer), 120);
        assert_eq!(gap(only_nz_summer), 180);
        assert_eq!(
            format_offset(offset_minutes(Tz::Australia__Sydney, only_nz_summer)),
            "UTC+10"
        );
        assert_eq!(
            format_offset(offset_minutes(Tz::Australia__Adelaide, both_summer)),
            "UTC+10:30"
        );
        // On 30 September a meeting at 23:00 UTC is 09:00 Thursday in Sydney but
        // 12:00 Thursday in Auckland: both fit.
        let plan = plan(only_nz_summer, &members(), &rules());
        let late = plan
            .slots
            .iter()
            .find(|s| s.start == at("2026-09-30", "23:00"))
            .unwrap();
        assert_eq!(late.available, 3 + 4 + 1);
    }

    #[test]
    fn dates_within_a_hundred_years_either_way_are_planned() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(date_in_range(day(2126, 11, 26), today));
        assert!(date_in_range(day(1926, 11, 26), today));
        assert!(!date_in_range(day(2127, 11, 26), today));
        assert!(!date_in_range(day(1925, 1, 1), today));
        assert!(!date_in_range(NaiveDate::MAX, today));
        assert!(!date_in_range(NaiveDate::MIN, today));
    }

    #[test]
    fn weekends_do_not_count() {
        // Saturday 28 November UTC: 01:00 UTC is Saturday everywhere in the region.
        let plan = plan(
            NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            &members(),
            &rules(),
        );
        assert_eq!(
            plan.slots
                .iter()
                .find(|s| s.start == at("2026-11-28", "01:00"))
                .unwrap()
                .available,
            0
        );
    }
}
