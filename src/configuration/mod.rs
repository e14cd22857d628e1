//! Configuration: layered loading, validation and typed settings.
//!
//! Layers, later ones winning:
//!
//! 1. built-in defaults (identical to `config/default.toml`, so a missing
//!    file changes nothing),
//! 2. `config/default.toml`,
//! 3. `config/{ROLLCALL_ENV}.toml`, if present (`development.toml` when
//!    `ROLLCALL_ENV` is unset),
//! 4. environment variables `ROLLCALL__SECTION__KEY`
//!    (`ROLLCALL__EMAIL__SMTP__HOST`, `ROLLCALL__SERVER__PORT=9000`; lists as
//!    `[a, b]`); names with a single underscore after `ROLLCALL` such as
//!    `ROLLCALL_ENV` or `ROLLCALL_TEST_DATABASE_URL` are not config keys,
//! 5. overrides passed to [`Settings::load_with`] (tests).
//!
//! Unknown keys are errors. Numbers and booleans are also accepted as
//! strings (`port = "9000"`), which is how environment variables arrive.
//! Every problem is reported as [`ConfigError`], whose `Display` is one line
//! naming the dotted key, e.g.
//! `config: server.port: invalid type: found string "abc", expected u16`.
//! In production (`ROLLCALL_ENV=production`) an `http://` `server.base_url`,
//! `email.transport = "file"` and a missing `server.secret_key` are refused.

mod error;
mod secret;
mod sections;
mod sources;
mod types;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};

pub use error::{ConfigError, Problem};
pub use secret::{MIN_SECRET_KEY_BYTES, SECRET_KEY_FILE, SecretKey};
pub use sections::{
    AdminSettings, DashboardSettings, DatabaseSettings, EmailSettings, GroupSettings, LogSettings,
    RateLimitSettings, ServerSettings, SignupSettings, SmtpSettings,
};
pub use sources::{ENV_NAME_VAR, ENV_PREFIX, ENV_SEPARATOR, Overrides};
pub use types::{DatabaseUrl, EmailTransportKind, LogFormat, SecretString, SmtpTls, WorkingHours};

use sources::{EnvLayer, OverridesLayer};

/// Which environment this process runs in, from `ROLLCALL_ENV`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Environment {
    /// `ROLLCALL_ENV` unset, empty or `development`.
    #[default]
    Development,
    /// `ROLLCALL_ENV=production`: stricter checks.
    Production,
    /// Any other name (`test`, `staging`, ...): lower-case ASCII letters,
    /// digits, `-` and `_`.
    Other(String),
}

