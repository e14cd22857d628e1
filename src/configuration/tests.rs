use std::path::{Path, PathBuf};

use chrono::{NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use ipnet::IpNet;
use tempfile::TempDir;

use super::*;

const NO_ENV: [(&str, &str); 0] = [];
const PROD_SECRET: &str = "0123456789abcdef0123456789abcdef-production";

fn repo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

/// A config dir holding the given files.
fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        std::fs::write(dir.path().join(name), contents).unwrap();
    }
    dir
}

/// Loads with `env` as the environment variables; `ROLLCALL_ENV` among them
/// is passed as the environment name, as `Settings::load` does.
fn load(dir: &Path, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env_name = env
        .iter()
        .find(|(k, _)| *k == "ROLLCALL_ENV")
        .map(|(_, v)| *v);
    let vars = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    Settings::load_with(dir, env_name, vars, ())
}

fn load_err(dir: &Path, env: &[(&str, &str)]) -> String {
    load(dir, env).unwrap_err().to_string()
}

fn production_ok_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ROLLCALL_ENV", "production"),
        ("ROLLCALL__SERVER__BASE_URL", "https://rollcall.example.org"),
        ("ROLLCALL__EMAIL__TRANSPORT", "smtp"),
        ("ROLLCALL__SERVER__SECRET_KEY", PROD_SECRET),
    ]
}

#[test]
fn default_toml_loads_and_equals_builtin_defaults() {
    let settings = load(&repo_config(), &NO_ENV).unwrap();
    assert_eq!(settings, Settings::default());
    // And the empty config dir gives the very same.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(load(empty.path(), &NO_ENV).unwrap(), settings);

    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.server.bind_address(), "127.0.0.1:8080");
    assert_eq!(settings.server.base_url, "http://127.0.0.1:8080");
    assert!(settings.server.secret_key.is_none());
    assert!(settings.server.metrics_token.is_none());
    assert_eq!(settings.server.max_body_bytes, 16_384);
    assert_eq!(
        settings.database.url,
        DatabaseUrl::Sqlite(PathBuf::from("data/rollcall.db"))
    );
    assert_eq!(settings.database.max_connections, 8);
    assert_eq!(settings.email.transport, EmailTransportKind::File);
    assert_eq!(
        settings.email.from,
        "Oceania Pangeo <oceania-pangeo@example.org>"
    );
    assert_eq!(settings.email.smtp.tls, SmtpTls::Starttls);
    assert_eq!(
        settings.email.smtp.timeout(),
        std::time::Duration::from_secs(30)
    );
    assert_eq!(settings.email.lease(), TimeDelta::seconds(300));
    assert_eq!(
        settings.email.poll_interval(),
        std::time::Duration::from_millis(1000)
    );
    assert_eq!(settings.group.name, "Oceania Pangeo");
    assert!(settings.group.description.contains("Dask Down Under"));
    assert_eq!(settings.group.contact_email, "oceania-pangeo@example.org");
    assert_eq!(settings.group.website, "https://pangeo.io");
    assert_eq!(settings.group.privacy_url, "http://127.0.0.1:8080/privacy");
    assert_eq!(settings.group.postal_address, "");
    assert_eq!(settings.signup.token_ttl(), TimeDelta::hours(72));
    assert_eq!(settings.signup.resend_cooldown(), TimeDelta::minutes(10));
    assert_eq!(settings.signup.pending_retention(), TimeDelta::days(30));
    assert_eq!(settings.signup.consent_text_version, "2026-11-01");
    assert_eq!(&settings.signup.featured_countries[..3], ["AU", "NZ", "FJ"]);
    assert_eq!(settings.signup.featured_timezones[0], "Australia/Perth");
    assert_eq!(settings.signup.featured_tz()[0], Tz::Australia__Perth);
    assert_eq!(
        settings.signup.featured_tz().len(),
        settings.signup.featured_timezones.len()
    );
    assert_eq!(settings.dashboard.tz()[4], Tz::Pacific__Fiji);
    assert_eq!(
        settings.dashboard.zones,
        [
            "Australia/Perth",
            "Australia/Brisbane",
            "Australia/Sydney",
            "Pacific/Auckland",
            "Pacific/Fiji"
        ]
    );
    assert_eq!(settings.dashboard.working_hours.to_string(), "09:00-17:00");
    assert!(settings.dashboard.is_working_day(Weekday::Fri));
    assert!(!settings.dashboard.is_working_day(Weekday::Sat));
    assert_eq!(settings.admin.session_ttl(), TimeDelta::hours(12));
    assert_eq!(
        settings.admin.login_failure_window(),
        TimeDelta::minutes(15)
    );
    assert_eq!(settings.rate_limit.per_ip_per_minute_nonzero().get(), 10);
    assert_eq!(settings.log.format, LogFormat::Pretty);
}

