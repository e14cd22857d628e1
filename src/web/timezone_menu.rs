//! The time-zone menu: tzdata's canonical zones only (no aliases such as
//! `Pacific/Samoa` or `US/Pacific`, no `Etc/GMT+10`, whose sign reads
//! backwards), grouped by region with Oceania and the Pacific first, each
//! labelled with its places and its UTC offset at the moment the page is made
//! ("Sydney, Canberra — UTC+11"). The suggested zones
//! (`signup.featured_timezones`) come first. A chosen zone the menu would not
//! list (a stored `Etc/UTC`) is offered at the end, so showing a form never
//! drops a value.

use crate::domain::TimeZoneName;
use crate::web::pages::Choice;
use chrono::{DateTime, Offset, TimeZone, Utc};
use std::sync::LazyLock;

/// One `<optgroup>`.
#[derive(Debug, Clone)]
pub struct ChoiceGroup {
    pub label: &'static str,
    pub choices: Vec<Choice>,
}

/// The groups after the suggested zones, and the name prefixes each holds.
const REGIONS: [(&str, &[&str]); 8] = [
    ("Oceania and the Pacific", &["Australia", "Pacific"]),
    ("Africa", &["Africa"]),
    ("Americas", &["America"]),
    ("Antarctica", &["Antarctica"]),
    ("Asia", &["Asia"]),
    ("Atlantic Ocean", &["Atlantic"]),
    ("Europe", &["Europe"]),
    ("Indian Ocean", &["Indian"]),
];

/// Labels written by hand: the Oceania zones, where one zone is several
/// countries' or the place is better known than the zone's name, and the two
/// zones that hold Australia's Indian Ocean territories. Every other zone is
/// named by [`default_label`].
const LABELS: [(&str, &str); 44] = [
    ("Antarctica/Macquarie", "Macquarie Island (Australia)"),
    (
        "Asia/Bangkok",
        "Bangkok, Phnom Penh, Vientiane, Christmas Island",
    ),
    ("Asia/Yangon", "Yangon, Cocos (Keeling) Islands"),
    ("Australia/Adelaide", "Adelaide"),
    (
        "Australia/Brisbane",
        "Brisbane, Gold Coast, Townsville, Cairns",
    ),
    ("Australia/Broken_Hill", "Broken Hill"),
    ("Australia/Darwin", "Darwin, Alice Springs"),
    ("Australia/Eucla", "Eucla"),
    ("Australia/Hobart", "Hobart, Launceston"),
    ("Australia/Lindeman", "Whitsunday Islands"),
    ("Australia/Lord_Howe", "Lord Howe Island"),
    ("Australia/Melbourne", "Melbourne"),
    ("Australia/Perth", "Perth"),
    ("Australia/Sydney", "Sydney, Canberra, Newcastle"),
    ("Pacific/Apia", "Apia (Samoa)"),
    ("Pacific/Auckland", "Auckland, Wellington, Christchurch"),
    ("Pacific/Bougainville", "Bougainville (Papua New Guinea)"),
    ("Pacific/Chatham", "Chatham Islands"),
    ("Pacific/Easter", "Easter Island (Chile)"),
    ("Pacific/Efate", "Port Vila (Vanuatu)"),
    ("Pacific/Fakaofo", "Tokelau"),
    ("Pacific/Fiji", "Suva, Nadi (Fiji)"),
    ("Pacific/Galapagos", "Galápagos (Ecuador)"),
    ("Pacific/Gambier", "Gambier Islands (French Polynesia)"),
    (
        "Pacific/Guadalcanal",
        "Honiara (Solomon Islands), Pohnpei (Micronesia)",
    ),
    ("Pacific/Guam", "Guam, Saipan (Northern Mariana Islands)"),
    ("Pacific/Honolulu", "Honolulu (Hawaii)"),
    ("Pacific/Kanton", "Kanton (Kiribati, Phoenix Islands)"),
    ("Pacific/Kiritimati", "Kiritimati (Kiribati, Line Islands)"),
    ("Pacific/Kosrae", "Kosrae (Micronesia)"),
    ("Pacific/Kwajalein", "Kwajalein (Marshall Islands)"),
    ("Pacific/Marquesas", "Marquesas Islands (French Polynesia)"),
    ("Pacific/Nauru", "Nauru"),
    ("Pacific/Niue", "Niue"),
    ("Pacific/Norfolk", "Norfolk Island"),
    ("Pacific/Noumea", "Nouméa (New Caledonia)"),
    ("Pacific/Pago_Pago", "Pago Pago (American Samoa), Midway"),
    ("Pacific/Palau", "Palau"),
    ("Pacific/Pitcairn", "Pitcairn Islands"),
    (
        "Pacific/Port_Moresby",
        "Port Moresby (Papua New Guinea), Chuuk, Yap (Micronesia)",
    ),
    ("Pacific/Rarotonga", "Rarotonga (Cook Islands)"),
    ("Pacific/Tahiti", "Tahiti (French Polynesia)"),
    (
        "Pacific/Tarawa",
        "Tarawa (Kiribati), Majuro (Marshall Islands), Funafuti (Tuvalu), Wallis and Futuna",
    ),
    ("Pacific/Tongatapu", "Nukuʻalofa (Tonga)"),
];