impl Environment {
    /// Parses an environment name (trimmed, case-insensitive). `None` or an
    /// empty name means development.
    pub fn from_name(name: Option<&str>) -> Result<Self, ConfigError> {
        let name = name.map(str::trim).unwrap_or_default().to_ascii_lowercase();
        match name.as_str() {
            "" | "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            other
                if other.len() <= 64
                    && other
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Ok(Self::Other(other.to_owned()))
            }
            _ => Err(ConfigError::new(
                ENV_NAME_VAR,
                format!(
                    "{name:?} is not an environment name (use letters, digits, '-' or '_', e.g. production)"
                ),
            )),
        }
    }

    /// The name: `development`, `production` or the other name.
    pub fn name(&self) -> &str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
            Self::Other(name) => name,
        }
    }

    /// Whether this is production.
    pub fn is_production(&self) -> bool {
        matches!(self, Self::Production)
    }

    /// Whether this is development.
    pub fn is_development(&self) -> bool {
        matches!(self, Self::Development)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The keys of the TOML files (everything but the environment).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileSettings {
    server: ServerSettings,
    database: DatabaseSettings,
    email: EmailSettings,
    group: GroupSettings,
    signup: SignupSettings,
    dashboard: DashboardSettings,
    admin: AdminSettings,
    rate_limit: RateLimitSettings,
    log: LogSettings,
}

/// All settings, validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// From `ROLLCALL_ENV`; not a config key.
    pub environment: Environment,
    /// `[server]`
    pub server: ServerSettings,
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[email]`
    pub email: EmailSettings,
    /// `[group]`
    pub group: GroupSettings,
    /// `[signup]`
    pub signup: SignupSettings,
    /// `[dashboard]`
    pub dashboard: DashboardSettings,
    /// `[admin]`
    pub admin: AdminSettings,
    /// `[rate_limit]`
    pub rate_limit: RateLimitSettings,
    /// `[log]`
    pub log: LogSettings,
}

impl Settings {
    /// Layered load from `config_dir` (normally `config`), `ROLLCALL_ENV` and
    /// the process environment.
    pub fn load(config_dir: &Path) -> Result<Settings, ConfigError> {
        let env_name = std::env::var_os(ENV_NAME_VAR).map(|v| v.to_string_lossy().into_owned());
        let vars = std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        });
        Self::load_with(config_dir, env_name.as_deref(), vars, Overrides::new())
    }

    /// Same layering with everything from outside given explicitly (used by
    /// tests, which must not touch the process environment):
    ///
    /// * `env_name`: the environment, as `ROLLCALL_ENV` would give it
    ///   (`None` → development; `Some("test")` also loads `config/test.toml`).
    /// * `env`: the environment variables, as `(name, value)` pairs; only the
    ///   `ROLLCALL__…` ones are used (`std::iter::empty()` for none).
    /// * `overrides`: anything serializable as a map of sections, merged
    ///   last — e.g. `serde_json::json!({"server": {"port": 0}})`, an
    ///   [`Overrides`] (`Overrides::new().set("server.port", 0)`), or `()` for
    ///   none.
    ///
    /// ```ignore
    /// let settings = Settings::load_with(
    ///     Path::new("config"),
    ///     Some("test"),
    ///     [("ROLLCALL__SERVER__PORT".to_owned(), "0".to_owned())],
    ///     json!({"database": {"url": "sqlite://target/t.db"}}),
    /// )?;
    /// ```
    pub fn load_with(
        config_dir: &Path,
        env_name: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: impl Serialize,
    ) -> Result<Settings, ConfigError> {
        let environment = Environment::from_name(env_name)?;
        let overrides = OverridesLayer::new(&overrides)?;

        let mut figment = Figment::new();
        for file in ["default".to_owned(), environment.name().to_owned()] {
            let path = config_dir.join(format!("{file}.toml"));
            if path.is_file() {
                figment = figment.merge(Toml::file_exact(path));
            }
        }
        let figment = figment.merge(EnvLayer::from_pairs(env)).merge(overrides);

        let file: FileSettings = figment
            .extract_lossy()
            .map_err(|e| ConfigError::from_figment(e, &figment))?;
        let mut group = file.group;
        if group.privacy_url.is_empty() {
            group.privacy_url = sections::default_privacy_url(&file.server.base_url);
        }
        let settings = Settings {
            environment,
            server: file.server,
            database: file.database,
            email: file.email,
            group,
            signup: file.signup,
            dashboard: file.dashboard,
            admin: file.admin,
            rate_limit: file.rate_limit,
            log: file.log,
        };
        match ConfigError::from_problems(settings.problems()) {
            Some(error) => Err(error),
            None => Ok(settings),
        }
    }

    /// Whether this is production.
    pub fn is_production(&self) -> bool {
        self.environment.is_production()
    }

    /// Ranges, checks that span keys, and the production rules.
    fn problems(&self) -> Vec<Problem> {
        let mut c = Checks::default();
        let (server, email, smtp, signup) =
            (&self.server, &self.email, &self.email.smtp, &self.signup);
        c.at_least(
            "server.max_body_bytes",
            u64::try_from(server.max_body_bytes).unwrap_or(u64::MAX),
            1,
        );
        c.at_least("database.max_connections", self.database.max_connections, 1);
        c.at_least("email.smtp.timeout_secs", smtp.timeout_secs, 1);
        c.at_least("email.smtp.pool_size", smtp.pool_size, 1);
        c.at_least("email.batch_size", email.batch_size, 1);
        c.at_least("email.poll_interval_ms", email.poll_interval_ms, 1);
        let min_lease = 2 * u64::from(smtp.timeout_secs);
        if u64::from(email.lease_secs) < min_lease {
            c.add(
                "email.lease_secs",
                format!(
                    "must be at least 2 × email.smtp.timeout_secs = {min_lease} (got {})",
                    email.lease_secs
                ),
            );
        }
        c.at_least("email.retry_base_secs", email.retry_base_secs, 1);
        c.at_least(
            "email.retry_max_secs",
            email.retry_max_secs,
            email.retry_base_secs.into(),
        );
        c.at_least("email.max_attempts", email.max_attempts, 1);
        c.at_least("signup.token_ttl_hours", signup.token_ttl_hours, 1);
        c.at_least("signup.code_max_attempts", signup.code_max_attempts, 1);
        c.at_least(
            "signup.pending_retention_days",
            signup.pending_retention_days,
            1,
        );
        if signup.pending_retention_days > 0
            && u64::from(signup.pending_retention_days) * 24 < u64::from(signup.token_ttl_hours)
        {
            c.add(
                "signup.pending_retention_days",
                format!(
                    "must cover signup.token_ttl_hours ({} hours), got {} days",
                    signup.token_ttl_hours, signup.pending_retention_days
                ),
            );
        }
        c.at_least("admin.session_ttl_hours", self.admin.session_ttl_hours, 1);
        c.at_least("admin.login_max_failures", self.admin.login_max_failures, 1);
        c.at_least(
            "rate_limit.per_ip_per_minute",
            self.rate_limit.per_ip_per_minute,
            1,
        );
        c.at_least("rate_limit.burst", self.rate_limit.burst, 1);

        if smtp.username.is_some() && smtp.password.is_none() {
            c.add(
                "email.smtp.password",
                "required when email.smtp.username is set".into(),
            );
        }
        if smtp.password.is_some() && smtp.username.is_none() {
            c.add(
                "email.smtp.username",
                "required when email.smtp.password is set".into(),
            );
        }
        if let Some(secret) = &server.secret_key
            && secret.len() < MIN_SECRET_KEY_BYTES
        {
            c.add(
                "server.secret_key",
                format!(
                    "must be at least {MIN_SECRET_KEY_BYTES} bytes (got {})",
                    secret.len()
                ),
            );
        }
        if self.dashboard.zones.is_empty() {
            c.add("dashboard.zones", "must list at least one time zone".into());
        }
        if self.dashboard.working_days.is_empty() {
            c.add(
                "dashboard.working_days",
                "must list at least one day".into(),
            );
        }

        if self.is_production() {
            if !server.is_https() {
                c.add(
                    "server.base_url",
                    format!("must be https in production (got {})", server.base_url),
                );
            }
            if email.transport == EmailTransportKind::File {
                c.add(
                    "email.transport",
                    "\"file\" is for development; use \"smtp\" in production".into(),
                );
            }
            if server.secret_key.is_none() {
                let missing = secret::missing_in_production();
                c.add(missing.key(), missing.message().to_owned());
            }
            let privacy_url = &self.group.privacy_url;
            // A link derived from an http base_url is already refused with it.
            let own_fault = server.is_https()
                || *privacy_url != sections::default_privacy_url(&server.base_url);
            if own_fault
                && (!privacy_url.starts_with("https://")
                    || sections::points_at_loopback(privacy_url))
            {
                c.add(
                    "group.privacy_url",
                    format!(
                        "must be an https link people can reach in production (got {privacy_url})"
                    ),
                );
            }
        }
        c.problems
    }
}

/// Collects validation problems.
#[derive(Default)]
struct Checks {
    problems: Vec<Problem>,
}

impl Checks {
    fn add(&mut self, key: &str, message: String) {
        self.problems.push(Problem {
            key: key.to_owned(),
            message,
            origin: None,
        });
    }

    fn at_least(&mut self, key: &str, value: impl Into<u64>, min: u64) {
        let value = value.into();
        if value < min {
            self.add(key, format!("must be at least {min} (got {value})"));
        }
    }
}