#[test]
fn default_toml_documents_every_key() {
    let text = std::fs::read_to_string(repo_config().join("default.toml")).unwrap();
    for key in [
        "secret_key",
        "metrics_token",
        "username",
        "password",
        "trusted_proxies",
        "postal_address",
        "working_days",
    ] {
        assert!(text.contains(&format!("{key} =")), "{key} missing");
    }
    // Every `key = value` line has a comment line right above it.
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let starts_key = line.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        });
        if starts_key {
            assert!(lines[i - 1].starts_with('#'), "no comment above {line:?}");
        }
    }
}

#[test]
fn unknown_key_in_file_is_an_error_naming_it() {
    let dir = dir_with(&[("default.toml", "[server]\nprot = 9000\n")]);
    let err = load(dir.path(), &NO_ENV).unwrap_err();
    assert_eq!(err.key(), "server.prot");
    let line = err.to_string();
    assert!(
        line.starts_with("config: server.prot: unknown key"),
        "{line}"
    );
    assert!(line.contains("default.toml"), "{line}");
    assert!(line.contains("port"), "{line}");
    assert!(!line.contains('\n'));

    let dir = dir_with(&[("default.toml", "[sever]\nport = 9000\n")]);
    assert_eq!(load(dir.path(), &NO_ENV).unwrap_err().key(), "sever");
}

#[test]
fn unknown_key_in_env_names_key_and_variable() {
    let err = load(&repo_config(), &[("ROLLCALL__SERVER__PROT", "1")]).unwrap_err();
    assert_eq!(err.key(), "server.prot");
    assert!(
        err.to_string()
            .contains("from environment variable ROLLCALL__SERVER__PROT"),
        "{err}"
    );
}

#[test]
fn bad_value_is_one_line_naming_the_key() {
    let dir = dir_with(&[("default.toml", "[server]\nport = \"abc\"\n")]);
    let err = load(dir.path(), &NO_ENV).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"config: server.port: invalid type: found string "abc", expected u16"#
    );
    assert!(err.origin().unwrap().ends_with("default.toml"));

    let err = load(&repo_config(), &[("ROLLCALL__SERVER__PORT", "abc")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"config: server.port: invalid type: found string "abc", expected u16"#
    );
    assert_eq!(
        err.origin(),
        Some("environment variable ROLLCALL__SERVER__PORT")
    );

    let err = load_err(&repo_config(), &[("ROLLCALL__EMAIL__TRANSPORT", "smtpp")]);
    assert_eq!(
        err,
        r#"config: email.transport: unknown value "smtpp"; expected one of: file, smtp"#
    );
    let err = load_err(&repo_config(), &[("ROLLCALL__SERVER", "1")]);
    assert_eq!(
        err,
        r#"config: server: invalid type: found string "1", expected a table"#
    );
    let err = load_err(&repo_config(), &[("ROLLCALL__SERVER__PORT", "70000")]);
    assert!(err.starts_with("config: server.port: "), "{err}");
}

#[test]
fn toml_syntax_error_is_one_line_naming_the_file() {
    let dir = dir_with(&[("default.toml", "[server]\nport = = 1\n")]);
    let err = load(dir.path(), &NO_ENV).unwrap_err();
    let line = err.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(err.key().ends_with("default.toml"), "{line}");
    assert!(line.contains("line 2"), "{line}");
}

