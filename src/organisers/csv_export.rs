//! The CSV export, shared by `GET /admin/export.csv` and `rollcall export`: keyset
//! pages read on a blocking thread, written by the `csv` crate into a reused
//! buffer, and sent as chunks over a bounded channel. Memory is bounded by the
//! page size, never by the list. Each export is recorded, complete or not.

use crate::clock::SharedClock;
use crate::db::export_rows::{self as queries, ExportRow};
use crate::db::{DbError, Pool};
use crate::domain::Status;
use crate::domain::member_filter::{MemberFilter, RawMemberFilter};
use actix_web::web::Bytes;
use chrono::NaiveDateTime;
use std::borrow::Cow;
use tokio::sync::mpsc;

/// The columns, in order.
pub const HEADER: [&str; 16] = [
    "id",
    "email",
    "name",
    "organisation",
    "org_type",
    "country",
    "timezone",
    "interests",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_text_version",
    "consent_ip",
    "source",
    "unsubscribe_reason",
];

const PAGE_ROWS: i64 = 1000;
/// Chunks in flight between the reader and the client.
pub const CHANNEL_CHUNKS: usize = 4;

/// Why an export stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the registrations failed: {0}")]
    Database(#[from] DbError),
    #[error("writing the CSV failed: {0}")]
    Csv(#[from] csv::Error),
}

/// Everything an export needs.
pub struct ExportJob {
    pub pool: Pool,
    pub clock: SharedClock,
    pub filter: MemberFilter,
    pub bom: bool,
    /// `signup.interests`, for the column's order.
    pub interests: Vec<String>,
    /// `organiser:<email>` or `cli:<user>`.
    pub actor: String,
}

pub type Chunk = Result<Bytes, ExportError>;

/// Runs the export on the calling (blocking) thread, sending chunks until done,
/// failed, or the receiver has gone away; records it and returns the row count.
pub fn run(job: ExportJob, chunks: mpsc::Sender<Chunk>) -> u64 {
    let started = job.clock.now_naive();
    let mut rows = 0u64;
    let outcome = match write_all(&job, &chunks, &mut rows) {
        Ok(true) => "complete",
        Ok(false) => "partial",
        Err(error) => {
            tracing::error!(%error, rows, "export failed after {rows} rows; the body is truncated");
            let _ = chunks.blocking_send(Err(error));
            "failed"
        }
    };
    record(&job, started, rows, outcome);
    rows
}

/// Writes every page; `Ok(false)` when the receiver went away first. One buffer
/// is reused for every page; each page becomes one chunk.
fn write_all(
    job: &ExportJob,
    chunks: &mpsc::Sender<Chunk>,
    rows: &mut u64,
) -> Result<bool, ExportError> {
    let mut buffer = Vec::with_capacity(256 * 1024);
    if job.bom {
        buffer.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = csv_writer(buffer);
    writer.write_record(HEADER)?;
    let mut after: Option<String> = None;
    loop {
        let mut conn = job.pool.get().map_err(DbError::from)?;
        let page = queries::page(&mut conn, &job.filter, after.as_deref(), PAGE_ROWS)?;
        drop(conn);
        let last_page = (page.len() as i64) < PAGE_ROWS;
        after = page.last().map(|(r, _)| r.id.clone());
        let mut time = String::with_capacity(20);
        for row in &page {
            write_row(&mut writer, row, &job.interests, &mut time)?;
        }
        *rows += page.len() as u64;
        let mut buffer = writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        let chunk = Bytes::copy_from_slice(&buffer);
        buffer.clear();
        writer = csv_writer(buffer);
        if !chunk.is_empty() && chunks.blocking_send(Ok(chunk)).is_err() {
            return Ok(false);
        }
        if last_page {
            return Ok(true);
        }
    }
}

/// RFC 4180: CRLF after every record, quotes only where needed.
fn csv_writer(buffer: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(buffer)
}

fn record(job: &ExportJob, started: NaiveDateTime, rows: u64, outcome: &str) {
    let result = job.pool.get().map_err(DbError::from).and_then(|mut conn| {
        let count = i64::try_from(rows).unwrap_or(i64::MAX);
        queries::record(
            &mut conn,
            &job.actor,
            started,
            &job.filter.describe(),
            count,
            outcome,
        )
    });
    if let Err(error) = result {
        tracing::error!(%error, "could not record an export");
    }
}

/// One CSV record, every cell neutralised against spreadsheet formulas.
/// Cells are written straight from the row; `time` is a reused buffer, so a
/// row costs no allocation beyond its interests cell.
fn write_row(
    writer: &mut csv::Writer<Vec<u8>>,
    row: &ExportRow,
    interests: &[String],
    time: &mut String,
) -> csv::Result<()> {
    let (r, consent) = row;
    for text in [
        r.id.as_str(),
        &r.email,
        &r.name,
        optional(&r.organisation),
        optional(&r.org_type),
        optional(&r.country),
        optional(&r.timezone),
        &interests_in_config_order(&r.interests, interests),
        &r.status,
    ] {
        writer.write_field(neutralise(text).as_bytes())?;
    }
    for at in [Some(r.created_at), r.confirmed_at, r.unsubscribed_at] {
        time.clear();
        if let Some(at) = at {
            push_time(time, at);
        }
        writer.write_field(neutralise(time).as_bytes())?;
    }
    for text in [
        consent.as_ref().map_or("", |c| c.text_version.as_str()),
        consent
            .as_ref()
            .and_then(|c| c.ip.as_deref())
            .unwrap_or_default(),
        &r.source,
        // Only while unsubscribed: a pending row a bounce stopped keeps its
        // reason internally, but is not "unsubscribed".
        if r.status == "unsubscribed" {
            optional(&r.unsubscribe_reason)
        } else {
            ""
        },
    ] {
        writer.write_field(neutralise(text).as_bytes())?;
    }
    writer.write_record(None::<&[u8]>)
}

fn optional(text: &Option<String>) -> &str {
    text.as_deref().unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(20);
    push_time(&mut out, t);
    out
}

/// Appends `YYYY-MM-DDTHH:MM:SSZ` without parsing a format string each time.
fn push_time(out: &mut String, t: NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    // Writing into a String cannot fail.
    let _ = if (0..=9999).contains(&t.year()) {
        write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    } else {
        write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%SZ"))
    };
}

/// Stored interests re-ordered as the configuration lists them; any that the
/// configuration no longer lists follow in their stored order.
fn interests_in_config_order(stored: &str, config: &[String]) -> String {
    let stored: Vec<&str> = stored.split(';').filter(|s| !s.is_empty()).collect();
    let known = config
        .iter()
        .map(String::as_str)
        .filter(|i| stored.contains(i));
    let unknown = stored
        .iter()
        .copied()
        .filter(|s| !config.iter().any(|c| c == s));
    known.chain(unknown).collect::<Vec<_>>().join(";")
}

/// The first characters that make a spreadsheet read a cell as a formula.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet would read as a formula gets a leading `'`.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// [`neutralise`] undone, for import: the leading `'` is dropped only when a
/// formula start follows it, so any other cell that starts with `'` stays as typed.
pub fn un_neutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// The export's filter, as given to the HTTP query or the command line: the
/// audience page's filter with `confirmed` as the default status.
pub fn parse_filter(raw: &RawMemberFilter, interests: &[String]) -> Result<MemberFilter, String> {
    MemberFilter::parse(raw, Some(Status::Confirmed), interests).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "csv_export_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_others_kept() {
        for risky in ["=HYPERLINK(\"x\")", "+1", "-1", "@x", "\tx", "\rx"] {
            assert_eq!(neutralise(risky), format!("'{risky}"));
        }
        assert_eq!(neutralise("Māori"), "Māori");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn times_are_formatted_like_strftime() {
        let at = |y, mo, d, h, mi, s| {
            chrono::NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|date| date.and_hms_opt(h, mi, s))
                .unwrap()
        };
        for t in [
            at(2026, 11, 26, 9, 5, 7),
            at(1, 1, 1, 0, 0, 0),
            at(12345, 12, 31, 23, 59, 59),
        ] {
            assert_eq!(format_time(t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }

    #[test]
    fn interests_follow_the_configured_order() {
        let config = vec!["b".to_owned(), "a".to_owned()];
        assert_eq!(interests_in_config_order("a;b", &config), "b;a");
        assert_eq!(interests_in_config_order("gone;a", &config), "a;gone");
        assert_eq!(interests_in_config_order("", &config), "");
    }
}
