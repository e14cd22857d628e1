//! The configuration sections (`[server]`, `[database]`, ...), their
//! built-in defaults (identical to `config/default.toml`) and helpers.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use chrono::{TimeDelta, Weekday};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::Deserialize;

use super::types::{
    DatabaseUrl, EmailTransportKind, LogFormat, SecretString, SmtpTls, WorkingHours, de_base_url,
    de_countries, de_email_address, de_host, de_http_url, de_interests, de_ip_nets, de_mailbox,
    de_non_empty, de_optional_secret, de_optional_string, de_optional_trimmed_secret,
    de_time_zones, de_weekdays, time_zones,
};

fn seconds(secs: u32) -> TimeDelta {
    TimeDelta::try_seconds(i64::from(secs)).unwrap_or(TimeDelta::MAX)
}

fn std_seconds(secs: u32) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(secs))
}

fn names(zones: &[Tz]) -> Vec<String> {
    zones.iter().map(|tz| tz.name().to_owned()).collect()
}

fn non_zero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

/// `[server]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on (`127.0.0.1`, `0.0.0.0`, `::`, or a host name).
    #[serde(deserialize_with = "de_host")]
    pub host: String,
    /// Port to listen on (0 picks a free port).
    pub port: u16,
    /// Public URL used in every link: absolute http(s), no trailing slash,
    /// no query or fragment.
    #[serde(deserialize_with = "de_base_url")]
    pub base_url: String,
    /// HMAC key (≥ 32 bytes). `None` → generated into `data/secret_key`
    /// outside production; use [`super::Settings::secret_key`] to get the key.
    #[serde(deserialize_with = "de_optional_trimmed_secret")]
    pub secret_key: Option<SecretString>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    #[serde(deserialize_with = "de_ip_nets")]
    pub trusted_proxies: Vec<IpNet>,
    /// Bearer token for `/metrics` (unset by default).
    #[serde(deserialize_with = "de_optional_secret")]
    pub metrics_token: Option<SecretString>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            base_url: "http://127.0.0.1:8080".into(),
            secret_key: None,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            max_body_bytes: 16_384,
        }
    }
}

impl ServerSettings {
    /// `host:port` for binding, with IPv6 literals bracketed (`[::]:8080`).
    pub fn bind_address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether `base_url` is https.
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// `base_url` joined with a path: `link("/confirm")` →
    /// `https://example.org/confirm`.
    pub fn link(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }

    /// Whether `ip` is one of `trusted_proxies`.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// `[database]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: DatabaseUrl,
    /// Connection pool size (≥ 1).
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::Sqlite(PathBuf::from("data/rollcall.db")),
            max_connections: 8,
        }
    }
}

/// `[email.smtp]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// SMTP server host.
    #[serde(deserialize_with = "de_host")]
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// Login user; `None` for no authentication. Set together with `password`.
    #[serde(deserialize_with = "de_optional_string")]
    pub username: Option<String>,
    /// Login password.
    #[serde(deserialize_with = "de_optional_secret")]
    pub password: Option<SecretString>,
    /// Connect/command timeout in seconds (≥ 1).
    pub timeout_secs: u32,
    /// Pooled connections (≥ 1).
    pub pool_size: u32,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            timeout_secs: 30,
            pool_size: 4,
        }
    }
}

impl SmtpSettings {
    /// `timeout_secs` as a std duration (for lettre).
    pub fn timeout(&self) -> std::time::Duration {
        std_seconds(self.timeout_secs)
    }
}

