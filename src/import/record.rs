//! One record of the file: a checked line, or every reason it cannot be used.

use super::ImportRecord;
use super::header::Columns;
use super::time::{TimeError, parse_consent_time};
use crate::domain::{Country, EmailAddress, Organisation, PersonName, TimeZoneName, quote_safely};
use crate::organisers::csv_export::un_neutralise;
use chrono::NaiveDateTime;
use csv::ByteRecord;

/// What the whole import asks of each line.
#[derive(Debug, Clone, Copy)]
pub struct LineRules {
    /// `--mode confirmed`: a line without a consent time cannot be imported.
    pub need_time: bool,
    /// The import's time: consent cannot be given after it.
    pub now: NaiveDateTime,
}

/// Reads one record. `None` when every cell is blank (not anyone: skipped
/// silently, as spreadsheets leave such rows behind); otherwise the line, or
/// its reasons joined by `; `.
pub fn parse(
    columns: &Columns,
    record: &ByteRecord,
    rules: LineRules,
) -> Option<Result<ImportRecord, String>> {
    let cells: Vec<&str> = match record.iter().map(std::str::from_utf8).collect() {
        Ok(cells) => cells,
        Err(_) => return Some(Err("not UTF-8 text (save the file as CSV UTF-8)".into())),
    };
    if cells.iter().all(|c| c.trim().is_empty()) {
        return None;
    }
    if cells.len() != columns.width {
        return Some(Err(format!(
            "{} cells, but the header has {}",
            cells.len(),
            columns.width
        )));
    }
    Some(check(columns, &cells, rules))
}

fn check(columns: &Columns, cells: &[&str], rules: LineRules) -> Result<ImportRecord, String> {
    let mut reasons = Vec::new();
    let email = EmailAddress::parse(cell(cells, columns.email))
        .map_err(|e| reasons.push(format!("email: {e}")))
        .ok();
    let name = PersonName::parse(&name_of(columns, cells))
        .map_err(|e| reasons.push(format!("name: {e}")))
        .ok();
    let consent_at = consent_time(columns, cells, rules)
        .map_err(|e| reasons.push(format!("consent time: {e}")))
        .ok();
    let mut ignored = Vec::new();
    // Mailchimp's `Country` holds the name ("New Zealand"), its `CC` the code.
    let country = optional(columns.country, cells, "country", &mut ignored, |t| {
        Country::parse(t)
            .or_else(|e| {
                Country::all()
                    .iter()
                    .find(|(_, name)| name.eq_ignore_ascii_case(t))
                    .and_then(|(code, _)| Country::parse(code).ok())
                    .ok_or(e)
            })
            .map_err(|e| e.to_string())
    });
    let timezone = optional(columns.timezone, cells, "timezone", &mut ignored, |t| {
        TimeZoneName::parse(t).map_err(|e| e.to_string())
    });
    let organisation = optional(
        columns.organisation,
        cells,
        "organisation",
        &mut ignored,
        |t| Organisation::parse(t).map_err(|e| e.to_string()),
    );
    let filled = |index: Option<usize>| {
        index
            .map(|i| cell(cells, i).trim())
            .filter(|t| !t.is_empty())
    };
    let left = filled(columns.status).is_some_and(|s| s.eq_ignore_ascii_case("unsubscribed"))
        || filled(columns.unsubscribe_reason).is_some();
    match (email, name, consent_at) {
        (Some(email), Some(name), Some(consent_at)) => Ok(ImportRecord {
            email,
            name,
            consent_at,
            country,
            timezone,
            organisation,
            left,
            ignored,
        }),
        _ => Err(reasons.join("; ")),
    }
}

/// An optional detail: blank is absent; a value its rule refuses is dropped
/// and noted as `field: "value" reason (ignored)`, and the line is kept.
fn optional<T>(
    index: Option<usize>,
    cells: &[&str],
    field: &str,
    ignored: &mut Vec<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let text = cell(cells, index?).trim();
    if text.is_empty() {
        return None;
    }
    match parse(text) {
        Ok(value) => Some(value),
        Err(reason) => {
            ignored.push(format!(
                "{field}: \"{}\": {reason} (ignored)",
                quote_safely(text)
            ));
            None
        }
    }
}

/// A cell without the leading `'` that rollcall's export adds to cells a
/// spreadsheet would read as a formula.
fn cell<'a>(cells: &[&'a str], index: usize) -> &'a str {
    un_neutralise(cells.get(index).copied().unwrap_or_default())
}

