use super::*;
use chrono::NaiveDate;
use chrono_tz::Tz;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, 0).unwrap()
}

const PERTH: Schedule = Schedule {
    zone: Tz::Australia__Perth,
    hour: 8,
};
const SYDNEY: Schedule = Schedule {
    zone: Tz::Australia__Sydney,
    hour: 8,
};

#[test]
fn a_day_is_its_local_midnights_in_utc() {
    let day = Period::day(date(2026, 11, 26), Tz::Australia__Perth).unwrap();
    assert_eq!(day.key(), "daily:2026-11-26");
    assert_eq!(day.from, utc(2026, 11, 25, 16, 0));
    assert_eq!(day.to, utc(2026, 11, 26, 16, 0));
}

#[test]
fn sydney_days_of_the_changes_are_23_and_25_hours() {
    // Summer time starts on the first Sunday of October (02:00 → 03:00)...
    let october = Period::day(date(2026, 10, 4), Tz::Australia__Sydney).unwrap();
    assert_eq!(october.from, utc(2026, 10, 3, 14, 0));
    assert_eq!(october.to, utc(2026, 10, 4, 13, 0));
    assert_eq!(october.to - october.from, Duration::hours(23));
    // ...and ends on the first Sunday of April (03:00 → 02:00).
    let april = Period::day(date(2027, 4, 4), Tz::Australia__Sydney).unwrap();
    assert_eq!(april.from, utc(2027, 4, 3, 13, 0));
    assert_eq!(april.to, utc(2027, 4, 4, 14, 0));
    assert_eq!(april.to - april.from, Duration::hours(25));
    // The days either side are 24 hours.
    for day in [
        date(2026, 10, 3),
        date(2026, 10, 5),
        date(2027, 4, 3),
        date(2027, 4, 5),
    ] {
        let period = Period::day(day, Tz::Australia__Sydney).unwrap();
        assert_eq!(period.to - period.from, Duration::hours(24), "{day}");
    }
}

#[test]
fn a_week_with_a_change_is_an_hour_short_or_long() {
    let october = Period::week_of(date(2026, 10, 1), Tz::Australia__Sydney).unwrap();
    assert_eq!(october.key(), "weekly:2026-W40");
    assert_eq!(october.first_day, date(2026, 9, 28));
    assert_eq!(october.from, utc(2026, 9, 27, 14, 0));
    assert_eq!(october.to, utc(2026, 10, 4, 13, 0));
    assert_eq!(october.to - october.from, Duration::hours(7 * 24 - 1));
    let april = Period::week_of(date(2027, 4, 4), Tz::Australia__Sydney).unwrap();
    assert_eq!(april.key(), "weekly:2027-W13");
    assert_eq!(april.to - april.from, Duration::hours(7 * 24 + 1));
}

#[test]
fn weekly_keys_are_iso_weeks() {
    let cases = [
        (date(2026, 11, 26), "weekly:2026-W48", date(2026, 11, 23)),
        (date(2026, 11, 29), "weekly:2026-W48", date(2026, 11, 23)),
        (date(2026, 11, 30), "weekly:2026-W49", date(2026, 11, 30)),
        // 2026 has 53 ISO weeks; the last one ends in 2027.
        (date(2026, 12, 31), "weekly:2026-W53", date(2026, 12, 28)),
        (date(2027, 1, 3), "weekly:2026-W53", date(2026, 12, 28)),
        (date(2027, 1, 4), "weekly:2027-W01", date(2027, 1, 4)),
        // 1 January 2025 was a Wednesday: in week 1 of 2025, which began in 2024.
        (date(2025, 1, 1), "weekly:2025-W01", date(2024, 12, 30)),
    ];
    for (day, key, monday) in cases {
        let week = Period::week_of(day, Tz::UTC).unwrap();
        assert_eq!(week.key(), key, "{day}");
        assert_eq!(week.first_day, monday, "{day}");
        assert_eq!(parse_key(key), Some((Frequency::Weekly, monday)), "{key}");
    }
}

#[test]
fn keys_read_back_and_nothing_else_does() {
    assert_eq!(
        parse_key("daily:2026-11-26"),
        Some((Frequency::Daily, date(2026, 11, 26)))
    );
    for bad in [
        "daily:2026-11-31",
        "daily:2026-1-26",
        "weekly:2026-W54",
        "weekly:2025-W53",
        "weekly:2026-W8",
        "monthly:2026-11",
        "",
    ] {
        assert_eq!(parse_key(bad), None, "{bad:?}");
    }
}

#[test]
fn a_daily_digest_is_due_from_the_hour_on_the_next_day_until_it_ends() {
    // 07:59 Friday in Perth is 23:59 Thursday UTC: not yet.
    assert_eq!(
        due(Frequency::Daily, &PERTH, utc(2026, 11, 26, 23, 59)),
        None
    );
    // 08:00 Friday local: Thursday's digest.
    let at_eight = due(Frequency::Daily, &PERTH, utc(2026, 11, 27, 0, 0)).unwrap();
    assert_eq!(at_eight.key(), "daily:2026-11-26");
    // Still Thursday's at 23:59 Friday local.
    let late = due(Frequency::Daily, &PERTH, utc(2026, 11, 27, 15, 59)).unwrap();
    assert_eq!(late.key(), "daily:2026-11-26");
    // Midnight Saturday local: too late for Thursday's, too early for Friday's.
    assert_eq!(
        due(Frequency::Daily, &PERTH, utc(2026, 11, 27, 16, 0)),
        None
    );
    // A worker that next runs on Saturday morning sends Friday's, never Thursday's.
    let saturday = due(Frequency::Daily, &PERTH, utc(2026, 11, 28, 1, 0)).unwrap();
    assert_eq!(saturday.key(), "daily:2026-11-27");
}