/// `[email]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// `file` (development) or `smtp`.
    pub transport: EmailTransportKind,
    /// `From:` mailbox, `Name <address@example.org>` or a bare address.
    #[serde(deserialize_with = "de_mailbox")]
    pub from: String,
    /// `Reply-To:` mailbox.
    #[serde(deserialize_with = "de_mailbox")]
    pub reply_to: String,
    /// SMTP connection.
    pub smtp: SmtpSettings,
    /// Whether this process runs the outbox worker.
    pub worker_enabled: bool,
    /// Messages claimed per poll (≥ 1).
    pub batch_size: u32,
    /// Pause between polls when idle, in milliseconds (≥ 1).
    pub poll_interval_ms: u64,
    /// How long a claimed message stays leased, in seconds
    /// (≥ 2 × `smtp.timeout_secs`).
    pub lease_secs: u32,
    /// First retry delay in seconds (≥ 1).
    pub retry_base_secs: u32,
    /// Longest retry delay in seconds (≥ `retry_base_secs`).
    pub retry_max_secs: u32,
    /// Attempts before a message is given up (≥ 1).
    pub max_attempts: u32,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            transport: EmailTransportKind::File,
            from: "Oceania Pangeo <oceania-pangeo@example.org>".into(),
            reply_to: "Oceania Pangeo <oceania-pangeo@example.org>".into(),
            smtp: SmtpSettings::default(),
            worker_enabled: true,
            batch_size: 50,
            poll_interval_ms: 1000,
            lease_secs: 300,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            max_attempts: 12,
        }
    }
}

impl EmailSettings {
    /// `poll_interval_ms` as a std duration (for `tokio::time::sleep`).
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms)
    }

    /// `lease_secs`.
    pub fn lease(&self) -> TimeDelta {
        seconds(self.lease_secs)
    }

    /// `retry_base_secs`.
    pub fn retry_base(&self) -> TimeDelta {
        seconds(self.retry_base_secs)
    }

    /// `retry_max_secs`.
    pub fn retry_max(&self) -> TimeDelta {
        seconds(self.retry_max_secs)
    }

    /// Delay before retry number `failed_attempts` (1 = after the first
    /// failure): `retry_base × 2^(failed_attempts − 1)`, capped at
    /// `retry_max`. No jitter.
    pub fn retry_delay(&self, failed_attempts: u32) -> TimeDelta {
        let exponent = failed_attempts.saturating_sub(1).min(31);
        let secs = u64::from(self.retry_base_secs)
            .saturating_mul(1u64 << exponent)
            .min(u64::from(self.retry_max_secs));
        seconds(u32::try_from(secs).unwrap_or(u32::MAX))
    }
}

/// `[group]`: shown on pages and in email footers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupSettings {
    /// The group's name.
    #[serde(deserialize_with = "de_non_empty")]
    pub name: String,
    /// A paragraph about the group.
    #[serde(deserialize_with = "de_non_empty")]
    pub description: String,
    /// Address people can write to (a bare address).
    #[serde(deserialize_with = "de_email_address")]
    pub contact_email: String,
    /// The group's website (absolute http(s) URL).
    #[serde(deserialize_with = "de_http_url")]
    pub website: String,
    /// Postal address for email footers; may be empty.
    pub postal_address: String,
    /// Privacy notice (absolute http(s) URL). Left out, it is
    /// [`default_privacy_url`] of `server.base_url` (filled in when loading).
    #[serde(default, deserialize_with = "de_http_url")]
    pub privacy_url: String,
}

/// `group.privacy_url` when it is not set: the page this service serves.
pub fn default_privacy_url(base_url: &str) -> String {
    format!("{base_url}/privacy")
}

/// Whether a URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`):
/// such a link works for nobody who receives it.
pub fn points_at_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) const DEFAULT_DESCRIPTION: &str = "Oceania Pangeo is a friendly community of geoscientists, software developers and data people across Australia, Aotearoa New Zealand and the Pacific who use and build open-source tools like Xarray, Dask and Zarr to work with big Earth and environmental data. The group came together after the Dask Down Under event, and brings people from government, universities and industry together for meetups, training and events. Everyone is welcome, whatever your experience.";

impl Default for GroupSettings {
    fn default() -> Self {
        Self {
            name: "Oceania Pangeo".into(),
            description: DEFAULT_DESCRIPTION.into(),
            contact_email: "oceania-pangeo@example.org".into(),
            website: "https://pangeo.io".into(),
            postal_address: String::new(),
            privacy_url: default_privacy_url(&ServerSettings::default().base_url),
        }
    }
}

