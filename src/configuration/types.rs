//! Validated value types used by the settings sections.
//!
//! Each type validates itself while it is deserialized, so a bad value comes
//! out of figment as an error that carries the key path (`server.base_url`,
//! `database.url`, ...).

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A string that must not appear in logs: `Debug` prints `[redacted]`.
///
/// Deserialization errors never echo the value either.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; call only where it is really used.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl Visitor<'_> for SecretVisitor {
            type Value = SecretString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretString, E> {
                Ok(SecretString(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretString, E> {
                Err(E::custom("expected a string (value not shown)"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretString, E> {
                Err(E::custom("expected a string (value not shown)"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretString, E> {
                Err(E::custom("expected a string (value not shown)"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretString, E> {
                Err(E::custom("expected a string (value not shown)"))
            }
        }
        deserializer.deserialize_str(SecretVisitor)
    }
}

/// `Option<SecretString>` where an empty (or all-whitespace) value means unset.
pub(crate) fn de_optional_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    let secret = Option::<SecretString>::deserialize(deserializer)?;
    Ok(secret.filter(|s| !s.expose().trim().is_empty()))
}

/// Like [`de_optional_secret`] but also trims surrounding whitespace (the
/// server secret key is compared byte-for-byte with the trimmed key file).
pub(crate) fn de_optional_trimmed_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(de_optional_secret(deserializer)?.map(|s| SecretString::new(s.expose().trim())))
}

/// `Option<String>` where an empty (or all-whitespace) value means unset.
pub(crate) fn de_optional_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// A string that is non-empty after trimming; stored trimmed.
pub(crate) fn de_non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = String::deserialize(deserializer)?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(de::Error::custom("must not be empty"));
    }
    Ok(trimmed.to_owned())
}

/// A host name or IP address to listen on (no whitespace, non-empty).
pub(crate) fn de_host<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let host = de_non_empty(deserializer)?;
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(de::Error::custom(format!(
            "{host:?} is not a host name or IP address"
        )));
    }
    Ok(host)
}

fn has_control_or_space(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Splits `scheme://authority/rest`, checking the scheme is http or https.
fn check_http_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("must not be empty".into());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "{url:?} is not an absolute URL (expected http://… or https://…)"
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{url:?} must use http or https, not {scheme:?}"));
    }
    if has_control_or_space(rest) {
        return Err(format!("{url:?} must not contain spaces"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    if authority.contains('@') {
        return Err(format!("{url:?} must not contain a user name or password"));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// `server.base_url`: absolute http(s), no query or fragment, no trailing
/// slash (one trailing slash is stripped).
pub(crate) fn parse_base_url(raw: &str) -> Result<String, String> {
    let mut url = check_http_url(raw)?;
    if url.contains('?') || url.contains('#') {
        return Err(format!("{url:?} must not have a query or fragment"));
    }
    if url.ends_with('/') {
        url.pop();
    }
    if url.ends_with('/') {
        return Err(format!("{raw:?} must not end with a slash"));
    }
    Ok(url)
}

/// A mailbox for email headers: `Name <addr@example.org>` or a bare address.
/// Loose: contains `@`, no line breaks or control characters, balanced
/// `<…>` at the end when present.
pub(crate) fn parse_mailbox(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{value:?} must not contain line breaks or control characters"
        ));
    }
    let opens = value.matches('<').count();
    let closes = value.matches('>').count();
    if opens > 1 || opens != closes || (opens == 1 && !value.ends_with('>')) {
        return Err(format!(
            "{value:?} is not a mailbox (expected `Name <address@example.org>` or `address@example.org`)"
        ));
    }
    let address = match value.rfind('<') {
        Some(open) => &value[open + 1..value.len() - 1],
        None => value,
    };
    if !address.contains('@') || has_control_or_space(address.trim()) {
        return Err(format!("{value:?} does not contain an email address"));
    }
    Ok(value.to_owned())
}

/// A bare email address (`someone@example.org`), validated loosely.
pub(crate) fn parse_email_address(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !has_control_or_space(value)
                && !value.contains(['<', '>', ',', ';'])
        }
        None => false,
    };
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an email address (expected address@example.org)"
        ))
    }
}

