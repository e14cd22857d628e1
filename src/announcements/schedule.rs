//! A send time as the schedule form gives it: a local date and time (an HTML
//! `datetime-local` value) in a chosen IANA zone, stored as UTC.

use crate::domain::announcement::schedule_time;
use crate::domain::{FieldErrors, TimeZoneName};
use chrono::offset::LocalResult;
use chrono::{Datelike, NaiveDateTime, TimeZone};

/// The formats a `datetime-local` input sends (with or without seconds); a
/// space for the `T` is accepted too.
const FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
];
/// A schedule further ahead than this many years is a typing mistake.
const MAX_YEARS_AHEAD: i32 = 100;

/// A checked schedule: when, in UTC, and the zone it was typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSchedule {
    pub at_utc: NaiveDateTime,
    pub zone: TimeZoneName,
}

/// Reads `scheduled_at` in `timezone`; problems are field errors under those
/// names. A time the clocks skip is refused; one they repeat is the first.
pub fn parse(
    scheduled_at: &str,
    timezone: &str,
    now: NaiveDateTime,
) -> Result<LocalSchedule, FieldErrors> {
    let mut errors = FieldErrors::new();
    let zone = TimeZoneName::parse(timezone).map_err(|e| errors.add("timezone", e.to_string()));
    let local = local_time(scheduled_at.trim(), now).map_err(|e| errors.add("scheduled_at", e));
    let (Ok(zone), Ok(local)) = (zone, local) else {
        return Err(errors);
    };
    let at = match zone.tz().from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.naive_utc(),
        LocalResult::None => {
            errors.add(
                "scheduled_at",
                format!("that time does not exist in {zone}: the clocks skip it"),
            );
            return Err(errors);
        }
    };
    match schedule_time(at.and_utc(), now) {
        Ok(at_utc) => Ok(LocalSchedule { at_utc, zone }),
        Err(why) => {
            errors.add("scheduled_at", why);
            Err(errors)
        }
    }
}

fn local_time(text: &str, now: NaiveDateTime) -> Result<NaiveDateTime, String> {
    if text.is_empty() {
        return Err("required".to_owned());
    }
    let parsed = FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .ok_or_else(|| "use a date and time such as 2026-12-01T09:00".to_owned())?;
    if (parsed.year() - now.year()).abs() > MAX_YEARS_AHEAD {
        return Err(format!("choose a time within {MAX_YEARS_AHEAD} years"));
    }
    Ok(parsed)
}

/// `at_utc` as the zone's wall clock, e.g. `2026-12-01 09:00`.
pub fn wall_clock(at_utc: NaiveDateTime, zone: TimeZoneName) -> String {
    zone.tz()
        .from_utc_datetime(&at_utc)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `at_utc` as a `datetime-local` value in the zone, to fill the form with.
pub fn input_value(at_utc: NaiveDateTime, zone: TimeZoneName) -> String {
    zone.tz()
        .from_utc_datetime(&at_utc)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn a_local_time_is_stored_as_utc() {
        let now = at(2026, 11, 26, 9, 0);
        let schedule = parse("2026-12-01T09:00", "Pacific/Auckland", now).unwrap();
        // New Zealand summer time is UTC+13.
        assert_eq!(schedule.at_utc, at(2026, 11, 30, 20, 0));
        assert_eq!(
            wall_clock(schedule.at_utc, schedule.zone),
            "2026-12-01 09:00"
        );
        assert_eq!(
            input_value(schedule.at_utc, schedule.zone),
            "2026-12-01T09:00"
        );
    }

    #[test]
    fn bad_times_and_zones_are_field_errors() {
        let now = at(2026, 11, 26, 9, 0);
        let errors = parse("", "Mars/Olympus", now).unwrap_err();
        assert!(!errors.get("scheduled_at").is_empty());
        assert!(!errors.get("timezone").is_empty());
        for typed in [
            "tomorrow",
            "2026-13-01T09:00",
            "99999-01-01T00:00",
            "2400-01-01T00:00",
        ] {
            let errors = parse(typed, "UTC", now).unwrap_err();
            assert!(!errors.get("scheduled_at").is_empty(), "{typed}");
        }
        let past = parse("2026-11-26T08:59", "UTC", now).unwrap_err();
        assert_eq!(past.get("scheduled_at"), ["must be in the future"]);
    }

    #[test]
    fn a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first() {
        let now = at(2026, 1, 1, 0, 0);
        // Auckland skips 02:00–03:00 on 27 September 2026 and repeats 02:00–03:00 on 5 April 2026.
        assert!(parse("2026-09-27T02:30", "Pacific/Auckland", now).is_err());
        let repeated = parse("2026-04-05T02:30", "Pacific/Auckland", now).unwrap();
        assert_eq!(repeated.at_utc, at(2026, 4, 4, 13, 30));
    }
}
