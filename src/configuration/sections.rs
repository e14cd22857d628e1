//! The sections (`[server]`, `[database]`, ...). Every default is in
//! `config/default.toml`; every rule derived from a setting is a method here,
//! called by the code that applies it.

use std::num::NonZeroU32;

use chrono::{TimeDelta, Weekday};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;

use super::types::{
    BaseUrl, DatabaseUrl, EmailTransportKind, LogFormat, SecretString, SmtpTls, TrustedProxies,
    WorkingHours, de_at_least_one, de_countries, de_email_address, de_host, de_http_url,
    de_interests, de_mailbox, de_non_empty, de_optional_at_least_one, de_optional_email_address,
    de_optional_host, de_optional_secret, de_optional_short_line, de_optional_string,
    de_optional_time_zone, de_optional_trimmed_secret, de_time_zone_names, de_time_zones,
    de_weekdays,
};
use crate::domain::{Country, TimeZoneName};

fn seconds(secs: u32) -> TimeDelta {
    TimeDelta::seconds(i64::from(secs))
}

fn hours(hours: u32) -> TimeDelta {
    TimeDelta::hours(i64::from(hours))
}

/// `[server]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on (`127.0.0.1`, `0.0.0.0`, `::`, or a host name).
    #[serde(deserialize_with = "de_host")]
    pub host: String,
    /// Port to listen on (0 picks a free port).
    pub port: u16,
    /// Public URL used in every link.
    pub base_url: BaseUrl,
    /// HMAC key (≥ 32 bytes); unset → see [`super::Settings::secret_key`].
    #[serde(default, deserialize_with = "de_optional_trimmed_secret")]
    pub secret_key: Option<SecretString>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Bearer token for `/metrics` (unset by default).
    #[serde(default, deserialize_with = "de_optional_secret")]
    pub metrics_token: Option<SecretString>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Seconds a request's head and body may take to arrive (≥ 1); then 408.
    #[serde(deserialize_with = "de_at_least_one")]
    pub body_timeout_secs: NonZeroU32,
    /// Open connections for the whole process (≥ 1).
    #[serde(deserialize_with = "de_at_least_one")]
    pub max_connections: NonZeroU32,
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

    /// How long a request's head and body may take to arrive.
    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.body_timeout_secs.get()))
    }

    /// actix counts connections per worker: each gets its share of
    /// `max_connections`, rounded down, at least one.
    pub fn max_connections_per_worker(&self, workers: usize) -> usize {
        (self.max_connections.get() as usize / workers.max(1)).max(1)
    }
}

/// `[database]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: DatabaseUrl,
    /// Connection pool size (≥ 1).
    pub max_connections: u32,
}

/// `[email.smtp]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// SMTP server host.
    #[serde(deserialize_with = "de_host")]
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// Login user; `None` for no authentication. Set together with `password`.
    #[serde(default, deserialize_with = "de_optional_string")]
    pub username: Option<String>,
    /// Login password.
    #[serde(default, deserialize_with = "de_optional_secret")]
    pub password: Option<SecretString>,
    /// Connect/command timeout in seconds (≥ 1).
    pub timeout_secs: u32,
    /// Pooled connections (≥ 1).
    pub pool_size: u32,
}

impl SmtpSettings {
    /// How long one SMTP attempt may take.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.timeout_secs))
    }
}

/// `[email]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// `file` (development) or `smtp`.
    pub transport: EmailTransportKind,
    /// `From:` of every message.
    #[serde(deserialize_with = "de_mailbox")]
    pub from: Mailbox,
    /// `Reply-To:` of every message.
    #[serde(deserialize_with = "de_mailbox")]
    pub reply_to: Mailbox,
    /// SMTP connection.
    pub smtp: SmtpSettings,
    /// Whether `serve` runs the outbox worker.
    pub worker_enabled: bool,
    /// Messages claimed per poll (≥ 1).
    pub batch_size: u32,
    /// Pause between polls when idle, in milliseconds (≥ 1).
    pub poll_interval_ms: u64,
    /// How long a claimed message stays leased (≥ 2 × `smtp.timeout_secs`).
    pub lease_secs: u32,
    /// First retry delay in seconds (≥ 1).
    pub retry_base_secs: u32,
    /// Longest retry delay in seconds (≥ `retry_base_secs`).
    pub retry_max_secs: u32,
    /// Attempts before a message is given up (≥ 1).
    pub max_attempts: u32,
    /// Announcement deliveries started per clock minute, across every worker
    /// and instance; 0 = unlimited.
    pub announcement_rate_per_minute: u32,
    /// Announcement deliveries (test sends included) per UTC day; unset or 0 =
    /// unlimited.
    #[serde(default)]
    pub announcement_daily_cap: Option<u32>,
    /// RFC 2919 List-Id; unset → [`EmailSettings::list_id`].
    #[serde(default, deserialize_with = "de_optional_string")]
    pub list_id: Option<String>,
    /// Test-send recipients per organiser per hour (≥ 1).
    pub test_sends_per_hour: u32,
    /// Bounce handling: off while `bounce.address` is unset.
    pub bounce: BounceSettings,
}

