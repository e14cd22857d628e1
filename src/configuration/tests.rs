use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use tempfile::TempDir;

use super::secret::SECRET_KEY_FILE;
use super::*;

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

/// Loads from `dir` with `env` as the environment variables; `ROLLCALL_ENV`
/// among them is the environment name, as `Settings::load` takes it.
fn load_from(dir: &Path, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env_name = env
        .iter()
        .find(|(k, _)| *k == "ROLLCALL_ENV")
        .map(|(_, v)| *v);
    let vars = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    Settings::load_with(dir, env_name, vars, ())
}

/// Loads the repository's `config/` with `env`.
fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    load_from(&repo_config(), env)
}

/// The one-line error of loading the repository's `config/` with `env`.
fn error(env: &[(&str, &str)]) -> String {
    load(env).unwrap_err().to_string()
}

/// The key named by the error of setting the variable `var` to `value`.
fn refused_key(var: &str, value: &str) -> String {
    load(&[(var, value)]).unwrap_err().key().to_owned()
}

fn production_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ROLLCALL_ENV", "production"),
        ("ROLLCALL__SERVER__BASE_URL", "https://rollcall.example.org"),
        ("ROLLCALL__EMAIL__TRANSPORT", "smtp"),
        ("ROLLCALL__SERVER__SECRET_KEY", PROD_SECRET),
        (
            "ROLLCALL__EMAIL__FROM",
            "Oceania Pangeo <hello@pangeo.org.au>",
        ),
        ("ROLLCALL__GROUP__CONTACT_EMAIL", "hello@pangeo.org.au"),
    ]
}

#[test]
fn the_embedded_defaults_are_the_repository_file_and_parse_into_their_types() {
    let settings = load(&[]).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let without_files = load_from(empty.path(), &[]).unwrap();
    assert_eq!(format!("{settings:?}"), format!("{without_files:?}"));

    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.server.bind_address(), "127.0.0.1:8080");
    assert_eq!(
        settings.server.base_url.to_string(),
        "http://127.0.0.1:8080"
    );
    assert!(!settings.server.base_url.is_https());
    assert_eq!(settings.server.base_url.host(), "127.0.0.1");
    assert!(settings.server.secret_key.is_none() && settings.server.metrics_token.is_none());
    let sqlite = DatabaseUrl::Sqlite(PathBuf::from("data/rollcall.db"));
    assert_eq!(settings.database.url, sqlite);
    assert_eq!(
        settings.email.from.email.to_string(),
        "oceania-pangeo@example.org"
    );
    assert_eq!(settings.email.from.name.as_deref(), Some("Oceania Pangeo"));
    assert_eq!(settings.email.smtp.tls, SmtpTls::Starttls);
    assert_eq!(settings.email.smtp.timeout(), Duration::from_secs(30));
    assert_eq!(settings.email.lease(), TimeDelta::seconds(300));
    assert_eq!(settings.email.poll_interval(), Duration::from_millis(1000));
    assert!(settings.group.description.contains("Dask Down Under"));
    assert_eq!(settings.signup.token_ttl(), TimeDelta::hours(72));
    assert_eq!(settings.signup.resend_cooldown(), TimeDelta::minutes(10));
    assert_eq!(settings.signup.pending_retention(), TimeDelta::days(30));
    assert_eq!(settings.signup.featured_countries[1].as_str(), "NZ");
    assert_eq!(
        settings.signup.featured_timezones[0].tz(),
        Tz::Australia__Perth
    );
    assert_eq!(settings.dashboard.zones[4], Tz::Pacific__Fiji);
    assert_eq!(settings.dashboard.working_hours.to_string(), "09:00-17:00");
    assert_eq!(settings.dashboard.working_days.len(), 5);
    assert_eq!(settings.admin.session_ttl(), TimeDelta::hours(12));
    assert_eq!(
        settings.admin.login_failure_window(),
        TimeDelta::minutes(15)
    );
    assert_eq!(settings.rate_limit.per_ip_per_minute.get(), 10);
    assert_eq!(settings.log.format, LogFormat::Pretty);
}

