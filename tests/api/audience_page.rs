//! The audience page over 1,000 imported members and a few who signed up
//! through the form: `q` finds part of an email, name or organisation; each
//! filter narrows; every sort pages through every row exactly once; "Export
//! these" is byte for byte `rollcall export` with the same flags; and the
//! person page resends a confirmation.

use crate::helpers::{Backend, TestApp, extract_csrf, spawn_app, valid_form};
use crate::on_both_backends;
use chrono::{TimeZone, Utc};
use std::collections::HashSet;

on_both_backends!(
    the_audience_page_searches_filters_sorts_and_exports_what_it_shows,
    the_person_page_resends_a_confirmation_to_pending_people_only,
    a_bad_filter_is_a_400_that_names_it,
);

const PASSWORD: &str = "correct horse battery staple";
const IMPORTED: usize = 1_000;

const FIRST: [&str; 8] = [
    "Sione", "Aroha", "Mele", "Lachlan", "Priya", "Tevita", "Ana", "Wiremu",
];
const LAST: [&str; 5] = ["Tupou", "Ngata", "Fifita", "Smith", "Chen"];
const ORGS: [&str; 5] = [
    "NIWA",
    "Bureau of Meteorology",
    "University of the South Pacific",
    "CSIRO",
    "",
];
const PLACES: [(&str, &str); 5] = [
    ("NZ", "Pacific/Auckland"),
    ("AU", "Australia/Sydney"),
    ("FJ", "Pacific/Fiji"),
    ("TO", "Pacific/Tongatapu"),
    ("", ""),
];

