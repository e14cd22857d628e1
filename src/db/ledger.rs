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
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Signup => "signup",
            Event::Confirm => "confirm",
            Event::Unsubscribe => "unsubscribe",
            Event::Import => "import",
            Event::Erase => "erase",
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

pub fn append(conn: &mut DbConnection, event: NewEvent<'_>) -> Result<(), DbError> {
    diesel::insert_into(ledger::table)
        .values((
            ledger::id.eq(super::new_id()),
            ledger::registration_id.eq(event.registration_id),
            ledger::event.eq(event.event.as_str()),
            ledger::at.eq(event.at),
            ledger::actor.eq(event.actor),
            ledger::consent_text_version.eq(event.consent_text_version),
            ledger::source.eq(event.source),
        ))
        .execute(conn)?;
    Ok(())
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
