//! `rollcall config check` as an organiser runs it, against the repository's
//! `config/`: the shipped `example.org` addresses are warnings (on stderr,
//! naming the key; the check still passes), and production refuses them
//! with one line. No database is involved.

use crate::helpers::TEST_SECRET;
use std::process::{Command, Output};

/// `rollcall config check` in the crate root with only these variables
/// (inherited `ROLLCALL_ENV` and `ROLLCALL__…` ones removed).
fn config_check(env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    command
        .args(["config", "check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("ROLLCALL_ENV");
    for (name, _) in std::env::vars() {
        if name.to_ascii_uppercase().starts_with("ROLLCALL__") {
            command.env_remove(name);
        }
    }
    // A key given, so nothing is generated into the crate's data/.
    command.env("ROLLCALL__SERVER__SECRET_KEY", TEST_SECRET);
    command.envs(env.iter().copied());
    command.output().expect("run rollcall config check")
}

const REAL_ADDRESSES: [(&str, &str); 2] = [
    (
        "ROLLCALL__EMAIL__FROM",
        "Oceania Pangeo <hello@pangeo.org.au>",
    ),
    ("ROLLCALL__GROUP__CONTACT_EMAIL", "hello@pangeo.org.au"),
];

const PRODUCTION: [(&str, &str); 3] = [
    ("ROLLCALL_ENV", "production"),
    (
        "ROLLCALL__SERVER__BASE_URL",
        "https://rollcall.pangeo.org.au",
    ),
    ("ROLLCALL__EMAIL__TRANSPORT", "smtp"),
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_shipped_example_org_addresses_are_warned_about_and_the_check_passes() {
    let output = config_check(&[]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "configuration ok\n");
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    assert!(
        warnings[0].starts_with(
            "warning: config: email.from: oceania-pangeo@example.org is at example.org"
        ),
        "{stderr}"
    );
    assert!(
        warnings[1].starts_with("warning: config: group.contact_email: "),
        "{stderr}"
    );

    let sub = config_check(&[("ROLLCALL__GROUP__CONTACT_EMAIL", "hi@lists.example.org")]);
    assert_eq!(sub.status.code(), Some(0));
    assert!(
        text(&sub.stderr).contains("warning: config: group.contact_email: hi@lists.example.org"),
        "a subdomain is the placeholder too"
    );
}

#[test]
fn a_real_domain_gets_no_warning() {
    let output = config_check(&REAL_ADDRESSES);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stdout), "configuration ok\n");
    assert_eq!(text(&output.stderr), "", "no warning");
}

#[test]
fn production_refuses_the_placeholders_in_one_line_naming_the_keys() {
    let output = config_check(&PRODUCTION);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("config: email.from: oceania-pangeo@example.org is at example.org"),
        "{stderr}"
    );
    assert!(stderr.contains("; group.contact_email: "), "{stderr}");
    assert_eq!(text(&output.stdout), "");

    let only_contact = config_check(&[PRODUCTION.as_slice(), &REAL_ADDRESSES[..1]].concat());
    let stderr = text(&only_contact.stderr);
    assert_eq!(only_contact.status.code(), Some(2));
    assert!(
        stderr.starts_with("config: group.contact_email: ") && !stderr.contains("email.from"),
        "{stderr}"
    );

    let real = config_check(&[PRODUCTION.as_slice(), &REAL_ADDRESSES].concat());
    assert_eq!(real.status.code(), Some(0), "{}", text(&real.stderr));
    assert_eq!(text(&real.stderr), "");
}
