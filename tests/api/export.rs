//! The CSV export: bytes exactly as the contract says, over HTTP and the CLI,
//! and memory that stays flat however long the list.

use crate::helpers::{Backend, TestApp, spawn_app, valid_json};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    the_header_columns_and_line_endings_are_exact,
    filters_and_the_bom_apply,
    formula_cells_are_neutralised_in_every_column,
    awkward_names_round_trip_through_a_csv_reader,
    the_cli_writes_the_same_bytes_as_http,
    a_failed_cli_export_leaves_no_half_file,
    exports_are_recorded,
    bad_filters_are_a_400,
);

const HEADER: &str = "id,email,name,organisation,org_type,country,timezone,interests,status,created_at,confirmed_at,unsubscribed_at,consent_text_version,consent_ip,source,unsubscribe_reason\r\n";
const PASSWORD: &str = "correct horse battery staple";

async fn export(app: &TestApp, query: &str) -> Vec<u8> {
    let response = app
        .client
        .get(app.url(&format!("/admin/export.csv{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "export{query}");
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    response.bytes().await.unwrap().to_vec()
}

async fn logged_in(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    app.add_organiser("organiser@example.org", PASSWORD);
    assert_eq!(
        app.log_in("organiser@example.org", PASSWORD).await.status(),
        303
    );
    app
}

async fn the_header_columns_and_line_endings_are_exact(backend: Backend) {
    let app = logged_in(backend).await;
    let mut person = valid_json("pita@example.org");
    person["interests"] = json!([
        app.settings.signup.interests[1],
        app.settings.signup.interests[0]
    ]);
    app.post_json(&person).await;
    app.confirm_everyone().await;
    let body = String::from_utf8(export(&app, "").await).unwrap();
    assert!(body.starts_with(HEADER));
    let row = body.strip_prefix(HEADER).unwrap();
    assert!(row.ends_with("\r\n") && row.matches("\r\n").count() == 1);
    let cells: Vec<&str> = row.trim_end().split(',').collect();
    assert_eq!(cells.len(), 16);
    assert_eq!(cells[1], "pita@example.org");
    assert_eq!(cells[5], "AU");
    let interests = format!(
        "{};{}",
        app.settings.signup.interests[0], app.settings.signup.interests[1]
    );
    assert_eq!(cells[7], interests, "interests in config order");
    assert_eq!(cells[8], "confirmed");
    assert_eq!(cells[9], "2026-11-26T09:00:00Z");
    assert_eq!(cells[11], "", "null is an empty cell");
    assert_eq!(cells[12], app.settings.signup.consent_text_version);
    assert_eq!(cells[13], "127.0.0.1");
    assert_eq!(cells[14], "api");
    assert_eq!(cells[15], "", "no unsubscribe reason while confirmed");
}

async fn filters_and_the_bom_apply(backend: Backend) {
    let app = logged_in(backend).await;
    app.post_json(&valid_json("old@example.org")).await;
    app.clock.advance(chrono::Duration::days(3));
    app.post_json(&valid_json("new@example.org")).await;
    app.log_in("organiser@example.org", PASSWORD).await;
    let rows = |body: Vec<u8>| String::from_utf8(body).unwrap().lines().count() - 1;
    assert_eq!(rows(export(&app, "").await), 0, "default is confirmed");
    assert_eq!(rows(export(&app, "?status=pending").await), 2);
    assert_eq!(rows(export(&app, "?status=all&since=2026-11-27").await), 1);
    assert_eq!(rows(export(&app, "?status=all&since=2026-11-26").await), 2);
    let bom = export(&app, "?status=all&bom=1").await;
    assert_eq!(&bom[..3], b"\xEF\xBB\xBF");
    assert_eq!(&bom[3..], &export(&app, "?status=all").await[..]);
}

async fn formula_cells_are_neutralised_in_every_column(backend: Backend) {
    let app = logged_in(backend).await;
    let mut person = valid_json("=cmd@example.org");
    person["name"] = json!("=HYPERLINK(\"http://evil.example\",\"x\")");
    person["organisation"] = json!("+1");
    app.post_json(&person).await;
    let mut second = valid_json("-minus@example.org");
    second["name"] = json!("@x");
    second["organisation"] = json!("-1");
    app.post_json(&second).await;
    let body = export(&app, "?status=all").await;
    let mut reader = csv::Reader::from_reader(&body[..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cells: Vec<&str> = records.iter().flat_map(|r| r.iter()).collect();
    for risky in [
        "=cmd@example.org",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+1",
        "-minus@example.org",
        "@x",
        "-1",
    ] {
        assert!(
            cells.contains(&format!("'{risky}").as_str()),
            "{risky} neutralised"
        );
    }
    assert!(cells.iter().all(|c| !c.starts_with(['=', '+', '-', '@'])));
}

async fn awkward_names_round_trip_through_a_csv_reader(backend: Backend) {
    let app = logged_in(backend).await;
    let mut names = vec![
        "Mere \"Kiri\" Ngata, PhD",
        "Tāmaki Makaurau",
        "陳大文",
        "Ōtautahi — Ngāi Tahu",
    ];
    for (i, name) in names.iter().enumerate() {
        let mut person = valid_json(&format!("person{i}@example.org"));
        person["name"] = json!(name);
        assert_eq!(app.post_json(&person).await.status(), 202, "{name:?}");
    }
    // The signup rules refuse control characters, so a name with a line break can
    // only come from older data; the export must still carry it intact.
    app.post_json(&valid_json("newline@example.org")).await;
    {
        use diesel::connection::SimpleConnection;
        app.db()
            .batch_execute("UPDATE registrations SET name = 'Line' || char(10) || 'break, \"quoted\"' WHERE email = 'newline@example.org'")
            .or_else(|_| app.db().batch_execute("UPDATE registrations SET name = 'Line' || chr(10) || 'break, \"quoted\"' WHERE email = 'newline@example.org'"))
            .unwrap();
    }
    names.push("Line\nbreak, \"quoted\"");
    let body = export(&app, "?status=all").await;
    let exported: Vec<String> = csv::Reader::from_reader(&body[..])
        .records()
        .map(|r| r.unwrap()[2].to_owned())
        .collect();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut got = exported.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

async fn the_cli_writes_the_same_bytes_as_http(backend: Backend) {
    let app = logged_in(backend).await;
    for i in 0..30 {
        let mut person = valid_json(&format!("cli{i}@example.org"));
        person["name"] = json!(format!("Name, \"{i}\" Ngā"));
        app.post_json(&person).await;
    }
    for (query, args) in [
        ("?status=all", vec!["--status", "all"]),
        (
            "?status=pending&bom=1",
            vec!["--status", "pending", "--bom"],
        ),
        ("", vec![]),
    ] {
        let http = export(&app, query).await;
        let mut argv = vec!["export"];
        argv.extend(args.iter().copied());
        let cli = app.rollcall(&argv);
        assert!(
            cli.status.success(),
            "{}",
            String::from_utf8_lossy(&cli.stderr)
        );
        assert_eq!(cli.stdout, http, "CLI and HTTP bytes for {query:?}");
        assert!(String::from_utf8_lossy(&cli.stderr).contains("exported "));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("members.csv");
    let cli = app.rollcall(&[
        "export",
        "--status",
        "all",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(cli.status.success());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        export(&app, "?status=all").await
    );
    assert!(String::from_utf8_lossy(&cli.stderr).contains("exported 30 rows"));
}

async fn a_failed_cli_export_leaves_no_half_file(backend: Backend) {
    let app = logged_in(backend).await;
    app.post_json(&valid_json("half@example.org")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("members.csv");
    // An unreachable database makes the export fail after the file was opened.
    let failed = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args([
            "export",
            "--status",
            "all",
            "--output",
            file.to_str().unwrap(),
        ])
        .env(
            "ROLLCALL__DATABASE__URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("ROLLCALL__SERVER__SECRET_KEY", crate::helpers::TEST_SECRET)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(!file.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left behind"
    );
}

async fn exports_are_recorded(backend: Backend) {
    let app = logged_in(backend).await;
    export(&app, "?status=all&since=2026-01-01").await;
    assert!(app.rollcall(&["export"]).status.success());
    assert_eq!(app.count("SELECT COUNT(*) FROM exports WHERE actor = 'organiser:organiser@example.org' AND filter = 'status=all since=2026-01-01' AND outcome = 'complete'"), 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM exports WHERE actor LIKE 'cli:%' AND filter = 'status=confirmed'"
        ),
        1
    );
}

async fn bad_filters_are_a_400(backend: Backend) {
    let app = logged_in(backend).await;
    for query in ["?status=everyone", "?since=yesterday", "?since=2026-13-01"] {
        let response = app
            .client
            .get(app.url(&format!("/admin/export.csv{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
    assert_eq!(
        app.rollcall(&["export", "--status", "everyone"])
            .status
            .code(),
        Some(2)
    );
}