/// The imported person `i`: (email, name, organisation, country, zone).
fn person(i: usize) -> (String, String, &'static str, &'static str, &'static str) {
    let (first, last) = (FIRST[i % FIRST.len()], LAST[i % LAST.len()]);
    let domain = ["example.org", "uni.example.edu", "met.example.gov"][i % 3];
    let (country, zone) = PLACES[i % PLACES.len()];
    (
        format!(
            "{}.{}{i}@{domain}",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        format!("{first} {last}"),
        ORGS[(i / 2) % ORGS.len()],
        country,
        zone,
    )
}

/// 1,000 members through `rollcall import --mode confirmed`, then four people
/// through the form on other days: two left pending, one confirmed, one who
/// left. Returns the app, logged in.
async fn audience(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("members.csv");
    let mut csv =
        String::from("Email Address,First Name,Last Name,Company,CC,TIMEZONE,CONFIRM_TIME\n");
    for i in 0..IMPORTED {
        let (email, name, org, country, zone) = person(i);
        let (first, last) = name.split_once(' ').unwrap();
        csv.push_str(&format!(
            "{email},{first},{last},{org},{country},{zone},2025-{:02}-{:02} 08:00:00\n",
            1 + i % 12,
            1 + i % 28
        ));
    }
    std::fs::write(&file, csv).unwrap();
    let out = app.rollcall(&[
        "import",
        file.to_str().unwrap(),
        "--mode",
        "confirmed",
        "--source",
        "mailchimp",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("imported {IMPORTED}, already present 0, skipped 0, rejected 0"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (day, email, interest) in [
        (
            20,
            "kalolaine.pending@example.net",
            "Training and workshops",
        ),
        (22, "second.pending@example.net", "Meetups and talks"),
        (24, "joined.here@example.net", "Training and workshops"),
        (26, "left.again@example.net", "Meetups and talks"),
    ] {
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap());
        let mut form = valid_form(email);
        form.push(("interests", interest));
        let csrf = app.csrf_token().await;
        form.push(("csrf_token", &csrf));
        assert_eq!(app.post_form("/subscriptions", &form).await.status(), 303);
    }
    app.deliver().await;
    app.confirm_by_link("joined.here@example.net").await;
    app.confirm_by_link("left.again@example.net").await;
    let unsubscribed = reqwest::Client::new()
        .post(app.unsubscribe_link("left.again@example.net"))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsubscribed.status(), 200);
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    app
}

/// One page as the organiser sees it: its person ids, its count and its links.
struct Listed {
    ids: Vec<String>,
    emails: Vec<String>,
    matching: i64,
    next: Option<String>,
    export: String,
}

fn unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

async fn listed(app: &TestApp, path: &str) -> Listed {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let page = response.text().await.unwrap();
    let mut ids = Vec::new();
    let mut emails = Vec::new();
    for piece in page
        .split("<td class=\"wrap\"><a href=\"/admin/subscribers/")
        .skip(1)
    {
        let (id, rest) = piece.split_once("\">").unwrap();
        ids.push(id.to_owned());
        emails.push(unescape(rest.split_once("</a>").unwrap().0));
    }
    let matching = page
        .split_once("<p id=\"matching\">")
        .and_then(|(_, rest)| rest.split_once(' '))
        .map(|(n, _)| n.parse().unwrap())
        .expect("the count");
    let next = page
        .split_once("\" rel=\"next\"")
        .map(|(before, _)| unescape(before.rsplit_once("href=\"").unwrap().1));
    let export = page
        .split_once("\">Export these (CSV)</a>")
        .map(|(before, _)| unescape(before.rsplit_once("href=\"").unwrap().1))
        .expect("the Export these link");
    Listed {
        ids,
        emails,
        matching,
        next,
        export,
    }
}

/// Every registration's id in the database's own order.
fn db_order(app: &TestApp, order: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let query = format!("SELECT r.id FROM registrations r ORDER BY {order}");
    let rows: Vec<Id> = match &mut app.db() {
        rollcall::db::DbConnection::Sqlite(c) => diesel::sql_query(query).load(c),
        rollcall::db::DbConnection::Postgres(c) => diesel::sql_query(query).load(c),
    }
    .unwrap();
    rows.into_iter().map(|row| row.id).collect()
}

/// Every row of the list at `path`, following `rel="next"` to the end.
async fn every_page(app: &TestApp, path: &str) -> (Vec<String>, Vec<String>, i64) {
    let first = listed(app, path).await;
    let matching = first.matching;
    let (mut ids, mut emails) = (first.ids, first.emails);
    let mut next = first.next;
    while let Some(link) = next {
        let page = listed(app, &link).await;
        assert!(page.ids.len() <= 50);
        assert_eq!(page.matching, matching, "the count stays the same");
        ids.extend(page.ids);
        emails.extend(page.emails);
        next = page.next;
    }
    (ids, emails, matching)
}

async fn the_audience_page_searches_filters_sorts_and_exports_what_it_shows(backend: Backend) {
    let app = audience(backend).await;
    let everyone = IMPORTED as i64 + 4;
    let expect = |check: &dyn Fn(usize) -> bool| (0..IMPORTED).filter(|&i| check(i)).count() as i64;

    // Newest first, 50 a page, all statuses.
    let first = listed(&app, "/admin/subscribers").await;
    assert_eq!(first.matching, everyone);
    assert_eq!(first.ids.len(), 50);
    assert_eq!(
        first.ids,
        db_order(&app, "r.created_at DESC, r.id DESC")[..50],
        "newest first"
    );
    // A page position of one sort is refused by another.
    let next = first.next.expect("a second page");
    let other_sort = app
        .client
        .get(app.url(&next.replace("sort=created", "sort=name")))
        .send()
        .await
        .unwrap();
    assert_eq!(other_sort.status(), 400);

    // q: part of a name, an address or an organisation, any case.
    for (q, expected) in [
        ("sione", expect(&|i| person(i).1.starts_with("Sione"))),
        ("TUPOU", expect(&|i| person(i).1.ends_with("Tupou"))),
        ("uni.example", expect(&|i| i % 3 == 1)),
        (
            "south pacific",
            expect(&|i| person(i).2 == "University of the South Pacific"),
        ),
        ("chen7", expect(&|i| person(i).0.contains("chen7"))),
    ] {
        let path = format!("/admin/subscribers?q={}", q.replace(' ', "+"));
        let (ids, emails, matching) = every_page(&app, &path).await;
        assert!(expected > 0, "{q}: the data has matches");
        assert_eq!((matching, ids.len() as i64), (expected, expected), "{q}");
        let needle = q.to_lowercase();
        for (i, email) in emails.iter().enumerate() {
            let index: Option<usize> = (0..IMPORTED).find(|&k| &person(k).0 == email);
            let (e, n, o, _, _) =
                person(index.unwrap_or_else(|| panic!("{q} found {email} ({i})")));
            assert!(
                [e, n, o.to_owned()]
                    .iter()
                    .any(|t| t.to_lowercase().contains(&needle)),
                "{q} found {email}"
            );
        }
    }
    assert_eq!(
        listed(&app, "/admin/subscribers?q=s").await.matching,
        everyone,
        "a one-character q is ignored"
    );
    assert_eq!(
        listed(&app, "/admin/subscribers?q=100%25").await.matching,
        0,
        "% is a character"
    );

    // Each filter; kinds AND, repeats OR.
    for (query, expected) in [
        ("status=confirmed", IMPORTED as i64 + 1),
        ("status=pending", 2),
        ("status=unsubscribed", 1),
        ("country=NZ", expect(&|i| person(i).3 == "NZ") + 4),
        (
            "country=FJ&country=to",
            expect(&|i| ["FJ", "TO"].contains(&person(i).3)),
        ),
        (
            "timezone=Pacific/Tongatapu",
            expect(&|i| person(i).4 == "Pacific/Tongatapu"),
        ),
        ("org_type=government", 4),
        ("interest=Training+and+workshops", 2),
        ("interest=Training+and+workshops&status=confirmed", 1),
        ("source=mailchimp", IMPORTED as i64),
        ("source=form", 4),
        ("since=2026-11-22&until=2026-11-26", 2),
        ("until=2026-11-21", 1),
        (
            "q=sione&country=NZ",
            expect(&|i| person(i).1.starts_with("Sione") && person(i).3 == "NZ"),
        ),
    ] {
        let page = listed(&app, &format!("/admin/subscribers?{query}")).await;
        assert_eq!(page.matching, expected, "{query}");
    }

    // Every sort, both ways: each row exactly once, in order.
    for sort in ["created", "confirmed", "name", "email"] {
        for dir in ["asc", "desc"] {
            let (ids, emails, matching) =
                every_page(&app, &format!("/admin/subscribers?sort={sort}&dir={dir}")).await;
            assert_eq!(matching, everyone);
            assert_eq!(ids.len() as i64, everyone, "{sort} {dir}");
            assert_eq!(
                ids.iter().collect::<HashSet<_>>().len(),
                ids.len(),
                "{sort} {dir}: once each"
            );
            let expression = match sort {
                "created" => "r.created_at",
                "name" => "lower(r.name)",
                "email" => "r.email_key",
                _ => continue,
            };
            let order = format!("{expression} {dir}, r.id {dir}");
            assert_eq!(ids, db_order(&app, &order), "by {sort} {dir}");
            if (sort, dir) == ("created", "asc") {
                assert_eq!(emails[0], "kalolaine.pending@example.net", "oldest first");
            }
        }
    }

    // "Export these" is `rollcall export` with the same flags, byte for byte.
    for (query, flags) in [
        (
            "status=confirmed&country=NZ&country=FJ&q=tupou",
            vec![
                "--status",
                "confirmed",
                "--country",
                "NZ",
                "--country",
                "FJ",
                "--q",
                "tupou",
            ],
        ),
        (
            "status=all&org_type=government&interest=Meetups+and+talks",
            vec![
                "--status",
                "all",
                "--org-type",
                "government",
                "--interest",
                "Meetups and talks",
            ],
        ),
        (
            "status=pending&since=2026-11-21&until=2026-11-23&source=form",
            vec![
                "--status",
                "pending",
                "--since",
                "2026-11-21",
                "--until",
                "2026-11-23",
                "--source",
                "form",
            ],
        ),
    ] {
        let page = listed(&app, &format!("/admin/subscribers?{query}")).await;
        assert!(
            page.export.starts_with("/admin/export.csv?status="),
            "{}",
            page.export
        );
        let http = app.client.get(app.url(&page.export)).send().await.unwrap();
        assert_eq!(http.status(), 200);
        let http = http.bytes().await.unwrap();
        let mut args = vec!["export"];
        args.extend(flags.iter().copied());
        let cli = app.rollcall(&args);
        assert!(
            cli.status.success(),
            "{}",
            String::from_utf8_lossy(&cli.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&http),
            String::from_utf8_lossy(&cli.stdout),
            "{query}"
        );
        let rows = http
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as i64
            - 1;
        assert_eq!(
            rows, page.matching,
            "{query}: the export holds what the page counts"
        );
    }
    // The log says a search was made, never what was searched.
    let logged = app.count("SELECT COUNT(*) FROM exports WHERE filter LIKE '%q=(set)%'");
    assert_eq!(logged, 2, "the page's export and the CLI's");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM exports WHERE filter LIKE '%tupou%'"),
        0
    );
}

async fn the_person_page_resends_a_confirmation_to_pending_people_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("waiting@example.org").await;
    app.confirmed_member("member@example.org").await;
    app.deliver().await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    let id_of = |email: &str| -> String {
        use diesel::prelude::*;
        use rollcall::db::schema::registrations::dsl;
        dsl::registrations
            .filter(dsl::email_key.eq(email))
            .select(dsl::id)
            .get_result(&mut app.db())
            .unwrap()
    };
    let (waiting, member) = (id_of("waiting@example.org"), id_of("member@example.org"));

    // The list links to the person; the old exact search goes straight there.
    let list = app.get_text("/admin/subscribers").await;
    assert!(list.contains(&format!("href=\"/admin/subscribers/{waiting}\"")));
    let exact = app
        .client
        .get(app.url("/admin/subscribers?email=WAITING@example.org"))
        .send()
        .await
        .unwrap();
    assert_eq!(exact.status(), 303);
    assert_eq!(
        exact.headers()["location"],
        format!("/admin/subscribers/{waiting}").as_str()
    );

    let page = app.get_text(&format!("/admin/subscribers/{waiting}")).await;
    assert!(page.contains("waiting@example.org") && page.contains("Resend confirmation"));
    let csrf = extract_csrf(&page).unwrap();
    let resend = format!("/admin/subscribers/{waiting}/resend");
    assert_eq!(
        app.post_form(&resend, &[]).await.status(),
        403,
        "no CSRF token"
    );
    let before = app.mail_to("waiting@example.org").len();
    // Past the cooldown of the signup's own email.
    app.clock.advance(chrono::Duration::minutes(11));
    let answer = app.post_form(&resend, &[("csrf_token", &csrf)]).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        format!("/admin/subscribers/{waiting}?resent=1").as_str()
    );
    app.deliver().await;
    let mails = app.mail_to("waiting@example.org");
    assert_eq!(mails.len(), before + 1, "a new confirmation went out");
    let again = app
        .get_text(&format!("/admin/subscribers/{waiting}?resent=1"))
        .await;
    assert!(again.contains("A new confirmation email was asked for"));
    // Inside the cooldown nothing more goes out, but the answer is the same.
    assert_eq!(
        app.post_form(&resend, &[("csrf_token", &csrf)])
            .await
            .status(),
        303
    );
    app.deliver().await;
    assert_eq!(
        app.mail_to("waiting@example.org").len(),
        before + 1,
        "the cooldown holds"
    );

    let member_page = app.get_text(&format!("/admin/subscribers/{member}")).await;
    assert!(!member_page.contains("Resend confirmation"));
    assert_eq!(
        app.post_form(
            &format!("/admin/subscribers/{member}/resend"),
            &[("csrf_token", &csrf)]
        )
        .await
        .status(),
        409
    );
    assert_eq!(
        app.post_form(
            "/admin/subscribers/no-such-id/resend",
            &[("csrf_token", &csrf)]
        )
        .await
        .status(),
        404
    );
    let missing = app
        .client
        .get(app.url("/admin/subscribers/no-such-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn a_bad_filter_is_a_400_that_names_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.confirmed_member("member@example.org").await;
    app.add_organiser("organiser@example.org", PASSWORD);
    app.log_in("organiser@example.org", PASSWORD).await;
    for (query, named) in [
        ("country=ZZ", "country"),
        ("status=gone", "status"),
        ("since=31-01-2026", "since"),
        ("until=99999-01-01", "until"),
        ("sort=age", "sort"),
        ("dir=up", "dir"),
        ("after=not-a-cursor", "after"),
        ("interest=Knitting", "interest"),
        ("q=%FF", ""),
    ] {
        let page = app
            .client
            .get(app.url(&format!("/admin/subscribers?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 400, "{query}");
        assert!(page.text().await.unwrap().contains(named), "{query}");
        let export = app
            .client
            .get(app.url(&format!("/admin/export.csv?{query}")))
            .send()
            .await
            .unwrap();
        if !["sort=age", "dir=up", "after=not-a-cursor"].contains(&query) {
            assert_eq!(export.status(), 400, "export {query}");
        }
    }
    // The CLI refuses the same values with exit 2 and writes nothing (the
    // three exports above had only page parameters, which the export ignores).
    assert_eq!(app.count("SELECT COUNT(*) FROM exports"), 3);
    for flags in [
        ["--country", "ZZ"],
        ["--status", "gone"],
        ["--until", "31-01-2026"],
        ["--interest", "Knitting"],
    ] {
        let mut args = vec!["export"];
        args.extend(flags);
        let out = app.rollcall(&args);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(out.stdout.is_empty(), "{flags:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flags[0].trim_start_matches("--")));
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM exports"),
        3,
        "no refused export is logged"
    );
}