#[test]
fn env_layer_overrides_files() {
    let settings = load(
        &repo_config(),
        &[
            ("ROLLCALL__SERVER__PORT", "9000"),
            ("ROLLCALL__EMAIL__SMTP__HOST", "smtp.example.org"),
            ("ROLLCALL__EMAIL__SMTP__PORT", "587"),
            ("ROLLCALL__EMAIL__WORKER_ENABLED", "false"),
            (
                "ROLLCALL__SERVER__TRUSTED_PROXIES",
                "[10.0.0.1, 10.0.0.0/8, ::1]",
            ),
            ("ROLLCALL__SIGNUP__FEATURED_COUNTRIES", "nz"),
            (
                "ROLLCALL__GROUP__DESCRIPTION",
                "We meet, we learn, we share.",
            ),
            ("ROLLCALL__GROUP__NAME", "\"Pangeo, Oceania\""),
            // Not config keys: a single underscore after ROLLCALL.
            ("ROLLCALL_ENV", "development"),
            ("ROLLCALL_TEST_DATABASE_URL", "postgres://x@localhost/test"),
            ("UNRELATED", "1"),
        ],
    )
    .unwrap();
    assert_eq!(settings.server.port, 9000);
    assert_eq!(settings.email.smtp.host, "smtp.example.org");
    assert_eq!(settings.email.smtp.port, 587);
    assert!(!settings.email.worker_enabled);
    let nets: Vec<IpNet> = ["10.0.0.1/32", "10.0.0.0/8", "::1/128"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(settings.server.trusted_proxies, nets);
    assert!(
        settings
            .server
            .is_trusted_proxy("10.9.9.9".parse().unwrap())
    );
    assert!(
        !settings
            .server
            .is_trusted_proxy("192.168.0.1".parse().unwrap())
    );
    assert_eq!(settings.signup.featured_countries, ["NZ"]);
    assert_eq!(settings.group.description, "We meet, we learn, we share.");
    assert_eq!(settings.group.name, "Pangeo, Oceania");
    assert!(settings.database.url.is_sqlite());
}

#[test]
fn env_scalars_stay_text_for_string_keys() {
    let digits = "01234567890123456789012345678901234567890";
    let settings = load(
        &repo_config(),
        &[
            ("ROLLCALL__SERVER__SECRET_KEY", digits),
            ("ROLLCALL__SERVER__METRICS_TOKEN", "007"),
            ("ROLLCALL__SIGNUP__CONSENT_TEXT_VERSION", "3"),
        ],
    )
    .unwrap();
    assert_eq!(
        settings.server.secret_key.as_ref().unwrap().expose(),
        digits
    );
    assert_eq!(
        settings.server.metrics_token.as_ref().unwrap().expose(),
        "007"
    );
    assert_eq!(settings.signup.consent_text_version, "3");
}

#[test]
fn environment_file_layer() {
    let dir = dir_with(&[
        (
            "default.toml",
            "[server]\nport = 1111\nhost = \"0.0.0.0\"\n",
        ),
        (
            "test.toml",
            "[server]\nport = 2222\n[log]\nlevel = \"debug\"\n",
        ),
        ("production.toml", "[server]\nport = 3333\n"),
        ("development.toml", "[server]\nport = 4444\n"),
    ]);
    let test = load(dir.path(), &[("ROLLCALL_ENV", "test")]).unwrap();
    assert_eq!(test.environment, Environment::Other("test".into()));
    assert_eq!(test.environment.name(), "test");
    assert!(!test.is_production());
    assert_eq!(test.server.port, 2222);
    assert_eq!(test.server.host, "0.0.0.0");
    assert_eq!(test.log.level, "debug");
    assert_eq!(test.email.batch_size, 50, "built-in defaults fill the rest");

    let env_wins = load(
        dir.path(),
        &[("ROLLCALL_ENV", "test"), ("ROLLCALL__SERVER__PORT", "5555")],
    )
    .unwrap();
    assert_eq!(env_wins.server.port, 5555);

    let dev = load(dir.path(), &NO_ENV).unwrap();
    assert_eq!(dev.environment, Environment::Development);
    assert_eq!(dev.server.port, 4444);

    let overridden = Settings::load_with(
        dir.path(),
        Some("test"),
        [("ROLLCALL__SERVER__PORT".to_owned(), "5555".to_owned())],
        Overrides::new()
            .set("server.port", 0)
            .set("signup.interests", ["Talks", "Training"]),
    )
    .unwrap();
    assert_eq!(overridden.server.port, 0);
    assert_eq!(overridden.signup.interests, ["Talks", "Training"]);

    // Any serializable map of sections works as overrides.
    #[derive(serde::Serialize)]
    struct Server {
        port: u16,
        secret_key: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Sections {
        server: Server,
    }
    let from_struct = Settings::load_with(
        dir.path(),
        None,
        std::iter::empty(),
        Sections {
            server: Server {
                port: 7,
                secret_key: PROD_SECRET,
            },
        },
    )
    .unwrap();
    assert_eq!(from_struct.server.port, 7);
    assert_eq!(from_struct.environment, Environment::Development);
    let err = Settings::load_with(dir.path(), None, std::iter::empty(), 5).unwrap_err();
    assert_eq!(err.key(), "overrides");
    let err = Settings::load_with(
        dir.path(),
        None,
        std::iter::empty(),
        Overrides::new().set("server.port", "abc"),
    )
    .unwrap_err();
    assert_eq!(err.origin(), Some("overrides"));
    assert_eq!(err.key(), "server.port");
}

#[test]
fn environment_names() {
    assert_eq!(
        Environment::from_name(None).unwrap(),
        Environment::Development
    );
    assert_eq!(
        Environment::from_name(Some("")).unwrap(),
        Environment::Development
    );
    assert_eq!(
        Environment::from_name(Some("Production")).unwrap(),
        Environment::Production
    );
    let err = load_err(&repo_config(), &[("ROLLCALL_ENV", "../etc/passwd")]);
    assert!(err.starts_with("config: ROLLCALL_ENV: "), "{err}");
}

fn db_url(url: &str) -> Result<DatabaseUrl, String> {
    load(&repo_config(), &[("ROLLCALL__DATABASE__URL", url)])
        .map(|s| s.database.url)
        .map_err(|e| e.to_string())
}

#[test]
fn unsupported_database_scheme_message_is_exact() {
    for (url, scheme) in [
        ("mysql://localhost/rollcall", "mysql"),
        ("sqlite:data/rollcall.db", "sqlite"),
        ("data/rollcall.db", "data/rollcall.db"),
        ("", ""),
    ] {
        assert_eq!(
            db_url(url).unwrap_err(),
            format!(
                "config: database.url: unsupported scheme \"{scheme}\" (use sqlite:// or postgres://)"
            ),
            "{url}"
        );
    }
}

#[test]
fn database_urls() {
    assert_eq!(
        db_url("sqlite://data/rollcall.db").unwrap(),
        DatabaseUrl::Sqlite(PathBuf::from("data/rollcall.db"))
    );
    assert_eq!(
        db_url("sqlite:///var/lib/rollcall/rollcall.db").unwrap(),
        DatabaseUrl::Sqlite(PathBuf::from("/var/lib/rollcall/rollcall.db"))
    );
    let pg = db_url("postgres://rollcall:hunter2@db.internal:5432/rollcall").unwrap();
    assert_eq!(
        pg,
        DatabaseUrl::Postgres("postgres://rollcall:hunter2@db.internal:5432/rollcall".into())
    );
    assert!(!format!("{pg:?}").contains("hunter2"));
    assert_eq!(
        pg.redacted(),
        "postgres://rollcall:[redacted]@db.internal:5432/rollcall"
    );
    assert!(matches!(
        db_url("postgresql://localhost/rollcall").unwrap(),
        DatabaseUrl::Postgres(_)
    ));
    assert!(
        db_url("sqlite://")
            .unwrap_err()
            .starts_with("config: database.url: ")
    );
}

#[test]
fn production_refusals() {
    // Each rule on its own: one line naming the key.
    let mut env = production_ok_env();
    env[1].1 = "http://rollcall.example.org";
    let err = load(&repo_config(), &env).unwrap_err();
    assert_eq!(err.problems().len(), 1);
    assert!(
        err.to_string().starts_with("config: server.base_url: "),
        "{err}"
    );

    let mut env = production_ok_env();
    env[2].1 = "file";
    let err = load(&repo_config(), &env).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"config: email.transport: "file" is for development; use "smtp" in production"#
    );

    let env = &production_ok_env()[..3];
    let err = load(&repo_config(), env).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("config: server.secret_key: required in production")
    );

    // All at once: still one line, every key named.
    let err = load_err(&repo_config(), &[("ROLLCALL_ENV", "production")]);
    assert!(!err.contains('\n'));
    for key in ["server.base_url", "email.transport", "server.secret_key"] {
        assert!(err.contains(&format!("{key}: ")), "{err}");
    }

    let ok = load(&repo_config(), &production_ok_env()).unwrap();
    assert!(ok.is_production());
    // Outside production the same values are fine.
    assert!(load(&repo_config(), &[("ROLLCALL_ENV", "staging")]).is_ok());
}

