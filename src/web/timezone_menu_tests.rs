use super::*;
use crate::configuration::Settings;
use crate::domain::{FieldErrors, RawSignup};
use crate::web::pages::SignupPage;
use askama::Template;
use chrono::NaiveDate;

fn settings() -> Settings {
    Settings::load_with(
        std::path::Path::new("config"),
        Some("test"),
        std::iter::empty(),
        serde_json::json!({}),
    )
    .unwrap()
}

fn featured() -> Vec<TimeZoneName> {
    settings().signup.featured_timezones
}

/// Noon UTC on that day.
fn on(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .unwrap()
        .and_utc()
}

const DECEMBER: (i32, u32, u32) = (2026, 12, 10);

fn december_menu(chosen: &[&str]) -> Vec<ChoiceGroup> {
    let (y, m, d) = DECEMBER;
    timezone_menu(&featured(), chosen.iter().copied(), on(y, m, d))
}

fn options(menu: &[ChoiceGroup]) -> impl Iterator<Item = &Choice> {
    menu.iter().flat_map(|group| &group.choices)
}

fn label_of<'a>(menu: &'a [ChoiceGroup], zone: &str) -> &'a str {
    options(menu)
        .find(|c| c.value == zone)
        .map(|c| c.label.as_str())
        .unwrap_or_else(|| panic!("{zone} is not in the menu"))
}

fn zone(name: &str) -> TimeZoneName {
    TimeZoneName::parse(name).unwrap()
}

#[test]
fn the_menu_holds_only_canonical_place_zones_each_once() {
    let menu = december_menu(&[]);
    let values: Vec<&str> = options(&menu).map(|c| c.value.as_str()).collect();
    for value in &values {
        assert_eq!(zone(value).as_str(), *value, "{value} is an alias");
        for trap in [
            "Etc/",
            "US/",
            "GMT",
            "UTC",
            "Pacific/Samoa",
            "Australia/ACT",
        ] {
            assert!(!value.starts_with(trap), "{value}");
        }
    }
    let places = TimeZoneName::all().filter(|z| z.is_place()).count();
    assert_eq!(values.len(), places, "every place zone, once");
    let mut unique = values.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), values.len());
    assert!(
        values.len() < 330,
        "{} entries, not the 597 names",
        values.len()
    );
}

#[test]
fn every_zone_that_is_a_place_falls_in_a_region() {
    for zone in TimeZoneName::all().filter(|z| z.is_place()) {
        assert!(region_of(zone).is_some(), "{zone} has no group");
    }
}

#[test]
fn no_two_options_read_the_same() {
    let menu = december_menu(&[]);
    let mut labels: Vec<&str> = options(&menu).map(|c| c.label.as_str()).collect();
    labels.sort_unstable();
    let before = labels.len();
    labels.dedup();
    assert_eq!(labels.len(), before);
}

#[test]
fn apia_is_utc_plus_13_and_pago_pago_utc_minus_11_in_december() {
    let menu = december_menu(&[]);
    assert_eq!(label_of(&menu, "Pacific/Apia"), "Apia (Samoa) — UTC+13");
    assert_eq!(
        label_of(&menu, "Pacific/Pago_Pago"),
        "Pago Pago (American Samoa), Midway — UTC\u{2212}11"
    );
}

#[test]
fn offsets_are_the_days_own_so_summer_time_shows() {
    let featured = featured();
    let december = timezone_menu(&featured, [], on(2026, 12, 10));
    let july = timezone_menu(&featured, [], on(2026, 7, 10));
    assert_eq!(
        label_of(&december, "Australia/Sydney"),
        "Sydney, Canberra, Newcastle — UTC+11"
    );
    assert_eq!(
        label_of(&july, "Australia/Sydney"),
        "Sydney, Canberra, Newcastle — UTC+10"
    );
    assert_eq!(
        label_of(&december, "Australia/Adelaide"),
        "Adelaide — UTC+10:30"
    );
    assert_eq!(
        label_of(&july, "Australia/Brisbane"),
        label_of(&december, "Australia/Brisbane")
    );
    assert_eq!(
        label_of(&december, "Pacific/Chatham"),
        "Chatham Islands — UTC+13:45"
    );
    assert_eq!(
        label_of(&december, "America/St_Johns"),
        "St Johns — UTC\u{2212}3:30"
    );
    assert_eq!(
        label_of(&july, "Europe/London"),
        "London, Guernsey, Isle of Man, Jersey — UTC+1"
    );
    assert!(label_of(&december, "Europe/London").ends_with("Jersey — UTC+0"));
}

