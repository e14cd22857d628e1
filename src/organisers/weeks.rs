//! The dashboard's weeks: ISO weeks (Monday to Sunday) in UTC, from the week
//! of the first signup to this one, at least [`MIN_WEEKS`] and at most
//! [`MAX_WEEKS`]. Per week: signups (new addresses), confirmations, members who
//! left, and the members at the week's end. Members at a week's end are those
//! confirmed before it ended who had not left by then, so the last week's
//! number is today's member count and each week's change is its confirmations
//! less its departures.

use crate::organisers::charts::WeekCounts;
use chrono::{Datelike, Duration, NaiveDate};

/// Fewer weeks than this would make a young list's chart a few fat bars.
pub const MIN_WEEKS: i64 = 8;
/// Half a year: enough to see a trend, few enough to read at 360 px.
pub const MAX_WEEKS: i64 = 26;

/// The Monday of `day`'s ISO week.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// How many weeks the dashboard shows: this week and each back to the first
/// signup's, within [`MIN_WEEKS`]..=[`MAX_WEEKS`].
pub fn weeks_shown(first_signup: Option<NaiveDate>, today: NaiveDate) -> i64 {
    let since = first_signup.map_or(1, |first| {
        (monday_of(today) - monday_of(first)).num_weeks() + 1
    });
    since.clamp(MIN_WEEKS, MAX_WEEKS)
}

/// Counts per UTC day (`YYYY-MM-DD`, as the aggregates return them).
#[derive(Debug, Clone, Copy)]
pub struct DailyCounts<'a> {
    pub signups: &'a [(String, i64)],
    pub confirmations: &'a [(String, i64)],
    pub departures: &'a [(String, i64)],
}

fn parsed(rows: &[(String, i64)]) -> Vec<(NaiveDate, i64)> {
    rows.iter()
        .filter_map(|(day, n)| {
            NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .map(|d| (d, *n))
        })
        .collect()
}

fn sum_in(rows: &[(NaiveDate, i64)], from: NaiveDate, to: NaiveDate) -> i64 {
    rows.iter()
        .filter(|(day, _)| *day >= from && *day < to)
        .map(|(_, n)| n)
        .sum()
}

fn sum_before(rows: &[(NaiveDate, i64)], to: NaiveDate) -> i64 {
    rows.iter()
        .filter(|(day, _)| *day < to)
        .map(|(_, n)| n)
        .sum()
}

/// The weeks to show up to the one holding `today`, oldest first.
pub fn weekly_counts(daily: DailyCounts<'_>, today: NaiveDate) -> Vec<WeekCounts> {
    let signups = parsed(daily.signups);
    let confirmations = parsed(daily.confirmations);
    let departures = parsed(daily.departures);
    let first_signup = signups.iter().map(|(day, _)| *day).min();
    let shown = weeks_shown(first_signup, today);
    let this_monday = monday_of(today);
    (0..shown)
        .rev()
        .map(|back| {
            let monday = this_monday - Duration::weeks(back);
            let next = monday + Duration::weeks(1);
            WeekCounts {
                monday,
                signups: sum_in(&signups, monday, next),
                confirmations: sum_in(&confirmations, monday, next),
                departures: sum_in(&departures, monday, next),
                members: sum_before(&confirmations, next) - sum_before(&departures, next),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_young_list_shows_eight_weeks_and_an_old_one_twenty_six() {
        let today = day("2026-11-26");
        assert_eq!(weeks_shown(None, today), MIN_WEEKS);
        assert_eq!(weeks_shown(Some(today), today), MIN_WEEKS);
        // Monday 2026-09-07 is twelve weeks before Monday 2026-11-23.
        assert_eq!(weeks_shown(Some(day("2026-09-13")), today), 12);
        assert_eq!(weeks_shown(Some(day("2026-01-01")), today), MAX_WEEKS);
    }

    #[test]
    fn members_at_each_week_end_count_joins_less_departures_including_older_ones() {
        let signups = [("2026-11-02".to_owned(), 4), ("2026-11-24".to_owned(), 1)];
        // Two confirmed long before the weeks shown (an import keeps its consent date).
        let confirmations = [
            ("2025-01-10".to_owned(), 2),
            ("2026-11-03".to_owned(), 3),
            ("2026-11-25".to_owned(), 1),
        ];
        let departures = [("2026-11-17".to_owned(), 1)];
        let weeks = weekly_counts(
            DailyCounts {
                signups: &signups,
                confirmations: &confirmations,
                departures: &departures,
            },
            day("2026-11-26"),
        );
        assert_eq!(weeks.len(), 8);
        assert_eq!(weeks[0].monday, day("2026-10-05"));
        let last = &weeks[7];
        assert_eq!(last.monday, day("2026-11-23"));
        assert_eq!((last.signups, last.confirmations, last.members), (1, 1, 5));
        let nov_2 = &weeks[4];
        assert_eq!(
            (nov_2.signups, nov_2.confirmations, nov_2.members),
            (4, 3, 5)
        );
        assert_eq!((weeks[6].departures, weeks[6].members), (1, 4));
        assert_eq!(weeks[0].members, 2);
    }
}