/// `[signup]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignupSettings {
    /// Confirmation link lifetime in hours (≥ 1).
    pub token_ttl_hours: u32,
    /// Least time between two confirmation emails to one address.
    pub resend_cooldown_secs: u32,
    /// Wrong confirmation-code tries before the code is void (≥ 1).
    pub code_max_attempts: u32,
    /// Days unconfirmed sign-ups are kept (≥ 1, and not shorter than the token).
    pub pending_retention_days: u32,
    /// Checkbox values: non-empty, unique, no `;`.
    #[serde(deserialize_with = "de_interests")]
    pub interests: Vec<String>,
    /// Consent sentence next to the sign-up checkbox.
    #[serde(deserialize_with = "de_non_empty")]
    pub consent_text: String,
    /// Version recorded with each consent; change it when the text changes.
    #[serde(deserialize_with = "de_non_empty")]
    pub consent_text_version: String,
    /// ISO 3166-1 alpha-2 codes listed first (upper-case).
    #[serde(deserialize_with = "de_countries")]
    pub featured_countries: Vec<String>,
    /// IANA time-zone names listed first (validated with chrono-tz).
    #[serde(deserialize_with = "de_time_zones")]
    pub featured_timezones: Vec<String>,
}

pub(crate) const DEFAULT_INTERESTS: &[&str] = &[
    "Meetups and talks",
    "Training and workshops",
    "Hackathons and sprints",
    "Presenting my work",
    "Helping organise events",
    "Xarray, Dask and Zarr",
    "Cloud and HPC workflows",
    "Climate, ocean and weather data",
    "Earth observation and remote sensing",
];

pub(crate) const DEFAULT_CONSENT_TEXT: &str = "I agree that Oceania Pangeo may keep the details I give here and email me about the group's meetups, training and events. I can unsubscribe at any time with the link in every email.";

pub(crate) const DEFAULT_COUNTRIES: &[&str] = &[
    "AU", "NZ", "FJ", "PG", "SB", "VU", "NC", "PF", "WS", "TO", "KI", "FM", "MH", "PW", "NR", "TV",
    "CK", "NU", "TK", "WF", "AS", "GU", "MP", "NF",
];

const DEFAULT_FEATURED_TIMEZONES: &[Tz] = &[
    Tz::Australia__Perth,
    Tz::Australia__Darwin,
    Tz::Australia__Adelaide,
    Tz::Australia__Brisbane,
    Tz::Australia__Sydney,
    Tz::Australia__Melbourne,
    Tz::Australia__Hobart,
    Tz::Pacific__Auckland,
    Tz::Pacific__Chatham,
    Tz::Pacific__Port_Moresby,
    Tz::Pacific__Guadalcanal,
    Tz::Pacific__Noumea,
    Tz::Pacific__Efate,
    Tz::Pacific__Fiji,
    Tz::Pacific__Tarawa,
    Tz::Pacific__Kiritimati,
    Tz::Pacific__Apia,
    Tz::Pacific__Tongatapu,
    Tz::Pacific__Rarotonga,
    Tz::Pacific__Niue,
    Tz::Pacific__Tahiti,
    Tz::Pacific__Majuro,
    Tz::Pacific__Pohnpei,
    Tz::Pacific__Palau,
    Tz::Pacific__Nauru,
    Tz::Pacific__Funafuti,
    Tz::Pacific__Guam,
];

impl Default for SignupSettings {
    fn default() -> Self {
        Self {
            token_ttl_hours: 72,
            resend_cooldown_secs: 600,
            code_max_attempts: 5,
            pending_retention_days: 30,
            interests: DEFAULT_INTERESTS.iter().map(|s| (*s).to_owned()).collect(),
            consent_text: DEFAULT_CONSENT_TEXT.into(),
            consent_text_version: "2026-11-01".into(),
            featured_countries: DEFAULT_COUNTRIES.iter().map(|s| (*s).to_owned()).collect(),
            featured_timezones: names(DEFAULT_FEATURED_TIMEZONES),
        }
    }
}

