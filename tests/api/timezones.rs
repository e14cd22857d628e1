//! The time-zone menu: canonical zones grouped by region, the suggested zones
//! first, labelled with places and the day's offset; the script that
//! preselects the browser's zone, served as JavaScript that the CSP allows;
//! an alias sent or stored is kept and shown as the zone it names.

use crate::helpers::{Backend, TestApp, spawn_app, valid_form, valid_json};
use crate::on_both_backends;
use diesel::connection::SimpleConnection;

on_both_backends!(
    the_signup_menu_groups_canonical_zones_with_the_suggested_ones_first,
    the_zone_script_is_javascript_with_a_long_cache_that_the_csp_allows,
    an_alias_is_stored_as_its_zone_and_old_rows_under_an_alias_still_match,
);

/// The signup page must stay small: it was 49.7 kB with the 599 raw names.
const SIGNUP_PAGE_BUDGET: usize = 42_000;

/// The `<select id="timezone">` of a page, up to its `</select>`.
fn zone_menu(page: &str) -> &str {
    let start = page
        .find(r#"<select id="timezone""#)
        .expect("the zone menu");
    let end = page[start..].find("</select>").expect("its end") + start;
    &page[start..end]
}

/// The values of the menu's options, in order (the empty "Choose…" left out).
fn values(menu: &str) -> Vec<&str> {
    menu.split(r#"<option value=""#)
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(value, _)| value))
        .filter(|value| !value.is_empty())
        .collect()
}

fn optgroups(menu: &str) -> Vec<&str> {
    menu.split(r#"<optgroup label=""#)
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(label, _)| label))
        .collect()
}

