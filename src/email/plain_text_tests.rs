use super::*;
use crate::announcements::markdown::to_text;
use crate::configuration::Settings;
use crate::crypto::Keys;
use crate::db::announcements::AnnouncementRow;
use crate::db::digests::DigestCounts;
use crate::db::outbox::{MessageKind, NoticeKind, OutboxRow};
use crate::email::render::{DigestRelated, Related, Renderer};
use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use serde_json::json;
use std::path::Path;

/// A line within the width, or one unbreakable URL (after its lead).
fn fits(line: &str) -> bool {
    let word = line.trim_start_matches(['>', ' ', '-']);
    line.chars().count() <= WRAP || (!word.contains(' ') && word.contains("://"))
}

#[test]
fn lines_that_fit_are_left_exactly_as_they_are() {
    let text = "Hello,\n\n-- \nOceania Pangeo · a@b.org\n    indented\n";
    assert_eq!(wrap(text), text);
}

#[test]
fn a_long_line_wraps_at_spaces_and_keeps_every_word() {
    let line = "Oceania Pangeo is a friendly community of geoscientists ".repeat(8);
    let wrapped = wrap(line.trim_end());
    assert!(wrapped.lines().count() > 5, "{wrapped}");
    assert!(
        wrapped.lines().all(|l| l.chars().count() <= WRAP),
        "{wrapped}"
    );
    let words = |t: &str| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(words(&wrapped), words(&line));
}

#[test]
fn a_url_is_never_broken_and_gets_a_line_of_its_own() {
    let url = format!(
        "https://rollcall.example.net/unsubscribe?token={}",
        "a".repeat(80)
    );
    let wrapped = wrap(&format!("Unsubscribe: {url}"));
    assert_eq!(wrapped, format!("Unsubscribe:\n{url}"));
}

#[test]
fn quote_marks_repeat_and_list_items_hang_under_their_marker() {
    let sentence = "every word of this sentence is short but the whole is long ".repeat(2);
    let quoted = wrap(&format!("> > {sentence}"));
    assert!(quoted.lines().count() > 1);
    assert!(quoted.lines().all(|l| l.starts_with("> > ")), "{quoted}");
    let item = wrap(&format!("12. {sentence}"));
    let mut lines = item.lines();
    assert!(lines.next().unwrap().starts_with("12. every"));
    assert!(lines.all(|l| l.starts_with("    ") && !l.starts_with("     ")));
    let bullet = wrap(&format!("  - {sentence}"));
    assert!(bullet.lines().skip(1).all(|l| l.starts_with("    ")));
}

#[test]
fn preformatted_lines_stay_whole() {
    let command = format!("    rollcall organiser digest {} off", "x".repeat(60));
    assert_eq!(wrap(&command), command);
    let quoted_code = format!(">     {}", "code ".repeat(20));
    assert_eq!(wrap(&quoted_code), quoted_code);
}

proptest! {
    /// An announcement's body is wrapped once, by the Markdown renderer:
    /// going through the text part's wrapping again changes nothing.
    #[test]
    fn markdown_text_comes_through_unchanged(
        pieces in prop::collection::vec(
            prop_oneof![
                "[a-z]{1,12} ",
                "https://example\\.org/[a-z]{60,90} ",
                Just("\n\n- ".to_owned()),
                Just("\n\n> ".to_owned()),
                Just("\n\n1. ".to_owned()),
                Just("\n  - ".to_owned()),
                Just("\n\n    ".to_owned()),
                Just("<https://example.org/a> ".to_owned()),
            ],
            0..80,
        )
    ) {
        let text = to_text(&pieces.concat());
        prop_assert_eq!(wrap(&text), text);
    }
}

fn at(day: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, day)
        .and_then(|d| d.and_hms_opt(9, 30, 0))
        .unwrap()
}

fn row(kind: MessageKind) -> OutboxRow {
    OutboxRow {
        id: "0190f0c2-0000-7000-8000-000000000001".into(),
        registration_id: Some("r1".into()),
        kind: kind.as_str().into(),
        token_id: Some("token-1".into()),
        unsubscribe_token_id: Some("token-2".into()),
        message_id: "<m1@rollcall.example.net>".into(),
        status: "queued".into(),
        attempts: 0,
        next_attempt_at: at(26),
        leased_until: None,
        lease_owner: None,
        created_at: at(26),
        sent_at: None,
        last_error: None,
        organiser_id: None,
        test_address: None,
        announcement_id: Some("a1".into()),
        notice: None,
        requested_by: None,
        digest_key: None,
        window_from: None,
        window_to: None,
    }
}

/// A long paragraph, a link longer than a line, a list, a quote and code.
const BODY: &str = "Our next meetup is at the Bureau of Meteorology in Melbourne, with talks on Zarr, Xarray and Dask, pizza, and time to meet everyone who works with big Earth data across the region.\n\n\
See <https://pangeo.io/meetups/2026/melbourne-november-meetup-with-talks-on-zarr-xarray-and-dask>.\n\n\
- talks from the Bureau, CSIRO and universities, and lightning talks from anyone who would like to give one\n\
- pizza\n\n> A quote from last time, long enough that it has to wrap over more than one line of the message.\n\n    pip install xarray dask zarr\n";