impl SignupSettings {
    /// `token_ttl_hours`.
    pub fn token_ttl(&self) -> TimeDelta {
        TimeDelta::try_hours(i64::from(self.token_ttl_hours)).unwrap_or(TimeDelta::MAX)
    }

    /// `resend_cooldown_secs`.
    pub fn resend_cooldown(&self) -> TimeDelta {
        seconds(self.resend_cooldown_secs)
    }

    /// `pending_retention_days`.
    pub fn pending_retention(&self) -> TimeDelta {
        TimeDelta::try_days(i64::from(self.pending_retention_days)).unwrap_or(TimeDelta::MAX)
    }

    /// `featured_timezones` as chrono-tz zones.
    pub fn featured_tz(&self) -> Vec<Tz> {
        time_zones(&self.featured_timezones)
    }
}

/// `[dashboard]`: the meeting planner.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardSettings {
    /// IANA time-zone names shown side by side (at least one; validated
    /// with chrono-tz, see [`DashboardSettings::tz`]).
    #[serde(deserialize_with = "de_time_zones")]
    pub zones: Vec<String>,
    /// Local working hours, `HH:MM-HH:MM`.
    pub working_hours: WorkingHours,
    /// Local working days (at least one).
    #[serde(deserialize_with = "de_weekdays")]
    pub working_days: Vec<Weekday>,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        Self {
            zones: names(&[
                Tz::Australia__Perth,
                Tz::Australia__Brisbane,
                Tz::Australia__Sydney,
                Tz::Pacific__Auckland,
                Tz::Pacific__Fiji,
            ]),
            working_hours: WorkingHours::default(),
            working_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }
}

impl DashboardSettings {
    /// `zones` as chrono-tz zones.
    pub fn tz(&self) -> Vec<Tz> {
        time_zones(&self.zones)
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: Weekday) -> bool {
        self.working_days.contains(&day)
    }
}

/// `[admin]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSettings {
    /// Admin session lifetime in hours (≥ 1).
    pub session_ttl_hours: u32,
    /// Failed logins allowed per 15 minutes, per IP and per account (≥ 1).
    pub login_max_failures: u32,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            session_ttl_hours: 12,
            login_max_failures: 5,
        }
    }
}

impl AdminSettings {
    /// `session_ttl_hours`.
    pub fn session_ttl(&self) -> TimeDelta {
        TimeDelta::try_hours(i64::from(self.session_ttl_hours)).unwrap_or(TimeDelta::MAX)
    }

    /// The window `login_max_failures` counts over: 15 minutes.
    pub fn login_failure_window(&self) -> TimeDelta {
        TimeDelta::try_minutes(15).unwrap_or(TimeDelta::MAX)
    }
}

/// `[rate_limit]`: per process.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Whether form posts are rate limited.
    pub enabled: bool,
    /// Sustained requests per IP per minute (≥ 1).
    pub per_ip_per_minute: u32,
    /// Extra requests allowed in a burst (≥ 1).
    pub burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            per_ip_per_minute: 10,
            burst: 5,
        }
    }
}

impl RateLimitSettings {
    /// `per_ip_per_minute` as the `NonZeroU32` governor wants.
    pub fn per_ip_per_minute_nonzero(&self) -> NonZeroU32 {
        non_zero(self.per_ip_per_minute)
    }

    /// `burst` as the `NonZeroU32` governor wants.
    pub fn burst_nonzero(&self) -> NonZeroU32 {
        non_zero(self.burst)
    }
}

/// `[log]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// A tracing filter string (`info`, `rollcall=debug,info`).
    #[serde(deserialize_with = "de_non_empty")]
    pub level: String,
    /// `pretty` or `json`.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Pretty,
        }
    }
}