#[test]
fn suggested_zones_come_first_in_their_order_then_oceania() {
    let menu = december_menu(&[]);
    let labels: Vec<&str> = menu.iter().map(|g| g.label).collect();
    assert_eq!(
        labels,
        [
            "Suggested",
            "Oceania and the Pacific",
            "Africa",
            "Americas",
            "Antarctica",
            "Asia",
            "Atlantic Ocean",
            "Europe",
            "Indian Ocean",
        ]
    );
    // The defaults list Tarawa, Majuro and Funafuti: one zone, shown once.
    let mut expected: Vec<&str> = Vec::new();
    for zone in featured() {
        if !expected.contains(&zone.as_str()) {
            expected.push(zone.as_str());
        }
    }
    let suggested: Vec<&str> = menu[0].choices.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(suggested, expected);
    assert_eq!(suggested[..2], ["Australia/Perth", "Australia/Darwin"]);
    let oceania: Vec<&str> = menu[1].choices.iter().map(|c| c.value.as_str()).collect();
    assert!(oceania.contains(&"Australia/Lord_Howe") && oceania.contains(&"Pacific/Norfolk"));
    assert!(!oceania.contains(&"Pacific/Auckland"), "already suggested");
    let sorted = menu[1].choices.windows(2).all(|w| w[0].label <= w[1].label);
    assert!(sorted, "a region is in the order of its labels");
}

#[test]
fn a_stored_alias_is_selected_under_its_canonical_name() {
    let menu = december_menu(&["Pacific/Samoa"]);
    let selected: Vec<&str> = options(&menu)
        .filter(|c| c.selected)
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(selected, ["Pacific/Pago_Pago"]);
    let several = december_menu(&["US/Pacific", "Australia/ACT", "Mars/Olympus"]);
    let selected: Vec<&str> = options(&several)
        .filter(|c| c.selected)
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(selected, ["Australia/Sydney", "America/Los_Angeles"]);
}

#[test]
fn a_chosen_zone_the_menu_leaves_out_is_offered_at_the_end() {
    let menu = december_menu(&["UTC"]);
    let last = menu.last().unwrap();
    assert_eq!(last.label, "Other");
    assert_eq!(last.choices.len(), 1);
    assert_eq!(
        (
            last.choices[0].value.as_str(),
            last.choices[0].label.as_str()
        ),
        ("Etc/UTC", "UTC — UTC+0")
    );
    assert!(last.choices[0].selected);
    assert_eq!(december_menu(&[]).last().unwrap().label, "Indian Ocean");
}

#[test]
fn labels_name_the_places_tzdata_merged_and_the_middle_of_long_names() {
    let menu = december_menu(&[]);
    assert_eq!(
        label_of(&menu, "Europe/Berlin"),
        "Berlin, Copenhagen, Longyearbyen, Oslo, Stockholm — UTC+1"
    );
    assert_eq!(
        label_of(&menu, "Asia/Singapore"),
        "Singapore, Kuala Lumpur — UTC+8"
    );
    assert_eq!(
        label_of(&menu, "America/Indiana/Knox"),
        "Knox (Indiana) — UTC\u{2212}6"
    );
    assert_eq!(
        label_of(&menu, "Pacific/Tarawa"),
        "Tarawa (Kiribati), Majuro (Marshall Islands), Funafuti (Tuvalu), Wallis and Futuna — UTC+12"
    );
}

#[test]
fn every_hand_written_label_is_for_a_listed_zone_and_oceania_has_one_each() {
    for (name, _) in LABELS {
        assert_eq!(zone(name).as_str(), name, "{name} is an alias");
        assert!(LISTED.iter().any(|l| l.zone.as_str() == name), "{name}");
    }
    for listed in LISTED.iter().filter(|l| l.region == 0) {
        let name = listed.zone.as_str();
        assert!(
            LABELS.iter().any(|(n, _)| *n == name),
            "{name} needs a label"
        );
    }
}

#[test]
fn a_stored_pacific_samoa_shows_selected_as_pago_pago_on_the_signup_form() {
    let settings = settings();
    let raw = RawSignup {
        timezone: Some("Pacific/Samoa".into()),
        ..RawSignup::default()
    };
    let (y, m, d) = DECEMBER;
    let page = SignupPage::new(
        settings.group.clone(),
        &settings.signup,
        "token".into(),
        &raw,
        &FieldErrors::default(),
        on(y, m, d),
    );
    let html = page.render().unwrap();
    assert!(
        html.contains(
            "<option value=\"Pacific/Pago_Pago\" selected>Pago Pago (American Samoa), Midway — UTC\u{2212}11</option>"
        ),
        "{html}"
    );
    assert_eq!(html.matches(" selected>").count(), 1);
    assert!(!html.contains("Pacific/Samoa"));
    assert!(html.contains("<optgroup label=\"Suggested\">"));
}
