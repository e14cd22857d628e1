//! Figment providers for the environment-variable layer and test overrides.

use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};
use serde::Serialize;

use super::ConfigError;

/// Prefix of configuration environment variables (`ROLLCALL__SERVER__PORT`).
const ENV_PREFIX: &str = "ROLLCALL__";
/// Separator between key segments in environment variable names.
const ENV_SEPARATOR: &str = "__";
/// Environment variable naming the environment (`production`, `test`, ...).
pub(crate) const ENV_NAME_VAR: &str = "ROLLCALL_ENV";

pub(crate) const ENV_SOURCE_NAME: &str = "`ROLLCALL__` environment variable(s)";

/// The `ROLLCALL__SECTION__KEY` layer, from a list of variables (figment's
/// own `Env` reads the process environment, which tests must not change).
///
/// Like `Env::prefixed("ROLLCALL__").split("__")` (prefix ignoring case, keys
/// lower-cased, `[a, b]` a list, `"…"` unquoted) except that a scalar stays
/// the text given: the lossy extraction reads numbers and booleans from it,
/// so a secret made of digits (or with leading zeros) stays as written.
#[derive(Clone, Debug, Default)]
pub(crate) struct EnvLayer {
    /// (dotted lower-case key, raw value), sorted by key.
    vars: Vec<(String, String)>,
}

impl EnvLayer {
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut vars: Vec<(String, String)> = pairs
            .into_iter()
            .filter_map(|(name, value)| {
                let name = name.trim();
                let head = name.get(..ENV_PREFIX.len())?;
                if !head.eq_ignore_ascii_case(ENV_PREFIX) {
                    return None;
                }
                let key = name[ENV_PREFIX.len()..]
                    .replace(ENV_SEPARATOR, ".")
                    .trim()
                    .to_ascii_lowercase();
                if key.is_empty() || key.split('.').any(str::is_empty) {
                    return None;
                }
                Some((key, value))
            })
            .collect();
        vars.sort();
        Self { vars }
    }
}

fn env_value(raw: &str) -> Value {
    match raw.parse::<Value>() {
        Ok(value @ (Value::Array(..) | Value::Dict(..) | Value::String(..))) => value,
        _ => Value::from(raw.to_owned()),
    }
}

/// Inserts `value` at the dotted `key` inside `dict`, creating tables.
fn insert_nested(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            dict.insert(key.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = dict
                .entry(head.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_SOURCE_NAME).interpolater(|_: &Profile, keys: &[&str]| {
            let upper: Vec<String> = keys.iter().map(|k| k.to_ascii_uppercase()).collect();
            format!("{ENV_PREFIX}{}", upper.join(ENV_SEPARATOR))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut dict = Dict::new();
        for (key, raw) in &self.vars {
            insert_nested(&mut dict, key, env_value(raw));
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// The overrides as a figment provider.
pub(crate) struct OverridesLayer(Dict);

impl OverridesLayer {
    pub(crate) fn new<T: Serialize>(overrides: &T) -> Result<Self, ConfigError> {
        match Value::serialize(overrides) {
            Ok(Value::Dict(_, dict)) => Ok(Self(dict)),
            Ok(Value::Empty(..)) => Ok(Self(Dict::new())),
            Ok(other) => Err(ConfigError::new(
                "overrides",
                format!("must be a map of sections, not {}", other.to_actual()),
            )),
            Err(e) => Err(ConfigError::new("overrides", e.to_string())),
        }
    }
}

impl Provider for OverridesLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("overrides")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}
