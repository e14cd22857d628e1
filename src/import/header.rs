//! Finding the columns that matter in a hosted service's header row.
//!
//! Names are compared after removing case, spaces and underscores, so
//! `Email Address`, `EMAIL_ADDRESS` and `emailaddress` are one column. When a
//! header repeats a column, the first wins; when it holds several of one
//! kind, the contract's order decides (listed below).

/// The address: `Email`, `Email Address`, `EmailAddress`.
const EMAIL: [&str; 2] = ["email", "emailaddress"];
/// A whole name, in order: `Name`, `Full Name`.
const WHOLE_NAME: [&str; 2] = ["name", "fullname"];
const FIRST_NAME: &str = "firstname";
const LAST_NAME: &str = "lastname";
/// The original consent time, in priority order.
const TIMES: [&str; 6] = [
    "confirmtime",
    "optintime",
    "dateadded",
    "datesubscribed",
    "timestamp",
    // rollcall's own export.
    "confirmedat",
];
/// The optional details, in priority order each.
const COUNTRY: [&str; 3] = ["country", "cc", "countrycode"];
const TIMEZONE: [&str; 1] = ["timezone"];
const ORGANISATION: [&str; 3] = ["organisation", "organization", "company"];
/// rollcall's own export says who left: such rows are skipped.
const STATUS: &str = "status";
const UNSUBSCRIBE_REASON: &str = "unsubscribereason";

/// Why a header cannot be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the file is empty")]
    Empty,
    #[error("the header has no email column (Email, Email Address or EmailAddress)")]
    NoEmail,
    #[error("the header has no name column (Name, Full Name, or First Name and Last Name)")]
    NoName,
    #[error(
        "--mode confirmed needs the original consent time, but the header has no time column \
         (CONFIRM_TIME, OPTIN_TIME, Date Added, Date Subscribed or Timestamp)"
    )]
    NoTime,
}

/// Where the wanted cells are, by index into each record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub email: usize,
    /// `Name`, then `Full Name`: the first non-blank cell is the name.
    pub whole_names: Vec<usize>,
    /// Used when no whole-name cell is filled in: the filled parts, joined.
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    /// Time columns in priority order: the first non-blank cell is the time.
    pub times: Vec<usize>,
    pub country: Option<usize>,
    pub timezone: Option<usize>,
    pub organisation: Option<usize>,
    pub status: Option<usize>,
    pub unsubscribe_reason: Option<usize>,
    /// How many cells the header has (every record must have as many).
    pub width: usize,
}

impl Columns {
    /// Finds the columns in a header row (a leading BOM already removed).
    pub fn find(header: &[String], need_time: bool) -> Result<Columns, HeaderError> {
        if header.iter().all(|h| h.trim().is_empty()) {
            return Err(HeaderError::Empty);
        }
        let names: Vec<String> = header.iter().map(|h| normalise(h)).collect();
        let find = |wanted: &str| names.iter().position(|n| n == wanted);
        let email = EMAIL
            .iter()
            .find_map(|e| find(e))
            .ok_or(HeaderError::NoEmail)?;
        let whole_names: Vec<usize> = WHOLE_NAME.iter().filter_map(|n| find(n)).collect();
        let (first_name, last_name) = (find(FIRST_NAME), find(LAST_NAME));
        if whole_names.is_empty() && first_name.is_none() && last_name.is_none() {
            return Err(HeaderError::NoName);
        }
        let times: Vec<usize> = TIMES.iter().filter_map(|t| find(t)).collect();
        if need_time && times.is_empty() {
            return Err(HeaderError::NoTime);
        }
        let first_of = |names: &[&str]| names.iter().find_map(|n| find(n));
        Ok(Columns {
            email,
            whole_names,
            first_name,
            last_name,
            times,
            country: first_of(&COUNTRY),
            timezone: first_of(&TIMEZONE),
            organisation: first_of(&ORGANISATION),
            status: find(STATUS),
            unsubscribe_reason: find(UNSUBSCRIBE_REASON),
            width: header.len(),
        })
    }
}

/// Lower case, without white space or underscores.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn names_match_ignoring_case_spaces_and_underscores() {
        for email in [
            "Email",
            "EMAIL",
            "Email Address",
            "email_address",
            "EmailAddress",
        ] {
            let found = Columns::find(&header(&["x", email, " Full  Name "]), false);
            assert_eq!(found.map(|c| (c.email, c.whole_names)), Ok((1, vec![2])));
        }
        let google = Columns::find(&header(&["Timestamp", "Email address", "Name"]), true);
        assert_eq!(google.map(|c| (c.email, c.times)), Ok((1, vec![0])));
    }

    #[test]
    fn first_and_last_names_and_times_in_priority_order() {
        let mailchimp = header(&[
            "Email Address",
            "First Name",
            "Last Name",
            "OPTIN_TIME",
            "CONFIRM_TIME",
            "LAST_CHANGED",
        ]);
        let Ok(columns) = Columns::find(&mailchimp, true) else {
            panic!("mailchimp header");
        };
        assert_eq!(columns.first_name, Some(1));
        assert_eq!(columns.last_name, Some(2));
        assert_eq!(columns.times, vec![4, 3]);
        assert_eq!(columns.width, 6);
    }

    #[test]
    fn the_first_of_repeated_columns_wins() {
        let found = Columns::find(&header(&["Name", "Email", "E-mail", "email"]), false);
        assert_eq!(found.map(|c| c.email), Ok(1));
    }

    #[test]
    fn missing_columns_are_named() {
        assert_eq!(
            Columns::find(&header(&[""]), false),
            Err(HeaderError::Empty)
        );
        assert_eq!(
            Columns::find(&header(&["Name", "Mail"]), false),
            Err(HeaderError::NoEmail)
        );
        assert_eq!(
            Columns::find(&header(&["Email", "Nickname"]), false),
            Err(HeaderError::NoName)
        );
        assert_eq!(
            Columns::find(&header(&["Email", "Name"]), true),
            Err(HeaderError::NoTime)
        );
        assert!(Columns::find(&header(&["Email", "Last Name"]), false).is_ok());
    }
}