async fn the_signup_menu_groups_canonical_zones_with_the_suggested_ones_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get_text("/").await;
    assert!(
        page.len() < SIGNUP_PAGE_BUDGET,
        "the signup page is {} bytes",
        page.len()
    );
    let menu = zone_menu(&page);
    assert_eq!(
        optgroups(menu),
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
    assert!(
        menu.contains("<option value=\"\">Choose…</option>\n<optgroup label=\"Suggested\">"),
        "{menu}"
    );
    let values = values(menu);
    assert_eq!(
        values[..8],
        [
            "Australia/Perth",
            "Australia/Darwin",
            "Australia/Adelaide",
            "Australia/Brisbane",
            "Australia/Sydney",
            "Australia/Melbourne",
            "Australia/Hobart",
            "Pacific/Auckland",
        ],
        "signup.featured_timezones, in its order"
    );
    let oceania = menu
        .find(r#"<optgroup label="Oceania and the Pacific">"#)
        .unwrap();
    let lord_howe = menu.find(r#"value="Australia/Lord_Howe""#).unwrap();
    assert!(
        lord_howe > oceania,
        "a zone not suggested is under its region"
    );
    for trap in [
        r#"value="Etc/"#,
        r#"value="US/"#,
        r#"value="GMT"#,
        r#"value="UTC""#,
        r#"value="Pacific/Samoa""#,
        r#"value="Australia/ACT""#,
        r#"value="Pacific/Majuro""#,
    ] {
        assert!(!menu.contains(trap), "{trap}");
    }
    assert!(values.len() > 300 && values.len() < 330, "{}", values.len());
    // The test clock says 26 November 2026: summer in Sydney, Samoa at +13.
    for option in [
        "<option value=\"Pacific/Apia\">Apia (Samoa) — UTC+13</option>",
        "<option value=\"Pacific/Pago_Pago\">Pago Pago (American Samoa), Midway — UTC\u{2212}11</option>",
        "<option value=\"Australia/Sydney\">Sydney, Canberra, Newcastle — UTC+11</option>",
        "<option value=\"Australia/Brisbane\">Brisbane, Gold Coast, Townsville, Cairns — UTC+10</option>",
    ] {
        assert!(menu.contains(option), "{option}");
    }
}

async fn the_zone_script_is_javascript_with_a_long_cache_that_the_csp_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    let form = app.client.get(app.url("/")).send().await.unwrap();
    let csp = form.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let scripts = csp.split(';').find(|d| d.contains("script-src")).unwrap();
    assert_eq!(scripts.trim(), "script-src 'self'", "{csp}");
    let page = form.text().await.unwrap();
    assert_eq!(
        page.matches("<script").count(),
        1,
        "one script, no inline one"
    );
    let src = page
        .split_once(r#"<script src=""#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(src, _)| src)
        .expect("the script's src");
    assert!(
        src.starts_with("/static/timezone.js?v="),
        "same origin: {src}"
    );
    assert!(page.contains(&format!(r#"<script src="{src}" defer></script>"#)));

    let script = app.client.get(app.url(src)).send().await.unwrap();
    assert_eq!(script.status(), 200);
    let headers = script.headers();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let text = script.text().await.unwrap();
    assert!(text.contains("Intl.DateTimeFormat().resolvedOptions().timeZone"));
    assert!(
        text.contains(r#""Asia/Calcutta":"Asia/Kolkata""#),
        "the old names Chromium reports"
    );
    let plain = app.client.get(app.url("/static/timezone.js")).send().await;
    assert_eq!(
        plain.unwrap().text().await.unwrap(),
        text,
        "the query is only for caches"
    );
}

/// The person page of `email`, found through the audience page's search.
async fn person_page(app: &TestApp, email: &str) -> String {
    let name = email.split_once('@').map_or(email, |(name, _)| name);
    let list = app.get_text(&format!("/admin/subscribers?q={name}")).await;
    let marker = "<a href=\"/admin/subscribers/";
    let (_, rest) = list.split_once(marker).expect("a row");
    let (id, _) = rest.split_once('"').unwrap();
    app.get_text(&format!("/admin/subscribers/{id}")).await
}

/// "N matching" on the audience page for `query`.
async fn matching(app: &TestApp, query: &str) -> i64 {
    let page = app.get_text(&format!("/admin/subscribers?{query}")).await;
    page.split_once("<p id=\"matching\">")
        .and_then(|(_, rest)| rest.split_once(' '))
        .map(|(n, _)| n.parse().unwrap())
        .unwrap_or_else(|| panic!("the count for {query}"))
}

async fn an_alias_is_stored_as_its_zone_and_old_rows_under_an_alias_still_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut samoa = valid_json("sina@example.org");
    samoa["timezone"] = "Pacific/Samoa".into();
    assert_eq!(app.post_json(&samoa).await.status(), 202);
    let stored = "SELECT COUNT(*) FROM registrations WHERE email = 'sina@example.org' \
                  AND timezone = 'Pacific/Pago_Pago'";
    assert_eq!(app.count(stored), 1, "kept under the zone it names");

    // Sent through the form with a mistake: shown again under its zone.
    let token = app.csrf_token().await;
    let mut pairs: Vec<(&str, &str)> = valid_form("act@example.org")
        .into_iter()
        .filter(|(field, _)| !["name", "timezone"].contains(field))
        .collect();
    pairs.extend([("timezone", "Australia/ACT"), ("csrf_token", &token)]);
    let again = app.post_form("/subscriptions", &pairs).await;
    assert_eq!(again.status(), 422);
    let page = again.text().await.unwrap();
    let menu = zone_menu(&page);
    assert!(
        menu.contains("<option value=\"Australia/Sydney\" selected>"),
        "{menu}"
    );
    assert_eq!(menu.matches(" selected>").count(), 1);
    assert!(
        !page.contains("/static/timezone.js"),
        "a form shown again keeps its choice, an empty one too"
    );

    // A row stored under an alias before zones were kept canonical.
    assert_eq!(
        app.post_json(&valid_json("tavita@example.org"))
            .await
            .status(),
        202
    );
    app.db()
        .batch_execute(
            "UPDATE registrations SET timezone = 'US/Samoa' WHERE email = 'tavita@example.org'",
        )
        .unwrap();
    app.add_organiser("organiser@example.org", "correct horse battery staple");
    let login = app
        .log_in("organiser@example.org", "correct horse battery staple")
        .await;
    assert_eq!(login.status(), 303);
    for query in ["timezone=Pacific/Pago_Pago", "timezone=Pacific/Samoa"] {
        assert_eq!(matching(&app, query).await, 2, "{query}");
    }
    let audience = app
        .get_text("/admin/subscribers?timezone=Pacific/Samoa")
        .await;
    assert!(
        zone_menu(&audience).contains("<option value=\"Pacific/Pago_Pago\" selected>"),
        "the filter shows the zone it was given"
    );
    let person = person_page(&app, "tavita@example.org").await;
    assert!(person.contains(", Pacific/Pago_Pago</td>"), "{person}");
    assert!(!person.contains("US/Samoa"));
}
