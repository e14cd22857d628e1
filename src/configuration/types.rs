//! Value types of the settings, each parsed once while it is deserialized, so
//! a bad value comes out of figment as an error carrying its key path.

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use ipnet::IpNet;
use lettre::message::Mailbox;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::domain::{Country, CountryError, TimeZoneName};

/// A string that must not appear in logs: `Debug` prints `[redacted]`, and a
/// value of the wrong type is refused without echoing it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// The secret itself; call only where it is really used.
    pub fn expose(&self) -> &str {
        &self.0
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
                f.write_str("a string (value not shown)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretString, E> {
                Ok(SecretString(v.to_owned()))
            }
            // serde's default refusals quote the value; these do not.
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
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    let secret = Option::<SecretString>::deserialize(d)?;
    Ok(secret.filter(|s| !s.0.trim().is_empty()))
}

/// Like [`de_optional_secret`], trimmed (the server key is compared with the
/// trimmed key file).
pub(crate) fn de_optional_trimmed_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    let secret = de_optional_secret(d)?;
    Ok(secret.map(|s| SecretString(s.0.trim().to_owned())))
}

/// `Option<String>`, trimmed; empty means unset.
pub(crate) fn de_optional_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    Ok(value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// Deserializes a string and parses it with `parse`, whose message becomes
/// the error of the key.
fn de_parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    parse(&String::deserialize(d)?).map_err(de::Error::custom)
}

fn non_empty(raw: &str) -> Result<String, String> {
    match raw.trim() {
        "" => Err("must not be empty".into()),
        trimmed => Ok(trimmed.to_owned()),
    }
}

/// A string that is non-empty after trimming; stored trimmed.
pub(crate) fn de_non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_parsed(d, non_empty)
}

/// The longest `group.mail_frequency`: it is a phrase inside a sentence.
pub(crate) const SHORT_LINE_MAX_CHARS: usize = 60;

/// `group.mail_frequency`: an optional phrase ("about once a month") that
/// goes into a sentence of the welcome page and mail, so one line of at most
/// [`SHORT_LINE_MAX_CHARS`] characters without control or formatting
/// characters; trimmed, a final full stop dropped (the sentence adds its
/// own); blank is unset.
pub(crate) fn de_optional_short_line<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let Some(raw) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let value = raw.trim().trim_end_matches('.').trim_end();
    if value.is_empty() {
        return Ok(None);
    }
    let breaks_lines = |c: char| matches!(c, '\u{2028}' | '\u{2029}');
    if value
        .chars()
        .any(|c| crate::domain::text::is_control_or_format(c) || breaks_lines(c))
    {
        return Err(de::Error::custom(
            "must be one line without control or formatting characters",
        ));
    }
    let chars = value.chars().count();
    if chars > SHORT_LINE_MAX_CHARS {
        return Err(de::Error::custom(format!(
            "must be a short phrase of at most {SHORT_LINE_MAX_CHARS} characters (got {chars})"
        )));
    }
    Ok(Some(value.to_owned()))
}

/// A host name or IP address (no whitespace, control characters or `/`).
pub(crate) fn de_host<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_parsed(d, host)
}

fn host(raw: &str) -> Result<String, String> {
    let host = non_empty(raw)?;
    if host.contains(|c: char| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(format!("{host:?} is not a host name or IP address"));
    }
    Ok(host)
}

/// An optional [`de_host`]: empty means unset.
pub(crate) fn de_optional_host<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(raw) if !raw.trim().is_empty() => host(&raw).map(Some).map_err(de::Error::custom),
        _ => Ok(None),
    }
}

fn has_control_or_space(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An absolute http(s) URL without user info, the scheme lower-cased.
fn http_url(raw: &str) -> Result<String, String> {
    let url = non_empty(raw)?;
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

/// `group.website`, `group.privacy_url`: absolute http(s) URLs.
pub(crate) fn de_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_parsed(d, http_url)
}

/// `server.base_url`: absolute http(s), no query or fragment, kept without a
/// trailing slash so that paths can be appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Whether links (and so cookies) use https.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The host without the port (an IPv6 literal keeps its brackets): the
    /// domain of our Message-IDs.
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or(rest);
        match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority.split(':').next().unwrap_or(authority),
        }
    }
}

