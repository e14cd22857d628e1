//! The append-only ledger: what happened to a registration, never who they are.

use super::schema::ledger;
use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The kinds of ledger event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Signup,
    Confirm,
    Unsubscribe,
    Import,
    Erase,
    Bounce,
    Complaint,
    Reinstate,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Signup => "signup",
            Event::Confirm => "confirm",
            Event::Unsubscribe => "unsubscribe",
            Event::Import => "import",
            Event::Erase => "erase",
            Event::Bounce => "bounce",
            Event::Complaint => "complaint",
            Event::Reinstate => "reinstate",
        }
    }
}

/// One ledger row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ledger)]
pub struct LedgerEntry {
    pub id: String,
    pub registration_id: String,
    pub event: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub consent_text_version: Option<String>,
    pub source: Option<String>,
}

/// An event about to be appended.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub registration_id: &'a str,
    pub event: Event,
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub consent_text_version: Option<&'a str>,
    pub source: Option<&'a str>,
}

/// A ledger row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = ledger, treat_none_as_default_value = false)]
pub struct LedgerRow<'a> {
    id: String,
    registration_id: &'a str,
    event: &'static str,
    at: NaiveDateTime,
    actor: &'a str,
    consent_text_version: Option<&'a str>,
    source: Option<&'a str>,
}

impl<'a> From<NewEvent<'a>> for LedgerRow<'a> {
    fn from(event: NewEvent<'a>) -> Self {
        LedgerRow {
            id: super::new_id(),
            registration_id: event.registration_id,
            event: event.event.as_str(),
            at: event.at,
            actor: event.actor,
            consent_text_version: event.consent_text_version,
            source: event.source,
        }
    }
}

/// Appends events with one statement.
pub fn append_all(conn: &mut DbConnection, rows: &[LedgerRow<'_>]) -> Result<(), DbError> {
    super::insert_rows!(conn, ledger::table, rows)?;
    Ok(())
}

pub fn append(conn: &mut DbConnection, event: NewEvent<'_>) -> Result<(), DbError> {
    append_all(conn, &[LedgerRow::from(event)])
}

pub fn for_registration(
    conn: &mut DbConnection,
    registration_id: &str,
) -> Result<Vec<LedgerEntry>, DbError> {
    Ok(ledger::table
        .filter(ledger::registration_id.eq(registration_id))
        .order((ledger::at.asc(), ledger::id.asc()))
        .select(LedgerEntry::as_select())
        .load(conn)?)
}