fn de_with<'de, D: Deserializer<'de>>(
    deserializer: D,
    parse: fn(&str) -> Result<String, String>,
) -> Result<String, D::Error> {
    parse(&String::deserialize(deserializer)?).map_err(de::Error::custom)
}

pub(crate) fn de_base_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_with(d, parse_base_url)
}

pub(crate) fn de_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_with(d, check_http_url)
}

pub(crate) fn de_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_with(d, parse_mailbox)
}

pub(crate) fn de_email_address<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_with(d, parse_email_address)
}

/// Where the database lives, parsed from `database.url`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: relative to the working directory
    /// (`sqlite://data/rollcall.db`) or absolute with a third slash
    /// (`sqlite:///var/lib/rollcall/rollcall.db`).
    Sqlite(PathBuf),
    /// A `postgres://…` or `postgresql://…` URL, kept verbatim.
    Postgres(String),
}

impl DatabaseUrl {
    /// Whether this is a SQLite database.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// The URL with any password replaced by `[redacted]`, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:[redacted]{}", &rest[at..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(_) => f.debug_tuple("Postgres").field(&self.redacted()).finish(),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// Same as [`DatabaseUrl::redacted`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let url = raw.trim();
        let scheme = match url.split_once("://") {
            Some((scheme, _)) => scheme,
            None => url.split(':').next().unwrap_or(url),
        };
        let rest = url.get(scheme.len() + 3..).unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" if url.contains("://") => {
                if rest.is_empty() {
                    return Err(
                        "missing path after sqlite:// (e.g. sqlite://data/rollcall.db)".into(),
                    );
                }
                if rest.contains('?') {
                    return Err(format!(
                        "{url:?}: query parameters are not supported in sqlite:// URLs"
                    ));
                }
                if rest.ends_with('/') {
                    return Err(format!("{url:?} names a directory, not a database file"));
                }
                Ok(Self::Sqlite(PathBuf::from(rest)))
            }
            "postgres" | "postgresql" if url.contains("://") => {
                if rest.is_empty() || has_control_or_space(rest) {
                    return Err(
                        "postgres URL needs a host, e.g. postgres://user:pass@host/db".into(),
                    );
                }
                Ok(Self::Postgres(url.to_owned()))
            }
            _ => Err(format!(
                "unsupported scheme \"{scheme}\" (use sqlite:// or postgres://)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(de::Error::custom)
    }
}

/// How email leaves the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    /// Write each message to a file under the data directory (development).
    File,
    /// Send through the SMTP server in `email.smtp`.
    Smtp,
}

/// TLS mode for the SMTP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (only for a relay on localhost).
    None,
    /// Connect in plain text and upgrade with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Working hours for the meeting planner, written `HH:MM-HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkingHours {
    /// Start of the working day (inclusive).
    pub start: NaiveTime,
    /// End of the working day (exclusive); always after `start`.
    pub end: NaiveTime,
}

impl WorkingHours {
    /// Whether `time` falls within `[start, end)`.
    pub fn contains(&self, time: NaiveTime) -> bool {
        self.start <= time && time < self.end
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            start: NaiveTime::MIN + chrono::TimeDelta::hours(9),
            end: NaiveTime::MIN + chrono::TimeDelta::hours(17),
        }
    }
}

impl FromStr for WorkingHours {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let bad =
            || format!("{raw:?} is not a time range (expected HH:MM-HH:MM, e.g. 09:00-17:00)");
        let (start, end) = raw.trim().split_once('-').ok_or_else(bad)?;
        let parse = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (parse(start)?, parse(end)?);
        if start >= end {
            return Err(format!("{raw:?}: the start must be before the end"));
        }
        Ok(Self { start, end })
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(de::Error::custom)
    }
}