/// `[email.bounce]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BounceSettings {
    /// The return-path mailbox (`bounces@example.org`); each message's envelope
    /// sender is `bounces+{tag}@example.org`. Unset: bounce handling is off.
    #[serde(default, deserialize_with = "de_optional_email_address")]
    pub address: Option<String>,
    /// Bearer token of `POST /api/v1/bounces` (≥ 32 characters); unset: 401.
    #[serde(default, deserialize_with = "de_optional_secret")]
    pub webhook_token: Option<SecretString>,
    /// The bounce mailbox read over IMAP; off while `imap.host` is unset.
    pub imap: ImapSettings,
}

/// `[email.bounce.imap]`: the mailbox `email.bounce.address` delivers to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    /// IMAP server host; unset: the mailbox is not read.
    #[serde(default, deserialize_with = "de_optional_host")]
    pub host: Option<String>,
    /// IMAP server port (993 with `tls`, 143 with `starttls` or `none`).
    pub port: u16,
    /// `none`, `starttls` or `tls` (the same words as `email.smtp.tls`).
    pub tls: SmtpTls,
    /// Login user (required with `host`).
    #[serde(default, deserialize_with = "de_optional_string")]
    pub username: Option<String>,
    /// Login password (required with `host`).
    #[serde(default, deserialize_with = "de_optional_secret")]
    pub password: Option<SecretString>,
    /// The mailbox (folder) to read.
    #[serde(deserialize_with = "de_non_empty")]
    pub mailbox: String,
    /// Seconds between polls (≥ 1).
    #[serde(deserialize_with = "de_at_least_one")]
    pub poll_secs: NonZeroU32,
}

impl ImapSettings {
    /// The longest wait between polls while the mailbox fails: 15 minutes, or
    /// `poll_secs` when that is longer.
    pub const RETRY_MAX_SECS: u32 = 900;

    /// Whether the mailbox is read at all.
    pub fn is_enabled(&self) -> bool {
        self.host.is_some()
    }

    /// The pause between polls.
    pub fn poll_interval(&self) -> TimeDelta {
        seconds(self.poll_secs.get())
    }

    /// The wait after failed polls in a row: `poll_secs`, doubling with each
    /// further failure, at most [`ImapSettings::RETRY_MAX_SECS`].
    pub fn retry_backoff(&self) -> RetryBackoff {
        let base_secs = self.poll_secs.get();
        RetryBackoff {
            base_secs,
            max_secs: base_secs.max(Self::RETRY_MAX_SECS),
        }
    }
}

impl BounceSettings {
    /// The local part of the bounce address, at most this many octets (so the
    /// tagged address stays within SMTP's 64).
    pub const LOCAL_PART_MAX: usize = 29;
    /// The shortest webhook token accepted.
    pub const TOKEN_MIN_CHARS: usize = 32;
}

impl EmailSettings {
    /// The List-Id of announcements: `email.list_id`, else
    /// `announcements.{domain of email.from}`.
    pub fn list_id(&self) -> String {
        match &self.list_id {
            Some(id) => id.clone(),
            None => format!("announcements.{}", self.from.email.domain()),
        }
    }

    /// Announcement deliveries allowed per clock minute; `None` is unlimited.
    pub fn announcement_rate(&self) -> Option<u32> {
        Some(self.announcement_rate_per_minute).filter(|&n| n > 0)
    }

    /// Announcement deliveries allowed per UTC day; `None` is unlimited.
    pub fn announcement_daily_cap(&self) -> Option<u32> {
        self.announcement_daily_cap.filter(|&n| n > 0)
    }

    /// The worker's pause between polls of an empty queue.
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms)
    }

    /// How long a claimed message stays leased.
    pub fn lease(&self) -> TimeDelta {
        seconds(self.lease_secs)
    }

    /// The retry schedule of failed sends.
    pub fn retry_backoff(&self) -> RetryBackoff {
        RetryBackoff {
            base_secs: self.retry_base_secs,
            max_secs: self.retry_max_secs,
        }
    }
}

/// Exponential backoff from `email.retry_base_secs`, capped at `email.retry_max_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBackoff {
    base_secs: u32,
    max_secs: u32,
}

impl RetryBackoff {
    /// Delay before the next attempt after `failed_attempts` failures (1 = the
    /// first): `base × 2^(failed_attempts − 1)`, at most `max`. No jitter.
    pub fn delay(&self, failed_attempts: u32) -> TimeDelta {
        let factor = 2u64.saturating_pow(failed_attempts.saturating_sub(1));
        let secs = u64::from(self.base_secs)
            .saturating_mul(factor)
            .min(u64::from(self.max_secs));
        seconds(u32::try_from(secs).unwrap_or(self.max_secs))
    }
}

/// `[group]`: shown on pages and in email footers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// How often the group writes ("about once a month"), said on the
    /// welcome page and in the welcome mail; unset: not said.
    #[serde(default, deserialize_with = "de_optional_short_line")]
    pub mail_frequency: Option<String>,
}