/// The first filled whole-name cell, else the filled name parts joined by a
/// space, else empty (which the name rule calls "required").
fn name_of(columns: &Columns, cells: &[&str]) -> String {
    let filled = |index: &usize| Some(cell(cells, *index).trim()).filter(|s| !s.is_empty());
    if let Some(whole) = columns.whole_names.iter().find_map(filled) {
        return whole.to_owned();
    }
    [columns.first_name, columns.last_name]
        .iter()
        .flatten()
        .filter_map(filled)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first filled time cell in priority order, read as UTC.
fn consent_time(
    columns: &Columns,
    cells: &[&str],
    rules: LineRules,
) -> Result<Option<NaiveDateTime>, String> {
    let Some(text) = columns
        .times
        .iter()
        .map(|index| cell(cells, *index).trim())
        .find(|text| !text.is_empty())
    else {
        return match rules.need_time {
            true => Err("required with --mode confirmed".into()),
            false => Ok(None),
        };
    };
    let quoted = format!("\"{}\"", quote_safely(text));
    match parse_consent_time(text) {
        Ok(time) if time > rules.now => Err(format!("{quoted} is in the future")),
        Ok(time) => Ok(Some(time)),
        Err(TimeError::Ambiguous) => Err(format!(
            "{quoted} could be day/month or month/day (use YYYY-MM-DD HH:MM:SS, UTC)"
        )),
        Err(TimeError::Unrecognised) => Err(format!(
            "{quoted} is not a time this import understands \
             (use RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)"
        )),
    }
}

#[cfg(test)]
#[path = "record_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        let header: Vec<String> = ["Email Address", "First Name", "Last Name", "OPTIN_TIME"]
            .map(String::from)
            .to_vec();
        Columns::find(&header, false).unwrap()
    }

    fn rules(need_time: bool) -> LineRules {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap();
        LineRules { need_time, now }
    }

    fn read(cells: &[&str], need_time: bool) -> Option<Result<ImportRecord, String>> {
        parse(
            &columns(),
            &ByteRecord::from(cells.to_vec()),
            rules(need_time),
        )
    }

    #[test]
    fn a_good_line_is_checked_and_kept() {
        let line = read(
            &["Mere@Example.org ", "Mere", "Tūhoe", "2024-03-05 10:11:12"],
            true,
        );
        let record = line.unwrap().unwrap();
        assert_eq!(record.email.as_str(), "Mere@Example.org");
        assert_eq!(record.name.as_str(), "Mere Tūhoe");
        assert_eq!(
            record.consent_at.unwrap().to_string(),
            "2024-03-05 10:11:12"
        );
    }

    #[test]
    fn one_leading_quote_is_stripped() {
        let record = read(&["a@example.org", "'=Sione", "", ""], false)
            .unwrap()
            .unwrap();
        assert_eq!(record.name.as_str(), "=Sione");
        assert_eq!(record.consent_at, None);
        let kept = read(&["a@example.org", "'Ofa", "", ""], false)
            .unwrap()
            .unwrap();
        assert_eq!(
            kept.name.as_str(),
            "'Ofa",
            "no formula start follows the quote"
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let line = read(&["not-an-address", "", " ", "tomorrow"], true);
        assert_eq!(
            line.unwrap().unwrap_err(),
            "email: enter a valid email address, like name@example.org; name: required; \
             consent time: \"tomorrow\" is not a time this import understands \
             (use RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)"
        );
        let future = read(&["a@example.org", "A", "", "2027-01-01 00:00:00"], false);
        assert_eq!(
            future.unwrap().unwrap_err(),
            "consent time: \"2027-01-01 00:00:00\" is in the future"
        );
        let missing = read(&["a@example.org", "A", "", ""], true);
        assert_eq!(
            missing.unwrap().unwrap_err(),
            "consent time: required with --mode confirmed"
        );
    }

    #[test]
    fn blank_short_and_non_utf8_records() {
        assert!(read(&["", " ", "", ""], false).is_none());
        assert_eq!(
            read(&["a@example.org", "A"], false).unwrap().unwrap_err(),
            "2 cells, but the header has 4"
        );
        let latin1 = ByteRecord::from(vec![&b"a@example.org"[..], b"Ren\xe9", b"", b""]);
        assert_eq!(
            parse(&columns(), &latin1, rules(false))
                .unwrap()
                .unwrap_err(),
            "not UTF-8 text (save the file as CSV UTF-8)"
        );
    }
}