impl Serialize for WorkingHours {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A list of strings; a single string is taken as a one-element list (so an
/// environment variable may hold one value without brackets).
fn de_string_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct ListVisitor;
    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(item) = seq.next_element::<String>()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    deserializer.deserialize_any(ListVisitor)
}

fn reject_duplicate<E: de::Error, T: std::hash::Hash + Eq>(
    seen: &mut HashSet<T>,
    key: T,
    shown: &str,
) -> Result<(), E> {
    if seen.insert(key) {
        Ok(())
    } else {
        Err(E::custom(format!("{shown:?} is listed twice")))
    }
}

/// `server.trusted_proxies`: IPs (`10.0.0.1` → `/32`, `::1` → `/128`) or CIDRs.
pub(crate) fn de_ip_nets<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<IpNet>, D::Error> {
    de_string_list(deserializer)?
        .iter()
        .map(|raw| {
            let s = raw.trim();
            if let Ok(net) = s.parse::<IpNet>() {
                Ok(net.trunc())
            } else if let Ok(ip) = s.parse::<IpAddr>() {
                Ok(IpNet::from(ip))
            } else {
                Err(de::Error::custom(format!(
                    "{s:?} is not an IP address or CIDR (e.g. 10.0.0.1 or 10.0.0.0/8)"
                )))
            }
        })
        .collect()
}

/// `signup.interests`: non-empty, unique (ignoring case), no `;`.
pub(crate) fn de_interests<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for raw in de_string_list(deserializer)? {
        let item = raw.trim();
        if item.is_empty() {
            return Err(de::Error::custom("entries must not be empty"));
        }
        if item.contains(';') {
            return Err(de::Error::custom(format!("{item:?} must not contain ';'")));
        }
        if item.chars().any(char::is_control) {
            return Err(de::Error::custom(format!(
                "{item:?} must not contain control characters"
            )));
        }
        reject_duplicate(&mut seen, item.to_lowercase(), item)?;
        out.push(item.to_owned());
    }
    Ok(out)
}

/// `signup.featured_countries`: ISO 3166-1 alpha-2 shaped codes, stored upper-case.
pub(crate) fn de_countries<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for raw in de_string_list(deserializer)? {
        let code = raw.trim();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(de::Error::custom(format!(
                "{code:?} is not a two-letter country code (e.g. AU, NZ, FJ)"
            )));
        }
        let code = code.to_ascii_uppercase();
        reject_duplicate(&mut seen, code.clone(), &code)?;
        out.push(code);
    }
    Ok(out)
}

/// IANA time-zone names (`Pacific/Auckland`), unique, checked with chrono-tz.
pub(crate) fn de_time_zones<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for raw in de_string_list(deserializer)? {
        let name = raw.trim();
        let tz: Tz = name.parse().map_err(|_| {
            de::Error::custom(format!(
                "{name:?} is not an IANA time zone (e.g. Pacific/Auckland)"
            ))
        })?;
        reject_duplicate(&mut seen, tz.name(), name)?;
        out.push(tz.name().to_owned());
    }
    Ok(out)
}

/// Parses names already validated by [`de_time_zones`].
pub(crate) fn time_zones(names: &[String]) -> Vec<Tz> {
    names.iter().filter_map(|name| name.parse().ok()).collect()
}

/// Week days (`Mon`, `Tuesday`, ...; any case), unique.
pub(crate) fn de_weekdays<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Weekday>, D::Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for raw in de_string_list(deserializer)? {
        let name = raw.trim();
        let day: Weekday = name.parse().map_err(|_| {
            de::Error::custom(format!("{name:?} is not a day of the week (e.g. Mon)"))
        })?;
        reject_duplicate(&mut seen, day, name)?;
        out.push(day);
    }
    Ok(out)
}