#[test]
fn default_toml_documents_every_key() {
    let text = std::fs::read_to_string(repo_config().join("default.toml")).unwrap();
    for key in ["secret_key", "metrics_token", "username", "password"] {
        assert!(text.contains(&format!("# {key} =")), "{key} missing");
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
fn an_unknown_key_is_one_line_naming_it_and_where_it_came_from() {
    let dir = dir_with(&[("default.toml", "[server]\nprot = 9000\n")]);
    let err = load_from(dir.path(), &[]).unwrap_err();
    assert_eq!(err.key(), "server.prot");
    let line = err.to_string();
    assert!(
        line.starts_with("config: server.prot: unknown key"),
        "{line}"
    );
    assert!(
        line.contains("default.toml") && line.contains("port"),
        "{line}"
    );
    assert!(!line.contains('\n'));

    let dir = dir_with(&[("default.toml", "[sever]\nport = 9000\n")]);
    assert_eq!(load_from(dir.path(), &[]).unwrap_err().key(), "sever");

    let err = error(&[("ROLLCALL__SERVER__PROT", "1")]);
    assert!(
        err.contains("from environment variable ROLLCALL__SERVER__PROT"),
        "{err}"
    );
}

#[test]
fn a_bad_value_is_one_line_naming_the_key() {
    let expected = r#"config: server.port: invalid type: found string "abc", expected u16"#;
    let dir = dir_with(&[("default.toml", "[server]\nport = \"abc\"\n")]);
    let err = load_from(dir.path(), &[]).unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert!(err.origin().unwrap().ends_with("default.toml"));
    let err = load(&[("ROLLCALL__SERVER__PORT", "abc")]).unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert_eq!(
        err.origin(),
        Some("environment variable ROLLCALL__SERVER__PORT")
    );

    assert_eq!(
        error(&[("ROLLCALL__EMAIL__TRANSPORT", "smtpp")]),
        r#"config: email.transport: unknown value "smtpp"; expected one of: file, smtp"#
    );
    assert_eq!(
        error(&[("ROLLCALL__SERVER", "1")]),
        r#"config: server: invalid type: found string "1", expected a table"#
    );
    assert!(error(&[("ROLLCALL__SERVER__PORT", "70000")]).starts_with("config: server.port: "));
    assert_eq!(
        error(&[("ROLLCALL__SERVER__SECRET_KEY", "too short")]),
        "config: server.secret_key: must be at least 32 bytes (got 9)"
    );
}

#[test]
fn a_toml_syntax_error_is_one_line_naming_the_file() {
    let dir = dir_with(&[("default.toml", "[server]\nport = = 1\n")]);
    let err = load_from(dir.path(), &[]).unwrap_err();
    let line = err.to_string();
    assert!(!line.contains('\n') && line.contains("line 2"), "{line}");
    assert!(err.key().ends_with("default.toml"), "{line}");
}

#[test]
fn environment_variables_override_files_and_keep_text_as_given() {
    let digits = "01234567890123456789012345678901234567890";
    let settings = load(&[
        ("ROLLCALL__SERVER__PORT", "9000"),
        ("ROLLCALL__EMAIL__SMTP__HOST", "smtp.example.org"),
        ("ROLLCALL__EMAIL__WORKER_ENABLED", "false"),
        (
            "ROLLCALL__SERVER__TRUSTED_PROXIES",
            "[10.0.0.1, 10.0.0.0/8, ::1]",
        ),
        ("ROLLCALL__SIGNUP__FEATURED_COUNTRIES", "nz"),
        ("ROLLCALL__GROUP__NAME", "\"Pangeo, Oceania\""),
        ("ROLLCALL__SERVER__SECRET_KEY", digits),
        ("ROLLCALL__SERVER__METRICS_TOKEN", "007"),
        ("ROLLCALL__SIGNUP__CONSENT_TEXT_VERSION", "3"),
        // Not config keys: a single underscore after ROLLCALL.
        ("ROLLCALL_TEST_DATABASE_URL", "postgres://x@localhost/test"),
        ("UNRELATED", "1"),
    ])
    .unwrap();
    assert_eq!(settings.server.port, 9000);
    assert_eq!(settings.email.smtp.host, "smtp.example.org");
    assert!(!settings.email.worker_enabled);
    let proxies = &settings.server.trusted_proxies;
    for (ip, trusted) in [("10.9.9.9", true), ("::1", true), ("192.168.0.1", false)] {
        assert_eq!(proxies.contains(ip.parse().unwrap()), trusted, "{ip}");
    }
    assert_eq!(settings.signup.featured_countries[0].as_str(), "NZ");
    assert_eq!(settings.group.name, "Pangeo, Oceania");
    assert_eq!(settings.server.secret_key.unwrap().expose(), digits);
    assert_eq!(settings.server.metrics_token.unwrap().expose(), "007");
    assert_eq!(settings.signup.consent_text_version, "3");
}

#[test]
fn the_environment_file_then_variables_then_overrides_win() {
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
    let test = load_from(dir.path(), &[("ROLLCALL_ENV", "test")]).unwrap();
    assert_eq!(test.environment, Environment::Other("test".into()));
    assert_eq!(
        (test.server.port, test.server.host.as_str()),
        (2222, "0.0.0.0")
    );
    assert_eq!(test.log.level, "debug");
    assert_eq!(
        test.email.batch_size, 50,
        "the embedded defaults fill the rest"
    );
    let env = [("ROLLCALL_ENV", "test"), ("ROLLCALL__SERVER__PORT", "5555")];
    assert_eq!(load_from(dir.path(), &env).unwrap().server.port, 5555);
    assert_eq!(load_from(dir.path(), &[]).unwrap().server.port, 4444);

    let vars = [("ROLLCALL__SERVER__PORT".to_owned(), "5555".to_owned())];
    let overrides = serde_json::json!({"server": {"port": 0}, "signup": {"interests": ["Talks"]}});
    let overridden = Settings::load_with(dir.path(), Some("test"), vars, overrides).unwrap();
    assert_eq!(overridden.server.port, 0);
    assert_eq!(overridden.signup.interests, ["Talks"]);
    let bad = serde_json::json!({"server": {"port": "abc"}});
    let err = Settings::load_with(dir.path(), None, std::iter::empty(), bad).unwrap_err();
    assert_eq!(
        (err.key(), err.origin()),
        ("server.port", Some("overrides"))
    );
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
    let production = Environment::from_name(Some("Production")).unwrap();
    assert_eq!(production, Environment::Production);
    let err = error(&[("ROLLCALL_ENV", "../etc/passwd")]);
    assert!(err.starts_with("config: ROLLCALL_ENV: "), "{err}");
}

fn db_url(url: &str) -> Result<DatabaseUrl, String> {
    load(&[("ROLLCALL__DATABASE__URL", url)])
        .map(|s| s.database.url)
        .map_err(|e| e.to_string())
}

#[test]
fn database_urls() {
    for (url, scheme) in [
        ("mysql://localhost/rollcall", "mysql"),
        ("sqlite:data/rollcall.db", "sqlite"),
        ("data/rollcall.db", "data/rollcall.db"),
        ("", ""),
    ] {
        let expected = format!(
            "config: database.url: unsupported scheme \"{scheme}\" (use sqlite:// or postgres://)"
        );
        assert_eq!(db_url(url).unwrap_err(), expected, "{url}");
    }
    let absolute = PathBuf::from("/var/lib/rollcall/rollcall.db");
    let sqlite = db_url("sqlite:///var/lib/rollcall/rollcall.db").unwrap();
    assert_eq!(sqlite, DatabaseUrl::Sqlite(absolute));
    let url = "postgres://rollcall:hunter2@db.internal:5432/rollcall";
    let pg = db_url(url).unwrap();
    assert_eq!(pg, DatabaseUrl::Postgres(url.into()));
    assert!(!format!("{pg:?}").contains("hunter2"));
    assert_eq!(
        pg.to_string(),
        "postgres://rollcall:[redacted]@db.internal:5432/rollcall"
    );
    let no_password = db_url("postgresql://localhost/rollcall").unwrap();
    assert_eq!(no_password.to_string(), "postgresql://localhost/rollcall");
    assert!(
        db_url("sqlite://")
            .unwrap_err()
            .starts_with("config: database.url: ")
    );
}

#[test]
fn production_refuses_http_the_file_transport_and_no_secret_key() {
    let mut env = production_env();
    env[1].1 = "http://rollcall.example.org";
    let err = error(&env);
    assert!(
        err.starts_with("config: server.base_url: ") && !err.contains(';'),
        "{err}"
    );
    let mut env = production_env();
    env[2].1 = "file";
    assert_eq!(
        error(&env),
        r#"config: email.transport: "file" is for development; use "smtp" in production"#
    );
    let mut env = production_env();
    env.retain(|(var, _)| *var != "ROLLCALL__SERVER__SECRET_KEY");
    let err = error(&env);
    assert!(err.starts_with("config: server.secret_key: required in production"));

    // All at once: still one line, every key named.
    let err = error(&[("ROLLCALL_ENV", "production")]);
    assert!(!err.contains('\n'));
    for key in [
        "server.base_url",
        "email.transport",
        "server.secret_key",
        "email.from",
        "group.contact_email",
    ] {
        assert!(err.contains(&format!("{key}: ")), "{err}");
    }
    let production = load(&production_env()).unwrap();
    assert!(production.environment.is_production());
    assert!(production.server.base_url.is_https());
    let key = production.secret_key(Path::new("/nonexistent")).unwrap();
    assert_eq!(key.as_bytes(), PROD_SECRET.as_bytes());
    assert!(!format!("{production:?}").contains(PROD_SECRET));
    assert!(load(&[("ROLLCALL_ENV", "staging")]).is_ok());
}

#[test]
fn the_secret_key_is_generated_once_outside_production_and_reused() {
    let settings = load(&[]).unwrap();
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
    assert_eq!(settings.secret_key(&data_dir).unwrap(), first);
    assert_eq!(
        std::fs::read_dir(&data_dir).unwrap().count(),
        1,
        "no temporary files"
    );

    // The file's text can be pasted into the config and gives the same key.
    let text = std::fs::read_to_string(&file).unwrap();
    let configured = load(&[("ROLLCALL__SERVER__SECRET_KEY", text.as_str())]).unwrap();
    assert_eq!(
        configured.secret_key(Path::new("/nonexistent")).unwrap(),
        first
    );
    let empty_is_unset = load(&[("ROLLCALL__SERVER__SECRET_KEY", "")]).unwrap();
    assert!(empty_is_unset.server.secret_key.is_none());

    // A file too short to be a key is reported, not replaced.
    std::fs::write(&file, "short").unwrap();
    assert_eq!(
        settings.secret_key(&data_dir).unwrap_err().key(),
        "server.secret_key"
    );
    // In production nothing is generated.
    let mut unkeyed = load(&production_env()).unwrap();
    unkeyed.server.secret_key = None;
    assert_eq!(
        unkeyed.secret_key(tmp.path()).unwrap_err().key(),
        "server.secret_key"
    );
    assert!(!tmp.path().join(SECRET_KEY_FILE).exists());
}

#[test]
fn numeric_ranges_and_rules_across_keys() {
    let env = [
        ("ROLLCALL__EMAIL__LEASE_SECS", "59"),
        ("ROLLCALL__EMAIL__SMTP__TIMEOUT_SECS", "30"),
    ];
    assert_eq!(
        error(&env),
        "config: email.lease_secs: must be at least 2 × email.smtp.timeout_secs = 60 (got 59)"
    );
    assert!(load(&[env[0], ("ROLLCALL__EMAIL__SMTP__TIMEOUT_SECS", "29")]).is_ok());
    for (var, key) in [
        (
            "ROLLCALL__DATABASE__MAX_CONNECTIONS",
            "database.max_connections",
        ),
        (
            "ROLLCALL__RATE_LIMIT__PER_IP_PER_MINUTE",
            "rate_limit.per_ip_per_minute",
        ),
        (
            "ROLLCALL__SIGNUP__CODE_MAX_ATTEMPTS",
            "signup.code_max_attempts",
        ),
        ("ROLLCALL__EMAIL__MAX_ATTEMPTS", "email.max_attempts"),
        ("ROLLCALL__ADMIN__MAX_BODY_BYTES", "admin.max_body_bytes"),
    ] {
        assert_eq!(refused_key(var, "0"), key);
    }
    assert_eq!(
        error(&[("ROLLCALL__RATE_LIMIT__BURST", "0")]),
        "config: rate_limit.burst: must be at least 1 (got 0)"
    );
    let key = refused_key("ROLLCALL__EMAIL__RETRY_MAX_SECS", "10");
    assert_eq!(key, "email.retry_max_secs");
    let key = refused_key("ROLLCALL__SIGNUP__PENDING_RETENTION_DAYS", "2");
    assert_eq!(key, "signup.pending_retention_days");
    assert_eq!(
        error(&[("ROLLCALL__EMAIL__SMTP__USERNAME", "mailer")]),
        "config: email.smtp.password: required when email.smtp.username is set"
    );
}

#[test]
fn urls_addresses_and_names_are_checked() {
    let base = |url: &str| load(&[("ROLLCALL__SERVER__BASE_URL", url)]).map(|s| s.server);
    let trailing = base("https://example.org/").unwrap();
    assert_eq!(trailing.base_url.to_string(), "https://example.org");
    let server = base("HTTPS://example.org:8443/rollcall/").unwrap();
    assert_eq!(
        server.base_url.to_string(),
        "https://example.org:8443/rollcall"
    );
    assert!(server.base_url.is_https());
    assert_eq!(server.base_url.host(), "example.org");
    assert_eq!(base("http://[::1]:8080").unwrap().base_url.host(), "[::1]");
    for bad in [
        "example.org",
        "ftp://example.org",
        "https://",
        "https://example.org//",
        "http://:8080",
    ] {
        assert_eq!(base(bad).unwrap_err().key(), "server.base_url", "{bad}");
    }
    assert_eq!(
        base("https://a.org/?x=1").unwrap_err().key(),
        "server.base_url"
    );
    for (var, value, key) in [
        ("ROLLCALL__EMAIL__FROM", "Oceania Pangeo", "email.from"),
        (
            "ROLLCALL__EMAIL__REPLY_TO",
            "a@b.org\r\nBcc: x@y.org",
            "email.reply_to",
        ),
        (
            "ROLLCALL__GROUP__CONTACT_EMAIL",
            "Name <a@b.org>",
            "group.contact_email",
        ),
        ("ROLLCALL__GROUP__WEBSITE", "pangeo.io", "group.website"),
        (
            "ROLLCALL__SERVER__TRUSTED_PROXIES",
            "[10.0.0.300]",
            "server.trusted_proxies",
        ),
        ("ROLLCALL__SERVER__HOST", "local host", "server.host"),
    ] {
        assert_eq!(refused_key(var, value), key, "{value}");
    }
    assert_eq!(
        error(&[("ROLLCALL__GROUP__NAME", "  ")]),
        "config: group.name: must not be empty"
    );
    let ipv6 = load(&[("ROLLCALL__SERVER__HOST", "::")]).unwrap();
    assert_eq!(ipv6.server.bind_address(), "[::]:8080");
}

/// The old check let these through and start-up then refused them; lettre now
/// parses `email.from` at load, so `config check` and `serve` agree.
#[test]
fn config_check_refuses_an_email_from_that_sending_would_refuse() {
    for from in [
        "Oceania Pangeo <oceania-pangeo@@example.org>",
        "Oceania Pangeo <@example.org>",
    ] {
        assert!(from.parse::<lettre::message::Mailbox>().is_err(), "{from}");
        assert_eq!(
            error(&[("ROLLCALL__EMAIL__FROM", from)]),
            format!(
                "config: email.from: {from:?} is not a mailbox (expected `Name <address@example.org>` or `address@example.org`)"
            )
        );
    }
    let quoted = load(&[(
        "ROLLCALL__EMAIL__FROM",
        "\"Pangeo, Oceania\" <p@example.org>",
    )]);
    assert_eq!(
        quoted.unwrap().email.from.name.as_deref(),
        Some("Pangeo, Oceania")
    );
}

#[test]
fn lists_are_parsed_and_checked() {
    for (var, value, key) in [
        (
            "ROLLCALL__SIGNUP__INTERESTS",
            "[Talks, talks]",
            "signup.interests",
        ),
        ("ROLLCALL__SIGNUP__INTERESTS", "[a;b]", "signup.interests"),
        (
            "ROLLCALL__SIGNUP__FEATURED_COUNTRIES",
            "[AUS]",
            "signup.featured_countries",
        ),
        (
            "ROLLCALL__SIGNUP__FEATURED_COUNTRIES",
            "[XK]",
            "signup.featured_countries",
        ),
        (
            "ROLLCALL__SIGNUP__FEATURED_TIMEZONES",
            "[Pacific/Atlantis]",
            "signup.featured_timezones",
        ),
        (
            "ROLLCALL__SIGNUP__FEATURED_TIMEZONES",
            "[Pacific/Fiji, Pacific/Fiji]",
            "signup.featured_timezones",
        ),
        ("ROLLCALL__DASHBOARD__ZONES", "[]", "dashboard.zones"),
        (
            "ROLLCALL__DASHBOARD__ZONES",
            "[UTC, UTC]",
            "dashboard.zones",
        ),
        (
            "ROLLCALL__DASHBOARD__WORKING_DAYS",
            "[Mon, Funday]",
            "dashboard.working_days",
        ),
        (
            "ROLLCALL__DASHBOARD__WORKING_HOURS",
            "17:00-09:00",
            "dashboard.working_hours",
        ),
        (
            "ROLLCALL__DASHBOARD__WORKING_HOURS",
            "9-5",
            "dashboard.working_hours",
        ),
        ("ROLLCALL__LOG__LEVEL", "", "log.level"),
        ("ROLLCALL__LOG__FORMAT", "xml", "log.format"),
    ] {
        assert_eq!(refused_key(var, value), key, "{value}");
    }
    let settings = load(&[
        ("ROLLCALL__SIGNUP__FEATURED_COUNTRIES", "[au, Nz]"),
        ("ROLLCALL__DASHBOARD__WORKING_HOURS", "08:30 - 16:45"),
        ("ROLLCALL__DASHBOARD__WORKING_DAYS", "[monday, Sat]"),
        ("ROLLCALL__DASHBOARD__ZONES", "Pacific/Tongatapu"),
        // Two places of one zone (tzdata merged Majuro into Tarawa).
        (
            "ROLLCALL__SIGNUP__FEATURED_TIMEZONES",
            "[Pacific/Majuro, Pacific/Tarawa, Pacific/Samoa]",
        ),
    ])
    .unwrap();
    let zones: Vec<&str> = settings
        .signup
        .featured_timezones
        .iter()
        .map(|z| z.as_str())
        .collect();
    assert_eq!(
        zones,
        ["Pacific/Tarawa", "Pacific/Tarawa", "Pacific/Pago_Pago"]
    );
    let countries: Vec<&str> = settings
        .signup
        .featured_countries
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(countries, ["AU", "NZ"]);
    let hours = settings.dashboard.working_hours;
    assert_eq!(hours.start, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
    assert_eq!(hours.end, NaiveTime::from_hms_opt(16, 45, 0).unwrap());
    assert_eq!(
        settings.dashboard.working_days,
        [Weekday::Mon, Weekday::Sat]
    );
    assert_eq!(settings.dashboard.zones, [Tz::Pacific__Tongatapu]);
}

#[test]
fn the_retry_delay_doubles_from_the_base_up_to_the_cap() {
    let backoff = load(&[]).unwrap().email.retry_backoff();
    let delays: Vec<i64> = [1, 2, 4, 7, 8, 40, u32::MAX]
        .map(|failures| backoff.delay(failures).num_seconds())
        .to_vec();
    assert_eq!(delays, [30, 60, 240, 1920, 3600, 3600, 3600]);
    let huge = [
        ("ROLLCALL__EMAIL__RETRY_BASE_SECS", "4294967295"),
        ("ROLLCALL__EMAIL__RETRY_MAX_SECS", "4294967295"),
    ];
    let backoff = load(&huge).unwrap().email.retry_backoff();
    assert_eq!(backoff.delay(64).num_seconds(), i64::from(u32::MAX));
}

#[test]
fn privacy_url_follows_base_url_unless_set() {
    let settings = load(&[(
        "ROLLCALL__SERVER__BASE_URL",
        "https://join.example.net/list",
    )])
    .unwrap();
    assert_eq!(
        settings.group.privacy_url,
        "https://join.example.net/list/privacy"
    );
    let set = load(&[(
        "ROLLCALL__GROUP__PRIVACY_URL",
        "https://group.example.net/notice",
    )])
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
        let mut env = production_env();
        env.push(("ROLLCALL__GROUP__PRIVACY_URL", bad));
        let err = load(&env).unwrap_err();
        assert_eq!(err.key(), "group.privacy_url", "{bad}");
    }
    let mut env = production_env();
    env[1] = ("ROLLCALL__SERVER__BASE_URL", "https://127.0.0.1:8443");
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("group.privacy_url: "), "{err}");
    let ok = load(&production_env()).unwrap();
    assert_eq!(ok.group.privacy_url, "https://rollcall.example.org/privacy");
}

#[test]
fn abuse_limits_have_their_defaults_and_derived_values() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.server.body_timeout(), Duration::from_secs(10));
    assert_eq!(settings.server.max_connections.get(), 1024);
    assert_eq!(settings.server.max_connections_per_worker(2), 512);
    assert_eq!(settings.server.max_connections_per_worker(3), 341);
    assert_eq!(settings.server.max_connections_per_worker(0), 1024);
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(settings.admin.max_concurrent_password_checks, None);
    assert_eq!(settings.admin.password_check_slots(), 2 * cores);
    assert_eq!(settings.admin.login_refill_interval_ms(), 180_000);
    assert_eq!(settings.rate_limit.interval_ms(), 6_000);
    let set = load(&[
        ("ROLLCALL__ADMIN__MAX_CONCURRENT_PASSWORD_CHECKS", "3"),
        ("ROLLCALL__SERVER__BODY_TIMEOUT_SECS", "4"),
    ])
    .unwrap();
    assert_eq!(set.admin.password_check_slots(), 3);
    assert_eq!(set.server.body_timeout(), Duration::from_secs(4));
    for (key, value) in [
        ("ROLLCALL__ADMIN__MAX_CONCURRENT_PASSWORD_CHECKS", "0"),
        ("ROLLCALL__SERVER__BODY_TIMEOUT_SECS", "0"),
        ("ROLLCALL__SERVER__MAX_CONNECTIONS", "0"),
    ] {
        let error = load(&[(key, value)]).unwrap_err().to_string();
        assert!(error.contains("at least 1"), "{key}: {error}");
    }
}

