//! Configuration: layered loading, validation and typed settings.
//!
//! Layers, later ones winning:
//!
//! 1. `config/default.toml`, embedded in the binary: the only place a
//!    default lives,
//! 2. `config/default.toml` in the config directory, if present,
//! 3. `config/{ROLLCALL_ENV}.toml`, if present (`development.toml` when
//!    `ROLLCALL_ENV` is unset),
//! 4. environment variables `ROLLCALL__SECTION__KEY`
//!    (`ROLLCALL__EMAIL__SMTP__HOST`, `ROLLCALL__SERVER__PORT=9000`; lists as
//!    `[a, b]`); names with a single underscore after `ROLLCALL` such as
//!    `ROLLCALL_ENV` are not config keys,
//! 5. overrides passed to [`Settings::load_with`] (tests).
//!
//! Unknown keys are errors. Numbers and booleans are also accepted as
//! strings (`port = "9000"`), which is how environment variables arrive.
//! Every value is parsed once, here, into the type the code uses, so
//! `config check` refuses exactly what `serve` would. Every problem is a
//! [`ConfigError`], whose `Display` is one line naming the dotted key, e.g.
//! `config: server.port: invalid type: found string "abc", expected u16`.
//! In production (`ROLLCALL_ENV=production`) an `http://` `server.base_url`,
//! `email.transport = "file"`, a missing `server.secret_key` and an
//! `email.from` or `group.contact_email` at `example.org` (the shipped
//! placeholders) are refused; elsewhere those addresses are only
//! [`Settings::warnings`].

mod error;
mod secret;
mod sections;
mod sources;
mod types;

#[cfg(test)]
mod tests;

use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};

pub use error::ConfigError;
use error::Problem;
pub use secret::SecretKey;
pub use sections::{
    AdminSettings, BounceSettings, DashboardSettings, DatabaseSettings, EmailSettings,
    GroupSettings, ImapSettings, LogSettings, RateLimitSettings, RetryBackoff, ServerSettings,
    SignupSettings, SmtpSettings,
};
pub use types::{
    BaseUrl, DatabaseUrl, EmailTransportKind, LogFormat, SecretString, SmtpTls, TrustedProxies,
    WorkingHours,
};

use sources::{ENV_NAME_VAR, EnvLayer, OverridesLayer};

/// `config/default.toml`, compiled in: a missing or partial file changes nothing.
const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Which environment this process runs in, from `ROLLCALL_ENV`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
}