#[test]
fn a_weekly_digest_is_due_only_on_the_monday_after() {
    // Monday 30 November, 08:00 in Perth.
    let monday = due(Frequency::Weekly, &PERTH, utc(2026, 11, 30, 0, 0)).unwrap();
    assert_eq!(monday.key(), "weekly:2026-W48");
    assert_eq!(monday.from, utc(2026, 11, 22, 16, 0));
    assert_eq!(monday.to, utc(2026, 11, 29, 16, 0));
    assert_eq!(
        due(Frequency::Weekly, &PERTH, utc(2026, 11, 29, 23, 59)),
        None
    );
    // Tuesday: the Monday passed, nothing is sent late.
    assert_eq!(due(Frequency::Weekly, &PERTH, utc(2026, 12, 1, 0, 0)), None);
    for hour in [0, 6, 12, 18] {
        let thursday = utc(2026, 11, 26, hour, 0);
        assert_eq!(due(Frequency::Weekly, &PERTH, thursday), None);
    }
    assert_eq!(due(Frequency::Off, &PERTH, utc(2026, 11, 30, 0, 0)), None);
}

#[test]
fn the_hour_is_local_across_the_sydney_changes() {
    // Monday 5 October 2026 08:00 AEDT (+11) is 21:00 UTC on the Sunday.
    assert_eq!(
        due(Frequency::Daily, &SYDNEY, utc(2026, 10, 4, 20, 59)),
        None
    );
    let after_spring = due(Frequency::Daily, &SYDNEY, utc(2026, 10, 4, 21, 0)).unwrap();
    assert_eq!(after_spring.key(), "daily:2026-10-04");
    assert_eq!(after_spring.to - after_spring.from, Duration::hours(23));
    let week = due(Frequency::Weekly, &SYDNEY, utc(2026, 10, 4, 21, 0)).unwrap();
    assert_eq!(week.key(), "weekly:2026-W40");
    // Monday 5 April 2027 08:00 AEST (+10) is 22:00 UTC on the Sunday.
    assert_eq!(
        due(Frequency::Daily, &SYDNEY, utc(2027, 4, 4, 21, 59)),
        None
    );
    let after_autumn = due(Frequency::Daily, &SYDNEY, utc(2027, 4, 4, 22, 0)).unwrap();
    assert_eq!(after_autumn.key(), "daily:2027-04-04");
    assert_eq!(after_autumn.to - after_autumn.from, Duration::hours(25));
    // On the change day itself, 02:30 does not exist: 08:00 is still 08:00.
    let sunday_eight = due(Frequency::Daily, &SYDNEY, utc(2026, 10, 3, 21, 0)).unwrap();
    assert_eq!(sunday_eight.key(), "daily:2026-10-03");
    assert_eq!(
        due(Frequency::Daily, &SYDNEY, utc(2026, 10, 3, 20, 59)),
        None
    );
}

#[test]
fn where_midnight_is_skipped_the_day_starts_when_the_clock_jumps() {
    // Santiago's summer time starts at midnight: 00:00 becomes 01:00.
    let zone = Tz::America__Santiago;
    let skipped = (0..366)
        .map(|n| date(2026, 1, 1) + Duration::days(n))
        .find(|day| {
            zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                .single()
                .is_none()
                && zone
                    .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                    .earliest()
                    .is_none()
        })
        .expect("a day in 2026 whose midnight Santiago skips");
    let period = Period::day(skipped, zone).unwrap();
    let start = zone.from_utc_datetime(&period.from);
    assert_eq!(start.date_naive(), skipped);
    assert_eq!(start.hour(), 1);
    let just_before = zone.from_utc_datetime(&(period.from - Duration::seconds(1)));
    assert_eq!(just_before.date_naive(), skipped.pred_opt().unwrap());
    assert_eq!(period.to - period.from, Duration::hours(23));
}

#[test]
fn every_window_covers_exactly_its_local_days() {
    // Each instant belongs to exactly one day of one zone: consecutive days meet.
    for zone in [
        Tz::Australia__Sydney,
        Tz::Pacific__Auckland,
        Tz::America__Santiago,
        Tz::Australia__Lord_Howe,
    ] {
        let mut day = date(2026, 1, 1);
        let mut previous = Period::day(day, zone).unwrap();
        for _ in 0..450 {
            day = day.succ_opt().unwrap();
            let period = Period::day(day, zone).unwrap();
            assert_eq!(previous.to, period.from, "{zone} {day}");
            assert_eq!(zone.from_utc_datetime(&period.from).date_naive(), day);
            assert_eq!(
                zone.from_utc_datetime(&(period.to - Duration::seconds(1)))
                    .date_naive(),
                day
            );
            previous = period;
        }
    }
}

#[test]
fn titles_name_the_day_or_the_week() {
    assert_eq!(
        title(Frequency::Daily, date(2026, 11, 26)),
        "Thursday 26 November"
    );
    assert_eq!(
        title(Frequency::Weekly, date(2026, 11, 23)),
        "the week of 23 November"
    );
}

#[test]
fn frequencies_read_back() {
    for frequency in Frequency::ALL {
        assert_eq!(Frequency::parse(frequency.as_str()), Some(frequency));
    }
    assert_eq!(Frequency::parse("monthly"), None);
}