#[test]
fn digests_go_out_at_eight_in_the_first_dashboard_zone_unless_set() {
    let settings = load(&[]).unwrap();
    let zone = settings.admin.digest_zone(&settings.dashboard);
    assert_eq!(
        (zone, settings.admin.digest_hour),
        (Tz::Australia__Perth, 8)
    );
    let moved = load(&[("ROLLCALL__DASHBOARD__ZONES", "[Pacific/Fiji, UTC]")]).unwrap();
    assert_eq!(moved.admin.digest_zone(&moved.dashboard), Tz::Pacific__Fiji);
    let set = load(&[
        ("ROLLCALL__ADMIN__DIGEST_TIMEZONE", "Australia/Sydney"),
        ("ROLLCALL__ADMIN__DIGEST_HOUR", "0"),
    ])
    .unwrap();
    let zone = set.admin.digest_zone(&set.dashboard);
    assert_eq!((zone, set.admin.digest_hour), (Tz::Australia__Sydney, 0));
    for (var, value) in [
        ("ROLLCALL__ADMIN__DIGEST_HOUR", "24"),
        ("ROLLCALL__ADMIN__DIGEST_HOUR", "-1"),
        ("ROLLCALL__ADMIN__DIGEST_TIMEZONE", "Australia/Atlantis"),
    ] {
        let key = if var.ends_with("HOUR") {
            "admin.digest_hour"
        } else {
            "admin.digest_timezone"
        };
        assert_eq!(refused_key(var, value), key, "{value}");
    }
}

