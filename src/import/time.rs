//! Original consent times as hosted services write them, read as UTC.
//!
//! Accepted: RFC 3339 (any offset, converted to UTC); `YYYY-MM-DD HH:MM:SS`
//! (UTC, as the contract says, also with a `T` between date and time); and Google Forms' own download format,
//! `YYYY/MM/DD H:MM:SS am GMT+11`, where the 12-hour suffix and the
//! `GMT±H[:MM]` offset are each optional (without an offset the time is UTC,
//! as for the dashed form). Fractions of a second are dropped: times are
//! stored in whole seconds. Dates like `05/03/2024` are refused on purpose:
//! day/month and month/day orders cannot be told apart.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, Timelike};

/// Why a time cell could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// A day/month/year or month/day/year date: the order is a guess.
    Ambiguous,
    /// Anything else this reader does not understand.
    Unrecognised,
}

/// Reads one time cell (already trimmed) as a UTC time in whole seconds.
pub fn parse_consent_time(text: &str) -> Result<NaiveDateTime, TimeError> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.naive_utc().trunc_subsecs(0));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.trunc_subsecs(0));
        }
    }
    if let Some(time) = google_forms(text) {
        return Ok(time);
    }
    if looks_day_month(text) {
        return Err(TimeError::Ambiguous);
    }
    Err(TimeError::Unrecognised)
}

/// `2024/03/05 10:11:12 am GMT+11`, with the suffix and offset optional.
fn google_forms(text: &str) -> Option<NaiveDateTime> {
    let mut words = text.split_whitespace();
    let date = NaiveDate::parse_from_str(words.next()?, "%Y/%m/%d").ok()?;
    let mut time = NaiveTime::parse_from_str(words.next()?, "%H:%M:%S").ok()?;
    let mut next = words.next();
    if let Some(half) = next.and_then(half_of_day) {
        time = twelve_hour(time, half)?;
        next = words.next();
    }
    let offset = match next {
        Some(word) => gmt_offset(word)?,
        None => Duration::zero(),
    };
    if words.next().is_some() {
        return None;
    }
    Some(date.and_time(time) - offset)
}

/// `Some(false)` for am, `Some(true)` for pm.
fn half_of_day(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().as_str() {
        "am" | "a.m." => Some(false),
        "pm" | "p.m." => Some(true),
        _ => None,
    }
}

/// 12:xx am is 00:xx; 12:xx pm stays; other pm hours gain 12. Hours outside
/// 1–12 are not a 12-hour time.
fn twelve_hour(time: NaiveTime, pm: bool) -> Option<NaiveTime> {
    let hour = time.hour();
    if !(1..=12).contains(&hour) {
        return None;
    }
    let hour = match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, false) => h,
        (h, true) => h + 12,
    };
    time.with_hour(hour)
}

/// `GMT`, `GMT+11`, `GMT-3`, `GMT+10:30` (also `UTC…`).
fn gmt_offset(word: &str) -> Option<Duration> {
    let upper = word.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))?;
    if rest.is_empty() {
        return Some(Duration::zero());
    }
    let (sign, rest) = match rest.split_at(1) {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i64 = small_number(hours, 14)?;
    let minutes: i64 = small_number(minutes, 59)?;
    Some(Duration::minutes(sign * (hours * 60 + minutes)))
}

fn small_number(digits: &str, max: i64) -> Option<i64> {
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n <= max)
}

/// `5/3/2024…` or `05-03-2024…`: a year last, so the day and month order is unknown.
fn looks_day_month(text: &str) -> bool {
    let date = text.split_whitespace().next().unwrap_or_default();
    let parts: Vec<&str> = date.split(['/', '-', '.']).collect();
    matches!(parts.as_slice(), [a, b, year]
        if a.len() <= 2 && b.len() <= 2 && year.len() == 4
            && [a, b, year].iter().all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        match parse_consent_time(text) {
            Ok(time) => time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            Err(error) => format!("{error:?}"),
        }
    }

    #[test]
    fn rfc_3339_is_converted_to_utc_in_whole_seconds() {
        assert_eq!(at("2024-03-05T10:11:12Z"), "2024-03-05T10:11:12Z");
        assert_eq!(at("2024-03-05T10:11:12+11:00"), "2024-03-04T23:11:12Z");
        assert_eq!(at("2024-03-05T10:11:12.987-02:30"), "2024-03-05T12:41:12Z");
    }

    #[test]
    fn dashed_date_and_time_is_utc() {
        assert_eq!(at("2024-03-05 10:11:12"), "2024-03-05T10:11:12Z");
        assert_eq!(at("2024-03-05T10:11:12"), "2024-03-05T10:11:12Z");
        assert_eq!(at("2024-03-05 10:11"), "Unrecognised");
        assert_eq!(at("2024-02-30 10:11:12"), "Unrecognised");
    }

    #[test]
    fn google_forms_times_are_read_with_their_offset() {
        assert_eq!(at("2024/03/05 10:11:12 am GMT+11"), "2024-03-04T23:11:12Z");
        assert_eq!(
            at("2024/03/05 1:02:03 PM GMT+10:30"),
            "2024-03-05T02:32:03Z"
        );
        assert_eq!(at("2024/03/05 12:00:00 am GMT"), "2024-03-05T00:00:00Z");
        assert_eq!(at("2024/03/05 12:30:00 pm GMT-3"), "2024-03-05T15:30:00Z");
        assert_eq!(at("2024/03/05 22:11:12"), "2024-03-05T22:11:12Z");
    }

    #[test]
    fn impossible_google_forms_times_are_refused() {
        for text in [
            "2024/03/05 13:00:00 pm GMT+11",
            "2024/03/05 0:00:00 am",
            "2024/03/05 10:11:12 am GMT+99",
            "2024/03/05 10:11:12 am Pacific/Auckland",
            "2024/03/05 10:11:12 am GMT+11 extra",
        ] {
            assert_eq!(at(text), "Unrecognised", "{text}");
        }
    }

    #[test]
    fn day_month_orders_are_ambiguous() {
        assert_eq!(at("05/03/2024 10:11:12"), "Ambiguous");
        assert_eq!(at("3/5/2024"), "Ambiguous");
        assert_eq!(at("05-03-2024 10:11"), "Ambiguous");
    }

    #[test]
    fn other_text_is_unrecognised() {
        for text in [
            "yesterday",
            "",
            "2024",
            "10:11:12",
            "2024-03-05T10:11:12 +11",
        ] {
            assert_eq!(at(text), "Unrecognised", "{text:?}");
        }
    }
}