#[test]
fn secret_key_is_generated_once_and_reused() {
    let settings = load(&repo_config(), &NO_ENV).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let first = settings.secret_key(&data_dir).unwrap();
    assert_eq!(first.as_bytes().len(), 64);
    assert!(first.as_bytes().iter().all(u8::is_ascii_hexdigit));
    assert_eq!(format!("{first:?}"), "[redacted]");
    let file = data_dir.join(SECRET_KEY_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = settings.secret_key(&data_dir).unwrap();
    assert_eq!(first, second);
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), 1);

    // The file's text can be pasted into the config and gives the same key.
    let text = std::fs::read_to_string(&file).unwrap();
    let configured = load(
        &repo_config(),
        &[("ROLLCALL__SERVER__SECRET_KEY", text.as_str())],
    )
    .unwrap()
    .secret_key(Path::new("/nonexistent"))
    .unwrap();
    assert_eq!(configured, first);

    // A file too short to be a key is reported, not replaced.
    std::fs::write(&file, "short").unwrap();
    let err = settings.secret_key(&data_dir).unwrap_err();
    assert_eq!(err.key(), "server.secret_key");
}

#[test]
fn secret_key_rules() {
    let err = load_err(
        &repo_config(),
        &[("ROLLCALL__SERVER__SECRET_KEY", "too short")],
    );
    assert_eq!(
        err,
        "config: server.secret_key: must be at least 32 bytes (got 9)"
    );
    assert!(!err.contains("too short"));
    // Empty means unset.
    let settings = load(&repo_config(), &[("ROLLCALL__SERVER__SECRET_KEY", "")]).unwrap();
    assert!(settings.server.secret_key.is_none());

    let production = load(&repo_config(), &production_ok_env()).unwrap();
    let key = production.secret_key(Path::new("/nonexistent")).unwrap();
    assert_eq!(key.as_bytes(), PROD_SECRET.as_bytes());
    let mut unkeyed = production.clone();
    unkeyed.server.secret_key = None;
    let tmp = tempfile::tempdir().unwrap();
    let err = unkeyed.secret_key(tmp.path()).unwrap_err();
    assert_eq!(err.key(), "server.secret_key");
    assert!(!tmp.path().join(SECRET_KEY_FILE).exists());

    let debug = format!("{production:?}");
    assert!(!debug.contains(PROD_SECRET), "{debug}");
    assert!(debug.contains("[redacted]"));
}