/// All settings, validated.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// From `ROLLCALL_ENV`; not a config key.
    #[serde(skip)]
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
            let text = |s: std::ffi::OsString| s.to_string_lossy().into_owned();
            (text(k), text(v))
        });
        Self::load_with(config_dir, env_name.as_deref(), vars, ())
    }

    /// The same layering with everything from outside given explicitly (tests
    /// must not touch the process environment): `env_name` as `ROLLCALL_ENV`
    /// would give it, `env` the variables as `(name, value)` pairs (only the
    /// `ROLLCALL__…` ones are used), and `overrides` anything serializable as
    /// a map of sections, merged last (e.g. `json!({"server": {"port": 0}})`,
    /// or `()` for none).
    pub fn load_with(
        config_dir: &Path,
        env_name: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: impl Serialize,
    ) -> Result<Settings, ConfigError> {
        let environment = Environment::from_name(env_name)?;
        let overrides = OverridesLayer::new(&overrides)?;

        let mut figment = Figment::from(Toml::string(DEFAULTS));
        for file in ["default", environment.name()] {
            let path = config_dir.join(format!("{file}.toml"));
            if path.is_file() {
                figment = figment.merge(Toml::file_exact(path));
            }
        }
        let figment = figment.merge(EnvLayer::from_pairs(env)).merge(overrides);

        let mut settings: Settings = figment
            .extract_lossy()
            .map_err(|e| ConfigError::from_figment(e, &figment))?;
        settings.environment = environment;
        if settings.group.privacy_url.is_empty() {
            settings.group.privacy_url = sections::default_privacy_url(&settings.server.base_url);
        }
        match ConfigError::from_problems(settings.problems()) {
            Some(error) => Err(error),
            None => Ok(settings),
        }
    }

    /// The address keys still at the shipped placeholder domain
    /// ([`sections::PLACEHOLDER_DOMAIN`]), with their addresses: `config
    /// check` warns about each, production refuses them.
    pub fn placeholder_addresses(&self) -> Vec<(&'static str, String)> {
        let addresses = [
            ("email.from", self.email.from.email.to_string()),
            ("group.contact_email", self.group.contact_email.clone()),
        ];
        addresses
            .into_iter()
            .filter(|(_, address)| sections::is_placeholder_address(address))
            .collect()
    }

    /// What is allowed outside production but should still be changed, one
    /// line each naming the key: printed on stderr by `config check` and
    /// logged by `serve`.
    pub fn warnings(&self) -> Vec<String> {
        self.placeholder_addresses()
            .into_iter()
            .map(|(key, address)| {
                let why = placeholder_message(&address);
                format!(
                    "config: {key}: {why}: use your group's own address (production refuses it)"
                )
            })
            .collect()
    }

    /// Ranges, checks that span keys, and the production rules.
    fn problems(&self) -> Vec<Problem> {
        let mut c = Checks::default();
        let (server, email, smtp, signup) =
            (&self.server, &self.email, &self.email.smtp, &self.signup);
        let max_body = u64::try_from(server.max_body_bytes).unwrap_or(u64::MAX);
        c.at_least("server.max_body_bytes", max_body, 1);
        c.at_least("database.max_connections", self.database.max_connections, 1);
        c.at_least("email.smtp.timeout_secs", smtp.timeout_secs, 1);
        c.at_least("email.smtp.pool_size", smtp.pool_size, 1);
        c.at_least("email.batch_size", email.batch_size, 1);
        c.at_least("email.poll_interval_ms", email.poll_interval_ms, 1);
        let min_lease = 2 * u64::from(smtp.timeout_secs);
        if u64::from(email.lease_secs) < min_lease {
            let got = email.lease_secs;
            let message =
                format!("must be at least 2 × email.smtp.timeout_secs = {min_lease} (got {got})");
            c.add("email.lease_secs", message);
        }
        c.at_least("email.retry_base_secs", email.retry_base_secs, 1);
        let retry_base = email.retry_base_secs.into();
        c.at_least("email.retry_max_secs", email.retry_max_secs, retry_base);
        c.at_least("email.max_attempts", email.max_attempts, 1);
        c.at_least("email.test_sends_per_hour", email.test_sends_per_hour, 1);
        if let Some(address) = &email.bounce.address {
            let local = address
                .rsplit_once('@')
                .map_or(address.as_str(), |(l, _)| l);
            if local.len() > BounceSettings::LOCAL_PART_MAX || local.contains('+') {
                let message = format!(
                    "its local part must be at most {} octets without '+' (got {:?})",
                    BounceSettings::LOCAL_PART_MAX,
                    local
                );
                c.add("email.bounce.address", message);
            }
        }
        if let Some(token) = &email.bounce.webhook_token {
            let chars = token.expose().chars().count();
            if chars < BounceSettings::TOKEN_MIN_CHARS {
                let message = format!(
                    "must be at least {} characters (got {chars})",
                    BounceSettings::TOKEN_MIN_CHARS
                );
                c.add("email.bounce.webhook_token", message);
            }
        }
        c.imap(&email.bounce);
        if !email.list_id().split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }) || !email.list_id().contains('.')
        {
            let message = "must be a dotted name such as announcements.example.org";
            c.add("email.list_id", message.to_owned());
        }
        c.at_least("signup.token_ttl_hours", signup.token_ttl_hours, 1);
        c.at_least("signup.code_max_attempts", signup.code_max_attempts, 1);
        let retention_days = signup.pending_retention_days;
        c.at_least("signup.pending_retention_days", retention_days, 1);
        if retention_days > 0 && signup.pending_retention() < signup.token_ttl() {
            let ttl = signup.token_ttl_hours;
            let message = format!(
                "must cover signup.token_ttl_hours ({ttl} hours), got {retention_days} days"
            );
            c.add("signup.pending_retention_days", message);
        }
        c.at_least("admin.session_ttl_hours", self.admin.session_ttl_hours, 1);
        c.at_least("admin.login_max_failures", self.admin.login_max_failures, 1);
        if self.admin.digest_hour > 23 {
            let hour = self.admin.digest_hour;
            c.add(
                "admin.digest_hour",
                format!("must be an hour from 0 to 23 (got {hour})"),
            );
        }
        let admin_body = u64::try_from(self.admin.max_body_bytes).unwrap_or(u64::MAX);
        c.at_least("admin.max_body_bytes", admin_body, 1);

        match (&smtp.username, &smtp.password) {
            (Some(_), None) => c.add(
                "email.smtp.password",
                "required when email.smtp.username is set".into(),
            ),
            (None, Some(_)) => c.add(
                "email.smtp.username",
                "required when email.smtp.password is set".into(),
            ),
            _ => {}
        }
        if let Some(secret) = &server.secret_key {
            let bytes = secret.expose().len();
            if bytes < secret::MIN_SECRET_KEY_BYTES {
                let min = secret::MIN_SECRET_KEY_BYTES;
                c.add(
                    secret::KEY,
                    format!("must be at least {min} bytes (got {bytes})"),
                );
            }
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

        if self.environment.is_production() {
            if !server.base_url.is_https() {
                let message = format!("must be https in production (got {})", server.base_url);
                c.add("server.base_url", message);
            }
            if email.transport == EmailTransportKind::File {
                let message = "\"file\" is for development; use \"smtp\" in production";
                c.add("email.transport", message.into());
            }
            if server.secret_key.is_none() {
                c.add(secret::KEY, secret::MISSING_IN_PRODUCTION.into());
            }
            for (key, address) in self.placeholder_addresses() {
                let why = placeholder_message(&address);
                c.add(
                    key,
                    format!("{why}: use your group's own address in production"),
                );
            }
            let privacy_url = &self.group.privacy_url;
            // A link derived from an http base_url is already refused with it.
            let own_fault = server.base_url.is_https()
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

/// Why an address at [`sections::PLACEHOLDER_DOMAIN`] is not the group's.
fn placeholder_message(address: &str) -> String {
    let domain = sections::PLACEHOLDER_DOMAIN;
    format!("{address} is at {domain}, the shipped placeholder")
}

/// Collects validation problems.
#[derive(Default)]
struct Checks {
    problems: Vec<Problem>,
}

impl Checks {
    fn add(&mut self, key: &str, message: String) {
        self.problems.push(Problem::new(key, message));
    }

    /// `[email.bounce.imap]`: with a host, a login and the bounce address
    /// (without it no bounce comes to that mailbox, and marking its mail
    /// `\Seen` would disturb whoever reads it).
    fn imap(&mut self, bounce: &BounceSettings) {
        let imap = &bounce.imap;
        if !imap.is_enabled() {
            return;
        }
        let required = "required when email.bounce.imap.host is set";
        if bounce.address.is_none() {
            let message = format!("{required} (the mailbox it delivers to is the one read)");
            self.add("email.bounce.address", message);
        }
        if imap.username.is_none() {
            self.add("email.bounce.imap.username", required.to_owned());
        }
        if imap.password.is_none() {
            self.add("email.bounce.imap.password", required.to_owned());
        }
    }

    fn at_least(&mut self, key: &str, value: impl Into<u64>, min: u64) {
        let value = value.into();
        if value < min {
            self.add(key, format!("must be at least {min} (got {value})"));
        }
    }
}