#[test]
fn the_bounce_mailbox_is_off_by_default_and_needs_the_address_and_a_login() {
    let imap = load(&[]).unwrap().email.bounce.imap;
    assert!(!imap.is_enabled());
    assert_eq!(
        (imap.port, imap.tls, imap.mailbox.as_str()),
        (993, SmtpTls::Tls, "INBOX")
    );
    assert_eq!(imap.poll_interval(), TimeDelta::seconds(60));
    // poll_secs, doubling with each failure in a row, at most 15 minutes.
    let backoff = imap.retry_backoff();
    assert_eq!(backoff.delay(1), TimeDelta::seconds(60));
    assert_eq!(backoff.delay(3), TimeDelta::seconds(240));
    assert_eq!(backoff.delay(10), TimeDelta::seconds(900));

    let full = [
        ("ROLLCALL__EMAIL__BOUNCE__ADDRESS", "bounces@example.org"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__HOST", "imap.example.org"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__USERNAME", "bounces"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__PASSWORD", "secret"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__TLS", "starttls"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__PORT", "143"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__MAILBOX", "Bounces"),
        ("ROLLCALL__EMAIL__BOUNCE__IMAP__POLL_SECS", "5"),
    ];
    let imap = load(&full).unwrap().email.bounce.imap;
    assert!(imap.is_enabled());
    assert_eq!(imap.tls, SmtpTls::Starttls);
    assert_eq!(imap.retry_backoff().delay(1), TimeDelta::seconds(5));

    let without = |var: &str| -> String {
        let env: Vec<_> = full.iter().copied().filter(|(k, _)| *k != var).collect();
        load(&env).unwrap_err().to_string()
    };
    assert_eq!(
        without("ROLLCALL__EMAIL__BOUNCE__ADDRESS"),
        "config: email.bounce.address: required when email.bounce.imap.host is set (the mailbox it delivers to is the one read)"
    );
    assert_eq!(
        without("ROLLCALL__EMAIL__BOUNCE__IMAP__USERNAME"),
        "config: email.bounce.imap.username: required when email.bounce.imap.host is set"
    );
    assert_eq!(
        without("ROLLCALL__EMAIL__BOUNCE__IMAP__PASSWORD"),
        "config: email.bounce.imap.password: required when email.bounce.imap.host is set"
    );
    // Unset, nothing else is needed.
    assert!(load(&[("ROLLCALL__EMAIL__BOUNCE__IMAP__USERNAME", "bounces")]).is_ok());

    for (var, value, key) in [
        ("POLL_SECS", "0", "email.bounce.imap.poll_secs"),
        ("TLS", "ssl", "email.bounce.imap.tls"),
        ("PORT", "99999", "email.bounce.imap.port"),
        ("MAILBOX", " ", "email.bounce.imap.mailbox"),
        ("HOST", "imap example", "email.bounce.imap.host"),
    ] {
        let var = format!("ROLLCALL__EMAIL__BOUNCE__IMAP__{var}");
        assert_eq!(refused_key(&var, value), key, "{var}={value}");
    }
}