#[test]
fn lease_must_cover_two_smtp_timeouts() {
    let err = load_err(
        &repo_config(),
        &[
            ("ROLLCALL__EMAIL__LEASE_SECS", "59"),
            ("ROLLCALL__EMAIL__SMTP__TIMEOUT_SECS", "30"),
        ],
    );
    assert_eq!(
        err,
        "config: email.lease_secs: must be at least 2 × email.smtp.timeout_secs = 60 (got 59)"
    );
    assert!(
        load(
            &repo_config(),
            &[
                ("ROLLCALL__EMAIL__LEASE_SECS", "60"),
                ("ROLLCALL__EMAIL__SMTP__TIMEOUT_SECS", "30"),
            ],
        )
        .is_ok()
    );
}

#[test]
fn numeric_ranges_and_cross_key_rules() {
    for (var, key) in [
        (
            "ROLLCALL__DATABASE__MAX_CONNECTIONS",
            "database.max_connections",
        ),
        ("ROLLCALL__RATE_LIMIT__BURST", "rate_limit.burst"),
        (
            "ROLLCALL__RATE_LIMIT__PER_IP_PER_MINUTE",
            "rate_limit.per_ip_per_minute",
        ),
        (
            "ROLLCALL__SIGNUP__CODE_MAX_ATTEMPTS",
            "signup.code_max_attempts",
        ),
        ("ROLLCALL__EMAIL__MAX_ATTEMPTS", "email.max_attempts"),
    ] {
        let err = load(&repo_config(), &[(var, "0")]).unwrap_err();
        assert_eq!(err.key(), key);
    }
    let err = load(&repo_config(), &[("ROLLCALL__EMAIL__RETRY_MAX_SECS", "10")]).unwrap_err();
    assert_eq!(err.key(), "email.retry_max_secs");
    let err = load(
        &repo_config(),
        &[("ROLLCALL__SIGNUP__PENDING_RETENTION_DAYS", "2")],
    )
    .unwrap_err();
    assert_eq!(err.key(), "signup.pending_retention_days");
    let err = load(
        &repo_config(),
        &[("ROLLCALL__EMAIL__SMTP__USERNAME", "mailer")],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "config: email.smtp.password: required when email.smtp.username is set"
    );
    let both = load(
        &repo_config(),
        &[
            ("ROLLCALL__EMAIL__SMTP__USERNAME", "mailer"),
            ("ROLLCALL__EMAIL__SMTP__PASSWORD", "pw"),
        ],
    )
    .unwrap();
    assert_eq!(both.email.smtp.password.as_ref().unwrap().expose(), "pw");
}