impl FromStr for BaseUrl {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let mut url = http_url(raw)?;
        if url.contains(['?', '#']) {
            return Err(format!("{url:?} must not have a query or fragment"));
        }
        if url.ends_with('/') {
            url.pop();
        }
        if url.ends_with('/') {
            return Err(format!("{raw:?} must not end with a slash"));
        }
        let url = Self(url);
        if url.host().is_empty() {
            return Err(format!("{:?} has no host", url.0));
        }
        Ok(url)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_parsed(d, str::parse)
    }
}

/// `email.from`, `email.reply_to`: parsed by lettre, exactly as sending does.
pub(crate) fn de_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Mailbox, D::Error> {
    de_parsed(d, |raw| {
        let value = non_empty(raw)?;
        if value.chars().any(char::is_control) {
            return Err(format!(
                "{value:?} must not contain line breaks or control characters"
            ));
        }
        value.parse().map_err(|_| {
            format!(
                "{value:?} is not a mailbox (expected `Name <address@example.org>` or `address@example.org`)"
            )
        })
    })
}

/// `group.contact_email`: a bare address that lettre accepts.
pub(crate) fn de_email_address<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_parsed(d, |raw| {
        let value = raw.trim();
        match value.parse::<lettre::Address>() {
            Ok(_) => Ok(value.to_owned()),
            Err(_) => Err(format!(
                "{value:?} is not an email address (expected address@example.org)"
            )),
        }
    })
}

/// An optional address (blank is unset).
pub(crate) fn de_optional_email_address<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let Some(raw) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<lettre::Address>() {
        Ok(_) => Ok(Some(value.to_owned())),
        Err(_) => Err(de::Error::custom(format!(
            "{value:?} is not an email address (expected address@example.org)"
        ))),
    }
}

/// A whole number that must be at least 1, as the rate limiter wants it.
pub(crate) fn de_at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<NonZeroU32, D::Error> {
    let value = u32::deserialize(d)?;
    NonZeroU32::new(value).ok_or_else(|| de::Error::custom("must be at least 1 (got 0)"))
}

/// An optional whole number that, when set, must be at least 1.
pub(crate) fn de_optional_at_least_one<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NonZeroU32>, D::Error> {
    match Option::<u32>::deserialize(d)? {
        None => Ok(None),
        Some(value) => NonZeroU32::new(value)
            .map(Some)
            .ok_or_else(|| de::Error::custom("must be at least 1 (got 0)")),
    }
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

impl fmt::Display for DatabaseUrl {
    /// The URL with any password replaced by `[redacted]`, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match self {
            Self::Sqlite(path) => return write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => url,
        };
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        match authority
            .rfind('@')
            .map(|at| (&authority[..at], &rest[at..]))
        {
            Some((userinfo, host_on)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                write!(f, "{scheme}://{user}:[redacted]{host_on}")
            }
            _ => f.write_str(url),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
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
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_parsed(d, str::parse)
    }
}

/// How email leaves the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    /// Write each message to a file under the data directory (development).
    File,
    /// Send through the SMTP server in `email.smtp`.
    Smtp,
}

/// TLS mode for the SMTP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Working hours for the meeting planner, written `HH:MM-HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingHours {
    /// Start of the working day (inclusive).
    pub start: NaiveTime,
    /// End of the working day (exclusive); always after `start`.
    pub end: NaiveTime,
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
        let (start, end) = (self.start.format("%H:%M"), self.end.format("%H:%M"));
        write!(f, "{start}-{end}")
    }
}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_parsed(d, str::parse)
    }
}

