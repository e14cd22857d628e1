//! The audience page's rows: registrations matching a filter, in keyset pages
//! of one sort, each page continuing after an opaque cursor.

use super::audience::{Bind, RawSql, push_filter};
use super::{Backend, DbConnection, DbError};
use crate::domain::member_filter::MemberFilter;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};

/// Where never-confirmed people sort under `confirmed`: before everyone (the
/// literal in [`SortKey::push_expression`]).
const NEVER_CONFIRMED: NaiveDateTime = chrono::DateTime::UNIX_EPOCH.naive_utc();

/// Rows on one page of the audience.
pub const PAGE_SIZE: usize = 50;

/// What the rows are ordered by; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    /// Never-confirmed people sort as the oldest.
    Confirmed,
    /// By name ignoring case (ASCII case on SQLite).
    Name,
    /// By the address's key (lower case).
    Email,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Created,
        SortKey::Confirmed,
        SortKey::Name,
        SortKey::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Confirmed => "confirmed",
            SortKey::Name => "name",
            SortKey::Email => "email",
        }
    }

    /// Dates newest first, names and addresses A to Z.
    pub fn default_direction(self) -> Direction {
        match self {
            SortKey::Created | SortKey::Confirmed => Direction::Desc,
            SortKey::Name | SortKey::Email => Direction::Asc,
        }
    }

    /// The SQL expression sorted on: each has an index of the same expression
    /// (with the id) in the audience page's migration.
    fn push_expression(self, sql: &mut RawSql, backend: Backend) {
        match self {
            SortKey::Created => {
                sql.push("r.created_at");
            }
            // A literal, not a bind, so that the planner matches the index.
            SortKey::Confirmed => {
                sql.push(match backend {
                    Backend::Sqlite => "COALESCE(r.confirmed_at, '1970-01-01 00:00:00')",
                    Backend::Postgres => {
                        "COALESCE(r.confirmed_at, TIMESTAMP '1970-01-01 00:00:00')"
                    }
                });
            }
            SortKey::Name => {
                sql.push("lower(r.name)");
            }
            SortKey::Email => {
                sql.push("r.email_key");
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }

    pub fn reversed(self) -> Direction {
        match self {
            Direction::Asc => Direction::Desc,
            Direction::Desc => Direction::Asc,
        }
    }
}

/// A sort key and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub direction: Direction,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::Created,
            direction: Direction::Desc,
        }
    }
}

impl Sort {
    /// `sort=created|confirmed|name|email` and `dir=asc|desc`; blank means
    /// the default (created; the key's own direction).
    pub fn parse(sort: Option<&str>, dir: Option<&str>) -> Result<Sort, String> {
        let key = match crate::domain::non_blank(sort) {
            None => SortKey::Created,
            Some(text) => SortKey::ALL
                .into_iter()
                .find(|k| k.as_str() == text)
                .ok_or_else(|| "sort: use created, confirmed, name or email".to_owned())?,
        };
        let direction = match crate::domain::non_blank(dir) {
            None => key.default_direction(),
            Some("asc") => Direction::Asc,
            Some("desc") => Direction::Desc,
            Some(_) => return Err("dir: use asc or desc".to_owned()),
        };
        Ok(Sort { key, direction })
    }
}

/// Where the next page starts: the last row's sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    value: SortValue,
    id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SortValue {
    Time(NaiveDateTime),
    Text(String),
}

const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.9f";

impl Cursor {
    /// Opaque text for the `after` parameter; it names its sort so that it
    /// is never applied to another.
    pub fn encode(&self, key: SortKey) -> String {
        let value = match &self.value {
            SortValue::Time(t) => t.format(CURSOR_TIME).to_string(),
            SortValue::Text(t) => t.clone(),
        };
        URL_SAFE_NO_PAD.encode(format!("{}\n{}\n{value}", key.as_str(), self.id))
    }

    pub fn decode(text: &str, key: SortKey) -> Result<Cursor, String> {
        let refused =
            || "after: not a page of this list (start again from the first page)".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| refused())?;
        let text = String::from_utf8(bytes).map_err(|_| refused())?;
        let mut parts = text.splitn(3, '\n');
        let (Some(sort), Some(id), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(refused());
        };
        if sort != key.as_str() || id.is_empty() {
            return Err(refused());
        }
        let value = match key {
            SortKey::Created | SortKey::Confirmed => SortValue::Time(
                NaiveDateTime::parse_from_str(value, CURSOR_TIME).map_err(|_| refused())?,
            ),
            SortKey::Name | SortKey::Email => SortValue::Text(value.to_owned()),
        };
        Ok(Cursor {
            value,
            id: id.to_owned(),
        })
    }

    fn after(row: &PersonRow, key: SortKey) -> Cursor {
        let value = match key {
            SortKey::Created => SortValue::Time(row.created_at),
            SortKey::Confirmed => SortValue::Time(row.confirmed_at.unwrap_or(NEVER_CONFIRMED)),
            SortKey::Name => SortValue::Text(row.name_key.clone()),
            SortKey::Email => SortValue::Text(row.email_key.clone()),
        };
        Cursor {
            value,
            id: row.id.clone(),
        }
    }

    fn bind(&self) -> Bind {
        match &self.value {
            SortValue::Time(t) => Bind::Time(*t),
            SortValue::Text(t) => Bind::Text(t.clone()),
        }
    }
}

