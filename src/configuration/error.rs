//! `ConfigError`: every configuration problem as one line naming the key.
use figment::error::Kind;
use figment::{Figment, Metadata, Profile, Source};

use super::sources::ENV_SOURCE_NAME;

/// One problem with one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Dotted key such as `server.port`; for a file that cannot be read or
    /// parsed, the file's path; for the environment name, `ROLLCALL_ENV`.
    key: String,
    /// What is wrong, on one line.
    message: String,
    /// Where the value came from, when known: a file path or an environment
    /// variable name (`ROLLCALL__SERVER__PORT`).
    origin: Option<String>,
}

impl Problem {
    pub(crate) fn new(key: &str, message: String) -> Self {
        let (key, origin) = (key.to_owned(), None);
        Self {
            key,
            message,
            origin,
        }
    }
}

/// Configuration could not be loaded or is invalid.
///
/// `Display` is a single line: `config: KEY: MESSAGE`; when several problems
/// were found they are joined with `; ` (`config: a.b: …; c.d: …`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("config: {}", join_problems(.problems))]
pub struct ConfigError {
    problems: Vec<Problem>,
}

fn join_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.key, p.message))
        .collect();
    lines.join("; ")
}

impl ConfigError {
    /// A single problem with `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        let problem = Problem::new(&key.into(), one_line(&message.into()));
        Self {
            problems: vec![problem],
        }
    }

    /// Several problems; `None` when the list is empty.
    pub(crate) fn from_problems(problems: Vec<Problem>) -> Option<Self> {
        (!problems.is_empty()).then_some(Self { problems })
    }

    /// The key of the first problem.
    pub fn key(&self) -> &str {
        self.problems.first().map_or("", |p| p.key.as_str())
    }

    /// Where the first problem's value came from, when known.
    pub fn origin(&self) -> Option<&str> {
        self.problems.first().and_then(|p| p.origin.as_deref())
    }

    /// Converts a figment error (possibly a chain of several) into problems.
    pub(crate) fn from_figment(error: figment::Error, figment: &Figment) -> Self {
        let mut problems: Vec<Problem> = Vec::new();
        for e in error {
            let problem = problem_from_figment(&e, figment);
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        if problems.is_empty() {
            problems.push(Problem::new("config", "invalid configuration".into()));
        }
        Self { problems }
    }
}

fn problem_from_figment(e: &figment::Error, figment: &Figment) -> Problem {
    let mut path = e.path.clone();
    // figment already ends the path with an unknown field; make sure the
    // field is there for the other field-level errors too.
    let field = match &e.kind {
        Kind::UnknownField(field, _) => Some(field.as_str()),
        Kind::MissingField(field) => Some(field.as_ref()),
        Kind::DuplicateField(field) => Some(*field),
        _ => None,
    };
    if let Some(field) = field
        && path.last().map(String::as_str) != Some(field)
    {
        path.push(field.to_owned());
    }
    let key = path.join(".");

    // Prefer the metadata of the provider that supplied this very key.
    let metadata = if key.is_empty() {
        None
    } else {
        figment.find_metadata(&key)
    }
    .or(e.metadata.as_ref());
    let origin = metadata.map(|md| describe_origin(md, &path));

    let message = match &e.kind {
        Kind::UnknownField(_, expected) => {
            let from = origin
                .as_deref()
                .map(|o| format!(" (from {o})"))
                .unwrap_or_default();
            if expected.is_empty() {
                format!("unknown key{from}")
            } else {
                format!(
                    "unknown key{from}; expected one of: {}",
                    expected.join(", ")
                )
            }
        }
        Kind::UnknownVariant(found, expected) => {
            format!(
                "unknown value {found:?}; expected one of: {}",
                expected.join(", ")
            )
        }
        Kind::InvalidType(actual, expected) if expected.starts_with("struct ") => {
            format!("invalid type: found {actual}, expected a table")
        }
        Kind::MissingField(_) => "missing value".to_owned(),
        Kind::DuplicateField(_) => "given twice".to_owned(),
        other => one_line(&other.to_string()),
    };

    let key = if key.is_empty() {
        // A whole file failed (unreadable, TOML syntax error): name the file.
        origin.clone().unwrap_or_else(|| "config".to_owned())
    } else {
        key
    };
    Problem {
        key,
        message,
        origin,
    }
}

fn describe_origin(md: &Metadata, path: &[String]) -> String {
    match &md.source {
        Some(Source::File(file)) => file.display().to_string(),
        _ if md.name == ENV_SOURCE_NAME && !path.is_empty() => {
            format!(
                "environment variable {}",
                md.interpolate(&Profile::Default, path)
            )
        }
        _ => md.name.to_string(),
    }
}

/// Folds a possibly multi-line message (such as a TOML parse error with a
/// source snippet) onto one line, dropping the snippet lines.
pub(crate) fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            // Snippet gutter lines look like `|`, `12 | key = value`, `|     ^`.
            let rest = line
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !rest.starts_with('|')
        })
        .collect();
    parts.join(": ")
}