#[test]
fn urls_and_mailboxes() {
    let base =
        |url: &str| load(&repo_config(), &[("ROLLCALL__SERVER__BASE_URL", url)]).map(|s| s.server);
    assert_eq!(
        base("https://example.org/").unwrap().base_url,
        "https://example.org"
    );
    let server = base("HTTPS://example.org/rollcall/").unwrap();
    assert!(server.is_https());
    assert_eq!(
        server.link("/confirm"),
        "https://example.org/rollcall/confirm"
    );
    assert_eq!(
        server.link("confirm"),
        "https://example.org/rollcall/confirm"
    );
    for bad in [
        "example.org",
        "ftp://example.org",
        "https://",
        "https://example.org//",
        "https://a.org/?x=1",
    ] {
        assert_eq!(base(bad).unwrap_err().key(), "server.base_url", "{bad}");
    }
    let err = load(
        &repo_config(),
        &[("ROLLCALL__EMAIL__FROM", "Oceania Pangeo")],
    )
    .unwrap_err();
    assert_eq!(err.key(), "email.from");
    let err = load(
        &repo_config(),
        &[("ROLLCALL__EMAIL__REPLY_TO", "a@b.org\r\nBcc: x@y.org")],
    )
    .unwrap_err();
    assert_eq!(err.key(), "email.reply_to");
    let err = load(
        &repo_config(),
        &[("ROLLCALL__GROUP__CONTACT_EMAIL", "Name <a@b.org>")],
    )
    .unwrap_err();
    assert_eq!(err.key(), "group.contact_email");
    let err = load(&repo_config(), &[("ROLLCALL__GROUP__WEBSITE", "pangeo.io")]).unwrap_err();
    assert_eq!(err.key(), "group.website");
    let err = load(&repo_config(), &[("ROLLCALL__GROUP__NAME", "  ")]).unwrap_err();
    assert_eq!(err.to_string(), "config: group.name: must not be empty");
    let err = load(
        &repo_config(),
        &[("ROLLCALL__SERVER__TRUSTED_PROXIES", "[10.0.0.300]")],
    )
    .unwrap_err();
    assert_eq!(err.key(), "server.trusted_proxies");
}

