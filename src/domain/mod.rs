//! Parsed values for the signup form: a value of one of these types has been
//! checked, so code that holds one never checks it again.
//!
//! # Policy
//!
//! * Each value is a newtype with a private field (or, for [`OrgType`], an
//!   enum) made only by `parse` (and, for optional fields, `parse_optional`).
//!   There is no `Deserialize`: input is read as text and then parsed. Values
//!   serialise as their stored text.
//! * Every input is trimmed (Unicode white space) before it is checked, and
//!   the trimmed text is what is kept, except that a time zone given by an
//!   alias (`Pacific/Samoa`) is kept as the canonical zone it names
//!   (`Pacific/Pago_Pago`).
//! * A missing, empty or white-space-only optional field is absent
//!   (`Ok(None)`); the same for a required field is the error `"required"`.
//! * Free text (name, organisation) is counted in characters, not bytes, and
//!   must not contain control (`Cc`) or format (`Cf`) characters.
//! * The email address is checked with `validator`'s email rule, plus: the
//!   domain has a dot, is not an IP address, the address is at most 254 bytes
//!   and its local part at most 64. It is kept as typed for sending; its key
//!   (lower-cased, IDNA ASCII domain) is what identifies a person.
//! * Error messages (`Display` of each error type) are short, human English,
//!   meant to be shown next to the form field.
//! * [`SignupDetails::parse`] checks every field and reports every problem, as
//!   [`FieldErrors`] keyed by the field names in [`FIELD_NAMES`].

pub mod announcement;
mod consent;
mod country;
mod country_list;
mod email;
mod field_errors;
mod interests;
pub mod member_filter;
mod name;
mod org_type;
mod organisation;
mod signup;
mod status;
pub(crate) mod text;
mod timezone;
mod timezone_links;

pub use consent::{Consent, ConsentError};
pub use country::{Country, CountryError};
pub use email::{EmailAddress, EmailError};
pub use field_errors::{FIELD_NAMES, FieldErrors};
pub use interests::{Interests, InterestsError};
pub use name::PersonName;
pub use org_type::{OrgType, OrgTypeError};
pub use organisation::Organisation;
pub use signup::{RawSignup, SignupDetails};
pub use status::{Status, UnsubscribeReason};
pub use text::TextError;
pub(crate) use text::quote_safely;
pub use timezone::{TimeZoneError, TimeZoneName};

/// Trims `raw` and returns it, or `None` if it is missing or blank.
///
/// This is the rule for optional fields: blank means absent.
pub fn non_blank(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}
