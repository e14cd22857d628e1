//! Generated dashboard queries: any `date` and `meeting_minutes` text is a 400
//! or a page's worth of charts, never a panic.

use super::*;
use crate::configuration::{DashboardSettings, Settings};
use crate::domain::text::strategies::any_text;
use crate::organisers::planner::ZoneMembers;
use chrono::Datelike;
use proptest::prelude::*;
use std::sync::LazyLock;

fn date_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any_text(12),
        (any::<i32>(), 0u32..14, 0u32..33).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        (-300_000i32..300_000, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| format!("{y:+}-{m:02}-{d:02}")),
        (1900i32..2200, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
        // The first and last days chrono can hold, where date arithmetic overflows.
        (any::<bool>(), 0u64..10).prop_map(|(last, days)| {
            let date = if last {
                NaiveDate::MAX - chrono::Days::new(days)
            } else {
                NaiveDate::MIN + chrono::Days::new(days)
            };
            date.format("%Y-%m-%d").to_string()
        }),
    ]
}

fn minutes_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any_text(8),
        any::<i64>().prop_map(|m| m.to_string()),
        (0i64..600).prop_map(|m| m.to_string()),
    ]
}

/// The default dashboard settings, read once for every case.
static SETTINGS: LazyLock<DashboardSettings> = LazyLock::new(|| {
    Settings::load_with(
        std::path::Path::new("config"),
        Some("test"),
        std::iter::empty(),
        serde_json::json!({}),
    )
    .unwrap()
    .dashboard
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_query_is_a_400_or_charts_never_a_panic(
        date in proptest::option::of(date_text()),
        meeting_minutes in proptest::option::of(minutes_text()),
    ) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let query = DashboardQuery { meeting_minutes, date };
        let Ok((minutes, date)) = parse_query(&query, today) else {
            return Ok(());
        };
        prop_assert!(MEETING_MINUTES.contains(&minutes));
        prop_assert!((date.year() - today.year()).abs() <= 100);
        let settings = &*SETTINGS;
        let rows = vec![(Some("Pacific/Auckland".to_owned()), 3), (None, 1)];
        let members: Vec<ZoneMembers> = dashboard::zone_members(&rows);
        let rules = Rules {
            meeting: Duration::minutes(minutes),
            hours: settings.working_hours,
            days: &settings.working_days,
        };
        let plan = dashboard::plan(&members, date, &rules);
        let _ = dashboard::offset_chart(&members, date);
        let _ = dashboard::availability_chart(&plan);
        let _ = dashboard::suggestions(&plan, &settings.zones, date);
    }
}
