//! Reading a CSV exported from a hosted list or form service (Mailchimp,
//! Campaign Monitor, Google Forms, …) into checked lines. Storing them is
//! `db::imports`; the command is `cli::import`.
//!
//! # Policy
//!
//! * A leading UTF-8 BOM is ignored; header names are matched ignoring case,
//!   spaces and underscores ([`Columns`]); other columns are ignored.
//! * A line's number is the physical line where its record starts (the
//!   header is line 1), so a quoted newline inside a record moves the numbers
//!   of the records after it, as an editor shows them. Lines are counted
//!   here, not by the csv crate, whose count is off after CRLF line ends
//!   and blank lines ([`lines`]).
//! * Addresses and names follow the form's rules ([`EmailAddress`],
//!   [`PersonName`]); every problem on a line is reported, joined by `; `.
//! * A line with no name at all is rejected (`name: required`) rather than
//!   given one made from the address: the name greets the person in the
//!   welcome email and is what organisers see, and a made-up name would look
//!   like one the person gave. The organiser can fill the names in and run the
//!   import again, which only adds what is missing.
//! * The consent time is the first filled cell among `CONFIRM_TIME`,
//!   `OPTIN_TIME`, `Date Added`, `Date Subscribed`, `Timestamp` (so a Mailchimp
//!   member with no `CONFIRM_TIME` falls back to `OPTIN_TIME`); a filled cell
//!   that cannot be read rejects the line instead of falling back, and so does
//!   a time after the import's own. Formats: see [`time`].
//! * A record whose cells are all blank is skipped without a word; a record
//!   with more or fewer cells than the header is rejected, since its columns
//!   may have shifted.
//! * Each cell loses one leading `'`, which rollcall's own export adds to cells
//!   a spreadsheet would read as a formula.

mod header;
mod lines;
mod record;
pub mod time;

pub use header::{Columns, HeaderError};
pub use record::LineRules;

use crate::domain::{Country, EmailAddress, Organisation, PersonName, TimeZoneName};
use chrono::NaiveDateTime;
use lines::LineBreaks;
use std::io::{BufRead, BufReader, Read};

/// A line that passed every check, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub email: EmailAddress,
    pub name: PersonName,
    /// The original consent time, when the export has one (always, in
    /// `--mode confirmed`: lines without one are rejected).
    pub consent_at: Option<NaiveDateTime>,
    pub country: Option<Country>,
    pub timezone: Option<TimeZoneName>,
    pub organisation: Option<Organisation>,
    /// rollcall's own export row of someone who left (`status` unsubscribed,
    /// or an `unsubscribe_reason`): skipped, never re-subscribed.
    pub left: bool,
    /// Optional values that could not be used and were dropped, each reported
    /// as `line N: country: … (ignored)`.
    pub ignored: Vec<String>,
}

/// One record of the file and what became of reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The physical line where the record starts.
    pub number: u64,
    pub parsed: Result<ImportRecord, String>,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("reading the file failed: {0}")]
    Io(#[from] csv::Error),
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the file's records in batches, holding one record's bytes at a time.
pub struct ImportReader<R: Read> {
    csv: csv::Reader<LineBreaks<BufReader<R>>>,
    columns: Columns,
    need_time: bool,
    record: csv::ByteRecord,
}

impl<R: Read> ImportReader<R> {
    /// Reads the header; `need_time` for `--mode confirmed`.
    pub fn open(input: R, need_time: bool) -> Result<Self, ReadError> {
        let mut input = BufReader::new(input);
        if input.fill_buf().map_err(csv::Error::from)?.starts_with(BOM) {
            input.consume(BOM.len());
        }
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(LineBreaks::new(input));
        let header: Vec<String> = csv
            .byte_headers()?
            .iter()
            .map(|cell| String::from_utf8_lossy(cell).into_owned())
            .collect();
        let columns = Columns::find(&header, need_time)?;
        Ok(Self {
            csv,
            columns,
            need_time,
            record: csv::ByteRecord::new(),
        })
    }

    /// Up to `max` more lines (fewer only at the end of the file); `now` is the
    /// import's time, after which no consent can have been given.
    pub fn next_batch(&mut self, max: usize, now: NaiveDateTime) -> Result<Vec<Line>, csv::Error> {
        let rules = LineRules {
            need_time: self.need_time,
            now,
        };
        let mut lines = Vec::with_capacity(max);
        while lines.len() < max && self.csv.read_byte_record(&mut self.record)? {
            let start = self.record.position().map_or(0, |p| p.byte());
            let number = self.csv.get_mut().line_at(start);
            if let Some(parsed) = record::parse(&self.columns, &self.record, rules) {
                lines.push(Line { number, parsed });
            }
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(u64, Result<String, String>)> {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let mut reader = ImportReader::open(text.as_bytes(), false).unwrap();
        let lines = reader.next_batch(100, now).unwrap();
        assert!(reader.next_batch(100, now).unwrap().is_empty());
        lines
            .into_iter()
            .map(|l| (l.number, l.parsed.map(|r| r.email.key().to_owned())))
            .collect()
    }

    #[test]
    fn line_numbers_are_where_each_record_starts() {
        let text = "\u{feff}Email,Name,Notes\r\n\
                    a@example.org,Ana,\"two\r\nlines\"\r\n\
                    \r\n\
                    b@example.org,Bo,x\r\n\
                    ,,\n\
                    bad,Cy,\"three\nlines\nhere\"\n\
                    c@example.org,Di,\r\
                    d@example.org,Ed,\n";
        assert_eq!(
            lines_of(text),
            vec![
                (2, Ok("a@example.org".into())),
                (5, Ok("b@example.org".into())),
                (
                    7,
                    Err("email: enter a valid email address, like name@example.org".into())
                ),
                (10, Ok("c@example.org".into())),
                (11, Ok("d@example.org".into())),
            ]
        );
    }

    #[test]
    fn a_quoted_bom_header_is_read() {
        let text = "\u{feff}\"Email Address\",\"Full Name\"\na@example.org,Ana\n";
        assert_eq!(lines_of(text), vec![(2, Ok("a@example.org".into()))]);
    }

    #[test]
    fn an_empty_file_or_a_header_without_an_address_is_refused() {
        let open = |text: &'static str| ImportReader::open(text.as_bytes(), false).err();
        assert!(matches!(
            open(""),
            Some(ReadError::Header(HeaderError::Empty))
        ));
        assert!(matches!(
            open("Name,Phone\nAna,1\n"),
            Some(ReadError::Header(HeaderError::NoEmail))
        ));
    }
}
