//! The member filter as SQL: one rule for which registrations an announcement
//! reaches, the audience page lists and the export writes.
//!
//! Each non-empty list narrows with OR inside it and AND between lists; a
//! member without a value matches no non-empty list.

use super::{Backend, DbConnection, DbError};
use crate::domain::TimeZoneName;
use crate::domain::announcement::Audience;
use crate::domain::member_filter::MemberFilter;
use chrono::NaiveDateTime;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Timestamp};
use diesel::{QueryableByName, RunQueryDsl};

/// A value bound into raw SQL.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Time(NaiveDateTime),
}

/// Raw SQL with its binds, written with `?` placeholders and turned into
/// `$n` for PostgreSQL when run.
#[derive(Debug, Clone, Default)]
pub struct RawSql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl RawSql {
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, value: Bind) -> &mut Self {
        self.text.push('?');
        self.binds.push(value);
        self
    }

    /// The text for `backend`: `?` stays for SQLite, becomes `$1`, `$2`, …
    /// for PostgreSQL. Our SQL never holds a literal `?`.
    fn text_for(&self, backend: Backend) -> String {
        match backend {
            Backend::Sqlite => self.text.clone(),
            Backend::Postgres => {
                let mut out = String::with_capacity(self.text.len() + 16);
                let mut n = 0;
                for c in self.text.chars() {
                    if c == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&self, conn: &mut DbConnection) -> Result<usize, DbError> {
        let text = self.text_for(conn.backend());
        Ok(match conn {
            DbConnection::Sqlite(c) => {
                bound::<diesel::sqlite::Sqlite>(text, &self.binds).execute(c)?
            }
            DbConnection::Postgres(c) => bound::<diesel::pg::Pg>(text, &self.binds).execute(c)?,
        })
    }

    /// Runs a query returning one `n` (a count).
    pub fn count(&self, conn: &mut DbConnection) -> Result<i64, DbError> {
        Ok(self.load::<Count>(conn)?.first().map_or(0, |row| row.n))
    }

    /// Runs a query returning one text column `id`.
    pub fn ids(&self, conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
        Ok(self
            .load::<Id>(conn)?
            .into_iter()
            .map(|row| row.id)
            .collect())
    }

    /// Runs a query and reads its rows by column name.
    pub fn load<T>(&self, conn: &mut DbConnection) -> Result<Vec<T>, DbError>
    where
        T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
    {
        let text = self.text_for(conn.backend());
        Ok(match conn {
            DbConnection::Sqlite(c) => {
                bound::<diesel::sqlite::Sqlite>(text, &self.binds).load(c)?
            }
            DbConnection::Postgres(c) => bound::<diesel::pg::Pg>(text, &self.binds).load(c)?,
        })
    }
}

/// The query with each bind applied in order.
fn bound<DB>(text: String, binds: &[Bind]) -> BoxedSqlQuery<'static, DB, SqlQuery>
where
    DB: diesel::backend::Backend + HasSqlType<Text> + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    let mut query = diesel::sql_query(text).into_boxed::<DB>();
    for bind in binds {
        query = match bind {
            Bind::Text(v) => query.bind::<Text, _>(v.clone()),
            Bind::Time(v) => query.bind::<Timestamp, _>(*v),
        };
    }
    query
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Appends the audience's condition on the registrations aliased `r`:
/// confirmed members narrowed by its lists.
pub fn push_condition(sql: &mut RawSql, audience: &Audience, backend: Backend) {
    push_filter(sql, &MemberFilter::members(audience.clone()), backend);
}

/// Appends the filter's condition on the registrations aliased `r` (always
/// some condition, `1 = 1` at least, so callers may follow with `AND`).
pub fn push_filter(sql: &mut RawSql, filter: &MemberFilter, backend: Backend) {
    sql.push("1 = 1");
    if let Some(status) = filter.status {
        sql.push(" AND r.status = ")
            .bind(Bind::Text(status.as_str().to_owned()));
    }
    if let Some(since) = filter.since {
        sql.push(" AND r.created_at >= ")
            .bind(Bind::Time(midnight(since)));
    }
    if let Some(until) = filter.until {
        sql.push(" AND r.created_at < ")
            .bind(Bind::Time(midnight(until)));
    }
    if let Some(q) = &filter.q {
        push_search(sql, q, backend);
    }
    let audience = &filter.audience;
    let timezones = every_name(&audience.timezones);
    for (column, values) in [
        ("r.source", &filter.sources),
        ("r.country", &audience.countries),
        ("r.org_type", &audience.org_types),
        ("r.timezone", &timezones),
    ] {
        if values.is_empty() {
            continue;
        }
        sql.push(" AND ").push(column).push(" IN (");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Bind::Text(value.clone()));
        }
        sql.push(")");
    }
    if !audience.interests.is_empty() {
        // Interests are stored joined with ';' (a value never holds one): an
        // exact, case-sensitive search for ";value;".
        let find = match backend {
            Backend::Sqlite => "instr",
            Backend::Postgres => "strpos",
        };
        sql.push(" AND (");
        for (i, interest) in audience.interests.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(find).push("(';' || r.interests || ';', ");
            sql.bind(Bind::Text(format!(";{interest};")));
            sql.push(") > 0");
        }
        sql.push(")");
    }
}

/// Each zone and its aliases: a registration stored under an alias
/// (`Pacific/Samoa`) before zones were kept canonical is in its zone
/// (`Pacific/Pago_Pago`). A value that is not a zone is kept as given.
fn every_name(zones: &[String]) -> Vec<String> {
    zones
        .iter()
        .flat_map(|value| match TimeZoneName::parse(value) {
            Ok(zone) => zone.names().map(str::to_owned).collect(),
            Err(_) => vec![value.clone()],
        })
        .collect()
}

/// `q` as part of the email, name or organisation, ignoring case. PostgreSQL's
/// `ILIKE` is served by trigram indexes; SQLite's `LIKE` ignores the case of
/// ASCII letters and scans (see the README's figures).
fn push_search(sql: &mut RawSql, q: &str, backend: Backend) {
    let like = match backend {
        Backend::Sqlite => " LIKE ",
        Backend::Postgres => " ILIKE ",
    };
    let pattern = format!("%{}%", escape_like(q));
    sql.push(" AND (");
    for (i, column) in ["r.email", "r.name", "r.organisation"]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push(column)
            .push(like)
            .bind(Bind::Text(pattern.clone()));
        sql.push(" ESCAPE '\\'");
    }
    sql.push(")");
}

/// `%`, `_` and the escape character itself stand for themselves.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn midnight(date: chrono::NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// How many members the audience reaches now.
pub fn count(conn: &mut DbConnection, audience: &Audience) -> Result<i64, DbError> {
    let mut sql = RawSql::default();
    sql.push("SELECT COUNT(*) AS n FROM registrations r WHERE ");
    push_condition(&mut sql, audience, conn.backend());
    sql.count(conn)
}