#[test]
fn the_example_org_placeholders_are_warnings_outside_production() {
    let shipped = load(&[]).unwrap();
    let warnings = shipped.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "config: email.from: oceania-pangeo@example.org is at example.org, the shipped placeholder"
        ),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with(
            "config: group.contact_email: oceania-pangeo@example.org is at example.org"
        ),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .all(|w| !w.contains('\n') && w.contains("production refuses it"))
    );

    // production_env()'s last two: a real email.from and group.contact_email.
    let real = load(&production_env()[4..]).unwrap();
    assert_eq!(real.warnings(), Vec::<String>::new());
    let staging = load(&[("ROLLCALL_ENV", "staging")]).unwrap();
    assert_eq!(staging.warnings().len(), 2, "only production refuses them");
}

#[test]
fn example_org_and_its_subdomains_are_the_placeholder_and_nothing_else_is() {
    for placeholder in [
        "a@example.org",
        "a@EXAMPLE.org",
        "a@news.example.org",
        "a@mail.news.Example.Org",
        "a@example.org.",
    ] {
        assert!(
            sections::is_placeholder_address(placeholder),
            "{placeholder}"
        );
    }
    for real in [
        "a@pangeo.org.au",
        "a@notexample.org",
        "a@example.org.au",
        "a@example.net",
        "example.org@pangeo.io",
    ] {
        assert!(!sections::is_placeholder_address(real), "{real}");
    }
    let sub = load(&[("ROLLCALL__GROUP__CONTACT_EMAIL", "hi@lists.example.org")]).unwrap();
    assert!(sub.warnings()[1].starts_with("config: group.contact_email: hi@lists.example.org"));
}