fn announcement() -> AnnouncementRow {
    AnnouncementRow {
        id: "a1".into(),
        subject: "November meetup in Melbourne: talks on Zarr, Xarray and Dask".into(),
        body: BODY.into(),
        audience: "{}".into(),
        archive: false,
        status: "sending".into(),
        status_reason: Some("the relay refused 3 messages in a row with 5.7.1, too many for it to be the members' addresses".into()),
        created_by: "o1".into(),
        created_at: at(20),
        updated_at: at(20),
        scheduled_at: Some(at(25)),
        started_at: Some(at(25)),
        resumed_at: None,
        finished_at: None,
    }
}

/// The repository's settings, with every text from the settings long.
fn settings() -> Settings {
    let overrides = json!({
        "server": {"base_url": "https://rollcall.oceania-pangeo.example.net/registrations"},
        "group": {
            "postal_address": "Oceania Pangeo, care of the School of Earth Sciences, Level 4, McCoy Building, The University of Melbourne, Parkville VIC 3010, Australia",
            "mail_frequency": "about once a month, and a little more often before events",
        },
    });
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    Settings::load_with(&config, None, Vec::new(), overrides).unwrap()
}

/// Every kind's text part, each notice and both digests, named.
fn every_text_part(settings: &Settings) -> Vec<(String, String)> {
    let renderer = Renderer::from_settings(settings, &Keys::new(&[7; 32]));
    let announcement = announcement();
    let counts = DigestCounts {
        signups: 12,
        confirmations: 10,
        ..DigestCounts::default()
    };
    let digest = DigestRelated {
        counts: &counts,
        organiser_email: "organiser@oceania-pangeo.example.net",
    };
    let related = Related {
        announcement: Some(&announcement),
        relay_error: Some(
            "535 5.7.8 Username and Password not accepted. Learn more at https://support.example.com/mail/?p=BadCredentials",
        ),
        digest: Some(digest),
        ..Related::default()
    };
    let mut rows: Vec<(String, OutboxRow)> = MessageKind::ALL
        .into_iter()
        .filter(|kind| !matches!(kind, MessageKind::Notice | MessageKind::Digest))
        .map(|kind| (kind.as_str().to_owned(), row(kind)))
        .collect();
    for notice in NoticeKind::ALL {
        let mut row = row(MessageKind::Notice);
        row.notice = Some(notice.as_str().into());
        rows.push((format!("notice {}", notice.as_str()), row));
    }
    for key in ["daily:2026-11-26", "weekly:2026-W48"] {
        let mut row = row(MessageKind::Digest);
        row.digest_key = Some(key.into());
        rows.push((format!("digest {key}"), row));
    }
    rows.into_iter()
        .map(|(name, row)| {
            let rendered = renderer.render(&row, &related).unwrap();
            (name, rendered.text)
        })
        .collect()
}

#[test]
fn every_text_part_keeps_to_72_columns_and_signs_off_with_the_marker() {
    for settings in [
        settings(),
        Settings::load_with(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            None,
            Vec::new(),
            (),
        )
        .unwrap(),
    ] {
        let parts = every_text_part(&settings);
        assert_eq!(
            parts.len(),
            MessageKind::ALL.len() - 2 + NoticeKind::ALL.len() + 2
        );
        for (name, text) in parts {
            for line in text.lines() {
                assert!(
                    fits(line),
                    "{name}: a line of {} columns: {line:?}\n{text}",
                    line.chars().count()
                );
            }
            assert_eq!(
                text.matches("\n-- \n").count(),
                1,
                "{name}: one signature marker `-- `\n{text}"
            );
            assert!(!text.lines().any(|l| l == "--"), "{name}\n{text}");
            let footer = text.split("\n-- \n").nth(1).unwrap();
            assert!(
                footer.starts_with(&settings.group.name),
                "{name}: the footer follows the marker\n{text}"
            );
            assert!(
                footer.contains(&settings.group.privacy_url),
                "{name}\n{text}"
            );
        }
    }
}

#[test]
fn the_long_settings_are_wrapped_not_dropped() {
    let settings = settings();
    let parts = every_text_part(&settings);
    let welcome = &parts.iter().find(|(name, _)| name == "welcome").unwrap().1;
    let words = |t: &str| {
        t.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let flowed = words(welcome);
    assert!(
        flowed.contains(&words(&settings.group.description)),
        "{welcome}"
    );
    assert!(
        flowed.contains(&words(&settings.group.postal_address)),
        "{welcome}"
    );
    assert!(
        flowed.contains(
            "How often we write: about once a month, and a little more often before events."
        ),
        "{welcome}"
    );
    let announcement = &parts
        .iter()
        .find(|(name, _)| name == "announcement")
        .unwrap()
        .1;
    let url = "https://pangeo.io/meetups/2026/melbourne-november-meetup-with-talks-on-zarr-xarray-and-dask";
    assert!(
        announcement.contains(url),
        "the long link stays whole\n{announcement}"
    );
    assert!(
        announcement.contains("\n    pip install xarray dask zarr\n"),
        "{announcement}"
    );
}