/// The domain of the shipped configuration's addresses (`email.from`,
/// `group.contact_email`): a placeholder nobody receives mail at.
pub const PLACEHOLDER_DOMAIN: &str = "example.org";

/// Whether `address` (`local@domain`) is at [`PLACEHOLDER_DOMAIN`] or a
/// subdomain of it; case and a final dot do not matter.
pub fn is_placeholder_address(address: &str) -> bool {
    let domain = address.rsplit_once('@').map_or("", |(_, domain)| domain);
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    domain == PLACEHOLDER_DOMAIN
        || domain
            .strip_suffix(PLACEHOLDER_DOMAIN)
            .is_some_and(|sub| sub.ends_with('.'))
}

/// `group.privacy_url` when it is not set: the page this service serves.
pub fn default_privacy_url(base_url: &BaseUrl) -> String {
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

/// `[signup]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Countries listed first.
    #[serde(deserialize_with = "de_countries")]
    pub featured_countries: Vec<Country>,
    /// Time zones listed first.
    #[serde(deserialize_with = "de_time_zone_names")]
    pub featured_timezones: Vec<TimeZoneName>,
}

impl SignupSettings {
    /// How long a confirmation link and code stay valid.
    pub fn token_ttl(&self) -> TimeDelta {
        hours(self.token_ttl_hours)
    }

    /// Least time between two confirmation emails to one address.
    pub fn resend_cooldown(&self) -> TimeDelta {
        seconds(self.resend_cooldown_secs)
    }

    /// How long unconfirmed sign-ups are kept.
    pub fn pending_retention(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.pending_retention_days))
    }
}

/// `[dashboard]`: the meeting planner.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSettings {
    /// Time zones shown side by side (at least one).
    #[serde(deserialize_with = "de_time_zones")]
    pub zones: Vec<Tz>,
    /// Local working hours, `HH:MM-HH:MM`.
    pub working_hours: WorkingHours,
    /// Local working days (at least one).
    #[serde(deserialize_with = "de_weekdays")]
    pub working_days: Vec<Weekday>,
}

/// `[admin]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Admin session lifetime in hours (≥ 1).
    pub session_ttl_hours: u32,
    /// Failed logins allowed per [`AdminSettings::login_failure_window`], per
    /// IP and per account (≥ 1).
    pub login_max_failures: u32,
    /// Password hashes computed at once (unset: [`AdminSettings::password_check_slots`]).
    #[serde(default, deserialize_with = "de_optional_at_least_one")]
    pub max_concurrent_password_checks: Option<NonZeroU32>,
    /// The local hour (0–23) from which digests go out, in
    /// [`AdminSettings::digest_zone`].
    pub digest_hour: u32,
    /// Digests' days and weeks are local here (unset: [`AdminSettings::digest_zone`]).
    #[serde(default, deserialize_with = "de_optional_time_zone")]
    pub digest_timezone: Option<Tz>,
    /// Largest body of a POST under `/admin`, in bytes (≥ 1).
    pub max_body_bytes: usize,
}

impl AdminSettings {
    /// The zone of digests' days and weeks: `digest_timezone`, else the
    /// first of `dashboard.zones` (the group's main zone).
    pub fn digest_zone(&self, dashboard: &DashboardSettings) -> Tz {
        self.digest_timezone
            .or_else(|| dashboard.zones.first().copied())
            .unwrap_or(Tz::UTC)
    }

    /// How long an organiser's session lasts.
    pub fn session_ttl(&self) -> TimeDelta {
        hours(self.session_ttl_hours)
    }

    /// The window `login_max_failures` counts over: 15 minutes.
    pub fn login_failure_window(&self) -> TimeDelta {
        TimeDelta::minutes(15)
    }

    /// The throttle refills one attempt every window / `login_max_failures`.
    pub fn login_refill_interval_ms(&self) -> i64 {
        self.login_failure_window().num_milliseconds() / i64::from(self.login_max_failures.max(1))
    }

    /// `max_concurrent_password_checks`, or 2 × the machine's cores when unset
    /// (a hash uses one core and about 19 MiB).
    pub fn password_check_slots(&self) -> usize {
        self.max_concurrent_password_checks.map_or_else(
            || 2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n.get() as usize,
        )
    }
}

/// `[rate_limit]`: shared by every instance on PostgreSQL, per process on SQLite.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Whether form posts are rate limited.
    pub enabled: bool,
    /// Sustained requests per IP per minute.
    #[serde(deserialize_with = "de_at_least_one")]
    pub per_ip_per_minute: NonZeroU32,
    /// Extra requests allowed in a burst.
    #[serde(deserialize_with = "de_at_least_one")]
    pub burst: NonZeroU32,
}

impl RateLimitSettings {
    /// One request comes back to a client's budget every this many milliseconds.
    pub fn interval_ms(&self) -> i64 {
        60_000 / i64::from(self.per_ip_per_minute.get())
    }
}

/// `[log]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A tracing filter string (`info`, `rollcall=debug,info`).
    #[serde(deserialize_with = "de_non_empty")]
    pub level: String,
    /// `pretty` or `json`.
    pub format: LogFormat,
}