#[test]
fn production_refuses_the_example_org_placeholders_naming_the_key() {
    for (var, value, key) in [
        (
            "ROLLCALL__EMAIL__FROM",
            "Oceania Pangeo <oceania-pangeo@example.org>",
            "email.from",
        ),
        (
            "ROLLCALL__EMAIL__FROM",
            "news@mail.example.org",
            "email.from",
        ),
        (
            "ROLLCALL__GROUP__CONTACT_EMAIL",
            "oceania-pangeo@example.org",
            "group.contact_email",
        ),
    ] {
        let mut env = production_env();
        env.push((var, value));
        let err = error(&env);
        assert!(
            err.starts_with(&format!("config: {key}: "))
                && err.ends_with("use your group's own address in production")
                && !err.contains('\n')
                && !err.contains("; "),
            "{err}"
        );
    }
    assert!(load(&production_env()).is_ok());
}

#[test]
fn mail_frequency_is_unset_by_default_and_one_short_line() {
    assert_eq!(load(&[]).unwrap().group.mail_frequency, None);
    let set = |value: &str| {
        load(&[("ROLLCALL__GROUP__MAIL_FREQUENCY", value)]).map(|s| s.group.mail_frequency)
    };
    assert_eq!(
        set("  about once a month. ").unwrap().as_deref(),
        Some("about once a month")
    );
    assert_eq!(set("   ").unwrap(), None);
    for bad in [
        "about once\na month",
        "monthly\u{7}",
        "monthly\u{202e}",
        "once\u{2028}a month",
        &"x".repeat(61),
    ] {
        let err = set(bad).unwrap_err();
        assert_eq!(err.key(), "group.mail_frequency", "{bad:?}");
        assert!(!err.to_string().contains('\n'));
    }
    assert!(set(&"x".repeat(60)).is_ok());
}
