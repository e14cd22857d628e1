//! Reads for the CSV export, in keyset pages, and the record of each export.

use super::audience::{Bind, RawSql, push_filter};
use super::schema::{consents, exports, registrations};
use super::{DbConnection, DbError};
use crate::domain::member_filter::MemberFilter;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The registration columns an export writes, and only those: reading and
/// parsing the whole row (six timestamps, the confirmation evidence) was most
/// of the export's time.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = registrations)]
pub struct ExportRegistration {
    pub id: String,
    pub email: String,
    pub name: String,
    pub organisation: Option<String>,
    pub org_type: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub interests: String,
    pub status: String,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
    pub unsubscribe_reason: Option<String>,
}

/// The consent columns an export writes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct ExportConsent {
    pub registration_id: String,
    pub text_version: String,
    pub ip: Option<String>,
}

/// One registration with its latest consent.
pub type ExportRow = (ExportRegistration, Option<ExportConsent>);

/// The next page after `after` (by id, which is time-ordered).
pub fn page(
    conn: &mut DbConnection,
    filter: &MemberFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ExportRow>, DbError> {
    let mut sql = RawSql::default();
    sql.push(
        "SELECT r.id, r.email, r.name, r.organisation, r.org_type, r.country, r.timezone, \
         r.interests, r.status, r.source, r.created_at, r.confirmed_at, r.unsubscribed_at, \
         r.unsubscribe_reason FROM registrations r WHERE ",
    );
    push_filter(&mut sql, filter, conn.backend());
    if let Some(after) = after {
        sql.push(" AND r.id > ").bind(Bind::Text(after.to_owned()));
    }
    sql.push(&format!(" ORDER BY r.id LIMIT {limit}"));
    let rows: Vec<ExportRegistration> = sql.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut latest = latest_consents(conn, &ids)?.into_iter().peekable();
    // Both lists are ordered by registration id, so one pass pairs them.
    Ok(rows
        .into_iter()
        .map(|r| {
            while latest.peek().is_some_and(|c| c.registration_id < r.id) {
                latest.next();
            }
            let consent = latest.next_if(|c| c.registration_id == r.id);
            (r, consent)
        })
        .collect())
}

/// The most recent consent of each given registration, ordered by registration.
fn latest_consents(conn: &mut DbConnection, ids: &[&str]) -> Result<Vec<ExportConsent>, DbError> {
    let rows: Vec<ExportConsent> = consents::table
        .filter(consents::registration_id.eq_any(ids))
        .order((
            consents::registration_id,
            consents::given_at.desc(),
            consents::id.desc(),
        ))
        .select(ExportConsent::as_select())
        .load(conn)?;
    let mut latest: Vec<ExportConsent> = Vec::with_capacity(ids.len());
    for row in rows {
        if latest.last().map(|c| &c.registration_id) != Some(&row.registration_id) {
            latest.push(row);
        }
    }
    Ok(latest)
}

/// An export as recorded.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exports)]
pub struct ExportRecord {
    pub id: String,
    pub actor: String,
    pub started_at: NaiveDateTime,
    pub filter: String,
    pub row_count: i64,
    pub outcome: String,
}

pub fn record(
    conn: &mut DbConnection,
    actor: &str,
    started_at: NaiveDateTime,
    filter: &str,
    row_count: i64,
    outcome: &str,
) -> Result<(), DbError> {
    diesel::insert_into(exports::table)
        .values((
            exports::id.eq(super::new_id()),
            exports::actor.eq(actor),
            exports::started_at.eq(started_at),
            exports::filter.eq(filter),
            exports::row_count.eq(row_count),
            exports::outcome.eq(outcome),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<ExportRecord>, DbError> {
    Ok(exports::table
        .order(exports::started_at.desc())
        .limit(limit)
        .select(ExportRecord::as_select())
        .load(conn)?)
}