#[test]
fn lists_are_validated() {
    let key_of = |var: &str, value: &str| {
        load(&repo_config(), &[(var, value)])
            .unwrap_err()
            .key()
            .to_owned()
    };
    assert_eq!(
        key_of("ROLLCALL__SIGNUP__INTERESTS", "[Talks, talks]"),
        "signup.interests"
    );
    assert_eq!(
        key_of("ROLLCALL__SIGNUP__INTERESTS", "[a;b]"),
        "signup.interests"
    );
    assert_eq!(
        key_of("ROLLCALL__SIGNUP__FEATURED_COUNTRIES", "[AUS]"),
        "signup.featured_countries"
    );
    assert_eq!(
        key_of("ROLLCALL__SIGNUP__FEATURED_COUNTRIES", "[A1]"),
        "signup.featured_countries"
    );
    assert_eq!(
        key_of("ROLLCALL__SIGNUP__FEATURED_TIMEZONES", "[Pacific/Atlantis]"),
        "signup.featured_timezones"
    );
    assert_eq!(
        key_of("ROLLCALL__DASHBOARD__ZONES", "[]"),
        "dashboard.zones"
    );
    assert_eq!(
        key_of("ROLLCALL__DASHBOARD__WORKING_DAYS", "[Mon, Funday]"),
        "dashboard.working_days"
    );
    assert_eq!(
        key_of("ROLLCALL__DASHBOARD__WORKING_HOURS", "17:00-09:00"),
        "dashboard.working_hours"
    );
    assert_eq!(
        key_of("ROLLCALL__DASHBOARD__WORKING_HOURS", "9-5"),
        "dashboard.working_hours"
    );
    assert_eq!(key_of("ROLLCALL__LOG__LEVEL", ""), "log.level");
    assert_eq!(key_of("ROLLCALL__LOG__FORMAT", "xml"), "log.format");

    let settings = load(
        &repo_config(),
        &[
            ("ROLLCALL__SIGNUP__FEATURED_COUNTRIES", "[au, Nz]"),
            ("ROLLCALL__DASHBOARD__WORKING_HOURS", "08:30 - 16:45"),
            ("ROLLCALL__DASHBOARD__WORKING_DAYS", "[monday, Sat]"),
            ("ROLLCALL__DASHBOARD__ZONES", "Pacific/Tongatapu"),
            ("ROLLCALL__LOG__FORMAT", "json"),
        ],
    )
    .unwrap();
    assert_eq!(settings.signup.featured_countries, ["AU", "NZ"]);
    let hours = settings.dashboard.working_hours;
    assert_eq!(hours.start, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    assert_eq!(hours.end, NaiveTime::from_hms_opt(16, 45, 0).unwrap());
    assert!(hours.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    assert!(!hours.contains(hours.end));
    assert_eq!(
        settings.dashboard.working_days,
        [Weekday::Mon, Weekday::Sat]
    );
    assert_eq!(settings.dashboard.zones, ["Pacific/Tongatapu"]);
    assert_eq!(settings.dashboard.tz(), [Tz::Pacific__Tongatapu]);
    assert_eq!(settings.log.format, LogFormat::Json);
}

#[test]
fn retry_delay_doubles_up_to_the_cap() {
    let email = EmailSettings::default();
    assert_eq!(email.retry_delay(1), TimeDelta::seconds(30));
    assert_eq!(email.retry_delay(2), TimeDelta::seconds(60));
    assert_eq!(email.retry_delay(4), TimeDelta::seconds(240));
    assert_eq!(email.retry_delay(8), TimeDelta::seconds(3600));
    assert_eq!(email.retry_delay(200), TimeDelta::seconds(3600));
}

#[test]
fn ipv6_bind_address() {
    let settings = load(&repo_config(), &[("ROLLCALL__SERVER__HOST", "::")]).unwrap();
    assert_eq!(settings.server.bind_address(), "[::]:8080");
}

#[test]
fn privacy_url_follows_base_url_unless_set() {
    let settings = load(
        &repo_config(),
        &[(
            "ROLLCALL__SERVER__BASE_URL",
            "https://join.example.net/list",
        )],
    )
    .unwrap();
    assert_eq!(
        settings.group.privacy_url,
        "https://join.example.net/list/privacy"
    );
    let set = load(
        &repo_config(),
        &[(
            "ROLLCALL__GROUP__PRIVACY_URL",
            "https://group.example.net/notice",
        )],
    )
    .unwrap();
    assert_eq!(set.group.privacy_url, "https://group.example.net/notice");
}

#[test]
fn production_refuses_an_http_or_loopback_privacy_url() {
    for bad in [
        "http://group.example.net/privacy",
        "https://127.0.0.1/privacy",
        "https://localhost:8443/privacy",
        "https://[::1]/privacy",
    ] {
        let mut env = production_ok_env();
        env.push(("ROLLCALL__GROUP__PRIVACY_URL", bad));
        let err = load(&repo_config(), &env).unwrap_err();
        assert_eq!(err.key(), "group.privacy_url", "{bad}");
    }
    let mut env = production_ok_env();
    env[1] = ("ROLLCALL__SERVER__BASE_URL", "https://127.0.0.1:8443");
    let err = load_err(&repo_config(), &env);
    assert!(err.contains("group.privacy_url: "), "{err}");
    let ok = load(&repo_config(), &production_ok_env()).unwrap();
    assert_eq!(ok.group.privacy_url, "https://rollcall.example.org/privacy");
}