/// A zone the menu lists, with its label's places.
struct Listed {
    region: usize,
    zone: TimeZoneName,
    places: String,
}

/// Every place zone, by region and then by label: the part of the menu that
/// does not change between requests.
static LISTED: LazyLock<Vec<Listed>> = LazyLock::new(|| {
    let mut listed: Vec<Listed> = TimeZoneName::all()
        .filter_map(|zone| {
            let region = region_of(zone)?;
            Some(Listed {
                region,
                zone,
                places: places(zone),
            })
        })
        .collect();
    listed.sort_by(|a, b| (a.region, &a.places).cmp(&(b.region, &b.places)));
    listed
});

/// The index in [`REGIONS`] of the group `zone` goes in; `None` for the
/// fixed offsets (`Etc/…`), which the menu leaves out.
fn region_of(zone: TimeZoneName) -> Option<usize> {
    let prefix = zone.as_str().split('/').next()?;
    REGIONS
        .iter()
        .position(|(_, prefixes)| prefixes.contains(&prefix))
        .filter(|_| zone.is_place())
}

/// The menu: `featured` first (in their order, once each), then every other
/// place zone by region; `chosen` (submitted or stored values, aliases
/// included) are selected under their canonical names. Offsets are those at `now`.
pub fn timezone_menu<'a>(
    featured: &[TimeZoneName],
    chosen: impl IntoIterator<Item = &'a str>,
    now: DateTime<Utc>,
) -> Vec<ChoiceGroup> {
    let chosen: Vec<TimeZoneName> = chosen
        .into_iter()
        .filter_map(|raw| TimeZoneName::parse(raw).ok())
        .collect();
    let choice = |zone: TimeZoneName, places: &str| Choice {
        value: zone.as_str().to_owned(),
        label: format!("{places} — {}", utc_offset(zone, now)),
        selected: chosen.contains(&zone),
    };
    let mut suggested: Vec<TimeZoneName> = Vec::new();
    for zone in featured {
        if !suggested.contains(zone) {
            suggested.push(*zone);
        }
    }
    let mut groups = vec![ChoiceGroup {
        label: "Suggested",
        choices: suggested.iter().map(|z| choice(*z, &places(*z))).collect(),
    }];
    groups.extend(REGIONS.iter().enumerate().map(|(region, (label, _))| {
        ChoiceGroup {
            label,
            choices: LISTED
                .iter()
                .filter(|l| l.region == region && !suggested.contains(&l.zone))
                .map(|l| choice(l.zone, &l.places))
                .collect(),
        }
    }));
    let others: Vec<Choice> = chosen
        .iter()
        .filter(|z| !suggested.contains(z) && region_of(**z).is_none())
        .map(|z| choice(*z, &places(*z)))
        .collect();
    groups.push(ChoiceGroup {
        label: "Other",
        choices: others,
    });
    groups.retain(|group| !group.choices.is_empty());
    groups
}

/// What a zone's option names: the hand-written label, or the zone's place
/// followed by the places tzdata merged into it ("Berlin, Copenhagen, Oslo, …").
fn places(zone: TimeZoneName) -> String {
    if let Some((_, label)) = LABELS.iter().find(|(name, _)| *name == zone.as_str()) {
        return (*label).to_owned();
    }
    let mut merged: Vec<String> = zone.merged_places().map(default_label).collect();
    merged.sort_unstable();
    std::iter::once(default_label(zone.as_str()))
        .chain(merged)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A zone name as words: its last part with spaces for underscores, and the
/// middle part of a three-part name after it (`America/Indiana/Knox` is
/// "Knox (Indiana)").
fn default_label(name: &str) -> String {
    let words = |part: &str| part.replace('_', " ");
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [_, middle, last] => format!("{} ({})", words(last), words(middle)),
        [.., last] => words(last),
        [] => String::new(),
    }
}

/// The zone's offset from UTC at `now`: "UTC+11", "UTC+5:30", "UTC−3" (with a
/// minus sign, which screen readers say as "minus"), "UTC+0".
pub fn utc_offset(zone: TimeZoneName, now: DateTime<Utc>) -> String {
    let seconds = zone
        .tz()
        .offset_from_utc_datetime(&now.naive_utc())
        .fix()
        .local_minus_utc();
    let sign = if seconds < 0 { '\u{2212}' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("UTC{sign}{hours}"),
        (hours, minutes) => format!("UTC{sign}{hours}:{minutes:02}"),
    }
}

#[cfg(test)]
#[path = "timezone_menu_tests.rs"]
mod tests;