/// One person as the list shows them.
#[derive(Debug, Clone, QueryableByName)]
pub struct PersonRow {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub email_key: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `lower(name)` as the database computes it, for the cursor.
    #[diesel(sql_type = Text)]
    pub name_key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub organisation: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub country: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub confirmed_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub unsubscribe_reason: Option<String>,
}

/// One page and where the next one starts, if there is one.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<PersonRow>,
    pub next: Option<String>,
}

/// Up to `limit` rows after `after`, in the sort's order.
pub fn page(
    conn: &mut DbConnection,
    filter: &MemberFilter,
    sort: Sort,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<Page, DbError> {
    let mut sql = RawSql::default();
    sql.push(
        "SELECT r.id, r.email, r.email_key, r.name, lower(r.name) AS name_key, r.organisation, \
         r.country, r.status, r.source, r.created_at, r.confirmed_at, r.unsubscribe_reason \
         FROM registrations r WHERE ",
    );
    let backend = conn.backend();
    push_filter(&mut sql, filter, backend);
    let (beyond, order) = match sort.direction {
        Direction::Asc => (">", "ASC"),
        Direction::Desc => ("<", "DESC"),
    };
    if let Some(after) = after {
        sql.push(" AND (");
        sort.key.push_expression(&mut sql, backend);
        sql.push(", r.id) ").push(beyond).push(" (");
        sql.bind(after.bind())
            .push(", ")
            .bind(Bind::Text(after.id.clone()));
        sql.push(")");
    }
    sql.push(" ORDER BY ");
    // On SQLite, walking the sort's index and reading each row to test a
    // narrowing filter is a random read per registration; one pass over the
    // table and a sort of what matches costs at most one scan. (`+` keeps
    // SQLite from using the index for this term; PostgreSQL chooses by its
    // statistics.)
    if backend == Backend::Sqlite && !filter.is_status_only() {
        sql.push("+");
    }
    sort.key.push_expression(&mut sql, backend);
    sql.push(&format!(" {order}, r.id {order} LIMIT {}", limit + 1));
    let mut rows: Vec<PersonRow> = sql.load(conn)?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        Cursor::after(&rows[limit - 1], sort.key).encode(sort.key)
    });
    Ok(Page { rows, next })
}

/// How many registrations match the filter, by status (statuses with none left out).
pub fn count_by_status(
    conn: &mut DbConnection,
    filter: &MemberFilter,
) -> Result<Vec<(String, i64)>, DbError> {
    #[derive(QueryableByName)]
    struct StatusCount {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut sql = RawSql::default();
    sql.push("SELECT r.status, COUNT(*) AS n FROM registrations r WHERE ");
    push_filter(&mut sql, filter, conn.backend());
    sql.push(" GROUP BY r.status");
    let rows: Vec<StatusCount> = sql.load(conn)?;
    Ok(rows.into_iter().map(|row| (row.status, row.n)).collect())
}

/// How many registrations match the filter.
pub fn count(conn: &mut DbConnection, filter: &MemberFilter) -> Result<i64, DbError> {
    let mut sql = RawSql::default();
    sql.push("SELECT COUNT(*) AS n FROM registrations r WHERE ");
    push_filter(&mut sql, filter, conn.backend());
    sql.count(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_only_for_its_own_sort() {
        let time = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_nano_opt(10, 20, 30, 123_456_789)
            .unwrap();
        let cursor = Cursor {
            value: SortValue::Time(time),
            id: "0193-abc".to_owned(),
        };
        let text = cursor.encode(SortKey::Created);
        assert_eq!(Cursor::decode(&text, SortKey::Created).unwrap(), cursor);
        assert!(Cursor::decode(&text, SortKey::Confirmed).is_err());
        assert!(Cursor::decode(&text, SortKey::Name).is_err());
        let name = Cursor {
            value: SortValue::Text("ana\nmaria".to_owned()),
            id: "x".to_owned(),
        };
        assert_eq!(
            Cursor::decode(&name.encode(SortKey::Name), SortKey::Name).unwrap(),
            name
        );
        for junk in ["", "!!!", "Y3JlYXRlZA", "bmFtZQpYCg"] {
            assert!(Cursor::decode(junk, SortKey::Created).is_err(), "{junk}");
        }
    }

    #[test]
    fn sorts_read_with_their_own_directions() {
        assert_eq!(Sort::parse(None, None).unwrap(), Sort::default());
        let name = Sort::parse(Some("name"), Some("")).unwrap();
        assert_eq!(name.direction, Direction::Asc);
        assert_eq!(
            Sort::parse(Some("confirmed"), Some("asc"))
                .unwrap()
                .direction,
            Direction::Asc
        );
        assert!(Sort::parse(Some("age"), None).is_err());
        assert!(Sort::parse(None, Some("up")).is_err());
    }
}