/// `server.trusted_proxies`: the reverse proxies whose `X-Forwarded-For` is
/// believed; IPs (`10.0.0.1` → `/32`, `::1` → `/128`) or CIDRs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = de_string_list(d)?;
        let nets = raw.iter().map(|raw| {
            let s = raw.trim();
            s.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    de::Error::custom(format!(
                        "{s:?} is not an IP address or CIDR (e.g. 10.0.0.1 or 10.0.0.0/8)"
                    ))
                })
        });
        nets.collect::<Result<_, _>>().map(Self)
    }
}

/// A list of strings; a single string is taken as a one-element list (so an
/// environment variable may hold one value without brackets).
fn de_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
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
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_any(ListVisitor)
}

/// A list whose trimmed entries are parsed by `parse` and must differ by `identity`.
fn de_unique_list<'de, D: Deserializer<'de>, T, K: Hash + Eq>(
    d: D,
    parse: impl Fn(&str) -> Result<T, String>,
    identity: impl Fn(&T) -> K,
) -> Result<Vec<T>, D::Error> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for raw in de_string_list(d)? {
        let raw = raw.trim();
        let item = parse(raw).map_err(de::Error::custom)?;
        if !seen.insert(identity(&item)) {
            return Err(de::Error::custom(format!("{raw:?} is listed twice")));
        }
        out.push(item);
    }
    Ok(out)
}

/// `signup.interests`: non-empty, unique (ignoring case), no `;`.
pub(crate) fn de_interests<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let parse = |item: &str| match item {
        "" => Err("entries must not be empty".to_owned()),
        _ if item.contains(';') => Err(format!("{item:?} must not contain ';'")),
        _ if item.contains(char::is_control) => {
            Err(format!("{item:?} must not contain control characters"))
        }
        _ => Ok(item.to_owned()),
    };
    de_unique_list(d, parse, |item| item.to_lowercase())
}

/// `signup.featured_countries`: assigned ISO 3166-1 alpha-2 codes.
pub(crate) fn de_countries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Country>, D::Error> {
    let parse = |code: &str| {
        Country::parse(code).map_err(|e| match e {
            CountryError::NotACode => {
                format!("{code:?} is not a two-letter country code (e.g. AU, NZ, FJ)")
            }
            CountryError::Unknown => {
                format!("{code:?} is not an assigned country code (e.g. AU, NZ, FJ)")
            }
        })
    };
    de_unique_list(d, parse, |country| *country)
}

fn time_zone(name: &str) -> Result<TimeZoneName, String> {
    TimeZoneName::parse(name)
        .map_err(|_| format!("{name:?} is not an IANA time zone (e.g. Pacific/Auckland)"))
}

/// `signup.featured_timezones`: IANA names, unique as written. Two names of
/// one zone (`Pacific/Majuro` and `Pacific/Tarawa`, which tzdata merged) may
/// both be listed: each names a place, and the menu shows the zone once.
pub(crate) fn de_time_zone_names<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<TimeZoneName>, D::Error> {
    let named = |name: &str| time_zone(name).map(|zone| (name.to_owned(), zone));
    let zones = de_unique_list(d, named, |(name, _)| name.clone())?;
    Ok(zones.into_iter().map(|(_, zone)| zone).collect())
}

/// `dashboard.zones`: IANA names, unique, as chrono-tz zones.
pub(crate) fn de_time_zones<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Tz>, D::Error> {
    de_unique_list(d, |name| time_zone(name).map(|zone| zone.tz()), |tz| *tz)
}

/// `admin.digest_timezone`: an IANA name; empty or absent means unset.
pub(crate) fn de_optional_time_zone<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Tz>, D::Error> {
    match de_optional_string(d)? {
        Some(name) => time_zone(&name)
            .map(|zone| Some(zone.tz()))
            .map_err(de::Error::custom),
        None => Ok(None),
    }
}

/// Week days (`Mon`, `Tuesday`, ...; any case), unique.
pub(crate) fn de_weekdays<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
    let parse = |name: &str| {
        name.parse::<Weekday>()
            .map_err(|_| format!("{name:?} is not a day of the week (e.g. Mon)"))
    };
    de_unique_list(d, parse, |day| *day)
}
