//! Import keeps what organisers segment by: country (a code or an English
//! name), time zone and organisation; a bad one is dropped and reported, the
//! person kept; rollcall's own export re-imported re-subscribes nobody.

use crate::helpers::{Backend, spawn_app};
use crate::import::{MAILCHIMP, exported, import, row_of};
use crate::on_both_backends;

on_both_backends!(
    a_mailchimp_export_brings_country_zone_and_organisation,
    a_bad_optional_value_is_ignored_and_the_person_imported,
    rollcalls_own_export_reimported_changes_nothing_and_resubscribes_nobody,
);

async fn a_mailchimp_export_brings_country_zone_and_organisation(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, &[MAILCHIMP]);
    let rows = exported(&app);
    let aroha = row_of(&rows, "aroha.ngata@example.org");
    assert_eq!(
        (
            aroha["country"].as_str(),
            aroha["timezone"].as_str(),
            aroha["organisation"].as_str()
        ),
        ("NZ", "Pacific/Auckland", "NIWA")
    );
    let tevita = row_of(&rows, "tevita.fifita@example.com");
    assert_eq!(
        (tevita["country"].as_str(), tevita["timezone"].as_str()),
        ("TO", "Pacific/Tongatapu")
    );
    app.deliver().await;
}

async fn a_bad_optional_value_is_ignored_and_the_person_imported(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "Email,Name,CC,Time Zone,Company\r\n\
         ana@example.org,Ana Kata,XX,Mars/Olympus,Fiji Meteorological Service\r\n\
         ben@example.org,Ben Tau,fj,Pacific/Fiji,\r\n",
    )
    .unwrap();
    let run = import(&app, &[file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "imported 2, already present 0, skipped 0, rejected 0\n"
    );
    let notes: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].starts_with("line 2: country: \"XX\":") && notes[0].ends_with("(ignored)"),
        "{notes:?}"
    );
    assert!(
        notes[1].starts_with("line 2: timezone: \"Mars/Olympus\":")
            && notes[1].ends_with("(ignored)"),
        "{notes:?}"
    );
    let rows = exported(&app);
    let ana = row_of(&rows, "ana@example.org");
    assert_eq!(
        (ana["country"].as_str(), ana["timezone"].as_str()),
        ("", "")
    );
    assert_eq!(ana["organisation"], "Fiji Meteorological Service");
    let ben = row_of(&rows, "ben@example.org");
    assert_eq!(
        (ben["country"].as_str(), ben["timezone"].as_str()),
        ("FJ", "Pacific/Fiji")
    );
    app.deliver().await;
}

async fn rollcalls_own_export_reimported_changes_nothing_and_resubscribes_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    app.confirmed_member("ana@example.org").await;
    app.unsubscribed_member("ben@example.org").await;
    let export = app.rollcall(&["export", "--status", "all"]);
    assert!(export.status.success());
    app.rollcall(&["erase", "ben@example.org"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rollcall.csv");
    std::fs::write(&file, &export.stdout).unwrap();
    let before = exported(&app);
    let run = import(
        &app,
        &[
            file.to_str().unwrap(),
            "--mode",
            "confirmed",
            "--source",
            "rollcall",
        ],
    );
    assert_eq!(
        run.stdout, "imported 0, already present 1, skipped 1, rejected 0\n",
        "{run:?}"
    );
    assert_eq!(run.code, 0);
    assert_eq!(
        exported(&app),
        before,
        "nothing changed; the one who left stays gone"
    );
}
